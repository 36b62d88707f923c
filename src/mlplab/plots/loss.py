"""The loss plot: train and validation loss against epoch (log scale when the loss spans
more than :data:`LOG_SPAN`), next to accuracy or MAE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from mlplab.console import overfit_note
from mlplab.engines.spec import LOSS_OF_TASK, ModelSpec
from mlplab.plots.inputs import (
    curve_indices,
)
from mlplab.plots.style import (
    SERIES,
    new_figure,
    set_suptitle,
    set_title,
    styled,
)
from mlplab.plots.titles import DataLike, metric_text, title_head

LOG_SPAN = 20.0  # draw a curve on a log axis when max/min exceeds this (XOR's loss does)
LOG_LABELS = 12  # labels a run plot's log axis has room for (3.3 inches, 0.28 apart)


def use_log_scale(values: list[float] | np.ndarray) -> bool:
    """Whether positive values span more than :data:`LOG_SPAN` (max/min)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and bool(v.min() > 0) and v.max() / v.min() > LOG_SPAN


def train_loss_epochs(result: dict[str, Any]) -> np.ndarray:
    """The epochs of ``train_losses``: ``val_epochs`` where they align, else 1..n.

    Records sample the train loss at validations, one entry per ``val_epochs``; older
    records kept it every epoch (and had as many val epochs only when validating
    every epoch, where both readings agree).
    """
    n = len(result.get("train_losses") or [])
    val_epochs = result.get("val_epochs") or []
    if n and len(val_epochs) == n:
        return np.asarray(val_epochs, dtype=np.float64)
    return np.arange(1, n + 1, dtype=np.float64)


@styled
def loss_figure(result: dict[str, Any], data: DataLike, spec: ModelSpec | None = None) -> Figure:
    """Train and val loss beside accuracy or MAE (train, val), against epoch.

    Where train, val and test are the same rows (``data.shared_splits``, the logic
    gates), one curve is drawn, named for all three. The legend sits above the panels,
    where it hides no curve.

    Parameters
    ----------
    result : dict
        The run's result.json: ``train_losses`` (at each of ``val_epochs``, or per
        epoch in older records), ``val_epochs``, ``val_losses``, and
        ``train_accs``/``val_accs`` or ``train_maes``/``val_maes``.
    data : Dataset or DataInfo
        Only its name, task and ``shared_splits`` are read.
    """
    task = data.task
    fig = new_figure(10.5, 4.6, layout="constrained")
    ax_loss, ax_metric = axes = fig.subplots(1, 2)
    loss_name = LOSS_OF_TASK.get(task, "loss")
    # The loss is of what the engine trains on: beside an MAE in the target's units, an
    # unmarked MSE of the scaled target (0.2 beside an MAE of 40) read as impossible.
    scaled = task == "regression" and str(result.get("standardize_target")).lower() == "true"
    of = ", standardized target" if scaled else ""
    ax_loss.set(xlabel="epoch", ylabel=f"{loss_name} loss{of}")
    set_title(ax_loss, f"loss ({loss_name}{of})")
    key, name = ("mae", "MAE") if task == "regression" else ("acc", "accuracy")
    n_targets = len(data.target_names) if task == "regression" else 1
    if n_targets > 1:  # the record's MAE is their mean, as each target's panel elsewhere says
        name = f"MAE, mean of {n_targets} targets"
    ax_metric.set(xlabel="epoch", ylabel=name)
    set_title(ax_metric, name)

    val_epochs = np.asarray(result.get("val_epochs") or [], dtype=np.float64)

    def curve(name: str) -> np.ndarray:
        return np.asarray(result.get(name) or [], dtype=np.float64)

    train, val = curve("train_losses"), curve("val_losses")
    m_train, m_val = curve(f"train_{key}s"), curve(f"val_{key}s")
    series = {
        (0, "train"): (train_loss_epochs(result), train),
        (0, "val"): (val_epochs[: len(val)], val),
        (1, "train"): (val_epochs[: len(m_train)], m_train),
        (1, "val"): (val_epochs[: len(m_val)], m_val),
    }
    if data.shared_splits:
        # The same rows: the train curve would lie under the val curve (one step behind
        # it, as the train loss is the epoch's mean before its last update).
        for i in (0, 1):
            kept = (i, "val") if len(series[(i, "val")][1]) else (i, "train")
            series = {k: v for k, v in series.items() if k[0] != i or k == kept}
    # The planned epochs, so that runs of one lab share an x range. A run that ended
    # early (patience, Ctrl-C, divergence) is drawn over the epochs it ran.
    ended_early = bool(result.get("stopped_early")) or result.get("status") in (
        "interrupted",
        "diverged",
    )
    last = 0.0 if ended_early else float(result.get("epoch") or 0)
    if not any(len(y) for _, y in series.values()):
        # A run that diverged (or stopped) before its first validation has no curve: two
        # empty panels titled "diverged" read as a drawing that failed.
        how = {"diverged": "diverged", "interrupted": "was interrupted"}.get(
            str(result.get("status")), "ended"
        )
        steps = result.get("steps")
        at = f" at step {steps}" if isinstance(steps, int) else ""
        for ax in axes:
            ax.text(
                0.5,
                0.5,
                f"the run {how}{at}, before its first\nvalidation: no point to draw"
                + ("\n(--log_every 1 prints each step's loss)" if how == "diverged" else ""),
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="0.3",
            )
    for (i, split), (x, y) in series.items():
        if not len(y):
            continue
        idx = curve_indices(y)
        label = SHARED_LABEL if data.shared_splits else split
        # A lone finite point (a diverged run's one validation) is no line: mark it.
        dot = "o" if np.isfinite(y[idx]).sum() == 1 else ""
        # Val dashed: train and val told apart in greyscale print, not by colour alone.
        ls = "--" if split == "val" and not data.shared_splits else "-"
        axes[i].plot(x[idx], y[idx], color=SERIES[split], lw=1.6, ls=ls, label=label, marker=dot)
        last = max(last, float(x[idx].max()))
    last = last or 1.0
    # Where the best validation loss was: for early stopping, and where the run ended well
    # above it (the overfit note that `mlplab train` prints names that epoch).
    marked = result.get("stopped_early") or overfit_note(data.shared_splits, result) is not None
    best = result.get("best_epoch") if marked else None
    for ax in axes:
        ax.set_xlim(-0.03 * last, 1.03 * last)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs: no 2.5
        if best:
            ax.axvline(best, color="0.5", ls=":", lw=1.2, label=f"best epoch ({best})")
    _set_curve_axis(ax_loss, np.concatenate([train, val]))
    if task == "regression":
        _set_curve_axis(ax_metric, np.concatenate([m_train, m_val]))
    else:
        ax_metric.set_ylim(-0.03, 1.03)  # accuracy: always the whole 0-1 range
    handles, labels = max((ax.get_legend_handles_labels() for ax in axes), key=lambda h: len(h[0]))
    beside = 0.0
    if len(handles) > 1 or (data.shared_splits and handles):
        legend = fig.legend(
            handles, labels, loc="outside upper right", ncols=len(handles), frameon=False
        )
        # At the title's height: the title keeps clear of it on both sides (it is centred).
        beside = legend.get_window_extent().width / fig.dpi
    text = f"{title_head(data, result, spec)}\n{metric_text(result, task)}"
    set_suptitle(fig, text, beside=beside)
    return fig


# The one curve of data whose splits are the same rows: the val curve, taken after each
# epoch. The train curve of those rows is taken during it, one update behind, and differs.
SHARED_LABEL = "val (= train = test rows)"


def curve_limits(values: np.ndarray, log: bool) -> tuple[float, float]:
    """The y range of a curve axis: the curves' own range, with a little room.

    On a log axis the room is a twenty-fifth of the decades spanned on each side, so
    the axis spans only the decades the curves use; on a linear one, round ticks.
    """
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    if not v.size:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if log:
        a, b = np.log10(lo), np.log10(hi)
        pad = 0.04 * max(b - a, 0.5)
        return (float(10.0 ** (a - pad)), float(10.0 ** (b + pad)))
    if hi - lo <= 1e-4 * max(abs(lo), abs(hi)):
        # Flat but for float noise (the perceptron's loss at ln 2 varies by 1e-7): drawn
        # as flat as it is, not stretched over the axis.
        mid = (lo + hi) / 2
        lo, hi = mid - (abs(mid) or 1.0) * 0.05, mid + (abs(mid) or 1.0) * 0.05
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    lo, hi = float(ticks[0]), float(ticks[-1])
    pad = 0.02 * (hi - lo)
    return (lo - pad, hi + pad)


def _set_curve_axis(ax: Axes, values: np.ndarray) -> None:
    log = use_log_scale(values)
    lo, hi = curve_limits(values, log)
    if log:
        set_log_y(ax, decades=np.log10(hi / lo), room=LOG_LABELS, minor=True)
    ax.set_ylim(lo, hi)


def set_log_y(ax: Axes, decades: float = 3.0, room: int = 5, minor: bool = False) -> None:
    """A log y axis labelled ``0.001``, ``0.01``, ... and, where there is ``room`` for
    that many labels over its ``decades``, also at 2 and 5 (or at 3) times each decade.

    Plain numbers read as well as matplotlib's ``10^{-3}`` and need no mathtext. Labels
    at each decade alone left XOR's loss, 0.69 down to 0.00016, three (0.1, 0.01,
    0.001), and neither its plateau at ln 2 nor its last value could be read off.
    ``minor``: unlabelled ticks at every whole multiple of a decade between the labels
    (ticks are most of the drawing time of a report's many small panels, which do without).
    """
    ax.set_yscale("log")
    per_decade = next(
        (subs for subs in ((1.0, 2.0, 5.0), (1.0, 3.0)) if decades * len(subs) <= room), (1.0,)
    )
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=per_decade))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    # Not past ``room`` decades either, where 8 ticks a decade would be a grey comb.
    between = minor and decades <= room
    ax.yaxis.set_minor_locator(
        LogLocator(base=10.0, subs=[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        if between
        else NullLocator()
    )
    ax.yaxis.set_minor_formatter(NullFormatter())
