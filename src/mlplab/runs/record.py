"""A run's directory and the files that describe it.

Layout, under ``log_path/exp_name/exp_name-HASH/``::

    config.yaml        the resolved config (works again as --config)
    result.json        every setting merged with the results (the lectures' format)
    metrics.csv        one row per validation: epoch, train and val loss and metric, lr
    events.out.tfevents.*   TensorBoard scalars and hparams
    checkpoints/last.safetensors, checkpoints/best.safetensors
    plots/*.png        loss curves, decision surfaces, ...

``status`` in result.json is ``running`` while training, then ``finished``,
``interrupted``, ``diverged``, ``failed`` or ``pruned``. Only ``finished`` counts as done
for sweeps.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlplab.config import Config, open_regular, settings_as_yaml, without_unset_later
from mlplab.errors import ConfigError, DataError
from mlplab.runs.atomic import atomic_write_json, atomic_write_text

FINISHED = "finished"
# pruned: stopped by a search's prune hook (``mlplab.training.loop.fit``), by design.
PRUNED = "pruned"
STATUSES = ("running", FINISHED, "interrupted", "diverged", "failed", PRUNED)
# The final numbers a record holds of each split: train_loss, val_acc, test_mae, ...
# (bacc: balanced accuracy, f1: of class 1 or macro; see training.metrics.class_metrics)
SPLIT_METRICS = tuple(
    f"{split}_{m}"
    for split in ("train", "val", "test")
    for m in ("loss", "acc", "bacc", "f1", "mae", "mse", "rmse", "r2")
)
# Free space a run needs before it starts: a lab run writes 0.2 to 0.8 MB (README, Disk
# use); 16 MiB refused runs that fit on a small quota. One that fills the disk later
# stops in one line, and the same command continues it once there is room.
MIN_FREE_BYTES = 4 * 1024 * 1024


def record_settings(cfg: Config) -> dict[str, Any]:
    """The settings a record keeps: all but ``log_path``.

    A record's place is where it lies (``log_path/exp_name/RUN``), so no file in it names
    the machine's path, and a record moves to another ``log_path`` (on Ray, or by hand)
    as it is, with no rewriting.
    """
    d = cfg.to_dict()
    d.pop("log_path", None)
    return d


def saved_settings(cfg: Config) -> dict[str, Any]:
    """The settings a run's config.yaml and checkpoints keep: :func:`record_settings`
    less the later-added ones left unset, which an earlier mlplab refused as unknown
    (result.json keeps them all, for the scripts that read it)."""
    return without_unset_later(record_settings(cfg))


def run_name(cfg: Config) -> str:
    return cfg.run_id()


def run_dir_of(cfg: Config) -> Path:
    return Path(cfg.log_path) / cfg.exp_name / run_name(cfg)


def log_path_of(run_dir: str | Path) -> Path:
    """The log_path a run folder lies in (``log_path/exp_name/RUN``): two folders up, as
    the path gives them (``runs/exp/exp-1a2b3c``: ``runs``; ``exp/exp-1a2b3c``: ``.``),
    or from its absolute path where it names fewer (``.`` or ``exp-1a2b3c``, given from
    inside: their ``.parent.parent`` is ``.``, which put a run's record inside itself)."""
    run_dir = Path(run_dir)
    if len(run_dir.parts) >= 2 and ".." not in run_dir.parts[-2:]:  # `..`'s parent is `.`
        return run_dir.parent.parent
    return Path(os.path.abspath(run_dir)).parent.parent


def run_folder_around(folder: str | Path) -> Path | None:
    """The run folder (one holding result.json) that ``folder`` is or lies in, at any depth
    (a run's checkpoints/ and plots/ too), or None: what is written there changes a record."""
    # Resolved, so that a link or `..` cannot lead into a run's record unseen; realpath,
    # not Path.resolve, which raises on a loop of links (the writer names that later).
    here = Path(os.path.realpath(folder))
    for f in (here, *here.parents):
        if os.path.isfile(f / "result.json"):  # False, not PermissionError, behind a mode 000
            return f
    return None


def others_run(run_dir: Path) -> str | None:
    """The name of the user whose run folder ``run_dir`` is, where that is not this
    process's user (another student's, in a shared log_path); None where it is ours, or
    cannot be told (no such folder, or a system without user ids)."""
    geteuid = getattr(os, "geteuid", None)
    try:
        owner = run_dir.stat().st_uid
    except OSError:
        return None
    if geteuid is None or owner == geteuid():
        return None
    try:
        import pwd

        return pwd.getpwuid(owner).pw_name
    except (ImportError, KeyError):
        return f"user {owner}"


def refuse_others_run(cfg: Config, run_dir: Path, what: str) -> None:
    """Refuse a run of other rows in another user's folder of this config: in a shared
    log_path, two students' own ``data.csv`` are two files of one name, and one's command
    was told the file "has changed" and to give --rerun, which replaced the other's
    finished run (their interrupted one it replaced unasked)."""
    owner = others_run(run_dir)
    if owner is None:
        return
    raise DataError(
        f"{run_dir} holds {owner}'s {what} run of this config, trained on other rows of "
        f"data file {cfg.data!r} (their file of that name, it may be): give another "
        "--exp_name, or the data file's absolute path as --data, to train yours beside it "
        f"(--rerun would replace {owner}'s run)"
    )


def run_folder_hint(path: Path) -> str | None:
    """What to give for ``path``, which is not a run folder, or None where nothing is known:
    the run folder above a path inside one (its checkpoints/ or plots/), a run of an
    experiment folder, or where a relative path was looked for."""
    here = Path(os.path.abspath(path))
    for up in list(here.parents)[:2]:  # RUN/checkpoints/last.safetensors, RUN/plots
        if _is_run(up):
            shown = str(up) if path.is_absolute() else os.path.relpath(up)
            return f"give the run folder that holds it, {shown!r} (with its config.yaml)"
    try:
        children = sorted(path.iterdir()) if path.is_dir() else []
    except OSError:
        children = []
    runs = [c for c in children if os.path.isfile(c / "config.yaml")]
    if len(runs) == 1:  # log_path/exp_name: a sweep's folder, or that of one train's runs
        return f"it is an experiment folder of 1 run; give that run's folder, {str(runs[0])!r}"
    if runs:
        best = best_finished_run(runs)
        shown = f"the best by {best[1]}, {str(best[0])!r}" if best else repr(str(runs[0]))
        return (
            f"it is an experiment folder of {len(runs)} runs; give one run's folder, "
            f"e.g. {shown} (its results.csv, from mlplab report, ranks them)"
        )
    if not path.is_absolute() and not os.path.lexists(path):  # run from another folder
        return f"it was looked for in {os.getcwd()}"
    return None


def _is_run(folder: Path) -> bool:
    """A run's folder: its config.yaml and its result.json or checkpoints (a project's
    own config.yaml, at its root or at /, was named as the run to give)."""
    return os.path.isfile(folder / "config.yaml") and (
        os.path.isfile(folder / "result.json") or os.path.isdir(folder / "checkpoints")
    )


def best_finished_run(runs: Sequence[Path]) -> tuple[Path, str] | None:
    """The finished run of ``runs`` that ranks first by the report's default metric,
    ``val_acc`` (highest; ties by the lowest ``val_loss``) or a regression's ``val_mse``
    (lowest; ties by ``val_mae``), and that metric's name; None where no record says it.

    A run by itself, not a config's mean over seeds as the report ranks: where seeds
    differ, the report's best run is that of the best config."""
    scored = []
    for run in runs:
        record = read_result(run)
        if record is None or record.get("status") != FINISHED:
            continue
        # task_type, the task the run found: its `task` setting is mostly `auto`
        regression = (record.get("task_type") or record.get("task")) == "regression"
        metric, tie = ("val_mse", "val_mae") if regression else ("val_acc", "val_loss")
        value, second = _finite(record.get(metric)), _finite(record.get(tie))
        if value is None:
            continue
        sign = 1.0 if regression else -1.0  # an error is best lowest, accuracy highest
        scored.append((metric, sign * value, math.inf if second is None else second, run))
    if not scored or len({s[0] for s in scored}) > 1:  # several kinds: no one ranking
        return None
    metric, _, _, run = min(scored, key=lambda s: (s[1], s[2], str(s[3])))
    return run, metric


def _finite(value: Any) -> float | None:
    """``value`` as a finite float (a record's metric), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def check_writable(log_path: str | Path) -> None:
    """Fail before training, with one line, if records could not be written."""
    p = Path(log_path)
    inside = run_folder_around(p)
    if inside is not None:
        raise ConfigError(
            f"setting 'log_path': {str(p)!r} is inside the run folder {str(inside)!r}; "
            "give the folder that holds the runs (e.g. runs), not a run"
        )
    up = up_from_missing(p)
    if up is not None:
        # mkdir -p would make the missing folder only to leave it, empty, on the way up.
        same, missing = up
        raise ConfigError(
            f"setting 'log_path': {str(p)!r} goes up (..) out of {str(missing)!r}, which does "
            f"not exist and would be made and left empty; give {str(same)!r}, the same place"
        )
    probe_dir = p
    try:
        while not probe_dir.exists():
            if probe_dir.is_symlink():  # no folder can be made where a link leads nowhere
                raise ConfigError(
                    f"setting 'log_path': {str(probe_dir)!r} is a symbolic link that leads "
                    "nowhere (a loop of links, or a missing target); give a folder"
                )
            probe_dir = probe_dir.parent
    except OSError as err:  # a folder on the way that it may not search (mode 000)
        reason = err.strerror or type(err).__name__
        raise ConfigError(f"setting 'log_path': {str(p)!r} is not writable ({reason})") from None
    if not probe_dir.is_dir():
        raise ConfigError(
            f"setting 'log_path': {str(p)!r} is not a folder ({str(probe_dir)!r} is a file)"
        )
    # Try a real file rather than os.access: root passes every permission check, yet
    # still cannot write to a read-only mount or into /proc.
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(
            f"setting 'log_path': {str(p)!r} is not writable ({reason}); give log_path a "
            "folder you can write to"
        ) from None
    free = shutil.disk_usage(probe_dir).free
    if free < MIN_FREE_BYTES:
        raise ConfigError(
            f"setting 'log_path': only {free // 1024} KiB free on the disk of {str(p)!r}; a "
            f"run needs at least {MIN_FREE_BYTES // 2**20} MiB"
        )


def check_resumable(run_dir: Path, said: str | None = None) -> None:
    """Refuse, in one line, a run to continue (``--resume``, or ``said``: how the same
    command found it) whose folder or checkpoints cannot be written, before it trains:
    with how to continue a copy of it."""
    for folder in (run_dir, run_dir / "checkpoints"):
        if not folder.is_dir():
            continue
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as err:
            raise ConfigError(
                f"{said or f'--resume {str(run_dir)!r}'}: {str(folder)!r} cannot be written "
                f"({err.strerror or type(err).__name__}); to continue it, copy it (cp -r "
                "RUN DIR), make the copy writable (chmod -R u+w DIR) and --resume the copy"
            ) from None


def up_from_missing(path: Path) -> tuple[Path, Path] | None:
    """``path`` written without the ``folder/..`` pairs that mkdir -p would make a missing
    folder for, only to leave it empty on the way up, and the first such folder; None where
    it makes none.

    A folder that is no link (a missing one is made as a real folder) has the path before
    it as its ``..``, so taking out ``folder/..`` names the same place. A link's ``..`` is
    its target's parent, elsewhere: it stays (which is why os.path.normpath would not do).
    """
    kept: list[str] = []
    missing: Path | None = None
    for i, part in enumerate(path.parts):
        here = Path(*kept)
        if part == ".." and kept and kept[-1] not in ("..", here.anchor) and not here.is_symlink():
            if missing is None and not here.exists():
                missing = Path(*path.parts[:i])  # as the user wrote it
            kept.pop()
        else:
            kept.append(part)
    return None if missing is None else (Path(*kept) if kept else Path("."), missing)


def check_run_folders(cfgs: Sequence[Config]) -> None:
    """Fail before training, with one line naming ``exp_name``, where a run's folder could
    not be made: ``log_path/exp_name`` or a run folder is a file or a symbolic link that
    leads nowhere (kept as it is), or the experiment's folder cannot be written to."""
    by_exp: dict[Path, list[str]] = {}
    for cfg in cfgs:
        by_exp.setdefault(Path(cfg.log_path) / cfg.exp_name, []).append(run_name(cfg))
    for exp, runs in by_exp.items():
        places = [(exp, "the experiment's"), *((exp / run, "the run's") for run in runs)]
        for folder, whose in places:
            if folder.exists() and not folder.is_dir():
                raise ConfigError(
                    f"setting 'exp_name': {str(folder)!r} is a file, where {whose} folder "
                    "would be made; give another exp_name or log_path, or move the file away"
                )
            if folder.is_symlink() and not folder.exists():
                # No folder can be made there (mkdir meets the link), and the run stopped
                # midway with "File exists".
                raise ConfigError(
                    f"setting 'exp_name': {str(folder)!r}, where {whose} folder would be, "
                    f"is {_dead_link(folder)}, or give another exp_name or log_path"
                )
            if whose == "the run's" and folder.is_symlink() and not is_finished(folder):
                raise ConfigError(linked_run_line(folder))
        if exp.is_dir():
            try:  # a real file, as check_writable tries: root passes os.access
                with tempfile.TemporaryFile(dir=exp):
                    pass
            except OSError as err:
                reason = err.strerror or type(err).__name__
                raise ConfigError(
                    f"setting 'exp_name': {str(exp)!r} (log_path/exp_name) is not writable "
                    f"({reason}); give another exp_name or log_path"
                ) from None


def linked_run_line(folder: Path) -> str:
    """The line for a run folder that is a symbolic link: a run starting afresh empties
    its folder, which through a link (planted where a classmate's run would go, its name
    known from --print_run_dir) emptied the folder it named, a home folder as well."""
    return (
        f"setting 'exp_name': the run folder {str(folder)!r} is a symbolic link (to "
        f"{os.readlink(folder)!r}); a run is written into a folder of its own, which it "
        "empties to start again: remove the link, or give another exp_name or log_path"
    )


def _dead_link(link: Path) -> str:
    """What a symbolic link that leads nowhere is, and what would mend it, for a one-line
    message: a link to a missing folder (named as the link gives it), or a loop of links."""
    try:
        os.stat(link)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link in a loop of links; remove the link"
    target = os.readlink(link)
    return f"a symbolic link to a missing folder ({target!r}); make that folder, remove the link"


class RunRecord:
    """Writes one run's files. Every write is atomic."""

    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)

    @property
    def result_path(self) -> Path:
        return self.dir / "result.json"

    @property
    def checkpoint_dir(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def plots_dir(self) -> Path:
        return self.dir / "plots"

    def start(self, cfg: Config, fresh: bool = True) -> None:
        """Make the folder (emptied of an earlier attempt's files when ``fresh``); never
        through a link (see :func:`linked_run_line`)."""
        if self.dir.is_symlink():
            raise ConfigError(linked_run_line(self.dir))
        if fresh and self.dir.exists():
            for child in self.dir.iterdir():
                # A link goes, not what it names (rmtree refused it, half-way through).
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)
        if not fresh:
            if self.plots_dir.is_symlink():
                # Not mlplab's: its pictures would replace files of their names wherever
                # the link points (`mlplab plot` refuses it; a resume draws into its own).
                self.plots_dir.unlink()
            # Temp files of writes that a SIGKILL cut short: never renamed, never read.
            for d in (self.dir, self.checkpoint_dir):  # not through a link out of the run
                for tmp in d.glob(".*.tmp") if d.is_dir() and not d.is_symlink() else ():
                    tmp.unlink(missing_ok=True)
        atomic_write_text(self.dir / "config.yaml", settings_yaml(saved_settings(cfg)))

    def write_result(self, result: dict[str, Any]) -> None:
        """Write result.json; a NaN or infinite number is written as null.

        JSON has no NaN: Python's ``NaN`` token breaks strict readers (jq, JavaScript,
        pandas with ``engine="pyarrow"``), so a record stays standard JSON whatever a
        run (or a crafted checkpoint) put into it.
        """
        atomic_write_json(self.result_path, finite_json(result))

    def read_result(self) -> dict[str, Any] | None:
        return read_result(self.dir)

    def write_metrics(self, columns: dict[str, list[Any]]) -> None:
        """metrics.csv from equal-length columns of numbers: a header, then a row per point.

        Joined by hand rather than with ``csv.writer``: numbers never need quoting, and
        building rows of dicts cost more than the rest of a 10,000-epoch record (see
        BENCHMARKS.md). The bytes are csv.writer's (``str`` of each number, CRLF).
        """
        if not columns or not len(next(iter(columns.values()))):
            return
        rows = zip(*(map(str, c) for c in columns.values()), strict=True)
        text = ",".join(columns) + "\r\n" + "".join(",".join(r) + "\r\n" for r in rows)
        atomic_write_text(self.dir / "metrics.csv", text)


def settings_yaml(settings: dict[str, Any]) -> str:
    """Settings as YAML that works again as ``--config`` (libyaml's emitter where present),
    with a column's name as written, not as escapes a student cannot read (UTF-8 files)."""
    return settings_as_yaml(settings)


def finite_json(value: Any) -> Any:
    """``value`` with every NaN and infinity (floats, NumPy scalars) replaced by None.

    Lists of finite floats (the curves) are returned as they are, after one ``sum``.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        try:
            # A finite sum means every element is a finite number: NaN and inf propagate.
            if math.isfinite(sum(value)):
                return value
        except (TypeError, OverflowError):  # not all numbers, or an int past float range
            pass
        return [finite_json(v) for v in value]
    if hasattr(value, "dtype") and hasattr(value, "item"):  # a NumPy scalar or array
        return finite_json(value.tolist())
    return value


def read_result(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's result.json, or None if it is missing, unreadable or not a JSON object."""
    p = Path(run_dir) / "result.json"
    try:
        with open_regular(p) as f:  # a FIFO would block the read for ever: OSError
            record = json.loads(f.read().decode("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None  # RecursionError: nested too deep for the parser, a crafted file
    return record if isinstance(record, dict) else None


def is_finished(run_dir: str | Path) -> bool:
    r = read_result(run_dir)
    return r is not None and r.get("status") == FINISHED
