"""``standardize_target``: a regression trains on its target scaled to mean 0 and spread 1,
and everything a user reads (metrics, predictions, pictures, the torch module) is in the
target's own units."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mlplab import Config, load_run
from mlplab.runner import train
from mlplab.runs.checkpoint import load_checkpoint
from mlplab.stacks import train_batched


@pytest.fixture(scope="module")
def prices(tmp_path_factory) -> Path:
    """House prices in dollars (about 1e6 +- 3e5) from two features, and a second target
    of order 1: raw, the default run diverges on them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    df = pd.DataFrame(X, columns=["size", "age"])
    df["price"] = 1e6 + 3e5 * df["size"] - 1e5 * df["age"] ** 2 + rng.normal(0, 2e4, 400)
    df["rooms"] = 3 + df["size"] + rng.normal(0, 0.1, 400)
    path = tmp_path_factory.mktemp("data") / "prices.csv"
    df.to_csv(path, index=False)
    return path


KW = dict(optim="adam", lr=0.01, batch_size=32, epoch=40, plots="none", verbose=False)


def raw_test_rows(run) -> np.ndarray:
    mean, std = run.dataset.scaler
    return run.dataset.X_test * std + mean


def test_the_metrics_and_predictions_are_in_the_targets_units(prices, tmp_path, run_cli):
    kw = dict(KW, data=str(prices), target=["price", "rooms"], log_path=str(tmp_path))
    raw = train(**{**kw, "standardize_target": False})  # adam's lr-sized steps crawl to 1e6
    assert raw.status == "diverged" or raw.record["test_r2"] < 0
    run = train(**kw, standardize_target=True)
    assert run.status == "finished" and run.record["test_r2"] > 0.9
    X, y = raw_test_rows(run), run.dataset.y_test
    predicted = run.predict(X)
    # The record's MAE is the predictions' against the raw targets, each in its units.
    np.testing.assert_allclose(run.record["test_mae"], np.abs(predicted - y).mean(), rtol=1e-6)
    assert np.abs(predicted[:, 0] - y[:, 0]).mean() < 1e5  # dollars: the spread is 3e5
    assert run.curves["val_maes"][-1] == pytest.approx(run.record["val_mae"], rel=1e-6)
    # The loss is the engine's, on the scaled target: of order 1, not 1e10.
    assert run.record["test_loss"] < 1
    # The folder alone predicts the same (its checkpoint keeps the target's scaler).
    meta = load_checkpoint(run.run_dir / "checkpoints" / "last.safetensors").meta
    assert len(meta["target_scaler"][0]) == 2
    for loaded in (load_run(run.run_dir), load_run(run.run_dir, data=False)):
        np.testing.assert_allclose(loaded.predict(X), predicted, rtol=1e-6)
    with torch.no_grad():
        module = run.to_torch(raw_inputs=True)
        from_torch = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(from_torch, predicted, rtol=1e-4)
    pd.DataFrame(X, columns=run.dataset.feature_names).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "p.csv"
    proc = run_cli(
        "predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"), "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(
        pd.read_csv(out)[["price", "rooms"]].to_numpy(), predicted, rtol=1e-4
    )


def test_predict_prints_the_digits_of_a_target_far_from_zero(prices, tmp_path, run_cli):
    """Prices of 1e12 + about 1e6: trained right (scaled in float64), yet `mlplab predict`
    printed ten significant digits of each value, 1000001000000.0 for every row."""
    df = pd.read_csv(prices)
    df["price"] += 1e12
    df[["size", "age", "price"]].to_csv(tmp_path / "far.csv", index=False)
    kw = dict(KW, data=str(tmp_path / "far.csv"), target=["price"], log_path=str(tmp_path))
    run = train(**kw, standardize_target=True)
    X = raw_test_rows(run)
    pd.DataFrame(X, columns=run.dataset.feature_names).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"))
    assert proc.returncode == 0, proc.stderr
    printed = pd.read_csv(__import__("io").StringIO(proc.stdout))["price"].to_numpy()
    predicted = run.predict(X)[:, 0]
    assert len(set(printed)) == len(printed)  # each row its own value
    np.testing.assert_allclose(printed - 1e12, predicted - 1e12, atol=1.0)  # float32 model


def test_predict_prints_no_float_noise_beside_a_scaled_target(prices, tmp_path, run_cli):
    """With standardize_target, each printed value was the target's mean plus a distance
    rounded to ten digits: 16 digits, the last ones float noise shared by every row
    (`8.345221371326433`, `7.097864603326434`)."""
    kw = dict(KW, data=str(prices), target=["price"], log_path=str(tmp_path))
    run = train(**kw, standardize_target=True)
    X = raw_test_rows(run)
    pd.DataFrame(X, columns=run.dataset.feature_names).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", str(run.run_dir), "--data", str(tmp_path / "new.csv"))
    assert proc.returncode == 0, proc.stderr
    texts = [line.split(",")[0] for line in proc.stdout.splitlines()[1:]]
    predicted = run.predict(X)[:, 0]
    center = float(run.dataset.target_scaler[0][0])
    for text, value in zip(texts, predicted, strict=True):
        # Ten significant digits of the distance from the mean, and no decimal past them.
        decimals = len(text.partition(".")[2])
        place = 9 - math.floor(math.log10(abs(float(text) - center)))
        assert decimals <= max(place, 1), (text, center)
        assert float(text) == pytest.approx(value, rel=1e-6)


def test_a_stack_trains_each_config_as_alone(prices, tmp_path):
    settings = {k: v for k, v in KW.items() if k != "verbose"}
    cfgs = [
        Config(**{**settings, "lr": lr}, data=str(prices), target=["price"],
               standardize_target=True, engine="numpy", log_every=0,
               log_path=str(tmp_path / "stack"))
        for lr in (0.01, 0.003)
    ]  # fmt: skip
    stacked = train_batched(cfgs)
    for cfg, res in zip(cfgs, stacked, strict=True):
        alone = train(
            Config(**{**cfg.to_dict(), "log_path": str(tmp_path / "alone")}), verbose=False
        )
        assert res is not None
        for key in ("test_mae", "test_mse", "test_r2", "val_loss"):
            assert res[key] == alone.record[key], key


def test_off_by_default_it_leaves_run_ids_and_classification_alone(tmp_path):
    assert (
        Config(data="sinlog").run_hash()
        == Config(data="sinlog", standardize_target=False).run_hash()
    )
    assert (
        Config(data="sinlog").run_hash()
        != Config(data="sinlog", standardize_target=True).run_hash()
    )
    run = train(data="moons", epoch=3, standardize_target=True, log_path=str(tmp_path),
                plots="none", verbose=False)  # fmt: skip
    assert run.status == "finished" and run.dataset.target_scaler is None
    assert any("applies to a regression" in n for n in run.dataset.notes)
    meta = load_checkpoint(run.run_dir / "checkpoints" / "last.safetensors").meta
    assert "target_scaler" not in meta
    assert json.loads((run.run_dir / "result.json").read_text())["standardize_target"] is True


def test_several_targets_off_scale_are_each_named(tmp_path: Path) -> None:
    """With several targets the note said "the target reaches 1.16e+04": which one, and
    the other's spread of 0.0016 went unsaid."""
    from mlplab.console import off_scale_target
    from mlplab.data import load_dataset

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 200))
    frame = pd.DataFrame({"a": a, "b": b, "px": (a - b) * 1e-3, "py": (a + 2 * b) * 1000 + 5000})
    path = tmp_path / "scales.csv"
    frame.to_csv(path, index=False)
    said = off_scale_target(load_dataset(str(path), target=["px", "py"]))
    assert said is not None
    assert re.fullmatch(
        r"target 'px' varies by only 0\.00\d+ \(its spread\) and target 'py' reaches "
        r"1\.\d+e\+04",
        said,
    ), said
    one = off_scale_target(load_dataset(str(path), target=["py"]))
    assert one is not None and one.startswith("the target reaches 1.")
    frame["px"] *= 1000  # of order 1 now: py alone is named
    frame.to_csv(path, index=False)
    said = off_scale_target(load_dataset(str(path), target=["px", "py"]))
    assert said is not None and said.startswith("target 'py' reaches 1.") and "'px'" not in said
