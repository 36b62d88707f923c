"""Where one sinlog training step's time goes on the NumPy engine, pass by pass.

The W2 step works on 1600 x 200 hidden activations (1.3 MB in float32). Each NumPy
operation is one pass over memory; this times each pass of a step alone (median of many
calls), with BLAS on one thread as the engine runs it, and the engine's own step.

Run: ``python benchmarks/profile_sinlog_step.py``
"""

from __future__ import annotations

import timeit

import numpy as np
from threadpoolctl import threadpool_limits

from mlplab.engines.malloc import keep_training_memory


def us(fn, number: int = 2000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    keep_training_memory()
    rng = np.random.default_rng(0)
    n, h = 1600, 200
    X = rng.standard_normal((n, 2)).astype(np.float32)
    W1, b1 = rng.standard_normal((h, 2)).astype(np.float32), np.zeros(h, np.float32)
    W2 = rng.standard_normal((1, h)).astype(np.float32)
    z = X @ W1.T
    mask = (z > 0).astype(np.float32)
    a = z * mask
    d = rng.standard_normal((n, 1)).astype(np.float32)
    dh = d @ W2
    ones = np.ones(n, np.float32)
    passes = [
        ("hidden product X W1^T", lambda: np.dot(X, W1.T)),
        ("+ bias", lambda: np.add(z, b1)),
        ("ReLU compare (mask)", lambda: np.greater(z, 0).astype(np.float32)),
        ("ReLU multiply", lambda: np.multiply(z, mask)),
        ("output product a W2^T", lambda: np.dot(a, W2.T)),
        ("dW2 = d^T a", lambda: np.dot(d.T, a)),
        ("dH = d W2", lambda: np.dot(d, W2)),
        ("dZ = dH * mask", lambda: np.multiply(dh, mask)),
        ("dW1 = dZ^T X", lambda: np.dot(dh.T, X)),
        ("db1 = ones dZ", lambda: np.dot(ones, dh)),
        ("(np.maximum(z, 0), not used)", lambda: np.maximum(z, 0)),
    ]
    with threadpool_limits(1, user_api="blas"):
        rows = [(name, us(fn)) for name, fn in passes]
        import mlplab

        res = mlplab.train(
            "examples/sinlog_mlp.yaml", epoch=400, record=False, verbose=False, engine="numpy"
        )
    total = sum(t for name, t in rows if "not used" not in name)
    print("| pass | µs |\n|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.1f} |")
    print(f"| **sum of a step's passes** | **{total:.0f}** |")
    step = res.record["wall_time_s"] / 400 * 1e6
    print(f"\nOne engine epoch (step + validation of 200 rows), from 400 epochs: {step:.0f} µs")


if __name__ == "__main__":
    main()
