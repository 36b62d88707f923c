"""The live views in Jupyter: a run's progress bar and loss curve, a sweep's progress and best run.

:class:`LiveView` is a subscriber to the run's events (:mod:`mlplab.training.events`). It
shows one display in the cell that called :func:`mlplab.train` and redraws it in place
(IPython's ``display_id`` updates, so the notebook keeps one output, not one per update):

- a progress bar over the run's epochs, with the elapsed time, an estimate of the time left
  and the last train loss;
- the train and validation loss curves, drawn as inline SVG on a log axis when the loss
  spans decades, over the whole run's epochs, so the curve grows from left to right.

:class:`SweepView` is the same kind of display for :func:`mlplab.sweep`, fed by the sweep's
progress hook as each run ends (in this process or a worker): runs done of total, the time
so far and left, and the best finished run so far by its validation metric.

Both are a :class:`Display`: redraws are throttled to :data:`UPDATE_EVERY_S`, plus one at
the start and one at the end, so the view costs little next to the training itself; the
SVG is built by hand from the points (no plotting library per redraw). Outside a Jupyter
kernel (a script, a terminal, IPython in a terminal, a sweep worker) :func:`live_view`
gives no subscriber, a sweep shows no view, and nothing changes: IPython is not even
imported.
"""

from __future__ import annotations

import collections
import html
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlplab.training.events import End, Event, Start, Step, Validate

# At most this many redraws a second (a redraw builds a few kB of HTML and sends it).
UPDATE_EVERY_S = 0.25
# Points per curve in a redraw; longer curves are thinned evenly, keeping the last point.
MAX_POINTS = 400
WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 520, 220, 56, 12, 10, 30
COLORS = {"train": "#1f77b4", "val": "#ff7f0e"}
# Labels on the loss axis: a diverging loss spans 30 decades, whose labels would overlap.
MAX_TICKS = 6
# A loss axis spans at least this share of the loss: a flatter loss is drawn flat.
FLAT = 0.01
# The model's surface (2-feature data) is drawn again at most this often: a few thousand
# predictions and a small PNG, each time.
SURFACE_EVERY_S = 1.0


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (ipykernel); False for scripts and terminal IPython.

    IPython is looked up only if something already imported it: a plain script never pays
    for the import.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# A model's picture as HTML, from its predict on model inputs (mlplab.plots.live_surface).
Surface = Callable[[Callable[[np.ndarray], np.ndarray]], str]


def live_view(
    title: str,
    total_epochs: int,
    one_curve: bool,
    verbose: bool,
    elapsed_before: float = 0.0,
    surface: Callable[[], Surface | None] | None = None,
) -> list[LiveView]:
    """The live view subscriber for a run, in a list: empty unless verbose and in Jupyter.
    ``elapsed_before``: seconds a resumed run had trained before (its checkpoint's);
    ``surface`` makes the drawing of the model's surface, where the data has one."""
    if not verbose or not in_jupyter():
        return []
    draw = surface() if surface is not None else None
    return [LiveView(title, total_epochs, one_curve, elapsed_before=elapsed_before, surface=draw)]


class Display:
    """One notebook output, redrawn in place: at most every :data:`UPDATE_EVERY_S`, and
    always when ``force`` (a start, an end). Subclasses give :meth:`bundle`.

    ``show(bundle)`` publishes a MIME bundle (``text/html`` and ``text/plain``): the default
    displays it in Jupyter and updates it in place; tests pass their own. ``clock`` gives the
    time in seconds (``time.monotonic``). A ``show`` that raises warns once and shows no more:
    the view never costs the training.
    """

    def __init__(
        self,
        show: Callable[[dict[str, str]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self._show = show or _jupyter_display()
        self.redraws = 0
        self._t0 = self._last = 0.0
        self._broken = False

    def bundle(self, now: float) -> dict[str, str]:
        raise NotImplementedError

    def _redraw(self, force: bool) -> None:
        if self._broken:
            return
        now = self.clock()
        if not force and now - self._last < UPDATE_EVERY_S:
            return
        self._last = now
        try:
            self._show(self.bundle(now))
        except Exception as err:  # the view never costs the run: it stops showing, once
            self._broken = True
            warnings.warn(
                f"mlplab: the live view stopped ({type(err).__name__}: {err}); training goes on",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        self.redraws += 1


class LiveView(Display):
    """A run's progress and loss curves, shown and updated in one notebook display.

    ``show`` and ``clock`` as :class:`Display`'s. A stack of several models shows the first's
    curves. A resumed run's bar starts at the epoch its Start names, its curves with the
    points it had, and its time counts
    on from ``elapsed_before`` (seconds, default 0), as its result.json's ``wall_time_s``
    does; the time left is estimated from this session's pace alone.
    """

    def __init__(
        self,
        title: str,
        total_epochs: int,
        one_curve: bool = False,
        show: Callable[[dict[str, str]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        elapsed_before: float = 0.0,
        surface: Surface | None = None,
    ) -> None:
        super().__init__(show, clock)
        self.elapsed_before = elapsed_before
        self.surface = surface
        self.surface_html = ""  # the model's surface, as last drawn
        self._surface_at: float | None = None
        self.title = title
        self.total = max(int(total_epochs), 1)
        self.one_curve = one_curve  # train = val (the logic gates): one curve, "loss"
        self.epochs: list[int] = []
        self.train: list[float] = []
        self.val: list[float] = []
        self.epoch = 0
        self.loss: float | None = None
        self.status = "training"
        self._start_epoch = 0

    def __call__(self, event: Event) -> None:
        if self._broken:
            return
        if isinstance(event, Start):
            self._t0 = self.clock()
            self.epoch = self._start_epoch = event.epoch
            if event.epoch and len(event.ids):  # resumed: its curves so far, from its checkpoint
                curves = event.models.curves(int(event.ids[0]))
                self.epochs = [int(e) for e in curves["val_epochs"]]
                self.train = [float(v) for v in curves["train_losses"]]
                self.val = [float(v) for v in curves["val_losses"]]
            self._redraw(force=True)
            return
        if isinstance(event, Step):
            self.epoch = max(self.epoch, event.epoch)
            self.loss = float(event.losses[0])
        elif isinstance(event, Validate):
            self.epoch = max(self.epoch, event.epoch)
            self.epochs.append(event.epoch)
            self.train.append(float(event.train_loss[0]))
            self.val.append(float(event.val_loss[0]))
            self.loss = self.train[-1]
            self._draw_surface(event, force=False)
        elif isinstance(event, End):
            self.epoch = event.epoch
            self.status = event.statuses[0]
            if self.status != "diverged":  # a diverged model's last weights are not finite
                self._draw_surface(event, force=True)
            # Early stopping ends a run "finished" short of its epochs: the bar says why.
            state = event.models.loop_state(int(event.ids[0]), curves=False)
            if self.status == "finished" and state.stopped_early:
                self.status = "stopped early"
        else:
            return
        self._redraw(force=isinstance(event, End))

    def _draw_surface(self, event: Validate | End, force: bool) -> None:
        """Draw the model's surface again, at most every :data:`SURFACE_EVERY_S` (and at
        the end). One that fails warns once and is drawn no more: training goes on."""
        now = self.clock()
        if self.surface is None or not len(event.ids):
            return
        if not force and self._surface_at is not None and now - self._surface_at < SURFACE_EVERY_S:
            return
        self._surface_at = now
        model = int(event.ids[0])
        try:
            self.surface_html = self.surface(lambda X: event.models.predict(model, X))
        except Exception as err:
            self.surface = None
            warnings.warn(
                f"mlplab: the live view's surface stopped ({type(err).__name__}: {err}); "
                "training goes on",
                RuntimeWarning,
                stacklevel=2,
            )

    def fail(self) -> None:
        """Show the run as ``failed``: an exception ended it, and no End came to say so."""
        if not self._broken and self.redraws:  # shown since its Start: else nothing to mend
            self.status = "failed"
            self._redraw(force=True)

    # --- drawing ------------------------------------------------------------------------------
    def bundle(self, now: float) -> dict[str, str]:
        """The view as a MIME bundle: ``text/html`` for Jupyter, ``text/plain`` elsewhere."""
        elapsed = max(now - self._t0, 0.0)  # this session's
        done = min(self.epoch, self.total)
        frac = done / self.total
        info = [f"epoch {done}/{self.total}", f"{self.elapsed_before + elapsed:.1f} s"]
        ran = done - self._start_epoch
        if self.status == "training" and ran > 0 and done < self.total:
            info.append(f"~{elapsed / ran * (self.total - done):.1f} s left")
        if self.loss is not None:
            info.append(f"loss {self.loss:.4g}")
        state = self.status if self.status != "training" else f"{frac:.0%}"
        text = f"mlplab {self.title}: {state}, " + ", ".join(info)
        body = self.svg()
        if self.surface_html:  # the curves and the model's surface side by side
            body = (
                '<div style="display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap">'
                f"{body}{self.surface_html}</div>"
            )
        page = _page(self.title, state, frac, info, self.status, body)
        return {"text/html": page, "text/plain": text}

    def svg(self) -> str:
        """The loss curves over the run's epochs, as an inline SVG ('' before the first point)."""
        if not self.epochs:
            return ""
        curves = {"train": self.train} if self.one_curve else {"train": self.train, "val": self.val}
        x = np.asarray(self.epochs, dtype=np.float64)
        ys = {k: np.asarray(v, dtype=np.float64) for k, v in curves.items()}
        finite = np.concatenate([y[np.isfinite(y)] for y in ys.values()])
        if not len(finite):
            return ""
        lo, hi = float(finite.min()), float(finite.max())
        log = lo > 0 and hi / lo > 10  # a loss that spans decades, as XOR's does
        floor = FLAT * max(abs(lo), abs(hi))
        if not log and hi - lo < floor:
            # A loss flat to 1% is drawn flat: the stuck perceptron's 4e-7 at ln 2 filled
            # the axis, a cliff read as learning.
            mid = (lo + hi) / 2
            lo, hi = mid - floor / 2, mid + floor / 2
        f = np.log10 if log else (lambda a: a)
        flo, fhi = float(f(lo)), float(f(hi))
        if fhi - flo < 1e-12:
            flo, fhi = flo - 0.5, fhi + 0.5
        margin = 0.04 * (fhi - flo)  # the curve clear of the frame
        flo, fhi = flo - margin, fhi + margin
        w, h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

        def px(e: Any) -> Any:  # epochs (a number or an array) to pixels
            return PAD_L + w * np.asarray(e, dtype=np.float64) / self.total

        def py(v: Any) -> Any:  # losses to pixels
            return PAD_T + h * (fhi - f(np.asarray(v, dtype=np.float64))) / (fhi - flo)

        keep = _thin(len(x))
        # Named as an image for screen readers, with its latest numbers.
        latest = ", ".join(f"{name} loss {float(y[-1]):.4g}" for name, y in ys.items() if len(y))
        title = f"loss by epoch, {len(x)} points" + (f"; latest: {latest}" if latest else "")
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" style="background:#fff" role="img" '
            f'aria-label="{title}"><title>{title}</title>',
            f'<rect x="{PAD_L}" y="{PAD_T}" width="{w}" height="{h}" fill="none" stroke="#ccc"/>',
        ]
        for v, label in _ticks(lo, hi, log):
            ty = float(py(v))
            parts.append(
                f'<line x1="{PAD_L - 4}" x2="{PAD_L + w}" y1="{ty:.1f}" y2="{ty:.1f}" '
                f'stroke="#eee"/><text x="{PAD_L - 6}" y="{ty + 4:.1f}" font-size="11" '
                f'text-anchor="end" fill="#444">{label}</text>'
            )
        for e, anchor in ((0, "start"), (self.total // 2, "middle"), (self.total, "end")):
            parts.append(
                f'<text x="{float(px(e)):.1f}" y="{HEIGHT - 14}" font-size="11" '
                f'text-anchor="{anchor}" fill="#444">{e}</text>'
            )
        parts.append(
            f'<text x="{PAD_L + w / 2:.1f}" y="{HEIGHT - 2}" font-size="11" '
            'text-anchor="middle" fill="#444">epoch</text>'
        )
        for i, (name, y) in enumerate(ys.items()):
            ok = keep[np.isfinite(y[keep])]
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x[ok]), py(y[ok])))
            color = COLORS[name]
            label = "loss" if self.one_curve else f"{name} loss"
            parts.append(
                f'<polyline class="curve-{name}" fill="none" stroke="{color}" '
                f'stroke-width="1.8" points="{pts}"/>'
                # The name in dark ink beside a swatch of its colour: orange text on white
                # read at 2.5:1.
                f'<line x1="{PAD_L + w - 78}" x2="{PAD_L + w - 64}" y1="{PAD_T + 10 + 14 * i}" '
                f'y2="{PAD_T + 10 + 14 * i}" stroke="{color}" stroke-width="3"/>'
                f'<text x="{PAD_L + w - 6}" y="{PAD_T + 14 + 14 * i}" font-size="11" '
                f'text-anchor="end" fill="#333">{label}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)


# Scores equal to this many decimals tie, as a report's means do
# (mlplab.reports.aggregate.TIE_DECIMALS, a layer above this one).
TIE_DECIMALS = 10


class SweepView(Display):
    """A sweep's progress in one notebook display: runs done of total, the time so far and
    an estimate of the time left, and the best finished run so far by its validation metric.

    :meth:`done` is given each outcome that the sweep's progress hook sees (``run_id``,
    ``status``, ``metrics``): a stack hands over its runs when it ends, whether it trained
    in this process or in a worker, so the count moves by a stack at a time; :meth:`trained`
    the share of the sweep's epochs trained, stacks in training included, which the bar and
    the time left follow where it is given. ``labels``
    names a run id for the reader (``{"exp-1a2b3c": "lr 0.5, seed 1"}``; default none);
    ``ranking(metrics)`` gives ``(metric, ascending)``, the number that ranks the runs, chosen
    from the first finished run's metrics (default ``("val_loss", True)``: lowest is best);
    ``tie(metrics)`` the same for the number that orders runs equal in it (equal to
    :data:`TIE_DECIMALS` decimals, a run without it last), as a report breaks ties (default
    none: the first such run stays best). ``show`` and ``clock`` as :class:`Display`'s.
    """

    def __init__(
        self,
        total: int,
        labels: Mapping[str, str] | None = None,
        ranking: Callable[[Mapping[str, float]], tuple[str, bool]] | None = None,
        show: Callable[[dict[str, str]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        tie: Callable[[Mapping[str, float]], tuple[str, bool]] | None = None,
    ) -> None:
        super().__init__(show, clock)
        self.total = max(int(total), 1)
        self.labels = dict(labels or {})
        self.ranking = ranking or (lambda metrics: ("val_loss", True))
        self.tie = tie
        self.count = 0
        self.statuses: collections.Counter[str] = collections.Counter()
        self.metric: tuple[str, bool] | None = None
        self._order: list[tuple[str, bool]] = []  # the ranking metric, then the tie's
        self.best: tuple[str, float] | None = None  # run id, its metric
        self._best_key: tuple[float, ...] = ()
        self.status = "running"
        self.fraction: float | None = None  # of the epochs trained, where told

    def trained(self, fraction: float) -> None:
        """``fraction`` of the sweep's epochs are trained (those of ended runs, and of the
        stacks in training): the bar and the time left follow it, not only the runs done."""
        self.fraction = min(max(fraction, 0.0), 1.0)
        self._redraw(force=False)

    def start(self) -> None:
        self._t0 = self.clock()
        self._redraw(force=True)

    def done(self, outcome: Mapping[str, Any]) -> None:
        status = str(outcome.get("status"))
        self.statuses[status] += 1
        if status == "interrupted":
            # The sweep is stopping: the run remains to train, as the summary counts it,
            # and no time is left to estimate.
            self.status = "stopping"
        else:
            self.count += 1
        metrics = outcome.get("metrics") or {}
        # Only finished runs rank: a pruned or interrupted run's numbers are of its last
        # epoch, short of the others', as a report leaves them out of its means.
        if status == "finished" and metrics:
            if self.metric is None:
                self.metric = self.ranking(metrics)
                self._order = [self.metric, *([self.tie(metrics)] if self.tie else [])]
            value = metrics.get(self.metric[0])
            if isinstance(value, int | float) and math.isfinite(value):
                # Lowest is best: each number signed by its order, rounded as a report's
                # means are (the last bits of equal scores must not decide).
                key = tuple(
                    round(v if up else -v, TIE_DECIMALS)
                    if isinstance(v := metrics.get(name), int | float) and math.isfinite(v)
                    else math.inf
                    for name, up in self._order
                )
                if self.best is None or key < self._best_key:
                    self.best, self._best_key = (str(outcome["run_id"]), float(value)), key
        self._redraw(force=False)

    def finish(self) -> None:
        """The last state: ``done`` once every run ended, else ``stopped`` (interrupted)."""
        if self.redraws:  # shown since its start: else nothing to finish
            self.status = "done" if self.count >= self.total else "stopped"
            self._redraw(force=True)

    def bundle(self, now: float) -> dict[str, str]:
        """The view as a MIME bundle: ``text/html`` for Jupyter, ``text/plain`` elsewhere."""
        elapsed = max(now - self._t0, 0.0)
        frac = min(self.count / self.total, 1.0) if self.fraction is None else self.fraction
        info = [f"{self.count}/{self.total} runs", f"{elapsed:.1f} s"]
        if self.status == "running" and 0 < frac < 1:
            info.append(f"~{elapsed / frac * (1 - frac):.1f} s left")
        info += [f"{n} {s}" for s, n in self.statuses.items() if s != "finished"]
        state = self.status if self.status != "running" else f"{frac:.0%}"
        text = f"mlplab sweep: {state}, " + ", ".join(info)
        body = ""
        if self.best is not None and self.metric is not None:
            run_id, value = self.best
            label = self.labels.get(run_id)
            who = f"{label} ({run_id})" if label else run_id
            # A single run, where the report ranks configs by their mean over seeds.
            word = "best run" if self.status == "done" else "best run so far"
            text += f"; {word}: {who}, {self.metric[0]} {value:.4g}"
            body = (
                f"<div>{word}: <b>{html.escape(who)}</b>, "
                f"{html.escape(self.metric[0])} {value:.4g}</div>"
            )
        page = _page("mlplab sweep", state, frac, info, self.status, body)
        return {"text/html": page, "text/plain": text}


def _page(title: str, state: str, frac: float, info: list[str], status: str, body: str) -> str:
    """The view's HTML: the title and state, a bar ``frac`` full with ``info`` beside it,
    then ``body`` (HTML, already escaped). The bar is red for a run that diverged or failed,
    grey for one interrupted or stopped, else green."""
    color = {"diverged": "#d62728", "failed": "#d62728"}.get(status, "#2ca02c")
    if status in ("interrupted", "stopping", "stopped"):
        color = "#999999"
    bar = (
        '<div style="width:320px;height:12px;background:#e6e6e6;border-radius:3px;'
        'overflow:hidden;display:inline-block;vertical-align:middle">'
        f'<div style="width:{100 * frac:.1f}%;height:100%;background:{color}"></div></div>'
    )
    return (
        '<div class="mlplab-live" style="font-family:sans-serif;font-size:13px">'
        f"<div><b>{html.escape(title)}</b> &middot; {html.escape(state)}</div>"
        f'<div style="margin:4px 0">{bar} <span style="margin-left:6px">'
        f"{html.escape(' · '.join(info))}</span></div>"
        f"{body}</div>"
    )


def _thin(n: int) -> np.ndarray:
    """Indices of at most :data:`MAX_POINTS` of ``n`` points, evenly spread, the last kept."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def _ticks(lo: float, hi: float, log: bool) -> list[tuple[float, str]]:
    """A few labelled values on the loss axis: decades on a log axis (every n-th, at most
    :data:`MAX_TICKS`), else min, mid, max."""
    if log:
        first, last = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
        every = max(1, math.ceil((last - first + 1) / MAX_TICKS))
        return [(10.0**d, f"1e{d}") for d in range(first, last + 1, every)]
    if hi == lo:
        return [(lo, f"{lo:.3g}")]
    values = (lo, (lo + hi) / 2, hi)
    # As many digits as tell the three apart: a loss flat at ln 2 read 0.693, 0.693, 0.693.
    for digits in range(3, 10):
        labels = [f"{v:.{digits}g}" for v in values]
        if len(set(labels)) == len(labels):
            break
    return list(zip(values, labels, strict=True))


def _jupyter_display() -> Callable[[dict[str, str]], None]:
    """Show a bundle in the running cell, then update that same output in place."""
    from IPython.display import display

    handle: list[Any] = []

    def show(bundle: dict[str, str]) -> None:
        if not handle:
            handle.append(display(bundle, raw=True, display_id=True))
        else:
            handle[0].update(bundle, raw=True)

    return show
