"""The training loop: one plain function with labelled phases.

Everything that watches a run (printing, TensorBoard, checkpoints, snapshots, signals)
lives in a :class:`Hooks` object that the loop calls at fixed points; the loop itself only
orders the data, steps the engine, validates, schedules the learning rate and decides
when to stop. All of its state is in :class:`LoopState`, which a checkpoint stores, so a
run resumed mid-epoch continues exactly where it stopped.

Units: ``log_every`` and ``snapshot_every`` count optimizer steps; ``validate_every``,
``save_every`` and ``patience`` count epochs (``patience`` counts validations).

The curves are taken where validation runs (every ``validate_every`` epochs, and at the
last). The train loss and train accuracy/MAE of an epoch come from its own training steps,
before each update, as the lecture's loop accumulates them from the batch outputs: no
extra forward pass over the training split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.engines.backend import Backend
from mlplab.errors import RunDiverged
from mlplab.training.metrics import curve_metric


@dataclass(frozen=True)
class Schedule:
    """How long and how often: the schedule settings of a config, as plain values."""

    epoch: int
    batch_size: int = 0
    test_batch_size: int = 0
    log_every: int = 100
    validate_every: int = 1
    save_every: int = 0
    patience: int = 0
    snapshot_every: int = 0
    lr: float = 0.01
    lr_schedule: str = "none"
    lr_gamma: float = 0.1
    lr_step: int = 30


@dataclass
class History:
    """The curves, as the lecture's ``experiment()`` collects them, one entry per validation.

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
    """Everything needed to continue a run exactly (saved in every checkpoint)."""

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
        # Shallow on purpose: the caller serializes at once, and dataclasses.asdict would
        # deep-copy curves of 10,000+ floats at every checkpoint.
        d = dict(vars(self))
        d["history"] = dict(vars(self.history))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoopState:
        d = dict(d)
        d["history"] = History(**d["history"])
        return cls(**d)


class Hooks:
    """Points where features attach to the loop. The base class does nothing."""

    def on_step(self, state: LoopState, loss: float) -> None: ...

    def on_validate(self, state: LoopState, improved: bool) -> None: ...

    def on_epoch_end(self, state: LoopState) -> None: ...

    def on_save(self, state: LoopState) -> None: ...

    def should_stop(self) -> bool:
        """Polled every step (e.g. a signal arrived); the loop returns at a step boundary."""
        return False


def lr_at(epoch: int, s: Schedule) -> float:
    """Learning rate for 0-based ``epoch`` under the schedule (set once per epoch)."""
    if s.lr_schedule == "cosine":
        return s.lr * 0.5 * (1 + math.cos(math.pi * epoch / s.epoch))
    if s.lr_schedule == "exponential":
        return s.lr * s.lr_gamma**epoch
    if s.lr_schedule == "step":
        return s.lr * s.lr_gamma ** (epoch // s.lr_step)
    return s.lr


def batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray | None]:
    """One epoch's minibatch indices; ``[None]`` (no copy, no shuffle) for full batch."""
    if batch_size <= 0 or batch_size >= n:
        return [None]
    order = rng.permutation(n)
    out: list[np.ndarray | None] = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if len(order) % batch_size == 1:
        # A last batch of one row would fail in BatchNorm (no variance over one row) and
        # gives one noisy step anyway; it joins the batch before it.
        out[-2:] = [order[len(order) - batch_size - 1 :]]
    return out


def fit(
    backend: Backend,
    task: str,
    y_train: np.ndarray,
    y_val: np.ndarray,
    schedule: Schedule,
    order_rng: np.random.Generator,
    hooks: Hooks | None = None,
    state: LoopState | None = None,
) -> LoopState:
    """Train ``backend`` for ``schedule.epoch`` epochs (or until early stop / a stop request).

    ``y_train``/``y_val`` are only used for the accuracy/MAE curves; the engine already
    holds the data. Pass ``state`` (from a checkpoint) to resume; ``order_rng`` is then
    reset to the saved state of the interrupted epoch. Raises :class:`RunDiverged` on a
    NaN or inf loss. Returns the final state; ``hooks.should_stop()`` returns early.
    """
    hooks = hooks or Hooks()
    state = state or LoopState()
    s = schedule
    h = state.history
    n_train = len(y_train)
    # Hooks see a step when it is a multiple of log_every or snapshot_every.
    hook_every = math.gcd(s.log_every, s.snapshot_every)

    while state.epoch < s.epoch:
        # --- epoch start: learning rate and data order -----------------------------------
        lr = lr_at(state.epoch, s)
        backend.set_lr(lr)
        if state.batch_in_epoch == 0:
            state.order_rng = dict(order_rng.bit_generator.state)
        else:  # resuming mid-epoch: replay this epoch's order from its saved start
            assert state.order_rng is not None  # saved at the start of every epoch
            order_rng.bit_generator.state = state.order_rng
        epoch_batches = batches(n_train, s.batch_size, order_rng)
        validates = (state.epoch + 1) % s.validate_every == 0 or state.epoch + 1 == s.epoch

        # --- steps -------------------------------------------------------------------------
        for idx in epoch_batches[state.batch_in_epoch :]:
            if hooks.should_stop():
                if state.batch_in_epoch == 0:
                    # This epoch's order was drawn but not used: rewind, so a checkpoint
                    # taken now holds the same RNG state as one taken at the epoch's end.
                    assert state.order_rng is not None
                    order_rng.bit_generator.state = state.order_rng
                return state
            loss = backend.train_step(idx)
            if not math.isfinite(loss):
                raise RunDiverged(state.step, loss, lr)
            rows = n_train if idx is None else len(idx)
            state.epoch_loss_sum += loss * rows
            if validates:  # the train curve's acc/MAE, from this step's own outputs
                y = y_train if idx is None else y_train[idx]
                state.epoch_metric_sum += curve_metric(task, y, backend.step_outputs()) * rows
            state.epoch_rows += rows
            state.batch_in_epoch += 1
            if hook_every and state.step % hook_every == 0:
                hooks.on_step(state, loss)
            state.step += 1

        # --- epoch end: curves ----------------------------------------------------------------
        state.epoch += 1
        rows = max(state.epoch_rows, 1)
        state.last_epoch_loss = state.epoch_loss_sum / rows
        train_metric = state.epoch_metric_sum / rows
        state.batch_in_epoch, state.epoch_loss_sum, state.epoch_rows = 0, 0.0, 0
        state.epoch_metric_sum = 0.0

        # --- validate ---------------------------------------------------------------------------
        if validates:
            val_loss, val_out = backend.evaluate("val", s.test_batch_size)
            h.val_epochs.append(state.epoch)
            h.train_losses.append(state.last_epoch_loss)
            h.lrs.append(lr)
            h.val_losses.append(val_loss)
            h.val_metrics.append(curve_metric(task, y_val, val_out))
            h.train_metrics.append(train_metric)
            improved = val_loss < h.best_val_loss
            if improved:
                h.best_val_loss, h.best_epoch, state.bad_validations = val_loss, state.epoch, 0
            else:
                state.bad_validations += 1
            hooks.on_validate(state, improved)
            if s.patience and state.bad_validations >= s.patience:
                state.stopped_early = True

        hooks.on_epoch_end(state)

        # --- save -------------------------------------------------------------------------------
        if s.save_every and state.epoch % s.save_every == 0:
            hooks.on_save(state)
        if state.stopped_early:
            break
    return state
