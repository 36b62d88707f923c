"""Metrics from a model's outputs: accuracy, balanced accuracy and F1 for classes,
MAE/MSE/RMSE/R² for regression."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mlplab.engines.backend import Backend

# At or below this logit, sigmoid is 0.5 to float32 precision (0.5 + z/4 rounds to 0.5): a tie,
# which is class 0, as the labs decide (`hypothesis > 0.5` on a float32 probability). By the
# logit's sign, the stuck perceptron's ties (logits of about 1e-8, rounding noise) scored
# 0.75 on one engine and 0.25 on the other, where the lab prints 0.5.
TIE_LOGIT = 2.0**-23


def predicted_classes(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class indices from logits: P(class 1) > 0.5 in float32 (:data:`TIE_LOGIT`), or argmax."""
    if task == "binary":
        return (outputs[:, 0] > TIE_LOGIT).astype(np.int64)
    return outputs.argmax(axis=1)


def untied(logits: np.ndarray) -> np.ndarray:
    """Binary logits with :func:`predicted_classes`' ties set to 0: such a logit is float32's
    rounding noise, so its P is 0.5 exactly, and the likelier class of the probabilities
    is the predicted one (class 0 on a tie) rather than class 1 by 1e-8."""
    return np.where(np.abs(logits) <= TIE_LOGIT, 0.0, logits)


def probabilities(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class probabilities [N, C] from logits (C = 2 for binary)."""
    if task == "binary":
        logit = untied(outputs[:, 0])
        # A logit below about -709 (-88 in float32) overflows exp to inf, and 1 / inf is 0,
        # the probability's limit: right, so no warning (a diverged model's logits are huge).
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(-logit))
        return np.stack([1 - p, p], axis=1)
    z = outputs - outputs.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def true_classes(task: str, y: np.ndarray) -> np.ndarray:
    return y[:, 0].astype(np.int64) if task == "binary" else y.astype(np.int64)


def accuracy(task: str, y: np.ndarray, outputs: np.ndarray) -> float:
    return float((predicted_classes(task, outputs) == true_classes(task, y)).mean())


def class_metrics(
    true: np.ndarray, pred: np.ndarray, n_classes: int, average: str = "macro"
) -> dict[str, float]:
    """Balanced accuracy and F1 of class indices ``true`` and ``pred`` (``[N]`` ints in
    ``[0, n_classes)``), as scikit-learn defines them, from the confusion counts.

    - ``bacc``: the mean recall over the classes present in ``true``
      (``balanced_accuracy_score``); a class that is only predicted is left out, as there;
    - ``f1``: with ``average="binary"`` (a binary task), the F1 of class 1, the positive
      one (``f1_score``'s default); with ``"macro"``, the mean F1 over the classes present
      in ``true`` or ``pred`` (``f1_score(average='macro')``).

    Where scikit-learn warns and scores 0 (no row of class 1 in ``true`` nor ``pred``: a
    binary F1 of 0 / 0), this is 0 without a warning: a split with no positive row has
    found none. Written with NumPy for the reason :func:`regression_metrics` gives.
    """
    counts = np.bincount(true * n_classes + pred, minlength=n_classes**2)
    counts = counts.reshape(n_classes, n_classes)  # [true class, predicted class]
    hits = np.diag(counts).astype(np.float64)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    present = support > 0
    # F1 = 2 tp / (2 tp + fp + fn), and support + predicted = 2 tp + fn + fp.
    both = support + predicted
    f1 = 2 * hits / np.where(both > 0, both, 1)
    seen = [1] if average == "binary" else both > 0
    return {  # NaN only for a split of no rows
        "bacc": float((hits[present] / support[present]).mean()) if present.any() else math.nan,
        "f1": float(f1[seen].mean()) if len(true) else math.nan,
    }


def regression_metrics(y: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """MAE, MSE, RMSE and R² (averaged uniformly over targets), as scikit-learn defines them.

    With several targets, RMSE is the mean of the targets' RMSEs, as scikit-learn's
    ``root_mean_squared_error`` gives it, not the root of the mean MSE.

    Written with NumPy rather than imported from ``sklearn.metrics`` because importing
    scikit-learn costs more than training a lab-sized model; the tests check these
    against scikit-learn's functions.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    out = np.asarray(outputs, dtype=np.float64).reshape(len(y), -1)
    err = y - out
    ss_res = (err**2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    # scikit-learn's convention: a constant target scores 1.0 if predicted exactly, else 0.0.
    r2 = np.where(
        ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0)
    )
    return {
        "mae": float(np.abs(err).mean()),
        "mse": float((err**2).mean()),
        "rmse": float(np.sqrt((err**2).mean(axis=0)).mean()),
        "r2": float(r2.mean()) if len(y) > 1 else float("nan"),
    }


def mae(y: np.ndarray, outputs: np.ndarray) -> float:
    return float(np.abs(y - outputs).mean())


def curve_metric_name(task: str) -> str:
    """The metric drawn next to the loss: accuracy for classes, MAE for regression."""
    return "mae" if task == "regression" else "acc"


def split_metrics(task: str, y: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """A split's final numbers: ``acc``, ``bacc`` and ``f1`` (:func:`class_metrics`) for
    classes, ``mae``, ``mse``, ``rmse`` and ``r2`` for regression."""
    if task == "regression":
        return regression_metrics(y, outputs)
    true, pred = true_classes(task, y), predicted_classes(task, outputs)
    n, average = (2, "binary") if task == "binary" else (outputs.shape[1], "macro")
    return {"acc": float((pred == true).mean()), **class_metrics(true, pred, n, average)}


def final_metrics(
    backend: Backend,
    task: str,
    targets: Mapping[str, np.ndarray],
    rows: Sequence[int] | np.ndarray,
    batch_size: int = 0,
    units: Callable[[np.ndarray], np.ndarray] = lambda out: out,
) -> tuple[list[dict[str, float]], list[np.ndarray]]:
    """The stack ``rows``' final numbers, ``{train_loss, train_acc, ..., test_f1}`` each,
    and their outputs on the training rows: evaluation mode, as a run's record has them.
    ``units`` maps a regression's outputs back from a scaled target (the losses stay the
    engine's). A split of no rows (a run split ``0.9 0.1 0``, without a test split) has no
    numbers: its keys are left out, as a record leaves them out."""
    finals: list[dict[str, float]] = [{} for _ in rows]
    train_out: list[np.ndarray] = []
    for split in ("train", "val", "test"):
        if len(targets[split]) == 0:
            continue
        losses, outputs = backend.evaluate(split, batch_size)
        for j, r in enumerate(rows):
            finals[j][f"{split}_loss"] = float(losses[r])
            for k, v in split_metrics(task, targets[split], units(outputs[r])).items():
                finals[j][f"{split}_{k}"] = v
            if split == "train":
                train_out.append(outputs[r])
    return finals, train_out


def batch_metrics(task: str, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The curve's metric (:func:`curve_metric_name`) of each model of a stack, ``[K]`` float64.

    ``out`` is ``[K, B, out_dim]``; ``y`` holds the rows all models share (``[B, ...]``)
    or each model's own minibatch (``[K, B, ...]``).
    """
    b = out.shape[1]
    if task == "regression":
        yy = np.asarray(y, dtype=np.float64).reshape(-1, b, out.shape[2])
        return np.abs(yy - out).mean(axis=(1, 2))
    if task == "binary":
        true = np.asarray(y)[..., 0].astype(np.int64) == 1
        return np.add.reduce((out[:, :, 0] > TIE_LOGIT) == true, axis=1, dtype=np.float64) / b
    true = np.asarray(y).astype(np.int64)
    return np.add.reduce(out.argmax(axis=2) == true, axis=1, dtype=np.float64) / b
