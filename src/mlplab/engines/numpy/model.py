"""The mlplab MLP in NumPy over a leading model axis K: forward pass, backward pass by the
chain rule, and weight conversion to and from PyTorch.

The architecture is :class:`mlplab.engines.spec.ModelSpec`'s: hidden blocks
``Linear -> act -> [BatchNorm1d] -> [Dropout]`` (plus the block's input when residual),
then a ``Linear`` output that returns logits or values. K models of that shape are held
side by side (a single run is K = 1); they may differ in their weights and dropout rates.
Parameter and buffer names are ``ModelSpec.param_shapes()``/``buffer_shapes()`` names,
which are torch ``state_dict`` names; one model's state is a dict of unstacked arrays by
those names (``[out, in]``, ``[out]``), as :func:`mlplab.engines.init.init_state` gives it.

All trainable parameters live in one flat array ``MLP.flat_params [K, P]`` (row k is model
k's P parameters) and all their gradients in another (``MLP.flat_grads``); ``MLP.params``
and ``MLP.grads`` are named ``[K, ...]`` views into them. An optimizer then updates every
parameter of every model with a few whole-array operations, which is what makes tiny
models fast: per-step cost is dominated by the number of NumPy calls, not by arithmetic.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.engines.numpy.layers import Activation, BatchNorm1d, Dropout, Linear, Residual
from mlplab.engines.spec import ModelSpec
from mlplab.errors import EngineError

Array = np.ndarray
DTYPES = ("float32", "float64")


class Block:
    """One hidden block: ``Linear -> act -> [BatchNorm1d] -> [Dropout]`` (``+ x`` if residual)."""

    def __init__(
        self,
        linear: Linear,
        act: Activation,
        bn: BatchNorm1d | None,
        dropout: Dropout | None,
        residual: bool,
    ) -> None:
        self.linear, self.act, self.bn, self.dropout = linear, act, bn, dropout
        self.residual = Residual() if residual else None

    def forward(
        self,
        x: Array,
        train: bool,
        rngs: list[np.random.Generator] | None = None,
        mask: Array | None = None,
    ) -> tuple[Array, tuple[Any, ...]]:
        """``x [K, N, d_in]`` (or shared ``[N, d_in]``) ``-> h [K, N, d_out]``.

        The cache holds each layer's cache in order. ``rngs`` (one per model) or ``mask``
        feed the dropout layer.
        """
        h, c_lin = self.linear.forward(x)
        h, c_act = self.act.forward(h)
        c_bn = c_dp = None
        if self.bn is not None:
            h, c_bn = self.bn.forward(h, train)
        if self.dropout is not None:
            h, c_dp = self.dropout.forward(h, train, rngs, mask)
        if self.residual is not None:
            h, _ = self.residual.forward(x, h)
        return h, (c_lin, c_act, c_bn, c_dp)

    def backward(self, cache: tuple[Any, ...], dh: Array, need_dx: bool = True) -> Array | None:
        """``dh [K, N, d_out] -> dx [K, N, d_in]``; parameter gradients land in the layers' arrays."""
        c_lin, c_act, c_bn, c_dp = cache
        d = dh
        if self.dropout is not None:
            d, _ = self.dropout.backward(c_dp, d)
        if self.bn is not None:
            d, _ = self.bn.backward(c_bn, d)
        d, _ = self.act.backward(c_act, d)
        dx, _ = self.linear.backward(c_lin, d, need_dx)
        if self.residual is not None and dx is not None:
            (d_skip, _), _ = self.residual.backward(None, dh)
            dx += d_skip  # dx is a fresh array from Linear.backward, safe to add into
        return dx


class MLP:
    """K models of ``spec`` with their parameters, buffers and gradient storage.

    Parameters
    ----------
    spec : ModelSpec
        The shared shape. Its ``dp_rate`` is the default for ``dp_rates``.
    states : list of dict of str to ndarray
        Each model's initial parameters and buffers by name, unstacked (e.g. from
        ``init_state``); copied. K = ``len(states)``.
    dtype : {'float32', 'float64'}
        Every array of the model, and every array it computes, has this dtype.
    dp_rates : sequence of float, optional
        Each model's dropout rate in [0, 1); ``spec.dp_rate`` for every model if omitted.
        Blocks have a dropout layer when any model drops; models with rate 0 draw nothing.
    """

    def __init__(
        self,
        spec: ModelSpec,
        states: Sequence[dict[str, Array]],
        dtype: str = "float32",
        dp_rates: Sequence[float] | None = None,
    ) -> None:
        if spec.act not in ACTIVATIONS:
            raise EngineError(
                f"setting 'act': the numpy engine has no activation {spec.act!r}; "
                f"choose one of {', '.join(ACTIVATIONS)}"
            )
        if dtype not in DTYPES:
            raise EngineError(
                f"setting 'dtype': the numpy engine runs float32 or float64, not {dtype!r}"
            )
        if not states:
            raise ValueError("an MLP needs at least one model's state")
        self.spec = spec
        self.dtype = np.dtype(dtype)
        K = len(states)
        rates = [spec.dp_rate] * K if dp_rates is None else list(dp_rates)
        if len(rates) != K:
            raise ValueError(f"{len(rates)} dropout rates for {K} models")
        self.dp_rates = np.asarray(rates, dtype=np.float64)
        # Where each parameter sits in a model's row of the flat arrays.
        self.layout: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name, shape in spec.param_shapes().items():
            size = int(np.prod(shape))
            self.layout[name] = (slice(offset, offset + size), shape)
            offset += size
        self.flat_params = np.zeros((K, offset), dtype=self.dtype)
        self.flat_grads = np.zeros((K, offset), dtype=self.dtype)
        self.buffers = {
            name: np.zeros((K, 1, *shape), dtype=self.dtype)
            for name, shape in spec.buffer_shapes().items()
        }  # [K, 1, D]: batch-norm statistics broadcast over rows, as biases
        for k, state in enumerate(states):
            self.load_state_dict(k, state)
        self._build()

    @property
    def K(self) -> int:
        return int(self.flat_params.shape[0])

    def _build(self) -> None:
        """Named views and layers over the current flat arrays (again after :meth:`keep`)."""
        self.params = {name: self._view(self.flat_params, name) for name in self.layout}
        self.grads = {name: self._view(self.flat_grads, name) for name in self.layout}
        self.blocks = [self._block(i) for i in range(self.spec.n_layer)]
        self.out = self._linear("out")

    def _view(self, flat: Array, name: str) -> Array:
        """``[K, out, in]`` for a weight, ``[K, 1, D]`` for a vector (it broadcasts over rows)."""
        s, shape = self.layout[name]
        return flat[:, s].reshape(self.K, *shape) if len(shape) > 1 else flat[:, None, s]

    def _linear(self, prefix: str) -> Linear:
        p, g = self.params, self.grads
        return Linear(
            p[f"{prefix}.weight"], p[f"{prefix}.bias"], g[f"{prefix}.weight"], g[f"{prefix}.bias"]
        )

    def _block(self, i: int) -> Block:
        spec, p, g, b = self.spec, self.params, self.grads, self.buffers
        bn = None
        if spec.use_bn:
            k = f"hidden.{i}.bn"
            bn = BatchNorm1d(
                p[f"{k}.weight"], p[f"{k}.bias"], b[f"{k}.running_mean"], b[f"{k}.running_var"],
                g[f"{k}.weight"], g[f"{k}.bias"],
            )  # fmt: skip
        dropout = Dropout(self.dp_rates) if self.dp_rates.any() else None
        return Block(
            self._linear(f"hidden.{i}.linear"),
            Activation(spec.act),
            bn,
            dropout,
            spec.is_residual(i),
        )

    # --- forward and backward ---------------------------------------------------------------
    def forward(
        self,
        x: Array,
        train: bool = False,
        rngs: list[np.random.Generator] | None = None,
        masks: list[Array] | None = None,
    ) -> tuple[Array, list[Any]]:
        """``x -> out [K, N, out_dim]`` (logits or values) and the caches.

        ``x`` is ``[N, in_dim]`` (the same rows for every model) or ``[K, N, in_dim]`` (each
        model's own rows) and must already have the model's dtype. ``train`` selects batch
        statistics and dropout. Dropout masks come from ``rngs`` (model k's own Generator
        at ``rngs[k]``) or, for gradient checks, from ``masks`` (one ``[K, N, width]``
        keep-mask per hidden block, in order).
        """
        caches: list[Any] = []
        for i, block in enumerate(self.blocks):
            x, cache = block.forward(x, train, rngs, None if masks is None else masks[i])
            caches.append(cache)
        out, out_cache = self.out.forward(x)
        caches.append(out_cache)
        return out, caches

    def hidden_parts(self, x: Array) -> list[tuple[Array, Array]]:
        """Each hidden layer's linear part ``z`` and activation ``a = act(z)`` over ``x``,
        ``[K, N, width]`` each, in inference mode (before a batch norm or a skip
        connection): what the pictures of units and the count of dead ReLUs read."""
        parts = []
        for block in self.blocks:
            z, _ = block.linear.forward(x)
            a, _ = block.act.forward(z.copy())  # ReLU's forward writes into its input
            parts.append((z, a))
            x, _ = block.forward(x, train=False)
        return parts

    def backward(self, caches: list[Any], dout: Array) -> dict[str, Array]:
        """``dloss/dout [K, N, out_dim]`` -> gradients of every parameter, by name, ``[K, ...]``.

        The returned dict is ``self.grads``: views into ``self.flat_grads``, overwritten
        by the next call. Model k's gradients depend only on row k of ``dout``.
        """
        # The input layer's dx would be the gradient wrt the data: not needed.
        d, _ = self.out.backward(caches[-1], dout, need_dx=bool(self.blocks))
        for i in range(len(self.blocks) - 1, -1, -1):
            assert d is not None  # every layer above the first returns its dx
            d = self.blocks[i].backward(caches[i], d, need_dx=i > 0)
        return self.grads

    # --- the model axis ----------------------------------------------------------------------
    def keep(self, rows: Array) -> None:
        """Keep only the models at ``rows`` (indices into the current K), in that order."""
        rows = np.asarray(rows, dtype=np.intp)
        self.flat_params = np.ascontiguousarray(self.flat_params[rows])
        self.flat_grads = np.zeros_like(self.flat_params)
        self.buffers = {k: np.ascontiguousarray(v[rows]) for k, v in self.buffers.items()}
        self.dp_rates = self.dp_rates[rows]
        self._build()

    def one(self, k: int) -> MLP:
        """Model ``k`` alone, as a 1-model MLP over views of this stack's arrays (no copy):
        for eval passes, which then cost one model's. Its outputs are row ``k`` of the
        stack's, bit for bit: each model's products are its own (see :class:`Linear`)."""
        one = copy.copy(self)
        one.flat_params = self.flat_params[k : k + 1]
        one.flat_grads = self.flat_grads[k : k + 1]
        one.buffers = {name: buf[k : k + 1] for name, buf in self.buffers.items()}
        one.dp_rates = self.dp_rates[k : k + 1]
        one._build()
        return one

    # --- state, one model at a time ------------------------------------------------------------
    def state_dict(self, k: int) -> dict[str, Array]:
        """Copies of model ``k``'s parameters and buffers, by ``ModelSpec`` name, unstacked."""
        return unstack(self.layout, self.flat_params, self.buffers, k)

    def load_state_dict(self, k: int, state: dict[str, Array]) -> None:
        """Copy ``state`` (unstacked, by name) into model ``k`` in place; dtype is cast."""
        missing = [n for n in (*self.layout, *self.buffers) if n not in state]
        if missing:
            raise KeyError(f"state is missing {missing}")
        for name, (s, shape) in self.layout.items():
            src = np.asarray(state[name])
            if src.shape != shape:
                raise ValueError(f"{name}: shape {src.shape} does not match the model's {shape}")
            self.flat_params[k, s] = src.reshape(-1)
        for name, buf in self.buffers.items():
            src = np.asarray(state[name])
            if src.shape != buf.shape[2:]:
                raise ValueError(
                    f"{name}: shape {src.shape} does not match the model's {buf.shape[2:]}"
                )
            buf[k, 0] = src


def unstack(
    layout: dict[str, tuple[slice, tuple[int, ...]]],
    flat: Array,
    buffers: dict[str, Array],
    k: int,
) -> dict[str, Array]:
    """Model ``k``'s parameters (from ``flat [K, P]``) and buffers (``[K, 1, D]``), copied."""
    state = {name: flat[k, s].reshape(shape).copy() for name, (s, shape) in layout.items()}
    state.update({name: buf[k, 0].copy() for name, buf in buffers.items()})
    return state
