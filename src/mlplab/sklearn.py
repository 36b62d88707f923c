"""scikit-learn estimators: :class:`MLPClassifier` and :class:`MLPRegressor`.

They take mlplab's setting names as constructor parameters (``n_layer``, ``hid_dim``,
``act``, ``optim``, ``lr`` ...), train with the same engines and loop as ``mlplab train``
(through :func:`mlplab.runner.train` on an in-memory :class:`~mlplab.data.dataset.Dataset`),
and follow scikit-learn's estimator contract, so they work in ``Pipeline``,
``GridSearchCV``, ``cross_val_score``, ``clone`` and ``pickle``.

>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from mlplab import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = make_pipeline(
...     StandardScaler(), MLPClassifier(hid_dim=32, lr=0.01, epoch=2000, random_state=0)
... )
>>> clf.fit(X, y).score(X, y) > 0.9
True

Settings are checked in :meth:`fit` (``__init__`` only stores them), by the same
:class:`~mlplab.config.Config` that checks a YAML file, and a bad value raises
``ValueError`` with Config's one-line message, e.g. ``setting 'lr': Input should be
greater than 0 (got -1.0)``. Text where a number or a bool belongs (``lr='0.01'``,
``use_bn='yes'``), which Config would convert, is refused the same way:
``setting 'lr': '0.01' is text, not a number``.

A fitted estimator is saved with :meth:`save` as an mlplab safetensors checkpoint and read
back with :meth:`load`; loading never unpickles, so a crafted file cannot run code.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypedDict, Unpack

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mlplab.config import (
    OTHER_NAMES,
    Config,
    check_known_settings,
    make_config,
    plain_value,
    setting_hint,
    without_unset_later,
)
from mlplab.data.dataset import (
    DATES_HINT,
    IN_MEMORY,
    Dataset,
    array_label,
    holds_dates,
    thousands_grouped,
)
from mlplab.engines.backend import Backend, ModelInit, ModelState
from mlplab.engines.choose import make_backend
from mlplab.engines.spec import ModelSpec
from mlplab.errors import (
    CheckpointError,
    ConfigError,
    MlplabError,
    RunBusy,
    flags_as_arguments,
    is_bool,
    short_repr,
    shorten,
    unexpanded_output,
    user_path,
)
from mlplab.training.events import End, Event, Subscriber, Validate
from mlplab.training.loop import LrSchedule, batch_bounds
from mlplab.training.metrics import predicted_classes, true_classes, untied

if TYPE_CHECKING:  # torch loads only when to_torch is called
    from torch import nn

__all__ = [
    "EXPECTED_FAILED_CHECKS",
    "EstimatorParams",
    "MLPClassifier",
    "MLPRegressor",
    "expected_failed_checks",
]

#: scikit-learn estimator checks that an estimator may fail, by check name, with the
#: reason; :func:`expected_failed_checks` says which apply to an instance. Predictions do
#: not depend on row order or batch size (see ``_MLPBase._refresh_predictor``), so the
#: row order and subset checks pass on every CPU. What is left is the check that a row of
#: weight 2 trains what two copies of it train: true of the loss, and so of full-batch
#: training up to rounding, but not at the check's rtol=1e-7 in float32.
_FLOAT32_WEIGHTS = (
    "float32: training on repeated rows sums the loss in another order than training "
    "on weighted rows, and the two models agree to about 1e-6, not to the check's "
    "rtol=1e-7. Passes with dtype='float64'."
)
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": _FLOAT32_WEIGHTS,
    "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_WEIGHTS,  # made dense
}
# Where rows are drawn (minibatches, dropout, a validation split) or batch statistics
# are taken (batch norm), repeated rows and weighted rows differ beyond rounding.
_DRAWN = (
    "sample_weight equals repeated rows in the loss, but minibatches, dropout, batch norm "
    "and the validation split draw or count repeated rows differently from weighted ones."
)


def _number(value: Any) -> float:
    """A parameter's number, or 0 for anything else ('auto', None): no such value draws."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return float(value) if ok else 0.0


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn checks that ``estimator`` may fail, with reasons.

    Made for ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``:
    nothing for a float64 estimator trained full batch without dropout, batch norm or a
    validation split.
    """
    p = estimator.get_params()
    drawn = _number(p["validation_fraction"]) > 0 or _number(p["dp_rate"]) > 0 or p["use_bn"]
    # 'auto' is min(200, rows): the whole of the checks' data, which have < 200 rows. (A
    # value fit refuses is not this function's to refuse: fit says it, in one line.)
    if drawn or 0 < _number(p["batch_size"]) < 200:
        return dict.fromkeys(EXPECTED_FAILED_CHECKS, _DRAWN)
    with contextlib.suppress(TypeError):
        if np.dtype(p["dtype"]) == np.float64:  # "float64" or np.float64, as fit takes both
            return {}
    return dict(EXPECTED_FAILED_CHECKS)


# Constructor parameters that are Config settings under the same name. ``random_state``
# becomes ``seed``; ``validation_fraction``, ``log_path`` and ``verbose`` are the
# estimator's own.
_SETTINGS = (
    "n_layer",
    "hid_dim",
    "hid_dims",
    "act",
    "use_bn",
    "dp_rate",
    "sc_type",
    "init",
    "optim",
    "lr",
    "mm",
    "l2_coef",
    "l1_coef",
    "lr_schedule",
    "lr_gamma",
    "lr_step",
    "epoch",
    "batch_size",
    "validate_every",
    "patience",
    "min_delta",
    "engine",
    "device",
    "dtype",
    "exp_name",
    "plots",
)


def _number_kinds() -> dict[str, str]:
    """The parameters that take a number or a bool, each with what it takes (in words): the
    Config settings of those types, read from Config so that a new one is not missed, and
    validation_fraction."""
    words: dict[Any, str] = {int: "a whole number", float: "a number", bool: "True or False"}
    kinds = {}
    for name in _SETTINGS:
        annotation = Config.model_fields[name].annotation
        if isinstance(annotation, type) and annotation in words:
            kinds[name] = words[annotation]
    kinds["batch_size"] += " or 'auto'"  # scikit-learn's 'auto' is the one text it takes
    kinds["validation_fraction"] = "a number"
    return kinds


_NUMBER_KINDS = _number_kinds()

# Kept as one block so both classes document every parameter the same way.
_PARAMETERS_DOC = """\
    n_layer : int, default=1
        Number of hidden layers; 0 is a linear model (the classifier's is logistic or
        softmax regression, the regressor's least squares).
    hid_dim : int, default=100
        Units in each hidden layer.
    hid_dims : str or tuple of int, optional
        A width per hidden layer, input side first, as ``'256-128'`` or ``(256, 128)``
        (scikit-learn's ``hidden_layer_sizes``); sets the number of layers and replaces
        ``n_layer`` and ``hid_dim``.
    act : str, default='relu'
        Hidden activation: sigmoid (alias logistic, scikit-learn's name), tanh, relu,
        leaky_relu, elu, selu, gelu, silu (alias swish), softplus, mish or identity
        (aliases linear, none); any case, with ``-`` or ``_`` (``LeakyReLU``).
    use_bn : bool, default=False
        BatchNorm1d after each hidden activation (Linear -> act -> BN -> Dropout).
    dp_rate : float, default=0.0
        Dropout rate after each hidden block, in [0, 1).
    sc_type : {'none', 'residual'}, default='none'
        Skip connections between hidden layers of equal width.
    init : {'default', 'xavier', 'kaiming', 'normal', 'torch'}, default='default'
        Weight initialization; ``default`` is PyTorch's ``nn.Linear`` init. Both engines
        start from the same weights for the same seed (``torch`` draws them with torch's
        own generator, as the lectures' labs do).
    optim : {'sgd', 'rmsprop', 'adagrad', 'adam', 'adamw'}, default='adam'
        Optimizer, with PyTorch's formulas and defaults (case-insensitive).
    lr : float, default=0.001
        Learning rate, > 0.
    mm : float, default=0.0
        Momentum for sgd and rmsprop, in [0, 1).
    l2_coef : float, default=0.0
        L2 penalty, passed to the optimizer as ``weight_decay`` on every parameter
        (decoupled for adamw).
    l1_coef : float, default=0.0
        L1 penalty on the weights (not the biases): after each update a weight moves
        ``lr * l1_coef`` toward 0 and stops there, so unneeded weights become exactly 0.
    lr_schedule : {'none', 'cosine', 'exponential', 'step'}, default='none'
        Learning-rate schedule over ``epoch`` epochs, applied once per epoch.
    lr_gamma : float, default=0.1
        Decay factor of the exponential and step schedules, in (0, 1].
    lr_step : int, default=30
        Epochs between decays of the step schedule.
    epoch : int, default=200
        Maximum number of epochs (passes over the training rows).
    batch_size : int or 'auto', default=200
        Minibatch size; a batch size of at least the number of rows, or 0, trains on
        all rows at once (one step per epoch). The default 200 is ``min(200, n)``, which
        is what scikit-learn's ``'auto'`` means, and ``'auto'`` is taken as 200.
    validate_every : int, default=1
        Evaluate the validation rows every N epochs (the entries of ``loss_curve_``,
        ``train_scores_`` and ``validation_scores_``; ``patience`` counts these
        validations).
    patience : int, default=10
        Stop after this many validations in a row without a lower validation loss;
        0 always trains all ``epoch`` epochs. With ``validation_fraction=0`` the
        validation loss is the (eval-mode) loss on the training rows. With patience,
        the model ends with the weights of its lowest validation loss, as
        scikit-learn's ``early_stopping`` does. Where all ``epoch`` epochs run without
        using up the patience, :meth:`fit` warns with scikit-learn's
        ``ConvergenceWarning``, as scikit-learn's MLP does at ``max_iter``.
    min_delta : float, default=0.0001
        A validation loss counts as lower, for ``patience``, only if it is lower than the
        best so far by more than this: scikit-learn's ``tol``, and its default. The
        regressor's loss is twice scikit-learn's (see ``loss_curve_``), so there its
        ``tol`` is ``min_delta = 2 * tol``.
    validation_fraction : float, default=0.0
        Fraction of the training rows held out to validate on (stratified for the
        classifier where each class has two rows or more), in [0, 1). 0 validates on
        the training rows themselves, trains on every row, and leaves
        ``validation_scores_`` None.
    engine : {'auto', 'torch', 'numpy'}, default='auto'
        ``numpy`` is mlplab's from-scratch engine, ``torch`` is PyTorch; ``auto`` picks
        numpy for small models on the CPU, where it is faster, and torch otherwise.
    device : str, default='auto'
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (the torch engine).
    dtype : {'float32', 'float64'}, default='float32'
        Floating-point precision of the weights and the arithmetic.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the data order, dropout and the validation split.
        An int is used as mlplab's ``seed`` (so ``random_state=7`` trains what
        ``mlplab train --seed 7`` trains); None or a RandomState draws a seed from it,
        so repeated fits differ.
    log_path : str or path-like, default=None
        Root folder of run records. None writes nothing; a folder gets the same run
        record as ``mlplab train`` (config.yaml, result.json, metrics.csv, TensorBoard
        events, checkpoints) under ``log_path/exp_name/exp_name-HASH``, where the data
        label that enters the hash is a digest of ``X`` and ``y``. The record's val and
        test splits are the validation rows (the training rows when
        ``validation_fraction=0``): the estimator has no test set of its own.
    exp_name : str, default='exp'
        Experiment name of the run record (letters, digits, '_', '-', '.').
    plots : {'png', 'svg', 'none'}, default='png'
        The run record's plots, as ``mlplab train --plots``; 'none' draws none, which a
        search of many fits with ``log_path`` wants (drawing takes most of a small fit's
        time). Without ``log_path`` nothing is drawn.
    verbose : bool or int, default=False
        Print a line an epoch (the step count and that step's batch loss, as
        ``mlplab train`` prints them) and the run's results table, of the train and val
        splits (the record's test split, the val rows again, is not shown)."""

_ATTRIBUTES_DOC = """\
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in :meth:`fit`, when ``X`` has string column names
        (a pandas DataFrame).
    loss_curve_ : list of float
        Mean training loss of each validated epoch (every ``validate_every`` epochs, and
        the last; every epoch by default): the loss of its minibatches, computed before
        each update, in training mode (weighted by ``sample_weight``). The regressor's
        loss is the mean squared error, twice scikit-learn's (which is half of it,
        ``squared_error / 2``): its values are 2x scikit-learn's for the same model, and
        the ``min_delta`` that stops where scikit-learn's ``tol`` does is ``2 * tol``.
    train_scores_ : list of float
        The score of the same minibatches at the same epochs: accuracy for the
        classifier, negative mean absolute error (averaged over targets) for the
        regressor; the run record's ``train_accs``/``train_maes`` curve.
    validation_loss_curve_ : list of float or None
        The validation loss at each validation of :meth:`fit` (its epochs of ``loss_curve_``), in
        eval mode: the loss that ``patience`` watches, and the run record's ``val_losses``
        (Keras' ``history.history["val_loss"]``). On the held-out rows
        (``validation_fraction``), else on the training rows; ``best_epoch_`` is where
        it was lowest. None for a model that :meth:`partial_fit` started, which validates
        nothing; :meth:`partial_fit` after :meth:`fit` leaves it as fit made it.
    n_iter_ : int
        Epochs trained, fewer than ``epoch`` when ``patience`` stopped the run; each
        :meth:`partial_fit` adds one.
    t_ : int
        Training rows seen by the optimizer, as scikit-learn counts them: ``n_iter_`` times
        the rows :meth:`fit` trained on (those not held out), plus the rows of each
        :meth:`partial_fit` call.
    best_epoch_ : int
        The epoch whose weights the model has: with ``patience``, the one of the lowest
        validation loss; else the last.
    best_loss_ : float or None
        The lowest of ``loss_curve_``, or None when rows are held out
        (``validation_fraction``), as scikit-learn's. The regressor's is a mean squared
        error, twice scikit-learn's (see ``loss_curve_``).
    best_validation_score_ : float or None
        ``validation_scores_`` at ``best_epoch_``: the held-out score of the model you
        have. None when no rows are held out. (scikit-learn's is the highest score.)
    n_outputs_ : int
        Outputs of the network.
    n_layers_ : int
        Layers counted as scikit-learn counts them: input, hidden and output.
    out_activation_ : str
        What turns the outputs into predictions: ``logistic`` (binary), ``softmax``
        (multiclass) or ``identity`` (the regressor), scikit-learn's names.
    loss_ : float
        The last entry of ``loss_curve_``; the regressor's is a mean squared error, twice
        scikit-learn's (see ``loss_curve_``).
    engine_ : str
        The engine that trained the model (``numpy`` or ``torch``).
    run_dir_ : pathlib.Path or None
        The run record's folder, or None without ``log_path`` (and for a model that
        :meth:`partial_fit` started: it writes no record)."""


def _read_only(a: np.ndarray) -> np.ndarray:
    """A copy that refuses writes: ``coefs_[0][:] = 0`` would leave the model as it was."""
    a.flags.writeable = False
    return a


def _why(err: OSError) -> str:
    """What an OSError of a write says, as a folder's fault where it is one: a file
    named where the path needs a folder (`afile/x.safetensors`)."""
    if isinstance(err, NotADirectoryError):
        return "a part of its path is a file, not a folder"
    return err.strerror or type(err).__name__


class EstimatorParams(TypedDict, total=False):
    """The parameters MLPClassifier and MLPRegressor share, as ``_MLPBase.__init__`` takes
    them, for type checkers and editors: they read no ``__signature__``, and saw
    ``**params: Any``, so that ``MLPClassifier(hid_dimm=3)`` or ``lr="fast"`` passed mypy.
    A test keeps this list and that signature one."""

    n_layer: int
    hid_dim: int
    hid_dims: str | tuple[int, ...] | None
    act: str
    use_bn: bool
    dp_rate: float
    sc_type: str
    init: str
    optim: str
    lr: float
    mm: float
    l2_coef: float
    l1_coef: float
    lr_schedule: str
    lr_gamma: float
    lr_step: int
    epoch: int
    batch_size: int | str
    validate_every: int
    patience: int
    min_delta: float
    validation_fraction: float
    engine: str
    device: str
    dtype: str
    random_state: int | np.random.RandomState | None
    log_path: str | os.PathLike[str] | None
    exp_name: str
    plots: str
    verbose: bool | int


class _MLPBase(BaseEstimator):
    """What the classifier and the regressor share: parameters, training, state."""

    # Estimator-only parameters, in scikit-learn's declarative form; the rest are Config
    # settings and are checked by Config, with the same message as a YAML file would get.
    # validation_fraction, a number as the settings are, is checked as they are (in
    # _check_params), so that every number gets one form of message.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "validation_fraction": "no_validation",
        "random_state": ["random_state"],
        "log_path": [None, str, os.PathLike],
        "verbose": ["verbose"],
    }
    _task_kind: ClassVar[str] = "regression"  # Config.task label of the run

    def __init__(
        self,
        *,
        n_layer: int = 1,
        hid_dim: int = 100,
        hid_dims: str | tuple[int, ...] | None = None,
        act: str = "relu",
        use_bn: bool = False,
        dp_rate: float = 0.0,
        sc_type: str = "none",
        init: str = "default",
        optim: str = "adam",
        lr: float = 1e-3,
        mm: float = 0.0,
        l2_coef: float = 0.0,
        l1_coef: float = 0.0,
        lr_schedule: str = "none",
        lr_gamma: float = 0.1,
        lr_step: int = 30,
        epoch: int = 200,
        batch_size: int | str = 200,
        validate_every: int = 1,
        patience: int = 10,
        min_delta: float = 1e-4,
        validation_fraction: float = 0.0,
        engine: str = "auto",
        device: str = "auto",
        dtype: str = "float32",
        random_state: int | np.random.RandomState | None = None,
        log_path: str | os.PathLike[str] | None = None,
        exp_name: str = "exp",
        plots: str = "png",
        verbose: bool | int = False,
    ) -> None:
        self.n_layer = n_layer
        self.hid_dim = hid_dim
        self.hid_dims = hid_dims
        self.act = act
        self.use_bn = use_bn
        self.dp_rate = dp_rate
        self.sc_type = sc_type
        self.init = init
        self.optim = optim
        self.lr = lr
        self.mm = mm
        self.l2_coef = l2_coef
        self.l1_coef = l1_coef
        self.lr_schedule = lr_schedule
        self.lr_gamma = lr_gamma
        self.lr_step = lr_step
        self.epoch = epoch
        self.batch_size = batch_size
        self.validate_every = validate_every
        self.patience = patience
        self.min_delta = min_delta
        self.validation_fraction = validation_fraction
        self.engine = engine
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.log_path = log_path
        self.exp_name = exp_name
        self.plots = plots
        self.verbose = verbose

    # --- what the subclasses define ---------------------------------------------------------
    def _validate_targets(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """``validate_data`` for X and y, plus the checks of the target kind."""
        raise NotImplementedError

    def _learn_targets(self, y: np.ndarray, classes: Any = None, *, partial: bool = False) -> None:
        """Remember what the targets are (``classes_``, y's shape) when a model starts."""
        raise NotImplementedError

    def _check_targets_again(self, y: np.ndarray, classes: Any = None) -> None:
        """partial_fit's later calls: the targets must match the model's outputs."""
        raise NotImplementedError

    def _encode_targets(self, y: np.ndarray) -> tuple[str, np.ndarray]:
        """mlplab's task and its form of ``y`` (see :class:`Dataset`)."""
        raise NotImplementedError

    def _scores(self, record: dict[str, Any], split: str = "train") -> list[float]:
        """The score curve of ``split`` (train or val) from a run's curves."""
        raise NotImplementedError

    def _weighted_score(
        self, task: str, y_enc: np.ndarray, outputs: np.ndarray, weights: np.ndarray | None
    ) -> float:
        """The score of ``validation_scores_`` with row ``weights`` (None: evenly), from the
        encoded targets and the network's outputs."""
        raise NotImplementedError

    def _row_weights(
        self, X: np.ndarray, y: np.ndarray, sample_weight: Any, partial: bool = False
    ) -> np.ndarray | None:
        """Each row's weight in the loss, ``[N]``, or None when every row weighs the same.

        ``partial``: for :meth:`partial_fit`, whose batch alone cannot tell the classes'
        frequencies."""
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)

    def _label_kind(self) -> str | None:
        """What the record's class names were (see ``Dataset.label_kind``): None here."""
        return None

    def _output_names(self, y_enc: np.ndarray) -> tuple[list[str], list[str] | None]:
        """(target names, class names) for the Dataset."""
        raise NotImplementedError

    def _note_target_names(self, y: Any) -> None:
        """Keep what the targets are named in ``y`` as given (a regressor's); a classifier's
        classes name its outputs."""

    # --- parameters -> Config ---------------------------------------------------------------
    def _check_params(self) -> Config:
        """Validate every parameter once, at the start of fitting; raise ValueError."""
        for name, takes in _NUMBER_KINDS.items():
            value = getattr(self, name)
            # Config (pydantic, lax) would read '0.01' as 0.01 and 'yes' as True. Text where
            # a number or a bool belongs is a mistake in Python (a value read from a file and
            # not parsed, a grid of strings), refused as scikit-learn refuses it.
            if isinstance(value, str | bytes) and not (name == "batch_size" and value == "auto"):
                raise ValueError(f"setting {name!r}: {short_repr(value)} is text, not {takes}")
        if isinstance(self.hid_dim, list | tuple | np.ndarray):
            # hidden_layer_sizes=(100,) carried over: one width per layer is hid_dims here.
            raise ValueError(
                f"setting 'hid_dim': {short_repr(self.hid_dim)} is not a whole number; it is "
                f"one width for every hidden layer, and a width per layer is "
                f"hid_dims={short_repr(tuple(_plain_ints(self.hid_dim)))}"
            )
        self._validate_params()
        if not isinstance(self.validation_fraction, numbers.Real) or is_bool(
            self.validation_fraction
        ):
            raise ValueError(
                f"setting 'validation_fraction': {short_repr(self.validation_fraction)} is not "
                "a number"
            )
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"setting 'validation_fraction': must be in [0, 1) (got {self.validation_fraction!r})"
            )
        values = {name: plain_value(getattr(self, name)) for name in _SETTINGS}
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            values["batch_size"] = 200  # scikit-learn's 'auto': min(200, rows), as 200 is here
        if not isinstance(self.dtype, str):
            # np.float64 or np.dtype("float32"), as NumPy users write a dtype.
            with contextlib.suppress(TypeError):
                values["dtype"] = np.dtype(self.dtype).name
        if isinstance(self.hid_dims, (tuple, list, np.ndarray)):
            # Each width as the number it is; () stays a list, which the config refuses
            # with the setting that means it (n_layer 0), as "" could not.
            values["hid_dims"] = [plain_value(w) for w in self.hid_dims]
        if self.hid_dims is not None:
            del values["n_layer"]  # hid_dims says how many layers there are
        if not self.patience and isinstance(self.min_delta, numbers.Real) and self.min_delta >= 0:
            del values["min_delta"]  # its default applies to patience alone: no note of it
        values.update(
            seed=_seed_of(self.random_state),
            task=self._task_kind,
            data=IN_MEMORY,
            standardize=False,  # features are used as given (a Pipeline scales them)
            log_every=0,  # fit prints a line an epoch where verbose asks
        )
        if self.log_path is not None:
            values["log_path"] = os.fspath(self.log_path)
        if self.validation_fraction > 0:
            # The rows held out are part of the experiment: in the record, and in the run's
            # hash, so fits that differ in it do not share (and overwrite) one run folder.
            fraction = float(self.validation_fraction)
            values["split"] = [1.0 - fraction, fraction]
        try:
            cfg = make_config(_away_from_defaults(values, type(self)))
        except MlplabError as err:  # one line, as ValueError: what scikit-learn expects
            raise ValueError(_in_python(str(err))) from None
        if self.hid_dims is not None and self.n_layer not in (1, cfg.n_layer):
            # hid_dims gives the layers; an n_layer beside it would change nothing, and a
            # search over n_layer would fit one model again and again (train notes it too).
            warnings.warn(
                f"{type(self).__name__}: n_layer={self.n_layer} is ignored: hid_dims="
                f"{short_repr(self.hid_dims)} gives {cfg.n_layer} hidden "
                f"layer{'s' if cfg.n_layer != 1 else ''}",
                UserWarning,
                stacklevel=5,  # the line of the user's fit or partial_fit, four calls up
            )
        return cfg

    def set_params(self, **params: Any) -> Self:
        """scikit-learn's ``set_params``; a scikit-learn MLP name (``max_iter``, from a
        search grid written for it) is refused with mlplab's name for it."""
        valid = self.get_params(deep=False)
        for name in params:
            ours = _sklearn_name(type(self), name)
            if ours is not None:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}; "
                    f"here, use {ours} (scikit-learn's {name})"
                )
            if name not in valid and "__" not in name:
                # Keras' and PyTorch's names (seed, units), as the constructor hints them.
                hint = setting_hint(name, list(valid), other=_ESTIMATOR_NAMES)
                if hint:
                    raise ValueError(
                        f"Invalid parameter {name!r} for estimator {type(self).__name__}{hint}"
                    )
        return super().set_params(**params)

    # --- fitting ----------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        before = dict(self.__dict__)
        try:
            return self._fit_afresh(X, y, sample_weight)
        except BaseException:
            # A fit that fails (bad input, a diverged run, Ctrl-C) leaves the estimator as
            # it was: the model of the last fit that worked, or not fitted at all, never a
            # half-set one whose predict is an AttributeError.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_afresh(self, X: Any, y: Any, sample_weight: Any) -> Self:
        from mlplab.runner import train

        cfg = self._check_params()
        for name in ("_backend", "_predictor64"):
            self.__dict__.pop(name, None)  # fit starts over
        self._note_target_names(y)  # before validation turns a DataFrame into an array
        X, y = self._validate_targets(X, y, reset=True)
        self._learn_targets(y)
        weights = self._row_weights(X, y, sample_weight)
        task, y_enc = self._encode_targets(y)
        label = array_label(X, y, weights) if self.log_path is not None else IN_MEMORY
        data, held_out_rows = self._dataset(label, task, X, y_enc, cfg.seed, weights)
        if cfg.patience:  # the model this estimator predicts with: its record's by default
            data.record_facts["kept_model"] = "best"
        if self.log_path is not None and self._weight_facts():
            # The class weights are in the rows' weights, so in the run's data label (its
            # identity: another weighting is another run). A report shows the arrays as
            # one dataset, weighted as its class_weight column says, not as "data swept".
            rows_only = _MLPBase._row_weights(self, X, y, sample_weight)
            data.record_facts["data_shown"] = array_label(X, y, rows_only)
        rows = len(data.y_train)
        if cfg.use_bn and rows < 2:
            raise ValueError(
                f"setting 'use_bn': batch norm needs 2 or more training rows; this fit has "
                f"{rows}" + (" after validation_fraction" if self.validation_fraction else "")
            )
        # min(batch_size, rows), as documented (and as scikit-learn's 'auto' is): the same
        # full-batch steps, without train()'s note that the batch exceeds the rows; and with
        # verbose a line an epoch, as scikit-learn's MLP prints its iterations.
        batch = min(cfg.batch_size, rows)
        log_every = len(batch_bounds(rows, batch)) if self.verbose else 0
        changed = {"data": label, "batch_size": batch, "log_every": log_every}
        if any(getattr(cfg, k) != v for k, v in changed.items()):
            try:
                # The settings given before, and no more: to_dict() has every one.
                given = {k: v for k, v in cfg.to_dict().items() if k in cfg.model_fields_set}
                cfg = make_config({**given, **changed})
            except MlplabError as err:  # one line, as ValueError: what scikit-learn expects
                raise ValueError(_in_python(str(err))) from None
        # scikit-learn scores the held-out rows with their sample_weight
        # (_score(X_val, y_val, sample_weight_val)); the loop's val curve, which the run
        # record keeps for every mlplab run, counts each row once. So with weights the
        # estimator scores the model at each validation itself (one more forward pass over
        # the held-out rows). class_weight is not in it: scikit-learn's SGDClassifier,
        # which has both, scores its held-out rows by sample_weight alone.
        weighted_scores: list[float] = []
        subscribers: list[Subscriber] = []
        if sample_weight is not None and held_out_rows is not None:
            w_val = _check_sample_weight(sample_weight, X, dtype=np.float64)[held_out_rows]
            subscribers.append(
                self._held_out_scorer(task, data.X_val, data.y_val, w_val, weighted_scores)
            )
        try:
            result = train(
                cfg,
                dataset=data,
                verbose=bool(self.verbose),
                record=self.log_path is not None,
                subscribers=subscribers,
            )
        except RunBusy:  # no bad value: another fit trains this run now (retry later)
            raise
        except MlplabError as err:  # e.g. an unwritable log_path, numpy engine on cuda
            raise ValueError(_in_python(str(err))) from None
        rec = result.record
        from mlplab.console import constant_loss, scale_note, unscaled_features_note

        # verbose=True prints it among the run's notes; silent, a fit to R² -5.8 of prices
        # said only "raise epoch" where the target's scale was why. A ConvergenceWarning:
        # the model fit poorly, and a search's grid filters it with the others.
        scale = scale_note(data, rec)
        if result.status == "diverged":
            raise ValueError(_diverged(self, rec.get("message", "the run diverged")))
        if scale and not self.verbose:
            warnings.warn(f"{type(self).__name__}: {scale}", ConvergenceWarning, stacklevel=4)
        # The engine keeps the data it trained on; the fitted estimator has no use for it.
        result.backend.set_data({})
        if cfg.patience:
            _restore_best(result.backend)
        self._backend: Backend = result.backend
        self._cfg = cfg
        self._spec = result.spec
        self._task = task
        self._order_rng: np.random.Generator | None = None
        self.engine_ = str(rec["engine_used"])
        self.n_outputs_ = result.spec.out_dim
        self.loss_curve_ = [float(v) for v in result.curves["train_losses"]]
        self.train_scores_ = self._scores(result.curves, "train")
        # What patience stopped on: "why did it stop at epoch 40?" had no answer in memory.
        self.validation_loss_curve_: list[float] | None = [
            float(v) for v in result.curves["val_losses"]
        ]
        # Scores on rows the model never trained on, or none (as scikit-learn's without
        # early_stopping): with validation_fraction=0 the "val" split is the training rows.
        held_out = self.validation_fraction > 0
        if subscribers:
            self.validation_scores_: list[float] | None = weighted_scores
        else:
            self.validation_scores_ = self._scores(result.curves, "val") if held_out else None
        self.n_iter_ = int(rec["epochs_run"])
        self.t_ = self.n_iter_ * rows
        self.run_dir_: Path | None = result.run_dir  # None: no log_path, no record
        kept = int(rec.get("best_epoch") or 0) if cfg.patience else 0
        self._note_best(kept or self.n_iter_, [int(e) for e in result.curves["val_epochs"]])
        # Not beside the scale's note: "raise epoch" of a loss that the scale kept high
        # read as the cure, and more epochs did not help.
        still_falling = cfg.patience and not rec.get("stopped_early") and self.n_iter_ >= cfg.epoch
        if still_falling and not scale and (unscaled := unscaled_features_note(data)):
            # Unscaled features of 2000 beside 15 crawl: "raise epoch" was no cure (0.44
            # accuracy, 0.96 with a StandardScaler first).
            warnings.warn(
                f"{type(self).__name__}: the loss was still falling after all {cfg.epoch} "
                f"epochs; {unscaled}",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif (
            cfg.patience
            and rec.get("stopped_early")
            and not scale
            and (nothing := constant_loss(data)) is not None
            and 0 < kept <= len(self.loss_curve_)
            and self.loss_curve_[kept - 1] >= nothing
            and (unscaled := unscaled_features_note(data))
        ):
            # Wine's proline of 1680 unscaled: patience stopped 8 fits in 10 on a loss that
            # swung, at accuracies from 0.08 to 0.78 (0.94 scaled), with no word at all.
            # Only a fit no better than knowing the classes' shares (or the mean): a good
            # fit on a year's column of 2000 is no fault of the scale.
            what = "the mean" if task == "regression" else "the classes' shares"
            warnings.warn(
                f"{type(self).__name__}: patience={cfg.patience} stopped the fit at epoch "
                f"{self.n_iter_} and kept epoch {kept}'s weights, whose training loss "
                f"{self.loss_curve_[kept - 1]:.4g} is no better than knowing {what} "
                f"({nothing:.4g}); {unscaled}",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif still_falling and not scale:
            # As scikit-learn's: the loss was still falling when the epochs ran out.
            warnings.warn(
                f"{type(self).__name__}: all {cfg.epoch} epochs ran and the "
                f"{'validation' if held_out else 'training'} loss was still falling "
                f"(patience={cfg.patience} was not used up); the model may not have "
                "converged: raise epoch",
                ConvergenceWarning,
                stacklevel=4,  # fit -> _fit -> _fit_afresh: the line of the user's fit
            )
        self._refresh_predictor()
        return self

    def _note_best(self, epoch: int, val_epochs: list[int]) -> None:
        """scikit-learn's ``best_loss_`` and ``best_validation_score_``, and the epoch whose
        weights the model has."""
        self.best_epoch_ = epoch
        scores = self.validation_scores_
        self.best_loss_ = None if scores else min(self.loss_curve_, default=None)
        at = val_epochs.index(epoch) if epoch in val_epochs else -1
        self.best_validation_score_ = scores[at] if scores else None

    def _held_out_scorer(
        self,
        task: str,
        X_val: np.ndarray,
        y_val: np.ndarray,
        w_val: np.ndarray,
        scores: list[float],
    ) -> Subscriber:
        """A subscriber that adds to ``scores`` the weighted score of the held-out rows at
        each validation, of the model as it is then (in eval mode, as the loop's val curve).
        """
        # Held-out rows that all weigh 0 (the split can draw only those) count evenly, as
        # they do in the validation loss (see _mean_one).
        weights = w_val if w_val.sum() > 0 else None

        def score(event: Event) -> None:
            if isinstance(event, Validate):
                outputs = event.models.predict(int(event.ids[0]), X_val)
                scores.append(self._weighted_score(task, y_val, outputs, weights))

        return score

    def _partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> Self:
        """One more epoch over ``(X, y)``, starting a model on the first call."""
        before = dict(self.__dict__)
        try:
            return self._one_more_epoch(X, y, sample_weight, classes)
        except BaseException:
            if "_backend" not in before or self.__dict__.get("_diverged"):
                # A first call that fails leaves no model; a model whose weights diverged
                # (updated in place, so not the model before the call) is one no more.
                params = self.get_params(deep=False)
                self.__dict__ = {k: v for k, v in before.items() if k in params}
            raise

    def _one_more_epoch(self, X: Any, y: Any, sample_weight: Any, classes: Any) -> Self:
        from mlplab.engines.choose import resolve_engine
        from mlplab.training.loop import Schedule, StackState
        from mlplab.training.loop import fit as loop_fit

        first = not hasattr(self, "_backend")
        if first:
            cfg = self._check_params()
            X, y = self._validate_targets(X, y, reset=True)
            self._learn_targets(y, classes, partial=True)
        else:
            cfg = self._cfg
            X, y = self._validate_targets(X, y, reset=False)
            self._check_targets_again(y, classes)
        weights = self._row_weights(X, y, sample_weight, partial=True)
        if weights is not None and not weights.sum() > 0:
            raise ValueError("sample_weight: every weight is 0; at least one row must count")
        task, y_enc = self._encode_targets(y)
        if cfg.use_bn and len(X) < 2:  # each engine would say it in its own words
            raise ValueError(
                "setting 'use_bn': batch norm needs 2 or more rows; this partial_fit has 1"
            )
        x_cast = np.array(X, dtype=cfg.dtype)  # a copy the engine may keep
        y_cast = y_enc.astype(cfg.dtype) if y_enc.dtype.kind == "f" else y_enc.astype(np.int64)

        if first:
            from mlplab.assemble import model_init, spec_of

            spec = spec_of(cfg, X.shape[1], self._n_outputs(y_enc), task)
            engine = resolve_engine(cfg.engine, spec, len(X), cfg.batch_size, cfg.device)
            try:
                self._backend = _new_backend(engine, spec, model_init(cfg, spec), cfg)
            except MlplabError as err:
                raise ValueError(_in_python(str(err))) from None
            self._cfg, self._spec, self._task = cfg, spec, task
            self.engine_ = engine
            self.n_outputs_ = spec.out_dim
            self.loss_curve_, self.train_scores_ = [], []
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.n_iter_, self.t_ = 0, 0
            self.run_dir_ = None
            self.best_epoch_, self.best_loss_, self.best_validation_score_ = 0, None, None
        if getattr(self, "_order_rng", None) is None:
            # Its own stream, apart from the one `fit` shuffles with.
            self._order_rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 2]))

        data: tuple[np.ndarray, ...] = (x_cast, y_cast)
        if weights is not None:
            data = (*data, _mean_one(weights).astype(cfg.dtype))
        self._backend.set_data({"train": data, "val": data, "test": data})
        schedule = Schedule(epoch=1, batch_size=cfg.batch_size, log_every=0)
        order_rng = self._order_rng
        assert order_rng is not None  # made on the first fit
        state = StackState.fresh([order_rng])
        ends: list[Any] = []

        def keep_end(event: Event) -> None:
            if isinstance(event, End):
                ends.append(event)

        try:
            # As in `train`: an overflow shows as a non-finite loss, reported as divergence.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loop_fit(
                    self._backend,
                    self._task,
                    {"train": y_cast, "val": y_cast, "test": y_cast},
                    schedule,
                    [LrSchedule(self._current_lr(cfg))],
                    state,
                    [keep_end],
                )
        finally:
            self._backend.set_data({})
            self._refresh_predictor()
        if ends and ends[-1].statuses[0] == "diverged":
            self._diverged = True
            message = _diverged(self, ends[-1].messages[0])
            raise ValueError(f"{message} The model is dropped (its weights are not finite).")
        h = state.loop_state(0).history
        self.loss_curve_.append(float(h.train_losses[-1]))
        self.train_scores_.extend(self._scores(_curves_record(self._task, h.train_metrics)))
        self.n_iter_ += 1
        self.t_ += len(y_cast)
        # The model now has the last weights, which no validation has scored.
        self.best_epoch_, self.best_validation_score_ = self.n_iter_, None
        self.best_loss_ = min(self.loss_curve_)
        return self

    def _current_lr(self, cfg: Config) -> float:
        # partial_fit goes on along the lr schedule by epochs trained (n_iter_), and stays
        # at its last value past `epoch`: a model trained by fit continues as it ended.
        s = LrSchedule(cfg.lr, cfg.lr_schedule, cfg.lr_gamma, cfg.lr_step)
        return s.at(min(self.n_iter_, cfg.epoch - 1), cfg.epoch)

    def _n_outputs(self, y_enc: np.ndarray) -> int:
        return y_enc.shape[1]

    def _dataset(
        self,
        label: str,
        task: str,
        X: np.ndarray,
        y: np.ndarray,
        seed: int,
        weights: np.ndarray | None = None,
    ) -> tuple[Dataset, np.ndarray | None]:
        """Split off the validation rows and wrap the arrays as mlplab's Dataset; with it,
        the indices of the rows held out (None when none are)."""
        if weights is not None and not weights.sum() > 0:
            raise ValueError("sample_weight: every weight is 0; at least one row must count")
        # An array's columns are x0, x1, ... by position, as an NPZ file's in a run, as
        # `mlplab predict` and scikit-learn's get_feature_names_out name them.
        feats = (
            [str(c) for c in self.feature_names_in_]
            if hasattr(self, "feature_names_in_")
            else [f"x{i}" for i in range(X.shape[1])]
        )
        targets, class_names = self._output_names(y)
        # A float, as train_test_split wants (a grid of np.float32 values gives those).
        fraction = float(self.validation_fraction)
        if fraction == 0:
            # Validate on the training rows; the run record's val and test are them too.
            ds = Dataset(
                label, task, X, y, X, y, X, y, feats, targets, class_names, shared_splits=True
            )
            ds.label_kind = self._label_kind()
            if weights is not None:
                ds.weights = dict.fromkeys(("train", "val", "test"), _mean_one(weights))
            # No split was drawn: data_seed drew nothing.
            ds.record_facts = {"data_seed": None, **self._weight_facts()}
            return ds, None
        idx = np.arange(len(X))
        strata = y.reshape(len(y), -1)[:, 0] if task != "regression" else None
        held = math.ceil(fraction * len(X))  # train_test_split's count
        if held >= len(X):
            # train_test_split's own message names its test_size, which the user never set.
            shown = f"{fraction:g}" if float(f"{fraction:g}") < 1 else repr(fraction)
            cure = (
                f"lower it to {_largest_fraction(len(X))} or below (0 validates on the "
                "training rows)"
                if len(X) > 1
                # scikit-learn's check of one row looks for "1 sample" in the message.
                else "a fit on 1 sample needs 0, which validates on the training row"
            )
            raise ValueError(
                f"validation_fraction={shown} holds out {held} of {len(X)} rows, leaving none "
                f"to train on; {cure}"
            )
        if strata is not None and held < len(class_names or []):
            # As scikit-learn refuses it: a validation set without every class would stop
            # training early by a loss of the classes it happens to hold.
            raise ValueError(
                f"validation_fraction={fraction:g} holds out {held} of {len(X)} rows, fewer "
                f"than the {len(class_names or [])} classes; raise it (0 validates on the "
                "training rows)"
            )
        try:
            tr, va = train_test_split(idx, test_size=fraction, random_state=seed, stratify=strata)
        except ValueError:
            if strata is None:
                raise
            # Too few rows of some class to stratify: a plain random split still works.
            tr, va = train_test_split(idx, test_size=fraction, random_state=seed)
            strata = None
        # The run record's test split is the validation rows: the estimator has no test set.
        X_va, y_va = X[va], y[va]  # one array for both: n_rows counts the rows once
        ds = Dataset(label, task, X[tr], y[tr], X_va, y_va, X_va, y_va, feats, targets, class_names)
        ds.label_kind = self._label_kind()
        if weights is not None:
            w_val = _mean_one(weights[va])
            ds.weights = {"train": _mean_one(weights[tr]), "val": w_val, "test": w_val}
        # What the record says of this split, which its settings do not: random_state drew
        # it (not data_seed, which the config keeps at 0), stratified by class where it is.
        ds.record_facts = {
            "data_seed": None,
            "stratify": strata is not None,
            "split_drawn_by": "seed",
            **self._weight_facts(),
        }
        return ds, va

    def _weight_facts(self) -> dict[str, Any]:
        """The record's class weighting (a classifier's class_weight), which enters the
        rows' weights, not the config: none here."""
        return {}

    # --- predicting -------------------------------------------------------------------------
    def _outputs(self, X: Any) -> np.ndarray:
        """Network outputs (logits or values), float64 ``[N, n_outputs_]``."""
        check_is_fitted(self)
        _check_no_text_columns(X, self)
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], accept_sparse=SPARSE
        )
        X = _dense(X, self)
        # A writable C array: PyTorch warns on read-only memory.
        X = np.require(X, dtype=np.float64, requirements=["C", "W"])
        model = self._backend if self._predictor64 is None else self._predictor64
        return np.asarray(model.predict(X)[0], dtype=np.float64)

    def _refresh_predictor(self) -> None:
        """Build the model that predicts, after the weights changed: float64 arithmetic.

        BLAS sums a matrix product in an order set by the matrix's shape and by a row's
        position in it, so in float32 a row's outputs change in their last bit (about
        1e-7) with the other rows of the call. The same weights, exactly, evaluated in
        float64 move by about 1e-16 instead: predictions then do not depend on row order
        or batch size at any tolerance a float32 model can be held to (scikit-learn's
        checks ask for 1e-7), on every CPU and BLAS.
        """
        self._predictor64: Backend | None = None  # float64 models predict with their own
        if self._cfg.dtype != "float64":
            from mlplab.assemble import model_init

            init = model_init(self._cfg, self._spec, weights=self._backend.export(0).weights)
            self._predictor64 = make_backend(
                self.engine_, self._spec, [init], device=self._cfg.device, dtype="float64"
            )

    @property
    def n_layers_(self) -> int:
        check_is_fitted(self)
        return self._spec.n_layer + 2

    @property
    def out_activation_(self) -> str:
        check_is_fitted(self)
        return {"binary": "logistic", "multiclass": "softmax"}.get(self._task, "identity")

    @property
    def loss_(self) -> float:
        check_is_fitted(self)
        return self.loss_curve_[-1]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights of the linear layers, input to output, each ``[fan_in, fan_out]``: copies
        of the engine's, read-only, as writing to them would not change the model."""
        check_is_fitted(self)
        sd = self._backend.export(0).weights
        names = [f"hidden.{i}.linear.weight" for i in range(self._spec.n_layer)] + ["out.weight"]
        return [_read_only(np.array(sd[n]).T) for n in names]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Biases of the linear layers, input to output, each ``[fan_out]`` (read-only
        copies, as :attr:`coefs_`)."""
        check_is_fitted(self)
        sd = self._backend.export(0).weights
        names = [f"hidden.{i}.linear.bias" for i in range(self._spec.n_layer)] + ["out.bias"]
        return [_read_only(np.array(sd[n])) for n in names]

    def to_torch(self) -> nn.Module:
        """The fitted network as an ordinary PyTorch ``nn.Module`` (``nn.Linear`` layers,
        ``nn.BatchNorm1d`` and ``nn.Dropout`` where it has them), a copy on the CPU in eval
        mode. It takes ``X`` as :meth:`predict` does (after a pipeline's own steps) and
        returns logits (classifier) or values (regressor)."""
        check_is_fitted(self)
        from mlplab.engines.torch.model import plain_module

        return plain_module(self._spec, self._backend.export(0).weights).eval()

    # --- saving -----------------------------------------------------------------------------
    def _portable_state(self) -> dict[str, Any]:
        """The trained engine as arrays and JSON-able metadata (no engine objects)."""
        ex = self._backend.export(0)
        return {
            "model": ex.weights,
            "optim": (ex.optim, ex.optim_meta),
            "rng": (ex.rng, ex.rng_meta),
        }

    def _restore_backend(self, state: dict[str, Any]) -> None:
        from mlplab.assemble import model_init

        init = model_init(self._cfg, self._spec, weights=state["model"])
        backend = _new_backend(self.engine_, self._spec, init, self._cfg)
        (optim, optim_meta), (rng, rng_meta) = state["optim"], state["rng"]
        backend.load(0, ModelState(state["model"], optim, optim_meta, rng, rng_meta))
        self._backend = backend
        self._refresh_predictor()

    def _fitted_meta(self) -> dict[str, Any]:
        order_rng: np.random.Generator | None = getattr(self, "_order_rng", None)
        return {
            "n_features_in_": int(self.n_features_in_),
            "feature_names_in_": (
                [str(c) for c in self.feature_names_in_]
                if hasattr(self, "feature_names_in_")
                else None
            ),
            "loss_curve_": self.loss_curve_,
            "train_scores_": self.train_scores_,
            "validation_scores_": self.validation_scores_,
            "validation_loss_curve_": self.validation_loss_curve_,
            "n_iter_": self.n_iter_,
            "t_": self.t_,
            "best_epoch_": self.best_epoch_,
            "best_loss_": self.best_loss_,
            "best_validation_score_": self.best_validation_score_,
            "n_outputs_": self.n_outputs_,
            "engine_": self.engine_,
            "run_dir_": None if self.run_dir_ is None else str(self.run_dir_),
            # partial_fit's row order goes on from here after load, as in memory. The state
            # is a dict of Python ints (PCG64's are 128-bit), which JSON keeps exactly.
            "order_rng": None if order_rng is None else order_rng.bit_generator.state,
        }

    def _load_fitted_meta(self, fitted: dict[str, Any]) -> None:
        self.n_features_in_ = int(fitted["n_features_in_"])
        if fitted.get("feature_names_in_") is not None:
            self.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        self.loss_curve_ = [float(v) for v in fitted["loss_curve_"]]
        self.train_scores_ = [float(v) for v in fitted.get("train_scores_", [])]
        scores = fitted["validation_scores_"]
        self.validation_scores_ = None if scores is None else [float(v) for v in scores]
        losses = fitted.get("validation_loss_curve_")  # files saved before it was kept: None
        self.validation_loss_curve_ = None if losses is None else [float(v) for v in losses]
        self.n_iter_ = int(fitted["n_iter_"])
        self.t_ = int(fitted.get("t_", 0))  # files saved before t_ was kept: unknown, 0
        self.best_epoch_ = int(fitted.get("best_epoch_", self.n_iter_))  # older files: the last
        self.best_loss_ = fitted.get("best_loss_", min(self.loss_curve_, default=None))
        self.best_validation_score_ = fitted.get("best_validation_score_")
        self.n_outputs_ = int(fitted["n_outputs_"])
        self.engine_ = str(fitted["engine_"])
        self.run_dir_ = None if fitted.get("run_dir_") is None else Path(fitted["run_dir_"])
        # Files saved before the order was kept have none: partial_fit then starts it anew.
        self._order_rng = _rng_from_state(fitted.get("order_rng"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted estimator as an mlplab checkpoint (one ``.safetensors`` file).

        The weights, optimizer state and RNG state are tensors; the parameters, the
        fitted attributes (``classes_``, ``n_features_in_``, curves ...), the state of
        the generator that orders :meth:`partial_fit`'s rows, the model spec and the
        resolved Config are JSON in the file's header. :meth:`load` reads it back
        without unpickling anything, and ``partial_fit`` then continues exactly as it
        would have on the saved estimator.

        Parameters
        ----------
        path : str or path-like
            The file to write (replaced atomically if it exists).
        """
        from mlplab import __version__
        from mlplab.runs.checkpoint import Checkpoint, save_checkpoint

        check_is_fitted(self)
        path = user_path(path)  # `~/models/a.safetensors`, as every path mlplab takes
        if why := unexpanded_output(path):
            raise ConfigError(f"save: {os.fspath(path)!r}: {why}")
        if os.path.isdir(path):  # else the error names the temporary file of the atomic write
            raise ConfigError(
                f"save: {os.fspath(path)!r} is a folder; give a file name such as model.safetensors"
            )
        state = self._portable_state()
        params = self.get_params(deep=False)
        # A RandomState cannot go into JSON; the seed it produced is in `config`.
        rs = params["random_state"]
        params["random_state"] = int(rs) if isinstance(rs, numbers.Integral) else None
        if params["log_path"] is not None:
            params["log_path"] = os.fspath(params["log_path"])
        if not isinstance(params["dtype"], str):  # np.float64, as fit accepts it: by name
            params["dtype"] = np.dtype(params["dtype"]).name
        params = self._params_for_json(params)
        meta = {
            "mlplab_version": __version__,
            "estimator": {
                "class": type(self).__name__,
                "params": params,
                # JSON has lists only: load() gives back the tuples get_params gave.
                "tuples": sorted(
                    k for k, v in self.get_params(deep=False).items() if isinstance(v, tuple)
                ),
                "fitted": self._fitted_meta(),
                "task": self._task,
            },
            "config": without_unset_later(self._cfg.to_dict()),
            "spec": self._spec.to_dict(),
            "engine": self.engine_,
            "optim": state["optim"][1],
            "rng": state["rng"][1],
        }
        try:
            save_checkpoint(
                path,
                Checkpoint(
                    model=state["model"], meta=meta, optim=state["optim"][0], rng=state["rng"][0]
                ),
            )
        except OSError as err:
            # The atomic write's temporary file was named (`.x.safetensors.u68a9o47.tmp`),
            # and a file where a folder is wanted read as no such folder.
            raise ConfigError(
                f"save: {os.fspath(path)!r} cannot be written ({_why(err)})"
            ) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read an estimator written by :meth:`save`; it predicts exactly as it did.

        Parameters
        ----------
        path : str or path-like
            A ``.safetensors`` file written by :meth:`save` of this class.

        Returns
        -------
        estimator
            A fitted estimator (``partial_fit`` continues its training).

        Raises
        ------
        mlplab.errors.CheckpointError
            If the file is missing, not a checkpoint, or holds something else (a run's
            checkpoint, or the other estimator class).
        """
        from mlplab.runs.checkpoint import load_checkpoint

        path = user_path(path)
        where = f"checkpoint {os.fspath(path)!r}"
        if Path(path).is_dir():
            # A run's folder was "checkpoint ... does not exist", of a folder that did.
            raise CheckpointError(
                f"{where} is a folder, not a file of {cls.__name__}.save"
                + (
                    f"; it is a training run's folder: mlplab.load_run({os.fspath(path)!r}) "
                    "loads its model"
                    if (Path(path) / "config.yaml").is_file()
                    else ""
                )
            )
        ckpt = load_checkpoint(path)
        est = ckpt.meta.get("estimator")
        if not isinstance(est, dict):
            run = Path(path).parent.parent  # RUN/checkpoints/best.safetensors
            folder = repr(os.fspath(run)) if (run / "config.yaml").is_file() else "RUN_DIR"
            raise CheckpointError(
                f"{where} is a training run's checkpoint, not a saved estimator; its run "
                f"folder loads the run: mlplab.load_run({folder}"
                + (", which='best')" if Path(path).name == "best.safetensors" else ")")
            )
        if est.get("class") != cls.__name__:
            raise CheckpointError(
                f"{where} holds the estimator {est.get('class')}, not {cls.__name__}; "
                f"load it with {est.get('class')}.load"
            )
        if isinstance(ckpt.meta.get("config"), dict):
            check_known_settings(ckpt.meta["config"], where)
        known = cls().get_params(deep=False)
        try:
            params = cls._params_from_json(est["params"], est["fitted"])
            for k in est.get("tuples", []):
                if isinstance(params.get(k), list):
                    params[k] = tuple(params[k])
            obj = cls(**{k: v for k, v in params.items() if k in known})
            obj._cfg = make_config(ckpt.meta["config"])
            obj._spec = ModelSpec.from_dict(ckpt.meta["spec"])
            obj._task = str(est["task"])
            obj._load_fitted_meta(est["fitted"])
            obj._load_extra_meta(est["fitted"])
            obj._restore_backend(
                {
                    "model": ckpt.model,
                    "optim": (ckpt.optim, ckpt.meta["optim"]),
                    "rng": (ckpt.rng, ckpt.meta["rng"]),
                }
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{where} has incomplete estimator metadata ({err})") from None
        return obj

    def _load_extra_meta(self, fitted: dict[str, Any]) -> None:
        """Subclass attributes (``classes_``) from the checkpoint's metadata."""

    def _params_for_json(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as :meth:`save` writes them (JSON) ..."""
        return params

    @classmethod
    def _params_from_json(cls, params: dict[str, Any], fitted: dict[str, Any]) -> dict[str, Any]:
        """... and as :meth:`load` gives them back."""
        return params

    # --- pickling ---------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # Pickle the engine as plain arrays, not as engine objects: the pickle stays small
        # (no training data, no autograd state) and loads where the engine's device differs.
        state = dict(super().__getstate__())
        state.pop("_predictor64", None)  # rebuilt from the weights on unpickling
        if "_backend" in state:
            state["_backend"] = self._portable_state()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # An estimator pickled by an older mlplab lacks each parameter added since
        # (l1_coef): its default, as its Config's settings get theirs (Config.__setstate__).
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and param.default is not param.empty:
                state.setdefault(name, param.default)
        if "n_iter_" in state:  # fitted: the attributes kept since, as load() fills them
            later = {
                "train_scores_": [],
                "validation_loss_curve_": None,
                "t_": 0,
                "best_epoch_": state["n_iter_"],
                "best_loss_": min(state.get("loss_curve_") or [], default=None),
                "best_validation_score_": None,
                "_order_rng": None,
            }
            for name, value in later.items():
                state.setdefault(name, value)
        portable = state.pop("_backend", None)
        super().__setstate__(state)
        if portable is not None:
            self._restore_backend(portable)


# =============================================================================================
class MLPClassifier(ClassifierMixin, _MLPBase):
    __doc__ = f"""Multilayer perceptron classifier trained by mlplab.

    Two classes train one sigmoid output with binary cross-entropy (mlplab's binary
    task, as in the XOR labs); three or more train a softmax output with
    cross-entropy. Labels may be any values (strings too): ``classes_`` holds them
    sorted, as :class:`~sklearn.preprocessing.LabelEncoder` orders them.

    ``class_weight`` and ``fit``'s ``sample_weight`` weigh each row's loss. Features
    are used as given; scale them with a
    :class:`~sklearn.pipeline.Pipeline` (``StandardScaler``) where their ranges differ.

    Parameters
    ----------
{_PARAMETERS_DOC}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss: ``{{label: weight}}`` (missing labels weigh
        1), or ``'balanced'``, ``n_samples / (n_classes * np.bincount(y))``, as in
        scikit-learn. Multiplied into ``sample_weight`` of :meth:`fit`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
{_ATTRIBUTES_DOC}
    validation_scores_ : list of float or None
        Accuracy on the held-out validation rows (``validation_fraction``) at each
        validation, of the model at the end of that epoch, in eval mode. None when no
        rows are held out (``validation_fraction=0``), as scikit-learn's without
        ``early_stopping``. With ``sample_weight``, each held-out row counts by its
        weight, as scikit-learn's ``score(X_val, y_val, sample_weight_val)``;
        ``class_weight`` does not enter it, and the run record's ``val_accs`` curve
        counts every row once.
    coefs_ : list of ndarray
        Weights of the linear layers, each ``[fan_in, fan_out]`` (read-only copies of the
        engine's).
    intercepts_ : list of ndarray
        Biases of the linear layers.

    See Also
    --------
    MLPRegressor : The same network for real-valued targets.
    mlplab.train : Train from a config, with the full run record.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlplab import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hid_dim=32, lr=0.01, epoch=1000, random_state=0).fit(X, y)
    >>> clf.n_iter_ < 1000  # patience stopped it once the loss no longer fell
    True
    >>> clf.predict(X[:2])
    array([0, 0])
    >>> clf.predict_proba(X[:1]).round(2)
    array([[1., 0., 0.]])
    """

    _task_kind = "classification"
    classes_: np.ndarray  # set by fit: the labels, sorted (a type checker's, not an attribute)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_MLPBase._parameter_constraints,
        "class_weight": [None, StrOptions({"balanced"}), dict],
    }

    def __init__(
        self,
        *,
        class_weight: str | dict[Any, float] | None = None,
        **params: Unpack[EstimatorParams],
    ) -> None:
        _check_param_names(type(self), dict(params))
        super().__init__(**params)
        self.class_weight = class_weight

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train a new model on ``(X, y)`` for up to ``epoch`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels; at least two distinct classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Each row's weight in the loss (non-negative, not all 0): the loss is the
            weighted mean over the rows, so a weight of 2 counts a row as two copies of
            it. None weighs every row the same.

        Returns
        -------
        self : MLPClassifier
        """
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> Self:
        """Train one more epoch on ``(X, y)``.

        The first call builds the model from the parameters (and ``random_state``) and
        needs ``classes``, every label that will ever appear; later calls train with the
        settings of that first call. A model fitted by :meth:`fit` continues from where
        :meth:`fit` stopped. The learning rate follows ``lr_schedule`` by ``n_iter_``
        and keeps its last value after ``epoch`` epochs; ``patience`` and
        ``validation_fraction`` do not apply (each call adds to ``train_scores_`` only). No
        run record is written.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Each row's weight in this epoch's loss, as in :meth:`fit`; a dict
            ``class_weight`` applies too ('balanced' does not: one batch cannot tell
            the classes' frequencies; a model fitted with it continues after
            ``set_params(class_weight=...)`` with the dict of the weights fit took).
        classes : array-like of shape (n_classes,), default=None
            All class labels; required on the first call, optional (and then equal to
            ``classes_``) afterwards.

        Returns
        -------
        self : MLPClassifier
        """
        if classes is None and not hasattr(self, "_backend"):
            # Checked before the data, so a refused first call leaves nothing fitted.
            raise ValueError(
                "classes must be passed on the first call to partial_fit (all labels that can occur)"
            )
        return self._partial_fit(X, y, sample_weight, classes)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        out = self._outputs(X)
        return self.classes_[predicted_classes(self._task, out)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        out = self._outputs(X)
        if self._task == "binary":
            p = expit(untied(out[:, 0]))  # overflow-free, unlike 1 / (1 + exp(-x))
            return np.stack([1.0 - p, p], axis=1)
        return softmax(out, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        out = self._outputs(X)
        if self._task == "binary":
            z = untied(out[:, 0])
            return np.stack([log_expit(-z), log_expit(z)], axis=1)
        return log_softmax(out, axis=1)

    # --- targets ----------------------------------------------------------------------------
    def _validate_targets(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        _check_no_text_columns(X, self, fitting=reset)
        try:
            X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, accept_sparse=SPARSE)
        except ValueError as err:
            if "y should be a 1d array" not in str(err):
                raise
            # scikit-learn's own line does not say what to do about it. One-hot labels (Keras'
            # to_categorical) are refused rather than read as classes, as scikit-learn's
            # classifiers refuse a 2-D y: predict returns what y was, and labels of shape
            # (n, k) would have to come back as such, which score() and cross_val_score
            # compare with. The labels themselves are one call away.
            Y = np.asarray(y)
            if _one_hot_rows(Y):
                raise ValueError(
                    f"{type(self).__name__} takes one label per sample; y of shape {Y.shape} "
                    "looks one-hot encoded (one 1 a row, as Keras' to_categorical writes): "
                    "pass the labels, y.argmax(axis=1)"
                ) from None
            raise ValueError(
                f"{type(self).__name__} takes one label per sample; y of shape "
                f"{np.asarray(y).shape} is multilabel or multi-output, which it does not "
                f"fit: fit one per column, e.g. MultiOutputClassifier({type(self).__name__}()) "
                "from sklearn.multioutput"
            ) from None
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} takes one label per sample (binary or multiclass), got {kind} targets"
            )
        return _dense(X, self), y

    def _learn_targets(self, y: np.ndarray, classes: Any = None, *, partial: bool = False) -> None:
        if partial:
            found = LabelEncoder().fit(np.asarray(classes)).classes_
            if len(found) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes, got classes={found.tolist()!r}"
                )
        else:
            found = LabelEncoder().fit(y).classes_
            if len(found) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {plain_value(found[0])!r}"
                )
        self.classes_ = found

    def _check_targets_again(self, y: np.ndarray, classes: Any = None) -> None:
        if classes is not None and not np.array_equal(
            LabelEncoder().fit(np.asarray(classes)).classes_, self.classes_
        ):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()!r} is not the classes the model has "
                f"learned ({self.classes_.tolist()!r}, from its fit or first partial_fit)"
            )

    def _encode_targets(self, y: np.ndarray) -> tuple[str, np.ndarray]:
        # Compared as Python values, not by LabelEncoder alone: against text classes_
        # it turned the numbers 0, 1, 2 into the labels '0', '1', '2' without a word.
        unseen = sorted(set(np.unique(y).tolist()) - set(self.classes_.tolist()), key=str)
        if unseen:
            raise ValueError(
                f"y has labels that are not in classes_ {self.classes_.tolist()!r}: {unseen!r}"
            )
        enc = LabelEncoder()
        enc.classes_ = self.classes_
        idx = enc.transform(y)
        if len(self.classes_) == 2:
            return "binary", idx.astype(np.float64)[:, None]
        return "multiclass", idx.astype(np.int64)

    def _n_outputs(self, y_enc: np.ndarray) -> int:
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _row_weights(
        self, X: np.ndarray, y: np.ndarray, sample_weight: Any, partial: bool = False
    ) -> np.ndarray | None:
        weights = super()._row_weights(X, y, sample_weight)
        if self.class_weight is None:
            return weights
        if partial and self.class_weight == "balanced":
            # As scikit-learn's SGDClassifier: one batch's class counts are not the data's.
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit; pass the "
                "weights of compute_class_weight('balanced', classes=classes, y=y) over "
                "the whole data as a dict (a model fitted with 'balanced' continues under "
                "the weights its fit took: set_params(class_weight=dict(zip(classes_, "
                "those weights))))"
            )
        if isinstance(self.class_weight, dict):
            # Against classes_, not the batch's labels: a partial_fit batch may lack a class
            # of the dict (and a class left out of it weighs 1, as in scikit-learn).
            classes = self.classes_.tolist()
            unknown = [plain_value(k) for k in self.class_weight if plain_value(k) not in classes]
            if unknown:
                raise ValueError(
                    f"setting 'class_weight': {unknown} are not classes of y "
                    f"({', '.join(map(str, classes))})"
                )
            given = [self.class_weight.get(c, 1.0) for c in classes]
            for c, w in zip(classes, given, strict=True):
                if not (
                    isinstance(w, numbers.Real) and not isinstance(w, bool) and 0 <= w < np.inf
                ):
                    # A negative weight trained the model to miss its class (the loss fell
                    # to -122); inf and NaN were told as a divergence, or as sample_weight's
                    # zeros.
                    raise ValueError(
                        f"setting 'class_weight': the weight of class {plain_value(c)!r} is "
                        f"{w!r}; class weights are finite numbers of 0 or more"
                    )
            per_class = np.array(given, dtype=np.float64)
            by_class = per_class[np.searchsorted(self.classes_, y)]
        else:
            by_class = compute_sample_weight(self.class_weight, y)
        return by_class if weights is None else weights * by_class

    def _weight_facts(self) -> dict[str, Any]:
        # class_weight is folded into the rows' weights, so the config says none: the
        # record says what was given ('balanced', or 'per class' with class_weights, each
        # class's weight), and config.yaml trains as it did.
        if self.class_weight is None:
            return {}
        if isinstance(self.class_weight, dict):
            weights = {str(plain_value(k)): float(v) for k, v in self.class_weight.items()}
            return {"class_weight": "per class", "class_weights": weights}
        return {"class_weight": str(self.class_weight)}

    def _label_kind(self) -> str | None:
        # So that the run record's model (load_run, mlplab predict) gives labels of the
        # kind predict gives: True, 2.0 or "1", not their text.
        kind = np.asarray(self.classes_).dtype.kind
        return "bool" if kind == "b" else "number" if kind in "iuf" else "text"

    def _output_names(self, y_enc: np.ndarray) -> tuple[list[str], list[str] | None]:
        return ["y"], [str(c) for c in self.classes_]

    def _scores(self, record: dict[str, Any], split: str = "train") -> list[float]:
        return [float(v) for v in record[f"{split}_accs"]]

    def _weighted_score(
        self, task: str, y_enc: np.ndarray, outputs: np.ndarray, weights: np.ndarray | None
    ) -> float:
        # accuracy_score's sample_weight: np.average of the hits
        correct = predicted_classes(task, outputs) == true_classes(task, y_enc)
        return float(np.average(correct, weights=weights))

    def _fitted_meta(self) -> dict[str, Any]:
        meta = super()._fitted_meta()
        meta["classes_"] = self.classes_.tolist()
        meta["classes_dtype"] = self.classes_.dtype.str if self.classes_.dtype != object else "O"
        return meta

    def _load_extra_meta(self, fitted: dict[str, Any]) -> None:
        self.classes_ = _saved_classes(fitted)

    def _params_for_json(self, params: dict[str, Any]) -> dict[str, Any]:
        # JSON keys are strings: a dict class_weight is kept as [label, weight] pairs, each
        # label as its place in classes_ ({"class": i}), so that load gives back the labels
        # as they were (an int stays an int; NumPy ints, which JSON refuses, become ints).
        if isinstance(self.class_weight, dict):
            where = {plain_value(c): i for i, c in enumerate(self.classes_.tolist())}
            params["class_weight"] = [
                [
                    {"class": where[plain_value(k)]} if plain_value(k) in where else plain_value(k),
                    float(v),
                ]
                for k, v in self.class_weight.items()
            ]
        return params

    @classmethod
    def _params_from_json(cls, params: dict[str, Any], fitted: dict[str, Any]) -> dict[str, Any]:
        weights = params.get("class_weight")
        classes = [plain_value(c) for c in _saved_classes(fitted)]
        if isinstance(weights, list):
            params["class_weight"] = {
                classes[k["class"]] if isinstance(k, dict) else k: v for k, v in weights
            }
        elif isinstance(weights, dict):  # an older file: the labels as JSON keys (text)
            by_text = {str(c): c for c in classes}
            params["class_weight"] = {by_text.get(k, k): v for k, v in weights.items()}
        return params


def _saved_classes(fitted: dict[str, Any]) -> np.ndarray:
    """``classes_`` as :meth:`MLPClassifier.save` wrote them."""
    return np.array(fitted["classes_"], dtype=np.dtype(fitted["classes_dtype"]))


# =============================================================================================
class MLPRegressor(RegressorMixin, _MLPBase):
    __doc__ = f"""Multilayer perceptron regressor trained by mlplab.

    A linear output layer trained with the mean squared error. ``y`` of shape
    ``(n_samples,)`` gives predictions of that shape; ``y`` of shape
    ``(n_samples, n_targets)`` trains one output per target (multi-output).

    Neither features nor targets are scaled; put a ``StandardScaler`` in a
    :class:`~sklearn.pipeline.Pipeline` for ``X``, and use
    :class:`~sklearn.compose.TransformedTargetRegressor` where ``y`` is large.

    Parameters
    ----------
{_PARAMETERS_DOC}

    Attributes
    ----------
{_ATTRIBUTES_DOC}
    validation_scores_ : list of float or None
        Negative mean absolute error on the held-out validation rows
        (``validation_fraction``) at each validation, averaged over targets; None when
        no rows are held out. Negative, so higher is better as for every scikit-learn
        score. With ``sample_weight``, each held-out row counts by its weight, as in
        scikit-learn (``mean_absolute_error(..., sample_weight=...)``); without, it is the
        ``val_maes`` curve of the run record with its sign flipped (the record's curve
        counts every row once either way).
    coefs_ : list of ndarray
        Weights of the linear layers, each ``[fan_in, fan_out]`` (read-only copies of the
        engine's).
    intercepts_ : list of ndarray
        Biases of the linear layers.

    See Also
    --------
    MLPClassifier : The same network for class labels.
    mlplab.train : Train from a config, with the full run record.

    Examples
    --------
    >>> import numpy as np
    >>> from mlplab import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(500, 1))
    >>> reg = MLPRegressor(hid_dim=32, lr=0.01, epoch=300, random_state=0).fit(X, np.sin(X[:, 0]))
    >>> reg.score(X, np.sin(X[:, 0])) > 0.9  # doctest: +SKIP
    True
    """

    _task_kind = "regression"

    def __init__(self, **params: Unpack[EstimatorParams]) -> None:
        _check_param_names(type(self), dict(params))
        super().__init__(**params)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train a new model on ``(X, y)`` for up to ``epoch`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Each row's weight in the loss (non-negative, not all 0): the loss is the
            weighted mean over the rows, so a weight of 2 counts a row as two copies of
            it. None weighs every row the same.

        Returns
        -------
        self : MLPRegressor
        """
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train one more epoch on ``(X, y)``.

        The first call builds the model from the parameters; later calls train with the
        settings of that first call, and a model fitted by :meth:`fit` continues from
        where :meth:`fit` stopped. The learning rate follows ``lr_schedule`` by
        ``n_iter_`` and keeps its last value after ``epoch`` epochs; ``patience`` and
        ``validation_fraction`` do not apply (each call adds to ``train_scores_`` only). No
        run record is written.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The same number of targets on every call.
        sample_weight : array-like of shape (n_samples,), default=None
            Each row's weight in this epoch's loss, as in :meth:`fit`.

        Returns
        -------
        self : MLPRegressor
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The shape of the ``y`` that the model was fitted on.
        """
        out = self._outputs(X)
        return out[:, 0] if self._y_1d else out

    def _validate_targets(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        _check_no_text_columns(X, self, fitting=reset)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=np.float64,
            multi_output=True,
            y_numeric=True,
            accept_sparse=SPARSE,
        )
        return _dense(X, self), np.asarray(y, dtype=np.float64)

    def _learn_targets(self, y: np.ndarray, classes: Any = None, *, partial: bool = False) -> None:
        self._y_1d = y.ndim == 1

    def _check_targets_again(self, y: np.ndarray, classes: Any = None) -> None:
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if n_out != self.n_outputs_ or (y.ndim == 1) != self._y_1d:
            fitted = "(n_samples,)" if self._y_1d else f"(n_samples, {self.n_outputs_})"
            raise ValueError(
                f"y has shape {y.shape}, but {type(self).__name__} was fitted on targets "
                f"of shape {fitted}"
            )

    def _encode_targets(self, y: np.ndarray) -> tuple[str, np.ndarray]:
        return "regression", y.reshape(len(y), -1)

    def _note_target_names(self, y: Any) -> None:
        # A DataFrame y's column names (a Series' name) name the targets in the record and
        # in `mlplab predict`'s columns, as X's name the features; else y0, y1, ...
        names = list(getattr(y, "columns", [getattr(y, "name", None)]))
        named = all(isinstance(n, str) and n.strip() for n in names)  # "" names no column
        self._y_names = [str(n) for n in names] if named else None

    def _output_names(self, y_enc: np.ndarray) -> tuple[list[str], list[str] | None]:
        n = y_enc.shape[1]
        named = getattr(self, "_y_names", None)
        if named and len(named) == n and len(set(named)) == n:
            return list(named), None
        return (["y"] if n == 1 else [f"y{i}" for i in range(n)]), None

    def _scores(self, record: dict[str, Any], split: str = "train") -> list[float]:
        return [-float(v) for v in record[f"{split}_maes"]]

    def _weighted_score(
        self, task: str, y_enc: np.ndarray, outputs: np.ndarray, weights: np.ndarray | None
    ) -> float:
        # mean_absolute_error's sample_weight: each target's weighted mean, then their mean
        errors = np.abs(y_enc - outputs)
        return -float(np.average(errors, axis=0, weights=weights).mean())

    def _fitted_meta(self) -> dict[str, Any]:
        meta = super()._fitted_meta()
        meta["y_1d"] = self._y_1d
        return meta

    def _load_extra_meta(self, fitted: dict[str, Any]) -> None:
        self._y_1d = bool(fitted["y_1d"])


# scikit-learn reads an estimator's parameters from the signature of its __init__: the
# classifier's are the shared ones of _MLPBase.__init__ (written once, there) and class_weight.
_shared = inspect.signature(_MLPBase.__init__)
MLPRegressor.__init__.__signature__ = _shared  # type: ignore[attr-defined]
MLPClassifier.__init__.__signature__ = _shared.replace(  # type: ignore[attr-defined]
    parameters=[
        *_shared.parameters.values(),
        inspect.Parameter("class_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
    ]
)


# --- helpers ---------------------------------------------------------------------------------
# scikit-learn's MLP parameters that a user tries first, and what sets the same here.
_SKLEARN_NAMES = {
    "hidden_layer_sizes": "hid_dims",
    "activation": "act",
    "solver": "optim",
    # scikit-learn adds alpha * W / batch to the weights' gradients; l2_coef * w decays every
    # parameter, biases too: the same for the weights at l2_coef = alpha / batch.
    "alpha": "l2_coef = alpha / batch_size, which decays the biases too (alpha=1e-4 with "
    "batches of 200 is l2_coef=5e-7)",
    "learning_rate_init": "lr",
    "learning_rate": "lr_schedule ('constant' is lr_schedule='none'; the schedules are "
    "cosine, exponential and step, with no invscaling or adaptive)",
    "max_iter": "epoch",
    "momentum": "mm",
    "n_iter_no_change": "patience",
    "tol": "min_delta",
    "early_stopping": "patience with validation_fraction",
    "warm_start": "partial_fit(X, y), one epoch per call, which continues from the weights",
    # Without a counterpart: said so, rather than a bare "unexpected keyword".
    "shuffle": "nothing: the rows are shuffled every epoch, in the order random_state draws",
    "beta_1": "nothing: optim='adam' takes PyTorch's betas (0.9, 0.999) and eps 1e-8",
    "beta_2": "nothing: optim='adam' takes PyTorch's betas (0.9, 0.999) and eps 1e-8",
    "epsilon": "nothing: optim='adam' takes PyTorch's betas (0.9, 0.999) and eps 1e-8",
    "nesterovs_momentum": "nothing: optim='sgd' with mm is momentum without Nesterov's step",
    "power_t": "nothing: lr_schedule is one of none, cosine, exponential, step",
    "max_fun": "nothing: there is no lbfgs solver",
}
# MLPRegressor's loss is the mean squared error, twice scikit-learn's (squared_error / 2):
# the same penalty and the same stopping rule take twice its numbers.
_REGRESSOR_NAMES = {
    "alpha": "l2_coef = 2 * alpha / batch_size (the loss is the mean squared error, twice "
    "scikit-learn's), which decays the biases too (alpha=1e-4 with batches of 200 is "
    "l2_coef=1e-6)",
    "tol": "min_delta = 2 * tol (the loss is the mean squared error, twice scikit-learn's)",
}


def _sklearn_name(cls: type, name: str) -> str | None:
    """What sets scikit-learn's parameter ``name`` in estimator ``cls``, or None."""
    ours = _REGRESSOR_NAMES.get(name) if issubclass(cls, MLPRegressor) else None
    return ours or _SKLEARN_NAMES.get(name)


# Keras' and PyTorch's names that the estimators name otherwise than a config does.
_ESTIMATOR_NAMES = {
    **OTHER_NAMES,
    "seed": "random_state",  # mlplab train's seed, and Keras' and PyTorch's habit
    "validation_split": "validation_fraction",
}


def _check_param_names(cls: type, params: dict[str, Any]) -> None:
    """Python's TypeError for an unknown keyword would name the private base class; this one
    names the estimator, and mlplab's name for a scikit-learn parameter."""
    known = [n for n in _shared.parameters if n != "self"]
    for name, value in params.items():
        if name not in known:
            ours = _sklearn_name(cls, name)
            if (
                name == "learning_rate"
                and isinstance(value, numbers.Real)
                and not isinstance(value, bool)
            ):
                # A number is Keras' and PyTorch's step size, not scikit-learn's schedule name.
                ours = None
            # Else PyTorch's names (hidden_size) and near misses, as a config's hint has them.
            hint = (
                f" (scikit-learn's {name}: here {ours})"
                if ours
                else setting_hint(name, known, other=_ESTIMATOR_NAMES)
            )
            raise TypeError(
                f"{cls.__name__}() got an unexpected keyword argument {name!r}{hint}; "
                f"its parameters are {', '.join(known)}"
                + (", class_weight" if issubclass(cls, ClassifierMixin) else "")
            )


def _away_from_defaults(values: dict[str, Any], estimator: type) -> dict[str, Any]:
    """``values`` without those at Config's defaults where the estimator's default is the
    same, which the config takes all the same: an estimator passes every parameter, and a
    verbose fit then noted defaults it never set (``--lr_gamma 0.1``, ``--mm 0.0`` of
    adam) as settings given and unused. One whose default is the estimator's own (epoch
    200) stays given: ``epoch=100`` is the user's choice, not Config's default."""
    default = {k: f.default for k, f in Config.model_fields.items()}
    own = {k: p.default for k, p in inspect.signature(estimator).parameters.items()}

    def at_default(k: str, v: Any) -> bool:
        d = default.get(k, inspect.Parameter.empty)
        return type(v) is type(d) and v == d and own.get(k, d) == d

    return {k: v for k, v in values.items() if not at_default(k, v)}


def _seed_of(random_state: Any) -> int:
    """mlplab's integer seed for scikit-learn's ``random_state``."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _rng_from_state(state: Any) -> np.random.Generator | None:
    """The data-order generator whose ``bit_generator.state`` :meth:`save` wrote, or None.

    A state that is not a PCG64 one (a damaged file) is a ValueError or TypeError, which
    :meth:`_MLPBase.load` reports as the file's fault.
    """
    if state is None:
        return None
    if not isinstance(state, dict):
        raise TypeError(f"order_rng must be an object, not {type(state).__name__}")
    rng = np.random.Generator(np.random.PCG64(0))  # a seed, not OS entropy: replaced next
    rng.bit_generator.state = state
    return rng


def _new_backend(engine: str, spec: ModelSpec, init: ModelInit, cfg: Config) -> Backend:
    """A stack of one model on ``engine``."""
    return make_backend(engine, spec, [init], device=cfg.device, dtype=cfg.dtype)


def _diverged(est: BaseEstimator, message: str) -> str:
    return f"{type(est).__name__}: {_in_python(message)}"


def _holds_text(X: np.ndarray) -> bool:
    """Whether an array holds text: of strings, or of objects some of which are str."""
    if X.dtype.kind in "US":
        return True
    return X.dtype.kind == "O" and any(isinstance(v, str) for v in X.flat)


def _check_no_text_columns(X: Any, est: Any, fitting: bool = False) -> None:
    """Refuse a DataFrame column of text or of text categories in one line that names it and
    says how to encode it, as ``mlplab train`` says of a file's: scikit-learn's own line,
    "could not convert string to float: 'g'", named no column. ``fitting`` (a fresh fit):
    a category column of more than two numbers too, codes that would fit as a quantity."""
    import pandas as pd

    if isinstance(X, np.ndarray) and X.ndim == 2 and _holds_text(X):
        # An array of text (dates, words): NumPy's "could not convert string to float"
        # named no column; its columns are named by number. (Objects that are no text, a
        # dict, keep scikit-learn's own TypeError, as its estimator checks ask.)
        X = pd.DataFrame(X)
    elif type(X).__module__.partition(".")[0] != "pandas" or not hasattr(X, "columns"):
        return

    texts = []
    grouped = []  # columns of numbers whose thousands are grouped by commas
    for i, name in enumerate(X.columns):
        col = X.iloc[:, i]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            continue  # a categorical of numbers is not numeric to pandas: checked below
        values = col.astype(object)
        bad = (values.notna() & pd.to_numeric(values, errors="coerce").isna()).to_numpy()
        # At a fresh fit only: a model fitted on the codes (by an earlier mlplab) predicts
        # on them as it learnt them, whatever a batch's count of them.
        codes = fitting and isinstance(col.dtype, pd.CategoricalDtype) and not bad.any()
        if codes and col.dtype.categories.size > 2:
            # Codes declared categories (a region id 0..4): fit as one number, their order
            # and spacing a quantity they are not (test R² 0.2 where one-hot gave 0.99).
            # Two codes are one 0/1 column already: an encoding would add nothing.
            bad = values.notna().to_numpy()
        if bad.any():
            texts.append((name, values[bad].iloc[0], isinstance(col.dtype, pd.CategoricalDtype)))
            if thousands_grouped(values.dropna().astype(str).str.strip()):
                grouped.append((name, values[bad].iloc[0]))
    if not texts:
        return
    # Dates as text ('01.01.2015') get the command line's hint: one 0/1 column per value
    # would be a column a day.
    dates = [t for t in texts if holds_dates(str(t[1]))]
    if grouped:  # '1,694.6': numbers as a spreadsheet shows them, no categories to encode
        name, value = grouped[0]
        raise ValueError(
            f"{type(est).__name__}: X's column {name!r} holds numbers with thousands "
            f"separators ({shorten(str(value), 40)!r}), not numbers; remove the separators "
            "first (pd.to_numeric(column.str.replace(',', '')), or read the file with "
            "pd.read_csv(..., thousands=','))"
        )
    words = [t for t in texts if t not in dates]
    clauses = []
    if words:
        name, value, categorical = words[0]
        what = "categories" if categorical else "text"
        head = f"X's column {name!r} holds {what} ({shorten(str(value), 40)!r}), not numbers"
        if categorical and pd.api.types.is_number(value):
            head = (
                f"X's column {name!r} is of pandas' category type (codes such as {value!r}), "
                f"which would fit as one quantity (or, if it is one: X.astype({{{name!r}: float}}))"
            )
        others = [str(n) for n, _, _ in words[1:]]
        more = f"; other such columns: {', '.join(map(repr, others))}" if others else ""
        shown = [name, *others][:5]
        clauses.append(
            f"{head}{more}; encode {'them' if others else 'it'} first, a 0/1 column per value: "
            f"pd.get_dummies(X, columns={shown!r}), or a OneHotEncoder in a "
            "ColumnTransformer before the estimator in a Pipeline (or leave it out: "
            "X.drop(columns=[...]))"
        )
    if dates:
        name, value, _ = dates[0]
        others = [str(n) for n, _, _ in dates[1:]]
        more = f"; other such columns: {', '.join(map(repr, others))}" if others else ""
        shown = [name, *others][:5]
        clauses.append(
            f"X's column {name!r} holds dates or times ({shorten(str(value), 40)!r}), not "
            f"numbers{more}: {DATES_HINT}, or "
            f"leave {'them' if others else 'it'} out: X.drop(columns={shown!r})"
        )
    if dates and words and texts.index(dates[0]) < texts.index(words[0]):
        clauses.reverse()  # the first column of X's first
    raise ValueError(f"{type(est).__name__}: " + "; also, ".join(clauses))


def _one_hot_rows(Y: np.ndarray) -> bool:
    """Whether ``Y`` is one-hot labels: 2-D, of 0 and 1, with one 1 in each row."""
    if Y.ndim != 2 or Y.shape[1] < 2 or Y.dtype.kind not in "biuf":
        return False
    return bool(np.isin(Y, (0, 1)).all() and (Y.sum(axis=1) == 1).all())


def _plain_ints(values: Any) -> list[Any]:
    """NumPy's integers as Python's, so that a hint reads (8, 4), not (np.int64(8), ...)."""
    return [int(v) if isinstance(v, numbers.Integral) else v for v in values]


def _in_python(message: str) -> str:
    # The data is what fit was given, not a file named 'array'.
    message = re.sub(r"^data '(array(-[\w-]+)?)': ", "X, y: ", message)
    return flags_as_arguments(message)


def _curves_record(task: str, train_metrics: list[float]) -> dict[str, Any]:
    """The record key that ``_scores`` reads for the train split, from the loop's history."""
    key = "train_maes" if task == "regression" else "train_accs"
    return {key: train_metrics}


def _largest_fraction(n_rows: int) -> float:
    """The largest validation_fraction, in few decimals, that leaves a row of ``n_rows``
    to train on, as train_test_split counts the held-out rows (rounded up)."""
    scale = 10 ** (len(str(n_rows)) + 1)  # fine enough to fall below (n - 1) / n
    k = math.floor((n_rows - 1) / n_rows * scale)
    while k > 0 and math.ceil(k / scale * n_rows) >= n_rows:  # k / scale is inexact
        k -= 1
    return k / scale


# Sparse formats read as they are; scikit-learn makes any other (dok, lil: which it cannot
# check for NaN) a csr first.
SPARSE = ["csr", "csc", "coo"]


def _dense(X: Any, est: Any) -> np.ndarray:
    """``X`` as a dense array: a sparse one (a OneHotEncoder's or TfidfVectorizer's output
    in a pipeline, as scikit-learn's MLP takes it) is made dense where it fits in memory,
    as the engines compute on dense arrays; one that does not is refused in one line."""
    if not sp.issparse(X):
        return X
    from mlplab.data.cost import check_memory
    from mlplab.errors import ConfigError

    rows, columns = X.shape
    try:
        check_memory(
            f"{type(est).__name__}: sparse X", 2 * rows * columns * X.dtype.itemsize,
            f"{rows:,} rows of {columns:,} columns made dense",
        )  # fmt: skip
    except ConfigError as err:
        raise ValueError(
            f"{err}; keep fewer columns (OneHotEncoder(max_categories=...), "
            "TfidfVectorizer(max_features=...))"
        ) from None
    return X.toarray()


def _mean_one(weights: np.ndarray) -> np.ndarray:
    """Row weights scaled to mean 1, so that the loss is their weighted mean.

    Rows that all weigh 0 (a validation split can draw only those) count evenly instead.
    """
    mean = weights.mean()
    return weights / mean if mean > 0 else np.ones_like(weights)


def _restore_best(backend: Backend) -> None:
    """Put back the weights of the lowest validation loss, as scikit-learn's early_stopping.

    The optimizer state stays that of the last step, so ``partial_fit`` continues from
    the best weights.
    """
    last = backend.export(0)
    best = ModelState(backend.best_weights(0), last.optim, last.optim_meta, last.rng, last.rng_meta)
    backend.load(0, best)
