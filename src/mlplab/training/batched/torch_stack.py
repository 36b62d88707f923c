"""K torch models as one stacked model, on CPU or CUDA: batched matmul and autograd."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlplab.engines.backend import OptimSpec
from mlplab.engines.spec import ModelSpec

Array = np.ndarray


# --- the stacked torch model (CPU or CUDA) -------------------------------------------------------


class TorchStack:
    """K models of one shape as ``[K, ...]`` torch tensors, on CPU or CUDA.

    The forward pass is batched products (``torch.matmul``/``baddbmm``); the backward pass
    is autograd on the sum of the K per-config mean losses, whose gradient with respect to
    config k's weights is config k's own gradient. The optimizers are ``torch.optim``'s
    single-tensor formulas (``foreach=False``) with per-config ``lr``/``mm``/``l2_coef``.
    Batch norm normalizes ``[N, K * D]`` with ``F.batch_norm``: per feature over rows, so
    each config's features keep their own statistics. Dropout is not stacked here (its
    masks come from torch's global generator in a single run): configs with ``dp_rate > 0``
    train alone. Results match single ``engine: torch`` runs to float tolerance.
    """

    def __init__(
        self,
        spec: ModelSpec,
        inits: list[dict[str, Array]],
        optims: list[OptimSpec],
        dtype: str = "float32",
        device: str = "cpu",
    ) -> None:
        import torch
        import torch.nn.functional as F

        from mlplab.engines.torch.backend import TORCH_DTYPES, resolve_device
        from mlplab.engines.torch.model import ACTIVATION_MODULES

        self.torch, self.F = torch, F
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[dtype]
        self.K = len(inits)
        self.act = ACTIVATION_MODULES[spec.act]()

        def stacked(name: str, grad: bool) -> Any:
            a = np.stack([np.asarray(init[name]) for init in inits])
            t = torch.as_tensor(a, dtype=self.dtype, device=self.device).contiguous()
            return t.requires_grad_(grad)

        self.names = list(spec.param_shapes())
        self.params = {n: stacked(n, True) for n in self.names}
        self.buffers = {n: stacked(n, False) for n in spec.buffer_shapes()}
        self.best = {n: t.detach().clone() for n, t in {**self.params, **self.buffers}.items()}
        names = {o.name for o in optims}
        if len(names) != 1:
            raise ValueError(f"a stack trains one optimizer kind, got {sorted(names)}")
        self.opt_name = names.pop()
        self.lr = np.array([o.lr for o in optims], dtype=np.float64)
        self.mm = np.array([o.mm for o in optims], dtype=np.float64)
        self.wd = np.array([o.l2_coef for o in optims], dtype=np.float64)
        self.state: dict[str, dict[str, Any]] = {n: {} for n in self.names}
        self.steps = 0
        self.data: dict[str, tuple[Any, Any]] = {}

    # --- data --------------------------------------------------------------------------------
    def set_data(self, splits: dict[str, tuple[Array, Array]]) -> None:
        torch = self.torch
        done: dict[int, tuple[Any, Any]] = {}
        for name, (x, y) in splits.items():
            if id(x) not in done:
                yt = (
                    torch.as_tensor(y, dtype=torch.long, device=self.device)
                    if y.dtype.kind in "iu"
                    else torch.as_tensor(y, dtype=self.dtype, device=self.device)
                )
                done[id(x)] = (torch.as_tensor(x, dtype=self.dtype, device=self.device), yt)
            self.data[name] = done[id(x)]

    # --- forward, losses -------------------------------------------------------------------------
    def forward(self, x: Any, train: bool) -> Any:
        """``x [N, in]`` (shared) or ``[K, N, in]`` -> ``[K, N, out_dim]``."""
        p, F = self.params, self.F
        h = x
        for i in range(self.spec.n_layer):
            pre = f"hidden.{i}"
            a = self.act(self._linear(h, p[f"{pre}.linear.weight"], p[f"{pre}.linear.bias"]))
            if self.spec.use_bn:
                K, N, D = a.shape
                flat = a.transpose(0, 1).reshape(N, K * D)
                flat = F.batch_norm(
                    flat,
                    self.buffers[f"{pre}.bn.running_mean"].view(-1),
                    self.buffers[f"{pre}.bn.running_var"].view(-1),
                    p[f"{pre}.bn.weight"].reshape(-1),
                    p[f"{pre}.bn.bias"].reshape(-1),
                    training=train,
                    momentum=0.1,
                    eps=1e-5,
                )
                a = flat.reshape(N, K, D).transpose(0, 1)
            h = h + a if self.spec.is_residual(i) else a
        return self._linear(h, p["out.weight"], p["out.bias"])

    def _linear(self, x: Any, w: Any, b: Any) -> Any:
        if x.dim() == 2:  # shared data: [N, in] @ [K, in, out] broadcasts over K
            return self.torch.matmul(x, w.transpose(1, 2)) + b[:, None, :]
        return self.torch.baddbmm(b[:, None, :], x, w.transpose(1, 2))

    def _losses(self, out: Any, y: Any) -> Any:
        """Per-config mean losses ``[K]``, each as its single run's criterion computes it."""
        F, K = self.F, out.shape[0]
        if self.spec.task == "binary":
            yy = y.expand_as(out) if y.dim() == 2 else y
            return F.binary_cross_entropy_with_logits(out, yy, reduction="none").mean(dim=(1, 2))
        if self.spec.task == "multiclass":
            yy = y.expand(K, -1) if y.dim() == 1 else y
            C = out.shape[2]
            per = F.cross_entropy(out.reshape(-1, C), yy.reshape(-1), reduction="none")
            return per.view(K, -1).mean(dim=1)
        return ((out - y) ** 2).mean(dim=(1, 2))

    # --- training ----------------------------------------------------------------------------------
    def train_step(self, idx: Array | None) -> Array:
        torch = self.torch
        X, y = self.data["train"]
        if idx is not None:
            t = torch.as_tensor(idx, device=self.device)
            X, y = X[t], y[t]  # [K, B, ...]
        for prm in self.params.values():
            prm.grad = None
        out = self.forward(X, True)
        losses = self._losses(out, y)
        losses.sum().backward()
        with torch.no_grad():
            self._step()
        self._step_out = out.detach()  # a reference only: copied to the host on request
        return losses.detach().double().cpu().numpy()

    def step_outputs(self) -> Array:
        """Outputs ``[K, B, out_dim]`` of the last ``train_step``'s forward, as NumPy."""
        return self._step_out.cpu().numpy()

    def _coef(self, v: Array, like: Any) -> Any:
        """A per-config coefficient shaped to broadcast against a ``[K, ...]`` tensor."""
        t = self.torch.as_tensor(v, dtype=like.dtype, device=like.device)
        return t.view(-1, *([1] * (like.dim() - 1)))

    def _step(self) -> None:
        # torch.optim's single-tensor formulas, with per-config coefficients.
        self.steps += 1
        t, name = self.steps, self.opt_name
        for n in self.names:
            prm = self.params[n]
            g = prm.grad
            st = self.state[n]
            lr = self._coef(self.lr, prm)
            if self.wd.any() and name != "adamw":
                g = g + self._coef(self.wd, prm) * prm
            if name == "sgd":
                if self.mm.any():
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = g.clone()
                    else:
                        st["momentum_buffer"].mul_(self._coef(self.mm, prm)).add_(g)
                    g = st["momentum_buffer"]
                prm.sub_(lr * g)
            elif name == "rmsprop":
                sq = st.setdefault("square_avg", self.torch.zeros_like(prm))
                sq.mul_(0.99).addcmul_(g, g, value=0.01)
                avg = sq.sqrt().add_(1e-8)
                if self.mm.any():
                    buf = st.setdefault("momentum_buffer", self.torch.zeros_like(prm))
                    buf.mul_(self._coef(self.mm, prm)).add_(g / avg)
                    prm.sub_(lr * buf)
                else:
                    prm.sub_(lr * g / avg)
            elif name == "adagrad":
                s = st.setdefault("sum", self.torch.zeros_like(prm))
                s.addcmul_(g, g, value=1)
                prm.sub_(lr * g / s.sqrt().add_(1e-10))
            else:  # adam, adamw
                if name == "adamw" and self.wd.any():
                    prm.mul_(1 - lr * self._coef(self.wd, prm))
                m = st.setdefault("exp_avg", self.torch.zeros_like(prm))
                v = st.setdefault("exp_avg_sq", self.torch.zeros_like(prm))
                m.lerp_(g, 0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                denom = (v.sqrt() / math.sqrt(1 - 0.999**t)).add_(1e-8)
                prm.sub_((lr / (1 - 0.9**t)) * m / denom)

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[Array, Array]:
        torch = self.torch
        X, y = self.data[split]
        with torch.no_grad():
            if batch_size <= 0 or batch_size >= len(X):
                out = self.forward(X, False)
            else:
                out = torch.cat(
                    [
                        self.forward(X[i : i + batch_size], False)
                        for i in range(0, len(X), batch_size)
                    ],
                    dim=1,
                )
            losses = self._losses(out, y)
        return losses.double().cpu().numpy(), out.double().cpu().numpy()

    def set_lr(self, lr: Array) -> None:
        self.lr = np.asarray(lr, dtype=np.float64)

    def save_best(self, improved: Array) -> None:
        if not improved.any():
            return
        mask = self.torch.as_tensor(improved, device=self.device)
        with self.torch.no_grad():
            for n, t in {**self.params, **self.buffers}.items():
                self.best[n][mask] = t.detach()[mask]

    def keep(self, rows: Array) -> None:
        r = self.torch.as_tensor(rows, device=self.device)
        with self.torch.no_grad():
            self.params = {
                n: t.detach()[r].clone().requires_grad_(True) for n, t in self.params.items()
            }
            self.buffers = {n: t[r].clone() for n, t in self.buffers.items()}
            self.best = {n: t[r].clone() for n, t in self.best.items()}
            self.state = {
                n: {k: v[r].clone() for k, v in st.items()} for n, st in self.state.items()
            }
        self.lr, self.mm, self.wd = self.lr[rows], self.mm[rows], self.wd[rows]
        self.K = len(rows)

    # --- export of one config -----------------------------------------------------------------------
    def export(self, k: int) -> dict[str, Any]:
        def np_of(t: Any) -> Array:
            return t.detach()[k].cpu().numpy().copy()

        state = {n: np_of(t) for n, t in {**self.params, **self.buffers}.items()}
        keep_mm = self.mm[k] > 0
        optim = {
            n: {s: np_of(v) for s, v in st.items() if not (s == "momentum_buffer" and not keep_mm)}
            for n, st in self.state.items()
        }
        return {
            "state": state,
            "best": {n: np_of(t) for n, t in self.best.items()},
            "optim": optim,
            "steps": self.steps,
            "lr": float(self.lr[k]),
        }

    @staticmethod
    def load_into(backend: Any, ex: dict[str, Any]) -> None:
        """Give a single :class:`TorchBackend` config k's optimizer state, as torch keeps it."""
        import torch

        opt = backend.optimizer
        named = dict(backend.model.named_parameters())
        for pname, st in ex["optim"].items():
            prm = named[pname]
            entry: dict[str, Any] = {
                s: torch.as_tensor(v, dtype=prm.dtype, device=prm.device) for s, v in st.items()
            }
            if opt.__class__.__name__ != "SGD":
                entry["step"] = torch.tensor(float(ex["steps"]))
            if entry:
                opt.state[prm] = entry
        for g in opt.param_groups:
            g["lr"] = ex["lr"]
