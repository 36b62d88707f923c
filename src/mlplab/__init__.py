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

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ loads them
    from mlplab import errors
    from mlplab.chainrule import Picture, Quantity, Trace, backprop
    from mlplab.config import Config, load_config
    from mlplab.data.dataset import Dataset, load_dataset
    from mlplab.gradcheck import CheckResult, run_gradcheck
    from mlplab.reports.api import Report, report
    from mlplab.restore import LoadedRun, load_run
    from mlplab.runner import Result, train
    from mlplab.sklearn import MLPClassifier, MLPRegressor
    from mlplab.sweeps.api import SweepResult, sweep

__all__ = [
    "CheckResult",
    "Config",
    "Dataset",
    "LoadedRun",
    "MLPClassifier",
    "MLPRegressor",
    "Picture",
    "Quantity",
    "Report",
    "Result",
    "SweepResult",
    "Trace",
    "__version__",
    "backprop",
    "errors",
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
    # The types they return, to annotate with (def f(run: mlplab.LoadedRun)).
    "Dataset": ("mlplab.data.dataset", "Dataset"),
    "LoadedRun": ("mlplab.restore", "LoadedRun"),
    "Report": ("mlplab.reports.api", "Report"),
    "SweepResult": ("mlplab.sweeps.api", "SweepResult"),
    "Trace": ("mlplab.chainrule", "Trace"),
    "Quantity": ("mlplab.chainrule", "Quantity"),  # a Trace's items
    "Picture": ("mlplab.chainrule", "Picture"),  # Trace.plot()'s, shown inline in Jupyter
    "CheckResult": ("mlplab.gradcheck", "CheckResult"),
}


if not TYPE_CHECKING:  # hidden from checkers, which would take any name for one of these

    def __getattr__(name: str) -> Any:
        import importlib

        if name == "errors":  # `except mlplab.errors.ConfigError` before a call loaded it
            return importlib.import_module("mlplab.errors")
        if name in _LAZY:
            module, attr = _LAZY[name]
            value = getattr(importlib.import_module(module), attr)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'mlplab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
