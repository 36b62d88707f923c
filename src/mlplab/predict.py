"""``mlplab predict RUN_DIR --data new.csv``: a trained model's predictions for new rows.

The run is rebuilt from its folder alone (:func:`mlplab.restore.load_run` with
``data=False``, no retraining): the checkpoint keeps the names, the task and the
standardization, so the training file is not read. The new rows need the run's feature
columns, by name (other columns, a target among them, are left alone); they get the run's
own preprocessing (the training split's standardization) before the model sees them. The
output is a CSV: the predicted class name and each class's probability for
classification, or a value per target for regression. The columns the run left out of its
features (setting ``ignore``, such as an id) come first where the new file has them, so
that each prediction can be matched to its row.
"""

from __future__ import annotations

import errno
import io
import math
import os
import stat
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlplab.console import say_reading, terminal_text
from mlplab.data.dataset import data_row, names_of, not_numeric, shell_flag
from mlplab.data.files import names_as_written, read_npz_features, read_table
from mlplab.data.registry import BUILTIN
from mlplab.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    limit_met,
    other_case,
    warnings_caught,
)
from mlplab.pipes import PipeGuard, lost_output, writes_utf8
from mlplab.restore import check_run_dir, kept_model, load_run, training_files
from mlplab.runs.atomic import atomic_open, why_not_replaceable
from mlplab.runs.checkpoint import saved_estimator_class
from mlplab.runs.record import read_result, run_folder_around
from mlplab.trained import first_non_finite
from mlplab.training.metrics import predicted_classes, probabilities

if TYPE_CHECKING:
    import pandas as pd

# Significant digits of a printed prediction: more than a float32 model holds (about 7), and
# few enough that a row's numbers stay the same whatever other rows the file has (float64
# sums in an order set by the batch's shape, which moves the 16th digit).
PRINTED_DIGITS = 10


def predictions(
    run_dir: str | Path,
    data: str | os.PathLike[str],
    which: str | None = None,
    quiet: bool = False,
    keep: Sequence[str] = (),
    *,
    shown: str | None = None,
) -> pd.DataFrame:
    """The run's predictions for the rows of the data file ``data``, as a DataFrame, by
    its ``last`` model or its ``best`` (lowest validation loss). A note on stderr says
    which model predicts when it is not the one asked for, unless ``quiet``; ``which``
    left out is the model the run kept (:func:`mlplab.restore.kept_model`: the last, with
    a note naming the best where the run stopped early; an estimator's best).

    The columns the run ignored (an id) come first, as written, then those of ``keep``
    (``--keep``: an id, or the true target, to set beside the predictions); a prediction
    named as one of those makes each prediction column ``predicted_NAME``. ``shown``: the
    rows' name in the notes (standard input's, for rows piped in), ``data`` by default."""
    import pandas as pd

    if not isinstance(data, str | os.PathLike):  # a DataFrame: "unhashable type", raised deep
        raise ConfigError(
            f"predictions: data= is a data file's path, not a {type(data).__name__}; rows in "
            "memory (a DataFrame of the run's columns) go to mlplab.load_run(run_dir).predict"
            "(rows), or .predict_labels and .predict_proba"
        )
    data = os.fspath(data)  # a Path too, as the other functions take one
    chosen = which is not None
    which = which or (kept_model(Path(run_dir)) if Path(run_dir).is_dir() else "last")
    shown = shown or repr(data)
    check_run_folder(run_dir)
    _check_not_before_its_first_checkpoint(run_dir)
    # The checkpoint alone (the training file may be gone), in float64 (see PRINTED_DIGITS).
    with warnings_caught():  # a best model loaded for its last is a note below
        warnings.simplefilter("ignore", UserWarning)
        try:
            run = load_run(run_dir, which=which, data=False, dtype="float64", engine=_engine())
        except CheckpointError as err:
            whole = Path(run_dir) / "checkpoints/best.safetensors"
            if which != "last" or "last.safetensors" not in str(err) or not whole.is_file():
                raise  # not the last model's own damage: the best one would not help
            # A damaged last model left its user to find that the best one was whole.
            raise CheckpointError(
                f"{err}; its best model may still predict: give --checkpoint best (which='best')"
            ) from None
    ds = run.dataset
    status = run.record.get("status")
    note = None
    last = Path(run_dir) / "checkpoints" / "last.safetensors"
    fell_back = which == "last" and not last.exists()  # load_run took the best model
    if status != "finished":  # a usable model, but the user should know which one
        step = run.checkpoint_meta.get("loop", {}).get("step")
        # The best checkpoint's own step is where it was last written (at the stop), not
        # where its weights are from: the record names the best epoch.
        best = run.record.get("best_epoch")
        best_model = f"its best model (epoch {best})" if best is not None else "its best model"
        which = (
            best_model
            if status == "diverged" or which == "best"
            else f"{best_model}; {last} is missing"
            if fell_back
            else f"its checkpoint at step {step}"
        )
        what = {"running": "unfinished (its process was killed or is still training)"}
        head = (
            f"{Path(run_dir) / 'result.json'} is missing or unreadable"
            if status is None
            else f"{run_dir} is {what.get(str(status), status)}"
        )
        note = f"{head}; predicting with {which}"
    elif fell_back:  # the best model predicts otherwise than the last: say so
        note = f"{last} is missing or unreadable; predicting with its best model"
    elif (
        not chosen
        and which == "best"
        and run.record.get("best_epoch") != run.record.get("epochs_run")
    ):
        # An estimator's record: the model it predicted with, which the last is not.
        note = (
            f"predicting with {run_dir}'s best model (epoch {run.record.get('best_epoch')}), "
            "as the estimator that fitted it did (patience); its last, of epoch "
            f"{run.record.get('epochs_run')}, is --checkpoint last"
        )
    elif (
        not chosen
        and run.record.get("stopped_early")
        and last.with_name("best.safetensors").is_file()
    ):
        # Its last model is `patience` epochs past its best, which Keras's
        # restore_best_weights and an estimator keep: the default, said once.
        patience = run.config.patience
        note = (
            f"{run_dir} stopped early at epoch {run.record.get('epochs_run')} "
            f"({f'patience {patience}' if patience else 'by its early_stop rule'}): "
            "predicting with its last model, as by default; its best, of epoch "
            f"{run.record.get('best_epoch')}, is --checkpoint best"
        )
    if note and not quiet:
        print(f"mlplab: note: {note}", file=sys.stderr)
    if data in BUILTIN and not Path(data).exists():
        raise DataError(
            f"--data {data!r} is a built-in dataset's name; predict takes a file of new rows "
            "(CSV, TSV, Parquet or NPZ) with the run's feature columns"
        )
    keep = [keep] if isinstance(keep, str) else list(keep)  # keep="id": one column's name
    if not quiet and shown == repr(data):  # not rows piped in, kept in a scratch file
        say_reading(data)
    X, kept, unused, unnamed = _features(
        data, ds.input_names, run.config.ignore or [], keep, _zero_one_columns(ds)
    )
    if not len(X) and not quiet:  # as a Unix filter: no rows in, the header out, exit 0
        print(f"mlplab: note: {shown} has no data rows: the output is its header alone",
              file=sys.stderr)  # fmt: skip
    if unnamed and not quiet:  # no id to join the predictions back to their rows by
        print(f"mlplab: note: {shown} {unnamed}", file=sys.stderr)
    bad = first_non_finite(X)
    if bad is not None:  # named as training names it: the column, and the rows to look at
        r, c, kind = bad
        cells = int((~np.isfinite(X)).sum())
        where = (
            f"feature column {ds.input_names[c]!r} has {kind} in {data_row(data, r)}"
            if cells == 1
            else f"{cells} cells of the feature columns hold no number: "
            + _non_finite_counts(X, ds.input_names, npz=data.lower().endswith(".npz"))
        )
        raise DataError(
            f"data file {data!r}: {where}; every row to predict needs a number in each "
            "feature column"
        )
    outputs = run.predict(X)  # the run's standardization: the checkpoint's own (load_run)
    far = _far_rows_note(X, ds, data)
    if far and not quiet:
        print(f"mlplab: note: {shown}: {far}", file=sys.stderr)
    new = _new_categories([c for c in unused if c not in ds.target_names], ds.input_names)
    if new and not quiet:  # its rows read as "none of the known ones", with no word
        stems = {_stem(c) for c in new}
        siblings = [f for f in ds.input_names if _stem(f) in stems]
        print(
            f"mlplab: note: {shown}: {names_of(new)} "
            + ("is not a column" if len(new) == 1 else "are not columns")
            + f" the run trained on (it has {names_of(siblings)}), left out: a category "
            "that training never saw has no column of its own",
            file=sys.stderr,
        )
    if ds.task == "regression":
        # Digits of the distance from the target's mean: a target of 1e12 + 15.43 (a
        # timestamp, an offset) printed 1e12 at ten significant digits of its own.
        centers = ds.target_scaler[0] if ds.target_scaler is not None else [0.0] * outputs.shape[1]
        out = pd.DataFrame(
            {
                name: _digits(outputs[:, t], float(centers[t]))
                for t, name in enumerate(ds.target_names)
            }
        )
    else:
        names = np.asarray(ds.class_names or [], dtype=object)
        probs = probabilities(ds.task, outputs)
        # Every column at once: one at a time, past 100 classes pandas warned of a
        # fragmented frame at each (400 lines on stderr for 500 classes).
        columns = {"predicted": names[predicted_classes(ds.task, outputs)]}
        columns |= {f"p_{name}": _digits(probs[:, c]) for c, name in enumerate(names)}
        out = pd.DataFrame(columns)
    # A prediction beside its true value (--keep price) is told apart by its name; all of
    # its columns together, or `p_*` picked the kept (old) p_yes beside the new p_no.
    if set(keep) & set(out.columns):
        out = out.rename(columns=lambda c: f"predicted_{c}")
    # The ignored columns (an id, say) first; one named as an output would be ambiguous.
    kept = kept.drop(columns=[c for c in kept.columns if c in out.columns])
    return pd.concat([kept.reset_index(drop=True), out], axis=1)


def _non_finite_counts(X: np.ndarray, names: list[str], most: int = 5, npz: bool = False) -> str:
    """How many NaN and inf cells each feature column of ``X`` has, and in which data rows
    (the first three), for the first ``most`` such columns: one line to fix them all by,
    where the first cell alone was named, one round at a time. An NPZ file's rows are
    NumPy's indices (``rows X[2], X[7]``), a table's counted from 1."""

    def rows(found: np.ndarray) -> str:
        more = ", ..." if len(found) > 3 else ""
        if npz:
            return (
                f"row{'s' if len(found) > 1 else ''} "
                + ", ".join(f"X[{int(r)}]" for r in found[:3])
                + more
            )
        shown = ", ".join(str(int(r) + 1) for r in found[:3]) + more
        return f"data row{'s' if len(found) > 1 else ''} {shown}"

    parts, first = [], True
    columns = np.flatnonzero((~np.isfinite(X)).any(axis=0))
    for c in columns[:most]:
        kinds = []
        for found, kind in (
            (np.flatnonzero(np.isnan(X[:, c])), "NaN"),
            (np.flatnonzero(np.isinf(X[:, c])), "inf"),
        ):
            if len(found):
                said = "missing value" + "s" * (len(found) > 1) + "; "
                said = said if kind == "NaN" and first else ""
                first = first and kind != "NaN"
                kinds.append(f"{len(found)} {kind} ({said}{rows(found)})")
        parts.append(f"{names[c]!r} " + " and ".join(kinds))
    more = len(columns) - most
    return ", ".join(parts) + (f", and {more} more column{'s' * (more > 1)}" if more > 0 else "")


# A value this many training spreads from the training mean is far past what the model
# trained on (a normal feature's farthest is about 4 spreads out, a long tail's, an income's,
# tens): its outputs there are a guess, given as confidently as any (a row x1e6: p = 1.0).
FAR_SPREADS = 100.0


def _far_rows_note(X: np.ndarray, ds, data: str = "") -> str | None:  # ds: Dataset
    """The rows with a feature :data:`FAR_SPREADS` training spreads or more from its
    training mean, by the checkpoint's standardization (a run trained without one keeps no
    spread to measure by). A 0 or a 1 of a column of mean between them is none: a rare
    one-hot category's 1 lies many spreads out."""
    if ds.scaler is None or not len(X):
        return None
    if ds.features is not None:  # the scaler's columns: the Playground's inputs made of X
        from mlplab.data.features import derive

        X = derive(X, ds.features)
    mean, std = (np.asarray(v, dtype=np.float64).reshape(-1) for v in ds.scaler)
    with np.errstate(divide="ignore", invalid="ignore"):
        spreads = np.abs(X - mean) / np.where(std > 0, std, np.inf)
    spreads[np.isin(X, (0.0, 1.0)) & (mean >= 0) & (mean <= 1)] = 0.0
    far = spreads >= FAR_SPREADS
    rows = np.flatnonzero(far.any(axis=1))
    if not len(rows):
        return None
    r = int(rows[0])
    c = int(np.argmax(spreads[r]))
    return (
        f"{len(rows)} of {len(X)} rows have a value {FAR_SPREADS:g} or more training spreads "
        f"from the training mean ({data_row(data, r)}: {ds.feature_names[c]!r} is {X[r, c]:.6g}, "
        f"{spreads[r, c]:.3g} spreads out), far past the values the model trained on: its "
        "outputs for them are a guess, however sure they look"
    )


def _engine() -> str | None:
    """None (the run's own engine), or numpy where torch is not installed: a machine kept
    to predict needs no torch for a torch-engine run, as the numpy engine evaluates the
    same model (in float64, to the printed digits)."""
    import importlib.util

    try:
        return None if importlib.util.find_spec("torch") is not None else "numpy"
    except (ImportError, ValueError):  # a torch module that is no package, or blocked
        return "numpy"


def check_run_folder(run_dir: str | Path) -> None:
    """:func:`mlplab.restore.check_run_dir`, and where ``run_dir`` is not a run folder, what
    to give instead: a path inside a run folder (its checkpoint) said only that it was not
    one."""
    path = Path(run_dir)
    try:
        check_run_dir(path)
    except CheckpointError as err:
        instead = _instead_of(path) if "is not a run directory" in str(err) else None
        if instead is None:
            raise
        raise CheckpointError(f"{err}; {instead}") from None


def _check_not_before_its_first_checkpoint(run_dir: str | Path) -> None:
    """Say that a run still training (or killed before it saved) has no model yet: its
    missing last.safetensors was named as if a file had gone."""
    saved = Path(run_dir) / "checkpoints"
    if (saved / "last.safetensors").exists() or (saved / "best.safetensors").exists():
        return
    if (read_result(run_dir) or {}).get("status") == "running":
        raise CheckpointError(
            f"{str(run_dir)!r} has no checkpoint yet: the run is still training, or was "
            "killed before its first checkpoint; predict once it has finished (--save_every N "
            "writes one every N epochs while it trains)"
        )


def _instead_of(path: Path) -> str | None:
    """What to give for ``path``, a saved estimator's file, or None where it is none (the
    other paths that are no run folder are told so by check_run_dir)."""
    name = saved_estimator_class(path)
    if name is not None:
        return (
            f"it is a saved estimator ({name}.save), which predict does not read; in "
            f"Python, mlplab.{name}.load({str(path)!r}) and then its .predict(X)"
        )
    return None


def _stem(name: object) -> str:
    """``color`` of a one-hot column ``color_red`` (as pandas.get_dummies names them)."""
    return str(name).rpartition("_")[0]


def _new_categories(unused: list[str], names: list[str]) -> list[str]:
    """The unused columns named as one-hot siblings of the run's features: ``color_purple``
    beside its ``color_red``, a category that training never saw."""
    stems = {_stem(n) for n in names} - {""}
    return [c for c in unused if _stem(c) in stems]


def _zero_one_columns(ds) -> dict[str, bool] | None:  # ds: Dataset
    """Which input columns held only 0s and 1s in training, as the run's standardization
    tells: a column in [0, 1] of mean m has the spread sqrt(m (1 - m)) only then. None
    where the run kept no standardization of its input columns."""
    if ds.scaler is None or ds.features is not None:
        return None
    mean, std = (np.asarray(v, dtype=np.float64).reshape(-1) for v in ds.scaler)
    if len(mean) != len(ds.input_names):
        return None
    in_unit = (mean >= 0) & (mean <= 1)
    constant = (std == 1.0) & ((mean == 0) | (mean == 1))  # a spread of 0 is kept as 1
    zero_one = in_unit & (np.isclose(std**2, mean * (1 - mean), rtol=1e-6, atol=1e-12) | constant)
    return dict(zip(ds.input_names, zero_one.tolist(), strict=True))


def _one_hot_hint(
    missing: list[str], names: list[str], df, zero_one: dict[str, bool] | None = None
) -> str:
    """What to do for missing one-hot columns (``color_green``): a category absent from the
    rows (pandas.get_dummies of a batch without it), or the text column they encode
    (``color``) left as it is. Empty where neither applies.

    ``zero_one``: which columns held only 0s and 1s in training (None: not known). A
    missing column that held other values is no category's: digits' pixel_3_4, beside a
    pixel_3_0 of 0s, was told to be added as 0s, and every prediction was then wrong."""
    import pandas as pd

    stems = {_stem(m) for m in missing} - {""}
    hints = []
    # The text column itself, not a feature of the run: color for color_red, color_blue ...
    raw = [
        c
        for c in stems
        if c in df.columns
        and c not in names
        and not pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]
    if raw:
        # Every one of them: naming the first alone, the file was refused again for the next.
        raw = sorted(raw)
        one = len(raw) == 1
        hints.append(
            f"the file's text column{'' if one else 's'} {names_of(raw)} "
            f"{'is' if one else 'are'} what {names_of([m for m in missing if _stem(m) in raw])} "
            f"encode: one-hot encode {'it' if one else 'them'} as for training "
            f"(pandas.get_dummies(df, columns={raw!r}))"
        )
    # A sibling of the run's present, as 0s and 1s: its category has no row here.
    present = {
        _stem(f)
        for f in names
        if _stem(f) in stems and f in df.columns and df[f].isin([0, 1, True, False]).all()
    }
    absent = [
        m
        for m in missing
        if _stem(m) in present and _stem(m) not in raw and (zero_one or {}).get(m, True)
    ]
    if absent:
        added = ", ".join(map(repr, absent[:3])) + (", ..." if len(absent) > 3 else "")
        it = "it" if len(absent) == 1 else "them"
        if zero_one is None:  # training's values unknown: the hint is the file's guess
            hints.append(
                f"if {it} {'is' if it == 'it' else 'are'} one-hot of a category absent from "
                f"these rows, add {it} as 0s (pandas: df.reindex(columns=[*df.columns, "
                f"{added}], fill_value=0)); else the file lacks {it}"
            )
        else:
            hints.append(
                f"a category absent from these rows is a one-hot column of 0s: add {it} as "
                f"such (pandas: df.reindex(columns=[*df.columns, {added}], fill_value=0))"
            )
    return "".join(f"; {h}" for h in hints)


def _digits(values: np.ndarray, center: float = 0.0) -> np.ndarray:
    """``values`` to PRINTED_DIGITS significant digits of their distance from ``center``,
    rounded at that digit once the center is added back: the sum of a center and a
    rounded distance printed 16 digits of float noise (``8.345221371326433``)."""
    if center == 0.0:
        return np.array([float(f"{v:.{PRINTED_DIGITS}g}") for v in values])
    rounded = []
    for v in values:
        d = float(v) - center
        if not math.isfinite(d) or d == 0.0:
            rounded.append(center + d)
            continue
        # The decimal place of the distance's last printed digit (negative: tens, ...).
        place = PRINTED_DIGITS - 1 - math.floor(math.log10(abs(d)))
        rounded.append(round(center + float(f"{d:.{PRINTED_DIGITS}g}"), place))
    return np.array(rounded)


def _ignored_absent(ignored: list[str], columns: list[str], keep: list[str]) -> str | None:
    """What a table lacks of the columns the run ignored (an id), which predict copies
    beside the predictions: one named in another case (``Id`` for ``id``), or all of
    them, where ``keep`` names no column in their place. None where nothing is amiss."""
    for name in ignored:
        near = None if name in columns else other_case(name, columns)
        if near is not None and near not in keep:
            return (
                f"has no column {name!r}, which the run ignored and predict copies beside "
                f"the predictions to name their rows; it has {near!r} (names are "
                f"case-sensitive): rename it {name!r}, or add {shell_flag('--keep', near)}"
            )
    if ignored and not keep and not any(c in columns for c in ignored):
        return (
            f"has none of the columns the run ignored ({names_of(ignored)}), which predict "
            "copies beside the predictions to name their rows: the predictions are in the "
            "file's row order"
        )
    return None


def _unused_id(columns: list[str]) -> str | None:
    """A column named as an id (``id``, ``PassengerId``, ``row_id``) that the run never saw
    and no ``--keep`` copies: a Kaggle submission written without it named no row."""
    ids = [
        c
        for c in columns
        if c.lower() in ("id", "idx", "index", "rowid")
        or c.lower().endswith("_id")
        or (len(c) > 2 and c.endswith("Id"))
    ]
    if not ids:
        return None
    return (
        f"has a column {ids[0]!r} that the run did not train on, which the predictions "
        f"leave out: they are in the file's row order; {shell_flag('--keep', ids[0])} copies "
        "it beside them"
    )


def _features(
    data: str,
    names: list[str],
    ignored: list[str],
    keep: list[str] | None = None,
    zero_one: dict[str, bool] | None = None,
):  # -> (ndarray, DataFrame, list[str], str | None)
    """The run's feature columns of ``data`` (by name in a table, by position in an NPZ
    file's X, which names none), the columns of ``ignored`` that the table has (in an
    NPZ file, x0, x1, ... by position, as training named them) and those of ``keep``, the
    table's other columns, which the run does not use, and what the table lacks of the
    ignored columns (:func:`_ignored_absent`), or None."""
    import pandas as pd

    keep = keep or []
    if keep and data.lower().endswith(".npz"):
        raise DataError(
            f"--keep {keep[0]!r}: data file {data!r} is an NPZ file, whose X names no "
            "columns; keep columns of a CSV, TSV or Parquet table"
        )
    if data.lower().endswith(".npz"):
        X = read_npz_features(data)
        # Training named an NPZ file's columns x0, x1, ...: the file it trained on, with the
        # columns the run ignored still in it, predicts once those are dropped.
        columns = [f"x{i}" for i in range(X.shape[1])]
        if X.shape[1] != len(names) and [c for c in columns if c not in ignored] == names:
            frame = pd.DataFrame(X, columns=columns)
            X, kept = frame[names].to_numpy(), frame[[c for c in columns if c in ignored]]
        else:
            kept = pd.DataFrame(index=range(len(X)))
        if X.shape[1] != len(names):
            # np.savez(X=row) of one row, (3,), reads as 3 rows of one column.
            one_row = X.shape[1] == 1 and len(X) == len(names)
            raise DataError(
                f"data file {data!r}: X has {X.shape[1]} columns; the run needs "
                f"{len(names)}, in this order: {', '.join(names)}"
                + ("; one row is X of shape (1, N): X.reshape(1, -1)" if one_row else "")
            )
        if not len(X):  # an empty table of predictions would pass for a result
            raise DataError(f"data file {data!r} has no data rows")
        if X.dtype.kind not in "biuf":
            raise DataError(f"data file {data!r}: X must hold numbers (its dtype is {X.dtype})")
        return X.astype(np.float64), kept, [], None
    # The columns copied into the output as they are written (an id of 00123 stays 00123).
    df = read_table(data, as_text=[c for c in [*ignored, *keep] if c not in names])
    # A name the same to the eye in another Unicode form (a macOS file's 'längé' is 'a'
    # then a combining mark) is the run's column: the message listed two equal names.
    # The columns copied into the output too (an id), named as the run names them.
    written = names_as_written([*ignored, *keep, *names], df.columns)
    df = df.rename(columns={w: n for n, w in written.items()})
    absent = [c for c in keep if c not in df.columns]
    if absent:
        near = other_case(absent[0], df.columns)
        raise DataError(
            f"--keep {absent[0]!r}: data file {data!r} has no such column (it has "
            f"{names_of(list(df.columns))})"
            + (f"; names are case-sensitive: it has {near!r}" if near is not None else "")
        )
    missing = [c for c in names if c not in df.columns]
    if missing:
        near = [(m, t) for m in missing if (t := other_case(m, df.columns)) is not None]
        hint = (
            f"; names are case-sensitive: the file has {near[0][1]!r} for {near[0][0]!r}"
            if near
            else ""
        )
        raise DataError(
            f"data file {data!r}: the run's feature "
            + (
                f"column {names_of(missing)} is"
                if len(missing) == 1
                else f"columns {names_of(missing)} are"
            )
            + " missing; "
            f"it needs {len(names)} columns: {names_of(names)} (it has "
            f"{names_of(list(df.columns)) or 'none'}){hint}"
            + _one_hot_hint(missing, names, df, zero_one)
        )
    # Each column's dtype once, and names as a set: a 20,000-column file took seconds in
    # the lookups of one column at a time.
    dtypes, features = df.dtypes, set(names)
    kept = [c for c in ignored if c in df.columns and c not in features]
    kept += [c for c in dict.fromkeys(keep) if c not in kept]  # a feature too, as read
    if not len(df):  # a header alone (a filter upstream that matched no row): no rows out
        return np.zeros((0, len(names))), df[kept], [], None
    for name in names:  # as training does: booleans are numbers; else the value at fault
        if not pd.api.types.is_bool_dtype(dtypes[name]) and not pd.api.types.is_numeric_dtype(
            dtypes[name]
        ):
            raise DataError(not_numeric(data, name, df[name]))
    # Columns of 0s and 1s only, as a one-hot encoding writes them (not a target's values).
    unused = [
        str(c)
        for c in df.columns
        if c not in features and c not in ignored and df[c].isin([0, 1, True, False]).all()
    ]
    unnamed = _ignored_absent([c for c in ignored if c not in features], list(df.columns), keep)
    if unnamed is None and not ignored and not keep:
        unnamed = _unused_id([str(c) for c in df.columns if c not in features])
    return df[names].to_numpy(dtype=np.float64), _trimmed(df[kept]), unused, unnamed


def _trimmed(kept):  # (pandas.DataFrame) -> pandas.DataFrame
    """The copied columns' text cells without the spaces at either end, as names and
    labels are read: the reader left out those after a separator only, so ` 10601 ` came
    back as ``10601 `` and a quoted ``"  B2  "`` with both. A number is left as read."""
    import pandas as pd

    kept = kept.copy()
    for i in range(kept.shape[1]):
        column = kept.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            kept.iloc[:, i] = column.map(lambda v: v.strip() if isinstance(v, str) else v)
    return kept


# Names that promise another format than the CSV written.
OTHER_FORMATS = (".parquet", ".pq", ".npz", ".npy", ".json", ".xlsx", ".xls", ".feather", ".pkl")
# The compressions of an --out named with their suffix after the CSV's (preds.csv.gz), as
# pandas' to_csv infers them; those of other suffixes are refused as another format is.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
NOT_WRITTEN = (".zst", ".zstd", ".tar", ".tgz", ".tbz2", ".txz", ".7z", ".rar", ".lz4", ".z")
# Names of a table with a tab between values (a spreadsheet's "Text (Tab delimited)").
TAB_SUFFIXES = (".tsv", ".tab")


def _out_format(out: str) -> tuple[str, str | None]:
    """The separator and the compression (None for none) that ``--out``'s name promises,
    or a ConfigError naming the suffixes taken where it promises a format not written."""
    path = Path(out)
    last = path.suffix.lower()
    compression = COMPRESSIONS.get(last)
    inner = Path(path.stem).suffix.lower() if compression else last
    # sub.tar.gz is a tar archive to pandas and to an upload that unpacks it, not a CSV.
    if inner in OTHER_FORMATS or last in OTHER_FORMATS or last in NOT_WRITTEN or inner == ".tar":
        base = path.name  # the name less its format's suffixes: sub of sub.parquet.gz
        for _ in range(3):  # sub.csv.tar.gz: sub
            end = Path(base).suffix.lower()
            if end in (*COMPRESSIONS, *NOT_WRITTEN, *OTHER_FORMATS, ".csv", *TAB_SUFFIXES):
                base = base[: -len(end)]
        # The rows are CSV text: under a Parquet or NPZ name, no reader would open it.
        raise ConfigError(
            f"--out {out!r}: predictions are written as CSV; give a .csv file (e.g. "
            f"{base or 'preds'}.csv), .tsv or .tab for a tab between values, and .gz, .bz2, "
            f".xz or .zip after it to compress it (e.g. {base or 'preds'}.csv.gz)"
        )
    return ("\t" if inner in TAB_SUFFIXES else ",", compression)


def _packed(out: str, text: str, compression: str | None) -> bytes:
    """``text`` as UTF-8, compressed as ``compression`` says (a zip holds one file, named
    as ``out`` less its .zip, ending .csv: sub.zip holds sub.csv)."""
    data = text.encode("utf-8")
    if compression == "gzip":
        import gzip

        return gzip.compress(data, mtime=0)  # the same rows, the same bytes
    if compression == "bz2":
        import bz2

        return bz2.compress(data)
    if compression == "xz":
        import lzma

        return lzma.compress(data)
    if compression == "zip":
        import time
        import zipfile

        name = Path(out).stem
        if Path(name).suffix.lower() not in (".csv", *TAB_SUFFIXES):
            name += ".csv"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo(name, time.localtime()[:6]), data, zipfile.ZIP_DEFLATED)
        return buf.getvalue()
    return data


STDOUT = "-"  # --out - : standard output, as Unix tools take it
STDIN = "-"  # --data - : rows from standard input (./- names a file called -)
STDIN_NAME = "standard input (--data -)"  # its rows' name in errors and notes


def predict_command(
    run_dir: str,
    data: str,
    out: str | None = None,
    which: str | None = None,
    quiet: bool = False,
    keep: Sequence[str] = (),
) -> int:
    """Write the predictions to ``out`` (atomically), or print them; return the exit status.

    ``out="-"`` prints them too, as Unix tools read "-" (it wrote a file named ``-``), with
    the count on stderr, so that standard output is the CSV alone (``./-`` names a file).
    ``quiet`` (``--quiet``) leaves out the notes and the count: errors alone are printed.
    """
    to_stdout = out == STDOUT
    if to_stdout:
        out = None
    sep, compression = ",", None  # standard output's: a CSV, as it is read there
    if out is not None:
        target = Path(out)
        if target.is_dir():
            raise ConfigError(f"--out {out!r} is a folder; give a file in it (e.g. preds.csv)")
        if not target.parent.is_dir():
            why = (
                f"{str(target.parent)!r} is a file, not a folder"
                if target.parent.exists()
                else f"the folder {str(target.parent)!r} does not exist"
            )
            raise ConfigError(
                f"--out {out!r}: {why}; give a file in an existing folder (e.g. preds.csv)"
            )
        sep, compression = _out_format(out)
        if data != STDIN and target.exists() and Path(data).exists() and target.samefile(data):
            raise ConfigError(
                f"--out {out!r} is the --data file; give another file (e.g. preds.csv)"
            )
        _not_the_training_file(run_dir, out)
        # Through a link too: the file replaced is the one the link points to.
        record = run_folder_around(Path(os.path.realpath(out)).parent)
        if record is not None:
            raise ConfigError(
                f"--out {out!r} is inside the run folder {str(record)!r}, whose record it "
                f"would change; give a file outside it (e.g. preds.csv)"
            )
    if data == STDIN:
        table = _stdin_predictions(run_dir, which, quiet, keep)
    else:
        table = predictions(run_dir, data, which, quiet, keep)
    buf = io.StringIO()
    table.to_csv(buf, index=False, sep=sep)
    if out is None:
        closed = ConfigError(
            "predict: standard output is closed, and the predictions go there; give "
            "--out FILE (e.g. preds.csv)"
        )
        if getattr(sys.stdout, "closed_at_start", sys.stdout is None):
            raise closed
        text = buf.getvalue()
        if sys.stdout.isatty():  # a label's control characters would act on the terminal
            text = terminal_text(text)
        try:
            _write_stdout(text)
            lost = lost_output()  # the CLI's stdout falls silent rather than raise
        except OSError as err:
            lost = err
        if lost is not None:  # a full disk behind `> file`: the CSV was not written
            if lost.errno == errno.EBADF:
                raise closed
            if lost.errno == errno.EFBIG:  # --out meets the same limit: raising it is the cure
                raise ConfigError(
                    f"predict: standard output cannot be written: {lost.strerror or lost} "
                    f"({limit_met(lost)}); raise it, or predict fewer rows at a time"
                )
            raise ConfigError(
                f"predict: standard output cannot be written: {lost.strerror or lost}; give "
                "--out FILE on a disk with room"
            )
        if to_stdout and not quiet:  # asked for by name: say it was done, where the CSV is not
            print(f"{len(table)} predictions -> standard output", file=sys.stderr)
    else:
        try:
            _write_out(out, _packed(out, buf.getvalue(), compression))
        except OSError as err:  # a read-only folder: name the setting, not a temporary file
            raise ConfigError(f"--out {out!r} cannot be written: {err.strerror}") from None
        if not quiet:
            print(terminal_text(f"{len(table)} predictions -> {out}"))
    return 0


def _stdin_predictions(
    run_dir: str, which: str | None, quiet: bool, keep: Sequence[str] = ()
):  # -> pandas.DataFrame
    """:func:`predictions` of CSV rows read from standard input (``--data -``): kept in a
    temporary file for the reader that files get, and named as standard input in errors."""
    import tempfile

    rows = sys.stdin.buffer.read() if sys.stdin is not None else b""
    if not rows.strip():
        raise DataError(
            "--data -: standard input holds no rows; pipe a CSV with the run's feature "
            "columns (cat new.csv | mlplab predict RUN --data -)"
        )
    if _is_npz(rows):  # read as a CSV, it was "zip-compressed; unpack it first"
        raise DataError(
            "--data -: standard input holds an NPZ file, which predict reads from a file: "
            "give its path (--data new.npz)"
        )
    with tempfile.TemporaryDirectory(prefix="mlplab-predict-") as tmp:
        path = os.path.join(tmp, "rows.csv")
        with open(path, "wb") as f:
            f.write(rows)
        try:
            return predictions(run_dir, path, which, quiet, keep, shown=STDIN_NAME)
        except DataError as err:
            raise DataError(str(err).replace(repr(path), STDIN_NAME)) from None


def _is_npz(data: bytes) -> bool:
    """Whether ``data`` is an NPZ file (np.savez): a zip of .npy arrays."""
    import zipfile

    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return bool(names) and all(n.endswith(".npy") for n in names)


def _write_stdout(text: str) -> None:
    """The CSV on standard output, as UTF-8 where the stream's own encoding is another (an
    ASCII or latin-1 locale): a class name it lacks would be '?' in a file read back."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and not writes_utf8(sys.stdout):
        reconfigure(encoding="utf-8")  # through the stream, which a closed pipe silences
    out = sys.stdout
    if isinstance(out, PipeGuard):  # the CLI's: every byte, or the error kept
        out.write_whole(text)
    else:
        out.write(text)
    out.flush()


def _not_the_training_file(run_dir: str, out: str) -> None:
    """Refuse an ``--out`` that is the run's own training file: replaced by predictions,
    it is lost, and ``load_run`` and ``mlplab plot`` can no longer rebuild the run."""
    if not Path(out).exists():
        return
    check_run_folder(run_dir)
    # Any place the run's file may be (a same-named file here does not make the one
    # above the run folder any less its own).
    if any(Path(out).samefile(f) for f in training_files(Path(run_dir))):
        raise ConfigError(
            f"--out {out!r} is the data file that the run {run_dir!r} trained on, which "
            "the predictions would replace; give another file (e.g. preds.csv)"
        )


def _write_out(out: str, data: bytes) -> None:
    """Write ``out`` in one piece, replacing a regular file only.

    ``/dev/stdout``, ``/dev/null`` or a FIFO is written to, not replaced by a file (as
    root, a rename over ``/dev/null`` would replace the device); a symbolic link to a
    file keeps the link, and the file it points to is replaced atomically.
    """
    try:
        mode = os.stat(out).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(out, "wb") as f:
            f.write(data)
    elif why := why_not_replaceable(out):
        raise PermissionError(errno.EACCES, why)
    else:
        with atomic_open(os.path.realpath(out), "wb") as f:
            f.write(data)
