"""Check the NumPy engine's hand-written derivatives and optimizer steps.

Every backward pass of :mod:`mlplab.engines.numpy` is compared, in float64, with two
independent references:

- **central finite differences** ``(f(x + eps) - f(x - eps)) / (2 eps)`` with
  ``eps = 1e-6``, whose own error (truncation ~eps², rounding ~1e-16/eps) is about 1e-10
  relative, so the tolerance is ``1e-5``;
- **PyTorch autograd** on the same inputs and weights, which should agree to rounding,
  so the tolerance is ``1e-6``.

Optimizers are compared with ``torch.optim`` over 3 steps on the same parameters and
gradients (so momentum and the moment estimates matter), tolerance ``1e-6``.

The error of an array is normwise: ``max_abs_err = max |ours - ref|`` and
``max_rel_err = max_abs_err / max(max |ref|, 1e-12)``, the error relative to the largest
reference value. Unlike an elementwise ratio it does not blow up on entries that are zero
up to rounding (a saturated sigmoid, a dead ReLU). Where a component has several arrays
(``dx``, ``dW``, ``db``), the worst one is reported.

Used as ``mlplab gradcheck``; :func:`main` returns 1 when any check fails.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlplab.engines.backend import OptimSpec
from mlplab.engines.init import init_state
from mlplab.engines.numpy.functional import ACTIVATIONS, LOSSES
from mlplab.engines.numpy.layers import BatchNorm1d, Dropout, Linear
from mlplab.engines.numpy.model import MLP
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.backend import make_optimizer as make_torch_optimizer
from mlplab.engines.torch.model import ACTIVATION_MODULES, load_numpy_state
from mlplab.engines.torch.model import MLP as TorchMLP
from mlplab.engines.torch.model import Block as TorchBlock

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
    worst_abs = worst_rel = 0.0
    for k, a in ours.items():
        b = np.asarray(ref[k], dtype=np.float64)
        a = np.asarray(a, dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"{component}: {k} has shape {a.shape}, reference {b.shape}")
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
        worst_abs, worst_rel = max(worst_abs, err), max(worst_rel, err / scale)
    passed = bool(np.isfinite(worst_rel) and worst_rel <= rtol)
    return CheckResult(component, worst_abs, worst_rel, passed)


def _both(component: str, ours: Arrays, fd: Arrays, torch_ref: Arrays) -> list[CheckResult]:
    return [
        _result(f"{component} vs finite diff", ours, fd, FD_RTOL),
        _result(f"{component} vs torch", ours, torch_ref, TORCH_RTOL),
    ]


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = FD_EPS) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``x``, perturbed in place."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writes reach x
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        up = f()
        flat[i] = orig - eps
        down = f()
        flat[i] = orig
        gflat[i] = (up - down) / (2 * eps)
    return grad


def _t(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _g(t: torch.Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


# --- activations and losses ------------------------------------------------------------------


def check_activations(rng: np.random.Generator) -> list[CheckResult]:
    z = np.concatenate([rng.normal(0.0, 3.0, 40), [-25.0, -8.0, 8.0, 25.0]])
    z = np.where(np.abs(z) < 1e-2, z + 0.1, z)  # keep eps-steps off the kinks at 0
    results = []
    for name, (f, f_prime) in ACTIVATIONS.items():
        ours = f_prime(z, f(z))
        fd = (f(z + FD_EPS) - f(z - FD_EPS)) / (2 * FD_EPS)  # elementwise: all at once
        zt = _t(z)
        ACTIVATION_MODULES[name]()(zt).sum().backward()
        results += _both(f"activation {name}", {"df": ours}, {"df": fd}, {"df": _g(zt)})
    return results


def check_losses(rng: np.random.Generator) -> list[CheckResult]:
    n = 8
    cases = {
        "bce": (
            rng.normal(0, 3, (n, 1)),
            rng.integers(0, 2, (n, 1)).astype(np.float64),
            nn.BCEWithLogitsLoss(),
        ),
        "cross_entropy": (rng.normal(0, 3, (n, 4)), rng.integers(0, 4, n), nn.CrossEntropyLoss()),
        "mse": (rng.normal(0, 3, (n, 3)), rng.normal(0, 3, (n, 3)), nn.MSELoss()),
    }
    results = []
    for name, (out, y, criterion) in cases.items():
        loss_fn = LOSSES[name]
        loss, grad = loss_fn(out, y, True)
        assert grad is not None

        def value(o: np.ndarray = out, y: np.ndarray = y, fn: Any = loss_fn) -> float:
            return float(fn(o, y, False)[0])

        fd = numerical_grad(value, out)
        ot = _t(out)
        yt = torch.tensor(y) if y.dtype.kind == "i" else torch.tensor(y, dtype=torch.float64)
        lt = criterion(ot, yt)
        lt.backward()
        ours = {"grad": grad}
        results.append(_result(f"loss {name} vs finite diff", ours, {"grad": fd}, FD_RTOL))
        results.append(
            _result(
                f"loss {name} vs torch",
                {**ours, "loss": np.array([loss])},
                {"grad": _g(ot), "loss": np.array([lt.item()])},
                TORCH_RTOL,
            )
        )
    return results


# --- layers: scalar loss L = sum(out * dout), so dL/dout = dout -----------------------------


def check_linear(rng: np.random.Generator) -> list[CheckResult]:
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    dout = rng.normal(size=(5, 4))
    layer = Linear(w, b)
    _, cache = layer.forward(x)
    dx, grads = layer.backward(cache, dout)
    assert dx is not None
    ours = {"dx": dx, "dW": grads["weight"].copy(), "db": grads["bias"].copy()}

    def loss() -> float:
        return float(np.sum(layer.forward(x)[0] * dout))

    fd = {
        "dx": numerical_grad(loss, x),
        "dW": numerical_grad(loss, w),
        "db": numerical_grad(loss, b),
    }
    xt, wt, bt = _t(x), _t(w), _t(b)
    (F.linear(xt, wt, bt) * torch.tensor(dout)).sum().backward()
    return _both("linear", ours, fd, {"dx": _g(xt), "dW": _g(wt), "db": _g(bt)})


def check_batchnorm(rng: np.random.Generator, train: bool) -> list[CheckResult]:
    x = rng.normal(1.0, 2.0, size=(6, 4))
    gamma, beta = rng.normal(1.0, 0.5, 4), rng.normal(0.0, 0.5, 4)
    rm0, rv0 = rng.normal(0.0, 1.0, 4), rng.uniform(0.5, 2.0, 4)
    dout = rng.normal(size=(6, 4))
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
    xt, gt, bt = _t(x), _t(gamma), _t(beta)
    rmt, rvt = torch.tensor(rm0), torch.tensor(rv0)
    yt = F.batch_norm(xt, rmt, rvt, gt, bt, training=train, momentum=0.1, eps=1e-5)
    (yt * torch.tensor(dout)).sum().backward()
    ref = {"dx": _g(xt), "dgamma": _g(gt), "dbeta": _g(bt)}
    mode = "train" if train else "eval"
    results = _both(f"batchnorm {mode}", ours, fd, ref)
    results.append(
        _result(
            f"batchnorm {mode} output+running stats vs torch",
            {"y": y, **stats},
            {"y": yt.detach().numpy(), "running_mean": rmt.numpy(), "running_var": rvt.numpy()},
            TORCH_RTOL,
        )
    )
    return results


def check_dropout(rng: np.random.Generator, p: float = 0.3) -> list[CheckResult]:
    x, dout = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    mask = rng.random((6, 5)) >= p
    layer = Dropout(p)
    _, cache = layer.forward(x, True, mask=mask)
    dx, _ = layer.backward(cache, dout)

    def loss() -> float:
        return float(np.sum(layer.forward(x, True, mask=mask)[0] * dout))

    xt = _t(x)
    # torch's dropout formula, input * mask / (1 - p), with the same mask
    (xt * torch.tensor(mask, dtype=torch.float64) / (1 - p) * torch.tensor(dout)).sum().backward()
    return _both(
        "dropout (fixed mask)", {"dx": dx}, {"dx": numerical_grad(loss, x)}, {"dx": _g(xt)}
    )


class FixedMaskDropout(nn.Module):
    """torch's dropout, ``x * mask / (1 - p)``, with a given mask (to match NumPy's draw)."""

    def __init__(self, mask: np.ndarray, p: float) -> None:
        super().__init__()
        self.mask = torch.tensor(mask, dtype=torch.float64)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask / (1 - self.p)


# --- a residual block and whole models --------------------------------------------------------


def _model_case(
    spec: ModelSpec, n: int, rng: np.random.Generator
) -> tuple[MLP, np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """A float64 model with perturbed batch-norm weights, data, targets and dropout masks."""
    state = init_state(spec, "default", rng, dtype="float64")
    for k in state:  # move gamma/beta off 1/0 so their gradients are exercised in full
        if k.endswith("bn.weight") or k.endswith("bn.bias"):
            state[k] = state[k] + rng.normal(0.0, 0.3, state[k].shape)
    model = MLP(spec, state, "float64")
    x = rng.normal(size=(n, spec.in_dim))
    y: np.ndarray
    if spec.task == "binary":
        y = rng.integers(0, 2, (n, 1)).astype(np.float64)
    elif spec.task == "multiclass":
        y = rng.integers(0, spec.out_dim, n)
    else:
        y = rng.normal(size=(n, spec.out_dim))
    masks = None
    if spec.dp_rate > 0:  # one fixed mask per block, drawn from the seeded rng
        masks = [rng.random((n, w)) >= spec.dp_rate for w in spec.widths()[1:-1]]
    return model, x, y, masks


def _torch_twin(spec: ModelSpec, model: MLP, masks: list[np.ndarray] | None) -> TorchMLP:
    net = TorchMLP(spec).double()
    load_numpy_state(net, model.state_dict())
    if masks is not None:
        for block, mask in zip(net.hidden, masks):
            block.dropout = FixedMaskDropout(mask, spec.dp_rate)
    return net.train()


def check_model(name: str, spec: ModelSpec, rng: np.random.Generator) -> list[CheckResult]:
    model, x, y, masks = _model_case(spec, 8, rng)
    loss_fn = LOSSES[spec.loss]
    net = _torch_twin(spec, model, masks)  # before any forward: same running stats

    out, caches = model.forward(x, True, masks=masks)
    _, dout = loss_fn(out, y, True)
    assert dout is not None
    ours = {k: v.copy() for k, v in model.backward(caches, dout).items()}

    def loss() -> float:
        return loss_fn(model.forward(x, True, masks=masks)[0], y, False)[0]

    fd = {k: numerical_grad(loss, p) for k, p in model.params.items()}
    yt = torch.tensor(y) if spec.task == "multiclass" else torch.tensor(y, dtype=torch.float64)
    criterion = {
        "bce": nn.BCEWithLogitsLoss(),
        "cross_entropy": nn.CrossEntropyLoss(),
        "mse": nn.MSELoss(),
    }
    criterion[spec.loss](net(torch.tensor(x)), yt).backward()
    ref = {k: p.grad.numpy() for k, p in net.named_parameters() if p.grad is not None}
    return _both(name, ours, fd, ref)


def check_residual_block(rng: np.random.Generator) -> list[CheckResult]:
    """One hidden block of width 4 -> 4 with tanh, batch norm, dropout and the skip add."""
    spec = ModelSpec(4, 4, 1, 4, "tanh", use_bn=True, dp_rate=0.25, sc_type="residual")
    model, x, _, masks = _model_case(spec, 6, rng)
    assert masks is not None
    block, dout = model.blocks[0], rng.normal(size=(6, 4))
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
    tb = TorchBlock(4, 4, spec, residual=True).double().train()
    load_numpy_state(
        tb,
        {
            k.removeprefix("hidden.0."): v
            for k, v in model.state_dict().items()
            if k.startswith("hidden.0.")
        },
    )
    tb.dropout = FixedMaskDropout(masks[0], spec.dp_rate)  # type: ignore[assignment]  # a test double
    xt = _t(x)
    (tb(xt) * torch.tensor(dout)).sum().backward()
    ref = {
        "dx": _g(xt),
        **{f"hidden.0.{k}": p.grad.numpy() for k, p in tb.named_parameters() if p.grad is not None},
    }
    return _both("residual block", ours, fd, ref)


# --- optimizers -------------------------------------------------------------------------------

OPTIM_CASES = (
    OptimSpec("sgd", lr=0.1, mm=0.9, l2_coef=0.01),
    OptimSpec("rmsprop", lr=0.01, mm=0.9, l2_coef=0.01),
    OptimSpec("adagrad", lr=0.1, l2_coef=0.01),
    OptimSpec("adam", lr=0.01, l2_coef=0.01),
    OptimSpec("adamw", lr=0.01, l2_coef=0.1),
)


def check_optimizer(spec: OptimSpec, rng: np.random.Generator, steps: int = 3) -> CheckResult:
    """``steps`` updates of the NumPy optimizer vs ``torch.optim`` on two tensors."""
    shapes = [(3, 4), (5,)]
    p0 = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(steps)]
    flat = np.concatenate([p.reshape(-1) for p in p0])
    opt = make_optimizer(spec, flat)
    tparams = [nn.Parameter(torch.tensor(p)) for p in p0]
    topt = make_torch_optimizer(tparams, spec)
    ours: Arrays = {}
    ref: Arrays = {}
    for t, gs in enumerate(grads):
        opt.step(np.concatenate([g.reshape(-1) for g in gs]))
        for tp, g in zip(tparams, gs):
            tp.grad = torch.tensor(g)
        topt.step()
        ours[f"step{t}"] = flat.copy()
        ref[f"step{t}"] = torch.cat([tp.detach().reshape(-1) for tp in tparams]).numpy()
    return _result(f"optimizer {spec.name} ({steps} steps) vs torch", ours, ref, TORCH_RTOL)


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
    """Run every check in float64; inputs are drawn from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    # The tensors are tiny: torch's intra-op threads would only add overhead (and, on a
    # busy machine, long waits). The caller's setting is restored afterwards.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = check_activations(rng) + check_losses(rng) + check_linear(rng)
        results += check_batchnorm(rng, train=True) + check_batchnorm(rng, train=False)
        results += check_dropout(rng) + check_residual_block(rng)
        for name, spec in MODEL_CASES.items():
            results += check_model(name, spec, rng)
        results += [check_optimizer(spec, rng) for spec in OPTIM_CASES]
    finally:
        torch.set_num_threads(threads)
    return results


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
    results = run_gradcheck(args.seed)
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
