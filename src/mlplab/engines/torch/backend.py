"""The PyTorch engine: K models as one :class:`StackedMLP`, on CPU or CUDA.

It implements :class:`mlplab.engines.backend.Backend`. The backward pass is autograd on
the sum of the K models' mean losses, whose gradient with respect to model k's weights is
model k's own gradient; the update is :mod:`mlplab.engines.torch.optim`. Data lives on the
device as whole tensors and minibatches are index gathers, which avoids ``DataLoader``
overhead: for the lectures' model sizes, that overhead is most of a plain loop's time.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from mlplab.engines.backend import ModelInit, ModelState, Split
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.model import DropoutStreams, StackedMLP
from mlplab.engines.torch.optim import make_optimizer

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Multiply-accumulates per input row under which the torch engine runs single-threaded on CPU.
SINGLE_THREAD_MAX_MACS = 64 * 1024


def resolve_device(device: str) -> torch.device:
    """``auto`` is CUDA where torch sees it, else CPU; CUDA asked for but absent is an error.

    So is ``cuda:N`` past the GPUs torch sees, which torch itself reports only once a
    tensor moves there, as a traceback ("invalid device ordinal").
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(device.partition(":")[2] or 0)  # Config allows only cuda and cuda:N
        if index >= count:
            from mlplab.errors import ConfigError

            names = ", ".join(f"cuda:{i}" for i in range(count))
            seen = f"only {names}; use one of them" if count else "no CUDA device; use cpu or auto"
            if not count and torch.version.cuda is None:  # the CPU build: no GPU will show
                seen += f" (torch {torch.__version__} is a CPU build: see the README's GPU install)"
            raise ConfigError(f"setting 'device': {device!r} asked for, but torch sees {seen}")
    return torch.device(device)


def dropout_seed(seedseq: np.random.SeedSequence) -> int:
    """A ``torch.Generator`` seed (< 2**64) from a model's dropout SeedSequence."""
    return int(seedseq.generate_state(1, np.uint64)[0])


def stacked_losses(
    task: str, out: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None = None
) -> torch.Tensor:
    """Each model's mean loss ``[K]`` for outputs ``out [K, N, out]``.

    ``y`` is shared (``[N, 1]``/``[N, T]`` float, ``[N]`` class indices) or per model
    (``[K, N, ...]``). Binary: BCE on logits; multiclass: cross-entropy on logits;
    regression: mean squared error over rows and targets, as torch's ``mean`` reductions.
    Row weights ``w`` (``[N, 1]`` or ``[K, N, 1]``, mean 1) scale each row's terms.
    """
    K = out.shape[0]
    if task == "binary":
        target = y.expand_as(out) if y.dim() == 2 else y
        per = F.binary_cross_entropy_with_logits(out, target, reduction="none")
    elif task == "multiclass":
        target = y.expand(K, -1) if y.dim() == 1 else y
        per = F.cross_entropy(
            out.reshape(-1, out.shape[2]), target.reshape(-1), reduction="none"
        ).view(K, -1, 1)
    else:
        per = (out - y).square()
    return (per if w is None else per * w).mean(dim=(1, 2))


class TorchBackend:
    """K models of ``spec`` and their optimizers, trained as one stack on one device.

    Parameters
    ----------
    spec : ModelSpec
    models : list of ModelInit
        One per model: initial weights, optimizer settings (one optimizer kind for all),
        dropout rate and dropout seed.
    device : str
        ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA where available).
    dtype : {'float32', 'float64'}
    """

    def __init__(
        self,
        spec: ModelSpec,
        models: list[ModelInit],
        *,
        device: str = "cpu",
        dtype: str = "float32",
    ) -> None:
        if not models:
            raise ValueError("a stack needs at least one model")
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[dtype]
        # For lab-sized models each op is microseconds long; waking a second intra-op
        # thread costs more than it saves, and on a busy machine it can cost milliseconds
        # per op (see BENCHMARKS.md). Such models run single-threaded, but only inside
        # this backend's own calls, so the caller's torch settings are left as they were.
        macs_per_row = sum(a * b for a, b in itertools.pairwise(spec.widths())) * len(models)
        self._one_thread = self.device.type == "cpu" and macs_per_row < SINGLE_THREAD_MAX_MACS
        streams = DropoutStreams(
            [m.dp_rate for m in models], [dropout_seed(m.dropout) for m in models], self.device
        )
        self.streams = streams
        self.model = StackedMLP(spec, len(models), streams).to(device=self.device, dtype=self.dtype)
        for k, m in enumerate(models):
            self.model.set_weights(k, m.weights)
        self.optimizer = make_optimizer(
            dict(self.model.named_parameters()), [m.optim for m in models]
        )
        self.best = {n: t.detach().clone() for n, t in self.model.state_tensors().items()}
        self.data: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = {}
        self._step_out: torch.Tensor | None = None  # outputs of the last train_step

    @property
    def K(self) -> int:
        return self.model.K

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        if not self._one_thread:
            yield
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def _mode(self, train: bool) -> None:
        # Module.train() walks every submodule; a lab-sized step is short enough to notice.
        if self.model.training != train:
            self.model.train(train)

    # --- data ------------------------------------------------------------------------------
    def _x(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device)

    def _y(self, y: np.ndarray) -> torch.Tensor:
        # Class indices are int64 [N]; binary and regression targets [N, 1] or [N, T].
        y = np.asarray(y)
        if self.spec.task == "multiclass":
            return torch.as_tensor(y.reshape(-1), dtype=torch.long, device=self.device)
        y = y[:, None] if y.ndim == 1 else y  # not reshape(len(y), -1): a split may have no rows
        return torch.as_tensor(y, dtype=self.dtype, device=self.device)

    def set_data(self, splits: dict[str, Split]) -> None:
        done: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = {}
        self.data = {}
        for name, split in splits.items():
            key = tuple(map(id, split))  # the logic gates pass one split as train, val and test
            if key not in done:
                w = self._x(split[2]).reshape(-1, 1) if len(split) > 2 else None
                done[key] = (self._x(split[0]), self._y(split[1]), w)
            self.data[name] = done[key]

    # --- training --------------------------------------------------------------------------
    def train_step(self, idx: np.ndarray | None) -> np.ndarray:
        with self._threads():
            X, y, w = self.data["train"]
            if idx is not None:
                rows = torch.as_tensor(np.asarray(idx, dtype=np.int64), device=self.device)
                X, y = X[rows], y[rows]  # [K, B, ...]: each model's own rows
                w = None if w is None else w[rows]
            self._mode(train=True)
            for p in self.optimizer.params.values():
                p.grad = None
            out = self.model(X)
            losses = stacked_losses(self.spec.task, out, y, w)
            losses.sum().backward()
            self.optimizer.step()
            self._step_out = out.detach()  # a reference only: copied to the host on request
            return losses.detach().cpu().numpy().astype(np.float64)

    def step_outputs(self) -> np.ndarray:
        if self._step_out is None:
            raise RuntimeError("step_outputs() before any train_step()")
        return self._step_out.to(torch.float64).cpu().numpy()

    @torch.no_grad()
    def _outputs(self, X: torch.Tensor, batch_size: int) -> torch.Tensor:
        with self._threads():
            self._mode(train=False)
            if batch_size <= 0 or batch_size >= len(X):
                return self.model(X)
            parts = [self.model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
            return torch.cat(parts, dim=1)

    @torch.no_grad()
    def evaluate(self, split: str, batch_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
        X, y, w = self.data[split]
        out = self._outputs(X, batch_size or self.spec.eval_rows(len(X)))
        losses = stacked_losses(self.spec.task, out, y, w)
        return losses.to(torch.float64).cpu().numpy(), out.to(torch.float64).cpu().numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        rows = self.spec.predict_rows(len(X), self.K)
        return self._outputs(self._x(X), rows).to(torch.float64).cpu().numpy()

    def predict_one(self, X: np.ndarray, k: int) -> np.ndarray:
        # The whole stack's pass: a model taken out (addmm) or a stack of one (baddbmm of
        # one batch) need not round as its row of the stack's product, on CUDA above all.
        return self.predict(X)[k]

    def set_lr(self, lr: np.ndarray) -> None:
        self.optimizer.set_lr(lr)

    # --- best weights, rows, checkpoints ---------------------------------------------------
    @torch.no_grad()
    def save_best(self, improved: np.ndarray) -> None:
        improved = np.asarray(improved, dtype=bool)
        if not improved.any():
            return
        rows = torch.as_tensor(np.flatnonzero(improved), device=self.device)
        for n, t in self.model.state_tensors().items():
            self.best[n][rows] = t.detach()[rows]

    def best_weights(self, k: int) -> dict[str, np.ndarray]:
        return {n: t[k].cpu().numpy().copy() for n, t in self.best.items()}

    def keep(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.model.keep(rows)
        self.optimizer.keep(rows)
        r = torch.as_tensor(rows, device=self.device)
        self.best = {n: t.index_select(0, r) for n, t in self.best.items()}
        if self._step_out is not None:  # step_outputs() follows the rows, as the NumPy engine's
            self._step_out = self._step_out.index_select(0, r)

    def export(self, k: int) -> ModelState:
        optim, meta = self.optimizer.export(k)
        return ModelState(
            weights=self.model.weights(k),
            optim=optim,
            optim_meta=meta,
            rng={"torch_generator": self.streams.state(k)},
            rng_meta={"kind": "torch.Generator", "device": self.device.type},
        )

    def load(self, k: int, state: ModelState) -> None:
        saved_on = state.rng_meta.get("device", self.device.type)
        if "torch_generator" in state.rng and saved_on != self.device.type:
            raise ValueError(
                f"model {k}'s dropout stream was saved on {saved_on}; this engine runs on "
                f"{self.device.type} (a torch.Generator's state does not move between them)"
            )
        self.model.set_weights(k, state.weights)
        self.optimizer.load(k, state.optim, state.optim_meta)
        if "torch_generator" in state.rng:
            self.streams.set_state(k, state.rng["torch_generator"])
