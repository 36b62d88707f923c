"""Real datasets that ship inside scikit-learn, so they load with no download."""

from __future__ import annotations

import random
from types import ModuleType

import numpy as np

LOADERS = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}


def sklearn_datasets() -> ModuleType:
    """``sklearn.datasets``, imported without a draw from Python's ``random``: its first
    import consumes from it (through scikit-learn's own imports), so a script's
    ``random.seed(0)`` gave other numbers after its first ``train(data="moons")``."""
    state = random.getstate()
    import sklearn.datasets

    random.setstate(state)
    return sklearn.datasets


def load_bundled(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    """Return ``(X, y, feature_names, class_names)`` for a scikit-learn bundled set."""
    bunch = getattr(sklearn_datasets(), LOADERS[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    feats = [str(f) for f in getattr(bunch, "feature_names", [f"x{i}" for i in range(X.shape[1])])]
    if len(feats) != X.shape[1]:
        feats = [f"x{i}" for i in range(X.shape[1])]
    names = getattr(bunch, "target_names", None)
    classes = [str(c) for c in names] if names is not None and y.dtype.kind in "iu" else None
    if name == "diabetes":
        classes = None
        y = y.astype(np.float64)[:, None]
    return X, y, feats, classes
