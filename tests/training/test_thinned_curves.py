"""result.json keeps about 1000 points per curve; curves.npz every point; they agree."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from conftest import write_npz_bomb
from mlplab.errors import CheckpointError
from mlplab.runner import train
from mlplab.runs import curves
from mlplab.runs.curves import (
    TEXT_POINTS,
    read_curves,
    read_npz,
    thin_indices,
    with_every_point,
    write_curves,
)


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


def test_a_curves_file_whose_arrays_ask_for_more_than_it_can_hold_is_refused_unread(tmp_path):
    """A zip bomb as curves.npz: 1 GiB asked of a file of 1 KB is refused from the
    headers, before anything is unpacked; the record then reads as with a damaged file."""
    write_npz_bomb(tmp_path / "curves.npz", ("val_epochs", "val_losses"))
    with pytest.raises(ValueError, match="would unpack into 2,147,483,648 bytes"):
        read_npz(tmp_path / "curves.npz")
    with pytest.raises(CheckpointError, match="damaged"):
        read_curves(tmp_path)
    record = {"val_epochs": [1], "val_losses": [0.5], "curves_thinned": {"points": 3}}
    assert with_every_point(tmp_path, record) is record  # the thinned curves still draw
    # A member that is no array is read as bytes: the zip's own size counts.
    with (
        zipfile.ZipFile(tmp_path / "bytes.npz", "w", zipfile.ZIP_DEFLATED) as z,
        z.open("notes", "w") as f,
    ):
        for _ in range(160):
            f.write(bytes(1 << 20))
    with pytest.raises(ValueError, match="would unpack into 167,772,160 bytes"):
        read_npz(tmp_path / "bytes.npz")
    # A member that declares a negative length took as much off the sum: beside a bomb,
    # it let the bomb through. It is no array, and its file is refused.
    write_npz_bomb(tmp_path / "minus.npz", ("val_epochs",))
    with zipfile.ZipFile(tmp_path / "minus.npz", "a") as z, z.open("lrs.npy", "w") as f:
        header = {"descr": "<f8", "fortran_order": False, "shape": (-(2**27),)}
        np.lib.format.write_array_header_2_0(f, header)
    with pytest.raises(ValueError, match=r"'lrs\.npy' has a header that is not read"):
        read_npz(tmp_path / "minus.npz")
    # A member marked encrypted (a flag bit edited in): zipfile's RuntimeError had ended a
    # resume in a traceback; it reads as damaged.
    write_curves(tmp_path / "enc", {"val_epochs": np.arange(1, 4), "val_losses": np.ones(3)})
    raw = bytearray((tmp_path / "enc" / "curves.npz").read_bytes())
    at = raw.find(b"PK\x01\x02")  # the central directory's first entry; flags at +8
    raw[at + 8] |= 1
    (tmp_path / "enc" / "curves.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="encrypted"):
        read_npz(tmp_path / "enc" / "curves.npz")
    with pytest.raises(CheckpointError, match="damaged"):
        read_curves(tmp_path / "enc")


def test_every_curves_file_mlplab_writes_reads_back(tmp_path, monkeypatch):
    """A 100,000-epoch run's curves (0.8 MB each, its constant ones packed 183:1) read
    back; so do curves of zeros, which zlib level 1 packs tightest, with no allowance
    for small files at all."""
    n = 100_000
    rng = np.random.default_rng(0)
    arrays = {
        "val_epochs": np.arange(1, n + 1, dtype=np.int64),
        "val_losses": rng.random(n),
        "lrs": np.full(n, 0.01),
        "val_accs": np.ones(n),
    }
    write_curves(tmp_path, arrays)
    got = read_npz(tmp_path / "curves.npz")
    for k, a in arrays.items():
        np.testing.assert_array_equal(got[k], a)
    monkeypatch.setattr(curves, "MIN_UNPACKED", 0)
    write_curves(tmp_path, {"val_epochs": np.zeros(n, np.int64), "val_losses": np.zeros(n)})
    assert read_npz(tmp_path / "curves.npz")["val_losses"].shape == (n,)
