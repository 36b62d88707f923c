"""Optimizers for the NumPy engine over a model axis K, formula for formula as ``torch.optim``
(``foreach=False``).

Each optimizer updates the flat parameters ``[K, P]`` of K models in place from flat
gradients of the same shape and dtype (see :class:`mlplab.engines.numpy.model.MLP`). All
five are elementwise, so updating the concatenation of the parameters equals updating each
parameter as torch does. ``weight_decay`` is added to the gradient (``g + wd p``), except
in AdamW, which shrinks the parameter first (``p *= 1 - lr wd``).

Every model has its own hyperparameters: ``lr``, ``momentum`` and ``weight_decay`` are held
as ``[K, 1]`` columns of the parameter dtype, which broadcast over a model's row. A product
with such a float32 column rounds exactly as a single run's product with a Python float
(NumPy casts the Python float to float32 first), so a model trains the same in a stack as
alone. Each model also has its own step count (Adam's bias correction), since a model
resumed from a checkpoint may join a stack at another step.

The state is plain arrays named as torch names them (``momentum_buffer``, ``square_avg``,
``sum``, ``exp_avg``, ``exp_avg_sq``), plus JSON-able metadata (the step count), for an
exact resume. Gradients passed to ``step`` are never modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from mlplab.engines.backend import OptimSpec
from mlplab.errors import EngineError

Array = np.ndarray
PerModel = float | Sequence[float] | Array  # one value for every model, or K values


class Optimizer:
    """Base class: the flat parameters, per-model hyperparameters, step counts and state.

    Parameters
    ----------
    params : ndarray [K, P]
        Each model's parameters as one row, updated in place by :meth:`step`.
    lr : float or [K]
    weight_decay : float or [K], default 0
    """

    name: ClassVar[str] = ""
    state_names: ClassVar[tuple[str, ...]] = ()  # arrays this optimizer keeps, torch's names
    # Hyperparameter columns [K, 1] of the parameter dtype (a NumPy scalar when K = 1).
    lr: Array | np.generic
    weight_decay: Array | np.generic
    any_weight_decay: bool  # whether any model decays (else the step skips it)

    def __init__(self, params: Array, lr: PerModel, weight_decay: PerModel = 0.0) -> None:
        if params.ndim != 2:
            raise ValueError(f"params must be [K, P], got shape {params.shape}")
        self.params = params
        K = params.shape[0]
        # float64 copies keep the exact settings (export, AdamW's 1 - lr wd); the columns of
        # the parameter dtype are what the update multiplies by.
        self.hyper64: dict[str, Array] = {}
        self._set("lr", lr, K)
        self._set("weight_decay", weight_decay, K)
        # Updates so far, per model: ``steps = _base + _n``. The stack's own count is a
        # Python int, ~50x cheaper to increment on every step than an array.
        self._base = np.zeros(K, dtype=np.int64)
        self._n = 0
        self.state: dict[str, Array] = {}  # [K, P] each, filled lazily as torch does
        self._scratch()

    # --- per-model hyperparameters ----------------------------------------------------------
    def _set(self, name: str, values: PerModel, K: int) -> None:
        col = np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(-1, 1), (K, 1)).copy()
        self.hyper64[name] = col
        # A setting past float32's range (lr 1e308) becomes inf, as a Python float meeting
        # a float32 array would: the run then diverges, and says so in one line.
        with np.errstate(over="ignore"):
            typed = col.astype(self.params.dtype)
        # Speed: with K = 1 the one value is kept as a NumPy scalar of the dtype. It rounds
        # the same as the [1, 1] column, and NumPy multiplies by a scalar ~1 us faster than
        # it broadcasts a [1, 1] array, which is noticeable in a tiny model's step.
        setattr(self, name, typed if K > 1 else typed[0, 0])
        setattr(self, f"any_{name}", bool(col.any()))  # a step asks on every call

    def set_lr(self, lr: PerModel) -> None:
        """Each model's learning rate for the coming steps, ``[K]`` (or one for all)."""
        self._set("lr", lr, self.params.shape[0])

    def _scratch(self) -> None:
        self._tmp = np.empty_like(self.params)  # scratch, so a step allocates little

    def keep(self, rows: Array, params: Array) -> None:
        """Keep only the models at ``rows``; ``params`` is the model's new ``[K', P]`` array."""
        self.params = params
        for name, col in list(self.hyper64.items()):
            self._set(name, col[rows], len(rows))
        self._base, self._n = self.steps[rows], 0
        self.state = {n: np.ascontiguousarray(v[rows]) for n, v in self.state.items()}
        self._scratch()

    @property
    def steps(self) -> Array:
        """Updates so far of each model, ``[K]`` int64."""
        return self._base + self._n

    # --- the update -------------------------------------------------------------------------
    def step(self, grad: Array) -> None:
        """Update ``self.params`` in place from ``grad`` (same shape and dtype)."""
        raise NotImplementedError

    def _decayed(self, grad: Array) -> Array:
        """``grad + weight_decay * params`` (in scratch), or ``grad`` itself when all wd are 0.

        A model with wd 0 in a stack where others decay gets ``g + 0 p = g``, exactly.
        """
        if not self.any_weight_decay:
            return grad
        np.multiply(self.params, self.weight_decay, out=self._tmp)
        self._tmp += grad
        return self._tmp

    def _zeros(self, name: str) -> Array:
        if name not in self.state:
            self.state[name] = np.zeros_like(self.params)
        return self.state[name]

    # --- state of one model -------------------------------------------------------------------
    def keeps(self, name: str, k: int) -> bool:
        """Whether model ``k`` alone (torch, or a single run) would hold state ``name`` now."""
        return name in self.state and self.steps[k] > 0  # created on the first step

    def state_arrays(self, k: int) -> tuple[dict[str, Array], dict[str, Any]]:
        """Model ``k``'s ``({state name: flat copy [P]}, {'name', 'step'})``."""
        arrays = {n: v[k].copy() for n, v in self.state.items() if self.keeps(n, k)}
        return arrays, {"name": self.name, "step": int(self.steps[k])}

    def load_state_arrays(self, k: int, arrays: dict[str, Array], meta: dict[str, Any]) -> None:
        """Make model ``k`` continue from what :meth:`state_arrays` returned (copied, cast).

        States absent from ``arrays`` start at zero, as torch creates them.
        """
        if meta.get("name", self.name) != self.name:
            raise ValueError(f"optimizer state is for {meta['name']!r}, not {self.name!r}")
        unknown = set(arrays) - set(self.state_names)
        if unknown:
            raise ValueError(f"unknown {self.name} state {sorted(unknown)}")
        for name in self.state_names:
            if name in arrays:
                self._zeros(name)[k] = np.asarray(arrays[name]).reshape(-1)
            elif name in self.state:
                self.state[name][k] = 0
        self._base = self.steps
        self._n = 0
        self._base[k] = int(meta.get("step", 0))


class SGD(Optimizer):
    """``torch.optim.SGD`` (dampening 0, nesterov off).

    ``d = g + wd p``; with momentum ``buf = mm buf + d`` (``buf = d`` on the first step),
    ``d = buf``; then ``p -= lr d``.

    In a stack where some models have momentum, every model's row of ``buf`` is updated.
    The buffer starts at zero, so the first step gives ``buf = mm 0 + d = d`` as torch's
    ``buf = d``; a model with mm = 0 gets ``buf = 0 buf + d = d``, exactly the update it
    makes alone without a buffer (only its own optimizer's buffers are exported).
    """

    name = "sgd"
    state_names = ("momentum_buffer",)
    momentum: Array | np.generic
    any_momentum: bool

    def __init__(
        self, params: Array, lr: PerModel, momentum: PerModel = 0.0, weight_decay: PerModel = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self._set("momentum", momentum, params.shape[0])

    def keeps(self, name: str, k: int) -> bool:
        return bool(self.hyper64["momentum"][k, 0]) and super().keeps(name, k)

    def step(self, grad: Array) -> None:
        self._n += 1
        d = self._decayed(grad)
        if self.any_momentum:
            buf = self._zeros("momentum_buffer")
            buf *= self.momentum
            buf += d
            d = buf
        np.multiply(d, self.lr, out=self._tmp)
        self.params -= self._tmp


class RMSprop(Optimizer):
    """``torch.optim.RMSprop`` (alpha 0.99, eps 1e-8, centered off).

    ``v = alpha v + (1 - alpha) g^2``; ``avg = sqrt(v) + eps``; with momentum
    ``buf = mm buf + g / avg`` and ``p -= lr buf``, else ``p -= lr g / avg``.
    A model with mm = 0 among models with momentum: see :class:`SGD`.
    """

    name = "rmsprop"
    state_names = ("square_avg", "momentum_buffer")
    momentum: Array | np.generic
    any_momentum: bool

    def __init__(
        self,
        params: Array,
        lr: PerModel,
        momentum: PerModel = 0.0,
        weight_decay: PerModel = 0.0,
        alpha: float = 0.99,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self._set("momentum", momentum, params.shape[0])
        self.alpha, self.eps = alpha, eps

    def _scratch(self) -> None:
        super()._scratch()
        self._avg = np.empty_like(self.params)

    def keeps(self, name: str, k: int) -> bool:
        if name == "momentum_buffer" and not self.hyper64["momentum"][k, 0]:
            return False
        return super().keeps(name, k)

    def step(self, grad: Array) -> None:
        self._n += 1
        g = self._decayed(grad)
        sq = self._zeros("square_avg")
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        avg = np.sqrt(sq, out=self._avg)
        avg += self.eps
        update = np.divide(g, avg, out=self._avg)  # g may be self._tmp: write elsewhere
        if self.any_momentum:
            buf = self._zeros("momentum_buffer")
            buf *= self.momentum
            buf += update
            update = buf
        np.multiply(update, self.lr, out=self._tmp)
        self.params -= self._tmp


class Adagrad(Optimizer):
    """``torch.optim.Adagrad`` (lr_decay 0, initial accumulator 0, eps 1e-10).

    ``s += g^2``; ``p -= lr g / (sqrt(s) + eps)``.
    """

    name = "adagrad"
    state_names = ("sum",)

    def __init__(
        self, params: Array, lr: PerModel, weight_decay: PerModel = 0.0, eps: float = 1e-10
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.eps = eps
        self._zeros("sum")  # torch creates it at construction

    def _scratch(self) -> None:
        super()._scratch()
        self._std = np.empty_like(self.params)

    def keeps(self, name: str, k: int) -> bool:
        return name in self.state  # exists from the start

    def step(self, grad: Array) -> None:
        self._n += 1
        g = self._decayed(grad)
        s = self.state["sum"]
        s += g * g
        std = np.sqrt(s, out=self._std)
        std += self.eps
        np.divide(g, std, out=self._std)
        self._std *= self.lr  # clr = lr / (1 + (step - 1) lr_decay) = lr
        self.params -= self._std


class Adam(Optimizer):
    """``torch.optim.Adam`` (betas 0.9/0.999, eps 1e-8, amsgrad off; wd added to g).

    ``m = lerp(m, g, 1 - b1)``; ``v = b2 v + (1 - b2) g^2``;
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``, with ``t`` the model's
    own step count.
    """

    name = "adam"
    state_names = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(
        self,
        params: Array,
        lr: PerModel,
        weight_decay: PerModel = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta1, self.beta2 = betas
        self.eps = eps

    def _scratch(self) -> None:
        super()._scratch()
        self._denom = np.empty_like(self.params)

    def step(self, grad: Array) -> None:
        self._n += 1
        dt = self.params.dtype
        lr64, wd64 = self.hyper64["lr"], self.hyper64["weight_decay"]
        if self.decoupled:
            if self.any_weight_decay:
                # 1 - lr wd in float64, then rounded once: a single run's Python float.
                self.params *= (1 - lr64 * wd64).astype(dt)
            g = grad
        else:
            g = self._decayed(grad)
        b1, b2 = self.beta1, self.beta2
        t = self.steps.reshape(-1, 1).astype(np.float64)  # [K, 1]
        m, v = self._zeros("exp_avg"), self._zeros("exp_avg_sq")
        # torch's lerp for a weight below 0.5: m + w (g - m)
        np.subtract(g, m, out=self._denom)
        self._denom *= 1 - b1
        m += self._denom
        v *= b2
        v += (1 - b2) * g * g
        # Per-model bias corrections, in float64 and rounded once (a single run's floats).
        step_size = (lr64 / (1 - b1**t)).astype(dt)
        bias_correction2_sqrt = np.sqrt(1 - b2**t).astype(dt)
        denom = np.sqrt(v, out=self._denom)
        denom /= bias_correction2_sqrt
        denom += self.eps
        np.divide(m, denom, out=self._tmp)
        self._tmp *= step_size
        self.params -= self._tmp


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay, ``p *= 1 - lr wd`` first."""

    name = "adamw"
    decoupled = True


# By name, as the torch engine's OPTIMIZERS: the names come from the classes, so there is
# no second list of them to keep in step with the config's (make_optimizer builds from this
# table, not from a branch per name). tests/core/test_config.py checks it against the config.
OPTIMIZERS: dict[str, type[Optimizer]] = {o.name: o for o in (SGD, RMSprop, Adagrad, Adam, AdamW)}


def make_optimizer(specs: OptimSpec | Sequence[OptimSpec], params: Array) -> Optimizer:
    """The optimizer of ``specs`` (one per model, all of one kind) over ``params [K, P]``.

    Each model's ``lr``, ``mm`` and ``l2_coef`` (torch's ``weight_decay``) are its own; one
    ``OptimSpec`` is used for every model.
    """
    per_model = [specs] if isinstance(specs, OptimSpec) else list(specs)
    names = sorted({s.name for s in per_model})
    if len(names) != 1:
        raise ValueError(f"a stack trains one optimizer kind, got {names}")
    name = names[0]
    K = params.shape[0]
    if len(per_model) == 1:
        per_model = per_model * K
    if len(per_model) != K:
        raise ValueError(f"{len(per_model)} optimizer settings for {K} models")
    lr = [s.lr for s in per_model]
    mm = [s.mm for s in per_model]
    wd = [s.l2_coef for s in per_model]
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise EngineError(
            f"setting 'optim': the numpy engine has no optimizer {name!r}; "
            f"choose one of {', '.join(OPTIMIZERS)}"
        )
    if issubclass(cls, (SGD, RMSprop)):  # the optimizers with momentum
        return cls(params, lr, momentum=mm, weight_decay=wd)
    return cls(params, lr, weight_decay=wd)
