"""What the training loop needs from an engine: K models over a leading model axis.

An engine holds the model, its optimizer and the data (already on its device), and
exposes a few plain operations. The loop in :mod:`mlplab.training.loop` calls them; it never
sees tensors. Both engines follow PyTorch's semantics exactly (optimizer formulas,
``weight_decay``, batch-norm statistics, inverted dropout), so the same config and seed
train the same model on either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from mlplab.engines.spec import ModelSpec

Split = tuple[np.ndarray, ...]  # (X, y), or (X, y, w) with row weights w [N] of mean 1


@dataclass(frozen=True)
class OptimSpec:
    """Optimizer settings, as PyTorch's ``torch.optim`` takes them.

    ``name`` is one of sgd, rmsprop, adagrad, adam, adamw. ``mm`` is momentum (sgd,
    rmsprop). ``l2_coef`` is ``weight_decay`` on every parameter (decoupled for adamw).
    ``l1_coef`` is no part of torch.optim: after each update, every weight (not a bias)
    moves ``lr * l1_coef`` toward 0 and stops at 0 (L1's proximal step, which leaves the
    weights a model does not need at exactly 0); the models of a stack share it.
    Other hyperparameters are PyTorch's defaults: rmsprop alpha 0.99 eps 1e-8; adagrad
    eps 1e-10; adam/adamw betas (0.9, 0.999) eps 1e-8.
    """

    name: str
    lr: float
    mm: float = 0.0
    l2_coef: float = 0.0
    l1_coef: float = 0.0


def shared_l1(specs: Sequence[OptimSpec]) -> float:
    """The ``l1_coef`` of a stack's models, which they share (grouping keeps it so)."""
    values = {s.l1_coef for s in specs}
    if len(values) > 1:
        raise ValueError(f"the models of a stack share one l1_coef; got {sorted(values)}")
    return values.pop() if values else 0.0


@dataclass
class ModelInit:
    """One model of a stack as it starts: its weights, optimizer and dropout stream.

    ``weights`` are parameters and buffers by :class:`ModelSpec` name (``init_state``),
    unstacked (``[out, in]``, ``[out]``). ``dropout`` seeds the model's own dropout stream
    (see :func:`mlplab.engines.init.run_streams`); models with ``dp_rate == 0`` never draw.
    """

    weights: dict[str, np.ndarray]
    optim: OptimSpec
    dp_rate: float = 0.0
    dropout: np.random.SeedSequence = field(default_factory=lambda: np.random.SeedSequence(0))


@dataclass
class ModelState:
    """Everything a checkpoint keeps of one model of a stack, the same for both engines.

    ``weights``: parameters and buffers by :class:`ModelSpec` name, unstacked.
    ``optim``: optimizer state arrays named ``<param name>.<state name>`` with torch's
    state names (``momentum_buffer``, ``square_avg``, ``sum``, ``exp_avg``, ``exp_avg_sq``)
    and the parameter's shape; only the states the model's own optimizer keeps.
    ``optim_meta``: ``{"name": optimizer, "step": updates so far, "lr": current lr}``.
    ``rng``/``rng_meta``: the model's dropout stream (arrays, JSON-able metadata).
    """

    weights: dict[str, np.ndarray]
    optim: dict[str, np.ndarray]
    optim_meta: dict[str, Any]
    rng: dict[str, np.ndarray] = field(default_factory=dict)
    rng_meta: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """K models of one shape, trained as one stack on data the engine already holds.

    A single run is K = 1. Every per-model quantity has a leading model axis: losses
    ``[K]``, outputs ``[K, N, out_dim]``. Models may differ in their weights, optimizer
    hyperparameters (lr, mm, l2_coef; one optimizer kind per stack), dropout rate and
    dropout stream; everything else (shape, activation, data) is shared.
    """

    spec: ModelSpec

    @property
    def K(self) -> int:
        """Models in the stack now (after :meth:`keep`)."""

    def set_data(self, splits: dict[str, Split]) -> None:
        """Keep ``{'train': (X, y), 'val': ..., 'test': ...}`` on the engine's device.

        ``X`` is float ``[N, in_dim]`` of the run's dtype; ``y`` is float ``[N, 1]``
        (binary), int64 ``[N]`` (multiclass) or float ``[N, T]`` (regression). Splits that
        are the same objects (the logic gates) may be stored once.
        """

    def train_step(self, idx: np.ndarray | None) -> np.ndarray:
        """One optimizer step of every model; ``idx [K, B]`` are each model's rows.

        ``None`` means every training row, for every model (full batch). Returns the
        batch losses ``[K]`` (float64) of the forward pass, before the update.
        """

    def step_outputs(self) -> np.ndarray:
        """Outputs ``[K, B, out_dim]`` of the last ``train_step``'s forward pass."""

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Eval-mode losses ``[K]`` and outputs ``[K, N, out_dim]`` (float64), in slices of
        ``batch_size`` rows; 0: one pass where it fits, else :meth:`ModelSpec.eval_rows`."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs of every model for new inputs ``[N, in_dim]``: ``[K, N, out]``."""

    def predict_one(self, X: np.ndarray, k: int) -> np.ndarray:
        """Model ``k``'s eval-mode outputs ``[N, out]``: ``predict(X)[k]``, bit for bit; one
        model's pass where the engine's rows are computed apart (NumPy), the stack's where
        a row alone would round differently (torch)."""

    def set_lr(self, lr: np.ndarray) -> None:
        """Each model's learning rate for the coming steps, ``[K]``."""

    def save_best(self, improved: np.ndarray) -> None:
        """Remember the current weights of the models where ``improved [K]`` is true."""

    def best_weights(self, k: int) -> dict[str, np.ndarray]:
        """Model ``k``'s weights as last remembered by :meth:`save_best` (its init before)."""

    def keep(self, rows: np.ndarray) -> None:
        """Keep only the models at ``rows`` (indices into the current stack), in order."""

    def export(self, k: int) -> ModelState:
        """Model ``k``'s weights, optimizer state and dropout stream (copies)."""

    def load(self, k: int, state: ModelState) -> None:
        """Make model ``k`` continue exactly from ``state`` (as :meth:`export` gave it)."""
