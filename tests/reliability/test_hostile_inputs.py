"""Hostile inputs, each refused with one line in bounded memory and time, or run correctly.

The named cases of a probe with ~390 hostile inputs: a 450-byte YAML alias bomb, requests
that would exhaust the machine (a trillion trials, 10**13 samples, a billion hidden units),
integer ranges past int64, an output folder that is a file, names too long for a path,
and crafted checkpoints whose checksum is right but whose fields are not. The commands
run as real processes; their peak RSS comes from ``os.wait4``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reliability_support import (
    assert_one_line,
    call_main,
    cli_measured,
    no_finished_run,
    once,
    run_dirs,
)

import mlplab
from mlplab.data import load_dataset
from mlplab.errors import CheckpointError, ConfigError
from mlplab.restore import load_run
from mlplab.runs.checkpoint import check_run_meta, load_checkpoint, save_checkpoint
from mlplab.runs.record import RunRecord

BASE = ["train", "--data", "xor", "--epoch", "2", "--quiet", "--plots", "none", "--engine", "numpy"]
# A refused input costs what starting Python and importing mlplab costs, not more.
MAX_REFUSED_MIB = 512
MAX_REFUSED_SECONDS = 30  # generous: the test machine is shared and slow


def bomb_text(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    lines += [f"lr: *a{levels - 1}"] * 3  # repeated keys, as in the probe
    return "\n".join(lines) + "\n"


def refused(proc, *needles: str) -> str:
    line = assert_one_line(proc.returncode, proc.stderr, *needles)
    assert proc.peak_mib < MAX_REFUSED_MIB, proc.peak_mib
    assert proc.seconds < MAX_REFUSED_SECONDS, proc.seconds
    return line


@pytest.mark.parametrize(
    ("name", "flags", "needles"),
    [
        ("bomb", ["--config", "{bomb}"], ["bomb.yaml"]),
        (
            "trials",
            ["sweep", "--search", "random", "--trials", "1000000000000"],
            ["--trials", "at most 100,000"],
        ),
        ("n_samples", ["--data", "sinlog", "--n_samples", "10000000000000"], ["'n_samples'"]),
        ("hid_dim", ["--hid_dim", "1000000000000"], ["'hid_dim'", "parameters"]),
        ("n_layer", ["--n_layer", "1000000000000000000"], ["'n_layer'"]),
        (
            "int64",
            ["sweep", "--search", "random", "--trials", "2", "--hid_dim", "int:1:" + "1" * 24],
            ["'hid_dim'", "2**63"],
        ),
        ("exp_name", ["--exp_name", "e" * 300], ["'exp_name'", "at most 200"]),
        ("log_path", ["--log_path", "/tmp/" + "l" * 300], ["'log_path'", "255 bytes"]),
        ("data", ["--data", "d" * 300 + ".csv"], ["'data'", "255 bytes"]),
        ("plot_out", ["plot", "activations", "--out", "{file}"], ["--out", "is a file"]),
    ],
)
def test_hostile_request_is_one_line_in_bounded_memory(tmp_path, name, flags, needles):
    (tmp_path / "bomb.yaml").write_text(bomb_text())
    (tmp_path / "a_file").write_text("x")
    flags = [f.format(bomb=tmp_path / "bomb.yaml", file=tmp_path / "a_file") for f in flags]
    if flags[0] in ("sweep", "plot"):
        argv = [flags[0], *(["--data", "xor", "--epoch", "1"] if flags[0] == "sweep" else [])]
        argv += flags[1:]
        if flags[0] == "sweep":
            argv += ["--log_path", str(tmp_path / "runs"), "--quiet"]
    else:
        argv = once(*BASE, "--log_path", str(tmp_path / "runs"), *flags)
    line = refused(cli_measured(*argv, timeout=60), *needles)
    assert "checkpoint is kept" not in line  # no run started, so nothing claims one did
    assert len(line) < 600
    assert no_finished_run(tmp_path / "runs")
    assert not list((tmp_path / "runs").rglob("*")) if (tmp_path / "runs").exists() else True


def test_huge_model_name_is_refused_in_process(tmp_path, capsys):
    # 10 MB does not fit one command-line argument (128 KiB), so the library call.
    import mlplab
    from mlplab.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        mlplab.train(data="xor", model_name="m" * 10_000_000, log_path=str(tmp_path))
    assert "'model_name'" in str(err.value) and len(str(err.value)) < 400


def test_npz_whose_header_promises_terabytes_is_refused(tmp_path, capsys):
    import io
    import zipfile

    import numpy as np

    header = np.lib.format
    buf = io.BytesIO()
    header.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 4)}
    )
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", b"\x93NUMPY" + bytes([1, 0]) + buf.getvalue()[8:] + b"\0" * 4096)
        z.writestr("y.npy", b"\x93NUMPY" + bytes([1, 0]) + buf.getvalue()[8:])
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    assert_one_line(rc, capsys.readouterr().err, "bomb.npz", "'X'", "of memory")


# --- crafted checkpoints ----------------------------------------------------------------
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    log = tmp_path_factory.mktemp("ckpt")
    assert call_main(once(*BASE, "--save_every", "1", "--log_path", str(log))) == 0
    return run_dirs(log)[0]


def crafted(run_dir: Path, tmp_path: Path, edit) -> Path:
    """A copy of the run's last checkpoint with ``edit(meta)`` applied and a valid checksum."""
    ckpt = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    edit(ckpt.meta)
    path = tmp_path / "last.safetensors"
    save_checkpoint(path, ckpt)
    return path


def _set(path: str, value):
    def edit(meta):
        *parents, leaf = path.split(".")
        d = meta
        for p in parents:
            d = d[p]
        d[leaf] = value

    return edit


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loop.epoch", 10**6),
        ("loop.epoch", -5),
        ("loop.epoch", "abc"),
        ("loop.epoch", True),
        ("loop.step", 10**30),
        ("loop.history.best_epoch", 99),
        ("loop.history.train_losses", ["x"]),
        ("loop.history.best_val_loss", "nan"),
        ("elapsed_s", "nan"),
        ("elapsed_s", math.nan),
        ("engine", "jax"),
        ("task", {"a": 1}),
        ("feature_names", [1, 2]),
        ("scaler", [[1.0], [math.inf]]),
        ("optim", [1, 2]),
        ("label_kind", "weird"),
        ("label_kind", "bool"),  # the class names are 0 and 1, no booleans
    ],
)
def test_crafted_checkpoint_field_is_one_line(finished_run, tmp_path, field, value):
    path = crafted(finished_run, tmp_path, _set(field, value))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = str(err.value)
    assert field in msg and "\n" not in msg and len(msg) < 400, msg


def test_deeply_nested_metadata_is_one_line(finished_run, tmp_path):
    from safetensors.numpy import save

    from mlplab.runs.checkpoint import FORMAT

    deep = '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"
    path = tmp_path / "deep.safetensors"
    import numpy as np

    path.write_bytes(save({"model/w": np.zeros(2, np.float32)}, {"format": FORMAT, "meta": deep}))
    with pytest.raises(CheckpointError, match="corrupted metadata"):
        load_checkpoint(path)
    nested = crafted(
        finished_run, tmp_path, _set("config.deep", [[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]])
    )
    with pytest.raises(CheckpointError, match="nested more than 16 levels"):
        load_checkpoint(nested)


def test_run_meta_check_wants_every_run_key(finished_run):
    meta = load_checkpoint(finished_run / "checkpoints" / "last.safetensors").meta
    check_run_meta(meta, "checkpoint 'x'")  # a real run's metadata passes
    del meta["loop"]
    with pytest.raises(CheckpointError, match="no 'loop'"):
        check_run_meta(meta, "checkpoint 'x'")


def test_resume_from_crafted_elapsed_nan_is_refused(finished_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "result.json").write_text('{"status": "running"}')
    crafted(finished_run, tmp_path, _set("elapsed_s", "nan")).replace(
        run / "checkpoints" / "last.safetensors"
    )
    rc = call_main(["train", "--resume", str(run)])
    assert_one_line(rc, capsys.readouterr().err, "elapsed_s")
    assert json.loads((run / "result.json").read_text()) == {"status": "running"}


def test_a_wall_clock_stepped_back_leaves_a_run_whole_and_its_time_not_negative(
    tmp_path, monkeypatch
):
    """An NTP correction or a resumed VM stepped the wall clock back mid-run: the run's
    time came out negative (wall_time_s -7199), and its own checkpoint was refused as
    damaged, so a finished model would not load and an interrupted one trained again."""
    import time

    real, calls = time.time, [0]

    def stepping() -> float:
        calls[0] += 1
        return real() - (7200.0 if calls[0] > 20 else 0.0)

    monkeypatch.setattr(time, "time", stepping)
    run = mlplab.train(data="moons", n_samples=100, epoch=30, save_every=5, log_every=0,
                       plots="none", verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    monkeypatch.setattr(time, "time", real)
    assert calls[0] > 20 and run.status == "finished"
    record = json.loads((run.run_dir / "result.json").read_text())
    assert 0 <= record["wall_time_s"] < 600
    assert load_checkpoint(run.run_dir / "checkpoints" / "last.safetensors").meta["elapsed_s"] >= 0
    # A checkpoint an earlier mlplab wrote with a negative time: whole, its time 0.
    crafted(run.run_dir, tmp_path, _set("elapsed_s", -7199.0)).replace(
        run.run_dir / "checkpoints" / "last.safetensors"
    )
    np.testing.assert_array_equal(
        load_run(run.run_dir).predict([[0.0, 0.0]]), run.predict([[0.0, 0.0]])
    )


def test_a_checkpoint_is_written_without_a_copy_of_the_whole_file_in_memory(finished_run, tmp_path):
    """The file was built in memory before it was written: a model near the memory limit
    ran out there, and the library panicked with pages of Rust and Python tracebacks
    (exit 1 or 134, a record left `running`) instead of the one out-of-memory line."""
    import tracemalloc

    from mlplab.runs.checkpoint import Checkpoint

    meta = load_checkpoint(finished_run / "checkpoints" / "last.safetensors").meta
    big = {"w": np.ones((2048, 4096), np.float32)}  # 32 MiB
    path = tmp_path / "big.safetensors"
    tracemalloc.start()
    try:
        save_checkpoint(path, Checkpoint(model=big, meta=meta))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, peak  # the file's 32 MiB never held in memory at once
    assert path.stat().st_size > 32 * 2**20
    np.testing.assert_array_equal(load_checkpoint(path).model["w"], big["w"])
    # As readable as any file its user makes (a TA's report reads it), and no scratch file
    # left: safetensors' save_file wrote through a private temporary file of its own.
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # Every dtype a checkpoint may hold, read back by safetensors itself.
    from safetensors.numpy import load_file

    from mlplab.runs.checkpoint import SAFETENSORS_DTYPES

    many = {d: np.arange(3).astype(d) for d in SAFETENSORS_DTYPES}
    many["empty"], many["big_endian"] = np.zeros((0, 2)), np.arange(3, dtype=">f8")
    save_checkpoint(tmp_path / "many.safetensors", Checkpoint(model=many, meta=meta))
    back = load_file(tmp_path / "many.safetensors")
    for name, a in many.items():
        b = back[f"model/{name}"]
        assert b.shape == a.shape and (b == a).all() and b.dtype.kind == a.dtype.kind, name
    # Its own checksum holds, the big-endian array's too (it was of the bytes before the
    # file's little-endian ones), and a dtype safetensors has no name for is one line.
    mine = load_checkpoint(tmp_path / "many.safetensors").model
    np.testing.assert_array_equal(mine["big_endian"], many["big_endian"])
    with pytest.raises(
        ValueError, match="checkpoint array model/z: safetensors holds no complex128"
    ):
        save_checkpoint(
            tmp_path / "c.safetensors", Checkpoint(model={"z": np.zeros(2, complex)}, meta=meta)
        )


def test_result_json_never_holds_nan(tmp_path):
    import numpy as np

    rec = RunRecord(tmp_path)
    rec.write_result(
        {
            "wall_time_s": math.nan,
            "best_val_loss": math.inf,
            "train_losses": [0.5, -math.inf, 0.25],
            "val_losses": [0.5, 0.25],
            "test_mse": np.float32("nan"),
            "nested": {"x": [np.float64(1.5), math.nan]},
        }
    )

    def no_constants(name):
        raise AssertionError(f"{name} in result.json")

    r = json.loads((tmp_path / "result.json").read_text(), parse_constant=no_constants)
    assert r["wall_time_s"] is None and r["best_val_loss"] is None and r["test_mse"] is None
    assert r["train_losses"] == [0.5, None, 0.25] and r["val_losses"] == [0.5, 0.25]
    assert r["nested"] == {"x": [1.5, None]}


def test_gradcheck_negative_seed_is_one_line(capsys):
    rc = call_main(["gradcheck", "--seed", "-1"])
    assert_one_line(rc, capsys.readouterr().err, "--seed", "non-negative")


@pytest.mark.parametrize(
    "first",
    [
        lambda i: f"x{i}",  # text: pandas made an index of it
        lambda i: 2 * i + 1,  # 1,3,5,..: pandas' index of it was a RangeIndex, taken for none
        lambda i: i,  # 0,1,2,..: the table read with its columns shifted trained without a word
    ],
    ids=["text", "odd", "range"],
)
def test_ragged_csv_rows_are_one_line(tmp_path, capsys, first):
    """Every row one value longer than the header: it was read with its columns shifted, the
    first made an index ("target column 'y' has a single class" where the last was all 9)."""
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,y\n" + "".join(f"{first(i)},{i},{i % 2},9\n" for i in range(8)))
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    assert_one_line(
        rc,
        capsys.readouterr().err,
        "ragged.csv': line 2 has 4 values, more than the header's 3 columns (separated by "
        "commas; one ending a line is dropped); every row needs one value per column",
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("sep", "name"), [(",", "comma"), (";", "semicolon")])
def test_a_long_row_past_the_first_is_named_by_its_line_in_the_file(tmp_path, capsys, sep, name):
    """pandas' words for it were 'cannot be read: Error tokenizing data. C error: Expected
    3 fields in line 51, saw 4'. It is named by the line an editor shows: its data row was
    miscounted past a line of spaces (pandas skips it), or a value quoted over two lines."""
    rows = ["a,b,y", *(f"{i},{i % 3},{i % 2}" for i in range(60))]
    rows[50] = "1,2,1,9"  # data row 50, the file's line 51 ...
    rows.insert(20, "")  # ... 52: a blank line, no row to pandas
    rows.insert(30, "   \t ")  # ... 53: spaces and a tab, no row to pandas either
    rows[40] = '"4\n0",0,1'  # ... 54: a value on two lines (data row 38)
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows).replace(",", sep) + "\n")
    assert path.read_text().splitlines()[53] == "1,2,1,9".replace(",", sep)  # line 54
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    line = assert_one_line(
        rc,
        capsys.readouterr().err,
        f"long.csv': line 54 has 4 values, more than the header's 3 columns (separated "
        f"by {name}s; one ending a line is dropped); every row needs one value per column; a "
        f"value with a {name} in it goes in double quotes",
    )
    assert "tokenizing" not in line
    assert not (tmp_path / "runs").exists()


def test_a_parquet_file_named_csv_is_named_a_parquet_file(tmp_path, capsys):
    """It was 'is not UTF-8 text; save it as UTF-8', which is no fix for it."""
    df = pd.DataFrame({"a": np.arange(12.0), "y": np.arange(12) % 2})
    df.to_parquet(tmp_path / "t.csv")
    rc = call_main(
        once(*BASE, "--data", str(tmp_path / "t.csv"), "--log_path", str(tmp_path / "runs"))
    )
    assert_one_line(
        rc,
        capsys.readouterr().err,
        "t.csv' is a Parquet file; give it a .parquet name (e.g. t.parquet)",
    )
    assert not (tmp_path / "runs").exists()
    (tmp_path / "t.csv").rename(tmp_path / "t.parquet")
    ds = load_dataset(str(tmp_path / "t.parquet"), split=[8, 2, 2])
    assert ds.feature_names == ["a"] and ds.n_rows == 12


def test_a_400_digit_number_in_a_semicolon_csv_is_one_line_naming_it(tmp_path, capsys):
    """It was 'cannot be read: Can only use .str accessor with string values, not integer'."""
    path = tmp_path / "huge.csv"
    rows = "".join(f"{'9' * 400 if i == 3 else i};{i},5;{i % 2}\n" for i in range(12))
    path.write_text("a;b;y\n" + rows)
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    assert_one_line(
        rc,
        capsys.readouterr().err,
        "huge.csv",
        "column 'a' has a number too large for a float in data row 4 (a 400-digit integer",
    )
    assert not (tmp_path / "runs").exists()


def test_a_windows_code_page_csv_says_how_to_save_it(tmp_path, capsys):
    """A spreadsheet's export in cp1252 (café as 0xE9) said only 'is not UTF-8 text'."""
    path = tmp_path / "latin1.csv"
    rows = "".join(f"{i},{['café', 'thé'][i % 2]}\n" for i in range(12))
    path.write_bytes(("x,drink\n" + rows).encode("cp1252"))
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    assert_one_line(
        rc,
        capsys.readouterr().err,
        "latin1.csv",
        "is not UTF-8 text (line 2: byte 0xE9); save it as UTF-8",
    )
    assert not (tmp_path / "runs").exists()


def test_a_file_that_is_not_utf8_says_where_or_what_it_is(tmp_path, capsys):
    """One 'ï' in row 249 of a Latin-1 file, or Excel's 'Unicode Text' (UTF-16), was
    'is not UTF-8 text', with nothing to say where or why."""
    deep = tmp_path / "deep.csv"
    rows = [f"{i},{i % 2}\n" for i in range(400)]
    rows[248] = "248,naïve\n"
    deep.write_bytes(("x,y\n" + "".join(rows)).encode("latin-1"))
    mac = tmp_path / "mac.csv"  # an old Mac's line ends, \r alone, and Windows' \r\n
    for path, end in ((mac, "\r"), (tmp_path / "win.csv", "\r\n")):
        path.write_bytes(end.join(["x,y", *[r.strip() for r in rows]]).encode("latin-1"))
        rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
        assert_one_line(rc, capsys.readouterr().err, path.name, "(line 250: byte 0xEF)")
    wide = tmp_path / "wide.txt"
    wide.write_text("x\ty\n" + "".join(f"{i}\t{i % 2}\n" for i in range(20)), encoding="utf-16")
    for path, where in ((deep, "(line 250: byte 0xEF)"),
                        (wide, "(it is UTF-16, as a spreadsheet's 'Unicode Text' saves it)")):  # fmt: skip
        rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
        assert_one_line(rc, capsys.readouterr().err, path.name, f"is not UTF-8 text {where}; save")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("call", "line"),
    [
        (lambda: mlplab.report(None), "report: log_path= takes a path, not None"),
        (lambda: mlplab.report(5), "report: log_path= takes a path, not 5"),
        (lambda: mlplab.report("runs", out=""), "report: out='' is an empty path"),
        (lambda: load_run(""), "load_run: run_dir='' is an empty path (read as the current"),
        (lambda: load_run("  "), "load_run: run_dir='  ' is a blank path"),
    ],
    ids=["report None", "report 5", "report out ''", "load_run ''", "load_run blank"],
)
def test_the_python_api_names_a_path_that_is_none_or_empty(tmp_path, monkeypatch, call, line):
    """report(None) was a TypeError of os.fspath; load_run('') loaded the current folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        call()
    assert str(info.value).startswith(line)
    assert not any(tmp_path.iterdir())


def test_a_csv_whose_first_column_is_named_par1_is_a_csv(tmp_path):
    """Its first four bytes are Parquet's magic: it was refused as a Parquet file, which
    also ends with them, and a CSV does not."""
    rows = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12))
    (tmp_path / "par1.csv").write_text("PAR1,b,y\n" + rows)
    ds = load_dataset(str(tmp_path / "par1.csv"), split=[8, 2, 2])
    assert ds.feature_names == ["PAR1", "b"] and ds.n_rows == 12
    # Its last cell PAR1 too (no newline at the end): text, with no NUL byte.
    (tmp_path / "end.csv").write_text("PAR1,y\n" + "".join(f"{i},{i % 2}\n" for i in range(11))
                                      + "11,PAR1")  # fmt: skip
    assert load_dataset(str(tmp_path / "end.csv"), split=[8, 2, 2]).n_rows == 12
    # A Parquet file cut short under a .csv name is still called one.
    pd.DataFrame({"a": np.arange(200.0)}).to_parquet(tmp_path / "whole.parquet")
    (tmp_path / "cut.csv").write_bytes((tmp_path / "whole.parquet").read_bytes()[:300])
    with pytest.raises(Exception, match=r"is a Parquet file; give it a \.parquet name"):
        load_dataset(str(tmp_path / "cut.csv"))


def test_closed_standard_output_trains_and_predict_says_where_its_csv_cannot_go(tmp_path):
    """`mlplab train >&-` (stdout closed before Python started) was a traceback, exit 1;
    so was `predict --out -` then, and a full disk behind its `> file` was exit 1."""
    import os
    import subprocess
    import sys

    df = pd.DataFrame({"a": np.arange(40.0), "y": np.arange(40) % 2})
    df.to_csv(tmp_path / "d.csv", index=False)
    runs = tmp_path / "runs"

    def cli(*args: Any, stdout: Any = None, closed: bool = False) -> Any:
        # closed: descriptor 1 closed before mlplab starts, as a shell's >&- leaves it.
        return subprocess.run(
            [sys.executable, "-m", "mlplab", *map(str, args)], stdout=stdout,
            stderr=subprocess.PIPE, text=True, timeout=300,
            preexec_fn=(lambda: os.close(1)) if closed else None,
        )  # fmt: skip

    data = tmp_path / "d.csv"
    train = cli("train", "--data", data, "--epoch", 2, "--plots", "none", "--log_path", runs,
                closed=True)  # fmt: skip
    assert train.returncode == 0 and "Traceback" not in train.stderr, train.stderr
    (run_dir,) = (runs / "exp").glob("exp-*")
    assert (run_dir / "result.json").is_file()
    predict = cli("predict", run_dir, "--data", data, "--out", "-", closed=True)
    assert predict.returncode == 2 and predict.stderr.strip() == (
        "mlplab: predict: standard output is closed, and the predictions go there; give "
        "--out FILE (e.g. preds.csv)"
    )
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            proc = cli("predict", run_dir, "--data", data, "--out", "-", stdout=full)
        assert proc.returncode == 2 and proc.stderr.strip() == (
            "mlplab: predict: standard output cannot be written: No space left on device; "
            "give --out FILE on a disk with room"
        )


def test_a_sweep_with_its_output_closed_trains_its_runs(tmp_path, monkeypatch):
    """`mlplab sweep ... >&- 2>&-` failed every run ('worker process died': a worker
    started with no stderr), and a script whose sys.stdout is None (pythonw) was an
    AttributeError of isatty."""
    import os
    import subprocess
    import sys

    runs = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "sweep", "--data", "xor", "--lr", "0.1", "0.01",
         "--workers", "2", "--epoch", "3", "--plots", "none", "--log_path", str(runs)],
        timeout=300, preexec_fn=lambda: (os.close(1), os.close(2)),
    )  # fmt: skip
    assert proc.returncode == 0
    records = [json.loads(p.read_text()) for p in runs.glob("exp/exp-*/result.json")]
    assert [r["status"] for r in records] == ["finished", "finished"]
    monkeypatch.setattr(sys, "stdout", None)
    result = mlplab.sweep(data="xor", lr=[0.2, 0.3], epoch=3, plots="none", workers=2,
                          log_path=str(tmp_path / "quiet"), report=False)  # fmt: skip
    assert result.exit_code == 0 and result.counts["trained"] == 2


@pytest.mark.parametrize(
    "failure",
    [
        MemoryError("Unable to allocate 91.6 MiB for an array with shape (300000, 40)"),
        # pandas reads with threads: under `ulimit -v` the first to fail may be a thread's.
        RuntimeError("can't start new thread"),
    ],
    ids=["allocate", "thread"],
)
def test_memory_that_runs_out_while_reading_is_not_called_a_bad_file(
    tmp_path, capsys, monkeypatch, failure
):
    """Under a memory limit, NumPy's 'Unable to allocate 91.6 MiB' while pandas read a big
    CSV was said as 'data file ... cannot be read', exit 2: bad input, where the file was
    fine and the machine's memory was short."""
    path = tmp_path / "big.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(12)))
    real = pd.read_csv

    def short_of_memory(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("nrows") == 0:  # the header: read as before
            return real(*args, **kwargs)
        raise failure

    monkeypatch.setattr(pd, "read_csv", short_of_memory)
    rc = call_main(once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs")))
    line = assert_one_line(rc, capsys.readouterr().err, "big.csv': reading and splitting")
    assert "ran out of memory" in line and "cannot be read" not in line
    assert not (tmp_path / "runs").exists()
