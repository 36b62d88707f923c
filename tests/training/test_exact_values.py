"""Values checked against their formulas, not only a stack against its single runs (which
share the code, and so any slip in it): schedules, dropout's scaling, the ranking's
direction, the features' scaling by the training rows, and a stack whose model diverges
within a minibatched epoch."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.training.loop import LrSchedule


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("step", [1, 1, 1, 0.5, 0.5, 0.5, 0.25]),  # lr * gamma ** (epoch // lr_step)
        ("exponential", [0.5**e for e in range(7)]),  # lr * gamma ** epoch
        ("cosine", [0.5 * (1 + np.cos(np.pi * e / 7)) for e in range(7)]),
    ],
)
def test_each_schedule_gives_its_formulas_rates(kind, expected):
    """An off-by-one epoch in step and exponential passed: stacks and single runs shared it."""
    schedule = LrSchedule(lr=1.0, kind=kind, gamma=0.5, step=3)
    np.testing.assert_allclose([schedule.at(e, 7) for e in range(7)], expected, rtol=1e-12)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_torch_dropout_scales_the_units_it_keeps(rate):
    """Without the 1 / (1 - rate) of inverted dropout, training saw smaller activations
    than evaluation: moons' test accuracy fell from 0.76 to 0.57, and no test saw it."""
    import torch

    from mlplab.engines.torch.model import DropoutStreams

    masks = DropoutStreams([rate, 0.0], [0, 1], torch.device("cpu")).masks(torch.ones(2, 4000, 8))
    kept = masks[0][masks[0] != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - rate)))
    assert abs(float(masks[0].mean()) - 1.0) < 0.03  # each unit's expectation unchanged
    assert bool((masks[1] == 1).all())  # the model at rate 0 drops nothing


@pytest.mark.parametrize(
    ("kind", "rank_by", "ascending"),
    [
        ("regression", "val_mae", True),
        ("regression", "val_mse", True),
        ("regression", "val_r2", False),
        ("regression", None, True),
        ("classification", "val_loss", True),
        ("classification", None, False),
    ],
)
def test_errors_rank_lowest_first_and_scores_highest_first(kind, rank_by, ascending):
    """rank_by val_mae had put the worst config first, and no test saw it."""
    from mlplab.reports.aggregate import ranking_metric

    assert ranking_metric(kind, rank_by)[1] is ascending


def test_every_split_is_scaled_by_the_training_rows_alone(tmp_path):
    """The validation split scaled by its own mean moved val_loss, early stopping and the
    best checkpoint, and no test saw it."""
    from mlplab.data import load_dataset

    rng = np.random.default_rng(0)
    X = rng.normal([5.0, -3.0], [2.0, 0.5], size=(90, 2))
    rows = "".join(f"{a},{b},{int(a > 5)}\n" for a, b in X)
    (tmp_path / "t.csv").write_text("a,b,y\n" + rows)
    raw = load_dataset(str(tmp_path / "t.csv"), standardize=False, seed=3)
    scaled = load_dataset(str(tmp_path / "t.csv"), standardize=True, seed=3)
    assert scaled.scaler is not None
    mean, std = scaled.scaler
    np.testing.assert_allclose(mean, raw.X_train.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, raw.X_train.std(axis=0), rtol=1e-6)
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(
            getattr(scaled, f"X_{split}"), (getattr(raw, f"X_{split}") - mean) / std, atol=1e-6
        )


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_model_that_diverges_within_a_minibatched_epoch_leaves_the_stack(tmp_path, engine):
    """A model dropped from the stack mid-epoch kept its place in the rows' order: the
    next batch failed (ValueError in numpy, RuntimeError in torch). The test of a diverging
    model had trained full batch."""
    from mlplab.config import Config
    from mlplab.runner import train
    from mlplab.stacks import train_batched

    base = {"engine": engine, "plots": "none", "log_every": 0, "data": "sinlog",
            "n_samples": 200, "split": [100, 50, 50], "n_layer": 1, "hid_dim": 16,
            "epoch": 30, "batch_size": 16}  # fmt: skip
    cfgs = [Config(**base, lr=lr, seed=seed, log_path=str(tmp_path / "stack"))
            for lr, seed in ((1e3, 1), (1e-3, 2))]  # fmt: skip
    records = train_batched(cfgs)
    assert [r["status"] for r in records] == ["diverged", "finished"]
    alone = train(cfgs[1].model_copy(update={"log_path": str(tmp_path / "alone")}), verbose=False)
    assert alone.record["val_loss"] == records[1]["val_loss"]


def test_a_loss_interval_stops_at_0_and_an_accuracy_at_1():
    """An interval of losses reaching below 0 passed: no test's seeds spread so far."""
    from mlplab.reports.aggregate import mean_std_ci, metric_bounds

    losses = np.array([0.01, 0.02, 0.9])  # the mean 0.31 less t(0.975, 2) * 0.51 / sqrt(3)
    mean, std, low, high = mean_std_ci(losses, bounds=metric_bounds("val_loss"))
    assert mean - 4.303 * std / np.sqrt(3) < 0 and low == 0.0 and high > mean
    accs = np.array([0.99, 1.0, 0.5])
    mean, std, low, high = mean_std_ci(accs, bounds=metric_bounds("val_acc"))
    assert mean + 4.303 * std / np.sqrt(3) > 1 and high == 1.0 and low < mean
    assert metric_bounds("val_r2") == (-np.inf, 1.0)


def test_a_scaled_target_is_scaled_by_the_training_rows_alone():
    """Its mean taken over the test rows passed: the model's bias absorbed the shift."""
    from mlplab.data import load_dataset
    from mlplab.data.dataset import standardize_target

    data = load_dataset("sine", n_samples=300, seed=0)
    standardize_target(data)
    assert data.target_scaler is not None
    mean, std = data.target_scaler
    np.testing.assert_allclose(mean, data.y_train.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, data.y_train.std(axis=0), rtol=1e-6)
    assert not np.allclose(mean, data.y_test.mean(axis=0), rtol=1e-6)


def test_a_settings_bounds_take_their_edges():
    """lr_gamma 1 (a constant rate) refused passed the suite: it checked only that values
    outside a bound are refused, not that the bound itself is taken."""
    from mlplab.config import Config
    from mlplab.errors import ConfigError

    assert Config(lr_gamma=1.0, lr_schedule="exponential").lr_gamma == 1.0
    for bad in (0.0, 1.0000001):
        with pytest.raises((ConfigError, ValueError)):
            Config(lr_gamma=bad)
    schedule = LrSchedule(lr=0.3, kind="exponential", gamma=1.0)
    assert [schedule.at(e, 5) for e in range(5)] == [0.3] * 5
