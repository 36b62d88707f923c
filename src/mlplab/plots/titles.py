"""The words of a run plot's title: the dataset, the model and its test metric."""

from __future__ import annotations

from typing import Any

from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.plots.inputs import MAX_POINTS as MAX_POINTS  # re-exported
from mlplab.plots.inputs import (
    DataInfo,
)
from mlplab.plots.inputs import confusion_counts as confusion_counts  # re-exported
from mlplab.plots.labels import short_label, short_labels
from mlplab.plots.style import (
    display_name,
    model_label,
)

DataLike = Dataset | DataInfo  # the label helpers read only names and the task

# The record's key that says which checkpoint the pictures show, where not the last model:
# the titles' metrics are then that model's, not the record's.
DRAWN_CHECKPOINT = "drawn_checkpoint"


def scored_split(result: dict[str, Any]) -> str:
    """The split whose metric the titles give: test, or val for a run without test rows
    (split 0.9 0.1 0: its record has ``n_test`` 0 and no test metrics)."""
    return "val" if result.get("n_test") == 0 else "test"


def metric_text(result: dict[str, Any], task: str) -> str:
    """The test metric for titles, e.g. ``test acc 1.000`` or ``test MAE 0.412, R² 0.93``;
    ``val acc 0.950`` for a run without a test split (:func:`scored_split`).

    A diverged run has no test metrics, and ``mlplab plot`` draws its best model, from
    before the loss blew up: the title says both, e.g. ``diverged; best model (epoch 3)``.
    """
    if result.get("status") == "diverged":
        best = result.get("best_epoch")
        return "diverged" + (f"; best model (epoch {best})" if best else "")
    if result.get(DRAWN_CHECKPOINT) == "best":  # `mlplab plot --checkpoint best`
        head = best_model_text(result)
        split = scored_split(result)
        if not any(k.startswith(f"{split}_") for k in result):  # no rows to measure it on
            return head
        return f"{head}, {metric_text({**result, DRAWN_CHECKPOINT: None}, task)}"
    split = scored_split(result)
    if task == "regression":
        parts = []
        if result.get(f"{split}_mae") is not None:
            parts.append(f"{split} MAE {result[f'{split}_mae']:.4g}")
        if result.get(f"{split}_r2") is not None:
            r2 = result[f"{split}_r2"]  # far below 0 for a model worse than the mean: short
            parts.append(f"R² {r2:.3f}" if abs(r2) < 1000 else f"R² {r2:.3g}")
        return ", ".join(parts) or f"{split} MAE n/a"
    acc = result.get(f"{split}_acc")
    return f"{split} acc {acc:.3f}" if acc is not None else f"{split} acc n/a"


def best_model_text(result: dict[str, Any]) -> str:
    """``best model (epoch 40)``: whose weights the pictures of ``--checkpoint best`` show."""
    best = result.get("best_epoch")
    return f"best model (epoch {best})" if best else "best model"


def title_head(data: DataLike, result: dict[str, Any], spec: ModelSpec | None) -> str:
    """``dataset · model``, the first line of every run plot's title."""
    return f"{display_name(data.name)} · {model_label(result, spec)}"


def output_names(data: DataLike) -> list[str]:
    """Names of the model's outputs: the positive class, each class, or each target."""
    if data.task == "binary":
        return [f"P({(data.class_names or ['0', '1'])[1]})"]
    if data.task == "multiclass":
        return list(data.class_names or [])
    return list(data.target_names)


def class_names(data: DataLike, n: int) -> list[str]:
    """The class names as ticks, legends and colour bars show them (long ones shortened)."""
    names = list(data.class_names or [])
    return short_labels(names) if len(names) == n else [str(i) for i in range(n)]


def target_name(data: DataLike, t: int) -> str:
    names = list(data.target_names)
    return short_label(names[t]) if t < len(names) else f"y{t}"


def feature_name(data: DataLike) -> str:
    """The first feature's name, as an axis shows it (``x`` where the data has none)."""
    return short_label([*data.feature_names, "x"][0])


def regression_text(result: dict[str, Any], n_panels: int) -> str:
    """The record's test metrics; with several targets, said to be their mean."""
    text = metric_text(result, "regression")
    shown = n_panels > 1 and scored_split(result) in text
    return text + " (mean over targets)" if shown else text


def target_text(
    result: dict[str, Any], by_target: list[dict[str, float]] | None, t: int, n_targets: int
) -> str:
    """Test metrics for a plot of target ``t`` alone: its own where there are several
    targets (the record's are their mean, which would pass for this target's)."""
    if by_target and len(by_target) > 1 and result.get("status") != "diverged":
        m = by_target[t]
        split = scored_split(result)
        own = {f"{split}_mae": m["mae"], f"{split}_r2": m["r2"], "n_test": result.get("n_test")}
        return metric_text(own, "regression")
    return regression_text(result, n_targets)
