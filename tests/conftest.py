"""Shared fixtures: run the CLI in-process or as a real subprocess; a stack that fails.

The only conftest.py of the suite: test modules import helpers from it by the name
``conftest``, which a second conftest.py (in a subfolder) would take over in a worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def python_ctrl_c():
    """Ctrl-C as Python sets it up: a suite started in the background (`cmd &`, `setsid`)
    inherits SIGINT ignored, and the tests of a Ctrl-C then tested that instead."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, before)


@pytest.fixture
def run_cli():
    """Run ``python -m mlplab ARGS`` as a real process; returns CompletedProcess."""

    def _run(
        *args: str, cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        return subprocess.run(
            [sys.executable, "-m", "mlplab", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=timeout,
        )

    return _run


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, one line on stderr starting with 'mlplab:', naming what is wrong, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mlplab:"), lines[0]
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def write_npz_bomb(path: Path, names: tuple[str, ...] = ("val_epochs",), n: int = 2**27) -> None:
    """An .npz whose members ``NAME.npy`` each declare ``n`` float64 (1 GiB by default) and
    hold 8 bytes: a zip bomb as its headers tell it, written in a millisecond. A reader
    that unpacks it fails late (a short member) or allocates the gigabyte first."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                header = {"descr": "<f8", "fortran_order": False, "shape": (n,)}
                np.lib.format.write_array_header_2_0(f, header)
                f.write(bytes(8))


@pytest.fixture
def stacked_steps_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NumPy step of a stack of several models raises, one of a single model trains: a
    stack that fails on its own, whose runs the sweep trains again one by one."""
    from mlplab.engines.numpy.backend import NumpyBackend

    step = NumpyBackend.train_step

    def stacked_fails(self: NumpyBackend, idx: Any) -> np.ndarray:
        losses = step(self, idx)
        if len(losses) > 1:
            raise FloatingPointError("a stacked step failed")
        return losses

    monkeypatch.setattr(NumpyBackend, "train_step", stacked_fails)
