"""``train_batched``: group configs, train each group as a stack, and write every run record."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import __version__
from mlplab.config import Config
from mlplab.console import RunConsole
from mlplab.data.dataset import Dataset
from mlplab.engines.backend import OptimSpec, blas_threads, make_backend, resolve_engine
from mlplab.engines.init import init_state
from mlplab.runs.record import RunRecord, check_writable, run_dir_of, run_name
from mlplab.training.batched.grouping import DEFAULT_MAX_GROUP, _group_indices, batchable
from mlplab.training.batched.numpy_stack import NumpyStack
from mlplab.training.batched.stack_loop import _fit_stack, _Outcome
from mlplab.training.batched.torch_stack import TorchStack
from mlplab.training.loop import History
from mlplab.training.metrics import curve_metric_name

Array = np.ndarray

# Default cap on the points of each TensorBoard curve of a stacked run. Events go through
# tensorboard's writer queue at ~40-60 us each (measured in benchmarks/bench_sweep.py);
# 256 runs x 4 curves x 10001 validations would take minutes. result.json and metrics.csv
# keep every validation.
TB_POINTS = 200

# Seconds spent by the last trained group in each phase (build, open records, fit,
# finish records), for benchmarks/bench_sweep.py: where a sweep's time goes.
LAST_TIMINGS: dict[str, float] = {}


# --- run records -----------------------------------------------------------------------------


def _thin(n: int, points: int | None) -> range:
    """Indices of at most about ``points`` of ``n`` curve points, evenly spaced."""
    every = 1 if not points else max(1, -(-n // points))
    return range(0, n, every)


def _write_tb_curves(
    tb: Any, out: _Outcome, h: History, metric: str, tb_every: int, points: int | None
) -> None:
    """The scalars :class:`mlplab.training.run.RunHooks` writes during a single run.

    ``points`` caps each curve (``None``: every validation, as a single run). A single
    run already thins ``train/loss`` to about 1000 points (``tb_every``); a stack
    writes its curves after training, K runs at once, where every event costs (tens of
    microseconds each through tensorboard's writer queue), so the other curves are capped too.
    """
    for st, loss in out.step_losses:
        tb.scalar("train/step_loss", loss, st)
    n_val = len(h.val_epochs)
    shown = list(_thin(n_val, points))
    if n_val and shown[-1] != n_val - 1:
        shown.append(n_val - 1)  # the last validation always shows
    for j in shown:
        tb.scalars(
            {
                "train/loss": h.train_losses[j],
                f"train/{metric}": h.train_metrics[j],
                "val/loss": h.val_losses[j],
                f"val/{metric}": h.val_metrics[j],
            },
            h.val_epochs[j],
        )


def _cast_splits(data: Dataset, dtype: str) -> dict[str, tuple[Array, Array]]:
    """The single run's casts (``run._cast``), done once; equal splits stay one object."""
    from mlplab.training.run import _cast

    splits: dict[str, tuple[Array, Array]] = {}
    seen: dict[int, tuple[Array, Array]] = {}
    for name, (x, y) in data.splits().items():
        key = id(x)
        if key not in seen:
            seen[key] = _cast(x, y, dtype, data.name)
        splits[name] = seen[key]
    return splits


def _train_group(
    cfgs: list[Config],
    verbose: bool,
    tb_points: int | None = TB_POINTS,
    curves_in_results: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> list[dict[str, Any]]:
    """Train one group (equal :func:`group_key`) and write every config's run record."""
    from mlplab.training.run import (
        _finish,
        _RunContext,
        _StopFlag,
        load_data,
        model_spec,
        schedule_of,
        train,
    )

    c0 = cfgs[0]
    for path in {c.log_path for c in cfgs}:
        check_writable(path)
    data = load_data(c0)
    specs = [model_spec(c, data) for c in cfgs]
    engine = resolve_engine(c0.engine, specs[0], len(data.X_train), c0.batch_size, c0.device)
    stackable = (engine == "numpy" and c0.device in ("cpu", "auto")) or (
        engine == "torch" and all(c.dp_rate == 0 for c in cfgs)
    )
    if len(cfgs) == 1 or not stackable or not batchable(c0):
        # One model, or what the stacks do not cover (torch dropout masks come from torch's
        # global generator): the single run is the reference.
        records_ = [train(c, verbose=verbose, dataset=data).record for c in cfgs]
        if not curves_in_results:
            records_ = [
                {k: v for k, v in r.items() if not isinstance(v, list) or k in ("target", "split")}
                for r in records_
            ]
        return records_

    # --- build ---------------------------------------------------------------------------------
    started = time.time()
    t0 = time.perf_counter()
    inits = [init_state(sp, c.init, c.seed, c.dtype) for sp, c in zip(specs, cfgs, strict=True)]
    optims = [OptimSpec(c.optim, c.lr, c.mm, c.l2_coef) for c in cfgs]
    seeds = [c.seed for c in cfgs]
    stack: NumpyStack | TorchStack
    if engine == "numpy":
        stack = NumpyStack(specs[0], inits, optims, seeds, [c.dp_rate for c in cfgs], c0.dtype)
    else:
        stack = TorchStack(specs[0], inits, optims, c0.dtype, c0.device)
    splits = _cast_splits(data, c0.dtype)
    stack.set_data(splits)

    # --- open the run records --------------------------------------------------------------------
    t1 = time.perf_counter()
    headers, records = [], []
    for cfg, spec in zip(cfgs, specs, strict=True):
        rec = RunRecord(run_dir_of(cfg))
        header = {
            **cfg.to_dict(),
            "run_id": run_name(cfg),
            "engine_used": engine,
            "task_type": data.task,
            "n_params": spec.n_params(),
            "mlplab_version": __version__,
            "status": "running",
        }
        rec.start(cfg, fresh=True)
        rec.write_result(header)
        headers.append(header)
        records.append(rec)
    console = RunConsole(verbose, c0.epoch)
    if verbose:
        console.line(
            f"mlplab: {len(cfgs)} configs of {c0.label()} on {data.name} "
            f"({data.task}, {data.n_rows} rows), engine {engine}, batched"
        )

    # --- train -------------------------------------------------------------------------------------
    t2 = time.perf_counter()
    # A diverging config overflows before its loss is seen as inf; that is reported as its
    # status, so NumPy's warnings would only repeat it (and fail strict test runs).
    errs = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    threads = blas_threads(engine, specs[0], len(data.y_train), c0.batch_size)
    with console, errs, threads:
        outcomes = _fit_stack(
            stack,
            data.task,
            data,
            schedule_of(c0),
            np.array([c.lr for c in cfgs], dtype=np.float64),
            seeds,
            console,
            should_stop,
        )

    # --- evaluate and record, per config -------------------------------------------------------------
    t3 = time.perf_counter()
    from mlplab.runs.tensorboard import EventWriter

    metric = curve_metric_name(data.task)
    results = []
    for i, (cfg, spec, header, rec, optim) in enumerate(
        zip(cfgs, specs, headers, records, optims, strict=True)
    ):
        out = outcomes[i]
        ex = out.export
        backend = make_backend(
            engine, spec, ex["state"], optim, seed=cfg.seed, device=cfg.device, dtype=cfg.dtype
        )
        backend.set_data(splits)
        if engine == "numpy":
            backend.load_optim_state(ex["optim"], ex["optim_meta"])
            backend.load_rng_state({}, ex["rng_meta"])
        else:  # torch: the generator stays as seeded (no dropout drew from it)
            TorchStack.load_into(backend, ex)
        tb = EventWriter(rec.dir)
        tb_every = max(1, cfg.epoch // 1000)
        h = out.curves.history()
        _write_tb_curves(tb, out, h, metric, tb_every, tb_points)
        assert out.order_rng is not None  # every stacked config has its own data order
        ctx = _RunContext(
            cfg,
            data,
            spec,
            engine,
            backend,
            out.order_rng,
            rec,
            RunConsole(False, cfg.epoch),
            tb,
            _StopFlag(),
            tb_every=tb_every,
            best=(ex["best"], out.best_epoch) if out.best_epoch > 0 else None,
            started=started,
        )
        message = out.message
        if out.status == "interrupted":
            assert out.loop is not None
            message = (
                f"interrupted at step {out.loop['step']}; "
                f"resume with `mlplab train --resume {rec.dir}`"
            )
        result = _finish(ctx, out.loop_state(h), header, out.status, message)
        if not curves_in_results:
            for k in [k for k, v in result.items() if isinstance(v, list) and k not in header]:
                del result[k]
        results.append(result)
        outcomes[i] = None  # type: ignore[call-overload]  # free its arrays as we go
        del out, h, ex, backend, ctx
    t4 = time.perf_counter()
    LAST_TIMINGS.clear()
    LAST_TIMINGS.update(
        {
            "build_s": t1 - t0,
            "open_records_s": t2 - t1,
            "fit_s": t3 - t2,
            "finish_records_s": t4 - t3,
        }
    )
    if verbose:
        done = sum(r["status"] == "finished" for r in results)
        console.line(
            f"mlplab: {done}/{len(results)} finished in {time.time() - started:.2f} s "
            f"-> {Path(c0.log_path) / c0.exp_name}"
        )
    return results


def train_batched(
    configs: Sequence[Config | dict[str, Any]],
    verbose: bool = False,
    max_group: int = DEFAULT_MAX_GROUP,
    tb_points: int | None = TB_POINTS,
    curves_in_results: bool = True,
    should_stop: Callable[[], bool] | None = None,
) -> list[dict[str, Any] | None]:
    """Train every config, stacking those that share a shape, and write each run record.

    Parameters
    ----------
    configs : list of Config or dict
        Validated once here. Configs with equal :func:`group_key` train together, at most
        ``max_group`` per stack: on :class:`NumpyStack` when the engine resolves to numpy,
        on :class:`TorchStack` (CPU or CUDA) when it resolves to torch. Groups of one, and
        torch groups with dropout, train alone with :func:`mlplab.training.run.train`.
    verbose : bool
        One line per group at its start and end, and the median step loss at log steps.
    max_group : int, default 256
    tb_points : int or None, default 200
        At most about this many points per TensorBoard curve of a stacked run (a single
        run thins ``train/loss`` to ~1000 points); ``None`` writes every validation, as a
        single run does. result.json and metrics.csv are never thinned.
    curves_in_results : bool, default True
        False leaves the per-epoch curves (lists) out of the returned dicts; they are still
        in each result.json. A sweep that only needs statuses keeps its memory flat this
        way (256 configs x 10001 epochs of curves are ~400 MB as Python lists).
    should_stop : callable, optional
        Asked at the end of every epoch of a stack (e.g. "was Ctrl-C pressed?"). Once it
        says yes, the stack's configs end ``interrupted`` with a checkpoint that
        ``mlplab train --resume`` continues exactly, and no further group starts.

    Returns
    -------
    list of dict (or None)
        Each config's result.json contents, in the order of ``configs``; the same keys as
        :func:`mlplab.training.run.train` writes. None for a config whose group had not
        started when ``should_stop`` said stop.
    """
    from mlplab.engines.malloc import keep_training_memory
    from mlplab.training.run import as_config

    keep_training_memory()
    cfgs = [as_config(c) for c in configs]
    results: list[dict[str, Any] | None] = [None] * len(cfgs)
    for idx in _group_indices(cfgs, max_group):
        if should_stop is not None and should_stop():
            break  # the groups not started have no record: a sweep trains them again
        group = [cfgs[i] for i in idx]
        out = _train_group(group, verbose, tb_points, curves_in_results, should_stop)
        for i, r in zip(idx, out, strict=True):
            results[i] = r
    return results
