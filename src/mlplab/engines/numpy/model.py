"""The mlplab MLP in NumPy: forward pass, backward pass by the chain rule, and weight
conversion to and from PyTorch.

The architecture is :class:`mlplab.engines.spec.ModelSpec`'s: hidden blocks
``Linear -> act -> [BatchNorm1d] -> [Dropout]`` (plus the block's input when residual),
then a ``Linear`` output that returns logits or values. Parameter and buffer names are
``ModelSpec.param_shapes()``/``buffer_shapes()`` names, which are torch ``state_dict`` names.

All trainable parameters live in one flat vector (``MLP.flat_params``) and all their
gradients in another (``MLP.flat_grads``); ``MLP.params`` and ``MLP.grads`` are named views
into them. An optimizer then updates every parameter with a few whole-vector operations,
which is what makes tiny models fast: per-step cost is dominated by the number of NumPy
calls, not by arithmetic.
"""

from __future__ import annotations

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
        rng: np.random.Generator | None = None,
        mask: Array | None = None,
    ) -> tuple[Array, tuple[Any, ...]]:
        """``x [N, d_in] -> h [N, d_out]``; the cache holds each layer's cache in order."""
        h, c_lin = self.linear.forward(x)
        h, c_act = self.act.forward(h)
        c_bn = c_dp = None
        if self.bn is not None:
            h, c_bn = self.bn.forward(h, train)
        if self.dropout is not None:
            h, c_dp = self.dropout.forward(h, train, rng, mask)
        if self.residual is not None:
            h, _ = self.residual.forward(x, h)
        return h, (c_lin, c_act, c_bn, c_dp)

    def backward(self, cache: tuple[Any, ...], dh: Array, need_dx: bool = True) -> Array | None:
        """``dh [N, d_out] -> dx [N, d_in]``; parameter gradients land in the layers' arrays."""
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
    """The model of ``spec`` with its parameters, buffers and gradient storage.

    Parameters
    ----------
    spec : ModelSpec
    state : dict of str to ndarray
        Initial parameters and buffers by name (e.g. from ``init_state``); copied.
    dtype : {'float32', 'float64'}
        Every array of the model, and every array it computes, has this dtype.
    """

    def __init__(self, spec: ModelSpec, state: dict[str, Array], dtype: str = "float32") -> None:
        if spec.act not in ACTIVATIONS:
            raise EngineError(
                f"setting 'act': the numpy engine has no activation {spec.act!r}; "
                f"choose one of {', '.join(ACTIVATIONS)}"
            )
        if dtype not in DTYPES:
            raise EngineError(
                f"setting 'dtype': the numpy engine runs float32 or float64, not {dtype!r}"
            )
        self.spec = spec
        self.dtype = np.dtype(dtype)
        shapes = spec.param_shapes()
        # One flat vector for parameters and one for gradients; the named arrays are views.
        self.layout: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name, shape in shapes.items():
            size = int(np.prod(shape))
            self.layout[name] = (slice(offset, offset + size), shape)
            offset += size
        self.flat_params = np.zeros(offset, dtype=self.dtype)
        self.flat_grads = np.zeros(offset, dtype=self.dtype)
        self.params = {
            k: self.flat_params[s].reshape(shape) for k, (s, shape) in self.layout.items()
        }
        self.grads = {k: self.flat_grads[s].reshape(shape) for k, (s, shape) in self.layout.items()}
        self.buffers = {
            k: np.zeros(shape, dtype=self.dtype) for k, shape in spec.buffer_shapes().items()
        }
        self.num_batches_tracked = 0  # train-mode forward passes, kept for torch's state_dict
        self.load_state_dict(state)
        self.blocks = [self._block(i) for i in range(spec.n_layer)]
        self.out = self._linear("out")

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
        dropout = Dropout(spec.dp_rate) if spec.dp_rate > 0 else None
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
        rng: np.random.Generator | None = None,
        masks: list[Array] | None = None,
    ) -> tuple[Array, list[Any]]:
        """``x [N, in_dim] -> out [N, out_dim]`` (logits or values) and the caches.

        ``train`` selects batch statistics and dropout. Dropout masks come from ``rng``
        (an explicit Generator) or, for gradient checks, from ``masks`` (one keep-mask per
        hidden block, in order). ``x`` must already have the model's dtype.
        """
        if train and self.spec.use_bn:
            self.num_batches_tracked += 1
        caches: list[Any] = []
        for i, block in enumerate(self.blocks):
            x, cache = block.forward(x, train, rng, None if masks is None else masks[i])
            caches.append(cache)
        out, out_cache = self.out.forward(x)
        caches.append(out_cache)
        return out, caches

    def backward(self, caches: list[Any], dout: Array) -> dict[str, Array]:
        """``dloss/dout [N, out_dim]`` -> gradients of every parameter, by name.

        The returned dict is ``self.grads``: views into ``self.flat_grads``, overwritten
        by the next call.
        """
        # The input layer's dx would be the gradient wrt the data: not needed.
        d, _ = self.out.backward(caches[-1], dout, need_dx=bool(self.blocks))
        for i in range(len(self.blocks) - 1, -1, -1):
            assert d is not None  # every layer above the first returns its dx
            d = self.blocks[i].backward(caches[i], d, need_dx=i > 0)
        return self.grads

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters and buffers, by ``ModelSpec`` name."""
        out = {k: v.copy() for k, v in self.params.items()}
        out.update({k: v.copy() for k, v in self.buffers.items()})
        return out

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Copy ``state`` into the model in place (shapes must match; dtype is cast)."""
        own = {**self.params, **self.buffers}
        missing = [k for k in own if k not in state]
        if missing:
            raise KeyError(f"state is missing {missing}")
        for k, dst in own.items():
            src = np.asarray(state[k])
            if src.shape != dst.shape:
                raise ValueError(f"{k}: shape {src.shape} does not match the model's {dst.shape}")
            dst[...] = src


def to_torch_state_dict(state: dict[str, Array], num_batches_tracked: int = 0) -> dict[str, Any]:
    """NumPy state -> torch ``state_dict`` (tensors, same names, dtype kept).

    Adds each batch-norm layer's ``num_batches_tracked`` (an int64 scalar), which torch
    keeps and the NumPy engine does not need (momentum is fixed at 0.1).
    """
    import torch  # only here: the NumPy engine itself never needs torch

    sd: dict[str, Any] = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    for k in state:
        if k.endswith(".bn.running_mean"):
            prefix = k[: -len("running_mean")]
            sd[prefix + "num_batches_tracked"] = torch.tensor(num_batches_tracked, dtype=torch.long)
    return sd


def from_torch_state_dict(sd: dict[str, Any]) -> dict[str, Array]:
    """torch ``state_dict`` -> NumPy state (copies; ``num_batches_tracked`` dropped)."""
    return {
        k: t.detach().cpu().numpy().copy()
        for k, t in sd.items()
        if not k.endswith("num_batches_tracked")
    }
