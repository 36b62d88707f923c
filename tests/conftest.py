"""Shared fixtures: run the CLI in-process or as a real subprocess; a stack that fails.

The only conftest.py of the suite: test modules import helpers from it by the name
``conftest``, which a second conftest.py (in a subfolder) would take over in a worker.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import warnings
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


class _Captured(io.StringIO):
    """Standard output or error of a command run in-process: UTF-8, not a terminal, with
    no descriptor (as a pipe to a parent reads it, less the descriptor)."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


def run_in_process(
    *args: Any, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``mlplab ARGS`` as :func:`mlplab.cli.main` runs it in this process, with its own
    standard output and error, folder and warnings: the same outcome as the command for
    what a test of its output checks, without a second of imports for each call. (The
    process's own ends, Ctrl-C and signals, encodings, are tested with real processes.)
    ``timeout`` is taken for the callers written for a process, and not enforced."""
    from mlplab.cli import main

    argv = [str(a) for a in args]
    out, err = _Captured(), _Captured()
    with (
        contextlib.chdir(cwd or os.getcwd()),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        # The command's notes go to its standard error as they do in a process of its own,
        # not to pytest's filter that turns warnings into errors.
        warnings.resetwarnings()
        warnings.simplefilter("default")
        code = main(argv)
    return subprocess.CompletedProcess(["mlplab", *argv], code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_cli():
    """Run ``mlplab ARGS`` in-process (:func:`run_in_process`); returns CompletedProcess."""
    return run_in_process


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
