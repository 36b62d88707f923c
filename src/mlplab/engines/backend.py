"""What the training loop needs from an engine, and how an engine is chosen.

An engine holds the model, its optimizer and the data (already on its device), and
exposes a few plain operations. The loop in :mod:`mlplab.training.loop` calls them; it never
sees tensors. Both engines follow PyTorch's semantics exactly (optimizer formulas,
``weight_decay``, batch-norm statistics, inverted dropout), so the same config and seed
train the same model on either.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
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


class Backend(Protocol):
    """One model plus its optimizer, ready to train on data it already holds."""

    spec: ModelSpec

    def set_data(self, splits: dict[str, Split]) -> None:
        """Keep ``{'train': (X, y), 'val': ..., 'test': ...}`` on the engine's device.

        ``X`` is float ``[N, in_dim]``; ``y`` is float ``[N, 1]`` (binary), int64 ``[N]``
        (multiclass) or float ``[N, T]`` (regression).
        """

    def train_step(self, idx: np.ndarray | None) -> float:
        """One optimizer step on training rows ``idx`` (``None``: all rows).

        Returns the batch loss computed in the forward pass, before the update.
        """

    def step_outputs(self) -> np.ndarray:
        """Outputs of the last ``train_step``'s forward pass (train mode, before the update).

        Logits or values as float64 ``[B, out_dim]``, for the train curve's accuracy/MAE
        without a second forward pass.
        """

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[float, np.ndarray]:
        """Eval-mode loss and outputs (logits or values, float64 ``[N, out_dim]``)."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs for new inputs, float64 ``[N, out_dim]``."""

    def set_lr(self, lr: float) -> None: ...

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and buffers as NumPy arrays, by the names of ``ModelSpec``."""

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None: ...

    def optim_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Optimizer state as (arrays, JSON-able metadata), for exact resume."""

    def load_optim_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None: ...

    def rng_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """State of the engine's dropout RNG, as (arrays, JSON-able metadata)."""

    def load_rng_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None: ...


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
    init: dict[str, np.ndarray],
    optim: OptimSpec,
    *,
    seed: int,
    device: str = "cpu",
    dtype: str = "float32",
) -> Backend:
    """Build the engine's model from ``init`` weights. ``engine`` is torch or numpy."""
    from mlplab.engines.malloc import keep_training_memory

    keep_training_memory()
    if engine == "torch":
        from mlplab.engines.torch.backend import TorchBackend

        return TorchBackend(spec, init, optim, seed=seed, device=device, dtype=dtype)
    if engine == "numpy":
        from mlplab.engines.numpy.backend import NumpyBackend

        if device not in ("cpu", "auto"):
            from mlplab.errors import EngineError

            raise EngineError(
                f"setting 'device': the numpy engine runs on cpu only (got {device!r}); use --engine torch"
            )
        return NumpyBackend(spec, init, optim, seed=seed, dtype=dtype)
    raise ValueError(f"engine must be torch or numpy, got {engine!r}")
