"""The numbers behind the 2-D pictures: grids cover the data, surfaces are the model's."""

from __future__ import annotations

import numpy as np
import pytest
from plots_testlib import IRIS, MOONS, RING, SINLOG, XOR_NN, model_classes, trained

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
