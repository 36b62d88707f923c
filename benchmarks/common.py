"""Shared pieces of the benchmarks: timing, machine notes, tables, and the references.

The references are written the way the lectures' labs write them: an ``nn.Sequential``,
a criterion, ``optimizer.zero_grad()`` / ``loss.backward()`` / ``optimizer.step()``, and a
``loss.item()`` print every 100 steps (to a sink here, so terminal speed does not count).
mlplab's side is timed in-process with its imports done beforehand, unless a table says
it timed a whole command.
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# --- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall-clock seconds of repeated runs; ``median`` is what the tables show."""

    times: list[float]
    value: Any = None  # what the last run returned (e.g. a final loss)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def spread(self) -> str:
        return f"{min(self.times):.2f}-{max(self.times):.2f}" if len(self.times) > 1 else ""


def measure(fn: Callable[[], Any], repeats: int = 3) -> Timing:
    """Run ``fn`` ``repeats`` times; time each call with ``time.perf_counter``."""
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return Timing(times, value)


def load_note() -> str:
    """1-, 5- and 15-minute load averages and the core count: other work skews timings."""
    try:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
    except OSError:
        return f"{os.cpu_count()} cores"


def machine_note() -> str:
    import sklearn
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"scikit-learn {sklearn.__version__}; {load_note()}"
    )


# --- tables -------------------------------------------------------------------------------------


def keep_or_remove(root: Path, keep: bool) -> None:
    """A benchmark's records: kept (``--keep``, and said where) or removed."""
    if keep:
        print(f"records kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A markdown table (floats with 3 significant digits)."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def ratio_rows(entries: list[tuple[str, Timing, str]], reference: Timing) -> list[list[Any]]:
    """``[name, median s, spread, ratio to reference, note]`` rows."""
    return [
        [name, t.median, t.spread(), f"{t.median / reference.median:.2f}x", note]
        for name, t, note in entries
    ]


# --- the plain PyTorch loops, as the labs write them ---------------------------------------------


def plain_torch_xor(steps: int = 10001, seed: int = 777) -> float:
    """Lab 08-2 xor-nn: 2-2-1 with a sigmoid after each layer, BCELoss, SGD lr 1, full batch."""
    import torch
    from torch import nn

    sink = io.StringIO()
    torch.manual_seed(seed)
    X = torch.FloatTensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    Y = torch.FloatTensor([[0], [1], [1], [0]])
    model = nn.Sequential(
        nn.Linear(2, 2, bias=True), nn.Sigmoid(), nn.Linear(2, 1, bias=True), nn.Sigmoid()
    )
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1)
    for step in range(steps):
        optimizer.zero_grad()
        hypothesis = model(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()
        if step % 100 == 0:
            print(step, cost.item(), file=sink)
    return cost.item()


def plain_torch_regression(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    hidden: int = 200,
    epochs: int = 4000,
    lr: float = 0.005,
    seed: int = 0,
) -> float:
    """The regression lab's MLP: Linear(2, 200) -> ReLU -> Linear(200, 1), MSE, SGD,
    full-batch epochs, and a validation loss every epoch."""
    import torch
    from torch import nn

    sink = io.StringIO()
    torch.manual_seed(seed)
    X, y = torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train, dtype=torch.float32)
    Xv, yv = torch.tensor(X_val, dtype=torch.float32), torch.tensor(y_val, dtype=torch.float32)
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, y.shape[1]))
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    train_losses, val_losses = [], []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        output = model(X)
        loss = criterion(output, y)
        loss.backward()
        optimizer.step()
        train_losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            val_losses.append(criterion(model(Xv), yv).item())
        if epoch % 100 == 0:
            print(epoch, train_losses[-1], val_losses[-1], file=sink)
    return val_losses[-1]


def plain_torch_classifier(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    hidden: tuple[int, ...] = (256, 128),
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 0.001,
    seed: int = 0,
) -> float:
    """The MNIST-style lab: DataLoader over a TensorDataset, Adam, CrossEntropyLoss, and
    validation accuracy after every epoch. Returns the last validation accuracy."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    sink = io.StringIO()
    torch.manual_seed(seed)
    X, y = torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train, dtype=torch.long)
    Xv, yv = torch.tensor(X_val, dtype=torch.float32), torch.tensor(y_val, dtype=torch.long)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    layers: list[nn.Module] = []
    d = X.shape[1]
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    model = nn.Sequential(*layers, nn.Linear(d, int(y.max()) + 1))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    step, acc = 0, 0.0
    for epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                print(epoch, step, loss.item(), file=sink)
            step += 1
        model.eval()
        with torch.no_grad():
            acc = (model(Xv).argmax(1) == yv).float().mean().item()
    return acc
