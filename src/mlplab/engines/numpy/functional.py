"""Activations and losses, each forward next to its derivative.

``ACTIVATIONS[name]`` is a pair ``(f, df)``: ``a = f(z)`` and ``df(z, a) = da/dz``
elementwise, where ``z`` is the pre-activation and ``a = f(z)`` the cached output (some
derivatives are cheapest from the output, e.g. sigmoid's ``a (1 - a)``). Every formula
follows PyTorch's module of the same name, including its constants and its choice at
kinks (``relu'(0) = 0``, ``leaky_relu'(0) = 0.01``), so the NumPy engine and the torch
engine compute the same numbers.

``LOSSES[name]`` is ``loss(out, y, need_grad) -> (loss, dloss/dout)`` over a leading model
axis K: ``out`` is ``[K, N, out_dim]``, ``loss`` each model's mean loss ``[K]`` (float64)
and ``dloss/dout`` its gradient with respect to the model's output (logits or values),
``[K, N, out_dim]``, or ``None`` when ``need_grad`` is false; optional row weights ``w``
scale each row's terms (see :func:`weighted`). The K models' losses are independent.

The activations keep the dtype of their input, float32 or float64 as the engine casts its
data (integers typed at a prompt give most of them as float64; relu and identity keep
them integers); the losses return float64, as said above. Each derivative takes the dtype
of ``a``, the activation's output.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Array = np.ndarray


def expit(z: Array) -> Array:
    """The logistic function 1 / (1 + exp(-z)), within a few ulp of ``scipy.special.expit``.

    Written in NumPy because importing ``scipy.special`` costs ~0.15 s, more than a
    lab-sized run trains, and its float32 loop is ~4x slower than these in-place ufuncs
    on large arrays. ``-z`` is capped where ``exp`` would overflow its dtype; there the
    result (< 1e-38 in float32) is as good as the exact one.
    """
    out = np.negative(z)
    cap = _EXP_MAX.get(out.dtype.char)
    if cap is None:  # integers typed at a prompt, sigmoid(np.array([0, 1, 2])); off the hot path
        out, cap = np.negative(z.astype(np.float64)), _EXP_MAX["d"]
    np.minimum(out, cap, out=out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


# The largest x whose exp(x) is finite, by dtype: float32 (f) and float64 (d).
_EXP_MAX: dict[str, float] = {"f": 88.0, "d": 709.0, "e": 11.0}


def _erf(z: Array) -> Array:
    from scipy.special import erf  # only GELU needs it; see expit for why it is imported late

    return erf(z)


# --- activations: f(z) and df(z, a) side by side ---------------------------------------------


def sigmoid(z: Array) -> Array:
    return expit(z)  # 1 / (1 + exp(-z)) without overflow for large |z|


def sigmoid_prime(z: Array, a: Array) -> Array:
    return a * (1 - a)


def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_prime(z: Array, a: Array) -> Array:
    return 1 - a * a


def relu(z: Array) -> Array:
    return np.maximum(z, 0)


def relu_prime(z: Array, a: Array) -> Array:
    return (z > 0).astype(z.dtype)  # 0 at z = 0, as torch


LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default negative_slope


def leaky_relu(z: Array) -> Array:
    return np.where(z > 0, z, z * LEAKY_SLOPE)


def leaky_relu_prime(z: Array, a: Array) -> Array:
    return np.where(z > 0, 1, LEAKY_SLOPE).astype(a.dtype)


def elu(z: Array) -> Array:
    # expm1 of min(z, 0): exp is never taken of a large positive number (no overflow).
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))  # alpha = 1


def elu_prime(z: Array, a: Array) -> Array:
    return np.where(z > 0, 1, np.exp(np.minimum(z, 0))).astype(
        a.dtype
    )  # not a + 1: exact for z << 0


# torch.nn.SELU's constants (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(z: Array) -> Array:
    neg = SELU_ALPHA * np.expm1(np.minimum(z, 0))
    return SELU_SCALE * np.where(z > 0, z, neg)


def selu_prime(z: Array, a: Array) -> Array:
    return SELU_SCALE * np.where(z > 0, 1, SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(a.dtype)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu(z: Array) -> Array:
    return 0.5 * z * (1 + _erf(z * _SQRT_HALF))  # exact form, torch.nn.GELU(approximate='none')


def gelu_prime(z: Array, a: Array) -> Array:
    # Phi(z) + z phi(z), with Phi the normal CDF and phi its density.
    return 0.5 * (1 + _erf(z * _SQRT_HALF)) + z * np.exp(-0.5 * z * z) * _INV_SQRT_2PI


def silu(z: Array) -> Array:
    return z * expit(z)


def silu_prime(z: Array, a: Array) -> Array:
    s = expit(z)
    return s * (1 + z * (1 - s))


SOFTPLUS_THRESHOLD = 20.0  # torch.nn.Softplus: above it, softplus(z) = z (beta = 1)


def softplus(z: Array) -> Array:
    # min(z, threshold) keeps exp finite where the linear branch is taken anyway.
    return np.where(z > SOFTPLUS_THRESHOLD, z, np.log1p(np.exp(np.minimum(z, SOFTPLUS_THRESHOLD))))


def softplus_prime(z: Array, a: Array) -> Array:
    return np.where(z > SOFTPLUS_THRESHOLD, 1, expit(z)).astype(a.dtype)


def mish(z: Array) -> Array:
    return z * np.tanh(np.logaddexp(0, z))  # z tanh(softplus(z)); torch uses no threshold here


def mish_prime(z: Array, a: Array) -> Array:
    t = np.tanh(np.logaddexp(0, z))
    return t + z * expit(z) * (1 - t * t)


def identity(z: Array) -> Array:
    return z


def identity_prime(z: Array, a: Array) -> Array:
    return np.ones_like(z)


ActFn = Callable[[Array], Array]
ActPrime = Callable[[Array, Array], Array]

ACTIVATIONS: dict[str, tuple[ActFn, ActPrime]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "elu": (elu, elu_prime),
    "selu": (selu, selu_prime),
    "gelu": (gelu, gelu_prime),
    "silu": (silu, silu_prime),
    "softplus": (softplus, softplus_prime),
    "mish": (mish, mish_prime),
    "identity": (identity, identity_prime),
}

# --- losses: each model's mean loss and its gradient with respect to the model output ---------

LossResult = tuple[Array, Array | None]
Weights = Array | None  # row weights [K or 1, N, 1], mean 1 over the split; None: all 1


def weighted(x: Array, w: Weights) -> Array:
    """``x [K, N, ...]`` with each row's terms times its weight: a weighted mean loss."""
    return x if w is None else x * w


def per_model_mean(x: Array) -> Array:
    """Each model's mean of ``x [K, ...]`` as float64 ``[K]``, summed in ``x``'s dtype.

    Each model's elements are summed as one contiguous row (``x`` is copied if it is not
    laid out so), by the same pairwise summation alone or in a stack. Speed note: with K = 1 the one sum
    is taken as a Python float, ~1 us cheaper than a reduction over an axis followed by
    a division, which is noticeable in a tiny model's step.
    """
    K = x.shape[0]
    n = x.size // K
    if K == 1:
        return np.array([float(np.add.reduce(x, axis=None)) / n])
    return np.add.reduce(x.reshape(K, n), axis=1).astype(np.float64) / n


def bce_with_logits(
    logits: Array, y: Array, need_grad: bool = True, w: Weights = None
) -> LossResult:
    """Binary cross-entropy on logits, as ``torch.nn.BCEWithLogitsLoss`` (mean), per model.

    ``logits`` float ``[K, N, 1]``; ``y`` float ``[N, 1]`` (shared by the K models) or
    ``[K, N, 1]``, in {0, 1}. Per model, with ``n = N`` outputs and ``s = sigmoid(z)``:
    ``loss = mean(softplus(z) - z y)``, the stable form of ``-y log s - (1-y) log(1-s)``;
    ``dloss/dz = (s - y) / n``.
    """
    per_row = np.logaddexp(0, logits)  # softplus(z) = log(1 + e^z), stable both ways
    per_row -= logits * y
    loss = per_model_mean(weighted(per_row, w))
    if not need_grad:
        return loss, None
    grad = expit(logits)
    grad -= y
    grad *= logits.shape[0] / logits.size  # 1 / n, as K / (K n) rounds the same
    return loss, weighted(grad, w)


def cross_entropy(logits: Array, y: Array, need_grad: bool = True, w: Weights = None) -> LossResult:
    """Softmax cross-entropy, as ``torch.nn.CrossEntropyLoss`` (mean over rows), per model.

    ``logits`` float ``[K, N, C]``; ``y`` int class indices ``[N]`` (shared) or ``[K, N]``.
    ``loss = -mean_i log_softmax(z)[i, y_i]``; ``dloss/dz = (softmax(z) - onehot(y)) / N``.
    """
    n = logits.shape[1]
    yk = np.broadcast_to(y, logits.shape[:2])[..., None]  # [K, N, 1], for take_along_axis
    shifted = logits - logits.max(axis=2, keepdims=True)  # exp never overflows
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=2, keepdims=True)
    log_prob_true = np.take_along_axis(shifted, yk, axis=2) - np.log(sum_exp)  # [K, N, 1]
    loss = -per_model_mean(weighted(log_prob_true, w))
    if not need_grad:
        return loss, None
    grad = exp / sum_exp  # softmax
    np.put_along_axis(grad, yk, np.take_along_axis(grad, yk, axis=2) - 1, axis=2)
    grad *= 1.0 / n
    return loss, weighted(grad, w)


def mse(out: Array, y: Array, need_grad: bool = True, w: Weights = None) -> LossResult:
    """Mean squared error over all outputs, as ``torch.nn.MSELoss``, per model.

    ``out`` float ``[K, N, T]``; ``y`` float ``[N, T]`` (shared) or ``[K, N, T]``.
    ``loss = mean((out - y)^2)``; ``dloss/dout = 2 (out - y) / (N T)``.
    """
    diff = out - y
    loss = per_model_mean(weighted(diff * diff, w))
    if not need_grad:
        return loss, None
    diff *= 2.0 * diff.shape[0] / diff.size  # 2 / (N T), as 2 K / (K N T) rounds the same
    return loss, weighted(diff, w)


LossFn = Callable[..., LossResult]  # (out, y, need_grad=True, w=None)

LOSSES: dict[str, LossFn] = {
    "bce": bce_with_logits,
    "cross_entropy": cross_entropy,
    "mse": mse,
}
