"""Regenerate the README's pictures from real runs.

    python docs/make_pictures.py

Trains the xor-nn, ring and sinlog labs with mlplab's public API (as the README's
examples do, with the lab configs in examples/), and the README's run on the 1-feature
``sine`` set, then copies the plots the README shows into docs/images/. Nothing here draws a picture by itself: every file is what
``mlplab train`` wrote into the run's ``plots/`` folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import mlplab

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"

# (lab config or None, settings, {plot file in RUN_DIR/plots: name under docs/images})
SINE = {  # the README's command for the `fit` picture
    "data": "sine",
    "n_layer": 2,
    "hid_dim": 32,
    "act": "tanh",
    "optim": "adam",
    "lr": 0.01,
    "batch_size": 32,
    "epoch": 300,
}
RUNS: list[tuple[str | None, dict[str, object], dict[str, str]]] = [
    (
        "xor_nn.yaml",
        {"snapshot_every": 100},
        {
            "surface.png": "xor_surface.png",
            "loss.png": "xor_loss.png",
            "network.png": "xor_network.png",
            "units.png": "xor_units.png",
            "boundary_evolution.png": "xor_boundary_evolution.png",
        },
    ),
    (
        "ring_mlp.yaml",
        {},
        {"surface.png": "ring_surface.png", "confusion.png": "ring_confusion.png"},
    ),
    (
        "sinlog_mlp.yaml",
        {},
        {
            "regression_3d.png": "sinlog_regression_3d.png",
            "pred_vs_true.png": "sinlog_pred_vs_true.png",
        },
    ),
    (None, SINE, {"fit.png": "sine_fit.png"}),
]


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for config, extra, files in RUNS:
            lab = None if config is None else str(ROOT / "examples" / config)
            result = mlplab.train(config=lab, log_path=tmp, log_every=0, **extra)
            plots = Path(result.run_dir) / "plots"
            for src, dst in files.items():
                shutil.copyfile(plots / src, IMAGES / dst)
                print(f"{config or extra['data']}: {src} -> docs/images/{dst}")


if __name__ == "__main__":
    main()
