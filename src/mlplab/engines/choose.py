"""Which engine trains a model, and building it.

``engine: auto`` chooses NumPy or torch from the model's size and the device; the
choice is recorded as ``engine_used``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator
from typing import Any

from mlplab.engines.backend import Backend, ModelInit
from mlplab.engines.spec import ModelSpec


def resolve_engine(engine: str, spec: ModelSpec, n_train: int, batch_size: int, device: str) -> str:
    """Pick the engine for ``engine: auto``.

    Tiny models spend their time in per-step framework overhead, not arithmetic, and
    there the NumPy engine is faster. What NumPy does slowly is elementwise work over
    large batches (activations and their derivatives, one pass each), so ``auto`` picks
    numpy on CPU when a step touches at most ``AUTO_NUMPY_MAX_UNITS`` hidden activations
    (rows per step x hidden units) and ``AUTO_NUMPY_MAX_MACS`` multiply-adds, and torch
    otherwise (and always for CUDA). Measured in BENCHMARKS.md: xor-nn, the sinlog lab,
    digits with batch 128, breast_cancer and the full-batch ring lab (8000 x 200) go to
    numpy; W4 (batch 1024 through 512-512) to torch.
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
# The ring lab's 1.6M: NumPy 1.5x faster on an AMD EPYC (BENCHMARKS.md, "engine: auto"),
# and more so on a busy machine, where torch's threads wait on each other.
AUTO_NUMPY_MAX_UNITS = 2_000_000
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
    if engine != "numpy":
        return contextlib.nullcontext()
    _, macs = step_cost(spec, n_train, batch_size)
    if not BLAS_THREADING_MIN_MACS < macs <= AUTO_NUMPY_MAX_MACS:
        return contextlib.nullcontext()  # nothing BLAS would thread, or worth threading
    return _ONE_BLAS_THREAD.hold()


class _SharedBlasLimit:
    """One BLAS thread while any small NumPy run trains, shared by every thread.

    BLAS's thread count belongs to the whole process. Each run with its own
    ``threadpool_limits`` restored what it had found, so two runs that overlapped in
    threads (a service that trains requests in threads) left the process at one thread
    for good. Here the first run in sets the limit and the last one out restores it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.limit: Any = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self.lock:
            if self.users == 0:
                from threadpoolctl import threadpool_limits

                self.limit = threadpool_limits(1, user_api="blas")
                _let_go_of_blas()
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0:
                    self.limit.restore_original_limits()
                    self.limit = None
                    _let_go_of_blas()

    def after_fork(self) -> None:
        """A forked child has none of its parent's threads: none of their runs will
        leave, and a lock one of them held would never be released."""
        limit, self.limit = self.limit, None
        self.lock, self.users = threading.Lock(), 0
        if limit is not None:
            limit.restore_original_limits()


def _let_go_of_blas() -> None:
    """Let another thread set OpenBLAS's threads next: threadpoolctl 3.8 and later keep
    that to the thread that set them last, until it ends, so the run that left last
    could not restore what the first one in had set."""
    import threadpoolctl

    controller = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(controller, "clear_controlling_thread", None)
    if clear is not None:
        clear()


_ONE_BLAS_THREAD = _SharedBlasLimit()
os.register_at_fork(after_in_child=_ONE_BLAS_THREAD.after_fork)


def numpy_blas_threads(spec: ModelSpec, n_train: int, batch_size: int) -> int:
    """The BLAS threads a NumPy-engine model of this size multiplies with: 1 where
    :func:`blas_threads` keeps it to one or its products are too small to split, else
    the BLAS pool's size (``OMP_NUM_THREADS``; one in a sweep's worker process). A sum
    split over more threads rounds in another order: the record says which."""
    _, macs = step_cost(spec, n_train, batch_size)
    if macs <= AUTO_NUMPY_MAX_MACS:
        return 1
    from threadpoolctl import threadpool_info  # as the pool is now: a caller may limit it

    counts = [int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts, default=1)


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

        check_device(engine, device)
        return NumpyBackend(spec, models, dtype=dtype)
    raise ValueError(f"engine must be torch or numpy, got {engine!r}")


def check_device(engine: str, device: str) -> None:
    """Refuse a device ``engine`` cannot train on here (the numpy engine on a GPU, a GPU
    torch does not see), before a run takes its lock: refused later, a run left an empty
    folder and lock file behind."""
    if engine == "numpy" and device not in ("cpu", "auto"):
        from mlplab.errors import EngineError

        raise EngineError(
            f"setting 'device': the numpy engine runs on cpu only (got {device!r}); use "
            "--device cpu, or --engine torch where torch sees a GPU"
        )
    if engine == "torch" and device.startswith("cuda"):
        from mlplab.engines.torch.backend import resolve_device

        resolve_device(device)
