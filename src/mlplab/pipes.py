"""Output that survives its reader going away: ``mlplab train ... | head``.

This module imports nothing heavy: the command line installs it before anything else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO


class PipeGuard:
    """A text stream that falls silent, rather than fail, once its reader has gone.

    ``mlplab train ... | head`` closes the pipe after ten lines; every later write would
    raise BrokenPipeError, and the run would end ``failed`` for want of a reader. The
    first failed write points the descriptor at /dev/null instead (so that text still
    buffered, and Python's flush at exit, go there too), and the run goes on quietly.
    """

    def __init__(self, stream: TextIO | None) -> None:
        # A descriptor closed before Python started (`mlplab train >&-`) is None in sys:
        # written to, it raised AttributeError; it takes nothing, as a pipe gone does.
        self.closed_at_start = stream is None
        self.stream: TextIO = stream if stream is not None else open(os.devnull, "w")  # noqa: SIM115
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self.reader_gone = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self.stream, name)


@contextlib.contextmanager
def closed_pipe_safe() -> Iterator[None]:
    """Within it, a closed stdout or stderr silences output instead of raising."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, PipeGuard):
        sys.stdout = PipeGuard(sys.stdout)
    if not isinstance(sys.stderr, PipeGuard):
        sys.stderr = PipeGuard(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
