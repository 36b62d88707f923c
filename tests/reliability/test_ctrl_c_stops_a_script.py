"""Ctrl-C on a shell script that trains run after run stops the script, not only the run.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group: the script's bash
and the mlplab command it waits for. bash stops the script only when that child died of
SIGINT; a child that exits 130 by itself is taken to have handled the Ctrl-C, and the
loop goes on to its next run (so a night's `for lr in ...` needed one Ctrl-C per run).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_support import ENV, MLPLAB, read_json

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _loop(tmp_path: Path, command: str) -> Path:
    script = tmp_path / "loop.sh"
    script.write_text(
        "#!/bin/bash\n"
        "for e in 3000 3001 3002; do\n"
        '  echo "start $e"\n'
        f"  {command} --epoch $e\n"
        '  echo "status $e=$?"\n'
        "done\n"
        'echo "loop ended"\n'
    )
    script.chmod(0o755)
    return script


def _training(runs: Path) -> bool:
    return any(read_json(p).get("status") == "running" for p in runs.glob("*/*/result.json"))


def _ctrl_c_once_training(tmp_path: Path, script: Path) -> tuple[int, str]:
    """Run ``script`` in a group of its own, as a terminal runs it, and Ctrl-C the group
    once a record says its run is training; the script's wait status and output."""
    proc = subprocess.Popen(
        [str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
        cwd=tmp_path,
        start_new_session=True,
        # A terminal's foreground job takes SIGINT at its default (a test runner may not).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _training(tmp_path / "runs"):
            break
        time.sleep(0.05)
    time.sleep(0.3)  # some steps taken
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_ctrl_c_stops_a_script_that_trains_in_a_loop(tmp_path: Path, command: str) -> None:
    mlplab = " ".join(map(shlex.quote, MLPLAB))
    settings = "--data spiral --log_every 0 --plots none -q --log_path runs --save_every 50"
    if command == "train":
        line = f"{mlplab} train {settings} --exp_name t"
    else:
        line = f"{mlplab} sweep {settings} --exp_name s --lr 0.01 0.02 --workers 1 --no_report"
    script = _loop(tmp_path, line)
    status, out = _ctrl_c_once_training(tmp_path, script)
    assert status == -signal.SIGINT, out  # the script itself stopped by the Ctrl-C
    assert "start 3000" in out and "start 3001" not in out and "loop ended" not in out, out
    assert "Traceback" not in out, out
    # The run it stopped kept its checkpoint, to continue as ever.
    records = [read_json(p) for p in (tmp_path / "runs").glob("*/*/result.json")]
    assert records and {r["status"] for r in records} == {"interrupted"}, records
