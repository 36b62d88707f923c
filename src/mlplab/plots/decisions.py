"""A classifier's decisions from its outputs, as the plots read them.

The same rules as :mod:`mlplab.training.metrics` (a test holds them equal), written
here because plots sit beside the training layer, not above it: a binary model says
class 1 where its logit is positive (P > 0.5), a multiclass model its largest logit.
"""

from __future__ import annotations

import numpy as np


def predicted_classes(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class indices, int64 [N], from logits [N, 1] (binary) or [N, C] (multiclass)."""
    if task == "binary":
        return (outputs[:, 0] > 0).astype(np.int64)
    return np.asarray(outputs.argmax(axis=1), dtype=np.int64)


def probabilities(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class probabilities, float64 [N, C], from logits (C = 2 for binary)."""
    if task == "binary":
        p = 1.0 / (1.0 + np.exp(-outputs[:, 0]))
        return np.stack([1 - p, p], axis=1)
    z = outputs - outputs.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def true_classes(task: str, y: np.ndarray) -> np.ndarray:
    """Class indices, int64 [N], from targets as the dataset stores them."""
    return y[:, 0].astype(np.int64) if task == "binary" else y.astype(np.int64)
