"""The held-out images a classifier got wrong, as images: the digits lab's own picture.

Data whose features are the pixels of square images, named ``pixel_R_C`` row by row (as
scikit-learn names the bundled digits' 8x8, and as a flattened image table is often
written), is drawn as those images: up to :data:`MAX_SHOWN` of the test images (val
without a test split) that the model misclassified, each titled ``true → predicted``. A
confusion matrix counts the mistakes; these show what they look like (a 4 with an open
top taken for a 9).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots.decisions import true_classes
from mlplab.plots.inputs import held_out, predictions
from mlplab.plots.style import new_figure, set_suptitle, styled
from mlplab.plots.surfaces import Predict
from mlplab.plots.titles import class_names, metric_text, title_head

MAX_SHOWN = 32  # 4 rows of 8: enough to see a pattern, small enough to read each
COLUMNS = 8


def image_side(data: Dataset) -> int | None:
    """The side of the square images whose pixels a classifier's features are (8 for
    digits' pixel_0_0 ... pixel_7_7), or None where they are no such pixels."""
    names = list(data.input_names)
    side = math.isqrt(len(names))
    if data.task == "regression" or data.features is not None or side < 2:
        return None
    pixels = [f"pixel_{r}_{c}" for r in range(side) for c in range(side)]
    return side if names == pixels else None


@styled
def mistakes_figure(
    data: Dataset, predict: Predict, result: dict[str, Any], spec: ModelSpec | None = None
) -> Figure:
    """The misclassified held-out images, in the data's own pixel values (before any
    standardizing), dark ink on white as the digits are drawn, each titled
    ``true → predicted``; the title says how many of how many were wrong."""
    side = image_side(data)
    assert side is not None, "mistakes_figure needs pixel_R_C features (see image_side)"
    split = held_out(data)
    true = true_classes(data.task, getattr(data, f"y_{split}"))
    pred = predictions(data.task, predict, getattr(data, f"X_{split}"))
    wrong = np.flatnonzero(pred != true)
    shown = wrong[:MAX_SHOWN]
    rows = max(1, math.ceil(len(shown) / COLUMNS))
    height = rows * 1.25 + 0.8
    fig = new_figure(COLUMNS * 1.05, height)
    axes = fig.subplots(rows, COLUMNS, squeeze=False)
    pixels = data.raw_rows(split)
    low, high = float(pixels.min(initial=0.0)), float(pixels.max(initial=1.0))
    names = class_names(data, max(2, len(data.class_names or [])))
    for ax, i in zip(axes.flat, [*shown, *[None] * (axes.size - len(shown))], strict=True):
        if i is None:
            ax.set_axis_off()
            continue
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # the image's edge, where its pixels are blank
            spine.set(color="0.8", visible=True)
        ax.imshow(pixels[i].reshape(side, side), cmap="gray_r", vmin=low, vmax=high)
        ax.set_title(f"{names[true[i]]} → {names[pred[i]]}", fontsize=9, pad=2)
    if not len(shown):
        axes.flat[0].text(0, 0.5, f"every {split} image classified right", fontsize=10)
        axes.flat[0].set_axis_off()
    more = f", the first {len(shown)} shown" if len(wrong) > len(shown) else ""
    what = f"{len(wrong)} of {len(true)} {split} images misclassified{more} (true → predicted)"
    set_suptitle(
        fig, f"{title_head(data, result, spec)} · {metric_text(result, data.task)}\n{what}"
    )
    fig.subplots_adjust(top=1 - 0.75 / height, bottom=0.02, left=0.02, right=0.98, hspace=0.35)
    return fig
