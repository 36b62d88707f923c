"""A classifier's decisions over a plot's grid, in slices that keep memory bounded.

The rules are :mod:`mlplab.training.metrics`'s: a binary model says class 1 where its
logit is above float32's rounding noise (``TIE_LOGIT``: P > 0.5 in float32), a multiclass
model its largest logit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlplab.training.metrics import predicted_classes, probabilities, true_classes

__all__ = ["decide", "map_outputs", "predicted_classes", "probabilities", "true_classes"]


CHUNK_VALUES = 1 << 20  # model outputs held at once (8 MB): a 10,000-class model in slices


def map_outputs(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    reduce: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``reduce(predict(rows))`` over slices of ``X``, joined along the first axis.

    Each slice holds at most :data:`CHUNK_VALUES` outputs (once the first slice has
    told the output width), so a model with thousands of outputs never holds them all
    for a plot's grid or split: ``reduce`` keeps what the plot needs (a class, a
    probability).
    """
    parts, start, rows = [], 0, 256
    while True:
        out = np.asarray(predict(X[start : start + rows]), dtype=np.float64)
        parts.append(reduce(out))
        start += rows
        if start >= len(X):
            return np.concatenate(parts)
        rows = max(1, CHUNK_VALUES // max(1, out.shape[1]))


def decide(task: str, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The predicted class, int64 [N], and its probability, float64 [N], from logits."""
    classes = predicted_classes(task, outputs)
    if task == "binary":
        p1 = probabilities(task, outputs)[:, 1]
        return classes, np.where(classes == 1, p1, 1.0 - p1)
    # The largest softmax probability is 1 / sum(exp(z - max z)): no division of every
    # class's probability, which is most of the time for thousands of classes.
    z = outputs - outputs.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return classes, 1.0 / z.sum(axis=1)
