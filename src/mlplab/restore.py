"""A run rebuilt from its folder: to continue it from its checkpoint, or to use its model.

:func:`resume_inputs` and :func:`restore_model` check that a checkpoint belongs to the
run's config.yaml (a crafted or swapped file is one line, never a traceback) and give back
everything the run needs to continue exactly: weights, optimizer state, RNG streams and
the loop's position. :func:`load_run` rebuilds a finished run's model for predictions and
plots, with no retraining.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import shlex
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # a report's row; pandas loads only where one is given
    import pandas as pd

from mlplab.assemble import cast_splits, load_data, model_init
from mlplab.config import (
    Config,
    check_known_settings,
    identity_diff,
    make_config,
    read_yaml,
    widened_run_id,
)
from mlplab.console import say_reading
from mlplab.data.dataset import ARRAY_LABEL, Dataset
from mlplab.data.registry import BUILTIN
from mlplab.engines.backend import Backend, ModelInit, ModelState
from mlplab.engines.choose import make_backend, resolve_engine
from mlplab.engines.spec import ModelSpec
from mlplab.errors import (
    RUN_FOLDER,
    CheckpointError,
    ConfigError,
    DataChangedWarning,
    DataError,
    MlplabError,
    NewerRecord,
    check_path_argument,
    public,
    short_repr,
)
from mlplab.runs.checkpoint import (
    Checkpoint,
    check_run_meta,
    load_checkpoint,
    saved_estimator_class,
)
from mlplab.runs.curves import CURVES_FILE, read_curves, saved_curves
from mlplab.runs.record import log_path_of, read_result, run_dir_of, run_folder_hint, run_name
from mlplab.runs.writer import curve_fields
from mlplab.trained import TrainedModel
from mlplab.training.loop import LoopState, StackState
from mlplab.training.metrics import TARGET_METRICS, final_metrics


def record_config(run_dir: Path, rows: bool = True) -> Config:
    """A run's config from its config.yaml; its ``log_path`` is where the record lies.

    ``rows=False``: the caller reads no data (``load_run(data=False)``), so a run trained
    on arrays in memory, which its record does not keep, is no obstacle.
    """
    settings = read_yaml(run_dir / "config.yaml")
    if isinstance(settings, dict):
        settings = {**settings, "log_path": str(log_path_of(run_dir))}
        if rows and ARRAY_LABEL.fullmatch(str(settings.get("data"))):
            raise CheckpointError(
                f"{str(run_dir)!r} was trained on arrays in memory ({settings['data']}: an "
                "mlplab.sklearn estimator's, or train(dataset=...)), which its record does "
                "not keep, so it cannot be plotted, resumed or loaded with its rows; "
                "load_run(..., data=False) and `mlplab predict` rebuild its model without "
                "them, and `mlplab report` reads it"
            )
    if isinstance(settings, dict):
        check_known_settings(settings, str(run_dir / "config.yaml"))
    return make_config(settings, str(run_dir / "config.yaml"), recorded=True)


# Why an unfinished run of the same config cannot continue: the file's rows are others.
ROWS_DIFFER = "has changed since it trained (its rows differ)"


def claim_run_id(
    cfg: Config, taken: dict[str, str] | None = None, records: dict[Path, Any] | None = None
) -> Config:
    """``cfg`` with a run id whose folder holds no other config's run: the first that is
    free or holds its own, of 6 hex digits, then 8, ... (``id_digits``). A twin's finished
    run was refused with advice (another --exp_name) that split one experiment in two.

    ``taken``: run ids claimed already (a sweep's earlier configs), run id -> digest;
    ``records``: each folder's result.json as read here (None: none), for the caller.
    """
    exp = Path(cfg.log_path) / cfg.exp_name

    def holder(run_hash: str) -> str | None:
        rid = f"{cfg.exp_name}-{run_hash}"
        if taken is not None and rid in taken:
            return taken[rid]
        folder = exp / rid
        try:
            if not folder.is_dir():
                return None
        except OSError:  # a folder it may not search: the checks that follow name it
            return None
        record = read_result(folder)
        if records is not None:
            records[folder] = record
        digest = (record or {}).get("run_digest")
        if isinstance(digest, str):
            return digest
        try:  # no record of its end yet (interrupted): its config.yaml says whose it is
            return record_config(folder, rows=False).run_digest()
        except NewerRecord:
            raise  # a newer mlplab's run: neither read nor trained over
        except MlplabError:
            return None

    placed = widened_run_id(cfg, holder)
    if taken is not None:
        taken[run_name(placed)] = placed.run_digest()
    return placed


def check_same_config(run_dir: Path, cfg: Config) -> None:
    """Refuse ``cfg`` a folder whose run is another config's: run ids are 6 hex digits of
    a hash, which two configs may share (the second was told the first's run was its own).
    A folder without a readable config.yaml says nothing, and is not refused here."""
    try:
        saved = record_config(run_dir)
    except NewerRecord:
        raise  # a newer mlplab's run: neither read nor trained over
    except MlplabError:
        return
    if saved.run_digest() != cfg.run_digest():
        diff = ", ".join(identity_diff(cfg.to_dict(), saved.to_dict()))
        if run_name(saved) != run_dir.name:
            # Not two configs sharing an id: the folder's config.yaml names another run.
            raise ConfigError(
                f"{str(run_dir / 'config.yaml')!r} is not its run's config: it says {diff}, "
                f"the settings of run {run_name(saved)!r} (edited or copied in); put back "
                "the run's own, or move the folder away to train this config afresh"
            )
        raise ConfigError(
            f"{str(run_dir)!r} holds the run of another config ({diff}) whose run id is this "
            "one's too (6 hex digits of a hash); give this config another --exp_name"
        )


def _finished(run_dir: Path) -> bool:
    """Whether ``run_dir``'s record says it finished (a damaged or missing one: no)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # AttributeError: no dict
        return json.loads((run_dir / "result.json").read_text()).get("status") == "finished"
    return False


def check_run_dir(run_dir: Path, flag: str = "") -> None:
    """A run folder holds its config.yaml; say in one line why ``run_dir`` is not one."""
    config = run_dir / "config.yaml"
    try:
        regular = stat.S_ISREG(os.stat(config).st_mode)  # not open() first: a FIFO blocks
        if regular:
            with open(config, "rb"):  # one its user may not read (mode 000) is said here
                pass
    except (FileNotFoundError, NotADirectoryError):
        regular = False  # said below
    except OSError as err:  # a folder or file its user may not read (mode 000)
        raise CheckpointError(
            f"{flag}{str(run_dir)!r} cannot be read ({err.strerror or type(err).__name__})"
        ) from None
    if not regular:
        why = (
            (
                "its config.yaml is not a file"
                if config.exists() or config.is_symlink()  # a link to nothing too
                else "no config.yaml"
            )
            if run_dir.is_dir()
            else "it is a file"
            if run_dir.exists()
            else "it does not exist"
        )
        instead = run_folder_hint(run_dir)
        kept = [
            w for w in ("last", "best") if (run_dir / "checkpoints" / f"{w}.safetensors").is_file()
        ]
        if why == "no config.yaml" and kept and not _finished(run_dir):
            # Read as "the run is lost", where its checkpoint holds its config and identity.
            instead = (
                f"its checkpoints/{kept[0]}.safetensors is there: the command that trained it "
                "continues it, and writes its config.yaml again"
            )
        raise CheckpointError(
            f"{flag}{str(run_dir)!r} is not a run directory ({why})"
            + (f"; {instead}" if instead else "")
        )


def resume_inputs(run_dir: Path) -> tuple[Config, Checkpoint | None]:
    """What ``mlplab train --resume RUN_DIR`` continues: the run's config and last checkpoint.

    The checkpoint is None for a run killed before its first save (it trains again from
    step 0, to the same result). A finished or diverged run, or a checkpoint that is not
    this run's, is refused in one line.
    """
    check_run_dir(run_dir, "--resume ")
    cfg = record_config(run_dir)
    # A finished run has nothing left to train, and a diverged one would diverge again
    # at the same step: both are refused rather than silently rewritten.
    status = (read_result(run_dir) or {}).get("status")
    if status == "finished":
        raise ConfigError(
            f"--resume {str(run_dir)!r}: the run has already finished; nothing to resume "
            "(the command that trained it, with --rerun, trains it again)"
        )
    if status == "diverged":
        raise ConfigError(
            f"--resume {str(run_dir)!r}: the run diverged, and would diverge again at the same "
            "step; start a new run with a lower lr"
        )
    last = run_dir / "checkpoints" / "last.safetensors"
    try:
        if not last.exists():
            return cfg, None  # killed before its first checkpoint: start again, same result
        ckpt = load_checkpoint(last)
    except OSError as err:  # a checkpoints/ folder or file its user may not read
        raise CheckpointError(
            f"--resume {str(run_dir)!r}: {str(last)!r} cannot be read "
            f"({err.strerror or type(err).__name__})"
        ) from None
    check_identity(run_dir, cfg, ckpt, last)
    ref = ckpt.meta.get("curves")
    if isinstance(ref, dict) and saved_curves(run_dir, ref) is None:
        # metrics.csv cannot stand in: past 250 validations it keeps every k-th point.
        raise CheckpointError(
            f"--resume {str(run_dir)!r}: {str(run_dir / CURVES_FILE)!r} no longer holds the "
            f"{ref.get('points')} validations its checkpoint continues (deleted, replaced "
            "or damaged); put that file back to continue the run, or train it afresh with "
            f"`mlplab train {shlex.quote(str(run_dir / 'config.yaml'))} --log_path "
            f"{shlex.quote(str(log_path_of(run_dir)))} --rerun`"
        )
    return cfg, ckpt


def check_identity(run_dir: Path, cfg: Config, ckpt: Checkpoint, path: Path) -> None:
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
    check_same_config_as_checkpoint(cfg, ckpt, path)


def check_same_config_as_checkpoint(cfg: Config, ckpt: Checkpoint, path: Path) -> None:
    """Refuse a checkpoint written by another config than ``cfg`` (the folder's
    config.yaml): one copied in from another run. Both configs' digests are taken by this
    mlplab, so a run recorded before a change to how ids are taken still loads."""
    saved = ckpt.meta.get("config")
    if saved is None:  # a checkpoint of a format that kept no config: nothing to compare
        return
    if isinstance(saved, dict):
        check_known_settings(saved, f"checkpoint {str(path)!r}")
    try:
        same = make_config(saved, recorded=True).run_digest() == cfg.run_digest()
    except MlplabError:
        same = False
    if not same:
        raise CheckpointError(
            f"checkpoint {str(path)!r} belongs to run {ckpt.meta.get('run_id')!r}, not "
            f"{run_name(cfg)!r}: it was written by another config than this run's config.yaml"
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
            max(0.0, float(meta.get("elapsed_s", 0.0))),
            meta.get("global_rng"),
        )
    except MlplabError:
        raise
    except Exception as err:
        raise misfit(path, err) from None


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
        raise misfit(path, err) from None
    return backend, state


def misfit(path: Path, err: Exception) -> CheckpointError:
    if isinstance(err, ImportError) and getattr(err, "name", "") == "torch":
        # The engine that is missing, not a checkpoint of another run (a predict-only
        # machine without torch, for a run trained on the torch engine).
        return CheckpointError(
            f"checkpoint {str(path)!r} is of a torch-engine run, and torch cannot be "
            "imported here; the numpy engine loads the same model: load_run(run_dir, "
            "engine='numpy')"
        )
    reason = str(err).splitlines()[0][:200] if str(err).strip() else ""
    return CheckpointError(
        f"checkpoint {str(path)!r} does not fit this run's config.yaml "
        f"({type(err).__name__}{': ' + reason if reason else ''})"
    )


def set_global_rng(saved: dict[str, Any] | None) -> None:
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


def saved_best_epoch(run_dir: Path, state: LoopState) -> int:
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


UNFINISHED = ("interrupted", "running", "failed")  # statuses a checkpoint continues


def resumable(
    cfg: Config, spec: ModelSpec, why: list[str] | None = None, data_digest: str | None = None
) -> Restored | None:
    """The checkpoint an unfinished run continues from, or None to train it from the start
    (with the reason appended to ``why`` when there is a checkpoint that cannot be used).
    ``data_digest``: the rows the run trains on now, which must be those of its checkpoint
    (a data file changed since would mix two sets of rows in one run).

    Unfinished: interrupted, still ``running`` on disk (killed outright), or failed. A run
    that failed (a full disk, an exception in a subscriber) kept its last checkpoint as it
    was written, before the failure: the hours before it are not trained again. So does a
    run whose result.json is gone or unreadable (`make` deletes its target on Ctrl-C): its
    checkpoint, checked to be this config's, says how far it got.
    """
    run_dir = run_dir_of(cfg)
    status = (read_result(run_dir) or {}).get("status")
    last = run_dir / "checkpoints" / "last.safetensors"
    if (status is not None and status not in UNFINISHED) or not last.is_file():
        return None
    try:
        ckpt = load_checkpoint(last)
        check_identity(run_dir, cfg, ckpt, last)
        saved = ckpt.meta.get("data_digest")
        if saved and data_digest and saved != data_digest:
            if why is not None:
                why.append(f"data file {cfg.data!r} {ROWS_DIFFER}")
            return None
        return restore_model(cfg, spec, ckpt, last)
    except NewerRecord:
        raise  # a newer mlplab's progress is not this one's to replace
    except MlplabError as err:
        if why is not None:
            why.append(str(err))
        return None  # not this run's, or damaged: it trains again from the start


# TrainedModel.__repr__: a line, not every array of the dataset. No __eq__: the generated
# one compared the arrays, and `a == b` raised ValueError; two results are equal if one.
@dataclass(repr=False, eq=False)
class LoadedRun(TrainedModel):
    """A run rebuilt from its directory (finished, or interrupted or diverged, as its
    result.json says): config, data, model and result.json. What :func:`load_run` returns.

    Attributes
    ----------
    config : Config
        The settings the run was trained with, as its config.yaml holds them (``auto``
        included): ``run.config.run_id() == run.record["run_id"]``, and
        ``mlplab.train(run.config)`` gives the finished run back. ``log_path`` is where
        the run folder lies.
    record : dict
        The contents of result.json: settings merged with results (its curves thinned to
        a few hundred points; :attr:`curves` has them all).
    run_dir : Path
        The run's folder, absolute (its methods hold after an ``os.chdir``).
    dataset : Dataset
        The run's data, split and scaled as the run had it (with ``data=False``, its
        description alone: names, task and scaling, no rows).
    backend : Backend
        The loaded model (its ``last`` or ``best`` checkpoint): use it through
        :meth:`predict`, :meth:`predict_labels`, :meth:`predict_proba`,
        :meth:`model_outputs`, :attr:`weights` and :meth:`to_torch`.
    spec : ModelSpec
        The architecture (widths, activation, task).
    engine, device, dtype : str
        What the loaded model evaluates on: what ``auto`` and load_run's own ``engine``
        and ``dtype`` resolved to (``config`` keeps the run's settings as given).
    checkpoint_meta : dict
        The loaded checkpoint's metadata (its step, epoch, data digest, ...).
    data_changed : str or None
        Why the dataset's rows are not those the run trained on (its file has changed
        since); None where they are.
    own_metrics : dict or None
        The loaded model's own numbers where result.json's are another model's (a best
        checkpoint's, taken on the dataset's splits); None where they are the record's.
    curves : dict of str to list
        Every validation's values, unthinned, as :attr:`mlplab.Result.curves` has them
        (from curves.npz, or result.json's where a run has none); read on each access.

    ``status`` and :attr:`metrics` read ``record``: ``"finished"``,
    ``{"test_acc": 0.97, ...}``.
    """

    config: Config
    dataset: Dataset
    spec: ModelSpec
    backend: Backend
    record: dict[str, Any]
    run_dir: Path
    checkpoint_meta: dict[str, Any]
    # Why the dataset's rows are not those the run trained on (its training file has
    # changed since, wherever it was looked for); None where they are.
    data_changed: str | None = None
    # The loaded model's own numbers where result.json's are another model's (its best
    # model's, evaluated on the dataset's splits); None where they are the record's.
    own_metrics: dict[str, float] | None = None
    # What the loaded model evaluates on: the engine (numpy or torch), device and dtype
    # that `auto` and load_run's own engine/dtype arguments resolved to. ``config`` keeps
    # the run's settings as it was trained with them (its config.yaml).
    engine: str = "numpy"
    device: str = "cpu"
    dtype: str = "float32"

    def _steps_trained(self) -> int | None:
        """The steps behind the loaded checkpoint's weights (``best``'s may be fewer)."""
        steps = self.checkpoint_meta.get("loop", {}).get("step")
        return steps if isinstance(steps, int) else None

    @property
    def metrics(self) -> dict[str, float]:
        """Final metrics by split of the model loaded: a best model's are its own, taken
        on the dataset's splits as a run's end takes them (with ``data=False``, only its
        ``val_loss``), not result.json's, which are the last model's."""
        if self.own_metrics is None:
            return super().metrics
        return {k: v for k, v in self.own_metrics.items() if k != TARGET_METRICS}

    @property
    def target_metrics(self) -> dict[str, dict[str, float]]:
        """Each target's own final metrics (see ``TrainedModel.target_metrics``): a best
        model's own, as :attr:`metrics` are."""
        if self.own_metrics is None or TARGET_METRICS not in self.own_metrics:
            return super().target_metrics
        own: Any = self.own_metrics[TARGET_METRICS]
        return {str(k): dict(v) for k, v in own.items()}

    @property
    def curves(self) -> dict[str, list[Any]]:
        """Every validation's values, unthinned, as :attr:`mlplab.Result.curves` has them:
        ``{"val_epochs": [...], "train_losses": [...], "val_losses": [...], ...}``."""
        return {k: v.tolist() for k, v in read_curves(self.run_dir, self.record).items()}

    def plot(self) -> list[Path]:
        """The run's plot files, ``run_dir/plots/*`` (drawn now where the run drew none);
        in a notebook, shown inline too. See :func:`run_plots`."""
        return run_plots(self.run_dir)


def run_plots(run_dir: Path) -> list[Path]:
    """The plot files of the run in ``run_dir`` (``plots/*``), in a notebook shown inline
    too. A run that drew none (``plots: none``) gets them drawn first, as ``mlplab plot
    RUN_DIR`` draws them: a notebook's user was sent to a shell for them."""
    from mlplab.live import in_jupyter
    from mlplab.notebook import images, plot_files
    from mlplab.plots.commands import redraw_run

    folder = run_dir / "plots"
    files = list(plot_files(folder)) if folder.is_dir() else []
    if not files:
        redraw_run(run_dir, load_run)
        files = list(plot_files(folder))
    if in_jupyter():
        from IPython.display import HTML, display

        display(HTML(images(folder)))
    return files


def kept_model(run_dir: Path) -> str:
    """``best`` where the run's record says its trainer kept the best model (an estimator
    fitted with ``patience``, as scikit-learn's early stopping does), else ``last``: the
    model that ``load_run`` and ``mlplab predict`` give by default."""
    return "best" if (read_result(run_dir) or {}).get("kept_model") == "best" else "last"


@public
def load_run(
    run_dir: str | os.PathLike[str] | pd.Series | None,
    which: str | None = None,
    engine: str | None = None,
    data: bool = True,
    dtype: str | None = None,
) -> LoadedRun:
    """Rebuild a run's model from its config.yaml and checkpoint, with no retraining.

    ``run_dir`` is the run's folder, or a report's row that names it (``Report.best_run``).
    None, as ``best_run`` is where no run finished, is refused in one line (typed as taken,
    so that ``load_run(rep.best_run)`` type-checks as the README writes it).

    ``which`` is ``last`` or ``best``; ``last`` falls back to ``best`` for a run that has
    no ``last`` (a diverged run keeps only its best model). By default, the model the run
    kept (:func:`kept_model`): its last, or, for an estimator fitted with ``patience``,
    its best, the model the estimator predicts with. ``engine`` evaluates the
    weights on another engine than the one that trained them (weights convert by name).
    ``data=False`` reads no data: the dataset is the checkpoint's description of it (its
    feature, target and class names, task and standardization) with no rows, which is all
    that predictions for new rows need, so the run folder predicts on its own, anywhere.
    ``dtype="float64"`` evaluates a float32 model's weights (exactly) in float64, where a
    row's outputs do not move with the other rows of the call (float32 BLAS sums in an
    order set by the batch's shape, which moves the last bit).
    """
    if run_dir is None:
        raise ConfigError(
            "load_run: run_dir is None, not a run's folder: a report's best_run is None "
            "where none of its runs finished, and a Result's run_dir where record=False "
            "kept no folder"
        )
    if not isinstance(run_dir, str | os.PathLike):
        # A report's row (Report.best_run, a row of .runs) names its folder.
        folder = getattr(run_dir, "get", lambda _: None)("run_dir")
        if not isinstance(folder, str | os.PathLike):
            raise ConfigError(
                f"load_run: run_dir is a run's folder (a path), not {short_repr(run_dir)}"
            )
        run_dir = folder
    if which not in ("last", "best", None):
        raise ConfigError(f"load_run: which is 'last' or 'best' (its checkpoints), not {which!r}")
    run_dir = check_path_argument("load_run", "run_dir", run_dir, RUN_FOLDER)
    which = which or kept_model(run_dir)
    try:
        check_run_dir(run_dir)
    except CheckpointError as err:
        # A file of MLPClassifier.save was "not a run directory (it is a file)", with no
        # word of what it is, nor of what loads it.
        name = saved_estimator_class(run_dir)
        if name is None:
            raise
        raise CheckpointError(
            f"{err}; it is a saved estimator ({name}.save), not a training run: "
            f"mlplab.{name}.load({str(run_dir)!r}) loads it"
        ) from None
    cfg = record_config(run_dir, rows=data)
    path = run_dir / "checkpoints" / f"{which}.safetensors"
    best = run_dir / "checkpoints" / "best.safetensors"
    if which == "last" and not path.exists() and best.exists():
        if (read_result(run_dir) or {}).get("status") != "diverged":  # which keeps no last
            warnings.warn(
                f"{path} is missing: load_run gives the run's best model ({best.name}), "
                "which predicts otherwise than its last",
                UserWarning,
                stacklevel=3,  # the user's call, past errors.public's frame
            )
        path = best
    ckpt = load_checkpoint(path)
    # A checkpoint copied in from another run would predict (and be kept as this config's
    # finished run) as if it were this one's; --resume refuses it the same way.
    check_same_config_as_checkpoint(cfg, ckpt, path)
    changed = None
    if data:
        dataset, tried = _training_data(run_dir, cfg, ckpt.meta.get("data_digest"))
        _check_same_data(run_dir, cfg, dataset, ckpt.meta, tried)
        if tried:
            # Same columns and classes, other rows: the model still predicts, but the
            # dataset's splits (and any metric taken on them) are not the record's.
            changed = _rows_differ(run_dir, cfg, tried)
            warnings.warn(
                f"{changed}: the model is the run's, the dataset's rows the file's as it is "
                "now, so their metrics are not the record's; put back the file it trained on",
                DataChangedWarning,
                stacklevel=3,  # the user's call, past errors.public's frame
            )
        _use_saved_scaler(dataset, ckpt.meta.get("scaler"))
    try:
        spec = ModelSpec.from_dict(ckpt.meta["spec"])
        if not data:
            dataset = _described_data(cfg, spec, ckpt.meta, path)
        chosen = engine or str(ckpt.meta.get("engine", cfg.engine))
        device = loading_device(chosen, cfg.device)
        # What the model evaluates on; the run's own config (engine/device/dtype as the
        # user gave them, `auto` included) stays LoadedRun.config, so that its run id is
        # the record's and train(run.config) gives back this run, not a new one.
        used = make_config(
            {**cfg.to_dict(), "engine": chosen, "device": device, "dtype": dtype or cfg.dtype},
            recorded=True,
        )
        chosen = resolve_engine(chosen, spec, len(dataset.X_train), used.batch_size, device)
        models = [model_init(used, spec, weights=ckpt.model)]
        backend = make_backend(chosen, spec, models, device=device, dtype=used.dtype)
        backend.set_data(cast_splits(dataset, used.dtype))
    except MlplabError:
        raise
    except Exception as err:  # a well-formed file that is not this run's checkpoint
        raise misfit(path, err) from None
    record = read_result(run_dir) or {}
    own = None
    if path == best:  # result.json's finals are the last model's
        if data:
            splits = {"train": dataset.y_train, "val": dataset.y_val, "test": dataset.y_test}
            finals, _ = final_metrics(
                backend, dataset.task, splits, [0], cfg.test_batch_size,
                dataset.in_target_units, dataset.target_names or [],
            )  # fmt: skip
            own = finals[0]
        else:
            known = record.get("best_val_loss")
            own = {"val_loss": known} if isinstance(known, float) else {}
    # Absolute, so that its methods (plot) hold after the caller's os.chdir.
    where = run_dir.absolute()
    # The device the model is on (`auto` resolved: cpu, cuda, cuda:1), not the setting.
    on = getattr(backend, "device", device)
    return LoadedRun(
        cfg, dataset, spec, backend, record, where, ckpt.meta, changed, own,
        engine=chosen, device=str(on), dtype=used.dtype,
    )  # fmt: skip


def loading_device(engine: str, trained_on: str) -> str:
    """Where a loaded run's model evaluates: the device it trained on, where this machine has
    it, else the CPU.

    Loading a run only evaluates its weights, which any device can: a run trained on a GPU,
    copied to a machine without one or loaded on the NumPy engine (CPU only), still
    predicts and plots. Training it again (``--resume``) keeps its own device.
    """
    if engine == "numpy":
        return "cpu"
    if trained_on.startswith("cuda"):
        from mlplab.engines.torch.backend import resolve_device

        try:
            resolve_device(trained_on)
        except ConfigError:  # no such GPU here
            return "cpu"
    return trained_on


def _described_data(cfg: Config, spec: ModelSpec, meta: dict[str, Any], path: Path) -> Dataset:
    """The run's data as its checkpoint describes it, with no rows (``load_run(data=False)``).

    The names must fit the model: a checkpoint is input, and a class list of another
    length would label outputs wrongly.
    """
    check_run_meta(meta, f"checkpoint {str(path)!r}")
    task, features, targets = meta["task"], meta["feature_names"], meta["target_names"]
    classes = meta.get("class_names")
    outputs = {"binary": 1, "multiclass": len(classes or []), "regression": len(targets)}[task]
    scaler, target_scaler = meta.get("scaler"), meta.get("target_scaler")
    if (
        len(features) != spec.in_dim
        or outputs != spec.out_dim
        or (task != "regression" and len(classes or []) < 2)
        or (task == "binary" and len(classes or []) != 2)
        or len(set(features)) != len(features)  # a column fed twice, another never
        or ("features" in meta and meta["features"] != features)
        or (scaler is not None and any(len(a) != spec.in_dim for a in scaler))
        or (target_scaler is not None and any(len(a) != spec.out_dim for a in target_scaler))
    ):
        raise CheckpointError(
            f"checkpoint {str(path)!r}: its feature, target or class names do not fit its "
            f"model ({spec.in_dim} inputs, {spec.out_dim} outputs)"
        )
    X = np.zeros((0, spec.in_dim))
    y = {
        "binary": np.zeros((0, 1)),
        "multiclass": np.zeros(0, dtype=np.int64),
        "regression": np.zeros((0, spec.out_dim)),
    }[task]
    kept = None if scaler is None else (np.asarray(scaler[0], float), np.asarray(scaler[1], float))
    ts = None
    if target_scaler is not None:
        ts = (np.asarray(target_scaler[0], float), np.asarray(target_scaler[1], float))
    return Dataset(
        cfg.data,
        task,
        X,
        y,
        X,
        y,
        X,
        y,
        list(features),
        list(targets),
        classes,
        scaler=kept,
        target_scaler=ts,
        label_kind=meta.get("label_kind"),
        features=meta.get("features"),
        raw_names=meta.get("raw_feature_names") if "features" in meta else None,
        raw={s: np.zeros((0, 2)) for s in ("train", "val", "test")} if "features" in meta else None,
    )


def _data_candidates(run_dir: Path, cfg: Config) -> list[Config]:
    """``cfg`` with each place its relative data path may be found: here first, then each
    folder above the run folder (a run trained in a project folder lies below it,
    ``runs/exp/RUN``, so ``mlplab plot`` and ``--resume`` work from any folder). An
    absolute path that is gone (the project moved, with its data) is looked for by its
    last parts in those folders. Just ``cfg`` for a built-in set, an absolute path that
    exists, or a file found nowhere; which place holds the run's rows, its checkpoint's
    digest decides (:func:`_training_data`)."""
    path = Path(cfg.data)
    if cfg.data in BUILTIN or (path.is_absolute() and path.exists()):
        return [cfg]
    # `~/proj/data/x.csv` trained, then proj moved: data/x.csv above the moved run folder.
    tails = (
        [Path(*path.parts[-n:]) for n in range(1, min(MOVED_PATH_PARTS, len(path.parts) - 1) + 1)]
        if path.is_absolute()
        else [path]
    )
    found = [cfg] if path.exists() else []
    for folder in Path(os.path.abspath(run_dir)).parents:
        for tail in tails:
            near = folder / tail
            if near.is_file() and not any(_same_file(near, c.data) for c in found):
                found.append(cfg.model_copy(update={"data": str(near)}))
    return found or [cfg]


# How many of a gone absolute path's last parts are looked for above a run folder
# (x.csv, data/x.csv, proj/data/x.csv).
MOVED_PATH_PARTS = 3


def _same_file(a: Path, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def training_files(run_dir: Path) -> list[Path]:
    """Each file that may be the one ``run_dir`` trained on, in the places :func:`load_run`
    looks (here, then above the run folder); none for a built-in dataset, or arrays in
    memory (an estimator's run), which no file holds."""
    cfg = record_config(run_dir, rows=False)
    if cfg.data in BUILTIN or ARRAY_LABEL.fullmatch(cfg.data):
        return []
    return [Path(c.data) for c in _data_candidates(run_dir, cfg) if Path(c.data).exists()]


def _training_data(
    run_dir: Path, cfg: Config, digest: str | None = None, resuming: bool = False, say: bool = False
) -> tuple[Dataset, list[str]]:
    """The run's data, read again from its ``data`` setting, and no paths; or, where no
    place it is found holds the rows the run trained on (``digest``, its checkpoint's),
    the first place's data and each place tried (see :func:`_places`).

    A same-named file here (each project folder of a class keeps its ``data/train.csv``)
    does not hide the run's own, above its folder. A training file that cannot be read is
    named as the run's own (the user's ``--data`` may be another file); ``resuming``: as
    ``--resume`` says it. ``say``: a big file is named as it is read, where it is found.
    """
    candidates = _data_candidates(run_dir, cfg)
    first: Dataset | None = None
    failed: DataError | None = None
    for found in candidates:
        if say:
            say_reading(found.data)
        try:
            data = load_data(found)
        except DataError as err:
            failed = failed or err
            continue
        if not digest or not data.digest or data.digest == digest:
            return data, []
        first = first or data
    if first is not None:
        return first, [os.path.abspath(c.data) for c in candidates]
    where = ""
    if not Path(candidates[0].data).is_absolute() and not Path(candidates[0].data).exists():
        # A relative path is relative to the folder the run trained in, which the record
        # does not keep (a record names no machine path).
        where = (
            " (the path is relative to the folder it trained in, here or above the run folder"
            + (
                ")"
                if resuming
                else "; predictions need no training file: mlplab predict, or "
                "load_run(RUN_DIR, data=False))"
            )
        )
    how = "continues on" if resuming else "is rebuilt from"
    # The places above the run folder, not the current folder alone, as the line says.
    said = failed.unplaced if where and failed is not None else failed
    raise DataError(f"{str(run_dir)!r} {how} the data it trained on: {said}{where}")


def _places(cfg: Config, tried: list[str]) -> str:
    """Where a relative training file was looked for, none of them holding the run's rows."""
    if Path(cfg.data).is_absolute():
        return ""
    return f"; tried {', '.join(map(repr, tried))}"


def _rows_differ(run_dir: Path, cfg: Config, tried: list[str]) -> str:
    return (
        f"data file {cfg.data!r} has changed since {str(run_dir)!r} trained on it (its rows "
        f"differ{_places(cfg, tried)})"
    )


def resume_data(run_dir: Path, cfg: Config, ckpt: Checkpoint | None, say: bool = False) -> Dataset:
    """The data ``--resume`` continues a run on: its training file found as :func:`load_run`
    finds it, from any folder, and refused in one line where no place holds the rows the
    run trained on (its checkpoint's digest): the run would go on with other rows.
    ``say``: a big file is named as it is read."""
    digest = None if ckpt is None else ckpt.meta.get("data_digest")
    try:
        data, tried = _training_data(run_dir, cfg, digest, resuming=True, say=say)
    except DataError as err:
        raise DataError(f"--resume {err}") from None
    if tried:
        raise DataError(
            f"--resume {str(run_dir)!r}: {_rows_differ(run_dir, cfg, tried)}; put back the "
            "file it trained on to continue it, or give the run's command again with --rerun "
            "to train it afresh on the file as it is now"
        )
    return data


def _check_same_data(
    run_dir: Path, cfg: Config, data: Dataset, meta: dict[str, Any], tried: list[str]
) -> None:
    """Refuse a training file that no longer holds what the model learned.

    The file is read again, and its classes decide the names of the model's outputs: one
    changed since (a class renamed, added or dropped) would label predictions wrongly, or
    fail deep inside, so a difference from the checkpoint's names is one line instead.
    """
    now = (
        ("class_names", "classes are", data.class_names),
        ("feature_names", "feature columns are", data.feature_names),
        ("target_names", "target columns are", data.target_names),
        ("task", "task is", data.task),
    )
    for key, what, value in now:
        saved = meta.get(key)
        if key not in meta or _names(saved) == _names(value):
            continue
        raise DataError(
            f"data file {cfg.data!r} has changed since {str(run_dir)!r} trained on it: its "
            f"{what} now {_names(value)} (the model's: {_names(saved)}"
            f"{_places(cfg, tried) if tried else ''}). The run is "
            "rebuilt from that file: put back the file it trained on"
        )


def _names(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


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
