"""Per-step time of the NumPy engine over a model axis K against an older mlplab's engines.

Times ``train_step`` alone (full batch, float32, one BLAS thread), old and new alternating:

- xor-nn: 2-2-1 sigmoid, 4 rows, SGD lr 1, K = 1, against the older single-model engine;
  also with the lab's validation on the training split before each step;
- sinlog-like: 2-200-1 relu, 1600 rows, SGD lr 0.01, K = 1, against the same;
- xor-nn K = 256 (lr 0.1 .. 2), against the older stacked copy (``NumpyStack``).

The older engine comes from a source tree given with ``--old-src`` (e.g.
``git archive main src | tar -x -C /tmp/oldsrc`` gives ``/tmp/oldsrc/src``); it is
copied under another package name so that both load in this one process.

Run: ``python benchmarks/bench_numpy_k.py --old-src /tmp/oldsrc/src``
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.spec import ModelSpec


def load_old(src: Path) -> Any:
    """The package at ``src/mlplab`` imported as ``mlplab_old``."""
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(src / "mlplab", tmp / "mlplab_old")
    for f in (tmp / "mlplab_old").rglob("*.py"):
        text = f.read_text()
        f.write_text(
            text.replace("from mlplab.", "from mlplab_old.").replace(
                "import mlplab.", "import mlplab_old."
            )
        )
    sys.path.insert(0, str(tmp))
    return importlib.import_module("mlplab_old")


def compare(
    old: Callable[[], Any], new: Callable[[], Any], steps: int, repeats: int
) -> tuple[float, float]:
    """Per-call time of ``old`` and ``new`` in microseconds: the fastest of ``repeats`` chunks.

    Chunks of ``steps`` calls alternate between the two, so that both see the same load
    on a shared machine; the fastest chunk is the one least disturbed by other work.
    """
    for _ in range(min(steps, 200)):  # warm up: caches, first allocations
        old()
        new()
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, fn in enumerate((old, new)):
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / steps * 1e6)
    return best[0], best[1]


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return X, np.array([[0], [1], [1], [0]], dtype=np.float32)


def sinlog_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (1600, 2)).astype(np.float32)
    y = (np.sin(X[:, :1]) + np.log1p(np.abs(X[:, 1:]))).astype(np.float32)
    return X, y


def single_epoch(old: Any, steps: int, repeats: int) -> tuple[float, float]:
    """The xor-nn lab's epoch: validate on the training split (val is train), then one step."""
    spec = ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")
    init = init_state(spec, "default", 0)
    data = xor_data()
    new = NumpyBackend(spec, [ModelInit(init, OptimSpec("sgd", 1.0))])
    new.set_data({"train": data, "val": data})
    OldBackend = importlib.import_module("mlplab_old.engines.numpy.backend").NumpyBackend
    OldSpec = importlib.import_module("mlplab_old.engines.spec").ModelSpec
    OldOptim = importlib.import_module("mlplab_old.engines.backend").OptimSpec
    ob = OldBackend(OldSpec(**spec.to_dict()), init, OldOptim("sgd", 1.0), seed=0)
    ob.set_data({"train": data, "val": data})

    def epoch(b: Any) -> None:
        b.evaluate("val")
        b.train_step(None)

    return compare(lambda: epoch(ob), lambda: epoch(new), steps, repeats)


def single(
    old: Any,
    spec: ModelSpec,
    data: tuple[np.ndarray, np.ndarray],
    lr: float,
    steps: int,
    repeats: int,
) -> tuple[float, float]:
    init = init_state(spec, "default", 0)
    new = NumpyBackend(spec, [ModelInit(init, OptimSpec("sgd", lr))])
    new.set_data({"train": data})
    OldBackend = importlib.import_module("mlplab_old.engines.numpy.backend").NumpyBackend
    OldSpec = importlib.import_module("mlplab_old.engines.spec").ModelSpec
    OldOptim = importlib.import_module("mlplab_old.engines.backend").OptimSpec
    ob = OldBackend(OldSpec(**spec.to_dict()), init, OldOptim("sgd", lr), seed=0)
    ob.set_data({"train": data})
    return compare(lambda: ob.train_step(None), lambda: new.train_step(None), steps, repeats)


def stacked(old: Any, K: int, steps: int, repeats: int) -> tuple[float, float]:
    spec = ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")
    lrs = np.linspace(0.1, 2.0, K)
    inits = [init_state(spec, "default", run_streams(s).weights) for s in range(K)]
    new = NumpyBackend(
        spec, [ModelInit(w, OptimSpec("sgd", float(lr))) for w, lr in zip(inits, lrs)]
    )
    new.set_data({"train": xor_data()})
    Stack = importlib.import_module("mlplab_old.training.batched.numpy_stack").NumpyStack
    OldSpec = importlib.import_module("mlplab_old.engines.spec").ModelSpec
    OldOptim = importlib.import_module("mlplab_old.engines.backend").OptimSpec
    st = Stack(
        OldSpec(**spec.to_dict()),
        inits,
        [OldOptim("sgd", float(lr)) for lr in lrs],
        list(range(K)),
        [0.0] * K,
    )
    st.set_data({"train": xor_data()})
    return compare(lambda: st.train_step(None), lambda: new.train_step(None), steps, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-src", type=Path, required=True, help="an older mlplab's src folder")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    old = load_old(args.old_src)
    xor = ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")
    sinlog = ModelSpec(2, 1, 1, 200, "relu", task="regression")
    with threadpool_limits(1, user_api="blas"):
        rows = [
            ("xor-nn K=1", *single(old, xor, xor_data(), 1.0, 20, args.repeats)),
            ("xor-nn K=1, evaluate('val') + step", *single_epoch(old, 20, args.repeats)),
            ("sinlog 2-200-1 K=1", *single(old, sinlog, sinlog_data(), 0.01, 2, args.repeats)),
            ("xor-nn K=256", *stacked(old, 256, 5, args.repeats)),
        ]
    print("| workload | old (us/step) | new (us/step) | new / old |")
    print("|---|---:|---:|---:|")
    for name, t_old, t_new in rows:
        print(f"| {name} | {t_old:.1f} | {t_new:.1f} | {t_new / t_old:.2f} |")


if __name__ == "__main__":
    main()
