"""Activations and losses of the NumPy engine against torch, in float32 and float64, over K models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlplab.engines.numpy.functional import ACTIVATIONS, LOSSES
from mlplab.gradcheck import TORCH_ACTIVATIONS

NAMES = sorted(ACTIVATIONS)
RNG_SEED = 0


def test_every_activation_has_a_torch_reference():
    assert set(ACTIVATIONS) == set(TORCH_ACTIVATIONS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_activation_and_derivative_match_torch(name, dtype):
    rng = np.random.default_rng(RNG_SEED)
    z = np.concatenate([rng.normal(0, 4, 203), [-50, -21, -20, 0, 20, 21, 50]]).astype(dtype)
    z = z.reshape(3, 35, 2)  # [K, N, D]
    f, f_prime = ACTIVATIONS[name]
    a = f(z)
    da = f_prime(z, a)
    assert a.dtype == z.dtype and da.dtype == z.dtype  # no silent upcast

    zt = torch.tensor(z, requires_grad=True)
    at = TORCH_ACTIVATIONS[name]()(zt)
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


K = 3


def _torch_loss(name, out, y):
    if name == "bce":
        return torch.nn.BCEWithLogitsLoss()(out, torch.tensor(y))
    if name == "cross_entropy":
        return torch.nn.CrossEntropyLoss()(out, torch.tensor(y))
    return torch.nn.MSELoss()(out, torch.tensor(y))


def _loss_case(name, dtype, rng, scale=3.0, shared=True):
    """Outputs ``[K, N, out]`` and targets shared by the models (``[1, N, ...]``) or not."""
    n, ky = 16, 1 if shared else K
    if name == "bce":
        return (
            rng.normal(0, scale, (K, n, 1)).astype(dtype),
            rng.integers(0, 2, (ky, n, 1)).astype(dtype),
        )
    if name == "cross_entropy":
        return rng.normal(0, scale, (K, n, 5)).astype(dtype), rng.integers(0, 5, (ky, n))
    return (
        rng.normal(0, scale, (K, n, 3)).astype(dtype),
        rng.normal(0, scale, (ky, n, 3)).astype(dtype),
    )


def _torch_per_model(name, out, y):
    """Each model's torch loss and gradient: ``([K] losses, [K, N, out] gradients)``."""
    losses, grads = [], []
    for k in range(K):
        ot = torch.tensor(out[k], requires_grad=True)
        lt = _torch_loss(name, ot, y[k if len(y) == K else 0])
        lt.backward()
        losses.append(lt.item())
        grads.append(ot.grad.numpy())
    return np.array(losses), np.stack(grads)


@pytest.mark.parametrize("shared", [True, False], ids=["shared-targets", "own-targets"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_and_gradient_match_torch_per_model(name, dtype, shared):
    out, y = _loss_case(name, dtype, np.random.default_rng(1), shared=shared)
    loss, grad = LOSSES[name](out, y, True)
    assert loss.shape == (K,) and loss.dtype == np.float64 and grad.dtype == out.dtype
    ref_loss, ref_grad = _torch_per_model(name, out, y)
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(loss, ref_loss, rtol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol * 1e-2)
    loss_only, none = LOSSES[name](out, y, False)
    assert none is None
    np.testing.assert_array_equal(loss_only, loss)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_each_models_loss_depends_on_its_own_outputs_only(name):
    out, y = _loss_case(name, "float64", np.random.default_rng(4))
    loss, grad = LOSSES[name](out, y, True)
    out2 = out.copy()
    out2[1, :, 0] += 1.0  # change model 1 only (its first output: softmax is shift-invariant)
    loss2, grad2 = LOSSES[name](out2, y, True)
    assert loss2[1] != loss[1]
    np.testing.assert_array_equal(loss2[[0, 2]], loss[[0, 2]])
    np.testing.assert_array_equal(grad2[[0, 2]], grad[[0, 2]])


@pytest.mark.parametrize("name", ["bce", "cross_entropy"])
def test_classification_losses_are_stable_for_huge_logits(name):
    out, y = _loss_case(name, "float64", np.random.default_rng(2), scale=1e4)
    loss, grad = LOSSES[name](out, y, True)
    ref_loss, ref_grad = _torch_per_model(name, out, y)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, atol=1e-15)


def test_bce_at_zero_logits_is_ln2():
    y = np.array([[0.0], [1.0], [1.0], [0.0]])[None]
    loss, grad = LOSSES["bce"](np.zeros((2, 4, 1)), y, True)
    np.testing.assert_allclose(loss, [np.log(2)] * 2)
    np.testing.assert_allclose(grad[:, :, 0], [[0.125, -0.125, -0.125, 0.125]] * 2)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_an_activation_of_integers_as_typed_at_a_prompt(name: str) -> None:
    """sigmoid(np.array([0, 1, 2])) raised KeyError 'l' (no overflow cap for integers), and
    leaky_relu' cast its slope 0.01 to the input's integer type, 0."""
    f, f_prime = ACTIVATIONS[name]
    z = np.array([[-2, 0, 3]])
    exact = z.astype(np.float64)
    a = f(z.copy())
    np.testing.assert_allclose(a, f(exact.copy()))
    np.testing.assert_allclose(f_prime(z.copy(), a), f_prime(exact.copy(), f(exact.copy())))


def test_the_readmes_activations_table_documents_every_name_and_the_codes_constants():
    """Each name `act` takes (aliases too) has its row of f(z) and f'(z) in the README, with
    the constants this engine uses: a new activation must be documented there."""
    import math
    import re
    from pathlib import Path

    from mlplab.config import ACTIVATIONS as ACCEPTED
    from mlplab.config import CHOICE_ALIASES
    from mlplab.engines.numpy import functional as fn

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### Activations\n", 1)[1].split("\n#", 1)[0]
    table = section.split("|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = table.splitlines()
    first_cells = [line.split("|")[1] for line in rows]
    listed = [name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)]
    assert sorted(listed) == sorted([*ACCEPTED, *CHOICE_ALIASES["act"]])
    assert [re.findall(r"`(\w+)`", cell)[0] for cell in first_cells] == list(ACCEPTED)
    assert set(ACCEPTED) == set(ACTIVATIONS)
    row = {re.findall(r"`(\w+)`", line)[0]: line for line in rows}
    assert f"slope {fn.LEAKY_SLOPE:g}" in row["leaky_relu"]
    assert f"λ = {fn.SELU_SCALE!r}" in row["selu"] and f"α = {fn.SELU_ALPHA!r}" in row["selu"]
    assert f"threshold {fn.SOFTPLUS_THRESHOLD:g}" in row["softplus"]
    # The formulas' values at a few points, as the engine computes them.
    z = np.array([-3.0, -0.5, 0.5, 3.0])
    assert np.allclose(fn.elu(z), np.where(z > 0, z, 1.0 * np.expm1(z)))  # α = 1
    gelu = 0.5 * z * (1 + np.array([math.erf(v / math.sqrt(2)) for v in z]))
    assert np.allclose(fn.gelu(z), gelu, rtol=1e-12)  # the exact form
    assert np.allclose(fn.softplus(z), np.log1p(np.exp(z)))  # β = 1
