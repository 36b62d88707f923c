"""Metrics from a model's outputs: accuracy, balanced accuracy and F1 for classes,
MAE/MSE/RMSE/R² for regression."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
            # The less likely class's as the sigmoid of -|logit|, and the other's as 1 minus
            # it: 1 - p of a sure positive (logit 37) was 0.0 exactly, where its log
            # (predict_log_proba's) is -37; and the two still sum to 1.
            small = 1.0 / (1.0 + np.exp(np.abs(logit)))
        big = 1.0 - small
        positive = logit >= 0
        return np.stack([np.where(positive, small, big), np.where(positive, big, small)], axis=1)
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
      in ``true`` (``f1_score(labels=np.unique(true), average='macro')``), as ``bacc``'s
      mean is: a class the split lacks counts in neither, even where the model predicts
      it (those rows still lower the F1 of their true class). scikit-learn's plain
      ``average='macro'`` would count such a class as a 0, so that a run which predicts
      a class the validation rows lack would rank lower by ``val_f1`` for that alone.

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
    seen = [1] if average == "binary" else present
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


# A record's key for each target's own numbers (several regression targets):
# ``{"flow": {"train_mae": ..., "test_r2": ...}, ...}``, one dict, so that a report, which
# makes a column of each number of a record, is not given a column per target and metric.
TARGET_METRICS = "target_metrics"


def target_metrics(
    y: np.ndarray, outputs: np.ndarray, names: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Each target's MAE, MSE, RMSE and R² (:func:`regression_metrics` of its column), by
    name: ``{name: {"mae": ..., "mse": ..., "rmse": ..., "r2": ...}}``."""
    y = np.asarray(y).reshape(len(y), -1)
    out = np.asarray(outputs).reshape(len(y), -1)
    return {name: regression_metrics(y[:, t], out[:, t]) for t, name in enumerate(names)}


def target_names_of(n_targets: int, names: Sequence[str] = ()) -> list[str]:
    """The targets' names, or ``y1``, ``y2``, ... where ``names`` do not name each."""
    return list(names) if len(names) == n_targets else [f"y{t + 1}" for t in range(n_targets)]


def final_metrics(
    backend: Backend,
    task: str,
    targets: Mapping[str, np.ndarray],
    rows: Sequence[int] | np.ndarray,
    batch_size: int = 0,
    units: Callable[[np.ndarray], np.ndarray] = lambda out: out,
    target_names: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """The stack ``rows``' final numbers, ``{train_loss, train_acc, ..., test_f1}`` each,
    and their outputs on the training rows: evaluation mode, as a run's record has them.
    ``units`` maps a regression's outputs back from a scaled target (the losses stay the
    engine's). A split of no rows (a run split ``0.9 0.1 0``, without a test split) has no
    numbers: its keys are left out, as a record leaves them out. A regression of several
    targets also gets each target's numbers under :data:`TARGET_METRICS`, by its name in
    ``target_names``: the averaged MAE and MSE add up targets of other units."""
    finals: list[dict[str, Any]] = [{} for _ in rows]
    train_out: list[np.ndarray] = []
    y_train = np.asarray(targets["train"])
    n_targets = y_train.shape[1] if task == "regression" and y_train.ndim == 2 else 1
    names = target_names_of(n_targets, target_names)
    by_target: list[dict[str, dict[str, float]]] = [{n: {} for n in names} for _ in rows]
    for split in ("train", "val", "test"):
        if len(targets[split]) == 0:
            continue
        losses, outputs = backend.evaluate(split, batch_size)
        for j, r in enumerate(rows):
            finals[j][f"{split}_loss"] = float(losses[r])
            out = units(outputs[r])
            for k, v in split_metrics(task, targets[split], out).items():
                finals[j][f"{split}_{k}"] = v
            if n_targets > 1:
                for name, m in target_metrics(targets[split], out, names).items():
                    by_target[j][name].update({f"{split}_{k}": v for k, v in m.items()})
            if split == "train":
                train_out.append(outputs[r])
    if n_targets > 1:
        for j in range(len(rows)):
            finals[j][TARGET_METRICS] = by_target[j]
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


# Targets whose MSEs differ by this factor or more: the averaged MAE and MSE, and a ranking
# by them, are mostly the largest one's (a flow in m³/s beside a sediment load in kg).
TARGET_MSE_SPREAD = 100.0


def unequal_targets(by_target: object, split: str = "val") -> tuple[str, str, float, str] | None:
    """``(largest, smallest, ratio, split)``: the targets of largest and smallest MSE in a
    record's :data:`TARGET_METRICS` (``split``'s, or train's where it has none) and how
    many times the one is the other, where that is :data:`TARGET_MSE_SPREAD` or more; else
    None (one target, a record without them, or targets of like scale)."""
    if not isinstance(by_target, dict) or len(by_target) < 2:
        return None
    for which in dict.fromkeys((split, "train")):
        got = {str(n): m.get(f"{which}_mse") for n, m in by_target.items() if isinstance(m, dict)}
        mse = {n: float(v) for n, v in got.items() if isinstance(v, int | float)}
        if len(mse) < len(by_target) or not all(math.isfinite(v) and v >= 0 for v in mse.values()):
            continue  # no such split (0.9 0.1 0 has no test), or an edited record
        largest, smallest = max(mse, key=mse.__getitem__), min(mse, key=mse.__getitem__)
        hi, lo = mse[largest], mse[smallest]
        if hi > 0 and (lo == 0 or hi / lo >= TARGET_MSE_SPREAD):
            return largest, smallest, (hi / lo if lo else math.inf), which
        return None
    return None
