"""What a trained model offers, whether it was just trained or rebuilt from its folder.

:class:`mlplab.runner.Result` (what ``train`` returns) and :class:`mlplab.restore.LoadedRun`
(what ``load_run`` returns) both hold a dataset (with its preprocessing), an engine with the
trained model, and the model's spec; this is what they share: outputs, predictions, class
names, weights, and the model as an ordinary PyTorch module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.data.dataset import Dataset
from mlplab.engines.backend import Backend
from mlplab.engines.spec import ModelSpec
from mlplab.errors import DataError
from mlplab.training.metrics import predicted_classes

if TYPE_CHECKING:  # torch loads only when to_torch is called
    from torch import nn


class TrainedModel:
    """A trained model with its data's preprocessing (a base for Result and LoadedRun)."""

    dataset: Dataset
    backend: Backend
    spec: ModelSpec

    def predict(self, X: Any) -> np.ndarray:
        """Outputs for raw inputs: logits (classification) or values (regression), ``[N, out]``.

        ``X`` is ``[N, n_features]``; one row is ``[[...]]``. Anything else raises
        :class:`mlplab.errors.DataError`, rather than being read as rows of another shape.
        A DataFrame with named columns gives the features by name, in any order (as
        ``mlplab predict`` reads a file); the dataset's own splits are already in the
        model's scale, so they go to :meth:`model_outputs` instead.
        """
        ds = self.dataset
        if ds.scaler is not None and any(X is a for a in (ds.X_train, ds.X_val, ds.X_test)):
            raise DataError(
                "X is one of dataset.X_train, X_val, X_test, which are already standardized; "
                "give them to model_outputs(X), and raw rows to predict"
            )
        if hasattr(X, "columns") and any(isinstance(c, str) for c in X.columns):
            missing = [name for name in ds.feature_names if name not in X.columns]
            if missing:
                raise DataError(
                    f"X has no column {missing[0]!r}; the model's features are "
                    f"{', '.join(ds.feature_names)}"
                )
            X = X[ds.feature_names]
        X = np.asarray(X, dtype=np.float64)
        n = self.dataset.n_features
        if X.ndim != 2 or X.shape[1] != n:
            names = ", ".join(self.dataset.feature_names)
            one = " (one row is [[...]], or X.reshape(1, -1))" if X.ndim == 1 else ""
            raise DataError(
                f"X must be [rows, {n}] for the model's {n} features ({names}); got shape "
                f"{X.shape}{one}"
            )
        return self.model_outputs(self.dataset.transform(X))

    def model_outputs(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``[N, out]`` for inputs already in the model's scale (``dataset.X_*``)."""
        return np.asarray(self.backend.predict(X)[0], dtype=np.float64)

    def predict_labels(self, X: Any) -> np.ndarray:
        """Predicted class names for raw inputs (the labels of the data file), shape [N].

        Regression has no classes: it returns the predicted values, as :meth:`predict`.
        """
        outputs = self.predict(X)
        task = self.dataset.task
        if task == "regression":
            return outputs
        names = np.asarray(self.dataset.class_names or [], dtype=object)
        return names[predicted_classes(task, outputs)]

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The model's parameters and buffers, by ModelSpec name."""
        return self.backend.export(0).weights

    def to_torch(self) -> nn.Module:
        """The model as an ordinary PyTorch ``nn.Module``, whichever engine trained it.

        ``nn.Linear`` layers (and ``nn.BatchNorm1d``, ``nn.Dropout`` where the model has
        them) with a copy of the trained weights, on the CPU, in the weights' dtype, in
        eval mode. It takes inputs in the model's scale, ``dataset.transform(X)`` for raw
        rows, and returns logits (classification) or values (regression), as
        :meth:`model_outputs` does. Its ``state_dict`` names are the run's weight names.
        """
        from mlplab.engines.torch.model import plain_module

        return plain_module(self.spec, self.weights).eval()
