"""Plots drawn in two layers: a background before training, the model's part at the end.

What must hold: the picture is the same, pixel for pixel, whether a plot is drawn
whole or as a background drawn before training plus a top layer drawn at the end; a
background whose layout no longer fits is never used; and the worker's session writes
the same files as drawing in one go.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from plots_testlib import IRIS, MOONS, RING, SINLOG, XOR_NN, trained

from mlplab.cli import _wants_plot_workers
from mlplab.plots import layered, run_plots, session
from mlplab.plots.inputs import layout_inputs, plot_inputs, plot_stems
from mlplab.plots.style import STYLE
from mlplab.plots.worker import CurveRange, Job
from mlplab.training.loop import History

RUNS = {
    "xor": XOR_NN,
    "xor_linear": {**XOR_NN, "model": "linear", "epoch": 200},  # mistakes: marks and legend
    "moons": MOONS,
    "ring": RING,  # multiclass
    "iris": IRIS,  # no plane: loss and confusion only
    "sinlog": SINLOG,  # regression: the loss plot in layers, the others drawn whole
}


def _header(record: dict) -> dict:
    """The record as it stands before training: settings, no curves, no test metrics."""
    return {
        k: v
        for k, v in record.items()
        if not isinstance(v, list) and not k.startswith(("test_", "train_", "val_"))
    }


def _pixels(fig) -> np.ndarray:
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _progress_of(record: dict, fraction: float) -> dict:
    """The curves' range as the run would send it, ``fraction`` of the way through."""
    n = max(1, int(len(record["val_epochs"]) * fraction))
    metric = "mae" if "train_maes" in record else "acc"
    history = History(
        val_epochs=record["val_epochs"][:n],
        train_losses=record["train_losses"][:n],
        val_losses=record["val_losses"][:n],
        train_metrics=record[f"train_{metric}s"][:n],
        val_metrics=record[f"val_{metric}s"][:n],
    )
    curves = CurveRange(metric)
    curves.add(history)
    return curves.summary()


@pytest.fixture(params=list(RUNS))
def run(request, tmp_path_factory):
    return trained(tmp_path_factory, request.param, **RUNS[request.param])


@pytest.fixture(autouse=True)
def style():
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        yield


def test_background_plus_top_layer_is_the_whole_picture(run):
    final = plot_inputs(run.record, run.dataset, run.backend, run.spec)
    before = layout_inputs(_header(run.record), run.dataset, run.spec, run.backend.state_dict())
    before.result.update(_progress_of(run.record, 0.9))
    drawn = []
    for stem in plot_stems(final):
        whole = run_plots.figure(stem, final)
        whole.canvas.draw()
        plot = run_plots.two_layer_plot(stem, before)
        if plot is None:
            continue
        plot.update(before)
        background = layered.Background(plot)
        plot.update(final)
        assert background.finish(plot), stem  # the layout held: only the top layer drawn
        np.testing.assert_array_equal(_pixels(plot.fig), _pixels(whole), err_msg=stem)
        drawn.append(stem)
    assert "loss" in drawn and ("confusion" in drawn) == (run.dataset.task != "regression")
    if run.dataset.task == "regression":
        assert drawn == ["loss"] and plot_stems(final) == [
            "loss",
            "surface",
            "regression_3d",
            "pred_vs_true",
        ]


def test_a_background_whose_layout_changed_is_not_used(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    final = plot_inputs(xor.record, xor.dataset, xor.backend, xor.spec)
    early = layout_inputs(_header(xor.record), xor.dataset, xor.spec, xor.backend.state_dict())
    early.result.update(_progress_of(xor.record, 0.01))  # the loss has not fallen yet
    plot = run_plots.two_layer_plot("loss", early)
    plot.update(early)
    background = layered.Background(plot)
    assert plot.ax_loss.get_yscale() == "linear"
    plot.update(final)
    assert plot.ax_loss.get_yscale() == "log"
    assert not background.finish(plot)
    layered.draw_whole(plot)
    whole = run_plots.figure("loss", final)
    whole.canvas.draw()
    np.testing.assert_array_equal(_pixels(plot.fig), _pixels(whole))


def test_loss_axes_follow_rules_that_hold_while_training_goes_on(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    losses = np.asarray(xor.record["train_losses"] + xor.record["val_losses"])
    lo, hi = run_plots.curve_limits(losses, log=True)
    assert (lo, hi) == (10.0 ** math.floor(math.log10(losses.min())), 1.0)  # whole decades
    # Points added inside the range change nothing.
    assert run_plots.curve_limits(np.append(losses, losses.mean()), log=True) == (lo, hi)
    lo, hi = run_plots.curve_limits(np.array([0.31, 0.52, 0.69]), log=False)
    assert lo < 0.31 and hi > 0.69 and hi - lo < 1.0
    assert run_plots.curve_limits(np.array([0.31, 0.45, 0.52, 0.69]), log=False) == (lo, hi)
    fig = run_plots.loss_figure(xor.record, xor.dataset, xor.spec)
    ax_loss, ax_metric = fig.axes
    assert ax_loss.get_ylim() == pytest.approx(
        run_plots.curve_limits(losses, log=True)
    )  # the curve is inside
    assert ax_metric.get_ylim() == pytest.approx((-0.03, 1.03))  # accuracy: all of 0..1
    last = xor.record["val_epochs"][-1]
    assert ax_loss.get_xlim() == pytest.approx((-0.03 * last, 1.03 * last))


def test_curve_range_is_each_curves_finite_min_and_max():
    history = History()
    curves = CurveRange("acc")
    for epoch, loss, acc in [(1, 0.7, 0.5), (2, math.nan, 0.5), (3, 0.2, 1.0), (4, 0.4, 0.75)]:
        history.val_epochs.append(epoch)
        history.train_losses.append(loss)
        history.val_losses.append(loss / 2)
        history.train_metrics.append(acc)
        history.val_metrics.append(acc)
        curves.add(history)
    summary = curves.summary()
    assert summary["train_losses"] == [0.2, 0.7]
    assert summary["val_losses"] == [0.1, 0.35]
    assert summary["train_accs"] == summary["val_accs"] == [0.5, 1.0]
    assert summary["val_epochs"] == [1, 4]
    assert CurveRange("mae").summary() == {}


def test_the_workers_session_writes_what_drawing_in_one_go_writes(tmp_path, tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    final = plot_inputs(xor.record, xor.dataset, xor.backend, xor.spec)
    drawing = session.DrawingSession()
    drawing.handle(
        "prep", layout_inputs(_header(xor.record), xor.dataset, xor.spec, xor.backend.state_dict())
    )
    assert not drawing.has_work() or drawing.todo[-1] == "loss"
    while drawing.has_work():
        drawing.draw_one()
    assert drawing.todo == ["loss"]  # it waits for the curves' range
    drawing.handle("progress", _progress_of(xor.record, 0.9))
    while drawing.has_work():
        drawing.draw_one()
    assert sorted(drawing.backgrounds) == ["confusion", "loss", "network", "surface"]
    stems = plot_stems(final)
    written = drawing.write(Job(tmp_path / "session", final, "png", stems), stems)
    assert written == [(s, f"{s}.png") for s in stems]
    run_plots.write_plots(tmp_path / "whole", final, "png")
    for stem in stems:
        a = (tmp_path / "session" / f"{stem}.png").read_bytes()
        assert a == (tmp_path / "whole" / f"{stem}.png").read_bytes(), stem


def test_progress_that_moves_the_loss_axes_redraws_the_loss_background(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    drawing = session.DrawingSession()
    header = _header(xor.record)
    drawing.handle("prep", layout_inputs(header, xor.dataset, xor.spec, xor.backend.state_dict()))
    drawing.handle("progress", _progress_of(xor.record, 0.01))
    while drawing.has_work():
        drawing.draw_one()
    first = drawing.backgrounds["loss"]
    drawing.handle("progress", _progress_of(xor.record, 0.02))  # same range: nothing to do
    assert not drawing.has_work()
    drawing.handle("progress", _progress_of(xor.record, 0.9))  # the loss has fallen: log axis
    assert drawing.todo == ["loss"]
    drawing.draw_one()
    assert drawing.backgrounds["loss"] is not first


@pytest.mark.parametrize(
    "argv, wanted",
    [
        (["train", "examples/xor_nn.yaml"], True),
        (["train", "--data", "xor", "--plots", "svg"], True),
        (["train", "--data", "xor", "--plots", "none"], False),
        (["train", "--data", "xor", "--plots=none"], False),
        (["train", "--help"], False),
        (["train", "--print_config"], False),
        (["sweep", "--data", "xor"], False),
        ([], False),
    ],
)
def test_mlplab_train_starts_its_plot_worker_first_unless_no_plots_are_drawn(argv, wanted):
    assert _wants_plot_workers(argv) == wanted


def test_the_command_lets_idle_blas_threads_sleep_unless_the_user_says_otherwise():
    code = "import os, mlplab.cli as c; c._quiet_idle_blas(); print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "20", out.stderr
    env["OPENBLAS_THREAD_TIMEOUT"] = "28"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "28", out.stderr


def test_a_run_that_stopped_early_is_drawn_over_the_epochs_it_ran(tmp_path_factory):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    n = len(xor.record["val_epochs"]) // 4
    early = {
        **xor.record,
        **{k: v[:n] for k, v in xor.record.items() if isinstance(v, list) and len(v) > n},
        "stopped_early": True,
    }
    last = early["val_epochs"][-1]
    assert last < xor.record["epoch"] / 2
    ax_loss, _ = run_plots.loss_figure(early, xor.dataset, xor.spec).axes
    assert ax_loss.get_xlim() == pytest.approx((-0.03 * last, 1.03 * last))
    ax_loss, _ = run_plots.loss_figure({**early, "stopped_early": False}, xor.dataset).axes
    planned = xor.record["epoch"]
    assert ax_loss.get_xlim() == pytest.approx((-0.03 * planned, 1.03 * planned))
