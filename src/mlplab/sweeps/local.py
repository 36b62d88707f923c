"""Run a sweep's groups on this machine: in-process, or in a pool of worker processes.

The unit of work is a **group**: a list of config dicts that one worker trains by
:func:`train_group`. Today it trains them one after another; a batched trainer that trains
a whole group at once replaces the body of that one function.

Workers are separate processes started with ``spawn`` (forking a process that has loaded
torch is unsafe), each limited to one math thread so N workers use N cores, not N².
``workers=1`` runs in this process with no pool, which is also what tests use.

Failure handling:

- a run that raises or diverges is recorded by ``train`` itself (``failed``/``diverged``);
- a worker process that dies (``BrokenProcessPool``) fails the runs it had started, with
  error ``worker process died``; the runs it had not started go to a new pool (once);
- Ctrl-C: pending groups are cancelled, running ones stop at a step boundary with a
  checkpoint (status ``interrupted``), and :class:`SweepInterrupted` carries what finished.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

Outcome = dict[str, Any]
OnDone = Callable[[Outcome], None]
# group_fn(configs, on_done=None) -> outcomes; module-level so a spawned worker can import it.
GroupFn = Callable[..., list[Outcome]]

WORKER_DIED = "worker process died"
# Seconds to let interrupted workers checkpoint before they are terminated.
STOP_GRACE_S = 10.0
# How often a group whose worker died is handed to a fresh pool before its runs fail.
MAX_POOL_RETRIES = 1
# Math libraries read these when they load: one thread per worker process.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Set in a worker process once a stop was asked for (Ctrl-C): groups that reach it later
# (the pool hands out one more than it has workers, and those cannot be cancelled)
# return at once instead of starting new runs.
_stopping = False
_sweep_pid: int | None = None  # the process that started this worker (see _init_worker)


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; ``outcomes`` holds the runs that ended before it."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        super().__init__("sweep interrupted")


def train_group(configs: list[dict[str, Any]], on_done: OnDone | None = None) -> list[Outcome]:
    """Train a group of configs, each into its own full run record.

    A group of several configs trains as one stack (:func:`mlplab.runner.train_batched`):
    configs of the same shape become one stacked model, and each still gets its own full
    run record. If the stack fails as a whole, the configs that have not finished train
    one by one, so that an error is pinned on the config that causes it. A group of one
    trains with :func:`mlplab.runner.train`. Either way Ctrl-C is a resumable stop.

    Parameters
    ----------
    configs : list of dict
        Validated settings (``Config.to_dict()``), one per run.
    on_done : callable, optional
        Called with each outcome as soon as its run ends (progress in-process).

    Returns
    -------
    list of dict
        One outcome per config that ran, in order: ``run_id``, ``status``
        (finished | diverged | failed | interrupted), ``error`` (str or None) and
        ``wall_time_s``. After an ``interrupted`` run (SIGINT/SIGTERM) the group stops,
        so the list can be shorter than ``configs``.
    """
    from mlplab.config import make_config
    from mlplab.runner import train
    from mlplab.runs.record import is_finished, read_result, run_dir_of, run_name

    stack_failed = False
    if len(configs) > 1:
        batched = _train_stacked(configs, on_done)
        if batched is not None:
            return batched
        stack_failed = True
    outcomes: list[Outcome] = []
    for values in configs:
        cfg = make_config(values)
        outcome: Outcome = {"run_id": run_name(cfg), "run_dir": str(run_dir_of(cfg))}
        if stack_failed and is_finished(run_dir_of(cfg)):
            # Finished by the stack before it failed: keep it, do not train it twice.
            record = read_result(run_dir_of(cfg)) or {}
            outcome.update(status="finished", error=None, wall_time_s=record.get("wall_time_s"))
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
            continue
        try:
            # handle_signals: a Ctrl-C ends the run at a step boundary with a checkpoint
            # and status `interrupted`, instead of a `failed` record.
            result = train(cfg, verbose=False, handle_signals=True)
            outcome["status"] = result.status
            outcome["error"] = result.record.get("message") if result.status != "finished" else None
            outcome["wall_time_s"] = result.record.get("wall_time_s")
        except Exception as err:  # recorded, and the group goes on
            error = f"{type(err).__name__}: {err}"
            mark_failed(values, error)
            outcome.update(status="failed", error=error, wall_time_s=None)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
        if outcome["status"] == "interrupted":
            break
    return outcomes


def _train_stacked(configs: list[dict[str, Any]], on_done: OnDone | None) -> list[Outcome] | None:
    """Train a group with the batched trainer; None if the stack itself failed."""
    from mlplab.runner import StopFlag, as_config, train_batched
    from mlplab.runs.record import run_dir_of

    # As train(handle_signals=True) does for one run: Ctrl-C or SIGTERM ends the stack
    # at the next step, each config `interrupted` with a checkpoint to resume from.
    # A second Ctrl-C stops at once.
    stop = StopFlag()
    stop.install()
    try:
        # Curves stay in each result.json; leaving them out of the returned dicts keeps a
        # sweep of long runs from holding every curve in memory at once.
        results = train_batched(configs, curves_in_results=False, should_stop=stop)
    except Exception:  # retried one by one, where an error gets its own run
        return None
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
        }
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


def mark_failed(values: dict[str, Any], error: str) -> None:
    """Record a run as failed in its result.json, unless it has finished.

    ``train`` writes its own ``failed`` record for errors inside a run; this covers the
    cases it cannot: an error before its record opened, or a worker process that died.
    """
    from mlplab.config import make_config
    from mlplab.runs.atomic import atomic_write_json
    from mlplab.runs.record import read_result, record_settings, run_dir_of, run_name

    cfg = make_config(values)
    run_dir = run_dir_of(cfg)
    old = read_result(run_dir) or {}
    if old.get("status") == "finished":
        return
    settings = record_settings(cfg)
    atomic_write_json(
        run_dir / "result.json",
        {**settings, **old, "run_id": run_name(cfg), "status": "failed", "error": error},
    )


def run_local(
    groups: list[list[dict[str, Any]]],
    workers: int,
    on_done: OnDone | None = None,
    group_fn: GroupFn = train_group,
) -> list[Outcome]:
    """Train every group; return the outcomes of the runs that ended.

    ``workers <= 1`` trains in this process; otherwise a spawn-started pool of
    ``min(workers, len(groups))`` processes. ``on_done`` gets each outcome (in-process as
    each run ends; from a pool as each group ends). Raises :class:`SweepInterrupted` on
    Ctrl-C or when a run reports ``interrupted`` in-process.
    """
    on_done = on_done or (lambda outcome: None)
    if workers <= 1 or len(groups) <= 1:
        return _run_in_process(groups, on_done, group_fn)
    return _run_in_pool(groups, workers, on_done, group_fn)


def _run_in_process(
    groups: list[list[dict[str, Any]]], on_done: OnDone, group_fn: GroupFn
) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_done(outcome)

    try:
        for group in groups:
            group_fn(group, on_done=done)
            if outcomes and outcomes[-1]["status"] == "interrupted":
                raise SweepInterrupted(outcomes)
    except KeyboardInterrupt:
        raise SweepInterrupted(outcomes) from None
    return outcomes


def _run_in_pool(
    groups: list[list[dict[str, Any]]], workers: int, on_done: OnDone, group_fn: GroupFn
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    tries: Counter[str] = Counter()
    queue: deque[list[dict[str, Any]]] = deque(groups)
    while queue:  # one pass per pool; a pass ends early only when a worker dies
        pool = _make_pool(min(workers, len(queue)))
        futures: dict[Future[list[Outcome]], list[dict[str, Any]]] = {}
        stamps: dict[str, int | None] = {}
        with _one_thread_env():  # spawned workers inherit the environment at start
            while queue:
                group = queue.popleft()
                for values in group:
                    stamps[_key(values)] = _result_mtime(values)
                futures[pool.submit(_worker_call, group_fn, group)] = group
        try:
            not_done = set(futures)
            while not_done:
                finished, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                for fut in finished:
                    for outcome in _group_outcomes(fut, futures[fut], stamps, tries, queue):
                        outcomes.append(outcome)
                        on_done(outcome)
        except KeyboardInterrupt:
            for outcome in _stop_pool(pool, futures, stamps):
                outcomes.append(outcome)
                on_done(outcome)
            raise SweepInterrupted(outcomes) from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return outcomes


def _group_outcomes(
    fut: Future[list[Outcome]],
    group: list[dict[str, Any]],
    stamps: dict[str, int | None],
    tries: Counter[str],
    queue: deque[list[dict[str, Any]]],
) -> list[Outcome]:
    try:
        return fut.result()
    except BrokenProcessPool:
        # Every group still in the pool lands here when one worker dies. A run whose
        # record changed since submission had started, so it died with the worker; the
        # others never started and get one more try in a fresh pool.
        died, retry = [], []
        for values in group:
            started = _result_mtime(values) != stamps.get(_key(values))
            if started or tries[_key(values)] >= MAX_POOL_RETRIES:
                died.append(values)
            else:
                tries[_key(values)] += 1
                retry.append(values)
        if retry:
            queue.append(retry)
        return [_failed(values, WORKER_DIED) for values in died if not _is_finished(values)]
    except Exception as err:  # the group function itself raised (not a run inside it)
        return [
            _failed(values, f"{type(err).__name__}: {err}")
            for values in group
            if not _is_finished(values)
        ]


def _stop_pool(
    pool: ProcessPoolExecutor,
    futures: dict[Future[list[Outcome]], list[dict[str, Any]]],
    stamps: dict[str, int | None],
) -> list[Outcome]:
    """Cancel what has not started; let running groups stop cleanly, then terminate them."""
    procs = _processes(pool)  # shutdown() forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    running = [f for f in futures if not f.done()]
    try:
        # A terminal's Ctrl-C reached the workers too: their runs stop at a step boundary.
        _, late = wait(running, timeout=STOP_GRACE_S)
        if late:
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()  # SIGTERM: train's handler also stops cleanly
            wait(late, timeout=STOP_GRACE_S)
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        for proc in procs:
            if proc.is_alive():
                proc.kill()
    # Whatever still lives is idle now (or hung): end it, so this process can exit.
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
    outcomes: list[Outcome] = []
    for fut in running:
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            outcomes.extend(fut.result())
            continue
        # The group's answer was lost with its worker: its runs' records still tell.
        for values in futures[fut]:
            if _result_mtime(values) != stamps.get(_key(values)):
                outcomes.append(_recorded(values))
    return outcomes


def _recorded(values: dict[str, Any]) -> Outcome:
    """A run's outcome as its result.json tells it (``running`` counts as interrupted)."""
    from mlplab.runs.record import read_result

    record = read_result(_run_dir(values)) or {}
    status = record.get("status", "interrupted")
    return {
        "run_id": _run_dir(values).name,
        "run_dir": str(_run_dir(values)),
        "status": "interrupted" if status == "running" else status,
        "error": record.get("error") or record.get("message"),
        "wall_time_s": record.get("wall_time_s"),
    }


def _processes(pool: ProcessPoolExecutor) -> list[Any]:
    # The pool keeps its worker processes in a private mapping; there is no public one.
    procs = getattr(pool, "_processes", None) or {}
    return list(procs.values())


def _make_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )


def _init_worker(parent_pid: int) -> None:
    """Set up a worker: one math thread, Ctrl-C handled only inside a run, and an end
    with the sweep: if the sweep's process is killed outright, the kernel sends SIGTERM,
    which stops a run or a stack cleanly (``interrupted``, with a checkpoint)."""
    from mlplab.lifetime import die_with_parent

    global _sweep_pid
    _sweep_pid = parent_pid
    if not die_with_parent(signal.SIGTERM, parent_pid):
        os._exit(0)
    for name in THREAD_ENV:
        os.environ[name] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    # Between runs SIGINT only notes the stop (no traceback from an idle worker); during
    # a run, train's own handler turns it into a clean stop with a checkpoint.
    signal.signal(signal.SIGINT, _note_stop)


def _note_stop(signum: int, frame: Any) -> None:
    global _stopping
    _stopping = True


def _worker_call(group_fn: GroupFn, group: list[dict[str, Any]]) -> list[Outcome]:
    """Run one group in a worker, unless this worker was told to stop."""
    global _stopping
    if _stopping:
        return []
    outcomes = group_fn(group)
    if _sweep_pid is not None and os.getppid() != _sweep_pid:
        # The sweep's process died (its runs stopped cleanly on the SIGTERM that brought):
        # nobody waits for this answer or has more work, and the pool's queue would keep
        # this process waiting forever.
        os._exit(0)
    if any(o.get("status") == "interrupted" for o in outcomes):
        _stopping = True
    return outcomes


@contextlib.contextmanager
def _one_thread_env() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update(dict.fromkeys(THREAD_ENV, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _failed(values: dict[str, Any], error: str) -> Outcome:
    mark_failed(values, error)
    from mlplab.config import make_config
    from mlplab.runs.record import run_dir_of, run_name

    cfg = make_config(values)
    return {
        "run_id": run_name(cfg),
        "run_dir": str(run_dir_of(cfg)),
        "status": "failed",
        "error": error,
        "wall_time_s": None,
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
