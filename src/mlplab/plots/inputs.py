"""The numbers a run's plots show, taken from the data and the trained model.

Drawing needs the model in a few places only: its outputs on the points drawn and on
the test split (here), over the plane's grid (:mod:`mlplab.plots.surfaces`), and its
weights for the network diagram. The model comes as a plain ``predict`` callable
(:data:`~mlplab.plots.surfaces.Predict`). No matplotlib here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.decisions import map_outputs, predicted_classes, true_classes
from mlplab.plots.surfaces import Predict

MAX_POINTS = 2000  # points drawn per split on scatters; more only hide each other
MAX_CONFUSION_CLASSES = 20  # rows of a confusion matrix; past that, those with most errors
NETWORK_MAX_UNITS = 10  # the network diagram is drawn when no layer is wider (network.py)


@dataclass
class DataInfo:
    """What the drawings need to know about a dataset, without its rows.

    The attribute names are the :class:`~mlplab.data.dataset.Dataset`'s, so the label
    helpers of :mod:`mlplab.plots.run_plots` accept either.
    """

    name: str
    task: str
    feature_names: list[str]
    target_names: list[str]
    class_names: list[str] | None = None
    shared_splits: bool = False
    raw_names: list[str] | None = None  # the plane's two, where the model takes features

    @classmethod
    def of(cls, data: Dataset) -> DataInfo:
        return cls(
            data.name,
            data.task,
            list(data.feature_names),
            list(data.target_names),
            None if data.class_names is None else list(data.class_names),
            data.shared_splits,
            None if data.raw_names is None else list(data.raw_names),
        )


@dataclass
class PointSet:
    """Points as a plot draws them: raw inputs, their targets and the model's outputs.

    Attributes
    ----------
    label : str
        Legend label: ``train``, ``test (2000 of 5400)``, or ``data`` for shared splits.
    X : ndarray, float64 [n, F]
        Inputs in the data's own units (standardization undone).
    y : ndarray
        Targets as the dataset stores them.
    pred : ndarray
        The model's predictions (:func:`predictions`): values, float64 [n, T], for
        regression; classes, int64 [n], for classification.
    marker : str
        Scatter marker: ``o`` for train, ``^`` for test.
    """

    label: str
    X: np.ndarray
    y: np.ndarray
    pred: np.ndarray
    marker: str = "o"


@dataclass
class Confusion:
    """Counts of (true class, predicted class) on the test split, for the classes shown.

    Attributes
    ----------
    counts : ndarray, int64 [k, k] or [k, k + 1]
        Rows: the true classes ``classes``; columns: the same classes predicted, and
        when not every class is shown, a last column for any other class predicted.
    classes : ndarray, int64 [k]
        The classes shown: all of them, or the :data:`MAX_CONFUSION_CLASSES` with the
        most test errors (test points of the other classes are left out).
    n_classes : int
        Classes in the data.
    n_points : int
        Test points in all.
    """

    counts: np.ndarray
    classes: np.ndarray
    n_classes: int
    n_points: int

    @property
    def capped(self) -> bool:
        """Whether only some classes are shown."""
        return len(self.classes) < self.n_classes


def decimate(n: int, max_points: int = 1500) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` points, first and last included.

    A 10001-epoch loss curve drawn at 600 px wide shows nothing more with 10001
    vertices than with 1500, and costs several times the time to render.
    """
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def curve_indices(y: np.ndarray, max_points: int = 1500) -> np.ndarray:
    """Indices of at most about ``max_points`` points of the curve ``y``, drawn as the whole.

    Each of ``max_points / 2`` spans keeps its lowest and highest point (and the ends stay),
    so a spike of one epoch is drawn at its height: an even stride would skip it, yet the
    axis, set from every value, would still make room for it.
    """
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    size = -(-n // (max_points // 2))  # points per span
    flat = np.full(-(-n // size) * size, np.nan)
    flat[:n] = np.where(np.isfinite(y), y, np.nan)
    spans = flat.reshape(-1, size)
    start = np.arange(len(spans)) * size
    low = start + np.argmin(np.where(np.isnan(spans), np.inf, spans), axis=1)
    high = start + np.argmax(np.where(np.isnan(spans), -np.inf, spans), axis=1)
    keep = np.concatenate([[0, n - 1], low, high])
    return np.unique(keep[keep < n])


def every(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` evenly spaced indices of ``n`` rows (deterministic)."""
    return decimate(n, limit)


def predictions(task: str, predict: Predict, X: np.ndarray) -> np.ndarray:
    """The model's predictions for model-space inputs ``X``: values or classes.

    Regression: the outputs, float64 [N, T]. Classification: the predicted classes,
    int64 [N], taken slice by slice so that many classes never fill memory.
    """
    if task == "regression":
        return map_outputs(predict, X, lambda out: out)
    return map_outputs(predict, X, lambda out: predicted_classes(task, out))


def held_out(data: Dataset) -> str:
    """The split the pictures score the model on: test, or val for a run without test
    rows (split 0.9 0.1 0), whose pictures draw train and val."""
    return "test" if data.has_test else "val"


def surface_points(data: Dataset, predict: Predict) -> list[PointSet]:
    """The points a decision surface shows: train and test (val without a test split), or
    the one shared set."""
    if data.shared_splits:
        X = data.raw_rows("train")
        return [
            PointSet("data", X, data.y_train, predictions(data.task, predict, data.transform(X)))
        ]
    sets = []
    for split, marker in (("train", "o"), (held_out(data), "^")):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        idx = every(len(X))
        label = split if len(idx) == len(X) else f"{split} ({len(idx)} of {len(X)})"
        raw = data.raw_rows(split)[idx]
        # Predicted from the raw points passed back through the transform, as a user
        # of the model would: the marks then agree with the surface drawn under them.
        sets.append(
            PointSet(
                label, raw, y[idx], predictions(data.task, predict, data.transform(raw)), marker
            )
        )
    return sets


def split_points(data: Dataset, predict: Predict) -> list[PointSet]:
    """Train and test (val without a test split; at most :data:`MAX_POINTS` each) with the
    model's outputs."""
    sets = []
    for split, marker in (("train", "o"), (held_out(data), "^")):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        idx = every(len(X))
        raw = data.raw_rows(split)[idx]
        sets.append(PointSet(split, raw, y[idx], predictions(data.task, predict, X[idx]), marker))
    return sets


def test_metrics_by_target(data: Dataset, predict: Predict) -> list[dict[str, float]]:
    """MAE, MSE and R² of each regression target on the whole test split: the record's
    numbers average them, over targets whose scales may differ by orders of magnitude.
    Without a test split, on the validation split (:func:`held_out`)."""
    from mlplab.training.metrics import regression_metrics

    split = held_out(data)
    X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
    out = predictions("regression", predict, X)
    return [regression_metrics(y[:, t], out[:, t]) for t in range(out.shape[1])]


def fit_curve(data: Dataset, predict: Predict, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A 1-feature model along its feature: ``n`` raw x over every split's range (with the
    surfaces' margin) and the model there: a regressor's values, float64 [n, T], or a
    classifier's probability of each class, [n, C]."""
    from mlplab.training.metrics import probabilities

    x = surfaces.all_raw_points(data)[:, 0]
    lo, hi = float(x.min()), float(x.max())
    regression = data.task == "regression"
    pad = (surfaces.REGRESSION_MARGIN if regression else surfaces.MARGIN) * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, n)
    inputs = data.transform(grid[:, None])
    if regression:
        return grid, predictions("regression", predict, inputs)
    return grid, map_outputs(predict, inputs, lambda out: probabilities(data.task, out))


def confusion_counts(true: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    """Counts [n, n] of (true class, predicted class) pairs."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def confusion_of_test(
    data: Dataset, predict: Predict, max_classes: int = MAX_CONFUSION_CLASSES
) -> Confusion:
    """The confusion matrix of the test split (val without one), for at most
    ``max_classes`` classes.

    With more classes than that, the ``max_classes`` classes with the most errors (test
    points missed, and taken for them), then the most frequent, are shown (ties to the
    lower index), each with a column for the other classes: a model with 10,000 classes
    draws a 20 x 21 table, not 10,000 x 10,000. The most frequent alone were the ones a
    model gets right, and a rare class it never found was nowhere.
    """
    n = max(2, len(data.class_names or []))
    split = held_out(data)
    true = true_classes(data.task, getattr(data, f"y_{split}"))
    pred = predictions(data.task, predict, getattr(data, f"X_{split}"))
    if n <= max_classes:
        return Confusion(confusion_counts(true, pred, n), np.arange(n), n, len(true))
    sizes = np.bincount(true, minlength=n)
    wrong = pred != true
    errors = np.bincount(true[wrong], minlength=n) + np.bincount(pred[wrong], minlength=n)
    shown = np.sort(np.lexsort((-sizes, -errors))[:max_classes])
    row = np.full(n, -1, dtype=np.int64)
    row[shown] = np.arange(len(shown))
    keep = row[true] >= 0
    col = row[pred[keep]]
    col[col < 0] = len(shown)  # any class not shown
    counts = np.zeros((len(shown), len(shown) + 1), dtype=np.int64)
    np.add.at(counts, (row[true[keep]], col), 1)
    return Confusion(counts, shown, n, len(true))


def can_draw_network(spec: ModelSpec) -> bool:
    """Whether every layer (input, hidden, output) has at most 10 units (the lecture's wide and deep xor net)."""
    return max(spec.widths()) <= NETWORK_MAX_UNITS
