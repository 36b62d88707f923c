"""result.json files under a folder -> one pandas DataFrame, one row per run.

Works on a ``log_path`` (every experiment under it), a ``log_path/exp_name`` folder, or a
single run directory. Files that cannot be used are listed with the reason, never
dropped without a word. Scalar values become columns as they are; the per-epoch curves
(``train_losses``, ``val_accs``, ...) stay as Python lists in object columns for the
plots. A ``run_dir`` column says where each row came from.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlplab.config import HASH_EXCLUDED, Config, open_regular, unused_by, widths_as_hid_dims
from mlplab.errors import ConfigError, not_utf8, shorten
from mlplab.reports.aggregate import key_text
from mlplab.runs.record import SPLIT_METRICS

# Settings that never count as swept variables: ``seed`` is the replicate axis, the rest
# only change how a run is watched or where it is written. A report over a whole log_path
# keeps experiments apart by giving each ``exp_name`` its own table.
NOT_VARIABLES = HASH_EXCLUDED | {"seed"}
# The largest sweep spec (sweep-*.yaml) read. A sweep has at most 100,000 runs
# (MAX_SWEEP_CONFIGS), whose ids the spec lists: 21 MB where each exp_name has the
# longest 200 characters, a few more for a `--search list` of long values; a 10,000-run
# spec of a usual name is 0.2 MB.
MAX_SPEC_BYTES = 64 << 20


# A run's own folders, which hold no runs: not walked.
_RUNS_OWN = frozenset({"checkpoints", "plots", "plots-best"})


def find_results(
    root: str | Path,
    missing: list[Path] | None = None,
    unreadable: list[OSError] | None = None,
    above: list[Path] | None = None,
) -> list[Path]:
    """Every run's ``result.json`` under ``root`` (sorted), skipping hidden folders.

    ``missing`` gets the result.json paths of run folders that lack theirs: a folder with
    a config.yaml and mlplab's own files of a run (curves.npz, or a checkpoint named as
    mlplab names them), whose record was deleted. A project's config.yaml beside a
    checkpoints/ folder of its own is no run. ``unreadable`` gets the error of each folder
    that cannot be listed (os.walk passes over them without a word). ``above`` gets each
    result.json whose folder holds runs (a copy set beside them, which is no run's): it
    hid every run below it.
    """
    found = []
    # os.walk, pruning hidden folders as it goes: rglob over 10,000 run folders (each
    # with checkpoints and plots) took seconds.
    on_error = unreadable.append if unreadable is not None else None
    # Linked folders are followed (a course's reference runs linked into one's runs/ were
    # left out, with "no runs"), each place once: a link into a folder the walk reaches
    # anyway, or into one it followed already, would count its runs twice, or loop.
    walked = [os.path.realpath(root)]
    for folder, subdirs, files in os.walk(root, onerror=on_error, followlinks=True):
        is_run = "result.json" in files
        if is_run:
            found.append(os.path.join(folder, "result.json"))
        elif missing is not None and "config.yaml" in files and _run_files(folder, files):
            missing.append(Path(folder) / "result.json")
        subdirs[:] = [
            d
            for d in subdirs
            if not d.startswith(".")
            and not (is_run and d in _RUNS_OWN)
            and _walk_into(os.path.join(folder, d), walked)
        ]
    folders = {Path(p).parent for p in found}
    over = {f for p in folders for f in p.parents if f in folders}
    if above is not None:
        above += sorted(f / "result.json" for f in over)
    return [Path(p) for p in sorted(found) if Path(p).parent not in over]


def _walk_into(path: str, walked: list[str]) -> bool:
    """Whether the walk goes into ``path``: a folder, or a link to a place outside (and
    not above) every place walked so far, which it then adds to ``walked``."""
    if not os.path.islink(path):
        return True
    target = os.path.realpath(path)
    if any(os.path.commonpath([target, w]) in (target, w) for w in walked):
        return False  # inside a place walked (its runs counted there), or above one
    walked.append(target)
    return True


def _run_files(folder: str, files: list[str]) -> bool:
    """Whether ``folder`` holds files that only an mlplab run writes."""
    checkpoints = Path(folder) / "checkpoints"
    return "curves.npz" in files or any(
        (checkpoints / f"{which}.safetensors").is_file() for which in ("last", "best")
    )


@dataclass
class Skipped:
    """A result.json the report left out, and why (one line)."""

    path: Path
    reason: str


def load_runs(path: str | Path, exp_name: str | None = None) -> tuple[pd.DataFrame, list[Skipped]]:
    """The runs under ``path`` (or ``path/exp_name``) and the files that were left out.

    A file is left out when it is not valid JSON (a damaged file, or one being written
    right now), is not a JSON object, has a ``status`` that is not one of
    :data:`mlplab.runs.record.STATUSES`, or a setting or result of the wrong type
    (:func:`record_damage`).

    Returns
    -------
    (DataFrame, list of Skipped)
        One row per run; columns: every key of result.json plus ``run_dir`` and ``task``
        (``classification`` or ``regression``). List-valued settings (``target``,
        ``split``) become JSON text so rows can be grouped; settings that do not apply
        (:func:`mlplab.config.unused_by`: the hidden layers' settings of a linear model,
        ``mm`` of adam, ``lr_step`` without the step schedule) become None.

    Raises
    ------
    ConfigError
        When the folder does not exist or holds no run that can be read.
    """
    from mlplab.runs.record import STATUSES

    if exp_name is not None and not isinstance(exp_name, str):
        raise ConfigError(
            f"report: exp_name is one experiment's name (text), not a {type(exp_name).__name__}; "
            "leave it out to report every experiment under the folder"
        )
    if exp_name is not None and _not_a_name(exp_name):
        # `--exp_name ../L2` read L2 and wrote the report into it; train refuses it too.
        raise ConfigError(
            f"report: exp_name {exp_name!r} is one experiment's folder name, with no '/' "
            "and not '.' or '..'; give the folder that holds it as LOG_PATH"
        )
    root = Path(path) / exp_name if exp_name else Path(path)
    if (shown := not_utf8(str(root))) is not None:
        # Its runs' folders, in the table, are text that no CSV or table can hold.
        raise ConfigError(
            f"report: the folder name '{shorten(shown, 200)}' is not UTF-8 text; rename the folder"
        )
    if root.is_dir() and root.resolve() == Path(root.resolve().anchor):
        # A slip (`report /`): the walk took the whole disk, and wrote the page at its root.
        raise ConfigError(
            f"report: {str(root)!r} is the filesystem's root, not a folder of runs; give the "
            "folder the runs were written to (their --log_path; runs by default)"
        )
    if not root.is_dir():
        if exp_name and Path(path).is_dir():
            names = sorted(d.name for d in Path(path).iterdir() if d.is_dir() and d.name[0] != ".")
            raise ConfigError(
                f"report: {str(path)!r} has no experiment {exp_name!r}"
                + (f" (its experiments: {', '.join(names)})" if names else " (it is empty)")
            )
        # Where a relative path was looked for: a report run from another folder than the
        # training was said "no run has been written to it" of runs just written.
        here = "" if root.is_absolute() else f" in {os.getcwd()}"
        why = (
            "it is a file"
            if root.exists()
            else f"nothing is there{here}: no run has been written to it"
        )
        raise ConfigError(f"report: {str(root)!r} is not a folder ({why})")
    rows: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for file, record in read_records(root, skipped):
        status = record.get("status")
        if status not in STATUSES:
            skipped.append(
                Skipped(file, f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
            )
            continue
        damage = record_damage(record) or _not_utf8_text(file, record)
        if damage:
            skipped.append(Skipped(file, damage))
            continue
        if newer := _newer_settings(file, record):
            # A newer mlplab's run of a setting this one does not know: grouped by the
            # settings known here, runs that differ in it were one config's seeds.
            skipped.append(Skipped(file, newer))
            continue
        record = dict(record)  # the table keeps the record as read
        _older_rmse(record)
        for stamp in ("started_at", "finished_at"):
            # A record written before mlplab kept them: a blank, so that the columns are
            # there (rep.runs["started_at"]) whichever records a folder holds.
            record.setdefault(stamp, None)
        for name, info in Config.model_fields.items():
            if name not in record and name not in ("seed", "log_path"):
                # A record from before this setting existed trained as its default does:
                # left blank, it would split that config's replicates from newer runs'.
                # (No record keeps log_path, so that it can move: run_dir says where it is.)
                record[name] = info.get_default(call_default_factory=True)
            if isinstance(record.get(name), list):
                # This text is what the tables, CSVs and report.html show: a column
                # named étiquette must read as such, not as \u00e9tiquette.
                record[name] = json.dumps(record[name], ensure_ascii=False)
        if isinstance(record.get("data_shown"), str):
            # An estimator's arrays, named without the class weights its class_weight
            # column shows: one dataset however its classes were weighted.
            record["data"] = record["data_shown"]
        weights = record.get("class_weights")
        if record.get("class_weight") == "per class" and isinstance(weights, dict):
            # An estimator's dict of class weights: the column tells two dicts apart.
            shown = ", ".join(f"{k} {v:g}" for k, v in weights.items() if isinstance(v, float))
            record["class_weight"] = f"per class ({shown})"
        blank_unused_settings(record)
        # Absolute: results.csv is read from anywhere (pandas in another folder, the page
        # written with --out elsewhere), where a path relative to the report's cwd led nowhere.
        record["run_dir"] = str(file.parent.absolute())
        record["task"] = record_task(record)
        rows.append(record)
    if not rows:
        raise ConfigError(
            f"report: no runs (result.json files) under {str(root)!r}{_unusable(root, skipped)}"
        )
    widths_as_hid_dims(rows)  # hid_dims 16-16 and n_layer 2, hid_dim 16: one config
    return pd.DataFrame(rows), skipped


def _older_rmse(record: dict[str, Any]) -> None:
    """Give a one-target regression record from before mlplab wrote RMSE its
    ``{split}_rmse``, the root of its MSE, in place: ranked by ``val_rmse``, a sweep of
    older and newer runs fell back to the MAE, and its configs' means mixed runs with the
    number and without. (With several targets, RMSE is the mean of each target's, which an
    older record does not hold: left out.)"""
    targets = record.get("target")
    if record_task(record) != "regression" or (isinstance(targets, list) and len(targets) > 1):
        return
    for split in ("train", "val", "test"):
        mse = record.get(f"{split}_mse")
        if f"{split}_rmse" not in record and isinstance(mse, float) and 0 <= mse < math.inf:
            record[f"{split}_rmse"] = math.sqrt(mse)


def path_text(path: str | Path) -> str:
    """``path`` as text a UTF-8 page or table can hold: the bytes of a name that are not
    UTF-8 as ``\\xNN``."""
    return not_utf8(str(path)) or str(path)


def quoted_path(path: str | Path) -> str:
    """``path`` quoted as ``repr`` quotes it, or with its bytes that are not UTF-8 as
    ``\\xNN`` (its repr would show the surrogates that stand for them)."""
    shown = not_utf8(str(path))
    return repr(str(path)) if shown is None else f"'{shown}'"


def _not_utf8_text(file: Path, record: dict[str, Any]) -> str | None:
    """Why a run cannot enter the tables, whose text is UTF-8: its folder's name (a run
    folder renamed), or a text of its record, is not UTF-8 text; else None."""
    folder = file.parent.absolute()
    if not_utf8(str(folder)) is not None:
        # The first folder on the way whose name is not UTF-8: the run's own, or one
        # above it that the report's tables name too (a relative log_path trained there).
        bad = next(p for p in (*reversed(folder.parents), folder) if not_utf8(p.name))
        named = shorten(not_utf8(str(bad)) or str(bad), 200)
        return f"the folder name '{named}' is not UTF-8 text; rename that folder"
    for key, value in record.items():
        # Lists of text (class names, columns) looked into; curves of numbers not: a
        # long run's hold thousands of floats.
        texts = (
            value if isinstance(value, list) and value and isinstance(value[0], str) else [value]
        )
        for text in texts:
            if isinstance(text, str) and (shown := not_utf8(text)) is not None:
                return f"its {key!r} holds '{shorten(shown, 200)}', which is not UTF-8 text"
    return None


# The files a report with no usable run names in its one line (print_skipped lists up to
# ten, on lines of their own, when some run was usable and the report goes on).
NAMED_UNUSABLE = 3


def _unusable(root: Path, skipped: list[Skipped]) -> str:
    """' (N result.json files could not be used: PATH: why; ...)', or '' when none.

    The count alone ('1 result.json file could not be used') left its user to hunt for
    the file and guess what was wrong with it.
    """
    if not skipped:
        return ""
    named = "; ".join(
        f"{quoted_path(_under(s.path, root))}: {shorten(s.reason, 160)}"
        for s in sorted(skipped, key=lambda s: s.path)[:NAMED_UNUSABLE]  # in path order
    )
    more = f"; and {len(skipped) - NAMED_UNUSABLE} more" if len(skipped) > NAMED_UNUSABLE else ""
    count = f"{len(skipped)} result.json file{'s' if len(skipped) > 1 else ''}"
    return f" ({count} could not be used: {named}{more})"


def _under(path: Path, root: Path) -> Path:
    """``path`` from ``root`` on (the line names ``root`` already), else as it is."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _newer_settings(file: Path, record: dict[str, Any]) -> str | None:
    """Why a run written by a newer mlplab is left out: its config.yaml names a setting this
    one does not know. Only a newer version's record is read so (its config.yaml: one more
    file, for the rare record that may need it)."""
    from mlplab import __version__
    from mlplab.config import read_yaml, unknown_settings

    def parts(version: Any) -> tuple[int, ...]:
        return tuple(int(p) for p in str(version).split("+")[0].split(".") if p.isdigit())

    version = record.get("mlplab_version")
    if parts(version) <= parts(__version__):
        return None
    try:  # as any config is read: a regular file of at most 1 MiB, of bounded aliases
        settings = read_yaml(file.parent / "config.yaml")
    except (OSError, ConfigError):  # its own fault, reported as before
        return None
    unknown = unknown_settings(settings)
    if not unknown:
        return None
    return (
        f"written by mlplab {version}, with the setting {unknown[0]!r}, which mlplab "
        f"{__version__} does not know: upgrade mlplab to report it"
    )


def read_records(root: Path, skipped: list[Skipped]) -> list[tuple[Path, dict[str, Any]]]:
    """Every result.json under ``root`` that is a JSON object, with its path, in path order.

    The runs of a sweep's folder come from its tables (:mod:`mlplab.reports.tables`) where
    those still match the records; the others are read from their files, and the tables
    of a sweep's folder are rewritten to match. Files that cannot be used go to
    ``skipped``.
    """
    from mlplab.reports.tables import is_sweep_folder, read_tables, stamp, write_tables

    by_folder: dict[Path, list[Path]] = {}
    missing: list[Path] = []
    unreadable: list[OSError] = []
    above: list[Path] = []
    for file in find_results(root, missing, unreadable, above):
        by_folder.setdefault(file.parent.parent, []).append(file)
    for file in above:
        skipped.append(
            Skipped(file, "not a run's record: its folder holds runs (a copy set beside them?)")
        )
    for err in unreadable:  # a folder it may not list may hold runs: named, as left out
        where = Path(str(err.filename or root))
        skipped.append(Skipped(where, f"a folder that cannot be listed ({err.strerror or err})"))
    for file in sorted(missing):  # left out silently, a run would vanish from its table
        skipped.append(
            Skipped(file, "missing: the run folder holds its config.yaml and curves or "
                    "checkpoint, but no record of how the run ended")
        )  # fmt: skip
    out: list[tuple[Path, dict[str, Any]]] = []
    for folder, files in by_folder.items():
        # Only a folder whose every run folder was found (root or under it) keeps tables:
        # the report of one run must not cut its sweep's tables down to that run.
        whole = folder == root or root in folder.parents
        tables = read_tables(folder) if whole else {}
        now: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        for file in files:
            try:
                st = stamp(file)
            except OSError as err:
                skipped.append(Skipped(file, f"cannot be read ({err})"))
                continue
            entry = tables.get(file.parent.name)
            record = entry[1] if entry is not None and entry[0] == st else _read(file, skipped)
            if record is not None:
                now[file.parent.name] = (st, record)
                out.append((file, record))
        changed = now.keys() != tables.keys() or any(now[k][0] != tables[k][0] for k in now)
        if changed and whole and is_sweep_folder(folder) and _yours(folder):
            with contextlib.suppress(OSError):  # a read-only folder: read again next time
                write_tables(folder, now)
    return out


def _yours(folder: Path) -> bool:
    """Whether ``folder`` belongs to the user reporting: a report of a class's shared
    folder reads the others' sweeps without rewriting their tables (a cache, which their
    own reports bring up to date)."""
    try:
        return not hasattr(os, "getuid") or folder.stat().st_uid == os.getuid()
    except OSError:
        return False


# The largest result.json a report reads: mlplab's are a few kB (curves thinned to ~250
# points; a 1,000-class confusion matrix is ~4 MB); a sparse 2 GB one took 4 GB to report.
RECORD_MAX_BYTES = 64 * 1024 * 1024


def _read(file: Path, skipped: list[Skipped]) -> dict[str, Any] | None:
    try:
        text = _record_text(file)
    except _NotARecord as why:
        skipped.append(Skipped(file, str(why)))
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        skipped.append(Skipped(file, f"not valid JSON ({err})"))
        return None
    except RecursionError:  # arrays in arrays, thousands deep: no record mlplab writes
        skipped.append(Skipped(file, "not valid JSON (nested too deep)"))
        return None
    if not isinstance(record, dict):
        skipped.append(Skipped(file, "not a JSON object"))
        return None
    return record


def _link_owner(file: Path) -> int | None:
    """The owner of ``file`` where it is a link to a file of that same owner; else None."""
    try:
        owner = file.lstat().st_uid
        return owner if file.is_symlink() and file.stat().st_uid == owner else None
    except OSError:
        return None


class _NotARecord(Exception):
    """Why a file named result.json is not read as a run's record."""


def _record_text(file: Path) -> str:
    """The text of ``file``, checked as it is opened: a plain file (a FIFO would wait for
    a writer forever), at most RECORD_MAX_BYTES, and no link to a file of another owner
    than the link's (a report of a shared folder put into its page whatever file someone's
    link named that its reader may read). A link to its own owner's file is read: DVC's
    and git-annex's runs are links into their caches."""
    flags = os.O_RDONLY | os.O_NONBLOCK
    linked = "a link to another owner's file, not read: a run's record is a file of its own "
    linked += "folder, or a link its owner made to a file of theirs"
    owner = _link_owner(file)
    try:
        fd = os.open(file, flags | (0 if owner is not None else os.O_NOFOLLOW))
    except OSError as err:
        raise _NotARecord(linked if file.is_symlink() else f"cannot be read ({err})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if owner is not None and st.st_uid != owner:  # the link pointed elsewhere meanwhile
            raise _NotARecord(linked)
        if not stat.S_ISREG(st.st_mode):
            raise _NotARecord("not a regular file")
        if st.st_size > RECORD_MAX_BYTES:
            raise _NotARecord(
                f"{st.st_size / 2**20:,.0f} MB, too large for a run's record (mlplab's are a "
                f"few kB; a report reads up to {RECORD_MAX_BYTES // 2**20} MB)"
            )
        try:
            return f.read(RECORD_MAX_BYTES + 1).decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _NotARecord(f"cannot be read ({err})") from None


# A run's results, one number each (or null: not measured).
RESULT_NUMBERS = (*SPLIT_METRICS, "best_val_loss", "wall_time_s")


def record_damage(record: dict[str, Any]) -> str | None:
    """Why a result.json cannot count as a run (a setting or result of the wrong type,
    an accuracy outside [0, 1]), or None. Such a record is edited or damaged: counted, it
    would crash the table or move a mean without a word."""
    for name, info in Config.model_fields.items():
        default = info.default
        if isinstance(default, int | float) and not isinstance(default, bool):
            value = record.get(name, default)
            if value is None and name == "data_seed":
                continue  # an estimator's fit: its seed drew the split (split_drawn_by)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"setting {name!r} is {value!r}, not a number"
    if record.get("status") == "finished":
        # A finished run's final metrics, each of which a table averages over seeds: one
        # missing made a mean over fewer runs than the table's count of them.
        metric = "mae" if record_task(record) == "regression" else "acc"
        # A run without a test split (split 0.9 0.1 0, n_test 0) has no test metrics.
        splits = ("train", "val") if record.get("n_test") == 0 else ("train", "val", "test")
        for split in splits:
            for kind in ("loss", metric):
                if record.get(f"{split}_{kind}") is None:  # null too: a mean of fewer runs
                    return f"finished, but its result '{split}_{kind}' is missing"
    for name in RESULT_NUMBERS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"result {name!r} is {value!r}, not a number"
        if not math.isfinite(value):
            # mlplab writes null for these: one edited in moved a mean to NaN, or sent a
            # regression's ranking to val_mae without a word.
            return f"result {name!r} is {value!r}, not a finite number (mlplab writes null)"
        if name.endswith(("_acc", "_bacc", "_f1")) and not 0 <= value <= 1:
            what = "an F1 score" if name.endswith("_f1") else "an accuracy"
            return f"result {name!r} is {value!r}, not {what} in [0, 1]"
    return None


def _not_a_name(exp_name: str) -> bool:
    """Whether ``exp_name`` leads elsewhere than a folder in log_path (a path, ``..``)."""
    seps = {"/", os.sep, os.altsep or "/"}
    return exp_name in (".", "..") or any(sep in exp_name for sep in seps)


def collect(path: str | Path, exp_name: str | None = None) -> pd.DataFrame:
    """Load the runs under ``path`` (or ``path/exp_name``) into a DataFrame.

    :func:`load_runs` without the list of files left out.
    """
    return load_runs(path, exp_name)[0]


def blank_unused_settings(record: dict[str, Any]) -> None:
    """Set the settings that did not shape this run to None, in place (the rule of
    :func:`mlplab.config.unused_by`): ``mm`` of an adam run, ``lr_step`` without the step
    schedule. Runs that differ only in them trained the same model."""
    for name in unused_by(record):
        if name in record:
            record[name] = None


def record_task(record: dict[str, Any]) -> str:
    """``regression`` or ``classification``, from ``task_type`` (or the metrics present)."""
    task_type = record.get("task_type")
    if task_type is None:
        return "regression" if "val_mae" in record or "test_mae" in record else "classification"
    return "regression" if task_type == "regression" else "classification"


def swept_variables(runs: pd.DataFrame, order: list[str] | None = None) -> list[str]:
    """The settings that take more than one value among ``runs`` (never ``seed``).

    ``order`` (a sweep's axis order) puts those axes first; the rest follow in the order
    the settings are declared.
    """
    names = [n for n in Config.model_fields if n in runs and n not in NOT_VARIABLES]
    varying = [n for n in names if _distinct(runs[n]) > 1]
    first = [n for n in order or [] if n in varying]
    return first + [n for n in varying if n not in first]


def scalar_columns(runs: pd.DataFrame) -> list[str]:
    """Columns whose values are not lists (what results.csv holds)."""
    # Only object columns can hold lists; numbers and booleans are scalars by their dtype.
    return [
        c
        for c in runs.columns
        if runs[c].dtype != object or not runs[c].map(lambda v: isinstance(v, list | dict)).any()
    ]


def _distinct(column: pd.Series) -> int:
    """Distinct values, None and NaN counted as one (as :func:`key_text` reads them)."""
    if column.dtype != object:
        return int(column.nunique(dropna=False))
    return int(column.map(key_text).nunique())


def spec_files(root: str | Path, deep: bool = True) -> list[Path]:
    """The ``sweep-*.yaml`` files in ``root`` or (``deep``, where root holds none) its
    experiment folders, oldest first. A sweep writes its spec beside its runs, in
    ``log_path/exp_name``; the run folders below are not searched (globbing 10,000 run
    folders for one took 2 s)."""
    root = Path(root)
    found = list(root.glob("sweep-*.yaml"))
    if not found and deep:
        found = list(root.glob("*/sweep-*.yaml"))
    return sorted(found, key=lambda p: p.stat().st_mtime)


def read_spec(path: Path) -> dict[str, Any]:
    """A sweep's spec, or {} where it cannot be read: a regular file of at most
    :data:`MAX_SPEC_BYTES` (a FIFO would hang the report, /dev/zero fill its memory).
    libyaml's safe loader where PyYAML has it: the pure-Python one took 0.7 s for the
    run ids of a 10,000-run sweep."""
    import yaml

    try:
        with open_regular(path) as f:
            raw = f.read(MAX_SPEC_BYTES + 1)
        if len(raw) > MAX_SPEC_BYTES:
            return {}
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(raw.decode("utf-8"), Loader=loader)  # a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return spec if isinstance(spec, dict) else {}


def read_axis_order(root: str | Path, deep: bool = True) -> list[str]:
    """Axis order of the newest sweep spec (:func:`spec_files`); empty if none."""
    specs = spec_files(root, deep)
    axes = read_spec(specs[-1]).get("axes") if specs else None
    return list(axes) if isinstance(axes, dict) else []


def runs_without_record(root: str | Path) -> dict[str, list[str]]:
    """The run ids that a sweep's spec (:func:`spec_files`) lists and whose folder is
    gone, by spec file name: a seed deleted, or never trained, leaves its config's mean
    over the others without a word. (A folder left without its result.json is named by
    :func:`load_runs`.)"""
    missing: dict[str, list[str]] = {}
    for spec_file in spec_files(root):
        ids = read_spec(spec_file).get("runs")
        if not isinstance(ids, list):
            continue  # a spec that cannot be read names nothing
        gone = [str(i) for i in ids if isinstance(i, str) and not (spec_file.parent / i).exists()]
        if gone:
            missing[spec_file.name] = gone
    return missing
