"""Draw a run's plots in forked processes that get ready while the run trains.

For a lab-sized run, importing matplotlib costs more than training (about 0.25 s), and
drawing the plots about 0.2 s more on one core. On Linux, ``train`` has worker
processes draw them instead, on the core that training leaves free:

- the **leader** is forked as early as can be: by ``mlplab train`` before it loads
  anything heavy (:func:`prestart`), else when a run starts (:meth:`RunPlotter.start`).
  It imports matplotlib while the command loads and the run trains;
- once the model is built, ``train`` sends it the plots' inputs before training
  (:meth:`RunPlotter.prepare`), and during training the range of the curves
  (:meth:`RunPlotter.progress`). The leader draws each plot's background: everything
  but the model's part (:mod:`mlplab.plots.layered`, :mod:`mlplab.plots.session`);
- at the end of the run, ``train`` takes the model's numbers once
  (:func:`~mlplab.plots.inputs.plot_inputs`, the only step that needs the model: the
  workers never touch the model, the engine or torch) and sends them
  (:meth:`RunPlotter.submit`). The leader forks a **helper** that shares its figures;
  each draws the model's part of half the plots over their backgrounds and writes them,
  while ``train`` writes the rest of the record; :meth:`RunPlotter.collect` waits for
  the files, so they exist when ``train`` returns.

Where there are no workers (another system, a single core, other threads running,
plotting already loaded in this process, or a failed fork), :meth:`RunPlotter.collect`
draws in this process, as before: the same pictures, pixel for pixel.

Lifetime: the workers serve one run and exit. Whatever ends the run (an error,
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
import math
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlplab.data.dataset import Dataset
    from mlplab.engines.spec import ModelSpec
    from mlplab.plots.inputs import PlotInputs
    from mlplab.plots.session import DrawingSession
    from mlplab.training.loop import History

ENV = "MLPLAB_PLOT_WORKER"
TIMEOUT_S = 300.0  # longest wait for the files: a worker that hangs must not hang the run
STOP_GRACE_S = 2.0  # after SIGTERM, before SIGKILL
PROGRESS_EVERY_S = 0.03  # at most this often, the curves' range goes to the leader
# Drawing time of each plot in ms (xor-nn, sinlog and iris on the benchmark machine): the
# work is split by it. Only the ratios matter.
COST = {
    "snapshots.gif": 450.0,
    "snapshots.grid": 340.0,
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


def split_work(
    stems: list[str], cost: Callable[[str], float] | None = None
) -> tuple[list[str], list[str]]:
    """The plots for the leader and for the helper, about equal in drawing time.

    ``cost`` gives each plot's time (default: :data:`COST`, for drawing it whole).
    """
    cost = cost or (lambda stem: COST.get(stem, 50.0))
    shares: tuple[list[str], list[str]] = ([], [])
    load = [0.0, 0.0]
    for stem in sorted(stems, key=lambda s: -cost(s)):  # largest first
        i = 0 if load[0] <= load[1] else 1
        shares[i].append(stem)
        load[i] += cost(stem)
    return shares


SNAPSHOT_STEMS = ["snapshots.gif", "snapshots.grid"]  # the snapshots' two files, as jobs


@dataclass
class Job:
    """The final drawing: into ``plots_dir``, as ``fmt``, the plots ``stems``.

    ``snapshots`` (a :class:`~mlplab.plots.recorder.SnapshotRecorder`'s frames to
    draw) comes with the stems :data:`SNAPSHOT_STEMS`.
    """

    plots_dir: Path
    inputs: PlotInputs
    fmt: str
    stems: list[str]
    snapshots: Any = None


class CurveRange:
    """Each curve's finite min and max so far, and the first and last validated epoch.

    What the loss plot's layout needs of the curves (see
    :meth:`~mlplab.plots.run_plots.LossPlot.set_result`): given as two-point curves,
    they give it the same axes as the whole curves, in a few bytes however long the run.
    Kept up to date in O(1) a validation.
    """

    def __init__(self, metric: str) -> None:
        self.names = {
            "train_losses": "train_losses",
            "val_losses": "val_losses",
            "train_metrics": f"train_{metric}s",
            "val_metrics": f"val_{metric}s",
        }
        self.seen = 0
        self.range: dict[str, list[float]] = {}
        self.epochs: list[float] = []

    def add(self, history: History) -> None:
        """Take the validations ``history`` has had since the last call."""
        n = len(history.val_epochs)
        for attr, name in self.names.items():
            values = getattr(history, attr)
            for v in values[self.seen : n]:
                lo_hi = self.range.setdefault(name, [math.nan, math.nan])
                if math.isfinite(v):
                    lo_hi[0] = v if not math.isfinite(lo_hi[0]) else min(lo_hi[0], v)
                    lo_hi[1] = v if not math.isfinite(lo_hi[1]) else max(lo_hi[1], v)
        if n:
            self.epochs = [float(history.val_epochs[0]), float(history.val_epochs[-1])]
        self.seen = n

    def summary(self) -> dict[str, list[float]]:
        """The curves as two points each (min, max), ``val_epochs`` as (first, last)."""
        out = {name: list(lo_hi) for name, lo_hi in self.range.items()}
        if self.epochs:
            out["val_epochs"] = list(self.epochs)
        return out


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
_prestarted: _Workers | None = None  # started by prestart(), not yet taken by a run


def _start() -> _Workers | None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return None  # no plots at all, as in this process
    try:
        return _Workers()
    except (OSError, ValueError, ImportError):
        return None


def prestart() -> None:
    """Fork the leader now, for the next run in this process to take (``mlplab train``).

    Called before the command loads its settings, NumPy and the engine: the leader's
    import of matplotlib then runs beside all of that, not only beside training. A
    run that draws no plots does not take it; :func:`discard_prestarted` ends it.
    """
    global _prestarted
    if _prestarted is None and wanted():
        _prestarted = _start()


def discard_prestarted() -> None:
    """End a leader that :func:`prestart` forked and no run took (a no-op otherwise)."""
    global _prestarted
    workers, _prestarted = _prestarted, None
    if workers is not None:
        workers.stop(0)


class RunPlotter:
    """Draws one run's plots: in worker processes if they were started, else here."""

    def __init__(self) -> None:
        self.workers: _Workers | None = None
        self.outbox: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self.sender: threading.Thread | None = None  # sends the messages (see _post)
        self.pending: set[Any] = set()  # connections whose answer is still to come
        self.order: list[str] = []  # every plot asked for, in the order of plot_stems
        self.answered = False
        self.answered_by: list[int] = []  # pids of the workers that answered
        self.error: Exception | None = None  # from taking the model's numbers
        self.curves: CurveRange | None = None  # set by prepare()
        self.last_progress = 0.0
        self.snapshots_sent = False  # whether the job asked the workers for the snapshots
        self.snapshot_files: list[str] = []  # what they wrote of them

    def start(self) -> None:
        """Take the prestarted workers or fork them, if :func:`wanted`; else draw here."""
        global _used, _prestarted
        if self.workers is None:
            if _prestarted is not None:
                self.workers, _prestarted = _prestarted, None
            elif wanted():
                self.workers = _start()
            _used = _used or self.workers is not None

    @property
    def running(self) -> bool:
        """Whether workers are there to draw (else :meth:`collect` draws here)."""
        return self.workers is not None

    def _post(self, kind: str, payload: Any) -> None:
        """Queue a message for the leader; a thread sends it.

        A pipe holds 64 kB, so a send waits until the leader reads, and the leader
        reads only between backgrounds (or once matplotlib is loaded): the run must
        never wait for it. A leader that never reads cannot hang the run either
        (collect() times out).
        """
        if self.sender is None:
            assert self.workers is not None
            args = (self.outbox, self.workers.lead)
            self.sender = threading.Thread(
                target=_send, args=args, name="mlplab-plots", daemon=True
            )
            self.sender.start()
        self.outbox.put((kind, payload))

    def prepare(
        self, header: dict[str, Any], data: Dataset, model: Any, spec: ModelSpec, fmt: str
    ) -> None:
        """Send the plots' inputs before training, for the leader to draw backgrounds.

        ``model`` is the untrained model (only its weights' shapes matter). Never
        raises: backgrounds only save time, and the plots are drawn whole without them.
        """
        if self.workers is None or fmt != "png" or self.pending:
            return  # SVG is drawn whole at the end
        try:
            from mlplab.plots.inputs import can_draw_network, layout_inputs
            from mlplab.training.metrics import curve_metric_name

            # The weights only for the network diagram (a copy of a large model's costs).
            state = model.state_dict() if can_draw_network(spec) else {}
            inputs = layout_inputs(header, data, spec, state)
            self.curves = CurveRange(curve_metric_name(data.task))
        except Exception:
            return
        self._post("prep", inputs)

    def progress(self, history: History) -> None:
        """Take a validation's curves; every :data:`PROGRESS_EVERY_S`, send their range."""
        if self.curves is None or self.workers is None or self.pending:
            return
        self.curves.add(history)
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_EVERY_S:
            self.last_progress = now
            self._post("progress", self.curves.summary())

    def submit(
        self,
        plots_dir: Path,
        result: dict[str, Any],
        data: Dataset,
        model: Any,
        spec: ModelSpec,
        fmt: str,
        snapshots: Any = None,
    ) -> None:
        """Send the leader the model's numbers; the workers start drawing at once.

        ``snapshots``, a :class:`~mlplab.plots.recorder.SnapshotRecorder` with frames,
        has the workers draw them too (see :attr:`snapshot_files`). Never raises: an
        error taking the model's numbers is raised by :meth:`collect`. Without workers
        this does nothing.
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
        stems = list(self.order)
        if snapshots is not None and snapshots.frames:
            snapshots = snapshots.for_drawing()
            stems += SNAPSHOT_STEMS
            self.snapshots_sent = True
        else:
            snapshots = None
        # Both answer, the helper perhaps with nothing, so that both are known to be done.
        self.pending = {workers.lead, workers.help}
        self._post("job", Job(Path(plots_dir), inputs, fmt, stems, snapshots))

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
                    status, payload, pid = conn.recv()
                except (EOFError, OSError):
                    raise PlotWorkerFailed("a plot worker process died") from None
                self.pending.discard(conn)
                self.answered_by.append(pid)
                if status != "ok":
                    raise PlotWorkerFailed(payload)
                written.update(payload)
            if not conns and ready:
                code = self.workers.proc.exitcode
                raise PlotWorkerFailed(f"the plot worker process died (exit code {code})")
            if not ready:
                raise PlotWorkerFailed(f"the plot workers did not finish in {timeout:g} s")
        self.answered = True
        asked = self.order + (SNAPSHOT_STEMS if self.snapshots_sent else [])
        missing = [s for s in asked if s not in written]
        if missing:
            raise PlotWorkerFailed(f"the plot workers did not draw {', '.join(missing)}")
        if self.snapshots_sent:
            self.snapshot_files = [written[s] for s in SNAPSHOT_STEMS]
        return [written[s] for s in self.order]

    def stop(self) -> None:
        """End the workers and reap them (a no-op without any; safe to call twice)."""
        workers, self.workers = self.workers, None
        if self.sender is not None:
            self.outbox.put(None)  # the sender ends after what is queued, or at once if
        if workers is not None:  # the leader is gone (its pipe closes)
            # After the answers the leader is already on its way out; else it is told to go.
            workers.stop(0.5 if self.answered else 0, self.sender)
        self.sender = None
        self.pending = set()


def _send(outbox: queue.SimpleQueue[tuple[str, Any] | None], conn: Any) -> None:
    """Send the queued messages to the leader, in order, until told to stop."""
    while (message := outbox.get()) is not None:
        try:
            conn.send(message)
        except (OSError, ValueError):
            return  # the leader is gone: collect() reports it


# --- the workers' side ----------------------------------------------------------------------
def _leader(conn: Any, help_conn: Any, parent_ends: tuple[Any, ...], parent_pid: int) -> None:
    """The leader: load the plotting code, draw backgrounds, then the job, with a helper."""
    for end in parent_ends:
        end.close()  # else our copies would keep the pipes open after the run dies
    _as_worker(parent_pid)
    # A process that lives for one run: collections would only slow the import (by a
    # tenth) and the drawing, and free nothing that matters.
    gc.disable()
    session = None
    with contextlib.suppress(Exception):  # if it fails, the job reports why
        session = _new_session()
    job = _wait_for_job(conn, session)
    if job is None:
        return  # the run ended without plots
    try:
        cost = (lambda stem: session.cost(stem, job)) if session is not None else None
        mine, theirs = split_work(job.stems, cost)
    except Exception as err:
        _answer(conn, None, job, [], error=err)
        _answer(help_conn, None, job, [])
        return
    helper = _fork_helper(conn, help_conn, session, job, theirs)
    if helper:
        help_conn.close()

        def _stop(signum: int, frame: Any) -> None:
            _reap(helper, kill=True)
            os._exit(128 + signum)

        signal.signal(signal.SIGTERM, _stop)
    _answer(conn, session, job, mine)
    if helper:
        _reap(helper, kill=False)
    else:
        _answer(help_conn, session, job, theirs)  # no helper: its share is ours too


def _new_session() -> DrawingSession:
    from mlplab.plots.session import DrawingSession

    return DrawingSession()


def _wait_for_job(conn: Any, session: DrawingSession | None) -> Job | None:
    """Draw backgrounds as messages allow, until the job comes (None: the run ended)."""
    while True:
        if session is not None and session.has_work() and not conn.poll():
            with contextlib.suppress(Exception):  # a plot without background is drawn whole
                session.draw_one()
            continue
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            return None
        if kind == "job":
            return payload
        if session is not None:
            with contextlib.suppress(Exception):
                session.handle(kind, payload)


def _fork_helper(
    conn: Any, help_conn: Any, session: DrawingSession | None, job: Job, share: list[str]
) -> int:
    """Fork the helper to draw ``share`` (it has every figure drawn so far); its pid or 0."""
    leader = os.getpid()
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
        _answer(help_conn, session, job, share)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never return into the leader's code


def _reap(pid: int, kill: bool) -> None:
    with contextlib.suppress(OSError):  # already gone
        if kill:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _answer(
    conn: Any,
    session: DrawingSession | None,
    job: Job,
    stems: list[str],
    error: BaseException | None = None,
) -> None:
    """Draw ``stems`` of ``job`` and answer ``("ok", [(stem, file), ...], pid)``.

    A failure answers ``("error", "Type: message", pid)`` instead.
    """
    answer: tuple[str, Any, int]
    try:
        if error is not None:
            raise error
        if stems and session is None:
            session = _new_session()  # raises what made it fail in the first place
        written = session.write(job, stems) if stems and session is not None else []
        answer = ("ok", written, os.getpid())
    except Exception as err:
        answer = ("error", f"{type(err).__name__}: {err}", os.getpid())
    with contextlib.suppress(OSError):  # the run is gone: nobody to answer
        conn.send(answer)


def _as_worker(parent_pid: int) -> None:
    """Signals of a worker: the run decides about Ctrl-C, and a worker dies with it."""
    from mlplab.lifetime import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not die_with_parent(signal.SIGKILL, parent_pid):
        os._exit(0)
