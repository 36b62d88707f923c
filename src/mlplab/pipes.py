"""Output that survives its reader going away (``mlplab train ... | head``) or a full disk
behind it (``mlplab train ... > /dev/full``).

This module imports nothing heavy: the command line installs it before anything else.
"""

from __future__ import annotations

import contextlib
import errno
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
    A write that fails otherwise (``> /dev/full``: no space left where standard output
    goes, which need not be the disk the record goes to) falls silent the same way, and
    is kept in ``lost`` for a note when the command ends (:func:`closed_pipe_safe`).
    """

    def __init__(self, stream: TextIO | None) -> None:
        # A descriptor closed before Python started (`mlplab train >&-`) is None in sys:
        # written to, it raised AttributeError; it takes nothing, as a pipe gone does.
        self.closed_at_start = stream is None
        self.stream: TextIO = stream if stream is not None else open(os.devnull, "w")  # noqa: SIM115
        self.reader_gone = False
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except OSError as err:
                self._silence(err)
        return len(text)

    def write_whole(self, text: str) -> None:
        """``text``, every byte of it, or silent as :meth:`write` is. A text stream drops
        what a short write leaves: under a file-size limit (`ulimit -f 50`) a 600 KB CSV
        came out as its first 51,200 bytes, with no error. Its buffer returns how much it
        took, so the bytes go to it until all are taken or a write fails."""
        buffer = getattr(self.stream, "buffer", None)
        if self.reader_gone or buffer is None:  # a StringIO: no bytes to count
            self.write(text)
            return
        try:
            self.stream.flush()
            encoding = getattr(self.stream, "encoding", None) or "utf-8"
            data = memoryview(
                text.encode(encoding, getattr(self.stream, "errors", None) or "strict")
            )
            while data:
                taken = buffer.write(data)
                if not taken:
                    raise OSError(errno.EIO, "standard output took no bytes")
                data = data[taken:]
            buffer.flush()
        except OSError as err:
            self._silence(err)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except OSError as err:
                self._silence(err)

    def _silence(self, err: OSError) -> None:
        self.reader_gone = True
        if not isinstance(err, BrokenPipeError):  # a reader that left is no loss to report
            self.lost = err
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self.stream, name)


def writes_utf8(stream: Any) -> bool:
    """Whether ``stream`` encodes its text as UTF-8 (or says nothing of its encoding): not
    so on a terminal or file of an ASCII or latin-1 locale, which lacks a table's ─ and ±
    and a Korean class name."""
    import codecs

    encoding = getattr(stream, "encoding", None)
    try:
        return not encoding or codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return True


def table_box(stream: Any) -> Any:
    """The lines of a rich table printed to ``stream``: none for ``TERM=dumb`` (a screen
    reader read each box-drawing character aloud, and a dumb terminal has none of them),
    ASCII where the stream cannot encode them, else rich's default, heavy under the header."""
    from rich import box

    if os.environ.get("TERM") == "dumb":
        return None
    return box.HEAVY_HEAD if writes_utf8(stream) else box.ASCII


def lost_output() -> OSError | None:
    """The error that made standard output drop what was printed (a full disk behind
    ``> file``), or None; taken, so that a command that reports it as its own failure
    (``mlplab datasets``, ``predict``, whose output is the printout) is not noted again."""
    out = sys.stdout
    if not isinstance(out, PipeGuard):
        return None
    out.flush()  # what is still buffered fails now, not in Python's flush at exit
    err, out.lost = out.lost, None
    return err


@contextlib.contextmanager
def closed_pipe_safe() -> Iterator[None]:
    """Within it, a closed or full stdout, or stderr, silences output instead of raising;
    a stdout that could not be written to (not one whose reader left) is noted on stderr
    at the end, once."""
    saved = sys.stdout, sys.stderr
    guard = None
    if not isinstance(sys.stdout, PipeGuard):
        sys.stdout = guard = PipeGuard(sys.stdout)
    if not isinstance(sys.stderr, PipeGuard):
        sys.stderr = PipeGuard(sys.stderr)
    try:
        yield
    finally:
        err = lost_output() if guard is not None else None
        if err is not None:
            print(
                f"mlplab: note: standard output could not be written ({err.strerror or err}); "
                "what was printed there from then on is lost",
                file=sys.stderr,
            )
        sys.stdout, sys.stderr = saved
