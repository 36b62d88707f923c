"""From a validated Config to the parts a run is built of.

The model's :class:`ModelSpec`, the loop's schedules, the optimizer's settings, the data
(cast to the engine's dtype), each model's initial weights and random streams, the engine
that holds a stack of them, and the facts that open its record and its checkpoints. Every
caller that turns configs into a trained model goes through these: ``mlplab train``,
sweeps, the estimators, ``mlplab backprop`` and a rebuilt run.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import dataclasses
import functools
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import __version__
from mlplab.config import Config, load_config, make_config, recorded_settings
from mlplab.data.cost import check_cost, human_bytes, memory_budget
from mlplab.data.dataset import (
    Dataset,
    balance_classes,
    is_in_memory,
    label_kind_of,
    load_dataset,
    missing_class_notes,
    standardize_target,
)
from mlplab.data.registry import BUILTIN
from mlplab.engines.backend import Backend, ModelInit, OptimSpec
from mlplab.engines.choose import make_backend, numpy_blas_threads
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.errors import ConfigError, DataError, OutOfMemory
from mlplab.runs.record import record_settings, run_name
from mlplab.training.loop import LrSchedule, Schedule, batch_bounds


def as_config(
    config: Config | dict[str, Any] | argparse.Namespace | str | Path | None, **overrides: Any
) -> Config:
    """A Config from a Config, a dict of settings (or the lecture's argparse.Namespace), or
    a YAML path, plus overrides."""
    if isinstance(config, Config):
        return load_config(config, overrides)  # a copy: the caller may change theirs
    if config is None:
        return make_config(overrides)
    if isinstance(config, dict):
        return make_config({**config, **overrides})
    if hasattr(config, "shape"):  # train(df): the table meant as data
        return make_config({"data": config})
    refuse_dataset_name(config)
    return load_config(config, overrides)  # a path; anything else is refused there


def refuse_dataset_name(config: object) -> None:
    """``train("xor")``, ``sweep("xor")``: a dataset's name where a config file goes is
    refused in a line that says how to give it, not only that no such file exists."""
    if isinstance(config, str) and config in BUILTIN and not Path(config).exists():
        raise ConfigError(
            f"config file {config!r} does not exist ({config!r} is a built-in dataset: "
            f"give it as data={config!r})"
        )


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
        min_delta=cfg.min_delta,
        snapshot_every=cfg.snapshot_every,
    )


def steps_per_epoch(cfg: Config, data: Dataset) -> int:
    """Optimizer steps in one epoch: 1 for full batch, else the number of minibatches."""
    return len(batch_bounds(len(data.y_train), cfg.batch_size))


# Frames --snapshot_every may keep in one run (80 x 80 float32 each, 25 KB; 75 KB of a
# multiclass set): about 100 MB of memory and disk for a binary set. Its pictures show at
# most 60 (plots.recorder.MAX_FRAMES); `--snapshot_every 1` over a million steps kept
# every one, 12 MB a second.
MAX_SNAPSHOT_FRAMES = 4096


def check_snapshot_frames(cfg: Config, n_train: int, n_inputs: int) -> None:
    """Refuse, in one line, a ``snapshot_every`` that would keep more frames than
    :data:`MAX_SNAPSHOT_FRAMES` over the run's steps (``epoch`` at most)."""
    if not cfg.snapshot_every or cfg.plots == "none" or n_inputs != 2:
        return  # no frames kept
    steps = cfg.epoch * len(batch_bounds(n_train, cfg.batch_size))
    frames = steps // cfg.snapshot_every + 1
    if frames > MAX_SNAPSHOT_FRAMES:
        least = math.ceil(steps / (MAX_SNAPSHOT_FRAMES - 1))
        raise ConfigError(
            f"setting 'snapshot_every': {cfg.snapshot_every} would keep {frames:,} frames of "
            f"this run's {steps:,} steps, more than the {MAX_SNAPSHOT_FRAMES:,} a run keeps "
            f"(its animation shows 60 of them): give --snapshot_every {least} or more"
        )


def check_fits(cfg: Config, data: Dataset) -> None:
    """Refuse, in one line, a config that its loaded data makes impossible: a model and
    batches past the memory bounds (:func:`check_cost`), or batch norm over a training
    split of one row, which has no spread to divide by.

    Minibatches of one row never reach the engine: ``batch_size: 1`` is refused with the
    config, and :func:`batch_bounds` joins a one-row last batch to the one before it.
    """
    check_cost(cfg, data.n_features, len(data.y_train), data.n_outputs)
    if cfg.use_bn and cfg.hidden_layers > 0 and len(data.y_train) == 1:
        raise DataError(
            f"setting 'use_bn': batch norm needs 2 or more training rows, and the training "
            f"split of data {data.name!r} has 1 row; give it more rows (setting 'split') "
            "or use_bn false"
        )


def lr_schedule_of(cfg: Config) -> LrSchedule:
    return LrSchedule(cfg.lr, cfg.lr_schedule, cfg.lr_gamma, cfg.lr_step)


def optim_of(cfg: Config) -> OptimSpec:
    return OptimSpec(cfg.optim, cfg.lr, cfg.mm, cfg.l2_coef, cfg.l1_coef)


# The settings load_data reads: a sweep loads each combination of them once, and train()
# refuses them beside a Dataset (read, split and scaled already).
LOADING_SETTINGS = (
    *("data", "target", "ignore", "task", "split", "split_by", "stratify", "standardize"),
    *("n_samples", "noise", "data_seed", "features"),
)


# The last dataset load_data read, while reuse_loaded_data is on: a sweep's check of its
# data and each of its stacks (in its process or in one worker) read a file once, not once
# a stack (3 seconds a stack for 100,000 rows of 20 columns, as long as a short stack took).
# A context variable: threads that train at once (a service's) each keep their own.
_reused: contextvars.ContextVar[list[tuple[tuple[Any, ...], Dataset]] | None] = (
    contextvars.ContextVar("mlplab_reused_data", default=None)
)


@contextlib.contextmanager
def reuse_loaded_data() -> Iterator[None]:
    """Within it, load_data keeps the last dataset it read, and gives a copy of it to a
    config that loads the same data from the same file (same size and modification time):
    a sweep and its workers. Outside, each call reads afresh, as a user who changed a file
    between two runs expects. Within another, the outer one's is used."""
    if _reused.get() is not None:
        yield
        return
    token = _reused.set([])
    try:
        yield
    finally:
        _reused.reset(token)


def _reuse_key(cfg: Config) -> tuple[Any, ...] | None:
    """What makes two configs' loads the same, a data file's identity included; None where
    a load is not kept (a table in memory, a folder)."""
    if not isinstance(cfg.data, str):
        return None
    path = Path(cfg.data)
    try:  # a folder it may not search raises (reading it then says so, in one line)
        if cfg.data in BUILTIN and not path.exists():
            where: tuple[Any, ...] = (cfg.data,)
        elif path.is_file():  # by itself, not by its name: a record's path and the user's
            st = path.stat()
            where = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
        else:
            return None
    except OSError:
        return None
    settings = tuple(repr(getattr(cfg, k)) for k in LOADING_SETTINGS if k != "data")
    return (*settings, cfg.data_seed_beside_split_by(), *where)


def load_data(cfg: Config) -> Dataset:
    kept = _reused.get()
    key = _reuse_key(cfg) if kept is not None else None
    if kept and key is not None and kept[0][0] == key:
        return treated(cfg, _shallow_copy(kept[0][1]))
    data = _read_data(cfg)
    if kept is not None and key is not None:
        kept[:] = [(key, data)]
        data = _shallow_copy(data)
    return treated(cfg, data)


def _shallow_copy(data: Dataset) -> Dataset:
    """A copy whose fields a caller may set (a resumed run's scaler, an estimator's record
    facts) without changing the kept one: the arrays are shared, as nothing writes into
    them."""
    return dataclasses.replace(data, notes=list(data.notes), record_facts=dict(data.record_facts))


def _read_data(cfg: Config) -> Dataset:
    # cfg is checked already: a recorded run's data_seed beside split_by loads as it did.
    try:
        with recorded_settings(cfg.data_seed_beside_split_by()):
            return _load(cfg)
    except (ConfigError, DataError) as err:
        cfg.name_file_in(err)  # `data: moonz` in lab.yaml: the line names lab.yaml
        raise
    except MemoryError as err:
        # The rows themselves: the check before them counts the arrays a run cannot do
        # without, a lower bound; making moons' rows takes nearly twice that.
        if isinstance(err, OutOfMemory):
            raise
        budget = human_bytes(memory_budget())
        if isinstance(cfg.data, str) and cfg.data in BUILTIN and cfg.n_samples is not None:
            what = f"setting 'n_samples': making {cfg.n_samples:,} rows of {cfg.data}"
        elif isinstance(cfg.data, str):
            what = f"data {cfg.data!r}: reading and splitting its rows"
        else:
            what = "the data given: splitting its rows"
        refused = OutOfMemory(
            f"{what} ran out of memory (this process may have {budget}); give fewer rows"
        )
        refused.exit_code = 2  # the setting's or file's rows, as the check before them says
        raise refused from None


def _load(cfg: Config) -> Dataset:
    return load_dataset(
        cfg.data,
        target=cfg.target,
        ignore=cfg.ignore,
        task=cfg.task,
        split=cfg.split,
        split_by=cfg.split_by,
        stratify=cfg.stratify,
        standardize=cfg.standardizes(),
        n_samples=cfg.n_samples,
        noise=cfg.noise,
        seed=cfg.data_seed,
        features=cfg.features,
    )


def treated(cfg: Config, data: Dataset) -> Dataset:
    """``data`` with what ``cfg`` does to any dataset, a file's or one given to ``train``:
    the target scaled (``standardize_target``) and the classes weighed (``class_weight``).

    A copy where anything changes: a caller's own Dataset stays as it was. One whose target
    already trains scaled keeps its scaling; one with row weights of its own is refused
    ``class_weight`` (neither would be replaced unsaid).
    """
    scale = cfg.standardize_target and data.target_scaler is None
    weigh = cfg.class_weight == "balanced"
    if weigh and data.weights is not None:
        raise ConfigError(
            "train: class_weight 'balanced' on a dataset with weights of its own; "
            "give one or the other (multiply them into Dataset.weights)"
        )
    if not (scale or weigh):
        return data
    data = dataclasses.replace(data, notes=list(data.notes))
    if scale:
        standardize_target(data)
    if weigh:
        balance_classes(data)
    return data


def check_castable(data: Dataset, dtype: str) -> None:
    """Refuse, in one line, data that overflows ``dtype`` (see :func:`_check_range`), before
    any folder or lock of a run is made: the cast itself comes after them."""
    seen: set[int] = set()
    for name, (x, y) in data.splits().items():
        if id(x) not in seen:
            seen.add(id(x))
            _check_range(x, data.scaled_target(y), dtype, data, name)


def cast_splits(data: Dataset, dtype: str) -> dict[str, tuple[np.ndarray, ...]]:
    """The splits in the engine's dtype (class indices int64); equal splits stay one object.

    A split is ``(X, y)``, or ``(X, y, w)`` when the dataset has row weights.
    """
    splits: dict[str, tuple[np.ndarray, ...]] = {}
    seen: dict[int, tuple[np.ndarray, ...]] = {}
    for name, (x, y) in data.splits().items():
        if id(x) not in seen:
            y = data.scaled_target(y)
            _check_range(x, y, dtype, data, name)
            seen[id(x)] = (
                np.ascontiguousarray(x, dtype=dtype),
                np.ascontiguousarray(y, dtype=dtype if y.dtype.kind == "f" else np.int64),
            )
            if data.weights is not None:
                seen[id(x)] += (data.weights[name],)
        splits[name] = seen[id(x)]
    return splits


def _in(dtype: str, value: float) -> float:
    """``value`` as ``dtype`` rounds it: inf past its largest (rounding is monotonic, so the
    extremes of an array say what its cast would hold, without the cast's copy)."""
    with np.errstate(over="ignore"):  # overflow is reported by the caller, as one line
        return float(np.asarray(value, dtype=dtype))


def _check_range(x: np.ndarray, y: np.ndarray, dtype: str, data: Dataset, split: str) -> None:
    """Refuse a split whose features or target ``dtype`` cannot hold, in one line."""
    name = data.name
    # Finite float64 values (e.g. 1e300) can overflow to inf in float32. An estimator's
    # data (arrays in memory) has no --standardize or --dtype: its hint names its own.
    memory = is_in_memory(name)
    fixes = {
        "feature": "rescale them (e.g. StandardScaler in a Pipeline), or use dtype='float64'"
        if memory
        else "fix or drop such rows, rescale them (--standardize true), or use --dtype float64",
        "target": "rescale y (e.g. TransformedTargetRegressor with a StandardScaler), or use "
        "dtype='float64'"
        if memory
        else "fix or drop such rows, rescale them (--standardize_target true), or use "
        "--dtype float64",
    }
    for what, a in (("feature", x), ("target", y)):
        if a.dtype.kind != "f" or not a.size or math.isfinite(_in(dtype, max(a.max(), -a.min()))):
            continue  # whole numbers and class indices hold in any float dtype
        # Named by column, split and value: "largest magnitude 3.4e+38" read as the
        # file's value, and one row of 1e300 among ordinary ones is a row to fix.
        with np.errstate(over="ignore"):
            bad = np.argwhere(~np.isfinite(a.astype(dtype)))[0]
        col = int(bad[1]) if a.ndim == 2 else 0
        source = getattr(data, f"{'X' if what == 'feature' else 'y'}_{split}")
        value = float(np.reshape(source, (len(source), -1))[int(bad[0]), col])
        names = data.feature_names if what == "feature" else (data.target_names or [])
        label = repr(names[col]) if col < len(names) else str(col)
        raise DataError(
            f"data {name!r}: {what} {label} holds {value:.3g} in the {split} rows, past "
            f"the largest {dtype} ({np.finfo(dtype).max:.3g}); {fixes[what]}"
        )
    # A feature whose every value is under the dtype's smallest normal number (1e-50 in
    # float32) becomes a column of zeros and denormals: a run trained on it in silence.
    # (Standardized, such a column is one of a single value, which the scaler leaves as
    # it is: no loss, and no advice to standardize that could help.)
    if x.dtype.kind == "f" and x.ndim == 2 and x.size and data.scaler is None:
        top = np.abs(x).max(axis=0)
        lost = np.flatnonzero((top > 0) & (top < np.finfo(dtype).tiny))
        if lost.size:
            col = int(lost[0])
            label = repr(data.feature_names[col]) if col < len(data.feature_names) else str(col)
            raise DataError(
                f"data {name!r}: feature {label} holds values no larger than {top[col]:.3g} "
                f"in the {split} rows, under the smallest {dtype} "
                f"({np.finfo(dtype).tiny:.3g}), where they become 0 or lose their digits; "
                + (
                    "rescale them (e.g. StandardScaler in a Pipeline), or use dtype='float64'"
                    if memory
                    else "rescale them (--standardize true), or use --dtype float64"
                )
            )
    # A target past the square root of the largest float makes the squared error inf
    # before the first step, which was reported as a divergence with advice to lower lr.
    root = math.sqrt(float(np.finfo(dtype).max))
    if y.dtype.kind == "f" and y.size and (big := _in(dtype, max(y.max(), -y.min()))) >= root:
        raise DataError(
            f"data {name!r}: target values overflow {dtype} when squared in the loss "
            f"(largest magnitude {big:.3g}, past {root:.3g}); {fixes['target']}"
        )


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


def shared_rows(data: Dataset) -> str | None:
    """``train = val = test``, ``train = val`` or ``val = test`` where splits are the same
    rows, else None."""
    if data.shared_splits:
        return "train = val = test"
    train_val, val_test = data.X_val is data.X_train, data.X_test is data.X_val
    if train_val:
        return "train = val = test" if val_test else "train = val"
    return "val = test" if val_test else None


def header_of(cfg: Config, spec: ModelSpec, data: Dataset, engine: str) -> dict[str, Any]:
    """The facts that open a run's result.json: its settings, identity and model, and
    what the data says of itself over the settings (``Dataset.record_facts``)."""
    return {
        **record_settings(cfg),
        "run_id": run_name(cfg),
        # The whole sha1 that run_id's 6 digits come from: two configs may share those.
        "run_digest": cfg.run_digest(),
        "engine_used": engine,
        "task_type": data.task,
        # What chance is (1 / classes), for a report that names the runs that learnt nothing.
        "n_classes": None if data.task == "regression" else len(data.class_names or []),
        # What the data became, which the settings leave open (standardize: auto, split:
        # the dataset's own): a reader of the record sees the rows and scaling used.
        "n_features": data.n_features,
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
        "n_test": len(data.y_test),
        # Splits that are the same rows (a logic gate's 4, an estimator's fit without
        # validation_fraction): their val and test metrics are of rows it trained on.
        "shared_rows": shared_rows(data),
        "standardized": data.scaler is not None,
        # A data file's rows as read and split: a report tells runs of one config trained
        # on two versions of the file apart (None for built-in sets).
        "data_digest": data.digest,
        "n_params": spec.n_params(),
        "mlplab_version": __version__,
        # What else the numbers depend on, for a reader who compares two machines' runs:
        # the libraries, the device and (torch) the math threads, which change the last
        # digits of a large model's float32 sums.
        "environment": environment(cfg, engine, spec, len(data.y_train)),
        # What the data's notes said when it was read (rows of val or test that repeat
        # training rows, a feature that counts the rows): printed once, and kept here for
        # a reviewer of the record, the report and a kept run's notes.
        "notes": [*data.notes, *missing_class_notes(data, cfg.split_by, cfg.stratify)],
        # Over the settings: an estimator's split is drawn by its seed, not data_seed.
        **data.record_facts,
    }


def device_used(cfg: Config, engine: str) -> str:
    """The device the run trains on, ``auto`` resolved: ``cpu``, ``cuda``, ``cuda:1``."""
    if engine != "torch":
        return "cpu"
    from mlplab.engines.torch.backend import resolve_device

    return str(resolve_device(cfg.device))


@functools.cache
def _versions() -> dict[str, Any]:
    """Python's, NumPy's and torch's versions, and the machine: read once a process
    (torch's from its package's metadata, a millisecond a read, for each model of each
    stack)."""
    import os
    import platform
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": version("torch"),
        "platform": platform.platform(),
        "cpu": _cpu_name() or platform.machine(),
        # Those this process may use (taskset, a container's cpuset), as a sweep counts them.
        "cpus": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
    }


def _cpu_name() -> str:
    """The processor's model (``Intel(R) Xeon(R) ...``, ``AMD EPYC ...``) where Linux says
    it: machines of one kind differ, and so may the last digits of their sums."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def environment(cfg: Config, engine: str, spec: ModelSpec, n_train: int) -> dict[str, Any]:
    """The versions, machine, device and threads a run trained with (its record's
    ``environment``: a resumed run's, those of the process that resumed it)."""
    env: dict[str, Any] = {**_versions(), "device": device_used(cfg, engine)}
    if engine == "torch":
        import torch

        env["torch_threads"] = torch.get_num_threads()
    else:
        env["blas_threads"] = numpy_blas_threads(spec, n_train, cfg.batch_size)
    return env


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
        "data_digest": data.digest,
        # Where the class names do not say it (text labels '1', '2' of a Parquet file;
        # True/False): what predict_labels gives back. Else left out, as for the target's
        # scaling below, so that earlier checkpoints, and every other run's, keep their bytes.
        **(
            {}
            if data.label_kind in (None, label_kind_of(data.class_names or []))
            else {"label_kind": data.label_kind}
        ),
        # The Playground's inputs and the two columns they are made from, where the model
        # takes them (setting features), so that its predict takes those two again; else
        # left out, so that earlier checkpoints, and every other run's, keep their bytes.
        **(
            {}
            if data.features is None
            else {"features": list(data.features), "raw_feature_names": data.input_names}
        ),
        # Only where the target trains scaled: earlier checkpoints, and every other run's,
        # keep their bytes.
        **(
            {}
            if data.target_scaler is None
            else {"target_scaler": [a.tolist() for a in data.target_scaler]}
        ),
    }
