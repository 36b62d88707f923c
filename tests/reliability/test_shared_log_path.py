"""Two users' runs in one shared log_path: a student's command never replaces, nor is told
to replace, another's run of other rows (their own file of the same name)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlplab.errors import DataError
from mlplab.runner import train
from mlplab.sweeps.api import sweep

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="gives a run folder to another user (chown), which needs root",
)
OTHER_UID = 4321  # no such user here: named "user 4321"


def _student(folder: Path, seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
    df["label"] = (df.a > df.b).astype(int)
    df.to_csv(folder / "data.csv", index=False)


def _chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), uid, -1)
    os.chown(path, uid, -1)


KW = dict(data="data.csv", target="label", epoch=30, log_every=0, plots="none",
          log_path="../runs", exp_name="hw1", verbose=False, save_every=1, batch_size=8)  # fmt: skip


@pytest.mark.parametrize("finished", [True, False])
def test_another_students_run_of_other_rows_is_refused_not_replaced(
    tmp_path, monkeypatch, finished
):
    _student(tmp_path / "alice", 0)
    _student(tmp_path / "bob", 1)
    monkeypatch.chdir(tmp_path / "alice")
    steps = iter(range(10**6))
    stop = None if finished else (lambda: next(steps) >= 20)  # interrupted at step 20
    first = train(**KW, stop=stop)
    assert first.status == ("finished" if finished else "interrupted")
    run_dir = first.run_dir.resolve()
    _chown_tree(run_dir, OTHER_UID)
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path / "bob")
    with pytest.raises(DataError) as err:
        train(**KW)
    # A sweep of the config refuses it alike, before it locks or writes anything.
    sweep_kw = {k: v for k, v in KW.items() if k != "verbose"}
    with pytest.raises(DataError) as by_sweep:
        sweep(**sweep_kw, workers=1, report=False, verbose=False)
    assert str(by_sweep.value) == str(err.value)
    what = "finished" if finished else "interrupted"
    assert str(err.value) == (
        f"{Path('../runs/hw1') / run_dir.name} holds user {OTHER_UID}'s {what} run of this "
        "config, trained on other rows of data file 'data.csv' (their file of that name, it "
        "may be): give another --exp_name, or the data file's absolute path as --data, to "
        f"train yours beside it (--rerun would replace user {OTHER_UID}'s run)"
    )
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
    # The advice works: beside it, under another name, both kept.
    mine = train(**{**KW, "exp_name": "hw1-bob"})
    assert mine.status == "finished"
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_a_report_over_another_users_file_in_a_sticky_folder_is_refused_with_out():
    """In a shared folder with the sticky bit (chmod +t), another user's report.html may be
    written but not replaced: the report found so only after writing the others of its set,
    and exited 1 with no hint (a read-only folder gets exit 2 and --out)."""
    import shutil
    import subprocess
    import sys
    import tempfile

    nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    if subprocess.run([*nobody, sys.executable, "-c", "import mlplab"]).returncode:
        pytest.skip("user nobody cannot run this Python")
    base = Path(tempfile.mkdtemp(prefix="mlplab-sticky-"))  # a folder nobody may reach
    try:
        base.chmod(0o755)
        shared = base / "runs"
        train(data="xor", epoch=2, plots="none", log_every=0, verbose=False,
              log_path=str(shared))  # fmt: skip
        shared.chmod(0o3777)  # writable by all, sticky
        (shared / "report.html").write_text("another user's")
        (shared / "report.html").chmod(0o666)
        proc = subprocess.run(
            [*nobody, sys.executable, "-m", "mlplab", "report", str(shared), "-q"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == (
            f"mlplab: report: cannot write {str(shared / 'report.html')!r} (Permission "
            "denied: another user's file, in a folder with the sticky bit); no file written; "
            "give --out (out= in Python) a folder to write the report in\n"
        )
        assert (shared / "report.html").read_text() == "another user's"
        assert not (shared / "results.csv").exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
