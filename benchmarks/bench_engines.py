"""Single-run workloads W1-W4: mlplab against scikit-learn and a plain PyTorch loop.

Run from the repository root::

    python benchmarks/bench_engines.py                 # all workloads, 3 repeats each
    python benchmarks/bench_engines.py --only W1 W2 --repeats 5
    python benchmarks/bench_engines.py --profile W1    # cProfile of one mlplab run, top functions

Every table shows median wall-clock seconds over the repeats (and the min-max spread),
and the ratio to the plain PyTorch loop run in the same process on the same machine.
mlplab is timed in-process as ``mlplab.train(...)`` with ``plots='none'`` and
``verbose=False``; imports (torch, tensorboard, safetensors) and the first-call costs are
paid by a warm-up run before any timing. "record" rows write the full run record
(result.json, metrics.csv, TensorBoard events, checkpoints); "no record" rows pass
``record=False`` and show the engine and loop alone.

Goals (from the issue): W1, W2 <= 0.25x the plain torch loop; W3 <= 0.7x the plain torch
loop and below scikit-learn; W4 >= 85% of the machine's float32 matmul throughput.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from common import (
    Timing,
    load_note,
    machine_note,
    measure,
    plain_torch_classifier,
    plain_torch_regression,
    plain_torch_xor,
    ratio_rows,
    table,
)

HEADERS = ["implementation", "median s", "min-max s", "vs plain torch", "result"]
LOG_PATH = tempfile.mkdtemp(prefix="mlplab-bench-")
atexit.register(shutil.rmtree, LOG_PATH, ignore_errors=True)


def mlplab_run(record: bool = True, **settings: Any) -> dict[str, Any]:
    import torch

    import mlplab

    # A fresh folder each time: training a config whose finished run is already there
    # keeps that run without training (the new-user path this measures has none).
    log_path = tempfile.mkdtemp(dir=LOG_PATH)
    settings = {"plots": "none", "log_path": log_path, **settings}
    # mlplab's torch engine may set torch's (process-wide) thread count for small models;
    # restore it so the plain torch loop runs as a lab script would.
    threads = torch.get_num_threads()
    try:
        return mlplab.train(verbose=False, record=record, **settings).record
    finally:
        torch.set_num_threads(threads)


def mlplab_rows(
    settings: dict[str, Any], repeats: int, describe: Callable[[dict[str, Any]], str]
) -> list[tuple[str, Timing, str]]:
    """One row per engine (auto, numpy, torch) with and without the run record."""
    rows = []
    for engine in ("auto", "numpy", "torch"):
        for record in (True, False):
            t = measure(lambda e=engine, r=record: mlplab_run(r, **settings, engine=e), repeats)
            rec = t.value
            kind = "record" if record else "no record"
            rows.append(
                (f"mlplab train, engine {engine} ({rec['engine_used']}), {kind}", t, describe(rec))
            )
    return rows


def warm_up() -> None:
    """Pay imports and first-call costs of both engines, the run record and the references."""
    for engine in ("numpy", "torch"):
        mlplab_run(data="xor", n_layer=1, hid_dim=2, act="sigmoid", epoch=3, engine=engine)
    # The references' lazy imports (torch.utils.data, optimizers) are not loop time either.
    X = np.zeros((8, 2))
    plain_torch_xor(steps=3)
    plain_torch_regression(X, X[:, :1], X, X[:, :1], epochs=2)
    plain_torch_classifier(X, np.arange(8) % 2, X, np.arange(8) % 2, epochs=1)


def sklearn_quiet(est: Any, X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# --- W1: xor-nn ---------------------------------------------------------------------------------


XOR_NN = {
    "data": "xor",
    "n_layer": 1,
    "hid_dim": 2,
    "act": "sigmoid",
    "optim": "sgd",
    "lr": 1.0,
    "epoch": 10001,
    "batch_size": 0,
    "log_every": 100,
    "validate_every": 100,  # as examples/xor_nn.yaml: the lab prints its cost every 100 steps
    "seed": 777,
}


def numpy_engine_xor_steps() -> float:
    """xor-nn's 10001 full-batch steps on the NumPy engine, with the run's own init."""
    from mlplab.engines.backend import ModelInit, OptimSpec
    from mlplab.engines.choose import make_backend
    from mlplab.engines.init import init_state, run_streams
    from mlplab.engines.spec import ModelSpec

    spec = ModelSpec(in_dim=2, out_dim=1, n_layer=1, hid_dim=2, act="sigmoid", task="binary")
    streams = run_streams(777)
    init = init_state(spec, "default", streams.weights)
    model = ModelInit(init, OptimSpec("sgd", 1.0), 0.0, streams.dropout)
    backend = make_backend("numpy", spec, [model])
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    backend.set_data({"train": (X, np.array([[0], [1], [1], [0]], dtype=np.float32))})
    step = backend.train_step
    for _ in range(10001):
        losses = step(None)
    return float(losses[0])


def w1(repeats: int) -> str:
    from sklearn.neural_network import MLPClassifier

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0])
    ref = measure(plain_torch_xor, repeats)
    rows: list[tuple[str, Timing, str]] = [
        ("plain torch loop (lab 08-2)", ref, f"cost {ref.value:.4g}")
    ]
    rows += mlplab_rows(
        XOR_NN, repeats, lambda rec: f"loss {rec['train_loss']:.4g}, acc {rec['train_acc']:.2f}"
    )
    every = {**XOR_NN, "validate_every": 1}
    t = measure(lambda: mlplab_run(True, **every), repeats)
    rows.append(
        (
            "mlplab train, engine auto (numpy), record, validation every step (10001)",
            t,
            f"loss {t.value['train_loss']:.4g}, acc {t.value['train_acc']:.2f}",
        )
    )
    # The engine alone: 10001 training steps and nothing else, as the plain loop does.
    steps = measure(numpy_engine_xor_steps, repeats)
    rows.append(
        ("mlplab NumPy engine alone: 10001 steps, no validation", steps, f"loss {steps.value:.4g}")
    )
    sk = measure(
        lambda: sklearn_quiet(
            MLPClassifier(
                hidden_layer_sizes=(2,),
                activation="logistic",
                solver="sgd",
                learning_rate_init=1.0,
                momentum=0.0,
                batch_size=4,
                max_iter=10001,
                alpha=0.0,
                tol=0.0,
                n_iter_no_change=10**9,
                shuffle=False,
                random_state=777,
            ),
            X,
            y,
        ),
        repeats,
    )
    rows.append(("scikit-learn MLPClassifier (sgd, full batch)", sk, f"loss {sk.value.loss_:.4g}"))
    return (
        "### W1 xor-nn: 2-2-1 sigmoid, SGD lr 1, 10001 full-batch steps, "
        "validation every 100 steps (examples/xor_nn.yaml)\n\n"
        + table(HEADERS, ratio_rows(rows, ref))
    )


# --- W2: sinlog -----------------------------------------------------------------------------------


SINLOG = {
    "data": "sinlog",
    "n_layer": 1,
    "hid_dim": 200,
    "act": "relu",
    "optim": "sgd",
    "lr": 0.005,
    "epoch": 4000,
    "validate_every": 1,
    "log_every": 200,
    "seed": 0,
}


def w2(repeats: int, epochs: int = 4000) -> str:
    from sklearn.neural_network import MLPRegressor

    from mlplab.data.dataset import load_dataset

    ds = load_dataset("sinlog", seed=0)
    settings = {**SINLOG, "epoch": epochs}
    ref = measure(
        lambda: plain_torch_regression(
            ds.X_train, ds.y_train, ds.X_val, ds.y_val, epochs=epochs, lr=0.005
        ),
        repeats,
    )
    rows: list[tuple[str, Timing, str]] = [
        ("plain torch loop (regression lab)", ref, f"val MSE {ref.value:.4g}")
    ]
    rows += mlplab_rows(
        settings,
        repeats,
        lambda rec: f"val MSE {rec['val_loss']:.4g}, test MAE {rec['test_mae']:.3g}",
    )
    # scikit-learn's squared loss is half the MSE, so lr 0.01 there takes the same steps.
    sk = measure(
        lambda: sklearn_quiet(
            MLPRegressor(
                hidden_layer_sizes=(200,),
                activation="relu",
                solver="sgd",
                learning_rate_init=0.01,
                momentum=0.0,
                batch_size=len(ds.X_train),
                max_iter=epochs,
                alpha=0.0,
                tol=0.0,
                n_iter_no_change=10**9,
                shuffle=False,
                random_state=0,
            ),
            ds.X_train,
            ds.y_train[:, 0],
        ),
        repeats,
    )
    sk_mse = float(np.mean((sk.value.predict(ds.X_val) - ds.y_val[:, 0]) ** 2))
    rows.append(
        (
            "scikit-learn MLPRegressor (sgd lr 0.01 = MSE lr 0.005, full batch, no per-epoch val)",
            sk,
            f"val MSE {sk_mse:.4g}",
        )
    )
    return (
        f"### W2 sinlog: 2-200-1 ReLU, SGD lr 0.005, {epochs} full-batch epochs, validation every epoch\n\n"
        + table(HEADERS, ratio_rows(rows, ref))
    )


# --- W3: digits -----------------------------------------------------------------------------------


def w3(repeats: int) -> str:
    from sklearn.neural_network import MLPClassifier

    from mlplab.data.dataset import load_dataset

    ds = load_dataset("digits", standardize=True, seed=0)
    settings = {
        "data": "digits",
        "standardize": True,
        "hid_dims": "256-128",
        "act": "relu",
        "optim": "adam",
        "lr": 0.001,
        "batch_size": 128,
        "epoch": 50,
        "log_every": 100,
        "seed": 0,
    }
    ref = measure(
        lambda: plain_torch_classifier(
            ds.X_train, ds.y_train, ds.X_val, ds.y_val, hidden=(256, 128)
        ),
        repeats,
    )
    rows: list[tuple[str, Timing, str]] = [
        ("plain torch loop (DataLoader, TensorDataset)", ref, f"val acc {ref.value:.3f}")
    ]
    rows += mlplab_rows(
        settings,
        repeats,
        lambda rec: f"val acc {rec['val_acc']:.3f}, test acc {rec['test_acc']:.3f}",
    )
    sk = measure(
        lambda: sklearn_quiet(
            MLPClassifier(
                hidden_layer_sizes=(256, 128),
                activation="relu",
                solver="adam",
                learning_rate_init=0.001,
                batch_size=128,
                max_iter=50,
                alpha=0.0,
                tol=0.0,
                n_iter_no_change=10**9,
                random_state=0,
            ),
            ds.X_train,
            ds.y_train,
        ),
        repeats,
    )
    rows.append(
        (
            "scikit-learn MLPClassifier (adam, batch 128)",
            sk,
            f"val acc {sk.value.score(ds.X_val, ds.y_val):.3f}",
        )
    )
    return (
        "### W3 digits: 64-256-128-10 ReLU, Adam lr 0.001, batch 128, 50 epochs, validation every epoch\n\n"
        + table(HEADERS, ratio_rows(rows, ref))
    )


# --- W4: compute-bound ------------------------------------------------------------------------------


def _matmul_gflops(shapes: list[tuple[int, int, int]], repeats: int = 20) -> float:
    """float32 GFLOP/s of ``torch.mm`` over the given (m, k, n) products, run back to back."""
    import torch

    pairs = [(torch.randn(m, k), torch.randn(k, n)) for m, k, n in shapes]
    flops = sum(2 * m * k * n for m, k, n in shapes)
    for a, b in pairs:  # warm-up
        torch.mm(a, b)
    best = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(repeats):
            for a, b in pairs:
                torch.mm(a, b)
        best.append((time.perf_counter() - t) / repeats)
    return flops / float(np.median(best)) / 1e9


def w4_data(n: int = 50_000, d_in: int = 128, classes: int = 10) -> Any:
    """W4's data: n training rows of d_in Gaussian features, 2000 val and 2000 test rows."""
    from mlplab.data.dataset import Dataset

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n + 4000, d_in))
    y = (X @ rng.standard_normal((d_in, classes))).argmax(1).astype(np.int64)
    return Dataset(
        "w4", "multiclass", X[:n], y[:n], X[n : n + 2000], y[n : n + 2000], X[n + 2000 :], y[n + 2000 :],
        [f"x{i}" for i in range(d_in)], ["y"], [str(c) for c in range(classes)],
    )  # fmt: skip


def w4_settings(hid: int = 512, epochs: int = 3, batch: int = 1024) -> dict[str, Any]:
    # No `data`: W4's rows are given as dataset= (w4_data), which train takes in its place.
    return {
        "n_layer": 2,
        "hid_dim": hid,
        "act": "relu",
        "optim": "adam",
        "lr": 0.001,
        "batch_size": batch,
        "epoch": epochs,
        "log_every": 100,
        "engine": "torch",
        "seed": 0,
    }


def w4(repeats: int, n: int = 50_000, epochs: int = 3, batch: int = 1024) -> str:
    d_in, hid, classes = 128, 512, 10
    ds = w4_data(n, d_in, classes)
    widths = [d_in, hid, hid, classes]
    fwd_flops = 2 * sum(a * b for a, b in itertools.pairwise(widths))
    train_flops = 3 * fwd_flops * n * epochs  # forward + two backward products per layer
    # The machine's own float32 matmul throughput, on the products one training step does.
    step_shapes = []
    for a, b in itertools.pairwise(widths):
        step_shapes += [(batch, a, b), (b, batch, a)]  # forward X W^T, and dW = dZ^T X
        if a != d_in:
            step_shapes.append((batch, b, a))  # dX = dZ W
    peak_step = _matmul_gflops(step_shapes)
    peak_square = _matmul_gflops([(2048, 2048, 2048)], repeats=3)
    settings = w4_settings(hid, epochs, batch)
    ref = measure(
        lambda: plain_torch_classifier(
            ds.X_train,
            ds.y_train,
            ds.X_val,
            ds.y_val,
            hidden=(hid, hid),
            epochs=epochs,
            batch_size=batch,
        ),
        repeats,
    )
    ml = measure(lambda: mlplab_run(True, **settings, dataset=ds), repeats)
    # Every forward pass outside training: the val split after each epoch (both), and
    # mlplab's final evaluation of the train, val and test splits for its record.
    val_rows = len(ds.y_val) * epochs
    eval_rows = {"plain": val_rows, "mlplab": val_rows + n + len(ds.y_val) + len(ds.y_test)}
    rows = []
    for name, key, t in (
        ("plain torch loop (DataLoader)", "plain", ref),
        ("mlplab train, engine torch, record", "mlplab", ml),
    ):
        achieved = train_flops / t.median / 1e9
        all_flops = (train_flops + fwd_flops * eval_rows[key]) / t.median / 1e9
        rows.append(
            [
                name,
                t.median,
                t.spread(),
                f"{t.median / ref.median:.2f}x",
                f"{achieved:.1f}",
                f"{achieved / peak_step:.0%}",
                f"{all_flops / peak_step:.0%}",
            ]
        )
    return (
        f"### W4 compute-bound: {n} x {d_in} inputs, {d_in}-{hid}-{hid}-{classes} ReLU, Adam, batch {batch}, {epochs} epochs\n\n"
        f"Training FLOPs taken as 3 x forward = {train_flops / 1e9:.0f} GFLOP. The last column also counts "
        "the forward passes of validation (after each epoch) and of mlplab's final evaluation "
        "of all three splits for its record (another 50,000+ rows). "
        f"torch.mm float32 on this step's products: {peak_step:.1f} GFLOP/s; on 2048^3: {peak_square:.1f} GFLOP/s.\n\n"
        + table(
            [
                "implementation",
                "median s",
                "min-max s",
                "vs plain torch",
                "GFLOP/s",
                "of matmul peak",
                "of peak, counting evaluation",
            ],
            rows,
        )
    )


# --- profile ------------------------------------------------------------------------------------------


def profile(workload: str, top: int = 25) -> str:
    import cProfile
    import io
    import pstats

    extra: dict[str, Any] = {}
    if workload == "W4":  # compute-bound: the torch engine only, on its own data
        settings, engines, extra = w4_settings(), ("torch",), {"dataset": w4_data()}
    else:
        settings, engines = {"W1": XOR_NN, "W2": SINLOG}[workload], ("numpy", "torch")
    out = []
    if workload == "W4":
        # The torch profiler by operator: where a compute-bound run's time goes.
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as torch_profile

        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            mlplab_run(True, **settings, **extra)
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
        out.append(f"#### W4 engine torch, torch.profiler by operator\n\n```\n{table}\n```")
    for engine in engines:
        pr = cProfile.Profile()
        t = time.perf_counter()
        pr.enable()
        mlplab_run(True, **{**settings, "engine": engine}, **extra)
        pr.disable()
        wall = time.perf_counter() - t
        buf = io.StringIO()
        order = "cumulative" if workload == "W4" else "tottime"  # W4: the matmuls' callers
        pstats.Stats(pr, stream=buf).sort_stats(order).print_stats(top)
        out.append(
            f"#### {workload} engine {engine}: {wall:.2f} s under cProfile\n\n```\n{buf.getvalue()}\n```"
        )
    return "\n\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", default=["W1", "W2", "W3", "W4"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)"
    )
    p.add_argument(
        "--profile", choices=["W1", "W2", "W4"], help="print a cProfile of single mlplab runs"
    )
    args = p.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    warm_up()
    print(f"Machine: {machine_note()}\n")
    if args.profile:
        print(profile(args.profile))
        return
    for w in args.only:
        started = load_note()
        section = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}[w](args.repeats)
        print(f"{section}\n\n({started} before, {load_note()} after)\n", flush=True)


if __name__ == "__main__":
    main()
