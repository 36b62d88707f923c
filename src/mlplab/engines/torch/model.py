"""The mlplab MLP as a PyTorch ``nn.Module``.

Its ``state_dict`` names are the names of :meth:`ModelSpec.param_shapes`, so weights
move between this module and the NumPy engine by name.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mlplab.engines.spec import ModelSpec

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,  # negative slope 0.01, as the numpy engine
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,  # exact (erf) form
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "mish": nn.Mish,
    "identity": nn.Identity,
}


class Block(nn.Module):
    """Linear -> act -> [BatchNorm1d] -> [Dropout], with an optional residual add."""

    def __init__(self, d_in: int, d_out: int, spec: ModelSpec, residual: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.act = ACTIVATION_MODULES[spec.act]()
        self.bn = nn.BatchNorm1d(d_out) if spec.use_bn else None
        self.dropout = nn.Dropout(spec.dp_rate) if spec.dp_rate > 0 else None
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.linear(x))
        if self.bn is not None:
            h = self.bn(h)
        if self.dropout is not None:
            h = self.dropout(h)
        return x + h if self.residual else h


class MLP(nn.Module):
    """Hidden blocks then a Linear output; returns logits or regression values."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        w = spec.widths()
        self.hidden = nn.ModuleList(
            Block(w[i], w[i + 1], spec, spec.is_residual(i)) for i in range(spec.n_layer)
        )
        self.out = nn.Linear(w[-2], w[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.hidden:
            x = block(x)
        return self.out(x)


def load_numpy_state(module: nn.Module, state: dict[str, np.ndarray]) -> None:
    """Copy NumPy arrays into the module's parameters and buffers, by name."""
    own = module.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise KeyError(f"state is missing {missing}")
    with torch.no_grad():
        for k, t in own.items():
            if k in state:
                t.copy_(torch.as_tensor(np.asarray(state[k]), dtype=t.dtype))


def to_numpy_state(module: nn.Module) -> dict[str, np.ndarray]:
    """Parameters and buffers as NumPy arrays (``num_batches_tracked`` left out)."""
    return {
        k: t.detach().cpu().numpy().copy()
        for k, t in module.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
