"""The training loop: one plain function with labelled phases, over K models at once.

:func:`fit` trains a stack of K same-shaped models (a single run is K = 1): it orders
the data, steps the engine, validates, schedules the learning rates and decides when each
model stops. Early stopping, divergence, interruption and pruning act per model: a model
that is done leaves the stack, and the others go on. Whatever records or shows a run
subscribes to the loop's events (:mod:`mlplab.training.events`); the loop itself knows no
files, terminals or plots. All of its state is in :class:`StackState`, from which each
model's checkpointable :class:`LoopState` is taken, so a run resumed mid-epoch continues
exactly where it stopped.

Units: ``log_every`` and ``snapshot_every`` count optimizer steps; ``validate_every``,
``save_every`` and ``patience`` count epochs (``patience`` counts validations).

The curves are taken where validation runs (every ``validate_every`` epochs, and at the
last). The train loss and train accuracy/MAE of an epoch come from its own training steps,
before each update, as the lecture's loop accumulates them from the batch outputs: no
extra forward pass over the training split.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.engines.backend import Backend
from mlplab.errors import PruneError, RunDiverged
from mlplab.training.events import (
    End,
    Event,
    Models,
    Prune,
    Save,
    Start,
    Step,
    Subscriber,
    Validate,
)
from mlplab.training.metrics import batch_metrics, final_metrics
from mlplab.training.state import CURVES, Curves, History, LoopState, StackState

if TYPE_CHECKING:
    from mlplab.data.dataset import Dataset

__all__ = [
    "CURVES",
    "Curves",
    "History",
    "LoopState",
    "LrSchedule",
    "Schedule",
    "StackState",
    "batch_bounds",
    "fit",
    "lrs_at",
]

Array = np.ndarray


@dataclass(frozen=True)
class Schedule:
    """How long and how often: the schedule settings shared by every model of a stack."""

    epoch: int
    batch_size: int = 0
    test_batch_size: int = 0
    log_every: int = 100
    validate_every: int = 1
    save_every: int = 0
    patience: int = 0
    min_delta: float = 0.0  # how much lower a validation loss must be to count as better
    snapshot_every: int = 0
    progress_every: int = 0  # steps between Step events for a progress bar (0: none)


@dataclass(frozen=True)
class LrSchedule:
    """One model's learning rate over the epochs: ``lr_schedule`` with its settings.

    ``kind`` is none, cosine, exponential or step; ``gamma`` and ``step`` are
    ``lr_gamma`` and ``lr_step``.
    """

    lr: float
    kind: str = "none"
    gamma: float = 0.1
    step: int = 30

    def at(self, epoch: int, epochs: int) -> float:
        """The rate for 0-based ``epoch`` of ``epochs`` (set once per epoch)."""
        return float(lrs_at(epoch, epochs, [self])[0])


def lrs_at(epoch: int, epochs: int, schedules: Sequence[LrSchedule]) -> Array:
    """Each model's learning rate for 0-based ``epoch``, ``[K]`` float64.

    The same operations in the same order for every model, whether it trains alone or in
    a stack, so a stacked model's rates equal its single run's bit for bit.
    """
    lr = np.array([s.lr for s in schedules], dtype=np.float64)
    kinds = [s.kind for s in schedules]
    if all(k == "none" for k in kinds):
        return lr
    out = lr.copy()
    for i, s in enumerate(schedules):
        if s.kind == "cosine":
            out[i] = s.lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        elif s.kind == "exponential":
            out[i] = s.lr * s.gamma**epoch
        elif s.kind == "step":
            out[i] = s.lr * s.gamma ** (epoch // s.step)
    return out


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each minibatch of an epoch of ``n`` rows; one batch when full.

    A last batch of one row would fail in BatchNorm (no variance over one row) and gives
    one noisy step anyway; it joins the batch before it.
    """
    if batch_size <= 0 or batch_size >= n:
        return [(0, n)]
    bounds = [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    if n % batch_size == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def _ruled(rule: Prune, event: Validate, name: str) -> Array:
    """The bool mask over ``event.ids`` that a prune or early-stop ``rule`` returns (one
    bool, for a single model); a rule that raises, or returns no such mask, is a
    :class:`~mlplab.errors.PruneError`."""
    try:
        said = rule(event)
    except Exception as err:
        raise PruneError(
            f"{name}: the rule raised {type(err).__name__}: {err} (at the validation of "
            f"epoch {event.epoch})"
        ) from err
    mask = np.asarray(said)
    if mask.dtype == bool and mask.shape == () and len(event.ids) == 1:  # a single run's
        mask = mask.reshape(1)
    if mask.dtype != bool or mask.shape != event.ids.shape:
        # One bool for a stack of several was spread over them all: a rule written for one
        # model (v.val_metric[0] >= x) cut every model of a search's stack by the first's.
        what = "None (no return?)" if said is None else f"{mask.dtype} of shape {mask.shape}"
        if mask.dtype == bool and mask.shape == ():
            what = f"one bool for {len(event.ids)} models (compare arrays: event.val_loss > x)"
        raise PruneError(
            f"{name} must return a bool mask over the event's ids (shape {event.ids.shape}), "
            f"True for each model to stop; at the validation of epoch {event.epoch} it "
            f"returned {what}"
        )
    return mask


def fit(
    backend: Backend,
    task: str,
    targets: dict[str, Array],
    schedule: Schedule,
    lr_schedules: Sequence[LrSchedule],
    state: StackState,
    subscribers: Sequence[Subscriber] = (),
    should_stop: Callable[[], bool | str] | None = None,
    prune: Prune | None = None,
    names: Sequence[str] = (),
    early_stop: Prune | None = None,
    in_target_units: Callable[[Array], Array] | None = None,
    settings: Sequence[dict[str, Any]] = (),
    dataset: Dataset | None = None,
) -> StackState:
    """Train the models of ``backend`` for ``schedule.epoch`` epochs, or until each stops.

    ``lr_schedules`` has one entry per model id; ``state`` is :meth:`StackState.fresh`
    or :meth:`StackState.resumed`, and is filled in place, so a caller that catches an
    exception still has the curves so far. ``targets`` (``train``, ``val``, ``test``)
    serve the accuracy/MAE curves and final metrics only; the engine holds the data.

    ``should_stop`` is polled before every step (a signal arrived): every model then ends
    ``interrupted`` at that step boundary (a string it returns names the cause in the
    message). ``prune``, given a :class:`Validate` event, returns a bool mask over that
    event's ``ids`` (the models still training), True for each to stop there
    (``pruned``), for searches that drop the weaker rows of a
    stack; a rule that raises, or returns no such mask, raises
    :class:`~mlplab.errors.PruneError`. ``early_stop`` is the same kind of rule for a
    stop of one's own making: the models it names end ``finished`` there, stopped early,
    as ``patience`` ends them. Each model's last event is an :class:`End`.
    ``in_target_units`` maps a regression's outputs back from the scaled target the engine
    trains on (``standardize_target``), so that the MAE, MSE and R² curves and finals are
    in the target's own units, as ``targets`` are; the losses stay the engine's.
    ``names`` (one per model id, e.g. run ids) is what ``event.models.name(id)`` says, and
    ``settings`` (one dict per model id) what ``event.models.settings(id)`` gives, and
    ``dataset`` is ``event.models.dataset`` (the data the engine holds, for a page to draw).
    """
    s = schedule
    y_train, y_val = targets["train"], targets["val"]
    units: Callable[[Array], Array] = in_target_units or (lambda out: out)
    target_names = list(dataset.target_names or []) if dataset is not None else []
    E, n_train = s.epoch, len(y_train)
    models = Models(backend, state, names, settings, dataset)
    full_batch = s.batch_size <= 0 or s.batch_size >= n_train
    bounds = batch_bounds(n_train, s.batch_size)
    # Steps are shown to subscribers at multiples of log_every or progress_every (their
    # printouts give the loss before the update), and once snapshot_every updates are done
    # (a snapshot is of the model after them, as the printout's next line).
    step_every = math.gcd(s.log_every, s.progress_every)
    snap = s.snapshot_every

    def emit(event: Event) -> None:
        for sub in subscribers:
            sub(event)

    # The last scheduled step's outputs (full batch), before its update: what the labs
    # print as Hypothesis, one update before the model that answers `Correct`.
    last_step: list[Array | None] = [None]

    def end(rows: Array, status: str, messages: list[str] | None = None) -> None:
        """Emit End for the models at stack ``rows``, then drop them from the stack."""
        ids = state.ids[rows]
        finals: list[dict[str, Any]] = [{} for _ in rows]
        train_out: list[Array | None] = [None] * len(rows)
        before = last_step[0]
        step_out = [None if before is None else before[r] for r in rows]
        statuses, messages = [status] * len(rows), messages or [""] * len(rows)
        if status != "diverged":
            finals, outs = final_metrics(
                backend, task, targets, rows, s.test_batch_size, units, target_names
            )
            train_out[:] = outs
        if status == "finished":
            # The last step's loss was finite, but its update can still break the weights:
            # a model whose loss is not finite now diverged, as it would at the next step.
            for j, r in enumerate(rows):
                bad = [
                    v for k, v in finals[j].items() if k.endswith("_loss") and not np.isfinite(v)
                ]
                if bad:
                    why = RunDiverged(state.step, bad[0], float(lr[state.ids[r]]))
                    statuses[j], messages[j] = "diverged", str(why)
                    finals[j], train_out[j] = {}, None  # as for a loss that was not finite
        at = (state.epoch, state.step)
        emit(End(models, *at, ids, statuses, messages, finals, train_out, step_out))
        state.leave(ids)
        keep = np.setdiff1d(np.arange(len(state.ids)), rows)
        last_step[0] = None if before is None else before[keep]
        if len(keep):
            backend.keep(keep)
        # When the last models end, the engine keeps them: the caller may still use the
        # trained model (a single run's Result.predict).
        state.ids = state.ids[keep]

    # With no schedule the rates never change: set once, not every epoch (for a lab-sized
    # model, setting them costs as much as a step).
    constant = all(sch.kind == "none" for sch in lr_schedules)
    lr, lr_set = lrs_at(state.epoch, E, lr_schedules), False
    emit(Start(models, state.epoch, state.step, E, task, state.ids.copy()))
    while state.epoch < E and len(state.ids):
        # --- epoch start: learning rates and data order ------------------------------------
        if not constant:
            lr, lr_set = lrs_at(state.epoch, E, lr_schedules), False
        if not lr_set:
            backend.set_lr(lr[state.ids])
            lr_set = True
        order: Array | None = None
        if not full_batch:
            for k in state.ids:
                rng = state.order_rngs[k]
                if state.batch_in_epoch == 0:
                    state.epoch_start[k] = dict(rng.bit_generator.state)
                else:  # resuming mid-epoch: replay this epoch's order from its saved start
                    rng.bit_generator.state = state.epoch_start[k]
            order = np.stack([state.order_rngs[k].permutation(n_train) for k in state.ids])
        validates = (state.epoch + 1) % s.validate_every == 0 or state.epoch + 1 == E

        # --- steps ---------------------------------------------------------------------------
        for start, stop in bounds[state.batch_in_epoch :]:
            why = should_stop() if should_stop is not None else False
            if why:
                if state.batch_in_epoch == 0 and not full_batch:
                    # This epoch's order was drawn but not used: rewind, so a checkpoint
                    # taken now holds the same RNG state as one taken at the epoch's end.
                    for k in state.ids:
                        state.order_rngs[k].bit_generator.state = state.epoch_start[k]
                by = f" by {why}" if isinstance(why, str) else ""
                where = f"interrupted{by} at step {state.step}"
                end(np.arange(len(state.ids)), "interrupted", [where] * len(state.ids))
                return state
            idx = None if order is None else order[:, start:stop]
            losses = backend.train_step(idx)
            outputs = backend.step_outputs() if validates else None
            finite = np.isfinite(losses)
            if not finite.all():
                # A NaN or inf loss ends that model, before its loss is counted.
                bad = np.flatnonzero(~finite)
                messages = [
                    str(RunDiverged(state.step, float(losses[r]), float(lr[state.ids[r]])))
                    for r in bad
                ]
                end(bad, "diverged", messages)
                losses = losses[finite]
                order = None if order is None else order[finite]
                idx = None if idx is None else idx[finite]
                outputs = None if outputs is None else outputs[finite]
                if not len(state.ids):
                    break
            if outputs is not None and full_batch and state.epoch == E - 1:
                last_step[0] = np.array(units(outputs))  # a copy: the engine reuses its buffer
            ids, rows = state.ids, stop - start
            # A slice where every model is still in the stack: fancy indexing costs
            # microseconds a step, which lab-sized models feel.
            sel: Any = slice(None) if len(ids) == len(state.loss_sum) else ids
            state.loss_sum[sel] += losses * rows
            if outputs is not None:  # the train curve's acc/MAE, from this step's outputs
                y = y_train if idx is None else y_train[idx]
                state.metric_sum[sel] += batch_metrics(task, y, units(outputs)) * rows
            state.epoch_rows += rows
            state.batch_in_epoch += 1
            if (step_every and state.step % step_every == 0) or (
                snap and (state.step + 1) % snap == 0
            ):
                emit(Step(models, state.step, state.epoch, ids.copy(), losses))
            state.step += 1
        if not len(state.ids):
            break

        # --- epoch end: curves -----------------------------------------------------------------
        state.epoch += 1
        ids, n_rows = state.ids, max(state.epoch_rows, 1)
        sel = slice(None) if len(ids) == len(state.loss_sum) else ids
        state.last_epoch_loss[sel] = state.loss_sum[sel] / n_rows
        state.loss_sum[sel] = 0.0
        train_metric = state.metric_sum[sel] / n_rows
        state.metric_sum[sel] = 0.0
        state.batch_in_epoch, state.epoch_rows = 0, 0

        # --- validate ---------------------------------------------------------------------------
        if validates:
            val_loss, val_out = backend.evaluate("val", s.test_batch_size)
            val_out = units(val_out)
            val_metric = batch_metrics(task, y_val, val_out)
            # Copies (the event's arrays outlive this epoch); `sel` as above.
            train_loss, lrs = state.last_epoch_loss[sel].copy(), lr[sel].copy()
            state.curves.append(
                state.epoch,
                ids,
                {
                    "train_losses": train_loss,
                    "val_losses": val_loss,
                    "train_metrics": train_metric,
                    "val_metrics": val_metric,
                    "lrs": lrs,
                },
            )
            # A lower loss is the new best, whose weights are kept (as scikit-learn's
            # early_stopping keeps them); one lower by more than min_delta also starts
            # patience over. Kept only at min_delta's steps, a fit ended on an epoch's
            # weights that a later, lower one had beaten by less.
            improved = val_loss < state.best_val[sel]
            state.bad[sel] = np.where(
                val_loss < state.best_val[sel] - s.min_delta, 0, state.bad[sel] + 1
            )
            state.best_val[sel] = np.where(improved, val_loss, state.best_val[sel])
            state.best_epoch[sel] = np.where(improved, state.epoch, state.best_epoch[sel])
            backend.save_best(improved)
            event = Validate(
                models,
                state.epoch,
                state.step,
                ids.copy(),
                train_loss,
                val_loss,
                train_metric,
                val_metric,
                lrs,
                improved,
                task,
                y_val,
                val_out,
                E,
            )
            emit(event)
            # The rules read the event while every model it names is still in the stack
            # (a rule may predict with them); patience ends models only after.
            stops = (
                None if early_stop is None else event.ids[_ruled(early_stop, event, "early_stop")]
            )
            prunes = None if prune is None else event.ids[_ruled(prune, event, "prune")]
            if s.patience:
                done = np.flatnonzero(state.bad[ids] >= s.patience)
                if len(done):
                    state.stopped_early[ids[done]] = True
                    end(done, "finished")
            if stops is not None and len(state.ids):
                # The mask is over the validated rows; some may have stopped since.
                stopping = np.flatnonzero(np.isin(state.ids, stops))
                if len(stopping):
                    state.stopped_early[state.ids[stopping]] = True
                    end(stopping, "finished")
            if prunes is not None and len(state.ids):
                pruned = np.flatnonzero(np.isin(state.ids, prunes))
                if len(pruned):
                    end(pruned, "pruned", [f"pruned at epoch {state.epoch}"] * len(pruned))

        # --- save -------------------------------------------------------------------------------
        if s.save_every and state.epoch % s.save_every == 0 and len(state.ids):
            emit(Save(models, state.epoch, state.step, state.ids.copy()))

    if len(state.ids):
        end(np.arange(len(state.ids)), "finished")
    return state
