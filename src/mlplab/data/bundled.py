"""Real datasets that ship inside scikit-learn, so they load with no download."""

from __future__ import annotations

import numpy as np

LOADERS = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}


def load_bundled(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    """Return ``(X, y, feature_names, class_names)`` for a scikit-learn bundled set."""
    import sklearn.datasets as skd

    bunch = getattr(skd, LOADERS[name])()
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
