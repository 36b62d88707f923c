"""Check the NumPy engine's hand-written derivatives and optimizer steps.

Every backward pass of :mod:`mlplab.engines.numpy` is compared, in float64, with two
independent references, over a model axis of K = 2 models that differ in their weights,
inputs and settings (so a mix-up between models would show):

- **central finite differences** ``(f(x + eps) - f(x - eps)) / (2 eps)`` with
  ``eps = 1e-6``, whose own error (truncation ~eps², rounding ~1e-16/eps) is about 1e-10
  relative, so the tolerance is ``1e-5``;
- **PyTorch autograd** on the same inputs and weights, one model at a time, built from
  plain ``torch.nn`` modules (not mlplab's torch engine), which should agree to rounding,
  so the tolerance is ``1e-6``.

For finite differences the scalar is the sum of the K models' losses, whose gradient with
respect to model k's parameters is model k's own gradient. Optimizers are compared with
``torch.optim`` (``foreach=False``, one optimizer per model with its own hyperparameters)
over 3 steps on the same parameters and gradients (so momentum and the moment estimates
matter), tolerance ``1e-6``.

The error of an array is normwise: ``max_abs_err = max |ours - ref|`` and
``max_rel_err = max_abs_err / max(max |ref|, 1e-12)``, the error relative to the largest
reference value. Unlike an elementwise ratio it does not blow up on entries that are zero
up to rounding (a saturated sigmoid, a dead ReLU). Where a component has several arrays
(``dx``, ``dW``, ``db``), the worst one is reported.

Used as ``mlplab gradcheck`` (the suite), or ``mlplab gradcheck CONFIG.yaml`` and setting
flags (:func:`check_config`: that config's own model and optimizer); exit status 1 when
any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlplab.config import Config
from mlplab.engines.backend import OptimSpec
from mlplab.engines.init import init_state
from mlplab.engines.numpy.functional import ACTIVATIONS, LOSSES
from mlplab.engines.numpy.layers import BatchNorm1d, Dropout, Linear
from mlplab.engines.numpy.model import MLP
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.engines.spec import ModelSpec
from mlplab.errors import ConfigError

FD_EPS = 1e-6  # central-difference step
FD_RTOL = 1e-5  # analytic vs finite differences
TORCH_RTOL = 1e-6  # analytic vs torch autograd / torch.optim

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class CheckResult:
    """One comparison: ``component`` names what was checked and against which reference."""

    component: str
    max_abs_err: float
    max_rel_err: float
    passed: bool


def _result(component: str, ours: Arrays, ref: Arrays, rtol: float) -> CheckResult:
    errs, rels = [0.0], [0.0]
    for k, a in ours.items():
        b = np.asarray(ref[k], dtype=np.float64)
        a = np.asarray(a, dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"{component}: {k} has shape {a.shape}, reference {b.shape}")
        if not a.size:
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            # Equal infinities agree; a NaN on either side is an error of NaN, and fails
            # (Python's max() would have dropped it: an overflowed step read as "ok").
            err = float(np.max(np.where(a == b, 0.0, np.abs(a - b))))
            scale = max(float(np.max(np.abs(b))), 1e-12)
            errs.append(err)
            rels.append(err / scale if np.isfinite(scale) else err)
    worst_abs, worst_rel = float(np.max(errs)), float(np.max(rels))
    passed = bool(np.isfinite(worst_rel) and worst_rel <= rtol)
    return CheckResult(component, worst_abs, worst_rel, passed)


def _both(component: str, ours: Arrays, fd: Arrays, torch_ref: Arrays) -> list[CheckResult]:
    return [
        _result(f"{component} vs finite diff", ours, fd, FD_RTOL),
        _result(f"{component} vs torch", ours, torch_ref, TORCH_RTOL),
    ]


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = FD_EPS) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``x``, perturbed in place.

    ``x`` may be a strided view (a model's weights in the flat ``[K, P]`` parameters):
    elements are written through it one index at a time.
    """
    grad = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        orig = x[i]
        x[i] = orig + eps
        up = f()
        x[i] = orig - eps
        down = f()
        x[i] = orig
        grad[i] = (up - down) / (2 * eps)
    return grad


def _t(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _g(t: torch.Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


K = 2  # models side by side in every check


# --- the torch references: plain torch.nn modules ---------------------------------------------

TORCH_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,  # negative_slope 0.01, as functional.LEAKY_SLOPE
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,  # approximate='none'
    "silu": nn.SiLU,
    "softplus": nn.Softplus,  # beta 1, threshold 20
    "mish": nn.Mish,
    "identity": nn.Identity,
}

TORCH_LOSSES: dict[str, Callable[[], nn.Module]] = {
    "bce": nn.BCEWithLogitsLoss,
    "cross_entropy": nn.CrossEntropyLoss,
    "mse": nn.MSELoss,
}


class FixedMaskDropout(nn.Module):
    """torch's dropout, ``x * mask / (1 - p)``, with a given mask (to match NumPy's draw)."""

    def __init__(self, mask: np.ndarray, p: float) -> None:
        super().__init__()
        self.mask = torch.tensor(mask, dtype=torch.float64)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask / (1 - self.p)


class TorchBlock(nn.Module):
    """``Linear -> act -> [BatchNorm1d] -> [dropout with a fixed mask]`` (``+ x`` if residual)."""

    def __init__(
        self, d_in: int, d_out: int, spec: ModelSpec, residual: bool, mask: np.ndarray | None
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.act = TORCH_ACTIVATIONS[spec.act]()
        self.bn = nn.BatchNorm1d(d_out) if spec.use_bn else None
        self.dropout = FixedMaskDropout(mask, spec.dp_rate) if mask is not None else None
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.linear(x))
        if self.bn is not None:
            h = self.bn(h)
        if self.dropout is not None:
            h = self.dropout(h)
        return x + h if self.residual else h


class TorchMLP(nn.Module):
    """One model of ``spec`` in plain torch, with the state_dict names of ``ModelSpec``."""

    def __init__(self, spec: ModelSpec, masks: list[np.ndarray] | None = None) -> None:
        super().__init__()
        w = spec.widths()
        self.hidden = nn.ModuleList(
            TorchBlock(
                w[i], w[i + 1], spec, spec.is_residual(i), None if masks is None else masks[i]
            )
            for i in range(spec.n_layer)
        )
        self.out = nn.Linear(w[-2], w[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.hidden:
            x = block(x)
        return self.out(x)


def torch_twin(
    spec: ModelSpec, state: dict[str, np.ndarray], masks: list[np.ndarray] | None = None
) -> TorchMLP:
    """A float64 :class:`TorchMLP` holding one model's NumPy ``state`` (by name), in train mode."""
    net = TorchMLP(spec, masks).double()
    sd = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in state.items()}
    missing, unexpected = net.load_state_dict(sd, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise KeyError(f"state does not fit the torch twin: {missing} {unexpected}")
    return net.train()


def torch_optimizer(params: list[nn.Parameter], spec: OptimSpec) -> torch.optim.Optimizer:
    """``torch.optim`` as the NumPy engine's ``OptimSpec`` means it (``foreach=False``)."""
    wd = spec.l2_coef
    if spec.name == "sgd":
        return torch.optim.SGD(params, lr=spec.lr, momentum=spec.mm, weight_decay=wd, foreach=False)
    if spec.name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=spec.lr, momentum=spec.mm, weight_decay=wd, foreach=False
        )
    if spec.name == "adagrad":
        return torch.optim.Adagrad(params, lr=spec.lr, weight_decay=wd, foreach=False)
    if spec.name == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=wd, foreach=False)
    if spec.name == "adamw":
        return torch.optim.AdamW(params, lr=spec.lr, weight_decay=wd, foreach=False)
    raise ValueError(f"no torch optimizer {spec.name!r}")


def _per_model(fn: Callable[[int], Arrays]) -> Arrays:
    """``fn(k)`` for every model, stacked by name: the torch reference of a ``[K, ...]`` result."""
    parts = [fn(k) for k in range(K)]
    return {name: np.stack([p[name] for p in parts]) for name in parts[0]}


# --- activations and losses ------------------------------------------------------------------


def check_activations(rng: np.random.Generator) -> list[CheckResult]:
    z = np.concatenate([rng.normal(0.0, 3.0, 40), [-25.0, -8.0, 8.0, 25.0]])
    z = np.where(np.abs(z) < 1e-2, z + 0.1, z)  # keep eps-steps off the kinks at 0
    z = z.reshape(K, -1, 2)  # [K, N, D]: elementwise, the model axis changes nothing
    results = []
    for name, (f, f_prime) in ACTIVATIONS.items():
        ours = f_prime(z, f(z))
        fd = (f(z + FD_EPS) - f(z - FD_EPS)) / (2 * FD_EPS)  # elementwise: all at once
        zt = _t(z)
        TORCH_ACTIVATIONS[name]()(zt).sum().backward()
        results += _both(f"activation {name}", {"df": ours}, {"df": fd}, {"df": _g(zt)})
    return results


def check_losses(rng: np.random.Generator) -> list[CheckResult]:
    """Each loss over ``[K, N, out]`` with targets shared by the models (``[1, N, ...]``)."""
    n = 8
    cases = {
        "bce": (rng.normal(0, 3, (K, n, 1)), rng.integers(0, 2, (1, n, 1)).astype(np.float64)),
        "cross_entropy": (rng.normal(0, 3, (K, n, 4)), rng.integers(0, 4, (1, n))),
        "mse": (rng.normal(0, 3, (K, n, 3)), rng.normal(0, 3, (1, n, 3))),
    }
    results = []
    for name, (out, y) in cases.items():
        loss_fn = LOSSES[name]
        loss, grad = loss_fn(out, y, True)
        assert grad is not None

        def value(o: np.ndarray = out, y: np.ndarray = y, fn: Any = loss_fn) -> float:
            return float(fn(o, y, False)[0].sum())  # d(sum of losses)/d out[k] = model k's

        fd = numerical_grad(value, out)

        def reference(k: int, out: np.ndarray = out, y: np.ndarray = y, name: str = name) -> Arrays:
            ot = _t(out[k])
            lt = TORCH_LOSSES[name]()(ot, torch.tensor(y[0]))  # int64 classes or float64
            lt.backward()
            return {"grad": _g(ot), "loss": np.array(lt.item())}

        ours = {"grad": grad}
        results.append(_result(f"loss {name} vs finite diff", ours, {"grad": fd}, FD_RTOL))
        results.append(
            _result(
                f"loss {name} vs torch", {**ours, "loss": loss}, _per_model(reference), TORCH_RTOL
            )
        )
    return results


# --- layers: scalar loss L = sum(out * dout), so dL/dout = dout -----------------------------


def check_linear(rng: np.random.Generator, shared_input: bool = False) -> list[CheckResult]:
    """``x [K, N, in]`` (each model its own rows) or ``[N, in]`` (one input for all)."""
    x = rng.normal(size=(5, 3) if shared_input else (K, 5, 3))
    w, b = rng.normal(size=(K, 4, 3)), rng.normal(size=(K, 1, 4))
    dout = rng.normal(size=(K, 5, 4))
    layer = Linear(w, b)
    _, cache = layer.forward(x)
    dx, grads = layer.backward(cache, dout)
    assert dx is not None
    ours = {"dW": grads["weight"].copy(), "db": grads["bias"].copy()}
    if not shared_input:  # a shared input's dx would be the sum over models: never needed
        ours["dx"] = dx

    def loss() -> float:
        return float(np.sum(layer.forward(x)[0] * dout))

    fd = {"dW": numerical_grad(loss, w), "db": numerical_grad(loss, b)}
    if not shared_input:
        fd["dx"] = numerical_grad(loss, x)

    def reference(k: int) -> Arrays:
        xt, wt, bt = _t(x if shared_input else x[k]), _t(w[k]), _t(b[k, 0])
        (F.linear(xt, wt, bt) * torch.tensor(dout[k])).sum().backward()
        ref = {"dW": _g(wt), "db": _g(bt)[None]}
        if not shared_input:
            ref["dx"] = _g(xt)
        return ref

    name = "linear (one input for all models)" if shared_input else "linear"
    return _both(name, ours, fd, _per_model(reference))


def check_batchnorm(rng: np.random.Generator, train: bool) -> list[CheckResult]:
    x = rng.normal(1.0, 2.0, size=(K, 6, 4))
    gamma, beta = rng.normal(1.0, 0.5, (K, 1, 4)), rng.normal(0.0, 0.5, (K, 1, 4))
    rm0, rv0 = rng.normal(0.0, 1.0, (K, 1, 4)), rng.uniform(0.5, 2.0, (K, 1, 4))
    dout = rng.normal(size=(K, 6, 4))
    layer = BatchNorm1d(gamma, beta, rm0.copy(), rv0.copy())
    y, cache = layer.forward(x, train)
    stats = {"running_mean": layer.running_mean.copy(), "running_var": layer.running_var.copy()}
    dx, grads = layer.backward(cache, dout)
    ours = {"dx": dx, "dgamma": grads["weight"].copy(), "dbeta": grads["bias"].copy()}

    def loss() -> float:
        return float(np.sum(layer.forward(x, train)[0] * dout))

    fd = {
        "dx": numerical_grad(loss, x),
        "dgamma": numerical_grad(loss, gamma),
        "dbeta": numerical_grad(loss, beta),
    }

    def reference(k: int) -> Arrays:
        xt, gt, bt = _t(x[k]), _t(gamma[k, 0]), _t(beta[k, 0])
        rmt, rvt = torch.tensor(rm0[k, 0]), torch.tensor(rv0[k, 0])
        yt = F.batch_norm(xt, rmt, rvt, gt, bt, training=train, momentum=0.1, eps=1e-5)
        (yt * torch.tensor(dout[k])).sum().backward()
        return {
            "dx": _g(xt),
            "dgamma": _g(gt)[None],
            "dbeta": _g(bt)[None],
            "y": yt.detach().numpy(),
            "running_mean": rmt.numpy()[None],
            "running_var": rvt.numpy()[None],
        }

    ref = _per_model(reference)
    mode = "train" if train else "eval"
    results = _both(f"batchnorm {mode}", ours, fd, ref)
    results.append(
        _result(
            f"batchnorm {mode} output+running stats vs torch", {"y": y, **stats}, ref, TORCH_RTOL
        )
    )
    return results


def check_dropout(rng: np.random.Generator, p: tuple[float, ...] = (0.3, 0.5)) -> list[CheckResult]:
    """Each model its own rate and fixed mask."""
    x, dout = rng.normal(size=(K, 6, 5)), rng.normal(size=(K, 6, 5))
    rates = np.array(p)
    mask = rng.random((K, 6, 5)) >= rates[:, None, None]
    layer = Dropout(rates)
    _, cache = layer.forward(x, True, mask=mask)
    dx, _ = layer.backward(cache, dout)

    def loss() -> float:
        return float(np.sum(layer.forward(x, True, mask=mask)[0] * dout))

    def reference(k: int) -> Arrays:
        xt = _t(x[k])
        (FixedMaskDropout(mask[k], p[k])(xt) * torch.tensor(dout[k])).sum().backward()
        return {"dx": _g(xt)}

    return _both(
        "dropout (fixed mask)", {"dx": dx}, {"dx": numerical_grad(loss, x)}, _per_model(reference)
    )


# --- a residual block and whole models --------------------------------------------------------


def _model_case(
    spec: ModelSpec, n: int, rng: np.random.Generator
) -> tuple[MLP, np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """K float64 models with perturbed batch-norm weights, data, targets and dropout masks.

    The models have their own weights and their own rows ``x [K, n, in]``; the targets
    are shared (``[1, n, ...]``, as the engine keeps them).
    """
    states = []
    for _ in range(K):
        state = init_state(spec, "default", rng, dtype="float64")
        for k in state:  # move gamma/beta off 1/0 so their gradients are exercised in full
            if k.endswith("bn.weight") or k.endswith("bn.bias"):
                state[k] = state[k] + rng.normal(0.0, 0.3, state[k].shape)
        states.append(state)
    model = MLP(spec, states, "float64")
    x = rng.normal(size=(K, n, spec.in_dim))
    y: np.ndarray
    if spec.task == "binary":
        y = rng.integers(0, 2, (1, n, 1)).astype(np.float64)
    elif spec.task == "multiclass":
        y = rng.integers(0, spec.out_dim, (1, n))
    else:
        y = rng.normal(size=(1, n, spec.out_dim))
    masks = None
    if spec.dp_rate > 0:  # one fixed mask per block, drawn from the seeded rng
        masks = [rng.random((K, n, w)) >= spec.dp_rate for w in spec.widths()[1:-1]]
    return model, x, y, masks


def check_model(name: str, spec: ModelSpec, rng: np.random.Generator) -> list[CheckResult]:
    model, x, y, masks = _model_case(spec, 8, rng)
    loss_fn = LOSSES[spec.loss]
    # Before any forward pass: the same running statistics.
    nets = [
        torch_twin(spec, model.state_dict(k), None if masks is None else [m[k] for m in masks])
        for k in range(K)
    ]

    out, caches = model.forward(x, True, masks=masks)
    _, dout = loss_fn(out, y, True)
    assert dout is not None
    ours = {k: v.copy() for k, v in model.backward(caches, dout).items()}

    def loss() -> float:
        return float(loss_fn(model.forward(x, True, masks=masks)[0], y, False)[0].sum())

    fd = {k: numerical_grad(loss, p) for k, p in model.params.items()}

    def reference(k: int) -> Arrays:
        yt = torch.tensor(y[0])
        TORCH_LOSSES[spec.loss]()(nets[k](torch.tensor(x[k])), yt).backward()
        return {n: _bias_row(p) for n, p in nets[k].named_parameters() if p.grad is not None}

    return _both(name, ours, fd, _per_model(reference))


def _bias_row(p: torch.Tensor) -> np.ndarray:
    """A parameter's gradient in the NumPy engine's per-model shape (vectors are ``[1, D]``)."""
    assert p.grad is not None
    g = p.grad.numpy()
    return g[None] if g.ndim == 1 else g


def check_residual_block(rng: np.random.Generator) -> list[CheckResult]:
    """One hidden block of width 4 -> 4 with tanh, batch norm, dropout and the skip add."""
    spec = ModelSpec(4, 4, 1, 4, "tanh", use_bn=True, dp_rate=0.25, sc_type="residual")
    model, x, _, masks = _model_case(spec, 6, rng)
    assert masks is not None
    block, dout = model.blocks[0], rng.normal(size=(K, 6, 4))
    _, cache = block.forward(x, True, mask=masks[0])
    dx = block.backward(cache, dout)
    assert dx is not None
    names = [k for k in model.params if k.startswith("hidden.0.")]
    ours = {"dx": dx, **{k: model.grads[k].copy() for k in names}}

    def loss() -> float:
        return float(np.sum(block.forward(x, True, mask=masks[0])[0] * dout))

    fd = {
        "dx": numerical_grad(loss, x),
        **{k: numerical_grad(loss, model.params[k]) for k in names},
    }

    def reference(k: int) -> Arrays:
        net = torch_twin(spec, model.state_dict(k), [masks[0][k]])
        xt = _t(x[k])
        (net.hidden[0](xt) * torch.tensor(dout[k])).sum().backward()
        grads = {f"hidden.0.{n}": _bias_row(p) for n, p in net.hidden[0].named_parameters()}
        return {"dx": _g(xt), **grads}

    # The twin is built from the state before the forward passes above: BN's running
    # statistics do not enter a train-mode pass, so the gradients are comparable.
    return _both("residual block", ours, fd, _per_model(reference))


# --- optimizers -------------------------------------------------------------------------------

# Two models per optimizer, with their own hyperparameters (one with momentum 0 among
# models with momentum, as a sweep over mm gives).
OPTIM_CASES = (
    (OptimSpec("sgd", lr=0.1, mm=0.9, l2_coef=0.01), OptimSpec("sgd", lr=0.05)),
    (
        OptimSpec("rmsprop", lr=0.01, mm=0.9, l2_coef=0.01),
        OptimSpec("rmsprop", lr=0.02, l2_coef=0.1),
    ),
    (OptimSpec("adagrad", lr=0.1, l2_coef=0.01), OptimSpec("adagrad", lr=0.3)),
    (OptimSpec("adam", lr=0.01, l2_coef=0.01), OptimSpec("adam", lr=0.003)),
    (OptimSpec("adamw", lr=0.01, l2_coef=0.1), OptimSpec("adamw", lr=0.02, l2_coef=0.0)),
)


def check_optimizer(
    specs: tuple[OptimSpec, ...], rng: np.random.Generator, steps: int = 3
) -> CheckResult:
    """``steps`` updates of the NumPy optimizer (one row per model) vs ``torch.optim`` per model."""
    shapes = [(3, 4), (5,)]
    k_models = len(specs)
    p0 = [[rng.normal(size=s) for s in shapes] for _ in range(k_models)]
    grads = [[[rng.normal(size=s) for s in shapes] for _ in range(k_models)] for _ in range(steps)]
    flat = np.stack([np.concatenate([p.reshape(-1) for p in ps]) for ps in p0])  # [K, P]
    opt = make_optimizer(specs, flat)
    tparams = [[nn.Parameter(torch.tensor(p)) for p in ps] for ps in p0]
    topts = [torch_optimizer(tp, spec) for tp, spec in zip(tparams, specs)]
    ours: Arrays = {}
    ref: Arrays = {}
    for t, gs in enumerate(grads):
        with np.errstate(all="ignore"):  # an lr that overflows shows as nan in the table
            opt.step(np.stack([np.concatenate([g.reshape(-1) for g in gk]) for gk in gs]))
        for tp, topt, gk in zip(tparams, topts, gs):
            for p, g in zip(tp, gk):
                p.grad = torch.tensor(g)
            topt.step()
        ours[f"step{t}"] = flat.copy()
        ref[f"step{t}"] = np.stack(
            [torch.cat([p.detach().reshape(-1) for p in tp]).numpy() for tp in tparams]
        )
    return _result(f"optimizer {specs[0].name} ({steps} steps) vs torch", ours, ref, TORCH_RTOL)


MODEL_CASES = {
    "mlp binary 2-3-1 sigmoid": ModelSpec(2, 1, 1, 3, "sigmoid", task="binary"),
    "mlp multiclass 3-5-5-4 gelu bn dropout residual": ModelSpec(
        3, 4, 2, 5, "gelu", use_bn=True, dp_rate=0.2, sc_type="residual", task="multiclass"
    ),
    "mlp regression 4-4-4-4-2 elu residual": ModelSpec(
        4, 2, 3, 4, "elu", sc_type="residual", task="regression"
    ),
    "mlp multiclass 3-8-8-5-3 relu bn residual (hid_dims)": ModelSpec(
        3, 3, 3, 8, "relu", use_bn=True, sc_type="residual", task="multiclass", hid_dims=(8, 8, 5)
    ),
}


def run_gradcheck(seed: int = 0) -> list[CheckResult]:
    """Run every check in float64; inputs are drawn from ``numpy.random.default_rng(seed)``.
    Returns one :class:`CheckResult` per check, in the order they ran.

    Raises ConfigError for a seed that is not a whole number >= 0 (as a config's seed)."""
    seed = Config(seed=seed).seed  # "3" as a config takes it; "a" one line, not NumPy's
    rng = np.random.default_rng(seed)
    with _one_torch_thread():
        results = check_activations(rng) + check_losses(rng) + check_linear(rng)
        results += check_linear(rng, shared_input=True)
        results += check_batchnorm(rng, train=True) + check_batchnorm(rng, train=False)
        results += check_dropout(rng) + check_residual_block(rng)
        for name, spec in MODEL_CASES.items():
            results += check_model(name, spec, rng)
        results += [check_optimizer(specs, rng) for specs in OPTIM_CASES]
    return results


# Finite differences take two forward passes per parameter: past this, minutes.
MAX_CHECKED_PARAMS = 50_000


def check_config(cfg: Config) -> list[CheckResult]:
    """A config's own model, on its data's input and output sizes and task (its widths,
    activation, batch norm, dropout and skip connections), and its optimizer with its lr,
    mm and l2_coef, checked as the suite checks its cases; inputs from ``cfg.seed``.

    Raises ConfigError for a model too large to check by finite differences.
    """
    from mlplab.assemble import load_data, model_spec, optim_of

    data = load_data(cfg)
    spec = model_spec(cfg, data)
    if spec.n_params() > MAX_CHECKED_PARAMS:
        raise ConfigError(
            f"gradcheck: the model has {spec.n_params():,} parameters; finite differences "
            f"check at most {MAX_CHECKED_PARAMS:,} (two forward passes each): give "
            + (
                "smaller --hid_dims (such as 16-8: they set every hidden width, so --hid_dim "
                "does not apply)"
                if cfg.hid_dims is not None
                else "a smaller --hid_dim or --n_layer"
            )
            + ", whose gradients are computed by the same code"
        )
    rng = np.random.default_rng(cfg.seed)
    name = f"{cfg.label(spec)} on {data.name} ({data.task})"  # mlp 2-2-1 sigmoid: every width
    with _one_torch_thread():
        return [*check_model(name, spec, rng), check_optimizer((optim_of(cfg),) * K, rng)]


def unchecked_settings(cfg: Config) -> list[str]:
    """The settings of ``cfg`` that :func:`check_config` leaves out, each with what of it
    is not checked: the rows' weights in the loss, L1's step after each update, the lr
    schedule."""
    left = []
    if cfg.class_weight != "none":
        left.append(f"class_weight {cfg.class_weight} (the loss is checked unweighted)")
    if cfg.l1_coef:
        left.append(f"l1_coef {cfg.l1_coef:g} (its step toward 0 after each update)")
    if cfg.lr_schedule != "none":
        left.append(f"lr_schedule {cfg.lr_schedule} (the lr is checked constant)")
    return left


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """The tensors are tiny: torch's intra-op threads would only add overhead (and, on a
    busy machine, long waits). The caller's setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def format_table(results: list[CheckResult]) -> str:
    """A plain-text table: component | max abs err | max rel err | pass."""
    header = ("component", "max abs err", "max rel err", "pass")
    rows = [
        (r.component, f"{r.max_abs_err:.2e}", f"{r.max_rel_err:.2e}", "ok" if r.passed else "FAIL")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    """``mlplab gradcheck [--seed N]``: print the table; exit status 1 if any check fails."""
    parser = argparse.ArgumentParser(prog="mlplab gradcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    args = parser.parse_args(argv)
    return print_results(run_gradcheck(args.seed))


def print_results(results: list[CheckResult]) -> int:
    """Print the table and the count; 1 if any check failed, else 0."""
    print(format_table(results))
    failed = [r for r in results if not r.passed]
    print(
        f"\n{len(results) - len(failed)}/{len(results)} checks passed "
        f"(tolerance: relative error <= {FD_RTOL:g} vs finite differences with eps {FD_EPS:g}, "
        f"<= {TORCH_RTOL:g} vs torch)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
