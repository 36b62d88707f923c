"""What the training loop needs from an engine, and how an engine is chosen.

An engine holds the model, its optimizer and the data (already on its device), and
exposes a few plain operations. The loop in :mod:`mlplab.training.loop` calls them; it never
sees tensors. Both engines follow PyTorch's semantics exactly (optimizer formulas,
``weight_decay``, batch-norm statistics, inverted dropout), so the same config and seed
train the same model on either.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from mlplab.engines.spec import ModelSpec

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class OptimSpec:
    """Optimizer settings, as PyTorch's ``torch.optim`` takes them.

    ``name`` is one of sgd, rmsprop, adagrad, adam, adamw. ``mm`` is momentum (sgd,
    rmsprop). ``l2_coef`` is ``weight_decay`` on every parameter (decoupled for adamw).
    Other hyperparameters are PyTorch's defaults: rmsprop alpha 0.99 eps 1e-8; adagrad
    eps 1e-10; adam/adamw betas (0.9, 0.999) eps 1e-8.
    """

    name: str
    lr: float
    mm: float = 0.0
    l2_coef: float = 0.0


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
        """Eval-mode losses ``[K]`` and outputs ``[K, N, out_dim]`` (float64)."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs of every model for new inputs ``[N, in_dim]``: ``[K, N, out]``."""

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


def resolve_engine(engine: str, spec: ModelSpec, n_train: int, batch_size: int, device: str) -> str:
    """Pick the engine for ``engine: auto``.

    Tiny models spend their time in per-step framework overhead, not arithmetic, and
    there the NumPy engine is faster. What NumPy does slowly is elementwise work over
    large batches (activations and their derivatives, one pass each), so ``auto`` picks
    numpy on CPU when a step touches at most ``AUTO_NUMPY_MAX_UNITS`` hidden activations
    (rows per step x hidden units) and ``AUTO_NUMPY_MAX_MACS`` multiply-adds, and torch
    otherwise (and always for CUDA). Measured in BENCHMARKS.md: xor-nn, the sinlog lab,
    digits with batch 128 and breast_cancer go to numpy; the full-batch ring lab to torch.
    """
    if engine != "auto":
        return engine
    if device.startswith("cuda"):
        return "torch"
    units, macs = step_cost(spec, n_train, batch_size)
    return "numpy" if units <= AUTO_NUMPY_MAX_UNITS and macs <= AUTO_NUMPY_MAX_MACS else "torch"


def rows_per_step(n_train: int, batch_size: int | None) -> int:
    """Rows one optimizer step sees: the minibatch, or every row for full batch."""
    return n_train if batch_size in (0, None) or batch_size > n_train else batch_size


def step_cost(spec: ModelSpec, n_train: int, batch_size: int | None) -> tuple[int, int]:
    """``(hidden activations, multiply-adds)`` of one step's forward pass."""
    rows = rows_per_step(n_train, batch_size)
    widths = spec.widths()
    units = rows * max(1, sum(widths[1:-1]))
    return units, rows * sum(a * b for a, b in itertools.pairwise(widths))


# Hidden activations per step (rows x hidden units) up to which NumPy beats torch on CPU.
AUTO_NUMPY_MAX_UNITS = 400_000
# Multiply-adds per step up to which NumPy's single-threaded matmuls are not the bottleneck.
AUTO_NUMPY_MAX_MACS = 16_000_000
# Multiply-adds per step above which OpenBLAS may split a product across threads.
BLAS_THREADING_MIN_MACS = 65_536


def blas_threads(engine: str, spec: ModelSpec, n_train: int, batch_size: int) -> Any:
    """A context that keeps BLAS on one thread while a small NumPy-engine model trains.

    The products of a lab-sized model are too small to gain from threads: OpenBLAS's
    second thread spins and waits more than it computes, which took the sinlog lab from
    1.8 s to 2.4 s, and far longer on a machine with other work. Larger models (and the
    torch engine, which sets its own threads) keep every thread.
    """
    import contextlib

    if engine != "numpy":
        return contextlib.nullcontext()
    _, macs = step_cost(spec, n_train, batch_size)
    if not BLAS_THREADING_MIN_MACS < macs <= AUTO_NUMPY_MAX_MACS:
        return contextlib.nullcontext()  # nothing BLAS would thread, or worth threading
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def make_backend(
    engine: str,
    spec: ModelSpec,
    models: list[ModelInit],
    *,
    device: str = "cpu",
    dtype: str = "float32",
) -> Backend:
    """A stack of ``len(models)`` models of ``spec`` on ``engine`` (torch or numpy)."""
    from mlplab.engines.malloc import keep_training_memory

    keep_training_memory()
    if engine == "torch":
        from mlplab.engines.torch.backend import TorchBackend

        return TorchBackend(spec, models, device=device, dtype=dtype)
    if engine == "numpy":
        from mlplab.engines.numpy.backend import NumpyBackend

        if device not in ("cpu", "auto"):
            from mlplab.errors import EngineError

            raise EngineError(
                f"setting 'device': the numpy engine runs on cpu only (got {device!r}); use --engine torch"
            )
        return NumpyBackend(spec, models, dtype=dtype)
    raise ValueError(f"engine must be torch or numpy, got {engine!r}")
