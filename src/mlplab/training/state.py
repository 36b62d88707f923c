"""The loop's state: each model's curves and place in the data, enough to continue exactly.

:class:`StackState` is what :func:`mlplab.training.loop.fit` keeps for K models;
:class:`LoopState` is one model's share of it, as a checkpoint stores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass
class History:
    """One model's curves, as the lecture's ``experiment()`` collects them.

    All lists are aligned with ``val_epochs``; with ``validate_every: 1`` (the default)
    that is one entry per epoch.
    """

    val_epochs: list[int] = field(default_factory=list)  # epochs (1-based) at which val ran
    train_losses: list[float] = field(default_factory=list)  # that epoch's mean batch loss
    val_losses: list[float] = field(default_factory=list)
    train_metrics: list[float] = field(default_factory=list)  # acc or MAE of its batches
    val_metrics: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    best_val_loss: float = math.inf
    best_epoch: int = 0


@dataclass
class LoopState:
    """One model's place in the loop: what its checkpoint keeps to continue exactly."""

    epoch: int = 0  # completed epochs
    step: int = 0  # completed optimizer steps
    batch_in_epoch: int = 0  # batches already done in the current epoch
    epoch_loss_sum: float = 0.0  # sum of row-weighted batch losses in the current epoch
    epoch_metric_sum: float = 0.0  # same for acc/MAE (only in epochs that validate)
    epoch_rows: int = 0
    last_epoch_loss: float = 0.0  # mean batch loss of the last completed epoch
    order_rng: dict[str, Any] | None = None  # data-order RNG state at the current epoch's start
    bad_validations: int = 0
    stopped_early: bool = False
    history: History = field(default_factory=History)

    def to_dict(self) -> dict[str, Any]:
        # Without the curves: a checkpoint names the file that holds them (10,001 points
        # per curve as JSON made each checkpoint ~650 KB).
        h = self.history
        return {
            **vars(self),
            "history": {"best_val_loss": h.best_val_loss, "best_epoch": h.best_epoch},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], curves: dict[str, Any] | None = None) -> LoopState:
        # curves: History's lists, read from curves.npz where d (a checkpoint's) lacks them
        return cls(**{**d, "history": History(**d["history"], **(curves or {}))})


CURVES = ("train_losses", "val_losses", "train_metrics", "val_metrics", "lrs")


class Curves:
    """Every model's curves as ``[validation, model]`` float64 arrays that grow as needed.

    Lists of Python floats per model would take 4x the memory: 256 models x 10001
    validations x 5 curves would be ~400 MB. A model that left the stack keeps its count
    in ``n[id]``; the rows after it are never read for it.
    """

    def __init__(self, k_total: int, capacity: int = 64) -> None:
        self.arrays = {c: np.zeros((capacity, k_total)) for c in CURVES}
        self.val_epochs: list[int] = []
        self.n = np.zeros(k_total, dtype=np.int64)

    def append(self, epoch: int, ids: Array, values: dict[str, Array]) -> None:
        v = len(self.val_epochs)
        if v == len(self.arrays["lrs"]):
            for c, a in self.arrays.items():
                grown = np.zeros((2 * len(a), a.shape[1]))
                grown[: len(a)] = a
                self.arrays[c] = grown
        whole = len(ids) == self.arrays["lrs"].shape[1]
        cols: Any = slice(None) if whole else ids  # a slice writes without fancy indexing
        for c, vals in values.items():
            self.arrays[c][v, cols] = vals
        self.val_epochs.append(epoch)
        self.n[ids] = v + 1

    def of_model(self, model_id: int) -> dict[str, Array]:
        """One model's curves as arrays (copies) by :class:`History` field, ``val_epochs``
        (int64) included: what a record writes, with no detour through Python lists."""
        n = int(self.n[model_id])
        out = {c: self.arrays[c][:n, model_id].copy() for c in CURVES}
        return {"val_epochs": np.array(self.val_epochs[:n], dtype=np.int64), **out}


@dataclass
class StackState:
    """Everything :func:`fit` needs to continue K models exactly; arrays are by model id.

    ``ids`` lists the models still training, in stack row order. The position in the
    data (epoch, step, batch) is shared: the models of a stack step together.
    """

    ids: Array
    order_rngs: list[np.random.Generator]  # each model's data-order stream, by id
    epoch: int = 0
    step: int = 0
    batch_in_epoch: int = 0
    epoch_rows: int = 0
    epoch_start: list[dict[str, Any] | None] = field(default_factory=list)
    loss_sum: Array = field(default_factory=lambda: np.zeros(0))
    metric_sum: Array = field(default_factory=lambda: np.zeros(0))
    last_epoch_loss: Array = field(default_factory=lambda: np.zeros(0))
    bad: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    best_val: Array = field(default_factory=lambda: np.zeros(0))
    best_epoch: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stopped_early: Array = field(default_factory=lambda: np.zeros(0, dtype=bool))
    curves: Curves = field(default_factory=lambda: Curves(0))
    # Where each model that left the stack ended: (epoch, step, batch_in_epoch, epoch_rows).
    ended: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)

    def leave(self, ids: Array) -> None:
        """Note where the models ``ids`` end, before the others step on."""
        for k in ids:
            self.ended[int(k)] = (self.epoch, self.step, self.batch_in_epoch, self.epoch_rows)

    @classmethod
    def fresh(cls, order_rngs: list[np.random.Generator]) -> StackState:
        k = len(order_rngs)
        return cls(
            ids=np.arange(k),
            order_rngs=order_rngs,
            epoch_start=[None] * k,
            loss_sum=np.zeros(k),
            metric_sum=np.zeros(k),
            last_epoch_loss=np.zeros(k),
            bad=np.zeros(k, dtype=np.int64),
            best_val=np.full(k, math.inf),
            best_epoch=np.zeros(k, dtype=np.int64),
            stopped_early=np.zeros(k, dtype=bool),
            curves=Curves(k),
        )

    @classmethod
    def resumed(cls, loops: list[LoopState], order_rngs: list[np.random.Generator]) -> StackState:
        """The state of models restored from their checkpoints, all at one position."""
        first = loops[0]
        where = {(s.epoch, s.step, s.batch_in_epoch, s.epoch_rows) for s in loops}
        if len(where) != 1 or any(s.history.val_epochs != first.history.val_epochs for s in loops):
            raise ValueError("models resumed in one stack must stand at the same step")
        st = cls.fresh(order_rngs)
        st.epoch, st.step = first.epoch, first.step
        st.batch_in_epoch, st.epoch_rows = first.batch_in_epoch, first.epoch_rows
        for k, s in enumerate(loops):
            h = s.history
            st.epoch_start[k] = s.order_rng
            st.loss_sum[k], st.metric_sum[k] = s.epoch_loss_sum, s.epoch_metric_sum
            st.last_epoch_loss[k], st.bad[k] = s.last_epoch_loss, s.bad_validations
            st.best_val[k], st.best_epoch[k] = h.best_val_loss, h.best_epoch
            st.stopped_early[k] = s.stopped_early
        for j, epoch in enumerate(first.history.val_epochs):
            st.curves.append(
                epoch,
                st.ids,
                {c: np.array([getattr(s.history, c)[j] for s in loops]) for c in CURVES},
            )
        return st

    def loop_state(self, model_id: int, curves: bool = True) -> LoopState:
        """Model ``model_id``'s state; ``curves=False`` leaves its history's lists empty
        (what a checkpoint stores: the curves go to their own file)."""
        k = model_id
        # A model that left the stack (pruned, stopped early) stands where it ended.
        here = (self.epoch, self.step, self.batch_in_epoch, self.epoch_rows)
        epoch, step, batch_in_epoch, epoch_rows = self.ended.get(k, here)
        arrays = self.curves.of_model(k) if curves else {}
        history = History(
            **{name: a.tolist() for name, a in arrays.items()},
            best_val_loss=float(self.best_val[k]),
            best_epoch=int(self.best_epoch[k]),
        )
        return LoopState(
            epoch=epoch,
            step=step,
            batch_in_epoch=batch_in_epoch,
            epoch_loss_sum=float(self.loss_sum[k]),
            epoch_metric_sum=float(self.metric_sum[k]),
            epoch_rows=epoch_rows,
            last_epoch_loss=float(self.last_epoch_loss[k]),
            order_rng=self.epoch_start[k],
            bad_validations=int(self.bad[k]),
            stopped_early=bool(self.stopped_early[k]),
            history=history,
        )
