"""The TensorFlow Playground's inputs (setting ``features``): x1, x2, x1², x2², x1·x2,
sin x1 and sin x2, made from data of two features.

:func:`derive` is the one map from raw ``x1, x2`` to them: the dataset's splits go through
it when loaded, and :meth:`~mlplab.data.dataset.Dataset.transform` sends through it every
raw row a model is asked about (a picture's grid over the x1 x x2 plane, ``predict``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mlplab.config import PLAYGROUND_FEATURES

_MAKE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sinx1": lambda a, b: np.sin(a),
    "sinx2": lambda a, b: np.sin(b),
}
assert tuple(_MAKE) == PLAYGROUND_FEATURES


def derive(X: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The ``features`` (canonical names) of raw rows ``X`` [N, 2] of x1, x2: float64
    [N, len(features)], a column each, in the order named."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"features are made from rows of 2 values (x1, x2), not {X.shape}")
    a, b = X[:, 0], X[:, 1]
    with np.errstate(over="ignore", invalid="ignore"):
        cols = [_MAKE[name](a, b) for name in features]
    return np.column_stack(cols) if cols else np.zeros((len(X), 0))
