"""Errors that mlplab reports to users as one line with exit status 2."""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import reprlib
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar

# What a caller catches (and a warning it may filter); the rest are mlplab's own helpers.
__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataChangedWarning",
    "DataError",
    "EngineError",
    "MlplabError",
    "NewerRecord",
    "OutOfMemory",
    "PruneError",
    "RecordError",
    "RunBusy",
]

# The most characters of one message: it quotes user input, which may be megabytes long.
MAX_MESSAGE_CHARS = 2000


class MlplabError(Exception):
    """A mistake in the user's input (a setting, a file, a flag), or a run that could not
    go on for a reason of one line (:class:`RunBusy`, :class:`RecordError`,
    :class:`OutOfMemory`).

    The CLI prints ``mlplab: <message>`` on one line and exits with status 2, with no
    traceback. The message names the setting or file, and the valid choices where there
    are some.
    """

    exit_code = 2

    def __init__(self, message: str = "") -> None:
        super().__init__(one_line(message))


P = ParamSpec("P")
R = TypeVar("R")


def public(fn: Callable[P, R]) -> Callable[P, R]:
    """A public entry point (``mlplab.train``, ``sweep``, ``report``, ...): an
    :class:`MlplabError` leaves it without mlplab's own frames below, so that a notebook
    shows the user's call and the one line that names the setting or file, not a page of
    the functions that found it. Any other exception (mlplab's own bug) keeps its frames.
    """

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        # This frame, the one of mlplab's left, is hidden by pytest, and by IPython where
        # the user's own frames follow it; else IPython shows these lines, so they speak
        # to its reader.
        __tracebackhide__ = True
        try:
            return fn(*args, **kwargs)
        except MlplabError as err:
            # The error above says what is wrong; mlplab's frames are left out of it, and
            # those of your own code that it called (a subscriber, stop()) kept.
            raise err.with_traceback(_outside_mlplab(err.__traceback__))  # noqa: B904

    return call


def _not_users() -> tuple[str, ...]:
    """Folders whose code is not the user's: mlplab's, the installed packages' (pydantic,
    which calls mlplab's validators) and Python's own."""
    import sysconfig

    paths = sysconfig.get_paths()
    folders = [os.path.dirname(os.path.abspath(__file__))]
    folders += [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
    return tuple(os.path.abspath(f) + os.sep for f in folders)


def _outside_mlplab(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The user's frames of ``tb`` (not mlplab's, nor a library's), linked in order."""
    not_users = _not_users()
    kept = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(not_users):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def users_stacklevel() -> int:
    """The ``stacklevel`` of ``warnings.warn``, called by the caller of this, that names
    the user's line: the first frame outside mlplab, the libraries and Python's own. A
    fixed level named contextlib's line where a warning came through a ``with``."""
    not_users = _not_users()
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        not_users
    ):
        frame, level = frame.f_back, level + 1
    return level


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\r``, ...), at most
    ``MAX_MESSAGE_CHARS`` long (the middle elided).

    Messages quote user input (unknown keys, column names, paths) that may hold line
    breaks; escaped, the error still prints as exactly one line.
    """
    text = shorten(text, MAX_MESSAGE_CHARS)
    if text.isprintable():
        return text
    escaped = "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )
    return shorten(escaped, MAX_MESSAGE_CHARS)


def shorten(text: str, limit: int = 200) -> str:
    """``text``, or its start and end around `` ... `` when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    tail = max(0, limit - head - 5)
    return f"{text[:head]} ... {text[len(text) - tail :] if tail else ''}"


class _ShortRepr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        # repr() of an integer of thousands of digits is slow, and refused past 4300.
        if x.bit_length() > 128:
            return f"<an integer of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)


_REPR = _ShortRepr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlong = 40


def short_repr(value: Any, limit: int = 100) -> str:
    """``repr(value)`` cut to about ``limit`` characters, in time bounded by ``limit``.

    For values quoted in messages: a setting may be a 10 MB string, an integer of
    thousands of digits, or a list that YAML aliases made a billion elements long. An
    array or a table is named by its type and shape: its repr is lines of numbers.
    """
    if _table(value):
        name = type(value).__name__
        article = "an" if name[0] in "aeiou" or name == "ndarray" else "a"
        return f"{article} {name} of shape {value.shape}"
    if isinstance(value, tuple | list) and 0 < len(value) <= 4 and any(map(_table, value)):
        parts = ", ".join(short_repr(v, limit // len(value)) for v in value)  # (X, y)
        return shorten(f"a {type(value).__name__} of {parts}", limit)
    return shorten(_REPR.repr(value), limit)


def _table(value: Any) -> bool:
    """An array or table whose repr is lines of numbers: 2-D, or of more than 10 values
    (``np.array([0.1, 0.2])`` given as a setting reads better as its values)."""
    shape = getattr(value, "shape", None)
    if not isinstance(shape, tuple) or not shape or isinstance(value, str):
        return False
    return len(shape) > 1 or shape[0] > 10


def flags_as_arguments(message: str) -> str:
    """A hint worded as command-line flags (``--lr 5``) as Python arguments (``lr=5``),
    for a message that reaches a Python caller rather than a shell. A command quoted in
    backquotes (`` `mlplab train --resume RUN` ``) stays a command, whole."""
    parts = message.split("`")
    for i in range(0, len(parts), 2):  # outside the backquotes
        parts[i] = re.sub(r"--(\w+) ([^\s;,()]+)", r"\1=\2", parts[i])
    return "`".join(parts)


_FLAG = re.compile(r"--(\w+)(?: ('[^']*'|[^\s;,()]+))?(?![\w=-])")
_PLAIN = re.compile(r"[+-]?\d[\d_]*\.?\d*(e[+-]?\d+)?", re.IGNORECASE)


# Words that follow a flag named in a sentence, which are no value of it.
_WORDS = frozenset(
    [
        "or",
        "and",
        "to",
        "with",
        "of",
        "in",
        "for",
        "is",
        "are",
        "gives",
        "trains",
        "takes",
        "says",
        "on",
        "at",
        "as",
        "the",
        "a",
        "an",
        "from",
        "each",
        "which",
        "that",
        "does",
        "keeps",
        # verbs of the notes' sentences ("a larger --batch_size steadies it")
        "steadies",
        "stops",
        "makes",
        "helps",
        "needs",
        "sets",
        "lets",
        "shows",
    ]
)


def note_in_python(note: str) -> str:
    """A note worded for the command line (``--task classification``, ``(--epoch)``) as a
    Python caller gives it (``task='classification'``, ``(epoch)``): a train() call's
    ``Result.notes`` are read in a script or a notebook, where the flags had to be
    translated by hand. Text values are quoted as Python's strings; a command in
    backquotes stays one a shell runs."""

    def argument(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2)
        if value is None:
            return name
        if value in _WORDS:  # "a lower --lr or more epochs": the flag alone, then the words
            return f"{name} {value}"
        if value.lower() in ("true", "false", "none"):  # YAML's, as the flags take them
            return f"{name}={value.capitalize()}"
        if value.startswith("'") or _PLAIN.fullmatch(value):
            return f"{name}={value}"
        return f"{name}={value!r}"

    parts = note.split("`")
    for i in range(0, len(parts), 2):  # outside the backquotes
        parts[i] = _FLAG.sub(argument, parts[i])
    return "`".join(parts)


class ConfigError(MlplabError):
    """A setting that is unknown, of the wrong type, or out of range."""


class NewerRecord(ConfigError):
    """A record (config.yaml, a checkpoint) that names a setting this mlplab does not
    know: a newer mlplab's. Never read as another run's, nor trained over."""


class DataError(MlplabError):
    """A data file or dataset name that cannot be used.

    ``where``: where a file was looked for, said after ``message`` (the current folder, for
    a relative path); ``unplaced`` is the line without it, for a caller that looked in
    other places too (a run's record, above its folder) and says them itself.
    """

    def __init__(self, message: str = "", where: str = "") -> None:
        super().__init__(message + where)
        self.unplaced = message


class CheckpointError(MlplabError):
    """A checkpoint that is missing, truncated, corrupted or unsafe."""


class EngineError(MlplabError):
    """A config that the chosen engine cannot train (never a silent fallback)."""


class PruneError(ConfigError):
    """A prune rule (``fit``'s, ``sweep``'s ``prune``) that raised or returned no bool mask
    over its event's ids: the rule's fault, never pinned on a config."""


class RunBusy(MlplabError):
    """A run that another process (or a sweep's queue) holds right now: no mistake in the
    input, but no run either. Exit status 75 (``EX_TEMPFAIL``: try again later), which a
    script's retry loop tells from the bad input of 2. Not a ConfigError, so that an
    ``except ConfigError`` meant for bad settings does not take it for one."""

    exit_code = 75


class DataChangedWarning(UserWarning):
    """A run loaded with its training file, whose rows have changed since it trained: the
    model and record are the run's, the dataset's rows the file's as they are now."""


class RecordError(MlplabError):
    """The run record could not be written mid-run (disk full, folder removed).

    Not a mistake in the input, so the exit status is 1; still one line, no traceback.
    """

    exit_code = 1


class OutOfMemory(MlplabError, MemoryError):
    """A run that ran out of memory (RAM or GPU memory) while it was built or trained.

    Not a mistake in the input, so the exit status is 1, as for a run that diverged; one
    line that names the settings that shrink the run, no traceback. The run's record, if
    it had one, ends ``failed`` with the same line. A :class:`MemoryError` too, so that
    ``except MemoryError`` still catches it.
    """

    exit_code = 1


def limit_met(err: OSError) -> str:
    """Which limit of the machine an OSError of a write met, said beside its words: "File
    too large" of a 11 KB checkpoint told nothing of the process's file-size limit, and
    a full disk and that limit are mended apart. Empty for other errors."""
    import errno
    import resource

    if err.errno == errno.EFBIG:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            return f"the process's file-size limit, `ulimit -f`, is {limit // 1024:,} KiB"
        return "a file larger than its file system takes"
    if err.errno == errno.ENOSPC:
        return "the disk is full"
    if err.errno == errno.EDQUOT:
        return "the disk quota is used up"
    return ""


def error_line(err: BaseException) -> str:
    """How a record and a sweep's progress line say the exception that ended a run:
    ``TypeError: ...``, an :class:`OutOfMemory`'s own line, which says what it is, or
    the system's words for an OSError and its file (``No space left on device (PATH)``),
    as `mlplab train` says it, rather than ``OSError: [Errno 28] ...``."""
    if isinstance(err, OutOfMemory):
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        limit = f": {limit_met(err)}" if limit_met(err) else ""  # a full disk, `ulimit -f`
        return err.strerror + (f" ({err.filename})" if err.filename else "") + limit
    return f"{type(err).__name__}: {err}"


def twice_named(names: Sequence[str], setting: str) -> str | None:
    """What is wrong when ``names`` (setting ``'target'`` or ``'ignore'``) holds a column
    twice, or None: the config and ``load_dataset`` refuse a repeat in the same words."""
    twice = sorted({t for t in names if names.count(t) > 1})
    if not twice:
        return None
    what = "target" if setting == "target" else "ignored column"
    return f"names the column {twice[0]!r} twice; give each {what} once"


def other_case(name: str, known: Iterable[Any]) -> Any | None:
    """The entry of ``known`` that is ``name`` in another case (``'Height'`` for
    ``'height'``), or None: the likely slip where a column is not found by its name."""
    folded = name.casefold()
    return next((k for k in known if str(k).casefold() == folded), None)


def nearest(word: str, known: Sequence[str]) -> str | None:
    """The entry of ``known`` nearest to ``word`` (``relu`` for ``relux``, ``lr`` for ``LR``),
    or None when nothing is near: for the "did you mean" of a mistyped name or value.

    Compared in lower case: difflib weighs 'LR' against 'lr' as two different letters each,
    so `LR: 0.1` (or `Learning_Rate`) got no suggestion at all."""
    by_low = {k.lower(): k for k in known}
    low = word.lower()
    if low in by_low:
        return by_low[low]
    close = difflib.get_close_matches(low, list(by_low), 1)
    return by_low[close[0]] if close else None


def is_bool(value: Any) -> bool:
    """True or False, NumPy's too (``np.True_``, from a mask or a comparison), without
    importing NumPy."""
    kind = type(value)
    return isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    )


def check_switches(where: str, **switches: Any) -> None:
    """Refuse a switch of the Python API that is not True or False (None where it may be:
    ``handle_signals``, ``progress``): ``rerun="false"`` is a non-empty string, so true,
    and would replace a finished run."""
    for name, value in switches.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name}= takes True or False, not {short_repr(value)}")


# How a message asks for a run's folder (the CLI's and the Python API's).
RUN_FOLDER = "a run's folder, e.g. runs/exp/exp-3fa2b1"


def check_path_argument(where: str, name: str, value: Any, what: str) -> Path:
    """Refuse a path argument of the Python API that is empty or blank, or no path at all:
    ``Path("")`` is the current folder, which no one means (the CLI refuses ``''`` too).
    Returns it as a Path, ``~`` and ``$NAME`` expanded (:func:`expanded_path`)."""
    if not isinstance(value, str | os.PathLike):
        raise ConfigError(
            f"{where}: {name}= takes a path, not {short_repr(value)} ({type(value).__name__})"
        )
    if isinstance(value, str) and not value.strip():
        kind = "an empty path (read as the current folder)" if not value else "a blank path"
        raise ConfigError(f"{where}: {name}={value!r} is {kind}; give {what}")
    return user_path(value)


def unexpanded_output(
    path: str | os.PathLike[str],
    instead: str = "give the path without it",
    shown: Callable[[str], str] = str,
) -> str | None:
    """Why an output path (a folder or file to be made) is refused: a ``~`` or ``$NAME``
    left in it once expanded (an unset variable, an empty HOME), which would make a folder
    of that name here, and `rm -rf ~` take the home folder for it; else None. ``instead``
    ends the line, ``shown`` writes the part."""
    part = unexpanded_part(os.fspath(path))
    if part is None:
        return None
    what = "names no home folder known" if part.startswith("~") else "is empty or not set"
    return f"{shown(part)} {what} here (a folder of that name would be made instead); set it, or {instead}"


def expanded_path(path: str) -> str:
    """``path`` with a leading ``~`` and each ``$NAME`` expanded, as a shell does for a flag.

    Every path mlplab takes goes through it (settings, command-line paths, the Python
    API's): a config's `log_path: ~/runs`, or `report --out=~/r` (no shell expands ``~``
    after ``=``), made a folder named ``~`` here, which `rm -rf ~` then took for the home
    folder. An unset variable (or `$5`) stays as written, and so does a path that exists as
    written (a flag the shell already expanded, quoted to keep its `$`). An empty HOME or
    variable stays too: `~/runs` with HOME= (a cron job's) wrote to /runs.
    """
    if (path.startswith("~") or "$" in path) and not os.path.exists(path) and not _empty_in(path):
        return os.path.expanduser(os.path.expandvars(path))
    return path


def user_path(path: str | os.PathLike[str]) -> Path:
    """A path from a caller as a :class:`~pathlib.Path`, ``~`` and ``$NAME`` expanded."""
    return Path(expanded_path(os.fspath(path)))


def unexpanded_part(path: str) -> str | None:
    """The ``~`` or ``$NAME`` left in ``path`` after expansion (no HOME, an unset
    variable), where no file or folder exists as written; else None."""
    if os.path.exists(path):
        return None
    if path.startswith("~"):
        return path.split("/", 1)[0]
    found = re.search(r"\$(\w+|\{[^}]*\})", path)
    return found.group(0) if found else None


def _empty_in(path: str) -> bool:
    """Whether ``path``'s leading ``~`` or a ``$NAME`` in it would expand to nothing (an
    empty HOME or variable), which makes a relative path one under the root folder."""
    names = [m.strip("{}") for m in re.findall(r"\$(\w+|\{[^}]*\})", path)]
    names += ["HOME"] if re.match(r"~(/|$)", path) else []
    return any(os.environ.get(n) == "" for n in names)


_SURROGATE = re.compile("[\ud800-\udfff]")


def not_utf8(text: str) -> str | None:
    """``text`` as it can be shown, its bytes that are not UTF-8 as ``\\xNN``, where it
    holds any; else None. Python holds such bytes of a name from the OS (a file name from
    an old latin-1 archive) as lone surrogates, which no UTF-8 file can hold: a run's
    config.yaml failed half-written, and a report's table."""
    if _SURROGATE.search(text) is None:
        return None
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


# RunDiverged's advice, which a caller that knows the cause better drops (the scale of a
# regression's target, where a lower lr diverges again).
LOWER_LR = ". Try a lower lr"


def note_says_why(message: str, where: str = "above") -> str:
    """A diverged run's ``message`` with its lower-lr advice swapped for a pointer to the
    note (``where``: above, below) that names the cause."""
    return message.split(LOWER_LR)[0] + f"; the note {where} says why"


class RunDiverged(Exception):
    """The loss became NaN or inf; the run is recorded with status ``diverged``."""

    def __init__(self, step: int, loss: float, lr: float) -> None:
        self.step = step
        self.loss = loss
        self.lr = lr
        super().__init__(
            f"loss became {loss} at step {step}; the run diverged"
            f"{LOWER_LR} (now {lr:g}, for example --lr {lr / 10:g})."
        )


# Held by each of mlplab's changes to the warnings machinery (its filters, showwarning),
# which are the whole process's: catch_warnings puts back what it found when it ends, so
# two such blocks that overlapped in threads (a service that trains in threads) left one's
# filters in place for good, and the application's own ParserWarnings became errors.
_WARNINGS_HELD = threading.RLock()


@contextlib.contextmanager
def warnings_caught(*, record: bool = False) -> Iterator[list[warnings.WarningMessage]]:
    """``warnings.catch_warnings(record=record)`` one thread at a time; what was recorded
    (an empty list without ``record``). Every change mlplab makes to the warnings
    filters or ``showwarning`` goes in one of these."""
    with _WARNINGS_HELD, warnings.catch_warnings(record=record) as said:
        yield said if said is not None else []


def _fresh_warnings_lock() -> None:
    """A forked child has none of its parent's threads: none would release the lock."""
    global _WARNINGS_HELD
    _WARNINGS_HELD = threading.RLock()


os.register_at_fork(after_in_child=_fresh_warnings_lock)


def one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line on stderr, as mlplab's notes are: Python's own form adds the
    source file and line of the code that warned, which a command's user has no use for
    (a failed plot read as a traceback). Another library's warning keeps its category.
    The CLI and a sweep's worker processes show warnings so (``warnings.showwarning``)."""
    text = " ".join(str(message).split())
    if not text.startswith("mlplab"):
        text = f"mlplab: warning: {text} ({category.__name__})"
    with contextlib.suppress(OSError, ValueError):  # a closed stderr loses the line only
        print(text, file=file or sys.stderr)


def install_hint(extra: str) -> str:
    """How to add an optional part: from the package index, and in a clone set up by
    ``./scripts/quickstart`` (whose .venv a bare `pip` may not be)."""
    return (
        f"install it with `pip install 'mlplab[{extra}]'` (in a clone of mlplab: "
        f"`.venv/bin/pip install -e '.[{extra}]'` there)"
    )
