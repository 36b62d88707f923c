"""The torch engine's optimizers, over parameters stacked on a leading model axis K.

Each optimizer is ``torch.optim``'s single-tensor formula (``foreach=False``), written once
over ``[K, ...]`` parameters, with each model's own ``lr``, ``mm`` (momentum) and
``l2_coef`` (``weight_decay``) as ``[K, 1, ...]`` coefficients. A model of the stack
steps as ``torch.optim`` would step it alone: the tests check it row by row to rounding,
and on x86 CPUs the weights come out bit-identical. Fixed hyperparameters are torch's
defaults (see :class:`mlplab.engines.backend.OptimSpec`).

There is no fused kernel: torch's fused Adam (one pass over all parameters) stepped W4's
330k parameters about 3.5x faster than this or ``foreach=False`` (0.45 ms against 1.7 ms
on a busy 2-core machine), but it takes one lr for all models.

Two forms differ from torch's text but not its arithmetic: ``param.add_(g, alpha=-lr)``
with a per-model ``lr`` becomes ``param.addcmul_(lr, g, value=-1)``, and
``param.addcdiv_(a, b, value=-lr)`` becomes ``param.addcdiv_(lr * a, b, value=-1)``, which
rounds as torch does (``(-lr * a) / b``). State starts at zeros, as torch's does (for SGD
momentum, ``0 * buf + g`` is torch's first-step ``buf = g``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from mlplab.engines.backend import OptimSpec, shared_l1
from mlplab.errors import EngineError

Coefs = dict[str, torch.Tensor]

RMSPROP_ALPHA, RMSPROP_EPS = 0.99, 1e-8
ADAGRAD_EPS = 1e-10
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


class StackedOptimizer:
    """One optimizer kind over K models' ``[K, ...]`` parameters.

    Parameters
    ----------
    params : dict of str to Tensor
        The stacked parameters by name (``[K, ...]``, leaves whose ``.grad`` the step reads).
        They are read through this dict at each step, so parameters whose ``.data`` is
        replaced in place (:meth:`StackedMLP.keep`) stay attached.
    specs : sequence of OptimSpec
        One per model, all with this optimizer's ``name``.

    State tensors are ``[K, ...]`` per parameter, named as torch names them. Step counts
    are per model (``steps [K]``), so a model loaded from a checkpoint keeps its own.
    """

    name: ClassVar[str]

    def __init__(self, params: dict[str, torch.Tensor], specs: Sequence[OptimSpec]) -> None:
        kinds = sorted({s.name for s in specs})
        if kinds != [self.name]:
            raise ValueError(f"a {self.name} stack got optimizers {kinds}")
        self.params = params
        self.l1 = shared_l1(specs)
        self.lr = np.array([s.lr for s in specs], dtype=np.float64)
        self.mm = np.array([s.mm for s in specs], dtype=np.float64)
        self.l2 = np.array([s.l2_coef for s in specs], dtype=np.float64)
        self.steps = np.zeros(len(specs), dtype=np.int64)
        self.state = {
            n: {
                s: torch.zeros_like(p, memory_format=torch.contiguous_format) for s in self.states()
            }
            for n, p in params.items()
        }
        self._fixed: Coefs | None = None  # lr, mm, l2 as [K] tensors, until they change

    # --- what each optimizer defines ------------------------------------------------------
    def states(self) -> tuple[str, ...]:
        """State names this stack keeps for every model."""
        raise NotImplementedError

    def model_states(self, k: int) -> tuple[str, ...]:
        """State names ``torch.optim`` keeps for model k alone (what :meth:`export` gives)."""
        return self.states()

    def step_coefs(self) -> Coefs:
        """Coefficients that change with the step count (``[K]``); none by default."""
        return {}

    def update(
        self, p: torch.Tensor, g: torch.Tensor, st: dict[str, torch.Tensor], c: Coefs
    ) -> None:
        """Update one stacked parameter in place; ``c`` holds ``[K, 1, ...]`` coefficients."""
        raise NotImplementedError

    # --- the step ----------------------------------------------------------------------------
    def _tensor(self, values: np.ndarray) -> torch.Tensor:
        p = next(iter(self.params.values()))
        return torch.as_tensor(values, dtype=p.dtype, device=p.device)

    def fixed_coefs(self) -> Coefs:
        """``lr`` always; ``mm`` and ``l2`` only where some model uses them."""
        if self._fixed is None:
            c = {"lr": self._tensor(self.lr)}
            if self.mm.any():
                c["mm"] = self._tensor(self.mm)
            if self.l2.any():
                c["l2"] = self._tensor(self.l2)
            self._fixed = c
        return self._fixed

    @torch.no_grad()
    def step(self) -> None:
        """One update of every model from the gradients in ``p.grad``."""
        self.steps += 1
        coefs = {**self.fixed_coefs(), **self.step_coefs()}
        by_rank: dict[int, Coefs] = {}  # [K] -> [K, 1, ...], once per rank (weights, biases)
        for name, p in self.params.items():
            assert p.grad is not None, f"{name} has no gradient"
            c = by_rank.get(p.dim())
            if c is None:
                shape = (-1,) + (1,) * (p.dim() - 1)
                c = by_rank[p.dim()] = {k: v.view(shape) for k, v in coefs.items()}
            self.update(p, p.grad, self.state[name], c)
        if self.l1:
            self._shrink_weights(by_rank)

    def _shrink_weights(self, by_rank: dict[int, Coefs]) -> None:
        """L1's proximal step (:class:`OptimSpec`): each weight ``lr * l1_coef`` nearer 0,
        stopping at 0, as the NumPy engine takes it; the stacked ``[K, out, in]`` weights
        alone (biases and batch norm's parameters are ``[K, n]``)."""
        lr = by_rank[3]["lr"]
        thr = lr * torch.as_tensor(self.l1, dtype=lr.dtype, device=lr.device)
        for p in self.params.values():
            if p.dim() == 3:
                p.copy_(torch.copysign(torch.clamp(p.abs() - thr, min=0), p))

    def set_lr(self, lr: np.ndarray) -> None:
        """Each model's learning rate for the coming steps, ``[K]``."""
        self.lr = np.array(lr, dtype=np.float64).reshape(len(self.steps))
        self._fixed = None

    # --- rows and checkpoints ----------------------------------------------------------------
    def keep(self, rows: np.ndarray) -> None:
        """Keep only the models at ``rows``, in order."""
        rows = np.asarray(rows, dtype=np.int64)
        self.lr, self.mm, self.l2 = self.lr[rows], self.mm[rows], self.l2[rows]
        self.steps = self.steps[rows]
        for st in self.state.values():
            for s, t in st.items():
                st[s] = t.index_select(0, torch.as_tensor(rows, device=t.device))
        self._fixed = None

    def export(self, k: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Model k's state arrays ``<param>.<state>`` (unstacked) and ``{name, step, lr}``."""
        arrays = {
            f"{n}.{s}": st[s][k].cpu().numpy().copy()
            for n, st in self.state.items()
            for s in self.model_states(k)
        }
        return arrays, {"name": self.name, "step": int(self.steps[k]), "lr": float(self.lr[k])}

    @torch.no_grad()
    def load(self, k: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Make model k continue from ``(arrays, meta)`` as :meth:`export` gave them.

        A state array that is absent starts at zeros, as torch's state does before the
        first step; one this optimizer does not keep is an error.
        """
        if meta.get("name", self.name) != self.name:
            raise ValueError(
                f"optimizer state is {meta['name']!r}, this stack trains {self.name!r}"
            )
        unknown = sorted(set(arrays) - {f"{n}.{s}" for n in self.state for s in self.states()})
        if unknown:
            raise ValueError(f"{self.name} keeps no optimizer state {unknown}")
        for n, st in self.state.items():
            for s, t in st.items():
                a = arrays.get(f"{n}.{s}")
                if a is None:
                    t[k].zero_()
                elif np.shape(a) != t.shape[1:]:
                    raise ValueError(f"{n}.{s}: shape {np.shape(a)}, expected {tuple(t.shape[1:])}")
                else:
                    t[k].copy_(torch.as_tensor(np.asarray(a)))
        self.steps[k] = int(meta["step"])
        self.lr[k] = float(meta["lr"])
        self._fixed = None


def _weight_decay(p: torch.Tensor, g: torch.Tensor, c: Coefs) -> torch.Tensor:
    """``grad + l2_coef * param`` (torch: ``grad.add(param, alpha=weight_decay)``)."""
    return g.addcmul(c["l2"], p) if "l2" in c else g


class SGD(StackedOptimizer):
    """``torch.optim.SGD(lr, momentum=mm, weight_decay=l2_coef)``."""

    name = "sgd"

    def states(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.mm.any() else ()

    def model_states(self, k: int) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.mm[k] > 0 else ()

    def update(
        self, p: torch.Tensor, g: torch.Tensor, st: dict[str, torch.Tensor], c: Coefs
    ) -> None:
        g = _weight_decay(p, g, c)
        if "momentum_buffer" in st:
            # A model with mm = 0 gets buf = g exactly, so it steps as plain SGD.
            g = st["momentum_buffer"].mul_(c["mm"]).add_(g)
        p.addcmul_(c["lr"], g, value=-1)


class RMSprop(StackedOptimizer):
    """``torch.optim.RMSprop(lr, alpha=0.99, eps=1e-8, momentum=mm, weight_decay=l2_coef)``."""

    name = "rmsprop"

    def states(self) -> tuple[str, ...]:
        return ("square_avg", "momentum_buffer") if self.mm.any() else ("square_avg",)

    def model_states(self, k: int) -> tuple[str, ...]:
        return ("square_avg", "momentum_buffer") if self.mm[k] > 0 else ("square_avg",)

    def fixed_coefs(self) -> Coefs:
        c = super().fixed_coefs()
        if self.mm.any() and not self.mm.all() and "has_mm" not in c:
            c["has_mm"] = torch.as_tensor(self.mm > 0, device=c["lr"].device)
        return c

    def update(
        self, p: torch.Tensor, g: torch.Tensor, st: dict[str, torch.Tensor], c: Coefs
    ) -> None:
        g = _weight_decay(p, g, c)
        sq = st["square_avg"].mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
        avg = sq.sqrt().add_(RMSPROP_EPS)
        if "momentum_buffer" not in st:
            p.addcdiv_(c["lr"] * g, avg, value=-1)
            return
        buf = st["momentum_buffer"].mul_(c["mm"]).addcdiv_(g, avg)
        stepped = p.addcmul(c["lr"], buf, value=-1)  # torch: param.add_(buf, alpha=-lr)
        if "has_mm" in c:  # a mixed stack: models with mm = 0 take torch's momentum-0 branch
            stepped = torch.where(c["has_mm"], stepped, p.addcdiv(c["lr"] * g, avg, value=-1))
        p.copy_(stepped)


class Adagrad(StackedOptimizer):
    """``torch.optim.Adagrad(lr, eps=1e-10, weight_decay=l2_coef)`` (no lr decay)."""

    name = "adagrad"

    def states(self) -> tuple[str, ...]:
        return ("sum",)

    def update(
        self, p: torch.Tensor, g: torch.Tensor, st: dict[str, torch.Tensor], c: Coefs
    ) -> None:
        g = _weight_decay(p, g, c)
        s = st["sum"].addcmul_(g, g, value=1)
        p.addcdiv_(c["lr"] * g, s.sqrt().add_(ADAGRAD_EPS), value=-1)


class Adam(StackedOptimizer):
    """``torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=l2_coef)``."""

    name = "adam"

    def states(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def step_coefs(self) -> Coefs:
        # Bias corrections per model: each model's own step count.
        bc1 = 1 - ADAM_BETA1 ** self.steps.astype(np.float64)
        bc2 = 1 - ADAM_BETA2 ** self.steps.astype(np.float64)
        return {"step_size": self._tensor(self.lr / bc1), "bc2_sqrt": self._tensor(bc2**0.5)}

    def decay(self, p: torch.Tensor, g: torch.Tensor, c: Coefs) -> torch.Tensor:
        """Adam's L2 term is added to the gradient."""
        return _weight_decay(p, g, c)

    def update(
        self, p: torch.Tensor, g: torch.Tensor, st: dict[str, torch.Tensor], c: Coefs
    ) -> None:
        g = self.decay(p, g, c)
        m = st["exp_avg"].lerp_(g, 1 - ADAM_BETA1)
        v = st["exp_avg_sq"].mul_(ADAM_BETA2).addcmul_(g, g, value=1 - ADAM_BETA2)
        denom = (v.sqrt() / c["bc2_sqrt"]).add_(ADAM_EPS)
        p.addcdiv_(c["step_size"] * m, denom, value=-1)


class AdamW(Adam):
    """``torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=l2_coef)``."""

    name = "adamw"

    def fixed_coefs(self) -> Coefs:
        c = super().fixed_coefs()
        if "l2" in c and "shrink" not in c:
            c["shrink"] = self._tensor(1 - self.lr * self.l2)
        return c

    def decay(self, p: torch.Tensor, g: torch.Tensor, c: Coefs) -> torch.Tensor:
        """Decoupled: the weights shrink by ``1 - lr * l2_coef``; the gradient is kept."""
        if "shrink" in c:
            p.mul_(c["shrink"])
        return g


OPTIMIZERS: dict[str, type[StackedOptimizer]] = {
    o.name: o for o in (SGD, RMSprop, Adagrad, Adam, AdamW)
}


def make_optimizer(params: dict[str, torch.Tensor], specs: Sequence[OptimSpec]) -> StackedOptimizer:
    """The stacked optimizer for ``specs`` (one per model, all of one kind)."""
    kinds = sorted({s.name for s in specs})
    if len(kinds) != 1:
        raise ValueError(f"a stack trains one optimizer kind, got {kinds}")
    if kinds[0] not in OPTIMIZERS:  # the NumPy engine's line, word for word
        raise EngineError(
            f"setting 'optim': the torch engine has no optimizer {kinds[0]!r}; "
            f"choose one of {', '.join(OPTIMIZERS)}"
        )
    return OPTIMIZERS[kinds[0]](params, specs)
