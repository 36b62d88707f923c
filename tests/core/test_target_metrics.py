"""A regression of several targets gives each target's own numbers, by name: in its record
(``target_metrics``), the table, the Result's view and, where their scales differ, a note
of the run and of the report that ranks such runs by an averaged error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

import mlplab
from mlplab.cli import main

QUICK = {"optim": "adam", "lr": 0.01, "epoch": 8, "batch_size": 32, "log_every": 0,
         "plots": "none", "engine": "numpy"}  # fmt: skip


def river(folder: Path) -> Path:
    """A flow in m³/s and a sediment load of about 50 times it: MSEs 2,500 times apart."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(240, 3)), columns=["a", "b", "c"])
    df["flow"] = np.exp(0.5 * df.a + 0.3 * df.b) * 100
    df["sediment"] = df.flow * 50 + rng.normal(0, 20, 240)
    df.to_csv(folder / "river.csv", index=False)
    return folder / "river.csv"


def test_each_targets_metrics_are_in_the_record_table_and_view(tmp_path: Path, capsys) -> None:
    data = river(tmp_path)
    argv = ["train", "--data", str(data), "--target", "flow", "sediment",
            "--standardize_target", "true", "--log_path", str(tmp_path / "runs"),
            *(x for k, v in QUICK.items() for x in (f"--{k}", str(v)))]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    (file,) = (tmp_path / "runs").glob("*/*/result.json")
    record = json.loads(file.read_text())
    by_target = record["target_metrics"]
    assert list(by_target) == ["flow", "sediment"]
    run = mlplab.load_run(file.parent, dtype="float64")
    ds = run.dataset
    for split, X, y in (("train", ds.X_train, ds.y_train), ("test", ds.X_test, ds.y_test)):
        pred = run.model_outputs(X)
        for t, name in enumerate(by_target):
            own = by_target[name]
            assert own[f"{split}_mae"] == pytest.approx(
                mean_absolute_error(y[:, t], pred[:, t]), rel=1e-4
            )
            assert own[f"{split}_mse"] == pytest.approx(
                mean_squared_error(y[:, t], pred[:, t]), rel=1e-4
            )
            assert own[f"{split}_rmse"] == pytest.approx(
                root_mean_squared_error(y[:, t], pred[:, t]), rel=1e-4
            )
            assert own[f"{split}_r2"] == pytest.approx(r2_score(y[:, t], pred[:, t]), rel=1e-4)
        # The record's own numbers are the targets' mean, as scikit-learn's uniform average.
        for m in ("mae", "mse", "rmse", "r2"):
            mean = np.mean([by_target[n][f"{split}_{m}"] for n in by_target])
            assert record[f"{split}_{m}"] == pytest.approx(mean)
    # The table: a row per target under each split's mean, its loss cell blank.
    lines = out.splitlines()
    for split in ("train", "val", "test"):
        (at,) = [i for i, ln in enumerate(lines) if re.match(rf"│ {split}\s+│", ln)]
        assert re.match(r"│\s+flow\s+│\s+│", lines[at + 1])
        assert re.match(r"│\s+sediment\s+│\s+│", lines[at + 2])
        cells = [c.strip() for c in lines[at + 1].split("│")[1:-1]]
        assert float(cells[2]) == pytest.approx(by_target["flow"][f"{split}_mae"], rel=1e-3)
    said = " ".join(out.split())
    assert ("note: the targets' scales differ: the val MSE of 'sediment' is" in said
            and "so the averaged MAE, MSE and RMSE (and a sweep ranked by one of them) are "
            "mostly those of 'sediment'; R² (unit-free) or each target's own numbers" in said)  # fmt: skip
    # The Result's view gives them too.
    assert run.target_metrics == by_target
    assert re.search(r"\(mean over targets; flow: test_mae=[\d.]+, test_rmse=", repr(run))
    page = run._repr_html_()
    assert "test: flow" in page and "val: sediment" in page


def test_a_report_ranks_such_runs_with_a_note_and_no_column_per_target(
    tmp_path: Path, capsys
) -> None:
    """The report makes a column of each number of a record: each target's stay in one
    value, which results.csv leaves out, and a ranking by val_mse says whose it is."""
    mlplab.sweep(data=str(river(tmp_path)), target=["flow", "sediment"],
                 standardize_target=True, **{**QUICK, "lr": [0.01, 0.001]},
                 log_path=str(tmp_path / "runs"), workers=1, report=False,
                 verbose=False)  # fmt: skip
    capsys.readouterr()
    rep = mlplab.report(tmp_path / "runs", out=tmp_path / "rep")
    csv = pd.read_csv(tmp_path / "rep" / "results.csv")
    assert not [c for c in csv.columns if "flow" in c or "sediment" in c or "target_m" in c]
    assert not [c for c in rep.summary.columns if "flow" in c or "sediment" in c]
    said = " ".join(capsys.readouterr().out.split())
    assert "note: ranked by val_mse, an average over targets of unlike scale (e.g. " in said
    assert "which is mostly that of 'sediment': --rank_by val_r2 (unit-free)" in said
    assert "unlike scale" in rep.html_path.read_text()
    mlplab.report(tmp_path / "runs", out=tmp_path / "r2", rank_by="val_r2")
    assert "unlike scale" not in capsys.readouterr().out


def test_one_target_or_targets_of_like_scale_get_no_numbers_per_target_nor_note(
    tmp_path: Path,
) -> None:
    data = river(tmp_path)
    one = mlplab.train(data=str(data), target="flow", **QUICK, record=False, verbose=False)
    assert "target_metrics" not in one.record and one.target_metrics == {}
    assert "mean over targets" not in repr(one)
    df = pd.read_csv(data).assign(flow2=lambda d: d.flow * 3)
    df.to_csv(tmp_path / "alike.csv", index=False)
    alike = mlplab.train(data=str(tmp_path / "alike.csv"), target=["flow", "flow2"],
                         ignore=["sediment"], standardize_target=True, **QUICK, record=False,
                         verbose=False)  # fmt: skip
    assert list(alike.target_metrics) == ["flow", "flow2"]
    assert not [n for n in alike.notes if "scales differ" in n]
