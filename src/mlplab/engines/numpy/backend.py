"""Training operations for the NumPy engine (the :class:`mlplab.engines.backend.Backend` protocol).

A training step is forward, loss, backward by the chain rule, and one optimizer update,
all in NumPy on arrays of one dtype. For tiny models this is several times faster than
PyTorch, whose per-operation overhead (autograd graph, dispatcher) dominates there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.engines.backend import OptimSpec, Split
from mlplab.engines.numpy.functional import LOSSES
from mlplab.engines.numpy.model import MLP
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.engines.spec import ModelSpec


class NumpyBackend:
    """An :class:`MLP` and its optimizer, training on data kept as NumPy arrays.

    Parameters
    ----------
    spec : ModelSpec
    init : dict of str to ndarray
        Initial parameters and buffers by name (``init_state``); copied.
    optim : OptimSpec
    seed : int
        Seeds the dropout RNG, ``numpy.random.default_rng(seed)``.
    dtype : {'float32', 'float64'}
    """

    def __init__(
        self,
        spec: ModelSpec,
        init: dict[str, np.ndarray],
        optim: OptimSpec,
        *,
        seed: int,
        dtype: str = "float32",
    ) -> None:
        self.spec = spec
        self.model = MLP(spec, init, dtype)
        self.dtype = self.model.dtype
        self.optimizer = make_optimizer(optim, self.model.flat_params)
        self.loss = LOSSES[spec.loss]
        self.rng = np.random.default_rng(seed)  # dropout masks only
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # --- data ------------------------------------------------------------------------------
    def _x(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X, dtype=self.dtype)

    def _y(self, y: np.ndarray) -> np.ndarray:
        # Converted once here so that no step converts dtypes: class indices are int64
        # [N]; binary and regression targets have the model's dtype, [N, 1] or [N, T].
        if self.spec.task == "multiclass":
            return np.ascontiguousarray(np.asarray(y).reshape(-1), dtype=np.int64)
        y = np.asarray(y)
        return np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y, dtype=self.dtype)

    def set_data(self, splits: dict[str, Split]) -> None:
        self.data = {k: (self._x(X), self._y(y)) for k, (X, y) in splits.items()}

    # --- training --------------------------------------------------------------------------
    def train_step(self, idx: np.ndarray | None) -> float:
        X, y = self.data["train"]
        if idx is not None:
            X, y = X[idx], y[idx]
        out, caches = self.model.forward(X, True, self.rng)
        loss, dout = self.loss(out, y, True)
        assert dout is not None  # asked for with need_grad=True
        self.model.backward(caches, dout)
        self.optimizer.step(self.model.flat_grads)
        self._step_out = out
        return loss

    def step_outputs(self) -> np.ndarray:
        return self._step_out.astype(np.float64)

    def _outputs(self, X: np.ndarray, batch_size: int) -> np.ndarray:
        forward = self.model.forward
        # Saturated units overflow exp() to inf on the way to the right limit (0 or 1).
        with np.errstate(over="ignore"):
            if batch_size <= 0 or batch_size >= len(X):
                return forward(X)[0]
            return np.concatenate(
                [forward(X[i : i + batch_size])[0] for i in range(0, len(X), batch_size)]
            )

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[float, np.ndarray]:
        X, y = self.data[split]
        out = self._outputs(X, batch_size)
        loss, _ = self.loss(out, y, False)
        return loss, out.astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(self._x(X), 0).astype(np.float64)

    def set_lr(self, lr: float) -> None:
        self.optimizer.lr = lr

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(state)

    def optim_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays named ``<param name>.<state name>`` (e.g. ``out.weight.exp_avg``);
        metadata ``{'name', 'step', 'lr'}``."""
        flat, meta = self.optimizer.state_arrays()
        arrays = {
            f"{pname}.{sname}": vec[s].reshape(shape)
            for sname, vec in flat.items()
            for pname, (s, shape) in self.model.layout.items()
        }
        return arrays, {**meta, "lr": self.optimizer.lr}

    def load_optim_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        layout = self.model.layout
        names = {k.rsplit(".", 1)[1] for k in arrays}  # state names have no dots
        flat: dict[str, np.ndarray] = {}
        for sname in names:
            vec = np.empty_like(self.model.flat_params)
            for pname, (s, _) in layout.items():
                vec[s] = np.asarray(arrays[f"{pname}.{sname}"]).reshape(-1)
            flat[sname] = vec
        self.optimizer.load_state_arrays(flat, meta)
        if "lr" in meta:
            self.optimizer.lr = float(meta["lr"])

    def rng_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """No arrays; the metadata is the Generator's ``bit_generator.state`` (JSON-able)."""
        return {}, {"bit_generator": self.rng.bit_generator.state}

    def load_rng_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.rng.bit_generator.state = meta["bit_generator"]
