"""result.json keeps about 1000 points per curve; curves.npz every point; they agree."""

from __future__ import annotations

import json

import numpy as np

from mlplab.runner import train
from mlplab.runs.curves import TEXT_POINTS, read_curves, thin_indices


def test_thinned_text_curves_agree_with_the_full_binary_curves(tmp_path):
    res = train(
        data="xor",
        hid_dim=2,
        act="sigmoid",
        lr=1.0,
        epoch=2500,
        log_every=0,
        plots="none",
        verbose=False,
        log_path=str(tmp_path),
    )
    r = json.loads((res.run_dir / "result.json").read_text())
    full = read_curves(res.run_dir)
    assert len(full["val_epochs"]) == 2500 and full["val_epochs"][-1] == 2500
    assert r["curves_thinned"] == {
        "points": 2500,
        "shown": len(r["val_epochs"]),
        "file": "curves.npz",
    }
    assert (
        TEXT_POINTS * 4 // 5 < len(r["val_epochs"]) <= TEXT_POINTS + 1
        and r["val_epochs"][-1] == 2500
    )
    idx = np.searchsorted(full["val_epochs"], r["val_epochs"])
    for curve in ("train_losses", "val_losses", "train_accs", "val_accs", "lrs"):
        np.testing.assert_array_equal(full[curve][idx], np.asarray(r[curve]), err_msg=curve)
    rows = (res.run_dir / "metrics.csv").read_text().splitlines()
    assert len(rows) == len(r["val_epochs"]) + 1
    # The estimator and the Result keep every point.
    assert len(res.curves["train_losses"]) == 2500


def test_short_runs_keep_every_point_in_text(tmp_path):
    res = train(
        data="xor", epoch=200, log_every=0, plots="none", verbose=False, log_path=str(tmp_path)
    )
    assert TEXT_POINTS >= 200  # a run this short keeps every point in text
    assert "curves_thinned" not in res.record and len(res.record["val_losses"]) == 200
    np.testing.assert_array_equal(read_curves(res.run_dir)["val_losses"], res.record["val_losses"])


def test_thin_indices_keep_the_last_point():
    for n in (1, 499, 500, 501, 999, 1000, 1001, 4000, 10001):
        idx = thin_indices(n)
        assert idx[-1] == n - 1 and len(idx) <= TEXT_POINTS + 1 and (np.diff(idx) > 0).all()
        assert len(idx) == n or len(idx) > TEXT_POINTS // 2  # every k-th point: at least half
