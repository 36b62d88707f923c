"""The numbers behind a run's plots, taken from the trained model: the model-side step.

Drawing needs the model in a few places only: its outputs over the plane's grid, on the
points drawn and on the test split, and its weights for the network diagram.
:func:`plot_inputs` takes them all at once into a :class:`PlotInputs` of plain arrays,
lists and dicts, which pickles. It imports no matplotlib and costs a few milliseconds,
so ``train`` can compute it at the end of a run and hand it to a drawing process that
never touches the model, the engine or torch (:mod:`mlplab.plots.worker`), and
``mlplab plot`` runs the same two steps in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.training.metrics import predicted_classes, true_classes

MAX_POINTS = 2000  # points drawn per split on scatters; more only hide each other
NETWORK_MAX_UNITS = 8  # the network diagram is drawn when no layer is wider (network.py)


class Model(Protocol):
    """What plotting needs of a trained model (any engine's Backend has it)."""

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def state_dict(self) -> dict[str, np.ndarray]: ...


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

    @classmethod
    def of(cls, data: Dataset) -> DataInfo:
        return cls(
            data.name,
            data.task,
            list(data.feature_names),
            list(data.target_names),
            None if data.class_names is None else list(data.class_names),
            data.shared_splits,
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
    out : ndarray, float64 [n, outputs]
        The model's outputs (logits or values).
    marker : str
        Scatter marker: ``o`` for train, ``^`` for test.
    """

    label: str
    X: np.ndarray
    y: np.ndarray
    out: np.ndarray
    marker: str = "o"


@dataclass
class PlotInputs:
    """Everything a run's plots show, as plain data (see :func:`plot_inputs`).

    Attributes
    ----------
    result : dict
        The run's record: curves, test metrics, settings.
    info : DataInfo
    spec : ModelSpec
    surface : ClassSurface or RegressionSurface or None
        The model over the data's plane (2-feature data only).
    points : list of PointSet
        Classification on a plane: the points on the decision surface (train and test,
        or the shared set). Regression: train and test.
    confusion : ndarray, int64 [C, C] or None
        Classification: counts of (true, predicted) class on the test split.
    test_range : (float, float) or None
        Regression: min and max of the whole test split's first target, so the
        surface's colour scale covers every test point, not only those drawn.
    state : dict of ndarray or None
        The model's weights when the network diagram is drawn (small models only).
    """

    result: dict[str, Any]
    info: DataInfo
    spec: ModelSpec
    surface: surfaces.Surface | None = None
    points: list[PointSet] = field(default_factory=list)
    confusion: np.ndarray | None = None
    test_range: tuple[float, float] | None = None
    state: dict[str, np.ndarray] | None = None


def decimate(n: int, max_points: int = 1500) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` points, first and last included.

    A 10001-epoch loss curve drawn at 600 px wide shows nothing more with 10001
    vertices than with 1500, and costs several times the time to render.
    """
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def every(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` evenly spaced indices of ``n`` rows (deterministic)."""
    return decimate(n, limit)


def outputs(model: Model, X: np.ndarray) -> np.ndarray:
    """The model's outputs for model-space inputs ``X``, float64 [N, outputs]."""
    return np.asarray(model.predict(X), dtype=np.float64)


def surface_points(data: Dataset, model: Model) -> list[PointSet]:
    """The points a decision surface shows: train and test, or the one shared set."""
    if data.shared_splits:
        X = surfaces.raw_inputs(data, data.X_train)
        return [PointSet("data", X, data.y_train, outputs(model, data.transform(X)))]
    sets = []
    for split, marker in (("train", "o"), ("test", "^")):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        idx = every(len(X))
        label = split if len(idx) == len(X) else f"{split} ({len(idx)} of {len(X)})"
        raw = surfaces.raw_inputs(data, X[idx])
        # Predicted from the raw points passed back through the transform, as a user
        # of the model would: the marks then agree with the surface drawn under them.
        sets.append(PointSet(label, raw, y[idx], outputs(model, data.transform(raw)), marker))
    return sets


def split_points(data: Dataset, model: Model) -> list[PointSet]:
    """Train and test (at most :data:`MAX_POINTS` each) with the model's outputs."""
    sets = []
    for split, marker in (("train", "o"), ("test", "^")):
        X, y = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
        idx = every(len(X))
        raw = surfaces.raw_inputs(data, X[idx])
        sets.append(PointSet(split, raw, y[idx], outputs(model, X[idx]), marker))
    return sets


def confusion_counts(true: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    """Counts [n, n] of (true class, predicted class) pairs."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def confusion_of_test(data: Dataset, model: Model) -> np.ndarray:
    """The confusion matrix of the whole test split (rows true, columns predicted)."""
    n = max(2, len(data.class_names or []))
    true = true_classes(data.task, data.y_test)
    pred = predicted_classes(data.task, outputs(model, data.X_test))
    return confusion_counts(true, pred, n)


def can_draw_network(spec: ModelSpec) -> bool:
    """Whether every layer (input, hidden, output) has at most 8 units."""
    return max(spec.widths()) <= NETWORK_MAX_UNITS


def plot_inputs(result: dict[str, Any], data: Dataset, model: Model, spec: ModelSpec) -> PlotInputs:
    """The model's numbers for every plot of a run (the only step that needs the model)."""
    inputs = PlotInputs(dict(result), DataInfo.of(data), spec)
    inputs.surface = surfaces.surface_for(data, model)
    if data.task == "regression":
        inputs.points = split_points(data, model)
        y0 = data.y_test[:, 0]
        inputs.test_range = (float(y0.min()), float(y0.max())) if len(y0) else None
    else:
        if inputs.surface is not None:
            inputs.points = surface_points(data, model)
        inputs.confusion = confusion_of_test(data, model)
    if can_draw_network(spec):
        inputs.state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    return inputs


class _Untrained:
    """A stand-in model before training: zeros out, the given weights (see below)."""

    def __init__(self, out_dim: int, state: dict[str, np.ndarray]) -> None:
        self.out_dim, self.state = out_dim, state

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros((len(X), self.out_dim))

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.state


def layout_inputs(
    result: dict[str, Any], data: Dataset, spec: ModelSpec, state: dict[str, np.ndarray]
) -> PlotInputs:
    """The inputs of a run's plots before it trains: what their backgrounds need.

    The same grid, points, class sizes and settings as :func:`plot_inputs` gives at
    the end, with zeros for the model's outputs: the plots' backgrounds
    (:mod:`mlplab.plots.layered`) do not depend on them. Costs no prediction.
    """
    return plot_inputs(result, data, _Untrained(spec.out_dim, state), spec)


def plot_stems(inputs: PlotInputs) -> list[str]:
    """The file stems of a run's plots, in the order they are written."""
    stems = ["loss"]
    if inputs.surface is not None:
        stems.append("surface")
        if isinstance(inputs.surface, surfaces.RegressionSurface):
            stems.append("regression_3d")
    stems.append("pred_vs_true" if inputs.info.task == "regression" else "confusion")
    if inputs.state is not None:
        stems.append("network")
    return stems


def only(inputs: PlotInputs, stems: list[str]) -> PlotInputs:
    """``inputs`` without the arrays that the plots ``stems`` do not draw.

    What a drawing process is sent: the grid's model inputs, for one, are kept for
    checking pictures against the model, and no plot draws them.
    """
    surface = inputs.surface
    if surface is not None:
        grid = replace(surface.grid, model_inputs=surface.grid.model_inputs[:0])
        surface = replace(surface, grid=grid)
    needs_surface = bool({"surface", "regression_3d"} & set(stems))
    needs_points = bool({"surface", "regression_3d", "pred_vs_true"} & set(stems))
    return replace(
        inputs,
        surface=surface if needs_surface else None,
        points=inputs.points if needs_points else [],
        confusion=inputs.confusion if "confusion" in stems else None,
        state=inputs.state if "network" in stems else None,
    )
