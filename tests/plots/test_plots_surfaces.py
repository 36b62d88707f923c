"""The numbers behind the 2-D pictures: grids cover the data, surfaces are the model's."""

from __future__ import annotations

import numpy as np
import pytest
from plots_testlib import IRIS, MOONS, RING, SINLOG, XOR_NN, model_classes, trained

from mlplab.data.dataset import Dataset
from mlplab.plots import surfaces


@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    return trained(tmp_path_factory, "moons", **MOONS)


def test_grid_covers_every_point_with_a_margin_in_raw_units(moons):
    data = moons.dataset
    assert data.scaler is not None  # the model sees standardized inputs ...
    grid = surfaces.make_grid(data, n=50)
    raw = surfaces.all_raw_points(data)
    left, right, bottom, top = grid.extent
    assert left < raw[:, 0].min() and right > raw[:, 0].max()
    assert bottom < raw[:, 1].min() and top > raw[:, 1].max()
    # ... while the grid's axes are in the data's own units, and model_inputs is what
    # the model sees at those points.
    flat = np.column_stack([grid.xx.ravel(), grid.yy.ravel()])
    np.testing.assert_allclose(grid.model_inputs, data.transform(flat))
    np.testing.assert_allclose(surfaces.raw_inputs(data, data.X_test), raw[-len(data.X_test) :])


def test_binary_surface_is_the_models_own_decision(moons):
    s = surfaces.surface_for(moons.dataset, moons.model_outputs, n=60)
    assert isinstance(s, surfaces.ClassSurface) and s.task == "binary"
    assert s.p1.shape == (60, 60) and s.classes.shape == (60, 60) and s.n_classes == 2
    assert s.confidence.min() >= 0.5 and s.confidence.max() <= 1.0
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, 60, 40), rng.integers(0, 60, 40)
    pts = np.column_stack([s.grid.xx[i, j], s.grid.yy[i, j]])
    np.testing.assert_array_equal(s.classes[i, j], model_classes(moons, pts))
    logits = moons.model_outputs(moons.dataset.transform(pts))[:, 0]
    np.testing.assert_allclose(s.p1[i, j], 1 / (1 + np.exp(-logits)), rtol=1e-6, atol=1e-12)
    # Both classes appear: the model has learned a boundary inside the picture.
    assert set(np.unique(s.classes)) == {0, 1}


def test_multiclass_surface_is_the_argmax(tmp_path_factory):
    ring = trained(tmp_path_factory, "ring", **RING)
    s = surfaces.surface_for(ring.dataset, ring.model_outputs, n=40)
    assert isinstance(s, surfaces.ClassSurface) and s.n_classes == 3
    out = ring.model_outputs(s.grid.model_inputs)
    np.testing.assert_array_equal(s.classes.ravel(), out.argmax(axis=1))
    e = np.exp(out - out.max(axis=1, keepdims=True))
    np.testing.assert_allclose(s.confidence.ravel(), (e / e.sum(axis=1, keepdims=True)).max(axis=1))
    img = surfaces.class_rgba(s, ["#ff0000", "#00ff00", "#0000ff"])
    assert img.shape == (40, 40, 4) and img.min() >= 0 and img.max() <= 1
    # Each pixel is tinted towards its predicted class's colour: with pure red, green and
    # blue, the channel that stays brightest is the class's.
    np.testing.assert_array_equal(img[..., :3].argmax(axis=-1), s.classes)


def test_regression_surface_values_are_predictions(tmp_path_factory):
    sinlog = trained(tmp_path_factory, "sinlog", **SINLOG)
    s = surfaces.surface_for(sinlog.dataset, sinlog.model_outputs, n=30)
    assert isinstance(s, surfaces.RegressionSurface)
    pts = np.column_stack([s.grid.xx.ravel(), s.grid.yy.ravel()])
    np.testing.assert_allclose(s.values.ravel(), sinlog.predict(pts)[:, 0], rtol=1e-6)


def test_no_surface_without_two_features(tmp_path_factory):
    iris = trained(tmp_path_factory, "iris", **IRIS)
    assert not surfaces.is_planar(iris.dataset)
    assert surfaces.surface_for(iris.dataset, iris.model_outputs) is None


def test_xor_grid_is_the_unit_square_plus_margin(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    left, right, bottom, top = surfaces.make_grid(xor.dataset).extent
    assert (left, bottom) == pytest.approx((-0.15, -0.15))
    assert (right, top) == pytest.approx((1.15, 1.15))


def test_regression_grid_spans_the_data_with_little_room(tmp_path_factory):
    sinlog = trained(tmp_path_factory, "sinlog", **SINLOG)
    raw = surfaces.all_raw_points(sinlog.dataset)
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    left, right, bottom, top = surfaces.make_grid(sinlog.dataset).extent
    pad = surfaces.REGRESSION_MARGIN * (hi - lo)
    np.testing.assert_allclose([left, bottom], lo - pad)
    np.testing.assert_allclose([right, top], hi + pad)


def test_surfaces_predict_in_slices_of_bounded_size(moons):
    calls = []

    def predict(X):
        calls.append(len(X))
        return np.zeros((len(X), 5000))  # 5000 classes

    grid = surfaces.make_grid(moons.dataset, n=40)
    s = surfaces.class_surface(predict, "multiclass", grid)
    assert sum(calls) == 40 * 40 and s.n_classes == 5000
    assert max(calls) * 5000 <= max(256 * 5000, 1 << 20)
    np.testing.assert_allclose(s.confidence, 1 / 5000)


def test_a_regression_surfaces_points_show_their_colour_not_their_edge(tmp_path_factory):
    """The test points of the sinlog lab (400) are coloured by their true y, but at the marker size
    of a class's point they were rings of their black edge, whose colour no one could read."""
    from matplotlib.collections import PathCollection

    from mlplab.plots.run_plots import run_figures

    sinlog = trained(tmp_path_factory, "sinlog_lab", data="sinlog", hid_dim=16, epoch=5)
    fig = run_figures(sinlog.record, sinlog.dataset, sinlog.model_outputs, sinlog.spec)["surface"]()
    (points,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == len(sinlog.dataset.y_test) == 400
    diameter = float(np.sqrt(points.get_sizes()[0]))  # in points, as the edge's width
    face = (diameter - 2 * float(points.get_linewidths()[0])) / diameter
    assert face**2 > 0.7  # most of each marker's area is its colour


def _linear_surface(task: str, W: np.ndarray, b: np.ndarray, n: int = 60):
    """The surface of the linear model ``x @ W.T + b`` over [-2, 2]², ``n`` x ``n``."""
    xs = np.linspace(-2.0, 2.0, n)
    xx, yy = np.meshgrid(xs, xs)
    grid = surfaces.Grid(xx, yy, np.column_stack([xx.ravel(), yy.ravel()]))
    return surfaces.class_surface(lambda X: X @ W.T + b, task, grid)


def _boundary_vertices(surface: surfaces.ClassSurface, class_names: list[str]) -> np.ndarray:
    """Every vertex of the boundary lines the decision surface draws, [n, 2]."""
    from matplotlib.contour import ContourSet

    from mlplab.plots.inputs import DataInfo
    from mlplab.plots.planes import decision_surface_figure

    info = DataInfo("lines", surface.task, ["x1", "x2"], ["y"], class_names)
    fig = decision_surface_figure(surface, [], info, {})
    sets = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    assert sets, "no boundary drawn"
    return np.concatenate([seg for cs in sets for level in cs.allsegs for seg in level])


def test_a_linear_models_class_boundaries_are_straight_lines() -> None:
    """Linear(2, 3) with softmax: its regions meet along straight lines, which were drawn
    as staircases of grid cells (a contour of the predicted class). Each vertex of the
    lines lies on the line where its two likeliest classes tie, the exact boundary; only
    the cells around the point where all three meet may bend it."""
    W = np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
    b = np.array([0.3, -0.1, 0.0])
    s = _linear_surface("multiclass", W, b)
    assert s.margins is not None  # above 0 in the predicted class's region only
    np.testing.assert_array_equal(s.margins > 0, s.classes == np.arange(3)[:, None, None])
    vertices = _boundary_vertices(s, ["a", "b", "c"])
    z = vertices @ W.T + b
    first, second = np.argsort(z, axis=1)[:, -1], np.argsort(z, axis=1)[:, -2]
    rows = np.arange(len(z))
    # Distance of each vertex from the line z_first = z_second.
    off = (z[rows, first] - z[rows, second]) / np.linalg.norm(W[first] - W[second], axis=1)
    junction = np.linalg.solve(W[1:] - W[0], b[0] - b[1:])  # where all three tie
    cell = 4.0 / 59
    far = np.linalg.norm(vertices - junction, axis=1) > 2 * cell
    assert far.sum() > 60  # three lines across the picture, not a few points
    assert np.abs(off[far]).max() < 1e-6, np.abs(off[far]).max()
    pairs = {tuple(sorted(p)) for p in zip(first[far].tolist(), second[far].tolist())}
    assert pairs == {(0, 1), (0, 2), (1, 2)}


def test_a_steep_binary_boundary_is_the_logits_zero() -> None:
    """A logistic model whose P goes from near 0 to near 1 within a cell: its P = 0.5
    contour fell mid-cell, a staircase; the logit's zero is straight, on the exact line."""
    W, b = np.array([[40.0, 25.0]]), np.array([3.0])
    s = _linear_surface("binary", W, b)
    vertices = _boundary_vertices(s, ["no", "yes"])
    assert len(vertices) > 30
    off = (vertices @ W[0] + b[0]) / np.linalg.norm(W[0])
    assert np.abs(off).max() < 1e-6, np.abs(off).max()


def test_a_samples_mistakes_are_counted_among_the_points_shown() -> None:
    """'misclassified: 450 train' beside 'train (2000 of 8000)' left open whether 450 of
    the 8000 or of the 2000 drawn were wrong. The count says which, and the legend, now
    longer, still lies within the figure."""
    from mlplab.plots.inputs import DataInfo, PointSet
    from mlplab.plots.planes import decision_surface_figure

    W = np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
    s = _linear_surface("multiclass", W, np.zeros(3))
    rng = np.random.default_rng(0)

    def points(label: str, n: int, n_wrong: int, marker: str) -> PointSet:
        y = rng.integers(0, 3, n)
        pred = y.copy()
        pred[:n_wrong] = (y[:n_wrong] + 1) % 3
        return PointSet(label, rng.uniform(-2, 2, (n, 2)), y, pred, marker)

    shown = [points("train (2000 of 8000)", 2000, 450, "o"), points("test", 1000, 210, "^")]
    info = DataInfo("ring", "multiclass", ["x1", "x2"], ["y"], ["a", "b", "c"])
    fig = decision_surface_figure(s, shown, info, {"test_acc": 0.79})
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [
        "train (2000 of 8000)",
        "test",
        "misclassified: 450 of the 2000 train points shown,\n210 of 1000 test",
    ]
    fig.canvas.draw()
    box, inside = legend.get_window_extent(), fig.bbox
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0, (box, inside)


def _tiny_plane(task: str, scale: float) -> Dataset:
    """Two standardized features of range ~``scale`` around 0, in three splits."""
    rng = np.random.default_rng(0)
    raw = rng.uniform(-scale, scale, size=(90, 2))
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    X = (raw - mean) / std
    y = (X[:, :1] if task == "regression" else (X[:, 0] > 0)).astype(np.float64)
    parts = [a for s in (slice(0, 60), slice(60, 75), slice(75, 90)) for a in (X[s], y[s])]
    return Dataset("tiny", task, *parts, ["tiny", "tinier"], ["y"], scaler=(mean, std))


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_feature_of_small_range_fills_its_grid(task):
    """A feature of range 1e-4 got a fixed 0.1 of room each side: its data was a line at
    the middle of the picture, and the model's boundary was out of view."""
    data = _tiny_plane(task, 1e-4)
    raw = surfaces.all_raw_points(data)
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    left, right, bottom, top = surfaces.make_grid(data).extent
    pad = (surfaces.REGRESSION_MARGIN if task == "regression" else surfaces.MARGIN) * (hi - lo)
    np.testing.assert_allclose([left, bottom], lo - pad)
    np.testing.assert_allclose([right, top], hi + pad)
    if task == "binary":  # the boundary at the data's middle splits the picture
        s = surfaces.surface_for(data, lambda X: X[:, :1], n=40)
        assert isinstance(s, surfaces.ClassSurface)
        assert 0.3 < s.classes.mean() < 0.7


def test_a_constant_feature_still_gets_a_range():
    data = _tiny_plane("binary", 1.0)
    data.X_train[:, 1] = data.X_val[:, 1] = data.X_test[:, 1] = 0.0  # at its mean
    left, right, bottom, top = surfaces.make_grid(data).extent
    mean = data.scaler[0][1]
    assert (bottom, top) == pytest.approx((mean - 0.1, mean + 0.1))
    assert right - left < 3  # the other axis stays relative to its span (~2)
