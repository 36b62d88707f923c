"""Run a sweep's groups on this machine: in-process, or in a pool of worker processes.

The unit of work is a **group**: a list of config dicts that one worker trains by
:func:`train_group`. Today it trains them one after another; a batched trainer that trains
a whole group at once replaces the body of that one function.

Workers are separate processes, ``python -m mlplab.sweeps.worker`` (see :class:`_Worker`),
fed pickled groups on their stdin: they never import the caller's ``__main__``, so a
script without an ``if __name__ == "__main__":`` guard, ``python - < script.py``, a
notebook and a REPL all sweep alike. Each worker is limited to one math thread, so N
workers use N cores, not N². ``workers=1`` runs in this process with no pool, which is
also what tests use.

Failure handling:

- a run that raises or diverges is recorded by ``train`` itself (``failed``/``diverged``);
- a worker process that dies ends the runs it had started as their records say (a run
  still ``running`` fails with error ``worker process died``); the runs of its group it
  had not started go to a fresh worker (once); the other workers go on;
- Ctrl-C: pending groups are cancelled, running ones stop at a step boundary with a
  checkpoint (status ``interrupted``), and :class:`SweepInterrupted` carries what finished.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlplab.training.events import Prune, Subscriber

Outcome = dict[str, Any]
OnDone = Callable[[Outcome], None]
# on_epochs(run_ids, epochs): the runs of a stack in training have trained that many epochs.
OnEpochs = Callable[[list[str], int], None]
# group_fn(configs, on_done=None, on_epochs=None) -> outcomes; module-level so a spawned
# worker can import it.
GroupFn = Callable[..., list[Outcome]]

WORKER_DIED = "worker process died"
KILLED_AT_STOP = (
    "stopped at once by a second Ctrl-C; training it again continues from its last "
    "checkpoint (--save_every), else from the start"
)
# Seconds to let interrupted workers checkpoint before they are terminated.
STOP_GRACE_S = 10.0
# How the sweep passes its own SIGINT on to its workers (runner.StopFlag.relay): their
# runs are then named SIGINT, and the terminal's Ctrl-C that may reach them as well is
# not taken for a second one. SIGTERM is passed on as SIGTERM.
RELAY_SIGINT = signal.SIGUSR1
# How often a group whose worker died is handed to a fresh pool before its runs fail.
MAX_POOL_RETRIES = 1
# Math libraries read these when they load: one thread per worker process.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Set in a worker process once a stop was asked for (Ctrl-C): groups that reach it later
# (the pool hands out one more than it has workers, and those cannot be cancelled)
# return at once instead of starting new runs.
_stopping = False
_sweep_pid: int | None = None  # the process that started this worker (see init_worker)
# Where a worker tells the sweep how far its stacks have trained (see _Worker), if it does.
_epochs_fd: int | None = None


class SweepInterrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the sweep; ``outcomes`` holds the runs that ended
    before it, ``signal`` names the signal (``SIGINT`` or ``SIGTERM``)."""

    def __init__(self, outcomes: list[Outcome], signal: str = "SIGINT") -> None:
        self.outcomes = outcomes
        self.signal = signal
        super().__init__("sweep interrupted")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) to the sweep's process, raised where Ctrl-C would be
    (:func:`sigterm_stops`); its argument names the signal."""


def signal_of(stop: KeyboardInterrupt, sigterm: SigtermSeen | None = None) -> str:
    """The signal behind a KeyboardInterrupt in the sweep's process. ``sigterm``: what
    :func:`sigterm_stops` saw, for callers whose library re-raises a plain
    KeyboardInterrupt in place of :class:`Terminated` (Ray's ``wait`` does)."""
    if isinstance(stop, Terminated):
        return str(stop.args[0]) if stop.args else "SIGTERM"
    return sigterm.name if sigterm is not None and sigterm.received else "SIGINT"


class SigtermSeen:
    """Whether :func:`sigterm_stops` has turned a SIGTERM (or SIGHUP) into a stop."""

    received = False
    name = "SIGTERM"


@contextlib.contextmanager
def sigterm_stops() -> Iterator[SigtermSeen]:
    """While the sweep trains, SIGTERM to its process stops it as Ctrl-C does, and so does
    SIGHUP (a closed terminal, a dropped ssh session), which killed it with no word.

    Without this, SIGTERM (``kill PID``, a scheduler's stop) ended the sweep's process
    with no word of what remains, and on Ray the handler ``ray.init`` installs dumped a
    stack trace and aborted. A repeated SIGTERM is ignored once the stop is under way:
    schedulers send it again while they wait. Only in the main thread, where handlers
    can be set; the previous handler is put back on the way out.
    """
    seen = SigtermSeen()
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handle(signum: int, frame: Any) -> None:
        if not seen.received:
            seen.received, seen.name = True, signal.Signals(signum).name
            raise Terminated(seen.name)

    from mlplab.runner import stop_signals

    previous = {
        sig: signal.signal(sig, handle) for sig in stop_signals((signal.SIGTERM, signal.SIGHUP))
    }
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class HeldStops:
    """The signals :func:`held_stops` noted (``seen``, by name), and a way to let them
    through for a while (:meth:`released`)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.previous: dict[int, Any] = {}

    def note(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if name == "SIGINT" and name in self.seen:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once, as in training
        self.seen.append(name)

    @contextlib.contextmanager
    def released(self, sigint: Any) -> Iterator[None]:
        """The caller's SIGINT handler (``sigint``) and the earlier others, meanwhile: for
        work that a stop may cut short, such as a sweep's report."""
        if not self.previous:
            yield
            return
        for sig, handler in self.previous.items():
            signal.signal(sig, sigint if sig == signal.SIGINT and sigint is not None else handler)
        try:
            yield
        finally:
            for sig in self.previous:
                signal.signal(sig, self.note)


@contextlib.contextmanager
def held_stops() -> Iterator[HeldStops]:
    """While a sweep whose runs have all ended closes (its summary, tables and last
    lines), Ctrl-C, SIGTERM and SIGHUP are noted, not raised: raised, they cut nothing
    short but those lines, and the sweep exited 130 with every run finished. A second
    Ctrl-C stops at once. Only in the main thread; the previous handlers are put back on
    the way out."""
    held = HeldStops()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    from mlplab.runner import stop_signals

    held.previous = {sig: signal.signal(sig, held.note) for sig in stop_signals()}
    try:
        yield held
    finally:
        for sig, handler in held.previous.items():
            signal.signal(sig, handler)


class CallerHooks:
    """The caller's own subscribers and stop, for one group, each call watched.

    An exception of theirs (or a stop() that returns no bool) is the caller's fault, not a
    config's: kept in ``fault``, it stops the sweep and reaches the caller, as train()
    raises it, instead of failing the stack and training its runs again one by one (where
    a hook that fails only sometimes would pass, and the sweep exit 0).
    """

    def __init__(self, subscribers: Sequence[Subscriber], stop: Callable[[], Any] | None) -> None:
        self.fault: Exception | None = None
        self.retrying = False  # the stack failed, and its runs train again one by one
        # The failed Ends of a stack that failed on a config's fault, held until it is known
        # whether its runs train again one by one (each then sends its own End) or not (a
        # prune rule's error, a SystemExit): then they are sent.
        self.held: list[tuple[Subscriber, Any]] = []
        self.subscribers = [_Watched(s, self) for s in subscribers]
        self.given_stop = stop
        self.stopped = False  # whether stop() said True (the runs' signal: 'stop()')
        self.ended: set[str] = set()  # the runs whose End the caller's subscribers got

    def stop(self) -> bool:
        from mlplab.errors import ConfigError
        from mlplab.runner import ask_stop

        assert self.given_stop is not None
        try:
            answer = ask_stop(self.given_stop, "sweep")
        except ConfigError as err:
            self.fault = err
            raise
        self.stopped = self.stopped or answer
        return answer

    def raise_fault(self) -> None:
        if self.fault is not None:
            raise self.fault

    def release(self) -> None:
        """Send the failed Ends held back: the runs do not train again."""
        held, self.held = self.held, []
        for sub, event in held:
            self.note(event)
            with contextlib.suppress(Exception):  # as any failed End: the error is the run's
                sub(event)

    def note(self, event: Any) -> None:
        """Keep the names of the runs that an End sent to the caller's subscribers ends."""
        from mlplab.training.events import End

        if isinstance(event, End):
            self.ended.update(event.models.name(int(k)) for k in event.ids)

    def end_failed(self, values: dict[str, Any], error: str) -> None:
        """Send the caller's subscribers a failed End of a run that got none: one that failed
        before it trained (its data file went missing, its model did not build), or whose
        stack never started. A page or a search then sees every run of the sweep end."""
        import numpy as np

        from mlplab.config import make_config
        from mlplab.engines.init import run_streams
        from mlplab.runs.record import run_name
        from mlplab.training.events import End, Models
        from mlplab.training.state import StackState

        cfg = make_config(values)
        if not self.subscribers or run_name(cfg) in self.ended:
            return
        # No model was built: the view names the run and gives its settings, no more.
        state = StackState.fresh([run_streams(cfg.seed).order])
        models = Models(None, state, [run_name(cfg)], [cfg.to_dict()])
        event = End(models, 0, 0, np.array([0]), ["failed"], [error], [{}])
        self.note(event)
        for watched in self.subscribers:
            with contextlib.suppress(Exception):  # as any failed End: the error is the run's
                watched.sub(event)


class _Watched:
    """A caller's subscriber whose exception :class:`CallerHooks` keeps; it keeps the
    subscriber's own Step cadence and its part called before checkpoints."""

    def __init__(self, sub: Subscriber, hooks: CallerHooks) -> None:
        self.sub, self.hooks = sub, hooks
        every = getattr(sub, "step_every", None)
        if every is not None:
            self.step_every = every
        first = getattr(sub, "before_checkpoints", None)
        if first is not None:  # a plain guard: a Mock's part has a part of its own, and so on
            self.before_checkpoints = lambda event: self._call(first, event)

    def __call__(self, event: Any) -> None:
        from mlplab.training.events import End

        if (
            isinstance(event, End)
            and "failed" in event.statuses
            and self.hooks.fault is None
            and not self.hooks.retrying
        ):
            # The stack failed on a config's fault: its runs may train again one by one,
            # each sending its own End; a failed End now would be followed by a Start of
            # the same run. Held until that is known (CallerHooks.release).
            self.hooks.held.append((self.sub, event))
            return
        self.hooks.note(event)
        self._call(self.sub, event)

    def _call(self, fn: Callable[[Any], Any], event: Any) -> None:
        try:
            fn(event)
        except Exception as err:
            if self.hooks.fault is None:
                self.hooks.fault = err
            raise


class EpochsDone:
    """A subscriber that tells ``on_epochs(run_ids, epochs)`` how far the models of a stack
    have trained, at its Start and at about 100 of its validations: a sweep's progress
    within a stack. An error of ``on_epochs`` is dropped: progress never costs a run."""

    def __init__(self, on_epochs: OnEpochs) -> None:
        self.on_epochs = on_epochs
        self.every, self.next = 1, 0

    def __call__(self, event: Any) -> None:
        from mlplab.training.events import Start, Validate

        if isinstance(event, Start):
            self.every, self.next = max(1, event.epochs // 100), event.epoch
        if isinstance(event, Start | Validate) and event.epoch >= self.next:
            self.next = event.epoch + self.every
            with contextlib.suppress(Exception):
                self.on_epochs([event.models.name(int(k)) for k in event.ids], event.epoch)


def train_group(
    configs: list[dict[str, Any]],
    on_done: OnDone | None = None,
    rerun: bool = False,
    prune: Prune | None = None,
    subscribers: Sequence[Subscriber] = (),
    stop: Callable[[], bool] | None = None,
    on_epochs: OnEpochs | None = None,
) -> list[Outcome]:
    """Train a group of configs, each into its own full run record.

    A group trains as one stack (:func:`mlplab.stacks.train_batched`; a group of one is a
    stack of one): configs of the same shape become one stacked model, each still gets
    its own full run record, and a config interrupted earlier continues from its
    checkpoint. If the stack fails as a whole, the configs that have not finished train
    one by one with :func:`mlplab.runner.train`, so that an error is pinned on the config
    that causes it. Ctrl-C is a resumable stop.

    Parameters
    ----------
    configs : list of dict
        Validated settings (``Config.to_dict()``), one per run.
    on_done : callable, optional
        Called with each outcome as soon as its run ends (progress in-process).
    rerun : bool, default False
        An interrupted run starts afresh instead of continuing from its checkpoint
        (``mlplab sweep --rerun``, as ``mlplab train --rerun``).
    prune : callable, optional
        The stack's prune hook (:func:`mlplab.stacks.train_batched`). The configs that
        train one by one after a stack failed train without it: a rule that compares the
        rows of a stack has only one row then.
    subscribers, stop : optional
        The caller's subscribers to each stack's events, and its own stop (polled before
        every step, as a Ctrl-C): :func:`mlplab.sweep` passes them in its own process.
    on_epochs : callable, optional
        Told how far the runs in training have come (:class:`EpochsDone`): the sweep's
        progress while a stack trains.

    Returns
    -------
    list of dict
        One outcome per config that ran, in order: ``run_id``, ``status``
        (finished | diverged | failed | interrupted | pruned), ``error`` (str or None),
        ``wall_time_s`` and ``metrics`` (:func:`metrics_of`). After an ``interrupted``
        run (SIGINT/SIGTERM) the group stops, so the list can be shorter than ``configs``.
    """
    from mlplab.config import make_config
    from mlplab.errors import error_line
    from mlplab.runner import EXIT_FOR_SIGNAL, train
    from mlplab.runs.record import is_finished, read_result, run_dir_of, run_name

    hooks = CallerHooks(subscribers, stop)
    progress = [EpochsDone(on_epochs)] if on_epochs is not None else []
    stack_failed = False
    if configs:
        batched = _train_stacked(configs, on_done, rerun, prune, hooks, progress)
        if batched is not None:
            return batched
        stack_failed = True
    hooks.retrying = True
    outcomes: list[Outcome] = []
    for values in configs:
        if _stopping:  # a Ctrl-C between two runs, noted by the worker's handler
            break
        cfg = make_config(values)
        outcome: Outcome = {"run_id": run_name(cfg), "run_dir": str(run_dir_of(cfg))}
        late = None  # a signal that came as the run ended, once it had finished
        if stack_failed and is_finished(run_dir_of(cfg)):
            # Finished by the stack before it failed: keep it, do not train it twice.
            record = read_result(run_dir_of(cfg)) or {}
            outcome.update(
                status="finished",
                error=None,
                wall_time_s=record.get("wall_time_s"),
                metrics=metrics_of(record),
            )
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
            continue
        try:
            # handle_signals: a Ctrl-C ends the run at a step boundary with a checkpoint
            # and status `interrupted`, instead of a `failed` record.
            result = train(
                cfg,
                verbose=False,
                handle_signals=True,
                rerun=rerun,
                lock=False,  # the sweep holds the run's lock
                subscribers=[*hooks.subscribers, *progress],
                stop=hooks.stop if stop is not None else None,
            )
            outcome["status"] = result.status
            outcome["error"] = result.record.get("message") if result.status != "finished" else None
            outcome["wall_time_s"] = result.record.get("wall_time_s")
            outcome["metrics"] = metrics_of(result.record)
            if result.status == "interrupted":
                by = {143: "SIGTERM", 129: "SIGHUP"}.get(result.exit_code, "SIGINT")
                outcome["signal"] = "stop()" if hooks.stopped and by == "SIGINT" else by
            elif result.status == "finished" and result.exit_code:
                late = {code: sig for sig, code in EXIT_FOR_SIGNAL.items()}.get(result.exit_code)
        except Exception as err:  # recorded, and the group goes on
            hooks.raise_fault()  # the caller's subscriber or stop(): it stops the sweep
            error = error_line(err)
            try:
                mark_ended(values, error)
            except OSError as unwritable:
                if _disk_full(unwritable):
                    raise  # every run after it would meet it too: the sweep stops
                # Its own folder refuses writes (made read-only mid-sweep): its outcome
                # says why, and the rest of the group trains, rather than the sweep
                # stopping with stack-mates recorded failed for this run's folder.
            hooks.end_failed(values, error)  # unless its End came as it failed in training
            outcome.update(status="failed", error=error, wall_time_s=None, metrics={})
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
        if outcome["status"] == "interrupted":
            break
        _pass_on(late)
    return outcomes


def _disk_full(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


def _ended_by(
    configs: list[dict[str, Any]],
    why: str,
    before: list[Any],
    hooks: CallerHooks,
    on_done: OnDone | None,
) -> list[Outcome]:
    """The outcomes of a stack that ``why`` stopped, not retried: each run unfinished ends
    `failed` with it (recorded, and told to the caller's subscribers)."""
    hooks.release()
    ended = []
    for i, values in enumerate(configs):
        mark_ended(values, why)
        ended.append(_recorded(values))
        if before and before[i] is not None and before[i] == _record_stamp(values):
            # An earlier finished record, kept (a rerun trains a finished run in a
            # scratch folder): this run failed all the same, and the caller is told so.
            ended[-1].update(status="failed", error=why, metrics={}, wall_time_s=None)
        if ended[-1]["status"] == "failed":  # those of a stack that never started
            hooks.end_failed(values, ended[-1]["error"])
        if on_done is not None:
            on_done(ended[-1])
    return ended


def _train_stacked(
    configs: list[dict[str, Any]],
    on_done: OnDone | None,
    rerun: bool,
    prune: Prune | None = None,
    hooks: CallerHooks | None = None,
    progress: Sequence[Subscriber] = (),
) -> list[Outcome] | None:
    """Train a group with the batched trainer; None if the stack itself failed."""
    from mlplab.assemble import as_config
    from mlplab.errors import PruneError, error_line
    from mlplab.runner import StopFlag
    from mlplab.runs.record import run_dir_of
    from mlplab.stacks import train_batched

    # As train(handle_signals=True) does for one run: Ctrl-C or SIGTERM ends the stack
    # at the next step, each config `interrupted` with a checkpoint to resume from.
    # A second Ctrl-C stops at once.
    hooks = hooks or CallerHooks((), None)
    stop = StopFlag(asked=hooks.stop if hooks.given_stop is not None else None, who="sweep")
    stop.install()
    if _stopping:
        # A Ctrl-C came before this handler took over (while the worker started, or
        # between groups): start nothing; the sweep counts these runs as remaining.
        stop.restore()
        return []
    # A rerun trains in scratch folders and leaves each earlier record until its new run
    # ends: which records a failed rule left as they were, told by their files.
    before = [_record_stamp(v) for v in configs] if rerun else []
    try:
        # Curves stay in each result.json; leaving them out of the returned dicts keeps a
        # sweep of long runs from holding every curve in memory at once.
        results = train_batched(
            configs,
            max_group=len(configs),  # the sweep planned its groups: one stack a shape
            curves_in_results=False,
            should_stop=stop,
            resume=not rerun,
            prune=prune,
            subscribers=[*hooks.subscribers, *progress],
        )
    except Exception as err:
        if isinstance(err, PruneError) or _disk_full(err):
            # No config's fault: retried one by one, the runs met it again, hidden (the
            # rule's error by runs trained to their end without it; a full disk's by each
            # retry's refusal of the 16 MiB free it no longer had, which every record
            # then named). The runs end `failed` with its error; those finished keep theirs.
            why = error_line(err) if _disk_full(err) else f"{type(err).__name__}: {err}"
            return _ended_by(configs, why, before, hooks, on_done)
        hooks.raise_fault()  # unless the caller's subscriber or stop() raised: no retry
        hooks.held.clear()  # each run sends its own End when it trains alone; retried
        return None
    except BaseException:  # SystemExit, a Ctrl-C that stops at once: no retry
        hooks.release()
        raise
    finally:
        stop.restore()
    outcomes: list[Outcome] = []
    for values, record in zip(configs, results, strict=True):
        if record is None:
            continue  # not started: the stop came first
        status = record.get("status", "failed")
        outcome: Outcome = {
            "run_id": record.get("run_id"),
            "run_dir": str(run_dir_of(as_config(values))),
            "status": status,
            "error": record.get("message") if status != "finished" else None,
            "wall_time_s": record.get("wall_time_s"),
            "metrics": metrics_of(record),
        }
        if status == "interrupted":
            outcome["signal"] = stop() or "SIGINT"
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    if not any(o["status"] == "interrupted" for o in outcomes):
        _pass_on(stop.signum)
    return outcomes


def _pass_on(signum: int | None) -> None:
    """A signal that came once the runs had ended (while their plots drew), so that no
    run took it as its stop: hand it to the handler it held up, or a sweep in this
    process would train its next group (or run) as if no Ctrl-C had come."""
    if signum is not None and callable(signal.getsignal(signum)):
        signal.raise_signal(signum)


def mark_ended(values: dict[str, Any], error: str, status: str = "failed") -> None:
    """Record a run as ended, ``failed`` (or ``status``), in its result.json, unless it has
    finished or a prune rule stopped it (both ended by design, with their metrics).

    ``train`` writes its own ``failed`` record for errors inside a run; this covers the
    cases it cannot: an error before its record opened, or a worker process that died or
    was killed by a second Ctrl-C (``interrupted``).
    """
    from mlplab.config import make_config
    from mlplab.runs.atomic import atomic_write_json
    from mlplab.runs.record import (
        FINISHED,
        PRUNED,
        read_result,
        record_settings,
        run_dir_of,
        run_name,
    )

    cfg = make_config(values)
    run_dir = run_dir_of(cfg)
    old = read_result(run_dir) or {}
    if old.get("status") in (FINISHED, PRUNED):
        return
    settings = record_settings(cfg)
    atomic_write_json(
        run_dir / "result.json",
        {
            **settings,
            **old,
            "run_id": run_name(cfg),
            "status": status,
            ("error" if status == "failed" else "message"): error,
        },
    )


def usable_cpus() -> int:
    """The CPUs this process may run on: ``taskset`` and a container's cpuset leave fewer
    than the machine has (``os.cpu_count()``), and a worker per machine core on a CI
    runner limited to 2 of 64 would start 64 processes on 2."""
    if hasattr(os, "sched_getaffinity"):  # Linux; not macOS or Windows
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def run_local(
    groups: list[list[dict[str, Any]]],
    workers: int,
    on_done: OnDone | None = None,
    group_fn: GroupFn = train_group,
    stop: Callable[[], bool] | None = None,
    on_epochs: OnEpochs | None = None,
) -> list[Outcome]:
    """Train every group; return the outcomes of the runs that ended.

    ``workers <= 1`` trains in this process; otherwise a spawn-started pool of
    ``min(workers, len(groups))`` processes. ``on_done`` gets each outcome (in-process as
    each run ends; from a pool as each group ends). ``on_epochs``, where given, is passed
    to ``group_fn``; in a pool each worker tells it through a pipe of its own
    (:class:`_Worker`). Raises :class:`SweepInterrupted` on Ctrl-C or when a run reports
    ``interrupted`` in-process. ``stop``, the caller's own (polled between groups here;
    ``group_fn`` polls it between steps), trains in-process.
    """
    on_done = on_done or (lambda outcome: None)
    if workers <= 1 or len(groups) <= 1 or stop is not None:
        if on_epochs is not None:
            group_fn = functools.partial(group_fn, on_epochs=on_epochs)
        return _run_in_process(groups, on_done, group_fn, stop)
    return _run_in_pool(groups, workers, on_done, group_fn, on_epochs)


def _run_in_process(
    groups: list[list[dict[str, Any]]],
    on_done: OnDone,
    group_fn: GroupFn,
    stop: Callable[[], bool] | None = None,
) -> list[Outcome]:
    from mlplab.runner import ask_stop

    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_done(outcome)

    job: _Job | None = None
    try:
        for group in groups:
            if stop is not None and ask_stop(stop, "sweep"):  # between groups: none starts
                raise SweepInterrupted(outcomes, "stop()")
            before = len(outcomes)
            job = _Job(group, {_key(v): _result_mtime(v) for v in group})
            group_fn(group, on_done=done)
            # Any run of the group, not the last: one its patience ended before the
            # signal comes after the interrupted ones in config order.
            stopped = [o for o in outcomes[before:] if o["status"] == "interrupted"]
            if stopped:
                raise SweepInterrupted(outcomes, stopped[0].get("signal", "SIGINT"))
    except KeyboardInterrupt as stop:
        if job is not None:
            # A second Ctrl-C stopped the group at once, before it told how its runs
            # ended; their records tell (those that ended before it, and the interrupted).
            # A `failed` one is of a stack that failed, its runs to train again one by
            # one: not reached, they remain.
            for outcome in _told_by_records(job, {o["run_id"] for o in outcomes}):
                if outcome["status"] != "failed":
                    done(outcome)
        raise SweepInterrupted(outcomes, signal_of(stop)) from None
    return outcomes


def _run_in_pool(
    groups: list[list[dict[str, Any]]],
    workers: int,
    on_done: OnDone,
    group_fn: GroupFn,
    on_epochs: OnEpochs | None = None,
) -> list[Outcome]:
    """Hand the groups to ``workers`` worker processes, one group at a time each."""
    import multiprocessing.connection

    outcomes: list[Outcome] = []

    def record(found: list[Outcome]) -> None:
        for outcome in found:
            outcomes.append(outcome)
            on_done(outcome)

    tries: Counter[str] = Counter()
    queue: deque[list[dict[str, Any]]] = deque(groups)
    tells = on_epochs is not None
    idle = [_Worker(tells) for _ in range(min(workers, len(groups)))]
    busy: dict[_Worker, _Job] = {}
    try:
        while queue or busy:
            while queue and idle:
                worker, group = idle.pop(), queue.popleft()
                job = _Job(group, {_key(v): _result_mtime(v) for v in group})
                if worker.send((group_fn, group)):
                    busy[worker] = job
                else:  # it died before it started: a fresh worker takes the group
                    worker.close()
                    record(_dead_group(job, tries, queue))
                    idle.append(_Worker(tells))
            ready = multiprocessing.connection.wait(
                [w.fd for w in busy] + [w.epochs_fd for w in busy if w.epochs_fd is not None]
            )
            for worker, job in busy.items():
                # Before its group's outcomes: a worker tells its epochs before it answers.
                if on_epochs is not None and (worker.fd in ready or worker.epochs_fd in ready):
                    for positions, epochs in worker.epochs():
                        with contextlib.suppress(Exception):  # progress never costs a run
                            on_epochs(
                                [job.names[i] for i in positions if i < len(job.names)], epochs
                            )
            for worker in [w for w in busy if w.fd in ready]:
                job = busy.pop(worker)
                reply = worker.receive()
                if reply is None:  # the process died with the group
                    worker.close()
                    record(_dead_group(job, tries, queue))
                    if queue:
                        idle.append(_Worker(tells))
                    continue
                idle.append(worker)
                ok, value = reply
                if ok:
                    record(value)
                else:  # the group function itself raised (not a run inside it)
                    record([_failed(v, value) for v in job.group if not _is_finished(v)])
    except KeyboardInterrupt as stop:
        # The workers are told at once: a terminal's Ctrl-C reached them already (and
        # this SIGTERM after it changes nothing), but SIGTERM, or SIGINT sent to this
        # process alone (`kill -INT PID`, a job runner), did not.
        name = signal_of(stop)
        record(_stop_workers(busy, name))
        # The stop is done; what is left is to close the workers and say what was kept. A
        # Ctrl-C pressed again now would cut that short (or, in a worker's close, end the
        # sweep with a traceback): it is ignored until sweep() has said it.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SweepInterrupted(outcomes, name) from None
    finally:
        late = _close_workers([*idle, *busy])
    if late is not None:  # every run had ended: sweep() says so, and is whole
        raise SweepInterrupted(outcomes, late)
    return outcomes


def _close_workers(workers: list[_Worker]) -> str | None:
    """Close (and reap) every worker, even past a signal that comes meanwhile: the runs
    have ended, so it stops nothing, and a worker left unreaped would outlive the sweep.
    The signal's name, or None."""
    late = None
    for worker in workers:
        while True:
            try:
                worker.close()
                break
            except KeyboardInterrupt as stop:  # SIGINT again: close it all the same
                late = late or signal_of(stop)
    return late


class _Job:
    """A group handed to a worker, with the mtime of each run's result.json at that time."""

    def __init__(self, group: list[dict[str, Any]], stamps: dict[str, int | None]) -> None:
        self.group = group
        self.stamps = stamps
        self.names = [_run_dir(v).name for v in group]  # run ids, as a worker's epochs name them

    def started(self, values: dict[str, Any]) -> bool:
        # A run whose record changed since the group was handed out had started.
        return _result_mtime(values) != self.stamps.get(_key(values))


class _Worker:
    """One ``python -m mlplab.sweeps.worker`` process, fed pickled groups on its stdin.

    A plain subprocess rather than a multiprocessing pool: multiprocessing's ``spawn``
    re-imports the caller's ``__main__`` in every worker (from its file, see
    ``multiprocessing.spawn.get_preparation_data``), so a script that calls
    :func:`mlplab.sweep` without an ``if __name__ == "__main__":`` guard would start the
    sweep again in each worker, and ``python - < script.py`` cannot be re-imported at all.
    This process imports only mlplab (and the module of ``group_fn``), from this
    process's ``sys.path``.

    ``tells``: the worker also tells how far its stacks have trained (:class:`EpochsDone`),
    as lines ``EPOCHS I J ...`` (positions in its group) on a pipe of their own,
    ``epochs_fd``, which it writes without blocking: a line that finds the pipe full is
    dropped, and the answers on its stdout stay as they were.
    """

    def __init__(self, tells: bool = False) -> None:
        import pickle
        import subprocess

        env = {**os.environ, **dict.fromkeys(THREAD_ENV, "1")}
        self.epochs_fd: int | None = None
        self._partial = b""  # a line of epochs read in part
        tell: list[int] = []  # the worker's end of the epochs pipe, if any
        if tells:
            self.epochs_fd, write_end = (_above_stdio(fd) for fd in os.pipe())
            os.set_blocking(self.epochs_fd, False)
            tell.append(write_end)
        # The worker starts with Ctrl-C and the relay blocked (a signal mask is inherited):
        # one that comes while Python starts stays pending until the worker's own handlers
        # take it, not a KeyboardInterrupt amid its first imports. Here it waits the
        # moment of the fork, then comes as it would have.
        stops = {signal.SIGINT, RELAY_SIGINT}
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mlplab.sweeps.worker", str(os.getpid()), *map(str, tell)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                pass_fds=tell,
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for fd in tell:  # the worker's now
                os.close(fd)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.reply_pipe = self.proc.stdout
        self.fd = self.reply_pipe.fileno()  # what multiprocessing.connection.wait watches
        # The worker finds modules where this process does, as spawn's workers did.
        self.send_raw(pickle.dumps(list(sys.path)))

    def send_raw(self, data: bytes) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def send(self, job: tuple[GroupFn, list[dict[str, Any]]]) -> bool:
        """Hand over a group; False when the process is gone."""
        import pickle

        return self.send_raw(pickle.dumps(job))

    def epochs(self) -> list[tuple[list[int], int]]:
        """The ``(positions in its group, epochs)`` the worker has told since the last call."""
        if self.epochs_fd is None:
            return []
        try:
            data = os.read(self.epochs_fd, 1 << 16)
        except OSError:  # nothing yet (BlockingIOError)
            return []
        if not data:  # the worker is gone: its answer's pipe says how
            os.close(self.epochs_fd)
            self.epochs_fd = None
        *lines, self._partial = (self._partial + data).split(b"\n")
        told = [list(map(int, line.split())) for line in lines if line]
        return [(numbers[1:], numbers[0]) for numbers in told]

    def receive(self) -> tuple[bool, Any] | None:
        """``(True, outcomes)``, ``(False, error)``, or None when the process died."""
        import pickle

        try:
            reply = pickle.load(self.reply_pipe)
        except (EOFError, OSError, pickle.UnpicklingError):
            return None
        return reply if isinstance(reply, tuple) else None

    def close(self) -> None:
        """End an idle worker (its stdin closes: it exits) and reap it."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        for stop in (None, self.proc.terminate, self.proc.kill):
            if stop is not None and self.proc.poll() is None:
                stop()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=5)
                break
        with contextlib.suppress(OSError):
            self.reply_pipe.close()
        if self.epochs_fd is not None:
            os.close(self.epochs_fd)
            self.epochs_fd = None


def _above_stdio(fd: int) -> int:
    """``fd``, moved above 0, 1 and 2 where it is one of them (a sweep started with its
    stdout closed): a worker's descriptor there would be its stdin, stdout or stderr."""
    if fd > 2:
        return fd
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def _dead_group(
    job: _Job, tries: Counter[str], queue: deque[list[dict[str, Any]]]
) -> list[Outcome]:
    """Outcomes of a group whose worker died; its runs that had not started go back.

    A run that had started ends as its record says (a SIGTERM'd run wrote
    ``interrupted``, one that finished ``finished``); a record still ``running`` died
    with the worker and is marked ``failed`` (``worker process died``).
    """
    outcomes, retry = [], []
    for values in job.group:
        if job.started(values) or tries[_key(values)] >= MAX_POOL_RETRIES:
            recorded = _recorded(values) if job.started(values) else None
            if recorded is not None and recorded["status"] != "running":
                outcomes.append(recorded)
            else:
                outcomes.append(_failed(values, WORKER_DIED))
        else:
            tries[_key(values)] += 1
            retry.append(values)
    if retry:
        queue.append(retry)
    return outcomes


def _stop_workers(busy: dict[_Worker, _Job], name: str = "SIGINT") -> list[Outcome]:
    """Stop the running groups cleanly, then wait for them; their outcomes.

    Every worker is told now of the sweep's signal ``name``: SIGTERM as SIGTERM, SIGHUP
    as SIGHUP, SIGINT as RELAY_SIGINT. train's handler stops its run at a step boundary with a checkpoint
    and names that signal (a terminal's Ctrl-C, which reached the workers too, stays the
    reason their records give). A worker that has not answered within STOP_GRACE_S gets
    SIGTERM, then SIGKILL; a second Ctrl-C kills at once.
    """
    import multiprocessing.connection
    import time

    from mlplab.runner import SAME_STOP_S

    relay = {"SIGINT": RELAY_SIGINT, "SIGHUP": signal.SIGHUP}.get(name, signal.SIGTERM)
    for worker in busy:
        if worker.proc.poll() is None:
            worker.proc.send_signal(relay)
    replies: dict[_Worker, tuple[bool, Any] | None] = {}
    began = time.monotonic()
    while True:  # left at the end; entered again only within the first SAME_STOP_S
        try:
            for grace_ended in (False, True):
                deadline = time.monotonic() + STOP_GRACE_S
                while len(replies) < len(busy) and time.monotonic() < deadline:
                    waiting = [w.fd for w in busy if w not in replies]
                    ready = multiprocessing.connection.wait(waiting, deadline - time.monotonic())
                    for worker in busy:
                        if worker.fd in ready:
                            replies[worker] = worker.receive()
                if grace_ended:
                    break
                for worker in busy:
                    if worker not in replies and worker.proc.poll() is None:
                        worker.proc.terminate()
            break
        except KeyboardInterrupt:
            if time.monotonic() - began < SAME_STOP_S:
                continue  # the same stop, signalled twice (timeout(1): the sweep, then its group)
            for worker in busy:  # a second Ctrl-C: stop now
                if worker.proc.poll() is None:
                    worker.proc.kill()
            break
    # Workers that stopped within SAME_STOP_S leave the window open: its second signal
    # would land in the summary and cut it to "mlplab: interrupted". Wait it out.
    while (left := SAME_STOP_S - (time.monotonic() - began)) > 0:
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(left)
    outcomes: list[Outcome] = []
    for worker, job in busy.items():
        reply = replies.get(worker)
        if reply is not None and reply[0]:
            outcomes.extend(reply[1])
            continue
        # The group's answer was lost with its worker: its runs' records still tell.
        outcomes.extend(_told_by_records(job))
    return outcomes


def _told_by_records(job: _Job, told: set[str] | frozenset[str] = frozenset()) -> list[Outcome]:
    """The outcomes of the runs of ``job`` that started (but of the run ids in ``told``),
    as their records tell them: for a group stopped at once, whose answer was lost. A
    record still ``running`` is of a run killed mid-step: it is marked ``interrupted``."""
    outcomes = []
    for values in job.group:
        recorded = _recorded(values) if job.started(values) else None
        if recorded is not None and recorded["run_id"] not in told:
            if recorded["status"] == "running":
                recorded.update(status="interrupted", error=KILLED_AT_STOP)
                mark_ended(values, KILLED_AT_STOP, status="interrupted")
            outcomes.append(recorded)
    return outcomes


def metrics_of(record: dict[str, Any]) -> dict[str, float]:
    """The final metrics of a run's record (``val_loss``, ``val_acc`` or ``val_mae``, ...,
    ``best_epoch``) that it holds as numbers; {} for a run that diverged or failed (its
    best_val_loss may be of an epoch before it broke: no number to rank it by) or has no
    status of an ended run."""
    from mlplab.runs.record import SPLIT_METRICS

    if record.get("status") not in ("finished", "pruned", "interrupted"):
        return {}
    final = (*SPLIT_METRICS, "best_val_loss", "best_epoch", "epochs_run")
    return {
        k: record[k]
        for k in final
        if isinstance(record.get(k), int | float) and not isinstance(record.get(k), bool)
    }


def _record_stamp(values: dict[str, Any]) -> tuple[int, int] | None:
    """The run's result.json as it stands (modified time, size), None where there is none."""
    try:
        st = (_run_dir(values) / "result.json").stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _recorded(values: dict[str, Any]) -> Outcome:
    """A run's outcome as its result.json tells it (no record: ``running``)."""
    from mlplab.runs.record import read_result

    record = read_result(_run_dir(values)) or {}
    return {
        "run_id": _run_dir(values).name,
        "run_dir": str(_run_dir(values)),
        "status": record.get("status", "running"),
        "error": record.get("error") or record.get("message"),
        "wall_time_s": record.get("wall_time_s"),
        "metrics": metrics_of(record),
    }


def init_worker(parent_pid: int, stopped: Sequence[int] = (), epochs_fd: int | None = None) -> None:
    """Set up a worker: one math thread, Ctrl-C handled only inside a run, and an end
    with the sweep: if the sweep's process is killed outright, the kernel sends SIGTERM,
    which stops a run or a stack cleanly (``interrupted``, with a checkpoint).
    ``stopped``: the signals (Ctrl-C, or the sweep's relay of it) noted while the worker
    started; any, and it trains nothing. Read once this function's handlers have taken
    over, so that no signal falls between the two. ``epochs_fd``: where to tell how far
    its stacks have trained (:class:`_Worker`), if the sweep asked."""
    global _sweep_pid, _stopping, _epochs_fd
    # Between runs SIGINT (or the sweep's relay of it) only notes the stop (no traceback
    # from an idle worker); during a run, train's own handler turns it into a clean stop
    # with a checkpoint. Set first: the imports below take a while, and a signal during
    # them was lost.
    signal.signal(signal.SIGINT, _note_stop)
    signal.signal(RELAY_SIGINT, _note_stop)
    from mlplab.lifetime import die_with_parent

    _sweep_pid = parent_pid
    _stopping = _stopping or bool(stopped)
    if epochs_fd is not None:
        os.set_blocking(epochs_fd, False)  # a full pipe drops a line, never holds a run
        os.set_inheritable(epochs_fd, False)
        _epochs_fd = epochs_fd
    if not die_with_parent(signal.SIGTERM, parent_pid):
        os._exit(0)
    for name in THREAD_ENV:
        os.environ[name] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    # train's handler, in this process, takes the relay for the sweep's SIGINT.
    from mlplab.runner import StopFlag

    StopFlag.relay = RELAY_SIGINT


def _tell_epochs(fd: int, group: list[dict[str, Any]]) -> OnEpochs:
    """``on_epochs`` in a worker: a line ``EPOCHS I J ...`` (positions in ``group``) on
    ``fd``, written whole or not at all (at most PIPE_BUF bytes, without blocking)."""
    import select

    where = {_run_dir(v).name: i for i, v in enumerate(group)}

    def tell(run_ids: list[str], epochs: int) -> None:
        line = " ".join(map(str, [epochs, *(where[r] for r in run_ids if r in where)]))
        if len(line) < select.PIPE_BUF:
            with contextlib.suppress(OSError):  # full (BlockingIOError), or the sweep gone
                os.write(fd, line.encode() + b"\n")

    return tell


def _note_stop(signum: int, frame: Any) -> None:
    global _stopping
    _stopping = True


def worker_call(group_fn: GroupFn, group: list[dict[str, Any]]) -> list[Outcome]:
    """Run one group in a worker, unless this worker was told to stop."""
    global _stopping
    if _stopping:
        return []
    if _epochs_fd is None:
        outcomes = group_fn(group)
    else:
        outcomes = group_fn(group, on_epochs=_tell_epochs(_epochs_fd, group))
    if _sweep_pid is not None and os.getppid() != _sweep_pid:
        # The sweep's process died (its runs stopped cleanly on the SIGTERM that brought):
        # nobody waits for this answer or has more work, and the pool's queue would keep
        # this process waiting forever.
        os._exit(0)
    if any(o.get("status") == "interrupted" for o in outcomes):
        _stopping = True
    return outcomes


def _failed(values: dict[str, Any], error: str) -> Outcome:
    mark_ended(values, error)
    from mlplab.config import make_config
    from mlplab.runs.record import run_dir_of, run_name

    cfg = make_config(values)
    return {
        "run_id": run_name(cfg),
        "run_dir": str(run_dir_of(cfg)),
        "status": "failed",
        "error": error,
        "wall_time_s": None,
        "metrics": {},
    }


def _run_dir(values: dict[str, Any]) -> Path:
    from mlplab.config import make_config
    from mlplab.runs.record import run_dir_of

    return run_dir_of(make_config(values))


def _key(values: dict[str, Any]) -> str:
    return str(_run_dir(values))


def _result_mtime(values: dict[str, Any]) -> int | None:
    try:
        return (_run_dir(values) / "result.json").stat().st_mtime_ns
    except OSError:
        return None


def _is_finished(values: dict[str, Any]) -> bool:
    from mlplab.runs.record import is_finished

    return is_finished(_run_dir(values))
