"""A small network drawn as nodes and weighted edges, as TensorFlow Playground shows it.

Each unit is a node, each weight an edge whose width grows with ``|w|`` and whose colour
gives its sign (orange positive, blue negative; the Playground's are the other way
round). A node's fill shows its bias the same
way, on the colour bar under the diagram. The colours are the decision surface's: there
orange is class 1, and an output's positive weight or bias pushes toward class 1. (With
the opposite choice, an orange output node labelled P(spam) pushed toward ham, drawn
blue on the surface beside it.) Only models whose every layer has at most
:data:`MAX_UNITS` units are drawn: past that the picture is a grey mesh that says nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mlplab.engines.spec import ModelSpec
from mlplab.plots.inputs import NETWORK_MAX_UNITS, can_draw_network
from mlplab.plots.labels import NODE_CHARS, short_labels
from mlplab.plots.style import (
    BLUE,
    ORANGE,
    model_label,
    new_figure,
    set_title,
    styled,
    wrap_title,
)

MAX_UNITS = NETWORK_MAX_UNITS
CUT = "0.6"  # the grey of an edge whose weight is exactly 0
MIN_WIDTH, MAX_WIDTH = 0.4, 6.0  # edge widths in points, for |w| = 0 and the largest |w|
# The 12 pt title: 0.2 inch a line, and its 8 pt pad above the axes with a little room
# over the top; each line is at most the figure's width (style.wrap_title).
TITLE_LINE, TITLE_PAD = 0.2, 0.17
# The layer names' top, in points under the lowest node's centre: clear of the node (13 pt
# radius) and of a two-line note under it (mlplab backprop's b and d), whatever the scale.
NAME_DROP = 44.0
KEY_ROW = 0.6  # inches under the layer names for the keys: the edges' legend, the bias bar


def can_draw(spec: ModelSpec) -> bool:
    """Whether every layer (input, hidden, output) has at most :data:`MAX_UNITS` units."""
    return can_draw_network(spec)


def layer_params(
    state: dict[str, np.ndarray], spec: ModelSpec
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (weight [out, in], bias [out]) of each linear layer, input to output."""
    names = [f"hidden.{i}.linear" for i in range(spec.n_layer)] + ["out"]
    return [
        (np.asarray(state[f"{n}.weight"], np.float64), np.asarray(state[f"{n}.bias"], np.float64))
        for n in names
    ]


def node_positions(widths: list[int]) -> list[np.ndarray]:
    """(x, y) of every node, one [n, 2] array per layer; layers at x = 0, 1, ..."""
    return [
        np.column_stack([np.full(n, float(i)), (n - 1) / 2.0 - np.arange(n, dtype=np.float64)])
        for i, n in enumerate(widths)
    ]


def edge_widths(weights: list[np.ndarray]) -> list[np.ndarray]:
    """Line width of each edge: linear in ``|w|``, the largest weight of the model widest,
    and a weight of 1 widest where all are smaller: the perceptron of the XOR lab, whose
    weights shrink to 1e-7, is drawn as the faint lines it is, not as strong ones."""
    return [MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * np.abs(w) / _scale(weights) for w in weights]


def _scale(arrays: list[np.ndarray]) -> float:
    """What the widest line or strongest fill stands for: the largest ``|value|``, or 1."""
    return max(1.0, *(float(np.abs(a).max()) for a in arrays if a.size))


def _sign_color(v: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Opaque RGBA per value: orange for >= 0, blue for < 0, paler for small ``strength``.

    Blended over white rather than made transparent, so edges do not show through nodes.
    """
    blue, orange = np.array(to_rgba(BLUE)), np.array(to_rgba(ORANGE))
    rgba = np.where((v >= 0)[..., None], orange, blue)
    k = (0.25 + 0.75 * np.clip(strength, 0.0, 1.0))[..., None]
    rgba[..., :3] = 1.0 - k * (1.0 - rgba[..., :3])
    return rgba


@styled
def network_figure(
    state: dict[str, np.ndarray],
    spec: ModelSpec,
    feature_names: list[str],
    output_names: list[str],
    label: str | None = None,
    standardized_inputs: bool = False,
) -> Figure:
    """The network diagram of a small model.

    Parameters
    ----------
    state : dict of ndarray
        The model's ``state_dict`` (names as in :class:`~mlplab.engines.spec.ModelSpec`).
    spec : ModelSpec
        Must satisfy :func:`can_draw`.
    feature_names, output_names : list of str
        Labels of the input nodes and the output nodes (a long one shortened, as
        :func:`~mlplab.plots.labels.short_label` does).
    label : str, optional
        The model's label for the title (default: built from ``spec``).
    standardized_inputs : bool, default False
        Whether the model saw standardized features: the title says so, since the first
        layer's weights then act on ``(x - mean) / std``, not on the values users know.
    """
    widths = spec.widths()
    pos = node_positions(widths)
    params = layer_params(state, spec)
    weights = [w for w, _ in params]
    flat = np.concatenate([w.ravel() for w in weights])
    width = max(5.0, 1.9 * len(widths) + 1.5)
    title = wrap_title(
        f"{label or model_label({}, spec)}: {spec.n_params()} parameters\n"
        f"edge width ∝ |weight| (max |weight| {float(np.abs(flat).max()):.2g})"
        + ("; inputs standardized" if standardized_inputs else ""),
        width,
    )
    fig, ax = _diagram_axes(width, max(3.6, 0.75 * max(widths) + 2.0), title.count("\n") + 1)
    segs = [
        [pos[layer][i], pos[layer + 1][o]]
        for layer in range(len(widths) - 1)
        for o in range(widths[layer + 1])
        for i in range(widths[layer])
    ]  # [out, in] order, layer by layer, as the weights ravel
    colors = np.where((flat >= 0)[:, None], to_rgba(ORANGE), to_rgba(BLUE))
    # A weight of exactly 0 (what l1_coef's step leaves of an edge it cut) is drawn as
    # cut, thin, grey and dotted: it was a thin orange line, as a small positive weight.
    cut = flat == 0
    colors[cut] = to_rgba(CUT)
    ax.add_collection(
        LineCollection(
            segs,
            linewidths=np.concatenate([w.ravel() for w in edge_widths(weights)]).tolist(),
            colors=[tuple(c) for c in colors],
            linestyles=[(0, (1, 2)) if c else "solid" for c in cut],
            zorder=1,
        )
    )
    biases = [b for _, b in params]
    fills = [np.tile(to_rgba("white"), (widths[0], 1))]  # input nodes stay white
    fills += [_sign_color(b, np.abs(b) / _scale(biases)) for b in biases]
    for xy, fill in zip(pos, fills):
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=700,
            c=[tuple(c) for c in fill],
            edgecolors="0.2",
            linewidths=1.2,
            zorder=2,
        )
    _label_nodes(
        ax,
        pos,
        widths,
        spec,
        short_labels(feature_names, NODE_CHARS),
        short_labels(output_names, NODE_CHARS),
    )
    span = (max(widths) - 1) / 2.0
    ax.set_xlim(-0.75, len(widths) - 0.25)
    ax.set_ylim(-span - 0.9, span + 0.6)
    set_title(ax, title)
    _keys(fig, biases, int(cut.sum()))
    return fig


def _keys(fig: Figure, biases: list[np.ndarray], cut: int = 0) -> None:
    """Under the diagram: the edges' colours on the left (and the cut edges', where
    ``cut`` weights are 0), the nodes' fill (the bias, as :func:`_sign_color` shades it)
    as a colour bar on the right."""
    zero = [Line2D([], [], color=CUT, lw=1.5, ls=(0, (1, 2)), label=f"weight 0 ({cut} cut)")]
    fig.legend(
        handles=[
            Line2D([], [], color=ORANGE, lw=3, label="weight > 0" if cut else "weight ≥ 0"),
            Line2D([], [], color=BLUE, lw=3, label="weight < 0"),
            *(zero if cut else []),
        ],
        loc="lower left",
        bbox_to_anchor=(0.02, 0.0),
        frameon=False,
    )
    width, height = fig.get_size_inches()
    top = _scale(biases)
    values = np.linspace(-top, top, 256)
    cmap = ListedColormap(_sign_color(values, np.abs(values) / top))
    cax = fig.add_axes(((width - 2.2) / width, 0.3 / height, 1.8 / width, 0.1 / height))
    bar = fig.colorbar(
        ScalarMappable(Normalize(-top, top), cmap), cax=cax, orientation="horizontal"
    )
    bar.set_ticks([-top, 0.0, top], labels=[f"−{top:.2g}", "0", f"{top:.2g}"])
    bar.ax.tick_params(labelsize=9)
    bar.ax.xaxis.set_label_position("top")
    bar.set_label("node fill: bias", fontsize=10)


def _diagram_axes(width: float, height: float, title_lines: int) -> tuple[Figure, Any]:
    """A figure and its bare axes for the diagram: ``height`` inches, which leave room for
    a title of two lines, or taller by what more lines need, the axes keeping their size."""
    bottom, axes_height = 0.1 * height + KEY_ROW, 0.74 * height
    top = max(height - bottom - axes_height, TITLE_PAD + TITLE_LINE * title_lines)
    total = bottom + axes_height + top
    fig = new_figure(width, total)
    ax = fig.add_axes((0.12, bottom / total, 0.76, axes_height / total))
    ax.set_axis_off()
    return fig, ax


def _label_nodes(
    ax: Any,
    pos: list[np.ndarray],
    widths: list[int],
    spec: ModelSpec,
    feature_names: list[str],
    output_names: list[str],
) -> None:
    """Name the input and output nodes, and each layer under its column."""
    for (x, y), name in zip(pos[0], feature_names):
        ax.text(x - 0.2, y, name, ha="right", va="center")
    for (x, y), name in zip(pos[-1], output_names):
        ax.text(x + 0.2, y, name, ha="left", va="center")
    lowest = -(max(widths) - 1) / 2.0
    out_kind = {"binary": "sigmoid", "multiclass": "softmax"}.get(spec.task, "value")
    for layer in range(len(widths)):
        if layer == 0:
            text = "input"
        elif layer == len(widths) - 1:
            text = f"output\n({out_kind})"
        else:
            text = f"hidden {layer}\n{spec.act}"
        # Placed in points, not data units: a tall diagram's unit is short, and its names
        # ran into the notes under the lowest nodes.
        ax.annotate(
            text,
            (layer, lowest),
            xytext=(0, -NAME_DROP),
            textcoords="offset points",
            ha="center",
            va="top",
            color="0.25",
        )
