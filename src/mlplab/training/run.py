"""``train(config) -> Result``: one experiment from config to complete run record.

The phases, in order: validate the config, check that records can be written, load the
data, build the engine, open the run record, train (:func:`mlplab.training.loop.fit`),
evaluate, write the results, draw the plots. Nothing is written before the config and
the data have been checked, so bad input leaves no run behind.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import __version__
from mlplab.config import Config, load_config, make_config, read_yaml
from mlplab.console import RunConsole, hypothesis_block, results_table
from mlplab.data.cost import check_cost
from mlplab.data.dataset import Dataset, load_dataset
from mlplab.engines.backend import Backend, OptimSpec, blas_threads, make_backend, resolve_engine
from mlplab.engines.init import init_state
from mlplab.engines.spec import ModelSpec
from mlplab.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    MlplabError,
    RecordError,
    RunDiverged,
)
from mlplab.plots.worker import RunPlotter, discard_prestarted
from mlplab.runs.atomic import link_replace
from mlplab.runs.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mlplab.runs.record import RunRecord, check_writable, run_dir_of, run_name
from mlplab.training.loop import Hooks, LoopState, Schedule, fit
from mlplab.training.metrics import curve_metric_name, split_metrics

EXIT_FOR_SIGNAL: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
        The trained model (engine-specific); use :meth:`predict`.
    """

    config: Config
    run_dir: Path | None
    record: dict[str, Any]
    dataset: Dataset
    backend: Backend
    spec: ModelSpec
    exit_code: int = 0

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
        """Outputs for raw inputs: logits (classification) or values (regression)."""
        return self.backend.predict(self.dataset.transform(np.asarray(X, dtype=np.float64)))

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


@dataclass
class _StopFlag:
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

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()


class RunHooks(Hooks):
    """Printing, TensorBoard, checkpoints and stop requests for one run."""

    def __init__(self, ctx: _RunContext) -> None:
        self.ctx = ctx
        self.metric = curve_metric_name(ctx.data.task)

    def on_step(self, state: LoopState, loss: float) -> None:
        cfg = self.ctx.cfg
        if cfg.log_every and state.step % cfg.log_every == 0:
            self.ctx.console.step(state.step, loss)
            if self.ctx.tb is not None:
                self.ctx.tb.scalar("train/step_loss", loss, state.step)
        if self.ctx.snapshots is not None and state.step % cfg.snapshot_every == 0:
            self.ctx.snapshots.capture(state.step, self.ctx.backend)

    def on_validate(self, state: LoopState, improved: bool) -> None:
        h = state.history
        if improved:
            self.ctx.best = (self.ctx.backend.state_dict(), state.epoch)
        self.ctx.plotter.progress(h)
        e = state.epoch
        # Thinned like train/loss to about 1000 points a run: every event costs a trip
        # through the writer's queue, which on lab-sized models outweighs the step itself.
        if self.ctx.tb is not None and (e % self.ctx.tb_every == 0 or e == self.ctx.cfg.epoch):
            self.ctx.tb.scalars(
                {
                    "train/loss": h.train_losses[-1],
                    f"train/{self.metric}": h.train_metrics[-1],
                    "val/loss": h.val_losses[-1],
                    f"val/{self.metric}": h.val_metrics[-1],
                },
                e,
            )

    def on_epoch_end(self, state: LoopState) -> None:
        self.ctx.console.epoch(state.epoch, f"loss {state.last_epoch_loss:.4g}")

    def on_save(self, state: LoopState) -> None:
        # `best` is written here too (when it changed), so that it survives a SIGKILL and
        # a resumed run still ends with the right best model.
        best = self.ctx.best
        if best is not None and best[1] != self.ctx.best_saved:
            self.ctx.save("best", state)
        self.ctx.save("last", state)

    def should_stop(self) -> bool:
        return self.ctx.stop.signum is not None


@dataclass
class _RunContext:
    cfg: Config
    data: Dataset
    spec: ModelSpec
    engine: str
    backend: Backend
    order_rng: np.random.Generator
    record: RunRecord | None
    console: RunConsole
    tb: Any
    stop: _StopFlag
    tb_every: int = 1
    snapshots: Any = None
    best: tuple[dict[str, np.ndarray], int] | None = None
    best_saved: int = -1  # epoch of the best model last written to best.safetensors
    last_saved: int = -1  # optimizer steps of the state last written to last.safetensors
    started: float = field(default_factory=time.time)
    elapsed_before: float = 0.0
    plotter: RunPlotter = field(default_factory=RunPlotter)

    def checkpoint(
        self, state: LoopState, model: dict[str, np.ndarray] | None = None
    ) -> Checkpoint:
        opt_arrays, opt_meta = self.backend.optim_state()
        rng_arrays, rng_meta = self.backend.rng_state()
        meta = {
            "mlplab_version": __version__,
            "config": self.cfg.to_dict(),
            "spec": self.spec.to_dict(),
            "engine": self.engine,
            "loop": state.to_dict(),
            "order_rng_now": self.order_rng.bit_generator.state,
            "optim": opt_meta,
            "rng": rng_meta,
            "global_rng": _global_rng(),
            "elapsed_s": self.elapsed(),
            "class_names": self.data.class_names,
            "feature_names": self.data.feature_names,
            "target_names": self.data.target_names,
            "task": self.data.task,
            "scaler": None if self.data.scaler is None else [a.tolist() for a in self.data.scaler],
        }
        return Checkpoint(
            model=model if model is not None else self.backend.state_dict(),
            meta=meta,
            optim=opt_arrays,
            rng=rng_arrays,
        )

    def save(self, which: str, state: LoopState, metrics: bool = True) -> None:
        if self.record is None:
            return
        model = None
        path = self.record.checkpoint_dir / f"{which}.safetensors"
        if which == "best":
            if self.best is None:
                return
            model = self.best[0]
            self.best_saved = self.best[1]
            # When the best model is the one `last` has just stored, share its file:
            # creating a file costs ~0.5-0.9 ms of kernel time on ext4 here, and a sweep
            # of lab-sized runs creates several per run. That holds only at the end of the
            # best epoch: a stop mid-epoch stores a model some steps further on.
            last = self.record.checkpoint_dir / "last.safetensors"
            at_best = self.best[1] == state.epoch and state.batch_in_epoch == 0
            if at_best and self.last_saved == state.step and link_replace(last, path):
                return
        if self.tb is not None:
            # Every event up to this checkpoint reaches the file before the checkpoint
            # does: a run killed after it resumes from it with no gap in its curves.
            self.tb.flush()
        save_checkpoint(path, self.checkpoint(state, model))
        if which == "last":
            self.last_saved = state.step
        if metrics:  # metrics.csv keeps pace with the last checkpoint
            self.record.write_metrics(metrics_rows(state, self.data.task))

    def elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self.started)


def as_config(config: Config | dict[str, Any] | str | Path | None, **overrides: Any) -> Config:
    """A Config from a Config, a dict of settings, or a YAML path, plus overrides."""
    if isinstance(config, Config):
        return make_config({**config.to_dict(), **overrides}) if overrides else config
    if config is None:
        return make_config(overrides)
    if isinstance(config, dict):
        return make_config({**config, **overrides})
    return load_config(config, overrides)


def model_spec(cfg: Config, data: Dataset) -> ModelSpec:
    return spec_of(cfg, data.n_features, data.n_outputs, data.task)


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
        lr=cfg.lr,
        lr_schedule=cfg.lr_schedule,
        lr_gamma=cfg.lr_gamma,
        lr_step=cfg.lr_step,
    )


def load_data(cfg: Config) -> Dataset:
    return load_dataset(
        cfg.data,
        target=cfg.target,
        task=cfg.task,
        split=cfg.split,
        standardize=cfg.standardize,
        n_samples=cfg.n_samples,
        noise=cfg.noise,
        seed=cfg.data_seed,
    )


def build_backend(
    cfg: Config, data: Dataset, spec: ModelSpec, init: dict[str, np.ndarray] | None = None
) -> tuple[str, Backend]:
    """Choose the engine (``auto``), draw the shared init, and hand the data to the engine."""
    engine = resolve_engine(cfg.engine, spec, len(data.X_train), cfg.batch_size, cfg.device)
    if init is None:
        init = init_state(spec, cfg.init, cfg.seed, cfg.dtype)
    optim = OptimSpec(cfg.optim, cfg.lr, cfg.mm, cfg.l2_coef)
    backend = make_backend(
        engine, spec, init, optim, seed=cfg.seed, device=cfg.device, dtype=cfg.dtype
    )
    backend.set_data({k: _cast(x, y, cfg.dtype, data.name) for k, (x, y) in data.splits().items()})
    return engine, backend


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
                f"{np.finfo(dtype).max:.3g}); rescale them, set --standardize, or use --dtype float64"
            )
    return x, y


def metrics_rows(state: LoopState, task: str) -> list[dict[str, Any]]:
    """metrics.csv: one row per validation, as the curves of result.json."""
    h = state.history
    metric = curve_metric_name(task)
    return [
        {
            "epoch": e,
            "train_loss": h.train_losses[i],
            "lr": h.lrs[i],
            "val_loss": h.val_losses[i],
            f"train_{metric}": h.train_metrics[i],
            f"val_{metric}": h.val_metrics[i],
        }
        for i, e in enumerate(h.val_epochs)
    ]


def train(
    config: Config | dict[str, Any] | str | Path | None = None,
    *,
    resume: str | Path | None = None,
    verbose: bool = True,
    record: bool = True,
    handle_signals: bool = False,
    dataset: Dataset | None = None,
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

    Returns
    -------
    Result
        ``status`` is ``finished``, ``interrupted`` or ``diverged`` (``exit_code`` 0, 130/143, 1).

    Raises
    ------
    mlplab.errors.MlplabError
        For bad settings or data (before anything is written).
    """
    stop = _StopFlag()
    plotter = RunPlotter()  # may fork plot workers; stopped below however the run ends
    if handle_signals:
        # Installed before anything is written, and restored however the run ends, so a
        # signal at any moment leaves either no record or a consistent one.
        stop.install()
    try:
        return _train(config, resume, verbose, record, dataset, overrides, stop, plotter)
    except OSError as err:
        # Disk full or folder removed mid-run: _abort has recorded what it could.
        at = f" ({err.filename})" if err.filename else ""
        raise RecordError(
            f"{err.strerror or err}{at}; the run stopped, its last checkpoint is kept"
        ) from None
    finally:
        plotter.stop()
        stop.restore()


def _train(
    config: Config | dict[str, Any] | str | Path | None,
    resume: str | Path | None,
    verbose: bool,
    record: bool,
    dataset: Dataset | None,
    overrides: dict[str, Any],
    stop: _StopFlag,
    plotter: RunPlotter,
) -> Result:
    # --- validate ---------------------------------------------------------------------------
    ckpt: Checkpoint | None = None
    if resume is not None:
        cfg, ckpt = _resume_inputs(Path(resume))
    else:
        cfg = as_config(config, **overrides)
    if record:
        check_writable(cfg.log_path)
    data = dataset if dataset is not None else load_data(cfg)
    check_cost(cfg, data.n_features, len(data.y_train), data.n_outputs)
    spec = model_spec(cfg, data)
    if record and cfg.plots != "none":
        # Plot workers get matplotlib ready on a spare core while the run trains.
        plotter.start()
    else:
        discard_prestarted()  # free the core for training

    # --- build ------------------------------------------------------------------------------
    order_rng = np.random.default_rng([cfg.seed, 1])
    # Made here, not in fit(), so that a run that diverges or is interrupted still
    # records the curves it has so far (fit() fills this object in place).
    state = LoopState()
    elapsed_before = 0.0
    if ckpt is not None:
        engine, backend, state, elapsed_before = _restore(
            cfg,
            data,
            spec,
            ckpt,
            order_rng,
            Path(resume),  # type: ignore[arg-type]
        )
    else:
        engine, backend = build_backend(cfg, data, spec)

    rec = RunRecord(Path(resume) if resume is not None else run_dir_of(cfg)) if record else None
    settings = cfg.to_dict()
    header = {
        **settings,
        "run_id": run_name(cfg),
        "engine_used": engine,
        "task_type": data.task,
        "n_params": spec.n_params(),
        "mlplab_version": __version__,
        "status": "running",
    }
    if rec is not None:
        rec.start(cfg, fresh=ckpt is None)
        rec.write_result({**header, **_curves(state, data.task)})
        plotter.prepare(header, data, backend, spec, cfg.plots)

    tb = None
    if rec is not None:
        from mlplab.runs.tensorboard import EventWriter

        keep = (state.step, state.epoch) if ckpt is not None else None
        tb = EventWriter(rec.dir, keep_until=keep)
    console = RunConsole(verbose, cfg.epoch)
    ctx = _RunContext(
        cfg,
        data,
        spec,
        engine,
        backend,
        order_rng,
        rec,
        console,
        tb,
        stop,
        tb_every=max(1, cfg.epoch // 1000),
        elapsed_before=elapsed_before,
        plotter=plotter,
    )
    if ckpt is not None and rec is not None:
        ctx.best = _saved_best(rec, state)
        ctx.best_saved = state.history.best_epoch if ctx.best is not None else -1
    if cfg.snapshot_every and rec is not None and cfg.plots != "none":
        try:
            from mlplab.plots.recorder import SnapshotRecorder

            ctx.snapshots = SnapshotRecorder(data, spec)
        except ImportError:
            ctx.snapshots = None
    if verbose:
        where = f" -> {rec.dir}" if rec is not None else ""
        console.line(
            f"mlplab: {cfg.label()} on {data.name} ({data.task}, {data.n_rows} rows), "
            f"engine {engine}{where}"
        )

    # --- train ------------------------------------------------------------------------------
    status, exit_code, message = "finished", 0, ""
    try:
        # Overflow in a step shows up as a NaN/inf loss, which the loop reports as a
        # divergence in one line; NumPy's own RuntimeWarnings would only add noise.
        errs = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        threads = blas_threads(engine, spec, len(data.y_train), cfg.batch_size)
        with console, errs, threads:
            fit(
                backend,
                data.task,
                data.y_train,
                data.y_val,
                schedule_of(cfg),
                order_rng,
                RunHooks(ctx),
                state,
            )
        if stop.signum is not None and state.epoch < cfg.epoch and not state.stopped_early:
            status, exit_code = "interrupted", EXIT_FOR_SIGNAL.get(stop.signum, 130)
            where = str(rec.dir) if rec else "RUN_DIR"
            message = (
                f"interrupted by {signal.Signals(stop.signum).name} at step {state.step}; "
                f"resume with `mlplab train --resume {where}`"
            )
    except RunDiverged as err:
        status, exit_code, message = "diverged", 1, str(err)
    except BaseException as err:
        _abort(ctx, header, state, err)
        raise

    # --- evaluate and record ----------------------------------------------------------------
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = _finish(ctx, state, header, status, message)
    except BaseException as err:  # e.g. a second Ctrl-C while the results are written
        _abort(ctx, header, state, err)
        raise
    if verbose:
        if message:
            console.line(f"mlplab: {message}")
        _print_summary(ctx, out)
    return Result(cfg, rec.dir if rec else None, out, data, backend, spec, exit_code)


def _restore(
    cfg: Config,
    data: Dataset,
    spec: ModelSpec,
    ckpt: Checkpoint,
    order_rng: np.random.Generator,
    run_dir: Path,
) -> tuple[str, Backend, LoopState, float]:
    """Model, optimizer, RNG states and loop position from a checkpoint.

    A checkpoint whose contents do not fit the run's config (a hand-edited config.yaml,
    a crafted file) becomes a one-line CheckpointError instead of a traceback.
    """
    try:
        engine, backend = build_backend(cfg, data, spec, init=ckpt.model)
        backend.load_optim_state(ckpt.optim, ckpt.meta["optim"])
        backend.load_rng_state(ckpt.rng, ckpt.meta["rng"])
        state = LoopState.from_dict(ckpt.meta["loop"])
        order_rng.bit_generator.state = ckpt.meta["order_rng_now"]
        _set_global_rng(ckpt.meta.get("global_rng"))
        elapsed = float(ckpt.meta.get("elapsed_s", 0.0))
    except MlplabError:
        raise
    except Exception as err:
        raise _misfit(run_dir / "checkpoints" / "last.safetensors", err) from None
    return engine, backend, state, elapsed


def _misfit(path: Path, err: Exception) -> CheckpointError:
    reason = str(err).splitlines()[0] if str(err).strip() else ""
    return CheckpointError(
        f"checkpoint {str(path)!r} does not fit this run's config.yaml "
        f"({type(err).__name__}{': ' + reason if reason else ''})"
    )


def _global_rng() -> dict[str, Any]:
    """Python's and NumPy's global RNG states, as JSON.

    mlplab itself draws only from explicit generators (and torch's, saved by the torch
    engine), but code around a run may use these globals; restoring them makes a resumed
    run continue exactly as if it had never stopped.
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": [version, list(internal), gauss],
        "numpy": [name, np.asarray(keys).tolist(), int(pos), int(has_gauss), float(cached)],
    }


def _set_global_rng(saved: dict[str, Any] | None) -> None:
    if not saved:
        return  # a checkpoint from before these states were saved
    version, internal, gauss = saved["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


def _saved_best(rec: RunRecord, state: LoopState) -> tuple[dict[str, np.ndarray], int] | None:
    """The best model written before an interruption, if it is the one the curves name.

    Without it, a resumed run that does not improve again would end with no (or a
    wrong) ``best`` checkpoint.
    """
    best_epoch = state.history.best_epoch
    try:
        ckpt = load_checkpoint(rec.checkpoint_dir / "best.safetensors")
        saved_epoch = ckpt.meta["loop"]["history"]["best_epoch"]
    except (CheckpointError, KeyError, TypeError):
        return None
    return (ckpt.model, best_epoch) if best_epoch and saved_epoch == best_epoch else None


def _curves(state: LoopState, task: str) -> dict[str, Any]:
    """The per-epoch curves of result.json (partial for a run that did not finish)."""
    h = state.history
    metric = curve_metric_name(task)
    return {
        "epochs_run": state.epoch,
        "steps": state.step,
        "stopped_early": state.stopped_early,
        "best_epoch": h.best_epoch,
        "best_val_loss": h.best_val_loss if math.isfinite(h.best_val_loss) else None,
        "train_losses": h.train_losses,
        "val_losses": h.val_losses,
        "val_epochs": h.val_epochs,
        "lrs": h.lrs,
        f"train_{metric}s": h.train_metrics,
        f"val_{metric}s": h.val_metrics,
    }


def _abort(ctx: _RunContext, header: dict[str, Any], state: LoopState, err: BaseException) -> None:
    """Record a run that an exception ended: ``interrupted`` for Ctrl-C, else ``failed``.

    No checkpoint is written: the exception may have landed inside a step, with the
    model half updated. The last saved checkpoint stays the place to resume from.
    """
    rec = ctx.record
    if ctx.tb is not None:
        with contextlib.suppress(Exception):
            ctx.tb.close()
    if rec is None:
        return
    if isinstance(err, KeyboardInterrupt):
        status = "interrupted"
        error = (
            f"interrupted; resume from the last checkpoint with `mlplab train --resume {rec.dir}`"
        )
    else:
        status, error = "failed", f"{type(err).__name__}: {err}"
    with contextlib.suppress(Exception):  # never hide the original exception
        rec.write_result(
            {
                **header,
                **_curves(state, ctx.data.task),
                "status": status,
                "error": error,
                "wall_time_s": ctx.elapsed(),
            }
        )
        rec.write_metrics(metrics_rows(state, ctx.data.task))


def _finish(
    ctx: _RunContext, state: LoopState, header: dict[str, Any], status: str, message: str
) -> dict[str, Any]:
    data, backend, cfg = ctx.data, ctx.backend, ctx.cfg
    result: dict[str, Any] = {**header, "status": status, **_curves(state, data.task)}
    if message:
        result["message"] = message
    if status != "diverged":
        for split in ("train", "val", "test"):
            loss, outputs = backend.evaluate(split, cfg.test_batch_size)
            y = getattr(data, f"y_{split}")
            result[f"{split}_loss"] = loss
            for k, v in split_metrics(data.task, y, outputs).items():
                result[f"{split}_{k}"] = v
    result["wall_time_s"] = ctx.elapsed()
    rec = ctx.record
    draw = rec is not None and status == "finished" and cfg.plots != "none"
    if rec is not None and draw:
        # Sent before the record is written, so that the plot workers draw meanwhile.
        ctx.plotter.submit(
            rec.plots_dir, result, data, backend, ctx.spec, cfg.plots, snapshots=ctx.snapshots
        )
    if rec is not None:
        if status != "diverged":
            ctx.save("last", state, metrics=False)
        ctx.save("best", state, metrics=False)
        rec.write_metrics(metrics_rows(state, data.task))
        if ctx.tb is not None:
            finals = {
                f"hparam/{k}": v
                for k, v in result.items()
                if isinstance(v, float) and k.split("_")[0] in ("train", "val", "test")
            }
            ctx.tb.hparams(
                {k: v for k, v in cfg.to_dict().items() if not isinstance(v, list)}, finals
            )
            ctx.tb.close()
        if draw:
            _draw_plots(ctx, state, result)
        if ctx.snapshots is not None and cfg.plots != "none":
            _save_snapshots(ctx)
            if not ctx.plotter.snapshots_sent:
                _write_snapshots(ctx, result)  # unless the plot workers drew them
        rec.write_result(result)
    return result


def _draw_plots(ctx: _RunContext, state: LoopState, result: dict[str, Any]) -> None:
    """Plots never cost a run its results: any failure is a warning.

    The plot workers' files, when they draw (see :mod:`mlplab.plots.worker`); otherwise
    drawn here.
    """
    import warnings

    from mlplab.plots.worker import describe

    if not ctx.plotter.running:
        try:
            import mlplab.plots.run_plots  # noqa: F401  (no matplotlib: no plots)
        except ImportError:
            return
    assert ctx.record is not None  # plots are drawn only for recorded runs
    try:
        # `plots` is the setting (png/svg/none); the files drawn go under their own key.
        result["plot_files"] = ctx.plotter.collect(
            ctx.record.plots_dir, result, ctx.data, ctx.backend, ctx.spec, ctx.cfg.plots
        )
        if ctx.plotter.snapshot_files:
            result["snapshots"] = ctx.plotter.snapshot_files
    except Exception as err:
        warnings.warn(
            f"mlplab: plotting failed ({describe(err)}); results are kept",
            RuntimeWarning,
            stacklevel=2,
        )


def _save_snapshots(ctx: _RunContext) -> None:
    """Keep the frames in the run's folder, for ``mlplab plot RUN_DIR`` to redraw."""
    from mlplab.plots.recorder import SNAPSHOT_FILE

    if ctx.snapshots.frames and ctx.record is not None:
        ctx.snapshots.save(ctx.record.dir / SNAPSHOT_FILE)


def _write_snapshots(ctx: _RunContext, result: dict[str, Any]) -> None:
    import warnings

    try:
        result["snapshots"] = ctx.snapshots.write(ctx.record.plots_dir, fmt=ctx.cfg.plots)  # type: ignore[union-attr]
    except Exception as err:
        warnings.warn(
            f"mlplab: snapshot animation failed ({type(err).__name__}: {err}); results are kept",
            RuntimeWarning,
            stacklevel=2,
        )


def _print_summary(ctx: _RunContext, result: dict[str, Any]) -> None:
    data = ctx.data
    if result["status"] == "diverged":
        return
    rows = []
    for split in ("train", "val", "test"):
        rows.append(
            (
                split,
                {
                    k.removeprefix(f"{split}_"): v
                    for k, v in result.items()
                    if k.startswith(f"{split}_") and isinstance(v, float)
                },
            )
        )
    if data.shared_splits:
        rows = [("train=val=test", rows[0][1])]
    ctx.console.line(
        results_table(
            rows,
            f"{ctx.cfg.label()} on {data.name}: {result['status']} "
            f"in {result['wall_time_s']:.2f} s",
        )
    )
    if data.n_rows <= 16:
        _, outputs = ctx.backend.evaluate("train")
        ctx.console.line(hypothesis_block(data.task, outputs, data.y_train))


def _resume_inputs(run_dir: Path) -> tuple[Config, Checkpoint | None]:
    from mlplab.runs.record import read_result

    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"--resume {str(run_dir)!r}: not a run directory (no config.yaml)")
    cfg = make_config(read_yaml(run_dir / "config.yaml"), str(run_dir / "config.yaml"))
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
    return cfg, load_checkpoint(last)


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


def load_run(run_dir: str | Path, which: str = "last", engine: str | None = None) -> LoadedRun:
    """Rebuild a run's model from its config.yaml and checkpoint, with no retraining.

    ``which`` is ``last`` or ``best``. ``engine`` evaluates the weights on another engine
    than the one that trained them (weights convert by name).
    """
    from mlplab.runs.record import read_result

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{str(run_dir)!r} is not a run directory (no config.yaml)")
    cfg = make_config(read_yaml(run_dir / "config.yaml"), str(run_dir / "config.yaml"))
    if engine is not None:
        cfg = make_config({**cfg.to_dict(), "engine": engine})
    path = run_dir / "checkpoints" / f"{which}.safetensors"
    ckpt = load_checkpoint(path)
    data = load_data(cfg)
    try:
        spec = ModelSpec.from_dict(ckpt.meta["spec"])
        if engine is None:
            cfg = make_config({**cfg.to_dict(), "engine": ckpt.meta.get("engine", cfg.engine)})
        _, backend = build_backend(cfg, data, spec, init=ckpt.model)
    except MlplabError:
        raise
    except Exception as err:  # a well-formed file that is not this run's checkpoint
        raise _misfit(path, err) from None
    return LoadedRun(cfg, data, spec, backend, read_result(run_dir) or {}, run_dir, ckpt.meta)
