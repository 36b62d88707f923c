"""What a plot worker draws: backgrounds while the run trains, the model's part at the end.

A :class:`DrawingSession` lives in the plot worker (:mod:`mlplab.plots.worker`). It
gets three kinds of message from the run:

- ``prep``: the plots' inputs before training (:func:`~mlplab.plots.inputs.layout_inputs`).
  The session builds every plot that has two layers (:mod:`mlplab.plots.layered`) and
  draws its background, the loss plot last;
- ``progress``: the range of the curves so far (:class:`~mlplab.plots.worker.CurveRange`). The loss plot's
  axes follow the curves, so its background is drawn, or drawn again, when the range
  it shows changes;
- ``job``: the final inputs and the plots to write. For a plot whose background still
  fits, only the top layer is drawn over it; any other plot is drawn whole.

Messages are handled as they come, between one plot's background and the next, so a
job that arrives early is never kept waiting by backgrounds it no longer needs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib as mpl

from mlplab.plots.inputs import PlotInputs, plot_stems
from mlplab.plots.layered import Background, TwoLayerPlot, draw_whole
from mlplab.plots.run_plots import LossPlot, figure, two_layer_plot
from mlplab.plots.snapshots import GRID_PANELS, write_gif_file, write_grid_file
from mlplab.plots.style import STYLE, encode_png, save_figure
from mlplab.plots.worker import COST, Job


class DrawingSession:
    """The plots of one run, built and partly drawn before the run ends."""

    def __init__(self) -> None:
        mpl.rcParams.update(STYLE)  # type: ignore[arg-type]  # this process draws nothing else
        self.layout: PlotInputs | None = None
        self.progress: dict[str, list[float]] = {}
        self.plots: dict[str, TwoLayerPlot] = {}
        self.backgrounds: dict[str, Background] = {}
        self.todo: list[str] = []  # plots whose background is still to draw

    # --- before the job -------------------------------------------------------------------
    def handle(self, kind: str, payload: Any) -> None:
        """Take a ``prep`` or ``progress`` message."""
        if kind == "prep":
            self.layout = payload
            stems = [s for s in plot_stems(payload) if s != "loss"]
            self.todo = [*stems, "loss"]  # the loss plot last: its range settles as it trains
        elif kind == "progress":
            self.progress = payload
            if "loss" in self.backgrounds and not self._loss_fits():
                del self.backgrounds["loss"]
                self.todo.append("loss")

    def has_work(self) -> bool:
        """Whether a background is waiting to be drawn (and can be, yet)."""
        return any(self._ready(stem) for stem in self.todo)

    def draw_one(self) -> None:
        """Draw the next background that can be drawn."""
        stem = next(s for s in self.todo if self._ready(s))
        self.todo.remove(stem)
        assert self.layout is not None
        plot = self.plots.get(stem) or two_layer_plot(stem, self.layout)
        if plot is None:
            return  # drawn whole at the end
        self.plots[stem] = plot
        if stem == "loss":
            plot.update(self._loss_inputs())
        else:
            plot.update(self.layout)
        self.backgrounds[stem] = Background(plot)

    def _ready(self, stem: str) -> bool:
        # The loss plot's range comes from the curves: wait for the first progress.
        return stem != "loss" or bool(self.progress)

    def _loss_inputs(self) -> PlotInputs:
        assert self.layout is not None
        return replace(self.layout, result={**self.layout.result, **self.progress})

    def _loss_fits(self) -> bool:
        plot = self.plots["loss"]
        assert isinstance(plot, LossPlot)
        plot.update(self._loss_inputs())
        return plot.layout() == self.backgrounds["loss"].layout

    # --- the job --------------------------------------------------------------------------
    def cost(self, stem: str, job: Job) -> float:
        """About how long the job's ``stem`` takes (ms): less with a background."""
        if stem == "snapshots.gif":  # a frame is a top layer over one background
            return 50.0 + 7.0 * len(job.snapshots.frames)
        if stem == "snapshots.grid":  # each panel its own axes
            return 20.0 + 27.0 * min(len(job.snapshots.frames), GRID_PANELS)
        full = COST.get(stem, 50.0)
        return full / 4.0 if stem in self.backgrounds else full

    def write(self, job: Job, stems: list[str]) -> list[tuple[str, str]]:
        """Draw and write the plots ``stems`` of ``job``: (stem, file name) pairs."""
        written = []
        plots_dir = Path(job.plots_dir)
        for stem in stems:
            name = f"{stem}.{job.fmt}"
            path = plots_dir / name
            plot, background = self.plots.get(stem), self.backgrounds.get(stem)
            if stem == "snapshots.gif":
                name = write_gif_file(job.snapshots, plots_dir)
            elif stem == "snapshots.grid":
                name = write_grid_file(job.snapshots, plots_dir, job.fmt)
            elif job.fmt == "png" and plot is not None and background is not None:
                plot.update(job.inputs)
                if not background.finish(plot):  # the layout changed: draw it all
                    draw_whole(plot)
                path.parent.mkdir(parents=True, exist_ok=True)
                encode_png(plot.fig.canvas, path)  # type: ignore[arg-type]
            else:
                save_figure(figure(stem, job.inputs), path, job.fmt)
            written.append((stem, name))
        return written
