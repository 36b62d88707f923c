"""From a config to its run record: ``train(config) -> Result``, and the wiring of a stack.

A single run is a stack of one, trained as :func:`mlplab.stacks.train_batched` trains many:
the engine holds the models (:mod:`mlplab.assemble`), :func:`mlplab.training.loop.fit`
trains them, and the subscribers that :func:`wire_subscribers` chooses record and show what
the loop reports: the run writer, TensorBoard, console progress, snapshots and plots. The
phases, in order: validate the config, check that the record can be written, load the
data, build the engine, train, and (in the subscribers) record. Nothing is written before
the config and the data have been checked, so bad input leaves no run behind.

``train`` also decides what happens to the run's folder: a finished run is kept (or
trained again beside it with ``rerun``), and ``resume`` continues an interrupted one from
its checkpoint (:mod:`mlplab.restore`).
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import functools
import inspect
import math
import numbers
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import numpy as np

from mlplab.assemble import (
    LOADING_SETTINGS,
    as_config,
    build_stack,
    check_castable,
    check_fits,
    check_snapshot_frames,
    checkpoint_meta,
    device_used,
    header_of,
    load_data,
    lr_schedule_of,
    model_spec,
    reuse_loaded_data,
    schedule_of,
    steps_per_epoch,
    treated,
)
from mlplab.config import LATER_SETTINGS, Config, optimizer_notes, unused_by
from mlplab.console import (
    RunConsole,
    end_notes,
    lab_targets,
    print_summary,
    record_line,
    say_reading,
    scale_note,
    target_scale_start_note,
)
from mlplab.data.cost import is_out_of_memory, ran_out_of_memory
from mlplab.data.dataset import (
    Dataset,
    check_dataset,
    dataset_label,
    is_in_memory,
    missing_class_notes,
)
from mlplab.engines.backend import Backend
from mlplab.engines.choose import blas_threads, check_device, resolve_engine
from mlplab.engines.init import run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.errors import (
    RUN_FOLDER,
    CheckpointError,
    ConfigError,
    DataChangedWarning,
    DataError,
    MlplabError,
    NewerRecord,
    OutOfMemory,
    RecordError,
    RunBusy,
    check_path_argument,
    check_switches,
    error_line,
    flags_as_arguments,
    is_bool,
    limit_met,
    note_in_python,
    note_says_why,
    public,
    short_repr,
    warnings_caught,
)
from mlplab.live import live_view
from mlplab.pipes import closed_pipe_safe
from mlplab.rerun import RECORD_SETTINGS, finished_record, kept_line, scratch_dir, settle
from mlplab.rerun import SUFFIX as RERUN_SUFFIX
from mlplab.restore import (
    ROWS_DIFFER,
    UNFINISHED,
    Restored,
    check_same_config,
    claim_run_id,
    load_run,
    restore_model,
    restore_stack,
    resumable,
    resume_data,
    resume_inputs,
    saved_best_epoch,
    set_global_rng,
)
from mlplab.runs.checkpoint import Checkpoint, load_checkpoint
from mlplab.runs.curves import read_curves
from mlplab.runs.locks import RunLocks
from mlplab.runs.record import (
    FINISHED,
    RunRecord,
    check_resumable,
    check_run_folders,
    check_writable,
    log_path_of,
    read_result,
    record_settings,
    refuse_others_run,
    run_dir_of,
    run_name,
)
from mlplab.runs.tensorboard import TensorBoardLogger
from mlplab.runs.writer import (
    ModelRecord,
    RunWriter,
    curve_arrays,
    curve_lists,
    curves_of,
    resume_hint,
)
from mlplab.trained import TrainedModel, shown_dir
from mlplab.training.events import End, Event, Models, Prune, Subscriber
from mlplab.training.loop import StackState, fit
from mlplab.training.metrics import curve_metric_name

# SIGHUP is a closed terminal or a dropped ssh session: the run stops as for SIGTERM.
EXIT_FOR_SIGNAL: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def stop_signals(signals: Sequence[int] = tuple(EXIT_FOR_SIGNAL)) -> list[int]:
    """The ``signals`` that stop a run, less SIGHUP where the process ignores it:
    ``nohup mlplab ... &`` asked that the run outlive its terminal, and a handler of
    mlplab's stopped it at the logout all the same."""
    ignored = signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    return [sig for sig in signals if not (sig == signal.SIGHUP and ignored)]


# Points per TensorBoard curve: a single run shows about 1000, as TensorBoard does by
# default (a stack writes fewer: mlplab.stacks.STACK_TB_POINTS).
TB_POINTS = 1000

# Whose words a run's printed lines use: the command line's flags (`--mm 0.9`) while
# `mlplab train` runs it (mlplab.cli), else Python's arguments (`mm=0.9`), as the caller of
# train() gives them. A context variable: a thread of the caller's starts in Python's.
_BY_COMMAND: contextvars.ContextVar[bool] = contextvars.ContextVar("by_command", default=False)


@contextlib.contextmanager
def as_command() -> Iterator[None]:
    """The runs trained in this block speak in the command line's flags."""
    token = _BY_COMMAND.set(True)
    try:
        yield
    finally:
        _BY_COMMAND.reset(token)


def in_callers_words(note: str) -> str:
    """``note`` as the caller gives settings: flags for `mlplab train`, else arguments."""
    return note if _BY_COMMAND.get() else note_in_python(note)


# --- what train() returns --------------------------------------------------------------------
# TrainedModel.__repr__: a line, not every array of the dataset. No __eq__: the generated
# one compared the arrays, and `a == b` raised ValueError; two results are equal if one.
@dataclass(repr=False, eq=False)
class Result(TrainedModel):
    """What :func:`train` returns: the run's record, and the trained model to use.

    Attributes
    ----------
    config : Config
    run_dir : Path
        The run's folder, absolute; None only when ``record=False`` kept no folder (typed
        ``Path``, so that the README's ``result.run_dir / "result.json"`` and
        ``load_run(result.run_dir)`` type-check: a ``record=False`` caller checks it).
    record : dict
        The contents of result.json: settings merged with results.
    dataset : Dataset
    backend : Backend
        The trained model: a stack of one on its engine. Use it through :meth:`predict`,
        :meth:`predict_labels`, :meth:`predict_proba`, :meth:`model_outputs`,
        :attr:`weights` and :meth:`to_torch` (see :class:`mlplab.trained.TrainedModel`).
    spec : ModelSpec
        The architecture (widths, activation, task).
    exit_code : int
        What ``mlplab train`` exits with: 0 finished, 1 diverged, 130/143/129 stopped by
        SIGINT/SIGTERM/SIGHUP (or ``stop``).
    curves : dict of str to list
        Every validation's values, unthinned (result.json keeps a few hundred points).
    plot_dir : Path or None
        Where :meth:`plot` drew the pictures of a run with ``record=False`` (a temporary
        folder, reused by each call, for the caller to remove); None before.
    kept : bool
        True when ``run_dir`` already held this config's finished run and it was returned
        as it is, loaded from its record, with no training (see ``train(rerun=...)``).
    notes : list of str
        What the run noted before and after training (``mlplab: note:`` lines), printed
        or not (``verbose=False``): a setting it did not use, a class no split holds, a
        model no better than the common class, an lr too high; last, why a run that did
        not finish ended (``record["message"]``). In Python's words, as train()'s
        arguments say them (``task='classification'``, ``lr=0.1``), where the printed
        lines name the command line's flags.

    ``status`` and ``metrics`` read ``record``: ``"finished"``, ``{"test_acc": 0.97, ...}``.
    """

    config: Config
    # None with record=False (see the docstring): typed for the common case, in which a
    # checker had flagged every `result.run_dir / "x"` of the README's.
    run_dir: Path
    record: dict[str, Any]
    dataset: Dataset
    backend: Backend
    spec: ModelSpec
    exit_code: int = 0
    curves: dict[str, list[Any]] = field(default_factory=dict)  # every point, unthinned
    kept: bool = False  # True: a finished run found in run_dir, returned without training
    notes: list[str] = field(default_factory=list)
    # The temporary folder plot() draws a record=False run's pictures into, once made.
    plot_dir: Path | None = field(default=None, init=False, repr=False)

    def predict(self, X: Any) -> np.ndarray:
        """As :meth:`mlplab.trained.TrainedModel.predict`; a diverged run's outputs come
        with a warning, since they are those of the weights that blew up (finite, but
        as sure of every answer as they are wrong), where ``load_run`` gives the best."""
        out = super().predict(X)  # refused first where they are not finite
        if self.record.get("status") == "diverged":
            best, where = self.record.get("best_epoch"), self.run_dir
            warnings.warn(
                "this run diverged: these outputs come from its weights after the loss blew "
                "up"
                + (
                    f"; mlplab.load_run({str(where)!r}) gives its best model (epoch {best})"
                    if where is not None and best
                    else ""
                ),
                UserWarning,
                stacklevel=_user_level(),
            )
        return out

    def plot(self) -> list[Path]:
        """The run's plot files, ``run_dir/plots/*``; in a notebook, shown inline too.

        They are drawn as the run ends (``plots: png`` or ``svg``); a run without them
        (``plots: none``) gets them drawn now, as ``mlplab plot RUN_DIR`` draws them, and
        one that kept no record (``record=False``) gets them in a temporary folder
        (:attr:`plot_dir`, ``mlplab-plots-*`` under :func:`tempfile.gettempdir`), the same
        one for each call; mlplab never removes it: ``shutil.rmtree(result.plot_dir)``
        when you are done with the files.
        """
        from mlplab.restore import run_plots

        if self.run_dir is not None:
            return run_plots(self.run_dir)
        import tempfile

        from mlplab.live import in_jupyter
        from mlplab.notebook import images
        from mlplab.plots.run_plots import draw_run_plots

        if self.plot_dir is None or not self.plot_dir.is_dir():
            self.plot_dir = Path(tempfile.mkdtemp(prefix="mlplab-plots-"))
        folder = self.plot_dir
        record = {**self.record, **self.curves}  # every point, as a record's curves.npz
        names = draw_run_plots(
            folder, record, self.dataset, self.model_outputs, self.spec, weights=self.weights
        )
        if in_jupyter():
            from IPython.display import HTML, display

            display(HTML(images(folder)))
        return sorted(folder / name for name in names)


def _user_level() -> int:
    """The ``stacklevel`` of the first caller outside mlplab, for a warning raised in the
    function that calls this: the user's line, through predict_proba's or any other."""
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "mlplab":
        level, frame = level + 1, frame.f_back
    return level


# --- signals ---------------------------------------------------------------------------------
# A second SIGINT this soon after the first is the same stop, not a second Ctrl-C:
# `timeout -s INT` signals the process and then its whole group, and a run stopped at once
# by the second lost the checkpoint the first had asked for.
SAME_STOP_S = 1.0


# Set by `mlplab train`: a signal while the data is read or made ends the command at once,
# though it handles signals (handle_signals=True) to return a Result once a run has begun.
STOP_BEFORE_START: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mlplab_stop_before_start", default=False
)


@contextlib.contextmanager
def early_stops() -> Iterator[None]:
    """Within it, train(handle_signals=True) ends at once on a signal that comes before
    its run begins (:class:`StoppedBeforeStart`), as `mlplab train` does."""
    token = STOP_BEFORE_START.set(True)
    try:
        yield
    finally:
        STOP_BEFORE_START.reset(token)


class StoppedBeforeStart(KeyboardInterrupt):
    """A signal before a run began to train or write: the call ends at once, having
    written nothing; ``exit_code`` is the signal's (130, 143, 129)."""

    def __init__(self, signum: int) -> None:
        self.exit_code = 128 + signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        super().__init__(
            f"{name} came before the run began to train (while its data was read or made): "
            "it stopped, and nothing was written"
        )


@dataclass
class StopFlag:
    """Turns SIGINT/SIGTERM/SIGHUP into a request that the loop sees at its next step.

    In a sweep's worker process, :attr:`relay` (set there) is a third signal: the sweep's
    own SIGINT passed on, which stops as a first Ctrl-C does and is named SIGINT.
    """

    signum: int | None = None
    signalled_at: float = 0.0  # time.monotonic() of the first signal
    # While True (train() reads or makes its data, before anything is written), a signal
    # ends the call at once: it waited for the data (minutes for 10**8 rows) and for a
    # first step, and `timeout 8` ended after 108 s.
    before_start: bool = False
    previous: dict[int, Any] = field(default_factory=dict)
    relayed: bool = False
    # train(stop=...): the caller's own request, polled with the signals (from any thread).
    asked: Callable[[], Any] | None = None
    by_caller: bool = False
    who: str = "train"  # whose stop() it is, for its errors: train, sweep
    # The sweep does not pass on its SIGINT as SIGINT, because the terminal's Ctrl-C may
    # reach the worker too, and two SIGINTs are a second Ctrl-C that stops at once; nor
    # as SIGTERM, which would name the runs of `kill -INT SWEEP_PID` SIGTERM. None
    # outside a sweep's workers.
    relay: ClassVar[int | None] = None

    def install(
        self, signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    ) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in (*stop_signals(signals), *(() if self.relay is None else (self.relay,))):
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        # A second Ctrl-C stops at once. A repeated SIGTERM does not: schedulers send it
        # again while they wait, and the kernel can deliver a worker's parent-death
        # signal twice; either would cut short the checkpoint the first one asked for.
        # Nor does a Ctrl-C after a SIGTERM or after the sweep's relay of its SIGINT: the
        # terminal's own SIGINT may reach a worker along with them, as the same stop.
        if self.before_start and signum != self.relay:
            self.before_start = False  # once: what follows the raise is not stopped again
            raise StoppedBeforeStart(signum)
        if signum == self.relay:
            if self.signum is None:
                self.signum, self.relayed = signal.SIGINT, True
            return
        if self.signum == signal.SIGINT and signum == signal.SIGINT and not self.relayed:
            if time.monotonic() - self.signalled_at < SAME_STOP_S:
                return  # the same stop, signalled twice (timeout(1): the process, its group)
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum, self.signalled_at = signum, time.monotonic()

    def __call__(self) -> bool | str:
        """False, or the name of the signal (or ``stop()``) that asked for a stop."""
        if self.signum is not None:
            return signal.Signals(self.signum).name
        if self.asked is not None and not self.by_caller:
            self.by_caller = ask_stop(self.asked, self.who)
        return "stop()" if self.by_caller else False

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()


def ask_stop(stop: Callable[[], Any], who: str) -> bool:
    """The caller's ``stop()``, called once: True or False, else one line naming ``who``
    (train, sweep). A ConfigError it raises is already that line (a sweep's own check)."""
    try:
        asked = stop()
    except ConfigError:
        raise
    except Exception as err:
        raise ConfigError(f"{who}: stop() raised {type(err).__name__}: {err}") from err
    if not is_bool(asked):  # a string "False" is true
        raise ConfigError(
            f"{who}: stop() must return True or False; it returned {short_repr(asked)}"
        )
    return bool(asked)


@dataclass(frozen=True)
class Hooks:
    """What the caller of ``train`` hangs on its run: its own subscribers, and its own
    stopping rule (``early_stop``)."""

    subscribers: Sequence[Subscriber] = ()
    early_stop: Prune | None = None
    step_every: Sequence[int] = ()  # each subscriber's own Step cadence (0: as printed)


def _step_every(subscriber: Any, who: str = "train") -> int:
    """A subscriber's ``step_every``, read once: a whole number of steps, 0 without one.

    A value of another kind is refused in one line; an object that answers for any name
    (a ``unittest.mock.Mock``) has no cadence of its own, and keeps working as before.
    """
    every = getattr(subscriber, "step_every", None)
    if every is None or not isinstance(every, numbers.Number | str):
        return 0
    if isinstance(every, numbers.Integral) and not isinstance(every, bool) and int(every) >= 0:
        return int(every)
    raise ConfigError(
        f"{who}: a subscriber's step_every is a whole number of steps (0: as printed), "
        f"not {short_repr(every)}"
    )


# --- one stack -------------------------------------------------------------------------------
@dataclass
class StackRun:
    """A stack ready to train: its engine, loop state and subscribers."""

    cfgs: list[Config]
    data: Dataset
    specs: list[ModelSpec]
    engine: str
    backend: Backend
    state: StackState
    writer: RunWriter | None
    subscribers: list[Subscriber]
    tb: TensorBoardLogger | None = None
    progress_every: int = 0  # steps between Step events for the console's progress bar
    prune: Prune | None = None  # fit's hook: a search stops rows
    early_stop: Prune | None = None  # fit's hook: the caller's own early stopping
    callers: Sequence[Subscriber] = ()  # the caller's own subscribers, among `subscribers`


def wire_subscribers(
    cfgs: list[Config],
    data: Dataset,
    specs: list[ModelSpec],
    engine: str,
    records: list[ModelRecord] | None,
    console: Subscriber | None,
    tb_points: int,
    keep_until: tuple[int, int] | None = None,
    extra: Sequence[Subscriber] = (),
) -> tuple[RunWriter | None, TensorBoardLogger | None, list[Subscriber]]:
    """The caller's choice of subscribers, in the order that keeps the record whole.

    TensorBoard comes before the run writer, so that events reach their file before each
    checkpoint; plots and snapshots come after it, so that a plot that fails never costs
    the record. A subscriber of ``extra`` with a ``before_checkpoints`` part (the frames
    that snapshots keep) has that part called first, so that what it writes for a resume
    is on disk before the checkpoint the resume starts from.
    """
    subs: list[Subscriber] = [
        first for s in extra if (first := getattr(s, "before_checkpoints", None)) is not None
    ]
    writer = tb = None
    if records is not None:
        c0 = cfgs[0]
        tb = TensorBoardLogger(
            [m.record.dir for m in records],
            # What the run did, not `auto`: HParams compares numpy runs with torch ones, and
            # filters binary runs from multiclass ones.
            [tb_hparams({**record_settings(c), **resolved(c, data, engine)}) for c in cfgs],
            data.task,
            c0.epoch,
            c0.log_every,
            tb_points,
            keep_until,
            c0.validate_every,
        )
        writer = RunWriter(records, data.task, checkpoint_meta(specs[0], data, engine))
        subs += [tb, writer]
    if console is not None:
        subs.append(console)
    subs += list(extra)
    return writer, tb, subs


def fit_stack(run: StackRun, should_stop: Callable[[], bool | str] | None) -> StackState:
    """Train a built stack; an exception records every model still training, then re-raises."""
    c0, data = run.cfgs[0], run.data
    targets = {"train": data.y_train, "val": data.y_val, "test": data.y_test}
    # Overflow in a step shows up as a NaN/inf loss, which the loop reports as a
    # divergence in one line; NumPy's own RuntimeWarnings would only add noise.
    errs = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    threads = blas_threads(run.engine, run.specs[0], len(data.y_train), c0.batch_size)
    try:
        with errs, threads:
            return fit(
                run.backend,
                data.task,
                targets,
                dataclasses.replace(schedule_of(c0), progress_every=run.progress_every),
                [lr_schedule_of(c) for c in run.cfgs],
                run.state,
                run.subscribers,
                should_stop,
                run.prune,
                [run_name(c) for c in run.cfgs],
                run.early_stop,
                data.in_target_units,
                [c.to_dict() for c in run.cfgs],
                data,
            )
    except BaseException as caught:
        err: BaseException = caught
        oom = None
        if is_out_of_memory(caught):
            # One line that names the settings to shrink, in the record and for the
            # caller. The frames of the step that ran out hold its arrays: freed first,
            # so that the record can be written.
            traceback.clear_frames(caught.__traceback__)
            oom = err = ran_out_of_memory(
                caught,
                c0,
                data.n_features,
                len(data.y_train),
                data.n_outputs,
                c0.label(model_spec(c0, data)),
            )
        if run.tb is not None:
            # A full disk that stopped the run fails this flush too: the records below
            # must still say how the run ended, not "running".
            with contextlib.suppress(Exception):
                run.tb.close()
        # Its End is already on disk (finished, stopped early, diverged): a Ctrl-C in a
        # later subscriber, such as the plots, must not mark it interrupted, or a resume
        # would train an early-stopped run on.
        recorded = run.writer.results if run.writer is not None else {}
        ended = [int(k) for k in run.state.ids if int(k) not in recorded]
        if run.writer is not None:
            for k in ended:
                with contextlib.suppress(Exception):  # never hide the original exception
                    run.writer.abort(k, run.state.loop_state(k), err)
        _tell_callers(run, ended, err)
        if oom is not None and oom is not caught:
            raise oom from None
        raise


def _tell_callers(run: StackRun, ended: list[int], err: BaseException) -> None:
    """Send the caller's own subscribers (a page, a search) an End for the models an
    exception ended, ``failed`` (``interrupted`` for a Ctrl-C that stops at once), as the
    record says; the run's own subscribers have recorded it. One of them may be what
    raised: what it raises now is dropped, so the original exception reaches the caller."""
    if not ended or not run.callers:
        return
    status = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
    why = error_line(err) if status == "failed" else "interrupted at once"
    names, settings = [run_name(c) for c in run.cfgs], [c.to_dict() for c in run.cfgs]
    models = Models(run.backend, run.state, names, settings, run.data)
    n, state = len(ended), run.state
    event = End(models, state.epoch, state.step, np.array(ended), [status] * n, [why] * n, [{}] * n)
    for sub in run.callers:
        with contextlib.suppress(Exception):
            sub(event)


# --- train(): one config ---------------------------------------------------------------------
@public
def train(
    config: Config | dict[str, Any] | argparse.Namespace | str | Path | None = None,
    *,
    resume: str | Path | None = None,
    verbose: bool = True,
    record: bool = True,
    handle_signals: bool | None = None,
    dataset: Dataset | None = None,
    subscribers: Sequence[Subscriber] = (),
    lock: bool = True,
    rerun: bool = False,
    stop: Callable[[], bool] | None = None,
    early_stop: Prune | None = None,
    **overrides: Any,
) -> Result:
    """Train one experiment and write its run record.

    Parameters
    ----------
    config : Config, dict, argparse.Namespace, or path to a YAML file
        The experiment (a Namespace: the lecture's ``args``); keyword ``overrides`` win
        over it (like flags over a file).
    resume : path, optional
        A run directory to continue from its last checkpoint (its own config is used).
    verbose : bool
        Print step lines and the results table.
    record : bool
        Write the run directory (result.json, metrics.csv, events, checkpoints, plots).
    handle_signals : bool or None
        None (the default): Ctrl-C (SIGINT; a notebook's interrupt) stops the run at the
        end of a step, writes its checkpoint and record (``interrupted``), then raises
        KeyboardInterrupt, so a script or cell still stops; the same call again continues
        the run. A second Ctrl-C (a second or more after the first) stops at once. True:
        SIGINT, SIGTERM and SIGHUP stop the run so, and ``train`` returns the interrupted
        Result (``mlplab train`` and sweeps set this). False: signals are left alone; a Ctrl-C then stops mid-step, and the run
        keeps no checkpoint before its first ``save_every``.
    dataset : Dataset, optional
        Train on these arrays instead of loading ``config.data`` (the scikit-learn
        estimators use this). Unless ``data`` is the dataset's own ``name``, a recorded
        run's ``data`` is the arrays' shape and digest (``array-60x2-1f3a9c0e``), so runs
        on other arrays never share a folder.
    subscribers : list of callables, optional
        More subscribers to the run's events (:mod:`mlplab.training.events`), called
        after the record's and the console's.
    lock : bool, default True
        Refuse, in one line, to train a run that another process (a sweep, another
        ``train``) or another thread is training right now; without it both would write
        the run's folder at once. False leaves the run unlocked (a sweep's runs: it holds
        their locks itself).
    rerun : bool, default False
        What to do when the config's run folder already holds a finished run. False:
        keep it, say so in one line, and return it (loaded from its record, with no
        training; ``Result.kept`` is True). True: train again in a hidden folder beside
        it, which replaces the finished run only once the new run has finished; a rerun
        that is interrupted, diverges or fails is removed and the finished run stays.
        With ``dataset`` (the estimators' fit), a finished run is always trained again
        this way: its arrays are not part of the config. A run that was interrupted (or
        killed) continues from its last checkpoint, as ``resume`` would continue it, unless
        ``rerun`` is True or ``dataset`` is given; then it starts afresh in its folder.
    stop : callable, optional
        Polled before every step; once it returns True, the run stops there as a Ctrl-C
        stops it (``interrupted``, with its checkpoint and record; the same call again
        continues it), and train returns the Result. For a stop button: a notebook widget's,
        or a web page's whose server runs the training in another thread, where signals
        cannot reach it. A subscriber can set what it reads.
    early_stop : callable, optional
        A stopping rule of one's own, as ``patience`` is mlplab's: given each
        :class:`~mlplab.training.events.Validate` event, True ends the run there,
        ``finished`` and ``stopped_early``, with its final metrics and checkpoints, where
        ``stop`` ends it ``interrupted``, to be continued. (A bool mask over the event's
        ``ids`` also serves.) The rule is not part of the config: the same config again
        keeps the run it ended.

    Returns
    -------
    Result
        ``status`` is ``finished``, ``interrupted`` or ``diverged`` (``exit_code`` 0, 130/143/129
        for SIGINT/SIGTERM/SIGHUP, 1).

    Raises
    ------
    mlplab.errors.MlplabError
        For bad settings or data (before anything is written).
    """
    check_switches("train", verbose=verbose, record=record, lock=lock, rerun=rerun)
    if resume is not None:
        resume = check_path_argument("train", "resume", resume, RUN_FOLDER)
        given = [f"{k}={short_repr(v)}" for k, v in overrides.items()]
        given += ["config"] * (config is not None) + ["rerun=True"] * rerun
        given += ["dataset"] * (dataset is not None) + ["record=False"] * (not record)
        if given:
            # As `mlplab train --resume`: a resumed run keeps its own config, so settings
            # given beside it would be dropped without a word (and record=False would
            # train it on and keep nothing).
            raise ConfigError(
                "train: resume= continues a run with its own config; give no other settings "
                f"(got {', '.join(given)})"
            )
    if handle_signals is not None:
        check_switches("train", handle_signals=handle_signals)
    if dataset is not None and not isinstance(dataset, Dataset):
        raise ConfigError(
            f"dataset= takes a mlplab Dataset (mlplab.data.load_dataset), not a "
            f"{type(dataset).__name__}; write a table to a file and give it as data=, or fit "
            "mlplab.sklearn.MLPClassifier / MLPRegressor on arrays"
        )
    if dataset is not None:
        _no_loading_settings(config, overrides)
    subscribers, cadences = check_subscribers("train", subscribers)
    check_stop("train", stop)
    if early_stop is not None and not callable(early_stop):
        raise ConfigError(
            "train: early_stop takes a function of a Validate event that returns True to "
            f"stop (a bool mask over its ids), not {short_repr(early_stop)}"
        )
    # Not within a sweep (lock=False): its worker's signals are the sweep's to handle. Nor
    # with handle_signals=True, which returns a Result for a signal, from Python (the
    # command line, which exits as it does, asks for it).
    early = handle_signals is None or (handle_signals and STOP_BEFORE_START.get())
    flag = StopFlag(asked=stop, before_start=bool(early) and lock is not False)
    hooks = Hooks(subscribers, early_stop, cadences)
    if handle_signals is not False:
        # Installed before anything is written, and restored however the run ends, so a
        # signal at any moment leaves either no record or a consistent one.
        if handle_signals:
            flag.install()
        else:  # SIGTERM stays the script's own business
            flag.install([signal.SIGINT])
    try:
        with closed_pipe_safe():  # a script piped into `head` still trains to the end
            result = _train(
                config, resume, verbose, record, dataset, overrides, flag, hooks, lock, rerun
            )
    except OSError as err:
        # Disk full or folder removed mid-run: the writer has recorded what it could.
        where = str(err.filename) if err.filename else ""
        scratch = [p for p in Path(where).parents if p.name.endswith(RERUN_SUFFIX)]
        if scratch:  # a rerun's hidden folder: removed; the run it would replace is kept
            raise RecordError(
                f"{err.strerror or err} (writing the rerun in {str(scratch[0].parent)!r}); "
                "the rerun stopped and was removed, and the finished run it was to replace "
                "is kept as it was; once that is mended, the same command trains it again"
            ) from None
        if where and Path(where).name.startswith(".") and where.endswith(".tmp"):
            where = f"writing in {str(Path(where).parent)!r}"  # not its hidden scratch file
        at = f" ({where})" if where else ""
        limit = f": {limit_met(err)}" if limit_met(err) else ""
        raise RecordError(
            f"{err.strerror or err}{at}{limit}; the run stopped: once that is mended, the same "
            "command continues it from its last checkpoint (--save_every), or trains it "
            "again where it has none"
        ) from None
    finally:
        flag.restore()
    if handle_signals is None and flag.signum is not None:
        raise KeyboardInterrupt(interrupted_line(result))
    return result


def check_subscribers(who: str, subscribers: Any) -> tuple[list[Subscriber], list[int]]:
    """Refuse, in one line naming ``who`` (train, sweep), subscribers that are not a list of
    functions of an event; return them as a list (a generator is read once, here) with
    each one's Step cadence (:func:`_step_every`)."""
    given = subscribers
    if not callable(subscribers) and isinstance(subscribers, Iterable):
        subscribers = list(subscribers)
    if not isinstance(subscribers, list) or not all(_callable_with(s, 1) for s in subscribers):
        raise ConfigError(
            f"{who}: subscribers takes a list of functions of an event "
            f"(subscribers=[f]), not {short_repr(given)}"
        )
    return subscribers, [_step_every(s, who) for s in subscribers]


def check_stop(who: str, stop: Any) -> None:
    """Refuse a ``stop`` that is not a function of no arguments, in one line."""
    if stop is not None and not _callable_with(stop, 0):
        raise ConfigError(
            f"{who}: stop takes a function of no arguments that returns True or False, not "
            f"{short_repr(stop)}"
        )


def _callable_with(fn: Any, n: int) -> bool:
    """Whether ``fn`` is a callable that ``fn()`` (with ``n`` arguments: ``fn(event)``) can
    call: its signature, not a call."""
    if not callable(fn):
        return False
    try:
        # Not through __wrapped__: a decorator may add or fill arguments of the function.
        signature = inspect.signature(fn, follow_wrapped=False)
    except Exception:  # none to read (builtins, a Mock with a spec): taken on trust
        return True
    try:
        signature.bind(*[None] * n)
    except TypeError:
        return False
    return True


def came_as_it_ended(what: str) -> str:
    """The line for a stop (``what``: Ctrl-C, SIGTERM) that came once the run had ended."""
    return f"{what} came as the run ended: it finished, and its record is complete"


def _no_loading_settings(config: Any, overrides: dict[str, Any]) -> None:
    """Refuse settings that only load data beside ``dataset=``: they would do nothing
    (``standardize=True`` left a Dataset unscaled, under the same run id)."""
    given = [
        k for k in LOADING_SETTINGS if k in overrides or (isinstance(config, dict) and k in config)
    ]
    if given:
        raise ConfigError(
            f"train: {', '.join(given)} {'apply' if len(given) > 1 else 'applies'} where data "
            "is read, and dataset= is data "
            f"already read, split and scaled; give {'them' if len(given) > 1 else 'it'} to "
            "mlplab.data.load_dataset(...) (standardize='auto' scales a file, as "
            "train(data=PATH) does), or give data=PATH instead of dataset="
        )


def interrupted_line(result: Result) -> str:
    """What a KeyboardInterrupt from train() says: where the run stopped and what is kept."""
    run_dir = shown_dir(result.run_dir)  # as it was given, not absolute
    if result.status == "finished":  # the signal came as the run ended (its plots, say)
        where = f" in {run_dir}" if run_dir is not None else ""
        return came_as_it_ended("Ctrl-C") + where
    at = f"the run stopped at step {result.record.get('steps')}"
    if run_dir is None and is_in_memory(result.config.data):
        # An estimator's fit (no log_path): the estimator stays as it was before the call.
        return f"fit stopped at step {result.record.get('steps')}; the estimator is left as it was"
    if run_dir is None:
        return f"{at} (record=False: nothing was written)"
    if (RunRecord(run_dir).read_result() or {}).get("status") == "finished":
        return f"{at}; it trained again (rerun) and the finished run in {run_dir} stays"
    if not (run_dir / "checkpoints" / "last.safetensors").is_file():
        return f"{at}; {run_dir} holds its record but no checkpoint"
    if is_in_memory(result.config.data):  # an estimator's fit: its arrays are not kept
        return f"{at}; its record is in {run_dir}, and fitting again starts over"
    return (
        f"{at} with a checkpoint in {run_dir}; the same train() call again, or "
        f"train(resume={str(run_dir)!r}), continues it"
    )


@reuse_loaded_data()  # a finished run's config: its file read once, not again by load_run
def _train(
    config: Config | dict[str, Any] | argparse.Namespace | str | Path | None,
    resume: str | Path | None,
    verbose: bool,
    record: bool,
    dataset: Dataset | None,
    overrides: dict[str, Any],
    stop: StopFlag,
    hooks: Hooks,
    lock: bool = False,
    rerun: bool = False,
) -> Result:
    # --- validate ---------------------------------------------------------------------------
    ckpt: Checkpoint | None = None
    if resume is not None:
        cfg, ckpt = resume_inputs(Path(resume))
        if ckpt is None and verbose:
            print(
                f"mlplab: {resume} has no checkpoint (it stopped before its first save, or "
                "checkpoints/last.safetensors was removed); "
                "it trains again from step 0",
                flush=True,
            )
    else:
        cfg = as_config(config, **overrides)
    source_file = cfg._source_file if resume is None else None
    if dataset is not None:
        check_dataset(dataset)
        if record and cfg.data != dataset.name:
            # The arrays are the run's data, named as an estimator names its arrays: under
            # the default `data` (xor) its record had taken a real xor run's folder.
            cfg = as_config(cfg, data=dataset_label(dataset))
    if dataset is not None:
        data = treated(cfg, dataset)
    elif resume is not None:  # its file where it trained, from any folder, with its rows
        data = resume_data(Path(resume), cfg, ckpt, say=verbose)
    else:
        if verbose:
            say_reading(cfg.data)
        data = load_data(cfg)
    check_fits(cfg, data)
    check_castable(data, cfg.dtype)
    spec = model_spec(cfg, data)

    # --- build ------------------------------------------------------------------------------
    engine = resolve_engine(cfg.engine, spec, len(data.X_train), cfg.batch_size, cfg.device)
    check_device(engine, cfg.device)
    if record and resume is None:  # a folder that holds a twin's run: 8 hex digits
        cfg = claim_run_id(cfg)
    run_dir = Path(resume) if resume is not None else run_dir_of(cfg)
    elsewhere = _other_run_folder_note(source_file, cfg, run_dir)
    if elsewhere and verbose:
        print(f"mlplab: note: {in_callers_words(elsewhere)}", flush=True)
    # A finished run to keep writes nothing: a published read-only folder of reference
    # runs, another user's, or a full disk keeps it too (all refused it as unwritable).
    keeping = record and resume is None and not rerun and dataset is None
    try:
        keeping = keeping and finished_record(run_dir) is not None
    except OSError:  # a folder it may not search: said just below
        keeping = False
    if record and resume is not None:
        # Its own folder, not a log_path the user never gave: a published run is read-only,
        # and a copy of one kept its modes (it failed mid-run, exit 1).
        check_resumable(run_dir)
    if record and not keeping:
        check_writable(cfg.log_path)
        check_run_folders([cfg])
    locked = record and lock and not keeping
    result = _train_in(
        cfg, ckpt, resume, verbose, record, rerun, dataset, data, spec, engine, stop, hooks,
        run_dir, keeping, locked,
    )  # fmt: skip
    if elsewhere:  # first: it was said before the run
        result.notes.insert(0, note_in_python(elsewhere))
    return result


def _other_run_folder_note(source_file: str | None, cfg: Config, run_dir: Path) -> str | None:
    """A word where ``source_file`` is a run folder's config.yaml (a result.json beside it)
    and this run goes into another folder, under another log_path: config.yaml leaves
    log_path out, so `train("myruns/exp/exp-1a2b3c/config.yaml")` trained that run again
    into ./runs, silently with verbose=False, in a folder of the very same name."""
    if source_file is None or "log_path" in cfg.model_fields_set:
        return None  # a log_path given (a flag, a keyword, the file): where it was asked to go
    folder = Path(source_file).parent
    there = log_path_of(folder)
    try:
        if not (folder / "result.json").is_file() or folder.resolve() == run_dir.resolve():
            return None
        if Path(cfg.log_path).resolve() == there.resolve():
            return None  # its own log_path, other settings: another run, as asked
    except OSError:
        return None
    return (
        f"{source_file} lies in the run folder {folder}, under {there}, but config.yaml "
        f"leaves log_path out: this run goes into {run_dir} (--log_path {cfg.log_path}); "
        f"mlplab.load_run({str(folder)!r}) gives the run that is there"
    )


def _train_in(
    cfg: Config,
    ckpt: Checkpoint | None,
    resume: str | Path | None,
    verbose: bool,
    record: bool,
    rerun: bool,
    dataset: Dataset | None,
    data: Dataset,
    spec: ModelSpec,
    engine: str,
    stop: StopFlag,
    hooks: Hooks,
    run_dir: Path,
    keeping: bool,
    locked: bool,
) -> Result:
    """:func:`_train` once its config, data and run folder are known."""
    stop.before_start = False  # from here a signal stops at a step, with a record
    with _run_lock(run_dir, locked, resume is not None), _memory_in_one_line(cfg, data, run_dir):
        saved = None
        if ckpt is not None:
            saved = restore_model(cfg, spec, ckpt, run_dir / "checkpoints" / "last.safetensors")
            if verbose:  # as the same config again says it: where the run goes on from
                status = (read_result(run_dir) or {}).get("status")
                what = {"running": "unfinished", None: "unfinished"}.get(status, status)
                print(
                    f"mlplab: the {what} run in {run_dir} continues from its checkpoint at "
                    f"step {saved.loop.step}",
                    flush=True,
                )
        kept = finished_record(run_dir) if record and resume is None else None
        if keeping and kept is None:  # replaced or removed since, by another process
            raise RecordError(f"{run_dir}: its finished run changed as it was read; try again")
        if record and resume is None and (run_dir / "config.yaml").is_file():
            check_same_config(run_dir, cfg)
        if kept is None and record and resume is None:
            # The same config again continues its interrupted run, as a sweep does: exact
            # resume makes that the run a fresh start would give, and keeps its progress.
            why: list[str] = []
            if not rerun and dataset is None:
                saved = resumable(cfg, spec, why, data.digest)
                if saved is None and any(ROWS_DIFFER in w for w in why):
                    status = str((read_result(run_dir) or {}).get("status"))
                    refuse_others_run(cfg, run_dir, {"running": "unfinished"}.get(status, status))
            if saved is not None:
                # As --resume refuses it: it said "it continues", then failed at its first
                # write (exit 1).
                check_resumable(run_dir, f"{run_dir} holds this config's unfinished run")
            if verbose:
                _say_unfinished(run_dir, saved, rerun, why)
        if kept is None:
            check_snapshot_frames(cfg, len(data.y_train), len(data.input_names))
            return _train_locked(
                cfg, saved, verbose, record, data, spec, engine, stop, hooks, run_dir,
                resumed=resume is not None,
            )  # fmt: skip
        if not rerun and dataset is None:
            result = _kept(run_dir, cfg, data, spec, kept)  # says so if it does not load
            # As the run said when it trained: `--mm 0.9` with adam shapes nothing,
            # kept or not (a config.yaml's dump of every setting is no one's choice).
            # What is drawn and written (plots, snapshots, checkpoints) the kept line
            # says itself: the kept run keeps its own.
            named = not names_every_setting(cfg)
            if unused := cfg.unused_settings(named=named, skip=RECORD_SETTINGS):
                result.notes = [f"not used by this run: {'; '.join(unused)}"]
            # And what its settings and numbers said when it trained (an lr schedule spent
            # early, a model that learnt nothing): a script that reads the notes of a kept
            # run read none.
            result.notes += optimizer_notes(cfg)
            # The data's notes, as its record kept them when it trained.
            result.notes += [n for n in kept.get("notes") or [] if isinstance(n, str)]
            result.notes += end_notes(
                cfg, data, {**kept, **result.curves}, (result.spec, result.weights)
            )
            if verbose:
                # The record settings given, not defaults: a run kept with its snapshots is
                # not "without --snapshot_every 0" when the call never named it.
                asked = {k: v for k, v in cfg.to_dict().items() if k in cfg.model_fields_set}
                print(kept_line(run_dir, kept, asked), flush=True)  # what happened, first
                for note in result.notes:
                    print(f"mlplab: note: {in_callers_words(note)}", flush=True)
            result.notes = [note_in_python(n) for n in result.notes]  # as a trained run's
            return result
        return _rerun(cfg, verbose, data, spec, engine, stop, hooks, run_dir)


def _say_unfinished(
    run_dir: Path, saved: Restored | None, rerun: bool, why: list[str] | None = None
) -> None:
    """A word before a run continues, or takes the folder of, one that did not finish;
    ``why``: the reason its checkpoint could not be continued, if it was tried."""
    status = (read_result(run_dir) or {}).get("status")
    if status is None:
        how = (
            f"continues from its checkpoint at step {saved.loop.step}"
            if saved is not None
            else "is trained afresh"
        )
        if (run_dir / "result.json").exists():  # cut short or edited: nothing to keep
            print(
                f"mlplab: {run_dir / 'result.json'} is unreadable; the run there {how}", flush=True
            )
        elif saved is not None:  # deleted (`make` removes its target on Ctrl-C)
            print(f"mlplab: {run_dir} has no result.json; the run there {how}", flush=True)
        return
    if saved is not None:
        # "running" on disk: the process that trained it was killed before it could say.
        what = {"running": "unfinished"}.get(status, status)
        print(
            f"mlplab: {run_dir} holds this config's {what} run; it continues from its "
            f"checkpoint at step {saved.loop.step} (--rerun, rerun=True in Python, starts it "
            "afresh)",
            flush=True,
        )
        return
    hint = ""
    if status in UNFINISHED and (run_dir / "checkpoints" / "last.safetensors").is_file():
        # Not continued: --rerun asked for a fresh start, or the checkpoint does not load.
        # (No --resume hint: the new run takes the folder, checkpoint and all, now.)
        hint = (
            " (--rerun starts afresh rather than continuing from its checkpoint)"
            if rerun
            else f" (it cannot continue: {why[0] if why else 'its last checkpoint does not load'})"
        )
    print(
        f"mlplab: {run_dir} holds an unfinished run ({status}); it is replaced by this new "
        f"run{hint}",
        flush=True,
    )


def _kept(
    run_dir: Path, cfg: Config, data: Dataset, spec: ModelSpec, kept: dict[str, Any]
) -> Result:
    """The finished run in ``run_dir``, as train() would have returned it: no training."""
    try:
        with warnings_caught():  # a changed file is refused below, in train's words
            warnings.simplefilter("ignore", DataChangedWarning)
            loaded = load_run(run_dir, engine=str(kept.get("engine_used") or cfg.engine))
    except NewerRecord:
        raise  # not "give --rerun": that replaced a newer mlplab's record with this one's
    except MlplabError as err:
        # Rows that no longer load into the run (a value past float32 standardized by the
        # run's own scaler) are a changed file, not a damaged model.
        saved = None
        with contextlib.suppress(MlplabError, OSError):
            saved = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta
        _check_same_rows(cfg, run_dir, data, (saved or {}).get("data_digest"))
        raise CheckpointError(
            f"{run_dir} holds this config's finished run, but its model does not load ({err}); "
            "give --rerun (rerun=True) to train it again"
        ) from None
    _check_same_rows(cfg, run_dir, data, loaded.checkpoint_meta.get("data_digest"))
    try:
        curves = {k: v.tolist() for k, v in read_curves(run_dir, kept).items()}
    except CheckpointError as err:
        raise CheckpointError(
            f"{run_dir} holds this config's finished run, but {err}; give --rerun "
            "(rerun=True) to train it again"
        ) from None
    # Absolute, as train()'s own Result: its methods hold after the caller's os.chdir.
    where = run_dir.absolute()
    return Result(cfg, where, kept, loaded.dataset, loaded.backend, loaded.spec, 0, curves, True)


def check_trainable(cfg: Config, rerun: bool = False) -> Path:
    """The run folder that `mlplab train` of ``cfg`` writes (or has), once its data loads
    as train loads it and holds the rows of any finished run there (``rerun``: replaced
    whatever it was trained on, as `train --rerun` does): `--print_run_dir`
    named a folder, with status 0, for a missing data file or target that train then
    refused, and a script went on to read a record that never came."""
    from mlplab.restore import claim_run_id
    from mlplab.runs.record import is_finished, run_dir_of

    data = load_data(cfg)
    check_castable(data, cfg.dtype)
    run_dir = run_dir_of(claim_run_id(cfg))
    if is_finished(run_dir) and not rerun:
        saved: dict[str, Any] = {}
        with contextlib.suppress(MlplabError, OSError):  # no model: train says what then
            saved = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta
        _check_same_rows(cfg, run_dir, data, saved.get("data_digest"))
    else:  # it trains: as train checks it then
        check_snapshot_frames(cfg, len(data.y_train), len(data.input_names))
    return run_dir


def _check_same_rows(cfg: Config, run_dir: Path, data: Dataset, saved: str | None) -> None:
    """Same settings, other rows: the kept record would be of data the file no longer
    holds."""
    if saved and data.digest and saved != data.digest:
        refuse_others_run(cfg, run_dir, "finished")
        raise DataError(
            f"data file {cfg.data!r} has changed since {run_dir} trained on it (its rows "
            "differ), so that run is not of this data: give --rerun (rerun=True) to train "
            "again on the file as it is now, or put back the file it trained on"
        )


def _rerun(
    cfg: Config,
    verbose: bool,
    data: Dataset,
    spec: ModelSpec,
    engine: str,
    stop: StopFlag,
    hooks: Hooks,
    run_dir: Path,
) -> Result:
    """Train a finished run's config again beside it; replace it only if the new one finishes."""
    scratch = scratch_dir(run_dir)
    res: Result | None = None
    try:
        res = _train_locked(
            cfg, None, verbose, True, data, spec, engine, stop, hooks, run_dir, scratch
        )
    finally:
        # A run that finished and then raised (printing its table to a stream that cannot
        # hold it, a Ctrl-C as it ended) is finished all the same: its record says so.
        status = (read_result(scratch) or {}).get("status") if res is None else res.status
        where = "" if res is None else f" at step {res.record.get('steps')}"
        message = settle(scratch, run_dir, status, where)
    if message is None:
        res.record = read_result(run_dir) or res.record
        if verbose:
            print("mlplab: the new run replaced the earlier finished run", flush=True)
            print(record_line(run_dir), flush=True)
    else:
        res.record["message"] = message
        if verbose:
            print(f"mlplab: {message}", flush=True)
    return res


def _written_since(run_dir: Path, started: float) -> bool:
    """Whether the run's result.json was written since ``started``: by this call, not a
    finished run's record that a --rerun, out of memory as it built its model, leaves."""
    try:
        return (run_dir / "result.json").stat().st_mtime >= started
    except OSError:
        return False


@contextlib.contextmanager
def _memory_in_one_line(cfg: Config, data: Dataset, run_dir: Path) -> Iterator[None]:
    """Memory that runs out as the model is built, restored or saved (training's own,
    :func:`fit_stack` says in its record) becomes :class:`OutOfMemory`'s one line; where
    the run is recorded finished, it ran out after the run (its summary's printing), and
    the line says so rather than advise a smaller model of a run that is complete."""
    started = time.time()
    try:
        yield
    except Exception as err:
        if not is_out_of_memory(err) or isinstance(err, OutOfMemory):
            raise
        traceback.clear_frames(err.__traceback__)
        if (read_result(run_dir) or {}).get("status") == FINISHED and _written_since(
            run_dir, started
        ):
            raise OutOfMemory(
                f"the run finished, and its record is in {run_dir}; then memory ran out as "
                "its summary was printed (give mlplab more: `ulimit -v`, a batch job's request)"
            ) from None
        raise ran_out_of_memory(
            err,
            cfg,
            data.n_features,
            len(data.y_train),
            data.n_outputs,
            cfg.label(model_spec(cfg, data)),
        ) from None


def names_every_setting(cfg: Config) -> bool:
    """Whether ``cfg`` names every setting, as a run's config.yaml does (all but
    ``log_path``, which no record keeps): a dump, not settings anyone chose, whose
    defaults are not worth a note."""
    # Nor the later-added settings a record leaves out where unset (without_unset_later).
    return cfg.model_fields_set >= set(type(cfg).model_fields) - {"log_path", *LATER_SETTINGS}


@contextlib.contextmanager
def _run_lock(run_dir: Path, wanted: bool, resuming: bool = False) -> Iterator[None]:
    """Hold the run's lock while it trains, or refuse if another process holds it (or a
    sweep has queued it: its folder may not exist yet)."""
    if not wanted:
        yield
        return
    with RunLocks(run_dir.parent) as locks:
        if not locks.acquire(run_dir.name):
            # --resume takes no other setting: another exp_name is no way out of it.
            flag = "--exp_name" if _BY_COMMAND.get() else "exp_name="
            other = "" if resuming else f", or give another exp_name ({flag})"
            raise RunBusy(
                f"run {str(run_dir)!r} is being trained by another process (or thread) right "
                f"now, or is queued by a sweep; wait for it to end{other}"
            )
        yield


def _train_locked(
    cfg: Config,
    saved: Restored | None,
    verbose: bool,
    record: bool,
    data: Dataset,
    spec: ModelSpec,
    engine: str,
    stop: StopFlag,
    hooks: Hooks,
    run_dir: Path,
    write_dir: Path | None = None,
    resumed: bool = False,
) -> Result:
    """Train one config, from the start or from ``saved`` (its run's last checkpoint);
    ``write_dir`` (default ``run_dir``) is where its record is written. ``resumed``: the
    config is the run's config.yaml (``--resume``), not settings the user gave."""
    write_dir = write_dir or run_dir
    if saved is None:
        backend = build_stack([cfg], data, [spec], engine)
        state = StackState.fresh([run_streams(cfg.seed).order])
        elapsed_before, keep_until = 0.0, None
    else:
        backend, state = restore_stack([cfg], data, [spec], engine, [saved])
        set_global_rng(saved.global_rng)
        elapsed_before, keep_until = saved.elapsed, (state.step, state.epoch)
    records = None
    if record:
        m = ModelRecord(
            RunRecord(write_dir),
            header_of(cfg, spec, data, engine),
            cfg,
            fresh=saved is None,
            elapsed_before=elapsed_before,
        )
        if saved is not None:
            m.best_saved = saved_best_epoch(run_dir, state.loop_state(0))
            m.last_saved = state.step
        records = [m]
    labs = lab_targets(data.task, data.y_train, cfg.batch_size, cfg.dtype)
    console = RunConsole(
        verbose,
        cfg.epoch,
        cfg.log_every,
        steps_per_epoch(cfg, data),
        lab_targets=labs,
        log_val=curve_metric_name(data.task) if cfg.log_val else None,
        heartbeat=not _in_jupyter(),
        validate_every=cfg.validate_every,
    )
    plots = plot_subscribers([cfg], data, [spec], [RunRecord(write_dir)]) if record else []
    live = live_view(
        f"{cfg.label(spec)} on {data.name}",
        cfg.epoch,
        data.shared_splits,
        verbose,
        elapsed_before,
        surface=lambda: _live_surface(data),  # made only in a notebook
    )
    writer, tb, subs = wire_subscribers(
        [cfg],
        data,
        [spec],
        engine,
        records,
        console,
        TB_POINTS,
        keep_until,
        [*live, *plots, *hooks.subscribers],
    )
    ends: list[End] = []
    last: list[dict[str, np.ndarray]] = []  # the model's weights as it ended, for its notes

    def ended_with(event: Event) -> None:
        if isinstance(event, End):
            ends.append(event)
            last[:] = [event.models.export(int(event.ids[0])).weights]

    subs.append(ended_with)
    run = StackRun([cfg], data, [spec], engine, backend, state, writer, subs, tb)
    run.early_stop, run.callers = hooks.early_stop, hooks.subscribers
    # A subscriber's own cadence (step_every: a live plot of every step's loss), whatever
    # is printed: the loop emits Step at the gcd, and each subscriber keeps its own.
    run.progress_every = functools.reduce(math.gcd, hooks.step_every, console.progress_every)
    notes = _start_notes(cfg, spec, data, resumed)
    if verbose:
        for note in notes:
            console.line(f"mlplab: note: {in_callers_words(note)}")
        where = f" -> {run_dir}" if record else ""
        if write_dir != run_dir:
            where += " (a rerun: it replaces the finished run there once it has finished)"
        # The lab-style lines that follow carry no header: say what their two numbers are.
        # (The run folder stays last: scripts read it after " -> ".)
        what = "step and batch loss" + (" with the latest validation" if cfg.log_val else "")
        lines = (
            f", printing {what} every {cfg.log_every} steps" if cfg.log_every > 1
            else f", printing {what} every step" if cfg.log_every else ""
        )  # fmt: skip
        console.line(
            f"mlplab: {cfg.label(spec)} on {data.name} ({data.about()}), "
            f"engine {engine}{lines}{where}"
        )

    # --- train ------------------------------------------------------------------------------
    started = time.monotonic()
    with console:
        try:
            fit_stack(run, stop)
        except Exception:  # a raising subscriber: the notebook's bar stood at its last %
            for view in live:
                view.fail()
            raise
    end = ends[-1]
    status, message = end.statuses[0], end.messages[0]
    exit_code = {"finished": 0, "diverged": 1}.get(status, 0)
    if status == "finished" and stop.signum is not None:
        # The signal came once the loop had ended (while the plots drew): the record is
        # whole, and the exit status still says that a stop was asked for.
        exit_code = EXIT_FOR_SIGNAL.get(stop.signum, 130)
        message = came_as_it_ended(str(stop()))
    if status == "interrupted":
        exit_code = EXIT_FOR_SIGNAL.get(stop.signum or signal.SIGINT, 130)
        message = f"interrupted by {stop() or 'SIGINT'} at step {end.step}"
        # Named only where a run folder with a checkpoint to resume from is kept.
        if (
            record
            and write_dir == run_dir
            and (write_dir / "checkpoints" / "last.safetensors").is_file()
        ):
            message = resume_hint(message, run_dir)
    if writer is not None:
        # The plots, drawn after the record, add their files' names to result.json.
        result = RunRecord(write_dir).read_result() or writer.results[0]
    else:
        result = _unrecorded(cfg, spec, data, engine, end, time.monotonic() - started)
    curves = curve_lists(end.models.loop_state(int(end.ids[0])), data.task)
    # Every point of the curves: result.json's ~250 of a long run skip the epochs
    # between them, where a swinging training loss may have been low or high.
    ended = end_notes(cfg, data, {**result, **curves}, (spec, last[0]) if last else None)
    scale = scale_note(data, result)
    said = status == "diverged" and scale and target_scale_start_note(data) in notes
    if said:  # the start's note named the target's scale: not again, in other words
        ended = [n for n in ended if n != scale]
    if verbose:
        if status == "diverged" and scale:
            # The note names the cause; a lower lr (RunDiverged's advice) only diverged
            # again, or fit worse than the mean.
            where = "above" if said else "below"
            message = note_says_why(message, where)
        if message and exit_code:
            # Why the exit status is not 0 goes where a script reads errors, as with -q.
            sys.stdout.flush()
            print(f"mlplab: {message}", file=sys.stderr, flush=True)
        elif message:
            console.line(f"mlplab: {message}")
    if verbose:
        print_summary(cfg, data, result, end, spec, elapsed_before)
        for note in ended:
            console.line(f"mlplab: note: {in_callers_words(note)}")
        if record and write_dir == run_dir:
            console.line(record_line(run_dir))
    # Absolute: the Result's methods (plot, load_run of it) hold after an os.chdir of the
    # application; the printed lines name the folder as it was given.
    kept_in = run_dir.absolute() if record else None
    out = Result(cfg, kept_in, result, data, backend, spec, exit_code, curves)  # type: ignore[arg-type]  # None: record=False
    # Why a run did not finish (printed above as `mlplab: ...`, and record["message"]):
    # a quiet run's repr said "diverged" and its notes nothing of why.
    why = [flags_as_arguments(message)] if message and exit_code else []
    # Read in a script or a notebook: in Python's words (task='classification'), as the
    # arguments of train() say them, not the flags that the printed lines keep.
    out.notes = [note_in_python(n) for n in notes + ended] + why
    return out


def _start_notes(cfg: Config, spec: ModelSpec, data: Dataset, resumed: bool) -> list[str]:
    """What a run says before it trains (a setting it does not use, a class no split
    holds, a target far from order 1); printed, and kept in ``Result.notes``."""
    notes: list[str] = []
    # A resumed run's settings come from its config.yaml, every one of them written
    # out: only those away from their defaults are worth a note. So for a config that
    # names every setting, a dump (a run's config.yaml trained again, --print_config's).
    dump = names_every_setting(cfg)
    unused = cfg.unused_settings(named=not (resumed or dump))
    if (
        spec.sc_type == "residual"
        and spec.n_layer
        and not any(spec.is_residual(i) for i in range(spec.n_layer))
    ):
        unused.append(
            "--sc_type residual (no hidden layer has its input's width, so no block "
            "adds its input; e.g. --n_layer 2 gives the second one)"
        )
    if cfg.snapshot_every and cfg.plots != "none" and len(data.input_names) != 2:
        # The frames are the surface over the plane of two features: none to draw.
        unused.append(
            f"--snapshot_every {cfg.snapshot_every} (its frames draw the model over the "
            f"plane of 2 features; {data.name} has {len(data.input_names)})"
        )
    if unused:
        notes.append(f"not used by this run: {'; '.join(unused)}")
    notes += optimizer_notes(cfg)
    if cfg.batch_size > len(data.y_train):
        notes.append(
            f"batch_size {cfg.batch_size} is more than the {len(data.y_train)} training "
            "rows: each step takes them all, as batch_size 0 (full batch) does"
        )
    notes += [*data.notes, *missing_class_notes(data, cfg.split_by, cfg.stratify)]
    scale = target_scale_start_note(data) if not is_in_memory(data.name) else None
    return notes + ([scale] if scale else [])


def _unrecorded(
    cfg: Config, spec: ModelSpec, data: Dataset, engine: str, end: End, seconds: float
) -> dict[str, Any]:
    """result.json's contents for a run that writes no record (``record=False``)."""
    k = int(end.ids[0])
    curves = curve_arrays(end.models.curves(k), data.task)
    out = {
        **header_of(cfg, spec, data, engine),
        "status": end.statuses[0],
        **curves_of(end.models.loop_state(k, curves=False), curves),
    }
    if end.messages[0]:
        out["message"] = end.messages[0]
    out.update(end.finals[0])
    out["wall_time_s"] = seconds
    return out


# Settings of what a run prints and keeps, not of what it learns: no HParams column.
OUTPUT_SETTINGS = frozenset({"plots", "snapshot_every", "save_every", "log_every", "log_val"})


def resolved(cfg: Config, data: Dataset, engine: str) -> dict[str, Any]:
    """The settings whose ``auto`` the run resolved, as it resolved them."""
    return {
        "engine": engine,
        "task": data.task,
        "standardize": cfg.standardizes(),
        "device": device_used(cfg, engine),
    }


def tb_hparams(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings HParams shows: none the run does not use (hid_dim beside hid_dims read
    as a real width there), as the report leaves them blank, and none of
    :data:`OUTPUT_SETTINGS` (five columns that said nothing of the results). A list (ignore,
    split, target) as the words a flag takes, ``x1 x3``: left out, two runs that ignored
    other columns were one row, their scores averaged as a config's seeds."""
    unused = set(unused_by(settings)) | OUTPUT_SETTINGS
    return {
        k: " ".join(map(str, v)) if isinstance(v, list) else v
        for k, v in settings.items()
        if k not in unused
    }


def _in_jupyter() -> bool:
    from mlplab.live import in_jupyter  # looked up at the call: tests stand in for it

    return in_jupyter()


def _live_surface(data: Dataset) -> Any:
    """The live view's drawing of a model over 2-D data's plane (None without one, or
    without matplotlib)."""
    try:
        from mlplab.plots.live_surface import live_surface
    except ImportError:
        return None
    return live_surface(data)


def plot_subscribers(
    cfgs: list[Config], data: Dataset, specs: list[ModelSpec], records: list[RunRecord]
) -> list[Subscriber]:
    """Snapshots and plots of recorded runs, drawn in this process after their records."""
    if all(c.plots == "none" for c in cfgs):
        return []
    try:
        from mlplab.plots.subscriber import PlotSubscriber
    except ImportError:  # no matplotlib: no plots
        return []
    return [PlotSubscriber(cfgs, data, specs, records)]
