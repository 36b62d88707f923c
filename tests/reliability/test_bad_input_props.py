"""Bad input, tried systematically: random settings, YAML files and data files.

Every case must end in one clear line on stderr (``mlplab: ...``, naming the setting or
file) with exit status 2 and nothing that looks like a finished run, or in a correct run
(finished, or diverged with exit 1). Never in a traceback: in-process, any exception
escaping ``main`` fails the test; a few cases also run as real processes.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import uuid
from collections import namedtuple
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import (
    assert_one_line,
    call_main,
    cli,
    no_finished_run,
    once,
    read_json,
    run_dirs,
)

from mlplab.config import Config
from mlplab.data.registry import BUILTIN

SETTINGS = list(Config.model_fields)
LIST_SETTINGS = {"target", "split"}
# Fast, small runs; the setting under test comes last on the command line, so it wins.
BASE = ["train", "--data", "xor", "--epoch", "2", "--quiet", "--plots", "none", "--engine", "numpy"]
# Valid values of these would make a run long or huge, so they only get small numbers.
SIZES = {"epoch", "n_samples", "hid_dim", "n_layer"}
HYP = settings(
    max_examples=int(os.environ.get("MLPLAB_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
specials = st.sampled_from(
    [
        "nan",
        "inf",
        "-inf",
        "1e308",
        "-1e308",
        "0",
        "-0.0",
        "1",
        "-1",
        "0.5",
        "2",
        "true",
        "false",
        "null",
        "",
        " ",
        "-",
        "--",
        "[1, 2]",
        "{}",
        "é",
        "日本",
        "1e-320",
        "99999999999999999999",
        "-99999999999999999999",
        "0x10",
        "cuda",
        "cpu",
        "cuda:7",
        "torch",
        "numpy",
        "auto",
        "relu",
        "ADAM",
        *BUILTIN,
    ]
)


def small_number(name: str):
    hi = 5 if name in SIZES else 10**6
    return st.one_of(st.integers(-3, hi).map(str), st.floats(-1e3, 1e3).map(repr))


def value_for(name: str):
    if name in SIZES:  # no huge valid sizes; huge invalid ones are still drawn as text
        safe = specials.filter(lambda v: v not in ("1e308", "99999999999999999999"))
        return st.one_of(safe, small_number(name), texts)
    return st.one_of(specials, small_number(name), texts)


def outcome(rc: int, err: str, log_path: Path, *needles: str) -> str:
    """Check one case's outcome; returns 'error', 'finished' or 'diverged'."""
    assert "Traceback" not in err
    if rc == 2:
        assert_one_line(rc, err, *needles)
        assert no_finished_run(log_path), "bad input left a finished run behind"
        return "error"
    dirs = run_dirs(log_path)
    assert len(dirs) == 1, (rc, err)
    status = read_json(dirs[0] / "result.json")["status"]
    assert (rc, status) in ((0, "finished"), (1, "diverged")), (rc, status, err)
    return status


@HYP
@given(name=st.sampled_from(SETTINGS), data=st.data())
def test_random_value_for_each_setting(tmp_path_factory, capsys, name, data):
    n = data.draw(st.integers(1, 3)) if name in LIST_SETTINGS else 1
    values = [data.draw(value_for(name)) for _ in range(n)]
    log = tmp_path_factory.mktemp("cfg")
    if name == "log_path":  # never let a random path land outside the test's folder
        values = [str(log / ("p" + v.replace("/", "_"))) for v in values]
    argv = once(*BASE, "--log_path", str(log), f"--{name}", *values)
    rc = call_main(argv)
    out = capsys.readouterr()
    outcome(rc, out.err, log, name if rc == 2 and not _argparse_value(values) else "")


def _argparse_value(values: list[str]) -> bool:
    # argparse reads "-x" as a flag, not a value; its message names the flag but not
    # always the setting ("expected one argument").
    return any(v.startswith("-") and not _is_number(v) for v in values)


def _is_number(v: str) -> bool:
    # argparse's own test for a negative number (so "-inf" counts as a flag).
    return re.fullmatch(r"-\d+|-\d*\.\d+", v) is not None


@HYP
@given(
    entries=st.dictionaries(
        st.one_of(st.sampled_from(SETTINGS), texts),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 40),
            st.floats(allow_nan=True, allow_infinity=True),
            texts,
            specials,
            st.lists(st.one_of(st.integers(-3, 50), texts), max_size=3),
            st.dictionaries(texts, st.integers(), max_size=2),
        ),
        max_size=4,
    )
)
def test_random_yaml_config_files(tmp_path_factory, capsys, entries):
    d = tmp_path_factory.mktemp("yaml")
    path = d / "exp.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    log = d / "runs"
    rc = call_main(once(*BASE, "--config", str(path), "--log_path", str(log)))
    outcome(rc, capsys.readouterr().err, log)


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2",
        "- just\n- a list\n",
        "\x00\x01binary",
        "seed: 1\nseed: 2\n",
        "data: !!python/object:os.system x\n",
        "? [a, b]\n: 1\n",
    ],
)
def test_broken_yaml_files(tmp_path, capsys, text):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    rc = call_main(once(*BASE, "--config", str(path), "--log_path", str(tmp_path / "runs")))
    outcome(rc, capsys.readouterr().err, tmp_path / "runs")


# --- data files ------------------------------------------------------------------------
cells = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "-1e300", "", "NA", "True", "x", "é", "1,5"]),
    texts,
)


@st.composite
def tables(draw):
    n_cols = draw(st.integers(1, 4))
    header = draw(
        st.one_of(
            st.lists(texts, min_size=n_cols, max_size=n_cols),
            st.just([f"x{i}" for i in range(n_cols - 1)] + ["y"]),
        )
    )
    n_rows = draw(st.integers(0, 14))
    numeric = draw(st.booleans())  # half the tables are mostly clean numbers
    rows = []
    for r in range(n_rows):
        if numeric:
            row = [str(draw(st.integers(-3, 3))) for _ in range(n_cols - 1)] + [str(r % 2)]
            if draw(st.integers(0, 9)) == 0:
                row[draw(st.integers(0, n_cols - 1))] = draw(cells)
        else:
            row = [draw(cells) for _ in range(n_cols)]
        rows.append(row)
    return header, rows


@HYP
@given(
    table=tables(),
    target=st.one_of(st.none(), st.just("last"), st.just("first"), texts),
    extra=st.sampled_from(
        [
            [],
            ["--standardize"],
            ["--standardize", "false"],
            ["--task", "regression"],
            ["--task", "classification"],
            ["--dtype", "float64"],
        ]
    ),
)
def test_random_csv_files(tmp_path_factory, capsys, table, target, extra):
    header, rows = table
    d = tmp_path_factory.mktemp("csv")
    path = d / f"data-{uuid.uuid4().hex[:6]}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    argv = once(*BASE, "--data", str(path), "--log_path", str(d / "runs"), *extra)
    if target == "last":
        argv += ["--target", header[-1]]
    elif target == "first":
        argv += ["--target", header[0]]
    elif target is not None:
        argv += ["--target", target]
    rc = call_main(argv)
    err = capsys.readouterr().err
    status = outcome(rc, err, d / "runs")
    if status == "error" and "argument --target" not in err:
        assert path.name in err  # every data error names the file


def test_data_file_catalogue(tmp_path, capsys):
    """The named cases of the issue, one by one, with the message each must give."""
    big = ["a,b,y"] + [f"{i * 1e300},{-i * 1e299},{i % 2}" for i in range(1, 40)]
    ok = [f"{i},{i * 2},{i % 2}" for i in range(1, 40)]
    cases = {
        "empty.csv": ("", "is empty"),
        "header.csv": ("a,b,y\n", "no data rows"),
        "one_row.csv": ("a,b,y\n1,2,0\n", "1 data row"),
        "text_feature.csv": (
            "a,b,y\n1,x,0\n2,3,1\n3,4,0\n4,5,1\n",
            "'b' is not numeric ('x' in data row 1)",
        ),
        "mixed.csv": (
            "a,b,y\n" + "\n".join([*ok[:5], "6,seven,0", *ok[6:]]) + "\n",
            "'seven' in data row 6",
        ),
        "nan.csv": ("a,b,y\n1,2,0\n2,nan,1\n3,4,0\n4,5,1\n", "NaN"),
        "inf.csv": ("a,b,y\n1,2,0\n2,inf,1\n3,4,0\n4,5,1\n", "inf"),
        # Named by column, split and value ("largest magnitude 3.4e+38" was float32's).
        "huge.csv": ("\n".join(big) + "\n", "feature 'a' holds ", "past the largest float32"),
        # Under float32's smallest normal number, a column became zeros in silence.
        "tiny.csv": (
            "a,b,y\n" + "\n".join(f"{i * 1e-50},{i},{i % 2}" for i in range(1, 40)) + "\n",
            "feature 'a' holds values no larger than 3.8e-49 in the train rows, under the "
            "smallest float32 (1.18e-38), where they become 0 or lose their digits; rescale "
            "them (--standardize true), or use --dtype float64",
        ),
        # Within float32, but its square, the loss, is not: it was called a divergence.
        "huge_target.csv": (
            "a,y\n" + "\n".join(f"{i},{i * 1e19 + 0.5}" for i in range(1, 40)) + "\n",
            "target values overflow float32 when squared in the loss",
        ),
        "single_class.csv": (
            "a,b,y\n" + "\n".join(f"{i},{i},1" for i in range(20)) + "\n",
            "single class ('1')",
        ),
        "no_target_nan.csv": ("a,b,y\n1,2,0\n2,3,\n3,4,0\n4,5,1\n", "missing values"),
        "binary.csv": (bytes(range(256)).decode("latin-1"), "binary.csv"),
    }
    for name, (text, *needles) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="latin-1" if name == "binary.csv" else "utf-8")
        # Raw: `standardize: auto` scales a file's 1e300 values into range first.
        raw = ["--standardize", "false"] if name in ("huge.csv", "tiny.csv") else []
        argv = once(*BASE, "--data", str(path), "--log_path", str(tmp_path / "runs"), *raw)
        assert_one_line(call_main(argv), capsys.readouterr().err, name, *needles)
    assert no_finished_run(tmp_path / "runs")


def test_data_files_that_train(tmp_path, capsys):
    ok = [f"{i},{i * 2},{i % 2}" for i in range(1, 40)]
    uni = tmp_path / "uni.csv"
    uni.write_text("é,日本,y\n" + "\n".join(ok) + "\n", encoding="utf-8")
    near = tmp_path / "near.csv"
    near.write_text(
        "a,z,y\n" + "\n".join(f"{i},{1e-310 if i == 3 else 0},{i % 2}" for i in range(1, 40)) + "\n"
    )
    big = tmp_path / "big.csv"
    big.write_text("a,b,y\n" + "\n".join(f"{i * 1e300},{i},{i % 2}" for i in range(1, 40)) + "\n")
    runs = [
        (["--data", str(uni)], ["é", "日本"]),
        (["--data", str(uni), "--target", "é"], ["日本", "y"]),  # the target leaves the features
        (["--data", str(big), "--standardize"], ["a", "b"]),  # 1e300 standardized is fine
        # Zeros and one 1e-310: standardized, a column of one value, left as it is.
        (["--data", str(near), "--standardize"], ["a", "z"]),
    ]
    for i, (flags, features) in enumerate(runs):
        log = tmp_path / f"runs{i}"
        assert call_main(once(*BASE, *flags, "--log_path", str(log))) == 0, capsys.readouterr().err
        (run_dir,) = run_dirs(log)
        from mlplab.runs.checkpoint import load_checkpoint

        meta = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta
        assert meta["feature_names"] == features
    # 1e300 in float64 overflows inside the model: a diverged run, not a traceback.
    rc = call_main(
        once(*BASE, "--data", str(big), "--dtype", "float64", "--log_path", str(tmp_path / "r"))
    )
    assert outcome(rc, capsys.readouterr().err, tmp_path / "r") in ("finished", "diverged")


def test_npz_and_parquet_files(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    marker = tmp_path / "pwned"
    np.savez(tmp_path / "objects.npz", X=np.array([object()] * 4, dtype=object), y=np.arange(4))
    np.savez(tmp_path / "names.npz", a=np.zeros((4, 2)), b=np.zeros(4))
    np.savez(tmp_path / "shapes.npz", X=np.zeros((4, 2)), y=np.zeros(3))
    import pickle

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    (tmp_path / "pickle.npz").write_bytes(pickle.dumps(Payload()))
    pd.DataFrame({"t": pd.date_range("2020", periods=8), "y": [0, 1] * 4}).to_parquet(
        tmp_path / "dates.parquet"
    )
    (tmp_path / "garbage.parquet").write_bytes(b"PAR1 not really")
    needles = {
        "objects.npz": "objects.npz",
        "names.npz": "X and y",
        "shapes.npz": "N rows",
        "pickle.npz": "pickle.npz",
        # Its feature may go, as a CSV's date column is told (a Parquet one was not).
        "dates.parquet": (
            "'t' holds dates or times; encode them as numbers first (e.g. days since a start) "
            "(datetime64[",
            "]), or leave it out with --ignore t",
        ),
        "garbage.parquet": "cannot be read",
    }
    for name, needle in needles.items():
        rc = call_main(
            once(*BASE, "--data", str(tmp_path / name), "--log_path", str(tmp_path / "runs"))
        )
        more = (needle,) if isinstance(needle, str) else needle
        assert_one_line(rc, capsys.readouterr().err, name.split(".")[0], *more)
    assert not marker.exists()


# --- where records go ------------------------------------------------------------------
def test_unwritable_log_path_is_reported_before_training(tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    # Root passes permission checks, so use paths that fail for root too.
    (tmp_path / "l1").symlink_to(tmp_path / "l2")  # a loop of links: no folder fits
    (tmp_path / "l2").symlink_to(tmp_path / "l1")
    for log_path, needle in (
        (a_file / "sub", "is not a folder"),
        (Path("/proc/mlplab-runs"), "not writable"),
        (tmp_path / "l1", "symbolic link that leads nowhere"),
        (tmp_path / "l1" / "sub", "symbolic link that leads nowhere"),
    ):
        rc = call_main(once(*BASE, "--log_path", str(log_path)))
        assert_one_line(rc, capsys.readouterr().err, "log_path", needle)


def test_full_disk_is_reported_before_training(tmp_path, capsys, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    rc = call_main(once(*BASE, "--log_path", str(tmp_path / "runs")))
    assert_one_line(rc, capsys.readouterr().err, "log_path", "free")
    assert not (tmp_path / "runs").exists()


def test_disk_full_mid_run_is_one_line(tmp_path, capsys, monkeypatch):
    import errno

    from mlplab.runs import checkpoint

    def no_space(path, write, durable=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_write_stream", no_space)
    rc = call_main(once(*BASE, "--save_every", "1", "--log_path", str(tmp_path)))
    line = assert_one_line(rc, capsys.readouterr().err, "No space left on device", code=1)
    assert ".safetensors" in line
    r = read_json(run_dirs(tmp_path)[0] / "result.json")
    assert r["status"] == "failed" and "No space" in r["error"]


def test_a_write_refused_mid_run_names_the_folder_and_how_to_go_on(tmp_path, capsys, monkeypatch):
    """A folder made read-only mid-run was 'Permission denied (.../.curves.npz.mnksz.tmp);
    the run stopped': a hidden scratch file named, and nothing said of what to do."""
    import errno

    from mlplab.runs import checkpoint

    real = checkpoint.atomic_write_stream
    calls = []

    def refused_once(path, write, durable=False):
        calls.append(path)
        if len(calls) == 2:  # the second save: the first is on disk to go on from
            scratch = Path(path).parent / f".{Path(path).name}.x1y2z3.tmp"
            raise OSError(errno.EACCES, "Permission denied", str(scratch))
        return real(path, write, durable=durable)

    monkeypatch.setattr(checkpoint, "atomic_write_stream", refused_once)
    argv = once(*BASE, "--save_every", "1", "--log_path", str(tmp_path))
    line = assert_one_line(call_main(argv), capsys.readouterr().err, "Permission denied", code=1)
    (run_dir,) = run_dirs(tmp_path)
    assert f"(writing in {str(run_dir / 'checkpoints')!r}); the run stopped" in line
    assert ".tmp" not in line and "the same command continues it" in line
    monkeypatch.undo()
    assert call_main(argv) == 0  # as the line says: it goes on, to the run it would be
    ref = tmp_path / "ref"
    assert call_main(once(*BASE, "--save_every", "1", "--log_path", str(ref))) == 0
    went_on, whole = (read_json(d / "result.json") for d in (run_dir, *run_dirs(ref)))
    assert went_on["status"] == "finished"
    assert went_on["train_losses"] == whole["train_losses"]


def test_a_file_size_limit_mid_run_records_the_run_failed_not_running(tmp_path):
    """The kernel's own refusal (EFBIG under ``ulimit -f``), in a real process: the
    TensorBoard file fills first, its flush fails again while the run ends, and the full
    result.json (curves and all) does not fit either. The record says failed, with the
    error, rather than running, which a report reads as "still training, or killed"."""
    import resource
    import subprocess

    from reliability_support import ENV, MLPLAB

    def limited() -> None:  # 12 KiB a file, in the child only
        resource.setrlimit(resource.RLIMIT_FSIZE, (12 * 1024, resource.RLIM_INFINITY))

    args = ["train", "--data", "xor", "--hid_dim", "3", "--act", "tanh", "--lr", "0.5",
            "--epoch", "500", "--log_every", "0", "--plots", "none", "--log_path", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(
        [*MLPLAB, *args], capture_output=True, text=True, env=ENV, timeout=120,
        preexec_fn=limited,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "File too large" in proc.stderr and "Traceback" not in proc.stderr
    assert "events.out.tfevents." in proc.stderr  # the file that did not fit, by name
    # and the limit it met, which "File too large" of a small file does not tell
    assert ": the process's file-size limit, `ulimit -f`, is 12 KiB; the run stopped" in (
        proc.stderr
    )
    r = read_json(run_dirs(tmp_path)[0] / "result.json")
    assert r["status"] == "failed" and "File too large" in r["error"]


def test_a_run_that_failed_continues_from_its_last_checkpoint_exactly(tmp_path):
    """A run failed by a full disk kept its checkpoints, written before the failure; the
    same command, with room again, continues from the last one (not from step 0) and ends
    where a run that never failed ends."""
    import resource
    import subprocess

    from reliability_support import ENV, MLPLAB

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (40 * 1024, resource.RLIM_INFINITY))

    args = ["train", "--data", "moons", "--hid_dim", "3", "--act", "tanh", "--lr", "0.5",
            "--epoch", "500", "--save_every", "10", "--log_every", "0", "--plots", "none"]  # fmt: skip
    log = ["--log_path", str(tmp_path / "a")]
    proc = subprocess.run(
        [*MLPLAB, *args, *log], capture_output=True, text=True, env=ENV, timeout=120,
        preexec_fn=limited,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    failed = read_json(run_dirs(tmp_path / "a")[0] / "result.json")
    assert failed["status"] == "failed" and 0 < failed["epochs_run"] < 500
    again = cli(*args, *log)
    assert again.returncode == 0, again.stderr
    assert "failed run; it continues from its checkpoint at step" in again.stdout
    whole = cli(*args, "--log_path", str(tmp_path / "b"))
    assert whole.returncode == 0, whole.stderr
    a, b = (read_json(run_dirs(tmp_path / d)[0] / "result.json") for d in "ab")
    assert a["status"] == b["status"] == "finished"
    assert a["test_loss"] == b["test_loss"] and a["val_losses"] == b["val_losses"]


# --- a few through real processes: no traceback reaches the terminal ----------------------
@pytest.mark.parametrize(
    "flags",
    [
        ["--lr", "abc"],
        ["--seed", "-1"],
        ["--data", "nonexistent.csv"],
        ["--data_seed", "-5"],
        ["--bogus_key", "1"],
        ["--data", "moons", "--noise", "inf"],
    ],
)
def test_bad_flags_in_a_real_process(tmp_path, flags):
    proc = cli(*once(*BASE, "--log_path", str(tmp_path), *flags))
    name = flags[-2].lstrip("-")
    assert_one_line(proc.returncode, proc.stderr, name.split(".")[0])
    assert no_finished_run(tmp_path)


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_data_past_the_dtype_is_refused_before_anything_is_written(tmp_path, capsys, command):
    """A refused train left `log_path/exp/.sweep.lock` (the run's lock came before the cast),
    and a sweep trained, failed and reported every run, one by one, on the same bad file."""
    path = tmp_path / "huge.csv"
    rows = [f"{i * 1e40 if i == 7 else i},{i % 3},{i % 2}" for i in range(40)]
    path.write_text("a,b,y\n" + "\n".join(rows) + "\n")
    log = tmp_path / "runs"
    flags = ["--data", str(path), "--epoch", "1", "--standardize", "false"]
    flags += ["--log_path", str(log), "--plots", "none"]
    if command == "sweep":
        flags += ["--lr", "0.1", "0.2", "--workers", "1"]
    assert call_main([command, *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "feature 'a' holds 7e+40" in err, err
    assert "--dtype float64" in err
    assert not log.exists()
    # The same file in float64 trains.
    assert call_main([command, *flags, "--dtype", "float64", "--quiet"]) == 0
    assert len(list(log.glob("exp/exp-*/result.json"))) == (2 if command == "sweep" else 1)
