"""File and folder names that are not UTF-8 (a latin-1 name from an old archive): one line
and exit status 2 naming the setting, before anything is written. Python holds such a
name's bytes as lone surrogates, which no config.yaml or report table can hold: a run
ended in a traceback with a half-written folder, and `mlplab report` crashed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import assert_one_line_error
from mlplab.errors import ConfigError

LATIN1 = os.fsdecode(b"donn\xe9es_latin1.csv")  # 'donn\udce9es_latin1.csv'
SHOWN = r"donn\xe9es_latin1.csv"  # as the line shows it


def _csv(path: Path) -> Path:
    rows = ["a,b,saison"] + [f"{i % 7},{i % 5},{'été' if i % 2 else 'hiver'}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


TRAIN = ["--epoch", "2", "--engine", "numpy", "--plots", "none", "--log_every", "0"]


def test_a_data_file_whose_name_is_not_utf8_is_one_line_and_writes_nothing(tmp_path, run_cli):
    data = _csv(tmp_path / LATIN1)
    runs = tmp_path / "runs"
    proc = run_cli("train", "--data", data, "--target", "saison", *TRAIN, "--log_path", runs)
    line = assert_one_line_error(proc, "setting 'data'", SHOWN, "is not UTF-8", "rename the file")
    assert "\\udce9" not in line
    assert not runs.exists()  # no folder: the run had left result.json and curves.npz
    proc = run_cli(
        "sweep", "--data", _csv(tmp_path / "ok.csv"), data, "--target", "saison", *TRAIN,
        "--log_path", runs, "--workers", "1",
    )  # fmt: skip
    assert_one_line_error(proc, "setting 'data'", SHOWN, "is not UTF-8")
    assert not runs.exists()


def test_a_log_path_whose_name_is_not_utf8_is_one_line_and_writes_nothing(tmp_path, run_cli):
    """It trained, and `mlplab report` on it then crashed: refused up front instead."""
    runs = tmp_path / os.fsdecode(b"r\xe9sultats")
    proc = run_cli("train", "--data", "xor", *TRAIN, "--log_path", runs)
    assert_one_line_error(proc, "setting 'log_path'", r"r\xe9sultats", "is not UTF-8")
    assert not runs.exists()


def test_the_python_api_refuses_it_too(tmp_path):
    import mlplab

    with pytest.raises(ConfigError, match=r"setting 'data': the file name .* is not UTF-8"):
        mlplab.train(data=_csv(tmp_path / LATIN1), target="saison", log_path=str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_report_on_a_folder_whose_name_is_not_utf8_is_one_line(tmp_path, run_cli):
    runs = tmp_path / "runs"
    proc = run_cli("train", "--data", "xor", *TRAIN, "--log_path", runs)
    assert proc.returncode == 0, proc.stderr
    moved = tmp_path / os.fsdecode(b"r\xe9sultats")
    shutil.copytree(runs, moved)
    proc = run_cli("report", moved)
    assert_one_line_error(proc, "report:", r"r\xe9sultats", "is not UTF-8", "rename the folder")
    assert not list(moved.rglob("report.html")) and not list(moved.rglob("results.csv"))

    # A run folder of such a name under a folder that is UTF-8 is left out, and named.
    (run,) = (runs / "exp").glob("exp-*")
    shutil.copytree(run, runs / "exp" / os.fsdecode(b"copie-\xe9"))
    proc = run_cli("report", runs, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert r"the folder name" in proc.stderr and r"copie-\xe9' is not UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (runs / "report.html").is_file()

    # Runs trained with a relative log_path inside such a folder: the folder above them,
    # not the run's own, is named ("rename the folder" sent its user to the run folder).
    above = tmp_path / os.fsdecode(b"jos\xe9")
    above.mkdir()
    shutil.copytree(runs / "exp" / run.name, above / "runs" / "exp" / run.name)
    proc = run_cli("report", "runs", cwd=above)
    assert proc.returncode == 2, proc.stderr
    assert r"the folder name '" in proc.stderr and r"jos\xe9' is not UTF-8" in proc.stderr
    assert r"jos\xe9/runs" not in proc.stderr.split("the folder name")[1].split("'")[1]
