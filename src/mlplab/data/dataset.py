"""A dataset ready to train on: arrays, task and splits.

:func:`load_dataset` is the one entry point. It takes explicit arguments (not the whole
config), checks everything a run needs from the data, and raises :class:`DataError`
with one line otherwise.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mlplab.data.cost import check_data_size
from mlplab.data.registry import BUILTIN, SPLIT_IN_ORDER
from mlplab.errors import ConfigError, DataError, nearest, other_case, public, shorten

# A target with at most this many distinct integer values is read as classes (task: auto).
MAX_AUTO_CLASSES = 20
# How tables mark a missing value, besides the empty cell and the NA spellings pandas reads
# (data.files.MISSING_CELLS) and nan in any case: the one list, with those, that a feature
# and a target column both read as missing (missing_marked).
MISSING_MARKS = frozenset({"?", "-", "--"})
# The words among MISSING_CELLS that may be a class's name (a region NA, symptoms None): a
# target column keeps them as classes where --task classification says its labels are.
MISSING_WORDS = frozenset({"N/A", "NA", "NULL", "None", "n/a", "null"})


def missing_marked(values) -> np.ndarray:  # values: pandas.Series
    """Which of ``values`` a table writes for a missing value, as a feature column reads
    them: a cell pandas reads as missing (an empty one, NA, N/A, null, None, NaN, #N/A,
    ...: data.files.MISSING_CELLS), '?', '-' or '--', or nan in any case (NAN, -nan),
    spaces around them aside."""
    from mlplab.data.files import MISSING_CELLS

    text = values.astype(str).str.strip()
    nan = text.str.lower().str.lstrip("+-") == "nan"
    return (text.isin(MISSING_MARKS.union(MISSING_CELLS)) | nan).to_numpy(dtype=bool)


# A number written in digits (a sign, a point, an exponent), which read as text only where
# it is too long for a float.
_DIGITS = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
# Characters of numbers as other scripts and word processors write them: digits other
# than 0-9 (Arabic-Indic, full-width), the Arabic decimal and thousands signs, the minus
# sign and the dashes that a copy from a document puts for '-'.
_OTHER_NUMERALS = re.compile(r"[^\x00-\x7f]")
RARE_CLASS_ROWS = 2  # a class of at most this many rows is named: a stray label, often


@dataclass
class Dataset:
    """Train/val/test arrays and what they mean.

    ``y`` is float ``[N, 1]`` of 0/1 for binary, int64 ``[N]`` for multiclass, and float
    ``[N, T]`` for regression. ``X`` is float64 ``[N, n_features]``; engines cast it to
    their dtype.
    """

    name: str
    task: str  # binary | multiclass | regression
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    class_names: list[str] | None = None
    shared_splits: bool = False  # train, val and test are the same rows (logic gates)
    scaler: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    # Each split's row weights [N] (mean 1) for the loss: the estimators' sample_weight.
    weights: dict[str, np.ndarray] | None = field(default=None, repr=False)
    # Where each split's rows (train, val, test) are among the data's rows, as split.
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    # A data file's rows as read and split (before standardizing): see rows_digest.
    digest: str | None = field(default=None, repr=False)
    # What a user should know about the data before training on it, a line each.
    notes: list[str] = field(default_factory=list, repr=False)
    # What a run's record says of how these rows were made where its settings cannot (an
    # estimator's held-out rows, drawn by its seed and stratified; its class weights):
    # result.json's keys, over those of the settings.
    record_facts: dict[str, Any] = field(default_factory=dict, repr=False)
    # A regression target's (mean [T], std [T]) when it trains scaled (standardize_target):
    # the splits' y stay in the target's own units; the engine gets (y - mean) / std.
    target_scaler: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    # What the class names were before they became text: "number" (y of integers), "bool"
    # or "text"; None judges by the names (see :attr:`classes`).
    label_kind: str | None = field(default=None, repr=False)
    # The TensorFlow Playground's inputs the model takes (setting ``features``), made from
    # the data's two features, whose names ``raw_names`` keeps (x1, x2 of a built-in set,
    # a file's two columns); ``raw`` keeps each split's rows of them, the points of the
    # plane the pictures draw. None where the model takes the data's own columns.
    features: list[str] | None = None
    raw_names: list[str] | None = None
    raw: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def input_names(self) -> list[str]:
        """The columns a row given to ``predict`` holds: the data's own (``x1, x2`` where
        the model takes features made from them, see :attr:`features`)."""
        return list(self.raw_names) if self.raw_names is not None else list(self.feature_names)

    def raw_rows(self, split: str) -> np.ndarray:
        """A split's rows in the data's own units and columns (:attr:`input_names`): its
        ``X`` before standardizing (and before deriving :attr:`features`)."""
        if self.raw is not None:
            return self.raw[split]
        X = getattr(self, f"X_{split}")
        if self.scaler is None:
            return X
        mean, std = self.scaler
        return X * std + mean

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        if self.task == "binary":
            return 1
        if self.task == "multiclass":
            return len(self.class_names or [])
        return self.y_train.shape[1]

    @property
    def n_rows(self) -> int:
        if self.shared_splits:
            return len(self.X_train)
        if self.X_test is self.X_val:  # an estimator's held-out rows serve as both
            return len(self.X_train) + len(self.X_val)
        return len(self.X_train) + len(self.X_val) + len(self.X_test)

    def about(self) -> str:
        """``binary, 569 rows, features standardized``: the task, the rows and what was
        scaled, as a run's first line says them (scaling silently was a question users
        asked); a data file's target first (``binary target 'churn', ...``): taken for want
        of --target, the last column was trained on without a word."""
        scaled = [
            w
            for w, s in (("features", self.scaler), ("target", self.target_scaler))
            if s is not None
        ]
        how = f", {' and '.join(scaled)} standardized" if scaled else ""
        names = self.target_names if self.digest is not None else []  # a file's, not y
        listed = ", ".join(map(repr, names[:3]))
        which = f" target{'s' if len(names) > 1 else ''} {listed}"
        if len(names) > 1 and self.task != "regression":  # classes from one-hot columns
            which = f" target, one-hot in {listed}"
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return f"{self.task}{which if names else ''}{more}, {self.n_rows} rows{how}"

    @property
    def classes(self) -> np.ndarray:
        """The class labels, as :meth:`~mlplab.TrainedModel.predict_labels` gives them: of
        the kind ``y`` had, so that ``predict_labels(X) == y`` compares like with like.

        Integers for a ``y`` of numbers (floats where they are not whole), booleans for
        True/False, else the names as text. Empty for regression.
        """
        names = list(self.class_names or [])
        kind = self.label_kind or label_kind_of(names)
        if kind == "bool":
            return np.array([str(n) == "True" for n in names])
        if kind == "number":
            try:
                return np.array([int(n) for n in names], dtype=np.int64)
            except OverflowError:  # beyond int64: Python's integers
                return np.array([int(n) for n in names], dtype=object)
            except ValueError:
                return np.array([float(n) for n in names])
        return np.array([str(n) for n in names], dtype=object)

    @property
    def has_test(self) -> bool:
        """Whether the test split holds rows: a run split ``0.9 0.1 0`` (or by a column
        that names no test row) has none, and says so where test scores would be."""
        return len(self.X_test) > 0

    def splits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {
            "train": (self.X_train, self.y_train),
            "val": (self.X_val, self.y_val),
            "test": (self.X_test, self.y_test),
        }

    def __repr__(self) -> str:
        # A line, not every array (about 3,000 characters for moons).
        rows = "/".join(str(len(self.splits()[s][0])) for s in ("train", "val", "test"))
        scaled = ", standardized" if self.scaler is not None else ""
        return (
            f"<Dataset {self.name}: {self.task}, {rows} rows train/val/test, "
            f"{self.n_features} features{scaled}>"
        )

    def scaled_target(self, y: np.ndarray) -> np.ndarray:
        """``y`` as the engine trains on it: standardized where ``target_scaler`` is set."""
        if self.target_scaler is None:
            return y
        mean, std = self.target_scaler
        return (y - mean) / std

    def in_target_units(self, outputs: np.ndarray) -> np.ndarray:
        """A regression model's outputs (``[..., T]``) in the target's own units."""
        if self.target_scaler is None:
            return outputs
        mean, std = self.target_scaler
        return outputs * std + mean

    def transform(self, X: Any) -> np.ndarray:
        """New raw inputs (:attr:`input_names`) as the model takes them: the
        :attr:`features` made from them, where it has any, then the training-set
        standardization (if any).

        A DataFrame (or a dict of columns) gives its columns by name, in any order, as
        ``predict`` takes them; an array's (or a list's) columns are taken in
        :attr:`input_names`' order. Either comes back as float64 rows.
        """
        # A table's numbers in order; a list or an int array as float64 rows too (a run
        # without a standardization gave a list back as it was, where .shape failed).
        X = np.asarray(named_columns(X, self.input_names), dtype=np.float64)
        if self.features is not None:
            from mlplab.data.features import derive

            X = derive(X, self.features)
        if self.scaler is None:
            return X
        mean, std = self.scaler
        return (X - mean) / std


def named_columns(X: Any, names: list[str]) -> Any:
    """A DataFrame's (or dict's) columns ``names``, in that order, found by name; ``X``
    itself where it has no named columns (an array, whose columns are in that order).

    A table's columns taken by position were scaled by another column's mean and std,
    silently (a reordered frame moved a regression's predictions by 320). A missing one is
    refused in one line, naming the model's columns.
    """
    if isinstance(X, dict):
        import pandas as pd

        # One row as a dict of numbers ({"a": 1.0, "b": 2.0}) is a table of one row.
        one_row = all(np.ndim(v) == 0 for v in X.values())
        X = pd.DataFrame([X] if one_row and X else X)
    if not (hasattr(X, "columns") and any(isinstance(c, str) for c in X.columns)):
        return X
    twice = next((c for c in names if list(X.columns).count(c) > 1), None)
    if twice is not None:
        raise DataError(f"X has the column {twice!r} twice; give each feature once")
    missing = [name for name in names if name not in X.columns]
    if missing:
        # Named in another case ('Height'): the likely slip, said as such.
        near = other_case(missing[0], X.columns)
        raise DataError(
            f"X has no column {missing[0]!r}"
            + (f" (it has {near!r}: names are case-sensitive)" if near is not None else "")
            + f"; the model's features are {', '.join(names)}"
        )
    return X[names]


def label_kind_of(names: list[Any]) -> str:
    """What class names say of their labels without being told: "number" where each is an
    integer, or an integer's own spelling (0, 1, -1; not 007), else "text"."""
    if names and all(
        (isinstance(n, numbers.Integral) and not isinstance(n, bool))
        or (isinstance(n, str) and re.fullmatch(r"-?[1-9]\d*|0", n))
        for n in names
    ):
        return "number"
    return "text"


LABEL_KINDS = ("number", "bool", "text")


def label_kind_fits(kind: Any, names: list[Any]) -> bool:
    """Whether class names can be labels of ``kind``: numbers that parse as numbers,
    booleans that are True and False; text takes any names."""
    if kind not in LABEL_KINDS:
        return False
    if kind == "bool":
        return {str(n) for n in names} <= {"True", "False"}
    if kind == "number":
        try:
            [float(n) for n in names]
        except (TypeError, ValueError):
            return False
    return True


def check_dataset(ds: Dataset) -> None:
    """Refuse, in one line, a Dataset built by hand whose arrays do not say what its
    ``task`` needs (``train(dataset=...)``): they failed deep in the loss or the metrics,
    or trained on NaN as numbers that "overflow float32"."""
    tasks = ("binary", "multiclass", "regression")
    if ds.task not in tasks:
        raise DataError(f"dataset: task is one of {', '.join(tasks)}, not {ds.task!r}")
    for split in ("train", "val", "test"):
        for name in (f"X_{split}", f"y_{split}"):
            a = getattr(ds, name)
            if not isinstance(a, np.ndarray):  # a torch tensor failed deep in the engine
                kind = f"{type(a).__module__}.{type(a).__qualname__}".removeprefix("builtins.")
                raise DataError(
                    f"dataset: {name} is a {kind}; a Dataset holds NumPy arrays "
                    "(np.asarray(...), or tensor.numpy() for a torch tensor)"
                )
    n_classes = len(ds.class_names or [])
    if ds.label_kind is not None and not label_kind_fits(ds.label_kind, ds.class_names or []):
        raise DataError(
            f"dataset: label_kind is one of {', '.join(LABEL_KINDS)} (or None), fitting "
            f"class_names; {ds.label_kind!r} does not fit {ds.class_names!r}"
        )
    if ds.task != "regression" and n_classes != (2 if ds.task == "binary" else max(n_classes, 2)):
        raise DataError(
            f"dataset: a {ds.task} dataset names its classes in class_names "
            f"({'2' if ds.task == 'binary' else 'at least 2'}; got {ds.class_names!r})"
        )
    names = {"class_names": ds.class_names or [], "feature_names": ds.feature_names}
    names["target_names"] = ds.target_names
    for what, given in names.items():
        if len(set(map(str, given))) < len(given):
            raise DataError(f"dataset: {what} names one twice ({given!r}); name each once")
    if ds.task == "regression" and not ds.target_names:
        raise DataError("dataset: a regression dataset names at least one target")
    shape = {
        "binary": "float [N, 1] of 0 and 1",
        "multiclass": "int [N] of class indices",
        "regression": f"float [N, {len(ds.target_names)}] (a column per target name)",
    }[ds.task]
    for split, (X, y) in ds.splits().items():
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or len(X) == 0 or X.shape[1] != len(ds.feature_names):
            raise DataError(
                f"dataset: X_{split} is [N, {len(ds.feature_names)}] (N > 0, a column per "
                f"feature name), not of shape {X.shape}"
            )
        ok = len(y) == len(X) and (
            y.shape[1:] == (1,) and np.isin(y, (0, 1)).all()
            if ds.task == "binary"
            else y.ndim == 1 and y.dtype.kind in "iu" and ((y >= 0) & (y < n_classes)).all()
            if ds.task == "multiclass"
            else y.shape[1:] == (len(ds.target_names),) and y.dtype.kind in "biuf"
        )
        if not ok:
            raise DataError(
                f"dataset: y_{split} of a {ds.task} dataset is {shape} with N = {len(X)}, "
                f"not {y.dtype} of shape {y.shape}"
            )
        for name, a in ((f"X_{split}", X), (f"y_{split}", y)):
            if a.dtype.kind not in "biuf":
                raise DataError(f"dataset: {name} holds {a.dtype} values; it takes numbers")
            if not np.isfinite(a).all():
                row = int(np.argwhere(~np.isfinite(a))[0][0])
                raise DataError(
                    f"dataset: {name} has NaN or inf in row {name}[{row}]; clean it first"
                )
        weights = (ds.weights or {}).get(split)
        if ds.weights is not None and (weights is None or np.shape(weights) != (len(X),)):
            raise DataError(
                f"dataset: weights hold [N] for each of train, val and test; {split} has "
                f"{len(X)} rows, its weights {'none' if weights is None else np.shape(weights)}"
            )
    if ds.scaler is not None and any(np.shape(a) != (ds.n_features,) for a in ds.scaler):
        raise DataError(
            f"dataset: scaler is (mean, std), each [{ds.n_features}] (a value per feature), "
            f"not of shapes {[np.shape(a) for a in ds.scaler]}"
        )


# The ``data`` of a run trained on arrays in memory (the scikit-learn estimators): its shape
# and a digest, e.g. ``array-150x4-f1f41796``. No file or built-in set has such a name.
ARRAY_LABEL = re.compile(r"array-\d+x\d+-[0-9a-f]{8}")
IN_MEMORY = "array"  # the ``data`` of an estimator's fit that keeps no record


def rows_digest(ds: Dataset) -> str:
    """A short hash of the splits' rows: a checkpoint keeps it, so that a finished run of a
    data file that has changed since is not passed off as this experiment's."""
    import hashlib

    h = hashlib.sha1()
    for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def classes_missing(ds: Dataset, split: str = "train") -> list[str]:
    """The classes no row of ``split`` has: a rare class that the split put all elsewhere.
    Missing in training, the model cannot learn it; in val or test, that split's scores
    leave it out (its balanced accuracy is the mean over the classes it holds)."""
    if ds.task == "regression" or not ds.class_names:
        return []
    y = ds.splits()[split][1]
    if len(y) == 0:  # no test split: no scores to leave a class out of
        return []
    seen = set(np.unique(y.reshape(len(y), -1)[:, 0]).astype(int).tolist())
    return [name for i, name in enumerate(ds.class_names) if i not in seen]


def data_row(path: str, r: int, array: str = "X") -> str:
    """Row ``r`` (from 0) of a data file, as its user finds it: a table's by its count
    among the data rows, the header none (``data row 3``, the file's line 4); an NPZ
    file's by NumPy's index into the array it saved (``row X[2]``, ``row y[2]``), which
    counted from 1 had pointed at the row after."""
    if str(path).lower().endswith(".npz"):
        return f"row {array}[{r}]"
    return f"data row {r + 1}"


def _array_of(name: object) -> str:
    """The NPZ array a column came from: ``y``, ``y0``, ... are ``y``'s, the rest ``X``'s."""
    text = str(name)
    return "y" if text == "y" or (text[:1] == "y" and text[1:].isdigit()) else "X"


def shell_flag(option: str, name: object) -> str:
    """A suggested flag that names a column, as a shell takes it (`--ignore 'ma classe'`):
    a name with a space or a bracket, pasted bare, split into others or stopped the shell;
    one that starts with '-' is joined by '=' (`--ignore=-niveau`), not read as a flag."""
    quoted = shlex.quote(str(name))
    return f"{option}={quoted}" if str(name).startswith("-") else f"{option} {quoted}"


def missing_class_notes(ds: Dataset, split_by: str | None, stratify: bool) -> list[str]:
    """A note for each split that lacks a class, with what would put one there (the run
    prints them at its start)."""
    if ds.shared_splits:
        return []
    why = (
        f"the split_by column {split_by!r} puts none there"
        if split_by is not None
        else "too few rows of them, or in that split, to share out in proportion"
        if stratify
        else "the split is random: --stratify true shares out every class in proportion"
    )
    notes = []
    for split, outcome in (
        ("train", "so the model cannot learn them"),
        ("val", "so the validation scores (and early stopping) leave them out"),
        ("test", "so the test scores leave them out"),
    ):
        names = classes_missing(ds, split)
        if names:
            shown = names_of(names, 5)
            where = {"train": "training", "val": "validation", "test": "test"}[split]
            notes.append(f"no {where} row has the class(es) {shown}, {outcome} ({why})")
    return notes


def is_in_memory(name: str) -> bool:
    """Whether ``name`` is the ``data`` of arrays in memory rather than a file or built-in set."""
    return name == IN_MEMORY or ARRAY_LABEL.fullmatch(name) is not None


def array_label(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> str:
    """A short name for in-memory data: its shape and a digest of its bytes (and weights).

    It is the run's ``data`` setting, which enters the run hash, so fits on different
    arrays get different run folders and a repeated fit replaces its own.
    """
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(np.asarray(y).astype(str) if y.dtype == object else y).tobytes())
    if weights is not None:
        h.update(np.ascontiguousarray(weights).tobytes())
    return f"array-{X.shape[0]}x{X.shape[1]}-{h.hexdigest()[:8]}"


def dataset_label(ds: Dataset) -> str:
    """:func:`array_label`'s form for a Dataset built by hand (``train(dataset=...)``): its
    rows, features and a digest of its splits."""
    return f"array-{ds.n_rows}x{ds.n_features}-{rows_digest(ds)[:8]}"


@public
def load_dataset(
    data: str | os.PathLike[str],
    *,
    target: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    task: str = "auto",
    split: list[float] | None = None,
    split_by: str | None = None,
    stratify: bool = False,
    standardize: bool | Literal["auto"] = False,
    n_samples: int | None = None,
    noise: float | None = None,
    seed: int = 0,
    data_seed: int | None = None,
    features: list[str] | None = None,
) -> Dataset:
    """Make or read a dataset and split it.

    Parameters
    ----------
    data : str or path-like
        A built-in name (``mlplab datasets`` lists them) or a path to .csv/.tsv/.txt/.parquet/.npz.
    target : str or list of str, optional
        Target column(s) of a file; default: the last column.
    ignore : str or list of str, optional
        Columns of a file left out of the features (and out of the default target).
    task : {'auto', 'classification', 'regression'}
    split : list of float, optional
        Sizes (counts) or ratios for train/val[/test]; default: the dataset's own.
    split_by : str, optional
        A file's column naming each row's split (train, val or validation, test).
    stratify : bool, default False
        Split a classification class by class, each in the split's proportions.
    standardize : bool or 'auto', default False
        Scale features by the training split's mean and std (kept in ``Dataset.scaler``).
        ``'auto'`` is ``train``'s default: the data files and the bundled tables are
        scaled, the lectures' synthetic sets are not.
    n_samples, noise : optional
        Size and noise of synthetic sets; default: the dataset's own.
    seed, data_seed : int
        Seed of the data generator and the shuffle before splitting: a config's
        ``data_seed`` (either name; ``seed`` is the weights' seed in a config).
    features : list of str, optional
        The TensorFlow Playground's inputs to train on, made from data of two features
        (x1, x2): any of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2 (kept in
        ``Dataset.features``; ``Dataset.transform`` makes them from raw x1, x2 rows).
        Default: the data's own columns.

    Raises
    ------
    mlplab.errors.ConfigError
        A setting of the wrong kind or out of range, in one line naming it, as the config
        says it (the same values a config takes: ``"0.1"``, ``"false"``, NumPy numbers).
    """
    from mlplab.config import Config
    from mlplab.data.files import WORKBOOK_SUFFIXES, looks_like_file, workbook_line

    if data_seed is not None:
        if str(seed) not in ("0", str(data_seed)):  # seed="1" beside data_seed=1 agrees
            raise ConfigError(
                f"load_dataset: seed={seed!r} and data_seed={data_seed!r} name one setting; "
                "give one of them"
            )
        seed = data_seed
    # Checked and read as a config takes them: load_dataset alone had passed a noise of
    # 'x' or a split of '0.8 0.1 0.1' on to NumPy (a TypeError from deep inside) and read
    # standardize='false' as true.
    given = dict(
        target=target, ignore=ignore, split=split, split_by=split_by, n_samples=n_samples,
        noise=noise, features=features,
    )  # fmt: skip
    cfg = Config(
        data=data,
        task=task,
        stratify=stratify,
        standardize=standardize,
        data_seed=seed,
        **{k: v for k, v in given.items() if v is not None},
    )
    data, target, ignore, split = cfg.data, cfg.target, cfg.ignore, cfg.split  # a Path: text
    split_by = cfg.split_by
    if split_by is not None and split:
        raise ConfigError(
            f"settings 'split' and 'split_by': the column {split_by!r} says each row's split, "
            "so split's sizes do not apply; give one of them"
        )
    if split_by is not None and cfg.stratify:
        raise ConfigError(
            f"settings 'stratify' and 'split_by': the column {split_by!r} says each row's "
            "split, so there is no draw to stratify; give one of them"
        )
    n_samples, noise, task, seed = cfg.n_samples, cfg.noise, cfg.task, cfg.data_seed
    rng = np.random.default_rng(seed)
    if data in BUILTIN:
        if split_by is not None:
            raise ConfigError(
                f"setting 'split_by' applies to data files only; {data!r} has no column "
                "naming each row's split (setting 'split' sizes its own)"
            )
        if ignore:
            raise ConfigError(
                f"setting 'ignore' applies to data files only; {data!r} has its own columns"
            )
        from mlplab.data.synthetic import GATES

        if data in GATES and seed != 0:
            # Its 4 rows are never drawn or shuffled: another data_seed made another run
            # folder of the same data, and a sweep over it trained one run several times.
            raise ConfigError(
                f"setting 'data_seed' does not apply to the {data!r} gate: its 4 rows are "
                "fixed, not drawn or shuffled (give seed for another start)"
            )
        ds = _builtin(data, target, task, split, n_samples, noise, rng, cfg.stratify)
    elif looks_like_file(data):
        for name, val in (("n_samples", n_samples), ("noise", noise)):
            if val is not None:
                raise ConfigError(
                    f"setting '{name}' applies to synthetic datasets only, not to the file {data!r}"
                )
        ds = _from_file(data, target, task, split, rng, ignore or [], split_by, cfg.stratify)
        ds.digest = rows_digest(ds)
    elif Path(str(data)).suffix.lower() in WORKBOOK_SUFFIXES:
        raise DataError(workbook_line(data))  # by its name, whether it exists or not
    else:
        near = str(data).lower()
        close = nearest(near, list(BUILTIN))
        hint = (
            f" (built-in names are lower case: {near})"
            if near in BUILTIN
            else " (digits is the 8x8 handwritten digits, the lecture's MNIST lab at small size)"
            if "mnist" in near
            else f" (did you mean {close!r}?)"  # --data moon
            if close and not any(c in near for c in "./\\")
            else ""
        )
        raise ConfigError(
            f"setting 'data': {data!r} is neither a built-in dataset ({', '.join(BUILTIN)}) "
            f"nor a .csv/.tsv/.txt/.parquet/.npz file{hint}"
        )
    if cfg.stratify and (ds.task == "regression" or ds.shared_splits):
        # Refused, not noted: it would change nothing but the run's identity, a second run
        # of the same training (in a sweep, two configs of one result, ranked 1 and 2).
        kind = "a regression" if ds.task == "regression" else "4 rows in every split"
        raise ConfigError(
            f"setting 'stratify' applies to a classification's random split; {ds.name!r} is "
            f"{kind}: leave it out"
        )
    if cfg.features is not None:
        with_features(ds, cfg.features)
    if cfg.standardizes():
        _standardize(ds)
    return ds


def with_features(ds: Dataset, features: list[str]) -> None:
    """Make ``ds``'s inputs the Playground's ``features`` of its two raw features, keeping
    those (:attr:`Dataset.raw`) for the pictures over their plane; before standardizing,
    which then scales the features made."""
    from mlplab.data.features import derive

    if ds.n_features != 2:
        raise ConfigError(
            f"setting 'features' makes the TensorFlow Playground's inputs from data of 2 "
            f"features (x1, x2); {ds.name!r} has {ds.n_features}: leave features out"
        )
    ds.raw_names = list(ds.feature_names)
    ds.raw = {split: X for split, (X, _) in ds.splits().items()}
    ds.X_train, ds.X_val, ds.X_test = (
        derive(ds.raw[s], features) for s in ("train", "val", "test")
    )
    ds.features = list(features)
    ds.feature_names = list(features)


# --- built-in ------------------------------------------------------------------------------
def _builtin(name, target, task, split, n_samples, noise, rng, stratify=False) -> Dataset:
    from mlplab.data import bundled, synthetic

    info = BUILTIN[name]
    if target:
        raise ConfigError(
            f"setting 'target' applies to data files only; {name!r} has its own target"
        )
    if task != "auto" and _task_kind(info.task) != task:
        raise ConfigError(
            f"setting 'task': {name!r} is a {_task_kind(info.task)} dataset, not {task}"
        )
    class_names: list[str] | None = None
    default_split = info.split
    if info.source == "sklearn":
        for key, val in (("n_samples", n_samples), ("noise", noise)):
            if val is not None:
                raise ConfigError(
                    f"setting '{key}' applies to synthetic datasets only, not to {name!r}"
                )
        X, y, feats, class_names = bundled.load_bundled(name)
    elif name in synthetic.GATES:
        given = [
            k for k, bad in (("n_samples", n_samples not in (None, 4)), ("noise", noise)) if bad
        ]
        if given:
            # Only the settings given are named: `--noise 0.1` alone named n_samples too.
            raise ConfigError(
                f"setting{'s' if len(given) > 1 else ''} {' and '.join(map(repr, given))} "
                f"{'do' if len(given) > 1 else 'does'} not apply to the {name!r} gate "
                "(always its 4 rows)"
                + (
                    "; the TensorFlow Playground's exclusive or, of many points in four "
                    "quadrants, is --data quadrants"
                    if name == "xor"
                    else ""
                )
            )
        if split:
            raise ConfigError(
                f"setting 'split' does not apply to the {name!r} gate: its 4 rows serve as "
                "train, val and test alike"
            )
        X, y = synthetic.logic_gate(name)
        feats = ["x1", "x2"]
        yb = y.astype(np.float64)[:, None]
        return Dataset(
            name, "binary", X, yb, X, yb, X, yb, feats, ["y"], ["0", "1"], shared_splits=True
        )
    else:
        if noise is not None and noise > 1 and info.task != "regression":
            # The Playground's slider shows 0 to 50: typed here, 50 trained on noise alone.
            raise ConfigError(
                f"setting 'noise': {noise:g} is past the scale of {name!r}, where 1 already hides "
                "its shape (`mlplab datasets` says what noise does to each set); the "
                "TensorFlow Playground's noise N (its slider's 0 to 50) is --noise N/100 here"
            )
        n = n_samples or info.n_samples
        check_data_size("setting 'n_samples'", n, info.n_features + 1)
        if n != info.n_samples and info.split and any(x > 1 for x in info.split):
            # The labs' splits are counts for their own size; keep their proportions.
            default_split = tuple(x / info.n_samples for x in info.split)
        X, y = getattr(synthetic, name)(n, info.noise if noise is None else noise, rng)
        feats = ["x"] if info.n_features == 1 else ["x1", "x2"]
    targets = ["y"]
    if info.task == "regression":
        return _split(
            name,
            "regression",
            X,
            np.asarray(y, np.float64).reshape(len(X), -1),
            feats,
            targets,
            None,
            split or default_split,
            name in SPLIT_IN_ORDER,
            rng,
        )
    y = np.asarray(y).astype(np.int64)
    kind = "text" if class_names is not None else "number"  # iris' species; moons' 0 and 1
    if class_names is None:  # all of the set's classes, though noise leave one no row
        class_names = [str(c) for c in range(max(int(y.max()) + 1, info.n_classes))]
    ds = _classification(
        name, X, y, class_names, feats, targets, split or default_split, name in SPLIT_IN_ORDER, rng,
        stratify,
    )  # fmt: skip
    ds.label_kind = kind
    return ds


def _task_kind(task: str) -> str:
    return "regression" if task == "regression" else "classification"


# --- files ---------------------------------------------------------------------------------
# pandas reads a number beyond float64's range (1e400, a 400-digit decimal) as inf, which
# the line called plain "inf" though the file says no such thing.
INF_OR_TOO_LARGE = (
    f"inf (written so, or a number too large for a float: beyond about {sys.float_info.max:.1e})"
)


def _from_file(
    path, target, task, split, rng, ignore: list[str], split_by=None, stratify=False
) -> Dataset:
    import pandas as pd

    from mlplab.data.files import (
        as_written,
        default_target,
        names_as_written,
        numbered_names_note,
        read_table,
    )

    # Left out as they are, whatever they hold.
    df = read_table(path, as_text=[*ignore, *([split_by] if split_by else [])])
    if df.shape[1] == 0 or len(df) == 0:
        raise DataError(f"data file {path!r} has no data rows")
    # A name typed in another Unicode form than the header's (a macOS file's 'é' is an 'e'
    # and a combining accent) is its column: it was "no column", beside one alike.
    written = names_as_written([*ignore, *(target or [])], df.columns)  # one pass: wide files
    ignore = [written[n] for n in ignore]
    target = [written[t] for t in target] if target else target
    split_by = as_written(split_by, df.columns) if split_by else split_by
    if split_by is not None:
        # Each row's split, as the file says it: the split is then no draw of data_seed.
        split = _split_column(df, path, split_by, target or [])
        df = df.drop(columns=[split_by])
        # `--ignore split` beside `--split_by split` was told the file had no such column:
        # it is no feature already, as asked.
        ignore = [n for n in ignore if n != split_by]
    df = _without(df, path, ignore, target or [])
    _check_named_columns(df, path, target or [])
    # Once each (a Config refuses a name given twice; load_dataset alone may get one).
    targets = list(dict.fromkeys(target)) if target else default_target(df, path)
    missing = [t for t in targets if t not in df.columns]
    if missing:
        near = other_case(missing[0], df.columns)
        hint = f" (did you mean {near!r}?)" if near is not None else ""
        words = re.split(r"[\s,]+", missing[0].strip())
        if len(words) > 1 and all(w in df.columns for w in words):  # `target: px py`
            hint = (
                f" (several targets are a list: --target {' '.join(words)}, or "
                f"target: [{', '.join(words)}] in YAML)"
            )
        raise DataError(
            f"data file {path!r}: target column {missing[0]!r} does not exist{hint}; columns are {', '.join(map(str, df.columns))}"
        )
    # An NPZ file's features are its X alone: its y columns left out of --target (--target
    # y0 of one-hot labels) were features, and the run scored 1.0 on the labels.
    labels = default_target(df, path) if path.lower().endswith(".npz") else []
    feats = [c for c in df.columns if c not in targets and c not in labels]
    if not feats:
        raise DataError(f"data file {path!r}: no feature columns left besides the target {targets}")
    for c in df.columns:
        _check_kind(df[c], path, c, "target" if c in targets else "feature")
    texts = [c for c in feats if df[c].dtype != bool and not pd.api.types.is_numeric_dtype(df[c])]
    if texts:
        # All of them at once: told one column a run, a table of five takes five runs.
        others = f"; other columns to fix: {names_of(texts[1:])}" if len(texts) > 1 else ""
        # And the number columns with gaps, which would be the next run's line.
        gappy = [c for c in feats if c not in texts and df[c].isna().any()]
        others += f"; missing values in {names_of(gappy)}" if gappy else ""
        # A column of train/val/test names is each row's split, not a feature to encode.
        splits = [c for c in texts if _names_splits(df[c])]
        others += (
            f"; {splits[0]!r} names each row's split: give it as "
            f"{shell_flag('--split_by', splits[0])}"
            if splits
            else ""
        )
        # A column of labels that is not the last is taken for a feature: the line says
        # which column the target was, as the fix may be --target rather than encoding it.
        # (One text column among numbers: several are more likely categories to encode.)
        default = targets[0] if not target and len(texts) == 1 else None
        raise DataError(
            not_numeric(path, texts[0], df[texts[0]], ignore_hint=True, default_target=default)
            + others
        )
    X = df[feats].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        kind = "NaN (a missing value)" if np.isnan(X[r, c]) else INF_OR_TOO_LARGE
        counts = bad.sum(axis=0)
        whole = (
            f" ({int(counts.sum())} in all: "
            + ", ".join(f"{feats[j]!r} {int(counts[j])}" for j in np.flatnonzero(counts)[:10])
            + (", ..." if np.count_nonzero(counts) > 10 else "")
            + ")"
            if counts.sum() > 1
            else ""
        )
        # A column empty in every row has nothing to impute from: it goes.
        empty = [feats[j] for j in np.flatnonzero(np.isnan(X).all(axis=0))]
        cure = (
            f"{names_of(empty)} {'is' if len(empty) == 1 else 'are'} empty in every row: leave "
            f"{'it' if len(empty) == 1 else 'them'} out with "
            f"{shell_flag('--ignore', empty[0]) if len(empty) == 1 else '--ignore'}"
            + ("" if len(empty) == 1 else " " + " ".join(shlex.quote(str(e)) for e in empty))
            + ("; clean or impute the others" if len(empty) < np.count_nonzero(counts) else "")
            if empty
            else _mostly_missing_cure(feats[c], int(np.isnan(X[:, c]).sum()), len(X))
        )
        raise DataError(
            f"data file {path!r}: feature column {feats[c]!r} has {kind} in {data_row(path, r)}"
            f"{whole}; {cure}"
        )
    if len(df) < 3:
        raise DataError(
            f"data file {path!r} has {len(df)} data row(s); train, val and test need at least 3"
        )
    name = path
    ycols = df[targets]
    if ycols.isna().any().any():
        ycols = _labels_as_written(path, ycols)
    if ycols.isna().any().any():
        col = next(t for t in targets if ycols[t].isna().any())
        gaps = np.flatnonzero(ycols[col].isna().to_numpy())
        raise DataError(
            f"data file {path!r}: target column {col!r} has missing values in "
            f"{data_row(path, gaps[0], 'y')} ({len(gaps)} in all); drop those rows or fill "
            "them first"
        )
    one_hot = task != "regression" and _one_hot(ycols)
    if one_hot:
        # Keras' to_categorical: a 0/1 column a class and one 1 a row. Fit as numbers, it
        # was a regression scored by MAE, and the note of each 0/1 column led to a model
        # a class; read as the class each row names, it is the classification meant.
        ycols = _one_hot_labels(ycols, path)
    kind = "classification" if one_hot else _infer_task(ycols, task)
    if kind == "regression":
        nonnum = [
            t
            for t in targets
            if not pd.api.types.is_numeric_dtype(ycols[t]) or ycols[t].dtype == bool
        ]
        if nonnum:
            raise DataError(
                f"data file {path!r}: target column {nonnum[0]!r} is not numeric"
                f"{_first_text(ycols[nonnum[0]], path)}, so it cannot be a regression target"
                f"{_comma_numbers_hint(ycols[nonnum[0]], path)}"
            )
        y = ycols.to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            r, c = np.argwhere(~np.isfinite(y))[0]
            raise DataError(
                f"data file {path!r}: target column {targets[c]!r} has {INF_OR_TOO_LARGE} "
                f"in {data_row(path, r, 'y')}; clean it or drop that row first"
            )
        if len(targets) == 1 and (y == y[0, 0]).all():  # as a class target of one value is
            raise DataError(
                f"data file {path!r}: target column {targets[0]!r} has one value "
                f"({df[targets[0]].iloc[0]}) in every row; a regression of it has nothing to "
                "learn: is it the column to predict (--target)?"
            )
        ds = _split(name, "regression", X, y, feats, targets, None, _or_default(split), False, rng)
        ds.notes += _target_notes(target, targets, feats) + _row_count_notes(df, feats, split)
        ds.notes += repeated_rows_notes(ds)
        ds.notes += numbered_names_note([str(c) for c in df.columns])
        ds.notes += _constant_notes(df, feats)
        ds.notes += _outlier_notes(X, feats, path)
        # A target of one value has an R² of 0 (nothing to explain), which the run's R²,
        # the mean over its targets, takes in without a word.
        ds.notes += [
            f"target column {t!r} has one value ({df[t].iloc[0]}) in every row: its R² is 0, "
            "which pulls down the run's R² (the mean over its targets); leave it out of "
            "--target"
            for t in targets
            if len(targets) > 1 and df[t].nunique(dropna=False) == 1
        ]
        # Several targets are a regression: a 0/1 column among them is fit as a number,
        # and its MSE enters the run's mean, with no word that it was not classified.
        ds.notes += [
            f"target column {t!r} holds two values ({_two_values(df[t])}), fit as numbers "
            "beside the other targets; to classify it, give it alone: "
            f"{shell_flag('--target', t)}"
            for t in targets
            if len(targets) > 1 and df[t].nunique(dropna=False) == 2
        ]
        # Two values alone (0.5 and 1.5: labels written as numbers) fit as numbers, with no
        # word that task auto reads only whole numbers as classes.
        if task == "auto" and len(targets) == 1 and df[targets[0]].nunique() == 2:
            ds.notes.append(
                f"target column {targets[0]!r} holds two values ({_two_values(df[targets[0]])}), "
                "fit as numbers (task auto reads whole numbers alone as classes); labels of "
                "two classes take --task classification"
            )
        ds.notes += _many_whole_numbers_note(ycols, task)
        ds.notes += target_copy_notes(ds)
        ds.notes += _target_outlier_notes(ds, path)
        return ds
    if len(targets) > 1 and not one_hot:
        if task == "classification":
            raise DataError(
                f"data file {path!r}: classification takes one target column, not {targets} "
                "(several numeric columns are a regression; 0/1 columns, one 1 a row, name "
                "the classes)"
            )
        text = next(  # True/False is numeric to pandas, and no regression's number
            (
                t
                for t in targets
                if not pd.api.types.is_numeric_dtype(ycols[t]) or ycols[t].dtype == bool
            ),
            targets[0],
        )
        if ycols[text].dtype == bool:  # no row is wrong: the column is a class's
            raise DataError(
                f"data file {path!r}: several target columns are a regression, and target "
                f"column {text!r} holds True/False, a class's labels: give one target "
                "column to classify, or write it as 0/1 to fit it as a number"
            )
        raise DataError(
            f"data file {path!r}: several target columns are a regression, and target column "
            f"{text!r} is not numeric{_first_text(ycols[text], path)}; fix or drop such rows, "
            "or give one target column to classify"
        )
    col = ycols[ycols.columns[0]]
    if task == "auto" and not one_hot:
        _check_thousands(col, path, targets[0])
        _check_stray_text(col, path, targets[0])
        # With --task classification the user has said that '-', '?' or NA is a class (as
        # in tables labelled + and -, or regions); guessed, such a label is far more often
        # a missing value (R's write.csv writes NA), as it is in a feature column.
        marked = np.flatnonzero(missing_marked(col))
        if len(marked):
            mark = str(col.iloc[marked[0]])
            raise DataError(
                f"data file {path!r}: target column {targets[0]!r} has a missing value "
                f"({mark!r} in {data_row(path, marked[0], 'y')}); fix or drop such rows, or, if "
                f"{mark.strip()!r} is a class, say so with --task classification"
            )
    if _whole_floats(col):
        col = col.astype(np.int64)  # the classes 0 and 1, not 0.0 and 1.0
    if not one_hot and (codes := _zero_padded(path, targets[0], col)) is not None:
        col = codes
    # pandas' nullable "boolean" is numeric to is_numeric_dtype: True/False all the same.
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric:
        values = col
    else:
        # 'yes ' is 'yes': spaces around a label (a spreadsheet's stray one) would make it
        # a class of its own, as spaces around a column name would not; and so is 'élevé'
        # in both Unicode forms (rows saved on macOS and elsewhere), two classes that looked
        # the same. Labels of one form are kept as written, as a run's record has them.
        values = col.astype(str).str.strip()
        if (composed := values.str.normalize("NFC")).nunique() < values.nunique():
            values = composed
    classes, y = np.unique(values.to_numpy(), return_inverse=True)
    if len(classes) < 2:
        raise DataError(
            f"data file {path!r}: target column {targets[0]!r} has a single class ({str(classes[0])!r}); "
            "classification needs at least 2; a column of one value has nothing to learn: "
            "is it the column to predict (--target)?"
        )
    if len(classes) > max(MAX_AUTO_CLASSES, len(col) / 2):
        # A class per row or so: nothing to learn from, and mostly a number to predict.
        raise DataError(
            f"data file {path!r}: target column {targets[0]!r} has {len(classes)} classes in "
            f"{len(col)} rows, too few rows a class to learn from"
            + (_comma_numbers_hint(col, path) or "; a number to predict takes --task regression")
        )
    names = [str(c) for c in classes]
    ds = _classification(
        name,
        X,
        y.astype(np.int64),
        names,
        feats,
        targets,
        _or_default(split),
        False,
        rng,
        stratify,
    )
    ds.label_kind = "number" if numeric else "bool" if pd.api.types.is_bool_dtype(col) else "text"
    ds.notes += _target_notes(target, targets, feats) + _row_count_notes(df, feats, split)
    ds.notes += repeated_rows_notes(ds)
    ds.notes += numbered_names_note([str(c) for c in df.columns])
    ds.notes += _constant_notes(df, feats)
    ds.notes += _outlier_notes(X, feats, path)
    ds.notes += _case_notes(names) or _rare_class_notes(names, np.bincount(y))
    ds.notes += target_copy_notes(ds)
    if one_hot:
        ds.notes.append(_one_hot_note(targets, names, path))
    elif task == "auto" and numeric and len(classes) > 2:
        # Counts (0..12) or a rating read as classes train as classes with no word of why.
        ds.notes.append(
            f"target column {targets[0]!r} holds {len(classes)} whole numbers ({names[0]} to "
            f"{names[-1]}), read as classes (task auto); counts or a score to fit as a number "
            "take --task regression"
        )
    if task == "auto" and not numeric and _signed_numbers(names):
        # '28%', '$16.50': rates and prices read as 51 classes named so, without a word.
        ds.notes.append(
            f"target column {targets[0]!r} holds numbers written with a % or currency sign "
            f"({_signed_example(names)!r}), read as {len(names)} classes; to fit them as numbers, write "
            "the column as plain numbers (1234.5)"
        )
    return ds


# A rate or a price as a spreadsheet or a database shows it: 28%, $4395.97, 87,78 €,
# USD 72.81 (digits grouped or not).
_CURRENCY = r"(?:[$€£¥]|(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR)\b)"
_SIGNED_NUMBER = re.compile(
    rf"{_CURRENCY}?\s*[+-]?{_CURRENCY}?\s*\d[\d,.'’\u00a0\u202f]*\s*(?:%|{_CURRENCY})?"
)
_SIGN = re.compile(rf"%|{_CURRENCY}")


def _signed_example(values: list[str]) -> str:
    """The first of ``values`` with its sign (28%, not a bare 0 beside it)."""
    return next(v for v in values if _SIGN.search(v))


def _signed_numbers(values: list[str]) -> bool:
    """Whether every one of ``values`` is a number as a spreadsheet shows a rate or a
    price, with a % or currency sign on some (a bare 0 beside 10%)."""
    values = [v.strip() for v in values]
    return all(_SIGNED_NUMBER.fullmatch(v) for v in values) and any(_SIGN.search(v) for v in values)


def _many_whole_numbers_note(ycols: Any, task: str) -> list[str]:  # a DataFrame
    """Class codes past :data:`MAX_AUTO_CLASSES` (50 product categories as 0..49) were fit
    as a number without a word, where 20 of them would have been read as classes."""
    if task != "auto" or ycols.shape[1] != 1:
        return []
    col = ycols.iloc[:, 0]
    values = np.unique(col.to_numpy(dtype=np.float64))
    # Few values, each on 5 rows or more on average: codes, or counts; not prices or
    # measurements. (It asked for 500 rows whatever the values: 30 codes of 10 rows each
    # were fit as a number without a word.)
    if not (MAX_AUTO_CLASSES < len(values) <= 5 * MAX_AUTO_CLASSES and len(col) >= 5 * len(values)):
        return []
    if not np.all(values == np.round(values)):
        return []
    return [
        f"target column {col.name!r} holds {len(values)} whole numbers ({values[0]:g} to "
        f"{values[-1]:g}), fit as a number (task auto reads at most {MAX_AUTO_CLASSES} as "
        "classes); codes of classes take --task classification"
    ]


def _rare_class_notes(names: list[str], counts: np.ndarray) -> list[str]:
    """A class of one or two rows among many is most often a stray label ('yes ' or 'Yes'
    beside 'yes'), which would train as a class of its own."""
    rare = [
        f"{n!r} ({c} row{'s' if c > 1 else ''})"
        for n, c in zip(names, counts.tolist())
        if c <= RARE_CLASS_ROWS
    ]
    if not rare or counts.sum() < 10 * RARE_CLASS_ROWS or len(rare) == len(names):
        return []
    return [
        f"the class(es) {', '.join(rare)} of {int(counts.sum())} rows are rare: if a label is "
        "misspelt or marks a missing value, fix or drop those rows"
    ]


# Names that say "the column to predict": a feature so named, where the target was taken
# for want of --target, is noted.
TARGET_NAMES = frozenset({"y", "target", "label", "labels", "class", "outcome"})


def _target_notes(given: list[str] | None, targets: list[str], feats: list[str]) -> list[str]:
    """The target taken for want of ``--target`` where a feature's name says it is the
    one to predict: a file whose ``y`` came first trained on its last feature, with ``y``
    as a feature, and no line named the column."""
    named = [f for f in feats if str(f).lower() in TARGET_NAMES]
    if given or not named:
        return []
    return [
        f"the target is the last column, {targets[0]!r}, for want of --target; if it is "
        f"{named[0]!r}, say so: {shell_flag('--target', named[0])}"
    ]


def _one_hot(ycols) -> bool:  # ycols: pandas.DataFrame
    """Whether target columns are one-hot labels: two or more columns of 0 and 1 (numbers
    or booleans), with exactly one 1 in each row."""
    import pandas as pd

    if ycols.shape[1] < 2:
        return False
    if not all(
        pd.api.types.is_bool_dtype(ycols[t]) or pd.api.types.is_numeric_dtype(ycols[t])
        for t in ycols.columns
    ):
        return False
    values = ycols.to_numpy(dtype=np.float64)
    return bool(np.isin(values, (0.0, 1.0)).all() and (values.sum(axis=1) == 1).all())


def _one_hot_labels(ycols, path: str):  # -> pandas.DataFrame of one column
    """The class each row of one-hot columns names: the column's index in an NPZ file's
    ``y`` (``y.argmax(axis=1)``), else the column's name."""
    import pandas as pd

    hot = ycols.to_numpy(dtype=np.float64).argmax(axis=1)
    if path.lower().endswith(".npz"):
        labels = pd.Series(hot.astype(np.int64), index=ycols.index)
    else:
        names = np.asarray([str(c) for c in ycols.columns], dtype=object)
        labels = pd.Series(names[hot], index=ycols.index, dtype=object)
    return pd.DataFrame({"class": labels})


def _one_hot_note(targets: list[str], names: list[str], path: str) -> str:
    shown = ", ".join(map(repr, targets[:3])) + (
        f" and {len(targets) - 3} more" if len(targets) > 3 else ""
    )
    npz = path.lower().endswith(".npz")
    what = (
        "the index of the column of its 1 (y.argmax(axis=1))"
        if npz
        else "the name of the column of its 1"
    )
    classes = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return (
        f"target columns {shown} hold one 1 a row (one-hot labels, as Keras' to_categorical "
        f"writes them), read as {len(names)} classes ({classes}): a row's class is {what}; "
        "to fit them as numbers instead, --task regression"
    )


def _two_values(col) -> str:  # col: pandas.Series
    low, high = sorted(col.unique().tolist())
    return f"{low:g} and {high:g}" if isinstance(low, float) else f"{low} and {high}"


# Where this share of a held-out split repeats training rows, its scores are of rows seen.
REPEATED_SHARE = 0.1


def repeated_rows_notes(ds: Dataset) -> list[str]:
    """Validation and test rows of measurements that repeat a training row exactly
    (features and target): a file of each row 5 times scored test accuracy 1.0 on
    coin-flip labels, without a word, as every test row had its copy in training."""
    if ds.shared_splits or not len(ds.X_train):
        return []
    import pandas as pd

    def hashes(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        rows = pd.DataFrame(np.column_stack([X, y.reshape(len(y), -1)]))
        return pd.util.hash_pandas_object(rows, index=False).to_numpy()

    seen = hashes(ds.X_train, ds.y_train)
    counts = {}
    for split in ("val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        if len(X):
            # A row of measurements (a value with decimals) met twice is a copy; one of
            # whole numbers (counts, codes, 0/1 columns) may well recur as a new row.
            measured = (np.asarray(X, dtype=np.float64) % 1 != 0).any(axis=1)
            counts[split] = (int((np.isin(hashes(X, y), seen) & measured).sum()), len(X))
    if not any(n >= REPEATED_SHARE * total for n, total in counts.values()):
        return []
    said = " and ".join(f"{n} of the {total} {split} rows" for split, (n, total) in counts.items())
    return [
        f"{said} repeat a training row exactly: their scores are of rows the model saw, not "
        "of new ones; drop the repeats first (pandas' drop_duplicates), or split by a column "
        "that keeps a row's copies together (--split_by)"
    ]


def _case_notes(names: list[str]) -> list[str]:
    """Labels that differ only in case ('Yes' and 'YES') train as classes of their own: a
    binary file with some labels upper-cased became four classes without a word. (Said,
    it stands for the rare-class note, which would name such a label again.)"""
    alike: dict[str, list[str]] = {}
    for n in names:
        alike.setdefault(n.casefold(), []).append(n)
    groups = [" and ".join(map(repr, g)) for g in alike.values() if len(g) > 1]
    if not groups:
        return []
    return [
        f"the classes {'; '.join(groups)} differ only in case, and are classes of their "
        "own: if each is one label, write it alike"
    ]


# Rows in time order, split at random, train on their own future: R² 0.95, and -15 split by
# time. The row counter is the sign of such a file.
TIME_ORDER = (
    "; if the rows are in time order, a random split trains on their future: split by time "
    "with a column of train/val/test (--split_by)"
)


def _row_count_notes(df, feats: list[str], split) -> list[str]:
    """A feature that counts the rows (0, 1, 2, ..., or 100000, 100001, ... as a database
    export numbers them) is most likely a row index saved with a name ('id'): the model
    would learn the row order. Where a column gives each row's split (``split``, an
    array), the rows are not drawn at random: the advice to split by time is left out."""
    import pandas as pd

    notes = []
    for c in feats:
        col = df[c]
        if len(col) >= 10 and pd.api.types.is_integer_dtype(col) and col.dtype != bool:
            values = col.to_numpy()
            if (np.diff(values) == 1).all():
                notes.append(
                    f"feature column {c!r} counts the rows ({values[0]}, {values[0] + 1}, "
                    f"{values[0] + 2}, ...); if it is a row index, leave it out with "
                    f"{shell_flag('--ignore', c)}"
                    + ("" if isinstance(split, np.ndarray) else TIME_ORDER)
                )
    return notes


# Training rows, and rows of each class, a check of a feature against the target needs: in
# fewer, a column may set the classes apart by chance.
TARGET_COPY_MIN_ROWS = 20
TARGET_COPY_MIN_CLASS_ROWS = 5


def target_copy_notes(ds: Dataset) -> list[str]:
    """A feature that gives the target away in the training rows, the most common leak (a
    copy of the label, its code, a score computed from it): a classification's feature
    that alone sets the classes apart, each class's values bunched in a range of its own,
    with a gap to the next wider than any class's range (a copy holds one value a class;
    not a feature the labels were drawn from by a threshold, which has no such gap); a
    regression's feature equal to a target in every training row. One note a column."""
    X, y = np.asarray(ds.X_train, dtype=np.float64), np.asarray(ds.y_train)
    if len(X) < TARGET_COPY_MIN_ROWS or not X.shape[1]:
        return []
    feats, notes = ds.feature_names, []
    if ds.task == "regression":
        y = y.reshape(len(y), -1).astype(np.float64)
        for j, name in enumerate(feats):
            same = [
                t
                for t, target in enumerate(ds.target_names)
                if np.allclose(X[:, j], y[:, t], rtol=1e-9, atol=0.0)
            ]
            if same:
                notes.append(
                    f"feature column {name!r} equals the target {ds.target_names[same[0]]!r} in "
                    f"every training row: {_COPY_CURE}{shell_flag('--ignore', name)}"
                )
        return notes
    classes = y.reshape(len(y), -1)[:, 0].astype(np.int64)
    order = np.argsort(classes, kind="stable")
    present, starts, counts = np.unique(classes[order], return_index=True, return_counts=True)
    if len(present) < 2 or counts.min() < TARGET_COPY_MIN_CLASS_ROWS:
        return []
    low = np.minimum.reduceat(X[order], starts, axis=0)  # [class, feature]
    high = np.maximum.reduceat(X[order], starts, axis=0)
    for j, name in enumerate(feats):
        by_low = np.argsort(low[:, j], kind="stable")
        lo, hi = low[by_low, j], high[by_low, j]
        gaps = lo[1:] - hi[:-1]  # between each class's range and the next one up
        if (gaps > 0).all() and gaps.min() > (hi - lo).max():
            held = " (one value a class)" if (hi == lo).all() else ""
            notes.append(
                f"feature column {name!r} alone sets the classes apart in the training "
                f"rows{held}: {_COPY_CURE}{shell_flag('--ignore', name)}"
            )
    return notes


_COPY_CURE = (
    "if it is made from the target (a copy, a code or score of it, a value known only "
    "after the outcome), it leaks the answer, which new rows will not have, and the "
    "scores flatter the model; leave it out with "
)


def _constant_notes(df, feats: list[str]) -> list[str]:
    """A feature of one value in every row tells the model nothing, yet its weights are
    trained at random: a new row with another value there moves its prediction at random
    (a constant 1.0 given as 100 took a probability from 0.45 to 0.002)."""
    same = [c for c in feats if len(df) > 1 and _one_value(df[c])]
    return [
        f"feature column {c!r} has one value ({df[c].iloc[0]}) in every row: it tells the "
        f"model nothing, and a new row's other value there would move its prediction; leave "
        f"it out with {shell_flag('--ignore', c)}"
        for c in same
    ]


def _one_value(col) -> bool:  # col: pandas.Series
    """Whether every cell holds the first one's value (all missing counts as one value, as
    nunique(dropna=False) has it): one comparison, where nunique hashed every cell (0.3 s
    of the 2 s a 100,000-row file of 20 columns took to load)."""
    import pandas as pd

    first = col.iloc[0]
    if pd.api.types.is_scalar(first) and pd.isna(first):
        return bool(col.isna().all())
    # A missing cell compares as missing in pandas' own dtypes (Int64): not the same value.
    return bool((col == first).fillna(False).all())


# How far from its column's median, in the spread of the column's middle half (or, where
# that is 0, its median absolute deviation), one value may lie before it is named: far
# beyond common heavy tails (the largest of a million rows of a lognormal lies about 100
# away), where one value takes most of the spread that standardizing divides by.
OUTLIER_SPREADS = 1e3
# Columns judged at once: their quantiles take a copy of that block of the table.
_OUTLIER_BLOCK_CELLS = 1 << 22


def _outlier_notes(X: np.ndarray, feats: list[str], path: str = "") -> list[str]:
    """A feature with a value far beyond all its others (1e300 among values near 0):
    standardized, the others all land near one point (about -0.06) and the column tells
    the model almost nothing, without a word (test accuracy 0.53 where 1.0 without it)."""
    notes = []
    block = max(1, _OUTLIER_BLOCK_CELLS // max(len(X), 1))
    for start in range(0, X.shape[1], block):
        part = X[:, start : start + block]
        for j, row, median, spread, times, count in _far_values(part):
            more = f" (and {count - 1} more value{'s' if count > 2 else ''} that far)"
            notes.append(
                f"feature column {feats[start + j]!r} has {part[row, j]:.6g} in "
                f"{data_row(path, row)}, {_times(times)} its values' usual spread ({spread:.3g}) from "
                f"their median ({median:.6g}){more if count > 1 else ''}: in the training "
                "rows, standardized, its other values all lie near one point and tell the "
                "model little (in the rows it is tested on, a value far past any it trained "
                "on); if the value is a mistake, drop that row, else clip the column (e.g. "
                "to its 1st and 99th percentiles) or, for a long tail of positive values, "
                "take its log"
            )
    return notes


def _times(times: float) -> str:
    """'7.4e+299 times' (a float's reach past it: 'far more than 1e308 times')."""
    return f"{times:.2g} times" if np.isfinite(times) else "far more than 1e308 times"


# A regression target's value this many spreads from its median weighs in an MSE loss as
# hundreds of ordinary rows: ten prices keyed x10 took a test R² from 0.96 to 0.22. (A
# normal target's farthest value is about 3 spreads out, an exponential's 6.)
TARGET_OUTLIER_SPREADS = 10.0


def _target_outlier_notes(ds: Dataset, path: str = "") -> list[str]:
    """A regression target with values far out (a typo, or a long tail): the loss squares
    them, and fits the other rows worse to reach them. Judged on the training rows alone,
    which the loss is of: a held-out row's label is for scoring, not for choosing which
    rows to keep (a note on test rows, with advice to drop them, curated the test split)."""
    y, targets = np.asarray(ds.y_train, dtype=np.float64), ds.target_names
    y = y.reshape(len(y), -1)
    rows = ds.rows[0] if ds.rows is not None else np.arange(len(y))
    notes = []
    for j, at, median, spread, times, count in _far_values(y, TARGET_OUTLIER_SPREADS):
        row = int(rows[at])
        more = f" (and {count - 1} more that far)" if count > 1 else ""
        tail = (
            "; a long tail of positive values fits better as its log (a column of "
            f"log({targets[j]}) as the target; predictions are then logs)"
            if (y[:, j] > 0).all()
            else ""
        )
        notes.append(
            f"target column {targets[j]!r} has {y[at, j]:.6g} in {data_row(path, row, 'y')}, "
            f"{_times(times)} its training values' usual spread ({spread:.3g}) from their "
            f"median ({median:.6g}){more}: the loss (mean squared error) weighs such rows as many "
            f"ordinary ones; if a value is a mistake, drop its row{tail}"
        )
    return notes


def _far_values(
    X: np.ndarray, far: float = OUTLIER_SPREADS
) -> list[tuple[int, int, float, float, float, int]]:
    """(column, row, median, spread, how many spreads away, how many values so far) of
    each column of ``X`` whose farthest value lies over OUTLIER_SPREADS spreads from its
    median (``far``: OUTLIER_SPREADS for a feature). The spread is the middle half's width, which one far value does not widen,
    or the median absolute deviation where that is 0; a column all but a few rows of one
    value has neither, and is left alone."""
    if len(X) < 4 or not X.shape[1]:
        return []
    with np.errstate(over="ignore", invalid="ignore"):
        low, median, high = np.percentile(X, [25, 50, 75], axis=0)
        spread = high - low
        flat = ~(spread > 0)
        if flat.any():
            spread[flat] = np.median(np.abs(X[:, flat] - median[flat]), axis=0)
        spreads = np.abs(X - median) / np.where(spread > 0, spread, np.nan)
    spreads = np.where(np.isnan(spreads), 0.0, spreads)  # a column with no spread
    rows = np.argmax(spreads, axis=0)
    times = spreads[rows, np.arange(X.shape[1])]
    counts = (spreads > far).sum(axis=0)
    return [
        (int(j), int(rows[j]), float(median[j]), float(spread[j]), float(times[j]), int(counts[j]))
        for j in np.flatnonzero(np.isfinite(spread) & (times > far))
    ]


def _without(df, path: str, ignore: list[str], target: list[str]):  # -> pandas.DataFrame
    """The table without the columns of setting ``ignore`` (each must be there)."""
    for name in ignore:
        if name not in df.columns:
            raise DataError(
                f"setting 'ignore': data file {path!r} has no column {name!r}; columns are "
                f"{', '.join(map(str, df.columns))}"
            )
        if name in target:
            raise ConfigError(f"setting 'ignore': {name!r} is the target; a target is no feature")
    return df.drop(columns=list(ignore))


SPLIT_NAMES = {"train": 0, "val": 1, "validation": 1, "test": 2}


def _or_default(split):  # -> sizes, or each row's split (an array, which has no truth)
    return split if isinstance(split, np.ndarray) or split else (0.8, 0.1, 0.1)


def _names_splits(col) -> bool:  # col: pandas.Series
    """Whether every cell of ``col`` names a split (train, val, validation or test), train
    among them: a column for --split_by."""
    values = set(col.dropna().astype(str).str.strip().str.lower())
    return bool(values) and values <= set(SPLIT_NAMES) and {"train"} <= values


def _split_column(df, path: str, name: str, target: list[str]) -> np.ndarray:
    """Each row's split, 0, 1 or 2 (train, val, test), from the column ``name``
    (setting ``split_by``), which must name one of :data:`SPLIT_NAMES` in every row (in
    any case, spaces around it aside) and give train and val a row each (no test row is a
    run without a test split)."""
    if name not in df.columns:
        near = other_case(name, df.columns)
        hint = f" (did you mean {near!r}?)" if near is not None else ""
        raise DataError(
            f"setting 'split_by': data file {path!r} has no column {name!r}{hint}; columns "
            f"are {names_of([str(c) for c in df.columns])}"
        )
    if name in target:
        raise ConfigError(f"setting 'split_by': {name!r} is the target; give another column")
    values = df[name].astype(str).str.strip().str.lower()
    codes = values.map(SPLIT_NAMES)
    bad = np.flatnonzero(codes.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"setting 'split_by': data file {path!r}: column {name!r} has "
            f"{str(df[name].iloc[bad[0]])!r} in data row {bad[0] + 1}"
            f"{'' if len(bad) == 1 else f' ({len(bad)} rows name no split)'}; "
            "each row's value names its split: train, val (or validation) or test"
        )
    codes = codes.to_numpy(dtype=np.int64)
    # No test row is a run without a test split (labelled rows all train or validate);
    # train and val need a row each.
    empty = [s for s, i in (("train", 0), ("val", 1)) if not (codes == i).any()]
    if empty:
        raise DataError(
            f"setting 'split_by': data file {path!r}: column {name!r} names no {empty[0]} "
            "row; train and val need one row or more each (test may have none)"
        )
    return codes


def _check_named_columns(df, path: str, target: list[str]) -> None:
    """Refuse a column without a name in the header, which pandas calls ``Unnamed: N``.

    Most often it is the row index that ``DataFrame.to_csv`` writes by default: taken for
    a feature, the row order would leak into the model (data sorted by class gives the
    class away), and new rows to predict would need it too. A column that ``--target``
    names is the user's choice, not a feature taken unawares.
    """
    from mlplab.data.files import header_names

    for i, c in enumerate(df.columns):
        if c in target:
            continue
        if c == "" or re.fullmatch(r"Unnamed: \d+", c):  # '' from a Parquet or NPZ writer
            written = header_names(path)
            if c and (written is None or c in written):
                # Named so in the file: pandas' name for a nameless column (an index read
                # back from a CSV and saved again), not a column without a name.
                raise DataError(
                    f"data file {path!r}: column {i + 1} is named {c!r}, the name pandas "
                    "gives a column without one: most likely a row index saved with the "
                    "rows (to_csv(path, index=False) saves none); leave it out with "
                    f"{shell_flag('--ignore', c)}, or give it its own name if it is a feature"
                )
            hint = (
                " (a row index? pandas writes none with to_csv(path, index=False), R with "
                "write.csv(df, path, row.names = FALSE))"
            )
            raise DataError(
                f"data file {path!r}: column {i + 1} has no name in the header"
                f"{hint if i == 0 else ''}; name every column"
            )


# 1,234.5 or $1,234 or 12% or 1 234,5 € : a number formatted for reading, not for a file.
# A date or time as exports write them: 2021-12-01, 2021/12/01 13:45, 01/12/2021, 12.01.2021.
_DATE = re.compile(
    r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
# What to do with a column of dates: one 0/1 column per value would be a column a day.
DATES_HINT = "encode them as numbers first (e.g. days since a start)"


def holds_dates(text: str) -> bool:
    """Whether a cell's text is a date or a time (``2015-01-31``, ``31.01.2015``,
    ``01/31/2015 12:00``): the command line's file reader and the estimators give a
    column of them :data:`DATES_HINT`, not the hint to one-hot encode text."""
    return bool(_DATE.fullmatch(text.strip()))


# A decimal comma beyond doubt: 0,1891, -3,5 or 1234,5 (1,234 may group thousands).
_DECIMAL_COMMA = re.compile(
    r"[+-]?(0,\d+|\d{4,},\d+|\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3})+,\d+|\d+,\d+[eE][+-]?\d+)"
)
# Any number written with a comma (1,234 included, which may group thousands): a column
# of them in a comma-separated file reads as text.
_COMMA_WRITTEN = re.compile(r"[+-]?\d[\d.,]*,\d+([eE][+-]?\d+)?")
# 573,170 and 21,318.29; and, beside such values, 328.91 (under a thousand: no comma).
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})*(\.\d+)?|[+-]?0(\.\d+)?")


def thousands_grouped(values) -> bool:  # values: pandas.Series of str
    """Whether every value is a number and some group their thousands by a comma
    (``1,694.6`` beside ``398.2``, or ``12,000``): prices and flows from a spreadsheet."""
    return (
        bool(len(values))
        and bool(values.str.contains(",", regex=False).any())
        and bool(values.str.fullmatch(_THOUSANDS).all())
    )


def _thousands_hint(value: str, path: str, quoted: bool = False) -> str:
    """What to do with ``value`` (``'1,694.6'``), a number whose comma groups thousands:
    mlplab's file reader takes no thousands separator, so the user removes them.
    ``quoted``: the message quotes the value already."""
    where = "its comma" if quoted else f"the comma in {value!r}"
    return (
        f"{where} looks like a thousands separator, which mlplab does not read: remove "
        f"the separators ({value.replace(',', '')})"
        # '573,170' is a price: a ';' file would read it as 573.17, without a word.
        + (" (not a file with ';' between values: there a comma is a decimal mark)"
           if _comma_file(path) else "")
    )  # fmt: skip


def _with_a_point(value: str) -> str:
    """A decimal-comma number with a decimal point: 1.234,5 -> 1234.5, 0,1891 -> 0.1891."""
    return value.replace(".", "").replace(",", ".")


def _comma_numbers_hint(col, path: str) -> str:  # col: pandas.Series
    """'; its values are numbers written with a comma ...' where every value of a text
    column is one, else ''. A target of them was told it had a class a row, or, with
    --task regression, that it is not numeric: true, and no way out."""
    values = col.dropna().astype(str).str.strip()
    thousands = thousands_grouped(values)
    if len(values) and _signed_numbers(list(values.unique())):
        return (
            f"; its values look like numbers written with a % or currency sign "
            f"({_signed_example(list(values))!r}): write the column as plain numbers (1234.5)"
        )
    if not len(values) or not (thousands or values.str.fullmatch(_COMMA_WRITTEN).all()):
        return ""
    if not _comma_file(path):  # a Parquet or NPZ column of str: no separator to change
        return (
            f"; its values are numbers written as text with a comma ({values.iloc[0]!r}): "
            "store them as numbers"
        )
    if thousands:
        first = values[values.str.contains(",", regex=False)].iloc[0]
        return f"; {_thousands_hint(first, path)}"
    return (
        f"; its values are numbers written with a comma ({values.iloc[0]!r}), which a "
        "comma-separated file reads as text: write them with a decimal point (and no "
        "thousands separator), or save the file with ';' between values, where decimal "
        "commas are read"
    )


def _written_in_other_numerals(text: str) -> bool:
    """``١٫٥``, ``１.５``, ``−2.5``: a number once its non-ASCII characters are read as the
    digits, point and minus they stand for (Python reads ``float('١٫٥')`` as nothing)."""
    if not _OTHER_NUMERALS.search(text):
        return False
    import unicodedata

    def ascii_char(c: str) -> str:
        if c.isdecimal():  # a script's digits, not ① or ²
            return str(unicodedata.decimal(c))
        return {"٫": ".", "٬": "", "−": "-", "–": "-", "—": "-", "．": ".", "－": "-"}.get(c, c)

    return bool(_DIGITS.fullmatch("".join(map(ascii_char, text))))


def _comma_file(path: str) -> bool:
    """Whether ``path`` may be a comma-separated text file (a .csv or .txt, which a ';'
    could separate too: the hints then name both)."""
    return Path(path).suffix.lower() in (".csv", ".txt")


# A number as a spreadsheet shows it: a currency, a %, thousands grouped by a comma, a
# (no-break) space or, as in Switzerland, an apostrophe (2'164.80).
_FORMATTED_NUMBER = re.compile(  # (1,014.00): an accounting format's negative
    r"\(?[$€£¥]?\s*[+-]?[$€£¥]?\s*\d{1,3}([, \u00a0\u202f'’]\d{3})*([.,]\d+)?\s*[%$€£¥]?\)?"
)


def names_of(columns: list[str], most: int = 10) -> str:
    """'a', 'b', ... (at most ``most`` names, then how many more)."""
    shown = ", ".join(map(repr, columns[:most]))
    return shown + (f" and {len(columns) - most} more" if len(columns) > most else "")


def not_numeric(
    path: str, name: str, col, ignore_hint: bool = False, default_target: str | None = None
) -> str:
    """The message for a feature column that is not numbers, quoting a value at fault.

    A '?' or '-' is a missing value as many tables mark it, and is called one. Text such as
    a colour is a category, to be encoded first; an id or a note is no feature, and with
    ``ignore_hint`` the way to leave it out is named.
    """
    import pandas as pd

    if not col.notna().any():
        return f"data file {path!r}: feature column {name!r} is empty"
    given = col.dropna()
    if given.map(lambda v: isinstance(v, bool | np.bool_)).all():
        # True/False with blanks: read as objects, and called "numbers stored as text".
        gaps = np.flatnonzero(col.isna().to_numpy())
        return (
            f"data file {path!r}: feature column {name!r} holds True/False with missing "
            f"values (in data row {gaps[0] + 1}; {len(gaps)} in all); fill them, or leave "
            f"it out with {shell_flag('--ignore', name)}"
        )
    as_num = pd.to_numeric(col, errors="coerce")
    mask = (col.notna() & as_num.isna()).to_numpy()
    also = ""
    if mask.any():
        # A value that is no number even with a decimal comma read as a point is the one at
        # fault where there is one: a ';' file reads decimal commas, and its column of
        # 0,1257 failed on the 'abc' further down, not on its first row.
        commas = col.astype(str).str.strip().str.fullmatch(_COMMA_WRITTEN).to_numpy()
        # 12,000 beside 1,694.6 groups thousands: no decimal comma (told so below).
        grouped = thousands_grouped(given.astype(str).str.strip())
        if (mask & ~commas).any() and (mask & commas).any() and not grouped:
            first = int(np.flatnonzero(mask & commas)[0])
            also = (
                f"; its other values are numbers written with a decimal comma "
                f"({str(col.iloc[first]).strip()!r} in data row {first + 1}): a file "
                "separated by ';' or tabs reads them as numbers once every value is one; in "
                "a comma-separated file, write them with a decimal point"
            )
        if (mask & ~commas).any():
            mask = mask & ~commas
    bad = col[mask]
    example = bad.iloc[0] if len(bad) else col.dropna().iloc[0]
    # By position, not by index label: the index need not count rows.
    row = int(np.flatnonzero(mask)[0]) + 1 if len(bad) else None
    at = f" in {data_row(path, row - 1, _array_of(name))}" if row is not None else ""
    text = str(example).strip()
    # pandas reads nan and NaN as missing, but not NAN or Nan: the same mark. (Not 'none'
    # or 'na', which may be a category's name: symptoms none, region na.)
    if missing_marked(pd.Series([text]))[0]:
        # Marked missing in every row, as an empty column is: nothing to impute from.
        cure = (
            f"it is missing in every row: leave it out with {shell_flag('--ignore', name)}"
            if (missing_marked(col) | col.isna().to_numpy()).all()
            else "clean or impute it first"
        )
        return (
            f"data file {path!r}: feature column {name!r} has a missing value "
            f"({str(example)!r}{at}); {cure}"
        )
    if len(bad) and _DIGITS.fullmatch(text):  # digits past what a float holds: read as text
        return (
            f"data file {path!r}: feature column {name!r} has {INF_OR_TOO_LARGE} "
            f"({shorten(text, 40)!r}{at}); clean it or drop that row first"
        )
    example = shorten(str(example))  # a value of 100,000 characters, quoted whole
    message = f"data file {path!r}: feature column {name!r} is not numeric ({str(example)!r}{at})"
    if len(bad) and _written_in_other_numerals(text):
        return message + (
            "; it is a number written with characters other than 0-9, '-' and '.' (digits "
            "of another script, a full-width digit, a minus sign or dash from a document): "
            "write the column's numbers with 0-9, '-' and '.'"
        )
    if also:  # one value that is no number among decimal commas: both, and nothing else
        return message + also
    if holds_dates(str(example)):
        # One 0/1 column per date (the hint below) would be a column a day.
        return message + (
            f"; it holds dates or times: {DATES_HINT}, or leave it out with "
            f"{shell_flag('--ignore', name)}"
        )
    if not len(bad):
        # Every value a number, kept as text (a Parquet or NPZ file's column of str).
        return (
            f"data file {path!r}: feature column {name!r} holds numbers stored as text "
            f"({str(example)!r}); store them as numbers (pandas.to_numeric)"
        )
    if _DECIMAL_COMMA.fullmatch(str(example).strip()):
        # "0,1891" quoted in a comma-separated file: only ';' and tab files read commas as
        # decimal marks (a comma file's commas separate values). A Parquet or NPZ column
        # has no separator to change.
        text_file = _comma_file(path)
        return message + (
            "; it looks like a number with a decimal comma: write it with a decimal point "
            f"({_with_a_point(str(example).strip())})"
            + (", or save the file with ';' between values, where decimal commas are read"
               if text_file else "")
        )  # fmt: skip
    if "," in text and _THOUSANDS.fullmatch(text):  # 1,694.6: no currency, no %
        return message + f"; {_thousands_hint(text, path, True)}"
    # Grouped or in parentheses, or a rate or price as the target's check reads one
    # ($4395.97, USD 72.81): one rule for both, which the feature was once told as an id.
    if _FORMATTED_NUMBER.fullmatch(text) or _signed_numbers([text]):
        # A number as a spreadsheet shows it: encoding its values as categories is wrong.
        return message + (
            "; it looks like a number written with a currency sign, a thousands separator, "
            "a % or an accounting negative's parentheses: write the column as plain numbers "
            "(1234.5, -540)"
        )
    if len(bad) and as_num.notna().sum() >= 2 * len(bad):
        # A few words among numbers (none, unknown, N/a): a missing value or a slip, not a
        # category to encode nor an id to leave out (a price column with one 'none' was
        # told to be dropped).
        return message + (
            f"; the column's other values are numbers ({len(bad)} cell"
            f"{'' if len(bad) == 1 else 's'} of text among them): a missing value or a typo; "
            "clean or impute it first"
        )
    if ignore_hint and len(col) >= 10 and col.nunique() == len(col):
        # An id, a name, a note: encoded, a column per row (200 rows, 200 columns).
        message += (
            "; it holds a different value in each row, as an id or a note does, which is no "
            f"feature: it is left out with {shell_flag('--ignore', name)}"
        )
    elif ignore_hint:
        message += (
            "; features must be numbers: encode it first (one 0/1 column per value, as "
            "pandas.get_dummies makes them); a column that is no feature can be left out "
            f"with {shell_flag('--ignore', name)}"
        )
    if default_target is not None:  # taken as the target for want of --target
        message += (
            f"; if it is the target, say so with {shell_flag('--target', name)} (without it, "
            f"the target is the last column, {default_target!r})"
        )
    return message


def _infer_task(ycols, task: str) -> str:
    import pandas as pd

    if task != "auto":
        return task
    for t in ycols.columns:
        col = ycols[t]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            return "classification"
        if (
            (pd.api.types.is_integer_dtype(col) or _whole_floats(col))
            and col.nunique() <= MAX_AUTO_CLASSES
            and ycols.shape[1] == 1
        ):
            return "classification"
    return "regression"


def _zero_padded(path: str, name: str, col):  # -> pandas.Series | None
    """Class labels written as codes with leading zeros (months 01 to 12, departments 007):
    their text, as the file has it. Read as numbers they were 1 and 7, which predictions
    and a record's class names wrote so. A number written two ways (01 and 1) stays one
    class, read as a number."""
    import pandas as pd

    from mlplab.data.files import column_as_written

    if not pd.api.types.is_integer_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    text = column_as_written(path, name)
    if text is None or len(text) != len(col):
        return None
    text = text.str.strip()
    if not text.str.fullmatch(r"[+-]?0\d+").any():
        return None
    # The same rows, read alike: a mismatch (a row the table read skipped) keeps numbers.
    if not (pd.to_numeric(text, errors="coerce").to_numpy() == col.to_numpy()).all():
        return None
    if text.groupby(col.to_numpy()).nunique().max() > 1:
        return None  # 01 beside 1: one class in two spellings, not two classes
    return text.set_axis(col.index)


def _whole_floats(col) -> bool:
    """A float column of whole numbers: 0.0 and 1.0 are how pandas writes integer labels
    once the column has held a NaN, and how NPZ files often keep them."""
    import pandas as pd

    if not pd.api.types.is_float_dtype(col):
        return False
    values = col.to_numpy(dtype=np.float64)
    # Within int64 (2**63 itself rounds up to it and overflows): 1e20 and 2e20 as int64
    # both became its smallest value, and two classes one.
    return bool(
        np.isfinite(values).all()
        and (values == np.round(values)).all()
        and (np.abs(values) < 2.0**63).all()
    )


# Column kinds (NumPy's dtype.kind) that no setting makes numbers to learn from: named,
# where pandas would drop an imaginary part with a warning, give dates as nanoseconds, or
# fail on raw bytes with a traceback.
_NO_NUMBERS = {
    "c": "complex numbers; give the real and imaginary parts as two columns",
    "M": f"dates or times; {DATES_HINT}",
    "m": "time spans; give them as numbers (e.g. seconds)",
    "V": "raw bytes",
    "S": "raw bytes",
}


def _labels_as_written(path: str, ycols):  # -> pandas.DataFrame
    """Target columns of class names whose "missing" cells are words: pandas reads NA, N/A,
    None or null as missing, where among class names they may be classes (North America;
    no symptoms), as --task classification says (without it, they are refused as missing
    values, as a '?' is). Such a column of a text file (or one with no value pandas kept)
    is read again as written, where an empty cell, or a software's mark such as #N/A or
    nan, is still missing (and refused as such)."""
    import pandas as pd

    from mlplab.data.files import MISSING_CELLS, TEXT_SUFFIXES, read_table

    # Cells that software writes for a missing value (a spreadsheet's #N/A, NumPy's nan): a
    # missing label even among class names, where the words may be classes.
    software_missing = frozenset(MISSING_CELLS) - MISSING_WORDS

    if not str(path).lower().endswith(TEXT_SUFFIXES):
        return ycols
    names = [
        t
        for t in ycols.columns
        if ycols[t].isna().all()
        or (
            ycols[t].dtype.kind == "O"
            and pd.to_numeric(ycols[t].dropna(), errors="coerce").isna().all()
        )
    ]
    if not names:
        return ycols
    raw = read_table(path, as_text=names)
    if len(raw) != len(ycols):
        return ycols
    out = ycols.copy()
    for t in names:
        out[t] = raw[t].mask(raw[t].str.strip().isin(software_missing)).to_numpy()
    return out


def _mostly_missing_cure(name: str, missing: int, rows: int) -> str:
    """What to do with a column's missing values: impute a few; a column missing in most
    rows (570 of 600) has little to impute from, and is left out."""
    if 2 * missing <= rows:
        return "clean or impute it first"
    return (
        f"{name!r} is missing in {missing} of {rows} rows: leave it out with "
        f"{shell_flag('--ignore', name)}, or impute it"
    )


def _check_kind(col, path: str, name: str, role: str) -> None:
    """One line for a column whose kind of value cannot be learned from or predicted."""
    kind = getattr(col.dtype, "kind", "O")
    if kind in _NO_NUMBERS:
        # A feature may go, as a CSV's date column is told (a Parquet one was not).
        leave = (
            f", or leave it out with {shell_flag('--ignore', name)}" if role == "feature" else ""
        )
        raise DataError(
            f"data file {path!r}: {role} column {name!r} holds {_NO_NUMBERS[kind]} "
            f"({col.dtype}){leave}"
        )
    if kind == "O" and (row := _first_collection(col)) is not None:
        # A Parquet list or struct column (tags, arrays): pandas' checks of its values
        # failed with "unhashable type", a traceback.
        what = "records (key: value)" if isinstance(col.iloc[row], dict) else "lists"
        cure = (
            f"give each of its values a column of numbers, or leave it out with "
            f"{shell_flag('--ignore', name)}"
            if role == "feature"
            else "a target takes one value a row"
        )
        raise DataError(
            f"data file {path!r}: {role} column {name!r} holds {what}, not one value a row "
            f"({shorten(repr(col.iloc[row]), 40)} in data row {row + 1}); {cure}"
        )


def _first_collection(col) -> int | None:
    """The first row of ``col`` whose value is a list, array or record, or None."""
    for row, value in enumerate(col):
        if isinstance(value, list | tuple | dict | set | np.ndarray):
            return row
    return None


def _check_thousands(col, path: str, name: str) -> None:
    """Refuse a target of numbers whose commas group thousands (task auto): read as text,
    '1,694.6' among plain numbers was told to be a label (--task classification), and
    '1,000', '3,500', '12,000' trained as three classes."""
    import pandas as pd

    if col.dtype == bool or pd.api.types.is_numeric_dtype(col):
        return
    values = col.astype(str).str.strip()
    if not thousands_grouped(values[col.notna().to_numpy()]):
        return
    row = int(np.flatnonzero((col.notna() & values.str.contains(",", regex=False)).to_numpy())[0])
    raise DataError(
        f"data file {path!r}: target column {name!r} is not numeric ({values.iloc[row]!r} "
        f"in {data_row(path, row, 'y')}); {_thousands_hint(values.iloc[row], path, True)}"
    )


def _first_text(col, path: str) -> str:
    """`` ('n/a?' in data row 8)``: the first cell of a target column that is not a
    number, or nothing where every cell is one (booleans)."""
    import pandas as pd

    cells = np.flatnonzero(pd.to_numeric(col, errors="coerce").isna().to_numpy())
    if not len(cells):
        return ""
    return f" ({str(col.iloc[cells[0]])!r} in {data_row(path, int(cells[0]), 'y')})"


def _check_stray_text(col, path: str, name: str) -> None:
    """Refuse a column of numbers with a few text values (a '?' or 'n/a' for a missing
    value): read as classes, it would train one class per distinct number."""
    import pandas as pd

    if col.dtype == bool or pd.api.types.is_numeric_dtype(col):
        return
    numbers = pd.to_numeric(col, errors="coerce")
    if numbers.notna().sum() >= len(col) / 2 and numbers.nunique() > MAX_AUTO_CLASSES:
        if numbers.notna().all():  # every value a number, kept as text (a Parquet or NPZ file)
            raise DataError(
                f"data file {path!r}: target column {name!r} holds numbers stored as text "
                f"({str(col.iloc[0])!r}); store them as numbers, or pass --task "
                "classification if its values are labels"
            )
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise DataError(
            f"data file {path!r}: target column {name!r} holds numbers but also "
            f"{str(col.iloc[row])!r} ({data_row(path, row, 'y')}); fix or drop such rows, or pass "
            "--task classification if its values are labels"
        )


# --- splitting -----------------------------------------------------------------------------
def _no_test_asked(split) -> bool:
    """Whether ``split`` asks for no test rows: a test size of 0 (``0.9 0.1 0``, ``1800 200
    0``), or two ratios that add up to 1 (``0.8 0.2``), whose rest is none."""
    split = list(split)
    if len(split) == 3:
        return split[2] == 0
    return all(x <= 1 for x in split) and abs(sum(split) - 1) <= 1e-6


def _split_text(split: list[float]) -> str:
    """``split`` as typed on the command line (``1000 20 20``), not a list of floats."""
    return " ".join(f"{x:g}" for x in split)


def _split_sizes(n: int, split, name: str) -> tuple[int, int, int]:
    split = list(split)
    if all(x <= 1 for x in split):  # ratios
        n_train = round(split[0] * n)
        n_val = round(split[1] * n)
        # Three ratios add up to 1 (the config checks it), so the test split takes the
        # rows that rounding leaves: rounded alone, 0.8 0.1 0.1 of 13 rows made 10/1/1.
        n_test = n - n_train - n_val
        if _no_test_asked(split) and (len(split) == 3 or n_test < 0):
            # No test split asked for: validation takes the rows that rounding leaves
            # (0.5 0.5 0 of 5 rows is 2/3/0, not 2/2/1 with a test row of its own).
            n_val, n_test = n - n_train, 0
    else:
        n_train, n_val = int(split[0]), int(split[1])
        n_test = int(split[2]) if len(split) == 3 else n - n_train - n_val
    if n_train + n_val > n or n_train + n_val + n_test > n:
        n_test = max(n_test, 0)
        raise ConfigError(
            f"setting 'split': {_split_text(split)} asks for "
            f"{n_train + n_val + n_test} rows but {name!r} has {n}"
        )
    counts_of_all = len(split) == 2 and any(x > 1 for x in split)  # 1800 200 of 2000 rows
    if n_test == 0 and min(n_train, n_val) >= 1 and (_no_test_asked(split) or counts_of_all):
        # An empty test split, asked for (0.9 0.1 0, 1800 200 0, two ratios adding up to 1,
        # or two counts of every row): each labelled row trains or validates (a Kaggle
        # test.csv has no labels), and the run says it has no test rows.
        return n_train, n_val, 0
    if min(n_train, n_val, n_test) < 1 and n < 3:
        # No split serves: "for example, --split 0.34 0.33 0.33" named one that fails too.
        raise ConfigError(
            f"{name!r} has {n} row{'' if n == 1 else 's'}: train, val and test need one "
            "each, so 3 rows or more (setting 'n_samples' of a built-in set)"
        )
    if min(n_train, n_val, n_test) < 1:
        if _no_test_asked(split) or counts_of_all:
            # Test was meant empty: train and val are what lack rows.
            fits = f"{n - max(1, n // 10)} {max(1, n // 10)} 0" if n > 2 else "0.5 0.5 0"
            raise ConfigError(
                f"setting 'split': {split} leaves an empty set for {name!r} ({n} rows -> "
                f"{n_train}/{n_val}/{n_test}); train and val need one row or more each (test "
                f"may have none), for example, --split {fits}"
            )
        # Values of at most 1 are ratios: 3 rows cannot be counted as 1 1 1.
        fits = f"{n - 2} 1 1" if n > 3 else "0.34 0.33 0.33"
        raise ConfigError(
            f"setting 'split': {split} leaves an empty set for {name!r} ({n} rows -> "
            f"{n_train}/{n_val}/{n_test}); one row or more each is, for example, --split {fits}"
        )
    return n_train, n_val, n_test


def _split(
    name, task, X, y, feats, targets, class_names, split, in_order, rng, strata=None
) -> Dataset:
    """``split``: sizes or ratios (drawn by ``rng`` unless ``in_order``), or each row's
    split as 0, 1, 2 (train, val, test), in the file's order (:func:`_split_column`).
    ``strata`` (each row's class) deals every class out in the split's proportions."""
    n = len(X)
    if isinstance(split, np.ndarray):
        a, b, c = (np.flatnonzero(split == i) for i in range(3))
        return Dataset(
            name, task, X[a], y[a], X[b], y[b], X[c], y[c], list(feats), list(targets),
            class_names, rows=(a, b, c),
        )  # fmt: skip
    n_train, n_val, n_test = _split_sizes(n, split, name)
    notes = []
    if n_train + n_val + n_test < n:  # counts of fewer rows than there are (ratios add up)
        # Ratios that leave rows unused are refused; counts are taken as asked, but the
        # first line's row count alone did not say that the rest were left out.
        left = n - n_train - n_val - n_test
        drawn = "in the data's order" if in_order else "drawn at random by data_seed"
        notes.append(
            f"setting 'split': {_split_text(split)} takes {n - left} of the "
            f"{n} rows of {name!r} ({n_train}/{n_val}/{n_test} train/val/test, {drawn}); "
            f"the other {left} {'is' if left == 1 else 'are'} left out, unused: to use every "
            f"row, give counts that add up to {n}, or ratios"
        )
    order = np.arange(n) if in_order else rng.permutation(n)
    if strata is not None:
        order = order[np.argsort(_place_in_class(strata[order]), kind="stable")]
    a, b, c = (
        order[:n_train],
        order[n_train : n_train + n_val],
        order[n_train + n_val : n_train + n_val + n_test],
    )
    return Dataset(
        name, task, X[a], y[a], X[b], y[b], X[c], y[c], list(feats), list(targets),
        class_names, rows=(a, b, c), notes=notes,
    )  # fmt: skip


def _place_in_class(classes: np.ndarray) -> np.ndarray:
    """Each row's place among its class's rows, as a fraction in (0, 1): the k-th of m
    rows is at (k + 0.5) / m. Rows sorted by it take turns by class, so that the first 80%
    of them hold 80% of every class (to a row), as a stratified split wants."""
    place = np.empty(len(classes))
    for c in np.unique(classes):
        rows = np.flatnonzero(classes == c)
        place[rows] = (np.arange(len(rows)) + 0.5) / len(rows)
    return place


def _classification(
    name, X, y, class_names, feats, targets, split, in_order, rng, stratify=False
) -> Dataset:
    strata = y if stratify and not isinstance(split, np.ndarray) else None
    ds = _split(name, "multiclass", X, y, feats, targets, class_names, split, in_order, rng, strata)
    trained = np.unique(ds.y_train)
    if len(trained) == 1 and len(class_names) > 1:
        # As a target of one class is refused: a split of 3 rows of 3 classes trained on
        # one row of one class, and scored 0 on the others (scikit-learn refuses it too).
        fix = (
            "give the training rows of more classes in the split_by column"
            if isinstance(split, np.ndarray)
            else "give the training split more rows (a file of more rows, or --split)"
            if stratify
            else "give the training split more rows, or --stratify true to share every class out"
        )
        raise DataError(
            f"data {name!r}: the training split holds one class alone "
            f"({class_names[int(trained[0])]!r}, {len(ds.y_train)} row"
            f"{'' if len(ds.y_train) == 1 else 's'}), and a classifier learns nothing from one "
            f"class; {fix}"
        )
    if len(class_names) == 2:
        # Binary: one sigmoid output and BCE, as in the XOR labs; y becomes float [N, 1].
        ds.task = "binary"
        ds.y_train, ds.y_val, ds.y_test = (
            v.astype(np.float64)[:, None] for v in (ds.y_train, ds.y_val, ds.y_test)
        )
    return ds


def balance_classes(ds: Dataset) -> None:
    """Weigh each row in the loss by its class's weight, ``rows / (classes x class rows)``
    of the training split (scikit-learn's 'balanced'), on every split: the validation loss
    that early stopping follows then weighs the classes as training does. Each split's
    weights average 1, so that a loss keeps its scale; a regression is left alone, with a
    note."""
    if ds.task == "regression":
        ds.notes.append(f"class_weight applies to a classification; {ds.name} is a regression")
        return

    def classes(y: np.ndarray) -> np.ndarray:  # binary y is 0/1 [N, 1]; multiclass [N]
        return np.asarray(y).reshape(len(y), -1)[:, 0].astype(np.int64)

    counts = np.bincount(classes(ds.y_train), minlength=len(ds.class_names or []))
    # A class no training row has (a note names it) weighs 1, as one of average size: its
    # 'balanced' weight, the largest there is, had made a row or two of it most of the
    # validation loss that early stopping follows.
    present = int((counts > 0).sum())  # the classes training has, as scikit-learn counts
    per_class = np.where(counts > 0, len(ds.y_train) / (present * np.maximum(counts, 1)), 1.0)
    weights = {}
    for split, (_, y) in ds.splits().items():
        w = per_class[classes(y)]
        weights[split] = w / w.mean()
    ds.weights = weights


def standardize_target(ds: Dataset) -> None:
    """Fit ``ds.target_scaler`` on the training split's targets (a column of one value
    gets a spread of 1); a classification's classes are left alone, with a note."""
    if ds.task != "regression":
        ds.notes.append(f"standardize_target applies to a regression; {ds.name} is {ds.task}")
        return
    y = np.asarray(ds.y_train, dtype=np.float64)
    std = y.std(axis=0)
    ds.target_scaler = (y.mean(axis=0), np.where(std > 0, std, 1.0))


def _standardize(ds: Dataset) -> None:
    with np.errstate(over="ignore", invalid="ignore"):
        mean = ds.X_train.mean(axis=0)
        std = ds.X_train.std(axis=0)
    # Values near 1e-300 underflow when squared: a column that varies read as constant.
    underflow = (std == 0) & (np.ptp(ds.X_train, axis=0) > 0) if len(ds.X_train) else False
    if not (np.isfinite(mean).all() and np.isfinite(std).all()) or np.any(underflow):
        # Values near 1e300 overflow when squared: take the moments of x / max|x|.
        scale = np.max(np.abs(ds.X_train), axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        unit = ds.X_train / scale
        mean, std = unit.mean(axis=0) * scale, unit.std(axis=0) * scale
    std = np.where(std > 0, std, 1.0)
    ds.scaler = (mean, std)
    with np.errstate(over="ignore", invalid="ignore"):
        ds.X_train = (ds.X_train - mean) / std
        ds.X_val = (ds.X_val - mean) / std
        ds.X_test = (ds.X_test - mean) / std
    for split in ("train", "val", "test"):
        if not np.isfinite(getattr(ds, f"X_{split}")).all():
            raise DataError(
                f"data {ds.name!r}: the {split} features overflow when standardized; rescale them first"
            )
