"""Fuzzing every command through the real parser: wrong types, non-finite, extreme, empty
and repeated values for every flag and YAML key, and malformed data files of every format.

Invariants, for every generated case:

- the exit status is 0, 1 (the run failed or diverged, and is recorded so) or 2 (bad
  input); nothing escapes ``main`` (no traceback);
- status 2 prints exactly one line ``mlplab: ...`` of bounded length, within seconds, and
  leaves nothing that looks like a finished run;
- every result.json written is standard JSON (no NaN or Infinity) and a ``finished``
  record comes only with exit 0.

The cases are in-process (``cli.main``) for speed; a sampled subset runs as real
processes, whose peak RSS must stay under 512 MB when the input is refused. Generation is
derandomized with a fixed seed (``MLPLAB_FUZZ_SEED``, printed below), so a failure replays
exactly; ``MLPLAB_FUZZ_SCALE`` multiplies the number of cases.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from reliability_support import call_main, cli_measured, once

from mlplab.config import Config
from mlplab.data.registry import BUILTIN

SEED = int(os.environ.get("MLPLAB_FUZZ_SEED", "20261202"))
SCALE = float(os.environ.get("MLPLAB_FUZZ_SCALE", "1"))
MAX_LINE = 2100  # MAX_MESSAGE_CHARS plus the "mlplab: " prefix
MAX_REFUSED_SECONDS = 10.0
MAX_REFUSED_MIB = 512


def fuzz(n: int):
    """Hypothesis settings for ``n`` cases (times MLPLAB_FUZZ_SCALE), replayable by SEED."""

    def wrap(f):
        f = settings(
            max_examples=max(1, int(n * SCALE)),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(f)
        return seed(SEED)(f)

    return wrap


@pytest.fixture(scope="module", autouse=True)
def _print_seed():
    print(f"\nmlplab fuzz: seed {SEED} (MLPLAB_FUZZ_SEED), scale {SCALE} (MLPLAB_FUZZ_SCALE)")


SETTINGS = list(Config.model_fields)
BASE = ["--data", "xor", "--epoch", "2", "--quiet", "--plots", "none", "--engine", "numpy"]
# Settings whose large valid values would make a long run rather than a refusal: they get
# small values, or absurd ones (which must be refused at once).
SIZES = {"epoch", "n_samples", "hid_dim", "hid_dims", "n_layer", "lr_step", "validate_every"}

HOSTILE_TEXT = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-0",
    "-1",
    "1.5",
    "true",
    "false",
    "null",
    "~",
    "[]",
    "{}",
    "[1, 2]",
    "0x10",
    "1_000",
    "١٢",  # Arabic-Indic digits
    "é",
    "\t",
    "a\nb",
    "../../etc/passwd",
    "/dev/null",
    "/proc/self/mem",
    "cuda:99999999999999999999",
    "int:1:" + "9" * 30,
    "uniform:nan:1",
    "loguniform:0:1",
    "choice:",
    "x" * 300,
    "9" * 30,
    "-" + "9" * 30,
    str(2**63),
    str(2**63 - 1),
    "1" * 5000,
    *BUILTIN,
]
hostile = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=20,
    ),
)
RUN_LENGTH = {"epoch"}
ABSURD = ["1000000000000", "10000000000000", str(2**62), str(2**63 - 1)]


def value_for(name: str):
    if name in SIZES:
        # Absurd sizes must be refused at once, but an absurd epoch count is a valid
        # (endless) run: it gets small and invalid values only.
        absurd = st.nothing() if name in RUN_LENGTH else st.sampled_from(ABSURD)
        return st.one_of(
            st.integers(-2, 3).map(str),
            absurd,
            hostile.filter(lambda v: not _valid_count(v, name)),
        )
    return hostile


def _valid_count(text: str, name: str) -> bool:
    """Whether ``text`` is a valid count that would make a long run or a big model.

    Past 10**12 a model or data size is refused; an epoch count is valid up to 2**63.
    """
    top = 2**63 if name in RUN_LENGTH else 10**12
    try:
        return 3 < int(text.strip().replace("_", "")) < top
    except ValueError:
        return False


# --- checks ------------------------------------------------------------------------------
def check(rc: int, err: str, seconds: float, log_path: Path) -> None:
    assert rc in (0, 1, 2), (rc, err)
    assert "Traceback" not in err, err
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1, err
        assert lines[0].startswith("mlplab:"), lines[0]
        assert len(lines[0]) <= MAX_LINE, len(lines[0])
        assert seconds < MAX_REFUSED_SECONDS, seconds
    for record in Path(log_path).rglob("result.json"):
        r = strict_json(record)
        if r.get("status") == "finished":
            assert rc == 0, (rc, err, record)
        if rc == 2:
            assert r.get("status") != "finished", record


def strict_json(path: Path) -> dict:
    def refuse(name: str):
        raise AssertionError(f"{path}: {name} is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def timed_main(argv: list[str], capsys) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    rc = call_main(argv)
    return rc, capsys.readouterr().err, time.perf_counter() - t0


def flag_pairs(names: list[str], max_size: int = 3):
    return st.lists(
        st.sampled_from(names).flatmap(lambda n: value_for(n).map(lambda v: (n, v))),
        min_size=1,
        max_size=max_size,
    )


def argv_of(pairs: list[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for name, value in pairs:
        # `--flag=value`, so that values starting with '-' stay values.
        out.append(f"--{name}={value}")
    return out


# --- train: every flag --------------------------------------------------------------------
@fuzz(40)
@given(pairs=flag_pairs(SETTINGS), extra=st.sampled_from([[], ["--print_config"]]))
def test_fuzz_train_flags(tmp_path_factory, capsys, pairs, extra):
    log = tmp_path_factory.mktemp("train")
    pairs = [(n, v) for n, v in pairs if n != "log_path"]  # records stay in the test folder
    argv = ["train", *once(*BASE, *argv_of(pairs), f"--log_path={log}", *extra)]
    rc, err, secs = timed_main(argv, capsys)
    check(rc, err, secs, log)


# --- train: every YAML key, with YAML's own tricks ------------------------------------------
YAML_VALUES = [
    "true",
    "no",
    "null",
    "~",
    ".nan",
    ".inf",
    "-.inf",
    "1e400",
    "0x7fffffffffffffff",
    "99999999999999999999999",
    "''",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: 1}",
    "!!binary aGVsbG8=",
    "!!python/object:os.system x",
    "!!set {a, b}",
    "2026-12-02",
    "&anchor 5",
    "*anchor",
    '"\\x00"',
    "'" + "y" * 2000 + "'",
    "|\n  multi\n  line",
]


@st.composite
def yaml_texts(draw) -> str:
    keys = st.one_of(st.sampled_from(SETTINGS), st.sampled_from(["", "1", "? [a]", "<<", "x y"]))
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        key = draw(keys)
        if key in RUN_LENGTH:  # YAML's 0x7fffffffffffffff is a valid, endless epoch count
            value = draw(st.sampled_from(["true", "-1", "0", "2", "1.5", "''", ".nan", "[]"]))
        else:
            value = draw(st.sampled_from(YAML_VALUES) | value_for(key).map(json.dumps))
        lines.append(f"{key}: {value}")
    if draw(st.booleans()):
        lines.append(lines[0])  # a duplicate key
    return "\n".join(lines) + "\n"


@fuzz(30)
@given(text=yaml_texts())
def test_fuzz_yaml_config(tmp_path_factory, capsys, text):
    d = tmp_path_factory.mktemp("yaml")
    path = d / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    rc, err, secs = timed_main(
        ["train", "--config", str(path), *BASE, f"--log_path={d / 'runs'}"], capsys
    )
    check(rc, err, secs, d / "runs")


# --- sweep: axes, distributions and sweep options --------------------------------------------
SWEEP_OPTIONS = ["search", "trials", "workers", "group_size", "backend", "cpus_per_task"]


@fuzz(15)
@given(
    axes=st.lists(
        st.sampled_from(["lr", "hid_dim", "seed", "act", "mm", "n_layer", "exp_name"]).flatmap(
            lambda n: st.tuples(st.just(n), st.lists(value_for(n), min_size=1, max_size=3))
        ),
        max_size=2,
    ),
    options=st.lists(
        st.tuples(st.sampled_from(SWEEP_OPTIONS), hostile | st.sampled_from(["random", "1"])),
        max_size=2,
    ),
)
def test_fuzz_sweep(tmp_path_factory, capsys, axes, options):
    log = tmp_path_factory.mktemp("sweep")
    argv = ["sweep", *BASE, "--no_report", "--workers=1", f"--log_path={log}"]
    for name, values in axes:
        argv += [f"--{name}", *values]
    argv += [f"--{name}={value}" for name, value in options if name != "workers"]
    argv = once(*argv)
    rc, err, secs = timed_main(argv, capsys)
    check(rc, err, secs, log)


# --- data files of every format, malformed ---------------------------------------------------
@st.composite
def data_files(draw, folder: Path) -> Path:
    import numpy as np

    kind = draw(st.sampled_from(["csv", "parquet", "npz", "junk"]))
    n = draw(st.integers(0, 12))
    cells = st.one_of(
        st.integers(-3, 3),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e308, -1e308, 1e300, "x", "", "nan", "inf"]),
    )
    if kind == "junk":
        path = folder / draw(st.sampled_from(["d.csv", "d.parquet", "d.npz"]))
        path.write_bytes(draw(st.binary(max_size=200)))
        return path
    if kind == "npz":
        path = folder / "d.npz"
        keys = draw(st.sampled_from([("X", "y"), ("x", "target"), ("a", "b"), ("X",)]))
        shapes = {
            "X": draw(st.sampled_from([(n, 2), (n,), (n, 0), (n, 2, 2), ()])),
            "y": draw(st.sampled_from([(n,), (max(n - 1, 0),), (n, 2)])),
        }
        arrays = {}
        for i, k in enumerate(keys):
            shape = shapes["X" if i == 0 else "y"]
            dtype = draw(st.sampled_from(["f8", "i8", "U3", "bool"]))
            fill = draw(cells)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")  # e.g. inf cast to int: junk on purpose
                    arrays[k] = np.full(shape, fill, dtype=dtype)
            except (ValueError, OverflowError, TypeError):
                arrays[k] = np.zeros(shape)
        np.savez(path, **arrays)
        return path
    rows = [[draw(cells) for _ in range(draw(st.integers(1, 4)))] for _ in range(n)]  # ragged
    header = draw(st.sampled_from([["a", "b", "y"], ["a", "a", "y"], [], ["", "é"]]))
    if kind == "csv":
        path = folder / "d.csv"
        text = ",".join(header) + "\n" if header else ""
        text += "".join(",".join(map(str, r)) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")
        return path
    import pandas as pd

    path = folder / "d.parquet"
    width = len(header) or 2
    frame = pd.DataFrame(
        [(list(r) + [0] * width)[:width] for r in rows],
        columns=[f"c{i}" for i in range(width)],
    ).astype(str if draw(st.booleans()) else object)
    try:
        frame.to_parquet(path)
    except Exception:  # what pyarrow cannot write, it writes as text
        frame.astype(str).to_parquet(path)
    return path


@fuzz(25)
@given(
    data=st.data(),
    extra=st.sampled_from(
        [[], ["--standardize"], ["--task=regression"], ["--target=y"], ["--dtype=float64"]]
    ),
)
def test_fuzz_data_files(tmp_path_factory, capsys, data, extra):
    d = tmp_path_factory.mktemp("data")
    path = data.draw(data_files(d))
    argv = ["train", *BASE, f"--data={path}", f"--log_path={d / 'runs'}", *extra]
    rc, err, secs = timed_main(argv, capsys)
    check(rc, err, secs, d / "runs")
    if rc == 2 and "--target" not in err and "setting" not in err:
        assert path.name in err, err  # a data error names the file


# --- the other commands ----------------------------------------------------------------------
@st.composite
def other_commands(draw, folder: Path) -> list[str]:
    (folder / "a_file").write_text("x")
    (folder / "empty_dir").mkdir(exist_ok=True)
    (folder / "fake_run").mkdir(exist_ok=True)
    (folder / "fake_run" / "result.json").write_text(draw(st.sampled_from(["{}", "[", "NaN"])))
    (folder / "fake_run" / "config.yaml").write_text(draw(st.sampled_from(["lr: x", "", "- 1"])))
    paths = st.sampled_from(
        [
            str(folder / "a_file"),
            str(folder / "empty_dir"),
            str(folder / "fake_run"),
            str(folder / "missing"),
            str(folder / ("n" * 300)),
            "activations",
            "",
        ]
    )
    command = draw(
        st.sampled_from(
            ["plot", "datasets", "gradcheck", "report", "resume", "config", "backprop", "predict"]
        )
    )
    if command == "backprop":  # a tiny run, so that a valid case finishes in a second
        argv = ["backprop", "--data=xor", "--epoch=3"]
        if draw(st.booleans()):
            argv.append(f"--step={draw(hostile)}")
        else:
            argv.append(f"--resume={draw(paths)}")
        if draw(st.booleans()):
            argv.append(f"--form={draw(hostile | st.sampled_from(['mean', 'lecture']))}")
        return argv
    if command == "predict":
        return ["predict", draw(paths), f"--data={draw(paths)}"]
    if command == "resume":
        return ["train", "--resume", draw(paths), "--quiet"]
    if command == "config":
        return ["train", "--config", draw(paths), "--quiet", "--plots=none", "--epoch=1"]
    if command == "plot":
        argv = ["plot", draw(paths)]
        if draw(st.booleans()):
            argv.append(f"--out={draw(paths)}")
        if draw(st.booleans()):
            argv.append(f"--format={draw(hostile | st.sampled_from(['png', 'svg']))}")
        return argv
    if command == "gradcheck":
        return ["gradcheck", f"--seed={draw(hostile)}"]
    if command == "report":
        # `report --out` is checked in tests/reports; here only the folder it reads, the
        # fake run with its broken result.json among them.
        return ["report", draw(paths.filter(lambda p: p != "activations"))]
    return ["datasets", *draw(st.lists(hostile.map(lambda v: f"--x={v}"), max_size=1))]


@fuzz(24)
@given(data=st.data())
def test_fuzz_other_commands(tmp_path_factory, capsys, data, monkeypatch):
    d = tmp_path_factory.mktemp("cmd")
    monkeypatch.chdir(d)  # `plot activations` writes ./plots
    argv = data.draw(other_commands(d))
    if argv[0] == "gradcheck" and _gradcheck_runs(argv[1]):
        return  # a valid seed runs the whole check (slow); tested in tests/test_gradcheck.py
    rc, err, secs = timed_main(argv, capsys)
    check(rc, err, secs, d / "runs")  # the fake run's result.json is broken on purpose


def _gradcheck_runs(flag: str) -> bool:
    try:
        return int(flag.split("=", 1)[1]) >= 0
    except ValueError:
        return False


# --- a sample through real processes, with their peak memory --------------------------------
@fuzz(5)
@given(pairs=flag_pairs(SETTINGS, max_size=2), command=st.sampled_from(["train", "sweep"]))
def test_fuzz_real_processes(tmp_path_factory, pairs, command):
    log = tmp_path_factory.mktemp("proc")
    pairs = [(n, v) for n, v in pairs if n != "log_path"]
    argv = [command, *BASE, *argv_of(pairs), f"--log_path={log}"]
    if command == "sweep":
        argv += ["--no_report", "--workers=1"]
    proc = cli_measured(*argv, timeout=120)
    check(proc.returncode, proc.stderr, 0.0, log)
    if proc.returncode == 2:
        assert proc.peak_mib < MAX_REFUSED_MIB, proc.peak_mib
        assert proc.seconds < 30, proc.seconds  # startup included, on a loaded machine
