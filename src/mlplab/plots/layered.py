"""Figures in two layers, so that most of a run's plot is drawn before the run ends.

Most of what a run's plot shows is known before training starts: the axes, their
labels and ticks, the colour bar, the data's points, the network's nodes. Drawing
that text and those ticks is most of matplotlib's time. What the trained model
decides (the curves, the decision surface, the counts, the edge weights, the test
metric in the title) is a small part of the picture and quick to draw.

A :class:`TwoLayerPlot` keeps the two apart:

- its **top layer** is every artist that depends on the model or the curves, and
  every artist drawn on top of one of them (a spine over the heatmap, a legend over
  the curves), so that drawing the top layer last gives the same pixels as drawing
  the whole figure;
- its **layout** is what the rest (the **background**) depends on: the axes limits and
  scales. A plot keeps its layout fixed by rules (decades for a log axis, the planned
  number of epochs), so that it rarely changes as the model trains.

:class:`Background` draws a plot once without its top layer and keeps the pixels. At
the end of the run, :meth:`Background.finish` draws only the top layer over them,
when the layout is still the same; else the figure is drawn whole, as before.
:mod:`mlplab.plots.worker` draws backgrounds while the run trains.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from mlplab.plots.inputs import PlotInputs


class TwoLayerPlot:
    """A plot whose model-dependent artists are set by :meth:`update`.

    Subclasses build the figure and the background's artists in ``__init__``, from
    what is known before training, and fill in the top layer in :meth:`update`.
    """

    fig: Figure

    def update(self, inputs: PlotInputs) -> None:
        """Set every top-layer artist from the model's numbers (and the layout)."""
        raise NotImplementedError

    def top_layer(self) -> list[Artist]:
        """The artists that depend on the model, and those drawn on top of them."""
        raise NotImplementedError

    def layout(self) -> Hashable:
        """What the background depends on, beyond what ``__init__`` fixed."""
        return tuple((ax.get_xlim(), ax.get_ylim(), ax.get_yscale()) for ax in self.fig.axes)


def _canvas(fig: Figure) -> FigureCanvasAgg:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas


def draw_order(fig: Figure, artists: list[Artist]) -> list[Artist]:
    """``artists`` in the order :meth:`Figure.draw` draws them.

    Axes in turn, and in each the children by z-order (ties in the order of
    ``get_children()``, as matplotlib sorts them); then the figure's own artists (its
    suptitle and legends), which are drawn after the axes.
    """
    place: dict[int, tuple[float, float, int]] = {}
    for i, ax in enumerate(fig.axes):
        for j, child in enumerate(ax.get_children()):
            place[id(child)] = (i, child.get_zorder(), j)
    last = len(fig.axes)
    return sorted(artists, key=lambda a: place.get(id(a), (last, a.get_zorder(), 0)))


class Background:
    """The pixels of a plot drawn without its top layer, and the layout they show."""

    def __init__(self, plot: TwoLayerPlot) -> None:
        for artist in plot.top_layer():
            artist.set_animated(True)  # Figure.draw skips animated artists
        canvas = _canvas(plot.fig)
        canvas.draw()
        self.pixels: Any = canvas.copy_from_bbox(plot.fig.bbox)
        self.layout = plot.layout()

    def finish(self, plot: TwoLayerPlot) -> bool:
        """Draw ``plot``'s top layer over the background; False if the layout changed.

        Call after :meth:`TwoLayerPlot.update`. On False nothing is drawn: draw the
        figure whole with :func:`draw_whole`.
        """
        if plot.layout() != self.layout:
            return False
        canvas = _canvas(plot.fig)
        canvas.restore_region(self.pixels)
        for artist in draw_order(plot.fig, plot.top_layer()):
            if artist.get_visible():
                plot.fig.draw_artist(artist)
        return True


def draw_whole(plot: TwoLayerPlot) -> None:
    """Draw the whole figure, top layer included (after a background, or without one)."""
    for artist in plot.top_layer():
        artist.set_animated(False)
    _canvas(plot.fig).draw()
