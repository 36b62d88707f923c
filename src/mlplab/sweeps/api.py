"""``sweep(...)``: many configs as normal runs, skipping finished ones, then a report.

The phases, in order: build the grid (or random sample) and validate every config; check
that records can be written and that the data loads; write the sweep's spec; train the
missing runs in groups (locally or on Ray); print a summary; write the report.
Nothing is written before every config has passed validation.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import contextvars
import dataclasses
import functools
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from mlplab.config import SPEC_KEYS, Config, as_typed, read_yaml
from mlplab.console import terminal_text
from mlplab.data.registry import BUILTIN
from mlplab.errors import (
    LOWER_LR,
    ConfigError,
    MlplabError,
    PruneError,
    check_switches,
    note_says_why,
    public,
    short_repr,
    shorten,
)

# Report at run time, for typing.get_type_hints(SweepResult): 0.3 s that a sweep's report
# takes anyway.
from mlplab.reports.api import Report
from mlplab.runs.locks import RunLocks, held_elsewhere
from mlplab.sweeps.grid import (
    SweepSpec,
    build_spec,
    check_file_settings,
    count_configs,
    expand,
    plan_groups,
)
from mlplab.sweeps.local import (
    HeldStops,
    Outcome,
    SweepInterrupted,
    Terminated,
    held_stops,
    metrics_of,
    run_local,
    signal_of,
    sigterm_stops,
    train_group,
    usable_cpus,
)

# Prune at run time, not under TYPE_CHECKING: typing.get_type_hints(sweep) (autodoc,
# runtime type checkers) resolves the annotation.
from mlplab.training.events import Prune, Subscriber

P = ParamSpec("P")
R = TypeVar("R")

# As `mlplab train` exits, and as shells and schedulers read it: 128 + the signal's number.
EXIT_FOR_SIGNAL = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}


@dataclass(repr=False)  # __repr__: a line, not every config and table
class SweepResult:
    """What :func:`sweep` returns.

    Attributes
    ----------
    spec : SweepSpec
        Base settings, axes, search and the run ids.
    configs : list of Config
        Every config of the sweep, in grid (or sampling) order.
    outcomes : list of dict
        The runs trained by this call: ``run_id``, ``status``, ``error``, ``wall_time_s``
        and ``metrics``, the record's final numbers (``val_loss``, ``val_acc`` or
        ``val_mae``, ..., ``best_epoch``; {} for a run without them) that a search of one's
        own ranks by, with no result.json to read.
    skipped : list of str
        Run ids that had finished before and were not trained again (with ``prune``,
        those a prune rule stopped before too: ``skipped_pruned`` counts them).
    busy : list of str
        Run ids that another sweep on the same folder was training; left to it.
    spec_path : Path
        The sweep's YAML spec, ``log_path/exp_name/sweep-<hash>.yaml``.
    report : Report or None
        The report written at the end (None with ``report=False`` or when interrupted).
    interrupted : bool
    stopped_by : str or None
        The signal that interrupted the sweep (``SIGINT``, ``SIGTERM`` or ``SIGHUP``), or
        ``'stop()'``, if one did; also a signal that came once every run had ended, which
        cut nothing short (``interrupted`` is then False, and the report is written).
    wall_time_s : float
    counts : dict of str to int
        ``trained``, ``skipped``, ``failed`` and the like, as :meth:`summary` says them.
    rerun : bool

    ``run_dirs`` gives every config's run folder; ``exit_code``, what ``mlplab sweep``
    exits with; ``summary()``, the one line (``12 runs: 12 trained, 0 skipped, ...``);
    ``final_metrics()``, every config's final numbers, skipped ones included;
    ``statuses()``, how each config's run ended.
    """

    spec: SweepSpec
    configs: list[Config]
    outcomes: list[Outcome]
    skipped: list[str]
    spec_path: Path
    report: Report | None = None
    interrupted: bool = False
    stopped_by: str | None = None
    wall_time_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    rerun: bool = False
    busy: list[str] = field(default_factory=list)
    dry_run: bool = False
    skipped_pruned: int = 0

    @property
    def run_dirs(self) -> list[Path]:
        from mlplab.runs.record import run_dir_of

        return [run_dir_of(c) for c in self.configs]

    @property
    def exit_code(self) -> int:
        """130 when Ctrl-C (SIGINT) interrupted it, 143 when SIGTERM did (129: SIGHUP), 1 when a run
        failed (crashed) or when no run is usable, else 0. The caller's ``stop()`` gives 130
        too: a stop asked for, with runs left to train, as a Ctrl-C leaves them.

        A diverged run is a result of its settings (often a too-high lr), not an error of
        the sweep, so it does not change the exit status while other runs finished (in
        this call, or before it and skipped). When every run it trained diverged (or
        diverged or failed) and none was skipped or left to another sweep, nothing usable
        came out: 1, as ``mlplab train`` exits for its one diverged run, and the summary
        says why.
        """
        if self.interrupted:
            return EXIT_FOR_SIGNAL.get(self.stopped_by or "SIGINT", 130)
        return 1 if self.counts.get("failed", 0) or self.nothing_usable else 0

    @property
    def nothing_usable(self) -> bool:
        """Not interrupted, runs diverged, and none finished, now or before (skipped).
        Runs another sweep is training (``busy``) may still finish: they count as usable,
        as do runs that a prune rule stopped (by design, with their metrics)."""
        c = self.counts
        usable = c.get("trained", 0) + c.get("skipped", 0) + c.get("busy", 0) + c.get("pruned", 0)
        return not self.interrupted and bool(c.get("diverged")) and not usable

    def statuses(self) -> dict[str, str | None]:
        """Every config's status by run id, in config order (``finished``, ``pruned``,
        ``interrupted``, ``diverged``, ``failed``; None for a run with no record): which of
        :meth:`final_metrics`' numbers are a whole run's."""
        from mlplab.runs.record import read_result, run_dir_of, run_name

        now = {o["run_id"]: o.get("status") for o in self.outcomes}
        return {
            run_name(c): now.get(run_name(c)) or (read_result(run_dir_of(c)) or {}).get("status")
            for c in self.configs
        }

    def final_metrics(self) -> dict[str, dict[str, float]]:
        """Every config's final numbers by run id, in config order: those trained by this
        call from their outcomes, those it skipped (finished before) from their records;
        {} for a run with none (not reached, diverged, failed). A search that proposes a
        config again reads its numbers here, whether or not it trained now.

        A pruned or interrupted run's numbers are those of the weights it stopped with
        (``epochs_run`` says when), not a whole run's: :meth:`statuses` tells them apart."""
        from mlplab.runs.record import read_result, run_dir_of, run_name

        trained = {o["run_id"]: o.get("metrics") or {} for o in self.outcomes}
        out = {}
        for c in self.configs:
            rid = run_name(c)
            out[rid] = (
                trained[rid] if rid in trained else metrics_of(read_result(run_dir_of(c)) or {})
            )
        return out

    def summary(self) -> str:
        c = self.counts
        if self.dry_run:
            n = len(self.configs)
            kept = self.skipped_pruned
            return (
                f"dry run: {n} run{'' if n == 1 else 's'}: {c['skipped'] - kept} finished, "
                + (f"{kept} pruned, " if kept else "")
                + f"{c['remaining']} to train; nothing trained"
            )
        line = (
            f"{len(self.configs)} run{'' if len(self.configs) == 1 else 's'}: {c['trained']} trained, {c['skipped']} skipped"
            + (f" ({self.skipped_pruned} pruned before)" if self.skipped_pruned else "")
            + f", {c['failed'] + c['diverged']} failed/diverged"
        )
        if c.get("pruned"):
            line += f", {c['pruned']} pruned"
        if c.get("busy"):  # not done, and not this sweep's to do: they were not "skipped"
            # another sweep's, or an `mlplab train`'s: the lock does not say which
            line += f", {c['busy']} being trained by another process"
        if c["remaining"]:
            # With --rerun, a run not reached keeps its record, which may be finished.
            line += f", {c['remaining']} not " + ("trained again" if self.rerun else "finished")
        line += f" ({self.wall_time_s:.1f} s)"
        if self.nothing_usable:  # why the exit status is 1
            # A lower lr, unless the runs' lines point to a note that names the cause.
            lower = any(LOWER_LR in str(o.get("error")) for o in self.outcomes)
            line += (
                "; no run finished (every run diverged or failed)"
                if c["failed"]
                else "; every run diverged: lower the lr"
                if lower
                else "; every run diverged: the note above says why"
            )
        return line

    def __repr__(self) -> str:
        return f"<SweepResult {self.summary()}; {self.spec_path.parent}>"

    def _repr_html_(self) -> str:
        """Jupyter's view: the counts, then the report's ranked runs and best plots."""
        from mlplab.notebook import sweep_html

        return sweep_html(self)


def _reusing_data(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` with :func:`mlplab.assemble.reuse_loaded_data` on: the sweep's check of its
    data and the stacks it trains here read each file once."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        from mlplab.assemble import reuse_loaded_data

        with reuse_loaded_data():
            return fn(*args, **kwargs)

    return call


@public
@_reusing_data
def sweep(
    config: str | Path | dict[str, Any] | argparse.Namespace | Config | None = None,
    *,
    search: str | None = None,
    trials: int | None = None,
    workers: int | None = None,
    rerun: bool = False,
    backend: str = "local",
    address: str | None = None,
    group_size: int | None = None,
    no_batch: bool = False,
    shard: str | None = None,
    cpus_per_task: float = 1.0,
    gpus_per_task: float = 0.0,
    report: bool = True,
    rank_by: str | None = None,
    verbose: bool = True,
    progress: bool | None = None,
    prune: Prune | None = None,
    handle_signals: bool | None = None,
    subscribers: Sequence[Subscriber] = (),
    stop: Callable[[], bool] | None = None,
    dry_run: bool = False,
    **settings: Any,
) -> SweepResult:
    """Train every config of a grid or random search as a normal run, then report.

    Parameters
    ----------
    config : path to a YAML file, dict, argparse.Namespace, or Config, optional
        Base settings. In a YAML file or dict, a list for a scalar setting is an axis.
    search : {'grid', 'random', 'list'}, optional
        Default: the one a YAML file or sweep record keeps, else ``grid``.
        ``grid``: the product of all axes. ``random``: ``trials`` samples (see
        :mod:`mlplab.sweeps.grid` for ``loguniform:1e-4:1e-1``, ``uniform:a:b``,
        ``int:a:b`` and ``choice:a:b``). ``list``: the configs as rows, config i taking
        the i-th value of every axis (``sweep(search="list", lr=[0.1, 0.01],
        hid_dim=[8, 32])`` is two configs; ``seed`` values replicate each): a batch that
        a search of one's own proposes. A row that repeats an earlier one is the same run,
        trained once: ``configs`` and ``run_dirs`` hold it once.
    trials : int, optional
        Number of random samples (random search only).
    workers : int, optional
        Worker processes; default: the CPUs this process may use (``taskset``, a
        container's cpuset). 1 trains in this process.
    rerun : bool
        Train every run again, even finished ones (default: only missing or unfinished).
    backend : {'local', 'ray'}
    address, cpus_per_task, gpus_per_task
        Ray options (``backend='ray'``).
    group_size : int, optional
        Configs per unit of work; default automatic. ``no_batch`` forces groups of one.
    shard : str, optional
        ``"I/N"``: train only the I-th of N equal parts of the sweep's runs (I from 0 to
        N - 1), every N-th run from the I-th: a scheduler's job array gives each task
        one (``--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`` with
        ``--array=0-(N-1)``). Each task trains its own runs into the shared log_path;
        ``report=False`` on each, and one ``mlplab report`` once all have ended.
    report : bool
        Write the report into ``log_path/exp_name`` at the end: ``results.csv``,
        ``summary.csv`` and ``report.html``, and bring the sweep's tables
        ``sweep_runs.npz`` and ``sweep_curves.npz`` up to date. ``False`` leaves the
        tables as they were, for the next :func:`mlplab.report` (or ``mlplab report``) to update.
    rank_by : str, optional
        The validation metric that ranks configs in the report and the notebook's live
        view, as :func:`mlplab.report` takes it (``val_bacc`` on unequal classes); default:
        ``val_acc`` or ``val_mse``.
    verbose : bool
        Print progress, the summary line and the report's table.
    progress : bool, optional
        Per-run progress (a bar on a terminal, else one line per run); default ``verbose``.
    prune : callable, optional
        A rule that stops the weaker models of each stack as they train, the hook that
        successive halving builds on. Given each :class:`~mlplab.training.events.Validate`
        event of a stack (``epoch``, ``ids``, ``val_loss``, ``val_metric``, ...), it returns
        a bool mask over ``ids``, True for each model to stop there. The configs of one
        shape train as one stack, as far as memory allows (``group_size`` caps it), so that
        the rule compares them all; workers take different shapes. A stopped run ends
        ``pruned``, with its record and checkpoints; a report leaves it out of the means,
        and the same sweep again does not train it again (``rerun=True`` does; a sweep
        without ``prune`` trains it afresh). Worker processes import the rule: one defined
        in a script or notebook (``__main__``), or a lambda, trains the sweep in this
        process. Ray takes either. A rule that raises, or returns no such mask, raises
        :class:`~mlplab.errors.PruneError` once the sweep's runs have ended, as
        ``train(early_stop=...)`` does: the runs it stopped keep their records, the others
        end ``failed`` with its error, and no report is written.
    handle_signals : None or True
        None (the default): Ctrl-C (SIGINT; a notebook's interrupt) or SIGTERM stops the
        sweep with every run in progress checkpointed, says what is left, then raises
        KeyboardInterrupt, as ``train`` does, so that a script or the notebook's next cells
        stop too; the same call again continues. True: ``sweep`` returns the interrupted
        SweepResult instead (``interrupted``, ``exit_code``; ``mlplab sweep`` sets this).
        A sweep always handles signals, for its workers: False is refused.
    subscribers : list of callables, optional
        More subscribers to the events of every stack the sweep trains
        (:mod:`mlplab.training.events`), as ``train``'s: a page or a plot that watches the
        sweep. Each stack sends its own Start ... End; ids are positions in that stack, and
        ``event.models.name(id)`` gives a model's run id; every run gets one End (a run
        that failed before it trained: a ``failed`` one, with no Start). They are called
        in this process, so a sweep given them (or ``stop``) trains here, not in worker
        processes nor on Ray.
    stop : callable, optional
        Polled before every step and between stacks; once it returns True, the sweep stops
        as a Ctrl-C stops it (each run in progress ``interrupted``, with its checkpoint)
        and returns the interrupted SweepResult (``stopped_by`` is ``'stop()'``); the same
        call again continues. For a page's stop button.
    dry_run : bool
        Check every config and the data, say how many runs the sweep holds, how many have
        finished and what is left to train (its epochs, its stacked models and workers),
        then return without training or writing anything: a grid's size before it is
        started. The result's ``dry_run`` is True, and its counts say ``remaining``.
    **settings
        Settings as keyword arguments; a list of several values is an axis,
        e.g. ``sweep(data="ring", n_layer=[1, 2, 3], hid_dim=[50, 100], seed=[0, 1, 2])``.

    Returns
    -------
    SweepResult

    Raises
    ------
    mlplab.errors.ConfigError
        For any bad setting or axis value, before anything is written.
    """
    started, began = time.time(), time.monotonic()  # the wall clock for files' mtimes
    # --- validate: every config, the output folder and the data -------------------------
    check_switches(
        "sweep", rerun=rerun, no_batch=no_batch, report=report, verbose=verbose, dry_run=dry_run
    )
    if rank_by is not None:  # reports.api brings pandas (0.5 s): a search's calls need none
        from mlplab.reports.api import checked_rank_by

        rank_by = checked_rank_by(rank_by, "sweep")
    if handle_signals is not None and handle_signals is not True:
        raise ConfigError(
            f"sweep: handle_signals takes None (Ctrl-C raises KeyboardInterrupt once the sweep "
            f"has said what it kept) or True (sweep returns the interrupted result), not "
            f"{short_repr(handle_signals)}: a sweep handles signals for its workers"
        )
    if progress is not None:
        check_switches("sweep", progress=progress)
    from mlplab.runner import check_stop, check_subscribers

    subscribers = check_subscribers("sweep", subscribers)[0]
    check_stop("sweep", stop)
    watched = bool(subscribers) or stop is not None
    base = _base_settings(config)
    if isinstance(search, str):  # in any case, as every choice; before a file's is weighed
        search = search.strip().lower()
    file_settings: tuple[str, frozenset[str]] | None = None  # the YAML file, what it set
    named: dict[str, str] = {}  # search and trials, where the file set them
    if base.keys() >= SPEC_KEYS:
        # A sweep's own record (sweep-HASH.yaml), given back: that sweep again, in the
        # log_path it lies in, its search and trials unless given (flags over its axes).
        record = base
        given = {k: v for k, v in record.items() if k not in (*SPEC_KEYS, *SPEC_FACTS)}
        base = {**record["base"]}
        if isinstance(config, str | os.PathLike) and "log_path" not in settings:
            base["log_path"] = _record_log_path(config, base)
        if isinstance(config, str | os.PathLike) and "data" not in settings:
            _data_here(config, base.get("data"))
        settings = {**record["axes"], **given, **settings}
        search, trials, named = _kept_search(record, search, trials, str(config))
    elif isinstance(config, str | os.PathLike):
        # The kind of search may be kept in the file beside its distributions (`search:
        # random`, `trials: 20`): a random search rebuilt from files alone. Flags win.
        in_file: dict[str, Any] = {k: base.pop(k) for k in ("search", "trials") if k in base}
        search, trials, named = _kept_search(in_file, search, trials, str(config))
        check_file_settings(shorten(str(config), 300), base, settings)
        file_settings = (os.fspath(config), frozenset(base) - set(settings))
    search = search or "grid"
    spec = build_spec(base, settings, search=search, trials=trials, named=named)
    configs = expand(spec)
    if not configs:
        raise ConfigError("the sweep has no configs")
    for cfg in configs:  # `data: moonz` in the file: the loader's line names the file
        cfg.read_from(file_settings)
    asked = count_configs(spec)
    from mlplab.runs.record import FINISHED, PRUNED, run_name

    # A run that a prune rule stopped is done for a sweep that prunes: trained again, the
    # rule would stop it again. Without a rule it trains afresh, to its end.
    ended = (FINISHED, PRUNED) if prune is not None else (FINISHED,)
    # Before the shards part them, so that every part names each run alike.
    configs, done, pruned = _claimed_runs(configs, ended)
    spec.run_ids = [run_name(c) for c in configs]
    if verbose and len(configs) < asked:
        # A config asked for twice (few values to draw from, a search proposing a row
        # again, a value given twice) trains once, and configs holds it once: a caller
        # who pairs its rows with run_dirs must know.
        repeats = {
            "random": "random samples drew a config already drawn",
            "list": "rows repeat the config of an earlier row",
        }.get(search, "configs of the grid repeat one (a value given twice)")
        print(
            f"mlplab: note: {asked - len(configs)} of the {asked} {repeats}; "
            f"{len(configs)} distinct run{'' if len(configs) == 1 else 's'} (configs and "
            "run_dirs hold each once)",
            flush=True,
        )
    shape = _grid_shape(spec, len(configs))
    in_shard = None
    if shard is not None:
        index, count = _shard(shard)
        # Every count-th run from the index-th: each part gets its share of every axis
        # (a slice of the grid's order would give one part all of the first lr).
        whole, configs = len(configs), configs[index::count]
        in_shard = {run_name(c) for c in configs}
        shape = f"part {index} of {count} of a sweep of {whole} runs: {shape}"
        if not configs:
            raise ConfigError(
                f"--shard {shard}: the sweep has {whole} runs, so part {index} "
                "of them is empty; give fewer parts"
            )
    cut = pruned.intersection(run_name(c) for c in configs)  # this part's, under --shard
    if cut and prune is None and not rerun and verbose:
        # A search's outcome: trained to the end unsaid, a colleague's plain run of the
        # spec file (or a job array's part) undid the search without a word.
        print(
            f"mlplab: note: {len(cut)} of these runs {'was' if len(cut) == 1 else 'were'} "
            "stopped by a prune rule; "
            + ("with no rule here they would train afresh to their end"
               if dry_run else "with no rule here they train afresh to their end")
            + " (mlplab.sweep(..., prune=rule) keeps them)",
            flush=True,
        )  # fmt: skip
    if verbose:
        _note_unused(configs)
    n_workers = usable_cpus() if workers is None else workers
    if not isinstance(n_workers, int) or isinstance(n_workers, bool):
        raise ConfigError(f"--workers: {n_workers!r} is not a whole number (workers=N in Python)")
    if n_workers < 1:
        raise ConfigError("--workers: must be at least 1")
    if verbose and backend == "local" and n_workers > (cpus := usable_cpus()):
        # More worker processes than cores share them: slower than one a core (27 s
        # against 12 s on one core, 4 workers), and taken without a word.
        print(
            f"mlplab: note: --workers {n_workers} on {cpus} CPU{'s' if cpus > 1 else ''} "
            f"share {'them' if cpus > 1 else 'it'}, and train no faster than {cpus} "
            f"(the default, --workers {cpus})",
            flush=True,
        )
    if group_size is not None and (
        not isinstance(group_size, int) or isinstance(group_size, bool) or group_size < 1
    ):  # checked here, before the spec and the locks are written, not when groups are cut
        raise ConfigError(
            f"--group_size: {short_repr(group_size)} is not a whole number of at least 1 "
            "(group_size=N in Python)"
        )
    if prune is not None and not callable(prune):
        raise ConfigError(
            f"sweep: prune takes a function of a Validate event that returns a bool mask over "
            f"its ids, not {type(prune).__name__}"
        )
    if prune is not None and (no_batch or group_size == 1) and verbose:
        print(
            "mlplab: note: with " + ("no_batch" if no_batch else "group_size 1") + " each "
            "stack holds one config, so the prune rule sees one model at a time: a rule "
            "that compares models (the worse half) stops none",
            flush=True,
        )
    if prune is not None and backend == "local" and n_workers > 1 and not _importable(prune):
        if verbose:
            print(
                "mlplab: note: the prune rule is defined in a script or notebook (or is a "
                "lambda), which worker processes cannot import: the sweep trains in this "
                "process (define it in a module to use workers)",
                flush=True,
            )
        n_workers = 1
    if backend not in ("local", "ray"):
        from mlplab.config import ENGINE_CHOICES, ENGINE_MEANT

        meant = str(backend).strip().lower()
        engine = f"; {ENGINE_MEANT.format(f'engine={meant!r}')}" if meant in ENGINE_CHOICES else ""
        raise ConfigError(f"sweep: backend {backend!r} is not one of local, ray{engine}")
    if watched and backend == "ray":
        raise ConfigError(
            "sweep: subscribers and stop are called in this process, and backend 'ray' "
            "trains elsewhere: use the local backend, or read a Ray sweep's records as they "
            "end (mlplab.report)"
        )
    if watched and n_workers > 1:
        if verbose and workers is not None:  # asked for workers: why there are none
            print(
                "mlplab: note: a sweep's subscribers and stop are called in this process, "
                "so it trains here (workers 1)",
                flush=True,
            )
        n_workers = 1
    # Ray's options are not ignored in silence on the local backend: the user meant Ray.
    ray_defaults = {"address": None, "cpus_per_task": 1.0, "gpus_per_task": 0.0}
    ray_given = {"address": address, "cpus_per_task": cpus_per_task, "gpus_per_task": gpus_per_task}
    changed = [k for k, v in ray_given.items() if v != ray_defaults[k]]
    if backend == "local" and changed:
        raise ConfigError(f"--{changed[0]} applies only to --backend ray (the backend is local)")
    if backend == "ray":
        from mlplab.sweeps.ray_backend import check_options, check_reachable, import_ray

        check_options(float(cpus_per_task), float(gpus_per_task))
        # Installed, before the sweep says it starts or writes its spec and locks: without
        # Ray, it printed its start line and left a spec and a lock behind its one line.
        import_ray()
        if address is not None:
            # Its form, and whether anything listens there, before the spec and the locks
            # are written: a cluster's token is known only once Ray joins it.
            check_reachable(address)
    else:
        # A GPU this machine lacks would fail every run alike, each recorded `failed`:
        # one line first, as `mlplab train` says it. (A Ray cluster's nodes may have one.)
        gpus = {c.device for c in configs if c.device.startswith("cuda") and c.engine != "numpy"}
        if gpus:
            from mlplab.engines.torch.backend import resolve_device

            for device in sorted(gpus):
                resolve_device(device)
    first = configs[0]
    from mlplab.runs.record import check_run_folders, check_writable, read_result, run_dir_of

    # What a Ray sweep that its cluster refuses (resources no node has) removes again: the
    # folders it made, so that a report finds no sweep of runs to train there.
    made = _first_missing(Path(first.log_path) / first.exp_name)
    check_writable(first.log_path)
    check_run_folders(configs)
    rows, digests, kinds, data_notes, scaled = _check_data(configs, verbose)
    for note in data_notes if verbose else []:
        print(terminal_text(f"mlplab: note: {note}"), flush=True)
    if rank_by is not None:  # a metric of no table here: refused before any run trains
        from mlplab.reports.api import check_rank_by_kinds

        check_rank_by_kinds(rank_by, kinds, "sweep")
    if not rerun:
        _refuse_changed_data(configs, digests)
    pending = [c for c in configs if rerun or run_name(c) not in done]

    def stacks_of(todo: list[Config]) -> list[list[Config]]:
        return plan_groups(
            todo,
            n_workers,
            group_size=group_size,
            no_batch=no_batch,
            train_rows=lambda c: rows[_data_key(c)],
            # A prune rule compares the rows of a stack: the configs of one shape stay one
            # stack, as memory allows, rather than being cut for speed or for the workers.
            whole_shapes=prune is not None,
        )

    if dry_run:
        if backend == "ray":
            from mlplab.sweeps.ray_backend import import_ray

            import_ray()  # installed, as the sweep would need it
        stacks = stacks_of(pending)
        folder = Path(first.log_path) / first.exp_name
        dry = SweepResult(
            spec,
            configs,
            [],
            [] if rerun else [run_name(c) for c in configs if run_name(c) in done],
            folder / f"sweep-{spec.spec_hash()}.yaml",
            rerun=rerun,
            dry_run=True,
        )
        dry.busy = sorted(held_elsewhere(folder, [run_name(c) for c in pending]))
        if prune is not None and not rerun:
            dry.skipped_pruned = len(pruned.intersection(dry.skipped))
        dry.counts = _count(dry, len(pending) - len(dry.busy))
        if verbose:
            finished = sum(run_name(c) in done for c in configs)
            plan = _Plan(len(stacks), n_workers, backend, folder, shape, rerun)
            # Under --rerun too: "N finished" counted the pruned among them.
            cut_before = len(cut & done) if prune is not None else 0
            print(_dry_run_line(plan, configs, pending, finished, set(dry.busy), cut_before))
        return dry

    # --- train what is missing -----------------------------------------------------------
    # Another sweep on the same log_path may be training some of these right now: lock
    # each run first, and leave the ones it holds to it. (Before the spec is written: a
    # lock file this user may not open is refused with nothing written.)
    locks = RunLocks(Path(first.log_path) / first.exp_name)
    try:  # a file system without locks: the lock file is closed, not left to the collector
        busy = [run_name(c) for c in pending if not locks.acquire(run_name(c))]
    except BaseException:
        locks.release()
        raise
    # A run may have finished between the check above and its lock: look again.
    pending = [
        c
        for c in pending
        if run_name(c) not in busy
        and (rerun or (read_result(run_dir_of(c)) or {}).get("status") not in ended)
    ]
    if busy:
        print(
            f"mlplab: {len(busy)} run{' is' if len(busy) == 1 else 's are'} being trained "
            "by another process (a sweep or mlplab train) on this log_path; this sweep "
            f"leaves {'it' if len(busy) == 1 else 'them'} to that process",
            file=sys.stderr,
            flush=True,
        )
    try:  # a refusal here (a newer mlplab's run) leaves no lock held in this process
        if not rerun:
            _say_what_continues(pending, verbose and backend == "local")
        else:
            _refuse_newer(pending)
        # --- record the spec ---------------------------------------------------------------
        if verbose and (drawn := other_draw_note(spec, Path(first.log_path) / first.exp_name)):
            print(terminal_text(f"mlplab: note: {drawn}"), flush=True)
        spec_new = not (Path(first.log_path) / first.exp_name / spec.file_name()).exists()
        spec_path = write_spec(spec, Path(first.log_path) / first.exp_name)
    except BaseException:
        locks.release()
        raise
    pending_ids = {run_name(c) for c in pending}
    taken = pending_ids | set(busy)
    skipped = [
        rid for rid in spec.run_ids if rid not in taken and (in_shard is None or rid in in_shard)
    ]
    groups = [[c.to_dict() for c in g] for g in stacks_of(pending)]
    if prune is not None and verbose and len(groups) > 1 and not (no_batch or group_size == 1):
        # (A stack of one config each is said above, with its reason.)
        print(
            f"mlplab: note: the prune rule sees one stack at a time: these {len(pending)} "
            f"configs train as {len(groups)} stacks ("
            + (
                f"group_size {group_size}"
                if group_size
                else "one per model shape, as memory allows"
            )
            + "), so a rule that ranks models ranks those of one stack "
            "(event.models.settings(id) gives each model's settings)",
            flush=True,
        )
    show = verbose if progress is None else progress
    # The runs whose data's note, printed above, names its target's scale as the cause of
    # a divergence, where a lower lr diverges again.
    noted = {
        run_name(c)
        for c in pending
        if verbose and _data_key(c) in scaled and not c.standardize_target
    }
    result = SweepResult(spec, configs, [], skipped, spec_path, rerun=rerun, busy=busy)
    result.skipped_pruned = len(pruned.intersection(skipped)) if prune is not None else 0
    if report and pending and backend == "local" and n_workers > 1:
        _import_report_soon()
    # --rerun: an interrupted run starts afresh too, as with `mlplab train --rerun`.
    group_fn = functools.partial(
        train_group, rerun=rerun, prune=prune, subscribers=subscribers, stop=stop
    )
    main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    if sigint is signal.SIG_IGN:
        # A script started in the background (`python search.py &`) inherits SIGINT
        # ignored. Taken back for the sweep, as `mlplab sweep` takes it back: the workers
        # take SIGINT all the same, so a `kill -INT` stopped them while this process
        # trained on to the end (a sweep in this process stopped: its runs handle it).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    trained = False  # whether every run has told how it ended
    try:
        try:
            with locks, _Progress(pending, spec.axes, show, rank_by) as bar, sigterm_stops():
                bar.say_start(
                    len(groups), n_workers, backend, Path(first.log_path) / first.exp_name
                )
                try:
                    if backend == "ray":
                        result.outcomes = _run_ray(
                            groups,
                            n_workers,
                            _noting(bar.done, noted),
                            address,
                            cpus_per_task,
                            gpus_per_task,
                            first.log_path,
                            rerun,
                            group_fn,
                            {run_name(c): digests[_data_key(c)] for c in pending},
                        )
                    else:
                        result.outcomes = run_local(
                            groups,
                            n_workers,
                            _noting(bar.done, noted),
                            group_fn,
                            stop,
                            bar.epochs_or_none(),
                        )
                except SweepInterrupted as stop:
                    result.outcomes = stop.outcomes
                    result.interrupted, result.stopped_by = True, stop.signal
                trained = True
                for outcome in result.outcomes:
                    _point_to_note(outcome, noted)
        except MlplabError:
            # Refused before any task was sent (no run of it has a folder): nothing stays.
            if backend == "ray" and not any(run_dir_of(c).exists() for c in pending):
                _undo_refused(spec_path if spec_new else None, made)
            raise
        except KeyboardInterrupt as cut:
            # A signal as the sweep closed its bar, its workers or its locks, once every
            # run had told how it ended: as one that came while the last plots drew.
            if not trained:
                raise
            if not result.interrupted:
                result.interrupted, result.stopped_by = True, signal_of(cut)
        with held_stops() as held:  # every run has ended: what follows cuts nothing short
            result.wall_time_s = time.monotonic() - began
            result.counts = _count(result, len(pending))
            # A signal that came once every run had ended (while the last stack's plots
            # drew) cut nothing short: the sweep is whole, and goes on to its report. It
            # stays named in stopped_by, and a script is still stopped below, as train()
            # stops it.
            late = result.interrupted and not result.counts["remaining"]
            late = late and result.stopped_by != "stop()"
            result.interrupted = result.interrupted and not late

            # --- summary ---------------------------------------------------------------------
            if verbose:
                print(result.summary(), flush=True)
                kept = _kept_without(c for c in configs if run_name(c) not in taken)
                if kept:
                    print(kept, file=sys.stderr, flush=True)
            # The caller's own stop() with verbose=False: it asked for the stop, and the
            # result says what remains (train() stays as quiet).
            if result.interrupted and (verbose or result.stopped_by != "stop()"):
                print(_interrupted_line(result, not _BY_COMMAND.get()), file=sys.stderr, flush=True)
            if late:
                print(f"mlplab: {_came_as_it_ended(result)}", file=sys.stderr, flush=True)
            rule_error = next(
                (
                    o["error"]
                    for o in result.outcomes
                    if str(o.get("error")).startswith("PruneError: ")
                ),
                None,
            )
            if rule_error is not None:
                # The caller's rule failed, as train(early_stop=...) raises it: a bug of the
                # search, which the sweep returned as failed runs (in silence, with
                # verbose=False). Every record is written: those the rule stopped are kept,
                # the others ended `failed`.
                raise PruneError(rule_error.removeprefix("PruneError: "))

            # --- report ----------------------------------------------------------------------
            # The sweep's tables (sweep_runs.npz, sweep_curves.npz) are a cache of the
            # records, which every report brings up to date. Without a report they are left
            # as they are: a search that calls sweep() once per batch would otherwise
            # re-encode the tables of every run already in the folder at each batch.
            folder = Path(first.log_path) / first.exp_name
            elsewhere = held_elsewhere(folder, result.busy) if report and result.busy else set()
            if elsewhere:
                # Runs of this sweep that another process is still training (an identical
                # sweep or an overlapping shard started alongside): a report now would
                # miss them, or be of nothing, and a script that read results.csv on
                # status 0 read a part of the sweep. The process that ends last, which
                # finds none held, writes the whole report.
                if verbose:
                    n = len(elsewhere)
                    print(
                        f"mlplab: no report yet: {n} run{'' if n == 1 else 's'} of this "
                        f"sweep {'is' if n == 1 else 'are'} still being trained by another "
                        f"process; `mlplab report {folder}` writes it once "
                        f"{'it has' if n == 1 else 'they have'} ended (a sweep that holds "
                        f"{'it' if n == 1 else 'them'} writes it as it ends; mlplab train "
                        "writes none)",
                        flush=True,
                    )
            elif report and not result.interrupted:  # a sweep cut short said so above
                late = _write_report(result, configs, first, spec, started, late, held, sigint,
                                     verbose, rank_by)  # fmt: skip
            if verbose and (line := _records_line(configs)):
                print(line, flush=True)
            late = _late_stop(result, held.seen, late)
        late = _late_stop(result, held.seen, late)  # one that came as the last line printed
    finally:
        # run_local ignores Ctrl-C from the stop until it has been said: the caller's
        # handler (a kernel's, the default) is back whatever happened meanwhile.
        if sigint is not None and signal.getsignal(signal.SIGINT) is not sigint:
            signal.signal(signal.SIGINT, sigint)
    if result.interrupted and handle_signals is None and result.stopped_by != "stop()":
        # As train(): returned, the stop would let a script or a notebook's next cells
        # (Run All) go on with a sweep half done.
        raise KeyboardInterrupt(
            f"sweep interrupted by {result.stopped_by or 'SIGINT'}: {result.summary()}; the "
            "same sweep() call again continues it (handle_signals=True returns the result)"
        )
    if late and handle_signals is None:  # as train(): the Ctrl-C still stops the script
        raise KeyboardInterrupt(f"{_came_as_it_ended(result)}: {result.summary()}")
    return result


@dataclass
class _Plan:
    """How a dry run's sweep would train: its stacks, workers, backend and folder."""

    stacks: int
    workers: int
    backend: str
    folder: Path
    shape: str
    rerun: bool


def _grid_shape(spec: SweepSpec, n: int) -> str:
    """A sweep's size in its own terms: axes by their values, a random search's samples,
    a list's rows."""
    if spec.search == "random":
        return f"{spec.trials} random samples"
    if spec.search == "list":
        return f"a list of {n} rows"
    sizes = " × ".join(f"{name} {len(v)}" for name, v in spec.axes.items() if isinstance(v, list))
    return sizes or "one config"


def _dry_run_line(
    plan: _Plan,
    configs: list[Config],
    pending: list[Config],
    finished: int,
    busy: set[str],
    pruned: int = 0,
) -> str:
    """What ``--dry_run`` prints: the sweep's size and what is left to train, where, and
    what another process trains or a checkpoint continues."""
    from mlplab.runs.record import read_result, run_dir_of, run_name

    n = len(configs)
    mine = [c for c in pending if run_name(c) not in busy]
    epochs, continued = 0, 0
    for c in mine:
        # On Ray a run trains from the start: its workers get no checkpoint.
        record = None if plan.rerun or plan.backend == "ray" else read_result(run_dir_of(c))
        if record is not None and record.get("status") == "interrupted":
            continued += 1  # it goes on from its checkpoint, for the epochs it lacks
            epochs += max(0, c.epoch - int(record.get("epochs_run") or 0))
        else:
            epochs += c.epoch
    left = len(mine)
    again = " again (--rerun)" if left and finished and plan.rerun else ""
    stacks = f"{plan.stacks} stacked model{'' if plan.stacks == 1 else 's'}"
    todo = (
        f"{left} to train{again}, {epochs:,} epochs, as {stacks}, "
        f"{_where_it_trains(plan.workers, plan.stacks, plan.backend)}"
        if left
        else "nothing to train"
    )
    if continued:
        todo += (
            " (1 continues from its checkpoint)"
            if continued == 1
            else f" ({continued} continue from their checkpoints)"
        )
    if busy:
        todo += f"; {len(busy)} being trained by another process, left to it"
    return (
        f"mlplab: dry run: {n} run{'' if n == 1 else 's'} ({plan.shape}) -> {plan.folder}/: "
        f"{finished - pruned} finished, "
        + (f"{pruned} pruned, " if pruned else "")
        + f"{todo}; nothing trained or written"
    )


def _write_report(
    result: SweepResult,
    configs: list[Config],
    first: Config,
    spec: SweepSpec,
    started: float,
    late: bool,
    held: HeldStops,
    sigint: Any,
    verbose: bool,
    rank_by: str | None,
) -> bool:
    """Write the finished sweep's report into ``result.report``; return whether a stop
    came once every run had ended (``late``, or one that came as the report's table
    printed). A stop while its files are written cuts the report short (``result`` then
    says interrupted): the caller's handlers are back meanwhile (``held.released``)."""
    from mlplab.reports.api import report as write_report

    order = list(spec.axes)
    folder = Path(first.log_path) / first.exp_name
    try:
        with held.released(sigint), sigterm_stops() as seen:
            result.report = write_report(
                folder, out=folder, verbose=verbose, order=order, rank_by=rank_by
            )
        if seen.received:  # its stop was raised where Python drops it (a GC callback)
            raise Terminated(seen.name)
    except KeyboardInterrupt as cut:
        # Every run has ended and its record is whole; the report's files are written
        # whole or not at all (summary.csv last), and `mlplab report` writes them anew.
        result.stopped_by = signal_of(cut)
        if _written_since(folder / "summary.csv", started):  # its table alone unprinted
            if not late:
                print(f"mlplab: {_came_as_it_ended(result)}", file=sys.stderr, flush=True)
            late = True
        else:
            result.interrupted = True
            print(
                f"mlplab: {result.stopped_by} came as the report was written: every run "
                "had ended and its record is complete, but the report is not written; "
                f"`mlplab report {folder}` writes it",
                file=sys.stderr,
                flush=True,
            )
    others = (
        # The whole sweep's runs: a shard's (--shard) other parts are this sweep's too.
        sum(len(sec.runs) for sec in result.report.sections) - len(spec.run_ids)
        if result.report is not None
        else 0
    )
    if verbose and others > 0:  # an exp_name shared with earlier runs (default: exp)
        print(
            f"mlplab: note: the report covers every run in {folder}, {others} of them "
            "not this sweep's; give the sweep its own --exp_name to report on it alone",
            flush=True,
        )
    return late


def _late_stop(result: SweepResult, held: list[str], late: bool) -> bool:
    """Whether a stop came once every run had ended, ``late`` or one of ``held`` (noted
    while the closing lines printed), which is said here as other late stops are."""
    if held and not result.interrupted and not late:
        result.stopped_by = held[0]
        print(f"mlplab: {_came_as_it_ended(result)}", file=sys.stderr, flush=True)
        return True
    return late


def _came_as_it_ended(result: SweepResult) -> str:
    """The line for a signal that came once every run of the sweep had ended."""
    return (
        f"{result.stopped_by} came as the sweep ended: every run had ended, and their "
        "records are complete"
    )


def _written_since(path: Path, started: float) -> bool:
    """Whether ``path`` was written since ``started`` (``time.time()``)."""
    try:
        return path.stat().st_mtime >= started
    except OSError:
        return False


def other_draw_note(spec: SweepSpec, folder: Path) -> str:
    """A random search whose configs are drawn from another seed than an earlier random
    search of the same distributions in ``folder`` (``--seed 3 4`` after ``--seed 0 1 2``):
    its configs are others, added to the experiment without a word; or ''."""
    import yaml

    if spec.search != "random":
        return ""
    mine = yaml.safe_load(yaml.safe_dump(spec.to_dict()))
    for path in sorted(folder.glob("sweep-*.yaml")):
        try:
            theirs = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(theirs, dict) or theirs.get("search") != "random":
            continue
        same = all(
            {k: v for k, v in (d.get(key) or {}).items() if k != "seed"}
            == {k: v for k, v in (mine.get(key) or {}).items() if k != "seed"}
            for d, key in ((theirs, "base"), (theirs, "axes"))
        )
        seed = theirs.get("sample_seed")
        if same and isinstance(seed, int) and seed != spec.sample_seed:
            return (
                f"these {spec.trials} configs are drawn from seed {spec.sample_seed}, the "
                f"smallest --seed; the random search recorded in {path.name} drew its own "
                f"from seed {seed}, so they are other configs; to add seeds to those, give "
                f"seeds whose smallest is {seed} (such as --seed {seed} ...)"
            )
    return ""


def _kept_without(skipped: Iterable[Config]) -> str:
    """A line for finished runs kept without the plots or snapshots asked of them now
    (``--plots png`` after a sweep with ``--plots none``), or ''. These settings are not
    part of a run's identity, so the runs were skipped; a look at their folders (no
    record read, but of a run that lacks them: a pruned run has no plots) tells which
    lack what was asked."""
    from mlplab.plots.recorder import SNAPSHOT_FILE
    from mlplab.runs.record import PRUNED, read_result, run_dir_of

    lacking: collections.Counter[str] = collections.Counter()
    example = None
    for c in skipped:
        run_dir = run_dir_of(c)
        missing = [
            flag
            for flag, asked, kept in (
                (f"--plots {c.plots}", c.plots != "none", (run_dir / "plots").is_dir()),
                (
                    f"--snapshot_every {c.snapshot_every}",
                    c.snapshot_every > 0,
                    (run_dir / SNAPSHOT_FILE).is_file(),
                ),
            )
            if asked and not kept
        ]
        if missing and (read_result(run_dir) or {}).get("status") == PRUNED:
            continue  # a pruned run gets no plots: it ended where a rule stopped it
        lacking.update(missing)
        example = example or (run_dir if missing else None)
    if not lacking:
        return ""
    without = " or ".join(f"{flag} ({n} run{'' if n == 1 else 's'})" for flag, n in lacking.items())
    return (
        f"mlplab: finished runs were kept as they were, without {without}; --rerun trains "
        f"them again, and `mlplab plot RUN_DIR` draws a kept run's plots (such as {example})"
    )


def _refuse_newer(pending: list[Config]) -> None:
    """Refuse a --rerun over a run a newer mlplab recorded (its config.yaml names a
    setting this one does not know), as `mlplab train --rerun` does: it was replaced."""
    from mlplab.errors import NewerRecord
    from mlplab.restore import record_config
    from mlplab.runs.record import run_dir_of

    for c in pending:
        if (run_dir_of(c) / "config.yaml").is_file():
            try:
                record_config(run_dir_of(c), rows=False)
            except NewerRecord:
                raise
            except MlplabError:
                continue  # unreadable: nothing to keep, as train --rerun finds it


def _say_what_continues(pending: list[Config], continues: bool) -> None:
    """Before training, as `mlplab train` says it of one run: the records that cannot be
    read (trained afresh), and, where the sweep continues runs (``continues``: a local
    one; on Ray they train from the start), how many continue from their checkpoints."""
    from mlplab.config import check_known_settings
    from mlplab.errors import MlplabError, NewerRecord
    from mlplab.restore import UNFINISHED
    from mlplab.runs.checkpoint import load_checkpoint
    from mlplab.runs.record import STATUSES, read_result, run_dir_of

    unreadable, damaged, continued = [], [], 0
    for c in pending:
        run_dir = run_dir_of(c)
        if not (run_dir / "result.json").exists():
            continue  # a run never started: nothing to say
        status = (read_result(run_dir) or {}).get("status")
        last = run_dir / "checkpoints" / "last.safetensors"
        if status not in STATUSES:  # cut short, edited, or with no status of a run
            unreadable.append(run_dir / "result.json")
        elif status in UNFINISHED and last.is_file():
            try:
                saved = load_checkpoint(last).meta.get("config")
                if isinstance(saved, dict):  # a newer mlplab's run: refused, not trained over
                    check_known_settings(saved, f"checkpoint {str(last)!r}")
                continued += 1
            except NewerRecord:
                raise
            except MlplabError as err:  # cut short or edited: the run trains afresh
                damaged.append(str(err))
    if continued and continues:
        n = continued
        print(
            f"mlplab: {n} unfinished run{'s' if n > 1 else ''} (interrupted, killed or failed) "
            f"continue{'' if n > 1 else 's'} from {'their' if n > 1 else 'its'} last "
            f"checkpoint{'s' if n > 1 else ''} (--rerun, rerun=True in Python, starts afresh)",
            flush=True,
        )
    if damaged and continues:
        print(
            f"mlplab: {len(damaged)} unfinished run{'s' if len(damaged) > 1 else ''} "
            f"cannot continue and train{'' if len(damaged) > 1 else 's'} afresh: "
            f"{damaged[0]}",
            file=sys.stderr,
            flush=True,
        )
    if unreadable:
        what = f"{len(unreadable)} runs' result.json files" if len(unreadable) > 1 else ""
        print(
            f"mlplab: {what or unreadable[0]} cannot be read as a run's record (damaged, "
            f"or without a status); {'those runs are' if what else 'the run there is'} "
            "trained afresh" + (f" (the first: {unreadable[0]})" if what else ""),
            file=sys.stderr,
            flush=True,
        )


def _interrupted_line(result: SweepResult, in_python: bool = False) -> str:
    """What an interrupted sweep left, and what running it again does: the same command,
    or (``in_python``: a script's or a notebook's ``sweep()``) the same call."""
    left = result.counts["remaining"]
    remain = f"{left} {'run remains' if left == 1 else 'runs remain'}"
    python = result.stopped_by == "stop()" or in_python  # the caller's own stop, in Python
    how = "stopped by stop()" if result.stopped_by == "stop()" else "interrupted"
    if not result.rerun:
        if python:
            return f"mlplab: sweep {how}; {remain}. The same sweep() call again trains only those."
        return (
            f"mlplab: sweep interrupted; {remain}. Run the same command again to train only those."
        )
    # A rerun trains every run again, so the same call cannot train only the rest; and
    # the runs it did not reach keep their records, finished ones included.
    same, flag = ("sweep() call", "rerun=True") if python else ("command", "--rerun")
    return (
        f"mlplab: sweep {how}; {left} runs were not trained again, and those that had "
        f"finished keep their records. The same {same} trains all {len(result.configs)} "
        f"again; without {flag} it trains only the runs that have not finished."
    )


def _import_report_soon() -> None:
    """Import what the report needs (pandas, matplotlib, scipy.special: ~0.7 s) on a
    thread of this process while the workers train, which leaves this process idle; the
    report at the end then starts at once. A failed import is left for the report to raise."""

    def load() -> None:
        with contextlib.suppress(Exception):
            import matplotlib.figure  # noqa: F401
            import rich.table  # noqa: F401
            import scipy.special  # noqa: F401  (the t quantiles of the intervals)

            import mlplab.plots.style
            import mlplab.reports.api
            import mlplab.reports.plots  # noqa: F401

    threading.Thread(target=load, name="mlplab-report-imports", daemon=True).start()


def _records_line(configs: list[Config]) -> str:
    """The closing line: where the sweep's run records and plots are (those that exist);
    "" where none does."""
    from mlplab.runs.record import run_dir_of

    dirs = [d for d in map(run_dir_of, configs) if (d / "result.json").is_file()]
    if not dirs:  # every run another sweep's, none recorded yet: "0 run records" misread
        return ""
    plots = sum((d / "plots").is_dir() for d in dirs)
    # Runs that failed before a checkpoint (a cluster that stopped) have none to name.
    saved = sum((d / "checkpoints").is_dir() for d in dirs)
    folder = Path(configs[0].log_path) / configs[0].exp_name
    kept = "" if not saved else ", checkpoints/" if saved == len(dirs) else (
        f"; checkpoints/ in {saved} of them"
    )  # fmt: skip
    what = "result.json" + kept + (f"; plots/ in {plots} of them" if plots else "")
    return f"mlplab: {len(dirs)} run record{'s' if len(dirs) != 1 else ''} in {folder}/, a folder per run ({what})"


# Whether `mlplab sweep` runs the sweep, whose interrupted line then says "the same
# command", where a script's sweep() (handle_signals=True too) is told "the same call".
_BY_COMMAND: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sweep_by_command", default=False
)


def sweep_command(
    config_path: str | None, settings: dict[str, Any], options: dict[str, Any]
) -> int:
    """``mlplab sweep``: flags (lists of strings) and sweep options -> exit status."""
    quiet = bool(options.get("quiet"))
    token = _BY_COMMAND.set(True)  # its lines say "the same command", not "the same call"
    try:
        result = sweep(
            config_path,
            search=options.get("search"),
            trials=options.get("trials"),
            workers=options.get("workers"),
            rerun=bool(options.get("rerun")),
            backend=options.get("backend") or "local",
            address=options.get("address"),
            group_size=options.get("group_size"),
            no_batch=bool(options.get("no_batch")),
            shard=options.get("shard"),
            # `or` would read a 0 given as the default: --cpus_per_task 0 ran with 1.
            cpus_per_task=float(_given(options.get("cpus_per_task"), 1.0)),
            gpus_per_task=float(_given(options.get("gpus_per_task"), 0.0)),
            report=not options.get("no_report"),
            rank_by=options.get("rank_by"),
            dry_run=bool(options.get("dry_run")),
            verbose=not quiet,
            progress=not quiet,
            handle_signals=True,  # the exit status says how it ended
            **settings,
        )
    finally:
        _BY_COMMAND.reset(token)
    if result.dry_run:
        if quiet:
            print(result.summary(), flush=True)
        return 0
    with held_stops():  # as sweep() closes: a stop now cuts nothing short
        if quiet:
            print(result.summary(), flush=True)
        _say_failed(result.outcomes)
    if result.exit_code == 0 and result.stopped_by in EXIT_FOR_SIGNAL:
        # A Ctrl-C (SIGTERM, SIGHUP) that came once every run had ended (and the report was
        # written): the work is whole, and the command still exits as stopped by it (130 by
        # SIGINT itself, mlplab.cli.run; 143, 129), as train does, so that a script's loop
        # of sweeps, or a scheduler's job, stops with it rather than go on.
        return EXIT_FOR_SIGNAL[result.stopped_by]
    return result.exit_code


# Failed runs named on stderr at a sweep's end; past this, how many more.
MAX_FAILED_NAMED = 10


def _say_failed(outcomes: list[Outcome]) -> None:
    """The runs that failed or diverged, one line each with why, on stderr: where a script
    reads errors (with --quiet, nowhere else), and a recap of lines long scrolled away."""
    failed = [o for o in outcomes if o.get("status") in ("failed", "diverged")]
    sys.stdout.flush()
    for o in failed[:MAX_FAILED_NAMED]:
        why = o.get("error") or ""
        print(f"mlplab: {o['run_id']} {o['status']}{': ' + why if why else ''}", file=sys.stderr)
    if len(failed) > MAX_FAILED_NAMED:
        more = len(failed) - MAX_FAILED_NAMED
        print(f"mlplab: and {more} more failed or diverged (their result.json)", file=sys.stderr)
    sys.stderr.flush()


def _given(value: Any, default: float) -> Any:
    return default if value is None else value


def write_spec(spec: SweepSpec, folder: Path) -> Path:
    """Write the spec as ``folder/sweep-<hash>.yaml`` (atomically); return its path."""
    import yaml

    from mlplab import __version__
    from mlplab.runs.atomic import atomic_write_text

    path = folder / spec.file_name()
    spec_dict = {**spec.to_dict(), "mlplab_version": __version__}
    text = yaml.safe_dump(spec_dict, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)
    return path


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder`` and those above it that does not exist yet."""
    missing = None
    for path in [folder, *folder.parents]:
        if path.exists() or path.is_symlink():
            return missing
        missing = path
    return missing


def _undo_refused(spec_path: Path | None, made: Path | None) -> None:
    """Remove what a sweep wrote before its backend refused it: its new spec, and the
    folders it made (its lock file in them), where nothing else is in them."""
    if spec_path is None:  # an earlier sweep's folder: it stays as it was
        return
    folder = spec_path.parent
    with contextlib.suppress(OSError):
        spec_path.unlink()
        if made is not None and {p.name for p in folder.iterdir()} <= {".sweep.lock"}:
            (folder / ".sweep.lock").unlink(missing_ok=True)
            while folder != made.parent and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent


def _kept_search(
    kept: Mapping[str, Any], search: str | None, trials: int | None, file: str
) -> tuple[str | None, int | None, dict[str, str]]:
    """The search and trials of a sweep's YAML file or record (``kept``) under the flags'
    (None: not given), and how a refusal names the file's (``{"trials": "lab.yaml:
    setting 'trials'"}``). A flag wins; the file's trials go with its random search, so a
    flag that asks another search leaves them (`--search grid` over a random record)."""
    where = f"{shorten(file, 300)}: setting"
    named = {}
    kept_search = kept.get("search")
    if isinstance(kept_search, str):
        kept_search = kept_search.strip().lower()  # as every choice, in any case
    asked = search is not None
    if not asked and kept_search is not None:
        search, named["search"] = kept_search, f"{where} 'search'"
    if trials is None and kept.get("trials") is not None and (not asked or search == "random"):
        trials, named["trials"] = kept["trials"], f"{where} 'trials'"
    return search, trials, named


def _record_log_path(record: str | os.PathLike[str], base: Mapping[str, Any]) -> str:
    """The log_path a sweep's record given back trains in: the folder above its own,
    LOG_PATH/EXP_NAME/sweep-HASH.yaml. Where its folder is not named as its exp_name (a
    copy elsewhere, an experiment folder renamed), refused: trained again, every run would
    go to a folder of that name beside it."""
    # Its own exp_name's folder (not a flag's): as written (`cd runs/g`, a link to it),
    # or where links lead.
    exp_name = base.get("exp_name", Config.model_fields["exp_name"].default)
    places = [Path(os.path.abspath(record)).parent, Path(os.path.realpath(record)).parent]
    for place in places:
        if place.name == exp_name:
            return str(place.parent)
    raise ConfigError(
        f"{shorten(os.fspath(record), 300)}: a sweep's record of exp_name {exp_name!r} lies "
        f"in {shorten(str(places[0]), 300)!r}, not in a folder {exp_name!r} of its runs; give "
        "it back from its experiment's folder, or give --log_path (and --exp_name) to train "
        "that sweep elsewhere"
    )


def _data_here(record: str | os.PathLike[str], data: Any) -> None:
    """Refuse a sweep's record given back away from the folder its relative data path
    is relative to, naming that folder where one above the record holds the file: the
    path is part of each run's identity, so it is not rewritten to be found."""
    if not isinstance(data, str) or data in BUILTIN or os.path.isabs(data) or "~" in data:
        return
    if os.path.exists(data):
        return
    for folder in Path(os.path.abspath(record)).parents:
        if (folder / data).is_file():
            raise ConfigError(
                f"{shorten(os.fspath(record), 300)}: its data file {data!r} is relative to "
                f"the folder the sweep ran in, {shorten(str(folder), 300)!r}, not to this "
                "one: give the record back from there"
            )


def _base_settings(
    config: str | Path | dict[str, Any] | argparse.Namespace | Config | None,
) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, Config):
        return config.to_dict()
    if isinstance(config, argparse.Namespace) and "config" in vars(config):
        # A student's own parser with --config: the YAML, its other flags given over it
        # (None: a flag not given), as load_config reads such args.
        args = vars(config)
        given = {k: v for k, v in args.items() if k != "config" and v is not None}
        return {**_base_settings(args["config"]), **given}
    if isinstance(config, argparse.Namespace):  # the lecture's args: None, a flag not given
        return {k: v for k, v in vars(config).items() if v is not None}
    if isinstance(config, dict):
        return dict(config)
    if not isinstance(config, str | os.PathLike):
        raise ConfigError(
            f"sweep: config {short_repr(config)} ({type(config).__name__}) is not accepted; "
            "give a Config, a dict of settings (or an argparse.Namespace), or the path of a "
            "YAML file"
        )
    from mlplab.assemble import refuse_dataset_name  # not at import: a sweep's start

    refuse_dataset_name(config)
    values = read_yaml(config)
    mappings = all(isinstance(values.get(k), dict) for k in ("base", "axes"))
    if values.keys() >= SPEC_KEYS and not mappings:
        raise ConfigError(
            f"sweep: {shorten(str(config), 300)} looks like a sweep's record "
            "(sweep-HASH.yaml) but its 'base' or 'axes' is not a mapping of settings"
        )
    return values


# The facts a sweep's record (write_spec) keeps beside its keys (config.SPEC_KEYS).
SPEC_FACTS = ("search", "trials", "sample_seed", "mlplab_version")


def _shard(shard: Any) -> tuple[int, int]:
    """``"I/N"`` as (I, N), 0 <= I < N, or one line naming the setting."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(shard))
    if match is None or int(match[2]) < 1 or int(match[1]) >= int(match[2]):
        raise ConfigError(
            f"--shard: {short_repr(shard)} is not I/N with 0 <= I < N (the I-th of N parts, "
            "counted from 0: a job array's --array=0-(N-1) gives $SLURM_ARRAY_TASK_ID)"
        )
    return int(match[1]), int(match[2])


def _data_key(cfg: Config) -> str:
    # Each distinct data is loaded once before the sweep starts, so that a bad data file
    # stops it with one line, not N failed runs.
    from mlplab.assemble import LOADING_SETTINGS

    return repr([getattr(cfg, k) for k in LOADING_SETTINGS])


def _check_data(
    configs: list[Config], verbose: bool = False
) -> tuple[dict[str, int], dict[str, str | None], set[str], list[str], set[str]]:
    """Load each distinct dataset once; a bad one raises its one-line DataError now.

    Returns the training rows of each, by :func:`_data_key`, for sizing the groups, the
    digest of a data file's rows (None for built-in sets), the task kinds
    (classification, regression) of the runs, the notes each data gets in `mlplab
    train` (a class a split lacks, a target far from order 1), once each: a sweep's runs
    print none, and the keys of the data whose note names its target's scale. Data past a config's dtype (1e40 in float32) is refused here too: in
    the runs, each failed alone after the other.
    """
    from mlplab.assemble import check_castable, check_snapshot_frames, load_data
    from mlplab.console import say_reading, target_scale_start_note
    from mlplab.data.dataset import missing_class_notes

    rows: dict[str, int] = {}
    digests: dict[str, str | None] = {}
    kinds: set[str] = set()
    notes: dict[str, None] = {}  # in order, each once
    scaled: set[str] = set()
    from mlplab.assemble import LOADING_SETTINGS

    # Each note names the data it is of, by the loading settings that differ among the
    # runs (`data_seed 3, stratify false: ...`): two notes of one class with opposite
    # causes read as a contradiction where they were of two splits.
    varying = [k for k in LOADING_SETTINGS if len({repr(getattr(c, k)) for c in configs}) > 1]
    dtypes: dict[str, set[str]] = {}  # by key: one dataset in memory at a time
    inputs: dict[str, int] = {}  # by key: the data's raw input columns
    raw_target: set[str] = set()  # the keys some of whose runs train on the target unscaled
    for cfg in configs:
        dtypes.setdefault(_data_key(cfg), set()).add(cfg.dtype)
        if not cfg.standardize_target:
            raw_target.add(_data_key(cfg))
    for cfg in configs:
        key = _data_key(cfg)
        if key not in rows:
            if verbose:
                say_reading(cfg.data)
            data = load_data(cfg)
            rows[key], digests[key] = len(data.y_train), data.digest
            kinds.add("regression" if data.task == "regression" else "classification")
            for dtype in sorted(dtypes[key]):
                check_castable(data, dtype)
            said = [*data.notes, *missing_class_notes(data, cfg.split_by, cfg.stratify)]
            # Of the target as the runs that do not scale it see it: the data was loaded
            # with the first config's standardize_target, and a sweep of `true false`
            # lost the note (and `false true` sent scaled runs to it).
            scale = target_scale_start_note(dataclasses.replace(data, target_scaler=None))
            if scale and key in raw_target:
                said.append(scale)
                scaled.add(key)
            which = ", ".join(f"{k} {as_typed(getattr(cfg, k))}" for k in varying)
            notes.update(dict.fromkeys(f"{which}: {n}" if which else n for n in said))
            inputs[key] = len(data.input_names)
    for cfg in configs:  # each run's frames, before any trains (as train checks them)
        check_snapshot_frames(cfg, rows[_data_key(cfg)], inputs[_data_key(cfg)])
    return rows, digests, kinds, list(notes), scaled


def _note_unused(configs: list[Config]) -> None:
    """As `mlplab train` notes them: settings that some runs' models do not use (``--mm`` of
    adam). Runs that differ only in them train the same model."""
    from mlplab.config import optimizer_notes

    # As train notes them too: an exponential schedule spent early, adamw without decay
    # (a sweep of adamw and adam showed equal numbers in every column, unexplained).
    told = collections.Counter(note for cfg in configs for note in optimizer_notes(cfg))
    for note, n in told.most_common(3):
        print(f"mlplab: note: {note} (in {n} of {len(configs)} runs)", flush=True)
    counts = collections.Counter(note for cfg in configs for note in cfg.unused_settings())
    if counts:
        shown = [f"{note} in {n} of {len(configs)} runs" for note, n in counts.most_common(4)]
        more = f"; and {len(counts) - 4} more" if len(counts) > 4 else ""
        print(
            f"mlplab: note: not used by some runs: {'; '.join(shown)}{more} (runs that differ "
            "only in such settings train the same model)",
            flush=True,
        )


def _claimed_runs(
    configs: list[Config], ended: tuple[str, ...]
) -> tuple[list[Config], set[str], set[str]]:
    """``configs``, each with a run id whose folder holds no other config's run (8 hex
    digits where another's holds its 6: :func:`mlplab.restore.claim_run_id`), the run
    ids of those whose folder holds their own run, ended with a status in ``ended``, and
    the run ids of those that a prune rule stopped."""
    from mlplab.restore import claim_run_id
    from mlplab.runs.record import PRUNED, read_result, run_dir_of, run_name

    taken: dict[str, str] = {}
    records: dict[Path, Any] = {}
    placed = [claim_run_id(c, taken, records) for c in configs]
    done, pruned = set(), set()
    for c in placed:
        run_dir = run_dir_of(c)
        record = records[run_dir] if run_dir in records else read_result(run_dir)
        status = (record or {}).get("status")
        if status == PRUNED:
            pruned.add(run_name(c))
        if status in ended:
            done.add(run_name(c))
    return placed, done, pruned


def _importable(fn: Callable[..., Any]) -> bool:
    """Whether a worker process can unpickle ``fn``: by reference to an importable module,
    not to ``__main__`` (a script's or a notebook's), and not a lambda."""
    import pickle

    try:
        data = pickle.dumps(fn)
    except Exception:  # a lambda or a local function: pickle names no module for it
        return False
    return b"__main__" not in data


def _refuse_changed_data(configs: list[Config], digests: dict[str, str | None]) -> None:
    """As `mlplab train`: a finished run of a data file whose rows have changed since is not
    skipped as if it were this sweep's run (its checkpoint keeps the rows' digest)."""
    from mlplab.errors import CheckpointError, DataError
    from mlplab.runs.checkpoint import load_checkpoint
    from mlplab.runs.record import is_finished, read_result, refuse_others_run, run_dir_of

    stale = []
    for cfg in configs:
        digest = digests[_data_key(cfg)]
        run_dir = run_dir_of(cfg)
        last = run_dir / "checkpoints" / "last.safetensors"
        finished = is_finished(run_dir)
        if not digest or not (finished or last.is_file()):
            continue
        with contextlib.suppress(CheckpointError):  # no model to pass off: left as before
            if load_checkpoint(last).meta.get("data_digest") in (None, digest):
                continue
            # Another user's run of their own file of that name (a shared log_path): not
            # to be replaced, finished or not, as `mlplab train` refuses it too.
            status = str((read_result(run_dir) or {}).get("status"))
            refuse_others_run(cfg, run_dir, {"running": "unfinished"}.get(status, status))
            if finished:
                stale.append((cfg.data, run_dir))
    if stale:
        (data, run_dir), n = stale[0], len(stale)
        raise DataError(
            f"data file {data!r} has changed since {n} finished run{'' if n == 1 else 's'} "
            f"of this sweep trained on it (e.g. {run_dir}): give --rerun (rerun=True) to "
            "train again on the file as it is now, or put back the file they trained on"
        )


def _run_ray(
    groups: list[list[dict[str, Any]]],
    workers: int,
    on_done: Any,
    address: str | None,
    cpus_per_task: float,
    gpus_per_task: float,
    log_path: str,
    rerun: bool,
    group_fn: Any,
    data_digests: dict[str, str | None],
) -> list[Outcome]:
    # The backend imports Ray itself, and says how to install it when it is missing.
    from mlplab.sweeps.ray_backend import run_on_ray

    return run_on_ray(
        groups,
        log_path=log_path,
        address=address,
        cpus_per_task=cpus_per_task,
        gpus_per_task=gpus_per_task,
        on_result=on_done,
        rerun=rerun,
        # A local Ray instance gets as many CPUs as local workers would.
        num_cpus=workers if address is None else None,
        group_fn=group_fn,
        # Each node checks its copy of a data file against the rows read here.
        data_digests=data_digests,
    )


def _count(result: SweepResult, n_pending: int) -> dict[str, int]:
    statuses = [o["status"] for o in result.outcomes]
    return {
        "trained": statuses.count("finished"),
        "skipped": len(result.skipped),
        "busy": len(result.busy),
        "failed": statuses.count("failed"),
        "diverged": statuses.count("diverged"),
        "interrupted": statuses.count("interrupted"),
        "pruned": statuses.count("pruned"),
        # Interrupted runs and runs never reached are what a re-run will train.
        "remaining": n_pending - len(statuses) + statuses.count("interrupted"),
    }


def _where_it_trains(workers: int, stacks: int, backend: str) -> str:
    if backend == "ray":
        return "on Ray"
    if workers > 1 and stacks > 1:
        return f"{min(workers, stacks)} at a time in worker processes"
    return "in this process"


class _Progress:
    """A rich bar on an interactive terminal, a live view in Jupyter (runs done, time left,
    the best run so far), else one line per finished run.

    It counts the outcomes :func:`run_local` (or Ray) hands to :meth:`done`: those of a
    group once its stack has ended, whether it trained in this process or in a worker.
    The bar, and the time left, follow the epochs: each run's ``epoch`` of the total, as
    :meth:`epochs` is told them while its stack trains (by :func:`run_local`, in this
    process or from a worker; not on Ray), and all of them once the run has ended. Off a
    terminal a line says each quarter of the epochs trained, where nothing was printed for
    :attr:`QUIET_S` seconds, and the share trained where nothing was for
    :attr:`HEARTBEAT_S`, each with the time left. ``configs`` and ``axes`` name each run in
    the live view by its values on the axes."""

    QUIET_S = 30.0
    # A log silent this long is read as a hung job (CI services stop one after 10 minutes
    # of silence): a 2-hour sweep's quarters are half an hour apart.
    HEARTBEAT_S = 120.0

    def __init__(
        self, configs: list[Config], axes: Iterable[str], show: bool, rank_by: str | None = None
    ) -> None:
        from mlplab.console import interactive, narrow_terminal
        from mlplab.live import in_jupyter
        from mlplab.runs.record import run_name

        self.total = len(configs)
        self.show = show and self.total > 0
        self.count = 0
        # Each run's epochs, by run id: only where progress shows (a hash is ~50 us, half a
        # second of a 10,000-config sweep's start).
        names = [run_name(c) for c in configs] if self.show else []
        self.planned = {name: c.epoch for name, c in zip(names, configs, strict=False)}
        self.trained = dict.fromkeys(self.planned, 0)  # those it has trained in this sweep
        self.base: dict[str, int] = {}  # those a resumed run had trained before
        self.all_epochs = max(1, sum(self.planned.values()))
        self.epochs_done = 0
        self._quarter = 0  # quarters of the epochs trained
        self._started = self._said = time.monotonic()  # the start; the last line printed
        self._bar: Any = None
        self._view: Any = None
        if self.show and in_jupyter():
            from mlplab.live import SweepView
            from mlplab.reports.aggregate import ranking_metric, tie_break

            def value(v: Any) -> str:  # a random search's lr 0.012345678 as 0.01235
                return f"{v:.4g}" if isinstance(v, float) else str(v)

            labels = {
                name: ", ".join(f"{a} {value(getattr(c, a))}" for a in axes)
                for name, c in zip(names, configs, strict=True)
            }

            def kind(metrics: Mapping[str, float]) -> str:
                return "classification" if "val_acc" in metrics else "regression"

            def ranking(metrics: Mapping[str, float]) -> tuple[str, bool]:
                return ranking_metric(kind(metrics), rank_by)

            self._view = SweepView(
                self.total,
                labels,
                # As the report ranks: val_acc for a classifier, val_mse for a regressor
                # (or rank_by), and ties by val_loss (val_mae), so that both name the same
                # best run.
                ranking,
                tie=lambda m: tie_break(kind(m), ranking(m)[0]),
            )
        elif self.show and interactive():
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            runs = TextColumn(f"{{task.fields[runs]}}/{self.total} runs")
            percent = TextColumn("{task.percentage:>3.0f}%")
            # The last run's line, as text: a failed run's error may name a path with
            # brackets, which as markup stopped the bar.
            last = TextColumn("{task.fields[last]}", markup=False)
            left = TimeRemainingColumn()
            wide = (
                TextColumn("sweep"),
                runs,
                BarColumn(),
                percent,
                TimeElapsedColumn(),
                left,
                last,
            )
            # A narrow terminal keeps the runs, the share of epochs and the time left.
            columns = (runs, percent, left) if narrow_terminal() else wide
            self._bar = Progress(*columns, transient=True)

    def __enter__(self) -> _Progress:
        if self._view is not None:
            self._view.start()
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("sweep", total=self.all_epochs, runs=0, last="")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._view is not None:
            self._view.finish()
        if self._bar is not None:
            self._bar.stop()

    def epochs_or_none(self) -> Callable[[list[str], int], None] | None:
        """:meth:`epochs`, where progress shows; else None (no run tells its epochs)."""
        return self.epochs if self.show else None

    def epochs(self, run_ids: list[str], epochs: int) -> None:
        """The runs ``run_ids``, of a stack in training, have trained ``epochs`` epochs."""
        quarter = self._count_epochs(dict.fromkeys(run_ids, epochs))
        if self._bar is not None or self._view is not None:
            return
        quiet = time.monotonic() - self._said
        share = self.epochs_done / self.all_epochs
        if (quarter and quarter < 4 and quiet >= self.QUIET_S) or (
            quiet >= self.HEARTBEAT_S and 0 < share < 1
        ):
            took = time.monotonic() - self._started
            pct = 25 * quarter if quarter else int(100 * share)
            self._say(
                f"[{self.count}/{self.total}] {pct}% of the sweep's epochs trained "
                f"({took:.0f} s, about {took * (1 - share) / share:.0f} s left)"
            )

    def _count_epochs(self, trained: Mapping[str, int], told: bool = True) -> int:
        """Count ``trained`` (epochs by run id) on the bar; the quarter of all the epochs
        now reached, where this passed one, else 0.

        A run's first word (``told``, at its stack's start) says where it starts: a
        resumed run's epochs before its checkpoint are an earlier sweep's work, and counted
        as done now, they made the time left a tenth of the truth. They leave the total."""
        for run_id, n in trained.items():
            if run_id not in self.trained:
                continue
            if told and run_id not in self.base:
                self.base[run_id] = min(n, self.planned[run_id])
                self.all_epochs = max(1, self.all_epochs - self.base[run_id])
            base = self.base.get(run_id, 0)
            n = min(max(n - base, self.trained[run_id]), self.planned[run_id] - base)
            self.epochs_done += n - self.trained[run_id]
            self.trained[run_id] = n
        if self._bar is not None:
            self._bar.update(self._task, total=self.all_epochs, completed=self.epochs_done)
        if self._view is not None:
            self._view.trained(self.epochs_done / self.all_epochs)
        quarter = 4 * self.epochs_done // self.all_epochs
        passed, self._quarter = quarter > self._quarter, max(quarter, self._quarter)
        return quarter if passed else 0

    def _say(self, line: str) -> None:
        print(line, flush=True)
        self._said = time.monotonic()

    def say_start(self, stacks: int, workers: int, backend: str, folder: Path) -> None:
        """Where no bar or view shows it, a first line of what the sweep trains, how, and
        where: a log had said nothing until a run ended, or a quarter of the epochs was
        trained (half an hour into a 2-hour sweep)."""
        if not self.show or self._bar is not None or self._view is not None:
            return
        runs = self.total
        self._say(
            f"mlplab: sweep of {runs} run{'' if runs == 1 else 's'} as {stacks} stacked "
            f"model{'' if stacks == 1 else 's'}, {_where_it_trains(workers, stacks, backend)} "
            f"-> {folder}/"
        )

    def done(self, outcome: Outcome) -> None:
        self.count += 1
        if not self.show:
            return
        if outcome["status"] != "interrupted":  # one interrupted remains to train
            self._count_epochs(
                {outcome["run_id"]: self.planned.get(outcome["run_id"], 0)}, told=False
            )
        line = terminal_text(_outcome_line(outcome))
        if self._view is not None:
            self._view.done(outcome)
            if outcome["status"] != "finished":  # as under the bar: what went wrong stays
                print(line, flush=True)
        elif self._bar is not None:
            self._bar.update(self._task, runs=self.count, last=line)
            if outcome["status"] != "finished":
                self._bar.console.print(line, highlight=False, markup=False)
        else:
            self._say(f"[{self.count}/{self.total}] {line}")


def _point_to_note(outcome: Outcome, noted: set[str]) -> None:
    """A diverged run of ``noted`` (their data's note names the cause) points to the note
    rather than advising a lower lr."""
    error = outcome.get("error")
    if outcome["run_id"] in noted and outcome["status"] == "diverged" and LOWER_LR in str(error):
        outcome["error"] = note_says_why(str(error))


def _noting(done: Callable[[Outcome], None], noted: set[str]) -> Callable[[Outcome], None]:
    """``done``, told each outcome as :func:`_point_to_note` leaves it."""

    def told(outcome: Outcome) -> None:
        _point_to_note(outcome, noted)
        done(outcome)

    return told


def _outcome_line(outcome: Outcome) -> str:
    secs = outcome.get("wall_time_s")
    took = f" in {secs:.1f} s" if isinstance(secs, int | float) else ""
    err = f": {outcome['error']}" if outcome.get("error") else ""
    return f"{outcome['run_id']} {outcome['status']}{took}{err}"
