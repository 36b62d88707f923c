"""The plots of one run, drawn from its record, its data and its trained model.

:func:`draw_run_plots` is what a finished run and ``mlplab plot RUN_DIR`` call. It
writes, into the run's ``plots/``:

- ``loss``: train and validation loss against epoch (log scale when the loss spans
  more than :data:`LOG_SPAN`), next to accuracy or MAE;
- ``surface`` (2-feature data): the decision surface (classification) or the predicted
  surface (regression), with the data on top and mistakes marked;
- ``regression_3d`` (2-feature regression): true and predicted test y as 3-D scatters,
  and the model's surface;
- ``fit`` (1-feature data): y against x with the model's curve, or each class's
  probability along x;
- ``confusion`` (classification) or ``pred_vs_true`` (regression), on the test split;
- ``residuals`` (regression): true - predicted against predicted, on the test split (val
  without one), a panel per target;
- ``network`` when every layer has at most 10 units;
- ``units`` (2-feature data, 1 to 6 hidden layers of at most 10 units): each hidden
  unit's output over the plane, with its ``z = 0`` line;
- ``boundary_evolution`` (GIF and grid) when the run kept snapshots.

Each plot has a ``*_figure`` function that draws it from the numbers it shows (a
surface, points, counts: :mod:`mlplab.plots.inputs`, :mod:`mlplab.plots.surfaces`) and
returns the :class:`~matplotlib.figure.Figure`, so that tests and notebooks can read
the artists (titles, limits, image arrays) behind the files. They live by kind:
:mod:`~mlplab.plots.loss`, :mod:`~mlplab.plots.planes` (2-feature data),
:mod:`~mlplab.plots.predictions` (confusion, predicted vs true, 1-feature fits) and
:mod:`~mlplab.plots.network` and :mod:`~mlplab.plots.units`; this module chooses and writes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots import images, network, surfaces
from mlplab.plots.inputs import MAX_POINTS as MAX_POINTS  # re-exported
from mlplab.plots.inputs import (
    PointSet,
    can_draw_network,
    confusion_of_test,
    fit_curve,
    split_points,
    surface_points,
    test_metrics_by_target,
)
from mlplab.plots.inputs import confusion_counts as confusion_counts  # re-exported
from mlplab.plots.loss import LOG_SPAN as LOG_SPAN  # re-exported
from mlplab.plots.loss import loss_figure as loss_figure  # re-exported
from mlplab.plots.loss import set_log_y as set_log_y  # re-exported
from mlplab.plots.loss import use_log_scale as use_log_scale  # re-exported
from mlplab.plots.planes import decision_surface_figure as decision_surface_figure
from mlplab.plots.planes import regression_3d_figure as regression_3d_figure
from mlplab.plots.planes import regression_surface_figure as regression_surface_figure
from mlplab.plots.predictions import MAX_FIT_CLASSES
from mlplab.plots.predictions import class_fit_figure as class_fit_figure
from mlplab.plots.predictions import confusion_figure as confusion_figure
from mlplab.plots.predictions import fit_figure as fit_figure
from mlplab.plots.predictions import pred_vs_true_figure as pred_vs_true_figure
from mlplab.plots.predictions import residuals_figure as residuals_figure
from mlplab.plots.recorder import STEM as SNAPSHOT_STEM
from mlplab.plots.recorder import SnapshotRecorder
from mlplab.plots.snapshots import write_gif_file, write_grid_file
from mlplab.plots.style import (
    fonts_noted,
    model_label,
    save_figure,
)
from mlplab.plots.surfaces import Predict
from mlplab.plots.titles import DRAWN_CHECKPOINT, best_model_text
from mlplab.plots.titles import metric_text as metric_text  # re-exported
from mlplab.plots.titles import output_names as output_names  # re-exported
from mlplab.plots.units import can_draw_units, units_figure


# --- all of a run's plots -----------------------------------------------------------------------
def run_figures(
    result: dict[str, Any],
    data: Dataset,
    predict: Predict,
    spec: ModelSpec,
    weights: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Callable[[], Figure]]:
    """Every plot of a run, by file stem in the order they are written, not yet drawn.

    Each value draws its figure when called, so that one failing plot leaves the others
    and only one figure is held at a time. The numbers that several plots share (the
    surface, the points) are taken once, on first use.
    """
    cache: dict[str, Any] = {}

    def once(key: str, make: Callable[[], Any]) -> Any:
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def surface() -> Any:
        return once("surface", lambda: surfaces.surface_for(data, predict))

    def points() -> list[PointSet]:
        return once("points", lambda: split_points(data, predict))

    def y_range() -> tuple[float, float] | None:
        """The first target's range over every split (more than the points drawn)."""
        y0 = np.concatenate([data.y_train[:, 0], data.y_val[:, 0], data.y_test[:, 0]])
        return (float(y0.min()), float(y0.max())) if len(y0) else None

    def by_target() -> list[dict[str, float]]:
        return once("by_target", lambda: test_metrics_by_target(data, predict))

    out: dict[str, Callable[[], Figure]] = {"loss": lambda: loss_figure(result, data, spec)}
    if surfaces.is_planar(data):
        if data.task == "regression":
            out["surface"] = lambda: regression_surface_figure(
                surface(), points(), data, result, spec, y_range=y_range(), by_target=by_target()
            )
            out["regression_3d"] = lambda: regression_3d_figure(
                surface(), points(), data, result, spec, y_range=y_range(), by_target=by_target()
            )
        else:
            out["surface"] = lambda: decision_surface_figure(
                surface(), surface_points(data, predict), data, result, spec
            )

    if data.task == "regression" and data.n_features == 1:
        out["fit"] = lambda: fit_figure(
            fit_curve(data, predict), points(), data, result, spec, by_target()
        )
    elif data.n_features == 1 and len(data.class_names or []) <= MAX_FIT_CLASSES:
        out["fit"] = lambda: class_fit_figure(
            fit_curve(data, predict), surface_points(data, predict), data, result, spec
        )
    if data.task == "regression":
        out["pred_vs_true"] = lambda: pred_vs_true_figure(points(), data, result, spec, by_target())
        out["residuals"] = lambda: residuals_figure(points(), data, result, spec, by_target())
    else:
        out["confusion"] = lambda: confusion_figure(
            confusion_of_test(data, predict), data, result, spec
        )
        if images.image_side(data) is not None:  # digits' pixel_R_C: the mistakes, seen
            out["mistakes"] = lambda: images.mistakes_figure(data, predict, result, spec)
    if weights is not None and can_draw_network(spec):
        out["network"] = lambda: network.network_figure(
            dict(weights),
            spec,
            list(data.feature_names),
            output_names(data),
            model_label(result, spec)
            # Its weights are the best model's: said, as the other pictures' titles say it.
            + (f", {best_model_text(result)}" if result.get(DRAWN_CHECKPOINT) == "best" else ""),
            standardized_inputs=bool(result.get("standardized")),
        )
    if weights is not None and can_draw_units(data, spec):
        out["units"] = lambda: units_figure(dict(weights), spec, data, result)
    return out


# The figures drawn from the record and the weights alone, for a run whose data is gone.
WITHOUT_ROWS = ("loss", "network")


@fonts_noted()  # characters no font has: one line for all the plots
def draw_run_plots(
    plots_dir: str | Path,
    result: dict[str, Any],
    data: Dataset,
    predict: Predict,
    spec: ModelSpec,
    weights: Mapping[str, np.ndarray] | None = None,
    fmt: str = "png",
    snapshots: SnapshotRecorder | None = None,
    only: Collection[str] | None = None,
    on_written: Callable[[str], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
) -> list[str]:
    """Draw a finished run's plots into ``plots_dir``, in this process; return the names.

    A plot that fails does not stop the others and raises nothing: it is left out, with
    a :class:`RuntimeWarning` that names it and the error, so that the run keeps its
    record.

    Parameters
    ----------
    plots_dir : path
        Folder to write to (created if missing); files are ``STEM.FMT``.
    result : dict
        The run's record (result.json): curves, test metrics, settings.
    data : Dataset
        The run's data; ``X_*`` are in the model's (possibly standardized) space.
    predict : callable
        The trained model: inputs as the model sees them (like ``data.X_test``), float
        [N, in_dim], to its outputs [N, out_dim] (logits or values), e.g. an engine's
        ``Backend.predict``.
    spec : ModelSpec
        Its architecture.
    weights : dict of ndarray, optional
        Its ``state_dict``, for the network diagram (drawn only for models whose every
        layer has at most 10 units); None draws no diagram.
    fmt : {'png', 'svg'}
    snapshots : SnapshotRecorder, optional
        Frames kept during training (``--snapshot_every``): drawn as
        ``boundary_evolution.gif`` and ``boundary_evolution.FMT`` when it has any.
    only : collection of str, optional
        The figures to draw, by stem (:data:`WITHOUT_ROWS`: those that need no data rows);
        default: every figure that fits the run.
    on_written : callable, optional
        Called with each file's name as it is written (``mlplab plot`` prints it: a run
        with snapshots takes many seconds to draw).
    on_failed : callable, optional
        Called with each file's name that failed, after its warning (``mlplab plot``
        then exits 1).

    Returns
    -------
    list of str
        The files written, relative to ``plots_dir``, e.g. ``['loss.png', 'surface.png',
        ..., 'boundary_evolution.gif', 'boundary_evolution.png']``.
    """
    plots_dir = Path(plots_dir)
    figures = run_figures(result, data, predict, spec, weights)
    if only is not None:
        figures = {stem: draw for stem, draw in figures.items() if stem in only}
    written = write_figures(plots_dir, figures, fmt, on_written, on_failed)
    if snapshots is not None and snapshots.steps:
        drawn = snapshots.for_drawing()
        for name, write in (
            (f"{SNAPSHOT_STEM}.gif", lambda: write_gif_file(drawn, plots_dir)),
            (f"{SNAPSHOT_STEM}.{fmt}", lambda: write_grid_file(drawn, plots_dir, fmt)),
        ):
            try:
                write()
            except Exception as err:
                _warn(name, err, on_failed)
            else:
                written.append(name)
                if on_written is not None:
                    on_written(name)
    return written


@fonts_noted()
def write_figures(
    plots_dir: Path,
    figures: dict[str, Callable[[], Figure]],
    fmt: str = "png",
    on_written: Callable[[str], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
) -> list[str]:
    """Draw and save each figure as ``STEM.FMT``; return the names written.

    A figure that fails is left out with a :class:`RuntimeWarning` naming it: the others,
    and the run's record, are kept. (A diverged run draws ``{"loss": ...}`` alone.)
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    written = []
    for stem, draw in figures.items():
        name = f"{stem}.{fmt}"
        try:
            save_figure(draw(), plots_dir / name, fmt)
        except Exception as err:
            _warn(name, err, on_failed)
        else:
            written.append(name)
            if on_written is not None:
                on_written(name)
    return written


def _warn(name: str, err: Exception, on_failed: Callable[[str], None] | None) -> None:
    warnings.warn(
        f"mlplab: plot {name} failed ({type(err).__name__}: {err}); results are kept",
        RuntimeWarning,
        stacklevel=3,
    )
    if on_failed is not None:
        on_failed(name)
