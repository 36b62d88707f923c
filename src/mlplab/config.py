"""Every setting of an mlplab experiment, declared once.

Each field carries its name (the lectures' name where they give one), type, default,
allowed values and a one-line help text. The CLI builds its flags from these fields, the
YAML loader validates against them, the run hash reads them, and the scikit-learn
estimators take them as constructor parameters. Validation happens once, here, at the
entry point; components downstream receive plain arguments.

Counting units (documented in ``--help`` too):

- ``log_every`` counts optimizer **steps** (the labs print ``step cost`` every 100 steps);
- ``validate_every``, ``save_every``, ``patience`` and ``snapshot_every`` count **epochs**,
  except ``snapshot_every`` which counts steps, like ``log_every``.

With ``batch_size: 0`` (full batch, as in the labs) one epoch is one step.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import hashlib
import json
import math
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Literal, Protocol, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mlplab.errors import (
    ConfigError,
    NewerRecord,
    expanded_path,
    is_bool,
    nearest,
    not_utf8,
    public,
    short_repr,
    shorten,
    twice_named,
    unexpanded_output,
    user_path,
)

Activation = Literal[
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "softplus",
    "mish",
    "identity",
]
Optimizer = Literal["sgd", "rmsprop", "adagrad", "adam", "adamw"]
# The same choices as tuples, for code that lists or checks them: one declaration each.
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
# Other names of a choice: "swish" is SiLU, scikit-learn's "logistic" the sigmoid and its
# "constant" learning rate no schedule; the lecture's `args.sc_type = 'sc'`.
CHOICE_ALIASES = {
    "act": {"swish": "silu", "linear": "identity", "none": "identity", "logistic": "sigmoid"},
    "sc_type": {"sc": "residual"},
    "lr_schedule": {"constant": "none"},
}
CHOICE_SETTINGS = (
    *("task", "model", "sc_type", "init", "lr_schedule"),
    *("engine", "dtype", "plots", "optim", "act", "class_weight"),
)
# What PyTorch, scikit-learn and Keras users call a setting, for "unknown setting" lines.
OTHER_NAMES = {
    "learning_rate": "lr",
    "learning_rate_init": "lr",
    "weight_decay": "l2_coef",
    "alpha": "l2_coef",
    "momentum": "mm",
    "dropout": "dp_rate",
    "activation": "act",
    "hidden_layer_sizes": "hid_dims",
    "max_iter": "epoch",
    "solver": "optim",
    "random_state": "seed",
    "tol": "min_delta",
    "n_iter_no_change": "patience",
    "l2": "l2_coef",  # the lecture's other args' names
    "num_layers": "n_layer",
    "train_batch_size": "batch_size",
    # PyTorch's modules and the usual training scripts; difflib finds none of these (or,
    # for batch_norm, batch_size).
    "hidden_size": "hid_dim",
    "hidden_dim": "hid_dim",
    "num_hidden_layers": "n_layer",
    "batch_norm": "use_bn",
    "batchnorm": "use_bn",
    "dropout_rate": "dp_rate",
    "num_epochs": "epoch",
    "n_epochs": "epoch",
    "optimizer": "optim",
    # The TensorFlow Playground's (its regularization, L1 or L2, see REGULARIZATION_NAMES).
    "l1": "l1_coef",
    "network_shape": "hid_dims",  # its hidden layers' widths
    "dataset": "data",
    "perc_train_data": "split",
    "perctraindata": "split",  # its ratio of training to test data
    "ratio": "split",
    "train_size": "split",  # scikit-learn's train_test_split
    "test_size": "split",
    # Keras' Dense(units=16): the width, where difflib led to 'init'.
    "units": "hid_dim",
}
# A choice of L1 or L2 and one rate elsewhere (the TensorFlow Playground's): two rates here.
REGULARIZATION_NAMES = ("regularization", "regularization_rate", "regularizer", "penalty")
FROM_THE_DATA = ("in_dim", "out_dim", "input_dim", "output_dim", "n_features", "n_classes")
# No setting: the task chooses the loss. (`--loss huber` was asked if it meant --plots.)
LOSS_NAMES = ("loss", "criterion", "loss_fn", "loss_function", "objective")
# The keywords of mlplab.train() and mlplab.sweep() that are no settings (a test keeps
# them in step with the signatures): `verbos=` is nearest to one of these, not to a
# setting. A hint names the call that takes one: `n_jobs=` -> `workers`, sweep's alone.
TRAIN_KEYWORDS = ("resume", "record", "dataset", "lock", "early_stop")
SWEEP_KEYWORDS = (
    *("search", "trials", "workers", "backend", "address", "group_size", "no_batch", "shard"),
    *("cpus_per_task", "gpus_per_task", "report", "rank_by", "progress", "prune", "dry_run"),
)
BOTH_KEYWORDS = ("verbose", "handle_signals", "subscribers", "stop", "rerun")
CALL_KEYWORDS = (*TRAIN_KEYWORDS, *SWEEP_KEYWORDS, *BOTH_KEYWORDS)
KEYWORD_CALLS = {
    **{k: "an argument of mlplab.train()" for k in TRAIN_KEYWORDS},
    **{k: "an argument of mlplab.sweep()" for k in SWEEP_KEYWORDS},
    **{k: "an argument of mlplab.train() and mlplab.sweep()" for k in BOTH_KEYWORDS},
}
# Other libraries' names of those keywords (Keras, scikit-learn, joblib), in Python calls.
CALL_OTHER_NAMES = {
    **OTHER_NAMES,
    "callbacks": "subscribers",
    "n_jobs": "workers",
    "quiet": "verbose",
    "verbosity": "verbose",
    "early_stopping": "patience",
}
# Keras' fit() arguments, in a Python call: what mlplab does instead (a whole hint, not a
# name: some have no setting of their own).
CALL_INSTEAD = {
    "validation_split": "Keras' validation_split: here split, the shares of train, val and "
    "test rows, e.g. split=[0.7, 0.15, 0.15]",
    "shuffle": "Keras' shuffle: mlplab shuffles the training rows every epoch, in an order "
    "that seed draws",
    "restore_best_weights": "Keras' restore_best_weights: train() returns the last model and "
    "keeps the one of the lowest validation loss as checkpoints/best.safetensors, which "
    "mlplab.load_run(result.run_dir, which='best') loads",
    "monitor": "Keras' monitor: patience and the best checkpoint watch the validation loss; "
    "early_stop=lambda v: ... stops the run by a rule of your own",
    # A student's own parser with --config: the YAML's path, not a setting (an
    # argparse.Namespace's `config` is taken as one, see load_config).
    "config": "a YAML file's path, not a setting: mlplab.train(args.config, lr=...) or "
    "mlplab.load_config(args.config, overrides)",
}


class Labelled(Protocol):
    """What names a model for :meth:`Config.label` (a ``ModelSpec``, a layer above)."""

    def label(self) -> str: ...


def setting_hint(
    name: str,
    known: list[str],
    form: str = "'{}'",
    other: dict[str, str] = OTHER_NAMES,
    said: dict[str, str] | None = None,
) -> str:
    """' (did you mean ...?)' for an unknown setting, or '' when nothing is near; ``form``
    writes the name as the user would (``'{}'`` in YAML, ``--{}`` on the command line).
    Dashes read as underscores: ``--learning-rate`` is ``learning_rate``. ``other``: what
    other libraries call them."""
    # camelCase (the TensorFlow Playground's learningRate, networkShape) as snake_case
    low = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_")
    known = [k for k in known if k != "help"]  # `--ep` was asked if it meant --help
    if low in FROM_THE_DATA:
        return " (the data sets the input and output widths)"
    if low in LOSS_NAMES:
        return (
            " (the task sets the loss: MSE for a regression, cross-entropy for classes, "
            "binary for two; there is no loss setting)"
        )
    if low in REGULARIZATION_NAMES:
        return (
            f" (each kind has its own rate: {form.format('l1_coef')} for L1, "
            f"{form.format('l2_coef')} for L2)"
        )
    # A prefix of one name (`--ep`): the command line takes no abbreviations, and says whose.
    prefixed = [k for k in known if k.startswith(low)] if len(low) >= 2 else []
    near = other.get(low) or (prefixed[0] if len(prefixed) == 1 else nearest(low, known))
    if not near and (alias := nearest(low, list(other))):
        # A mistyped other name (learnin_rate): the setting it stands for. After the
        # settings, so that hidden_dims is still hid_dims, not hidden_dim's hid_dim.
        near = other[alias]
    if not near:
        return ""
    what = (said or {}).get(near)  # ``said``: what the suggested name is, where not a setting
    return f" (did you mean {form.format(near)}{', ' + what if what else ''}?)"


# Every count goes into NumPy or torch as an int64; larger ones would overflow there.
INT64_END = 2**63
PositiveInt = Annotated[int, Field(ge=1, lt=INT64_END)]
Count = Annotated[int, Field(ge=0, lt=INT64_END)]

# Linux's limits (PATH_MAX counts the final NUL): a longer path fails only when a file is
# opened, which would be mid-run; checked here, it is one line before anything starts.
MAX_PATH_BYTES = 4095
MAX_NAME_BYTES = 255
# A run's folder is log_path/exp_name/exp_name-HASH/checkpoints/.last.safetensors.XXXX.tmp:
# exp_name appears twice, and the rest of that path takes at most this many bytes.
RUN_PATH_EXTRA = 64
# Labels and names are shown in tables and plots; a few hundred characters is plenty.
MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 1000
MAX_TARGETS = 10_000

# What a YAML config file may hold: configs are a few dozen short lines, so these only
# stop files that would take the machine down (an alias bomb expands 450 bytes into
# billions of values, which later steps would try to walk or print).
MAX_CONFIG_BYTES = 1 << 20
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 32


def _field(default: Any, help: str, group: str, **kw: Any) -> Any:
    return Field(default, description=help, json_schema_extra={"group": group}, **kw)


def _name_text(value: Any) -> Any:
    """A name given as a whole number (``target: 2021`` in YAML, a column named by a year)
    is refused with the way to write it: "Input should be a valid string" named no cure,
    and taken as its number's text, YAML's 010 (octal) would name column 8 and 12:30 (base
    60) column 750. A bool stays what it is, and is refused as before."""
    # Not the value as read: 010 is 8 by then, and no/off are false (a column named 8, or
    # 'False', may exist).
    if isinstance(value, bool):
        raise ValueError(
            "a name is text: write it in quotes as the file writes it (target: 'no'): YAML "
            "reads no, yes, on, off, true and false unquoted as true or false"
        )
    if isinstance(value, int):
        raise ValueError(
            "a name is text: write it in quotes as the file writes it (target: '2021'): YAML "
            "reads a name of digits unquoted as a number (010 as 8, 12:30 as 750)"
        )
    return value


# The TensorFlow Playground's inputs, by the names that need no quoting in a shell, each
# made from the data's two features x1 and x2 (mlplab.data.features derives them).
PLAYGROUND_FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
# The Playground's own names (its address's x, xSquared, xTimesY, sinX) where they differ.
_PLAYGROUND_ALIASES = {
    **{"x": "x1", "y": "x2", "xsquared": "x1sq", "ysquared": "x2sq", "xtimesy": "x1x2"},
    **{"sinx": "sinx1", "siny": "sinx2", "x2x1": "x1x2"},
}


def canonical_features(names: list[Any] | tuple[Any, ...]) -> list[str]:
    """``names`` as :data:`PLAYGROUND_FEATURES` spells them: any case, the Playground's
    labels (``X_1^2``, ``sin(X_1)``, ``x1*x2``, ``x1²``) and its address's names
    (``xSquared``, ``sinX``) taken as theirs. A name of none of them, or one named twice,
    raises a ValueError that lists the choices."""
    out: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"{name!r} is no name; give any of {', '.join(PLAYGROUND_FEATURES)}")
        key = re.sub(r"[\s_()*·]", "", name.lower()).replace("^2", "sq").replace("²", "sq")
        key = _PLAYGROUND_ALIASES.get(key, key)
        if key not in PLAYGROUND_FEATURES:
            raise ValueError(
                f"{name!r} is not one of the Playground's inputs: {', '.join(PLAYGROUND_FEATURES)}"
            )
        if key in out:
            raise ValueError(f"{name!r} names {key} twice; give each once")
        out.append(key)
    return out


# The settings that name columns (target, ignore) or one column or folder each, whose
# digits and true/false _name_text refuses with the way to write them.
_COLUMN_LISTS = ("target", "ignore")
_ONE_NAME = ("split_by", "exp_name", "model_name")
_NAME_SETTINGS = (*_COLUMN_LISTS, *_ONE_NAME)
# The keys of a sweep's record, sweep-HASH.yaml (mlplab.sweeps.api.write_spec).
SPEC_KEYS = frozenset({"base", "axes", "runs"})


class Config(BaseModel):
    """One experiment: data, model, optimizer, schedule, runtime and output.

    Build it from keyword arguments, a dict (``Config(**d)``), or YAML plus overrides
    (:func:`load_config`). Unknown keys and out-of-range values raise
    :class:`mlplab.errors.ConfigError` with one line naming the setting.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        # A Config pickled by an older mlplab (inside a pickled estimator) lacks each
        # setting added since: it gets its default, which changes nothing a model of
        # then did, rather than an AttributeError at its first use.
        values = state.get("__dict__")
        if isinstance(values, dict):
            for name, field in type(self).model_fields.items():
                if name not in values:
                    values[name] = field.get_default(call_default_factory=True)
        super().__setstate__(state)

    # --- seed --------------------------------------------------------------------------
    seed: int = _field(
        0, "seed for the initial weights, data order and dropout", "seed", ge=0, lt=INT64_END
    )

    # --- data --------------------------------------------------------------------------
    data: str = _field(
        "xor",
        "built-in dataset name (see `mlplab datasets`) or a .csv/.tsv/.txt/.parquet/.npz file",
        "data",
    )
    target: list[Annotated[str, Field(max_length=MAX_LABEL_CHARS)]] | None = _field(
        None,
        "target column(s) of a data file; default: the last column; several: a "
        "regression of them all, or the 0/1 columns of one-hot classes",
        "data",
        max_length=MAX_TARGETS,
    )
    ignore: list[Annotated[str, Field(max_length=MAX_LABEL_CHARS)]] | None = _field(
        None,
        "columns of a data file to leave out of the features (an id, a free-text note); "
        "default: none",
        "data",
    )
    features: list[str] | None = _field(
        None,
        "the TensorFlow Playground's inputs, made from data of two features (x1 and x2: the "
        "2-D built-in sets, a file of two feature columns): any of "
        + " ".join(PLAYGROUND_FEATURES)
        + " (x1 squared, x2 squared, x1 times x2, sin x1, sin x2; the Playground's "
        "spellings x1^2, sin(x1), xSquared also work). The pictures stay over the x1 x x2 "
        "plane, and predict takes the data's own two columns (x1, x2 of a built-in set); "
        "default: the data's own columns",
        "data",
    )
    task: Literal["auto", "classification", "regression"] = _field(
        "auto",
        "what the target is; auto: strings, booleans and whole numbers (1 or 1.0) of at "
        "most 20 values are classes, other numbers regression",
        "data",
    )
    split: list[float] | None = _field(
        None,
        "train/val/test sizes as counts (1600 400 400) or ratios (0.8 0.1 0.1: three add up to 1, "
        "two leave the rest to test); a test size of 0 (0.9 0.1 0, or two ratios adding up to "
        "1) trains on every labelled row, for test rows kept elsewhere (a Kaggle test.csv); "
        "default: the dataset's own",
        "data",
    )
    split_by: str | None = _field(
        None,
        "a data file's column that says each row's split: train, val (or validation) or "
        "test, for a split of one's own (a held-out test set, a time or group split); the "
        "column is no feature, and split's sizes do not apply; no test row is a run without "
        "a test split",
        "data",
    )
    stratify: bool = _field(
        False,
        "a classification's random split made class by class, each class in the split's "
        "proportions (scikit-learn's stratify=y), so that a rare class reaches validation "
        "and test; default: one draw over all rows",
        "data",
    )
    standardize: bool | Literal["auto"] = _field(
        "auto",
        "scale features to zero mean and unit variance, fit on the training split and kept "
        "with the model; auto: on for data files and the bundled tables, off for the "
        "lectures' synthetic sets",
        "data",
    )
    standardize_target: bool = _field(
        False,
        "a regression's target scaled to zero mean and unit variance for training (fit on "
        "the training split, kept with the model); predictions and MAE/MSE stay in the "
        "target's own units, the loss is in the scaled ones. For targets far from order 1 "
        "(prices, counts in the hundreds), which diverge or fit slowly raw",
        "data",
    )
    class_weight: Literal["none", "balanced"] = _field(
        "none",
        "a classification's classes in the loss: balanced weighs each class by rows / "
        "(classes x its rows) of the training split, as scikit-learn's 'balanced', so that "
        "a rare class counts as much as a common one; none: each row counts once. The "
        "accuracy counts every row once either way",
        "data",
    )
    n_samples: PositiveInt | None = _field(
        None, "number of points for synthetic data; default: the dataset's own", "data"
    )
    noise: float | None = _field(
        None,
        "noise level for synthetic data; default: the dataset's own (`mlplab datasets` says what it "
        "is for each)",
        "data",
        ge=0,
        allow_inf_nan=False,
    )
    data_seed: int = _field(
        0,
        "seed that generates and splits the data (kept apart from `seed`, so seed replicates share data)",
        "data",
        ge=0,
        lt=INT64_END,
    )

    # --- model -------------------------------------------------------------------------
    model: Literal["mlp", "linear"] = _field(
        "mlp", "mlp, or linear (the perceptron: no hidden layer)", "model"
    )
    n_layer: Count = _field(1, "number of hidden layers; 0 means a linear model", "model")
    hid_dim: PositiveInt = _field(100, "units in each hidden layer", "model")
    hid_dims: str | None = _field(
        None,
        "a width per hidden layer, input side first, e.g. 256-128; sets n_layer and "
        "replaces hid_dim",
        "model",
        max_length=MAX_PATH_BYTES,
    )
    act: Activation = _field("relu", "activation of the hidden layers", "model")
    use_bn: bool = _field(
        False, "BatchNorm1d after each hidden activation (Linear -> act -> BN -> Dropout)", "model"
    )
    dp_rate: float = _field(
        0.0,
        "dropout rate after each hidden block, in [0, 1)",
        "model",
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
    )
    sc_type: Literal["none", "residual"] = _field(
        "none", "skip connections between hidden layers of equal width", "model"
    )
    init: Literal["default", "xavier", "kaiming", "normal", "torch"] = _field(
        "default",
        "weight init. default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), "
        "PyTorch's nn.Linear init drawn by NumPy; xavier: weight ~ U(-a, a), a = "
        "sqrt(6/(fan_in+fan_out)), bias 0; kaiming: weight ~ N(0, 2/fan_in), bias 0; normal: "
        "weight and bias ~ N(0, 1); torch: the very weights torch.manual_seed(seed) gives "
        "(the labs' printed numbers)",
        "model",
    )
    use_xavier: bool = _field(False, "the lectures' alias for `init: xavier`", "model")

    # --- optimizer ---------------------------------------------------------------------
    optim: Optimizer = _field("sgd", "optimizer (case-insensitive: ADAM works)", "optimizer")
    lr: float = _field(0.01, "learning rate, > 0", "optimizer", gt=0, allow_inf_nan=False)
    mm: float = _field(
        0.0,
        "momentum for sgd and rmsprop, in [0, 1)",
        "optimizer",
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
    )
    l2_coef: float = _field(
        0.0,
        "L2 penalty on every weight and bias, passed as weight_decay; for adamw, decoupled "
        "weight decay instead (each step shrinks the weights by lr * l2_coef, apart from "
        "the loss; torch's AdamW defaults to 0.01, here 0 as for the others)",
        "optimizer",
        ge=0.0,
        allow_inf_nan=False,
    )
    l1_coef: float = _field(
        0.0,
        "L1 penalty on the weights (not the biases): after each update a weight moves "
        "lr * l1_coef toward 0 and stops there, so the weights a model does not need "
        "become exactly 0",
        "optimizer",
        ge=0.0,
        allow_inf_nan=False,
    )
    lr_schedule: Literal["none", "cosine", "exponential", "step"] = _field(
        "none", "learning-rate schedule, applied once per epoch", "optimizer"
    )
    lr_gamma: float = _field(
        0.1,
        "decay factor in (0, 1]: exponential multiplies the lr by it every epoch (0.95 "
        "halves it in 14 epochs; 0.1 leaves a thousandth after 3), step every lr_step epochs",
        "optimizer",
        gt=0,
        le=1,
        allow_inf_nan=False,
    )
    lr_step: PositiveInt = _field(30, "epochs between decays for the step schedule", "optimizer")

    # --- schedule ----------------------------------------------------------------------
    epoch: PositiveInt = _field(100, "number of epochs (passes over the training set)", "schedule")
    batch_size: Count = _field(
        0, "minibatch size; 0 means full batch (one step per epoch)", "schedule"
    )
    test_batch_size: Count = _field(
        0,
        "batch size for evaluation; 0 means all at once (in slices where a layer of one "
        "model would hold over 2**20 values, so that memory stays bounded)",
        "schedule",
    )
    log_every: Count = _field(
        100, "print `step loss` every N optimizer steps; 0 turns it off", "schedule"
    )
    log_val: bool = _field(
        False,
        "add the latest validation's loss and accuracy (or MAE) to each `step loss` line "
        "(the labs print accuracy or the test MAE every 200 epochs; the test split's are "
        "shown at the end)",
        "schedule",
    )
    validate_every: PositiveInt = _field(
        1,
        "evaluate on the validation set every N epochs; the curves are taken there",
        "schedule",
    )
    save_every: Count = _field(
        0,
        "write the `last` checkpoint every N epochs; 0: only at the end (a Ctrl-C or SIGTERM "
        "writes one too; a kill -9 leaves only the last of every N to resume from)",
        "schedule",
    )
    patience: Count = _field(
        0,
        "stop after N validations without improvement; 0 turns early stopping off",
        "schedule",
    )
    min_delta: float = _field(
        0.0,
        "an improvement is a validation loss lower than the best by more than this",
        "schedule",
        ge=0.0,
        allow_inf_nan=False,
    )

    # --- runtime -----------------------------------------------------------------------
    engine: Literal["auto", "torch", "numpy"] = _field(
        "auto",
        "torch, numpy (from scratch, chain rule), or auto: numpy for tiny models on CPU",
        "runtime",
    )
    device: str = _field("auto", "auto, cpu, cuda or cuda:N (torch engine)", "runtime")
    dtype: Literal["float32", "float64"] = _field(
        "float32", "floating-point precision of weights and data", "runtime"
    )

    # --- output ------------------------------------------------------------------------
    log_path: str = _field("runs", "root folder of run records", "output")
    exp_name: str = _field(
        "exp",
        "experiment name: runs go to log_path/exp_name/exp_name-HASH",
        "output",
        max_length=MAX_NAME_CHARS,
    )
    model_name: str | None = _field(
        None,
        "label for the model in tables and plots; default: derived from the settings",
        "output",
        max_length=MAX_NAME_CHARS,
    )
    id_digits: int = _field(
        6,
        "hex digits of the run id (HASH): 6, the lecture's; set to 8 where another config "
        "has this one's 6 (a sweep of thousands, or a folder that holds the other's run)",
        "output",
        ge=6,
        le=12,  # 16**12 ids; a run's lock byte is its id read as hex, which a C long holds
    )
    plots: Literal["png", "svg", "none"] = _field(
        "png", "format of the plots written at the end of a run, or none", "output"
    )
    snapshot_every: Count = _field(
        0, "save the 2-D decision surface every N steps as an animation; 0: off", "output"
    )

    # The n_layer a config was given (a flag, its file, a keyword) where hid_dims, which
    # sets n_layer, gave another count: kept for the note that says so, since n_layer
    # itself then holds hid_dims' count.
    _n_layer_given: int | None = PrivateAttr(None)
    # The YAML file load_config read it from: a run folder's config.yaml, which leaves
    # log_path out, trains elsewhere than the run beside it, which train() notes.
    _source_file: str | None = PrivateAttr(None)
    # The settings read from that file that no flag or keyword overrode: a refusal of one
    # found later, by the data loader (`data: moonz`, `target:` beside a built-in set),
    # names the file as a refusal while validating does (see name_file_in).
    _file_settings: frozenset[str] = PrivateAttr(frozenset())

    if TYPE_CHECKING:
        # What a type checker reads: every setting by name (`Config(hid_dimm=3)` passed a
        # check, as **data), of any type, as YAML's text and numbers are taken at run time
        # (a typed act= flagged `for act in ["relu", "tanh"]`). A test keeps the names in
        # step with the fields; help(Config) shows the run-time signature and its settings.

        def __init__(
            self,
            *,
            seed: Any = ...,
            data: Any = ...,
            target: Any = ...,
            ignore: Any = ...,
            features: Any = ...,
            task: Any = ...,
            split: Any = ...,
            split_by: Any = ...,
            stratify: Any = ...,
            standardize: Any = ...,
            standardize_target: Any = ...,
            class_weight: Any = ...,
            n_samples: Any = ...,
            noise: Any = ...,
            data_seed: Any = ...,
            model: Any = ...,
            n_layer: Any = ...,
            hid_dim: Any = ...,
            hid_dims: Any = ...,
            act: Any = ...,
            use_bn: Any = ...,
            dp_rate: Any = ...,
            sc_type: Any = ...,
            init: Any = ...,
            use_xavier: Any = ...,
            optim: Any = ...,
            lr: Any = ...,
            mm: Any = ...,
            l2_coef: Any = ...,
            l1_coef: Any = ...,
            lr_schedule: Any = ...,
            lr_gamma: Any = ...,
            lr_step: Any = ...,
            epoch: Any = ...,
            batch_size: Any = ...,
            test_batch_size: Any = ...,
            log_every: Any = ...,
            log_val: Any = ...,
            validate_every: Any = ...,
            save_every: Any = ...,
            patience: Any = ...,
            min_delta: Any = ...,
            engine: Any = ...,
            device: Any = ...,
            dtype: Any = ...,
            log_path: Any = ...,
            exp_name: Any = ...,
            model_name: Any = ...,
            id_digits: Any = ...,
            plots: Any = ...,
            snapshot_every: Any = ...,
        ) -> None: ...

    else:

        def __init__(self, /, **data: Any) -> None:
            # The README promises ConfigError (one line) for bad settings, whichever way a
            # Config is made; pydantic's own error is a multi-line report.
            try:
                super().__init__(**data)
            except ValidationError as err:
                line = ConfigError(format_validation_error(err))
                line.validation = err  # make_config names its source
                raise line from None

    def __setattr__(self, name: str, value: Any) -> None:
        given = self._n_layer_given
        try:
            super().__setattr__(name, value)
        except ValidationError as err:
            raise ConfigError(format_validation_error(err)) from None
        if name == "hid_dims":
            # n_layer then holds the count the old hid_dims set, which nobody gave.
            object.__setattr__(self, "_n_layer_given", given)

    # --- validators ----------------------------------------------------------------------
    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        # YAML reads `epoch: true` as a boolean, which pydantic would take as 1; a
        # boolean where a number belongs is a mistake, not a count.
        if is_bool(v) and info.field_name in NUMERIC_SETTINGS:
            raise ValueError("a boolean (true/false) is not a number")
        # A NumPy scalar as the number it means (np.float32(0.1) as 0.1): the same run,
        # and the same run folder, as the Python number.
        return plain_value(v) if info.field_name in NUMERIC_SETTINGS else v

    @field_validator("*", mode="before")
    @classmethod
    def _no_grouped_thousands(cls, v: Any, info: ValidationInfo) -> Any:
        # pydantic reads the text '2.000' as 2: `--epoch 2.000`, two thousand where a dot
        # groups thousands (de, pt-BR, es, it, tr), trained 2 epochs without a word.
        grouped = grouped_thousands(v) if info.field_name in WHOLE_SETTINGS else ""
        if grouped:
            raise ValueError(grouped)
        return v

    @field_validator("*", mode="before")
    @classmethod
    def _utf8_text(cls, v: Any, info: ValidationInfo) -> Any:
        # A name from the OS that is not UTF-8 (a latin-1 file name) is text that no
        # config.yaml or table can hold: the run failed half-written, after training.
        for text in v if isinstance(v, list | tuple) else [v]:
            text = os.fspath(text) if isinstance(text, os.PathLike) else text
            if isinstance(text, str) and (shown := not_utf8(text)) is not None:
                raise PydanticCustomError(
                    NOT_UTF8,
                    NOT_UTF8_MESSAGES.get(str(info.field_name), NOT_UTF8_TEXT),
                    {"shown": shorten(shown, 200)},
                )
        return v

    @field_validator("data", "log_path", mode="before")
    @classmethod
    def _path_as_text(cls, v: Any) -> Any:
        # pathlib.Path("iris.csv") is a path as much as "iris.csv" is (load_run takes both).
        v = plain_value(v)
        return expanded_path(v) if isinstance(v, str) else v

    @field_validator("data", "log_path")
    @classmethod
    def _check_path_length(cls, v: str) -> str:
        return check_path_text(v)

    @field_validator("data", mode="before")
    @classmethod
    def _no_table_in_memory(cls, v: Any) -> Any:
        if isinstance(v, str):  # np.str_ has a shape too
            return v
        if hasattr(v, "shape") or (isinstance(v, tuple) and any(hasattr(a, "shape") for a in v)):
            # A DataFrame or arrays: a run's record names its data, so data is a file.
            # Arrays keep their dtype and shape in an NPZ, as data= reads it (X, y).
            write = (
                "df.to_csv('data.csv', index=False)"
                if hasattr(v, "columns")
                else "np.savez('data.npz', X=X, y=y)"
            )
            raise ValueError(
                f"a table or arrays in memory are no setting; write them to a file ({write}) "
                "and give its path, or fit mlplab.sklearn.MLPClassifier / MLPRegressor on them"
            )
        return v

    @field_validator(*CHOICE_SETTINGS, mode="before")
    @classmethod
    def _spelling(cls, v: Any, info: ValidationInfo) -> Any:
        # Any case, '-', '_' or spaces: PyTorch's `LeakyReLU`, `leaky-relu`, `Xavier`.
        if v is None and info.field_name == "class_weight":
            return "none"  # scikit-learn's class_weight=None, or `class_weight: null` in YAML
        if info.field_name == "dtype" and not isinstance(v, str):
            # np.float32, np.dtype("float64"), torch.float32: the dtype by its name.
            v = str(getattr(v, "__name__", v)).removeprefix("torch.")
        if not isinstance(v, str):
            return v
        key = re.sub(r"[\s_-]", "", v.lower())
        name = str(info.field_name)
        aliases = CHOICE_ALIASES.get(name, {})
        choices = {c.replace("_", ""): c for c in choices_of(name) or ()}
        return choices.get(key) or aliases.get(key) or v

    @field_validator("standardize", mode="before")
    @classmethod
    def _auto_or_bool(cls, v: Any) -> Any:
        # One message for every other value (pydantic's would name each union member).
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() == "auto":  # any case, as other choices
            return "auto"
        words = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
        if isinstance(v, str) and v.strip().lower() in words:
            return words[v.strip().lower()]
        raise ValueError("must be auto, true or false")

    @field_validator("device")
    @classmethod
    def _check_device(cls, v: str) -> str:
        v = v.strip().lower()  # any case, as every other choice (torch's own are lower)
        if not re.fullmatch(r"auto|cpu|cuda|cuda:\d{1,4}", v):
            # The lecture's `'cuda' if torch.cuda.is_available() else 'cpu'`, pasted as
            # text, was told pydantic's "at most 32 characters".
            raise ValueError(
                "must be one of auto, cpu, cuda, cuda:N (auto: cuda where torch finds one, "
                "else cpu)"
            )
        return v

    @field_validator(*_COLUMN_LISTS, mode="before")
    @classmethod
    def _target_list(cls, v: Any) -> Any:
        v = [_name_text(x) for x in v] if isinstance(v, list | tuple) else _name_text(v)
        return [v] if isinstance(v, str) else v

    @field_validator("features", mode="before")
    @classmethod
    def _feature_names(cls, v: Any) -> Any:
        if v is None:
            return v
        if getattr(v, "ndim", None) == 1 and hasattr(v, "tolist"):
            v = v.tolist()
        # One text of names (YAML's `features: x1 x2 x1sq`), as the command line gives them.
        names = [v] if isinstance(v, str) else v
        if not isinstance(names, list | tuple):
            raise ValueError(f"give one or more of {', '.join(PLAYGROUND_FEATURES)}")
        names = [
            p for n in names for p in (n.replace(",", " ").split() if isinstance(n, str) else [n])
        ]
        if not names:
            raise ValueError(f"give one or more of {', '.join(PLAYGROUND_FEATURES)}")
        return canonical_features(names)

    @field_validator(*_ONE_NAME, mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return _name_text(v)

    @field_validator("target", "ignore")
    @classmethod
    def _distinct_columns(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        # A repeat changes nothing the run does, yet it enters the run hash: --ignore a a
        # was another run than --ignore a.
        msg = twice_named(v or [], info.field_name or "")
        if msg:
            raise ValueError(msg)
        return v

    @field_validator("split")
    @classmethod
    def _check_split(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) not in (2, 3) or any(not x >= 0 for x in v):  # NaN too
            raise ValueError("give 2 or 3 non-negative sizes: train val [test]")
        fractional = next((x for x in v if not float(x).is_integer()), None)
        if any(x > 1 for x in v) and fractional is not None:
            # Counts of rows: a fraction of a row would be dropped without a word.
            raise ValueError(
                f"{fractional:g} is not a whole number; a size above 1 makes all of them "
                "counts of rows, such as 1600 400 400 (ratios are all at most 1)"
            )
        if all(x <= 1 for x in v) and sum(v) > 1 + 1e-9:
            raise ValueError(
                "ratios must add up to at most 1 (sizes of at most 1 are read as ratios; "
                "counts, such as 1600 400 400, need one above 1)"
            )
        if len(v) == 3 and all(x <= 1 for x in v) and abs(sum(v) - 1) > 1e-6:
            # Three ratios that add up to less than 1 would leave rows out without a word.
            raise ValueError(
                f"three ratios must add up to 1 (these add up to {sum(v):g}); "
                "or give two, train val, and the test split takes the rest"
            )
        return v

    @field_validator("log_path")
    @classmethod
    def _check_log_path(cls, v: str) -> str:
        if not v.strip():  # Path("") is the current folder: runs would land among its files
            raise ValueError("give a folder, e.g. runs (an empty path is the current folder)")
        if why := unexpanded_output(v, "give the folder as a path", short_repr):
            # Left as written, it made a folder named `~` or `$SCRATCH` here, where the
            # runs went on landing once it existed, and `rm -rf ~` took for the home folder.
            raise ValueError(why)
        return _one_line(v)

    @field_validator("model_name")
    @classmethod
    def _check_model_name(cls, v: str | None) -> str | None:
        return v if v is None else _one_line(v)

    @field_validator("exp_name")
    @classmethod
    def _check_exp_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", v) or v in (".", ".."):
            raise ValueError(
                "use ASCII letters, digits, '_', '-' and '.' only, and not '.' or '..'"
            )
        if v.startswith("."):
            # The report leaves dot-folders out (they hold reruns and sweep results still
            # being written): a `.hs` experiment trained, then its report found no runs.
            raise ValueError(
                "a name starting with '.' makes its runs hidden folders, which "
                "'mlplab report' leaves out; start with a letter, digit, '_' or '-', "
                f"e.g. {v.lstrip('.') or 'exp'!r}"
            )
        return v

    @field_validator("hid_dims", mode="before")
    @classmethod
    def _check_hid_dims(cls, v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, list | tuple) and not v:  # scikit-learn's hidden_layer_sizes=()
            raise ValueError("no widths: a model without hidden layers is n_layer 0")
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if (
            isinstance(v, (list, tuple))
            and v
            and all(
                (isinstance(w, int) and not isinstance(w, bool))
                or (isinstance(w, str) and w.strip().isdecimal())  # ["8", "8"], as epoch: "8"
                for w in v
            )
        ):
            v = "-".join(str(w).strip() for w in v)  # [256, 128], as Python and YAML write a list
        if not isinstance(v, str) or not re.fullmatch(r"[1-9][0-9]*(-[1-9][0-9]*)*", v.strip()):
            raise ValueError("widths joined by '-' or as a list, each at least 1, e.g. 256-128")
        return v.strip()

    # Defined after the other "before" validators of these settings, so run before them.
    @field_validator("split", "hid_dims", "target", "ignore", mode="before")
    @classmethod
    def _plain_items(cls, v: Any) -> Any:
        # NumPy values as the numbers they mean: float32 ratios 0.8, 0.1, 0.1 added up to
        # 1.0000000149 ("at most 1"), and np.int64 widths were no whole numbers.
        if getattr(v, "ndim", None) == 1 and hasattr(v, "tolist"):
            v = list(v)
        if isinstance(v, set | frozenset):
            # Taken as a list, {0.1, 0.8, 0.1} was [0.1, 0.8]: a train split of 0.1.
            raise ValueError("give a list, not a set: a set keeps no order and no repeats")
        if isinstance(v, list | tuple):
            return [plain_value(x) for x in v]
        return plain_value(v)

    @model_validator(mode="after")
    def _positive_zero(self) -> Config:
        # -0.0 equals 0.0 but prints and hashes apart: `--l2_coef -0.0` gave its own run.
        for name in type(self).model_fields:
            if getattr(self, name) == 0 and isinstance(getattr(self, name), float):
                object.__setattr__(self, name, 0.0)
        return self

    @model_validator(mode="after")
    def _aliases(self) -> Config:
        run_path = len(os.fsencode(self.log_path)) + 2 * len(self.exp_name) + RUN_PATH_EXTRA
        if run_path > MAX_PATH_BYTES:
            raise ValueError(
                f"settings 'log_path' and 'exp_name': the run folders would have paths of "
                f"{run_path} bytes, more than the {MAX_PATH_BYTES} a path may have; "
                "shorten them"
            )
        # `use_xavier` is the lectures' switch; it maps onto `init` so there is one truth.
        if self.use_xavier and self.init == "default":
            object.__setattr__(self, "init", "xavier")
        if self.hid_dims is not None:
            # hid_dims says how many hidden layers there are, and n_layer follows it, even
            # when a config file sets n_layer: `--hid_dims 256-128` on top of a file with
            # `n_layer: 1` must work, as any flag overrides its file.
            count = len(self.hid_dims.split("-"))
            if "n_layer" in self.model_fields_set and self.n_layer != count:
                self._n_layer_given = self.n_layer
            object.__setattr__(self, "n_layer", count)
        return self

    @model_validator(mode="after")
    def _check_batch_norm(self) -> Config:
        # Batch norm divides by each batch's spread, and one row has none: both engines
        # would fail at the first step (a training split of one row is checked with the data).
        if self.use_bn and self.hidden_layers > 0 and self.batch_size == 1:
            raise ValueError(
                "settings 'use_bn' and 'batch_size': batch norm needs batches of 2 or more "
                "rows (got batch_size 1); use a batch_size of 2 or more (0 is the full batch), "
                "or use_bn false"
            )
        return self

    @model_validator(mode="after")
    def _check_split_by(self) -> Config:
        # A split_by column says each row's split: no rows are drawn, so another data_seed
        # trained the same run again under another id, and a report said its splits differed.
        # A run recorded so before this was refused still loads, resumes and predicts: its
        # data_seed changed nothing, and its id is its own.
        if self.data_seed_beside_split_by() and not _RECORDED.get():
            raise ValueError(
                f"settings 'data_seed' and 'split_by': the column {self.split_by!r} says each "
                "row's split, so there is no draw for data_seed to seed; give one of them"
            )
        return self

    # --- derived views -------------------------------------------------------------------
    @property
    def hidden_layers(self) -> int:
        """Hidden layers actually built: 0 for ``model: linear``."""
        return 0 if self.model == "linear" else self.n_layer

    def hidden_widths(self) -> list[int]:
        """The width of each hidden layer built, input side first."""
        if self.hidden_layers == 0:
            return []
        if self.hid_dims is not None:
            return [int(w) for w in self.hid_dims.split("-")]
        return [self.hid_dim] * self.hidden_layers

    def __str__(self) -> str:
        # print(cfg) printed pydantic's bare `lr=0.1`, and an empty line for the defaults.
        return repr(self)

    def __eq__(self, other: object) -> bool:
        # The settings alone: pydantic's compared how n_layer was given beside hid_dims
        # too, so that two configs of one repr and run_id were unequal.
        if not isinstance(other, Config):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable: cfg.run_id() is the key to use

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        """The settings away from their defaults, as they would be given: all 46 of them
        buried the two a run changed (``Config(data='moons', lr=0.1)``, which also builds
        it again)."""
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value != info.default:
                yield name, value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Config:
        """A copy, with ``update``'s settings checked as ``Config(...)`` checks them:
        pydantic's own copy takes them unchecked (``lr='abc'``, ``hid_dim=-5`` passed)."""
        if not update:
            return super().model_copy(deep=deep)
        with recorded_settings(self.data_seed_beside_split_by()):  # a recorded run's stays one
            return type(self)(**{**self.model_dump(), **update})

    def read_from(self, file_settings: tuple[str, frozenset[str]] | None) -> None:
        """Mark this config as holding ``file_settings``' settings from its YAML file
        (``(path, names)``; None: none), which :meth:`name_file_in` names."""
        if file_settings is not None:
            self._source_file, self._file_settings = file_settings

    def name_file_in(self, err: Exception) -> None:
        """Put the YAML file's name before ``err``'s line (``setting 'data': ...``) where
        the setting it names was read from that file, as a validation error of it is."""
        said = err.args[0] if err.args and isinstance(err.args[0], str) else ""
        named = re.match(r"setting '(\w+)'", said)
        # A line of the data file's own ("data file 'x.csv': target column 'yy' does not
        # exist") is the data setting's.
        setting = named.group(1) if named else "data" if said.startswith("data file ") else None
        if self._source_file is None or setting not in self._file_settings:
            return
        where = f"{shorten(self._source_file, 300)}: "
        err.args = (where + said, *err.args[1:])
        if isinstance(getattr(err, "unplaced", None), str):  # DataError's line without places
            err.unplaced = where + err.unplaced  # type: ignore[attr-defined]

    def data_seed_beside_split_by(self) -> bool:
        """Whether this config has data_seed beside split_by, as a run recorded before that
        was refused may (see :meth:`_check_split_by`)."""
        return self.split_by is not None and self.data_seed != 0

    def copy(
        self,
        *,
        include: Any = None,
        exclude: Any = None,
        update: Mapping[str, Any] | None = None,
        deep: bool = False,
    ) -> Config:
        """pydantic's deprecated name of :meth:`model_copy`, whose checks it has: pydantic's
        own dropped a misspelt ``update`` key (``hid_dimm``) with only a deprecation warning,
        and the run trained without it."""
        warnings.warn(
            "Config.copy is pydantic's deprecated name; use cfg.model_copy(update={...})",
            DeprecationWarning,
            stacklevel=2,
        )
        if include is not None or exclude is not None:
            raise ConfigError(
                "Config.copy(include=..., exclude=...): a Config holds every setting; "
                "use cfg.model_copy(update={...}) to change some"
            )
        return self.model_copy(update=update, deep=deep)

    def label(self, spec: Labelled | None = None) -> str:
        """Short human label: ``model_name`` if set; with ``spec`` (the
        :class:`~mlplab.engines.spec.ModelSpec` built on the data, which knows the input and
        output widths), its label, every layer's width as the lectures write it
        (``mlp 2-2-1 sigmoid``); else, from the settings alone (a sweep's tables), the
        hidden layers as width x count (``mlp 2x1 sigmoid``, ``mlp 128x3 relu bn dp 0.2``)
        or ``linear``, then what a reader must know to tell two models apart (batch norm,
        dropout, skip connections)."""
        if self.model_name:
            return self.model_name
        if spec is not None:
            return spec.label()
        if self.hidden_layers == 0:
            return "linear"
        layers = (
            self.hid_dims if self.hid_dims is not None else f"{self.hid_dim}x{self.hidden_layers}"
        )
        extras = [
            "bn" if self.use_bn else "",
            f"dp {self.dp_rate:g}" if self.dp_rate else "",
            self.sc_type if self.sc_type != "none" else "",
        ]
        return " ".join(["mlp", layers, self.act, *filter(None, extras)])

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def as_given(self) -> dict[str, Any]:
        """:meth:`to_dict` with ``n_layer`` as it was given where ``hid_dims`` overrode it,
        so a Config rebuilt from it with other settings (``train(cfg, lr=0.5)``) still
        notes that override."""
        d = self.to_dict()
        if self._n_layer_given is not None:
            d["n_layer"] = self._n_layer_given
        return d

    def unused_settings(self, named: bool = False, skip: Collection[str] = ()) -> list[str]:
        """Settings away from their defaults that this model or optimizer does not use,
        each with why, e.g. ``--mm 0.9 (momentum is sgd's and rmsprop's)``. With ``named``
        (one run, whose settings the user typed), a setting given at its default too:
        ``--act relu`` of a linear model is as unused as ``--act tanh``. Those in ``skip``
        are left out (a kept run's record settings, which its own line speaks for).

        Accepted, not refused: a sweep may pair them with settings that use them.
        """
        default = {k: f.default for k, f in type(self).model_fields.items()}
        given = self._n_layer_given
        if given is not None and (self.hid_dims is None or given == self.n_layer):
            given = None  # hid_dims was changed since: the count given is no longer overridden
        shown = {"n_layer": given} if given is not None else {}  # the count given, not hid_dims'
        notes = [
            f"--{k} {as_typed(shown.get(k, getattr(self, k)))} ({why})"
            for k, why in unused_by(self.to_dict()).items()
            if k not in skip
            and (
                shown.get(k, getattr(self, k)) != default[k]
                or (named and k in self.model_fields_set)
            )
        ]
        if given is not None and self.hidden_layers:
            # Valid (a flag's hid_dims overrides its file's n_layer) but easy to miss.
            notes.insert(
                0,
                f"--n_layer {given} (hid_dims {self.hid_dims} gives {self.n_layer} hidden "
                f"layer{'s' if self.n_layer > 1 else ''})",
            )
        return notes

    def to_yaml(self, unicode: bool = True) -> str:
        """The settings as YAML; ``unicode``: names in any script as written (``τιμή``),
        else as escapes (``"\\u03C4..."``), for an output that cannot show them."""

        return settings_as_yaml(self.to_dict(), unicode)

    def run_hash(self) -> str:
        return run_hash(self)

    def run_id(self) -> str:
        """The id of this config's run, its folder's name under ``log_path/exp_name``
        (``xor-nn-ac0376``): what ``event.models.name(id)`` and a sweep's ``statuses()``
        call it, so that a search joins its proposals to their runs."""
        return f"{self.exp_name}-{self.run_hash()}"

    def run_digest(self) -> str:
        return run_digest(self)

    def standardizes(self) -> bool:
        """Whether the features are standardized: ``standardize``, with ``auto`` resolved.

        ``auto`` leaves the lectures' synthetic sets raw, as the labs train them, and
        standardizes everything else: data files and the bundled tables, whose features
        come on very different scales.
        """
        if self.standardize == "auto":
            return self.data not in SYNTHETIC_SETS
        return self.standardize


# The built-in synthetic sets (mlplab.data.registry declares them; a test checks that the
# two lists agree). `standardize: auto` leaves them raw, as the lectures' labs train them.
SYNTHETIC_SETS = frozenset(
    {"and", "or", "xor", "sinlog", "sine", "ring", "moons", "circles", "spiral", "gauss"}
    | {"quadrants", "circle"}  # the TensorFlow Playground's exclusive or and circle
)

# Settings that do not change what is learned, so they stay out of the run's identity.
# The lecture leaves out `epoch` and `test_batch_size`; mlplab keeps `epoch` in, because
# 100 and 4000 epochs are different experiments whose records must not overwrite each
# other, and leaves out what only changes how a run is watched or where it is written.
HASH_EXCLUDED = frozenset(
    {
        "test_batch_size",
        "log_every",
        "log_val",
        "save_every",
        "log_path",
        "exp_name",
        "model_name",
        "id_digits",  # how much of the hash names the run, not what it learns
        "plots",
        "snapshot_every",
        "device",
        "use_xavier",  # folded into `init`
    }
)


def settings_as_yaml(settings: dict[str, Any], unicode: bool = True) -> str:
    """Settings as YAML, in the order given; ``unicode``: text in any script as written."""
    import yaml

    # libyaml's emitter where PyYAML has it: the pure-Python one took ~2 ms a config, which
    # a sweep of hundreds of small runs pays once per run. But libyaml writes a character
    # past U+FFFF (an emoji in a folder's name) as an escape, "\U0001F680", which the
    # pure-Python emitter writes as typed: that one, where such a character is.
    astral = unicode and any(ord(c) > 0xFFFF for c in repr(settings))
    dumper = yaml.SafeDumper if astral else getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(settings, Dumper=dumper, sort_keys=False, allow_unicode=unicode)


def run_hash(cfg: Config) -> str:
    """The first ``id_digits`` (6) hex digits of the sha1 of the settings that define the
    experiment (as the lecture does).

    Six digits are what the lectures use, and run folders are named by them; two configs
    may share them (about 3% of 1,000 configs have a twin, half of 5,000), so
    :func:`mlplab.restore.claim_run_id` gives a config whose id another config's run
    holds (in its folder, or earlier in a sweep) 8 digits (``id_digits``); where a
    folder's run is taken for a config's, :func:`run_digest` (the whole sha1) says whether
    it is."""
    return run_digest(cfg)[: cfg.id_digits]


# The most hex digits of a run id (id_digits): 16**12 ids.
ID_DIGITS_MAX = 12


def widened_run_id(cfg: Config, holder: Callable[[str], str | None]) -> Config:
    """``cfg`` with the fewest hex digits of its run id (``id_digits``, 6, then 8, 10, ...)
    that no other config holds: ``holder(run hash)`` gives the :func:`run_digest` of the
    config that has that id (a folder's run, an earlier config of a sweep), or None. Its
    own digest there is its own run, at whichever width it lies: a twin's 6-digit folder
    removed (a diverged run cleaned up), the config's run at 8 is still found."""
    digest, free = cfg.run_digest(), None
    for digits in range(cfg.id_digits, ID_DIGITS_MAX + 1, 2):
        placed = cfg if digits == cfg.id_digits else cfg.model_copy(update={"id_digits": digits})
        who = holder(placed.run_hash())
        if who == digest:
            return placed
        free = free or (placed if who is None else None)
    return free or placed  # 12 digits taken by another config: its folder refuses it


def run_digest(cfg: Config) -> str:
    """The whole sha1 of the settings that define the experiment."""
    d = {k: v for k, v in identity_values(cfg.to_dict()).items() if k not in HASH_EXCLUDED}
    # `auto` enters as what it resolves to: the same experiment keeps its hash however it
    # is spelled, and runs recorded before `auto` existed keep theirs.
    d["standardize"] = cfg.standardizes()
    blob = json.dumps(without_unset_later(d), sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()


# Settings added after the first release, each with the value that leaves it unset.
LATER_SETTINGS: dict[str, Any] = {
    "hid_dims": None,
    "ignore": None,
    "min_delta": 0.0,
    "standardize_target": False,
    "class_weight": "none",
    "l1_coef": 0.0,
    "split_by": None,
    "stratify": False,
    "id_digits": 6,
    "features": None,
}


def without_unset_later(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without the later-added ones that are unset: they leave the hash of a
    run recorded before them as it was, and out of a record (config.yaml, a checkpoint),
    they leave it readable by an mlplab from before them, which refused the whole record
    for one unknown setting, and replaced an interrupted run's checkpoint as another's."""
    return {k: v for k, v in settings.items() if k not in LATER_SETTINGS or v != LATER_SETTINGS[k]}


def unknown_settings(settings: dict[str, Any]) -> list[str]:
    """The names among a record's ``settings`` that this mlplab does not know, sorted."""
    return sorted(k for k in settings if isinstance(k, str) and k not in Config.model_fields)


def check_known_settings(settings: dict[str, Any], where: str) -> None:
    """Refuse a record's settings (``where``: its config.yaml, a checkpoint) that name one
    this mlplab does not know, as :class:`NewerRecord`: a newer mlplab wrote them (or a
    hand edited them). Read as any config's unknown setting, the line pointed to `--help`,
    and a checkpoint refused so was taken for another run's and trained over."""
    unknown = unknown_settings(settings)
    if unknown:
        from mlplab import __version__

        raise NewerRecord(
            f"{where} names the setting {unknown[0]!r}, which mlplab {__version__} does not "
            "know: a newer mlplab wrote it (upgrade mlplab to use it), or it was edited; the "
            "record is left as it is (another --exp_name trains this config apart from it)"
        )


def same_widths(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (a config's or a record's settings) with a ``hid_dims`` of one width
    (``16``, ``16-16``) written as the ``n_layer`` and ``hid_dim`` that build the same
    network (``hid_dims`` unset), as ``swish`` is ``silu`` and ``use_xavier`` is ``init:
    xavier``: one network, one run id and one config in a report, however it is spelled."""
    widths = values.get("hid_dims")
    if not isinstance(widths, str) or len(set(widths.split("-"))) != 1:
        return values
    count = len(widths.split("-"))
    return {**values, "hid_dims": None, "hid_dim": int(widths.split("-")[0]), "n_layer": count}


def widths_as_hid_dims(records: list[dict[str, Any]]) -> None:
    """In place, for a report: where an experiment's records give their hidden widths both
    ways (some ``hid_dims``, some ``n_layer`` and ``hid_dim``), the latter's as the
    ``hid_dims`` they equal (``16-16``; ``hid_dim`` then blank, as beside any
    ``hid_dims``), so one network is one config, its seeds pooled. An experiment that
    gives them one way only is left as its runs wrote it."""
    spelled = {r.get("exp_name") for r in records if r.get("hid_dims") is not None}
    for r in records:
        width, count = r.get("hid_dim"), r.get("n_layer")
        if (
            r.get("exp_name") in spelled
            and r.get("hid_dims") is None
            and r.get("model", "mlp") == "mlp"
            and isinstance(width, int)
            and isinstance(count, int)
            and count > 0
        ):
            r["hid_dims"], r["hid_dim"] = "-".join([str(width)] * count), None


def identity_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (a config's or a record's settings) as a run's identity reads them: a
    ``hid_dims`` of one width as :func:`same_widths` writes it; beside any other
    ``hid_dims``, ``hid_dim`` shapes nothing, so it enters as its default and
    ``--hid_dims 4-8 --hid_dim 7`` is the run ``--hid_dims 4-8`` names. (Its default, not
    left out: runs recorded with hid_dims and the default hid_dim keep their ids.)"""
    values = same_widths(values)
    if values.get("hid_dims") is not None and "hid_dim" in values:
        return {**values, "hid_dim": Config.model_fields["hid_dim"].default}
    return values


def identity_diff(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """``theirs``' values of the settings that define the experiment (those a run's hash
    takes) where they differ from ``mine``, as ``lr 3.419``: what tells two configs of one
    run id apart."""
    ours, other = identity_values(mine), identity_values(theirs)
    return [
        f"{k} {theirs[k]!r}"
        for k in ours
        if k in other and k not in HASH_EXCLUDED and other[k] != ours[k]
    ]


def as_typed(value: Any) -> str:
    """A value as it is written on the command line (``true``, not ``True``; a list as
    ``0.8 0.1 0.1``)."""
    if isinstance(value, list | tuple):
        return " ".join(map(as_typed, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def setting_names() -> list[str]:
    return list(Config.model_fields)


def field_help(name: str) -> str:
    return Config.model_fields[name].description or ""


def field_group(name: str) -> str:
    extra = Config.model_fields[name].json_schema_extra
    return str(extra.get("group", "other")) if isinstance(extra, dict) else "other"


def choices_of(name: str) -> tuple[str, ...] | None:
    """The allowed values of a setting, if it has a fixed set."""
    from typing import get_args, get_origin

    ann = Config.model_fields[name].annotation
    if get_origin(ann) is Literal:
        return tuple(str(a) for a in get_args(ann))
    return None


def _numeric_settings() -> frozenset[str]:
    numeric = []
    for name, info in Config.model_fields.items():
        ann = str(info.annotation)
        if any(t in ann for t in ("int", "float")) and "list" not in ann:
            numeric.append(name)
    return frozenset(numeric)


NUMERIC_SETTINGS = _numeric_settings()
# The settings that take whole numbers only (epochs, sizes, seeds, intervals).
WHOLE_SETTINGS = frozenset(
    name
    for name, info in Config.model_fields.items()
    if "int" in str(info.annotation) and "float" not in str(info.annotation)
)
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+")


def grouped_thousands(text: Any) -> str:
    """Why ``2.000``, given for a whole number, is refused: the reason, or "" for other
    values. A dot between thousands reads as a decimal point, so 2.000 would be 2."""
    text = text.strip() if isinstance(text, str) else ""
    if not _GROUPED.fullmatch(text) or not int(text.replace(".", "")):
        return ""  # 0.000 is 0 read either way
    whole = int(text.replace(".", ""))
    as_decimal = f"{text} is {int(text.split('.')[0])}" if text.count(".") == 1 else "no number"
    return (
        f"a dot between thousands reads as a decimal point ({as_decimal}): write {whole} "
        f"for {whole:,}" + (f", or {int(text.split('.')[0])}" if text.count(".") == 1 else "")
    )


def _settings_doc() -> str:
    """Every setting with its default, choices and meaning, for ``help(mlplab.Config)``
    (its fields' descriptions are otherwise only in ``Config.model_fields``)."""
    import textwrap

    lines = ["", "", "Settings", "--------"]
    for name, info in Config.model_fields.items():
        choices = choices_of(name)
        lines.append(
            f"{name} : default {info.default!r}"
            + (f"; one of {', '.join(choices)}" if choices else "")
        )
        lines += textwrap.wrap(
            info.description or "", 84, initial_indent="    ", subsequent_indent="    "
        )
    return "\n".join(lines)


Config.__doc__ = (Config.__doc__ or "").rstrip() + _settings_doc()


def unused_by(values: dict[str, Any]) -> dict[str, str]:
    """The settings that do not shape the run ``values`` describe (a config's or a
    record's), each with why. One rule for the notes of train and sweep and for the
    report, which blanks them so that such runs are replicates of one config."""
    unused: dict[str, str] = {}
    if values.get("model") == "linear" or values.get("n_layer") == 0:
        names = ("hid_dim", "hid_dims", "act", "use_bn", "dp_rate", "sc_type")
        for k in names + (("n_layer",) if values.get("model") == "linear" else ()):
            unused[k] = "a linear model has no hidden layer"
    elif values.get("hid_dims"):
        unused["hid_dim"] = "hid_dims gives each hidden layer's width"
    if values.get("optim") not in ("sgd", "rmsprop"):
        unused["mm"] = "momentum is sgd's and rmsprop's"
    if values.get("lr_schedule") not in ("exponential", "step"):
        unused["lr_gamma"] = "the exponential and step schedules use it"
    if values.get("lr_schedule") != "step":
        unused["lr_step"] = "the step schedule uses it"
    if values.get("plots") == "none":
        unused["snapshot_every"] = "its frames are kept for plots, and plots is none"
    if not values.get("patience"):
        unused["min_delta"] = "it counts improvements for patience, which is 0"
    return unused


# An lr decayed to this share of its start trains little more.
SPENT_LR = 1e-3


def optimizer_notes(cfg: Config) -> list[str]:
    """Optimizer settings that train otherwise than their names suggest: an exponential
    schedule that spends the lr within the first half of the epochs (the default
    lr_gamma, 0.1, is the step schedule's: each epoch, a tenth), and adamw without decay,
    which is adam. Both ran in silence."""
    notes = []
    if cfg.lr_schedule == "exponential" and cfg.lr_gamma < 1:
        spent = math.ceil(math.log(SPENT_LR) / math.log(cfg.lr_gamma))
        if spent < cfg.epoch / 2:
            notes.append(
                f"--lr_schedule exponential multiplies the lr by lr_gamma {cfg.lr_gamma:g} "
                f"every epoch: by epoch {spent + 1} of {cfg.epoch} it is a thousandth of its "
                "start or less, and the run trains little more; an lr_gamma near 1 (0.95 "
                "halves it in 14 epochs) decays it over the run"
            )
    if cfg.optim == "adamw" and cfg.l2_coef == 0:
        notes.append(
            "--optim adamw with l2_coef 0 trains as adam: its decoupled weight decay is "
            "l2_coef (torch's AdamW defaults to 0.01)"
        )
    return notes


def _one_line(v: str) -> str:
    """``v`` without control characters: a name or path printed in a one-line message, a
    table or a plot title must stay on its line."""
    if any(unicodedata.category(c) == "Cc" for c in v):
        raise ValueError("no line breaks, tabs or other control characters")
    return v


def check_path_text(v: str) -> str:
    """``v`` if the OS can take it as a path: no NUL, each name at most 255 bytes, the
    whole at most 4095 (Linux's NAME_MAX and PATH_MAX); else ValueError saying which."""
    if "\x00" in v:
        raise ValueError("a path cannot hold a NUL character")
    try:
        raw = os.fsencode(v)
    except UnicodeEncodeError:
        raise ValueError("not a valid path (it holds unpaired surrogate characters)") from None
    if len(raw) > MAX_PATH_BYTES:
        raise ValueError(
            f"a path may have at most {MAX_PATH_BYTES} bytes (this one has {len(raw)})"
        )
    longest = max(raw.split(b"/"), key=len)
    if len(longest) > MAX_NAME_BYTES:
        name = short_repr(os.fsdecode(longest))
        raise ValueError(
            f"a file or folder name may have at most {MAX_NAME_BYTES} bytes "
            f"({name} has {len(longest)})"
        )
    return v


# The options of `mlplab sweep` that are no settings of a run (its flags and sweep()'s).
SWEEP_OPTIONS = frozenset(
    {"search", "trials", "workers", "rerun", "backend", "address", "group_size"}
    | {"cpus_per_task", "gpus_per_task", "no_batch", "no_report", "rank_by", "dry_run"}
)

# Arguments of the Python calls that are no settings, each with what to use in the other
# call: one passed to the wrong call was called an unknown setting, with `--help` advice.
# What a run's result.json holds and no settings do: given as settings, it is a record.
RUN_RECORD_KEYS = frozenset({"run_id", "run_digest", "status"})
CALL_ARGUMENTS = {
    "prune": ("mlplab.sweep()", "mlplab.train() stops a run with early_stop="),
    "early_stop": ("mlplab.train()", "mlplab.sweep() stops its runs with prune="),
    "record": ("mlplab.train()", "mlplab.sweep() records every run"),
    "dataset": ("mlplab.train()", "mlplab.sweep() takes data=, a file or a built-in name"),
    "resume": ("mlplab.train()", "mlplab.sweep() continues its unfinished runs itself"),
}


# A setting whose text is not UTF-8 (see Config._utf8_text): what it is, and what to do.
NOT_UTF8 = "not_utf8"
NOT_UTF8_TEXT = "'{shown}' is not UTF-8 text; give it as UTF-8"
NOT_UTF8_MESSAGES = {
    "data": "the file name '{shown}' is not UTF-8 text; rename the file",
    "log_path": "the folder name '{shown}' is not UTF-8 text; rename the folder or give another",
}


def _bool_meant(typed: bool, choices: tuple[str, ...]) -> str:
    """The choice a YAML no/off (read as false) most likely meant, none where a setting
    has it (`plots: no` was told to write `plots: png`); else, and for a yes, the first."""
    return "none" if not typed and "none" in choices else choices[0]


# `backend: numpy`, Keras's and PyTorch's word for it: mlplab's backend is where a sweep
# trains (local or ray), and the engine is the setting `engine`.
ENGINE_CHOICES = ("auto", "torch", "numpy")
ENGINE_MEANT = (
    "the NumPy or PyTorch engine is the setting 'engine' ({0}); a sweep's backend is "
    "where it trains, local or ray"
)


def format_validation_error(err: ValidationError, source: str = "") -> str:
    """Turn pydantic's report into one line naming the setting and the valid choices.

    The value at fault is quoted shortened (``reprlib``): it may be a 10 MB string or a
    list of a billion elements.
    """
    errors = err.errors()
    # Unknown names first: a misspelt key was said only once the bad value beside it was
    # mended, a second run for what one line could say.
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    first = extra[0] if extra else errors[0]
    loc = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "config"
    where = f"{source}: " if source else ""
    etype = first["type"]
    if etype == "extra_forbidden" and {str(e["loc"][0]) for e in extra} >= RUN_RECORD_KEYS:
        # A run's result.json given as settings: its 40 result keys, each with a
        # suggestion that led nowhere, in a 1,300-character line.
        folder = str(Path(source).parent) if source.endswith("result.json") else ""
        return (
            f"{where}this is a run's record (result.json: run_id, run_digest, status), not "
            "settings: the run's settings are in config.yaml beside it, and "
            f"mlplab.load_run({repr(folder) if folder else 'run_dir'}) rebuilds its model"
        )
    if (
        etype == "extra_forbidden"
        and not source
        and loc in KEYWORD_CALLS
        and loc not in CALL_ARGUMENTS  # said with what the other call does instead
        and loc not in SWEEP_OPTIONS  # a sweep's YAML file: said as such below
        and len(extra) == 1
    ):
        # Config(shard=1) was asked if it meant 'shard', the very word typed.
        return f"{loc!r} is {KEYWORD_CALLS[loc]}, not a setting"
    if etype == "extra_forbidden":
        if loc in ("search", "trials"):  # a sweep file keeps them, not a run's config
            if not source:
                return (
                    f"{loc!r} is an option of mlplab.sweep() (or a sweep's YAML file), not "
                    "one run's setting"
                )
            return (
                f"{where}{loc!r} is kept by a sweep's file, which `mlplab sweep` runs (its "
                "search); one run's config holds settings alone"
            )
        if loc == "backend" and str(first.get("input")).strip().lower() in ENGINE_CHOICES:
            # PyTorch's and Keras's word for what mlplab calls the engine.
            value = str(first["input"]).strip().lower()
            meant = f"engine: {value}" if source else f"engine={value!r}"
            return f"{where}{loc!r}: {ENGINE_MEANT.format(meant)}"
        if loc in SWEEP_OPTIONS:  # a sweep's own option, written into its YAML file
            return (
                f"{where}{loc!r} is an option of `mlplab sweep`, not a setting a file holds: "
                f"give it as a flag (--{loc}), or as an argument of mlplab.sweep()"
            )
        if loc in CALL_ARGUMENTS:
            call, instead = CALL_ARGUMENTS[loc]
            if source:  # a file or flags: no Python call to take it
                return f"{where}{loc!r} is no setting (an argument of {call} in Python)"
            return f"{where}{loc!r} is an argument of {call}, not a setting; {instead}"

        def hint_of(name: str) -> str:
            if source:
                return setting_hint(name, setting_names())
            if name in KEYWORD_CALLS:
                return f" ({KEYWORD_CALLS[name]}, not a setting)"
            if (instead := CALL_INSTEAD.get(name.lower())) is not None:
                return f" ({instead})"
            known = [*setting_names(), *CALL_KEYWORDS]
            return setting_hint(name, known, other=CALL_OTHER_NAMES, said=KEYWORD_CALLS)

        # A file's user runs the command line; a Python call's reads the Config's fields.
        where_listed = (
            "`mlplab train --help`"
            if source
            else "mlplab.Config.model_fields (`mlplab train --help` says what each means)"
        )
        # Every one at once: the lecture's args block pasted in, or a file of three such
        # names, took a run for each (in_dim, then num_layers).
        others = [
            name
            for e in extra[1:]
            if (name := ".".join(str(p) for p in e["loc"] if not isinstance(p, int)))
            not in (*SWEEP_OPTIONS, *CALL_ARGUMENTS)
        ]
        if others:
            named = ", ".join(f"{short_repr(n)}{hint_of(n)}" for n in [loc, *others])
            return f"{where}unknown settings {named}; see {where_listed} for the list"
        return f"{where}unknown setting {short_repr(loc)}{hint_of(loc)}; see {where_listed} for the list"
    if etype == "invalid_key":
        return f"{where}setting names must be text, not {short_repr(first.get('input'))}"
    if etype == NOT_UTF8:  # its message shows the name, with the bytes that are not UTF-8
        return f"{where}setting '{loc}': {first['msg']}"
    # YAML's null (`--lr null`, `exp_name: ~`) read as Python's None, which the user never
    # wrote: "None is not a number".
    empty = first.get("input") is None and bool(first["loc"])
    got = "an empty value (null, ~ or None)" if empty else short_repr(first.get("input"))
    choices = choices_of(loc) if loc in Config.model_fields else None
    if choices is not None and etype == "literal_error":
        typed = first.get("input")
        # --act relux, --optim adamm: the nearest choice, as an unknown setting's name gets.
        near = nearest(typed, choices) if isinstance(typed, str) else None
        hint = f" (did you mean {near!r}?)" if near else ""
        as_dict = isinstance(typed, dict) or (isinstance(typed, str) and ":" in typed)
        if loc == "class_weight" and as_dict:  # a dict, or one written as text ("{0: 1}")
            # Keras' and scikit-learn's {label: weight}: a run weighs its classes by their
            # sizes alone; the estimators take a weight per class.
            hint = (
                "; a weight per class ({label: weight}) is mlplab.MLPClassifier(class_weight="
                "...)'s; a run takes 'balanced', which weighs each class by rows / (classes "
                "x its rows), so that a rare class counts as much as a common one"
            )
        if isinstance(typed, bool):  # `class_weight: no` in YAML: the user wrote no word
            hint = (
                "; YAML reads no, yes, on, off, true and false unquoted as true or false: "
                f"write one of the choices ({loc}: {_bool_meant(typed, choices)})"
            )
        return f"{where}setting '{loc}': {got} is not one of {', '.join(choices)}{hint}"
    # pydantic's own words for a value of the wrong kind ("Input should be a valid
    # boolean, unable to interpret input"), in the form of the other lines: what it is not.
    kinds = {
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "int_type": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "string_type": "text",
        "list_type": "a list",
    }
    if etype in kinds and first["loc"]:
        several = ""
        if isinstance(first.get("input"), list) and source != "sweep":
            # A sweep's YAML (seed: [0, 1]) given to train: the values make a grid there.
            several = "; several values make a sweep: mlplab sweep (mlplab.sweep in Python)"
        elif _means_off(first.get("input")) and loc in Config.model_fields:
            # None for "off" (patience=None, as scikit-learn's n_iter_no_change users
            # write it; --patience none): the setting's help says which value turns it off.
            several = f" ({loc}: {Config.model_fields[loc].description})"
        elif etype == "int_parsing" and (whole := _whole_text(first.get("input"))):
            several = f" as written; write it as {whole}"  # '1e3' is whole, in another form
        elif etype == "list_type" and isinstance(first.get("input"), str):
            # `split: 0.8 0.1 0.1` in YAML is one text; YAML's list is written in brackets.
            several = (
                f"; write a list in brackets: {loc}: [{', '.join(_list_words(first['input']))}]"
            )
        elif source != "sweep" and (hint := comma_hint(loc, first.get("input"))):
            several = f"; {hint}"  # a sweep's own check gives a sweep's hint
        return f"{where}setting '{loc}': {got} is not {kinds[etype]}{several}"
        return f"{where}setting '{loc}': {got} is not {kinds[etype]}{several}"
    msg = first["msg"]
    msg = msg.removeprefix("Value error, ")
    if not first["loc"]:  # a check across settings: its message names them
        return f"{where}{msg}"
    return f"{where}setting '{loc}': {msg} (got {got})"


def comma_hint(name: str, value: Any, in_sweep: bool = False) -> str:
    """What a value with commas means, for a setting that refused it: ``1,000`` one
    thousand, ``0,5`` a decimal comma, ``0.1,0.2`` several values (a sweep's axis); ""
    where it holds no comma between numbers."""
    parts = _comma_parts(value)
    if not parts:
        return ""
    ann = str(Config.model_fields[name].annotation) if name in Config.model_fields else ""
    listed, whole = "list" in ann, name in WHOLE_SETTINGS
    digits = all(p.lstrip("+-").isdigit() for p in parts)
    grouped = digits and all(len(p) == 3 for p in parts[1:])
    joined, spaced = "".join(parts), " ".join(parts)
    if whole and grouped and any(p.startswith("0") for p in parts[1:]):
        # 1,000 or 2,048: one number as English groups it (no value is written 000).
        return f"write it without a separator: {joined}"
    decimal = ("float" in ann and not listed) or (listed and parts[0] == "0")
    if len(parts) == 2 and digits and decimal:
        # 0,5 for a number, and a split's 0,8: a decimal comma ("--split 0 8" read two).
        return f"write it with a decimal point: {'.'.join(parts)}"
    if listed and not in_sweep:
        return f"separate the values by spaces: --{name} {spaced}"
    several = (
        f"a sweep takes several values separated by spaces: --{name} {spaced}"
        if in_sweep
        else f"several values, separated by spaces, make a sweep: mlplab sweep --{name} {spaced}"
    )
    # 100,200 may be two values or one hundred thousand and two hundred: both are said.
    return several + (
        f" (or one number, without a separator: {joined})" if whole and grouped else ""
    )


def _list_words(text: str) -> list[str]:
    """A YAML list written as text (``0.8 0.1 0.1``, ``0.8, 0.1, 0.1``, ``0,8 0,1 0,1``) as
    the numbers of the list it means."""
    words = [w.strip(",;") for w in text.split()] if " " in text.strip() else text.split(",")
    return [re.sub(r"^([+-]?\d+),(\d+)$", r"\1.\2", w.strip()) for w in words if w.strip()]


def _comma_parts(value: Any) -> list[str]:
    """The numbers of text such as ``1600,400,400`` or ``0,5``; none for other values."""
    if not isinstance(value, str):
        return []
    parts = [p.strip() for p in value.split(",")]
    number = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
    return parts if len(parts) > 1 and all(number.fullmatch(p) for p in parts) else []


def _whole_text(value: Any) -> str:
    """``1e3`` written as a whole number (``1000``), if the text is one in another form."""
    try:
        number = float(value) if isinstance(value, str) else math.nan
    except ValueError:
        return ""
    whole = math.isfinite(number) and abs(number) < 1e18 and number == int(number)
    return f"{int(number)}" if whole else ""


def _means_off(value: Any) -> bool:
    return value is None or (
        isinstance(value, str) and value.strip().lower() in ("none", "null", "off")
    )


def plain_value(value: Any) -> Any:
    """A NumPy scalar (``np.float64(0.1)``, an element of an array) as the Python number it
    holds, and a path as its text: what a setting and the YAML of a record or spec take."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        dtype = getattr(value, "dtype", None)
        if getattr(dtype, "kind", "") == "f" and getattr(dtype, "itemsize", 8) < 8:
            # np.float32(0.1) (np.linspace's grid in float32) holds 0.10000000149...: the
            # number meant is the shortest that it prints as, 0.1, the run of lr=0.1.
            return float(str(value))
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


# Whether make_config validates a recorded run's settings (see its ``recorded``).
_RECORDED: contextvars.ContextVar[bool] = contextvars.ContextVar("recorded", default=False)


@contextlib.contextmanager
def recorded_settings(recorded: bool = True) -> Iterator[None]:
    """Within it (where ``recorded``), Configs are built as a recorded run's settings are:
    a check added after the run trained (data_seed beside split_by) does not refuse them.
    A context variable, as Config's own ``__init__`` takes no pydantic context; nested,
    a recorded run's stays one."""
    token = _RECORDED.set(recorded or _RECORDED.get())
    try:
        yield
    finally:
        _RECORDED.reset(token)


def make_config(
    values: dict[str, Any],
    source: str = "",
    not_from_source: Collection[str] = (),
    recorded: bool = False,
) -> Config:
    """Validate a dict of settings into a Config, raising ConfigError with one line.

    ``source`` (a YAML file) is named in the line when the setting at fault came from it,
    not from ``not_from_source`` (the flags or keywords that override the file).
    ``recorded``: the settings of a run already trained (its config.yaml), which a check
    added since (data_seed beside split_by) does not refuse.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{source or 'config'}: settings must be a mapping of name to value")
    bad_keys = [k for k in values if not isinstance(k, str)]
    if bad_keys:  # e.g. `1: true` or `null: 2` in a YAML file
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}setting names must be text, not {short_repr(bad_keys[0])}")
    try:
        with recorded_settings(recorded):
            return Config.model_validate(values)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None
    except ConfigError as err:  # Config.__init__'s line, which knows no file: named here
        validation = getattr(err, "validation", None)
        if validation is None or not source:
            raise
        first = validation.errors()[0]["loc"]
        if (first and str(first[0]) in not_from_source) or (not first and not_from_source):
            raise  # a flag's, or settings of the file and the flags together: as it was
        raise ConfigError(format_validation_error(validation, source)) from None


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML config file into a dict (not yet validated).

    Refused with a one-line ConfigError: a path that is not a regular file (a folder, a
    FIFO, a device), a file over 1 MiB, text that is not UTF-8 or not valid YAML, a key given twice in one
    mapping, and aliases that expand to more than 100,000 values or nest deeper than 32
    levels (checked on the parsed nodes, before any Python object is built).
    """
    import yaml

    p = user_path(path)  # `~/course/lab.yaml` from Python, or a quoted flag
    name = short_repr(str(p))
    raw = _read_config_bytes(p, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        # Most often an editor's Windows code page (café as 0xE9): "is not valid YAML" sent
        # its user looking for a syntax error in a file whose syntax is right.
        line_number = raw.count(b"\n", 0, err.start) + 1
        # A table given as the config is fixed by --data, not by saving it again.
        advice = _data_hint(p) or "; save it as UTF-8 and use that file"
        raise ConfigError(
            f"config file {name} is not UTF-8 text (line {line_number}, byte offset {err.start}: "
            f"{raw[err.start]:#04x}){advice}"
        ) from None
    try:
        # A safe loader either way; libyaml's where PyYAML has it.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return {}
            _check_yaml_nodes(node, name)
            loaded = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = getattr(mark, "line", None)
        problem = str(getattr(err, "problem", "") or "")
        # PyYAML's own reason (an undefined alias, a character YAML refuses): a line number
        # alone left the user to guess.
        reason = problem or str(err).split("\n", 1)[0]
        at = (
            f" (line {line + 1}: {reason})"
            if line is not None and reason
            else f" (line {line + 1})"
            if line is not None
            else f" ({reason})"
            if reason
            else ""
        )
        # A tab in the line's indent (libyaml names no tab: "cannot start any token").
        lines = text.splitlines()
        at_line = lines[line] if line is not None and line < len(lines) else ""
        tab = "\t" in at_line[: len(at_line) - len(at_line.lstrip())]
        if line is not None and ("tab" in problem or "'\\t'" in problem or tab):  # a common slip
            at = f" (line {line + 1}: a tab; YAML indents with spaces)"
        if "another document" in problem:  # `---`: valid YAML, of more than one config
            raise ConfigError(
                f"config file {name} holds more than one YAML document (a second begins at "
                f"line {(line or 0) + 1}); give one config a file, or remove the `---`"
            ) from None
        raise ConfigError(f"config file {name} is not valid YAML{at}{_data_hint(p)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"config file {name} must be a mapping of `key: value` settings{_data_hint(p)}"
        )
    return loaded


def _data_hint(path: Path) -> str:
    """`mlplab train rows.csv`: the table was meant as the data, not as a config."""
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npz"):
        return f"; a data file is given as --data {path}"
    return ""


_FILE_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class NotRegularFile(OSError):
    """A path that names a folder, a FIFO, a device or a socket, not a file: ``kind``
    says which (:data:`_FILE_KINDS`)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise NotRegularFile(_FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file"))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading (binary), once it is known to be a regular file;
    NotRegularFile where it is not, OSError where it cannot be opened.

    Checked before opening: opening a FIFO would wait forever for a writer, reading
    /dev/zero never ends, and opening a device may act on it. Checked again on the open
    file (a FIFO opens without waiting there), should the name have changed between.
    """
    _check_regular(os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        _check_regular(os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _missing_config_hint(p: Path) -> str:
    """What may be meant by a config file that does not exist: its name without the
    quotes a slide printed, a near name in its folder (xor-nn.yaml for xor_nn.yaml), the
    file from inside examples/, or a clone's examples/ where an installed package has none."""
    import difflib

    if str(p) == "-":  # `--config -`, as other tools read standard input
        return " (a config is read from a file, not standard input: save it to one first)"
    quotes = "\u201c\u201d\u2018\u2019\"'"
    if str(p)[:1] in quotes or str(p)[-1:] in quotes:
        bare = Path(str(p).strip(quotes))
        if bare.is_file():
            return f" (the quotes are part of the name: give {bare})"
        more = _missing_config_hint(bare).strip()[1:-1]  # its own hint, unbracketed
        return f" (the quotes are part of the name; {bare} does not exist either" + (
            f": {more})" if more else ")"
        )
    try:
        names = [f.name for f in p.parent.iterdir() if f.suffix in (".yaml", ".yml")]
    except OSError:  # no such folder, or one it may not list
        names = []
    near = difflib.get_close_matches(p.name, names, n=1, cutoff=0.8)
    if near:
        return f" (did you mean {p.parent / near[0]}?)"
    if p.parts[:1] == ("examples",):
        if Path.cwd().name == "examples" and Path(*p.parts[1:]).exists():
            return f" (this folder is examples/ already: give {Path(*p.parts[1:])})"
        if not Path("examples").is_dir():
            # The help's examples name the lab configs of mlplab's repository, which an
            # installed package does not carry.
            return (
                " (the lab configs are in examples/ of mlplab's repository and source "
                "distribution, not in an installed package: run from a clone, or copy its "
                "examples/ folder here)"
            )
    if not p.is_absolute():
        # A notebook opened from another folder than the config's runs in that folder: the
        # line named a file that exists, somewhere else, without saying where it looked.
        beside = Path("examples") / p
        there = f"; {beside} is there" if p.parts[:1] != ("examples",) and beside.is_file() else ""
        return f" (a relative path: looked for in {Path.cwd()}{there})"
    return ""


def _read_config_bytes(p: Path, name: str) -> bytes:
    """The file's bytes, after checking it is a regular file (:func:`open_regular`) of
    at most 1 MiB."""
    try:
        with open_regular(p) as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"config file {name} does not exist{_missing_config_hint(p)}") from None
    except NotRegularFile as err:
        # A pipe (`--config <(envsubst < base.yaml)`) may have no writer, and reading it
        # would then wait for ever; one read is gone when a run continues.
        raise ConfigError(
            f"config file {name} is {err.kind}, not a YAML file"
            + (": save the config to a file first" if "pipe" in err.kind else "")
        ) from None
    except OSError as err:
        raise ConfigError(
            f"config file {name} cannot be read ({err.strerror or type(err).__name__})"
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"config file {name} is larger than {MAX_CONFIG_BYTES // 1024} KiB; "
            "a config is a short list of settings"
        )
    return raw


def _no_grouped_thousands_in(key: str, value: Any, name: str) -> None:
    """``epoch: 2.000`` in YAML is the float 2.0, which a whole-number setting takes as 2:
    refused from the text as written, as the command line's ``--epoch 2.000`` is."""
    import yaml

    if key not in WHOLE_SETTINGS:
        return
    for node in value.value if isinstance(value, yaml.SequenceNode) else [value]:
        float_text = isinstance(node, yaml.ScalarNode) and node.tag.endswith(":float")
        if float_text and (grouped := grouped_thousands(node.value)):
            line = node.start_mark.line + 1
            raise ConfigError(
                f"config file {name}, line {line}: setting '{key}': {node.value}: {grouped}"
            )


# YAML 1.1's numbers that read otherwise than they look: 010 is the octal 8, 032 is 26,
# and 1:00 the base-60 60 (a time); the same text as a flag is 10, 32 or refused.
_READ_OTHERWISE = re.compile(r"[-+]?(0[0-9_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)")


def _no_octal_or_base_60_in(key: str, value: Any, name: str) -> None:
    """``seed: 010`` in YAML trained seed 8, and ``epoch: 1:00`` 60 epochs, without a word:
    refused from the text as written, with the number meant and the text in quotes."""
    import yaml

    if key in _NAME_SETTINGS:  # a name's own line says it (_name_text)
        return
    for node in value.value if isinstance(value, yaml.SequenceNode) else [value]:
        numeric = isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float"))
        if numeric and not node.style and _READ_OTHERWISE.fullmatch(node.value):  # plain
            line = node.start_mark.line + 1
            as_read = yaml.safe_load(node.value)
            digits = node.value.replace("_", "").lstrip("+-").lstrip("0") or "0"
            meant = ("-" if node.value.startswith("-") else "") + digits
            raise ConfigError(
                f"config file {name}, line {line}: setting {key!r}: YAML reads {node.value} "
                f"as {as_read} ({'base 60' if ':' in node.value else 'octal'}); write "
                + (f"{meant} for the number, or " if ":" not in node.value else "")
                + f"'{node.value}' in quotes for text"
            )


def _check_yaml_nodes(root: Any, name: str) -> None:
    """Refuse alias bombs, deep nesting and duplicate keys, walking the node graph.

    Every node is counted as often as aliases repeat it, so the walk costs at most
    ``MAX_YAML_VALUES`` steps before it refuses; a recursive alias ends at the depth cap.
    """
    import yaml

    count = 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise ConfigError(
                f"config file {name} expands to more than {MAX_YAML_VALUES:,} values "
                "(through its aliases); a config is a short list of settings"
            )
        if depth > MAX_YAML_DEPTH:
            raise ConfigError(
                f"config file {name} nests more than {MAX_YAML_DEPTH} levels deep "
                "(or an alias refers to itself)"
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if (key.tag, key.value) in seen:
                        raise ConfigError(
                            f"config file {name}: the key {short_repr(key.value)} is given "
                            f"twice (lines {seen[key.tag, key.value]} and {line}); keep one"
                        )
                    seen[key.tag, key.value] = line
                    _no_grouped_thousands_in(key.value, value, name)
                    _no_octal_or_base_60_in(key.value, value, name)
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


@public
def load_config(
    path: str | os.PathLike[str] | Config | dict[str, Any] | argparse.Namespace | None = None,
    overrides: dict[str, Any] | argparse.Namespace | None = None,
    **settings: Any,
) -> Config:
    """Defaults < YAML file < ``overrides`` (a dict of settings, as flags, or an
    ``argparse.Namespace``) < keyword ``settings`` (``load_config("base.yaml", lr=0.5)``).
    Validated once; raises ConfigError. ``path`` may also be a Config or a dict of
    settings, as ``mlplab.train`` takes them, or the lecture's ``args`` (an
    ``argparse.Namespace``).

    A Namespace with a ``config`` (a student's own parser with ``--config``) reads it as
    the YAML file's path, and its other values override the file. A Namespace's None is a
    flag not given (argparse's default): the file's setting, or the default, stays."""
    if isinstance(overrides, argparse.Namespace):
        # A parser of the user's own: None is a flag not given (its --config too), as
        # train(args) and load_config(args) read one.
        overrides = {k: v for k, v in vars(overrides).items() if v is not None}
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigError(
            f"load_config's overrides: {short_repr(overrides)} ({type(overrides).__name__}) "
            "is not accepted; give a dict of settings or an argparse.Namespace"
        )
    overrides = {**(overrides or {}), **settings}
    if isinstance(path, argparse.Namespace):
        path = vars(path)
        if "config" in path:
            return _with_config_path(path, overrides)
        # None is a flag not given (argparse's default), with or without --config: a
        # parser of `--lr` alone had its unset lr refused ("an empty value").
        path = {k: v for k, v in path.items() if v is not None}
    if isinstance(path, Config):
        # A copy: a Config is mutable, and a caller's `cfg.lr = ...` in a loop had changed
        # the config of every Result trained from it before.
        return (
            make_config({**path.as_given(), **overrides})
            if overrides
            else path.model_copy(deep=True)
        )
    if isinstance(path, dict):
        return make_config({**path, **overrides})
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ConfigError(
            f"config: {short_repr(path)} ({type(path).__name__}) is not accepted; give a "
            "Config, a dict of settings (or an argparse.Namespace), or the path of a YAML file"
        )
    values: dict[str, Any] = {}
    source = ""
    if path is not None:
        values.update(read_yaml(path))
        from_file = frozenset(values) - set(overrides)
        source = shorten(str(path), 300)
        if values.keys() >= SPEC_KEYS:  # write_spec's record: its keys no settings
            raise ConfigError(
                f"config file {source} is a sweep's record (sweep-HASH.yaml), not one run's "
                "config: `mlplab sweep` runs that sweep again from it, and a run of it trains "
                "again from its own RUN_DIR/config.yaml"
            )
    values.update(overrides)
    cfg = make_config(values, source, not_from_source=set(overrides))
    if path is not None:
        cfg.read_from((os.fspath(path), from_file))
    return cfg


def _with_config_path(args: dict[str, Any], overrides: dict[str, Any]) -> Config:
    """A student's own parser's ``args`` with ``--config``: its YAML, the other values over
    it. ``train(argparse.Namespace(config="x.yaml", lr=0.05))`` said only "unknown setting
    'config'"."""
    path = args["config"]
    given = {k: v for k, v in args.items() if k != "config" and v is not None}
    if path is None:  # --config not given: the other values are the settings
        return make_config({**given, **overrides})
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(
            f"args.config: {short_repr(path)} ({type(path).__name__}) is not a YAML file's "
            "path; give the path, or leave config out of args"
        )
    return load_config(path, {**given, **overrides})
