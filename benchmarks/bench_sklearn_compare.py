"""mlplab's estimators against scikit-learn's MLPClassifier/MLPRegressor, same settings.

Three tasks, each trained by both libraries in the same process, one after the other:

- ``digits`` (1797 x 64, 10 classes) and ``breast_cancer`` (569 x 30, 2 classes): a
  stratified 75/25 split, ``StandardScaler`` fitted on the training rows; one hidden
  layer of 100 ReLU units, Adam lr 1e-3, batch 200, 200 epochs; test accuracy.
- ``sinlog`` (the regression lab, ``mlplab.data.load_dataset("sinlog")``: 1600 training
  rows, test on its 400 test rows, no scaling): 200 ReLU units, plain SGD, full batch
  (1600), 4000 epochs; test MAE.

Matched: hidden sizes, activation, optimizer (Adam betas 0.9/0.999, eps 1e-8; SGD without
momentum), learning rate, batch size, epochs and no L2 penalty (scikit-learn ``alpha=0``).
scikit-learn runs exactly ``max_iter`` epochs (``tol=0``, ``n_iter_no_change=max_iter``,
``early_stopping=False``) and mlplab exactly ``epoch`` (``patience=0``, one validation at
the end: ``validate_every=epoch``, since scikit-learn evaluates nothing per epoch).
scikit-learn's regression loss is half the MSE, so its SGD learning rate is doubled
(0.01 against mlplab's 0.005) to take the same steps. What differs, by each library's
defaults: the initial weights (scikit-learn: Glorot uniform; mlplab: PyTorch's
``nn.Linear`` init) and the precision (scikit-learn float64, mlplab float32).

mlplab runs once per engine (``numpy`` and ``torch``); ``(auto)`` marks the one that
``engine='auto'`` picks. Fit time is the median of ``--repeats`` fits (same seed).

Run: ``.venv/bin/python benchmarks/bench_sklearn_compare.py [--repeats 3] [--quick]
[--blas-threads 1]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

from mlplab.data import load_dataset
from mlplab.engines.choose import resolve_engine
from mlplab.engines.spec import ModelSpec
from mlplab.sklearn import MLPClassifier, MLPRegressor


@dataclass
class Task:
    name: str
    kind: str  # classification | regression
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    hid_dim: int
    act: str
    optim: str
    lr: float
    batch_size: int
    epoch: int

    @property
    def label(self) -> str:
        return f"{self.X_train.shape[1]}-{self.hid_dim}-out {self.act} {self.optim} lr {self.lr:g}, batch {self.batch_size}, {self.epoch} ep"


def scaled_split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), ytr, scaler.transform(Xte), yte


def tasks(quick: bool) -> list[Task]:
    scale = 10 if quick else 1
    digits = scaled_split(*load_digits(return_X_y=True))
    cancer = scaled_split(*load_breast_cancer(return_X_y=True))
    sl = load_dataset("sinlog")
    cls = {"hid_dim": 100, "act": "relu", "optim": "adam", "lr": 1e-3, "batch_size": 200}
    return [
        Task("digits", "classification", *digits, **cls, epoch=200 // scale),
        Task("breast_cancer", "classification", *cancer, **cls, epoch=200 // scale),
        Task(
            "sinlog",
            "regression",
            sl.X_train,
            sl.y_train[:, 0],
            sl.X_test,
            sl.y_test[:, 0],
            hid_dim=200,
            act="relu",
            optim="sgd",
            lr=0.005,
            batch_size=len(sl.X_train),
            epoch=4000 // scale,
        ),
    ]


def sklearn_model(t: Task) -> Any:
    common = {
        "hidden_layer_sizes": (t.hid_dim,),
        "activation": t.act,
        "solver": t.optim,
        "alpha": 0.0,
        "batch_size": t.batch_size,
        "max_iter": t.epoch,
        "tol": 0.0,
        "n_iter_no_change": t.epoch,
        "early_stopping": False,
        "shuffle": True,
        "random_state": 0,
    }
    if t.optim == "sgd":
        common.update(momentum=0.0, nesterovs_momentum=False, learning_rate="constant")
    if t.kind == "classification":
        return SkMLPClassifier(learning_rate_init=t.lr, **common)
    # scikit-learn minimizes MSE / 2: twice the rate takes the same steps as on MSE.
    return SkMLPRegressor(learning_rate_init=2 * t.lr, **common)


def mlplab_model(t: Task, engine: str) -> Any:
    cls = MLPClassifier if t.kind == "classification" else MLPRegressor
    return cls(
        n_layer=1,
        hid_dim=t.hid_dim,
        act=t.act,
        optim=t.optim,
        lr=t.lr,
        batch_size=t.batch_size,
        epoch=t.epoch,
        patience=0,
        validate_every=t.epoch,
        engine=engine,
        random_state=0,
    )


def auto_engine(t: Task) -> str:
    n_out = len(np.unique(t.y_train)) if t.kind == "classification" else 1
    out = 1 if n_out == 2 else n_out
    spec = ModelSpec(t.X_train.shape[1], out, 1, t.hid_dim, t.act)
    return resolve_engine("auto", spec, len(t.X_train), t.batch_size, "cpu")


def fit_once(make: Callable[[], Any], t: Task) -> tuple[Any, float]:
    model = make()
    start = time.perf_counter()
    with warnings.catch_warnings():
        # max_iter is reached on purpose (the matched epoch count).
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(t.X_train, t.y_train)
    return model, time.perf_counter() - start


def test_metric(model: Any, t: Task) -> float:
    """Test accuracy (classification) or MAE (regression)."""
    pred = model.predict(t.X_test)
    if t.kind == "classification":
        return float(accuracy_score(t.y_test, pred))
    return float(mean_absolute_error(t.y_test, pred))


def measure(makers: dict[str, Callable[[], Any]], t: Task, repeats: int) -> dict[str, Any]:
    """{name: (test metric, median fit seconds)}.

    The models take turns within each repeat, so a change in the machine's load while
    the benchmark runs falls on all of them alike.
    """
    times: dict[str, list[float]] = {k: [] for k in makers}
    models: dict[str, Any] = {}
    for _ in range(repeats):
        for name, make in makers.items():
            models[name], seconds = fit_once(make, t)
            times[name].append(seconds)
    return {k: (test_metric(models[k], t), statistics.median(times[k])) for k in makers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fits per model; median time")
    parser.add_argument("--quick", action="store_true", help="a tenth of the epochs (smoke run)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit the BLAS threads of NumPy (scikit-learn and mlplab's numpy engine); "
        "default: BLAS's own choice",
    )
    args = parser.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        # On a busy machine, BLAS threads that wait for each other can cost more than
        # the whole computation of these small matrices; compare with them pinned too.
        threadpool_limits(limits=args.blas_threads, user_api="blas")

    # Warm up both libraries (imports, first-call kernels) outside the timings.
    warm = tasks(quick=True)[1]
    warm.epoch = 2
    for engine in ("numpy", "torch"):
        fit_once(lambda e=engine: mlplab_model(warm, e), warm)
    fit_once(lambda: sklearn_model(warm), warm)

    rows = []
    for t in tasks(args.quick):
        makers = {
            "sklearn": lambda t=t: sklearn_model(t),
            "numpy": lambda t=t: mlplab_model(t, "numpy"),
            "torch": lambda t=t: mlplab_model(t, "torch"),
        }
        res = measure(makers, t, args.repeats)
        sk_metric, sk_time = res["sklearn"]
        picked = auto_engine(t)
        metric = "accuracy" if t.kind == "classification" else "MAE"
        for engine in ("numpy", "torch"):
            ml_metric, ml_time = res[engine]
            mark = " (auto)" if engine == picked else ""
            rows.append(
                (
                    t.name,
                    f"{t.label}; engine {engine}{mark}",
                    metric,
                    f"{sk_metric:.4f}",
                    f"{ml_metric:.4f}",
                    f"{sk_time:.2f}",
                    f"{ml_time:.2f}",
                    f"{ml_time / sk_time:.2f}",
                )
            )

    import sklearn
    import torch
    from threadpoolctl import threadpool_info

    blas = ", ".join(
        f"{i['internal_api']} {i['num_threads']} threads"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )

    print(
        f"<!-- {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"scikit-learn {sklearn.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), numpy {np.__version__} ({blas}), "
        f"median of {args.repeats} fits{', --quick' if args.quick else ''} -->"
    )
    head = (
        "dataset",
        "model",
        "metric",
        "sklearn",
        "mlplab",
        "sklearn time s",
        "mlplab time s",
        "time ratio mlplab/sklearn",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
