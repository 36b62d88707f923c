"""Draw a run's plots in forked processes that get ready while the run trains.

For a lab-sized run, importing matplotlib costs more than training (about 0.3 s), and
drawing the plots about 0.25 s more on one core. On Linux, ``train`` has two forked
worker processes draw them instead:

- the **leader** is forked at the start of a run that will draw plots
  (:meth:`RunPlotter.start`), once the data is loaded. On the core that training leaves
  free, it imports matplotlib, then forks a **helper** that shares the loaded modules;
- at the end of the run, ``train`` takes the model's numbers once
  (:func:`~mlplab.plots.inputs.plot_inputs`, the only step that needs the model: the
  workers never touch the model, the engine or torch) and sends each worker its share
  of the plots (:meth:`RunPlotter.submit`). Both draw at once, on both cores, while
  ``train`` writes the rest of the record; :meth:`RunPlotter.collect` waits for the
  files, so they exist when ``train`` returns.

Where there are no workers (another system, a single core, other threads running,
plotting already loaded in this process, or a failed fork), :meth:`RunPlotter.collect`
draws in this process, as before.

Lifetime: each worker serves one job and exits. Whatever ends the run (an error,
Ctrl-C, SIGTERM, a diverged or interrupted run), ``train`` calls :meth:`RunPlotter.stop`,
which terminates and reaps the leader; the leader kills and reaps its helper first.
No worker outlives the run or stays a zombie. Workers ignore SIGINT, which a Ctrl-C in
a terminal sends to the whole process group: the run decides. If the run's process is
killed outright, its workers die with it (``PR_SET_PDEATHSIG`` on Linux; elsewhere they
see their pipes close when they next read).

``MLPLAB_PLOT_WORKER=0`` turns the workers off; ``1`` uses them even where the plotting
modules are already loaded (the tests do).

This module imports neither NumPy nor matplotlib: the run's process never loads
matplotlib when workers draw.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlplab.data.dataset import Dataset
    from mlplab.engines.spec import ModelSpec
    from mlplab.plots.inputs import PlotInputs

ENV = "MLPLAB_PLOT_WORKER"
TIMEOUT_S = 300.0  # longest wait for the files: a worker that hangs must not hang the run
STOP_GRACE_S = 2.0  # after SIGTERM, before SIGKILL
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Drawing time of each plot in ms (xor-nn, sinlog and iris on the benchmark machine): the
# work is split by it. Only the ratios matter.
COST = {
    "loss": 75.0,
    "surface": 70.0,
    "regression_3d": 175.0,
    "confusion": 52.0,
    "pred_vs_true": 47.0,
    "network": 31.0,
}


class PlotWorkerFailed(Exception):
    """The workers did not write the plots; the message says why, in one line."""


def describe(err: BaseException) -> str:
    """One line for a plotting failure: ``ValueError: ...``, wherever it happened.

    A failure inside a worker arrives already described, so a warning reads the same
    whether the plots were drawn here or there.
    """
    return str(err) if isinstance(err, PlotWorkerFailed) else f"{type(err).__name__}: {err}"


def wanted() -> bool:
    """Whether a run in this process should draw its plots in workers.

    Workers pay off where they hide matplotlib's import: a fresh process
    (``mlplab train``, a notebook's first run) on a machine with a core to spare. Once
    the plotting modules are loaded here, drawing here costs no more than drawing there;
    and a process that trains run after run (a sweep worker) uses workers for its first
    run only, then loads matplotlib once, rather than once per run in a new worker.
    Forking is refused while other threads run: one of them could hold a lock that the
    child would then wait on forever.
    """
    setting = os.environ.get(ENV, "").strip().lower()
    if setting in ("0", "no", "false", "off"):
        return False
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    if setting in ("1", "yes", "true", "on"):
        return True
    # Linux only by default: macOS can fork, but system libraries there are not safe to
    # use in a forked child, which is why Python itself spawns there.
    linux = sys.platform.startswith("linux")
    return linux and _spare_core() and not _used and "mlplab.plots.run_plots" not in sys.modules


def _spare_core() -> bool:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return n >= 2


def split_work(stems: list[str]) -> tuple[list[str], list[str]]:
    """The plots for the leader and for the helper, about equal in drawing time."""
    shares: tuple[list[str], list[str]] = ([], [])
    load = [0.0, 0.0]
    for stem in sorted(stems, key=lambda s: -COST.get(s, 50.0)):  # largest first
        i = 0 if load[0] <= load[1] else 1
        shares[i].append(stem)
        load[i] += COST.get(stem, 50.0)
    return shares


# --- the parent's side ----------------------------------------------------------------------
class _Workers:
    """The leader process (a multiprocessing.Process) and our pipes to it and its helper."""

    def __init__(self) -> None:
        import multiprocessing

        mp = multiprocessing.get_context("fork")
        self.lead, lead_end = mp.Pipe()
        self.help, help_end = mp.Pipe()
        self.proc = mp.Process(
            target=_leader,
            args=(lead_end, help_end, (self.lead, self.help), os.getpid()),
            name="mlplab-plots",
            daemon=True,  # multiprocessing's exit handler stops it if all else fails
        )
        # Frozen objects are left alone by the collector, so the child's collections do
        # not write to (and so copy) every page it shares with us. Ours go on as before
        # (unless this process froze objects itself: those stay as they are).
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            self.proc.start()
        finally:
            if freeze:
                gc.unfreeze()
        lead_end.close()  # only the workers hold their ends: they see EOF when we go
        help_end.close()

    def stop(self, patience: float, sender: threading.Thread | None = None) -> None:
        """Wait up to ``patience`` s for the leader to exit, then terminate and reap it.

        The pipes are closed last: a ``sender`` still writing to a worker fails once no
        worker is left to read, and only then may its pipe go.
        """
        proc = self.proc
        proc.join(patience)
        if proc.exitcode is None:
            proc.terminate()  # the leader kills and reaps its helper, then exits
            proc.join(STOP_GRACE_S)
        if proc.exitcode is None:
            proc.kill()  # the helper dies with it (PR_SET_PDEATHSIG)
            proc.join()
        if sender is not None:
            sender.join(STOP_GRACE_S)
        for conn in (self.lead, self.help):
            conn.close()
        proc.close()


_used = False  # whether a run in this process has had workers (see wanted())


def _start() -> _Workers | None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return None  # no plots at all, as in this process
    try:
        return _Workers()
    except (OSError, ValueError, ImportError):
        return None


class RunPlotter:
    """Draws one run's plots: in worker processes if they were started, else here."""

    def __init__(self) -> None:
        self.workers: _Workers | None = None
        self.sender: threading.Thread | None = None  # sends the jobs (see submit)
        self.pending: dict[Any, list[str]] = {}  # connection -> plots asked of it
        self.order: list[str] = []  # every plot asked for, in the order of plot_stems
        self.answered = False
        self.error: Exception | None = None  # from taking the model's numbers

    def start(self) -> None:
        """Fork the workers, if :func:`wanted`; without them, :meth:`collect` draws here."""
        global _used
        if self.workers is None and wanted():
            self.workers = _start()
            _used = _used or self.workers is not None

    @property
    def running(self) -> bool:
        """Whether workers are there to draw (else :meth:`collect` draws here)."""
        return self.workers is not None

    def submit(
        self,
        plots_dir: Path,
        result: dict[str, Any],
        data: Dataset,
        model: Any,
        spec: ModelSpec,
        fmt: str,
    ) -> None:
        """Send each worker its share of the plots; they start drawing at once.

        Never raises: an error taking the model's numbers is raised by :meth:`collect`.
        Without workers this does nothing.
        """
        workers = self.workers
        if workers is None or self.pending:
            return
        from mlplab.plots.inputs import plot_inputs, plot_stems

        try:
            inputs = plot_inputs(result, data, model, spec)
        except Exception as err:
            self.error = err
            self.stop()
            return
        self.order = plot_stems(inputs)
        # Both get a job, if an empty one, so that both finish. The leader's goes first:
        # a leader that could not fork its helper reads the helper's after its own.
        self.pending = dict(zip((workers.lead, workers.help), split_work(self.order)))
        jobs = [(conn, _job(plots_dir, inputs, fmt, stems)) for conn, stems in self.pending.items()]
        # Sent from a thread: a pipe holds 64 kB, so a send waits until its worker reads,
        # and a worker that never does must not hang the run (collect() times out).
        self.sender = threading.Thread(target=_send, args=(jobs,), name="mlplab-plots", daemon=True)
        self.sender.start()

    def collect(
        self,
        plots_dir: Path,
        result: dict[str, Any],
        data: Dataset,
        model: Any,
        spec: ModelSpec,
        fmt: str,
        timeout: float | None = None,
    ) -> list[str]:
        """The names of the files written: the workers', or drawn here without workers.

        Raises
        ------
        PlotWorkerFailed
            A worker failed: its drawing raised (the message names the error), it died,
            or the files were not written within ``timeout`` seconds (default
            :data:`TIMEOUT_S`).
        Exception
            Whatever taking the model's numbers, or drawing here, raised.
        """
        if self.error is not None:
            raise self.error
        if self.workers is not None and not self.pending:
            self.submit(plots_dir, result, data, model, spec, fmt)
            if self.error is not None:
                raise self.error
        if self.workers is None:
            from mlplab.plots.run_plots import draw_run_plots

            return draw_run_plots(plots_dir, result, data, model, spec, fmt=fmt)
        try:
            return self._answers(TIMEOUT_S if timeout is None else timeout)
        finally:
            self.stop()

    def _answers(self, timeout: float) -> list[str]:
        import time
        from multiprocessing.connection import wait

        assert self.workers is not None
        written: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while self.pending:
            left = deadline - time.monotonic()
            ready = wait([*self.pending, self.workers.proc.sentinel], max(left, 0.0))
            conns = [c for c in self.pending if c in ready or c.poll()]
            for conn in conns:
                try:
                    status, payload = conn.recv()
                except (EOFError, OSError):
                    raise PlotWorkerFailed("a plot worker process died") from None
                if status != "ok":
                    raise PlotWorkerFailed(payload)
                written.update(zip(self.pending.pop(conn), payload))
            if not conns and ready:
                code = self.workers.proc.exitcode
                raise PlotWorkerFailed(f"the plot worker process died (exit code {code})")
            if not ready:
                raise PlotWorkerFailed(f"the plot workers did not finish in {timeout:g} s")
        self.answered = True
        return [written[s] for s in self.order]

    def stop(self) -> None:
        """End the workers and reap them (a no-op without any; safe to call twice)."""
        workers, self.workers = self.workers, None
        if workers is not None:
            # After the answers the leader is already on its way out; else it is told to go.
            workers.stop(0.5 if self.answered else 0, self.sender)
        self.sender = None
        self.pending = {}


def _send(jobs: list[tuple[Any, bytes]]) -> None:
    """Send each worker its job; a worker that is gone is reported by collect()."""
    for conn, job in jobs:
        try:
            conn.send_bytes(job)
        except (OSError, ValueError):
            return


def _job(plots_dir: Path, inputs: PlotInputs, fmt: str, stems: list[str]) -> bytes:
    from mlplab.plots.inputs import only

    return pickle.dumps((Path(plots_dir), only(inputs, stems), fmt, stems), protocol=5)


# --- the workers' side ----------------------------------------------------------------------
def _leader(conn: Any, help_conn: Any, parent_ends: tuple[Any, ...], parent_pid: int) -> None:
    """The leader: load the plotting code, fork the helper, draw its share, reap."""
    for end in parent_ends:
        end.close()  # else our copies would keep the pipes open after the run dies
    _as_worker(parent_pid)
    with contextlib.suppress(Exception):  # if it fails, the job reports why
        import mlplab.plots.run_plots  # noqa: F401  the work this process exists to do early

    helper = _fork_helper(conn, help_conn)
    if helper:
        help_conn.close()

        def _stop(signum: int, frame: Any) -> None:
            _reap(helper, kill=True)
            os._exit(128 + signum)

        signal.signal(signal.SIGTERM, _stop)
    _serve(conn)
    if helper:
        _reap(helper, kill=False)
    else:
        _serve(help_conn)  # no helper: its share is ours too


def _fork_helper(conn: Any, help_conn: Any) -> int:
    """Fork the helper (it shares every module loaded so far); its pid, or 0 if none."""
    leader = os.getpid()
    gc.freeze()  # as for the leader's own fork: fewer pages copied in either process
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    code = 0
    try:
        conn.close()
        _as_worker(leader)
        _serve(help_conn)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never return into the leader's code


def _reap(pid: int, kill: bool) -> None:
    with contextlib.suppress(OSError):  # already gone
        if kill:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _serve(conn: Any) -> None:
    """Draw the one job that arrives on ``conn`` and answer (nothing if it closes)."""
    try:
        job = conn.recv_bytes()
    except (EOFError, OSError):
        return
    try:
        from mlplab.plots.run_plots import write_plots

        plots_dir, inputs, fmt, stems = pickle.loads(job)
        answer: tuple[str, Any] = ("ok", write_plots(plots_dir, inputs, fmt, stems))
    except Exception as err:
        answer = ("error", f"{type(err).__name__}: {err}")
    with contextlib.suppress(OSError):  # the run is gone: nobody to answer
        conn.send(answer)


def _as_worker(parent_pid: int) -> None:
    """Signals of a worker: the run decides about Ctrl-C, and a worker dies with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(0)
