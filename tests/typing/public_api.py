"""What a type checker sees of ``import mlplab``: mypy checks this file (pyproject's
[tool.mypy] files); pytest does not collect it, and nothing here runs.

Every public name is typed through ``mlplab/__init__.py``'s TYPE_CHECKING imports: with
the lazy ``__getattr__`` alone, each was ``Any``, so a typo or a wrong type passed every
checker and an IDE completed nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_type

import numpy as np
import pandas as pd
import torch

import mlplab


def _uses() -> None:
    result = mlplab.train(data="xor", verbose=False)
    assert_type(result, mlplab.Result)
    assert_type(result.run_dir, Path)  # None only with record=False, which its caller knows
    assert_type(result.run_dir / "result.json", Path)  # as the README writes it
    assert_type(mlplab.load_run(result.run_dir, which="best"), mlplab.LoadedRun)
    assert_type(result.metrics, dict[str, float])
    assert_type(result.predict(np.zeros((1, 2))), np.ndarray)
    run = mlplab.load_run("runs/xor-nn/xor-nn-ac0376")
    assert_type(run, mlplab.LoadedRun)
    cfg = mlplab.load_config("examples/xor_nn.yaml", {"lr": 0.5})
    assert_type(cfg, mlplab.Config)
    assert_type(cfg.lr, float)
    assert_type(mlplab.sweep(cfg, verbose=False), mlplab.SweepResult)
    assert_type(mlplab.sweep(cfg, verbose=False).report, mlplab.Report | None)
    assert_type(mlplab.report("runs", verbose=False), mlplab.Report)
    assert_type(mlplab.load_dataset("moons"), mlplab.Dataset)
    assert_type(mlplab.backprop(cfg), mlplab.Trace)
    assert_type(mlplab.backprop(cfg)["d_w1"], mlplab.Quantity)
    assert_type(mlplab.backprop(cfg).plot(), mlplab.Picture)
    assert_type(mlplab.run_gradcheck(), list[mlplab.CheckResult])
    assert_type(mlplab.MLPClassifier().fit(np.zeros((4, 2)), [0, 1, 0, 1]), mlplab.MLPClassifier)
    assert_type(mlplab.MLPClassifier().classes_, np.ndarray)  # was Any
    assert_type(mlplab.MLPRegressor().to_torch(), torch.nn.Module)  # as Result.to_torch's
    rep = mlplab.report("runs", verbose=False)
    assert_type(rep.summary, pd.DataFrame)
    if rep.best_run is not None:  # a report's row, as load_run takes it
        assert_type(mlplab.load_run(rep.best_run).per_class(), pd.DataFrame)
    # As the README writes it, unchecked: None (no run finished) is refused in one line.
    assert_type(mlplab.load_run(rep.best_run), mlplab.LoadedRun)
    assert_type(mlplab.load_run(rep.best_run).curves, dict[str, list[Any]])
    mlplab.load_dataset("moons", standardize="auto")  # as documented
    try:
        pass
    except mlplab.errors.ConfigError as err:
        assert_type(err, mlplab.errors.ConfigError)
    # A misspelt name is an error to the checker (warn_unused_ignores: were it not one,
    # the ignore below would be reported as unused).
    mlplab.load_runs("runs")  # type: ignore[attr-defined]
    # The estimators' parameters, by name and type (they were `**params: Any`).
    mlplab.MLPClassifier(hid_dim=8, lr=0.01, class_weight="balanced", random_state=0)
    mlplab.MLPClassifier(hid_dimm=3)  # type: ignore[call-arg]
    # A Config's settings by name too, of any type (YAML's text is taken at run time, and
    # a loop's `act` is a str, not one of act's Literal choices).
    mlplab.Config(data="moons", hid_dim=16, split=[0.8, 0.1, 0.1])
    for act in ["relu", "tanh"]:
        mlplab.Config(act=act, lr="0.1")
    mlplab.Config(hid_dimm=3)  # type: ignore[call-arg]
    mlplab.Config(**{"hid_dim": 3})
    mlplab.MLPRegressor(lr="fast")  # type: ignore[arg-type]
