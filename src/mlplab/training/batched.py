"""Train K same-shaped models at once, as one stacked model.

A sweep over learning rates, momenta, L2 penalties, dropout rates, inits and seeds trains
many models that share their data and layer sizes. Trained one at a time, a tiny model
spends nearly all of its time in per-call overhead; stacked, every weight gets a leading
axis ``K`` (``[K, out, in]``) and one batched matrix product (``np.matmul``) serves all K
models, so the overhead is paid once per step instead of K times.

Two stacks: :class:`NumpyStack` (the NumPy engine's arithmetic; used when the engine
resolves to numpy, e.g. ``auto`` for tiny models on CPU) and :class:`TorchStack` (torch,
CPU or CUDA; when it resolves to torch). Each config's results equal training it alone
with the same seed on the same engine. For the NumPy stack:

- weights come from the shared init (:func:`mlplab.engines.init.init_state`) per config;
- each config has its own data-order RNG, ``default_rng([seed, 1])``, as :func:`train`;
- each config has its own dropout RNG, ``default_rng(seed)``, drawing its masks with the
  same calls, shapes and order as :class:`mlplab.engines.numpy.backend.NumpyBackend`;
- the optimizer formulas are the NumPy engine's (torch's), with per-config ``lr``, ``mm``
  and ``l2_coef`` as ``[K, 1]`` arrays of the parameter dtype, so a float32 update rounds as
  the single run's (a Python float meets float32 arrays as float32);
- learning-rate schedule, validation, best tracking and patience run per config; a config
  that stops early or diverges leaves the stack (the others go on).

Float results agree with single runs to rounding (a batched product may sum in another
order); accuracies are identical. The tests assert this.

After training, each config gets its full run record through :mod:`mlplab.training.run`'s
own ``_finish``: a single-run backend is rebuilt from the config's final weights,
optimizer state and RNG state, so the final evaluation, checkpoints, metrics.csv,
TensorBoard hparams and plots are exactly those of a single run.

Public API: :func:`group_key`, :func:`group_configs`, :func:`train_batched`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import __version__
from mlplab.config import Config
from mlplab.console import RunConsole
from mlplab.data.dataset import Dataset
from mlplab.engines.backend import OptimSpec, make_backend, resolve_engine
from mlplab.engines.init import init_state
from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.engines.spec import ModelSpec
from mlplab.errors import RunDiverged
from mlplab.runs.record import RunRecord, check_writable, run_dir_of, run_name
from mlplab.training.loop import History, LoopState, Schedule
from mlplab.training.metrics import curve_metric_name

Array = np.ndarray

# Settings in which the models of one group may differ. Everything else (data, layer
# sizes, activation, optimizer kind, batch schedule, dtype, device, ...) must be equal.
FREE_SETTINGS = frozenset(
    {
        "seed",
        "lr",
        "mm",
        "l2_coef",
        "dp_rate",
        "init",
        "use_xavier",
        "exp_name",
        "log_path",
        "model_name",
        "plots",
    }
)

DEFAULT_MAX_GROUP = 256
# Default cap on the points of each TensorBoard curve of a stacked run. Events go through
# tensorboard's writer queue at ~40-60 us each (measured in benchmarks/bench_sweep.py);
# 256 runs x 4 curves x 10001 epochs would take minutes. result.json and metrics.csv keep
# every epoch.
TB_POINTS = 200

# Seconds spent by the last trained group in each phase (build, open records, fit,
# finish records), for benchmarks/bench_sweep.py: where a sweep's time goes.
LAST_TIMINGS: dict[str, float] = {}


# --- grouping ------------------------------------------------------------------------------


def _frozen(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def batchable(cfg: Config) -> bool:
    """Whether ``cfg`` can train inside a stack.

    Decision-surface snapshots (``snapshot_every``) and periodic checkpoints
    (``save_every``) need the single run's per-step hooks; such configs train alone.
    """
    return cfg.snapshot_every == 0 and cfg.save_every == 0


def group_key(cfg: Config) -> tuple[Any, ...]:
    """Configs with equal keys can train as one stack.

    The key is every setting outside :data:`FREE_SETTINGS` (data, model shape, optimizer
    kind, schedule, dtype, engine, device), so equal keys mean equal data, equal layer
    widths and equal batch schedules. A config that cannot be batched
    (:func:`batchable`) gets a key of its own, its run hash.
    """
    key = tuple((k, _frozen(v)) for k, v in cfg.to_dict().items() if k not in FREE_SETTINGS)
    if not batchable(cfg):
        key += (("alone", cfg.run_hash(), cfg.exp_name, cfg.log_path),)
    return key


def group_configs(
    configs: Sequence[Config], max_group: int = DEFAULT_MAX_GROUP
) -> list[list[Config]]:
    """Split ``configs`` into groups of at most ``max_group`` with equal :func:`group_key`.

    Groups keep the configs' order, and come in the order of their first config.
    """
    return [[configs[i] for i in idx] for idx in _group_indices(configs, max_group)]


def _group_indices(configs: Sequence[Config], max_group: int) -> list[list[int]]:
    if max_group < 1:
        raise ValueError(f"max_group must be >= 1, got {max_group}")
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for i, cfg in enumerate(configs):
        by_key.setdefault(group_key(cfg), []).append(i)
    groups: list[list[int]] = []
    for idx in by_key.values():
        groups.extend(idx[j : j + max_group] for j in range(0, len(idx), max_group))
    return groups


# --- the stacked NumPy model ---------------------------------------------------------------


def _layout(spec: ModelSpec) -> dict[str, tuple[slice, tuple[int, ...]]]:
    """Offsets of each parameter in the flat vector: the NumPy engine's ``MLP.layout``."""
    layout: dict[str, tuple[slice, tuple[int, ...]]] = {}
    offset = 0
    for name, shape in spec.param_shapes().items():
        size = int(np.prod(shape))
        layout[name] = (slice(offset, offset + size), shape)
        offset += size
    return layout


class _StackOptim:
    """The NumPy engine's optimizers (torch's formulas) over ``params [K, P]``.

    ``lr``, ``mm`` and ``wd`` are per-config ``[K, 1]`` arrays of the parameter dtype, so
    every product rounds as the single run's product with a Python float does. A config
    with ``mm = 0`` keeps a momentum buffer that equals its update exactly
    (``0 * buf + d = d``), and ``wd = 0`` adds exactly ``0 * p``; both reproduce the
    single run's branch-free result.
    """

    def __init__(self, name: str, params: Array, lr: Array, mm: Array, wd: Array) -> None:
        self.name, self.params = name, params
        dt = params.dtype
        self.lr64 = np.asarray(lr, dtype=np.float64).reshape(-1, 1)
        self.lr = self.lr64.astype(dt)
        self.mm64 = np.asarray(mm, dtype=np.float64).reshape(-1, 1)
        self.mm = self.mm64.astype(dt)
        self.wd64 = np.asarray(wd, dtype=np.float64).reshape(-1, 1)
        self.wd = self.wd64.astype(dt)
        self.any_wd, self.any_mm = bool(self.wd64.any()), bool(self.mm64.any())
        self.steps = 0
        self.state: dict[str, Array] = {}
        self._tmp = np.empty_like(params)
        self._tmp2 = np.empty_like(params)
        if name == "adagrad":
            self.state["sum"] = np.zeros_like(params)  # torch creates it at construction

    def set_lr(self, lr: Array) -> None:
        self.lr64 = np.asarray(lr, dtype=np.float64).reshape(-1, 1)
        self.lr = self.lr64.astype(self.params.dtype)

    def keep(self, rows: Array) -> None:
        """Keep only the configs at ``rows`` (after some stopped)."""
        for a in ("lr64", "lr", "mm64", "mm", "wd64", "wd"):
            setattr(self, a, getattr(self, a)[rows])
        self.state = {k: v[rows] for k, v in self.state.items()}
        self._tmp = np.empty_like(self.params)
        self._tmp2 = np.empty_like(self.params)

    def _decayed(self, grad: Array) -> Array:
        if not self.any_wd:
            return grad
        np.multiply(self.params, self.wd, out=self._tmp)
        self._tmp += grad
        return self._tmp

    def _zeros(self, name: str) -> Array:
        if name not in self.state:
            self.state[name] = np.zeros_like(self.params)
        return self.state[name]

    def step(self, grad: Array) -> None:
        self.steps += 1
        p, dt = self.params, self.params.dtype
        if self.name == "sgd":
            d = self._decayed(grad)
            if self.any_mm:
                buf = self.state.get("momentum_buffer")
                if buf is None:
                    buf = self.state["momentum_buffer"] = d.copy()
                else:
                    buf *= self.mm
                    buf += d
                d = buf
            np.multiply(d, self.lr, out=self._tmp2)
            p -= self._tmp2
        elif self.name == "rmsprop":
            alpha, eps = 0.99, 1e-8
            g = self._decayed(grad)
            sq = self._zeros("square_avg")
            sq *= alpha
            sq += (1 - alpha) * g * g
            avg = np.sqrt(sq, out=self._tmp2)
            avg += eps
            update = np.divide(g, avg, out=self._tmp2)
            if self.any_mm:
                buf = self._zeros("momentum_buffer")
                buf *= self.mm
                buf += update
                update = buf
            np.multiply(update, self.lr, out=self._tmp2)
            p -= self._tmp2
        elif self.name == "adagrad":
            g = self._decayed(grad)
            s = self.state["sum"]
            s += g * g
            std = np.sqrt(s, out=self._tmp2)
            std += 1e-10
            np.divide(g, std, out=self._tmp2)
            self._tmp2 *= self.lr
            p -= self._tmp2
        elif self.name in ("adam", "adamw"):
            b1, b2, eps, t = 0.9, 0.999, 1e-8, self.steps
            if self.name == "adamw":
                if self.any_wd:
                    # 1 - lr wd in float64, then rounded once: the single run's Python float.
                    p *= (1 - self.lr64 * self.wd64).astype(dt)
                g = grad
            else:
                g = self._decayed(grad)
            m, v = self._zeros("exp_avg"), self._zeros("exp_avg_sq")
            np.subtract(g, m, out=self._tmp2)
            self._tmp2 *= 1 - b1
            m += self._tmp2
            v *= b2
            v += (1 - b2) * g * g
            step_size = (self.lr64 / (1 - b1**t)).astype(dt)
            denom = np.sqrt(v, out=self._tmp2)
            denom /= math.sqrt(1 - b2**t)
            denom += eps
            np.divide(m, denom, out=self._tmp2)
            self._tmp2 *= step_size
            p -= self._tmp2
        else:
            raise ValueError(f"unknown optimizer {self.name!r}")

    def export(self, k: int) -> tuple[dict[str, Array], dict[str, Any]]:
        """Config ``k``'s state as the NumPy engine keeps it: flat arrays and metadata."""
        arrays = {
            n: v[k].copy()
            for n, v in self.state.items()
            # The single run keeps a momentum buffer only when its momentum is non-zero.
            if not (n == "momentum_buffer" and self.mm64[k, 0] == 0)
        }
        return arrays, {"name": self.name, "step": self.steps}


@dataclass
class _BlockCache:
    x: Array  # block input, [N, in] (shared data) or [K, N, in]
    z: Array  # pre-activation [K, N, out]
    a: Array  # activation [K, N, out]
    bn: tuple[Array, Array, bool] | None = None  # (x_hat, gamma / std, train)
    dp: Array | None = None  # scaled keep-mask [K, N, out]


class NumpyStack:
    """K models of one :class:`ModelSpec` shape, stacked, on NumPy.

    Parameters
    ----------
    spec : ModelSpec
        The shared shape (its ``dp_rate`` is ignored; see ``dp_rates``).
    inits : list of dict
        Each config's initial state (``init_state``), K of them.
    optims : list of OptimSpec
        One per config; all of the same ``name``.
    seeds : list of int
        Seeds of the per-config dropout RNGs, ``default_rng(seed)`` as the NumPy engine.
    dp_rates : list of float
        Per-config dropout rate in [0, 1); 0 draws no mask (as the single run).
    dtype : {'float32', 'float64'}

    All per-config arrays have a leading axis K: weights ``[K, out, in]``, biases
    ``[K, 1, out]`` (views into one flat ``[K, P]`` vector, as the NumPy engine's flat
    vector), outputs ``[K, N, out_dim]``.
    """

    def __init__(
        self,
        spec: ModelSpec,
        inits: list[dict[str, Array]],
        optims: list[OptimSpec],
        seeds: list[int],
        dp_rates: list[float],
        dtype: str = "float32",
    ) -> None:
        self.spec = spec
        self.dtype = np.dtype(dtype)
        self.K = len(inits)
        self.layout = _layout(spec)
        self.f, self.f_prime = ACTIVATIONS[spec.act]
        P = sum(s.stop - s.start for s, _ in self.layout.values())
        self.flat = np.empty((self.K, P), dtype=self.dtype)
        for k, init in enumerate(inits):
            for name, (s, _) in self.layout.items():
                self.flat[k, s] = np.asarray(init[name]).reshape(-1)
        self.grad = np.zeros_like(self.flat)
        self.buffers: dict[str, Array] = {
            name: np.stack([np.asarray(init[name], dtype=self.dtype) for init in inits])[:, None, :]
            for name in spec.buffer_shapes()
        }  # [K, 1, D] running statistics
        self.best_flat = self.flat.copy()
        self.best_buffers = {k: v.copy() for k, v in self.buffers.items()}
        self.p = np.asarray(dp_rates, dtype=np.float64)
        self.rngs = [np.random.default_rng(s) for s in seeds]
        names = {o.name for o in optims}
        if len(names) != 1:
            raise ValueError(f"a stack trains one optimizer kind, got {sorted(names)}")
        self.opt = _StackOptim(
            names.pop(),
            self.flat,
            np.array([o.lr for o in optims]),
            np.array([o.mm for o in optims]),
            np.array([o.l2_coef for o in optims]),
        )
        self._views()
        self.data: dict[str, tuple[Array, Array]] = {}
        self._ones_cache: dict[int, Array] = {}
        # Eval forward on the train split (outputs, caches, loss); see train_step.
        self._cached: tuple[Array, list[Any], Array] | None = None

    def _views(self) -> None:
        """Named ``[K, ...]`` views into ``flat``/``grad``; rebuilt after :meth:`keep`."""
        K = self.flat.shape[0]

        def view(a: Array, name: str) -> Array:
            s, shape = self.layout[name]
            v = a[:, s].reshape(K, *shape)
            return v[:, None, :] if len(shape) == 1 else v  # biases broadcast over rows

        self.W, self.b, self.dW, self.db = [], [], [], []
        self.gamma, self.beta, self.dgamma, self.dbeta = [], [], [], []
        for i in range(self.spec.n_layer):
            pre = f"hidden.{i}"
            self.W.append(view(self.flat, f"{pre}.linear.weight"))
            self.b.append(view(self.flat, f"{pre}.linear.bias"))
            self.dW.append(view(self.grad, f"{pre}.linear.weight"))
            self.db.append(view(self.grad, f"{pre}.linear.bias"))
            if self.spec.use_bn:
                self.gamma.append(view(self.flat, f"{pre}.bn.weight"))
                self.beta.append(view(self.flat, f"{pre}.bn.bias"))
                self.dgamma.append(view(self.grad, f"{pre}.bn.weight"))
                self.dbeta.append(view(self.grad, f"{pre}.bn.bias"))
        self.W.append(view(self.flat, "out.weight"))
        self.b.append(view(self.flat, "out.bias"))
        self.dW.append(view(self.grad, "out.weight"))
        self.db.append(view(self.grad, "out.bias"))
        # W^T views once, not per step: x [.., N, in] @ W^T [K, in, out] -> [K, N, out].
        self.WT = [w.transpose(0, 2, 1) for w in self.W]
        self.residual = [self.spec.is_residual(i) for i in range(self.spec.n_layer)]
        self.dropping = np.flatnonzero(self.p > 0)
        # A train-mode forward equals an eval-mode one when no layer behaves differently.
        self.deterministic = not self.spec.use_bn and len(self.dropping) == 0

    # --- data --------------------------------------------------------------------------------
    def set_data(self, splits: dict[str, tuple[Array, Array]]) -> None:
        """Arrays already cast (the single run's casts); equal splits may be one object."""
        self.data = splits
        self._cached = None

    # --- forward and backward ------------------------------------------------------------------
    def forward(self, x: Array, train: bool) -> tuple[Array, list[Any]]:
        """``x [N, in]`` (shared) or ``[K, N, in]`` -> outputs ``[K, N, out_dim]`` and caches."""
        caches: list[Any] = []
        h = x
        for i in range(self.spec.n_layer):
            z = self._linear(i, h)
            a = self.f(z)
            out = a
            c = _BlockCache(h, z, a)
            if self.spec.use_bn:
                out, c.bn = self._bn_forward(i, out, train)
            if train and len(self.dropping):
                out, c.dp = self._dropout(out)
            if self.residual[i]:
                out = h + out
            caches.append(c)
            h = out
        y = self._linear(self.spec.n_layer, h)
        caches.append(h)
        return y, caches

    def _linear(self, i: int, x: Array) -> Array:
        """``x W^T + b`` of layer ``i`` for every config: ``[K, N, out]``."""
        if x.ndim == 2:
            # Data shared by all K (full batch): one GEMM against the K weight matrices
            # side by side, instead of K tiny products (several times faster for small K*out).
            W = self.W[i]
            K, out = W.shape[0], W.shape[1]
            z2 = np.dot(x, W.reshape(K * out, W.shape[2]).T)  # [N, K * out]
            z = z2.reshape(len(x), K, out).transpose(1, 0, 2)
        else:
            z = np.matmul(x, self.WT[i])
        z += self.b[i]
        return z

    def _bn_forward(self, i: int, x: Array, train: bool) -> tuple[Array, tuple[Array, Array, bool]]:
        # The NumPy engine's BatchNorm1d with the batch axis moved from 0 to 1.
        rm = self.buffers[f"hidden.{i}.bn.running_mean"]
        rv = self.buffers[f"hidden.{i}.bn.running_var"]
        eps, m = 1e-5, 0.1
        if train:
            n = x.shape[1]
            if n < 2:
                raise ValueError(
                    "batch norm in train mode needs more than 1 row per batch; "
                    "use a batch_size of 2 or more"
                )
            mean = np.add.reduce(x, axis=1, keepdims=True) / n
            xc = x - mean
            var = np.add.reduce(xc * xc, axis=1, keepdims=True) / n
            inv_std = 1.0 / np.sqrt(var + eps)
            x_hat = xc * inv_std
            rm *= 1 - m
            rm += m * mean
            rv *= 1 - m
            rv += (m * n / (n - 1)) * var
        else:
            inv_std = 1.0 / np.sqrt(rv + eps)
            x_hat = (x - rm) * inv_std
        y = x_hat * self.gamma[i]
        y += self.beta[i]
        return y, (x_hat, self.gamma[i] * inv_std, train)

    def _dropout(self, x: Array) -> tuple[Array, Array]:
        # Each config draws its own mask from its own RNG with the single run's call
        # (``rng.random(shape, dtype) >= p``); configs with p = 0 draw nothing.
        scaled = np.ones_like(x)
        shape = x.shape[1:]
        for k in self.dropping:
            keep = self.rngs[k].random(shape, dtype=x.dtype) >= self.p[k]
            s = keep.astype(x.dtype)
            s *= 1.0 / (1.0 - self.p[k])
            scaled[k] = s
        return x * scaled, scaled

    def backward(self, caches: list[Any], dout: Array) -> None:
        """``dloss/dout [K, N, out_dim]`` -> gradients in ``self.grad`` (``[K, P]``)."""
        L = self.spec.n_layer
        h = caches[-1]
        self._linear_grads(L, h, dout)
        if L == 0:
            return
        d = np.matmul(dout, self.W[L])
        for i in range(L - 1, -1, -1):
            c: _BlockCache = caches[i]
            dblock = d
            if c.dp is not None:
                d = d * c.dp
            if c.bn is not None:
                d = self._bn_backward(i, c.bn, d)
            dz = self.f_prime(c.z, c.a)
            dz *= d
            self._linear_grads(i, c.x, dz)
            if i > 0:
                d = np.matmul(dz, self.W[i])
                if self.residual[i]:
                    d += dblock

    def _linear_grads(self, i: int, x: Array, dz: Array) -> None:
        # dW = dz^T x ([K, out, N] @ [.., N, in]); db = sum over rows of dz.
        if x.ndim == 2:  # shared data: one GEMM, [K * out, N] @ [N, in]
            K, N, out = dz.shape
            g = np.dot(dz.transpose(0, 2, 1).reshape(K * out, N), x)
            self.dW[i][...] = g.reshape(K, out, x.shape[1])
        else:
            np.matmul(dz.transpose(0, 2, 1), x, out=self.dW[i])
        # A product with ones: a reduction over the middle axis is several times slower.
        np.matmul(self._ones(dz.shape[1]), dz, out=self.db[i])

    def _ones(self, n: int) -> Array:
        ones = self._ones_cache.get(n)
        if ones is None:
            ones = self._ones_cache[n] = np.ones((1, n), dtype=self.dtype)
        return ones

    def _bn_backward(self, i: int, cache: tuple[Array, Array, bool], dy: Array) -> Array:
        x_hat, scale, train = cache
        np.add.reduce(dy, axis=1, keepdims=True, out=self.dbeta[i])
        np.add.reduce(dy * x_hat, axis=1, keepdims=True, out=self.dgamma[i])
        if not train:
            return dy * scale
        n = dy.shape[1]
        dx = dy - self.dbeta[i] / n
        dx -= x_hat * (self.dgamma[i] / n)
        dx *= scale
        return dx

    # --- losses, per config ----------------------------------------------------------------------
    def loss(
        self, out: Array, y: Array, need_grad: bool, known: Array | None = None
    ) -> tuple[Array, Array | None]:
        """Per-config mean loss ``[K]`` (float64) and ``dloss/dout`` (the NumPy engine's).

        ``known`` is the loss of these very outputs, computed before; it is returned as is.
        """
        K = out.shape[0]
        task = self.spec.task
        if task == "binary":
            n = out[0].size
            if known is None:
                per_row = np.logaddexp(0, out)
                per_row -= out * y
                loss = np.add.reduce(per_row.reshape(K, -1), axis=1).astype(np.float64) / n
            else:
                loss = known
            if not need_grad:
                return loss, None
            from scipy.special import expit

            grad = expit(out)
            grad -= y
            grad *= 1.0 / n
            return loss, grad
        if task == "multiclass":
            n = out.shape[1]
            yk = np.broadcast_to(y, out.shape[:2])[..., None]  # [K, N, 1] class indices
            shifted = out - out.max(axis=2, keepdims=True)
            exp = np.exp(shifted)
            sum_exp = exp.sum(axis=2, keepdims=True)
            log_prob_true = np.take_along_axis(shifted, yk, axis=2)[..., 0] - np.log(
                sum_exp[..., 0]
            )
            loss = -log_prob_true.sum(axis=1).astype(np.float64) / n
            if not need_grad:
                return loss, None
            grad = exp / sum_exp
            np.put_along_axis(grad, yk, np.take_along_axis(grad, yk, axis=2) - 1, axis=2)
            grad *= 1.0 / n
            return loss, grad
        diff = out - y
        n = diff[0].size
        if known is None:
            flat = diff.reshape(K, 1, -1)
            loss = np.matmul(flat, flat.transpose(0, 2, 1)).reshape(K).astype(np.float64) / n
        else:
            loss = known
        if not need_grad:
            return loss, None
        diff *= 2.0 / n
        return loss, diff

    # --- training ------------------------------------------------------------------------------
    def train_step(self, idx: Array | None) -> Array:
        """One step of every config on its rows ``idx [K, B]`` (``None``: all rows).

        Returns the per-config batch losses ``[K]`` from the forward pass, before the update.
        """
        X, y = self.data["train"]
        if idx is not None:
            X, y = X[idx], y[idx]  # per-config minibatches [K, B, ...]
        known = None
        if idx is None and self._cached is not None:
            # The last validation ran the train split through these very weights, and a
            # train-mode forward equals it here: reuse it and its loss (bit-identical).
            out, caches, known = self._cached
        else:
            out, caches = self.forward(X, True)
        self._cached = None
        loss, dout = self.loss(out, y, True, known)
        self.backward(caches, dout)  # type: ignore[arg-type]
        self.opt.step(self.grad)
        return loss

    def evaluate(self, split: str, batch_size: int = 0) -> tuple[Array, Array]:
        """Eval-mode per-config losses ``[K]`` and outputs ``[K, N, out_dim]`` (model dtype)."""
        X, y = self.data[split]
        cache = self.deterministic and self.data[split] is self.data["train"]
        if batch_size <= 0 or batch_size >= len(X):
            out, caches = self.forward(X, False)
        else:
            cache = False
            out = np.concatenate(
                [
                    self.forward(X[i : i + batch_size], False)[0]
                    for i in range(0, len(X), batch_size)
                ],
                axis=1,
            )
        loss, _ = self.loss(out, y, False)
        if cache:
            self._cached = (out, caches, loss)
        return loss, out

    def set_lr(self, lr: Array) -> None:
        self.opt.set_lr(lr)

    def save_best(self, improved: Array) -> None:
        """Copy the weights of the configs that just improved (``improved [K]`` bool)."""
        rows = np.flatnonzero(improved)
        if len(rows) == len(improved):
            np.copyto(self.best_flat, self.flat)
            for k, v in self.buffers.items():
                np.copyto(self.best_buffers[k], v)
        elif len(rows):
            self.best_flat[rows] = self.flat[rows]
            for k, v in self.buffers.items():
                self.best_buffers[k][rows] = v[rows]

    def keep(self, rows: Array) -> None:
        """Keep only the configs at ``rows``; the others have finished."""
        self.flat = np.ascontiguousarray(self.flat[rows])
        self.grad = np.zeros_like(self.flat)
        self.best_flat = self.best_flat[rows]
        self.buffers = {k: v[rows] for k, v in self.buffers.items()}
        self.best_buffers = {k: v[rows] for k, v in self.best_buffers.items()}
        self.p = self.p[rows]
        self.rngs = [self.rngs[k] for k in rows]
        self.opt.params = self.flat
        self.opt.keep(rows)
        self.K = len(rows)
        self._cached = None
        self._views()

    # --- export of one config ---------------------------------------------------------------------
    def _state(self, flat: Array, buffers: dict[str, Array], k: int) -> dict[str, Array]:
        state = {n: flat[k, s].reshape(shape).copy() for n, (s, shape) in self.layout.items()}
        state.update({n: v[k, 0].copy() for n, v in buffers.items()})
        return state

    def export(self, k: int) -> dict[str, Any]:
        """Config ``k``'s weights, best weights, optimizer state and dropout RNG."""
        flat_opt, meta = self.opt.export(k)
        optim = {
            f"{pname}.{sname}": vec[s].reshape(shape)
            for sname, vec in flat_opt.items()
            for pname, (s, shape) in self.layout.items()
        }
        return {
            "state": self._state(self.flat, self.buffers, k),
            "best": self._state(self.best_flat, self.best_buffers, k),
            "optim": optim,
            "optim_meta": {**meta, "lr": float(self.opt.lr64[k, 0])},
            "rng_meta": {"bit_generator": self.rngs[k].bit_generator.state},
        }


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
        losses = self._losses(self.forward(X, True), y)
        losses.sum().backward()
        with torch.no_grad():
            self._step()
        return losses.detach().double().cpu().numpy()

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


# --- per-config metrics, vectorized ------------------------------------------------------------


def _curve_metric_fn(task: str, y: Array) -> Any:
    """:func:`mlplab.training.metrics.curve_metric` against ``y``, for ``outputs [K, N, out]``.

    Returns a function ``outputs -> [K]`` float64. Accuracy is a count over N (exactly the
    single run's mean of a boolean array); MAE is taken in float64, as the single run
    takes it from float64 outputs.
    """
    n = len(y)
    if task == "regression":
        yy = np.asarray(y, dtype=np.float64).reshape(1, n, -1)
        return lambda out: np.abs(yy - out).mean(axis=(1, 2))
    if task == "binary":
        true = np.asarray(y)[:, 0].astype(np.int64) == 1
        return lambda out: np.add.reduce((out[:, :, 0] > 0) == true, axis=1, dtype=np.float64) / n
    true = np.asarray(y).astype(np.int64)
    return lambda out: np.add.reduce(out.argmax(axis=2) == true, axis=1, dtype=np.float64) / n


# --- the loop -----------------------------------------------------------------------------------


def _lrs_at(epoch: int, lr: Array, s: Schedule) -> Array:
    """:func:`mlplab.training.loop.lr_at` for a vector of base rates (same operations, same order)."""
    if s.lr_schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / s.epoch))
    if s.lr_schedule == "exponential":
        return lr * s.lr_gamma**epoch
    if s.lr_schedule == "step":
        return lr * s.lr_gamma ** (epoch // s.lr_step)
    return lr


@dataclass
class _Curves:
    """One config's curves as float64 rows, made into Python lists only when recorded.

    Lists of Python floats take 4x the memory of the arrays; 256 configs x 10001 epochs
    x 5 curves held as lists at once would take ~400 MB.
    """

    train_losses: Array
    val_losses: Array
    train_metrics: Array
    val_metrics: Array
    lrs: Array
    val_epochs: list[int]
    best_val_loss: float
    best_epoch: int

    def history(self) -> History:
        return History(
            train_losses=self.train_losses.tolist(),
            val_epochs=list(self.val_epochs),
            val_losses=self.val_losses.tolist(),
            train_metrics=self.train_metrics.tolist(),
            val_metrics=self.val_metrics.tolist(),
            lrs=self.lrs.tolist(),
            best_val_loss=self.best_val_loss,
            best_epoch=self.best_epoch,
        )


@dataclass
class _Outcome:
    """How one config's training ended, for its run record."""

    status: str  # finished | diverged
    loop: dict[str, Any] | None  # LoopState fields but the history; None: diverged
    export: dict[str, Any]
    best_epoch: int
    curves: _Curves  # also for a diverged run: its curves so far go to TensorBoard
    message: str = ""
    order_rng: np.random.Generator | None = None  # its data-order RNG, as it stands now
    step_losses: list[tuple[int, float]] = field(default_factory=list)

    def loop_state(self, h: History) -> LoopState:
        # As train(): a diverged run's loop state is a fresh one.
        return LoopState() if self.loop is None else LoopState(history=h, **self.loop)


def _fit_stack(
    stack: NumpyStack | TorchStack,
    task: str,
    data: Dataset,
    s: Schedule,
    base_lrs: Array,
    seeds: list[int],
    console: RunConsole,
) -> list[_Outcome]:
    """:func:`mlplab.training.loop.fit` for K configs at once; one outcome per config."""
    K, E = len(base_lrs), s.epoch
    n_train = len(data.y_train)
    val_at = [e for e in range(1, E + 1) if e % s.validate_every == 0 or e == E]
    V = len(val_at)
    # Curves as [epoch, config]: each epoch writes one contiguous row.
    train_losses = np.zeros((E, K))
    lrs = np.zeros((E, K))
    val_losses, train_metrics, val_metrics = np.zeros((V, K)), np.zeros((V, K)), np.zeros((V, K))
    val_metric = _curve_metric_fn(task, data.y_val)
    train_metric = _curve_metric_fn(task, data.y_train)
    best_val = np.full(K, math.inf)
    best_epoch = np.zeros(K, dtype=np.int64)
    bad = np.zeros(K, dtype=np.int64)
    order_rngs = [np.random.default_rng([seed, 1]) for seed in seeds]
    epoch_start_rng: list[dict[str, Any]] = [r.bit_generator.state for r in order_rngs]
    full_batch = s.batch_size <= 0 or s.batch_size >= n_train
    step_log: list[tuple[int, Array, Array]] = []  # (step, active ids, losses)
    ids = np.arange(K)  # original index of each row of the stack
    outcomes: list[_Outcome | None] = [None] * K
    shared_val = data.shared_splits
    step = 0

    def curves_of(ks: Array, n_epochs: int, n_vals: int) -> list[_Curves]:
        # One transposed copy per curve, then contiguous rows: a strided column per
        # config would walk the whole [epoch, config] array K times.
        cols = [
            a[:n, ks].T.copy()
            for a, n in (
                (train_losses, n_epochs),
                (val_losses, n_vals),
                (train_metrics, n_vals),
                (val_metrics, n_vals),
                (lrs, n_epochs),
            )
        ]
        return [
            _Curves(
                *(c[j] for c in cols),
                val_epochs=val_at[:n_vals],
                best_val_loss=float(best_val[k]),
                best_epoch=int(best_epoch[k]),
            )
            for j, k in enumerate(ks)
        ]

    def finish(rows: Array, status: str, n_epochs: int, n_vals: int, **kw: Any) -> None:
        """Export the configs at stack ``rows`` and drop them from the stack."""
        nonlocal ids
        cs = curves_of(ids[rows], n_epochs, n_vals)
        for r, c in zip(rows, cs, strict=True):
            k = int(ids[r])
            loop: dict[str, Any] | None = None
            msg = ""
            if status == "diverged":
                msg = str(RunDiverged(kw["step"], float(kw["losses"][r]), float(kw["lr"][r])))
            else:
                loop = {
                    "epoch": n_epochs,
                    "step": step,
                    "order_rng": epoch_start_rng[k],
                    "bad_validations": int(bad[k]),
                    "stopped_early": bool(kw.get("stopped_early", False)),
                }
            outcomes[k] = _Outcome(
                status, loop, stack.export(int(r)), int(best_epoch[k]), c, msg, order_rngs[k]
            )
        keep = np.setdiff1d(np.arange(len(ids)), rows)
        if len(keep):
            stack.keep(keep)
        ids = ids[keep]

    epoch = 0
    n_vals = 0
    while epoch < E and len(ids):
        # --- epoch start: learning rates and data order --------------------------------------
        lr_vec = _lrs_at(epoch, base_lrs[ids], s)
        stack.set_lr(lr_vec)
        order: Array | None = None
        starts = [0]
        if not full_batch:
            for k in ids:
                epoch_start_rng[k] = order_rngs[k].bit_generator.state
            order = np.stack([order_rngs[k].permutation(n_train) for k in ids])  # [K, n]
            starts = list(range(0, n_train, s.batch_size))

        # --- steps ------------------------------------------------------------------------------
        loss_sum = np.zeros(len(ids))
        rows_seen = 0
        for i in starts:
            idx = None if order is None else order[:, i : i + s.batch_size]  # [K, B]
            losses = stack.train_step(idx)
            finite = np.isfinite(losses)
            if not finite.all():
                # As fit(): a NaN or inf loss ends that run, before its loss is counted.
                finish(
                    np.flatnonzero(~finite),
                    "diverged",
                    epoch,
                    n_vals,
                    step=step,
                    losses=losses,
                    lr=lr_vec,
                )
                losses, loss_sum, lr_vec = losses[finite], loss_sum[finite], lr_vec[finite]
                if order is not None:
                    order = order[finite]
                if not len(ids):
                    break
            rows = n_train if idx is None else idx.shape[1]
            loss_sum += losses * rows
            rows_seen += rows
            if s.log_every and step % s.log_every == 0:
                step_log.append((step, ids.copy(), losses.copy()))
                console.step(step, float(np.median(losses)))
            step += 1
        if not len(ids):
            break

        # --- epoch end: curves ---------------------------------------------------------------------
        epoch += 1
        sel = ids if len(ids) < K else slice(None)  # a slice writes without fancy indexing
        loss_sum /= max(rows_seen, 1)
        train_losses[epoch - 1, sel] = loss_sum
        lrs[epoch - 1, sel] = lr_vec

        # --- validate ------------------------------------------------------------------------------
        if epoch % s.validate_every == 0 or epoch == E:
            val_loss, val_out = stack.evaluate("val", s.test_batch_size)
            val_losses[n_vals, sel] = val_loss
            val_metrics[n_vals, sel] = val_metric(val_out)
            if shared_val:  # train = val rows: the single run computes the same twice
                train_metrics[n_vals, sel] = val_metrics[n_vals, sel]
            else:
                _, train_out = stack.evaluate("train", s.test_batch_size)
                train_metrics[n_vals, sel] = train_metric(train_out)
            n_vals += 1
            improved = val_loss < best_val[ids]
            up = ids[improved]
            best_val[up], best_epoch[up], bad[up] = val_loss[improved], epoch, 0
            bad[ids[~improved]] += 1
            stack.save_best(improved)
            if s.patience:
                stop_rows = np.flatnonzero(bad[ids] >= s.patience)
                if len(stop_rows):
                    finish(stop_rows, "finished", epoch, n_vals, stopped_early=True)
        console.epoch(epoch, "")

    if len(ids):
        finish(np.arange(len(ids)), "finished", epoch, n_vals)

    # Per-config step losses for TensorBoard's train/step_loss.
    for st, active, losses in step_log:
        for r, k in enumerate(active):
            outcomes[k].step_losses.append((st, float(losses[r])))  # type: ignore[union-attr]
    return outcomes  # type: ignore[return-value]


# --- run records -----------------------------------------------------------------------------


def _thin(n: int, points: int | None) -> range:
    """Indices of at most about ``points`` of ``n`` curve points, evenly spaced."""
    every = 1 if not points else max(1, -(-n // points))
    return range(0, n, every)


def _write_tb_curves(
    tb: Any, out: _Outcome, h: History, metric: str, tb_every: int, points: int | None
) -> None:
    """The scalars :class:`mlplab.training.run.RunHooks` writes during a single run.

    ``points`` caps each curve (``None``: every validation, as a single run). A single
    run already thins ``train/loss`` to about 1000 points (``tb_every``); a stack
    writes its curves after training, K runs at once, where every event costs (tens of
    microseconds each through tensorboard's writer queue), so the other curves are capped too.
    """
    for st, loss in out.step_losses:
        tb.scalar("train/step_loss", loss, st)
    n_val = len(h.val_epochs)
    for j in _thin(n_val, points):
        e = h.val_epochs[j]
        tb.scalar("val/loss", h.val_losses[j], e)
        tb.scalar(f"val/{metric}", h.val_metrics[j], e)
        tb.scalar(f"train/{metric}", h.train_metrics[j], e)
    if points and n_val and (n_val - 1) % max(1, -(-n_val // points)):
        e = h.val_epochs[-1]  # the last validation always shows
        tb.scalar("val/loss", h.val_losses[-1], e)
        tb.scalar(f"val/{metric}", h.val_metrics[-1], e)
        tb.scalar(f"train/{metric}", h.train_metrics[-1], e)
    every = tb_every
    if points:
        every = max(tb_every, -(-len(h.train_losses) // points))
    for i, loss in enumerate(h.train_losses):
        e = i + 1
        if e % every == 0 or e == 1:
            tb.scalar("train/loss", loss, e)


def _cast_splits(data: Dataset, dtype: str) -> dict[str, tuple[Array, Array]]:
    """The single run's casts (``run._cast``), done once; equal splits stay one object."""
    from mlplab.training.run import _cast

    splits: dict[str, tuple[Array, Array]] = {}
    seen: dict[int, tuple[Array, Array]] = {}
    for name, (x, y) in data.splits().items():
        key = id(x)
        if key not in seen:
            seen[key] = _cast(x, y, dtype, data.name)
        splits[name] = seen[key]
    return splits


def _train_group(
    cfgs: list[Config],
    verbose: bool,
    tb_points: int | None = TB_POINTS,
    curves_in_results: bool = True,
) -> list[dict[str, Any]]:
    """Train one group (equal :func:`group_key`) and write every config's run record."""
    from mlplab.training.run import (
        _finish,
        _RunContext,
        _StopFlag,
        load_data,
        model_spec,
        schedule_of,
        train,
    )

    c0 = cfgs[0]
    for path in {c.log_path for c in cfgs}:
        check_writable(path)
    data = load_data(c0)
    specs = [model_spec(c, data) for c in cfgs]
    engine = resolve_engine(c0.engine, specs[0], len(data.X_train), c0.batch_size, c0.device)
    stackable = (engine == "numpy" and c0.device in ("cpu", "auto")) or (
        engine == "torch" and all(c.dp_rate == 0 for c in cfgs)
    )
    if len(cfgs) == 1 or not stackable or not batchable(c0):
        # One model, or what the stacks do not cover (torch dropout masks come from torch's
        # global generator): the single run is the reference.
        records_ = [train(c, verbose=verbose, dataset=data).record for c in cfgs]
        if not curves_in_results:
            records_ = [
                {k: v for k, v in r.items() if not isinstance(v, list) or k in ("target", "split")}
                for r in records_
            ]
        return records_

    # --- build ---------------------------------------------------------------------------------
    started = time.time()
    t0 = time.perf_counter()
    inits = [init_state(sp, c.init, c.seed, c.dtype) for sp, c in zip(specs, cfgs, strict=True)]
    optims = [OptimSpec(c.optim, c.lr, c.mm, c.l2_coef) for c in cfgs]
    seeds = [c.seed for c in cfgs]
    stack: NumpyStack | TorchStack
    if engine == "numpy":
        stack = NumpyStack(specs[0], inits, optims, seeds, [c.dp_rate for c in cfgs], c0.dtype)
    else:
        stack = TorchStack(specs[0], inits, optims, c0.dtype, c0.device)
    splits = _cast_splits(data, c0.dtype)
    stack.set_data(splits)

    # --- open the run records --------------------------------------------------------------------
    t1 = time.perf_counter()
    headers, records = [], []
    for cfg, spec in zip(cfgs, specs, strict=True):
        rec = RunRecord(run_dir_of(cfg))
        header = {
            **cfg.to_dict(),
            "run_id": run_name(cfg),
            "engine_used": engine,
            "task_type": data.task,
            "n_params": spec.n_params(),
            "mlplab_version": __version__,
            "status": "running",
        }
        rec.start(cfg, fresh=True)
        rec.write_result(header)
        headers.append(header)
        records.append(rec)
    console = RunConsole(verbose, c0.epoch)
    if verbose:
        console.line(
            f"mlplab: {len(cfgs)} configs of {c0.label()} on {data.name} "
            f"({data.task}, {data.n_rows} rows), engine {engine}, batched"
        )

    # --- train -------------------------------------------------------------------------------------
    t2 = time.perf_counter()
    # A diverging config overflows before its loss is seen as inf; that is reported as its
    # status, so NumPy's warnings would only repeat it (and fail strict test runs).
    with console, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        outcomes = _fit_stack(
            stack,
            data.task,
            data,
            schedule_of(c0),
            np.array([c.lr for c in cfgs], dtype=np.float64),
            seeds,
            console,
        )

    # --- evaluate and record, per config -------------------------------------------------------------
    t3 = time.perf_counter()
    from mlplab.runs.tensorboard import EventWriter

    metric = curve_metric_name(data.task)
    results = []
    for i, (cfg, spec, header, rec, optim) in enumerate(
        zip(cfgs, specs, headers, records, optims, strict=True)
    ):
        out = outcomes[i]
        ex = out.export
        backend = make_backend(
            engine, spec, ex["state"], optim, seed=cfg.seed, device=cfg.device, dtype=cfg.dtype
        )
        backend.set_data(splits)
        if engine == "numpy":
            backend.load_optim_state(ex["optim"], ex["optim_meta"])
            backend.load_rng_state({}, ex["rng_meta"])
        else:  # torch: the generator stays as seeded (no dropout drew from it)
            TorchStack.load_into(backend, ex)
        tb = EventWriter(rec.dir)
        tb_every = max(1, cfg.epoch // 1000)
        h = out.curves.history()
        _write_tb_curves(tb, out, h, metric, tb_every, tb_points)
        ctx = _RunContext(
            cfg,
            data,
            spec,
            engine,
            backend,
            out.order_rng,
            rec,
            RunConsole(False, cfg.epoch),
            tb,
            _StopFlag(),
            tb_every=tb_every,
            best=(ex["best"], out.best_epoch) if out.best_epoch > 0 else None,
            started=started,
        )
        result = _finish(ctx, out.loop_state(h), header, out.status, out.message)
        if not curves_in_results:
            for k in [k for k, v in result.items() if isinstance(v, list) and k not in header]:
                del result[k]
        results.append(result)
        outcomes[i] = None  # type: ignore[call-overload]  # free its arrays as we go
        del out, h, ex, backend, ctx
    t4 = time.perf_counter()
    LAST_TIMINGS.clear()
    LAST_TIMINGS.update(
        {
            "build_s": t1 - t0,
            "open_records_s": t2 - t1,
            "fit_s": t3 - t2,
            "finish_records_s": t4 - t3,
        }
    )
    if verbose:
        done = sum(r["status"] == "finished" for r in results)
        console.line(
            f"mlplab: {done}/{len(results)} finished in {time.time() - started:.2f} s "
            f"-> {Path(c0.log_path) / c0.exp_name}"
        )
    return results


def train_batched(
    configs: Sequence[Config | dict[str, Any]],
    verbose: bool = False,
    max_group: int = DEFAULT_MAX_GROUP,
    tb_points: int | None = TB_POINTS,
    curves_in_results: bool = True,
) -> list[dict[str, Any]]:
    """Train every config, stacking those that share a shape, and write each run record.

    Parameters
    ----------
    configs : list of Config or dict
        Validated once here. Configs with equal :func:`group_key` train together, at most
        ``max_group`` per stack: on :class:`NumpyStack` when the engine resolves to numpy,
        on :class:`TorchStack` (CPU or CUDA) when it resolves to torch. Groups of one, and
        torch groups with dropout, train alone with :func:`mlplab.training.run.train`.
    verbose : bool
        One line per group at its start and end, and the median step loss at log steps.
    max_group : int, default 256
    tb_points : int or None, default 200
        At most about this many points per TensorBoard curve of a stacked run (a single
        run thins ``train/loss`` to ~1000 points); ``None`` writes every validation, as a
        single run does. result.json and metrics.csv are never thinned.
    curves_in_results : bool, default True
        False leaves the per-epoch curves (lists) out of the returned dicts; they are still
        in each result.json. A sweep that only needs statuses keeps its memory flat this
        way (256 configs x 10001 epochs of curves are ~400 MB as Python lists).

    Returns
    -------
    list of dict
        Each config's result.json contents, in the order of ``configs``; the same keys as
        :func:`mlplab.training.run.train` writes.
    """
    from mlplab.engines.malloc import keep_training_memory
    from mlplab.training.run import as_config

    keep_training_memory()
    cfgs = [as_config(c) for c in configs]
    results: list[dict[str, Any] | None] = [None] * len(cfgs)
    for idx in _group_indices(cfgs, max_group):
        group = [cfgs[i] for i in idx]
        out = _train_group(group, verbose, tb_points, curves_in_results)
        for i, r in zip(idx, out, strict=True):
            results[i] = r
    return results  # type: ignore[return-value]
