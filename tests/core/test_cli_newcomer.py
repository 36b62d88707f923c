"""What a newcomer meets first: help that names its values, a closing line that says
where the record went, progress on a terminal, and examples that train what they say."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, assert_one_line_error
from mlplab.config import load_config
from mlplab.data.dataset import load_dataset

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
COMMANDS = ("train", "sweep", "report", "plot", "predict", "gradcheck", "datasets", "backprop")


def _help(command: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", command, "--help"],
        capture_output=True,
        text=True,
        env={**ENV, "COLUMNS": "100"},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_each_value_and_says_each_default_once(command: str) -> None:
    text = _help(command)
    # No bare placeholder: every value says what it is (N, LR, FILE, DIR, {a,b}, ...).
    assert not re.search(r"--\w+ V\b", text), text
    assert "(default: None)" not in text
    # One option's help at a time (it may wrap over lines): "default:" at most once.
    options = re.split(r"\n\s{2}(?=-)", "\n".join(text.split("\n\n")))
    for opt in options:
        assert opt.count("default:") <= 1, opt


def test_placeholders_say_what_the_value_is() -> None:
    text = " ".join(_help("train").split())
    for flag, meta in (
        ("--lr", "LR"),
        ("--epoch", "N"),
        ("--log_path", "DIR"),
        ("--data", "NAME|FILE"),
        ("--optim", "{sgd,rmsprop,adagrad,adam,adamw}"),
        ("--config", "FILE.yaml"),
    ):
        assert f"{flag} {meta}" in text, flag
    assert "--workers N" in " ".join(_help("sweep").split())


def test_train_ends_with_where_the_record_and_plots_are(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlplab",
            "train",
            *("--data", "xor", "--epoch", "50"),
            "--log_every",
            "0",
            "--log_path",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    (run_dir,) = [p.parent for p in tmp_path.glob("*/*/result.json")]
    assert last.startswith(f"mlplab: record in {run_dir}/"), last
    for name in ("result.json", "metrics.csv", "checkpoints/"):
        assert name in last and (run_dir / name).exists()
    # The TensorBoard file is named too: no help text said where `tensorboard` looks.
    assert "TensorBoard events" in last and list(run_dir.glob("events.out.tfevents.*"))
    plots = run_dir / "plots"
    n = len([p for p in plots.iterdir() if p.is_file()])
    assert n and f"{n} plots in {plots}/" in last


def test_sweep_ends_with_where_the_records_are(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlplab",
            "sweep",
            "--data",
            "xor",
            "--epoch",
            "20",
            "--seed",
            "0",
            "1",
            "--workers",
            "1",
            "--log_path",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    runs = sorted(p.parent for p in tmp_path.glob("exp/*/result.json"))
    assert len(runs) == 2 and all((r / "plots").is_dir() for r in runs)
    assert last.startswith(f"mlplab: 2 run records in {tmp_path / 'exp'}/"), last
    assert "plots/ in 2 of them" in last


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[str, int]:
    """``python -m mlplab ARGS`` with stdout on a pseudo-terminal: its output and status."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout, stderr and stdin are the terminal
        env = {k: v for k, v in ENV.items() if k != "CI"}
        env["TERM"] = "xterm"
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "mlplab", *args], env)
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    return out.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


# One epoch of 400 minibatch steps: validation comes once, at the end, so only steps can
# show that the run is moving.
ONE_LONG_EPOCH = [
    "train",
    *("--data", "moons", "--n_samples", "4000", "--batch_size", "8", "--epoch", "1"),
    *("--log_every", "0", "--plots", "none"),
]


def test_log_every_0_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    out, status = _on_a_terminal([*ONE_LONG_EPOCH, "--log_path", str(tmp_path)], tmp_path)
    assert status == 0, out
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)  # the terminal's colour codes out
    steps = [int(m) for m in re.findall(r"step\s+(\d+)/400", plain)]
    assert steps and max(steps) > 0, out  # a bar over the 400 steps that moved


def test_log_every_0_prints_no_progress_into_a_pipe(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", *ONE_LONG_EPOCH, "--log_path", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**ENV, "TERM": "xterm"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout and "/400" not in proc.stdout


def test_example_architectures_are_what_their_comments_say() -> None:
    """A comment naming layer widths (64-256-128-10) is the model the file trains."""
    checked = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        comments = " ".join(ln for ln in path.read_text().splitlines() if ln.startswith("#"))
        for widths in re.findall(r"\b\d+(?:-\d+){2,}\b", comments):
            cfg = load_config(path)
            data = load_dataset(cfg.data, split=cfg.split, seed=cfg.data_seed)
            built = [data.n_features, *cfg.hidden_widths(), data.n_outputs]
            assert "-".join(map(str, built)) == widths, (path.name, built)
            checked += 1
    assert checked  # digits_mlp.yaml names its widths


def test_a_folder_its_user_may_not_search_is_one_line_and_exit_2() -> None:
    """Behind a folder of mode 000, the data file, the log_path and a run to resume gave
    "Permission denied (...); the run stopped" with exit 1: Python's Path.is_file raises
    there rather than answer False, and the checks took that for a failure mid-run."""
    import shutil
    import tempfile

    import mlplab
    from conftest import assert_one_line_error

    as_nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    prefix = as_nobody if os.geteuid() == 0 else []  # root searches any folder
    if prefix and subprocess.run([*prefix, sys.executable, "-c", "import mlplab"]).returncode:
        pytest.skip("user nobody cannot run this Python")
    base = Path(tempfile.mkdtemp(prefix="mlplab-closed-"))
    closed = base / "closed"
    try:
        base.chmod(0o777)
        closed.mkdir()
        (closed / "x.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
        run_dir = mlplab.train(data="xor", epoch=2, plots="none", verbose=False,
                               log_path=str(closed / "runs"), stop=lambda: True).run_dir  # fmt: skip
        closed.chmod(0)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            cmd = [*prefix, sys.executable, "-m", "mlplab", *args]
            return subprocess.run(cmd, capture_output=True, text=True, cwd=base, timeout=120)

        out = ["--log_path", str(base / "runs"), "--plots", "none"]
        proc = run("train", "--data", "closed/x.csv", *out)
        assert_one_line_error(proc, "data file 'closed/x.csv' cannot be read (Permission denied)")
        proc = run("train", "--data", "xor", "--log_path", "closed/runs")
        assert_one_line_error(proc, "setting 'log_path': 'closed/runs' is not writable")
        proc = run("train", "--resume", str(run_dir))
        assert_one_line_error(proc, f"--resume {str(run_dir)!r} cannot be read (Permission")
        assert not (base / "runs").exists()
        # The run readable, its checkpoints/ not: the checkpoint named, not "the run stopped".
        closed.chmod(0o755)
        (run_dir / "checkpoints").chmod(0)
        proc = run("train", "--resume", str(run_dir))
        assert_one_line_error(proc, "last.safetensors' cannot be read (Permission denied)")
    finally:
        closed.chmod(0o755)
        for folder in (closed / "runs").rglob("checkpoints"):
            folder.chmod(0o755)
        shutil.rmtree(base)


def test_a_run_folder_whose_record_or_config_is_a_fifo_is_refused_not_waited_on(tmp_path):
    """A config.yaml that is a FIFO blocked `predict`, `train --resume` and the same
    command again for ever (its signals retried the open); a result.json so did `train`."""
    import mlplab
    from conftest import assert_one_line_error

    kw = dict(data="xor", epoch=2, plots="none", verbose=False, log_path=str(tmp_path))
    run_dir = mlplab.train(**kw, stop=lambda: True).run_dir
    (run_dir / "config.yaml").unlink()
    os.mkfifo(run_dir / "config.yaml")
    for args in (["predict", str(run_dir), "--data", "xor"], ["train", "--resume", str(run_dir)]):
        proc = subprocess.run([sys.executable, "-m", "mlplab", *args], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert_one_line_error(proc, "is not a run directory (its config.yaml is not a file)")
    (run_dir / "config.yaml").unlink()
    (run_dir / "result.json").unlink()
    os.mkfifo(run_dir / "result.json")
    from mlplab.runs.record import read_result

    assert read_result(run_dir) is None


def test_mlplab_with_no_command_shows_the_commands_and_fails(run_cli) -> None:
    """A script that runs `mlplab $CMD` with CMD empty must not pass as if it had run."""
    from conftest import assert_one_line_error

    line = assert_one_line_error(run_cli(), "give a command: train, sweep, report", "--help")
    assert "predict" in line and "plot" in line


def test_a_lab_config_run_outside_a_clone_says_where_the_configs_are(run_cli, tmp_path):
    """From an installed wheel, `--config examples/xor_nn.yaml` in a folder without the
    configs said "run from a clone", where copying examples/ does as well."""
    proc = run_cli("train", "--config", "examples/xor_nn.yaml", cwd=tmp_path)
    assert_one_line_error(
        proc, "the lab configs are in examples/ of mlplab's repository and source distribution,"
        " not in an installed package: run from a clone, or copy its examples/ folder here"
    )  # fmt: skip
