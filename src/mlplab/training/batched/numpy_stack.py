"""K models of the NumPy engine as one stacked model: weights ``[K, ...]``, batched products."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlplab.engines.backend import OptimSpec
from mlplab.engines.numpy import functional as F
from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.engines.spec import ModelSpec

Array = np.ndarray


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
            grad = F.expit(out)
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
        self._step_out = out
        return loss

    def step_outputs(self) -> Array:
        """Outputs ``[K, B, out_dim]`` of the last ``train_step``'s forward (model dtype)."""
        return self._step_out

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
