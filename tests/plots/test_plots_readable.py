"""Plots that show the data: scales, labels, legends and frames a reader can use."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
import types

import numpy as np
import pytest
from plots_testlib import MOONS, SINLOG, XOR_NN, trained

import mlplab
from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import surfaces
from mlplab.plots.inputs import confusion_of_test, split_points, surface_points
from mlplab.plots.labels import short_labels
from mlplab.plots.recorder import SnapshotRecorder
from mlplab.plots.run_plots import (
    confusion_figure,
    decision_surface_figure,
    loss_figure,
    regression_3d_figure,
    regression_surface_figure,
)
from mlplab.plots.snapshots import grid_figure


@pytest.fixture(scope="module")
def sinlog(tmp_path_factory):
    return trained(tmp_path_factory, "sinlog", **SINLOG)


def _inside_figure(fig, artist) -> bool:
    fig.canvas.draw()
    box = artist.get_window_extent()
    width, height = fig.canvas.get_width_height()
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height


# --- regression: the data's range, not the model's extrapolation --------------------------------
def _data_range(points) -> tuple[float, float]:
    """The values a regression plot should scale to: y, and predictions on the data."""
    ys = np.concatenate([p.y[:, 0] for p in points])
    preds = np.concatenate([p.pred[:, 0] for p in points])
    return min(ys.min(), preds.min()), max(ys.max(), preds.max())


def test_regression_surface_spans_the_data_and_is_coloured_by_it(sinlog):
    data, predict = sinlog.dataset, sinlog.model_outputs
    surf = surfaces.surface_for(data, predict)
    points = split_points(data, predict)
    raw = surfaces.all_raw_points(data)
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    slack = 0.03 * (hi - lo)
    fig = regression_surface_figure(surf, points, data, sinlog.record, sinlog.spec)
    ax = fig.axes[0]
    for (a, b), i in ((ax.get_xlim(), 0), (ax.get_ylim(), 1)):
        assert lo[i] - slack[i] <= a <= lo[i] and hi[i] <= b <= hi[i] + slack[i], (a, b)
    (im,) = ax.get_images()
    assert (im.norm.vmin, im.norm.vmax) == pytest.approx(_data_range(points))


def test_regression_3d_z_axis_is_the_datas_range_and_its_labels_fit(sinlog):
    data, predict = sinlog.dataset, sinlog.model_outputs
    surf = surfaces.surface_for(data, predict)
    points = split_points(data, predict)
    fig = regression_3d_figure(surf, points, data, sinlog.record, sinlog.spec)
    lo, hi = _data_range(points)
    for ax in [a for a in fig.axes if a.name == "3d"]:
        z0, z1 = ax.get_zlim()
        assert z0 == pytest.approx(lo) and z1 == pytest.approx(hi)
        fig.canvas.draw()  # places the tick labels of the ticks in view
        for tick, label in zip(ax.get_zticks(), ax.zaxis.get_ticklabels()):
            if z0 <= tick <= z1 and label.get_text():
                assert _inside_figure(fig, label), label.get_text()


# --- loss curves ----------------------------------------------------------------------------------
SINLOG_LIKE = {
    "epoch": 600,
    "val_epochs": list(range(1, 601)),
    "train_losses": [20.0, 1500.0, *np.geomspace(900, 2.3, 598).tolist()],
    "val_losses": [19.0, 1400.0, *np.geomspace(850, 2.4, 598).tolist()],
    "train_maes": [4.0, 35.0, *np.geomspace(30, 1.1, 598).tolist()],
    "val_maes": [4.0, 34.0, *np.geomspace(29, 1.2, 598).tolist()],
    "test_mae": 1.2,
    "test_r2": 0.7,
}


def test_loss_label_fits_and_log_axes_span_only_the_decades_used(sinlog):
    fig = loss_figure(SINLOG_LIKE, sinlog.dataset, sinlog.spec)
    ax_loss = fig.axes[0]
    assert ax_loss.get_ylabel() == "mse loss" and _inside_figure(fig, ax_loss.yaxis.label)
    assert ax_loss.get_yscale() == "log"
    y0, y1 = ax_loss.get_ylim()
    assert 2.3 / 1.5 < y0 <= 2.3 and 1500 <= y1 < 1500 * 1.5, (y0, y1)
    ticks = [t for t in ax_loss.get_yticks() if y0 <= t <= y1]
    assert len(ticks) >= 2  # decades inside the range are labelled


def _labelled_ticks(fig, ax) -> dict[float, str]:
    """The y axis's labelled ticks within its range, as drawn: {value: label}."""
    fig.canvas.draw()
    y0, y1 = ax.get_ylim()
    ticks = ax.yaxis.get_major_ticks()
    return {
        float(loc): t.label1.get_text()
        for loc, t in zip(ax.get_yticks(), ticks)
        if y0 <= loc <= y1 and t.label1.get_visible() and t.label1.get_text()
    }


def test_a_log_loss_axis_is_labelled_closely_enough_to_read_its_values():
    """XOR's loss, 0.69 (ln 2) down to 0.00016 over 3.6 decades, was labelled 0.1, 0.01 and
    0.001 only: neither the plateau nor the last value could be read. A label within a
    factor 2 of each, unlabelled ticks between; a sinlog-like loss of 4.5 decades, 1 to
    30,000 after a blow-up, labelled between 1 and 10 too."""
    from mlplab.plots.inputs import DataInfo

    xor = DataInfo("xor", "binary", ["x1", "x2"], ["y"], ["0", "1"], shared_splits=True)
    epochs = list(range(100, 10_001, 100))
    loss = np.concatenate([np.full(50, np.log(2.0)), np.geomspace(0.6, 1.56e-4, 50)])
    result = {"epoch": 10_001, "val_epochs": epochs, "val_losses": loss.tolist()}
    result |= {"val_accs": [1.0] * 100, "test_acc": 1.0}
    fig = loss_figure(result, xor)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = _labelled_ticks(fig, ax)
    assert any(np.log(2.0) / 2 <= v <= np.log(2.0) for v in labels), labels
    assert any(1.56e-4 <= v <= 2 * 1.56e-4 for v in labels), labels
    assert labels[0.0005] == "0.0005" and labels[0.1] == "0.1"  # plain numbers
    assert len(ax.yaxis.get_minorticklocs()) > 10
    regression = DataInfo("sinlog", "regression", ["x1", "x2"], ["y"])
    mse = np.concatenate([[30_000.0, 800.0], np.geomspace(10.0, 1.2, 98)])
    result = {"epoch": 100, "val_epochs": list(range(1, 101)), "val_losses": mse.tolist()}
    result |= {"train_losses": mse.tolist(), "val_maes": np.sqrt(mse).tolist()}
    fig = loss_figure(result, regression)
    labels = _labelled_ticks(fig, fig.axes[0])
    assert any(1 < v < 10 for v in labels), labels
    assert len(labels) <= 12  # and no more than the axis has room for


def test_the_loss_of_a_standardized_target_says_so_beside_the_mae() -> None:
    """Under standardize_target the panel said 'mse loss' at 0.2 to 0.8 beside an MAE of
    30 to 50 in the target's units, which no MSE of those units can be."""
    from mlplab.plots.inputs import DataInfo

    regression = DataInfo("diabetes", "regression", ["x1"], ["y"])
    curve = np.geomspace(0.8, 0.2, 20).tolist()
    result = {"epoch": 20, "val_epochs": list(range(1, 21)), "val_losses": curve}
    result |= {"train_losses": curve, "val_maes": (np.array(curve) * 60).tolist()}
    for scaled, words in ((True, "mse loss, standardized target"), (False, "mse loss")):
        fig = loss_figure({**result, "standardize_target": scaled}, regression)
        assert fig.axes[0].get_ylabel() == words
        assert fig.axes[1].get_ylabel() == "MAE"
    two = DataInfo("two", "regression", ["x1"], ["y1", "y2"])
    assert loss_figure(result, two).axes[1].get_ylabel() == "MAE, mean of 2 targets"


def test_a_long_curve_draws_its_spikes_at_their_height(sinlog):
    """3000 epochs are drawn with about 1500 points: each span keeps its lowest and highest,
    so one epoch's spike (here 28,000 at epoch 4, as a near-divergence) is drawn whole."""
    n = 3000
    curve = np.geomspace(50, 2.0, n)
    curve[3] = 28_000.0
    result = {**SINLOG_LIKE, "epoch": n, "val_epochs": list(range(1, n + 1))}
    result |= {"train_losses": curve.tolist(), "val_losses": (curve * 1.1).tolist()}
    result |= {"train_maes": np.sqrt(curve).tolist(), "val_maes": np.sqrt(curve).tolist()}
    fig = loss_figure(result, sinlog.dataset, sinlog.spec)
    for ax in fig.axes:
        for line in ax.get_lines():
            y = line.get_ydata()
            assert len(y) <= 1502
            assert max(y) in (28_000.0, 28_000.0 * 1.1, np.sqrt(28_000.0)), max(y)
            assert min(y) in (2.0, 2.0 * 1.1, np.sqrt(2.0))


def test_an_early_stop_marks_its_best_epoch_and_epochs_are_whole(sinlog):
    n = 21
    result = {**SINLOG_LIKE, "epoch": 300, "val_epochs": list(range(1, n + 1))}
    for key in ("train_losses", "val_losses", "train_maes", "val_maes"):
        result[key] = SINLOG_LIKE[key][:n]
    result |= {"stopped_early": True, "best_epoch": 11}
    fig = loss_figure(result, sinlog.dataset, sinlog.spec)
    for ax in fig.axes:
        marks = [ln for ln in ax.get_lines() if ln.get_label() == "best epoch (11)"]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [11, 11]
        assert all(float(t).is_integer() for t in ax.get_xticks())
    assert "best epoch (11)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_a_run_that_ends_above_its_best_marks_the_best_epoch_as_its_note_names_it(sinlog):
    """`mlplab train` said 'the validation loss was lowest at epoch 19 ... overfits', and
    the plot marked no epoch: it marked the best only for an early stop."""
    n = 40
    val = np.r_[np.geomspace(2.0, 0.5, 20), np.linspace(0.55, 0.9, 20)]  # lowest at 20
    result = {**SINLOG_LIKE, "epoch": n, "val_epochs": list(range(1, n + 1)), "status": "finished"}
    result |= {"train_losses": np.geomspace(2.0, 0.1, n).tolist(), "val_losses": val.tolist()}
    result |= {"train_maes": [1.0] * n, "val_maes": [1.0] * n}
    result |= {"best_epoch": 20, "best_val_loss": 0.5, "stopped_early": False}
    fig = loss_figure(result, sinlog.dataset, sinlog.spec)
    assert "best epoch (20)" in [t.get_text() for t in fig.legends[0].get_texts()]
    # Ending within a tenth of the best is no overfit: nothing is marked.
    result["val_losses"] = [*val[:20], *np.full(20, 0.52)]
    fig = loss_figure(result, sinlog.dataset, sinlog.spec)
    assert not [t for t in fig.legends[0].get_texts() if t.get_text().startswith("best epoch")]


def test_shared_splits_draw_one_curve_named_for_all_three(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    assert xor.dataset.shared_splits
    fig = loss_figure(xor.record, xor.dataset, xor.spec)
    for ax in fig.axes:
        assert len(ax.get_lines()) == 1
    texts = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    texts |= {
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    }
    assert texts == {"val (= train = test rows)"}


def test_a_gates_surface_says_its_test_rows_are_its_training_rows(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    data, predict = xor.dataset, xor.model_outputs
    surf = surfaces.surface_for(data, predict)
    points = surface_points(data, predict)
    title = decision_surface_figure(surf, points, data, xor.record, xor.spec).axes[0].get_title()
    assert "decision surface (train = val = test) · test acc 1.000" in title
    apart = dataclasses.replace(data, shared_splits=False)
    title = decision_surface_figure(surf, points, apart, xor.record, xor.spec).axes[0].get_title()
    assert "decision surface · test acc" in title and "train = val" not in title


# --- legends hide no data -------------------------------------------------------------------------
def _legend_boxes(fig):
    fig.canvas.draw()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert legends
    return [leg.get_window_extent() for leg in legends]


def test_the_perceptrons_legend_hides_no_point(tmp_path_factory):
    linear = trained(tmp_path_factory, "xor_linear", **{**XOR_NN, "model": "linear", "epoch": 200})
    data, predict = linear.dataset, linear.model_outputs
    surf = surfaces.surface_for(data, predict)
    fig = decision_surface_figure(
        surf, surface_points(data, predict), data, linear.record, linear.spec
    )
    ax = fig.axes[0]
    boxes = _legend_boxes(fig)
    for x, y in ax.transData.transform(surfaces.all_raw_points(data)):
        for box in boxes:
            assert not box.contains(x, y), (x, y)


def test_the_perceptrons_flat_loss_and_constant_surface_are_drawn_flat(tmp_path_factory):
    """At ln 2 the loss varies by 1e-7 and P(1) is 0.5 to float noise: the loss is drawn
    flat (not stretched over the axis), and the surface has no 0.5 boundary."""
    linear = trained(tmp_path_factory, "xor_linear", **{**XOR_NN, "model": "linear", "epoch": 200})
    flat = (np.log(2) + np.arange(200) * 1e-9).tolist()
    noisy = {**linear.record, "train_losses": flat, "val_losses": flat}
    ax = loss_figure(noisy, linear.dataset, linear.spec).axes[0]
    y0, y1 = ax.get_ylim()
    assert y0 < 0.67 and y1 > 0.72  # about ln 2 +- 5%

    def noise(X):  # logits of float noise that cross 0: P(1) = 0.5 +- 4e-8
        return (np.asarray(X)[:, :1] - 0.5) * 1e-7

    surf = surfaces.surface_for(linear.dataset, noise)
    points = surface_points(linear.dataset, noise)
    fig = decision_surface_figure(surf, points, linear.dataset, linear.record, linear.spec)
    assert not [c for c in fig.axes[0].collections if type(c).__name__ == "QuadContourSet"]


def test_loss_legends_hide_no_curve(sinlog):
    fig = loss_figure(SINLOG_LIKE, sinlog.dataset, sinlog.spec)
    boxes = _legend_boxes(fig)
    for ax in fig.axes:
        for line in ax.get_lines():
            for x, y in ax.transData.transform(line.get_xydata()):
                assert not any(box.contains(x, y) for box in boxes)


# --- boundary_evolution: frames where the boundary moves, and a colour bar ------------------------
def test_snapshot_grid_shows_the_steps_where_the_surface_changes(tmp_path_factory):
    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=30)
    for step in range(0, 1000, 10):  # the boundary moves over the first 200 steps, then stays
        shift = min(step, 200) / 100.0 - 1.0

        def predict(X, shift=shift):
            return 4.0 * (X[:, :1] - shift)

        rec.capture(step, predict)
    fig = grid_figure(rec)
    steps = [int(ax.get_title().split()[1]) for ax in fig.axes if ax.get_title()]
    assert len(steps) == 12 and steps[0] == 0 and steps[-1] == 990
    assert sum(s <= 200 for s in steps) >= 9, steps
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "P(1)" in labels  # the colour bar


# --- many classes ---------------------------------------------------------------------------------
def test_ten_thousand_classes_take_little_memory_and_say_what_is_drawn(tmp_path):
    """Drawn in a process of its own, whose peak memory (imports included, about 230 MB;
    VmHWM: getrusage's keeps the forking worker's across exec) is its own: a confusion
    matrix of 10,000 x 10,000 cells would be 800 MB. (Measured by tracemalloc in this
    process, the drawing took a minute.)"""
    script = f"""
import resource
import numpy as np
from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots.run_plots import draw_run_plots

n_classes, rng = 10_000, np.random.default_rng(0)

def split(n):
    return rng.normal(size=(n, 2)), rng.integers(0, n_classes, n)

(Xa, ya), (Xb, yb), (Xc, yc) = split(300), split(100), split(400)
names = [f"c{{i}}" for i in range(n_classes)]
data = Dataset("many", "multiclass", Xa, ya, Xb, yb, Xc, yc, ["x1", "x2"], ["y"], names)
W = rng.normal(size=(2, n_classes))
spec = ModelSpec(2, n_classes, 0, 0, "relu", task="multiclass")
record = {{"train_losses": [9.0, 8.0], "val_losses": [9.1, 8.2], "val_epochs": [1, 2]}}
print(draw_run_plots({str(tmp_path)!r}, record, data, lambda X: X @ W, spec, fmt="svg"))
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    names_written, peak = proc.stdout.splitlines()
    assert names_written == "['loss.svg', 'surface.svg', 'confusion.svg']"
    assert int(peak) < 400e6, f"{int(peak) / 1e6:.0f} MB"
    text = (tmp_path / "confusion.svg").read_text()
    assert "of 10000 classes" in text


def test_a_titles_r2_stays_short_for_a_model_far_worse_than_the_mean():
    from mlplab.plots.run_plots import metric_text

    assert metric_text({"test_mae": 0.5, "test_r2": 0.93456}, "regression") == (
        "test MAE 0.5, R² 0.935"
    )
    text = metric_text({"test_mae": 3.9e27, "test_r2": -1.4e52}, "regression")
    assert text == "test MAE 3.9e+27, R² -1.4e+52"


def test_a_diverged_runs_pictures_say_it_diverged_and_which_model_they_show(tmp_path):
    from mlplab.plots.commands import redraw_run
    from mlplab.restore import load_run

    res = mlplab.train(
        data="moons", n_samples=200, n_layer=1, hid_dim=4, lr=1e6, epoch=20, log_every=0,
        log_path=str(tmp_path), verbose=False,
    )  # fmt: skip
    assert res.status == "diverged" and res.record["best_epoch"]
    # The run itself draws the loss plot (its weights now are not finite: no other picture).
    assert res.record["plot_files"] == ["loss.png"]
    assert sorted(p.name for p in (res.run_dir / "plots").iterdir()) == ["loss.png"]
    run = load_run(res.run_dir)
    data = run.dataset
    expected = f"diverged; best model (epoch {res.record['best_epoch']})"
    titles = {
        "loss": loss_figure(run.record, data)._suptitle.get_text(),
        "confusion": confusion_figure(confusion_of_test(data, run.model_outputs), data, run.record)
        .axes[0]
        .get_title(),
    }
    for name, title in titles.items():
        assert expected in title and "n/a" not in title, name
    _, names = redraw_run(res.run_dir, load_run)  # mlplab plot RUN_DIR draws them all
    assert {"loss.png", "surface.png", "confusion.png"} <= set(names)


@pytest.mark.parametrize(
    "names",
    [
        ["Iris-setosa-long-name", "Iris-versicolor-long-name", "Iris-virginica-long-name"],
        [str(d) for d in range(10)],
        # Two names of 24 characters once cut: 2 x 24 was within a 48-character budget
        # that left out the width the long y tick labels take from the axes.
        [
            "confirmed_type_2_diabetes_mellitus_with_complications",
            "no_evidence_of_metabolic_disease_on_screening",
        ],
    ],
    ids=["long", "digits", "binary"],
)
def test_confusion_class_names_never_run_into_each_other(names):
    """Long names turn; short ones (ten digits) stay upright; none overlaps another."""
    from mlplab.plots.inputs import Confusion, DataInfo
    from mlplab.plots.run_plots import confusion_figure

    k = len(names)
    counts = np.diag(np.full(k, 5, dtype=np.int64))
    task = "binary" if k == 2 else "multiclass"
    data = DataInfo("flowers", task, ["a", "b"], ["y"], names)
    fig = confusion_figure(Confusion(counts, np.arange(k), k, 5 * k), data, {"test_acc": 1.0})
    fig.canvas.draw()
    labels = fig.axes[0].get_xticklabels()
    assert [t.get_text() for t in labels] == short_labels(names)  # past 24 characters, cut
    if k != 10:  # upright, these would overlap: they are turned
        assert {t.get_rotation() for t in labels} == {45.0}
        for t in labels:
            t.set_rotation(0)
        fig.canvas.draw()
        boxes = [t.get_window_extent() for t in labels]
        assert any(a.overlaps(b) for a, b in itertools.pairwise(boxes))
    else:
        assert {t.get_rotation() for t in labels} == {0.0}
        boxes = [t.get_window_extent() for t in labels]
        assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes))


@pytest.mark.parametrize("names", [["0", "1"], ["recovered in full", "relapsed" * 3]])
def test_a_best_models_confusion_title_stays_inside_its_figure(names):
    """`mlplab plot RUN --checkpoint best` drew 'ighdim.csv · mlp 300-100-1 relu · best
    model (epoch 1), test acc 0.733': a line wrapped to the figure's width, centred on an
    axes that the tick labels and the colour bar had pushed off the figure's centre."""
    from mlplab.plots.inputs import Confusion, DataInfo
    from mlplab.plots.titles import DRAWN_CHECKPOINT

    spec = ModelSpec(300, 1, 1, 100, "relu", task="binary")
    data = DataInfo("highdim.csv", "binary", [f"g{i}" for i in range(300)], ["y"], names)
    record = {"test_acc": 0.733, DRAWN_CHECKPOINT: "best", "best_epoch": 1}
    counts = np.array([[25, 9], [7, 19]])
    fig = confusion_figure(Confusion(counts, np.arange(2), 2, 60), data, record, spec)
    title = fig.axes[0].title
    assert title.get_text().startswith("highdim.csv · mlp 300-100-1 relu · best model")
    assert _inside_figure(fig, title), title.get_window_extent()


def test_two_long_feature_names_that_differ_in_the_middle_label_their_axes_apart() -> None:
    """'length measured in the morning in the field (mm)' and '... evening ...' were cut
    one by one to the same text, on both axes of a surface."""
    from mlplab.plots.labels import AXIS_CHARS, plane_names

    names = [
        f"length of the left sepal measured in the {t} in the field (mm)"
        for t in ("morning", "evening")
    ]
    x, y = plane_names(types.SimpleNamespace(feature_names=names))
    assert x != y and max(len(x), len(y)) <= AXIS_CHARS


def test_long_column_and_class_names_stay_inside_every_picture(tmp_path):
    """Columns named as sentences and classes of a few words ran past the figure's edges
    and pushed the title off: they are shortened around '…', keeping both ends."""
    import pandas as pd

    from mlplab.plots.run_plots import run_figures
    from mlplab.restore import load_run

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    end = "that describes the outcome of the visit in detail"
    y = np.where(X[:, 0] > 0.3, f"recovered {end}", np.where(X[:, 1] > 0, f"relapsed {end}", "no"))
    first, second = "first measured feature, with a long name (units)", "second feature (mm)"
    pd.DataFrame({first: X[:, 0], second: X[:, 1], "label": y}).to_csv(
        tmp_path / "l.csv", index=False
    )
    res = mlplab.train(
        data=str(tmp_path / "l.csv"), hid_dim=4, epoch=5, log_every=0,
        log_path=str(tmp_path / "runs"), verbose=False, plots="none",
    )  # fmt: skip
    run = load_run(res.run_dir)
    figures = run_figures(run.record, run.dataset, run.model_outputs, run.spec, run.weights)
    assert {"surface", "confusion", "network"} <= set(figures)
    for name, draw in figures.items():
        fig = draw()
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        for ax in fig.axes:  # every label drawn, ticks in view, texts and title
            box = ax.get_tightbbox()
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, name
        ticks = {
            t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()
        }
        if name in ("surface", "confusion"):  # each class told by its start and its end
            for start in ("recovered", "relapsed"):
                (shown,) = [t for t in ticks if t.startswith(start)]
                assert len(shown) <= 24 and "…" in shown and shown.endswith("in detail"[-6:])
    surface = figures["surface"]().axes[0]
    assert surface.get_xlabel() == "first measured feature, wi… name (units)"
    assert surface.get_ylabel() == second  # short names stay whole


def test_many_mistakes_get_a_dark_rim_and_keep_their_true_colour(tmp_path_factory):
    """Crosses over hundreds of mistakes hid the points' classes: with many points each
    mistake is its point, in its true class's colour, with a rim. The logic gates keep
    their large crosses (the perceptron test above). The rim is near-black: a red one
    vanished on orange points and was red on green to the red-green colour blind."""
    from plots_testlib import RING

    from mlplab.plots.style import WRONG, class_colors

    ring = trained(tmp_path_factory, "ring_linear_rim", **{**RING, "model": "linear", "epoch": 5})
    data, predict = ring.dataset, ring.model_outputs
    points = surface_points(data, predict)
    surf = surfaces.surface_for(data, predict)
    fig = decision_surface_figure(surf, points, data, ring.record, ring.spec)
    ax = fig.axes[0]
    assert len(points[0].X) > 200 and ring.record["test_acc"] < 0.9
    rims = [c for c in ax.collections if len(c.get_edgecolors()) and c.get_offsets().size]
    rims = [c for c in rims if np.allclose(c.get_edgecolors()[0][:3], matplotlib_rgb(WRONG))]
    n_wrong = sum(len(c.get_offsets()) for c in rims)
    assert n_wrong == sum(int((p.pred != p.y.ravel()).sum()) for p in points) > 0
    colours = {tuple(np.round(f[:3], 3)) for c in rims for f in c.get_facecolors()}
    assert colours <= {tuple(np.round(matplotlib_rgb(c), 3)) for c in class_colors(3)}
    assert "misclassified" in [t.get_text().split(":")[0] for t in fig.legends[0].get_texts()]
    assert max(matplotlib_rgb(WRONG)) < 0.1  # dark, away from every class colour


def matplotlib_rgb(colour):
    from matplotlib.colors import to_rgb

    return np.asarray(to_rgb(colour))


def test_the_first_class_colours_stay_apart_for_red_green_colour_blind_readers() -> None:
    """tab10's orange and green, the ring's and iris' 2nd and 3rd classes, came 0.10 apart
    (in sRGB, of at most 1.7) for a protanope: one colour to them."""
    import itertools

    from matplotlib.colors import to_rgb

    from mlplab.plots.style import class_colors

    # Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
    seen_by = {
        "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]],
        "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]],
    }  # fmt: skip

    def simulated(color: str, matrix) -> np.ndarray:
        c = np.array(to_rgb(color))
        linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        out = np.clip(np.asarray(matrix) @ linear, 0, 1)
        return np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)

    for matrix in seen_by.values():
        pairs = itertools.combinations(class_colors(3), 2)
        assert (
            min(np.linalg.norm(simulated(a, matrix) - simulated(b, matrix)) for a, b in pairs) > 0.3
        )


def test_pred_vs_true_points_and_their_legend_read_on_a_projector():
    """2000 train and 1000 test points were 4 pt² dots (a pixel on a projector) in
    tab10's blue and green, which ran together; their legend markers as small. Points
    are at least 4 pt across, larger when few; the splits differ in colour (far apart
    in RGB) and marker; legend markers are 8 pt across and opaque."""
    from matplotlib.colors import to_rgb

    from mlplab.plots.inputs import DataInfo, PointSet
    from mlplab.plots.run_plots import pred_vs_true_figure

    info = DataInfo("sinlog", "regression", ["x1", "x2"], ["y"])
    rng = np.random.default_rng(0)

    def split(label: str, n: int, marker: str) -> PointSet:
        y = rng.normal(size=(n, 1))
        return PointSet(
            label, rng.normal(size=(n, 2)), y, y + 0.3 * rng.normal(size=(n, 1)), marker
        )

    sizes = {}
    for n_train, n_test in ((2000, 1000), (40, 20)):
        points = [split("train", n_train, "o"), split("test", n_test, "^")]
        fig = pred_vs_true_figure(points, info, {"test_mae": 0.3, "test_r2": 0.9})
        train, test = fig.axes[0].collections[:2]
        sizes[n_train] = (float(train.get_sizes()[0]), float(test.get_sizes()[0]))
    assert min(sizes[2000]) >= 16.0  # 4 pt across: 6 pixels at 100 dpi
    assert sizes[40][0] > sizes[2000][0] and sizes[40][1] > sizes[2000][1]
    # One size for both splits, of all the points drawn: sized by its own count, 100 test
    # triangles had 7 times the area of 800 train points, over them.
    assert sizes[2000][0] == sizes[2000][1] and sizes[40][0] == sizes[40][1]
    rgb = [np.array(to_rgb(c.get_facecolor()[0])) for c in (train, test)]
    assert np.linalg.norm(rgb[0] - rgb[1]) > 0.6, rgb
    shapes = [c.get_paths()[0].vertices for c in (train, test)]
    assert shapes[0].shape != shapes[1].shape or not np.allclose(*shapes)  # o and ^
    (legend,) = fig.legends
    markers = [h for h in legend.legend_handles if hasattr(h, "get_sizes")]
    assert len(markers) == 2
    for h in markers:
        assert float(h.get_sizes()[0]) >= 64.0 and h.get_alpha() in (None, 1.0)


def test_overflowed_or_broken_logits_keep_the_boundary_where_the_model_is_finite():
    """A logit of +inf on one side and -inf on the other gave NaN margins (inf - inf) and
    no boundary, where the contour of P drew one; one NaN on the grid hid the binary
    boundary everywhere."""
    from mlplab.plots.planes import changes_class
    from mlplab.plots.surfaces import class_margins

    binary = class_margins("binary", np.array([[np.inf], [-np.inf], [0.5]]))
    assert np.isfinite(binary).all() and list(np.sign(binary[:, 0])) == [1.0, -1.0, 1.0]
    multi = class_margins("multiclass", np.array([[np.inf, 0.0, -np.inf], [0.0, 2.0, 1.0]]))
    assert np.isfinite(multi).all()
    assert list(multi.argmax(axis=1)) == [0, 1] and (multi.max(axis=1) > 0).all()
    p1 = np.array([[np.nan, 0.2], [0.8, 0.9]])
    assert changes_class(p1) and not changes_class(np.full((2, 2), np.nan))
    assert not changes_class(np.array([[0.2, 0.3], [0.1, 0.4]]))


# --- the network diagram: every word clear of every other ---------------------------------------
def _network(spec: ModelSpec, features: list[str], outputs: list[str], seed: int = 0):
    from mlplab.plots.network import network_figure

    rng = np.random.default_rng(seed)
    state = {k: rng.normal(size=s) for k, s in spec.param_shapes().items()}
    return network_figure(state, spec, features, outputs)


def _boxes(fig) -> dict[str, list]:
    """Window extents of the diagram's words and keys: node and layer names, the title,
    the edges' legend and the bias bar (with its label and ticks)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax, cax = fig.axes
    return {
        "texts": [t.get_window_extent(renderer) for t in ax.texts],
        "keys": [
            ax.title.get_window_extent(renderer),
            fig.legends[0].get_window_extent(renderer),
            cax.get_tightbbox(renderer),
        ],
    }


NETWORKS = [
    (ModelSpec(2, 1, 0, 2, "relu", task="binary"), ["x1", "x2"], ["P(1)"]),
    (ModelSpec(2, 1, 1, 2, "sigmoid", task="binary"), ["x1", "x2"], ["P(1)"]),
    (ModelSpec(2, 3, 3, 8, "tanh", task="multiclass"), ["x1", "x2"], ["a", "b", "c"]),
    (
        ModelSpec(8, 8, 1, 8, "relu", task="multiclass"),
        [f"feature_{i}" for i in range(8)],
        [f"class_{i}" for i in range(8)],
    ),
    (  # ten classes that read alike cut at their default place (category_0…label)
        ModelSpec(2, 10, 2, 10, "relu", task="multiclass"),
        ["a", "b"],
        [f"category_{i:02d}_{'longish_label' if i % 3 == 0 else 'x'}" for i in range(10)],
    ),
]


@pytest.mark.parametrize("spec, features, outputs", NETWORKS)
def test_network_words_and_keys_are_clear_of_each_other_and_inside(spec, features, outputs):
    fig = _network(spec, features, outputs)
    boxes = _boxes(fig)
    every = boxes["texts"] + boxes["keys"]
    for a, b in itertools.combinations(every, 2):
        assert not a.overlaps(b), (a, b)
    whole = fig.bbox
    for box in every:
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1, (box, whole)
        assert whole.y0 <= box.y0 and box.y1 <= whole.y1, (box, whole)


def test_names_that_read_alike_when_cut_are_cut_where_they_differ():
    """Ten classes category_00_longish_label ... all read category_0…label at a node's 16
    characters, so all were drawn whole, past the diagram's edge."""
    names = [f"category_{i:02d}_longish_label" for i in range(10)]
    short = short_labels(names, 16)
    assert short[3] == "category_03…abel" and len(set(short)) == 10
    assert all(len(n) <= 16 for n in short)
    # Names that differ only in the middle keep a stretch of it, between two '…'.
    names = [f"experimental_condition_{w}_at_baseline" for w in ("alpha", "beta", "gamma")]
    short = short_labels(names, 16)
    assert len(set(short)) == 3 and all(len(n) <= 16 and n.count("…") == 2 for n in short)
    assert all(w[:4] in n for w, n in zip(("alpha", "beta", "gamma"), short, strict=True))
    assert short_labels(["short", "names"], 16) == ["short", "names"]


def test_the_bias_fill_has_a_colour_bar_of_the_fills_drawn():
    """The nodes' fill had no scale: 'node fill: bias' in the title said what, not how
    much. The bar spans the largest |bias| (or 1), coloured as the nodes are."""
    from matplotlib.collections import PathCollection, QuadMesh

    from mlplab.plots.network import network_figure

    spec = ModelSpec(2, 1, 1, 3, "tanh", task="binary")
    state = {
        "hidden.0.linear.weight": np.ones((3, 2)),
        "hidden.0.linear.bias": np.array([-2.5, 0.0, 1.0]),
        "out.weight": np.ones((1, 3)),
        "out.bias": np.array([2.5]),
    }
    fig = network_figure(state, spec, ["x1", "x2"], ["P(1)"])
    ax, cax = fig.axes
    assert "bias" not in ax.get_title() and cax.get_xlabel() == "node fill: bias"
    (bar,) = [c for c in cax.collections if isinstance(c, QuadMesh)]
    assert (bar.norm.vmin, bar.norm.vmax) == (-2.5, 2.5)
    hidden = [c for c in ax.collections if isinstance(c, PathCollection)][1]
    for b, fill in zip([-2.5, 1.0], hidden.get_facecolors()[[0, 2]]):
        np.testing.assert_allclose(bar.get_cmap()(bar.norm(b)), fill, atol=0.02)


def test_a_narrow_diagrams_title_wraps_only_where_it_must():
    """A 5-inch diagram wrapped its title at 42 characters (a count safe for wide ones),
    halfway across; lines are measured now, each at most the figure's width."""
    from mlplab.plots.network import wrap_title

    fig = _network(*NETWORKS[0])  # the perceptron: the narrowest diagram
    width = fig.get_size_inches()[0]
    line = "step 0, w: weight, d: dcost/dw; linear 2-1: 3 parameters"  # 56 characters
    assert wrap_title(line, width) == line
    long = " ".join(["w and d on the edges hidden 2 → output only"] * 3)
    wrapped = wrap_title(long, width).split("\n")
    assert len(wrapped) > 1 and " ".join(wrapped) == long
    fig.axes[0].set_title(wrap_title(long, width))
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1


def test_regression_3d_fills_its_figure_and_its_titles_stay_apart(sinlog):
    """The three boxes sat in a grid with a colour bar taken from it: a third of the
    rows and a quarter of the columns were blank. A surface cut off at the data's range
    has a two-line title, clear of the figure's."""
    data, predict = sinlog.dataset, sinlog.model_outputs
    surf = surfaces.surface_for(data, predict)
    surf.values = surf.values * 3  # past the data's range: cut off, said in its title
    fig = regression_3d_figure(surf, split_points(data, predict), data, sinlog.record, sinlog.spec)
    fig.canvas.draw()
    ink = (np.asarray(fig.canvas.buffer_rgba())[..., :3] < 245).any(axis=-1)
    blank_rows, blank_cols = 1 - ink.any(axis=1).mean(), 1 - ink.any(axis=0).mean()
    assert blank_rows < 0.2 and blank_cols < 0.22, (blank_rows, blank_cols)
    (head,) = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    titles = [head] + [ax.title for ax in fig.axes if ax.name == "3d"]
    assert "cut off" in titles[-1].get_text()
    boxes = [t.get_window_extent() for t in titles]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    assert all(_inside_figure(fig, t) for t in titles)


def test_regression_3d_panels_share_the_surfaces_plane(sinlog):
    """The test points' panels scaled to the test rows, the surface's to its grid: side by
    side, the same x read differently in each box."""
    data, predict = sinlog.dataset, sinlog.model_outputs
    surf = surfaces.surface_for(data, predict)
    fig = regression_3d_figure(surf, split_points(data, predict), data, sinlog.record, sinlog.spec)
    left, right, bottom, top = surf.grid.extent
    for ax in [ax for ax in fig.axes if ax.name == "3d"]:
        assert ax.get_xlim() == pytest.approx((left, right))
        assert ax.get_ylim() == pytest.approx((bottom, top))


def test_train_and_val_curves_differ_by_more_than_colour() -> None:
    """In greyscale print blue and orange are two greys of one line: val is dashed."""
    from mlplab.plots.inputs import DataInfo

    regression = DataInfo("sinlog", "regression", ["x1", "x2"], ["y"])
    mse = np.geomspace(10.0, 1.2, 50)
    result = {"epoch": 50, "val_epochs": list(range(1, 51)), "val_losses": mse.tolist()}
    result |= {"train_losses": (0.9 * mse).tolist(), "val_maes": np.sqrt(mse).tolist()}
    result |= {"train_maes": np.sqrt(0.9 * mse).tolist()}
    fig = loss_figure(result, regression)
    for ax in fig.axes:
        styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
        assert styles.keys() >= {"train", "val"}, styles
        assert styles["train"] != styles["val"], styles


# --- the user's words, as written -------------------------------------------------------------
# matplotlib reads text between two `$` as mathtext: prices lost their `$` to italics, and a
# model name `$\foo{$` failed every picture that named it.
MONEY_CLASSES = ["$5", "$10", "$20 to $50"]
MONEY_FEATURES = ["price ($)", "cost $ and $ tax"]


def _money_file(path, seed: int) -> str:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(90, 2))
    y = np.digitize(X[:, 0], [-0.4, 0.4])
    rows = [f"{a:.3f},{b:.3f},{MONEY_CLASSES[c]}" for (a, b), c in zip(X, y, strict=True)]
    path.write_text(",".join([*MONEY_FEATURES, "price class"]) + "\n" + "\n".join(rows) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def money_runs(tmp_path_factory):
    """Two runs on two files of prices (swept data), each with a model name holding `$`."""
    root = tmp_path_factory.mktemp("money")
    runs = []
    for seed, part in enumerate(["a", "b"]):
        run = mlplab.train(
            data=_money_file(root / f"$5 to $10 {part}.csv", seed),
            model_name=f"$\\foo{{$ {part}",
            hid_dim=4, act="tanh", optim="adam", lr=0.05, epoch=20, seed=seed, plots="svg",
            engine="numpy", log_every=0, verbose=False, log_path=str(root / "runs"),
            exp_name="money",
        )  # fmt: skip
        runs.append(run)
    return root / "runs", runs


def _svg_texts(svg: bytes | str) -> list[str]:
    """The words an SVG shows, one per ``<text>``: a name read as mathtext is drawn glyph by
    glyph, in pieces. (The comment matplotlib writes beside each text, holding the string
    as given, is left out.)"""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def test_dollars_in_names_labels_and_columns_are_drawn_as_written(money_runs):
    _, runs = money_runs
    for run in runs:
        names = run.record["plot_files"]
        assert names == ["loss.svg", "surface.svg", "confusion.svg", "network.svg", "units.svg"]
        texts = {n: _svg_texts((run.run_dir / "plots" / n).read_bytes()) for n in names}
        model = run.record["model_name"]
        head = f"$5 to $10 {model[-1]}.csv · {model}"  # data file · model name
        for name, words in texts.items():  # the diagram's title names the model alone
            said = model if name == "network.svg" else head
            assert any(w.startswith(said) for w in words), (name, words)
        assert set(MONEY_CLASSES) <= set(texts["confusion.svg"])
        assert {*MONEY_CLASSES, *MONEY_FEATURES} <= set(texts["surface.svg"])
        assert set(MONEY_FEATURES) <= set(texts["network.svg"])
        assert all(any(f in w for w in texts["units.svg"]) for f in MONEY_FEATURES)


def test_a_report_over_runs_with_dollars_in_their_data_names_draws_them_as_written(
    money_runs, monkeypatch
):
    import io

    import matplotlib as mpl

    import mlplab.reports.plots as report_figures

    log, runs = money_runs
    drawn: list[list[str]] = []
    to_png = report_figures.to_png

    def to_png_and_svg(fig):
        png = to_png(fig)
        buf = io.BytesIO()
        with mpl.rc_context({"svg.fonttype": "none"}):  # text as text, to read back
            fig.savefig(buf, format="svg")
        drawn.append(_svg_texts(buf.getvalue()))
        return png

    monkeypatch.setattr(report_figures, "to_png", to_png_and_svg)
    mlplab.report(log, out=log.parent / "page", verbose=False)
    assert len(drawn) >= 3  # bars, curves, metric against the swept data
    from mlplab.errors import shorten

    # As drawn: a long path cut in its middle (LABEL_CHARS), its `$`s as written.
    data_names = [shorten(str(run.record["data"]), report_figures.LABEL_CHARS) for run in runs]
    assert len(set(data_names)) == 2 and all("$10" in n for n in data_names), data_names
    for words in drawn:  # each figure tells the two data files apart, by their names
        for name in data_names:
            assert any(name in w for w in words), (name, words)


def test_a_run_that_diverged_before_its_first_validation_says_so_in_its_loss_plot(tmp_path):
    """A run that diverged at step 5, in its first epoch, drew two empty panels titled
    "diverged", which read as a drawing that failed."""
    import mlplab

    r = mlplab.train(data="sinlog", lr=10, batch_size=10, epoch=5, log_path=str(tmp_path),
                     plots="none", verbose=False)  # fmt: skip
    assert r.status == "diverged" and not r.record["val_epochs"]
    fig = loss_figure(r.record, r.dataset, r.spec)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    steps = r.record["steps"]
    assert len(texts) == 2 and all(f"the run diverged at step {steps}, before" in t for t in texts)


def test_a_capped_confusion_matrix_shows_the_classes_with_errors():
    """50 classes: the 20 most frequent were those the model got right, and the three
    rare classes it missed (recall 0) were nowhere in the picture."""
    from mlplab.plots.inputs import confusion_of_test

    n_classes, rng = 50, np.random.default_rng(0)
    sizes = np.r_[np.full(47, 20), 1, 1, 1]  # classes 47-49 have one test row each
    y = np.repeat(np.arange(n_classes), sizes)
    X = np.eye(n_classes)[y]
    data = Dataset("many", "multiclass", X, y, X, y, X, y, [f"x{i}" for i in range(50)],
                   ["y"], [f"c{i}" for i in range(50)])  # fmt: skip

    def predict(X):  # right everywhere but on the rare classes, taken for class 3
        out = X.copy()
        out[:, 47:] = 0
        out[X[:, 47:].any(axis=1), 3] = 1
        return out + rng.normal(scale=1e-3, size=out.shape)

    confusion = confusion_of_test(data, predict)
    assert confusion.capped and len(confusion.classes) == 20
    assert {3, 47, 48, 49} <= set(confusion.classes.tolist())
    rows = {c: i for i, c in enumerate(confusion.classes.tolist())}
    assert confusion.counts[rows[47], rows[3]] == 1  # missed, and taken for class 3
    fig = confusion_figure(confusion, data, {"test_acc": 0.99}, None)
    assert "the 20 of 50 classes with the most errors" in fig.axes[0].get_title()


def test_a_best_models_long_title_wraps_inside_its_figure(sinlog):
    """`mlplab plot RUN --checkpoint best`: predicted vs true's second title line ran past
    both edges of its 5.5-inch figure, and the test R² was cut off."""
    from mlplab.plots.predictions import pred_vs_true_figure
    from mlplab.plots.titles import DRAWN_CHECKPOINT

    data, predict = sinlog.dataset, sinlog.model_outputs
    record = {**sinlog.record, DRAWN_CHECKPOINT: "best", "best_epoch": 1110,
              "test_mae": 23612.345678, "test_r2": 0.9555}  # fmt: skip
    fig = pred_vs_true_figure(split_points(data, predict), data, record, sinlog.spec)
    (head,) = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    assert "R²" in head.get_text() and _inside_figure(fig, head), head.get_text()
    # A line that fits stays one line.
    assert len(fig.get_suptitle().split("\n")) <= 4


def test_a_long_model_names_loss_title_wraps_clear_of_the_legend(sinlog):
    """A long model_name ran the loss figure's title past both edges (measured at the axes'
    12 pt, drawn at the figure's 13), and under the legend at its right."""
    name = "a very long model name that a student might give to describe the architecture"
    record = {**sinlog.record, "model_name": name}
    fig = loss_figure(record, sinlog.dataset, sinlog.spec)
    (head,) = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    assert _inside_figure(fig, head), head.get_text()
    (legend,) = fig.legends
    assert not head.get_window_extent().overlaps(legend.get_window_extent())
    assert head.get_text().count("\n") >= 2  # the first line wrapped, then the metric
    # A name without spaces (snake_case) is cut where it must be, not left past the edges.
    record["model_name"] = (name + " of many layers and choices").replace(" ", "_")
    fig = loss_figure(record, sinlog.dataset, sinlog.spec)
    (head,) = [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
    assert _inside_figure(fig, head), head.get_text()
    assert not head.get_window_extent().overlaps(fig.legends[0].get_window_extent())
    assert head.get_text().replace("\n", "").count("a_very_long_model_name") == 1


# Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _cielab(linear_rgb: np.ndarray) -> np.ndarray:
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear_rgb @ to_xyz.T / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


@pytest.mark.parametrize("vision", sorted(CVD))
def test_seven_class_colours_stay_apart_to_the_colour_blind(vision: str) -> None:
    """From 4 classes on, class 3's purple was class 0's blue to a protanope (the
    surface's regions of two classes one colour, with no name on them)."""
    from matplotlib.colors import to_rgb

    from mlplab.plots.style import CLASS_COLORS

    srgb = np.array([to_rgb(c) for c in CLASS_COLORS[:7]])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    seen = _cielab(np.clip(linear @ np.array(CVD[vision]).T, 0, 1))
    apart = np.linalg.norm(seen[:, None] - seen[None], axis=-1) + np.eye(7) * 1e9
    assert apart.min() > 12, (vision, np.unravel_index(apart.argmin(), apart.shape))
