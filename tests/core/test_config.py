"""Config: one declaration, YAML < flags precedence, validation with one-line errors."""

from __future__ import annotations

import pytest

from mlplab.config import Config, load_config, make_config, run_hash
from mlplab.errors import ConfigError

LECTURE_NAMES = [
    "seed",
    "n_layer",
    "hid_dim",
    "act",
    "use_bn",
    "dp_rate",
    "sc_type",
    "use_xavier",
    "optim",
    "lr",
    "mm",
    "l2_coef",
    "epoch",
    "batch_size",
    "test_batch_size",
    "log_every",
    "validate_every",
    "save_every",
    "device",
    "log_path",
    "exp_name",
    "model_name",
    "data",
    "engine",
    "model",
    "init",
]


def test_every_lecture_name_is_a_setting():
    for name in LECTURE_NAMES:
        assert name in Config.model_fields, name
        assert Config.model_fields[name].description, f"{name} has no help text"


def test_flags_override_file_which_overrides_defaults(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("lr: 0.5\nhid_dim: 7\nact: tanh\n")
    cfg = load_config(f, {"lr": "0.25"})
    assert cfg.lr == 0.25  # flag wins
    assert cfg.hid_dim == 7 and cfg.act == "tanh"  # file wins over default
    assert cfg.epoch == Config().epoch  # default


def test_optim_is_case_insensitive_and_swish_is_silu():
    cfg = make_config({"optim": "ADAM", "act": "swish"})
    assert cfg.optim == "adam" and cfg.act == "silu"


def test_use_xavier_is_an_alias_of_init():
    assert make_config({"use_xavier": True}).init == "xavier"
    assert (
        make_config({"use_xavier": True}).run_hash() == make_config({"init": "xavier"}).run_hash()
    )


@pytest.mark.parametrize(
    ("values", "needles"),
    [
        ({"lr": 0}, ["'lr'", "greater than 0"]),
        ({"lr": -1}, ["'lr'"]),
        ({"dp_rate": 1.0}, ["'dp_rate'"]),
        ({"dp_rate": -0.1}, ["'dp_rate'"]),
        ({"act": "foo"}, ["'act'", "sigmoid", "relu"]),
        ({"optim": "lbfgs"}, ["'optim'", "adam", "sgd"]),
        ({"hid_dim": "many"}, ["'hid_dim'"]),
        ({"epoch": 0}, ["'epoch'"]),
        ({"device": "tpu"}, ["'device'", "cuda"]),
        ({"learning_rate": 0.1}, ["unknown setting 'learning_rate'"]),
        ({"hid_dimm": 3}, ["did you mean 'hid_dim'"]),
        ({"split": [0.9, 0.9]}, ["'split'"]),
    ],
)
def test_bad_values_raise_one_line_naming_the_setting(values, needles):
    with pytest.raises(ConfigError) as err:
        make_config(values)
    msg = str(err.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg


def test_print_config_round_trips(tmp_path):
    cfg = make_config(
        {"data": "ring", "n_layer": 2, "optim": "RMSprop", "lr": 0.0015, "use_bn": True}
    )
    f = tmp_path / "again.yaml"
    f.write_text(cfg.to_yaml())
    assert load_config(f) == cfg


def test_run_hash_leaves_out_only_what_does_not_change_learning():
    base = make_config({"data": "xor"})
    assert run_hash(base) == run_hash(
        make_config({"data": "xor", "log_every": 7, "test_batch_size": 9, "log_path": "x"})
    )
    assert run_hash(base) != run_hash(make_config({"data": "xor", "epoch": 5}))
    assert run_hash(base) != run_hash(make_config({"data": "xor", "seed": 1}))
    assert len(run_hash(base)) == 6


def test_bad_yaml_file_is_named(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("lr: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_config(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_every_choice_in_the_config_exists_in_both_engines():
    from mlplab.config import ACTIVATIONS, OPTIMIZERS
    from mlplab.engines.numpy.functional import ACTIVATIONS as NUMPY_ACTIVATIONS
    from mlplab.engines.torch.model import ACTIVATION_MODULES

    assert set(ACTIVATIONS) == set(NUMPY_ACTIVATIONS) == set(ACTIVATION_MODULES)
    assert set(OPTIMIZERS) == {"sgd", "rmsprop", "adagrad", "adam", "adamw"}


def test_hid_dims_sets_the_layers_and_keeps_old_hashes():
    import hashlib
    import json

    from mlplab.config import HASH_EXCLUDED

    cfg = make_config({"data": "digits", "hid_dims": "256-128"})
    assert cfg.n_layer == 2 and cfg.hidden_widths() == [256, 128]
    assert cfg.label() == "mlp 256-128 relu"
    assert make_config({"hid_dims": 64}).hidden_widths() == [64]
    # It replaces n_layer as it replaces hid_dim, e.g. a file's n_layer under a flag.
    assert make_config({"n_layer": 1, "hid_dims": "8-4-2"}).n_layer == 3
    plain = make_config({"data": "xor", "n_layer": 2, "hid_dim": 4})
    assert plain.hidden_widths() == [4, 4]
    # Unset, hid_dims stays out of the run's identity: earlier runs keep their hashes.
    d = {k: v for k, v in plain.to_dict().items() if k not in HASH_EXCLUDED and k != "hid_dims"}
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    assert plain.run_hash() == hashlib.sha1(blob.encode()).hexdigest()[:6]
    assert cfg.run_hash() != make_config({"data": "digits", "hid_dims": "128-256"}).run_hash()


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"hid_dims": "256-x"}, ["hid_dims", "256-128"]),
        ({"hid_dims": "0-4"}, ["hid_dims"]),
    ],
)
def test_bad_hid_dims_name_the_setting(settings, words):
    with pytest.raises(ConfigError) as err:
        make_config(settings)
    for w in words:
        assert w in str(err.value)
