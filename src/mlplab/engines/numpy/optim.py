"""Optimizers for the NumPy engine, formula for formula as ``torch.optim`` (``foreach=False``).

Each optimizer updates one flat parameter vector in place from a flat gradient vector of
the same shape and dtype (see :class:`mlplab.engines.numpy.model.MLP`). All five are
elementwise, so updating the concatenation of the parameters equals updating each
parameter as torch does. ``weight_decay`` is added to the gradient (``g + wd p``), except
in AdamW, which shrinks the parameter first (``p *= 1 - lr wd``).

The state is plain arrays named as torch names them (``momentum_buffer``, ``square_avg``,
``sum``, ``exp_avg``, ``exp_avg_sq``), plus JSON-able metadata (the step count), for an
exact resume. Gradients passed to ``step`` are never modified.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from mlplab.engines.backend import OptimSpec
from mlplab.errors import EngineError

Array = np.ndarray


class Optimizer:
    """Base class: holds the flat parameters, the learning rate and the state arrays.

    Parameters
    ----------
    params : ndarray
        1-D parameter vector, updated in place by :meth:`step`.
    lr : float
    weight_decay : float, default 0
    """

    name: ClassVar[str] = ""
    state_names: ClassVar[tuple[str, ...]] = ()  # arrays this optimizer keeps, torch's names

    def __init__(self, params: Array, lr: float, weight_decay: float = 0.0) -> None:
        self.params = params
        self.lr = lr
        self.weight_decay = weight_decay
        self.steps = 0
        self.state: dict[str, Array] = {}  # filled lazily on the first step, as torch
        self._tmp = np.empty_like(params)  # scratch, so a step allocates nothing

    def step(self, grad: Array) -> None:
        """Update ``self.params`` in place from ``grad`` (same shape and dtype)."""
        raise NotImplementedError

    def _decayed(self, grad: Array) -> Array:
        """``grad + weight_decay * params`` (in scratch), or ``grad`` itself when wd is 0."""
        if not self.weight_decay:
            return grad
        np.multiply(self.params, self.weight_decay, out=self._tmp)
        self._tmp += grad
        return self._tmp

    def _zeros(self, name: str) -> Array:
        if name not in self.state:
            self.state[name] = np.zeros_like(self.params)
        return self.state[name]

    def state_arrays(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """``({state name: flat copy}, {'name', 'step'})``."""
        arrays = {k: v.copy() for k, v in self.state.items()}
        return arrays, {"name": self.name, "step": self.steps}

    def load_state_arrays(self, arrays: dict[str, Array], meta: dict[str, Any]) -> None:
        """Restore what :meth:`state_arrays` returned (arrays are copied and cast)."""
        if meta.get("name", self.name) != self.name:
            raise ValueError(f"optimizer state is for {meta['name']!r}, not {self.name!r}")
        unknown = set(arrays) - set(self.state_names)
        if unknown:
            raise ValueError(f"unknown {self.name} state {sorted(unknown)}")
        self.state = {
            k: np.array(v, dtype=self.params.dtype).reshape(self.params.shape)
            for k, v in arrays.items()
        }
        self.steps = int(meta.get("step", 0))


class SGD(Optimizer):
    """``torch.optim.SGD`` (dampening 0, nesterov off).

    ``d = g + wd p``; with momentum ``buf = mm buf + d`` (``buf = d`` on the first step),
    ``d = buf``; then ``p -= lr d``.
    """

    name = "sgd"
    state_names = ("momentum_buffer",)

    def __init__(
        self, params: Array, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = momentum

    def step(self, grad: Array) -> None:
        self.steps += 1
        d = self._decayed(grad)
        if self.momentum:
            buf = self.state.get("momentum_buffer")
            if buf is None:
                buf = self.state["momentum_buffer"] = d.copy()
            else:
                buf *= self.momentum
                buf += d
            d = buf
        np.multiply(d, self.lr, out=self._tmp)
        self.params -= self._tmp


class RMSprop(Optimizer):
    """``torch.optim.RMSprop`` (alpha 0.99, eps 1e-8, centered off).

    ``v = alpha v + (1 - alpha) g^2``; ``avg = sqrt(v) + eps``; with momentum
    ``buf = mm buf + g / avg`` and ``p -= lr buf``, else ``p -= lr g / avg``.
    """

    name = "rmsprop"
    state_names = ("square_avg", "momentum_buffer")

    def __init__(
        self,
        params: Array,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        alpha: float = 0.99,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum, self.alpha, self.eps = momentum, alpha, eps
        self._avg = np.empty_like(params)

    def step(self, grad: Array) -> None:
        self.steps += 1
        g = self._decayed(grad)
        sq = self._zeros("square_avg")
        sq *= self.alpha
        sq += (1 - self.alpha) * g * g
        avg = np.sqrt(sq, out=self._avg)
        avg += self.eps
        update = np.divide(g, avg, out=self._avg)  # g may be self._tmp: write elsewhere
        if self.momentum > 0:
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
        self, params: Array, lr: float, weight_decay: float = 0.0, eps: float = 1e-10
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.eps = eps
        self._std = np.empty_like(params)
        self._zeros("sum")  # torch creates it at construction

    def step(self, grad: Array) -> None:
        self.steps += 1
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
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    name = "adam"
    state_names = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(
        self,
        params: Array,
        lr: float,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self._denom = np.empty_like(params)

    def step(self, grad: Array) -> None:
        self.steps += 1
        if self.decoupled:
            if self.weight_decay:
                self.params *= 1 - self.lr * self.weight_decay
            g = grad
        else:
            g = self._decayed(grad)
        b1, b2, t = self.beta1, self.beta2, self.steps
        m, v = self._zeros("exp_avg"), self._zeros("exp_avg_sq")
        # torch's lerp for a weight below 0.5: m + w (g - m)
        np.subtract(g, m, out=self._denom)
        self._denom *= 1 - b1
        m += self._denom
        v *= b2
        v += (1 - b2) * g * g
        step_size = self.lr / (1 - b1**t)
        bias_correction2_sqrt = math.sqrt(1 - b2**t)
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


def make_optimizer(spec: OptimSpec, params: Array) -> Optimizer:
    """The optimizer of ``spec`` over the flat vector ``params``; ``weight_decay = l2_coef``."""
    if spec.name == "sgd":
        return SGD(params, spec.lr, momentum=spec.mm, weight_decay=spec.l2_coef)
    if spec.name == "rmsprop":
        return RMSprop(params, spec.lr, momentum=spec.mm, weight_decay=spec.l2_coef)
    if spec.name == "adagrad":
        return Adagrad(params, spec.lr, weight_decay=spec.l2_coef)
    if spec.name == "adam":
        return Adam(params, spec.lr, weight_decay=spec.l2_coef)
    if spec.name == "adamw":
        return AdamW(params, spec.lr, weight_decay=spec.l2_coef)
    raise EngineError(
        f"setting 'optim': the numpy engine has no optimizer {spec.name!r}; choose one of sgd, rmsprop, adagrad, adam, adamw"
    )
