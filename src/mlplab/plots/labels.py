"""Names in plot titles: the dataset's and the model's (no matplotlib, for the run's side)."""

from __future__ import annotations

import os
from typing import Any, Protocol


class _Named(Protocol):
    feature_names: list[str]


def display_name(name: str) -> str:
    """A dataset name fit for a title: built-in names as they are, files by base name."""
    return os.path.basename(name.rstrip("/\\")) or name


def model_label(result: dict[str, Any], spec: Any | None = None) -> str:
    """The model's label: ``model_name`` if set, else e.g. ``mlp 2-2-1 sigmoid`` or ``linear``.

    From ``spec`` (a :class:`~mlplab.engines.spec.ModelSpec`), its :meth:`label`: every
    layer's width from input to output, as the lectures write a model (``2-2-1``,
    ``2-8-8-1``), as the console and a ``Result`` name it. Without it, from the record's
    settings, which lack the input and output widths: the hidden layers as
    :meth:`mlplab.config.Config.label` gives them (``mlp 2x1 sigmoid``, ``mlp 8-4 relu``).
    Batch norm, dropout and skip connections follow.
    """
    if result.get("model_name"):
        return str(result["model_name"])
    if spec is not None:
        return str(spec.label())
    n_layer = 0 if result.get("model") == "linear" else int(result.get("n_layer", 0))
    act = result.get("act", "")
    layers = result.get("hid_dims") or f"{result.get('hid_dim', 0)}x{n_layer}"
    use_bn, dp_rate = result.get("use_bn"), result.get("dp_rate") or 0
    sc_type = result.get("sc_type") or "none"
    if n_layer == 0:
        return "linear"
    # Two runs of a batch-norm or dropout sweep differ only in these: titles must too.
    extras = [
        "bn" if use_bn else "",
        f"dp {dp_rate:g}" if dp_rate else "",
        sc_type if sc_type != "none" else "",
    ]
    return " ".join(["mlp", str(layers), str(act), *filter(None, extras)])


# The most characters of a name on an axis, and of a class on a tick, legend or colour bar:
# a column named as a sentence ran past the figure's edge, and pushed its title off.
AXIS_CHARS = 40
CLASS_CHARS = 24
NODE_CHARS = 16  # beside a network diagram's input or output node


def short_label(name: str, limit: int = AXIS_CHARS) -> str:
    """``name``, or its start and end around '…' when longer than ``limit`` (the end
    too: '(mm)' or 'treatment B' tells columns and classes apart)."""
    name = str(name)
    if len(name) <= limit:
        return name
    tail = limit // 3
    return f"{name[: limit - tail - 1]}…{name[-tail:]}"


def short_labels(names: list[str], limit: int = CLASS_CHARS) -> list[str]:
    """Each of ``names`` shortened, unless two would then read alike: then all whole."""
    short = [short_label(n, limit) for n in names]
    return short if len(set(short)) == len(set(names)) else list(names)


def plane_names(data: _Named) -> tuple[str, str]:
    """Names of the two features of planar data (``x1``, ``x2`` if the data has none),
    as an axis shows them."""
    names = [*data.feature_names, "x1", "x2"]
    return short_label(names[0]), short_label(names[1])
