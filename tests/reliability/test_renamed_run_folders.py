"""Run folders as users leave them: renamed, or with a result.json that is not an object.

Both reached a traceback through ``mlplab train --resume`` (found by the CLI fuzzer):
the run lock read the folder's name as ``EXP-HASH``, and the resume read result.json's
``status`` from whatever JSON value it held.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ARGS = ["--data", "xor", "--epoch", "50", "--plots", "none", "--quiet"]


def mlplab(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlplab", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_run(tmp_path: Path) -> Path:
    done = mlplab("train", *ARGS, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").glob("*/*/result.json")
    return run.parent


def test_resume_of_a_renamed_finished_run_is_one_line(tmp_path: Path) -> None:
    renamed = _one_run(tmp_path).rename(tmp_path / "my_best_run")
    before = {p: p.read_bytes() for p in renamed.rglob("*") if p.is_file()}
    out = mlplab("train", "--resume", str(renamed), "--quiet", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "finished" in out.stderr
    assert {p: p.read_bytes() for p in renamed.rglob("*") if p.is_file()} == before


def test_a_renamed_unfinished_run_resumes(tmp_path: Path) -> None:
    # An interrupted record, as a killed run leaves it: its last checkpoint is at the end,
    # so the resume has nothing left to train and only finishes the record.
    renamed = _one_run(tmp_path).rename(tmp_path / "my_best_run")
    record = json.loads((renamed / "result.json").read_text())
    (renamed / "result.json").write_text(json.dumps({**record, "status": "interrupted"}))
    out = mlplab("train", "--resume", str(renamed), "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads((renamed / "result.json").read_text())["status"] == "finished"


def test_resume_with_a_result_json_that_is_not_an_object(tmp_path: Path) -> None:
    run = _one_run(tmp_path)
    (run / "result.json").write_text("NaN")
    out = mlplab("train", "--resume", str(run), "--quiet", cwd=tmp_path)
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 2), out.stderr
    if out.returncode == 2:
        assert out.stderr.count("\n") == 1
    else:  # resumed from its checkpoint: a finished, readable record again
        assert json.loads((run / "result.json").read_text())["status"] == "finished"
