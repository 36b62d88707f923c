"""Kill a real ``mlplab train`` process at random moments, resume it, get the very same run.

Minibatches, dropout and Adam make the data order, the RNG states and the optimizer's
moments all matter, so any of them restored wrongly changes the curves. A kill can land
before the first checkpoint, mid-epoch, during a checkpoint write, or after the last
step; every one of those is a valid outcome and is checked for what it must leave behind.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import (
    ENV,
    MLPLAB,
    assert_one_line,
    assert_same_run,
    cli,
    read_json,
)

from mlplab.runs.checkpoint import load_checkpoint

ENGINES = ("numpy", "torch")
EPOCHS = {"numpy": 60, "torch": 40}  # a few seconds of training on a loaded machine
# Kills per (engine, signal); torch processes start slowly, so they get fewer.
REPEATS = {
    ("numpy", signal.SIGKILL): 3,
    ("numpy", signal.SIGINT): 3,
    ("numpy", signal.SIGTERM): 1,
    ("torch", signal.SIGKILL): 2,
    ("torch", signal.SIGINT): 2,
    ("torch", signal.SIGTERM): 1,
    # A closed terminal or a dropped ssh session: it had killed the run with its progress.
    ("numpy", signal.SIGHUP): 1,
    ("torch", signal.SIGHUP): 1,
}
# SIGINT kills the command (130 to a shell), as a Ctrl-C should, so that a script stops too.
EXIT = {signal.SIGINT: -signal.SIGINT, signal.SIGTERM: 143, signal.SIGHUP: 129}


def settings(engine: str) -> list[str]:
    return [
        "train",
        *("--data", "moons", "--batch_size", "32", "--dp_rate", "0.2", "--optim", "adam"),
        *("--epoch", str(EPOCHS[engine]), "--save_every", "1", "--log_every", "7"),
        *("--plots", "none", "--engine", engine),
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple[Path, float]]:
    """One uninterrupted run per engine: its directory and its training time."""
    out = {}
    for engine in ENGINES:
        log = tmp_path_factory.mktemp(f"ref-{engine}")
        proc = cli(*settings(engine), "--log_path", str(log))
        assert proc.returncode == 0, proc.stderr
        run_dir = next(log.glob("*/*/result.json")).parent
        out[engine] = (run_dir, float(read_json(run_dir / "result.json")["wall_time_s"]))
    return out


def start(engine: str, log: Path) -> tuple[subprocess.Popen[str], Path]:
    """Launch a run; return once it prints its header line, just before training."""
    proc = subprocess.Popen(
        [*MLPLAB, *settings(engine), "--log_path", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        # A suite started by nohup: the hangups are the test's to send.
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    header = proc.stdout.readline()
    if " -> " not in header:
        proc.kill()
        raise AssertionError(f"no header line: {header!r} {proc.communicate()[1]}")
    return proc, Path(header.rsplit(" -> ", 1)[1].strip())


def check_killed(run_dir: Path) -> str:
    """SIGKILL: whatever was on disk is whole (atomic writes)."""
    result = read_json(run_dir / "result.json")  # parses: never half written
    assert result["status"] == "running"
    last = run_dir / "checkpoints" / "last.safetensors"
    if not last.exists():
        return "killed before the first checkpoint"
    loop = load_checkpoint(last).meta["loop"]
    # Rewritten after each save's checkpoints: that save's epoch, or the one before.
    assert loop["epoch"] - 1 <= result["epochs_run"] <= loop["epoch"], result["epochs_run"]
    return f"killed after step {loop['step']}"


def check_stopped(run_dir: Path, sig: int) -> str:
    """SIGINT/SIGTERM/SIGHUP: a checkpoint at the stop, status interrupted, partial curves."""
    r = read_json(run_dir / "result.json")
    assert r["status"] == "interrupted"
    assert signal.Signals(sig).name in r["message"] and "--resume" in r["message"]
    assert len(r["train_losses"]) == r["epochs_run"] == len(r["lrs"])
    assert r["val_epochs"] == list(range(1, r["epochs_run"] + 1))
    ckpt = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    assert ckpt.meta["loop"]["step"] == r["steps"]
    for key in ("python", "numpy"):  # the issue asks for these too
        assert ckpt.meta["global_rng"][key]
    return f"stopped at step {r['steps']}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=str
)
def test_signal_at_random_moments_then_resume_is_exact(engine, sig, reference, tmp_path):
    ref_dir, train_s = reference[engine]
    rng = random.Random(f"{engine}-{int(sig)}")
    outcomes = []
    for i in range(REPEATS[(engine, sig)]):
        # Within the reference's training time; a loaded machine may still finish first.
        delay = rng.uniform(0.0, 0.9 * train_s)
        proc, run_dir = start(engine, tmp_path / f"try{i}")
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err
        if not (run_dir / "result.json").exists():
            # The signal landed between the header line and the record's first write (a
            # short delay on a loaded machine): nothing to resume, and nothing half made.
            assert not (run_dir / "checkpoints").exists(), err
            outcomes.append(f"stopped before its record began (exit {proc.returncode})")
            again = cli(*settings(engine), "--log_path", str(tmp_path / f"try{i}"))
            assert again.returncode == 0, again.stderr
        elif read_json(run_dir / "result.json")["status"] == "finished":
            # The signal came after the record was complete (or after the process ended):
            # a valid case. The exit status then depends on when it landed.
            assert proc.returncode in (0, -sig, EXIT.get(sig)), (proc.returncode, err)
            outcomes.append(f"finished first (exit {proc.returncode})")
            again = cli("train", "--resume", str(run_dir))
            assert_one_line(again.returncode, again.stderr, "already finished")
        else:
            if sig == signal.SIGKILL:
                assert proc.returncode == -signal.SIGKILL, err
                outcomes.append(check_killed(run_dir))
            else:
                assert proc.returncode == EXIT[sig], err
                outcomes.append(check_stopped(run_dir, sig))
            resumed = cli("train", "--resume", str(run_dir), "--quiet")
            assert resumed.returncode == 0, resumed.stderr
            assert not list(run_dir.rglob(".*.tmp")), "temp files of cut writes remain"
        assert_same_run(ref_dir, run_dir)
    print(f"{engine} {signal.Signals(sig).name}: {outcomes}")


def test_the_same_run_trained_twice_at_once_is_refused(tmp_path):
    # Two `mlplab train` of one config on one log_path: the second is refused in one line
    # while the first trains, and the first ends with one event file (no doubled scalars).
    import subprocess
    import sys
    import time

    args = [
        sys.executable,
        "-m",
        "mlplab",
        "train",
        "--data",
        "moons",
        "--epoch",
        "10000000",
        "--log_every",
        "0",
        "--plots",
        "none",
        "--log_path",
        str(tmp_path),
    ]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not list(tmp_path.rglob("result.json")) and time.time() < deadline:
            time.sleep(0.05)
        second = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert first.poll() is None, "the first run ended before the second started"
    finally:
        first.send_signal(signal.SIGTERM)  # a clean stop, with a checkpoint
        _, err = first.communicate(timeout=600)
    assert first.returncode == 143, err
    assert second.returncode == 75 and "Traceback" not in second.stderr  # EX_TEMPFAIL
    (line,) = second.stderr.splitlines()
    assert line.startswith("mlplab:") and "another process" in line
    (run_dir,) = [p.parent for p in tmp_path.rglob("result.json")]
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=str)
def test_the_same_command_again_continues_a_stopped_run_exactly(sig, reference, tmp_path):
    """Ctrl-C (or a kill after a checkpoint), then the same command: the run continues
    from its checkpoint, says so, and ends as the uninterrupted run; --rerun starts afresh."""
    ref_dir, train_s = reference["numpy"]
    log = tmp_path / "runs"
    for fraction in (0.5, 0.25, 0.1, 0.05):  # a loaded machine may finish before the signal
        shutil.rmtree(log, ignore_errors=True)
        proc, run_dir = start("numpy", log)
        time.sleep(fraction * train_s)
        proc.send_signal(sig)
        proc.communicate(timeout=300)
        status = read_json(run_dir / "result.json")["status"]
        if status != "finished" and (run_dir / "checkpoints" / "last.safetensors").exists():
            break
    else:
        pytest.fail("every run finished (or was killed before its first checkpoint)")
    step = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"]
    again = cli(*settings("numpy"), "--log_path", str(log))
    assert again.returncode == 0, again.stderr
    what = "interrupted" if sig == signal.SIGINT else "unfinished"
    assert (
        f"{run_dir} holds this config's {what} run; it continues from its checkpoint "
        f"at step {step} (--rerun, rerun=True in Python, starts it afresh)"
    ) in again.stdout
    assert_same_run(ref_dir, run_dir)

    # Interrupted at its start, then --rerun: the run starts afresh, and says so.
    proc, run_dir = start("numpy", tmp_path / "rerun")
    proc.send_signal(signal.SIGINT)  # before its first step: the flag is already set up
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGINT
    assert read_json(run_dir / "result.json")["status"] == "interrupted"
    fresh = cli(*settings("numpy"), "--log_path", str(tmp_path / "rerun"), "--rerun")
    assert fresh.returncode == 0, fresh.stderr
    assert f"{run_dir} holds an unfinished run (interrupted); it is replaced" in fresh.stdout
    assert "(--rerun starts afresh rather than continuing from its checkpoint)" in fresh.stdout
    assert "--resume" not in fresh.stdout  # the checkpoint goes with the old run: no hint
    assert_same_run(ref_dir, run_dir)

    # Interrupted, with a damaged checkpoint: the same command starts afresh, and says why.
    proc, run_dir = start("numpy", tmp_path / "damaged")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=300)
    (run_dir / "checkpoints" / "last.safetensors").write_bytes(b"not a checkpoint")
    again = cli(*settings("numpy"), "--log_path", str(tmp_path / "damaged"))
    assert again.returncode == 0, again.stderr
    (line,) = [x for x in again.stdout.splitlines() if "it is replaced by this new run" in x]
    assert "(it cannot continue: " in line and "last.safetensors" in line  # the reason
    assert_same_run(ref_dir, run_dir)


def test_a_run_started_by_nohup_outlives_its_terminal(tmp_path):
    """`nohup mlplab train ... &`, then a logout: the hangup had stopped the run (exit
    129), though nohup is there to keep it going. A SIGTERM still stops it."""
    args = ["train", "--data", "moons", "--epoch", "100000000", "--log_every", "0",
            "--plots", "none", "--engine", "numpy", "--log_path", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(
        [*MLPLAB, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert proc.stdout is not None and " -> " in proc.stdout.readline()
    proc.send_signal(signal.SIGHUP)
    time.sleep(2.0)
    assert proc.poll() is None, proc.communicate()[1]  # it trains on
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    (result,) = tmp_path.glob("*/*/result.json")
    record = read_json(result)
    assert record["status"] == "interrupted" and "SIGTERM" in record["message"]


def test_a_command_started_with_ctrl_c_ignored_stops_on_it_from_its_start(tmp_path):
    """A job a script starts with `&` inherits SIGINT ignored; mlplab took it back only
    once a run or sweep began, so a Ctrl-C in the command's first second (imports, parsing,
    the data) was dropped: the run trained to the end and exited 0. Here the command's
    work is a wait that says when it began, and the Ctrl-C comes then."""
    script = (
        "import time\n"
        "import mlplab.cli as cli\n"
        "def slow(argv=None):\n"
        "    print('begun', flush=True)\n"
        "    time.sleep(60)\n"
        "    return 0\n"
        "cli._main = slow\n"
        "cli.run()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "begun\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()  # a command that took no Ctrl-C sleeps on
    assert proc.returncode == -signal.SIGINT, err  # ended by SIGINT, as the shell sees 130
    assert err.strip() == "mlplab: interrupted"
