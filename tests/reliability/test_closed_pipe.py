"""``mlplab train ... | head``: the reader goes away, the run does not.

A real process writes its ``step loss`` lines into a pipe whose reader closes it after
the first line. The run must go on quietly to the end and keep its whole record, and
nothing it says may name a file that is not there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from reliability_support import ENV, MLPLAB, once, read_json

from mlplab.runs.checkpoint import load_checkpoint

# 3000 lines of `step loss` (about 70 KB): more than a pipe holds, so writes go on well
# after the reader has gone.
LOUD = (
    *("train", "--data", "xor", "--hid_dim", "4", "--act", "tanh", "--lr", "1"),
    *("--epoch", "3000", "--log_every", "1", "--plots", "png"),
)


def _run_into_closed_pipe(tmp_path: Path, *extra: str) -> tuple[int, str]:
    proc = subprocess.Popen(
        [*MLPLAB, *LOUD, *extra, "--log_path", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `head -1` reads, then it goes away
    assert first.startswith(b"mlplab:")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    return proc.wait(timeout=300), err


def test_a_closed_stdout_does_not_fail_the_run(tmp_path: Path) -> None:
    rc, err = _run_into_closed_pipe(tmp_path)
    assert rc == 0, err
    assert err == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
    (run_dir,) = [p.parent for p in tmp_path.glob("*/*/result.json")]
    result = read_json(run_dir / "result.json")
    assert result["status"] == "finished" and result["epochs_run"] == 3000
    assert "error" not in result
    ckpt = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    assert ckpt.meta["loop"]["step"] == 3000
    assert (run_dir / "plots" / "loss.png").is_file()  # the plots after it were drawn too


def test_closed_stdout_and_stderr_together(tmp_path: Path) -> None:
    """`mlplab train ... 2>&1 | head`: both streams go to the reader that leaves."""
    proc = subprocess.Popen(
        [*MLPLAB, *LOUD, "--log_path", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=ENV,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=300) == 0
    (run_dir,) = [p.parent for p in tmp_path.glob("*/*/result.json")]
    assert read_json(run_dir / "result.json")["status"] == "finished"


def test_messages_name_only_files_that_exist(tmp_path: Path) -> None:
    """Resuming a run killed before its first checkpoint says it starts from step 0."""
    from reliability_support import cli

    first = cli(*once(*LOUD, "--epoch", "5"), "--log_path", tmp_path)
    assert first.returncode == 0, first.stderr
    (run_dir,) = [p.parent for p in tmp_path.glob("*/*/result.json")]
    # As a SIGKILL before the first save leaves it: `running`, and no checkpoint.
    result = read_json(run_dir / "result.json")
    (run_dir / "result.json").write_text(
        __import__("json").dumps({**result, "status": "running"}), encoding="utf-8"
    )
    for f in (run_dir / "checkpoints").iterdir():
        f.unlink()
    resumed = cli("train", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "no checkpoint" in resumed.stdout and "step 0" in resumed.stdout, resumed.stdout


FULL_NOTE = (
    "mlplab: note: standard output could not be written (No space left on device); what was "
    "printed there from then on is lost\n"
)


def _into_dev_full(*args: object, buffered: bool = False) -> subprocess.CompletedProcess[str]:
    """``mlplab ARGS > /dev/full``: every write to standard output fails with ENOSPC."""
    env = {k: v for k, v in ENV.items() if not (buffered and k == "PYTHONUNBUFFERED")}
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [*MLPLAB, *map(str, args)], stdout=full, stderr=subprocess.PIPE, text=True,
            env=env, timeout=300,
        )  # fmt: skip


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_does_not_fail_the_run_nor_a_sweep_nor_a_report(tmp_path: Path) -> None:
    """`> /dev/full` filled standard output only, not the disk of the record, yet the run
    stopped ("No space left on device; the run stopped", exit 1, no record). It goes on as
    with a closed stdout: trained and recorded, its console output dropped with one note."""
    proc = _into_dev_full(*once(*LOUD, "--epoch", "300", "--plots", "none"), "--log_path", tmp_path)
    assert (proc.returncode, proc.stderr) == (0, FULL_NOTE)
    (run_dir,) = [p.parent for p in tmp_path.glob("*/*/result.json")]
    result = read_json(run_dir / "result.json")
    assert result["status"] == "finished" and result["epochs_run"] == 300
    assert load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"] == 300

    sweeps = tmp_path / "sweeps"
    proc = _into_dev_full(
        *("sweep", "--data", "xor", "--epoch", "20", "--lr", "0.1", "0.5", "--plots", "none"),
        *("--log_path", sweeps),
    )
    assert (proc.returncode, proc.stderr) == (0, FULL_NOTE)
    assert len(list(sweeps.glob("*/*/result.json"))) == 2
    assert (sweeps / "exp" / "results.csv").is_file()

    # Buffered (no PYTHONUNBUFFERED): the writes fail when Python flushes, at the end too.
    proc = _into_dev_full("report", sweeps, "--out", tmp_path / "report", buffered=True)
    assert (proc.returncode, proc.stderr) == (0, FULL_NOTE)
    assert (tmp_path / "report" / "report.html").is_file()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_fails_a_command_whose_work_is_its_printout(tmp_path: Path) -> None:
    """`mlplab datasets > /dev/full` prints nothing else: its loss is its failure, in one line."""
    for args in (("datasets",), ("train", "--data", "xor", "--print_config")):
        proc = _into_dev_full(*args, buffered=True)
        assert proc.returncode == 1 and proc.stderr == (
            "mlplab: standard output could not be written (No space left on device); the "
            f"output of mlplab {args[0]} is lost\n"
        )
    # --help and --version too: their text is all they do (they exited 0, text lost).
    for args in (("--help",), ("train", "--help"), ("--version",)):
        proc = _into_dev_full(*args, buffered=True)
        assert proc.returncode == 1 and proc.stderr == (
            "mlplab: standard output could not be written (No space left on device); the "
            "help or version text is lost\n"
        ), (args, proc.stderr)


def test_a_closed_stdout_fails_a_command_whose_work_is_its_printout() -> None:
    """`mlplab datasets >&-` exited 0 with nothing shown, where `> /dev/full` is one line,
    exit 1: the printout it was run for was lost without a word."""
    import os

    for args in (("datasets",), ("gradcheck",), ("train", "--data", "xor", "--print_config")):
        proc = subprocess.run(
            [*MLPLAB, *args], stderr=subprocess.PIPE, text=True, env=ENV, timeout=300,
            preexec_fn=lambda: os.close(1),  # as a shell's >&- leaves descriptor 1
        )  # fmt: skip
        assert proc.returncode == 1 and proc.stderr == (
            f"mlplab: standard output is closed, and what mlplab {args[0]} prints is its "
            "output; give it a file (> FILE) or a pipe\n"
        )


def test_predictions_cut_short_by_a_file_size_limit_fail_in_one_line(tmp_path: Path) -> None:
    """`ulimit -f 50; mlplab predict RUN --data new.csv > out.csv` wrote the first 51,200
    bytes of the CSV and exited 0: the text stream took the short write without an error."""
    import resource

    import numpy as np

    run = tmp_path / "runs"
    subprocess.run(
        [*MLPLAB, "train", "--data", "moons", "--epoch", "2", "--plots", "none", "-q",
         "--log_path", str(run), "--exp_name", "p"], check=True, env=ENV, timeout=300,
    )  # fmt: skip
    (run_dir,) = run.glob("p/p-*")
    rows = np.random.default_rng(0).normal(size=(20_000, 2))
    (tmp_path / "new.csv").write_text("x1,x2\n" + "".join(f"{a},{b}\n" for a, b in rows))
    limit = 50 * 1024  # bytes, as `ulimit -f 50`; Python ignores SIGXFSZ, so writes fail

    def _limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    for out in ([], ["--out", "-"]):
        with open(tmp_path / "out.csv", "w") as f:
            proc = subprocess.run(
                [*MLPLAB, "predict", str(run_dir), "--data", str(tmp_path / "new.csv"), *out],
                stdout=f, stderr=subprocess.PIPE, text=True, env=ENV, timeout=300,
                preexec_fn=_limited,
            )  # fmt: skip
        assert (proc.returncode, proc.stderr) == (
            2,
            "mlplab: predict: standard output cannot be written: File too large (the "
            "process's file-size limit, `ulimit -f`, is 50 KiB); raise it, or predict fewer "
            "rows at a time\n",
        )
        assert (tmp_path / "out.csv").stat().st_size == limit  # what the limit let through
