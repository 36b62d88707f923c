"""From configs to run records: one pipeline for a single run and for a stack of many.

``train(config) -> Result`` and ``train_batched(configs)`` are the same code: configs
that share a shape become one stack (a single run is a stack of one), the engine trains
them together in :func:`mlplab.training.loop.fit`, and the caller's subscribers record
and show what the loop reports: the run writer, TensorBoard, console progress, snapshots
and plots. The phases, in order: validate the configs, check that records can be
written, load the data, build the engine, train, and (in the subscribers) record. Nothing
is written before the configs and the data have been checked, so bad input leaves no run
behind.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import __version__
from mlplab.config import Config, load_config, make_config, read_yaml
from mlplab.console import RunConsole, hypothesis_block, lab_targets, results_table
from mlplab.data.cost import check_cost
from mlplab.data.dataset import Dataset, load_dataset
from mlplab.engines.backend import Backend, ModelInit, ModelState, OptimSpec
from mlplab.engines.choose import blas_threads, make_backend, resolve_engine
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.errors import CheckpointError, ConfigError, DataError, MlplabError, RecordError
from mlplab.live import live_view
from mlplab.pipes import closed_pipe_safe
from mlplab.rerun import finished_record, kept_line, scratch_dir, settle
from mlplab.runs.checkpoint import Checkpoint, check_run_meta, load_checkpoint
from mlplab.runs.curves import CURVES_FILE, read_curves, saved_curves
from mlplab.runs.locks import RunLocks
from mlplab.runs.record import (
    RunRecord,
    check_writable,
    read_result,
    record_settings,
    run_dir_of,
    run_name,
)
from mlplab.runs.tensorboard import TensorBoardLogger
from mlplab.runs.writer import ModelRecord, RunWriter, curve_fields, curve_lists
from mlplab.training.events import End, Subscriber
from mlplab.training.grouping import DEFAULT_MAX_GROUP, group_indices
from mlplab.training.loop import LoopState, LrSchedule, Schedule, StackState, batch_bounds, fit

EXIT_FOR_SIGNAL: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}

# Points per TensorBoard curve: a single run shows about 1000, as TensorBoard does by
# default; a stack writes fewer, since it writes K runs' events at once.
TB_POINTS = 1000
STACK_TB_POINTS = 200


# --- what train() returns --------------------------------------------------------------------
@dataclass
class Result:
    """What :func:`train` returns: the run's record, and the trained model to use.

    Attributes
    ----------
    config : Config
    run_dir : Path or None
        The run's folder (None when ``record=False``).
    record : dict
        The contents of result.json: settings merged with results.
    dataset : Dataset
    backend : Backend
        The trained model: a stack of one on its engine; use :meth:`predict`.
    kept : bool
        True when ``run_dir`` already held this config's finished run and it was returned
        as it is, loaded from its record, with no training (see ``train(rerun=...)``).
    """

    config: Config
    run_dir: Path | None
    record: dict[str, Any]
    dataset: Dataset
    backend: Backend
    spec: ModelSpec
    exit_code: int = 0
    curves: dict[str, list[Any]] = field(default_factory=dict)  # every point, unthinned
    kept: bool = False  # True: a finished run found in run_dir, returned without training

    @property
    def status(self) -> str:
        return self.record["status"]

    @property
    def metrics(self) -> dict[str, float]:
        keys = ("loss", "acc", "mae", "mse", "r2")
        return {
            k: v
            for k, v in self.record.items()
            if any(k.endswith(f"_{m}") for m in keys) and not isinstance(v, list)
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Outputs for raw inputs: logits (classification) or values (regression), ``[N, out]``."""
        return self.model_outputs(self.dataset.transform(np.asarray(X, dtype=np.float64)))

    def model_outputs(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``[N, out]`` for inputs already in the model's scale (``dataset.X_*``)."""
        return np.asarray(self.backend.predict(X)[0], dtype=np.float64)

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The model's parameters and buffers, by ModelSpec name."""
        return self.backend.export(0).weights

    def predict_labels(self, X: np.ndarray) -> np.ndarray:
        """Predicted class names for raw inputs (the labels of the data file), shape [N].

        Regression has no classes: it returns the predicted values, as :meth:`predict`.
        """
        outputs = self.predict(X)
        task = self.dataset.task
        if task == "regression":
            return outputs
        from mlplab.training.metrics import predicted_classes

        names = np.asarray(self.dataset.class_names or [], dtype=object)
        return names[predicted_classes(task, outputs)]

    def _repr_html_(self) -> str:
        """Jupyter's view: status, metrics, run folder and the run's plots."""
        from mlplab.notebook import result_html

        title = f"{self.config.label()} on {self.dataset.name}"
        return result_html(title, self.record, self.metrics, self.run_dir)


# --- signals ---------------------------------------------------------------------------------
@dataclass
class StopFlag:
    """Turns SIGINT/SIGTERM into a request that the loop sees at its next step."""

    signum: int | None = None
    previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        # A second Ctrl-C stops at once. A repeated SIGTERM does not: schedulers send it
        # again while they wait, and the kernel can deliver a worker's parent-death
        # signal twice; either would cut short the checkpoint the first one asked for.
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is None:
            self.signum = signum

    def __call__(self) -> bool | str:
        """False, or the name of the signal that asked for a stop."""
        return False if self.signum is None else signal.Signals(self.signum).name

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()


# --- configs to parts ------------------------------------------------------------------------
def as_config(config: Config | dict[str, Any] | str | Path | None, **overrides: Any) -> Config:
    """A Config from a Config, a dict of settings, or a YAML path, plus overrides."""
    if isinstance(config, Config):
        return make_config({**config.to_dict(), **overrides}) if overrides else config
    if config is None:
        return make_config(overrides)
    if isinstance(config, dict):
        return make_config({**config, **overrides})
    return load_config(config, overrides)  # a path; anything else is refused there


def spec_of(cfg: Config, in_dim: int, out_dim: int, task: str) -> ModelSpec:
    """The model a config describes, for data of these shapes and this task."""
    return ModelSpec(
        in_dim=in_dim,
        out_dim=out_dim,
        n_layer=cfg.hidden_layers,
        hid_dim=cfg.hid_dim,
        act=cfg.act,
        use_bn=cfg.use_bn,
        dp_rate=cfg.dp_rate,
        sc_type=cfg.sc_type,
        task=task,  # type: ignore[arg-type]
        hid_dims=tuple(cfg.hidden_widths()) if cfg.hid_dims is not None else None,
    )


def model_spec(cfg: Config, data: Dataset) -> ModelSpec:
    return spec_of(cfg, data.n_features, data.n_outputs, data.task)


def schedule_of(cfg: Config) -> Schedule:
    return Schedule(
        epoch=cfg.epoch,
        batch_size=cfg.batch_size,
        test_batch_size=cfg.test_batch_size,
        log_every=cfg.log_every,
        validate_every=cfg.validate_every,
        save_every=cfg.save_every,
        patience=cfg.patience,
        snapshot_every=cfg.snapshot_every,
    )


def steps_per_epoch(cfg: Config, data: Dataset) -> int:
    """Optimizer steps in one epoch: 1 for full batch, else the number of minibatches."""
    return len(batch_bounds(len(data.y_train), cfg.batch_size))


def lr_schedule_of(cfg: Config) -> LrSchedule:
    return LrSchedule(cfg.lr, cfg.lr_schedule, cfg.lr_gamma, cfg.lr_step)


def optim_of(cfg: Config) -> OptimSpec:
    return OptimSpec(cfg.optim, cfg.lr, cfg.mm, cfg.l2_coef)


def load_data(cfg: Config) -> Dataset:
    return load_dataset(
        cfg.data,
        target=cfg.target,
        task=cfg.task,
        split=cfg.split,
        standardize=cfg.standardizes(),
        n_samples=cfg.n_samples,
        noise=cfg.noise,
        seed=cfg.data_seed,
    )


def cast_splits(data: Dataset, dtype: str) -> dict[str, tuple[np.ndarray, ...]]:
    """The splits in the engine's dtype (class indices int64); equal splits stay one object.

    A split is ``(X, y)``, or ``(X, y, w)`` when the dataset has row weights.
    """
    splits: dict[str, tuple[np.ndarray, ...]] = {}
    seen: dict[int, tuple[np.ndarray, ...]] = {}
    for name, (x, y) in data.splits().items():
        if id(x) not in seen:
            seen[id(x)] = _cast(x, y, dtype, data.name)
            if data.weights is not None:
                seen[id(x)] += (data.weights[name],)
        splits[name] = seen[id(x)]
    return splits


def _cast(x: np.ndarray, y: np.ndarray, dtype: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore"):  # overflow is reported below, as one line
        x = np.ascontiguousarray(x, dtype=dtype)
        y = (
            np.ascontiguousarray(y, dtype=dtype)
            if y.dtype.kind == "f"
            else np.ascontiguousarray(y, dtype=np.int64)
        )
    # Finite float64 values (e.g. 1e300) can overflow to inf in float32.
    for what, a in (("feature", x), ("target", y)):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise DataError(
                f"data {name!r}: {what} values overflow {dtype} (largest magnitude "
                f"{np.finfo(dtype).max:.3g}); rescale them, set --standardize true, or use --dtype float64"
            )
    return x, y


def model_init(
    cfg: Config, spec: ModelSpec, weights: dict[str, np.ndarray] | None = None
) -> ModelInit:
    """One model's start: the initial weights from its own stream (or given), and its optimizer."""
    streams = run_streams(cfg.seed)
    if weights is None:
        # init: torch replays torch.manual_seed(seed) itself: it takes the seed, not a stream.
        source = cfg.seed if cfg.init == "torch" else streams.weights
        weights = init_state(spec, cfg.init, source, cfg.dtype)
    return ModelInit(weights, optim_of(cfg), cfg.dp_rate, streams.dropout)


def build_stack(
    cfgs: Sequence[Config], data: Dataset, specs: Sequence[ModelSpec], engine: str
) -> Backend:
    """The engine holding every config's model, with the data on its device."""
    c0 = cfgs[0]
    models = [model_init(c, sp) for c, sp in zip(cfgs, specs, strict=True)]
    backend = make_backend(engine, specs[0], models, device=c0.device, dtype=c0.dtype)
    backend.set_data(cast_splits(data, c0.dtype))
    return backend


def header_of(cfg: Config, spec: ModelSpec, data: Dataset, engine: str) -> dict[str, Any]:
    """The facts that open a run's result.json: its settings, identity and model."""
    return {
        **record_settings(cfg),
        "run_id": run_name(cfg),
        "engine_used": engine,
        "task_type": data.task,
        "n_params": spec.n_params(),
        "mlplab_version": __version__,
    }


def checkpoint_meta(spec: ModelSpec, data: Dataset, engine: str) -> dict[str, Any]:
    """What every checkpoint of a stack shares: enough to rebuild the model and its data."""
    return {
        "mlplab_version": __version__,
        "spec": spec.to_dict(),
        "engine": engine,
        "class_names": data.class_names,
        "feature_names": data.feature_names,
        "target_names": data.target_names,
        "task": data.task,
        "scaler": None if data.scaler is None else [a.tolist() for a in data.scaler],
    }


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


def _subscribers(
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
    the record.
    """
    subs: list[Subscriber] = []
    writer = tb = None
    if records is not None:
        c0 = cfgs[0]
        tb = TensorBoardLogger(
            [m.record.dir for m in records],
            [
                {k: v for k, v in record_settings(c).items() if not isinstance(v, list)}
                for c in cfgs
            ],
            data.task,
            c0.epoch,
            c0.log_every,
            tb_points,
            keep_until,
        )
        writer = RunWriter(records, data.task, checkpoint_meta(specs[0], data, engine))
        subs += [tb, writer]
    if console is not None:
        subs.append(console)
    subs += list(extra)
    return writer, tb, subs


def _fit_stack(run: StackRun, should_stop: Callable[[], bool | str] | None) -> StackState:
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
            )
    except BaseException as err:
        if run.tb is not None:
            run.tb.close()
        if run.writer is not None:
            for k in run.state.ids:
                with contextlib.suppress(Exception):  # never hide the original exception
                    run.writer.abort(int(k), run.state.loop_state(int(k)), err)
        raise


# --- train(): one config ---------------------------------------------------------------------
def train(
    config: Config | dict[str, Any] | str | Path | None = None,
    *,
    resume: str | Path | None = None,
    verbose: bool = True,
    record: bool = True,
    handle_signals: bool = False,
    dataset: Dataset | None = None,
    subscribers: Sequence[Subscriber] = (),
    lock: bool = False,
    rerun: bool = False,
    **overrides: Any,
) -> Result:
    """Train one experiment and write its run record.

    Parameters
    ----------
    config : Config, dict, or path to a YAML file
        The experiment; keyword ``overrides`` win over it (like flags over a file).
    resume : path, optional
        A run directory to continue from its last checkpoint (its own config is used).
    verbose : bool
        Print step lines and the results table.
    record : bool
        Write the run directory (result.json, metrics.csv, events, checkpoints, plots).
    handle_signals : bool
        Turn SIGINT/SIGTERM into a clean stop with a checkpoint (the CLI sets this).
    dataset : Dataset, optional
        Train on these arrays instead of loading ``config.data`` (the scikit-learn
        estimators use this); ``data`` then only labels the run.
    subscribers : list of callables, optional
        More subscribers to the run's events (:mod:`mlplab.training.events`), called
        after the record's and the console's.
    lock : bool
        Refuse, in one line, to train a run that another process is training right now
        (``mlplab train`` sets this; sweeps hold their own locks).
    rerun : bool, default False
        What to do when the config's run folder already holds a finished run. False:
        keep it, say so in one line, and return it (loaded from its record, with no
        training; ``Result.kept`` is True). True: train again in a hidden folder beside
        it, which replaces the finished run only once the new run has finished; a rerun
        that is interrupted, diverges or fails is removed and the finished run stays.
        With ``dataset`` (the estimators' fit), a finished run is always trained again
        this way: its arrays are not part of the config.

    Returns
    -------
    Result
        ``status`` is ``finished``, ``interrupted`` or ``diverged`` (``exit_code`` 0, 130/143, 1).

    Raises
    ------
    mlplab.errors.MlplabError
        For bad settings or data (before anything is written).
    """
    stop = StopFlag()
    if handle_signals:
        # Installed before anything is written, and restored however the run ends, so a
        # signal at any moment leaves either no record or a consistent one.
        stop.install()
    try:
        with closed_pipe_safe():  # a script piped into `head` still trains to the end
            return _train(
                config, resume, verbose, record, dataset, overrides, stop, subscribers, lock, rerun
            )
    except OSError as err:
        # Disk full or folder removed mid-run: the writer has recorded what it could.
        at = f" ({err.filename})" if err.filename else ""
        raise RecordError(f"{err.strerror or err}{at}; the run stopped") from None
    finally:
        stop.restore()


def _train(
    config: Config | dict[str, Any] | str | Path | None,
    resume: str | Path | None,
    verbose: bool,
    record: bool,
    dataset: Dataset | None,
    overrides: dict[str, Any],
    stop: StopFlag,
    extra: Sequence[Subscriber],
    lock: bool = False,
    rerun: bool = False,
) -> Result:
    # --- validate ---------------------------------------------------------------------------
    ckpt: Checkpoint | None = None
    if resume is not None:
        cfg, ckpt = _resume_inputs(Path(resume))
        if ckpt is None and verbose:
            print(
                f"mlplab: {resume} has no checkpoint (it stopped before its first save); "
                "it trains again from step 0",
                flush=True,
            )
    else:
        cfg = as_config(config, **overrides)
    if record:
        check_writable(cfg.log_path)
    data = dataset if dataset is not None else load_data(cfg)
    check_cost(cfg, data.n_features, len(data.y_train), data.n_outputs)
    spec = model_spec(cfg, data)

    # --- build ------------------------------------------------------------------------------
    engine = resolve_engine(cfg.engine, spec, len(data.X_train), cfg.batch_size, cfg.device)
    run_dir = Path(resume) if resume is not None else run_dir_of(cfg)
    with _run_lock(run_dir, record and lock):
        kept = finished_record(run_dir) if record and resume is None else None
        if kept is None and record and resume is None and verbose:
            _say_replaced_unfinished(run_dir)
        if kept is None:
            return _train_locked(
                cfg, ckpt, verbose, record, data, spec, engine, stop, extra, run_dir
            )
        if not rerun and dataset is None:
            if verbose:
                print(kept_line(run_dir, kept), flush=True)
            return _kept(run_dir, cfg, data, spec, kept)
        return _rerun(cfg, verbose, data, spec, engine, stop, extra, run_dir)


def _say_replaced_unfinished(run_dir: Path) -> None:
    """A word before a new run takes the folder of one that did not finish."""
    status = (read_result(run_dir) or {}).get("status")
    if status is None:
        return
    ckpt = run_dir / "checkpoints" / "last.safetensors"
    hint = f" (`mlplab train --resume {run_dir}` continues it instead)" if ckpt.is_file() else ""
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
        loaded = load_run(run_dir, engine=str(kept.get("engine_used") or cfg.engine))
    except MlplabError as err:
        raise CheckpointError(
            f"{run_dir} holds this config's finished run, but its model does not load ({err}); "
            "give --rerun (rerun=True) to train it again"
        ) from None
    curves = {k: v.tolist() for k, v in read_curves(run_dir, kept).items()}
    return Result(cfg, run_dir, kept, loaded.dataset, loaded.backend, loaded.spec, 0, curves, True)


def _rerun(
    cfg: Config,
    verbose: bool,
    data: Dataset,
    spec: ModelSpec,
    engine: str,
    stop: StopFlag,
    extra: Sequence[Subscriber],
    run_dir: Path,
) -> Result:
    """Train a finished run's config again beside it; replace it only if the new one finishes."""
    scratch = scratch_dir(run_dir)
    res: Result | None = None
    try:
        res = _train_locked(
            cfg, None, verbose, True, data, spec, engine, stop, extra, run_dir, scratch
        )
    finally:
        status = None if res is None else res.status
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


@contextlib.contextmanager
def _run_lock(run_dir: Path, wanted: bool) -> Iterator[None]:
    """Hold the run's lock while it trains, or refuse if another process holds it."""
    if not wanted:
        yield
        return
    with RunLocks(run_dir.parent) as locks:
        if not locks.acquire(run_dir.name):
            raise ConfigError(
                f"run {str(run_dir)!r} is being trained by another process right now; "
                "wait for it to end, or give another --exp_name"
            )
        yield


def _train_locked(
    cfg: Config,
    ckpt: Checkpoint | None,
    verbose: bool,
    record: bool,
    data: Dataset,
    spec: ModelSpec,
    engine: str,
    stop: StopFlag,
    extra: Sequence[Subscriber],
    run_dir: Path,
    write_dir: Path | None = None,
) -> Result:
    """Train one config; ``write_dir`` (default ``run_dir``) is where its record is written."""
    write_dir = write_dir or run_dir
    if ckpt is None:
        backend = build_stack([cfg], data, [spec], engine)
        state = StackState.fresh([run_streams(cfg.seed).order])
        elapsed_before, keep_until = 0.0, None
    else:
        path = run_dir / "checkpoints" / "last.safetensors"
        saved = restore_model(cfg, spec, ckpt, path)
        backend, state = restore_stack([cfg], data, [spec], engine, [saved])
        _set_global_rng(saved.global_rng)
        elapsed_before, keep_until = saved.elapsed, (state.step, state.epoch)
    records = None
    if record:
        m = ModelRecord(
            RunRecord(write_dir),
            header_of(cfg, spec, data, engine),
            cfg,
            fresh=ckpt is None,
            elapsed_before=elapsed_before,
        )
        if ckpt is not None:
            m.best_saved = _saved_best_epoch(run_dir, state.loop_state(0))
            m.last_saved = state.step
        records = [m]
    labs = lab_targets(data.task, data.y_train, cfg.batch_size, cfg.dtype)
    console = RunConsole(
        verbose, cfg.epoch, cfg.log_every, steps_per_epoch(cfg, data), lab_targets=labs
    )
    plots = _plot_subscribers([cfg], data, [spec], [RunRecord(write_dir)]) if record else []
    live = live_view(f"{cfg.label()} on {data.name}", cfg.epoch, data.shared_splits, verbose)
    writer, tb, subs = _subscribers(
        [cfg],
        data,
        [spec],
        engine,
        records,
        console,
        TB_POINTS,
        keep_until,
        [*live, *plots, *extra],
    )
    ends: list[End] = []
    subs.append(lambda e: ends.append(e) if isinstance(e, End) else None)
    run = StackRun([cfg], data, [spec], engine, backend, state, writer, subs, tb)
    run.progress_every = console.progress_every
    if verbose:
        where = f" -> {run_dir}" if record else ""
        if write_dir != run_dir:
            where += " (a rerun: it replaces the finished run there once it has finished)"
        console.line(
            f"mlplab: {cfg.label()} on {data.name} ({data.task}, {data.n_rows} rows), "
            f"engine {engine}{where}"
        )

    # --- train ------------------------------------------------------------------------------
    with console:
        _fit_stack(run, stop)
    end = ends[-1]
    status, message = end.statuses[0], end.messages[0]
    exit_code = {"finished": 0, "diverged": 1}.get(status, 0)
    if status == "interrupted":
        exit_code = EXIT_FOR_SIGNAL.get(stop.signum or signal.SIGINT, 130)
        message = (
            f"interrupted by {signal.Signals(stop.signum or signal.SIGINT).name} at step {end.step}"
        )
        # Named only where a run folder with a checkpoint to resume from is kept.
        if (
            record
            and write_dir == run_dir
            and (write_dir / "checkpoints" / "last.safetensors").is_file()
        ):
            message += f"; resume with `mlplab train --resume {run_dir}`"
    if writer is not None:
        # The plots, drawn after the record, add their files' names to result.json.
        result = RunRecord(write_dir).read_result() or writer.results[0]
    else:
        result = _unrecorded(cfg, spec, data, engine, end)
    if verbose:
        if message:
            console.line(f"mlplab: {message}")
        _print_summary(cfg, data, result, end)
        if record and write_dir == run_dir:
            console.line(record_line(run_dir))
    curves = curve_lists(end.models.loop_state(int(end.ids[0])), data.task)
    return Result(cfg, run_dir if record else None, result, data, backend, spec, exit_code, curves)


def _unrecorded(
    cfg: Config, spec: ModelSpec, data: Dataset, engine: str, end: End
) -> dict[str, Any]:
    """result.json's contents for a run that writes no record (``record=False``)."""
    from mlplab.runs.writer import curve_arrays, curves_of

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
    return out


def _plot_subscribers(
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


def record_line(run_dir: Path) -> str:
    """The closing line: where the run's record and plots are (only files that exist)."""
    files = [
        name
        for name in ("result.json", "metrics.csv", "checkpoints/")
        if (run_dir / name.rstrip("/")).exists()
    ]
    line = f"mlplab: record in {run_dir}/ ({', '.join(files) or 'no files'})"
    plots = run_dir / "plots"
    n = sum(1 for p in plots.iterdir() if p.is_file()) if plots.is_dir() else 0
    if n:
        line += f"; {n} plots in {plots}/"
    return line


def _print_summary(cfg: Config, data: Dataset, result: dict[str, Any], end: End) -> None:
    if result["status"] == "diverged":
        return
    rows = []
    for split in ("train", "val", "test"):
        metrics = {
            k.removeprefix(f"{split}_"): v
            for k, v in result.items()
            if k.startswith(f"{split}_") and isinstance(v, float)
        }
        rows.append((split, metrics))
    if data.shared_splits:
        rows = [("train=val=test", rows[0][1])]
    print(
        results_table(
            rows,
            f"{cfg.label()} on {data.name}: {result['status']} in {result['wall_time_s']:.2f} s",
        )
    )
    outputs = end.train_outputs[0] if end.train_outputs else None
    if data.n_rows <= 16 and outputs is not None:
        print(hypothesis_block(data.task, outputs, data.y_train))


# --- resume ----------------------------------------------------------------------------------
def record_config(run_dir: Path) -> Config:
    """A run's config from its config.yaml; its ``log_path`` is where the record lies."""
    settings = read_yaml(run_dir / "config.yaml")
    if isinstance(settings, dict):
        settings = {**settings, "log_path": str(run_dir.parent.parent)}
    return make_config(settings, str(run_dir / "config.yaml"))


def _resume_inputs(run_dir: Path) -> tuple[Config, Checkpoint | None]:
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"--resume {str(run_dir)!r}: not a run directory (no config.yaml)")
    cfg = record_config(run_dir)
    # A finished run has nothing left to train, and a diverged one would diverge again
    # at the same step: both are refused rather than silently rewritten.
    status = (read_result(run_dir) or {}).get("status")
    if status == "finished":
        raise ConfigError(
            f"--resume {str(run_dir)!r}: the run has already finished; nothing to resume"
        )
    if status == "diverged":
        raise ConfigError(
            f"--resume {str(run_dir)!r}: the run diverged, and would diverge again at the same "
            "step; start a new run with a lower lr"
        )
    last = run_dir / "checkpoints" / "last.safetensors"
    if not last.exists():
        return cfg, None  # killed before its first checkpoint: start again, same result
    ckpt = load_checkpoint(last)
    _check_identity(run_dir, cfg, ckpt, last)
    return cfg, ckpt


def _check_identity(run_dir: Path, cfg: Config, ckpt: Checkpoint, path: Path) -> None:
    """Refuse a config or checkpoint that does not belong to this run, in one line."""
    name = run_name(cfg)
    saved = ckpt.meta.get("config")
    if not isinstance(saved, dict) or ckpt.meta.get("run_id", name) != name:
        if ckpt.meta.get("run_id") in (run_dir.name, None) and isinstance(saved, dict):
            raise CheckpointError(
                f"--resume {str(run_dir)!r}: config.yaml describes run {name!r}, not this "
                f"folder's run; it was edited after the run started (put it back, or start a new run)"
            )
        raise CheckpointError(
            f"checkpoint {str(path)!r} belongs to run {ckpt.meta.get('run_id')!r}, not {name!r}"
        )
    # The folder's own name is not checked: a user may rename a run's folder, and its
    # config.yaml and checkpoint (checked here) still say which run it is.
    try:
        same = make_config(saved).run_hash() == cfg.run_hash()
    except MlplabError:
        same = False
    if not same:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written by another config than this run's config.yaml"
        )


@dataclass
class Restored:
    """One model's state from its last checkpoint: what it needs to continue exactly."""

    init: ModelInit
    state: ModelState
    loop: LoopState
    order: np.random.Generator
    elapsed: float
    global_rng: dict[str, Any] | None


def restore_model(cfg: Config, spec: ModelSpec, ckpt: Checkpoint, path: Path) -> Restored:
    """A model's weights, optimizer, RNG streams and loop position from its checkpoint.

    A checkpoint whose contents do not fit the run (a crafted file) becomes a one-line
    CheckpointError instead of a traceback.
    """
    check_run_meta(ckpt.meta, f"checkpoint {str(path)!r}")
    try:
        meta = ckpt.meta
        state = ModelState(ckpt.model, ckpt.optim, meta["optim"], ckpt.rng, meta["rng"])
        order = np.random.default_rng()
        order.bit_generator.state = meta["order_rng_now"]
        return Restored(
            model_init(cfg, spec, weights=ckpt.model),
            state,
            LoopState.from_dict(meta["loop"], _saved_history(path.parent.parent, meta)),
            order,
            float(meta.get("elapsed_s", 0.0)),
            meta.get("global_rng"),
        )
    except MlplabError:
        raise
    except Exception as err:
        raise _misfit(path, err) from None


def _saved_history(run_dir: Path, meta: dict[str, Any]) -> dict[str, list[Any]] | None:
    """The curves a checkpoint names (``meta["curves"]``) as History's lists; None for a
    checkpoint that holds them itself. A file that no longer holds them is refused."""
    ref = meta.get("curves")
    if ref is None:
        return None
    if (cut := saved_curves(run_dir, ref)) is None:
        raise CheckpointError(
            f"the checkpoint of run {str(run_dir)!r} continues the {ref.get('points')} validations "
            f"in {CURVES_FILE}, which no longer holds them (deleted, replaced or damaged)"
        )
    return {f: cut[name].tolist() for name, f in curve_fields(meta["task"]).items()}


def restore_stack(
    cfgs: list[Config], data: Dataset, specs: list[ModelSpec], engine: str, saved: list[Restored]
) -> tuple[Backend, StackState]:
    """The engine and loop state of models restored from their checkpoints, as one stack."""
    c0 = cfgs[0]
    try:
        backend = make_backend(
            engine, specs[0], [r.init for r in saved], device=c0.device, dtype=c0.dtype
        )
        backend.set_data(cast_splits(data, c0.dtype))
        for k, r in enumerate(saved):
            backend.load(k, r.state)
        state = StackState.resumed([r.loop for r in saved], [r.order for r in saved])
    except MlplabError:
        raise
    except Exception as err:
        path = run_dir_of(c0) / "checkpoints" / "last.safetensors"
        raise _misfit(path, err) from None
    return backend, state


def _misfit(path: Path, err: Exception) -> CheckpointError:
    reason = str(err).splitlines()[0][:200] if str(err).strip() else ""
    return CheckpointError(
        f"checkpoint {str(path)!r} does not fit this run's config.yaml "
        f"({type(err).__name__}{': ' + reason if reason else ''})"
    )


def _set_global_rng(saved: dict[str, Any] | None) -> None:
    if not saved:
        return
    version, internal, gauss = saved["python"]
    random.setstate((version, tuple(_rng_words(internal)), gauss))
    name, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state(
        (name, np.asarray(_rng_words(keys), dtype=np.uint32), pos, has_gauss, cached)
    )


def _rng_words(words: str | list[int]) -> list[int]:
    """A global RNG state's words: base64 of uint32s (see global_rng_state), or a list."""
    if isinstance(words, str):
        return np.frombuffer(base64.b64decode(words), dtype="<u4").tolist()
    return words


def _saved_best_epoch(run_dir: Path, state: LoopState) -> int:
    """The epoch of the best model on disk, if it is the one the curves name; else -1.

    Then the writer rewrites ``best`` only when a later epoch improves on it.
    """
    best_epoch = state.history.best_epoch
    try:
        ckpt = load_checkpoint(run_dir / "checkpoints" / "best.safetensors")
        saved_epoch = ckpt.meta["loop"]["history"]["best_epoch"]
    except (CheckpointError, KeyError, TypeError):
        return -1
    return best_epoch if best_epoch and saved_epoch == best_epoch else -1


# --- many configs ----------------------------------------------------------------------------
# Seconds spent by the last trained group in each phase (build, fit), for
# benchmarks/bench_sweep.py: where a sweep's time goes.
LAST_TIMINGS: dict[str, float] = {}


def train_stack(
    cfgs: list[Config],
    verbose: bool = False,
    tb_points: int = STACK_TB_POINTS,
    curves_in_results: bool = True,
    should_stop: Callable[[], bool | str] | None = None,
) -> list[dict[str, Any] | None]:
    """Train one group of same-shaped configs as one stack; write every run record.

    A config whose record was interrupted (Ctrl-C, or a killed sweep) continues from its
    last checkpoint, exactly, rather than starting over; configs stopped at the same step
    continue together as one stack. Returns each config's result.json contents, in order
    (None where ``should_stop`` came first).
    """
    c0 = cfgs[0]
    for path in {c.log_path for c in cfgs}:
        check_writable(path)
    t0 = time.perf_counter()
    data = load_data(c0)
    check_cost(c0, data.n_features, len(data.y_train), data.n_outputs)
    specs = [model_spec(c, data) for c in cfgs]
    engine = resolve_engine(c0.engine, specs[0], len(data.X_train), c0.batch_size, c0.device)
    parts: dict[tuple[int, ...], list[int]] = {}
    where: tuple[int, ...]
    saved: list[Restored | None] = []
    for i, (cfg, spec) in enumerate(zip(cfgs, specs, strict=True)):
        r = _resumable(cfg, spec)
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


def _resumable(cfg: Config, spec: ModelSpec) -> Restored | None:
    """The checkpoint an interrupted run continues from, or None to train it from the start."""
    run_dir = run_dir_of(cfg)
    status = (read_result(run_dir) or {}).get("status")
    last = run_dir / "checkpoints" / "last.safetensors"
    if status not in ("interrupted", "running") or not last.is_file():
        return None
    try:
        ckpt = load_checkpoint(last)
        _check_identity(run_dir, cfg, ckpt, last)
        return restore_model(cfg, spec, ckpt, last)
    except MlplabError:
        return None  # not this run's, or damaged: it trains again from the start


def _train_part(
    cfgs: list[Config],
    data: Dataset,
    specs: list[ModelSpec],
    engine: str,
    saved: list[Restored] | None,
    verbose: bool,
    tb_points: int,
    should_stop: Callable[[], bool | str] | None,
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
            m.best_saved = _saved_best_epoch(m.record.dir, saved[j].loop)
        records.append(m)
    labs = lab_targets(data.task, data.y_train, c0.batch_size, c0.dtype)
    console = RunConsole(verbose, c0.epoch, c0.log_every, lab_targets=labs)
    plots = _plot_subscribers(cfgs, data, specs, [m.record for m in records])
    writer, tb, subs = _subscribers(
        cfgs, data, specs, engine, records, console, tb_points, keep_until, plots
    )
    assert writer is not None  # a stack always records
    spent = [0.0]  # seconds in the subscribers (the records), for LAST_TIMINGS
    subs = [_timed(sub, spent) for sub in subs]
    run = StackRun(cfgs, data, specs, engine, backend, state, writer, subs, tb)
    if verbose:
        how = "stacked" if saved is None else f"stacked, resumed at step {state.step}"
        console.line(
            f"mlplab: {len(cfgs)} configs of {c0.label()} on {data.name} "
            f"({data.task}, {data.n_rows} rows), engine {engine}, {how}"
        )
    t1 = time.perf_counter()
    try:
        with console:
            _fit_stack(run, should_stop)
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
) -> list[dict[str, Any] | None]:
    """Train every config, stacking those that share a shape, and write each run record.

    Parameters
    ----------
    configs : list of Config or dict
        Validated once here. Configs with equal :func:`mlplab.training.grouping.group_key`
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

    Returns
    -------
    list of dict (or None)
        Each config's result.json contents, in the order of ``configs``. None for a config
        whose group had not started when ``should_stop`` said stop.
    """
    from mlplab.engines.malloc import keep_training_memory

    keep_training_memory()
    cfgs = [as_config(c) for c in configs]
    results: list[dict[str, Any] | None] = [None] * len(cfgs)
    for idx in group_indices(cfgs, max_group):
        if should_stop is not None and should_stop():
            break  # the groups not started have no record: a sweep trains them again
        group = [cfgs[i] for i in idx]
        out = train_stack(group, verbose, tb_points, curves_in_results, should_stop)
        for i, r in zip(idx, out, strict=True):
            results[i] = r
    return results


# --- a finished run, rebuilt -----------------------------------------------------------------
@dataclass
class LoadedRun:
    """A finished run rebuilt from its directory: config, data, model and result.json."""

    config: Config
    dataset: Dataset
    spec: ModelSpec
    backend: Backend
    record: dict[str, Any]
    run_dir: Path
    checkpoint_meta: dict[str, Any]

    def model_outputs(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``[N, out]`` for inputs already in the model's scale (``dataset.X_*``)."""
        return np.asarray(self.backend.predict(X)[0], dtype=np.float64)

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The model's parameters and buffers, by ModelSpec name."""
        return self.backend.export(0).weights


def load_run(run_dir: str | Path, which: str = "last", engine: str | None = None) -> LoadedRun:
    """Rebuild a run's model from its config.yaml and checkpoint, with no retraining.

    ``which`` is ``last`` or ``best``; ``last`` falls back to ``best`` for a run that has
    no ``last`` (a diverged run keeps only its best model). ``engine`` evaluates the
    weights on another engine than the one that trained them (weights convert by name).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{str(run_dir)!r} is not a run directory (no config.yaml)")
    cfg = record_config(run_dir)
    path = run_dir / "checkpoints" / f"{which}.safetensors"
    best = run_dir / "checkpoints" / "best.safetensors"
    if which == "last" and not path.exists() and best.exists():
        path = best
    ckpt = load_checkpoint(path)
    data = load_data(cfg)
    _use_saved_scaler(data, ckpt.meta.get("scaler"))
    try:
        spec = ModelSpec.from_dict(ckpt.meta["spec"])
        chosen = engine or str(ckpt.meta.get("engine", cfg.engine))
        cfg = make_config({**cfg.to_dict(), "engine": chosen})
        chosen = resolve_engine(chosen, spec, len(data.X_train), cfg.batch_size, cfg.device)
        models = [model_init(cfg, spec, weights=ckpt.model)]
        backend = make_backend(chosen, spec, models, device=cfg.device, dtype=cfg.dtype)
        backend.set_data(cast_splits(data, cfg.dtype))
    except MlplabError:
        raise
    except Exception as err:  # a well-formed file that is not this run's checkpoint
        raise _misfit(path, err) from None
    return LoadedRun(cfg, data, spec, backend, read_result(run_dir) or {}, run_dir, ckpt.meta)


def _use_saved_scaler(data: Dataset, saved: Any) -> None:
    """Put back the standardization the checkpoint keeps, fitted when the model trained.

    ``load_data`` fits it again on the training file as the file is now, which differs if
    the file changed since; the splits are rescaled from the one to the other. A checkpoint
    from before scalers were kept (``saved`` None) keeps the refitted one.
    """
    if saved is None or data.scaler is None:
        return
    mean, std = (np.asarray(a, dtype=np.float64) for a in saved)
    now_mean, now_std = data.scaler
    if mean.shape != now_mean.shape or (
        np.array_equal(mean, now_mean) and np.array_equal(std, now_std)
    ):
        return  # other columns now (the model check says so), or the same scaler
    for split in ("train", "val", "test"):
        X = getattr(data, f"X_{split}")
        setattr(data, f"X_{split}", (X * now_std + now_mean - mean) / std)
    data.scaler = (mean, std)


__all__ = [
    "LoadedRun",
    "Result",
    "StopFlag",
    "as_config",
    "load_run",
    "train",
    "train_batched",
    "train_stack",
]
