"""Which configs may train together as one stacked model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlplab.config import Config

# Settings in which the models of one stack may differ. Everything else (data, layer
# sizes, activation, optimizer kind, batch schedule, dtype, device, ...) must be equal.
FREE_SETTINGS = frozenset(
    {
        "seed",
        "lr",
        "mm",
        "l2_coef",
        "dp_rate",
        "init",
        "use_xavier",
        "lr_schedule",
        "lr_gamma",
        "lr_step",
        "exp_name",
        "log_path",
        "model_name",
        "plots",
    }
)

DEFAULT_MAX_GROUP = 256


# --- grouping ------------------------------------------------------------------------------


def _frozen(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def group_key(cfg: Config) -> tuple[Any, ...]:
    """Configs with equal keys can train as one stack.

    The key is every setting outside :data:`FREE_SETTINGS` (data, model shape, optimizer
    kind, epochs and batch schedule, dtype, engine, device), so equal keys mean equal
    data, equal layer widths and equal batch schedules.
    """
    return tuple((k, _frozen(v)) for k, v in cfg.to_dict().items() if k not in FREE_SETTINGS)


def group_indices(configs: Sequence[Config], max_group: int) -> list[list[int]]:
    """Indices of ``configs`` in groups of at most ``max_group`` with equal :func:`group_key`.

    Groups keep the configs' order, and come in the order of their first config.
    """
    if max_group < 1:
        raise ValueError(f"max_group must be >= 1, got {max_group}")
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for i, cfg in enumerate(configs):
        by_key.setdefault(group_key(cfg), []).append(i)
    groups: list[list[int]] = []
    for idx in by_key.values():
        groups.extend(idx[j : j + max_group] for j in range(0, len(idx), max_group))
    return groups
