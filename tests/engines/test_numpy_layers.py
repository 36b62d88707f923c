"""NumPy layers: forward values against torch, dropout and batch-norm modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.engines.numpy.layers import Activation, BatchNorm1d, Dropout, Linear, Residual


def test_linear_forward_matches_torch_and_writes_grads_in_place():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(7, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    dw, db = np.zeros_like(w), np.zeros_like(b)
    layer = Linear(w, b, dw, db)
    y, cache = layer.forward(x)
    np.testing.assert_allclose(y, torch.nn.functional.linear(*map(torch.tensor, (x, w, b))).numpy())
    dy = rng.normal(size=(7, 4))
    dx, grads = layer.backward(cache, dy)
    assert grads["weight"] is dw and grads["bias"] is db  # into the arrays handed in
    np.testing.assert_allclose(dw, dy.T @ x)
    np.testing.assert_allclose(db, dy.sum(0))
    np.testing.assert_allclose(dx, dy @ w)
    assert layer.backward(cache, dy, need_dx=False)[0] is None


def test_linear_sees_in_place_parameter_updates():
    w, b = np.ones((1, 2)), np.zeros(1)
    layer = Linear(w, b)
    w *= 2  # what an optimizer does
    assert layer.forward(np.array([[1.0, 1.0]]))[0][0, 0] == 4.0


def test_activation_backward_is_chain_rule():
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    act = Activation("tanh")
    _, cache = act.forward(z)
    dz, grads = act.backward(cache, np.full_like(z, 2.0))
    np.testing.assert_allclose(dz, 2 * (1 - np.tanh(z) ** 2))
    assert grads == {}


def _dropout_input(dtype="float64"):
    return np.random.default_rng(1).normal(size=(400, 50)).astype(dtype) + 3


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_train_drops_and_scales_eval_is_identity(p):
    x = _dropout_input()
    layer = Dropout(p)
    y, cache = layer.forward(x, True, np.random.default_rng(0))
    dropped = y == 0
    assert abs(dropped.mean() - p) < 0.01  # 20000 elements: ~0.003 standard error
    np.testing.assert_allclose(y[~dropped], x[~dropped] / (1 - p))  # inverted dropout
    assert abs(y.mean() / x.mean() - 1) < 0.02  # expectation preserved
    dx, _ = layer.backward(cache, np.ones_like(x))
    np.testing.assert_array_equal(dx == 0, dropped)  # gradient through kept units only

    y_eval, cache_eval = layer.forward(x, False, np.random.default_rng(0))
    assert y_eval is x and cache_eval is None
    assert layer.backward(cache_eval, x)[0] is x


def test_dropout_mask_comes_from_the_generator_or_a_fixed_mask():
    x, layer = _dropout_input("float32"), Dropout(0.3)
    y1, _ = layer.forward(x, True, np.random.default_rng(5))
    y2, _ = layer.forward(x, True, np.random.default_rng(5))
    y3, _ = layer.forward(x, True, np.random.default_rng(6))
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(y1, y3)
    assert y1.dtype == np.float32
    mask = np.zeros(x.shape, dtype=bool)
    mask[:, 0] = True
    y, _ = layer.forward(x, True, mask=mask)
    np.testing.assert_allclose(y[:, 0], x[:, 0] / 0.7, rtol=1e-6)
    assert not y[:, 1:].any()
    with pytest.raises(ValueError, match="rng"):
        layer.forward(x, True)


def _bn(d, rng):
    return BatchNorm1d(rng.normal(1, 0.3, d), rng.normal(0, 0.3, d), np.zeros(d), np.ones(d))


def test_batchnorm_running_stats_and_modes_match_torch():
    rng = np.random.default_rng(2)
    layer = _bn(4, rng)
    tbn = torch.nn.BatchNorm1d(4).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor(layer.weight))
        tbn.bias.copy_(torch.tensor(layer.bias))
    tbn.train()
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(10, 4))
        y, _ = layer.forward(x, True)
        np.testing.assert_allclose(y, tbn(torch.tensor(x)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, tbn.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.running_var, tbn.running_var.numpy(), atol=1e-12)

    # eval mode normalizes with the running statistics, not the batch's
    x = rng.normal(-5.0, 0.1, size=(6, 4))
    y, _ = layer.forward(x, False)
    expected = (x - layer.running_mean) / np.sqrt(
        layer.running_var + 1e-5
    ) * layer.weight + layer.bias
    np.testing.assert_allclose(y, expected, atol=1e-12)
    tbn.eval()
    np.testing.assert_allclose(y, tbn(torch.tensor(x)).detach().numpy(), atol=1e-12)
    before = layer.running_mean.copy()
    layer.forward(x, False)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval leaves stats alone


def test_batchnorm_train_output_is_normalized_per_feature():
    rng = np.random.default_rng(3)
    layer = BatchNorm1d(np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    y, _ = layer.forward(rng.normal(7.0, 4.0, size=(32, 3)), True)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), 1, atol=1e-3)  # eps 1e-5 shrinks it a little


def test_batchnorm_refuses_one_row_in_train_mode():
    layer = BatchNorm1d(np.ones(2), np.zeros(2), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="more than 1 row"):
        layer.forward(np.ones((1, 2)), True)
    layer.forward(np.ones((1, 2)), False)  # eval mode is fine


def test_residual_adds_and_passes_gradient_to_both_branches():
    x, h = np.ones((2, 3)), np.full((2, 3), 2.0)
    out, cache = Residual().forward(x, h)
    np.testing.assert_array_equal(out, 3.0)
    (dx, dh), grads = Residual().backward(cache, out)
    assert dx is out and dh is out and grads == {}
