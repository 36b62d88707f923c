"""Small trained runs shared by the plot tests (each trained once per test process)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from mlplab.runner import Result, train

# The xor-nn lab, shortened: 4000 steps take its loss from 0.7 to ~0.005 (> 100x).
XOR_NN = dict(
    data="xor", n_layer=1, hid_dim=2, act="sigmoid", optim="sgd", lr=1.0, epoch=4000, seed=777
)
MOONS = dict(
    data="moons",
    n_samples=300,
    n_layer=2,
    hid_dim=8,
    act="tanh",
    optim="adam",
    lr=0.02,
    epoch=150,
    seed=1,
    standardize=True,
)
RING = dict(
    data="ring",
    n_samples=600,
    split=[0.6, 0.2, 0.2],
    n_layer=1,
    hid_dim=16,
    act="relu",
    optim="adam",
    lr=0.02,
    epoch=100,
    seed=1,
)
SINLOG = dict(
    data="sinlog",
    n_samples=400,
    split=[0.6, 0.2, 0.2],
    n_layer=1,
    hid_dim=32,
    act="relu",
    optim="adam",
    lr=0.02,
    epoch=150,
    seed=1,
)
IRIS = dict(data="iris", n_layer=1, hid_dim=16, act="relu", optim="adam", lr=0.02, epoch=60, seed=1)

_RUNS: dict[str, Result] = {}


def trained(tmp_path_factory: Any, name: str, **settings: Any) -> Result:
    """Train ``settings`` once (numpy engine, quiet) into a temporary log path."""
    if name not in _RUNS:
        log_path = tmp_path_factory.mktemp(f"runs_{name}")
        _RUNS[name] = train(
            engine="numpy", log_every=0, verbose=False, log_path=str(log_path), **settings
        )
    return _RUNS[name]


def assert_image(path, fmt: str = "PNG") -> tuple[int, int]:
    """The file is a valid, non-trivial image of the format; returns its size."""
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == fmt, (path, im.format)
        assert im.width >= 200 and im.height >= 200, im.size
        im.load()  # decodes every pixel: a truncated file fails here
        return im.size


def model_classes(result: Result, raw_points: np.ndarray) -> np.ndarray:
    """The trained model's own class decisions at raw (unstandardized) points."""
    from mlplab.training.metrics import predicted_classes

    out = result.model_outputs(result.dataset.transform(raw_points))
    return predicted_classes(result.dataset.task, out)
