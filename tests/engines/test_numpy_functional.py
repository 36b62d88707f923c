"""Activations and losses of the NumPy engine against torch, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlplab.engines.numpy.functional import ACTIVATIONS, LOSSES
from mlplab.engines.torch.model import ACTIVATION_MODULES

NAMES = sorted(ACTIVATIONS)
RNG_SEED = 0


def test_every_torch_activation_has_a_numpy_pair():
    assert set(ACTIVATIONS) == set(ACTIVATION_MODULES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_activation_and_derivative_match_torch(name, dtype):
    rng = np.random.default_rng(RNG_SEED)
    z = np.concatenate([rng.normal(0, 4, 200), [-50, -21, -20, 0, 20, 21, 50]]).astype(dtype)
    f, f_prime = ACTIVATIONS[name]
    a = f(z)
    da = f_prime(z, a)
    assert a.dtype == z.dtype and da.dtype == z.dtype  # no silent upcast

    zt = torch.tensor(z, requires_grad=True)
    at = ACTIVATION_MODULES[name]()(zt)
    at.sum().backward()
    tol = {"float32": 1e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=tol * 10, atol=tol)
    np.testing.assert_allclose(da, zt.grad.numpy(), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(z=arrays(np.float64, 16, elements=st.floats(-1e4, 1e4)))
def test_activations_are_finite_for_large_inputs(name, z):
    # pytest turns numpy's overflow warnings into errors, so this also checks no overflow
    f, f_prime = ACTIVATIONS[name]
    a = f(z)
    assert np.all(np.isfinite(a))
    assert np.all(np.isfinite(f_prime(z, a)))


def _torch_loss(name, out, y):
    if name == "bce":
        return torch.nn.BCEWithLogitsLoss()(out, torch.tensor(y))
    if name == "cross_entropy":
        return torch.nn.CrossEntropyLoss()(out, torch.tensor(y))
    return torch.nn.MSELoss()(out, torch.tensor(y))


def _loss_case(name, dtype, rng, scale=3.0):
    n = 16
    if name == "bce":
        return (
            rng.normal(0, scale, (n, 1)).astype(dtype),
            rng.integers(0, 2, (n, 1)).astype(dtype),
        )
    if name == "cross_entropy":
        return rng.normal(0, scale, (n, 5)).astype(dtype), rng.integers(0, 5, n)
    return rng.normal(0, scale, (n, 3)).astype(dtype), rng.normal(0, scale, (n, 3)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_and_gradient_match_torch(name, dtype):
    out, y = _loss_case(name, dtype, np.random.default_rng(1))
    loss, grad = LOSSES[name](out, y, True)
    assert isinstance(loss, float) and grad.dtype == out.dtype
    ot = torch.tensor(out, requires_grad=True)
    lt = _torch_loss(name, ot, y)
    lt.backward()
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    assert loss == pytest.approx(lt.item(), rel=tol)
    np.testing.assert_allclose(grad, ot.grad.numpy(), rtol=tol, atol=tol * 1e-2)
    loss_only, none = LOSSES[name](out, y, False)
    assert none is None and loss_only == loss


@pytest.mark.parametrize("name", ["bce", "cross_entropy"])
def test_classification_losses_are_stable_for_huge_logits(name):
    out, y = _loss_case(name, "float64", np.random.default_rng(2), scale=1e4)
    loss, grad = LOSSES[name](out, y, True)
    ot = torch.tensor(out, requires_grad=True)
    lt = _torch_loss(name, ot, y)
    lt.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(grad, ot.grad.numpy(), atol=1e-15)


def test_bce_at_zero_logits_is_ln2():
    loss, grad = LOSSES["bce"](np.zeros((4, 1)), np.array([[0.0], [1.0], [1.0], [0.0]]), True)
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(grad.ravel(), [0.125, -0.125, -0.125, 0.125])
