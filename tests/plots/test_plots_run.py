"""A run's plots: the files train writes, and what each picture shows."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from plots_testlib import IRIS, MOONS, RING, SINLOG, XOR_NN, assert_image, model_classes, trained

from mlplab.plots import network, surfaces
from mlplab.plots.inputs import DataInfo, confusion_of_test, split_points, surface_points
from mlplab.plots.run_plots import (
    confusion_counts,
    confusion_figure,
    decision_surface_figure,
    draw_run_plots,
    loss_figure,
    output_names,
    pred_vs_true_figure,
    regression_3d_figure,
    regression_surface_figure,
    residuals_figure,
    run_figures,
)
from mlplab.runner import train
from mlplab.training.metrics import predicted_classes, true_classes


@pytest.fixture(scope="module")
def xor(tmp_path_factory):
    return trained(tmp_path_factory, "xor", **XOR_NN)


@pytest.fixture(scope="module")
def sinlog(tmp_path_factory):
    return trained(tmp_path_factory, "sinlog", **SINLOG)


def _titles(fig) -> str:
    """Every title of the figure (suptitle and axes titles), joined."""
    parts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
    return "\n".join(p for p in parts if p)


def _legend_texts(fig) -> list[str]:
    """The texts of the figure's legends (figure-level, then each axes')."""
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def _assert_covers(ax, raw_points: np.ndarray) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 < raw_points[:, 0].min() and x1 > raw_points[:, 0].max()
    assert y0 < raw_points[:, 1].min() and y1 > raw_points[:, 1].max()


# --- files ------------------------------------------------------------------------------------
def test_train_writes_valid_pngs_and_lists_them_in_result_json(xor):
    names = xor.record["plot_files"]
    assert names == ["loss.png", "surface.png", "confusion.png", "network.png", "units.png"]
    for name in names:
        assert_image(xor.run_dir / "plots" / name)
    on_disk = json.loads((xor.run_dir / "result.json").read_text())
    assert on_disk["plot_files"] == names
    assert sorted(p.name for p in (xor.run_dir / "plots").iterdir()) == sorted(names)


def test_plots_none_writes_no_folder_and_svg_writes_svg(tmp_path):
    quick = {**XOR_NN, "epoch": 30}
    none = train(**quick, plots="none", engine="numpy", verbose=False, log_path=str(tmp_path / "a"))
    assert not (none.run_dir / "plots").exists()
    assert none.record["plots"] == "none" and "plot_files" not in none.record
    svg = train(**quick, plots="svg", engine="numpy", verbose=False, log_path=str(tmp_path / "b"))
    assert svg.record["plot_files"] == [
        "loss.svg",
        "surface.svg",
        "confusion.svg",
        "network.svg",
        "units.svg",
    ]
    for name in svg.record["plot_files"]:
        root = ET.parse(svg.run_dir / "plots" / name).getroot()
        assert root.tag.endswith("svg")
        text = (svg.run_dir / "plots" / name).read_text()
        assert "<dc:date>" not in text  # no timestamp: redrawing gives the same file


def _model(run):
    """A run's trained model as the plots take it: predict and weights."""
    return {"predict": run.model_outputs, "weights": run.weights}


def test_svg_redraws_byte_for_byte(xor, tmp_path):
    args = (xor.record, xor.dataset)
    first = draw_run_plots(tmp_path / "a", *args, spec=xor.spec, fmt="svg", **_model(xor))
    assert draw_run_plots(tmp_path / "b", *args, spec=xor.spec, fmt="svg", **_model(xor)) == first
    for name in first:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_draw_run_plots_returns_what_it_wrote(sinlog, tmp_path):
    seen: list[tuple[str, bool]] = []  # each name as it is written, and that it is there

    def written(name: str) -> None:
        seen.append((name, (tmp_path / "p" / name).is_file()))

    names = draw_run_plots(
        tmp_path / "p", sinlog.record, sinlog.dataset, spec=sinlog.spec, **_model(sinlog),
        on_written=written,
    )  # fmt: skip
    assert names == [
        "loss.png", "surface.png", "regression_3d.png", "pred_vs_true.png", "residuals.png"
    ]  # fmt: skip
    assert seen == [(name, True) for name in names]
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == sorted(names)
    for name in names:
        assert_image(tmp_path / "p" / name)


# --- loss curves --------------------------------------------------------------------------------
def test_xor_loss_curves_are_log_scaled_and_labelled(xor):
    losses = xor.record["train_losses"]
    assert max(losses) / min(losses) > 100  # the lab's loss spans more than two decades
    fig = loss_figure(xor.record, xor.dataset, xor.spec)
    ax_loss, ax_metric = fig.axes
    assert ax_loss.get_yscale() == "log"
    titles = _titles(fig)
    for needle in ("xor", "mlp 2-2-1 sigmoid", "test acc 1.000", "bce"):
        assert needle in titles, (needle, titles)
    assert "accuracy" in ax_metric.get_ylabel()
    # XOR's splits are the same four rows: one curve (the val curve) stands for all three.
    assert _legend_texts(fig) == ["val (= train = test rows)"]
    (line,) = ax_loss.get_lines()
    val = xor.record["val_losses"]
    assert line.get_ydata()[0] == val[0] and line.get_ydata()[-1] == val[-1]
    assert line.get_xdata()[-1] == xor.record["val_epochs"][-1]


def test_train_and_val_curves_each_get_a_line_and_one_legend(sinlog):
    fig = loss_figure(sinlog.record, sinlog.dataset, sinlog.spec)
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    assert _legend_texts(fig) == ["train", "val"]


def _apart(run):
    """The run's data as the plots see it, with train, val and test as different rows."""
    return dataclasses.replace(DataInfo.of(run.dataset), shared_splits=False)


def test_loss_axis_is_linear_for_a_narrow_loss_and_one_series_has_no_legend(xor):
    record = {
        "model_name": "tiny",
        "train_losses": [1.0, 0.8, 0.5],
        "val_epochs": [],
        "val_losses": [],
        "test_acc": 0.5,
    }
    fig = loss_figure(record, _apart(xor), xor.spec)
    assert fig.axes[0].get_yscale() == "linear"
    assert _legend_texts(fig) == []
    assert "tiny" in fig.get_suptitle()


def test_train_loss_is_drawn_at_the_validation_epochs(xor):
    """Records sample the train loss at validations; older ones kept it every epoch."""
    sampled = {
        "train_losses": [0.7, 0.2, 0.01],
        "val_epochs": [100, 200, 250],
        "val_losses": [0.69, 0.21, 0.011],
        "test_acc": 1.0,
    }
    fig = loss_figure(sampled, _apart(xor), xor.spec)
    train_line, val_line = fig.axes[0].get_lines()
    assert list(train_line.get_xdata()) == [100, 200, 250] == list(val_line.get_xdata())
    per_epoch = {**sampled, "train_losses": [0.7, 0.5, 0.3, 0.2, 0.1]}  # an older record
    train_line = loss_figure(per_epoch, _apart(xor), xor.spec).axes[0].get_lines()[0]
    assert list(train_line.get_xdata()) == [1, 2, 3, 4, 5]


def test_a_curve_with_one_finite_point_is_marked(xor):
    """A diverged run's val loss: one number, then null. As a bare line it was invisible."""
    diverged = {
        "status": "diverged",
        "train_losses": [8.8, 8.6e13],
        "val_epochs": [1, 2],
        "val_losses": [8.6e13, None],
        "test_acc": None,
    }
    train_line, val_line = loss_figure(diverged, _apart(xor), xor.spec).axes[0].get_lines()
    assert val_line.get_marker() == "o" and train_line.get_marker() in ("", "None")


# --- 2-D classification -------------------------------------------------------------------------
def test_xor_decision_surface_shows_the_models_probabilities(xor):
    data = xor.dataset
    surf = surfaces.surface_for(data, xor.model_outputs)
    points = surface_points(data, xor.model_outputs)
    fig = decision_surface_figure(surf, points, data, xor.record, xor.spec)
    ax = fig.axes[0]
    (im,) = ax.get_images()
    np.testing.assert_allclose(im.get_array(), surf.p1)
    assert im.colorbar is not None and im.colorbar.ax.get_ylabel() == "P(1)"
    # Sampled grid points: the picture's class (P > 0.5) is the model's own decision.
    rng = np.random.default_rng(1)
    i, j = rng.integers(0, surf.grid.xx.shape[0], (2, 50))
    pts = np.column_stack([surf.grid.xx[i, j], surf.grid.yy[i, j]])
    np.testing.assert_array_equal(np.asarray(im.get_array())[i, j] > 0.5, model_classes(xor, pts))
    _assert_covers(ax, surfaces.all_raw_points(data))
    for needle in ("xor", "mlp 2-2-1 sigmoid", "test acc"):
        assert needle in ax.get_title()
    assert ax.get_xlabel() == data.feature_names[0]
    assert len(ax.collections) >= 2  # the 0.5 contour and the points


def test_misclassified_points_are_marked_and_counted(tmp_path_factory):
    linear = trained(
        tmp_path_factory, "xor_linear", **{**XOR_NN, "model": "linear", "epoch": 200}
    )  # a line cannot separate XOR
    data = linear.dataset
    pred = model_classes(linear, data.X_train)
    wrong = pred != true_classes(data.task, data.y_train)
    assert wrong.any()
    surf = surfaces.surface_for(data, linear.model_outputs)
    points = surface_points(data, linear.model_outputs)
    fig = decision_surface_figure(surf, points, data, linear.record, linear.spec)
    ax = fig.axes[0]
    assert _legend_texts(fig) == ["data", f"misclassified: {wrong.sum()} of 4"]
    marked = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == wrong.sum()]
    assert any(np.allclose(m, data.X_train[wrong]) for m in marked)
    assert "linear" in ax.get_title()


def test_multiclass_surface_has_class_colorbar_and_legend(tmp_path_factory):
    ring = trained(tmp_path_factory, "ring", **RING)
    data = ring.dataset
    surf = surfaces.surface_for(data, ring.model_outputs)
    points = surface_points(data, ring.model_outputs)
    fig = decision_surface_figure(surf, points, data, ring.record, ring.spec)
    ax, cax = fig.axes
    assert [t.get_text() for t in cax.get_yticklabels()] == data.class_names
    assert _legend_texts(fig)[:2] == ["train", "test"]
    # The mistakes counted per split: the title's accuracy is the test split's alone.
    n_test = len(data.y_test)
    test_wrong = round((1 - ring.record["test_acc"]) * n_test)
    (counted,) = [t for t in _legend_texts(fig) if t.startswith("misclassified")]
    assert counted.endswith(f", {test_wrong} of {n_test} test"), counted
    _assert_covers(ax, surfaces.all_raw_points(data))
    (im,) = ax.get_images()
    np.testing.assert_allclose(im.get_array(), surfaces.class_rgba(surf, _ring_colors(3)))


def _ring_colors(n: int) -> list[str]:
    from mlplab.plots.style import class_colors

    return class_colors(n)


# --- regression ---------------------------------------------------------------------------------
def test_sinlog_surface_and_3d_scatters_show_model_predictions(sinlog):
    data = sinlog.dataset
    surf = surfaces.surface_for(data, sinlog.model_outputs)
    points = split_points(data, sinlog.model_outputs)
    fig = regression_surface_figure(surf, points, data, sinlog.record, sinlog.spec)
    ax = fig.axes[0]
    (im,) = ax.get_images()
    pts = np.column_stack([surf.grid.xx.ravel(), surf.grid.yy.ravel()])
    np.testing.assert_allclose(
        np.asarray(im.get_array()).ravel(), sinlog.predict(pts)[:, 0], rtol=1e-6
    )
    assert im.colorbar is not None
    _assert_covers(ax, surfaces.all_raw_points(data))
    assert "sinlog" in ax.get_title() and "MAE" in ax.get_title()

    fig3 = regression_3d_figure(surf, points, data, sinlog.record, sinlog.spec)
    axes3d = [a for a in fig3.axes if a.name == "3d"]
    assert [a.get_title() for a in axes3d] == ["true test y", "predicted test y", "model surface"]
    xs, ys, zs = axes3d[1].collections[0]._offsets3d  # the predicted test y scatter
    np.testing.assert_allclose(zs, sinlog.predict(np.column_stack([xs, ys]))[:, 0], rtol=1e-6)
    _, _, z_true = axes3d[0].collections[0]._offsets3d
    np.testing.assert_allclose(np.sort(z_true), np.sort(data.y_test[:, 0]))
    assert "sinlog" in fig3.get_suptitle() and "mlp 2-32-1 relu" in fig3.get_suptitle()


def test_pred_vs_true_has_the_identity_line_and_a_legend(sinlog):
    points = split_points(sinlog.dataset, sinlog.model_outputs)
    fig = pred_vs_true_figure(points, sinlog.dataset, sinlog.record, sinlog.spec)
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), line.get_ydata())
    assert _legend_texts(fig) == ["train", "test", "y = x"]
    assert "R²" in fig.get_suptitle() and ax.get_xlabel() == "true y"


def test_residuals_are_the_test_rows_true_minus_predicted_against_predicted(sinlog):
    """An environmental scientist checks residuals first: a spread that widens with the
    prediction (a skewed flow's) that pred_vs_true squeezes into a corner."""
    data = sinlog.dataset
    points = split_points(data, sinlog.model_outputs)
    fig = residuals_figure(points, data, sinlog.record, sinlog.spec)
    (ax,) = fig.axes
    (scatter,) = ax.collections  # the test rows alone: the train rows fit, not the model
    xy = np.asarray(scatter.get_offsets())
    pred = sinlog.predict(surfaces.raw_inputs(data, data.X_test))[:, 0]
    np.testing.assert_allclose(xy[:, 0], pred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xy[:, 1], data.y_test[:, 0] - pred, rtol=1e-4, atol=1e-5)
    (zero,) = ax.get_lines()
    assert set(zero.get_ydata()) == {0.0}
    assert _legend_texts(fig) == ["test", "no error"]
    assert ax.get_xlabel() == "predicted y" and ax.get_ylabel() == "residual: true - predicted y"
    assert "residuals (test) · test MAE" in fig.get_suptitle() and "R²" in fig.get_suptitle()
    # A diverged model's predictions sit at the axes' edges, counted.
    far = residuals_figure(
        split_points(data, lambda X: sinlog.model_outputs(X) * 0 + 1e7), data, sinlog.record
    )
    n = len(data.y_test)
    assert f"{n} points beyond the axes, drawn at their edge" in [
        t.get_text() for t in far.axes[0].texts
    ]
    assert far.axes[0].get_xlim()[1] < 10 * np.abs(data.y_test).max()


def test_predictions_far_off_the_targets_sit_at_the_axis_edge_counted(sinlog):
    """A diverged model's predictions near 1e7 squeezed every true y into a line at 0."""
    points = split_points(sinlog.dataset, lambda X: sinlog.model_outputs(X) * 0 + 1e7)
    fig = pred_vs_true_figure(points, sinlog.dataset, sinlog.record, sinlog.spec)
    ax = fig.axes[0]
    y = np.concatenate([p.y[:, 0] for p in points])
    span = y.max() - y.min()
    low, high = ax.get_xlim()
    assert high - low < 4 * span  # the targets' range, not up to 1e7
    n = sum(len(p.y) for p in points)
    assert f"{n} predictions beyond the axis, drawn at its edge" in [t.get_text() for t in ax.texts]


def test_a_one_feature_regression_draws_its_fit_over_the_data(tmp_path):
    """y against x with the model's curve, as the lecture draws a fit: the curve is the
    model's prediction at raw x (its standardization applied), over every point's range."""
    from mlplab.plots.inputs import fit_curve
    from mlplab.plots.run_plots import fit_figure

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 200)
    rows = "\n".join(f"{a:.5f},{np.sin(a):.5f}" for a in x)
    (tmp_path / "sin.csv").write_text("angle,height\n" + rows + "\n")
    run = train(
        data=str(tmp_path / "sin.csv"), hid_dim=16, act="tanh", optim="adam", lr=0.01,
        epoch=100, batch_size=32, engine="numpy", log_every=0, verbose=False,
        log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    assert run.record["plot_files"] == ["loss.png", "fit.png", "pred_vs_true.png", "residuals.png"]
    assert_image(run.run_dir / "plots" / "fit.png")
    data = run.dataset
    assert data.scaler is not None  # a file is standardized: the x axis is in its units
    fig = fit_figure(
        fit_curve(data, run.model_outputs),
        split_points(data, run.model_outputs),
        data,
        run.record,
        run.spec,
    )
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    grid = np.asarray(line.get_xdata())
    assert grid.min() < x.min() and grid.max() > x.max() and ax.get_xlabel() == "angle"
    np.testing.assert_allclose(line.get_ydata(), run.predict(grid[:, None])[:, 0], rtol=1e-6)
    train_dots, test_dots = ax.collections
    raw_train = surfaces.raw_inputs(data, data.X_train)[:, 0]
    np.testing.assert_allclose(train_dots.get_offsets()[:, 0], raw_train, rtol=1e-6)
    np.testing.assert_allclose(train_dots.get_offsets()[:, 1], data.y_train[:, 0])
    assert len(test_dots.get_offsets()) == len(data.y_test)
    assert _legend_texts(fig) == ["train", "test", "model"]
    assert ax.get_ylabel() == "height" and "R²" in fig.get_suptitle()


@pytest.mark.parametrize("n_classes", [2, 4, 12])
def test_a_one_feature_classifier_draws_each_class_probability_along_x(tmp_path, n_classes):
    """Binary: P(class 1) along x, the points at their class (0 or 1) as a logistic fit is
    drawn. Multiclass: a curve per class, the points in a strip below. Past 10 classes the
    curves would share colours: no fit is drawn."""
    from mlplab.plots.inputs import fit_curve
    from mlplab.plots.run_plots import class_fit_figure

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 240)
    classes = np.digitize(x, np.linspace(-3, 3, n_classes + 1)[1:-1])
    labels = [f"k{c:02d}" for c in classes]
    rows = "\n".join(f"{a:.5f},{label}" for a, label in zip(x, labels, strict=True))
    (tmp_path / "one.csv").write_text("dose,kind\n" + rows + "\n")
    run = train(
        data=str(tmp_path / "one.csv"), optim="adam", lr=0.02, epoch=60, engine="numpy",
        log_every=0, verbose=False, log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    if n_classes > 10:
        assert run.record["plot_files"] == ["loss.png", "confusion.png"]
        return
    assert run.record["plot_files"] == ["loss.png", "fit.png", "confusion.png"]
    assert_image(run.run_dir / "plots" / "fit.png")
    data = run.dataset
    points = surface_points(data, run.model_outputs)
    fig = class_fit_figure(fit_curve(data, run.model_outputs), points, data, run.record, run.spec)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    grid = np.asarray(curves[0].get_xdata())
    assert grid.min() < x.min() and grid.max() > x.max() and ax.get_xlabel() == "dose"
    logits = run.predict(grid[:, None])
    if n_classes == 2:
        (curve,) = curves
        np.testing.assert_allclose(curve.get_ydata(), 1 / (1 + np.exp(-logits[:, 0])), rtol=1e-6)
        assert ax.get_ylabel() == "P(k01)"
        heights = np.asarray(ax.collections[0].get_offsets())[:, 1]  # the train points
        np.testing.assert_array_equal(heights, data.y_train[:, 0])
    else:
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        assert len(curves) == n_classes
        for c, curve in enumerate(curves):
            # The picture predicts its grid in slices of 256 rows, run.predict in one:
            # float32 products of other shapes may differ in the last bit (OpenBLAS).
            np.testing.assert_allclose(curve.get_ydata(), probs[:, c], rtol=1e-5, atol=1e-12)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            f"P(k{c:02d})" for c in range(n_classes)
        ]
        assert np.all(np.asarray(ax.collections[0].get_offsets())[:, 1] < 0)  # the strip
        fig.canvas.draw()  # the class legend, right of the axes, is inside the picture
        box, (width, _) = ax.get_legend().get_window_extent(), fig.canvas.get_width_height()
        assert box.x0 > ax.get_window_extent().x1 and box.x1 <= width
    (under,) = fig.legends  # the point sets (and mistakes), under the axes
    assert [t.get_text() for t in under.get_texts()][:2] == ["train", "test"]


def test_several_targets_each_get_their_own_test_metrics(tmp_path):
    """The record's MAE and R² average targets whose scales may differ a hundredfold; each
    panel names its own, and the figure's title says the record's are their mean."""
    from mlplab.plots.inputs import fit_curve, test_metrics_by_target
    from mlplab.plots.run_plots import fit_figure

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 200)
    rows = "\n".join(f"{a:.5f},{np.sin(a):.5f},{100 * np.cos(a):.5f}" for a in x)
    (tmp_path / "two.csv").write_text("x,small,large\n" + rows + "\n")
    run = train(
        data=str(tmp_path / "two.csv"), target=["small", "large"], epoch=20, engine="numpy",
        log_every=0, verbose=False, log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    data, predict = run.dataset, run.model_outputs
    by_target = test_metrics_by_target(data, predict)
    outputs = run.predict(surfaces.raw_inputs(data, data.X_test))
    for t, m in enumerate(by_target):
        err = data.y_test[:, t] - outputs[:, t]
        assert m["mae"] == pytest.approx(np.abs(err).mean(), rel=1e-6)
    assert np.mean([m["mae"] for m in by_target]) == pytest.approx(run.record["test_mae"], 1e-4)
    assert np.mean([m["r2"] for m in by_target]) == pytest.approx(run.record["test_r2"], 1e-4)
    points = split_points(data, predict)
    for fig in (
        pred_vs_true_figure(points, data, run.record, run.spec, by_target),
        fit_figure(fit_curve(data, predict), points, data, run.record, run.spec, by_target),
        residuals_figure(points, data, run.record, run.spec, by_target),
    ):
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == [
            f"{name} · test MAE {m['mae']:.4g}, R² {m['r2']:.3f}"
            for name, m in zip(["small", "large"], by_target, strict=True)
        ]
        assert fig.get_suptitle().endswith("(mean over targets)")


def test_the_surface_of_one_of_several_targets_gives_that_targets_metrics(tmp_path):
    """With two targets, surface.png and regression_3d.png show the first: their titles
    give its own test MAE and R², not the record's mean over both targets."""
    from mlplab.plots.inputs import test_metrics_by_target
    from mlplab.plots.run_plots import run_figures

    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (200, 2))
    rows = "\n".join(f"{a:.5f},{b:.5f},{a * b:.5f},{100 * (a + b):.5f}" for a, b in x)
    (tmp_path / "two.csv").write_text("a,b,small,large\n" + rows + "\n")
    run = train(
        data=str(tmp_path / "two.csv"), target=["small", "large"], epoch=20, engine="numpy",
        log_every=0, plots="none", verbose=False, log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    small = test_metrics_by_target(run.dataset, run.model_outputs)[0]
    own = f"test MAE {small['mae']:.4g}, R² {small['r2']:.3f}"
    mean = f"test MAE {run.record['test_mae']:.4g}"
    assert own != mean
    figures = run_figures(run.record, run.dataset, run.model_outputs, run.spec)
    # And they say that the other target is left out, and where it is drawn.
    other = "\ntarget 1 of 2; pred_vs_true draws each"
    title = figures["surface"]().axes[0].get_title()
    assert "predicted small (test points: true small)" in title, title
    assert title.endswith(own + other) and mean not in title, title
    suptitle = figures["regression_3d"]().get_suptitle()
    assert suptitle.endswith(own + other) and mean not in suptitle, suptitle


# --- any dataset --------------------------------------------------------------------------------
def test_confusion_matrix_counts_the_test_split(tmp_path_factory):
    iris = trained(tmp_path_factory, "iris", **IRIS)
    data = iris.dataset
    assert iris.record["plot_files"] == ["loss.png", "confusion.png"]  # 4 features: no surface
    fig = confusion_figure(
        confusion_of_test(data, iris.model_outputs), data, iris.record, iris.spec
    )
    ax = fig.axes[0]
    (im,) = ax.get_images()
    cm = np.asarray(im.get_array())
    pred = predicted_classes(data.task, iris.model_outputs(data.X_test))
    np.testing.assert_array_equal(cm, confusion_counts(data.y_test, pred, 3))
    assert cm.sum() == len(data.X_test)
    assert np.trace(cm) / cm.sum() == pytest.approx(iris.record["test_acc"])
    assert [t.get_text() for t in ax.get_xticklabels()] == data.class_names
    assert im.colorbar is not None
    assert "iris" in ax.get_title() and "test acc" in ax.get_title()


def test_network_diagram_edges_follow_the_weights(xor):
    assert network.can_draw(xor.spec)
    state = xor.weights
    fig = network.network_figure(
        state, xor.spec, xor.dataset.feature_names, output_names(xor.dataset)
    )
    ax = fig.axes[0]
    (edges,) = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    weights = [w for w, _ in network.layer_params(state, xor.spec)]
    flat = np.concatenate([w.ravel() for w in weights])  # [out, in] order, layer by layer
    widths = np.asarray(edges.get_linewidths())
    assert len(widths) == len(flat) == 6
    np.testing.assert_allclose(
        widths, np.concatenate([w.ravel() for w in network.edge_widths(weights)])
    )
    assert widths[np.abs(flat).argmax()] == widths.max()
    # The surface's colours: orange (class 1) for weights that push toward it, blue else.
    from matplotlib.colors import to_rgba

    from mlplab.plots.style import BLUE, ORANGE

    colors = edges.get_colors()
    assert np.allclose(colors[flat >= 0], to_rgba(ORANGE))
    assert np.allclose(colors[flat < 0], to_rgba(BLUE))
    assert (flat < 0).any() and (flat >= 0).any()
    assert "9 parameters" in ax.get_title()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["weight ≥ 0", "weight < 0"]


def test_network_diagram_draws_a_weight_of_zero_as_a_cut_edge(xor):
    """l1_coef leaves exact zeros (the Playground's lesson of L1: edges cut); each was drawn
    as a thin orange line, the same as a small positive weight."""
    from matplotlib.colors import to_rgba

    state = {k: v.copy() for k, v in xor.weights.items()}
    first = next(k for k in state if k.endswith("weight"))
    state[first].flat[0] = 0.0
    fig = network.network_figure(
        state, xor.spec, xor.dataset.feature_names, output_names(xor.dataset)
    )
    (edges,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    flat = np.concatenate([w.ravel() for w, _ in network.layer_params(state, xor.spec)])
    zero = flat == 0
    assert zero.sum() == 1
    colors, styles = edges.get_colors(), edges.get_linestyles()
    assert np.allclose(colors[zero], to_rgba(network.CUT))
    assert not np.allclose(colors[~zero], to_rgba(network.CUT))
    assert styles[int(np.flatnonzero(zero)[0])][1] is not None  # dashed: (offset, pattern)
    assert all(styles[i][1] is None for i in np.flatnonzero(~zero))  # solid
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["weight > 0", "weight < 0", "weight 0 (1 cut)"]


def test_network_diagram_draws_tiny_weights_faint_and_says_how_large(xor):
    """The XOR perceptron's weights shrink to 1e-7, and were drawn as thick as the
    largest weights of a trained net: the lab's lesson, shown backwards."""
    tiny = {k: v * 1e-7 for k, v in xor.weights.items()}
    figs = [
        network.network_figure(s, xor.spec, xor.dataset.feature_names, output_names(xor.dataset))
        for s in (xor.weights, tiny)
    ]
    (big, small) = [
        np.asarray(
            next(c for c in f.axes[0].collections if isinstance(c, LineCollection)).get_linewidths()
        )
        for f in figs
    ]
    assert big.max() == network.MAX_WIDTH  # the trained xor-nn has weights above 1
    np.testing.assert_allclose(small, network.MIN_WIDTH, atol=1e-5)
    top = max(float(np.abs(w).max()) for w, _ in network.layer_params(tiny, xor.spec))
    assert f"(max |weight| {top:.2g})" in figs[1].axes[0].get_title()


def test_network_diagram_says_when_its_input_weights_act_on_standardized_features(
    tmp_path_factory, xor
):
    moons = trained(tmp_path_factory, "moons", **MOONS)
    assert moons.record["standardized"] and not xor.record["standardized"]
    titles = {
        name: run_figures(run.record, run.dataset, run.model_outputs, run.spec, run.weights)[
            "network"
        ]()
        .axes[0]
        .get_title()
        for name, run in (("moons", moons), ("xor", xor))
    }
    assert "inputs standardized" in titles["moons"]
    assert "standardized" not in titles["xor"]


def test_no_network_diagram_past_ten_units(tmp_path_factory):
    from mlplab.engines.spec import ModelSpec

    # The lecture's wide and deep xor net, 2-10-10-10-1, is drawn; one unit more is not.
    assert network.can_draw(ModelSpec(2, 1, 3, 10, "sigmoid", task="binary"))
    assert not network.can_draw(ModelSpec(2, 1, 1, 11, "relu", task="binary"))
    sinlog = trained(tmp_path_factory, "sinlog", **SINLOG)
    assert "network.png" not in sinlog.record["plot_files"]


def test_model_label_names_a_width_per_layer():
    """With the spec, every layer from input to output, as the lectures name a model
    (xor-nn is "2-2-1"); the record alone lacks the input and output widths."""
    from mlplab.engines.spec import ModelSpec
    from mlplab.plots.style import model_label

    spec = ModelSpec(64, 10, 2, 100, "relu", task="multiclass", hid_dims=(256, 128))
    assert model_label({}, spec) == "mlp 64-256-128-10 relu"
    assert model_label({}, ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")) == "mlp 2-2-1 sigmoid"
    assert model_label({}, ModelSpec(2, 1, 2, 8, "tanh", task="binary")) == "mlp 2-8-8-1 tanh"
    assert model_label({}, ModelSpec(2, 1, 0, 8, "tanh", task="binary")) == "linear"
    assert model_label({"n_layer": 2, "hid_dims": "256-128", "act": "relu"}) == "mlp 256-128 relu"
    assert model_label({"n_layer": 1, "hid_dim": 2, "act": "sigmoid"}) == "mlp 2x1 sigmoid"


def test_plot_titles_name_batch_norm_dropout_and_skips_as_the_run_does():
    """Titles dropped 'bn dp 0.2': the runs of a batch-norm or dropout sweep had one title."""
    from mlplab.config import Config
    from mlplab.engines.spec import ModelSpec
    from mlplab.plots.style import model_label

    cfg = Config(
        data="digits", n_layer=3, hid_dim=128, use_bn=True, dp_rate=0.2, sc_type="residual"
    )
    spec = ModelSpec(
        64, 10, 3, 128, "relu", use_bn=True, dp_rate=0.2, sc_type="residual", task="multiclass"
    )
    assert cfg.label() == model_label(cfg.to_dict()) == "mlp 128x3 relu bn dp 0.2 residual"
    # With the spec, whose widths the data set: one form for the console and the titles.
    full = "mlp 64-128-128-128-10 relu bn dp 0.2 residual"
    assert cfg.label(spec) == model_label({}, spec) == spec.label() == full
    named = Config(data="digits", model_name="wide")
    assert named.label(spec) == model_label(named.to_dict(), spec) == "wide"


def test_a_failing_plot_warns_and_the_others_are_written(xor, tmp_path):
    def broken(X):
        raise RuntimeError("model gone")

    with pytest.warns(RuntimeWarning) as caught:
        names = draw_run_plots(tmp_path, xor.record, xor.dataset, broken, xor.spec, xor.weights)
    # The three that need no prediction: the units are the weights' own forward pass.
    assert names == ["loss.png", "network.png", "units.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert sorted(str(w.message) for w in caught) == [
        f"mlplab: plot {name}.png failed (RuntimeError: model gone); results are kept"
        for name in ("confusion", "surface")
    ]


def test_the_loss_figure_of_a_thinned_run_draws_every_point(tmp_path, monkeypatch):
    import mlplab.plots.run_plots as run_plots
    from mlplab import train
    from mlplab.plots.commands import redraw_run
    from mlplab.restore import load_run
    from mlplab.runs.curves import read_curves

    drawn: list[list[float]] = []
    real = run_plots.loss_figure

    def spy(result, data, spec=None):
        drawn.append(list(result["val_losses"]))
        return real(result, data, spec)

    monkeypatch.setattr(run_plots, "loss_figure", spy)
    res = train(
        data="xor", epoch=600, log_every=0, plots="png", verbose=False, log_path=str(tmp_path)
    )
    shown = res.record["val_losses"]
    assert res.record["curves_thinned"]["points"] == 600 and len(shown) < 600
    every = read_curves(res.run_dir)["val_losses"].tolist()
    assert len(every) == 600 and drawn == [every]  # at the end of training

    redraw_run(res.run_dir, load_run)  # `mlplab plot RUN_DIR`
    assert drawn[-1] == every
    # curves.npz damaged: the thinned curves of result.json still draw.
    (res.run_dir / "curves.npz").write_bytes(b"not a zip file")
    redraw_run(res.run_dir, load_run)
    assert drawn[-1] == shown


def test_a_single_targets_panel_has_no_lone_title():
    """fit.png and pred_vs_true.png of the sine had a panel title 'y' under the main one."""
    from mlplab.plots.inputs import fit_curve, split_points
    from mlplab.plots.run_plots import fit_figure, pred_vs_true_figure

    run = train(data="sine", epoch=2, log_every=0, plots="none", record=False, verbose=False)
    points = split_points(run.dataset, run.model_outputs)
    curve = fit_curve(run.dataset, run.model_outputs)
    for fig in (
        pred_vs_true_figure(points, run.dataset, run.record, run.spec),
        fit_figure(curve, points, run.dataset, run.record, run.spec),
    ):
        assert [ax.get_title() for ax in fig.axes] == [""]
        assert "sine" in fig.get_suptitle()


def test_a_picture_cut_short_by_a_full_disk_leaves_no_file(tmp_path, monkeypatch):
    """A full disk mid-write had left 0-byte pictures in a finished run's plots/, read
    later as its pictures; now a picture is whole or absent, and no temp file is left."""
    import errno

    import matplotlib.pyplot as plt

    from mlplab.plots import style

    def full_disk(canvas, f):
        f.write(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    fig = plt.figure()
    monkeypatch.setattr(style, "encode_png", full_disk)
    with pytest.raises(OSError, match="No space left"):
        style.save_figure(fig, tmp_path / "plots" / "loss.png", "png")
    assert list((tmp_path / "plots").iterdir()) == []
    monkeypatch.undo()
    style.save_figure(fig, tmp_path / "plots" / "loss.png", "png")
    assert (tmp_path / "plots" / "loss.png").read_bytes().startswith(b"\x89PNG")
    plt.close(fig)


def test_every_run_picture_is_drawn_in_mlplabs_style_whatever_the_users_settings(
    tmp_path_factory,
):
    """The surface and confusion pictures lost their style when the plots were split into
    modules: a user's matplotlibrc (font size 5, here) set their type, not mlplab's."""
    import matplotlib as mpl

    from mlplab.plots.run_plots import run_figures
    from mlplab.plots.style import STYLE

    moons = trained(tmp_path_factory, "moons", **MOONS)
    figures = run_figures(moons.record, moons.dataset, moons.model_outputs, moons.spec)
    assert {"loss", "surface", "confusion"} <= set(figures)
    with mpl.rc_context({"font.size": 5, "axes.titlesize": 5, "xtick.labelsize": 5}):
        for name, draw in figures.items():
            fig = draw()
            ticks = [t.get_fontsize() for ax in fig.axes for t in ax.get_xticklabels()]
            assert ticks and min(ticks) >= 10, (name, ticks)
            size = mpl.font_manager.FontProperties(size=STYLE["xtick.labelsize"]).get_size()
            assert max(ticks) == size, (name, ticks)


def test_a_digits_run_draws_its_misclassified_test_images(tmp_path):
    """Digits drew a loss curve and a confusion matrix alone: which digits the model took
    for which, as images, was nowhere (the lab's own picture)."""
    import matplotlib.pyplot as plt

    from mlplab.data import load_dataset
    from mlplab.plots import images

    r = train(data="digits", hid_dim=16, epoch=2, engine="numpy", verbose=False,
              log_path=str(tmp_path))  # fmt: skip
    assert "mistakes.png" in r.record["plot_files"]
    assert_image(r.run_dir / "plots" / "mistakes.png")
    data = r.dataset
    assert images.image_side(data) == 8
    fig = images.mistakes_figure(data, r.model_outputs, r.record, None)
    true = true_classes(data.task, data.y_test)
    pred = predicted_classes(data.task, r.model_outputs(data.X_test))
    wrong = np.flatnonzero(pred != true)
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert len(drawn) == min(len(wrong), images.MAX_SHOWN) > 0
    for ax, i in zip(drawn, wrong, strict=False):  # each its own digit, titled true → predicted
        assert ax.get_title() == f"{true[i]} → {pred[i]}"
        np.testing.assert_allclose(
            ax.get_images()[0].get_array(), data.raw_rows("test")[i].reshape(8, 8)
        )
    assert f"{len(wrong)} of {len(true)} test images misclassified" in fig.get_suptitle()
    plt.close(fig)
    # No pixels, no images: other names, another count, a regression.
    assert images.image_side(load_dataset("iris")) is None
    assert images.image_side(load_dataset("diabetes")) is None
