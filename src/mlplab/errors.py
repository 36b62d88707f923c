"""Errors that mlplab reports to users as one line with exit status 2."""

from __future__ import annotations


class MlplabError(Exception):
    """A mistake in the user's input: a setting, a file, a flag.

    The CLI prints ``mlplab: <message>`` on one line and exits with status 2, with no
    traceback. The message names the setting or file, and the valid choices where there
    are some.
    """

    exit_code = 2

    def __init__(self, message: str = "") -> None:
        super().__init__(one_line(message))


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\r``, ...).

    Messages quote user input (unknown keys, column names, paths) that may hold line
    breaks; escaped, the error still prints as exactly one line.
    """
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


class ConfigError(MlplabError):
    """A setting that is unknown, of the wrong type, or out of range."""


class DataError(MlplabError):
    """A data file or dataset name that cannot be used."""


class CheckpointError(MlplabError):
    """A checkpoint that is missing, truncated, corrupted or unsafe."""


class EngineError(MlplabError):
    """A config that the chosen engine cannot train (never a silent fallback)."""


class RecordError(MlplabError):
    """The run record could not be written mid-run (disk full, folder removed).

    Not a mistake in the input, so the exit status is 1; still one line, no traceback.
    """

    exit_code = 1


class RunDiverged(Exception):
    """The loss became NaN or inf; the run is recorded with status ``diverged``."""

    def __init__(self, step: int, loss: float, lr: float) -> None:
        self.step = step
        self.loss = loss
        self.lr = lr
        super().__init__(
            f"loss became {loss} at step {step}; the run diverged. "
            f"Try a lower lr (now {lr:g}, for example --lr {lr / 10:g})."
        )


class RunInterrupted(Exception):
    """SIGINT or SIGTERM arrived; the loop stopped at a step boundary and checkpointed."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by signal {signum}")
