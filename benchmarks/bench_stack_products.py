"""A stack's first-layer products: each model's own (what the engine does) against one
product of the shared input with all K weight matrices side by side (what it once did).

The shared form ``[N, in] @ [in, K * out]`` is one BLAS call instead of K, but it rounds
differently from a model trained alone, so a stack's metrics differed from its single
runs' in the last digits. This times a NumPy engine ``train_step`` (full batch, float32,
one BLAS thread) both ways, in the same process, alternating, on the shapes of a sweep:
256 and 128 xor-nn models (2-2-1 on 4 rows), 64 models of 16 units on 200 rows, and 16
models of 100 units on 1600 rows (sinlog-sized).

Run: ``python benchmarks/bench_stack_products.py``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from common import machine_note, table
from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.numpy import layers
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.spec import ModelSpec

SHAPES = [(256, 2, 4), (128, 2, 4), (64, 16, 200), (16, 100, 1600)]  # K, hidden units, rows


def shared_forward(self: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear.forward with the shared-input product (the reference)."""
    if x.ndim != 2 or self.single:
        return own_forward(self, x)
    K, out, n_in = self.weight.shape
    z = np.dot(x, self.weight.reshape(K * out, n_in).T).reshape(len(x), K, out)
    z = z.transpose(1, 0, 2) + self.bias
    return z, x


def shared_backward(self: Any, cache: np.ndarray, dz: np.ndarray, need_dx: bool = True) -> Any:
    x = cache
    if x.ndim != 2 or self.single:
        return own_backward(self, cache, dz, need_dx)
    K, n, out = dz.shape
    dw = np.dot(dz.transpose(0, 2, 1).reshape(K * out, n), x)
    self.dweight[...] = dw.reshape(K, out, x.shape[1])
    self.dbias[...] = dz.sum(axis=1, keepdims=True)
    return (np.matmul(dz, self.weight) if need_dx else None), self.grads


own_forward, own_backward = layers.Linear.forward, layers.Linear.backward


def backend(K: int, hid: int, n: int) -> NumpyBackend:
    spec = ModelSpec(2, 1, 1, hid, "sigmoid", task="binary")
    inits = [init_state(spec, "default", run_streams(s).weights) for s in range(K)]
    b = NumpyBackend(spec, [ModelInit(w, OptimSpec("sgd", 0.5)) for w in inits])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    b.set_data({"train": (X, (X[:, 0] * X[:, 1] > 0).astype(np.float32))})
    return b


def per_step(step: Callable[[], Any], steps: int) -> float:
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7, help="alternating rounds (best is kept)")
    args = p.parse_args()
    rows = []
    with threadpool_limits(1):
        for K, hid, n in SHAPES:
            steps = max(5, 200_000 // (K * n))
            own, shared = backend(K, hid, n), backend(K, hid, n)
            best = {"own": float("inf"), "shared": float("inf")}
            for _ in range(args.repeats):
                layers.Linear.forward, layers.Linear.backward = own_forward, own_backward
                best["own"] = min(best["own"], per_step(lambda b=own: b.train_step(None), steps))
                layers.Linear.forward, layers.Linear.backward = shared_forward, shared_backward
                t = per_step(lambda b=shared: b.train_step(None), steps)
                best["shared"] = min(best["shared"], t)
            layers.Linear.forward, layers.Linear.backward = own_forward, own_backward
            rows.append(
                [
                    f"K={K}, {hid} units, {n} rows",
                    f"{best['own'] * 1e6:.1f}",
                    f"{best['shared'] * 1e6:.1f}",
                    f"{best['own'] / best['shared']:.2f}x",
                ]
            )
    print(machine_note())
    print(
        table(["stack", "own products (µs/step)", "shared product (µs/step)", "own / shared"], rows)
    )


if __name__ == "__main__":
    main()
