"""What a model predicts over the plane of a 2-feature dataset: the data behind surfaces.

Axes are in the data's own units. When the dataset was standardized the model sees
``(x - mean) / std`` (``Dataset.X_*`` hold the transformed inputs); the grid is laid out
in raw units for the axes and passed through :meth:`~mlplab.data.dataset.Dataset.transform`
before it reaches the model. ``Grid.model_inputs`` keeps exactly what the model saw,
so that anyone can check a picture against the model's ``predict``. Because the transform is
affine per axis, the picture is the same as one drawn in the model's space; only the
tick labels differ. Where the model takes the Playground's inputs made from x1 and x2
(setting ``features``), the grid is laid out over the x1 x x2 plane all the same, and
``transform`` makes those inputs of each of its points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.plots.decisions import decide, map_outputs

GRID = 150  # grid points per axis: 22,500 predictions, a few ms for the small models here
# Room around the data, as a fraction of its span on each axis. A classifier's regions
# beyond the data are worth seeing (probabilities stay in 0-1); a regressor's values
# there are extrapolation that can dwarf everything it predicts over the data.
MARGIN = 0.15
REGRESSION_MARGIN = 0.02
# Classes whose margins a surface keeps (G x G floats each), so that their boundaries can
# be drawn as smooth lines; as many as a class colour bar names.
MAX_MARGIN_CLASSES = 20


# A trained model as plots use it: inputs as the model sees them (standardized if the
# data was, like ``Dataset.X_train``), float [N, in_dim] -> outputs [N, out_dim] (logits
# or values). Every engine's ``Backend.predict`` is one.
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class Grid:
    """A regular grid over the data's bounding box (plus a margin).

    Attributes
    ----------
    xx, yy : ndarray, float64 [G, G]
        Raw (display) coordinates; row ``i`` has ``yy[i, :] == y[i]``.
    model_inputs : ndarray, float64 [G*G, F]
        The same points as the model sees them (its features made from them, and
        standardized if the data was), in row-major order of ``xx``.
    """

    xx: np.ndarray
    yy: np.ndarray
    model_inputs: np.ndarray

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(left, right, bottom, top) for ``imshow``."""
        return (
            float(self.xx[0, 0]),
            float(self.xx[0, -1]),
            float(self.yy[0, 0]),
            float(self.yy[-1, 0]),
        )


@dataclass
class ClassSurface:
    """A classifier's answer at every grid point.

    Attributes
    ----------
    grid : Grid
    classes : ndarray, int64 [G, G]
        Predicted class: P(class 1) > 0.5 in float32 for binary, argmax otherwise,
        exactly as :func:`mlplab.plots.decisions.predicted_classes` decides.
    confidence : ndarray, float64 [G, G]
        The probability of the predicted class (0.5 to 1 for binary, 1/C to 1 else).
        Only these two are kept, not every class's probability: a model with thousands
        of classes would need gigabytes for those.
    task : str
        ``binary`` or ``multiclass``.
    n_classes : int
        C (2 for binary).
    margins : ndarray, float64 [K, G, G], optional
        How far each point is inside a class's region, in logits: binary, the logit
        (K = 1); multiclass, ``z_k - max_{j != k} z_j`` for every class k (K = C), which is
        above 0 exactly where k is predicted. Their zero levels are the boundaries, which
        a contour interpolates between grid points: straight for a linear model, where a
        contour of the class labels is a staircase of grid cells. None past
        :data:`MAX_MARGIN_CLASSES` classes; a multiclass snapshot keeps the predicted
        class's alone (:attr:`lead`), and :meth:`from_lead` rebuilds the others from it.
    """

    grid: Grid
    classes: np.ndarray
    confidence: np.ndarray
    task: str
    n_classes: int
    margins: np.ndarray | None = None

    @property
    def p1(self) -> np.ndarray:
        """Binary: P(class 1) at every grid point, float64 [G, G]."""
        return np.where(self.classes == 1, self.confidence, 1.0 - self.confidence)

    @property
    def lead(self) -> np.ndarray:
        """The predicted class's margin, its lead in logits over the runner-up, float64
        [G, G]; NaN where the surface keeps no margins."""
        if self.margins is None:
            return np.full(self.classes.shape, np.nan)
        if self.task == "binary":
            return np.abs(self.margins[0])
        return np.take_along_axis(self.margins, self.classes[None], axis=0)[0]

    @classmethod
    def from_lead(
        cls, grid: Grid, classes: np.ndarray, confidence: np.ndarray, n: int, lead: np.ndarray
    ) -> ClassSurface:
        """A multiclass surface of ``n`` classes rebuilt from its :attr:`lead` (a snapshot).

        Class k's margin is taken as ``lead`` where k is predicted and ``-lead`` elsewhere:
        exact wherever k is the runner-up, which it is on either side of its region's
        edge (except near a point where three classes meet), so the margins' zeros are the
        boundaries the full margins give. Without a finite lead, or past
        :data:`MAX_MARGIN_CLASSES` classes, no margins.
        """
        margins = None
        if n <= MAX_MARGIN_CLASSES and np.isfinite(lead).any():
            mine = classes[None] == np.arange(n)[:, None, None]
            margins = np.where(mine, lead, -lead)
        return cls(grid, classes, confidence, "multiclass", n, margins)


@dataclass
class RegressionSurface:
    """A regressor's prediction of one target at every grid point.

    Attributes
    ----------
    grid : Grid
    values : ndarray, float64 [G, G]
        The model's output ``target`` at each grid point.
    target : int
        Which output column is drawn.
    """

    grid: Grid
    values: np.ndarray
    target: int = 0


Surface = ClassSurface | RegressionSurface


def is_planar(data: Dataset) -> bool:
    """Whether the data has exactly 2 features, so the model can be drawn over a plane: its
    own two, also where the model takes the Playground's inputs made from them (setting
    ``features``), drawn over the x1 x x2 plane as the Playground draws them."""
    return len(data.input_names) == 2


def raw_inputs(data: Dataset, X: np.ndarray) -> np.ndarray:
    """Model inputs ``X`` [N, F] back in the data's own units (undo standardization), for
    data whose model takes its own columns; :meth:`Dataset.raw_rows` gives any split's."""
    if data.scaler is None:
        return X
    mean, std = data.scaler
    return X * std + mean


def all_raw_points(data: Dataset) -> np.ndarray:
    """Every train, val and test point in raw units, float64 [N, F]."""
    return np.concatenate([data.raw_rows(s) for s in ("train", "val", "test")])


def make_grid(data: Dataset, n: int = GRID, margin: float | None = None) -> Grid:
    """An ``n`` x ``n`` grid covering every data point (train, val, test) with a margin.

    The margin is ``margin`` of the span on each axis (default :data:`MARGIN`, or
    :data:`REGRESSION_MARGIN` for regression). Only a constant feature (span 0) gets a
    fixed one, 0.1 units for classes and 1e-3 for regression, so that it still has a range.
    """
    if margin is None:
        margin = REGRESSION_MARGIN if data.task == "regression" else MARGIN
    least = 1e-3 if data.task == "regression" else 0.1
    pts = all_raw_points(data)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    # Relative to the span: a fixed floor drew a feature of range 1e-4 as a line in a
    # window 0.2 wide, where the model's boundary (and the units' outputs) fell out of view.
    pad = np.where(hi > lo, (hi - lo) * margin, least)
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    xx, yy = np.meshgrid(xs, ys)
    flat = np.column_stack([xx.ravel(), yy.ravel()])
    return Grid(xx, yy, data.transform(flat))


def class_surface(predict: Predict, task: str, grid: Grid) -> ClassSurface:
    """Predicted classes of a classifier over ``grid``, their probabilities and (up to
    :data:`MAX_MARGIN_CLASSES` classes) the margins of every class."""
    n_out = 0

    def reduce(out: np.ndarray) -> np.ndarray:
        nonlocal n_out
        n_out = out.shape[1]
        classes, conf = decide(task, out)
        return np.column_stack([classes, conf, *class_margins(task, out).T])

    both = map_outputs(predict, grid.model_inputs, reduce)
    shape = grid.xx.shape
    n_classes = 2 if task == "binary" else n_out
    classes = both[:, 0].astype(np.int64).reshape(shape)
    margins = both[:, 2:].T.reshape(-1, *shape) if both.shape[1] > 2 else None
    return ClassSurface(grid, classes, both[:, 1].reshape(shape), task, n_classes, margins)


def class_margins(task: str, outputs: np.ndarray) -> np.ndarray:
    """Each class's margin from logits [N, C], float64 [N, K] (see :class:`ClassSurface`);
    K = 0 past :data:`MAX_MARGIN_CLASSES` classes."""
    # An overflowed logit (inf) would give inf - inf = NaN margins, and no boundary where
    # the class changes: bounded, it keeps its sign and its zero (NaN stays NaN, which a
    # contour leaves out, and the boundary is drawn where the model is finite).
    outputs = np.clip(outputs, -1e300, 1e300)
    if task == "binary":
        return outputs[:, :1]
    if not 2 <= outputs.shape[1] <= MAX_MARGIN_CLASSES:
        return outputs[:, :0]
    rows = np.arange(len(outputs))
    top = outputs.argmax(axis=1)
    best = outputs[rows, top]
    second = np.partition(outputs, -2, axis=1)[:, -2]
    margins = outputs - best[:, None]  # a class that is not the top: behind the top
    margins[rows, top] = best - second  # the top class: ahead of the runner-up
    return margins


def regression_surface(predict: Predict, grid: Grid, target: int = 0) -> RegressionSurface:
    """Predicted values of output column ``target`` over ``grid``."""
    values = map_outputs(predict, grid.model_inputs, lambda out: out[:, target])
    return RegressionSurface(grid, values.reshape(grid.xx.shape), target)


def surface_for(data: Dataset, predict: Predict, n: int = GRID) -> Surface | None:
    """The model's surface over the data's plane, or None when the data is not 2-D."""
    if not is_planar(data):
        return None
    grid = make_grid(data, n)
    if data.task == "regression":
        return regression_surface(predict, grid)
    return class_surface(predict, data.task, grid)


def class_rgba(surface: ClassSurface, colors: list[str]) -> np.ndarray:
    """A multiclass surface as an image: class colour, faded to white where unsure.

    The colour is the argmax class's; its strength is the confidence above chance,
    ``(max p - 1/C) / (1 - 1/C)``, so confident regions are saturated and the
    boundaries fade out. Returns float [G, G, 4] in [0, 1].
    """
    from matplotlib.colors import to_rgb

    c = surface.n_classes
    rgb = np.array([to_rgb(col) for col in colors[:c]])[surface.classes]
    conf = (surface.confidence - 1.0 / c) / (1.0 - 1.0 / c)
    alpha = 0.15 + 0.6 * np.clip(conf, 0.0, 1.0)
    img = np.ones((*surface.classes.shape, 4))
    img[..., :3] = 1.0 - alpha[..., None] * (1.0 - rgb)  # blend over white: opaque, fast
    return img
