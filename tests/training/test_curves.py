"""The curves come from the training steps themselves, sampled at each validation."""

from __future__ import annotations

import numpy as np
import pytest

import mlplab


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_train_curve_is_the_steps_own_forward(tmp_path, engine):
    # Full batch on the logic gate: train = val rows. The loss and accuracy of epoch e+1's
    # step are computed before its update, i.e. by the weights that epoch e's validation
    # evaluated; the two curves must therefore be shifted copies of each other.
    r = mlplab.train(
        data="xor",
        n_layer=1,
        hid_dim=4,
        act="tanh",
        lr=0.5,
        epoch=30,
        engine=engine,
        log_path=str(tmp_path),
        plots="none",
        verbose=False,
    ).record
    assert r["val_epochs"] == list(range(1, 31))
    np.testing.assert_allclose(r["train_losses"][1:], r["val_losses"][:-1], rtol=1e-5)
    assert r["train_accs"][1:] == r["val_accs"][:-1]


def test_curves_are_sampled_at_validation(tmp_path):
    r = mlplab.train(
        data="moons",
        n_layer=1,
        hid_dim=8,
        epoch=10,
        batch_size=32,
        validate_every=4,
        log_path=str(tmp_path),
        plots="none",
        verbose=False,
    ).record
    assert r["val_epochs"] == [4, 8, 10]
    for curve in ("train_losses", "val_losses", "train_accs", "val_accs", "lrs"):
        assert len(r[curve]) == 3, curve
    assert all(0.0 <= a <= 1.0 for a in r["train_accs"])
