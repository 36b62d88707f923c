"""mlplab: multilayer perceptrons for learning, teaching and small experiments.

One experiment description (:class:`Config`, from YAML and flags) trains on a
from-scratch NumPy engine or on PyTorch, and leaves a complete run record.

>>> import mlplab
>>> result = mlplab.train(data="xor", n_layer=1, hid_dim=2, act="sigmoid", lr=1.0,
...                       epoch=10001, seed=777, log_every=0, verbose=False)  # doctest: +SKIP
>>> result.record["test_acc"]  # doctest: +SKIP
1.0

Heavy modules (torch, pandas, matplotlib) load only when the names that need them are
used, so ``import mlplab`` and ``mlplab --help`` answer at once.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Config",
    "MLPClassifier",
    "MLPRegressor",
    "Result",
    "__version__",
    "backprop",
    "load_config",
    "load_dataset",
    "load_run",
    "report",
    "run_gradcheck",
    "sweep",
    "train",
]

_LAZY = {
    "Config": ("mlplab.config", "Config"),
    "load_config": ("mlplab.config", "load_config"),
    "load_dataset": ("mlplab.data.dataset", "load_dataset"),
    "load_run": ("mlplab.restore", "load_run"),
    "train": ("mlplab.runner", "train"),
    "Result": ("mlplab.runner", "Result"),
    "sweep": ("mlplab.sweeps.api", "sweep"),
    "report": ("mlplab.reports.api", "report"),
    "run_gradcheck": ("mlplab.gradcheck", "run_gradcheck"),
    "backprop": ("mlplab.chainrule", "backprop"),
    "MLPClassifier": ("mlplab.sklearn", "MLPClassifier"),
    "MLPRegressor": ("mlplab.sklearn", "MLPRegressor"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlplab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
