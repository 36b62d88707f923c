"""``mlplab train ... | head``: the reader goes away, the run does not.

A real process writes its ``step loss`` lines into a pipe whose reader closes it after
the first line. The run must go on quietly to the end and keep its whole record, and
nothing it says may name a file that is not there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

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
