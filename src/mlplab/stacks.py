"""Many configs trained as stacks: configs that share a shape train together as one.

:func:`train_batched` groups the configs (:mod:`mlplab.training.grouping`) and trains each
group with :func:`train_stack`, through the same wiring and loop as a single run
(:mod:`mlplab.runner`). A config whose run was interrupted continues from its last
checkpoint, in a stack with the others that stand at the same step.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlplab.assemble import (
    as_config,
    build_stack,
    check_fits,
    header_of,
    load_data,
    model_spec,
)
from mlplab.config import Config
from mlplab.console import RunConsole, lab_targets
from mlplab.data.dataset import Dataset
from mlplab.engines.choose import resolve_engine
from mlplab.engines.init import run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.rerun import finished_record, scratch_dir, settle
from mlplab.restore import Restored, restore_stack, resumable, saved_best_epoch
from mlplab.runner import (
    StackRun,
    check_subscribers,
    fit_stack,
    plot_subscribers,
    wire_subscribers,
)
from mlplab.runs.record import (
    RunRecord,
    check_run_folders,
    check_writable,
    read_result,
    run_dir_of,
)
from mlplab.runs.writer import ModelRecord
from mlplab.training.events import Prune, Subscriber
from mlplab.training.grouping import DEFAULT_MAX_GROUP, group_indices
from mlplab.training.loop import StackState

# Seconds spent by the last trained group in each phase (build, fit), for
# benchmarks/bench_sweep.py: where a sweep's time goes.
LAST_TIMINGS: dict[str, float] = {}

# Points per TensorBoard curve of each run: fewer than a single run's 1000, since a stack
# writes K runs' events at once.
STACK_TB_POINTS = 200


def train_stack(
    cfgs: list[Config],
    verbose: bool = False,
    tb_points: int = STACK_TB_POINTS,
    curves_in_results: bool = True,
    should_stop: Callable[[], bool | str] | None = None,
    resume: bool = True,
    prune: Prune | None = None,
    subscribers: Sequence[Subscriber] = (),
) -> list[dict[str, Any] | None]:
    """Train one group of same-shaped configs as one stack; write every run record.

    A config whose record was interrupted (Ctrl-C, or a killed sweep) continues from its
    last checkpoint, exactly, rather than starting over; configs stopped at the same step
    continue together as one stack. ``resume=False`` starts them afresh instead (a sweep's
    ``--rerun``). ``prune`` is :func:`mlplab.training.loop.fit`'s hook, given each
    validation of the stack; ``subscribers`` get its events after the record's own. Returns
    each config's result.json contents, in order (None where ``should_stop`` came first).
    """
    c0 = cfgs[0]
    for path in {c.log_path for c in cfgs}:
        check_writable(path)
    check_run_folders(cfgs)
    t0 = time.perf_counter()
    data = load_data(c0)
    check_fits(c0, data)  # a group's configs share the model's shape
    specs = [model_spec(c, data) for c in cfgs]
    engine = resolve_engine(c0.engine, specs[0], len(data.X_train), c0.batch_size, c0.device)
    parts: dict[tuple[int, ...], list[int]] = {}
    where: tuple[int, ...]
    saved: list[Restored | None] = []
    for i, (cfg, spec) in enumerate(zip(cfgs, specs, strict=True)):
        r = resumable(cfg, spec, data_digest=data.digest) if resume else None
        saved.append(r)
        where = () if r is None else (r.loop.epoch, r.loop.step, r.loop.batch_in_epoch)
        parts.setdefault(where, []).append(i)
    results: list[dict[str, Any] | None] = [None] * len(cfgs)
    for where, idx in parts.items():
        if should_stop is not None and should_stop():
            break
        restored = [saved[i] for i in idx]
        part = _train_part(
            [cfgs[i] for i in idx],
            data,
            [specs[i] for i in idx],
            engine,
            [r for r in restored if r is not None] if where else None,
            verbose,
            tb_points,
            should_stop,
            prune,
            subscribers,
        )
        for i, res in zip(idx, part, strict=True):
            results[i] = res
    LAST_TIMINGS["total_s"] = time.perf_counter() - t0
    if not curves_in_results:
        results = [
            None
            if r is None
            else {k: v for k, v in r.items() if not isinstance(v, list) or k in ("target", "split")}
            for r in results
        ]
    return results


def _timed(sub: Subscriber, spent: list[float]) -> Subscriber:
    """``sub``, adding the seconds it takes to ``spent[0]``."""

    def timed(event: Any) -> None:
        t = time.perf_counter()
        sub(event)
        spent[0] += time.perf_counter() - t

    return timed


def _train_part(
    cfgs: list[Config],
    data: Dataset,
    specs: list[ModelSpec],
    engine: str,
    saved: list[Restored] | None,
    verbose: bool,
    tb_points: int,
    should_stop: Callable[[], bool | str] | None,
    prune: Prune | None,
    subscribers: Sequence[Subscriber] = (),
) -> list[dict[str, Any]]:
    """Train configs that stand at the same step (fresh, or restored) as one stack."""
    c0 = cfgs[0]
    t0 = time.perf_counter()
    keep_until = None
    if saved is None:
        backend = build_stack(cfgs, data, specs, engine)
        state = StackState.fresh([run_streams(c.seed).order for c in cfgs])
    else:
        backend, state = restore_stack(cfgs, data, specs, engine, saved)
        keep_until = (state.step, state.epoch)
    # A finished run that a sweep's --rerun trains again: trained beside it, and put in
    # its place only once finished (as `mlplab train --rerun`).
    homes = [run_dir_of(c) for c in cfgs]
    dirs = [
        scratch_dir(h) if saved is None and finished_record(h) is not None else h for h in homes
    ]
    records = []
    for j, (c, sp) in enumerate(zip(cfgs, specs, strict=True)):
        m = ModelRecord(RunRecord(dirs[j]), header_of(c, sp, data, engine), c)
        if saved is not None:
            m.fresh, m.elapsed_before, m.last_saved = False, saved[j].elapsed, state.step
            m.best_saved = saved_best_epoch(m.record.dir, saved[j].loop)
        records.append(m)
    labs = lab_targets(data.task, data.y_train, c0.batch_size, c0.dtype)
    console = RunConsole(verbose, c0.epoch, c0.log_every, lab_targets=labs)
    plots = plot_subscribers(cfgs, data, specs, [m.record for m in records])
    writer, tb, subs = wire_subscribers(
        cfgs, data, specs, engine, records, console, tb_points, keep_until, [*plots, *subscribers]
    )
    assert writer is not None  # a stack always records
    spent = [0.0]  # seconds in the subscribers (the records), for LAST_TIMINGS
    subs = [_timed(sub, spent) for sub in subs]
    run = StackRun(
        cfgs,
        data,
        specs,
        engine,
        backend,
        state,
        writer,
        subs,
        tb,
        prune=prune,
        callers=subscribers,
    )
    # The caller's subscribers' own Step cadences (step_every), as a single run honours them.
    cadences = check_subscribers("sweep", subscribers)[1]
    run.progress_every = functools.reduce(math.gcd, cadences, 0)
    if verbose:
        how = "stacked" if saved is None else f"stacked, resumed at step {state.step}"
        console.line(
            f"mlplab: {len(cfgs)} configs of {c0.label(specs[0])} on {data.name} "
            f"({data.about()}), engine {engine}, {how}"
        )
    t1 = time.perf_counter()
    try:
        with console:
            fit_stack(run, should_stop)
    finally:
        for j, (home, d) in enumerate(zip(homes, dirs, strict=True)):
            if d != home:
                message = settle(d, home, (read_result(d) or {}).get("status"))
                if message is not None and j in writer.results:  # its record went with it
                    writer.results[j]["message"] = message
    t2 = time.perf_counter()
    LAST_TIMINGS.clear()
    LAST_TIMINGS.update({"build_s": t1 - t0, "train_s": t2 - t1 - spent[0], "records_s": spent[0]})
    results = [writer.results[k] for k in range(len(cfgs))]
    if verbose:
        done = sum(r["status"] == "finished" for r in results)
        console.line(
            f"mlplab: {done}/{len(results)} finished in {t2 - t0:.2f} s "
            f"-> {Path(c0.log_path) / c0.exp_name}"
        )
    return results


def train_batched(
    configs: Sequence[Config | dict[str, Any]],
    verbose: bool = False,
    max_group: int = DEFAULT_MAX_GROUP,
    tb_points: int = STACK_TB_POINTS,
    curves_in_results: bool = True,
    should_stop: Callable[[], bool | str] | None = None,
    resume: bool = True,
    prune: Prune | None = None,
    subscribers: Sequence[Subscriber] = (),
) -> list[dict[str, Any] | None]:
    """Train every config, stacking those that share a shape, and write each run record.

    Parameters
    ----------
    configs : list of Config or dict
        Validated once here. A config given twice (the same run) trains once, and both
        places get its result. Configs with equal :func:`mlplab.training.grouping.group_key`
        train together, at most ``max_group`` per stack.
    verbose : bool
        One line per group at its start and end, and the median step loss at log steps.
    max_group : int, default 256
    tb_points : int, default 200
        At most about this many points per TensorBoard curve of each run.
    curves_in_results : bool, default True
        False leaves the per-epoch curves (lists) out of the returned dicts; they are still
        in each result.json, and a sweep that only needs statuses keeps its memory flat.
    should_stop : callable, optional
        Polled before every step (e.g. "was Ctrl-C pressed?"). Once it says yes, the
        stack's configs end ``interrupted`` with a checkpoint that ``mlplab train --resume``
        continues exactly, and no further group starts.
    resume : bool, default True
        A config whose run was interrupted continues from its checkpoint; False starts it
        afresh (``mlplab sweep --rerun``).
    prune : callable, optional
        Given each :class:`~mlplab.training.events.Validate` event of a stack, a bool mask
        over its ``ids`` (positions in its group), True for each model to stop there: its
        run ends ``pruned``, with its record and checkpoints (:func:`mlplab.sweep`).
    subscribers : list of callables, optional
        More subscribers to each stack's events (:mod:`mlplab.training.events`), called
        after the record's own; ids are positions in the stack, and
        ``event.models.name(id)`` gives each model's run id.

    Returns
    -------
    list of dict (or None)
        Each config's result.json contents, in the order of ``configs``. None for a config
        whose group had not started when ``should_stop`` said stop.
    """
    from mlplab.engines.malloc import keep_training_memory

    keep_training_memory()
    given = [as_config(c) for c in configs]
    # A config given twice (a search that proposes it again) is one run, trained once: as
    # two rows of a stack, both would write the same folder.
    dirs = [run_dir_of(c) for c in given]
    runs: dict[Path, Config] = {}
    for d, c in zip(dirs, given, strict=True):
        runs.setdefault(d, c)
    keys, cfgs, trained = list(runs), list(runs.values()), dict.fromkeys(runs)
    for idx in group_indices(cfgs, max_group):
        if should_stop is not None and should_stop():
            break  # the groups not started have no record: a sweep trains them again
        group = [cfgs[i] for i in idx]
        out = train_stack(
            group, verbose, tb_points, curves_in_results, should_stop, resume, prune, subscribers
        )
        for i, r in zip(idx, out, strict=True):
            trained[keys[i]] = r
    return [trained[d] for d in dirs]
