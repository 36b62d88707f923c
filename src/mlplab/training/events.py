"""A run as a stream of events: what :func:`mlplab.training.loop.fit` tells its subscribers.

The loop trains K models at once (a single run is K = 1) and knows nothing of files,
terminals or plots. At fixed points it calls each subscriber, in the order the caller
gave them, with one of these events:

- :class:`Start`: the loop is about to take its first step (or to continue a resumed one);
- :class:`Step`: an optimizer step was taken (only at step indices that are multiples
  of ``log_every`` or of a progress bar's interval, and where ``step + 1`` updates are a
  multiple of ``snapshot_every``; a step event for every update would cost more than
  tiny models' steps themselves: a subscriber checks ``step`` for its own cadence);
- :class:`Validate`: an epoch ended with a validation; its curves' new points;
- :class:`Save`: a moment to write checkpoints (every ``save_every`` epochs; a model
  that ends, by a stop or otherwise, is checkpointed by the run writer at its End);
- :class:`End`: some models are done (finished, stopped early, diverged, interrupted or
  pruned), with their final metrics. They leave the stack after this event. A run that
  an exception ends (``failed``) is not the loop's End: its caller's own subscribers
  (``mlplab.train``'s and ``mlplab.sweep``'s ``subscribers``) get one, with no metrics;
  a sweep's run that failed before it trained gets one too, whose models hold no model.

A subscriber is any callable ``(event) -> None``: the run writer, TensorBoard, console
progress, snapshots, plots, a notebook view or a web page. Models are named by their
``id``, their index in the list the caller trained, which stays fixed while rows leave the
stack. Every event carries :class:`Models`, a read-only view of the stack for what a
subscriber needs to look at: predictions, weights, optimizer state and loop state.
:func:`as_json` gives an event's numbers as plain JSON values, for a subscriber that sends
them on (to a web page, a log file or another process).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from mlplab.data.dataset import Dataset
    from mlplab.engines.backend import Backend, ModelState
    from mlplab.training.state import LoopState, StackState

Array = np.ndarray
# Values that cannot change, which copy.deepcopy returns as they are.
_ATOMIC = frozenset({int, float, bool, str, type(None)})


class Models:
    """A read-only view of the models being trained, by id."""

    def __init__(
        self,
        backend: Backend | None,
        state: StackState,
        names: Sequence[str] = (),
        settings: Sequence[dict[str, Any]] = (),
        dataset: Dataset | None = None,
    ) -> None:
        # None for a run that failed before its model was built: its failed End, which a
        # sweep sends the caller's subscribers, names the run but has no model to read.
        self._backend = backend
        self._state = state
        self._names = list(names)
        self._settings = list(settings)
        # The data the stack trains on, where the caller gave it (mlplab.train, sweeps):
        # a page draws its points, and passes a grid through dataset.transform to predict.
        self.dataset = dataset

    def name(self, model_id: int) -> str:
        """The model's run id (its run folder's name, ``exp-3fa2b1``) where the caller
        named its models (``mlplab.train``, sweeps), else its id as text. Ids are positions
        in one stack: a rule that keeps state across the stacks of a sweep keys it by name."""
        return self._names[model_id] if 0 <= model_id < len(self._names) else str(model_id)

    def settings(self, model_id: int) -> dict[str, Any]:
        """The model's settings, ``{'lr': 0.1, 'hid_dim': 8, ...}`` (its config, every
        setting by name), where the caller gave them (``mlplab.train``, sweeps), else {}:
        what a search's rule ranks or proposes by. A copy: changing it changes nothing."""
        if 0 <= model_id < len(self._settings):
            # Its lists (split, hid_dims) copied too; the numbers and text, which cannot
            # change, are shared: deepcopy of every value cost 36 us a call, 9 ms a
            # validation for a rule that reads 256 models' settings.
            return {
                k: v if type(v) in _ATOMIC else copy.deepcopy(v)
                for k, v in self._settings[model_id].items()
            }
        return {}

    @property
    def ids(self) -> Array:
        """Ids of the models still in the stack, in row order."""
        return self._state.ids.copy()

    def row(self, model_id: int) -> int:
        rows = np.flatnonzero(self._state.ids == model_id)
        if not len(rows):
            raise KeyError(f"model {model_id} is not in the stack")
        return int(rows[0])

    def _engine(self) -> Backend:
        if self._backend is None:
            raise KeyError("no model was built: the run failed before it trained")
        return self._backend

    def predict(self, model_id: int, X: Array) -> Array:
        """Eval-mode outputs ``[N, out_dim]`` (float64: logits, or values for a regression)
        of one model for inputs ``[N, in_dim]`` as the engine holds them: standardized
        where the run standardizes its features (``dataset.transform(raw_rows)`` gives
        them), unlike ``Result.predict``, which takes raw rows. A target that trains
        standardized comes out scaled: ``dataset.in_target_units`` maps it back.

        The NumPy engine runs this one model's pass; the torch engine runs the whole
        stack's (a row alone would round differently) and keeps the model's row: to draw
        every model of a stack there, call :meth:`predict_all` once."""
        return np.asarray(self._engine().predict_one(X, self.row(model_id)), dtype=np.float64)

    def predict_all(self, X: Array) -> Array:
        """:meth:`predict` of every model in the stack at once, ``[K, N, out_dim]`` in the
        order of :attr:`ids`, in one pass: row k is ``predict(ids[k], X)`` bit for bit."""
        return np.asarray(self._engine().predict(X), dtype=np.float64)

    def step_outputs(self, model_id: int) -> Array:
        """Outputs ``[B, out_dim]`` (float64) of the model's last step, before its update."""
        return np.asarray(self._engine().step_outputs()[self.row(model_id)], dtype=np.float64)

    def export(self, model_id: int) -> ModelState:
        """The model's weights, optimizer state and dropout stream (copies)."""
        return self._engine().export(self.row(model_id))

    def best_weights(self, model_id: int) -> dict[str, Array]:
        return self._engine().best_weights(self.row(model_id))

    def loop_state(self, model_id: int, curves: bool = True) -> LoopState:
        """The model's position and curves; without the curves (``curves=False``) it is
        what a checkpoint keeps, and :meth:`curves` gives them as arrays."""
        return self._state.loop_state(model_id, curves)

    def curves(self, model_id: int) -> dict[str, Array]:
        """The model's curves so far as arrays, by :class:`~mlplab.training.state.History`
        field (the same values as ``loop_state(model_id).history``)."""
        return self._state.curves.of_model(model_id)

    def order_state(self, model_id: int) -> dict[str, Any]:
        """The model's data-order RNG state now (JSON-able)."""
        return dict(self._state.order_rngs[model_id].bit_generator.state)


@dataclass(frozen=True)
class Start:
    """The loop is about to take its first step (a resumed run's next one).

    ``models`` (in every event) is a live view of the stack: read it during the call, as
    a model that ends leaves it (``models.predict`` of a stored event then raises).
    """

    models: Models
    epoch: int  # epochs already done (0 for a fresh run)
    step: int
    epochs: int = 0  # the schedule's epochs: where the run will end
    task: str = ""  # binary | multiclass | regression: acc or MAE in the metric fields
    ids: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [K] who trains


@dataclass(frozen=True)
class Step:
    """An optimizer step was taken (at the cadence the module docstring gives); ``epoch``
    counts from 0 here, and ``losses`` are the batch losses before the update."""

    models: Models
    step: int  # 0-based index of the step just taken
    epoch: int  # 0-based epoch it belongs to
    ids: Array  # [K] model ids
    losses: Array  # [K] batch losses before the update


@dataclass(frozen=True)
class Validate:
    """An epoch ended with a validation: each model's new curve points, ``[K]`` arrays over
    ``ids``. ``epoch`` counts completed epochs, from 1; the metrics are accuracy or MAE
    (``Start.task`` says which). Prune and early-stop rules are given this event."""

    models: Models
    epoch: int  # completed epochs (1-based)
    step: int  # steps done
    ids: Array  # [K]
    train_loss: Array  # [K] the epoch's mean batch loss
    val_loss: Array
    train_metric: Array  # acc or MAE of the epoch's own batches
    val_metric: Array
    lr: Array
    improved: Array  # [K] bool: a new best validation loss
    task: str = ""  # binary | multiclass | regression
    # What :meth:`val_score` computes from: the validation rows' targets and each model's
    # outputs on them, [K, N, out] (in the target's units), where the loop gave them.
    y_val: Array | None = field(default=None, repr=False)
    val_outputs: Array | None = field(default=None, repr=False)
    # Where the run will end, as Start.epochs: a rule's last rung (a rung keyed on an
    # epoch that is never validated, with validate_every 3, never came).
    epochs: int = 0

    def val_score(self, metric: str) -> Array:
        """Each model's validation ``metric``, ``[K]`` over ``ids``, by a name ``rank_by``
        takes: ``val_acc``, ``val_bacc``, ``val_f1`` or ``val_loss`` for classes,
        ``val_mse``, ``val_mae``, ``val_rmse``, ``val_r2`` or ``val_loss`` for a regression. A prune rule
        ranks by it as the report ranks: on unequal classes, ``val_bacc`` rather than the
        accuracy in ``val_metric``."""
        from mlplab.errors import ConfigError
        from mlplab.training.metrics import split_metrics

        if metric == "val_loss":
            return self.val_loss.copy()
        names = ("val_mse", "val_mae", "val_rmse", "val_r2") if self.task == "regression" else (
            "val_acc", "val_bacc", "val_f1"
        )  # fmt: skip
        if metric not in names:
            kind = "regression" if self.task == "regression" else "classification"
            raise ConfigError(
                f"val_score: {metric!r} is not a metric of a {kind} run; one of "
                f"{', '.join([*names, 'val_loss'])}"
            )
        if self.y_val is None or self.val_outputs is None:
            raise ConfigError("val_score: this event carries no validation outputs")
        name = metric.removeprefix("val_")
        return np.array([split_metrics(self.task, self.y_val, o)[name] for o in self.val_outputs])


@dataclass(frozen=True)
class Save:
    """A moment to write checkpoints (every ``save_every`` epochs) of the models ``ids``."""

    models: Models
    epoch: int
    step: int
    ids: Array  # the models to checkpoint


@dataclass(frozen=True)
class End:
    """Models that are done; each has a status, and (unless diverged) final metrics."""

    models: Models
    epoch: int
    step: int
    ids: Array  # [E] the models that end here
    statuses: list[str]  # finished | diverged | interrupted | pruned | failed
    messages: list[str]  # why, in one line ("" when finished normally)
    # {train_loss, train_acc, val_..., test_...}; {} if diverged; several regression targets
    # add their own numbers under target_metrics ({name: {train_mae: ...}})
    finals: list[dict[str, Any]]
    train_outputs: list[Array | None] = field(default_factory=list)  # eval outputs, train split
    # The last step's outputs before its update, where that step was of the whole training
    # split (full batch, the schedule's last epoch); else None.
    step_outputs: list[Array | None] = field(default_factory=list)


Event = Start | Step | Validate | Save | End


class Subscriber(Protocol):
    def __call__(self, event: Event) -> None: ...


# A search's prune rule (fit's ``prune``): given a Validate event, a bool mask over its
# ``ids``, True for each model to stop there.
Prune = Callable[[Validate], Any]


def as_json(event: Event) -> dict[str, Any]:
    """The event as JSON-ready values: ``{"event": "validate", "epoch": 3, "ids": [0, 1],
    "val_loss": [0.41, 0.38], ...}``.

    Arrays become lists of Python numbers; a loss that is not finite (a diverging model)
    becomes None, since JSON has no NaN or infinity. ``models`` and an End's
    ``train_outputs`` and ``step_outputs`` are left out: they are the models and their outputs, not the event's
    numbers. So are a Validate's ``y_val`` and ``val_outputs``, the rows behind its
    :meth:`Validate.val_score`. Every event also gives the ``names`` (run ids) of its
    models, in the order of ``ids``, and a Start their ``settings`` (dicts, as
    :meth:`Models.settings` gives them).
    """
    out: dict[str, Any] = {"event": type(event).__name__.lower()}
    for f in fields(event):
        if f.name not in ("models", "train_outputs", "step_outputs", "y_val", "val_outputs"):
            out[f.name] = _plain(getattr(event, f.name))
    # Ids repeat from stack to stack of a sweep; names (run ids) do not, so a page that
    # joins mid-run labels every event's models.
    out["names"] = [event.models.name(int(k)) for k in event.ids]
    if isinstance(event, Start):
        out["settings"] = [_plain(event.models.settings(int(k))) for k in event.ids]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
