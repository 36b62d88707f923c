"""A sweep's tables (sweep_runs.npz, sweep_curves.npz): the report reads them instead of
every result.json, gets the same table from them as from the files, and rebuilds them
whenever they no longer match the records (cut short, stale, or half of a pair)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlplab
from conftest import write_npz_bomb
from mlplab.reports import collect
from mlplab.reports.collect import load_runs
from mlplab.reports.tables import CURVES_TABLE, RUNS_TABLE, read_tables, stamp
from mlplab.runs.curves import read_npz

TINY = {"epoch": 12, "log_every": 0, "plots": "none", "engine": "numpy", "verbose": False}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep, plus records of other shapes: a diverged run with nulls, values
    of mixed types and a huge integer, and a run whose curve holds a null."""
    log = tmp_path_factory.mktemp("tables")
    mlplab.sweep(
        data="ring", hid_dim=[4, 8], lr=[0.1, 0.3], seed=[0, 1], workers=1, report=False,
        log_path=str(log), **TINY,
    )  # fmt: skip
    folder = log / "exp"
    base = sorted(folder.glob("exp-*"))[0]
    val_losses = json.loads((base / "result.json").read_text())["val_losses"]
    odd = {
        "exp-odd1": {"status": "diverged", "test_acc": None, "note": [1, "a"], "big": 2**70},
        "exp-odd2": {"val_losses": [None, *val_losses[1:]], "extra": "text\u00e9"},
    }
    for name, changes in odd.items():
        new = folder / name
        shutil.copytree(base, new)
        record = json.loads((new / "result.json").read_text())
        record.update(changes, run_id=name)
        (new / "result.json").write_text(json.dumps(record))
    return folder


@pytest.fixture
def folder(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "exp"
    shutil.copytree(made, copy)
    for table in (RUNS_TABLE, CURVES_TABLE):
        (copy / table).unlink(missing_ok=True)
    return copy


def from_files(folder: Path) -> pd.DataFrame:
    """The runs as the report reads them from the result.json files alone."""
    scratch = folder.parent / "files-only"
    shutil.copytree(folder, scratch, ignore=shutil.ignore_patterns("sweep*"))
    runs = load_runs(scratch)[0]
    shutil.rmtree(scratch)
    return runs.assign(run_dir=runs["run_dir"].str.replace(str(scratch), str(folder)))


def trained(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("exp-*")) if "odd" not in p.name]


def no_json_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(file: Path, skipped: list) -> None:
        raise AssertionError(f"read {file} although the tables hold it")

    monkeypatch.setattr(collect, "_read", refuse)


def test_tables_are_written_and_give_the_same_runs_without_opening_records(folder, monkeypatch):
    expected = from_files(folder)
    load_runs(folder)  # writes the tables
    held = read_tables(folder)
    assert sorted(held) == sorted(p.name for p in folder.glob("exp-*"))
    for name, (st, record) in held.items():
        assert st == stamp(folder / name / "result.json")
        assert record == json.loads((folder / name / "result.json").read_text())
        assert list(record) == list(json.loads((folder / name / "result.json").read_text()))
    no_json_reads(monkeypatch)
    pd.testing.assert_frame_equal(load_runs(folder)[0], expected)


def test_mlplab_report_gives_the_same_tables_from_sweep_tables_as_from_records(folder):
    def report(where: Path) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "mlplab", "report", str(where)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return {f: (where / f).read_text() for f in ("results.csv", "summary.csv")}

    plain = folder.parent / "plain"
    shutil.copytree(folder, plain, ignore=shutil.ignore_patterns("sweep*"))  # no spec: no tables
    expected = report(plain)
    assert not (plain / RUNS_TABLE).exists()
    first = report(folder)  # reads the records, writes the tables
    assert (folder / RUNS_TABLE).is_file() and (folder / CURVES_TABLE).is_file()
    again = report(folder)  # from the tables
    for got in (first, again):
        for name, text in got.items():
            assert text == expected[name].replace(str(plain), str(folder)), name


def test_a_changed_added_or_removed_record_is_read_again(folder):
    load_runs(folder)
    runs = trained(folder)
    record = json.loads((runs[0] / "result.json").read_text())
    record["test_acc"] = 0.125
    (runs[0] / "result.json").write_text(json.dumps(record))
    shutil.rmtree(runs[1])
    shutil.copytree(runs[2], folder / "exp-new")
    got = load_runs(folder)[0].set_index("run_dir")
    assert got.loc[str(runs[0]), "test_acc"] == 0.125
    assert str(runs[1]) not in got.index and str(folder / "exp-new") in got.index
    # ... and the tables were rebuilt to match.
    held = read_tables(folder)
    assert sorted(held) == sorted(p.name for p in folder.glob("exp-*"))
    assert held[runs[0].name][1]["test_acc"] == 0.125
    pd.testing.assert_frame_equal(load_runs(folder)[0], from_files(folder))


@pytest.mark.parametrize("damage", ["runs cut short", "curves cut short", "pair apart", "junk"])
def test_a_damaged_or_mismatched_table_is_rebuilt(folder, damage):
    load_runs(folder)
    runs_table, curves_table = folder / RUNS_TABLE, folder / CURVES_TABLE
    if damage == "runs cut short":
        runs_table.write_bytes(runs_table.read_bytes()[: runs_table.stat().st_size // 2])
    elif damage == "curves cut short":
        curves_table.write_bytes(curves_table.read_bytes()[:100])
    elif damage == "pair apart":  # a stop between the two writes of a rebuild
        old_curves = curves_table.read_bytes()
        shutil.rmtree(trained(folder)[0])
        load_runs(folder)
        curves_table.write_bytes(old_curves)
    else:
        runs_table.write_text("not a table")
    assert read_tables(folder) == {}
    pd.testing.assert_frame_equal(load_runs(folder)[0], from_files(folder))
    assert sorted(read_tables(folder)) == sorted(p.name for p in folder.glob("exp-*"))


@pytest.mark.parametrize("table", [RUNS_TABLE, CURVES_TABLE])
def test_a_table_whose_arrays_ask_for_more_than_it_can_hold_is_refused_unread(folder, table):
    """A zip bomb as a table: 3 GiB asked of a file of 1 KB is refused from the headers,
    before anything is unpacked, and the tables are rebuilt from the records."""
    load_runs(folder)
    write_npz_bomb(folder / table, ("run", "size", "mtime_ns"))
    with pytest.raises(ValueError, match="would unpack into 3,221,225,472 bytes"):
        read_npz(folder / table)
    assert read_tables(folder) == {}
    pd.testing.assert_frame_equal(load_runs(folder)[0], from_files(folder))
    assert sorted(read_tables(folder)) == sorted(p.name for p in folder.glob("exp-*"))


def test_report_reads_only_regular_sweep_files(folder):
    """A sweep spec that is a FIFO hung `mlplab report` forever, one that links to
    /dev/zero filled its memory, a table that is a FIFO hung it too: they read as
    damaged (a spec: nothing; a table: rebuilt from the records)."""
    import resource

    def limited() -> None:  # a regression then fails with a MemoryError, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    load_runs(folder)
    os.mkfifo(folder / "sweep-fifo.yaml")
    (folder / "sweep-zero.yaml").symlink_to("/dev/zero")
    (folder / RUNS_TABLE).unlink()
    os.mkfifo(folder / RUNS_TABLE)
    done = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(folder), "-q"],
        capture_output=True, text=True, timeout=60, preexec_fn=limited,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (folder / RUNS_TABLE).is_file()  # rebuilt in the FIFO's place
    assert sorted(read_tables(folder)) == sorted(p.name for p in folder.glob("exp-*"))


def test_a_sweep_spec_beyond_its_size_cap_reads_as_damaged(folder, monkeypatch):
    (spec,) = folder.glob("sweep-*.yaml")
    assert collect.read_spec(spec)["runs"]
    monkeypatch.setattr(collect, "MAX_SPEC_BYTES", spec.stat().st_size - 1)
    assert collect.read_spec(spec) == {}


def test_the_report_of_one_run_leaves_its_sweeps_tables_whole(folder):
    load_runs(folder)
    before = read_tables(folder)
    one = trained(folder)[0]
    assert len(load_runs(one)[0]) == 1
    assert read_tables(folder) == before


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="folders have no owner's uid here")
def test_a_report_of_another_users_sweep_leaves_its_tables_as_they_are(folder, monkeypatch):
    """A report of a class's shared folder reads the others' sweeps from their records,
    and rewrites no file of theirs (their tables are brought up to date by their own)."""
    expected = from_files(folder)
    monkeypatch.setattr(os, "getuid", lambda: folder.stat().st_uid + 1)  # someone else
    pd.testing.assert_frame_equal(load_runs(folder)[0], expected)
    assert not (folder / RUNS_TABLE).exists() and not (folder / CURVES_TABLE).exists()
    monkeypatch.undo()
    load_runs(folder)
    assert (folder / RUNS_TABLE).exists()  # the owner's report writes them


def test_a_report_of_the_filesystems_root_is_refused_before_any_walk():
    """`mlplab report /` (a slip) walked the whole disk and wrote report.html at its root."""
    root = Path(Path.cwd().anchor)
    out = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(root)], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (
        f"mlplab: report: {str(root)!r} is the filesystem's root, not a folder of runs; give "
        "the folder the runs were written to (their --log_path; runs by default)"
    )
    assert out.stdout == ""


def test_curves_table_holds_every_curve_as_result_json_does(folder):
    load_runs(folder)
    with np.load(folder / CURVES_TABLE, allow_pickle=False) as z:
        names = z["run"].tolist()
        lengths, flat = z["len/val_losses"], z["curve/val_losses"]
    ends = np.cumsum(np.maximum(lengths, 0))
    for name, n, end in zip(names, lengths, ends, strict=True):
        record = json.loads((folder / name / "result.json").read_text())
        want = [np.nan if v is None else v for v in record["val_losses"]]
        np.testing.assert_array_equal(flat[end - n : end], want)


def test_a_sweep_without_report_leaves_the_tables_to_the_next_report(made, tmp_path):
    """A sweep with report=False (a search's batch) neither reads nor rewrites the tables
    of the runs already there; the next report brings them up to date: damaged ones, and
    the batch's new runs."""
    log = tmp_path / "log"
    shutil.copytree(made.parent, log)
    folder = log / "exp"
    load_runs(folder)
    before = {t: (folder / t).read_bytes() for t in (RUNS_TABLE, CURVES_TABLE)}
    mlplab.sweep(
        data="ring", hid_dim=4, lr=[0.2, 0.4], seed=0, workers=1, report=False,
        log_path=str(log), **TINY,
    )  # fmt: skip
    assert {t: (folder / t).read_bytes() for t in before} == before
    (folder / RUNS_TABLE).write_bytes(before[RUNS_TABLE][:50])  # a sweep stopped as it wrote
    mlplab.sweep(
        data="ring", hid_dim=[4, 8], lr=[0.1, 0.3], seed=[0, 1], workers=1, report=False,
        log_path=str(log), **TINY,
    )  # fmt: skip
    assert (folder / RUNS_TABLE).read_bytes() == before[RUNS_TABLE][:50]
    report = mlplab.report(str(folder), verbose=False)
    assert len(report.runs) == len(list(folder.glob("exp-*"))) == 8 + 2 + 2
    held = read_tables(folder)
    assert sorted(held) == sorted(p.name for p in folder.glob("exp-*"))
    for name, (st, record) in held.items():
        assert st == stamp(folder / name / "result.json")
        assert record == json.loads((folder / name / "result.json").read_text())
