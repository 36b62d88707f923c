"""NumPy layers over a model axis K: forward values against torch, dropout and batch-norm modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.engines.numpy.layers import Activation, BatchNorm1d, Dropout, Linear, Residual

K = 3


def _linear(rng, k=K):
    w, b = rng.normal(size=(k, 4, 3)), rng.normal(size=(k, 1, 4))
    return w, b, np.zeros_like(w), np.zeros_like(b)


@pytest.mark.parametrize("k", [1, K])
@pytest.mark.parametrize("shared", [False, True], ids=["own-rows", "shared-input"])
def test_linear_matches_torch_per_model_and_writes_grads_in_place(k, shared):
    rng = np.random.default_rng(0)
    w, b, dw, db = _linear(rng, k)
    x = rng.normal(size=(7, 3) if shared else (k, 7, 3))
    layer = Linear(w, b, dw, db)
    y, cache = layer.forward(x)
    assert y.shape == (k, 7, 4)
    dy = rng.normal(size=(k, 7, 4))
    dx, grads = layer.backward(cache, dy)
    assert grads["weight"] is dw and grads["bias"] is db  # into the arrays handed in
    for m in range(k):
        xm = x if shared else x[m]
        ref = torch.nn.functional.linear(*map(torch.tensor, (xm, w[m], b[m, 0])))
        np.testing.assert_allclose(y[m], ref.numpy(), rtol=1e-12)
        np.testing.assert_allclose(dw[m], dy[m].T @ xm, rtol=1e-12)
        np.testing.assert_allclose(db[m, 0], dy[m].sum(0), rtol=1e-12)
        np.testing.assert_allclose(dx[m], dy[m] @ w[m], rtol=1e-12)
    assert layer.backward(cache, dy, need_dx=False)[0] is None


def test_linear_gradients_land_in_strided_views():
    # As the MLP hands them in: views into one flat [K, P] gradient array.
    rng = np.random.default_rng(1)
    flat = np.zeros((K, 12 + 4 + 5))
    dw, db = flat[:, :12].reshape(K, 4, 3), flat[:, None, 12:16]
    w, b, _, _ = _linear(rng)
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(K, 5, 4))
    layer = Linear(w, b, dw, db)
    layer.backward(layer.forward(x)[1], dy)
    np.testing.assert_allclose(flat[:, :12].reshape(K, 4, 3), dy.transpose(0, 2, 1) @ x)
    np.testing.assert_allclose(flat[:, 12:16], dy.sum(1))
    assert not flat[:, 16:].any()  # nothing written past the layer's parameters


def test_linear_sees_in_place_parameter_updates():
    w, b = np.ones((2, 1, 2)), np.zeros((2, 1, 1))
    layer = Linear(w, b)
    w[1] *= 2  # what an optimizer does, to model 1 only
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 1.0]]))[0][:, 0, 0], [2.0, 4.0])


def test_activation_backward_is_chain_rule():
    z = np.linspace(-3, 3, 24).reshape(2, 3, 4)
    act = Activation("tanh")
    _, cache = act.forward(z)
    dz, grads = act.backward(cache, np.full_like(z, 2.0))
    np.testing.assert_allclose(dz, 2 * (1 - np.tanh(z) ** 2))
    assert grads == {}


def _dropout_input(dtype="float64", k=1):
    return np.random.default_rng(1).normal(size=(k, 400, 50)).astype(dtype) + 3


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_train_drops_and_scales_eval_is_identity(p):
    x = _dropout_input()
    layer = Dropout(p)
    y, cache = layer.forward(x, True, [np.random.default_rng(0)])
    dropped = y == 0
    assert abs(dropped.mean() - p) < 0.01  # 20000 elements: ~0.003 standard error
    np.testing.assert_allclose(y[~dropped], x[~dropped] / (1 - p))  # inverted dropout
    assert abs(y.mean() / x.mean() - 1) < 0.02  # expectation preserved
    dx, _ = layer.backward(cache, np.ones_like(x))
    np.testing.assert_array_equal(dx == 0, dropped)  # gradient through kept units only

    y_eval, cache_eval = layer.forward(x, False, [np.random.default_rng(0)])
    assert y_eval is x and cache_eval is None
    assert layer.backward(cache_eval, x)[0] is x


def test_dropout_each_model_draws_its_own_mask_as_alone():
    # Model k's mask is its own generator's draw of one model's shape, whatever the stack.
    x = _dropout_input("float32", k=3)
    rates = np.array([0.3, 0.0, 0.5])
    y, _ = Dropout(rates).forward(x, True, [np.random.default_rng(s) for s in (5, 6, 7)])
    for k, seed in ((0, 5), (2, 7)):
        alone, _ = Dropout(rates[k]).forward(x[k : k + 1], True, [np.random.default_rng(seed)])
        np.testing.assert_array_equal(y[k], alone[0])
    np.testing.assert_array_equal(y[1], x[1])  # rate 0: kept whole, unscaled
    assert abs((y[2] == 0).mean() - 0.5) < 0.01 and abs((y[0] == 0).mean() - 0.3) < 0.01
    assert y.dtype == np.float32


def test_dropout_rate_zero_draws_nothing():
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    Dropout(np.array([0.0, 0.2])).forward(
        _dropout_input(k=2), True, [rng, np.random.default_rng(0)]
    )
    assert rng.bit_generator.state == before


def test_dropout_mask_comes_from_the_generator_or_a_fixed_mask():
    x, layer = _dropout_input("float32"), Dropout(0.3)
    y1, _ = layer.forward(x, True, [np.random.default_rng(5)])
    y2, _ = layer.forward(x, True, [np.random.default_rng(5)])
    y3, _ = layer.forward(x, True, [np.random.default_rng(6)])
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(y1, y3)
    mask = np.zeros(x.shape, dtype=bool)
    mask[:, :, 0] = True
    y, _ = layer.forward(x, True, mask=mask)
    np.testing.assert_allclose(y[:, :, 0], x[:, :, 0] / 0.7, rtol=1e-6)
    assert not y[:, :, 1:].any()
    with pytest.raises(ValueError, match="rng"):
        layer.forward(x, True)


def _bn(d, rng, k=K):
    return BatchNorm1d(
        rng.normal(1, 0.3, (k, 1, d)),
        rng.normal(0, 0.3, (k, 1, d)),
        np.zeros((k, 1, d)),
        np.ones((k, 1, d)),
    )


def test_batchnorm_running_stats_and_modes_match_torch_per_model():
    rng = np.random.default_rng(2)
    layer = _bn(4, rng)
    tbns = [torch.nn.BatchNorm1d(4).double().train() for _ in range(K)]
    for k, tbn in enumerate(tbns):
        with torch.no_grad():
            tbn.weight.copy_(torch.tensor(layer.weight[k, 0]))
            tbn.bias.copy_(torch.tensor(layer.bias[k, 0]))
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(K, 10, 4))
        y, _ = layer.forward(x, True)
        for k, tbn in enumerate(tbns):
            np.testing.assert_allclose(y[k], tbn(torch.tensor(x[k])).detach().numpy(), atol=1e-12)
    for k, tbn in enumerate(tbns):
        np.testing.assert_allclose(layer.running_mean[k, 0], tbn.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.running_var[k, 0], tbn.running_var.numpy(), atol=1e-12)

    # eval mode normalizes with the running statistics, not the batch's
    x = rng.normal(-5.0, 0.1, size=(K, 6, 4))
    y, _ = layer.forward(x, False)
    expected = (x - layer.running_mean) / np.sqrt(
        layer.running_var + 1e-5
    ) * layer.weight + layer.bias
    np.testing.assert_allclose(y, expected, atol=1e-12)
    for k, tbn in enumerate(tbns):
        tbn.eval()
        np.testing.assert_allclose(y[k], tbn(torch.tensor(x[k])).detach().numpy(), atol=1e-12)
    before = layer.running_mean.copy()
    layer.forward(x, False)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval leaves stats alone


def test_batchnorm_train_output_is_normalized_per_model_and_feature():
    rng = np.random.default_rng(3)
    layer = BatchNorm1d(
        np.ones((2, 1, 3)), np.zeros((2, 1, 3)), np.zeros((2, 1, 3)), np.ones((2, 1, 3))
    )
    x = rng.normal(7.0, 4.0, size=(2, 32, 3))
    x[1] = x[1] * 10 - 50  # another model, other statistics
    y, _ = layer.forward(x, True)
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(1), 1, atol=1e-3)  # eps 1e-5 shrinks it a little


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_backward_matches_autograd_per_model(train):
    """A slip in batch norm's backward pass (the batch mean's term dropped) passed this
    file: only the whole-model gradient check saw it."""
    rng = np.random.default_rng(4)
    layer = _bn(3, rng)
    layer.running_mean[:] = rng.normal(size=layer.running_mean.shape)
    layer.running_var[:] = rng.uniform(0.5, 2.0, size=layer.running_var.shape)
    x = rng.normal(1.0, 2.0, size=(K, 8, 3))
    dy = rng.normal(size=(K, 8, 3))
    _, cache = layer.forward(x, train)
    dx, grads = layer.backward(cache, dy)
    for k in range(K):
        tbn = torch.nn.BatchNorm1d(3).double().train(train)
        with torch.no_grad():
            tbn.weight.copy_(torch.tensor(layer.weight[k, 0]))
            tbn.bias.copy_(torch.tensor(layer.bias[k, 0]))
            tbn.running_mean.copy_(torch.tensor(layer.running_mean[k, 0]))
            tbn.running_var.copy_(torch.tensor(layer.running_var[k, 0]))
        tx = torch.tensor(x[k], requires_grad=True)
        tbn(tx).backward(torch.tensor(dy[k]))
        np.testing.assert_allclose(dx[k], tx.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(grads["weight"][k, 0], tbn.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(grads["bias"][k, 0], tbn.bias.grad.numpy(), atol=1e-10)


def test_batchnorm_refuses_one_row_in_train_mode():
    layer = _bn(2, np.random.default_rng(0), k=1)
    with pytest.raises(ValueError, match="more than 1 row"):
        layer.forward(np.ones((1, 1, 2)), True)
    layer.forward(np.ones((1, 1, 2)), False)  # eval mode is fine


def test_residual_adds_and_passes_gradient_to_both_branches():
    x, h = np.ones((2, 2, 3)), np.full((2, 2, 3), 2.0)
    out, cache = Residual().forward(x, h)
    np.testing.assert_array_equal(out, 3.0)
    (dx, dh), grads = Residual().backward(cache, out)
    assert dx is out and dh is out and grads == {}
