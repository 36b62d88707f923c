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
    """Each of ``names`` shortened to ``limit`` characters, as :func:`short_label` does.

    Where two would then read alike (``category_0…label`` for both
    ``category_00_longish_label`` and ``category_03_longish_label``), the cut moves to
    keep the part where they differ: first another split of start and end
    (``category_00…abel``), then a start, a stretch of the middle and an end
    (``exp…n_alpha_m…ine``). Names are kept whole only where no cut tells them apart.
    """
    names = [str(n) for n in names]
    long = [n for n in names if len(n) > limit]
    if not long:
        return names
    # (head, start of the middle stretch, its length, tail): the default split first,
    # then the nearest others, each end at least `end` long ("e…ta_at_baseline" told
    # little of its name).
    end = (limit - 2) // 4
    tails = sorted(range(end, limit - end), key=lambda t: abs(t - limit // 3))
    cuts = [(limit - 1 - t, 0, 0, t) for t in tails]
    middle = limit - 2 - 2 * end
    # The stretch where the names begin to differ (with a little before it) first.
    anchor = len(os.path.commonprefix(long)) - middle // 4  # noqa: RUF071 (characters, not paths)
    starts = sorted(range(end + 1, max(map(len, long))), key=lambda s: abs(s - anchor))
    cuts += [(end, s, middle, end) for s in starts]
    for cut in cuts:
        short = [n if len(n) <= limit else _cut(n, *cut) for n in names]
        if len(set(short)) == len(set(names)):
            return short
    return names


def _cut(name: str, head: int, start: int, middle: int, tail: int) -> str:
    """``name``'s first ``head`` and last ``tail`` characters around '…'; with
    ``middle`` characters from ``start`` between two '…' (moved to lie within what the
    ends leave out, with a character left out each side)."""
    ends = name[:head], name[len(name) - tail :]
    if not middle:
        return f"{ends[0]}…{ends[1]}"
    start = min(max(start, head + 1), len(name) - tail - middle - 1)
    return f"{ends[0]}…{name[start : start + middle]}…{ends[1]}"


def plane_names(data: _Named) -> tuple[str, str]:
    """Names of the two features of planar data (``x1``, ``x2`` if the data has none),
    as an axis shows them: the data's own two where the model takes the Playground's
    inputs made from them (``raw_names``), whose plane the pictures draw."""
    names = [*(getattr(data, "raw_names", None) or data.feature_names), "x1", "x2"]
    # Together: two names that differ in the middle (morning, evening) read alike cut
    # one by one, on both axes.
    x, y = short_labels(names[:2], AXIS_CHARS)
    return x, y
