"""The training loop of a stack: per-config schedules, validation, patience and divergence."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.console import RunConsole
from mlplab.data.dataset import Dataset
from mlplab.errors import RunDiverged
from mlplab.training.batched.numpy_stack import NumpyStack
from mlplab.training.batched.torch_stack import TorchStack
from mlplab.training.loop import History, LoopState, Schedule

Array = np.ndarray


# --- per-config metrics, vectorized ------------------------------------------------------------


def _batch_metric(task: str, y: Array, out: Array) -> Array:
    """:func:`mlplab.training.metrics.curve_metric` of each config's batch, ``[K]`` float64.

    ``out`` is ``[K, B, out_dim]``; ``y`` is the rows all configs share (``[B, ...]``) or
    each config's own minibatch (``[K, B, ...]``).
    """
    b = out.shape[1]
    if task == "regression":
        yy = np.asarray(y, dtype=np.float64).reshape(-1, b, out.shape[2])
        return np.abs(yy - out).mean(axis=(1, 2))
    if task == "binary":
        true = np.asarray(y)[..., 0].astype(np.int64) == 1
        return np.add.reduce((out[:, :, 0] > 0) == true, axis=1, dtype=np.float64) / b
    true = np.asarray(y).astype(np.int64)
    return np.add.reduce(out.argmax(axis=2) == true, axis=1, dtype=np.float64) / b


# --- the loop -----------------------------------------------------------------------------------


def _lrs_at(epoch: int, lr: Array, s: Schedule) -> Array:
    """:func:`mlplab.training.loop.lr_at` for a vector of base rates (same operations, same order)."""
    if s.lr_schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / s.epoch))
    if s.lr_schedule == "exponential":
        return lr * s.lr_gamma**epoch
    if s.lr_schedule == "step":
        return lr * s.lr_gamma ** (epoch // s.lr_step)
    return lr


@dataclass
class _Curves:
    """One config's curves as float64 rows, made into Python lists only when recorded.

    Lists of Python floats take 4x the memory of the arrays; 256 configs x 10001 epochs
    x 5 curves held as lists at once would take ~400 MB.
    """

    train_losses: Array
    val_losses: Array
    train_metrics: Array
    val_metrics: Array
    lrs: Array
    val_epochs: list[int]
    best_val_loss: float
    best_epoch: int

    def history(self) -> History:
        return History(
            train_losses=self.train_losses.tolist(),
            val_epochs=list(self.val_epochs),
            val_losses=self.val_losses.tolist(),
            train_metrics=self.train_metrics.tolist(),
            val_metrics=self.val_metrics.tolist(),
            lrs=self.lrs.tolist(),
            best_val_loss=self.best_val_loss,
            best_epoch=self.best_epoch,
        )


@dataclass
class _Outcome:
    """How one config's training ended, for its run record."""

    status: str  # finished | diverged | interrupted
    loop: dict[str, Any] | None  # LoopState fields but the history; None: diverged
    export: dict[str, Any]
    best_epoch: int
    curves: _Curves  # also for a diverged run: its curves so far go to TensorBoard
    message: str = ""
    order_rng: np.random.Generator | None = None  # its data-order RNG, as it stands now
    step_losses: list[tuple[int, float]] = field(default_factory=list)

    def loop_state(self, h: History) -> LoopState:
        # As train(): a diverged run's loop state is a fresh one.
        return LoopState() if self.loop is None else LoopState(history=h, **self.loop)


def _fit_stack(
    stack: NumpyStack | TorchStack,
    task: str,
    data: Dataset,
    s: Schedule,
    base_lrs: Array,
    seeds: list[int],
    console: RunConsole,
    should_stop: Callable[[], bool] | None = None,
) -> list[_Outcome]:
    """:func:`mlplab.training.loop.fit` for K configs at once; one outcome per config.

    ``should_stop`` is asked at the end of every epoch (a Ctrl-C or SIGTERM noted by the
    caller): once it says yes, every config still training ends ``interrupted`` there,
    with its curves so far and a loop state that ``mlplab train --resume`` continues
    from exactly. (A full-batch epoch is one step; a stop waits for the epoch's end so
    that no config is left mid-epoch.)
    """
    K, E = len(base_lrs), s.epoch
    n_train = len(data.y_train)
    # Built from its steps, not by testing every epoch: a run of 10^8 epochs would take
    # seconds just to list its validations.
    val_at = list(range(s.validate_every, E + 1, s.validate_every))
    if not val_at or val_at[-1] != E:
        val_at.append(E)
    V = len(val_at)
    # Curves as [validation, config]: each validation writes one contiguous row.
    train_losses, lrs = np.zeros((V, K)), np.zeros((V, K))
    val_losses, train_metrics, val_metrics = np.zeros((V, K)), np.zeros((V, K)), np.zeros((V, K))
    best_val = np.full(K, math.inf)
    best_epoch = np.zeros(K, dtype=np.int64)
    bad = np.zeros(K, dtype=np.int64)
    order_rngs = [np.random.default_rng([seed, 1]) for seed in seeds]
    epoch_start_rng: list[dict[str, Any]] = [dict(r.bit_generator.state) for r in order_rngs]
    full_batch = s.batch_size <= 0 or s.batch_size >= n_train
    step_log: list[tuple[int, Array, Array]] = []  # (step, active ids, losses)
    ids = np.arange(K)  # original index of each row of the stack
    outcomes: list[_Outcome | None] = [None] * K
    step = 0

    def curves_of(ks: Array, n_vals: int) -> list[_Curves]:
        # One transposed copy per curve, then contiguous rows: a strided column per
        # config would walk the whole [epoch, config] array K times.
        cols = [
            a[:n_vals, ks].T.copy()
            for a in (train_losses, val_losses, train_metrics, val_metrics, lrs)
        ]
        return [
            _Curves(  # type: ignore[misc]  # the columns are _Curves' leading fields, in order
                *(c[j] for c in cols),
                val_epochs=val_at[:n_vals],
                best_val_loss=float(best_val[k]),
                best_epoch=int(best_epoch[k]),
            )
            for j, k in enumerate(ks)
        ]

    def finish(rows: Array, status: str, n_epochs: int, n_vals: int, **kw: Any) -> None:
        """Export the configs at stack ``rows`` and drop them from the stack."""
        nonlocal ids
        cs = curves_of(ids[rows], n_vals)
        for r, c in zip(rows, cs, strict=True):
            k = int(ids[r])
            loop: dict[str, Any] | None = None
            msg = ""
            if status == "diverged":
                msg = str(RunDiverged(kw["step"], float(kw["losses"][r]), float(kw["lr"][r])))
            else:
                loop = {
                    "epoch": n_epochs,
                    "step": step,
                    "order_rng": epoch_start_rng[k],
                    "bad_validations": int(bad[k]),
                    "stopped_early": bool(kw.get("stopped_early", False)),
                }
            outcomes[k] = _Outcome(
                status, loop, stack.export(int(r)), int(best_epoch[k]), c, msg, order_rngs[k]
            )
        keep = np.setdiff1d(np.arange(len(ids)), rows)
        if len(keep):
            stack.keep(keep)
        ids = ids[keep]

    epoch = 0
    n_vals = 0
    while epoch < E and len(ids):
        # --- epoch start: learning rates and data order --------------------------------------
        lr_vec = _lrs_at(epoch, base_lrs[ids], s)
        stack.set_lr(lr_vec)
        order: Array | None = None
        starts = [0]
        if not full_batch:
            for k in ids:
                epoch_start_rng[int(k)] = dict(order_rngs[k].bit_generator.state)
            order = np.stack([order_rngs[k].permutation(n_train) for k in ids])  # [K, n]
            starts = list(range(0, n_train, s.batch_size))

        validates = (epoch + 1) % s.validate_every == 0 or epoch + 1 == E

        # --- steps ------------------------------------------------------------------------------
        loss_sum = np.zeros(len(ids))
        metric_sum = np.zeros(len(ids))
        rows_seen = 0
        for i in starts:
            idx = None if order is None else order[:, i : i + s.batch_size]  # [K, B]
            losses = stack.train_step(idx)
            out = stack.step_outputs() if validates else None  # before a divergence drops rows
            finite = np.isfinite(losses)
            if not finite.all():
                # As fit(): a NaN or inf loss ends that run, before its loss is counted.
                finish(
                    np.flatnonzero(~finite),
                    "diverged",
                    epoch,
                    n_vals,
                    step=step,
                    losses=losses,
                    lr=lr_vec,
                )
                losses, loss_sum, lr_vec = losses[finite], loss_sum[finite], lr_vec[finite]
                metric_sum = metric_sum[finite]
                if order is not None:
                    order = order[finite]
                if idx is not None:
                    idx = idx[finite]
                if out is not None:
                    out = out[finite]
                if not len(ids):
                    break
            rows = n_train if idx is None else idx.shape[1]
            loss_sum += losses * rows
            if out is not None:  # as fit(): the train curve's acc/MAE from the step's outputs
                y = data.y_train if idx is None else data.y_train[idx]
                metric_sum += _batch_metric(task, y, out) * rows
            rows_seen += rows
            if s.log_every and step % s.log_every == 0:
                step_log.append((step, ids.copy(), losses.copy()))
                console.step(step, float(np.median(losses)))
            step += 1
        if not len(ids):
            break

        # --- epoch end: curves ---------------------------------------------------------------------
        epoch += 1
        sel = ids if len(ids) < K else slice(None)  # a slice writes without fancy indexing
        rows_seen = max(rows_seen, 1)

        # --- validate ------------------------------------------------------------------------------
        if validates:
            val_loss, val_out = stack.evaluate("val", s.test_batch_size)
            train_losses[n_vals, sel] = loss_sum / rows_seen
            lrs[n_vals, sel] = lr_vec
            train_metrics[n_vals, sel] = metric_sum / rows_seen
            val_losses[n_vals, sel] = val_loss
            val_metrics[n_vals, sel] = _batch_metric(task, data.y_val, val_out)
            n_vals += 1
            improved = val_loss < best_val[ids]
            up = ids[improved]
            best_val[up], best_epoch[up], bad[up] = val_loss[improved], epoch, 0
            bad[ids[~improved]] += 1
            stack.save_best(improved)
            if s.patience:
                stop_rows = np.flatnonzero(bad[ids] >= s.patience)
                if len(stop_rows):
                    finish(stop_rows, "finished", epoch, n_vals, stopped_early=True)
        console.epoch(epoch, "")
        if should_stop is not None and should_stop() and epoch < E and len(ids):
            finish(np.arange(len(ids)), "interrupted", epoch, n_vals)  # empties the stack

    if len(ids):
        finish(np.arange(len(ids)), "finished", epoch, n_vals)

    # Per-config step losses for TensorBoard's train/step_loss.
    for st, active, losses in step_log:
        for r, k in enumerate(active):
            outcomes[k].step_losses.append((st, float(losses[r])))
    return outcomes  # type: ignore[return-value]
