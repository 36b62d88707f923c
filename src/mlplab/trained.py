"""What a trained model offers, whether it was just trained or rebuilt from its folder.

:class:`mlplab.runner.Result` (what ``train`` returns) and :class:`mlplab.restore.LoadedRun`
(what ``load_run`` returns) both hold a dataset (with its preprocessing), an engine with the
trained model, and the model's spec; this is what they share: outputs, predictions, class
names, weights, and the model as an ordinary PyTorch module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.config import Config, plain_value
from mlplab.data.dataset import Dataset, named_columns
from mlplab.engines.backend import Backend
from mlplab.engines.spec import ModelSpec
from mlplab.errors import DataError
from mlplab.training.metrics import (
    TARGET_METRICS,
    predicted_classes,
    probabilities,
    true_classes,
)

# Values of the widest layer per slice of rows that predict evaluates at once: ~128 MB in
# float64, whatever the number of rows.
PREDICT_VALUES = 1 << 24

if TYPE_CHECKING:  # torch and pandas load only when to_torch and per_class are called
    import pandas as pd
    from torch import nn


class TrainedModel:
    """A trained model with its data's preprocessing (a base for Result and LoadedRun)."""

    config: Config
    dataset: Dataset
    backend: Backend
    spec: ModelSpec
    record: dict[str, Any]  # result.json's contents: settings merged with results
    run_dir: Path | None

    @property
    def status(self) -> str:
        return self.record["status"]

    def _steps_trained(self) -> int | None:
        """The optimizer steps behind :attr:`weights` (the record's)."""
        steps = self.record.get("steps")
        return steps if isinstance(steps, int) else None

    @property
    def metrics(self) -> dict[str, float]:
        """Final metrics by split, as ``{"test_acc": 0.97, "test_bacc": 0.95, ...}``; one
        with no value (the record's null: a run stopped before its first validation has no
        best_val_loss) is left out, so that each is a number."""
        keys = ("loss", "acc", "bacc", "f1", "mae", "mse", "rmse", "r2")
        return {
            k: v
            for k, v in self.record.items()
            if any(k.endswith(f"_{m}") for m in keys) and isinstance(v, int | float)
        }

    @property
    def target_metrics(self) -> dict[str, dict[str, float]]:
        """Each target's own final metrics by split, for a regression of several targets:
        ``{"flow": {"test_mae": 13.1, "test_rmse": 21.5, "test_r2": 0.95, ...}, ...}``
        (result.json's ``target_metrics``); {} for one target or a classifier. The
        :attr:`metrics` average them, adding up targets of other units."""
        got = self.record.get(TARGET_METRICS)
        return {str(k): dict(v) for k, v in got.items()} if isinstance(got, dict) else {}

    def _shown_metrics(self) -> dict[str, float]:
        """:attr:`metrics` as the results table shows them: balanced accuracy and F1 only
        where the classes are unequal (beside accuracy on the balanced XOR, they were
        columns a student met unexplained)."""
        from mlplab.console import imbalanced

        if imbalanced(self.dataset):
            return self.metrics
        return {k: v for k, v in self.metrics.items() if not k.endswith(("_bacc", "_f1"))}

    def __repr__(self) -> str:
        # One line for a notebook's plain view or a log; the dataclass repr printed every
        # array of the dataset (about 17,000 characters for a lab run).
        # A run without a test split (split 0.9 0.1 0) says so, with its validation numbers.
        no_test = self.record.get("n_test") == 0
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in self._shown_metrics().items()
            if k.startswith("val_" if no_test else "test_")
        )
        split = "val_" if no_test else "test_"
        by_target = "; ".join(
            f"{name}: "
            + ", ".join(
                f"{k}={v:.4g}"
                for k, v in m.items()
                if k.startswith(split) and isinstance(v, float) and not k.endswith("_mse")
            )
            for name, m in self.target_metrics.items()
        )
        if by_target:  # a regression of several targets: the mean, then each one's own
            shown += f" (mean over targets; {by_target})"
        if no_test:
            shown = f"no test rows{f' ({shown})' if shown else ''}"
        where = str(shown_dir(self.run_dir)) if self.run_dir is not None else "not recorded"
        # A quiet run's (verbose=False) notes are its only word of what went wrong (a
        # target that needs scaling, a model no better than the common class).
        notes = len(getattr(self, "notes", []))
        said = f"; {notes} note{'' if notes == 1 else 's'} in .notes" if notes else ""
        return (
            f"<{type(self).__name__} {self.config.label(self.spec)} on {self.dataset.name}: "
            f"{self.record.get('status')}{', ' + shown if shown else ''}; {where}{said}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: status, metrics, run folder and the run's plots."""
        from mlplab.notebook import result_html

        title = f"{self.config.label(self.spec)} on {self.dataset.name}"
        return result_html(
            title,
            self.record,
            self._shown_metrics(),
            shown_dir(self.run_dir),
            self.target_metrics,
        )

    def predict(self, X: Any) -> np.ndarray:
        """Outputs for raw inputs: logits (classification) or values (regression), ``[N, out]``.

        ``X`` is ``[N, n_features]`` numbers; one row is ``[[...]]``. A DataFrame (or a dict
        of columns) with named columns gives the features by name, in any order (as
        ``mlplab predict`` reads a file). Anything else, a missing value (NaN) or inf
        raises :class:`mlplab.errors.DataError` naming what is wrong, rather than being
        read as rows of another shape or predicted as some class. The dataset's own
        splits are already in the model's scale, so they go to :meth:`model_outputs`.

        The outputs are float64, computed in the model's dtype: a float32 model's (the
        default) last digits move with the other rows of the call, as float32 sums run in
        an order set by the batch. ``mlplab.load_run(run_dir, dtype="float64")`` evaluates
        the same weights in float64, as ``mlplab predict`` does, where they do not.
        """
        ds = self.dataset
        if (ds.scaler is not None or ds.features is not None) and _is_split(X, ds):
            what = "standardized" if ds.features is None else "the features made from x1, x2"
            raise DataError(
                f"X is (part of) dataset.X_train, X_val or X_test, which are already {what}; "
                "give them to model_outputs(X), and raw rows to predict"
            )
        X = named_columns(X, ds.input_names)
        out = self.model_outputs(self.dataset.transform(self._rows(X, ds.input_names)))
        # inf is still a side (a logit past float32's range); NaN, or a diverged model's
        # outputs, would be read as some class or value without a word.
        diverged = self.record.get("status") == "diverged"  # a damaged record has none
        if np.isnan(out).any() or (diverged and not np.isfinite(out).all()):
            self._not_finite()
        return out

    def model_outputs(self, X: Any) -> np.ndarray:
        """Outputs ``[N, out]`` for inputs already in the model's scale (``dataset.X_*``).

        As the engine gives them, in the target's own units (a model trained on a
        standardized target has its outputs mapped back): a diverged model's may be NaN or
        inf (its pictures show where), which :meth:`predict` refuses.
        """
        X = self._rows(X)
        # In slices of rows: a million rows' hidden activations at once would take
        # gigabytes (and a wide model's, more than the machine has).
        widest = max([X.shape[1], *self.config.hidden_widths()])
        rows = max(1, PREDICT_VALUES // widest)
        with np.errstate(all="ignore"):
            parts = [
                np.asarray(self.backend.predict(X[i : i + rows])[0], dtype=np.float64)
                for i in range(0, max(len(X), 1), rows)
            ]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return self.dataset.in_target_units(out)  # the engine's, where the target trained scaled

    def _rows(self, X: Any, names: list[str] | None = None) -> np.ndarray:
        """``X`` as float64 ``[N, len(names)]`` of finite numbers, or a one-line DataError;
        ``names``: its columns (default: the model's inputs)."""
        names = self.dataset.feature_names if names is None else names
        n = len(names)
        if isinstance(X, str | Path):
            raise DataError(
                f"X is a path ({str(X)!r}); predict takes rows of numbers: read the file "
                "first (pandas.read_csv), or use `mlplab predict RUN_DIR --data FILE`"
            )
        index = None  # a DataFrame's: its rows are named by their index label
        try:
            if hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch tensor, grad or GPU
                X = X.detach().cpu()
            if type(X).__module__.partition(".")[0] == "pandas":  # pd.NA is NaN, named below
                index = getattr(X, "index", None)
                X = X.to_numpy(dtype=np.float64, na_value=np.nan)
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise DataError(f"X must hold numbers, [rows, {n}] ({err})") from None
        if X.ndim != 2 or X.shape[1] != n:
            one = " (one row is [[...]], or X.reshape(1, -1))" if X.ndim == 1 else ""
            raise DataError(
                f"X must be [rows, {n}] for the model's {n} features ({', '.join(names)}); "
                f"got shape {X.shape}{one}"
            )
        bad = first_non_finite(X)
        if bad is not None:  # worded as `mlplab predict` words it for a file
            r, c, kind = bad
            # Where the user looks for it: X.loc[label] of a DataFrame, X[r] of an array
            # (counted from 1, it pointed at the row after).
            row = f"X.loc[{plain_value(index[r])!r}]" if index is not None else f"X[{r}]"
            raise DataError(
                f"X: feature column {names[c]!r} has {kind} in row {row}; every row to "
                "predict needs a number in each feature column"
            )
        return X

    def _not_finite(self) -> None:
        """Refuse the outputs of a diverged model, or NaN outputs."""
        if self.record.get("status") == "diverged":
            best = self.run_dir / "checkpoints" / "best.safetensors" if self.run_dir else None
            where = (
                f"load_run({str(self.run_dir)!r}, which='best') gives its best model, from "
                "before it diverged"
                if best is not None and best.is_file()
                else "train it again with a lower lr"
            )
            raise DataError(f"the run diverged, so its model's outputs are not finite; {where}")
        raise DataError(
            "the model's outputs are NaN for these rows (they overflow: inputs far outside "
            "the training data's range?)"
        )

    def predict_labels(self, X: Any) -> np.ndarray:
        """Predicted class labels for raw inputs, shape [N], from ``dataset.classes``: the
        labels of the data file, as integers where they are whole numbers (as ``y`` was).

        Regression has no classes: it returns the predicted values, as :meth:`predict`.
        """
        outputs = self.predict(X)
        task = self.dataset.task
        if task == "regression":
            return outputs
        return self.dataset.classes[predicted_classes(task, outputs)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for raw inputs, ``[N, n_classes]`` in the order of
        ``dataset.class_names`` (the ``p_CLASS`` columns of ``mlplab predict``): the
        sigmoid of a binary model's logit ``z`` as ``[sigmoid(-z), sigmoid(z)]``, or the
        softmax of the logits.
        """
        if self.dataset.task == "regression":
            raise DataError("predict_proba: a regression model has no classes; use predict")
        return probabilities(self.dataset.task, self.predict(X))

    def per_class(self, split: str = "test") -> pd.DataFrame:
        """Each class's numbers on a split of the dataset, as scikit-learn's
        ``classification_report`` gives them: a table indexed by class name, with
        ``rows`` (support), ``predicted`` (rows predicted as it), ``recall``, ``precision``
        and ``f1`` (0 where a class has no rows or none predicted, as scikit-learn's). The
        run's balanced accuracy is the mean recall over the classes with rows; a rare
        class's 0 among ones shows here, where the means hide it.
        """
        import pandas as pd

        ds = self.dataset
        if ds.task == "regression":
            raise DataError("per_class: a regression model has no classes")
        split = "val" if split == "validation" else split  # as split_by names it too
        if split not in ("train", "val", "test"):
            raise DataError(
                f"per_class: split is one of train, val (or validation), test, not {split!r}"
            )
        X, y = ds.splits()[split]
        if split == "test" and not ds.has_test:
            # A table of zeros read as a model that found no class.
            raise DataError(
                "per_class: this run has no test rows (its split gives the test split none); "
                "give split='val' or 'train'"
            )
        n = len(ds.class_names or [])
        true = true_classes(ds.task, np.asarray(y))
        pred = predicted_classes(ds.task, self.model_outputs(X)) if len(X) else true
        counts = np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
        hits, rows, predicted = np.diag(counts), counts.sum(axis=1), counts.sum(axis=0)
        # 0 where a ratio has no rows to count (a class with none, or never predicted), as
        # scikit-learn's zero_division gives it: a rare class never found has precision 0.
        recall = np.divide(hits, rows, out=np.zeros(n), where=rows > 0)
        precision = np.divide(hits, predicted, out=np.zeros(n), where=predicted > 0)
        f1 = np.divide(2 * hits, rows + predicted, out=np.zeros(n), where=rows + predicted > 0)
        return pd.DataFrame(
            {"rows": rows, "predicted": predicted, "recall": recall,
             "precision": precision, "f1": f1},
            index=pd.Index(ds.class_names, name="class"),
        )  # fmt: skip

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The model's parameters and buffers, by ModelSpec name."""
        return self.backend.export(0).weights

    def to_torch(self, raw_inputs: bool = False) -> nn.Module:
        """The model as an ordinary PyTorch ``nn.Module``, whichever engine trained it.

        ``nn.Linear`` layers (and ``nn.BatchNorm1d``, ``nn.Dropout`` where the model has
        them) with a copy of the trained weights, on the CPU, in the weights' dtype, in
        eval mode. It takes inputs in the model's scale, ``dataset.transform(X)`` for raw
        rows, and returns logits (classification) or values (regression), as
        :meth:`model_outputs` does. Its ``state_dict`` names are the run's weight names.

        ``raw_inputs=True`` gives a module that takes raw rows, as :meth:`predict` does:
        the model behind the training split's standardization (buffers ``mean`` and
        ``std``; the weights then under ``model.``). Without standardization it is the
        model itself. A model trained on a standardized target (``standardize_target``)
        maps its outputs back to the target's units either way (buffers ``target_mean``
        and ``target_std``, the weights under ``model.``).
        """
        from mlplab.engines.torch.model import InTargetUnits, Standardized, plain_module

        module: nn.Module = plain_module(self.spec, self.weights).eval()
        if isinstance(steps := self._steps_trained(), int):
            # Batch norm's count of the batches its statistics saw, one per training step,
            # as torch's own training leaves it (0 misled its momentum=None average).
            for layer in module.modules():
                counted = getattr(layer, "num_batches_tracked", None)
                if counted is not None:
                    counted.fill_(steps)
        if self.dataset.target_scaler is not None:
            module = InTargetUnits(module, *self.dataset.target_scaler).eval()
        if raw_inputs and self.dataset.features is not None:
            raise DataError(
                "to_torch(raw_inputs=True): the model takes the features "
                f"{', '.join(self.dataset.features)} made from x1, x2, which no module here "
                "makes; give to_torch() the rows of dataset.transform(X)"
            )
        if not raw_inputs or self.dataset.scaler is None:
            return module
        mean, std = self.dataset.scaler
        return Standardized(module, mean, std).eval()


def first_non_finite(X: np.ndarray) -> tuple[int, int, str] | None:
    """``(row, column, what)`` of the first value of ``X [N, D]`` that is no number (what:
    ``NaN (a missing value)`` or ``inf``), or None."""
    bad = ~np.isfinite(X)
    if not bad.any():
        return None
    r, c = (int(i) for i in np.argwhere(bad)[0])
    return r, c, "NaN (a missing value)" if np.isnan(X[r, c]) else "inf"


def _is_split(X: Any, ds: Dataset) -> bool:
    """Whether ``X`` is one of the dataset's standardized splits or a view of one
    (``ds.X_test[:5]``), which standardizing again would silently skew."""
    if not isinstance(X, np.ndarray):
        return False
    splits = (ds.X_train, ds.X_val, ds.X_test)
    # may_share_memory compares memory bounds only: cheap, and a view always overlaps.
    return any(isinstance(a, np.ndarray) and np.may_share_memory(X, a) for a in splits)


def shown_dir(run_dir: Path | None) -> Path | None:
    """``run_dir`` (absolute, so that it holds after an ``os.chdir``) as its reader gave
    it: relative to the working folder where it is under it, as a notebook's links to a
    run's plots need (Jupyter opens ``runs/...``, not ``/home/...``)."""
    if run_dir is None or not run_dir.is_absolute():
        return run_dir
    try:
        return run_dir.relative_to(Path.cwd())
    except (ValueError, OSError):  # elsewhere, or the working folder is gone
        return run_dir
