"""The mlplab MLP in PyTorch, as K models of one shape stacked on a leading model axis.

:class:`StackedMLP` holds K models as one ``nn.Module`` whose parameters are ``[K, ...]``
tensors named as :meth:`ModelSpec.param_shapes` names them (``hidden.0.linear.weight`` is
``[K, out, in]``). Its forward pass maps shared inputs ``[N, in]`` or per-model inputs
``[K, N, in]`` to outputs ``[K, N, out]``; model k's outputs depend only on model k's
parameters, so autograd on the sum of the K losses gives each model its own gradient.
A single run is K = 1.

:class:`MLP` is the same model unstacked, an ordinary ``nn.Module`` with ``nn.Linear``
layers: :meth:`StackedMLP.to_module` takes model k out as one, to use or save with plain
PyTorch, and the tests use it as the reference for the stacked gradients.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
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

BN_MOMENTUM = 0.1  # torch's BatchNorm1d defaults
BN_EPS = 1e-5


# --- the stacked model ------------------------------------------------------------------------


class StackedLinear(nn.Module):
    """K ``nn.Linear`` layers: ``weight [K, out, in]``, ``bias [K, out]``."""

    def __init__(self, K: int, d_in: int, d_out: int) -> None:
        super().__init__()
        # Left uninitialized: the engine loads mlplab's own init, and drawing torch's
        # default init here would consume the caller's global torch RNG.
        self.weight = nn.Parameter(torch.empty(K, d_out, d_in))
        self.bias = nn.Parameter(torch.empty(K, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [N, in]`` (the same rows for every model) or ``[K, N, in]`` -> ``[K, N, out]``."""
        w, b = self.weight, self.bias
        if w.shape[0] == 1:
            # One model: nn.Linear's addmm, a third faster than bmm at lab sizes. squeeze
            # rather than w[0]: a view's backward is free, a select's allocates and copies.
            x = x if x.dim() == 2 else x.squeeze(0)
            return torch.addmm(b.squeeze(0), x, w.squeeze(0).t()).unsqueeze(0)
        if x.dim() == 2:
            x = x.expand(w.shape[0], *x.shape)  # a view: the rows are not copied
        return torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))


class StackedBatchNorm(nn.Module):
    """K ``nn.BatchNorm1d`` layers (torch's momentum 0.1, eps 1e-5, unbiased running var).

    ``weight``, ``bias``, ``running_mean``, ``running_var`` are ``[K, D]``. The K models'
    features are laid side by side as ``[N, K * D]`` for one ``F.batch_norm`` call, which
    normalizes each column over the rows, so each model keeps its own statistics.
    """

    running_mean: torch.Tensor
    running_var: torch.Tensor

    def __init__(self, K: int, D: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(K, D))
        self.bias = nn.Parameter(torch.zeros(K, D))
        self.register_buffer("running_mean", torch.zeros(K, D))
        self.register_buffer("running_var", torch.ones(K, D))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [K, N, D]`` -> ``[K, N, D]``; training mode updates the running statistics."""
        K, N, D = x.shape
        flat = x.transpose(0, 1).reshape(N, K * D)
        flat = F.batch_norm(
            flat,
            self.running_mean.view(-1),  # views: F.batch_norm updates the buffers in place
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            training=self.training,
            momentum=BN_MOMENTUM,
            eps=BN_EPS,
        )
        return flat.view(N, K, D).transpose(0, 1)


class DropoutStreams:
    """Each model's dropout rate and its own ``torch.Generator``, shared by all its layers.

    Model k draws its masks from its own generator only, so a model draws the same masks
    in a stack as alone, and torch's global RNG is never touched. Models with rate 0 draw
    nothing (their generator stays at its seed).

    Parameters
    ----------
    rates : sequence of float
        ``[K]`` dropout rates in [0, 1).
    seeds : sequence of int
        ``[K]`` seeds for ``torch.Generator.manual_seed`` (0 <= seed < 2**64).
    device : torch.device
        Where the generators live (the engine's device).
    """

    def __init__(self, rates: list[float], seeds: list[int], device: torch.device) -> None:
        self.rates = np.asarray(rates, dtype=np.float64)
        self.device = device
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]

    @property
    def any(self) -> bool:
        return bool((self.rates > 0).any())

    def masks(self, x: torch.Tensor) -> torch.Tensor:
        """Inverted-dropout masks for ``x [K, N, D]``: 0 or ``1 / (1 - rate)``, per model."""
        mask = torch.ones_like(x)
        for k in np.flatnonzero(self.rates > 0):
            keep = 1.0 - float(self.rates[k])
            mask[k].bernoulli_(keep, generator=self.generators[k]).div_(keep)
        return mask

    def keep(self, rows: np.ndarray) -> None:
        self.rates = self.rates[rows]
        self.generators = [self.generators[r] for r in rows]

    def state(self, k: int) -> np.ndarray:
        """Model k's generator state (a uint8 array; its format depends on the device type)."""
        return self.generators[k].get_state().numpy().copy()

    def set_state(self, k: int, state: np.ndarray) -> None:
        self.generators[k].set_state(torch.from_numpy(np.array(state, dtype=np.uint8)))


class StackedDropout(nn.Module):
    """Inverted dropout with each model's own rate and generator (see :class:`DropoutStreams`)."""

    def __init__(self, streams: DropoutStreams) -> None:
        super().__init__()
        self.streams = streams

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.streams.masks(x) if self.training else x


class BlockForward(nn.Module):
    """The forward pass of a hidden block, stacked over K or not (its layers decide)."""

    linear: nn.Module
    act: nn.Module
    bn: nn.Module | None
    dropout: nn.Module | None
    residual: bool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.linear(x))
        if self.bn is not None:
            h = self.bn(h)
        if self.dropout is not None:
            h = self.dropout(h)
        return x + h if self.residual else h


class StackedBlock(BlockForward):
    """Linear -> act -> [BatchNorm1d] -> [Dropout], with an optional residual add, over K."""

    def __init__(
        self, K: int, d_in: int, d_out: int, spec: ModelSpec, residual: bool,
        dropout: DropoutStreams | None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.linear = StackedLinear(K, d_in, d_out)
        self.act = ACTIVATION_MODULES[spec.act]()
        self.bn = StackedBatchNorm(K, d_out) if spec.use_bn else None
        self.dropout = StackedDropout(dropout) if dropout is not None else None
        self.residual = residual


class StackedMLP(nn.Module):
    """K MLPs of one :class:`ModelSpec`: hidden blocks then a linear output layer.

    Returns logits (binary, multiclass) or values (regression), ``[K, N, out_dim]``.
    Parameters start uninitialized; load each model's weights with :meth:`set_weights`.
    ``streams`` gives each model's dropout rate and generator; with ``None`` or all rates 0
    there are no dropout layers. ``spec.dp_rate`` is not used.
    """

    def __init__(self, spec: ModelSpec, K: int, streams: DropoutStreams | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.streams = streams
        drop = streams if streams is not None and streams.any else None
        w = spec.widths()
        self.hidden = nn.ModuleList(
            StackedBlock(K, w[i], w[i + 1], spec, spec.is_residual(i), drop)
            for i in range(spec.n_layer)
        )
        self.out = StackedLinear(K, w[-2], w[-1])

    @property
    def K(self) -> int:
        return int(self.out.weight.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [N, in]`` (shared rows) or ``[K, N, in]`` (each model's rows) -> ``[K, N, out]``."""
        for block in self.hidden:
            x = block(x)
        return self.out(x)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Parameters and buffers by :class:`ModelSpec` name, ``[K, ...]`` (live, not copies)."""
        return {**dict(self.named_parameters()), **dict(self.named_buffers())}

    @torch.no_grad()
    def set_weights(self, k: int, weights: dict[str, np.ndarray]) -> None:
        """Load model k's parameters and buffers from unstacked arrays, by name."""
        own = self.state_tensors()
        missing = sorted(set(own) - set(weights))
        if missing:
            raise KeyError(f"weights are missing {missing}")
        for name, t in own.items():
            a = np.asarray(weights[name])
            if a.shape != t.shape[1:]:
                raise ValueError(f"{name}: shape {a.shape}, expected {tuple(t.shape[1:])}")
            t[k].copy_(torch.as_tensor(a))

    def weights(self, k: int) -> dict[str, np.ndarray]:
        """Model k's parameters and buffers as unstacked NumPy arrays (copies)."""
        return {n: t.detach()[k].cpu().numpy().copy() for n, t in self.state_tensors().items()}

    @torch.no_grad()
    def keep(self, rows: np.ndarray) -> None:
        """Keep only the models at ``rows``, in order (parameters stay the same objects)."""
        r = torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.out.weight.device)
        for t in self.state_tensors().values():
            t.data = t.data.index_select(0, r)
            t.grad = None  # of the old shape
        if self.streams is not None:
            self.streams.keep(np.asarray(rows))

    def to_module(self, k: int) -> MLP:
        """Model k as an ordinary :class:`MLP` (``nn.Linear`` layers), on the same device and
        dtype, with its own dropout rate; a copy, independent of the stack."""
        rate = float(self.streams.rates[k]) if self.streams is not None else 0.0
        w = self.out.weight
        spec = dataclasses.replace(self.spec, dp_rate=rate)
        return plain_module(spec, self.weights(k), device=w.device, dtype=w.dtype)


# --- one model as an ordinary nn.Module ---------------------------------------------------------


class Block(BlockForward):
    """Linear -> act -> [BatchNorm1d] -> [Dropout], with an optional residual add."""

    def __init__(self, d_in: int, d_out: int, spec: ModelSpec, residual: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.act = ACTIVATION_MODULES[spec.act]()
        self.bn = nn.BatchNorm1d(d_out) if spec.use_bn else None
        self.dropout = nn.Dropout(spec.dp_rate) if spec.dp_rate > 0 else None
        self.residual = residual


class MLP(nn.Module):
    """One model of ``spec`` as plain PyTorch: ``[N, in]`` -> ``[N, out]``.

    Its ``state_dict`` names are :meth:`ModelSpec.param_shapes` names (plus BatchNorm's
    ``num_batches_tracked``); its dropout draws from torch's global generator, as
    ``nn.Dropout`` does.
    """

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


def plain_module(
    spec: ModelSpec,
    weights: dict[str, np.ndarray],
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> MLP:
    """An :class:`MLP` of ``spec`` holding a copy of ``weights`` (by name), in their dtype
    unless ``dtype`` is given. torch's global RNG is left as it was."""
    if dtype is None:
        dtype = getattr(torch, np.asarray(weights["out.weight"]).dtype.name)  # float32/64
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws are discarded
        module = MLP(spec)
    module = module.to(device=device, dtype=dtype)
    load_numpy_state(module, weights)
    return module


class _Around(nn.Module):
    """``model`` with a scaling of its inputs or outputs, held as buffers (``names``) in
    the model's dtype, so that they travel with its ``state_dict``."""

    def __init__(
        self, model: nn.Module, names: tuple[str, str], mean: np.ndarray, std: np.ndarray
    ) -> None:
        super().__init__()
        self.model = model
        dtype = next(model.parameters()).dtype
        for name, values in zip(names, (mean, std), strict=True):
            self.register_buffer(name, torch.as_tensor(np.asarray(values), dtype=dtype))


class Standardized(_Around):
    """``model`` on raw rows: ``(x - mean) / std`` first, with the training split's mean and
    std (``dataset.scaler``) as buffers ``mean`` and ``std``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: nn.Module, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__(model, ("mean", "std"), mean, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.mean) / self.std)


class InTargetUnits(_Around):
    """``model`` with its outputs mapped back from a standardized regression target:
    ``y * std + mean`` (``dataset.target_scaler``, as buffers ``target_mean`` and
    ``target_std``)."""

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(self, model: nn.Module, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__(model, ("target_mean", "target_std"), mean, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) * self.target_std + self.target_mean


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
