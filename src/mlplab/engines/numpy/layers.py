"""The NumPy engine's layers, each forward pass next to its backward pass.

Every layer has ``forward(...) -> (out, cache)`` and ``backward(cache, dout) -> (dx, grads)``:
the cache holds what the backward pass needs from the forward pass, and ``grads`` maps the
layer's parameter names (``weight``, ``bias``) to ``dloss/dparam``. Shapes use ``N`` for
rows in the batch.

Parameters are held by reference, not copied: an optimizer that updates the arrays in
place is seen by the next forward pass. Gradients are written in place into arrays the
layer owns (or that the caller hands in, such as views into one flat gradient vector), so
a training step allocates no gradient storage; the returned ``grads`` arrays are valid
until the next ``backward`` call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.engines.numpy.functional import ACTIVATIONS

Array = np.ndarray
Grads = dict[str, Array]
NO_GRADS: Grads = {}  # layers without parameters return this (shared, never written)


class Linear:
    """``y = x W^T + b``; weight ``[out, in]`` and bias ``[out]`` as in ``torch.nn.Linear``.

    ``dweight``/``dbias`` are where backward writes the gradients (allocated if omitted).
    """

    def __init__(
        self, weight: Array, bias: Array, dweight: Array | None = None, dbias: Array | None = None
    ) -> None:
        self.weight, self.bias = weight, bias
        self.dweight = np.empty_like(weight) if dweight is None else dweight
        self.dbias = np.empty_like(bias) if dbias is None else dbias
        self.grads: Grads = {"weight": self.dweight, "bias": self.dbias}

    def forward(self, x: Array) -> tuple[Array, Array]:
        """``x [N, in] -> y [N, out]``; the cache is ``x`` (needed for ``dW``)."""
        y = np.dot(x, self.weight.T)  # np.dot: less call overhead than @ on tiny arrays
        y += self.bias
        return y, x

    def backward(self, cache: Array, dy: Array, need_dx: bool = True) -> tuple[Array | None, Grads]:
        """``dy [N, out] -> dx [N, in]``; ``dW = dy^T x``, ``db = sum_rows dy``.

        ``need_dx=False`` skips ``dx`` for the first layer, whose input is the data.
        """
        x = cache
        np.dot(dy.T, x, out=self.dweight)
        # The column sums as a product with ones: BLAS sums a [N, out] array ~3x faster
        # than np.add.reduce over axis 0.
        np.dot(_ones(len(dy), dy.dtype), dy, out=self.dbias)
        dx = np.dot(dy, self.weight) if need_dx else None
        return dx, self.grads


_ONES: dict[tuple[int, np.dtype[Any]], Array] = {}


def _ones(n: int, dtype: np.dtype[Any]) -> Array:
    """A read-only vector of ``n`` ones, kept per (length, dtype): batches repeat sizes."""
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:  # minibatch sizes are few; a stray size must not grow this
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype=dtype)
        ones.flags.writeable = False
    return ones


class Activation:
    """Elementwise ``a = f(z)`` for one of ``functional.ACTIVATIONS``; no parameters."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.f, self.f_prime = ACTIVATIONS[name]

    def forward(self, z: Array) -> tuple[Array, tuple[Array, Array]]:
        """``z [N, D] -> a [N, D]``; caches ``(z, a)`` since ``f'`` may use either.

        ReLU takes a faster path: ``a = z * 1[z > 0]``, in place in ``z`` (a fresh array
        from the Linear layer), caching the 0/1 mask, which is also ``f'(z)``. NumPy's
        ``maximum`` is ~2.5x slower than the compare and multiply on float32, and the
        mask saves the backward pass from computing ``f'`` again.
        """
        if self.name == "relu":
            mask = np.greater(z, 0).astype(z.dtype)
            np.multiply(z, mask, out=z)
            return z, (mask, z)
        a = self.f(z)
        return a, (z, a)

    def backward(self, cache: tuple[Array, Array], da: Array) -> tuple[Array, Grads]:
        """``dz = da * f'(z)`` (chain rule, elementwise)."""
        if self.name == "relu":
            return np.multiply(da, cache[0]), NO_GRADS  # cache[0] is f'(z), the mask
        z, a = cache
        dz = self.f_prime(z, a)
        dz *= da
        return dz, NO_GRADS


class BatchNorm1d:
    """Batch normalization over rows, as ``torch.nn.BatchNorm1d`` (affine, tracking stats).

    Train mode normalizes with the batch mean and *biased* variance and updates
    ``running_mean``/``running_var`` in place with momentum 0.1, using the *unbiased*
    variance (as torch does). Eval mode normalizes with the running statistics.
    Parameters ``weight`` (gamma) and ``bias`` (beta) and both buffers are ``[D]``.
    """

    def __init__(
        self,
        weight: Array,
        bias: Array,
        running_mean: Array,
        running_var: Array,
        dweight: Array | None = None,
        dbias: Array | None = None,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> None:
        self.weight, self.bias = weight, bias
        self.running_mean, self.running_var = running_mean, running_var
        self.dweight = np.empty_like(weight) if dweight is None else dweight
        self.dbias = np.empty_like(bias) if dbias is None else dbias
        self.grads: Grads = {"weight": self.dweight, "bias": self.dbias}
        self.momentum, self.eps = momentum, eps

    def forward(self, x: Array, train: bool) -> tuple[Array, tuple[Array, Array, bool]]:
        """``x [N, D] -> y [N, D]``; caches ``(x_hat, gamma / std, train)``."""
        if train:
            n = x.shape[0]
            if n < 2:  # torch refuses too: one row has no variance to normalize by
                raise ValueError(
                    "batch norm in train mode needs more than 1 row per batch; "
                    "use a batch_size of 2 or more"
                )
            mean = np.add.reduce(x, axis=0) / n
            xc = x - mean
            var = np.add.reduce(xc * xc, axis=0) / n  # biased: what the batch is divided by
            inv_std = 1.0 / np.sqrt(var + self.eps)
            x_hat = xc * inv_std
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += (m * n / (n - 1)) * var  # unbiased, as torch
        else:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean) * inv_std
        y = x_hat * self.weight
        y += self.bias
        return y, (x_hat, self.weight * inv_std, train)

    def backward(self, cache: tuple[Array, Array, bool], dy: Array) -> tuple[Array, Grads]:
        """``dy [N, D] -> dx [N, D]``; ``dgamma = sum dy x_hat``, ``dbeta = sum dy``.

        In train mode the batch statistics depend on every row, which gives the
        standard closed form ``dx = gamma/std (dy - mean(dy) - x_hat mean(dy x_hat))``.
        """
        x_hat, scale, train = cache
        np.add.reduce(dy, axis=0, out=self.dbias)
        np.add.reduce(dy * x_hat, axis=0, out=self.dweight)
        if not train:  # statistics are constants
            return dy * scale, self.grads
        n = dy.shape[0]
        dx = dy - self.dbias / n
        dx -= x_hat * (self.dweight / n)
        dx *= scale
        return dx, self.grads


class Dropout:
    """Inverted dropout with rate ``p``, as ``torch.nn.Dropout``.

    Train mode keeps each element with probability ``1 - p`` and scales kept ones by
    ``1 / (1 - p)``, so eval mode is the identity. The mask comes from the explicit
    ``rng`` or, for gradient checks, from a fixed ``mask`` (0/1 or bool, shape of ``x``).
    """

    def __init__(self, p: float) -> None:
        self.p = p
        self.scale = 1.0 / (1.0 - p)

    def forward(
        self,
        x: Array,
        train: bool,
        rng: np.random.Generator | None = None,
        mask: Array | None = None,
    ) -> tuple[Array, Array | None]:
        """``x [N, D] -> y [N, D]``; caches the scaled mask (``None`` in eval mode)."""
        if not train or self.p == 0:
            return x, None
        if mask is None:
            if rng is None:
                raise ValueError("dropout in train mode needs an rng or a mask")
            mask = rng.random(x.shape, dtype=x.dtype) >= self.p  # keep with prob 1 - p
        scaled = mask.astype(x.dtype)
        scaled *= self.scale
        return x * scaled, scaled

    def backward(self, cache: Array | None, dy: Array) -> tuple[Array, Grads]:
        """Gradients flow only through kept elements, with the same scale."""
        return (dy if cache is None else dy * cache), NO_GRADS


class Residual:
    """``out = x + h``: a skip connection around a block ``h = block(x)``."""

    def forward(self, x: Array, h: Array) -> tuple[Array, None]:
        """``x, h [N, D] -> out [N, D]``; nothing to cache (the sum is linear)."""
        return x + h, None

    def backward(self, cache: Any, dout: Array) -> tuple[tuple[Array, Array], Grads]:
        """The gradient goes unchanged to both branches: ``(dx_skip, dh) = (dout, dout)``."""
        return (dout, dout), NO_GRADS
