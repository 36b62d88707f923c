"""``mlplab sweep`` on the command line: worker processes, summary, report; bad values."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import assert_one_line_error
from mlplab.cli import main
from mlplab.sweeps.local import STOP_GRACE_S


def test_cli_sweep_with_two_workers_writes_runs_and_report(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    args = [
        "sweep", "--data", "xor", "--n_layer", "1", "--hid_dim", "2", "4",
        "--act", "sigmoid", "tanh", "--lr", "1", "--epoch", "60", "--engine", "numpy",
        "--log_every", "0", "--plots", "none", "--log_path", str(log),
        "--exp_name", "cli", "--workers", "2",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 runs: 4 trained, 0 skipped, 0 failed/diverged" in proc.stdout
    assert len(list((log / "cli").glob("cli-*/result.json"))) == 4
    assert len(list((log / "cli").glob("sweep-*.yaml"))) == 1
    assert (log / "cli" / "report.html").is_file() and (log / "cli" / "results.csv").is_file()
    assert "configs ranked by val_acc" in proc.stdout

    # The same command again: everything is skipped (in-process, --quiet, no report).
    code = main([*args, "--quiet", "--no_report"])
    assert code == 0


@pytest.mark.parametrize(
    ("code", "fix", "status"),
    [
        ("ENOSPC", " (the disk is full)", 1),
        ("EMFILE", " (raise `ulimit -n`, or give --workers 1)", 1),
        ("EACCES", " (the folder writable again)", 2),
    ],
)
def test_a_sweep_stopped_by_the_machines_limits_says_what_comes_next(
    tmp_path: Path, capsys, monkeypatch, code: str, fix: str, status: int
) -> None:
    """A full disk, too few open files or a folder made read-only in the sweep's own
    process printed the bare errno line: no word of its runs' state, nor of what to do."""
    import errno

    import mlplab.sweeps.api as api

    def limited(spec, folder):
        raise OSError(getattr(errno, code), "the machine's limit", str(folder / "sweep.yaml"))

    monkeypatch.setattr(api, "write_spec", limited)
    args = ["sweep", "--data", "xor", "--epoch", "2", "--lr", "0.1", "0.5", "--plots", "none",
            "--workers", "1", "--log_path", str(tmp_path)]  # fmt: skip
    assert main(args) == status
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.endswith(
        f"; the sweep stopped: once that is mended{fix}, the same command continues its runs "
        "from their checkpoints and trains the rest"
    ), line


def test_a_sweep_of_one_run_speaks_of_one(tmp_path: Path, capsys) -> None:
    args = [
        "sweep",
        "--data",
        "xor",
        "--epoch",
        "2",
        "--plots",
        "none",
        "--log_path",
        str(tmp_path),
    ]
    assert main([*args, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 run: 1 trained, 0 skipped" in out and "1 config ranked by" in out, out


def test_a_quiet_sweep_names_its_failed_runs_and_why_on_stderr(tmp_path: Path, capsys) -> None:
    """A quiet sweep with a diverged run printed its reason nowhere (the run's line went to
    stdout, unprinted with --quiet), and a script's `2> err` was empty."""
    args = ["sweep", "--data", "sinlog", "--lr", "0.01", "10", "--epoch", "5", "--plots",
            "none", "--log_every", "0", "--log_path", str(tmp_path), "--workers", "1"]  # fmt: skip
    assert main([*args, "--quiet", "--no_report"]) == 0  # one run finished
    out, err = capsys.readouterr()
    assert out.splitlines()[-1].startswith("2 runs: 1 trained, 0 skipped, 1 failed/diverged")
    (line,) = err.splitlines()
    (diverged,) = [r for r in _records(tmp_path, "exp") if r["status"] == "diverged"]
    assert line == f"mlplab: {diverged['run_id']} diverged: {diverged['message']}"
    assert "loss became inf" in line


def test_skipped_runs_kept_without_the_plots_asked_now_are_named(tmp_path: Path, capsys) -> None:
    """A sweep run again with --plots png after --plots none skipped every finished run
    and drew nothing, without a word; mlplab train says so of its kept run."""
    args = ["sweep", "--data", "xor", "--epoch", "2", "--seed", "0", "1", "--log_every", "0"]
    args += ["--log_path", str(tmp_path), "--exp_name", "s", "--workers", "1", "--no_report"]
    assert main([*args, "--plots", "none"]) == 0
    capsys.readouterr()
    assert main([*args, "--plots", "png", "--snapshot_every", "1"]) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("mlplab: finished runs were kept as they were, without --plots png")
    assert "(2 runs) or --snapshot_every 1 (2 runs); --rerun trains them again" in line
    assert not list(tmp_path.glob("s/*/plots"))
    (run_dir,) = [p for p in tmp_path.glob("s/s-*") if str(p) in line]
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "plots" / "loss.png").is_file()
    assert main([*args, "--plots", "png"]) == 0  # one of them has plots now
    assert "without --plots png (1 run); --rerun" in capsys.readouterr().err
    assert main([*args, "--plots", "none"]) == 0  # nothing asked that a run lacks
    assert capsys.readouterr().err == ""


def test_cli_bad_axis_value_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys
) -> None:
    log = tmp_path / "runs"
    code = main(["sweep", "--data", "xor", "--lr", "0.1", "-1", "--log_path", str(log)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "'lr'" in err and err.startswith("mlplab:")
    assert not log.exists()


@pytest.mark.parametrize("option", [["--group_size", "0"], ["--workers", "0"]])
def test_a_bad_sweep_option_writes_nothing(tmp_path: Path, capsys, option) -> None:
    """--group_size 0 was refused once the sweep's spec and lock file were written."""
    log = tmp_path / "runs"
    code = main(["sweep", "--data", "xor", "--lr", "0.1", "0.2", "--log_path", str(log), *option])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and option[0] in err, err
    assert "at least 1" in err
    assert not log.exists()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("lr: [0.1, fast]", "setting 'lr': 'fast' is not a number"),
        ("bogus: 2", "unknown setting 'bogus'"),
        ("prune: 3", "'prune' is no setting (an argument of mlplab.sweep() in Python)"),
        # A list setting's lists are no axis: said so, as for flags (not a number error).
        ("split: [[0.8, 0.1, 0.1], [0.6, 0.2, 0.2]]", "its one value is a list"),
    ],
)
def test_a_bad_setting_in_a_sweeps_file_names_the_file(
    tmp_path: Path, capsys, text: str, needle: str
) -> None:
    """It said "sweep: ..." whichever file held it; 'prune' in a file was answered with
    Python advice that contradicted itself for a sweep."""
    path = tmp_path / "s.yaml"
    path.write_text(f"data: xor\nepoch: 1\n{text}\n")
    log = tmp_path / "runs"
    code = main(["sweep", str(path), "--log_path", str(log)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("mlplab: ") and needle in err
    if "[[" not in text:  # a value of the file: the file is named
        assert err.startswith(f"mlplab: {path}: ")
    assert not log.exists()
    # A flag that overrides the file's value is the flags' to check: the sweep runs.
    if text.startswith("lr"):
        code = main(["sweep", str(path), "--lr", "0.1", "--log_path", str(log), "--quiet"])
        assert code == 0


@pytest.mark.parametrize("command", ["sweep", "train"])
def test_an_exp_name_starting_with_a_dot_trains_nothing(run_cli, tmp_path: Path, command) -> None:
    """`sweep --exp_name .hs` trained both runs into hidden folders, then its report said
    'no runs (result.json files) under rz2/.hs' and exit 2; `train` hid its run the same way."""
    log = tmp_path / "rz2"
    lrs = ["0.1", "0.2"] if command == "sweep" else ["0.1"]
    proc = run_cli(
        command, "--exp_name", ".hs", "--data", "xor", "--lr", *lrs, "--epoch", "3",
        "--log_path", log, "--plots", "none",
    )  # fmt: skip
    assert_one_line_error(proc, "setting 'exp_name'", "starting with '.'", "(got '.hs')")
    assert not log.exists()


def test_axes_keep_the_order_the_flags_were_typed_in(tmp_path: Path, capsys) -> None:
    """The sweep's table lists its axes as typed: lr first here, though optim is declared
    before lr (the Python API keeps its keyword order the same way)."""
    log = tmp_path / "runs"
    args = ["--data", "xor", "--epoch", "2", "--plots", "none", "--log_path", str(log)]
    code = main(["sweep", *args, "--lr", "0.1", "0.5", "--optim", "sgd", "adam", "--quiet"])
    assert code == 0, capsys.readouterr().err
    header = (log / "exp" / "summary.csv").read_text().splitlines()[0].split(",")
    assert header.index("lr") < header.index("optim")
    code = main(["sweep", *args, "--optim", "sgd", "adam", "--lr", "0.1", "0.5", "--quiet"])
    header = (log / "exp" / "summary.csv").read_text().splitlines()[0].split(",")
    assert code == 0 and header.index("optim") < header.index("lr")


def test_a_bare_switch_means_true_as_in_train(tmp_path: Path, capsys) -> None:
    """`--use_bn` alone turns batch norm on in a sweep as in `mlplab train`, in the middle
    of the flags or last; `--standardize` alone likewise."""
    log = tmp_path / "runs"
    args = ["--data", "xor", "--epoch", "2", "--plots", "none", "--log_path", str(log)]
    code = main(["sweep", *args, "--standardize", "--lr", "0.1", "0.5", "--use_bn", "--quiet"])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(p.read_text()) for p in (log / "exp").glob("exp-*/result.json")]
    assert len(records) == 2
    assert all(r["use_bn"] is True and r["standardize"] is True for r in records)


def test_a_config_file_after_a_flag_of_several_values_is_named(tmp_path: Path, capsys) -> None:
    """argparse gives the file to --lr; the line says so, not that it is not a number."""
    log = tmp_path / "runs"
    cfg = tmp_path / "xor.yaml"
    cfg.write_text(f"data: xor\nlog_path: {log}\n")
    code = main(["sweep", "--lr", "0.1", "1", str(cfg)])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and not log.exists()
    assert "setting 'lr'" in line and f"`mlplab sweep {cfg} --lr ...`" in line, line


@pytest.mark.parametrize(
    "option",
    [
        ["--address", "auto"],
        ["--cpus_per_task", "2"],
        ["--gpus_per_task", "0.5"],
        ["--cpus_per_task", "0"],  # read as the default 1, it passed without a word
    ],
)
def test_ray_options_without_ray_are_one_line(tmp_path: Path, capsys, option) -> None:
    log = tmp_path / "runs"
    code = main(["sweep", "--data", "xor", "--lr", "0.1", "1", "--log_path", str(log), *option])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and not log.exists()
    assert line == f"mlplab: {option[0]} applies only to --backend ray (the backend is local)"


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["--gpus_per_task", "inf"], "--gpus_per_task: must be a finite number (got inf)"),
        (["--cpus_per_task", "nan"], "--cpus_per_task: must be a finite number (got nan)"),
        (["--cpus_per_task", "-1"], "--cpus_per_task: must be at least 0"),
    ],
)
def test_bad_ray_options_are_one_line_before_anything_starts(
    tmp_path: Path, capsys, option, needle
) -> None:
    """Checked before Ray is imported or started and before the sweep writes its spec (inf
    was an OverflowError traceback; nan was refused by a Ray cluster started for it)."""
    log = tmp_path / "runs"
    args = ["sweep", "--data", "xor", "--lr", "0.1", "1", "--log_path", str(log)]
    code = main([*args, "--backend", "ray", *option])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and not log.exists()
    assert line == f"mlplab: {needle}" or line.startswith(f"mlplab: {needle} "), line


def test_a_gpu_the_machine_lacks_is_one_line_before_any_run(tmp_path: Path, capsys) -> None:
    """Each run failed on its own (recorded `failed`, a report written, exit 1); now the
    sweep says it once, as `mlplab train` does, and writes nothing."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    log = tmp_path / "runs"
    args = ["sweep", "--data", "xor", "--lr", "0.1", "1", "--engine", "torch", "--device", "cuda"]
    code = main([*args, "--log_path", str(log)])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and not log.exists()
    assert line.startswith(
        "mlplab: setting 'device': 'cuda' asked for, but torch sees no CUDA device; use cpu or auto"
    )
    if torch.version.cuda is None:  # a CPU build of torch: the line names it
        assert line.endswith(
            f"(torch {torch.__version__} is a CPU build: see the README's GPU install)"
        )


def _long_sweep(
    log: Path, exp_name: str, sigint_ignored: bool = False, workers: int = 2, nohup: bool = False
) -> subprocess.Popen[str]:
    """``mlplab sweep`` of 8 xor configs (two stacks, two workers) that would train for
    hours, in its own process group as a shell starts a command; returns once every
    run's record is open (the stacks are training). ``sigint_ignored``: started with
    SIGINT ignored, as a script's background job is. ``workers=1``: one stack, trained
    in the sweep's process. ``nohup``: started with SIGHUP ignored, as nohup starts it."""
    import time

    args = [
        "sweep", "--data", "xor", "--n_layer", "1", "--hid_dim", "2", "--act", "sigmoid",
        "--lr", "0.5", "1", "--seed", "0", "1", "2", "3", "--epoch", "100000000",
        "--engine", "numpy", "--log_every", "0", "--validate_every", "1000",
        "--plots", "none", "--log_path", str(log), "--exp_name", exp_name, "--workers", str(workers),
        "--no_report",
    ]  # fmt: skip
    proc = _started(args, sigint_ignored, nohup)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(log.glob(f"{exp_name}/*/result.json"))) < 8:
        time.sleep(0.05)
    time.sleep(1.0)
    return proc


def _started(
    args: list[str], sigint_ignored: bool = False, nohup: bool = False
) -> subprocess.Popen[str]:
    """``mlplab ARGS`` in its own process group, as a shell starts a command."""
    import signal

    def ignore() -> None:
        for sig, on in ((signal.SIGINT, sigint_ignored), (signal.SIGHUP, nohup)):
            if on:
                signal.signal(sig, signal.SIG_IGN)
        if not nohup:  # a suite started by nohup: its hangups are the tests' to send
            signal.signal(signal.SIGHUP, signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "mlplab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=ignore,
    )


def _stopped_sweep(
    log: Path, exp_name: str, send: Callable[[int], None]
) -> tuple[subprocess.Popen[str], str, float]:
    """A long sweep, stopped by ``send(pid)``: the process, its stderr, and the seconds it
    took to exit after the signal."""

    proc = _long_sweep(log, exp_name)
    err, took = _stop(proc, send)
    return proc, err, took


def _stop(proc: subprocess.Popen[str], send: Callable[[int], None]) -> tuple[str, float]:
    """``send(pid)`` to a started sweep: its stderr, and the seconds it took to exit."""
    import os
    import signal
    import time

    try:
        sent = time.monotonic()
        send(proc.pid)
        _, err = proc.communicate(timeout=60)
        return err, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_ctrl_c_stops_a_stacked_sweep_at_once_with_resumable_records(tmp_path: Path) -> None:
    """A real Ctrl-C to the process group: the stacks stop at an epoch's end, not after a
    grace period, and every run is recorded `interrupted` with a checkpoint to resume."""
    import json
    import os
    import signal

    log = tmp_path / "runs"
    proc, err, took = _stopped_sweep(log, "stop", lambda pid: os.killpg(pid, signal.SIGINT))
    assert proc.returncode == -signal.SIGINT, err
    assert took < STOP_GRACE_S  # the pool's grace period (then SIGTERM) is not waited out
    assert "Traceback" not in err and "8 runs remain" in err
    records = [json.loads(p.read_text()) for p in log.glob("stop/*/result.json")]
    assert len(records) == 8
    for record in records:
        assert record["status"] == "interrupted" and record["epochs_run"] > 0
        assert record["message"].startswith("interrupted by SIGINT at step")
        assert "mlplab train --resume" in record["message"]
    assert len(list(log.glob("stop/*/checkpoints/last.safetensors"))) == 8


def test_a_sweep_started_with_sigint_ignored_stops_on_it(tmp_path: Path) -> None:
    """A script's background job inherits SIGINT ignored: the group's SIGINT stopped the
    workers, while the sweep itself went on and exited 0 with its runs interrupted."""
    import os
    import signal

    log = tmp_path / "runs"
    proc = _long_sweep(log, "bg", sigint_ignored=True)
    err, _ = _stop(proc, lambda pid: os.killpg(pid, signal.SIGINT))
    assert proc.returncode == -signal.SIGINT, err
    assert "Traceback" not in err and "8 runs remain" in err
    assert sorted(r["status"] for r in _records(log, "bg")) == ["interrupted"] * 8


def test_a_python_sweep_started_with_sigint_ignored_stops_on_it(tmp_path: Path) -> None:
    """`python search.py &` from a script: mlplab.sweep with workers inherited SIGINT
    ignored, and a `kill -INT` stopped its workers while it trained on to exit 0."""
    import os
    import signal
    import time

    log = tmp_path / "runs"
    script = (
        "import mlplab\n"
        f"r = mlplab.sweep(data='xor', n_layer=1, hid_dim=2, act='sigmoid', lr=[0.5, 1],"
        f" seed=[0, 1, 2, 3], epoch=100000000, engine='numpy', log_every=0,"
        f" validate_every=1000, plots='none', log_path={str(log)!r}, exp_name='py',"
        f" workers=2, report=False, verbose=False, handle_signals=True)\n"
        "print('exit_code', r.exit_code)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(log.glob("py/*/result.json"))) < 8:
        time.sleep(0.05)
    time.sleep(1.0)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0 and "exit_code 130" in out, err
    # Told as a script's call, not as `mlplab sweep` ("Run the same command again").
    assert "8 runs remain. The same sweep() call again trains only those." in err, err
    assert sorted(r["status"] for r in _records(log, "py")) == ["interrupted"] * 8


def test_a_sweep_started_by_nohup_outlives_its_terminal(tmp_path: Path) -> None:
    """`nohup mlplab sweep ... &`, then a logout (SIGHUP to the group): mlplab's own
    handler stopped the sweep and its workers, exit 129, the night's training lost."""
    import os
    import signal
    import time

    log = tmp_path / "runs"
    proc = _long_sweep(log, "nohup", nohup=True)
    os.killpg(proc.pid, signal.SIGHUP)
    time.sleep(3.0)
    assert proc.poll() is None, proc.communicate()[1]
    assert sorted(r["status"] for r in _records(log, "nohup")) == ["running"] * 8
    err, _ = _stop(proc, lambda pid: os.killpg(pid, signal.SIGTERM))  # it still stops so
    assert proc.returncode == 143, err
    assert sorted(r["status"] for r in _records(log, "nohup")) == ["interrupted"] * 8


def _sigint_twice(gap_s: float, then_group: bool) -> Callable[[int], None]:
    """SIGINT to the sweep's process, then after ``gap_s`` again: to its whole group, or
    to it alone."""
    import os
    import signal
    import time

    def send(pid: int) -> None:
        os.kill(pid, signal.SIGINT)
        time.sleep(gap_s)
        (os.killpg if then_group else os.kill)(pid, signal.SIGINT)

    return send


def _records(log: Path, exp_name: str) -> list[dict]:
    import json

    return [json.loads(p.read_text()) for p in log.glob(f"{exp_name}/*/result.json")]


def test_one_stop_signalled_twice_is_not_a_second_ctrl_c(tmp_path: Path) -> None:
    """`timeout -s INT` signals the sweep's process, then its whole group: the sweep took
    the second SIGINT for a second Ctrl-C, killed its workers mid-stop, and left their
    runs recorded `running`."""
    log = tmp_path / "runs"
    proc, err, _ = _stopped_sweep(log, "twice", _sigint_twice(0.3, then_group=True))
    assert proc.returncode == -signal.SIGINT, err
    assert "Traceback" not in err and "8 runs remain" in err
    records = _records(log, "twice")
    assert sorted(r["status"] for r in records) == ["interrupted"] * 8
    assert all("mlplab train --resume" in r["message"] for r in records)


def test_a_second_ctrl_c_after_the_stop_keeps_the_summary(tmp_path: Path) -> None:
    """Ctrl-C twice, the second once the workers had stopped: it landed in the summary
    ("mlplab: interrupted") or in a worker's close (a traceback, killed by SIGINT)."""
    log = tmp_path / "runs"
    proc, err, _ = _stopped_sweep(log, "again", _sigint_twice(1.3, then_group=True))
    assert proc.returncode == -signal.SIGINT, err
    assert "Traceback" not in err and "8 runs remain" in err
    assert sorted(r["status"] for r in _records(log, "again")) == ["interrupted"] * 8


def test_an_interrupted_sweep_in_process_gives_back_the_callers_ctrl_c(tmp_path: Path) -> None:
    """The sweep ignores Ctrl-C from its stop until it has said so; a kernel or a script
    calling sweep() gets its own handler back, or could no longer be interrupted."""
    import os
    import signal
    import threading
    import time

    from mlplab.sweeps.api import sweep

    def stop_once_training() -> None:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("s/*/result.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    sender = threading.Thread(target=stop_once_training)
    sender.start()
    try:
        result = sweep(
            data="xor", hid_dim=[2, 4], epoch=100_000_000, validate_every=1000, log_every=0,
            plots="none", log_path=str(tmp_path), exp_name="s", workers=2, verbose=False,
            handle_signals=True,
        )  # fmt: skip
    finally:
        sender.join()
    assert result.interrupted and result.exit_code == 130
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_to_the_sweep_alone_stops_its_workers_at_once(tmp_path: Path) -> None:
    """`kill -INT PID` (a job runner, a kernel that signals its own process only): the
    workers trained on through the grace period and were then terminated; now they are
    told at once, and every run is recorded `interrupted` with a checkpoint. A second
    SIGINT afterwards changes nothing."""
    log = tmp_path / "runs"
    proc, err, took = _stopped_sweep(log, "alone", _sigint_twice(1.5, then_group=False))
    assert proc.returncode == -signal.SIGINT and took < STOP_GRACE_S, err
    assert "Traceback" not in err and "8 runs remain" in err
    records = _records(log, "alone")
    assert sorted(r["status"] for r in records) == ["interrupted"] * 8
    assert all("mlplab train --resume" in r["message"] for r in records)
    # The workers were told of a SIGINT, and their runs name it (they named SIGTERM, the
    # signal the sweep passed the stop on with).
    assert all(r["message"].startswith("interrupted by SIGINT at step") for r in records)
    assert len(list(log.glob("alone/*/checkpoints/last.safetensors"))) == 8


@pytest.mark.parametrize(("name", "exit_code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_to_the_sweep_alone_stops_it_as_ctrl_c_does(
    tmp_path: Path, name: str, exit_code: int
) -> None:
    """`kill PID` (SIGTERM to the sweep's process, not its group, as a scheduler may send
    it): the workers are told at once, every run is recorded `interrupted` with a
    checkpoint, and the sweep says what remains, rather than vanishing without a word.
    SIGHUP (a closed terminal) had ended the sweep with no word at all."""
    import json
    import os
    import signal

    log = tmp_path / "runs"
    sig = getattr(signal, name)
    proc, err, took = _stopped_sweep(log, "term", lambda pid: os.kill(pid, sig))
    assert proc.returncode == exit_code, err  # 128 + the signal, as `mlplab train` exits
    assert took < STOP_GRACE_S  # no grace period: no signal had reached the workers
    assert "Traceback" not in err and "8 runs remain" in err
    records = [json.loads(p.read_text()) for p in log.glob("term/*/result.json")]
    assert sorted(r["status"] for r in records) == ["interrupted"] * 8
    assert all(r["message"].startswith(f"interrupted by {name} at step") for r in records)
    assert len(list(log.glob("term/*/checkpoints/last.safetensors"))) == 8


@pytest.mark.parametrize(
    # SIGINT: killed by it, as Ctrl-C leaves a command (130 to a shell), so that a
    # script's loop stops; SIGTERM and SIGHUP: 128 + the signal's number.
    ("name", "exit_code"),
    [("SIGINT", -signal.SIGINT), ("SIGTERM", 143), ("SIGHUP", 129)],
)
def test_a_signal_to_an_in_process_sweep_is_named_in_its_runs(
    tmp_path: Path, name: str, exit_code: int
) -> None:
    """`kill -INT PID` or `kill PID` to a sweep training its stack in its own process
    (--workers 1): each run's record and progress line name that signal, and the exit
    status is 128 + its number (SIGINT: killed by it)."""
    import os
    import signal

    log = tmp_path / "runs"
    proc = _long_sweep(log, "own", workers=1)
    err, _ = _stop(proc, lambda pid: os.kill(pid, getattr(signal, name)))
    assert proc.returncode == exit_code, err
    assert "Traceback" not in err and "8 runs remain" in err
    records = _records(log, "own")
    assert sorted(r["status"] for r in records) == ["interrupted"] * 8
    assert all(r["message"].startswith(f"interrupted by {name} at step") for r in records)


def test_a_killed_sweep_takes_its_workers_with_it(tmp_path: Path) -> None:
    """SIGKILL to the sweep's process alone: its workers do not train on, orphaned; they
    stop as for SIGTERM, each run recorded `interrupted` with a checkpoint."""
    import json
    import os
    import signal
    import time

    log = tmp_path / "runs"
    proc = _long_sweep(log, "kill")
    workers: list[int] = []
    try:
        workers = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent_of(int(p.name)) == proc.pid and _is_pool_worker(p)
        ]
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), "the workers train on, orphaned"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    records = [json.loads(p.read_text()) for p in log.glob("kill/*/result.json")]
    assert sorted(r["status"] for r in records) == ["interrupted"] * 8
    assert len(list(log.glob("kill/*/checkpoints/last.safetensors"))) == 8


def test_ctrl_c_while_the_workers_start_stops_the_sweep_at_once(tmp_path: Path) -> None:
    """A Ctrl-C in the sweep's first second, while its workers still import: they ignored
    it, trained their groups, and the sweep waited out its grace period before SIGTERM."""
    import json
    import os
    import signal
    import time

    log = tmp_path / "runs"
    args = [
        "sweep", "--data", "xor", "--hid_dim", "2", "--lr", "0.5", "1", "--seed", "0", "1",
        "--epoch", "100000000", "--log_every", "0", "--validate_every", "1000",
        "--plots", "none", "--log_path", str(log), "--exp_name", "early", "--workers", "2",
        "--no_report",
    ]  # fmt: skip
    proc = _started(args)

    def importing() -> bool:
        """A worker has begun its imports (NumPy is mapped), before any run has started."""
        for p in Path("/proc").iterdir():
            if p.name.isdigit() and _parent_of(int(p.name)) == proc.pid and _is_pool_worker(p):
                try:
                    if b"numpy" in (p / "maps").read_bytes():
                        return True
                except OSError:
                    pass
        return False

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not importing():
        time.sleep(0.01)
    trained = list(log.glob("early/*/result.json"))
    # As a terminal's Ctrl-C reaches the group (also the stop of a failed wait).
    err, took = _stop(proc, lambda pid: os.killpg(pid, signal.SIGINT))
    assert not trained, "the workers were already training"
    assert proc.returncode == -signal.SIGINT, err
    assert took < STOP_GRACE_S, (took, err)
    assert "Traceback" not in err and "runs remain" in err
    records = [json.loads(p.read_text()) for p in log.glob("early/*/result.json")]
    assert all(r["status"] == "interrupted" for r in records), records


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _is_pool_worker(proc_dir: Path) -> bool:
    try:
        return b"mlplab.sweeps.worker" in (proc_dir / "cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_random_samples_that_repeat_a_config_are_noted(tmp_path: Path, capsys) -> None:
    """--trials 3 over two lr values trains at most two runs; it said "1 runs" and nothing
    of the samples it dropped."""
    args = ["sweep", "--search", "random", "--trials", "6", "--data", "xor", "--lr", "0.1", "0.2"]
    args += ["--epoch", "2", "--plots", "none", "--log_path", str(tmp_path), "--workers", "1"]
    assert main([*args, "--no_report"]) == 0
    out = capsys.readouterr().out
    runs = len(list(tmp_path.glob("exp/*/result.json")))
    assert runs in (1, 2)
    assert f"{6 - runs} of the 6 random samples drew a config already drawn; {runs} distinct" in out


def test_a_sweep_notes_settings_that_some_runs_do_not_use(tmp_path: Path, capsys) -> None:
    """`--optim adam sgd --mm 0 0.9` trained adam twice, the same model, without a word."""
    args = ["sweep", "--data", "xor", "--optim", "adam", "sgd", "--mm", "0", "0.9", "--epoch", "2"]
    args += ["--log_every", "0", "--plots", "none", "--no_report", "--log_path", str(tmp_path)]
    assert main(args) == 0
    assert (
        "mlplab: note: not used by some runs: --mm 0.9 (momentum is sgd's and rmsprop's) in 1 "
        "of 4 runs (runs that differ only in such settings train the same model)"
    ) in capsys.readouterr().out


def test_a_sweep_notes_optimizer_settings_that_train_otherwise_than_named(
    tmp_path: Path, capsys
) -> None:
    """A sweep of adamw and adam showed equal numbers in every column: its adamw had no
    l2_coef, which `mlplab train` notes, and the sweep did not; nor an lr schedule spent
    by epoch 4 of 10."""
    args = ["sweep", "--data", "xor", "--optim", "adamw", "adam", "--lr_schedule", "exponential"]
    args += ["--epoch", "10", "--log_every", "0", "--plots", "none", "--no_report"]
    assert main([*args, "--log_path", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "by epoch 4 of 10 it is a thousandth of its start or less" in out
    assert "(in 2 of 2 runs)" in out
    assert "--optim adamw with l2_coef 0 trains as adam" in out and "(in 1 of 2 runs)" in out


@pytest.mark.parametrize("workers", [1, 2])
def test_the_progress_counts_each_group_as_it_ends(tmp_path: Path, workers: int) -> None:
    """Two groups (one of 200 epochs, one that would train for hours): the progress line
    of each run of the short group comes while the long group has yet to end, in the
    sweep's process and with worker processes alike; the sweep is then stopped."""
    import os
    import signal

    log = tmp_path / "runs"
    args = [
        "sweep", "--data", "xor", "--hid_dim", "2", "--act", "sigmoid", "--lr", "0.5",
        "--seed", "0", "1", "--epoch", "200", "100000000", "--engine", "numpy",
        "--log_every", "0", "--validate_every", "100", "--plots", "none",
        "--log_path", str(log), "--exp_name", "bar", "--workers", str(workers), "--no_report",
    ]  # fmt: skip
    proc = _started(args)
    try:
        assert proc.stdout is not None
        # A log's first line says what trains, how and where (it had said nothing yet).
        how = (
            "2 stacked models, in this process"
            if workers == 1
            else "4 stacked models, 2 at a time in worker processes"  # a stack per worker
        )
        assert (
            proc.stdout.readline().strip() == f"mlplab: sweep of 4 runs as {how} -> {log / 'bar'}/"
        )
        seen = [proc.stdout.readline().strip() for _ in range(2)]
        # Each counted by its number as it ended, out of the four runs to train.
        assert [line.split(" ", 1)[0] for line in seen] == ["[1/4]", "[2/4]"], seen
        assert all(line.split()[2] == "finished" for line in seen), seen
        assert proc.poll() is None  # the long group trains on
        long_runs = [r for r in _records(log, "bar") if r["epoch"] == 100000000]
        assert all(r["status"] == "running" for r in long_runs)
    finally:
        err, _ = _stop(proc, lambda pid: os.killpg(pid, signal.SIGINT))
    assert proc.returncode == -signal.SIGINT, err


def test_an_address_of_no_form_is_refused_before_anything_is_written(
    tmp_path: Path, capsys
) -> None:
    """It was refused once Ray started, after the sweep's spec and lock file were written."""
    log = tmp_path / "runs"
    args = ["sweep", "--data", "xor", "--lr", "0.1", "0.5", "--backend", "ray"]
    code = main([*args, "--address", "foo", "--log_path", str(log)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == (
        "mlplab: --address 'foo': not an address; give auto, HOST:PORT (the head's 6379) or "
        "ray://HOST:10001"
    )
    assert not log.exists()


def _files(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


def test_a_dry_run_says_the_sweeps_size_and_what_is_left_and_writes_nothing(
    tmp_path: Path, capsys
) -> None:
    """A grid of 6,480 configs was learnt of only by starting it: no way to see a sweep's
    size, and what is left of it, before it trains."""
    import mlplab

    log = tmp_path / "runs"
    grid = ["--data", "xor", "--hid_dim", "2", "3", "--act", "tanh", "--epoch", "30",
            "--plots", "none", "--log_every", "0", "--log_path", str(log), "--workers", "1"]  # fmt: skip
    axes = ["--lr", "0.5", "1", "2", "--seed", "0", "1"]
    assert main(["sweep", *grid, *axes, "--dry_run"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("mlplab: dry run: 12 runs (hid_dim 2 × lr 3 × seed 2)"), line
    assert "0 finished, 12 to train, 360 epochs, as " in line and "nothing trained" in line
    assert not log.exists()

    assert main(["sweep", *grid, "--lr", "1", "--seed", "0", "1", "-q"]) == 0  # 4 of the 12
    capsys.readouterr()
    before = _files(log)
    assert main(["sweep", *grid, *axes, "--dry_run"]) == 0
    assert "4 finished, 8 to train, 240 epochs" in capsys.readouterr().out
    assert main(["sweep", *grid, *axes, "--dry_run", "--rerun"]) == 0
    assert "4 finished, 12 to train again (--rerun)" in capsys.readouterr().out
    assert _files(log) == before  # no spec, lock, report or run written or touched

    settings = {"data": "xor", "hid_dim": [2, 3], "act": "tanh", "epoch": 30, "lr": [0.5, 1]}
    dry = mlplab.sweep(**settings, seed=[0, 1], log_path=str(log), dry_run=True, verbose=False)
    assert dry.dry_run and dry.outcomes == [] and len(dry.configs) == 8
    assert dry.counts["skipped"] == 4 and dry.counts["remaining"] == 4 and dry.exit_code == 0
    assert dry.summary() == "dry run: 8 runs: 4 finished, 4 to train; nothing trained"
    assert _files(log) == before

    assert main(["sweep", *grid, "--lr", "-1", "1", "--dry_run"]) == 2  # checked as a sweep
    assert "setting 'lr'" in capsys.readouterr().err

    # A list's rows and a shard's part in their own terms, not the grid's product.
    assert main(["sweep", *grid, "--search", "list", "--lr", "0.5", "1", "--dry_run"]) == 0
    assert "dry run: 2 runs (a list of 2 rows)" in capsys.readouterr().out
    assert main(["sweep", *grid, *axes, "--shard", "1/3", "--dry_run"]) == 0
    assert "dry run: 4 runs (part 1 of 3 of a sweep of 12 runs: " in capsys.readouterr().out


def test_a_dry_run_counts_what_another_sweep_trains_and_what_continues(tmp_path, capsys):
    """Runs another sweep held were counted to train (the sweep leaves them), and an
    interrupted run for all its epochs (it continues from its checkpoint)."""
    import mlplab
    from mlplab.runs.locks import RunLocks

    log = tmp_path / "runs"
    settings = {"data": "xor", "hid_dim": 2, "act": "tanh", "epoch": 100, "log_every": 0}
    calls = {"n": 0}

    def stop() -> bool:  # after 30 steps: an interrupted run with its checkpoint
        calls["n"] += 1
        return calls["n"] > 30

    mlplab.train(**settings, lr=0.5, log_path=str(log), stop=stop, verbose=False, plots="none")
    grid = ["--data", "xor", "--hid_dim", "2", "--act", "tanh", "--epoch", "100",
            "--log_every", "0", "--log_path", str(log), "--lr", "0.5", "1", "2"]  # fmt: skip
    result = mlplab.sweep(**settings, lr=[0.5, 1, 2], log_path=str(log), dry_run=True,
                          verbose=False)  # fmt: skip
    with RunLocks(log / "exp") as other:  # another sweep, training lr 2's run
        assert other.acquire(result.spec.run_ids[2])
        assert main(["sweep", *grid, "--dry_run"]) == 0
    line = capsys.readouterr().out
    assert "0 finished, 2 to train, 1" in line and "(1 continues from its checkpoint)" in line
    assert "; 1 being trained by another process, left to it" in line
    epochs = int(re.search(r"to train, (\d+) epochs", line)[1])
    assert 100 < epochs < 200, line  # lr 1's 100 and what lr 0.5's run lacks
    # On Ray a run trains from the start (its workers get no checkpoint): it said each
    # interrupted run continues, and counted only the epochs it lacked.
    assert main(["sweep", *grid, "--dry_run", "--backend", "ray"]) == 0
    line = capsys.readouterr().out
    assert "0 finished, 3 to train, 300 epochs" in line and "continue" not in line, line


def test_a_ray_sweep_without_ray_writes_nothing_and_says_one_line(run_cli, tmp_path, monkeypatch):
    """It printed its start line (`sweep of 2 runs ... on Ray -> ...`) and left the
    experiment's spec and lock behind the line that Ray is not installed."""
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    proc = run_cli("sweep", "--data", "xor", "--lr", "0.1", "0.2", "--epoch", "2",
                   "--backend", "ray", "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("mlplab: --backend ray needs Ray, which is not installed")
    assert len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_more_workers_than_cpus_are_noted(run_cli, tmp_path, monkeypatch):
    """--workers 4 on one CPU trained more slowly than the default, without a word."""
    import mlplab.sweeps.api

    monkeypatch.setattr(mlplab.sweeps.api, "usable_cpus", lambda: 1)
    proc = run_cli("sweep", "--data", "xor", "--lr", "0.1", "0.2", "--epoch", "2", "--plots",
                   "none", "--workers", "4", "--dry_run", "--log_path", tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        "mlplab: note: --workers 4 on 1 CPU share it, and train no faster than 1 (the "
        "default, --workers 1)\n" in proc.stdout
    )
