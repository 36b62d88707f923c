"""Training operations for the NumPy engine (the :class:`mlplab.engines.backend.Backend` protocol).

A training step is forward, loss, backward by the chain rule, and one optimizer update,
all in NumPy on arrays of one dtype, for K models at once (a single run is K = 1). For
tiny models this is several times faster than PyTorch, whose per-operation overhead
(autograd graph, dispatcher) dominates there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.engines.backend import ModelInit, ModelState, Split, shared_l1
from mlplab.engines.numpy.functional import LOSSES
from mlplab.engines.numpy.model import MLP, unstack
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.engines.spec import ModelSpec

Array = np.ndarray


class NumpyBackend:
    """K :class:`MLP` models, their optimizer and their dropout streams, on NumPy arrays.

    Parameters
    ----------
    spec : ModelSpec
        The shared shape (its ``dp_rate`` is replaced by each model's own).
    models : list of ModelInit
        Each model's initial weights (copied), optimizer settings (one kind for all),
        dropout rate and dropout stream: model k's masks come from
        ``numpy.random.default_rng(models[k].dropout)``, the same as when it trains alone.
    dtype : {'float32', 'float64'}
    """

    def __init__(self, spec: ModelSpec, models: list[ModelInit], *, dtype: str = "float32") -> None:
        self.spec = spec
        self.model = MLP(spec, [m.weights for m in models], dtype, [m.dp_rate for m in models])
        self.dtype = self.model.dtype
        self.optimizer = make_optimizer([m.optim for m in models], self.model.flat_params)
        self.l1 = shared_l1([m.optim for m in models])
        self.loss = LOSSES[spec.loss]
        self.rngs = [np.random.default_rng(m.dropout) for m in models]  # dropout masks only
        self.best_params = self.model.flat_params.copy()
        self.best_buffers = {k: v.copy() for k, v in self.model.buffers.items()}
        # A train-mode forward pass equals an eval-mode one when no layer behaves
        # differently in training (no batch norm, no model that drops).
        self.deterministic = not spec.use_bn and not self.model.dp_rates.any()
        self.data: dict[str, tuple[Array, Array, Array | None]] = {}
        self._step_out: Array | None = None
        # (outputs, caches, losses, dloss/dout) of the last evaluate(): see train_step
        self._train_eval: tuple[Array, list[Any], Array, Array] | None = None

    @property
    def K(self) -> int:
        return self.model.K

    # --- data ------------------------------------------------------------------------------
    def _x(self, X: np.ndarray) -> Array:
        return np.ascontiguousarray(X, dtype=self.dtype)

    def _y(self, y: np.ndarray) -> Array:
        # Converted once here so that no step converts dtypes: class indices are int64
        # [1, N]; binary and regression targets have the model's dtype, [1, N, 1] or
        # [1, N, T]. The leading 1 is the model axis: the K models share the targets, and
        # with K = 1 the loss's arrays then have equal shapes (NumPy's broadcasting costs
        # a microsecond per operation, noticeable in a tiny model's step).
        if self.spec.task == "multiclass":
            return np.ascontiguousarray(np.asarray(y).reshape(1, -1), dtype=np.int64)
        y = np.asarray(y)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        return np.ascontiguousarray(y[None], dtype=self.dtype)

    def set_data(self, splits: dict[str, Split]) -> None:
        converted: dict[int, tuple[Array, Array, Array | None]] = {}  # one object stays one
        self.data = {}
        for name, split in splits.items():
            if id(split) not in converted:
                w = self._x(split[2]).reshape(1, -1, 1) if len(split) > 2 else None
                converted[id(split)] = (self._x(split[0]), self._y(split[1]), w)
            self.data[name] = converted[id(split)]
        self._train_eval = None

    # --- training --------------------------------------------------------------------------
    def train_step(self, idx: np.ndarray | None) -> np.ndarray:
        X, y, w = self.data["train"]
        if idx is not None:
            X, y = X[idx], y[0][idx]  # each model's own rows: [K, B, ...]
            w = None if w is None else w[0][idx]
            self._train_eval = None
        if self._train_eval is not None:
            # Speed: the last evaluate() ran these very rows through these very weights
            # (validation on the training split, as the logic-gate labs do), and here a
            # train-mode pass equals an eval-mode one. Reusing its outputs, loss and
            # gradient halves a tiny model's step.
            out, caches, losses, dout = self._train_eval
            self._train_eval = None
        else:
            out, caches = self.model.forward(X, True, self.rngs)
            losses, grad = self.loss(out, y, True, w)
            assert grad is not None  # asked for with need_grad=True
            dout = grad
        self.model.backward(caches, dout)
        self.optimizer.step(self.model.flat_grads)
        if self.l1:
            self._shrink_weights()
        self._step_out = out
        return losses

    def _shrink_weights(self) -> None:
        """L1's proximal step (:class:`OptimSpec`): each weight ``lr * l1_coef`` nearer 0,
        stopping at 0; biases and batch norm's parameters are left as they are."""
        # In the parameters' dtype, as the torch engine takes it: lr's column times l1.
        thr = self.optimizer.lr * self.dtype.type(self.l1)
        flat = self.model.flat_params
        for cols, shape in self.model.layout.values():
            if len(shape) == 2:  # a Linear layer's [out, in] weights
                w = flat[:, cols]
                np.copysign(np.maximum(np.abs(w) - thr, 0), w, out=w)

    def step_outputs(self) -> np.ndarray:
        if self._step_out is None:
            raise RuntimeError("step_outputs() before any train_step()")
        return self._step_out.astype(np.float64)

    def _outputs(
        self, X: Array, batch_size: int, model: MLP | None = None
    ) -> tuple[Array, list[Any] | None]:
        forward = (model or self.model).forward
        # Saturated units overflow exp() to inf on the way to the right limit (0 or 1).
        with np.errstate(over="ignore"):
            if batch_size <= 0 or batch_size >= len(X):
                return forward(X)
            parts = [forward(X[i : i + batch_size])[0] for i in range(0, len(X), batch_size)]
            return np.concatenate(parts, axis=1), None

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
        X, y, w = self.data[split]
        out, caches = self._outputs(X, batch_size or self.spec.eval_rows(len(X)))
        # The training rows, targets and weights (one object: see set_data) through the
        # weights of the next step: train_step can reuse this pass and its gradient.
        reusable = (
            self.deterministic and caches is not None and self.data[split] is self.data["train"]
        )
        losses, grad = self.loss(out, y, reusable, w)
        self._train_eval = (out, caches, losses, grad) if reusable else None  # type: ignore[assignment]
        return losses, out.astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        rows = self.spec.predict_rows(len(X), self.K)
        return self._outputs(self._x(X), rows)[0].astype(np.float64)

    def predict_one(self, X: np.ndarray, k: int) -> np.ndarray:
        # Model k's own pass, in the stack's slices of rows: predict(X)[k] bit for bit.
        rows = self.spec.predict_rows(len(X), self.K)
        return self._outputs(self._x(X), rows, self.model.one(k))[0][0].astype(np.float64)

    def set_lr(self, lr: np.ndarray) -> None:
        self.optimizer.set_lr(lr)

    # --- best weights and the model axis ---------------------------------------------------------
    def save_best(self, improved: np.ndarray) -> None:
        rows = np.flatnonzero(improved)
        if len(rows) == self.K:
            np.copyto(self.best_params, self.model.flat_params)
            for k, v in self.model.buffers.items():
                np.copyto(self.best_buffers[k], v)
        elif len(rows):
            self.best_params[rows] = self.model.flat_params[rows]
            for k, v in self.model.buffers.items():
                self.best_buffers[k][rows] = v[rows]

    def best_weights(self, k: int) -> dict[str, np.ndarray]:
        return unstack(self.model.layout, self.best_params, self.best_buffers, k)

    def keep(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.intp)
        self.model.keep(rows)
        self.optimizer.keep(rows, self.model.flat_params)
        self.rngs = [self.rngs[k] for k in rows]
        self.best_params = self.best_params[rows]
        self.best_buffers = {k: v[rows] for k, v in self.best_buffers.items()}
        self.deterministic = not self.spec.use_bn and not self.model.dp_rates.any()
        self._step_out = None if self._step_out is None else self._step_out[rows]
        self._train_eval = None

    # --- one model's state -----------------------------------------------------------------------
    def export(self, k: int) -> ModelState:
        flat, meta = self.optimizer.state_arrays(k)
        optim = {
            f"{pname}.{sname}": vec[s].reshape(shape)
            for sname, vec in flat.items()
            for pname, (s, shape) in self.model.layout.items()
        }
        return ModelState(
            weights=self.model.state_dict(k),
            optim=optim,
            optim_meta={**meta, "lr": float(self.optimizer.hyper64["lr"][k, 0])},
            rng={},
            rng_meta={"bit_generator": self.rngs[k].bit_generator.state},
        )

    def load(self, k: int, state: ModelState) -> None:
        self.model.load_state_dict(k, state.weights)
        layout = self.model.layout
        names = {key.rsplit(".", 1)[1] for key in state.optim}  # state names have no dots
        flat: dict[str, Array] = {}
        for sname in names:
            vec = np.empty(self.model.flat_params.shape[1], dtype=self.dtype)
            for pname, (s, _) in layout.items():
                vec[s] = np.asarray(state.optim[f"{pname}.{sname}"]).reshape(-1)
            flat[sname] = vec
        self.optimizer.load_state_arrays(k, flat, state.optim_meta)
        if "lr" in state.optim_meta:
            lr = self.optimizer.hyper64["lr"][:, 0].copy()
            lr[k] = float(state.optim_meta["lr"])
            self.optimizer.set_lr(lr)
        if "bit_generator" in state.rng_meta:
            self.rngs[k].bit_generator.state = state.rng_meta["bit_generator"]
        self._train_eval = None
