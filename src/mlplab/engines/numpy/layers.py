"""The NumPy engine's layers over a leading model axis K, each forward pass next to its backward.

K models of one shape train side by side; a single run is K = 1. Activations are
``[K, N, D]`` (model, row, feature), weights ``[K, out, in]`` and biases ``[K, 1, out]``, so a
bias broadcasts over the rows of its own model. Read with K = 1, every formula is the
lecture's manual backprop for one model (the backward column runs bottom to top)::

    forward                      backward (d_x means dloss/dx)
    l1 = X W1^T + b1             d_W1 = d_l1^T X,  d_b1 = sum over rows of d_l1
    a1 = sigmoid(l1)             d_l1 = d_a1 * sigmoid'(l1)
    l2 = a1 W2^T + b2            d_a1 = d_l2 W2

(the lecture writes ``X @ w1`` with ``w1 [in, out]``; mlplab stores ``W [out, in]`` as
``torch.nn.Linear`` does, hence the transposes). Two differences from the slides: the
loss here is the mean over the batch, so its gradient carries the ``1/N`` (the slides'
gradients are sums over rows), and ``d_b1`` is summed over the rows where the slides keep
one row per example and average it in the update. The step is the same;
``mlplab backprop --form lecture`` prints the slides' own quantities beside these.
With K models each product is done per model, ``[K, N, in] @ [K, in, out]``; nothing
mixes two models.

Every layer has ``forward(...) -> (out, cache)`` and ``backward(cache, dout) -> (dx, grads)``:
the cache holds what the backward pass needs from the forward pass (each ``forward`` says
what), and ``grads`` maps the layer's parameter names (``weight``, ``bias``) to
``dloss/dparam``, shaped as the parameter. Two exceptions, each said where it is:
``Linear.backward`` returns ``dx = None`` when asked not to compute it (the first layer,
whose input is the data), and ``Residual.backward`` returns the two branches' gradients.

Parameters are held by reference, not copied: an optimizer that updates the arrays in
place is seen by the next forward pass. Gradients are written in place into arrays the
layer owns (or that the caller hands in, such as views into one flat gradient array), so
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
    """``z = x W^T + b`` per model; weight ``[K, out, in]``, bias ``[K, 1, out]``.

    ``dweight``/``dbias`` are where backward writes the gradients (allocated if omitted).

    Speed note: with K = 1 (a single run) both passes multiply the 2-D matrices of the one
    model with ``np.dot``, which is the lecture's formula as written. ``np.matmul`` on 3-D
    arrays goes through the generalized-ufunc machinery, which costs a few microseconds
    more per call: for a tiny model such as the xor lab, whose whole step takes ~30 us,
    that alone would slow a single run down by a third. The numbers are the same.
    """

    def __init__(
        self, weight: Array, bias: Array, dweight: Array | None = None, dbias: Array | None = None
    ) -> None:
        self.weight, self.bias = weight, bias
        self.dweight = np.empty_like(weight) if dweight is None else dweight
        self.dbias = np.empty_like(bias) if dbias is None else dbias
        self.grads: Grads = {"weight": self.dweight, "bias": self.dbias}
        # K = 1: the one model's 2-D views, made once (see the speed note).
        self.single = weight.shape[0] == 1
        self._w, self._dw, self._db = weight[0], self.dweight[0], self.dbias[0, 0]
        self._wt, self._b = self._w.T, bias[0, 0]
        self._ones = _ones(0, weight.dtype)  # the last batch's, kept: most batches repeat it

    def forward(self, x: Array) -> tuple[Array, Array]:
        """``x [K, N, in] -> z [K, N, out]``; the cache is ``x`` (needed for ``dW``).

        ``x`` may also be ``[N, in]``: the same data for every model (the network's input
        on a full batch). With K = 1 the cache is the one model's ``[N, in]``.

        Each model gets its own product, as alone, so a stack's numbers equal its single
        runs' bit for bit. (One product of ``x`` with all K weight matrices side by side
        rounds differently; it is 4-15% faster for 128-256 xor models and 15-20% slower
        for larger ones: ``benchmarks/bench_stack_products.py``.)
        """
        if self.single:
            x1 = x if x.ndim == 2 else x[0]
            z1 = np.dot(x1, self._wt)
            z1 += self._b
            return z1[None], x1  # the cache as [N, in]: backward needs the 2-D matrix
        z = np.matmul(x, self.weight.transpose(0, 2, 1))
        z += self.bias
        return z, x

    def backward(self, cache: Array, dz: Array, need_dx: bool = True) -> tuple[Array | None, Grads]:
        """``dz [K, N, out] -> dx [K, N, in]``; ``dW = dz^T x``, ``db = sum_rows dz``, ``dx = dz W``.

        ``need_dx=False`` skips ``dx`` for the first layer, whose input is the data.
        """
        x = cache
        ones = self._ones  # row sums as a product with ones, see _ones
        if len(ones) != dz.shape[1]:  # the batch size changed (the last minibatch)
            ones = self._ones = _ones(dz.shape[1], dz.dtype)
        if self.single:
            dz1 = dz[0]
            np.dot(dz1.T, x, out=self._dw)
            np.dot(ones, dz1, out=self._db)
            return (np.dot(dz1, self._w)[None] if need_dx else None), self.grads
        np.matmul(dz.transpose(0, 2, 1), x, out=self.dweight)
        np.matmul(ones[None], dz, out=self.dbias)  # [1, N] @ [K, N, out] -> [K, 1, out]
        return (np.matmul(dz, self.weight) if need_dx else None), self.grads


# --- a speed trick of Linear -----------------------------------------------------------------


_ONES: dict[tuple[int, np.dtype[Any]], Array] = {}


def _ones(n: int, dtype: np.dtype[Any]) -> Array:
    """A read-only vector of ``n`` ones, kept per (length, dtype): batches repeat sizes.

    Linear's bias gradient sums ``dz`` over the rows as ``ones @ dz``: BLAS does that ~3x
    faster than ``np.add.reduce`` over the row axis.
    """
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:  # minibatch sizes are few; a stray size must not grow this
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype=dtype)
        ones.flags.writeable = False
    return ones


# --- parameter-free and normalizing layers ---------------------------------------------------


class Activation:
    """Elementwise ``a = f(z)`` for one of ``functional.ACTIVATIONS``; no parameters."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.f, self.f_prime = ACTIVATIONS[name]

    def forward(self, z: Array) -> tuple[Array, tuple[Array, Array]]:
        """``z [K, N, D] -> a [K, N, D]``; caches ``(z, a)`` since ``f'`` may use either,
        except ReLU, which caches ``(mask, a)`` and overwrites ``z`` (below).

        Speed note: ReLU computes ``a = z * 1[z > 0]`` in place in ``z`` (a fresh array from
        the Linear layer, so nothing else holds it; pass a copy when trying it by hand)
        and caches the 0/1 mask, which is also ``f'(z)``, in place of ``z``. NumPy's
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
    """Batch normalization over each model's rows, as ``torch.nn.BatchNorm1d`` (affine).

    Train mode normalizes with the batch mean and *biased* variance and updates
    ``running_mean``/``running_var`` in place with momentum 0.1, using the *unbiased*
    variance (as torch does). Eval mode normalizes with the running statistics.
    Parameters ``weight`` (gamma), ``bias`` (beta) and both buffers are ``[K, 1, D]``.
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
        """``x [K, N, D] -> y [K, N, D]``; caches ``(x_hat, gamma / std, train)``."""
        if train:
            n = x.shape[1]
            if n < 2:  # torch refuses too: one row has no variance to normalize by
                raise ValueError(
                    "batch norm in train mode needs more than 1 row per batch; "
                    "use a batch_size of 2 or more"
                )
            mean = np.add.reduce(x, axis=1, keepdims=True) / n  # [K, 1, D]
            xc = x - mean
            var = np.add.reduce(xc * xc, axis=1, keepdims=True) / n  # biased: what x is divided by
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
        """``dy [K, N, D] -> dx [K, N, D]``; ``dgamma = sum dy x_hat``, ``dbeta = sum dy``.

        In train mode the batch statistics depend on every row, which gives the
        standard closed form ``dx = gamma/std (dy - mean(dy) - x_hat mean(dy x_hat))``
        (means over the model's rows).
        """
        x_hat, scale, train = cache
        np.add.reduce(dy, axis=1, keepdims=True, out=self.dbias)
        np.add.reduce(dy * x_hat, axis=1, keepdims=True, out=self.dweight)
        if not train:  # statistics are constants
            return dy * scale, self.grads
        n = dy.shape[1]
        dx = dy - self.dbias / n
        dx -= x_hat * (self.dweight / n)
        dx *= scale
        return dx, self.grads


class Dropout:
    """Inverted dropout with a rate per model, as ``torch.nn.Dropout``.

    ``p`` is ``[K]`` (a float is every model's rate). Train mode keeps each element with
    probability ``1 - p[k]`` and scales kept ones by ``1 / (1 - p[k])``, so eval mode is
    the identity. Model k's mask comes from its own generator, ``rngs[k].random((N, D),
    dtype) >= p[k]``, the same draw as when it trains alone; models with ``p[k] == 0``
    draw nothing. For gradient checks a fixed ``mask`` (0/1 or bool, ``[K, N, D]``) can be
    given instead.
    """

    def __init__(self, p: float | Array) -> None:
        self.p = np.atleast_1d(np.asarray(p, dtype=np.float64))
        self.dropping = np.flatnonzero(self.p > 0)  # the models that draw masks

    def forward(
        self,
        x: Array,
        train: bool,
        rngs: list[np.random.Generator] | None = None,
        mask: Array | None = None,
    ) -> tuple[Array, Array | None]:
        """``x [K, N, D] -> y [K, N, D]``; caches the scaled mask (``None`` in eval mode)."""
        if not train or (mask is None and not len(self.dropping)):
            return x, None
        scale = (1.0 / (1.0 - self.p)).reshape(-1, 1, 1)
        if mask is not None:
            scaled = mask.astype(x.dtype)
            scaled *= scale.astype(x.dtype)
        else:
            if rngs is None:
                raise ValueError("dropout in train mode needs an rng per model or a mask")
            scaled = np.ones_like(x)  # models with p = 0 keep everything, unscaled
            for k in self.dropping:
                keep = rngs[k].random(x.shape[1:], dtype=x.dtype) >= self.p[k]
                np.multiply(keep, x.dtype.type(scale[k, 0, 0]), out=scaled[k])
        return x * scaled, scaled

    def backward(self, cache: Array | None, dy: Array) -> tuple[Array, Grads]:
        """Gradients flow only through kept elements, with the same scale."""
        return (dy if cache is None else dy * cache), NO_GRADS


class Residual:
    """``out = x + h``: a skip connection around a block ``h = block(x)``."""

    def forward(self, x: Array, h: Array) -> tuple[Array, None]:
        """``x, h [K, N, D] -> out [K, N, D]``; nothing to cache (the sum is linear)."""
        return x + h, None

    def backward(self, cache: Any, dout: Array) -> tuple[tuple[Array, Array], Grads]:
        """The gradient goes unchanged to both branches: ``(dx_skip, dh) = (dout, dout)``."""
        return (dout, dout), NO_GRADS
