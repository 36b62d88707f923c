"""Training operations for the PyTorch engine.

Data lives on the device as whole tensors and minibatches are index gathers, which
avoids ``DataLoader`` overhead: for the lectures' model sizes, that overhead is most of a
plain loop's time.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
from torch import nn

from mlplab.engines.backend import OptimSpec, Split
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.model import MLP, load_numpy_state, to_numpy_state

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# Parameters from which Adam/AdamW take torch's fused kernel: on W4's 330k parameters it
# steps in 0.1 ms instead of 1 ms. Below, the per-tensor loop is as fast, and it is the
# form the NumPy engine's Adam matches to float64 rounding.
FUSED_MIN_PARAMS = 65_536


def make_optimizer(params: Any, spec: OptimSpec) -> torch.optim.Optimizer:
    """``torch.optim`` optimizer for an :class:`OptimSpec`; ``weight_decay = l2_coef``."""
    params = list(params)
    # foreach=False: with a handful of tiny tensors the per-tensor loop is faster than
    # the multi-tensor kernels' setup cost (see BENCHMARKS.md).
    common: dict[str, Any] = {"lr": spec.lr, "weight_decay": spec.l2_coef, "foreach": False}
    if spec.name in ("adam", "adamw") and sum(p.numel() for p in params) >= FUSED_MIN_PARAMS:
        common = {"lr": spec.lr, "weight_decay": spec.l2_coef, "fused": True}
    if spec.name == "sgd":
        return torch.optim.SGD(params, momentum=spec.mm, **common)
    if spec.name == "rmsprop":
        return torch.optim.RMSprop(params, momentum=spec.mm, **common)
    if spec.name == "adagrad":
        return torch.optim.Adagrad(params, **common)
    if spec.name == "adam":
        return torch.optim.Adam(params, **common)
    if spec.name == "adamw":
        return torch.optim.AdamW(params, **common)
    raise ValueError(f"unknown optimizer {spec.name!r}")


def loss_fn(task: str) -> nn.Module:
    if task == "binary":
        return nn.BCEWithLogitsLoss()
    if task == "multiclass":
        return nn.CrossEntropyLoss()
    return nn.MSELoss()


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        from mlplab.errors import ConfigError

        raise ConfigError(
            f"setting 'device': {device!r} asked for, but torch sees no CUDA device; use cpu or auto"
        )
    return torch.device(device)


# Multiply-accumulates per input row under which the torch engine runs single-threaded on CPU.
SINGLE_THREAD_MAX_MACS = 64 * 1024


def _macs_per_row(spec: ModelSpec) -> int:
    w = spec.widths()
    return sum(a * b for a, b in itertools.pairwise(w))


class TorchBackend:
    """An :class:`MLP` and its ``torch.optim`` optimizer on one device."""

    def __init__(
        self,
        spec: ModelSpec,
        init: dict[str, np.ndarray],
        optim: OptimSpec,
        *,
        seed: int,
        device: str = "cpu",
        dtype: str = "float32",
    ) -> None:
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[dtype]
        # Dropout draws from torch's global generator. The run keeps its own generator
        # state, seeded as torch.manual_seed(seed) would seed it, and swaps it in around
        # each training step (the only draws), so the caller's torch RNG is left as it
        # was; the state is saved with each checkpoint.
        self._rng_cpu = torch.Generator().manual_seed(seed).get_state()
        self._rng_cuda: torch.Tensor | None = None
        if self.device.type == "cuda":
            self._rng_cuda = torch.Generator(device=self.device).manual_seed(seed).get_state()
        self._draws = spec.dp_rate > 0
        # For lab-sized models each op is microseconds long; waking a second intra-op
        # thread costs more than it saves, and on a busy machine it can cost milliseconds
        # per op (see BENCHMARKS.md). Such models run single-threaded, but only inside
        # this backend's own calls, so the caller's torch settings are left as they were.
        self._one_thread = (
            self.device.type == "cpu" and _macs_per_row(spec) < SINGLE_THREAD_MAX_MACS
        )
        # torch's layers draw default weights from the global generator as they are made;
        # mlplab loads its own init over them, so those draws are undone.
        with torch.random.fork_rng(devices=[]):
            model = MLP(spec)
        self.model = model.to(device=self.device, dtype=self.dtype)
        load_numpy_state(self.model, init)
        self.optimizer = make_optimizer(self.model.parameters(), optim)
        self.criterion = loss_fn(spec.task)
        self.data: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    # --- data ------------------------------------------------------------------------------
    def _to_tensor(self, a: np.ndarray) -> torch.Tensor:
        if a.dtype.kind in "iu":
            return torch.as_tensor(a, dtype=torch.long, device=self.device)
        return torch.as_tensor(a, dtype=self.dtype, device=self.device)

    def set_data(self, splits: dict[str, Split]) -> None:
        self.data = {k: (self._to_tensor(x), self._to_tensor(y)) for k, (x, y) in splits.items()}

    # --- training --------------------------------------------------------------------------
    def train_step(self, idx: np.ndarray | None) -> float:
        if self._one_thread:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._train_step(idx)
            finally:
                torch.set_num_threads(threads)
        return self._train_step(idx)

    def _train_step(self, idx: np.ndarray | None) -> float:
        if not self._draws:
            return self._step(idx)
        saved_cpu = torch.get_rng_state()
        torch.set_rng_state(self._rng_cpu)
        if self._rng_cuda is not None:
            saved_cuda = torch.cuda.get_rng_state(self.device)
            torch.cuda.set_rng_state(self._rng_cuda, self.device)
        try:
            return self._step(idx)
        finally:
            self._rng_cpu = torch.get_rng_state()
            torch.set_rng_state(saved_cpu)
            if self._rng_cuda is not None:
                self._rng_cuda = torch.cuda.get_rng_state(self.device)
                torch.cuda.set_rng_state(saved_cuda, self.device)

    def _step(self, idx: np.ndarray | None) -> float:
        X, y = self.data["train"]
        if idx is not None:
            t = torch.from_numpy(idx).to(self.device)
            X, y = X.index_select(0, t), y.index_select(0, t)
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        out = self.model(X)
        loss = self.criterion(out, y)
        loss.backward()
        self.optimizer.step()
        self._step_out = out.detach()  # a reference only: copied to the host on request
        return loss.item()

    def step_outputs(self) -> np.ndarray:
        return self._step_out.to(torch.float64).cpu().numpy()

    @torch.no_grad()
    def _outputs(self, X: torch.Tensor, batch_size: int) -> torch.Tensor:
        if self._one_thread:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self._forward_eval(X, batch_size)
            finally:
                torch.set_num_threads(threads)
        return self._forward_eval(X, batch_size)

    def _forward_eval(self, X: torch.Tensor, batch_size: int) -> torch.Tensor:
        self.model.eval()
        if batch_size <= 0 or batch_size >= len(X):
            return self.model(X)
        return torch.cat([self.model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])

    @torch.no_grad()
    def evaluate(self, split: str, batch_size: int = 0) -> tuple[float, np.ndarray]:
        X, y = self.data[split]
        out = self._outputs(X, batch_size)
        loss = self.criterion(out, y).item()
        return loss, out.double().cpu().numpy()

    @torch.no_grad()
    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(self._to_tensor(np.asarray(X)), 0).double().cpu().numpy()

    def set_lr(self, lr: float) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return to_numpy_state(self.model)

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        load_numpy_state(self.model, state)

    def optim_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        sd = self.optimizer.state_dict()
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, Any] = {}
        for pid, st in sd["state"].items():
            for name, val in st.items():
                key = f"{pid}.{name}"
                if torch.is_tensor(val):
                    arrays[key] = val.detach().cpu().numpy().copy()
                else:
                    scalars[key] = val
        return arrays, {"param_groups": sd["param_groups"], "scalars": scalars}

    def load_optim_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        state: dict[int, dict[str, Any]] = {}
        for key, val in arrays.items():
            pid, name = key.split(".", 1)
            state.setdefault(int(pid), {})[name] = torch.from_numpy(np.array(val))
        for key, val in meta.get("scalars", {}).items():
            pid, name = key.split(".", 1)
            state.setdefault(int(pid), {})[name] = val
        self.optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})

    def rng_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {"torch_cpu": self._rng_cpu.numpy().copy()}
        if self._rng_cuda is not None:
            arrays["torch_cuda"] = self._rng_cuda.numpy().copy()
        return arrays, {}

    def load_rng_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self._rng_cpu = torch.from_numpy(np.array(arrays["torch_cpu"], dtype=np.uint8))
        if "torch_cuda" in arrays and self.device.type == "cuda":
            self._rng_cuda = torch.from_numpy(np.array(arrays["torch_cuda"], dtype=np.uint8))
