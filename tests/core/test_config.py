"""Config: one declaration, YAML < flags precedence, validation with one-line errors."""

from __future__ import annotations

import json
import re

import pytest
import yaml

import mlplab
from conftest import assert_one_line_error
from mlplab.config import Config, load_config, make_config, run_hash
from mlplab.errors import ConfigError, DataError

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


def test_a_constant_learning_rate_is_no_schedule():
    """scikit-learn's learning_rate='constant' is lr_schedule 'none' (the estimators' line
    for learning_rate says so): 'constant' was then refused as no schedule."""
    cfg = make_config({"lr_schedule": "Constant"})
    assert cfg.lr_schedule == "none" and cfg.run_hash() == make_config({}).run_hash()


def test_device_is_written_in_any_case_as_every_choice():
    """`--device CUDA` and `--device Cpu` were refused, the one choice of case (the README
    says any choice may be written in any case)."""
    assert [make_config({"device": d}).device for d in ("CUDA", "Cpu", " cuda:1 ")] == [
        "cuda",
        "cpu",
        "cuda:1",
    ]
    with pytest.raises(ConfigError, match="'device'"):
        make_config({"device": "GPU"})


@pytest.mark.parametrize(
    ("name", "typed", "meant"),
    [
        ("act", "LeakyReLU", "leaky_relu"),  # PyTorch's class name
        ("act", "leaky-relu", "leaky_relu"),
        ("act", "Leaky ReLU", "leaky_relu"),
        ("act", "GELU", "gelu"),
        ("act", "logistic", "sigmoid"),  # scikit-learn's name
        ("init", "Xavier", "xavier"),
        ("sc_type", "sc", "residual"),  # the lecture's args.sc_type = 'sc'
        ("lr_schedule", "Cosine", "cosine"),
        ("task", "Classification", "classification"),
    ],
)
def test_a_choice_may_be_written_in_any_case_with_dashes_or_spaces(name, typed, meant):
    assert getattr(make_config({name: typed}), name) == meant


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
        # In Python, the list is the Config's fields (a file's user gets the --help).
        (
            {"learning_rate": 0.1},
            ["unknown setting 'learning_rate'", "did you mean 'lr'", "mlplab.Config.model_fields"],
        ),
        ({"weight_decay": 0.1}, ["did you mean 'l2_coef'"]),  # the lecture's experiment()
        ({"dropout": 0.1}, ["did you mean 'dp_rate'"]),
        ({"l2": 0.1}, ["did you mean 'l2_coef'"]),  # the lecture's args, by their names
        ({"num_layers": 2}, ["did you mean 'n_layer'"]),
        ({"train_batch_size": 32}, ["did you mean 'batch_size'"]),
        # What PyTorch modules and training scripts call them: difflib found nothing near
        # hidden_size, and batch_size for batch_norm.
        ({"hidden_size": 4}, ["unknown setting 'hidden_size'", "did you mean 'hid_dim'"]),
        ({"hidden_dim": 4}, ["did you mean 'hid_dim'"]),
        ({"batch_norm": True}, ["did you mean 'use_bn'"]),
        ({"num_epochs": 10}, ["did you mean 'epoch'"]),
        ({"epochs": 10}, ["did you mean 'epoch'"]),
        ({"momentum": 0.9}, ["did you mean 'mm'"]),
        ({"learning-rate": 0.1}, ["unknown setting 'learning-rate'", "did you mean 'lr'"]),
        ({"in_dim": 3}, ["unknown setting 'in_dim'", "the data sets the input and output"]),
        ({"exp_name": "ünï"}, ["'exp_name'", "use ASCII letters"]),  # ü is a letter
        ({"act": "LeakyReLUx"}, ["'act': 'LeakyReLUx' is not one of", "leaky_relu"]),
        ({"hid_dimm": 3}, ["did you mean 'hid_dim'"]),
        # A mistyped other name: the near-name search takes in the other names too.
        ({"learnin_rate": 0.1}, ["unknown setting 'learnin_rate'", "did you mean 'lr'"]),
        ({"num_epoch": 10}, ["did you mean 'epoch'"]),
        ({"split": [0.9, 0.9]}, ["'split'"]),
        ({"split": [1, 1, 1]}, ["'split'", "read as ratios", "counts"]),
        ({"split": [30.5, 10, 10]}, ["'split'", "30.5 is not a whole number", "counts of rows"]),
        ({"split": [0.5, 100]}, ["'split'", "0.5 is not a whole number", "counts of rows"]),
        ({"split": [float("nan"), 0.5]}, ["'split'", "non-negative sizes"]),
    ],
)
def test_bad_values_raise_one_line_naming_the_setting(values, needles):
    with pytest.raises(ConfigError) as err:
        make_config(values)
    msg = str(err.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg


def test_every_unknown_setting_is_named_at_once(tmp_path):
    """The lecture's args block pasted into mlplab.train(args), or a file of three such
    names, was refused a name a run: in_dim, then num_layers; epochs, then LR."""
    import argparse

    import mlplab

    args = argparse.Namespace(in_dim=2, num_layers=2, hid_dim=4, lr=0.1)
    with pytest.raises(ConfigError) as err:
        mlplab.train(args)
    assert str(err.value).startswith(
        "unknown settings 'in_dim' (the data sets the input and output widths), 'num_layers' "
        "(did you mean 'n_layer'?); see mlplab.Config.model_fields"
    )
    f = tmp_path / "c.yaml"
    f.write_text("epochs: 100\nLR: 0.1\ndata: xor\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert str(err.value) == (
        f"{f}: unknown settings 'epochs' (did you mean 'epoch'?), 'LR' (did you mean 'lr'?), "
        "'learning_rate' (did you mean 'lr'?); see `mlplab train --help` for the list"
    )


@pytest.mark.parametrize(
    ("name", "meant"),
    [("LR", "lr"), ("Hid_Dim", "hid_dim"), ("Learning_Rate", "lr"), ("DROPOUT", "dp_rate")],
)
def test_an_unknown_setting_in_another_case_names_the_nearest_one(tmp_path, name, meant):
    """`LR: 0.1` said only 'unknown setting 'LR'': the nearest name was looked for with
    the case kept, and 'LR' is no nearer 'lr' than 'xy' is."""
    hint = f"unknown setting {name!r} (did you mean {meant!r}?)"
    with pytest.raises(ConfigError) as err:
        make_config({name: 0.1})  # as mlplab.train(LR=0.1) passes it
    assert hint in str(err.value)
    f = tmp_path / "c.yaml"
    f.write_text(f"data: xor\n{name}: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert hint in str(err.value)
    with pytest.raises(ConfigError) as err:
        make_config({"IN_DIM": 3})  # the widths come from the data, in any case
    assert "the data sets the input and output widths" in str(err.value)


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
    f.write_text("data: xor\n\tlr: 0.1\n")  # a tab where YAML wants spaces
    with pytest.raises(ConfigError, match=r"not valid YAML \(line 2: a tab; YAML indents with"):
        load_config(f)
    # PyYAML's reason, where a line number alone left its user to guess.
    for text, reason in [
        ("lr: *nope\n", r"\(line 1: found undefined alias"),
        ("data: xor\n<<: 1e3\n", r"\(line 2: expected a mapping or list of mappings for merging"),
        ("data: xor\x00\n", r"\(unacceptable character #x0000"),
        ("a:\n\tb: 1\n", r"\(line 2: a tab; YAML indents with spaces\)"),  # libyaml's words
    ]:
        f.write_text(text)
        with pytest.raises(ConfigError, match=r"broken\.yaml' is not valid YAML " + reason):
            load_config(f)
    f.write_text("data: xor\n---\nepoch: 2\n")  # valid YAML: two documents, not a syntax slip
    with pytest.raises(ConfigError, match=r"holds more than one YAML document \(a second begins"):
        load_config(f)
    f.write_text("---\ndata: xor\n")  # one document, marked: read as it is
    assert load_config(f).data == "xor"


def test_a_config_file_that_is_not_utf8_says_so_and_where(tmp_path):
    """A config saved in the Windows code page (café as 0xE9 in a comment) was called
    'not valid YAML', which sent its user looking for a syntax error; the data files say
    'not UTF-8 text'."""
    f = tmp_path / "latin.yaml"
    f.write_bytes("data: xor\n# café au lait\nlr: 0.1\n".encode("cp1252"))
    with pytest.raises(ConfigError) as err:
        load_config(f)
    # The path's middle may be elided (a long temporary folder): its name and the rest.
    assert str(err.value).startswith("config file '")
    assert str(err.value).endswith(
        "latin.yaml' is not UTF-8 text (line 2, byte offset 15: 0xe9); "
        "save it as UTF-8 and use that file"
    )
    table = tmp_path / "rows.csv"  # a table given as the config: --data is the way out
    table.write_bytes("a,drink\n1,café\n".encode("cp1252"))
    with pytest.raises(ConfigError) as err:
        load_config(table)
    assert str(err.value).endswith(
        f"is not UTF-8 text (line 2, byte offset 13: 0xe9); a data file is given as --data {table}"
    )


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"log_path": ""}, "setting 'log_path': give a folder, e.g. runs (an empty path is"),
        ({"log_path": "runs\nx"}, "setting 'log_path': no line breaks, tabs or other control"),
        ({"model_name": "a\nb"}, "setting 'model_name': no line breaks, tabs or other control"),
    ],
)
def test_names_and_paths_that_would_break_a_line_or_land_anywhere_are_refused(values, line):
    """An empty log_path wrote runs into the current folder; a line break in a name split
    the one-line start message (and a table's row) in two."""
    with pytest.raises(ConfigError) as err:
        make_config(values)
    assert str(err.value).startswith(line)


@pytest.mark.parametrize("name", [".hs", ".hidden", "..x", "..."])
def test_an_exp_name_starting_with_a_dot_is_refused_as_the_report_would_miss_it(name):
    """`--exp_name .hs` trained its runs into hidden folders, which the report leaves out
    (they hold reruns being written): the sweep ended in 'report: no runs'."""
    with pytest.raises(ConfigError) as err:
        make_config({"exp_name": name})
    line = str(err.value)
    assert line.startswith("setting 'exp_name': a name starting with '.' makes its runs hidden")
    assert "'mlplab report' leaves out" in line and "\n" not in line


def test_a_model_name_starting_with_a_dot_is_kept_as_it_names_no_folder():
    """model_name labels tables and plots only; a leading '.' hides nothing."""
    assert make_config({"model_name": ".5 dropout"}).label() == ".5 dropout"
    assert make_config({"exp_name": "a.b"}).exp_name == "a.b"  # a '.' inside stays fine


def test_a_data_file_given_as_the_config_says_to_give_it_as_data(tmp_path):
    """`mlplab train rows.csv` reads the table as YAML: the line says where it goes."""
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,y\n1,2,0\n")
    with pytest.raises(ConfigError) as err:
        load_config(rows)
    assert str(err.value).endswith(f"settings; a data file is given as --data {rows}")
    yaml_file = tmp_path / "list.yaml"
    yaml_file.write_text("- 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(yaml_file)
    assert "--data" not in str(err.value)


def test_every_choice_in_the_config_exists_in_both_engines():
    from mlplab.config import ACTIVATIONS, OPTIMIZERS
    from mlplab.engines.numpy.functional import ACTIVATIONS as NUMPY_ACTIVATIONS
    from mlplab.engines.numpy.optim import OPTIMIZERS as NUMPY_OPTIMIZERS
    from mlplab.engines.torch.model import ACTIVATION_MODULES
    from mlplab.engines.torch.optim import OPTIMIZERS as TORCH_OPTIMIZERS

    assert set(ACTIVATIONS) == set(NUMPY_ACTIVATIONS) == set(ACTIVATION_MODULES)
    assert set(OPTIMIZERS) == set(NUMPY_OPTIMIZERS) == set(TORCH_OPTIMIZERS)


def test_every_activation_is_in_each_table_and_list_that_names_them():
    """An activation is declared in a few tables beside the engines' own (the backprop
    trace's formula, gradcheck's torch reference) and listed in the docs: one added to
    the config but missed in any of them fails here, by name, not as a KeyError deep in
    `mlplab backprop` or a stale list in the README."""
    from pathlib import Path

    from mlplab import sklearn as mlp_sklearn
    from mlplab.chainrule import ACT_PRIME
    from mlplab.config import ACTIVATIONS
    from mlplab.gradcheck import TORCH_ACTIVATIONS

    assert set(ACT_PRIME) == set(ACTIVATIONS), "chainrule.ACT_PRIME"
    assert set(TORCH_ACTIVATIONS) == set(ACTIVATIONS), "gradcheck.TORCH_ACTIVATIONS"
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    settings_row = next(line for line in readme.splitlines() if line.startswith("| model |"))
    error_line = next(line for line in readme.splitlines() if "'sigmoidd' is not one of" in line)
    docstring = " ".join(mlp_sklearn.MLPClassifier.__doc__.split())
    for where, text in [
        ("README settings table", settings_row),
        ("README bad-input example", error_line),
        ("MLPClassifier docstring", docstring),
    ]:
        missing = [a for a in ACTIVATIONS if not re.search(rf"\b{a}\b", text)]
        assert not missing, f"{where} leaves out {missing}"


def test_every_optimizer_is_in_each_table_and_list_that_names_them():
    """An optimizer lives in both engines and in a few tables beside them (gradcheck's
    torch reference and its cases, the backprop trace's formula, the memory estimate's
    arrays per weight) and is listed in the docs: one added to the config but missed in
    any of them fails here, by name, not as a refusal when one engine is built, an error
    in `mlplab gradcheck` or `mlplab backprop`, or a wrong memory estimate."""
    from pathlib import Path

    import torch

    from mlplab import sklearn as mlp_sklearn
    from mlplab.chainrule import _update_formula
    from mlplab.config import OPTIMIZERS
    from mlplab.data.cost import OPTIM_SLOTS
    from mlplab.engines.backend import OptimSpec
    from mlplab.engines.numpy.optim import OPTIMIZERS as NUMPY_OPTIMIZERS
    from mlplab.engines.torch.optim import OPTIMIZERS as TORCH_OPTIMIZERS
    from mlplab.gradcheck import OPTIM_CASES, torch_optimizer

    def known(fn) -> list[str]:
        """The names ``fn`` takes, with and without momentum and decay; an unknown raises."""
        names = []
        for name in (*OPTIMIZERS, "lbfgs"):
            try:
                fn(OptimSpec(name, lr=0.1, mm=0.9, l2_coef=0.01))
                fn(OptimSpec(name, lr=0.1))
            except ValueError:
                continue
            names.append(name)
        return names

    param = torch.nn.Parameter(torch.zeros(2))
    tables = {
        "engines/numpy/optim.py OPTIMIZERS": list(NUMPY_OPTIMIZERS),
        "engines/torch/optim.py OPTIMIZERS": list(TORCH_OPTIMIZERS),
        "gradcheck.torch_optimizer": known(lambda spec: torch_optimizer([param], spec)),
        "gradcheck.OPTIM_CASES": [spec.name for case in OPTIM_CASES for spec in case],
        "chainrule._update_formula": known(lambda spec: _update_formula(spec, "w1", 0.1)),
        "data/cost.py OPTIM_SLOTS": list(OPTIM_SLOTS),
    }
    for where, names in tables.items():
        missing, extra = sorted(set(OPTIMIZERS) - set(names)), sorted(set(names) - set(OPTIMIZERS))
        assert not missing, f"{where} leaves out {missing}"
        assert not extra, f"{where} has {extra}, which the config does not offer"
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    settings_row = next(line for line in readme.splitlines() if line.startswith("| optimizer |"))
    for where, text in [
        ("README settings table", settings_row),
        ("MLPClassifier docstring", " ".join(mlp_sklearn.MLPClassifier.__doc__.split())),
        ("OptimSpec docstring", " ".join(OptimSpec.__doc__.split())),
    ]:
        missing = [o for o in OPTIMIZERS if not re.search(rf"\b{o}\b", text)]
        assert not missing, f"{where} leaves out {missing}"


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
    # Unset, hid_dims (and ignore, min_delta, standardize_target and class_weight, also
    # added later) stay out of the run's identity: earlier runs keep their hashes.
    later = (
        *("hid_dims", "ignore", "min_delta", "standardize_target", "class_weight", "l1_coef"),
        *("split_by", "stratify", "features"),
    )
    d = {k: v for k, v in plain.to_dict().items() if k not in HASH_EXCLUDED and k not in later}
    d["standardize"] = False  # `auto` on xor, hashed as what it resolves to (as before auto)
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    assert plain.run_hash() == hashlib.sha1(blob.encode()).hexdigest()[:6]
    assert plain.model_copy(update={"min_delta": 1e-3}).run_hash() != plain.run_hash()
    assert cfg.run_hash() != make_config({"data": "digits", "hid_dims": "128-256"}).run_hash()
    # A list, as Python and a run's YAML write one, is the same setting and the same run.
    as_list = make_config({"data": "digits", "hid_dims": [256, 128]})
    assert as_list.hid_dims == "256-128" and as_list.run_hash() == cfg.run_hash()
    # Quoted widths, ["256", "128"], are numbers as `epoch: "8"` is one.
    assert make_config({"data": "digits", "hid_dims": ["256", " 128"]}) == cfg


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"hid_dims": "256-x"}, ["hid_dims", "256-128"]),
        ({"hid_dims": "0-4"}, ["hid_dims"]),
        ({"hid_dims": [4, 0]}, ["hid_dims", "as a list"]),
        ({"hid_dims": [4, "x"]}, ["hid_dims"]),
        ({"hid_dims": ["4", "-4"]}, ["hid_dims"]),
        ({"hid_dims": ["04"]}, ["hid_dims"]),
        ({"hid_dims": [True]}, ["hid_dims"]),
        ({"hid_dims": []}, ["hid_dims"]),
    ],
)
def test_bad_hid_dims_name_the_setting(settings, words):
    with pytest.raises(ConfigError) as err:
        make_config(settings)
    for w in words:
        assert w in str(err.value)


# --- hostile input: every refusal is one bounded line, before anything is built -----------
def bomb_yaml(levels: int = 9) -> str:
    """The billion laughs: each anchor a list of ten aliases of the one below (~450 bytes)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"lr: *a{levels - 1}", ""])


def test_alias_bomb_is_refused_before_it_expands(tmp_path):
    import time

    f = tmp_path / "bomb.yaml"
    f.write_text(bomb_yaml())
    assert f.stat().st_size < 600
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"bomb\.yaml.*expands to more than 100,000 values"):
        load_config(f)
    assert time.perf_counter() - t0 < 5


def test_small_aliases_and_merge_keys_still_work(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("base: &b {lr: 0.5, seed: 3}\n")
    with pytest.raises(ConfigError, match="unknown setting 'base'"):
        load_config(f)
    f.write_text("target: &t [a, b]\nsplit: [0.5, 0.25]\n")
    assert load_config(f).target == ["a", "b"]


def test_duplicate_key_names_the_key_and_lines(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("seed: 1\nlr: 0.1\nseed: 2\n")
    with pytest.raises(ConfigError, match=r"the key 'seed' is given twice \(lines 1 and 3\)"):
        load_config(f)


def test_deep_nesting_and_recursive_alias_are_refused(tmp_path):
    f = tmp_path / "deep.yaml"
    f.write_text("target: " + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(ConfigError, match="nests more than 32 levels"):
        load_config(f)
    f.write_text("target: &a [*a]\n")
    with pytest.raises(ConfigError, match="nests more than 32 levels"):
        load_config(f)


def test_config_file_over_one_mib_is_refused(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("model_name: " + "x" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="larger than 1024 KiB"):
        load_config(f)


def test_config_path_that_is_not_a_file_says_what_it_is(tmp_path):
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path, what in ((tmp_path, "is a folder"), (fifo, "FIFO"), ("/dev/null", "device")):
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert what in str(err.value) and "does not exist" not in str(err.value)
    # `--config <(envsubst < base.yaml)`, `--config -`: said to be saved to a file first.
    with pytest.raises(ConfigError, match=r"FIFO .*: save the config to a file first$"):
        load_config(fifo)
    with pytest.raises(ConfigError, match="not standard input: save it to one first"):
        load_config("-")


def test_config_raises_config_error_one_line():
    import mlplab

    with pytest.raises(ConfigError) as err:
        mlplab.Config(lr=-1)
    assert str(err.value) == "setting 'lr': Input should be greater than 0 (got -1)"
    cfg = mlplab.Config()
    with pytest.raises(ConfigError, match="'hid_dim'"):
        cfg.hid_dim = 0


def test_train_with_a_number_names_what_is_accepted():
    import mlplab

    with pytest.raises(ConfigError, match=r"42 \(int\) is not accepted; give a Config, a dict"):
        mlplab.train(42)


def test_the_lectures_args_namespace_is_a_config(tmp_path):
    """The lecture keeps every setting in one `args` (an argparse.Namespace) and hands it
    to its experiment; train(args) and sweep(args) said "(Namespace) is not accepted"."""
    import argparse

    import mlplab

    args = argparse.Namespace(data="xor", n_layer=1, hid_dim=2, act="sigmoid", lr=1.0,
                              epoch=20, log_path=str(tmp_path), exp_name="args", plots="none")  # fmt: skip
    result = mlplab.train(args, verbose=False)
    assert result.config == mlplab.Config(**vars(args))
    swept = mlplab.sweep(args, seed=[0, 1], report=False, verbose=False, progress=False)
    assert result.run_dir in swept.run_dirs and len(swept.run_dirs) == 2
    with pytest.raises(ConfigError, match="'hid_dim'"):
        mlplab.train(argparse.Namespace(hid_dim=0), verbose=False)
    # A student's parser of `--lr` with no default and no --config: its None, a flag not
    # given, was refused ("an empty value") where a parser with --config took it so.
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    parser.add_argument("--epoch", type=int)
    parser.add_argument("--data", default="xor")
    unset = parser.parse_args(["--epoch", "4"])
    assert load_config(unset) == mlplab.Config(data="xor", epoch=4)
    planned = mlplab.sweep(unset, seed=[0, 1], dry_run=True, report=False, verbose=False)
    assert {c.lr for c in planned.configs} == {mlplab.Config().lr}


def test_load_config_takes_a_namespace_or_keywords_as_its_overrides(tmp_path):
    """`load_config(path, argparse.Namespace(lr=0.5))` failed with a bare TypeError ("'Namespace'
    object is not iterable"), and `load_config(path, lr=0.5)` with another, as train(args)
    and train(..., lr=...) take them."""
    import argparse

    f = tmp_path / "base.yaml"
    f.write_text("data: moons\nlr: 0.01\nepoch: 3\n")
    assert load_config(f, argparse.Namespace(lr=0.5)) == load_config(f, {"lr": 0.5})
    assert load_config(f, lr=0.5).lr == 0.5 and load_config(f, lr=0.5).epoch == 3
    assert load_config(f, {"lr": 0.5}, epoch=4).epoch == 4
    with pytest.raises(ConfigError, match=r"^load_config's overrides: \['lr', 0.5\] \(list\)"):
        load_config(f, ["lr", 0.5])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown setting 'hid_dimm'"):
        load_config(f, hid_dimm=3)


def test_a_namespace_with_config_reads_it_as_the_yaml_path(tmp_path):
    """A student's own parser has --config: train(argparse.Namespace(config="x.yaml",
    lr=0.05)) said "unknown setting 'config'" with no hint. Its config is the YAML's path,
    the other flags override it, and a flag left at None (not given) leaves the file's."""
    import argparse

    f = tmp_path / "base.yaml"
    f.write_text(f"data: xor\nhid_dim: 2\nact: sigmoid\nepoch: 3\nlog_path: {tmp_path}\n")
    args = argparse.Namespace(config=str(f), lr=0.05, hid_dim=None)
    cfg = load_config(args)
    assert cfg == load_config(f, {"lr": 0.05})
    assert load_config(argparse.Namespace(config=None, data="moons", lr=None)).data == "moons"
    result = mlplab.train(args, verbose=False, record=False)
    assert result.config == cfg
    swept = mlplab.sweep(args, seed=[0], report=False, verbose=False, progress=False)
    assert swept.run_dirs[0].name == cfg.run_id()
    with pytest.raises(ConfigError, match=r"^args.config: 3 \(int\) is not a YAML file's path"):
        load_config(argparse.Namespace(config=3))
    # A dict or a Config keeps 'config' an unknown setting, with what to do instead.
    with pytest.raises(ConfigError) as err:
        mlplab.train({"config": str(f)}, verbose=False)
    assert str(err.value).startswith(
        "unknown setting 'config' (a YAML file's path, not a setting: "
        "mlplab.train(args.config, lr=...) or mlplab.load_config(args.config, overrides))"
    )


def test_data_seed_beside_split_by_is_refused_as_split_and_stratify_are(run_cli, tmp_path):
    """A split_by column says each row's split, so data_seed seeds no draw: `--split_by part
    --data_seed 3` trained the same rows under another run id, and a sweep over data_seed
    trained every model twice, under a report note that its splits differed."""
    from conftest import assert_one_line_error

    f = tmp_path / "own.csv"
    parts = ["train"] * 12 + ["val"] * 4 + ["test"] * 4
    f.write_text("x,y,part\n" + "".join(f"{i},{i % 2},{p}\n" for i, p in enumerate(parts)))
    line = (
        "settings 'data_seed' and 'split_by': the column 'part' says each row's split, so "
        "there is no draw for data_seed to seed; give one of them"
    )
    with pytest.raises(ConfigError) as err:
        Config(data=str(f), target="y", split_by="part", data_seed=3)
    assert str(err.value) == line
    assert Config(data=str(f), target="y", split_by="part", data_seed=0).data_seed == 0
    with pytest.raises(ConfigError, match=re.escape(line)):
        mlplab.load_dataset(str(f), target="y", split_by="part", data_seed=1)
    runs = tmp_path / "runs"
    proc = run_cli("train", "--data", f, "--target", "y", "--split_by", "part",
                   "--data_seed", "3", "--epoch", "1", "--log_path", runs)  # fmt: skip
    assert_one_line_error(proc, line)
    with pytest.raises(ConfigError, match=re.escape(line)):
        mlplab.sweep(data=str(f), target="y", split_by="part", data_seed=[0, 1], epoch=1,
                     log_path=str(runs), report=False, verbose=False, progress=False)  # fmt: skip
    assert not runs.exists()  # refused before any run


def test_pydantics_old_copy_checks_its_update_as_model_copy_does():
    """`cfg.copy(update={"hid_dimm": 3})`, pydantic's deprecated copy from old snippets,
    dropped the misspelt key with only a deprecation warning, and train() of the copy
    trained hid_dim 16; `cfg.copy(update={"lr": -1})` passed too."""
    cfg = Config(data="moons", hid_dim=16)
    hint = r"unknown setting 'hid_dimm' \(did you mean 'hid_dim'"
    with (
        pytest.warns(DeprecationWarning, match=r"use cfg.model_copy\(update=\{...\}\)"),
        pytest.raises(ConfigError, match=hint),
    ):
        cfg.copy(update={"hid_dimm": 3})
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigError, match="'lr'"):
        cfg.copy(update={"lr": -1})
    with pytest.warns(DeprecationWarning):
        copied = cfg.copy(update={"hid_dim": 8})
    assert copied == cfg.model_copy(update={"hid_dim": 8}) and cfg.hid_dim == 16
    with pytest.warns(DeprecationWarning):
        assert cfg.copy() == cfg and cfg.copy() is not cfg
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigError, match="model_copy"):
        cfg.copy(exclude={"lr"})


@pytest.mark.parametrize("name", ["epoch", "hid_dim", "seed", "lr", "batch_size", "noise"])
def test_booleans_are_not_numbers(tmp_path, name):
    f = tmp_path / "b.yaml"
    f.write_text(f"{name}: true\n")
    with pytest.raises(ConfigError, match=f"'{name}': a boolean"):
        load_config(f)


def test_counts_stay_within_int64():
    for name in ("hid_dim", "epoch", "n_layer", "batch_size", "n_samples"):
        with pytest.raises(ConfigError, match=f"'{name}'.*less than 9223372036854775808"):
            make_config({name: 2**63})


def test_long_strings_are_refused_with_a_short_message():
    cases = {
        "model_name": "m" * 10_000_000,
        "exp_name": "e" * 300,
        "data": "d" * 300 + ".csv",
        "log_path": "/tmp/" + "p/" * 3000,
        "target": ["t" * 5000],
        "device": "cuda:" + "1" * 100,
    }
    for name, value in cases.items():
        with pytest.raises(ConfigError) as err:
            make_config({name: value})
        msg = str(err.value)
        assert name in msg and len(msg) < 500, (name, msg[:600])


def test_log_path_and_exp_name_together_must_fit_a_path():
    with pytest.raises(ConfigError, match="settings 'log_path' and 'exp_name'"):
        make_config({"log_path": "/tmp/" + "p" * 200 + "/" * 3700, "exp_name": "e" * 150})


def test_messages_quote_huge_values_briefly():
    nested: list = ["x"] * 10
    for _ in range(8):
        nested = [nested] * 10  # 10**9 elements through shared references
    with pytest.raises(ConfigError) as err:
        make_config({"lr": nested})
    assert len(str(err.value)) < 300
    with pytest.raises(ConfigError) as err:
        make_config({"seed": 10**5000})
    assert "digits" in str(err.value) and len(str(err.value)) < 300


def test_setting_names_that_are_not_text(tmp_path):
    f = tmp_path / "keys.yaml"
    for text in ("1: true\n", "null: 2\n", "1.5: 2\n"):
        f.write_text(text)
        with pytest.raises(ConfigError, match="setting names must be text"):
            load_config(f)


def test_settings_a_run_does_not_use_are_named_with_why():
    cfg = Config(data="xor", model="linear", act="tanh", optim="adam", mm=0.9, lr_step=5)
    assert cfg.unused_settings() == [
        "--act tanh (a linear model has no hidden layer)",
        "--mm 0.9 (momentum is sgd's and rmsprop's)",
        "--lr_step 5 (the step schedule uses it)",
    ]
    used = Config(data="xor", act="tanh", optim="sgd", mm=0.9, lr_schedule="step", lr_step=5)
    assert used.unused_settings() == []
    assert Config(data="xor", n_layer=0, use_bn=True).unused_settings() == [
        "--use_bn true (a linear model has no hidden layer)"
    ]
    # No frames were kept, and nothing said so: a run again with plots keeps this run.
    assert Config(data="moons", plots="none", snapshot_every=10).unused_settings() == [
        "--snapshot_every 10 (its frames are kept for plots, and plots is none)"
    ]
    assert Config(data="moons", snapshot_every=10).unused_settings() == []
    assert Config(data="moons", min_delta=0.01).unused_settings() == [
        "--min_delta 0.01 (it counts improvements for patience, which is 0)"
    ]
    assert Config(data="moons", min_delta=0.01, patience=5).unused_settings() == []
    # Beside hid_dims, hid_dim shaped nothing, and said so nowhere.
    assert Config(data="moons", hid_dims="8-8", hid_dim=64).unused_settings() == [
        "--hid_dim 64 (hid_dims gives each hidden layer's width)"
    ]
    # A linear model's n_layer was silently ignored (and n_layer 0 is what makes one).
    assert Config(data="xor", model="linear", n_layer=2).unused_settings() == [
        "--n_layer 2 (a linear model has no hidden layer)"
    ]
    assert Config(data="xor", n_layer=0).unused_settings() == []


def test_train_notes_a_residual_setting_no_layer_can_use(run_cli, tmp_path):
    """One hidden layer of 4 on 2 features: no block has its input's width, so residual
    changed nothing, while the start line and plots named the model residual."""
    args = ["--data", "moons", "--n_samples", "60", "--epoch", "2", "--plots", "none"]
    for layers, noted in (("1", True), ("2", False)):
        proc = run_cli(
            "train", *args, "--n_layer", layers, "--hid_dim", "4", "--sc_type", "residual",
            "--log_path", tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert ("--sc_type residual (no hidden layer has its input's width" in proc.stdout) is noted


def test_train_notes_unused_settings_in_one_line(run_cli, tmp_path):
    args = ["--data", "xor", "--optim", "adam", "--mm", "0.5", "--epoch", "2", "--plots", "none"]
    proc = run_cli("train", *args, "--log_path", tmp_path)
    assert proc.returncode == 0, proc.stderr
    note = "mlplab: note: not used by this run: --mm 0.5 (momentum is sgd's and rmsprop's)"
    assert proc.stdout.splitlines()[0] == note
    # The same command again keeps the finished run, and says the same of --mm.
    again = run_cli("train", *args, "--log_path", tmp_path)
    assert again.returncode == 0, again.stderr
    # (After the line that says it is kept: what happened comes first.)
    assert again.stdout.splitlines()[1] == note and "it is kept" in again.stdout.splitlines()[0]
    # Its config.yaml, which names every setting but log_path, is no one's choice of
    # them: kept again, it notes none of its defaults (--lr_gamma 0.1, --min_delta 0.0).
    home = tmp_path / "home"  # trained where log_path's default, runs/, is beside it
    home.mkdir()
    assert run_cli("train", *args, cwd=home).returncode == 0
    (run,) = (home / "runs").rglob("config.yaml")
    kept = run_cli("train", run, cwd=home)
    assert kept.returncode == 0, kept.stderr
    assert "it is kept" in kept.stdout and "--lr_gamma" not in kept.stdout, kept.stdout
    # Snapshots of data without a plane to draw on: no frames, said so.
    args = ["--data", "sine", "--snapshot_every", "7", "--epoch", "2"]
    proc = run_cli("train", *args, "--log_path", tmp_path / "sine")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "mlplab: note: not used by this run: --snapshot_every 7 (its frames draw the model "
        "over the plane of 2 features; sine has 1)"
    )
    # A setting typed at its default is as unused: --act relu of a linear model said
    # nothing, where --act tanh was noted.
    args = ["--data", "xor", "--model", "linear", "--act", "relu", "--epoch", "2"]
    proc = run_cli("train", *args, "--plots", "none", "--log_path", tmp_path / "lin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "mlplab: note: not used by this run: --act relu (a linear model has no hidden layer)"
    )
    # A run's config.yaml names every setting: trained again (elsewhere), only those away
    # from their defaults are noted; each default (--lr_gamma 0.1, --min_delta 0.0...) was.
    (run,) = (tmp_path / "lin").rglob("config.yaml")
    proc = run_cli("train", run, "--log_path", tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("mlplab: linear on xor"), proc.stdout
    text = run.read_text().replace("act: relu", "act: tanh")
    (tmp_path / "tanh.yaml").write_text(text)
    proc = run_cli("train", tmp_path / "tanh.yaml", "--log_path", tmp_path / "tanh")
    assert proc.stdout.splitlines()[0] == (
        "mlplab: note: not used by this run: --act tanh (a linear model has no hidden layer)"
    )


def test_hid_dim_beside_hid_dims_is_no_part_of_the_run(tmp_path, capsys):
    """hid_dim shapes nothing beside hid_dims, yet gave `--hid_dims 4-4 --hid_dim 7` a run
    id of its own: two records, and two sweep runs, of one model."""
    from mlplab.cli import main
    from mlplab.config import identity_diff

    plain = Config(hid_dims="4-8")
    assert plain.run_hash() == "1078d0"  # as recorded before: hid_dim's default enters
    assert Config(hid_dims="4-8", hid_dim=7).run_digest() == plain.run_digest()
    assert Config(hid_dims="4-8", hid_dim=7, n_layer=5).run_digest() == plain.run_digest()
    assert identity_diff(plain.to_dict(), Config(hid_dims="4-8", hid_dim=7).to_dict()) == []
    plain = Config(hid_dims="4-4")
    assert Config(hid_dims="4-4", hid_dim=7).run_digest() == plain.run_digest()
    # Without hid_dims, hid_dim is the model's width, and names another run.
    assert Config(hid_dim=7).run_hash() != Config().run_hash()
    assert identity_diff(plain.to_dict(), Config(hid_dims="4-4", hid_dim=7).to_dict()) == []
    assert identity_diff(Config().to_dict(), Config(hid_dim=7).to_dict()) == ["hid_dim 7"]

    args = ["--hid_dims", "4-4", "--epoch", "2", "--plots", "none", "--log_every", "0"]
    args += ["--log_path", str(tmp_path)]
    assert main(["sweep", *args, "--hid_dim", "7", "100", "--no_report"]) == 0
    assert "1 run: 1 trained" in capsys.readouterr().out
    runs = sorted(p.name for p in (tmp_path / "exp").glob("exp-*"))
    assert runs == [f"exp-{Config(hid_dims='4-4', epoch=2).run_hash()}"]
    # train with another hid_dim finds that run finished, and keeps it.
    assert main(["train", *args, "--hid_dim", "3"]) == 0
    assert "already holds this config's finished run" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "exp").glob("exp-*")) == runs


def test_an_n_layer_that_hid_dims_overrides_is_noted(tmp_path):
    """`--hid_dims 4-4 --n_layer 3` trained 2 hidden layers without a word; hid_dims still
    wins (a flag's hid_dims over a file's n_layer), and the count given is named."""
    note = "--n_layer 3 (hid_dims 4-4 gives 2 hidden layers)"
    assert Config(hid_dims="4-4", n_layer=3).unused_settings() == [note]
    assert Config(hid_dims="4-4", n_layer=3).n_layer == 2
    # Given as its file's, as hid_dims' own count, or not at all: nothing to say, or the file's.
    (tmp_path / "c.yaml").write_text("n_layer: 3\n")
    assert load_config(tmp_path / "c.yaml", {"hid_dims": "4-4"}).unused_settings() == [note]
    assert Config(hid_dims="4-4", n_layer=2).unused_settings() == []
    assert Config(hid_dims="4-4").unused_settings() == []
    assert Config(hid_dims=[8], n_layer=0).unused_settings() == [
        "--n_layer 0 (hid_dims 8 gives 1 hidden layer)"
    ]
    cfg = Config(hid_dims="4-4")
    cfg.n_layer = 5
    assert (cfg.n_layer, cfg.unused_settings()) == (
        2,
        ["--n_layer 5 (hid_dims 4-4 gives 2 hidden layers)"],
    )
    # A new hid_dims of the count given overrides nothing any more.
    cfg.hid_dims = "4-4-4-4-4"
    assert cfg.unused_settings() == []
    # A linear model uses neither; the n_layer named is the one given.
    assert Config(model="linear", hid_dims="4", n_layer=3).unused_settings() == [
        "--hid_dims 4 (a linear model has no hidden layer)",
        "--n_layer 3 (a linear model has no hidden layer)",
    ]
    # train(cfg, lr=0.5) rebuilds the config with the override: the note stayed behind.
    from mlplab.assemble import as_config

    again = as_config(Config(hid_dims="4-4", n_layer=3), lr=0.5)
    assert (again.lr, again.n_layer, again.unused_settings()) == (0.5, 2, [note])
    assert again.run_hash() == Config(hid_dims="4-4", lr=0.5).run_hash()


def test_train_and_sweep_note_an_n_layer_that_hid_dims_overrides(run_cli, tmp_path):
    args = ["--hid_dims", "4-4", "--n_layer", "3", "--epoch", "2", "--plots", "none"]
    proc = run_cli("train", *args, "--log_path", tmp_path / "t")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "mlplab: note: not used by this run: --n_layer 3 (hid_dims 4-4 gives 2 hidden layers)"
    )
    # The run is the one hid_dims 4-4 alone names.
    runs = [p.name for p in (tmp_path / "t" / "exp").iterdir() if not p.name.startswith(".")]
    assert runs == [f"exp-{Config(hid_dims='4-4', epoch=2, plots='none').run_hash()}"]
    proc = run_cli(
        "sweep", *args, "--lr", "0.1", "0.2", "--no_report", "--log_path", tmp_path / "s"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == (
        "mlplab: note: not used by some runs: --n_layer 3 (hid_dims 4-4 gives 2 hidden layers) "
        "in 2 of 2 runs (runs that differ only in such settings train the same model)"
    )


def test_paths_are_settings_as_their_text(tmp_path):
    """train(data=Path("iris.csv")) said 'Input should be a valid string'."""
    from pathlib import Path

    cfg = make_config({"data": Path("data") / "iris.csv", "log_path": tmp_path})
    assert (cfg.data, cfg.log_path) == (str(Path("data") / "iris.csv"), str(tmp_path))


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"use_bn": "maybe"}, "setting 'use_bn': 'maybe' is not true or false"),
        # Whole in another form: said so, with the form it takes.
        (
            {"epoch": "1e3"},
            "setting 'epoch': '1e3' is not a whole number as written; write it as 1000",
        ),
        ({"epoch": "2.5e0"}, "setting 'epoch': '2.5e0' is not a whole number"),
        ({"seed": 1.5}, "setting 'seed': 1.5 is not a whole number"),
        ({"lr": "abc"}, "setting 'lr': 'abc' is not a number"),
        # A sweep's YAML given to train: the line says where several values go.
        (
            {"seed": [0, 1]},
            "setting 'seed': [0, 1] is not a whole number; several values make a sweep: "
            "mlplab sweep (mlplab.sweep in Python)",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_says_what_it_is_not(values, line):
    """Was pydantic's 'Input should be a valid boolean, unable to interpret input'."""
    with pytest.raises(ConfigError) as err:
        make_config(values)
    assert str(err.value) == line


def test_negative_zero_is_zero_and_names_the_same_run(run_cli, tmp_path):
    """`--l2_coef -0.0` equals 0 but hashed apart: the same model trained into a new folder."""
    assert Config(data="xor", l2_coef=-0.0, mm=-0.0, dp_rate=-0.0).run_hash() == run_hash(
        Config(data="xor")
    )
    assert "-0.0" not in Config(data="xor", l2_coef=-0.0).to_yaml()
    args = ["train", "--data", "xor", "--epoch", "2", "--plots", "none", "-q"]
    assert run_cli(*args, "--l2_coef", "0", cwd=tmp_path).returncode == 0
    again = run_cli(*args, "--l2_coef=-0.0", cwd=tmp_path)
    assert again.returncode == 0
    assert len(list((tmp_path / "runs" / "exp").glob("exp-*"))) == 1


@pytest.mark.parametrize("name", ["epoch", "hid_dim", "seed", "lr"])
def test_numpys_booleans_are_no_numbers_either(name):
    """np.True_ (from a mask or a comparison) was taken as 1 where True is refused."""
    import numpy as np

    with pytest.raises(ConfigError, match=f"setting '{name}': a boolean .* is not a number"):
        Config(data="xor", **{name: np.True_})


def test_a_mistyped_choice_names_the_nearest_one():
    """`--act relux` and `--data moon` listed every choice and no suggestion, where a
    mistyped setting's name gets one."""
    from mlplab.data.dataset import load_dataset

    for settings, near in (({"act": "relux"}, "relu"), ({"optim": "ADAMM"}, "adam")):
        with pytest.raises(ConfigError, match=rf"is not one of .* \(did you mean '{near}'\?\)$"):
            Config(**settings)
    with pytest.raises(ConfigError) as err:
        Config(act="zzz")
    assert "did you mean" not in str(err.value)
    with pytest.raises(ConfigError, match=r"\(did you mean 'moons'\?\)$"):
        load_dataset("moon")
    with pytest.raises(DataError) as err:
        load_dataset("moons.xlsx")  # a file's name is no misspelt built-in
    assert "did you mean" not in str(err.value) and "spreadsheet workbook" in str(err.value)


def test_load_config_takes_what_its_error_names():
    """load_config({'lr': 0.1}) was refused by a line that offered a dict of settings."""
    import mlplab

    assert mlplab.load_config({"lr": 0.1}).lr == 0.1
    cfg = mlplab.load_config(mlplab.Config(lr=0.2), {"seed": 3})
    assert (cfg.lr, cfg.seed) == (0.2, 3)
    with pytest.raises(ConfigError, match=r"42 \(int\) is not accepted"):
        mlplab.load_config(42)


def test_a_missing_lab_config_says_where_the_lab_configs_are(tmp_path, monkeypatch):
    """An installed mlplab run outside a clone: the help's examples/xor_nn.yaml was 'does
    not exist', with nothing on where such a file comes from."""
    monkeypatch.chdir(tmp_path)
    said = r"examples/ of mlplab's repository and source distribution, not in an installed"
    with pytest.raises(
        ConfigError,
        match=said + r" package: run from a clone, or copy its examples/ folder here\)$",
    ):
        load_config("examples/xor_nn.yaml")
    # A relative path names the folder it was looked for in (a notebook opened elsewhere
    # runs in its own folder), and the lab config of that name under examples/.
    with pytest.raises(
        ConfigError,
        match=rf"'mine.yaml' does not exist \(a relative path: looked for in {re.escape(str(tmp_path))}\)$",
    ):
        load_config("mine.yaml")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "lab.yaml").write_text("data: xor\n")
    with pytest.raises(ConfigError, match=r"looked for in .*; examples/lab.yaml is there\)$"):
        load_config("lab.yaml")


def test_a_missing_config_file_is_told_what_was_likely_meant(tmp_path, monkeypatch):
    """In a clone, examples/xor-nn.yaml (the run folder's spelling) was told to "run from a
    clone"; from inside examples/, and with a slide's curly quotes, nothing was said."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "xor_nn.yaml").write_text("data: xor\n")
    monkeypatch.chdir(tmp_path)
    for typed in ("examples/xor-nn.yaml", "examples/xor_nn.yml"):
        with pytest.raises(ConfigError) as err:
            load_config(typed)
        assert str(err.value).endswith("does not exist (did you mean examples/xor_nn.yaml?)")
    with pytest.raises(
        ConfigError, match=r"'examples/unlike\.yaml' does not exist \(a relative path: looked"
    ):
        load_config("examples/unlike.yaml")
    with pytest.raises(ConfigError) as err:
        load_config("\u201cexamples/xor_nn.yaml\u201d")
    assert str(err.value).endswith("(the quotes are part of the name: give examples/xor_nn.yaml)")
    monkeypatch.chdir(tmp_path / "examples")
    with pytest.raises(ConfigError) as err:
        load_config("examples/xor_nn.yaml")
    assert str(err.value).endswith("(this folder is examples/ already: give xor_nn.yaml)")


def test_the_python_entry_points_name_a_wrong_argument_in_one_line():
    """sweep(5) was a TypeError of os.fspath, train(subscribers=print) one of star
    unpacking, load_dataset(n_samples=-5) scikit-learn's own error (and 0 the default)."""
    import mlplab

    cases = [
        (lambda: mlplab.sweep(5), r"sweep: config 5 \(int\) is not accepted"),
        (lambda: mlplab.train(data="xor", record=False, subscribers=print),
         "subscribers takes a list of functions of an event"),
        (lambda: mlplab.train(data="xor", record=False, subscribers=[5]),
         "subscribers takes a list of functions of an event"),
        (lambda: mlplab.train(data="xor", record=False, subscribers=[lambda: None]),
         "subscribers takes a list of functions of an event"),
        (lambda: mlplab.load_dataset("moons", n_samples=-5),
         "'n_samples': Input should be greater than or equal to 1"),
        (lambda: mlplab.load_dataset("moons", n_samples=0),
         "'n_samples': Input should be greater than or equal to 1"),
        (lambda: mlplab.load_dataset("moons", task="bogus"),
         "'bogus' is not one of auto, classification, regression"),
        # A PyTorch user's keyword: nothing was near enough for a hint.
        (lambda: mlplab.train(data="xor", record=False, hidden_size=4),
         r"unknown setting 'hidden_size' \(did you mean 'hid_dim'\?\)"),
    ]  # fmt: skip
    for call, needle in cases:
        with pytest.raises(ConfigError, match=needle) as err:
            call()
        assert "\n" not in str(err.value)
    import numpy as np

    assert len(mlplab.load_dataset("moons", n_samples=np.int64(50)).X_train) == 40


def test_load_dataset_takes_its_settings_as_a_config_does(tmp_path):
    """load_dataset passed a noise of 'x' or a split of text on to NumPy (a TypeError from
    deep inside), read standardize='false' or 'banana' as true, and its 'auto' scaled the
    synthetic sets that train's 'auto' leaves raw."""
    import numpy as np

    import mlplab

    cases = [
        (dict(noise="x"), "setting 'noise': 'x' is not a number"),
        (dict(split="0.8 0.1 0.1"), "setting 'split'"),
        (dict(target=3), "setting 'target'"),
        (dict(standardize="banana"), "setting 'standardize': must be auto, true or false"),
        (dict(seed=1, data_seed=2), "seed=1 and data_seed=2 name one setting"),
    ]
    for kw, needle in cases:
        with pytest.raises(ConfigError, match=needle) as err:
            mlplab.load_dataset("moons", **kw)
        assert "\n" not in str(err.value)
    raw = mlplab.load_dataset("breast_cancer")
    assert raw.scaler is None
    for off in (False, "false", "no"):
        assert mlplab.load_dataset("breast_cancer", standardize=off).scaler is None
    for on in (True, "true", "auto"):
        assert mlplab.load_dataset("breast_cancer", standardize=on).scaler is not None
    # A path, as train(data=Path(...)) takes it.
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    np.testing.assert_array_equal(
        mlplab.load_dataset(csv).X_train, mlplab.load_dataset(str(csv)).X_train
    )
    # 'auto' as train takes it: the lectures' synthetic sets stay raw.
    assert mlplab.load_dataset("moons", standardize="auto").scaler is None
    run = mlplab.train(data="moons", n_samples=100, epoch=1, record=False, verbose=False)
    assert run.dataset.scaler is None
    # data_seed, a config's name of it, is seed: the same rows either way; "1" as a config.
    a = mlplab.load_dataset("moons", data_seed=1)
    for b in (
        mlplab.load_dataset("moons", seed=1),
        mlplab.load_dataset("moons", seed="1"),
        mlplab.load_dataset("moons", seed="1", data_seed=1),  # one value, twice
    ):
        np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, mlplab.load_dataset("moons").X_train)


def test_subscribers_whose_signature_says_little_are_taken_on_trust():
    """The up-front check of a subscriber's arguments refused a Mock with a spec (its
    signature cannot be read) and a decorated function whose wrapper fills an argument
    (judged by the inner function): both trained before the check."""
    import functools
    from unittest import mock

    import mlplab

    seen: list[object] = []

    def inject(fn):
        @functools.wraps(fn)
        def wrapper(event):
            return fn(event, seen)

        return wrapper

    @inject
    def keep(event, log):
        log.append(event)

    def spec(event):
        pass

    spy = mock.Mock(spec=spec)
    mlplab.train(data="xor", epoch=2, record=False, verbose=False, subscribers=[keep, spy])
    assert seen and spy.call_count == len(seen)


@pytest.mark.parametrize(
    ("call", "name", "value", "needle"),
    [
        ("train", "prune", print, "'prune' is an argument of mlplab.sweep(), not a setting"),
        ("sweep", "early_stop", print, "mlplab.sweep() stops its runs with prune="),
        ("sweep", "resume", True, "'resume' is an argument of mlplab.train()"),
        ("sweep", "record", False, "'record' is an argument of mlplab.train()"),
    ],
)
def test_an_argument_of_the_other_call_is_named_as_one_not_an_unknown_setting(
    tmp_path, call, name, value, needle
):
    import mlplab

    with pytest.raises(ConfigError) as err:
        getattr(mlplab, call)(data="xor", epoch=1, verbose=False, log_path=str(tmp_path),
                              **{name: value})  # fmt: skip
    assert needle in str(err.value) and "--help" not in str(err.value)
    assert not any(tmp_path.iterdir())  # refused before anything is written


def test_a_yaml_files_bad_setting_names_the_file_and_a_flags_does_not(tmp_path):
    from mlplab.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text("data: xor\nlr: abc\n")
    with pytest.raises(ConfigError, match=rf"^{path}: setting 'lr': 'abc' is not a number"):
        load_config(str(path))
    with pytest.raises(ConfigError, match=r"^setting 'lr': 'x' is not a number"):
        load_config(str(path), {"lr": "x"})  # the flag's value is at fault
    # Settings of the file and the flags together: no file blamed for the flags' part.
    path.write_text("epoch: 2\n")
    with pytest.raises(ConfigError, match=r"^settings 'use_bn' and 'batch_size'"):
        load_config(str(path), {"use_bn": True, "batch_size": 1})


def test_a_float32_setting_is_the_number_it_prints_as_and_the_same_run():
    """lr=np.float32(0.1) (a float32 grid of np.linspace) held 0.10000000149011612: another
    run hash, so another run folder, than lr=0.1."""
    import numpy as np

    cfg = Config(lr=np.float32(0.1), l2_coef=np.float16(0.5), epoch=np.int32(7))
    assert cfg.lr == 0.1 and cfg.l2_coef == 0.5 and cfg.epoch == 7
    assert type(cfg.epoch) is int
    assert run_hash(cfg) == run_hash(Config(lr=0.1, l2_coef=0.5, epoch=7))
    assert Config(lr=np.float64(0.1000000001)).lr == 0.1000000001  # float64: as given
    # In lists too: float32 ratios added up to 1.0000000149, "more than 1"; np.int64
    # widths were no whole numbers; np.str_ has a shape, and was called a table.
    ratios = np.array([0.8, 0.1, 0.1], dtype=np.float32)
    assert Config(split=ratios).split == Config(split=list(ratios)).split == [0.8, 0.1, 0.1]
    assert Config(hid_dims=(np.int64(4), np.int64(3))).hid_dims == "4-3"
    assert Config(data=np.str_("moons")).data == "moons"


def test_a_sweep_axis_of_a_float32_array_is_the_runs_of_its_printed_values(tmp_path):
    import numpy as np

    from mlplab.sweeps.api import sweep

    axis = np.linspace(0.1, 0.3, 3, dtype=np.float32)
    res = sweep(data="xor", lr=axis, epoch=2, log_path=str(tmp_path), workers=1,
                verbose=False, report=False, plots="none")  # fmt: skip
    assert [c.lr for c in res.configs] == [0.1, 0.2, 0.3]
    again = sweep(data="xor", lr=[0.1, 0.2, 0.3], epoch=2, log_path=str(tmp_path), workers=1,
                  verbose=False, report=False, plots="none")  # fmt: skip
    assert again.counts["skipped"] == 3  # the same runs


def test_a_resumed_run_notes_only_settings_away_from_their_defaults(run_cli, tmp_path):
    """`--resume DIR` reads every setting from config.yaml: the note named defaults the user
    never typed (`--lr_gamma 0.1`, `--min_delta 0.0`, ...) as if given."""
    from mlplab import train

    stopped = train(data="xor", optim="adam", mm=0.5, epoch=4, save_every=1, plots="none",
                    log_path=str(tmp_path), verbose=False, stop=lambda: True)  # fmt: skip
    assert stopped.status == "interrupted"
    proc = run_cli("train", "--resume", stopped.run_dir)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if "not used by this run" in line]
    assert notes == [
        "mlplab: note: not used by this run: --mm 0.5 (momentum is sgd's and rmsprop's)"
    ]
    # Without a checkpoint to continue from, --resume still names the config.yaml's
    # settings only where they are away from their defaults...
    again = train(data="xor", model="linear", act="relu", epoch=4, save_every=1, plots="none",
                  log_path=str(tmp_path / "b"), verbose=False, stop=lambda: True)  # fmt: skip
    (again.run_dir / "checkpoints" / "last.safetensors").unlink()
    proc = run_cli("train", "--resume", again.run_dir)
    assert proc.returncode == 0, proc.stderr
    assert "not used by this run" not in proc.stdout
    # ...while the same command again, which continues the run, notes what it typed.
    stopped = train(data="xor", model="linear", act="relu", epoch=4, save_every=1, plots="none",
                    log_path=str(tmp_path / "c"), verbose=False, stop=lambda: True)  # fmt: skip
    args = ["--data", "xor", "--model", "linear", "--act", "relu", "--epoch", "4"]
    proc = run_cli("train", *args, "--save_every", "1", "--plots", "none",
                   "--log_path", tmp_path / "c")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "continues" in proc.stdout
    assert "not used by this run: --act relu (a linear model has no hidden layer)" in proc.stdout


@pytest.mark.parametrize("typed", ["none", "None", "off"])
def test_a_count_given_none_or_off_says_which_value_turns_it_off(run_cli, typed):
    out = run_cli("train", "--data", "xor", "--patience", typed)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (
        f"mlplab: setting 'patience': '{typed}' is not a whole number (patience: stop after "
        "N validations without improvement; 0 turns early stopping off)"
    )


def test_a_table_given_as_data_is_named_by_its_shape_not_its_rows():
    """`train(data=df)` quoted the DataFrame's repr: lines of numbers with literal \\n."""
    import numpy as np
    import pandas as pd

    df = pd.DataFrame(np.zeros((500, 3)), columns=["a", "b", "label"])
    with pytest.raises(ConfigError) as err:
        make_config({"data": df})
    assert str(err.value).endswith("(got a DataFrame of shape (500, 3))")
    with pytest.raises(ConfigError) as err:
        make_config({"data": (np.zeros((5, 3)), np.zeros(5))})
    assert "(got a tuple of an ndarray of shape (5, 3), array([0., 0., 0., 0., 0.]))" in str(
        err.value
    )
    with pytest.raises(ConfigError, match=r"'lr': array\(\[0\.1, 0\.2\]\) is not a number"):
        make_config({"lr": np.array([0.1, 0.2])})  # a few values read as themselves


def test_a_misspelt_keyword_of_train_or_sweep_is_named_as_well_as_a_setting(tmp_path):
    """`train(verbos=False)` was only an "unknown setting": the nearest-name search knew
    the settings, not the calls' own keywords, nor other libraries' names of them."""
    import inspect

    import mlplab
    from mlplab.config import CALL_KEYWORDS

    keywords = {
        name
        for call in (mlplab.train, mlplab.sweep)
        for name, p in inspect.signature(call).parameters.items()
        if p.kind is p.KEYWORD_ONLY or name not in ("config", "overrides", "settings")
    } - {"config"}
    assert keywords == set(CALL_KEYWORDS)
    both = ", an argument of mlplab.train() and mlplab.sweep()"
    cases = [
        ("train", "verbos", "'verbose'" + both), ("train", "subscriber", "'subscribers'" + both),
        ("train", "callbacks", "'subscribers'" + both), ("train", "quiet", "'verbose'" + both),
        ("train", "early_stopping", "'patience'"),
        ("sweep", "worker", "'workers', an argument of mlplab.sweep()"),
        # A keyword of the other call says so: train(n_jobs=) is no place for workers.
        ("train", "n_jobs", "'workers', an argument of mlplab.sweep()"),
    ]  # fmt: skip
    for call, given, meant in cases:
        with pytest.raises(ConfigError) as err:
            getattr(mlplab, call)(data="xor", epoch=1, verbose=False, **{given: 1})
        assert f"unknown setting '{given}' (did you mean {meant}?)" in str(err.value)
    # Keras' fit() arguments: what mlplab does instead ('units' led to 'init').
    keras = [
        ("units", "(did you mean 'hid_dim'?)"),
        ("validation_split", "(Keras' validation_split: here split, the shares of train, "),
        ("shuffle", "(Keras' shuffle: mlplab shuffles the training rows every epoch"),
        ("restore_best_weights", "mlplab.load_run(result.run_dir, which='best') loads)"),
        ("monitor", "watch the validation loss; early_stop=lambda v: ..."),
    ]
    for given, hint in keras:
        with pytest.raises(ConfigError) as err:
            mlplab.train(data="xor", epoch=1, verbose=False, **{given: 1})
        assert f"unknown setting '{given}' " in str(err.value) and hint in str(err.value)
    # A file has no Python call: its hints stay the settings'.
    (tmp_path / "run.yaml").write_text("verbos: 1\n")
    with pytest.raises(ConfigError) as err:
        mlplab.load_config(tmp_path / "run.yaml")
    assert "unknown setting 'verbos'" in str(err.value)
    assert "did you mean 'verbose'" not in str(err.value)


def test_help_of_config_says_what_each_setting_means():
    """help(mlplab.Config) was pydantic's 500-line signature: a newcomer's "what is mm?"
    was answered only by Config.model_fields."""
    import pydoc

    import mlplab

    text = " ".join(pydoc.render_doc(mlplab.Config, renderer=pydoc.plaintext).split())
    for name, info in mlplab.Config.model_fields.items():
        assert f"{name} : default {info.default!r}" in text, name
        assert " ".join(str(info.description).split()) in text.replace(" | ", " "), name
    assert "optim : default 'sgd'; one of sgd, " in text


def test_model_copy_checks_its_update_as_the_config_does():
    """pydantic's model_copy(update=...) took lr='abc' and hid_dim=-5 unchecked, and its
    serializer warned later, at the run."""
    import mlplab

    cfg = mlplab.Config(data="moons", hid_dims=[8, 4], lr=0.1)
    assert cfg.model_copy(update={"lr": "0.5"}) == mlplab.Config(
        data="moons", hid_dims=[8, 4], lr=0.5
    )
    assert cfg.model_copy() == cfg and cfg.model_copy() is not cfg
    for bad, needle in (({"lr": "abc"}, "setting 'lr'"), ({"hid_dim": -5}, "setting 'hid_dim'"),
                        ({"bogus": 1}, "unknown setting 'bogus'")):  # fmt: skip
        with pytest.raises(ConfigError, match=needle):
            cfg.model_copy(update=bad)


def test_a_dataset_name_given_as_the_config_says_how_to_give_it(tmp_path, monkeypatch):
    """train("xor") said only that no config file 'xor' exists."""
    import mlplab

    monkeypatch.chdir(tmp_path)
    for call in (mlplab.train, mlplab.sweep):
        with pytest.raises(ConfigError, match=r"'xor' is a built-in dataset: give it as "
                           r"data='xor'\)$"):  # fmt: skip
            call("xor")
    (tmp_path / "xor").write_text("data: moons\nepoch: 1\nplots: none\n")  # a file of that name
    assert mlplab.train("xor", verbose=False, record=False).config.data == "moons"


def test_numpy_and_torch_dtypes_name_the_dtype_setting():
    """Config(dtype=np.float32) said "<class 'numpy.float32'> is not one of float32, ..."."""
    import numpy as np
    import torch

    import mlplab

    for given, name in ((np.float32, "float32"), (np.dtype("float64"), "float64"),
                        (torch.float32, "float32"), (torch.float64, "float64")):  # fmt: skip
        assert mlplab.Config(dtype=given).dtype == name
    with pytest.raises(ConfigError, match="setting 'dtype': 'float16' is not one of float32"):
        mlplab.Config(dtype=np.float16)


def test_gradcheck_takes_its_seed_as_a_config_does():
    """run_gradcheck(seed="a") was NumPy's TypeError from SeedSequence."""
    import mlplab

    with pytest.raises(ConfigError, match="setting 'seed': 'a' is not a whole number"):
        mlplab.run_gradcheck(seed="a")


def test_a_configs_repr_names_the_settings_away_from_their_defaults():
    """The repr listed all 46 settings (676 characters for a two-setting config)."""
    import mlplab

    assert repr(mlplab.Config()) == "Config()"
    cfg = mlplab.Config(data="moons", lr=0.1, hid_dims=[8, 4])
    assert repr(cfg) == "Config(data='moons', n_layer=2, hid_dims='8-4', lr=0.1)"
    assert eval(repr(cfg), {"Config": mlplab.Config}) == cfg  # it builds the config again


def test_a_configs_paths_take_the_home_folder_and_variables_as_a_shell_does(tmp_path):
    """`log_path: ~/mlplab-runs` in a config made a folder named `~` in the current one
    (which `rm -rf ~` then takes for the home folder); `data: ~/...` did not exist."""
    import os
    import subprocess
    import sys

    home, here = tmp_path / "home", tmp_path / "here"
    (home / "data").mkdir(parents=True)
    here.mkdir()
    rows = "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(20))
    (home / "data" / "gate.csv").write_text("a,b,y\n" + rows)
    (here / "lab.yaml").write_text(
        "data: ~/data/gate.csv\ntarget: y\nepoch: 5\nlog_path: $MLPLAB_TEST_ROOT/runs\n"
        "plots: none\n"
    )
    env = {**os.environ, "HOME": str(home), "MLPLAB_TEST_ROOT": str(tmp_path / "root")}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "train", "lab.yaml", "--log_every", "0"],
        cwd=here, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.iterdir()) == ["lab.yaml"]  # no `~` or `$...` folder
    (record,) = (tmp_path / "root" / "runs").rglob("result.json")
    assert json.loads(record.read_text())["data"] == str(home / "data" / "gate.csv")
    # A `$` that names no variable stays as written: "$5 to $10.csv" is a file's name; so
    # does a path that exists as written (a quoted flag's `$HOME`).
    assert Config(data="$5 to $10.csv").data == "$5 to $10.csv"
    literal = tmp_path / "lit$MLPLAB_TEST_ROOT.csv"
    literal.write_text("a,y\n1,0\n")
    os.environ["MLPLAB_TEST_ROOT"] = "elsewhere"
    try:
        assert Config(data=str(literal)).data == str(literal)
    finally:
        del os.environ["MLPLAB_TEST_ROOT"]


def test_every_path_mlplab_takes_expands_the_home_folder(tmp_path, monkeypatch, run_cli):
    """`report --out=~/r` (no shell expands `~` after `=`), `plot --out`, `predict --data
    '~/...'` and MLPClassifier.save("~/m") made a folder named `~` here, or found nothing,
    while `data` and `log_path` took `~`; predict then said "~ is not set here" of a HOME
    that was set."""
    from pathlib import Path

    import numpy as np

    import mlplab

    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MLPLAB_TEST_ROOT", str(home))
    monkeypatch.chdir(here)
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(home / "rows.npz", X=X, y=(X[:, 0] > 0).astype(int))
    trained = run_cli("train", "--data", "~/rows.npz", "--epoch", "3", "--plots", "none",
                      "--log_path", "~/runs", cwd=here)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    (record,) = (home / "runs").rglob("result.json")
    run = str(record.parent)
    for args in (
        ["report", "~/runs", "--out=~/report", "-q"],
        ["plot", "~/" + str(Path(run).relative_to(home)), "--out=~/plots"],
        ["predict", run, "--data", "$MLPLAB_TEST_ROOT/rows.npz", "--out=~/preds.csv"],
    ):
        proc = run_cli(*args, cwd=here)
        assert proc.returncode == 0, (args, proc.stderr)
    assert (home / "report" / "report.html").is_file() and (home / "plots").is_dir()
    assert len((home / "preds.csv").read_text().splitlines()) == 41
    # The Python API's paths, as its settings'.
    clf = mlplab.MLPClassifier(epoch=2).fit(X, X[:, 0] > 0)
    clf.save("~/model.safetensors")
    assert (home / "model.safetensors").is_file()
    assert mlplab.MLPClassifier.load("~/model.safetensors").n_features_in_ == 2
    assert mlplab.load_run("~/" + str(Path(run).relative_to(home))).run_dir == Path(run)
    mlplab.report("$MLPLAB_TEST_ROOT/runs", out="~/report2", verbose=False)
    assert (home / "report2" / "report.html").is_file()
    (home / "lab.yaml").write_text("epoch: 7\n")
    assert mlplab.load_config("~/lab.yaml").epoch == 7
    # An output whose variable is unset (or HOME empty) is refused, not made as written.
    monkeypatch.delenv("MLPLAB_TEST_UNSET", raising=False)
    for args in (
        ["report", "~/runs", "--out=$MLPLAB_TEST_UNSET/r"],
        ["plot", run, "--out=$MLPLAB_TEST_UNSET/p"],
        ["predict", run, "--data", "~/rows.npz", "--out", "$MLPLAB_TEST_UNSET/p.csv"],
    ):
        proc = run_cli(*args, cwd=here)
        assert_one_line_error(proc, "$MLPLAB_TEST_UNSET is empty or not set here (a folder "
                              "of that name would be made instead)")  # fmt: skip
    with pytest.raises(ConfigError, match=r"\$MLPLAB_TEST_UNSET is empty or not set here"):
        mlplab.report(home / "runs", out="$MLPLAB_TEST_UNSET/r", verbose=False)
    with pytest.raises(ConfigError, match=r"\$MLPLAB_TEST_UNSET is empty or not set here"):
        clf.save("$MLPLAB_TEST_UNSET/m.safetensors")
    monkeypatch.setenv("HOME", "")  # a cron job's
    proc = run_cli("report", home / "runs", "--out=~/r", cwd=here)
    assert_one_line_error(proc, "--out '~/r': ~ names no home folder known here")
    assert list(here.iterdir()) == []  # no folder named `~` or `$MLPLAB_TEST_ROOT` here


def test_a_log_path_whose_variable_is_unset_is_refused_not_made_as_written(tmp_path, monkeypatch):
    """A shared config's `log_path: $SCRATCH/runs` with SCRATCH unset (or `~` with no home
    known) made a folder named `$SCRATCH` (or `~`) here, where the runs went on landing."""
    from mlplab.data.dataset import load_dataset
    from mlplab.errors import DataError

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLPLAB_UNSET", raising=False)
    with pytest.raises(ConfigError, match=r"setting 'log_path': '\$MLPLAB_UNSET' is empty or not set here "
                       r"\(a folder of that name would be made instead\); set it, or give the "
                       r"folder as a path"):  # fmt: skip
        Config(log_path="$MLPLAB_UNSET/runs")
    with pytest.raises(ConfigError, match=r"'~mlplab-no-such-user' names no home folder known"):
        Config(log_path="~mlplab-no-such-user/runs")
    # Empty (a cron job's HOME=): `~/runs` and `$SCRATCH/runs` were /runs, at the root.
    monkeypatch.setenv("HOME", "")
    with pytest.raises(ConfigError, match=r"'~' names no home folder known"):
        Config(log_path="~/runs")
    monkeypatch.setenv("MLPLAB_EMPTY", "")
    with pytest.raises(ConfigError, match=r"'\$MLPLAB_EMPTY' is empty or not set here"):
        Config(log_path="$MLPLAB_EMPTY/runs")
    assert list(tmp_path.iterdir()) == []
    # A folder that exists as written is that folder, as before.
    (tmp_path / "$MLPLAB_UNSET" / "runs").mkdir(parents=True)
    assert Config(log_path="$MLPLAB_UNSET/runs").log_path == "$MLPLAB_UNSET/runs"
    with pytest.raises(
        DataError, match=r"'\$MLPLAB_UNSET/x.csv' does not exist \(\$MLPLAB_UNSET is"
    ):
        load_dataset("$MLPLAB_UNSET/x.csv")


def test_arrays_for_data_are_told_the_file_that_keeps_them_and_that_file_trains(tmp_path):
    """Arrays given as data were told to write `df.to_csv(...)`, which an ndarray lacks;
    an NPZ keeps their dtype and shape, and data= reads it."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), (rng.random(60) > 0.5).astype(int)
    with pytest.raises(ConfigError, match=r"\(np\.savez\('data\.npz', X=X, y=y\)\)"):
        mlplab.train(data=X, record=False, verbose=False)
    with pytest.raises(ConfigError, match=r"\(df\.to_csv\('data\.csv', index=False\)\)"):
        mlplab.train(data=pd.DataFrame(X), record=False, verbose=False)
    np.savez(tmp_path / "data.npz", X=X, y=y)  # as the line says
    r = mlplab.train(data=str(tmp_path / "data.npz"), epoch=2, record=False, verbose=False)
    assert r.status == "finished" and r.dataset.n_features == 2


def test_settings_that_read_data_are_refused_beside_a_dataset(tmp_path):
    """train(dataset=ds, standardize=True) left the Dataset unscaled, with the same run id
    as without it and a record saying standardized: false."""

    ds = mlplab.load_dataset("moons")
    for given in ({"standardize": True}, {"split": [0.5, 0.25, 0.25], "data_seed": 3}):
        with pytest.raises(
            ConfigError, match=r"appl(y|ies) where data is read, and dataset= is data"
        ):
            mlplab.train(dataset=ds, record=False, verbose=False, **given)
        with pytest.raises(ConfigError, match=f"train: {', '.join(given)} appl(y|ies) where"):
            mlplab.train({"epoch": 2, **given}, dataset=ds, record=False, verbose=False)
    # What the line advises: the Dataset read with them, as train(data=...) reads a file.
    scaled = mlplab.load_dataset("moons", standardize=True)
    r = mlplab.train(dataset=scaled, epoch=2, log_path=str(tmp_path), verbose=False, plots="none")
    assert r.record["standardized"] is True


def test_l1_coef_unset_keeps_every_earlier_run_id_and_set_makes_its_own():
    base = make_config({"data": "xor"})
    assert make_config({"data": "xor", "l1_coef": 0}).run_id() == base.run_id()
    assert make_config({"data": "xor", "l1_coef": 0.01}).run_id() != base.run_id()
    with pytest.raises(ConfigError, match="'l1_coef'"):
        make_config({"l1_coef": -1})


def test_backprop_refuses_l1_which_its_trace_does_not_show(run_cli, tmp_path):
    proc = run_cli("backprop", "--data", "xor", "--l1_coef", "0.01", cwd=tmp_path)
    assert proc.returncode == 2 and "trace the config with l1_coef 0" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_each_result_keeps_the_config_it_trained_with(tmp_path):
    """`cfg.lr = lr; train(cfg)` in a loop: every Result held the caller's own Config, so
    each reported the last lr (and named the last run's folder), and two Results could
    not be compared (`==` raised ValueError over their arrays)."""
    from conftest import EXAMPLES

    cfg = mlplab.load_config(EXAMPLES / "xor_nn.yaml", {"epoch": 3, "log_every": 0})
    cfg.log_path, cfg.plots = str(tmp_path), "none"
    results = []
    for lr in (0.1, 0.5):
        cfg.lr = lr
        results.append(mlplab.train(cfg, verbose=False))
    assert [r.config.lr for r in results] == [r.record["lr"] for r in results] == [0.1, 0.5]
    assert [r.run_dir.name for r in results] == [r.config.run_id() for r in results]
    assert mlplab.load_config(cfg) is not cfg and mlplab.load_config(cfg) == cfg
    a, b = results
    assert a == a and a != b and a in [b, a]  # identity: one Result equals only itself
    run = mlplab.load_run(a.run_dir)
    assert run != mlplab.load_run(a.run_dir) and run in [run]


def test_config_prints_its_settings_and_equals_the_same_settings():
    """print(Config()) printed an empty line (pydantic's str); two configs of one repr and
    run_id were unequal when one gave n_layer beside hid_dims."""
    assert str(Config()) == "Config()" and str(Config(lr=0.1)) == "Config(lr=0.1)"
    a, b = Config(n_layer=3, hid_dims="4-4"), Config(hid_dims="4-4")
    assert repr(a) == repr(b) and a.run_id() == b.run_id() and a == b
    assert Config(lr=0.1) != Config(lr=0.2) and Config() != {"lr": 0.01}
    with pytest.raises(TypeError, match="unhashable"):
        hash(Config())


def test_a_loss_setting_is_told_the_task_sets_the_loss(tmp_path, run_cli):
    """`--loss huber` was asked whether it meant --plots: difflib's nearest name."""
    proc = run_cli("train", "--data", "xor", "--loss", "huber", "--log_path", tmp_path)
    assert proc.returncode == 2 and "--plots" not in proc.stderr
    assert proc.stderr.startswith(
        "mlplab: train: unknown setting '--loss' (the task sets the loss: MSE for a "
        "regression, cross-entropy for classes, binary for two; there is no loss setting)"
    )
    with pytest.raises(ConfigError, match=r"'criterion' \(the task sets the loss"):
        make_config({"criterion": "mse"})


def test_names_of_digits_in_yaml_or_python_are_told_to_be_quoted(tmp_path):
    """`target: 2021` in a YAML file (a column named by a year) was refused as "Input should
    be a valid list (got 2021)", which names no cure; read as its number's text, YAML's 010
    would name column 8, and 12:30 column 750. Quoted, it names its column."""
    import numpy as np

    import mlplab

    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in rng.normal(size=(40, 2)))
    (tmp_path / "years.csv").write_text("2019,2020,2021\n" + rows + "\n")
    for text in ("target: 2021", "target: [2021]", "ignore: [2019, 2020]", "exp_name: 007"):
        (tmp_path / "c.yaml").write_text(f"data: {tmp_path / 'years.csv'}\n{text}\n")
        with pytest.raises(ConfigError, match=r"c\.yaml: setting '\w+': a name is text: write "
                           r"it in quotes as the file writes it \(target: '2021'\): YAML "
                           r"reads a name of digits unquoted as a number \(010 as 8"):  # fmt: skip
            mlplab.load_config(str(tmp_path / "c.yaml"))
    with pytest.raises(ConfigError, match="'target': a name is text: write it in quotes as"):
        mlplab.load_config(None, {"data": "xor", "target": 2021})
    # `target: no` (a column named no): YAML's false, with the same cure, in words for it.
    (tmp_path / "c.yaml").write_text("data: xor\ntarget: no\n")
    with pytest.raises(ConfigError, match=r"'target': a name is text: .*\(target: 'no'\): YAML "
                       r"reads no, yes, on, off"):  # fmt: skip
        mlplab.load_config(str(tmp_path / "c.yaml"))
    (tmp_path / "c.yaml").write_text(f"data: {tmp_path / 'years.csv'}\ntarget: '2021'\n")
    cfg = mlplab.load_config(str(tmp_path / "c.yaml"))
    res = mlplab.train(cfg, epoch=2, plots="none", verbose=False, log_path=str(tmp_path / "r"))
    assert res.dataset.feature_names == ["2019", "2020"] and res.dataset.target_names == ["2021"]


def test_a_set_of_sizes_or_widths_is_refused_not_reordered():
    """split={0.1, 0.8, 0.1} was taken as [0.1, 0.8], a train split of 0.1, and {30, 1, 2}
    as train 1, val 2, test 30."""
    for name, value in [("split", {0.1, 0.8}), ("split", frozenset({30, 1, 2})),
                        ("hid_dims", {8, 4}), ("target", {"a", "b"})]:  # fmt: skip
        with pytest.raises(ConfigError, match=f"setting '{name}': give a list, not a set"):
            make_config({name: value})
    assert make_config({"split": (0.8, 0.1, 0.1)}).split == [0.8, 0.1, 0.1]


def test_an_empty_value_is_named_so_not_as_pythons_none():
    """`--lr null` and `exp_name: ~` were told "None is not a number" and "Input should be
    a valid string (got None)": words of Python and pydantic, which the user never wrote."""
    with pytest.raises(ConfigError, match=r"^setting 'lr': an empty value \(null, ~ or None\) is "
                       r"not a number \(lr: "):  # fmt: skip
        make_config({"lr": None})
    with pytest.raises(ConfigError, match=r"^setting 'exp_name': an empty value \(null, ~ or "
                       r"None\) is not text"):  # fmt: skip
        make_config({"exp_name": None})
    with pytest.raises(ConfigError, match=r"^setting 'model_name': \['a'\] is not text"):
        make_config({"model_name": ["a"]})


@pytest.mark.parametrize("text", ["2.000", "10.000", "1.000.000", "-1.000"])
def test_a_dot_between_thousands_is_refused_for_a_whole_number(tmp_path, text):
    """`--epoch 2.000` (two thousand, where a dot groups thousands) trained 2 epochs."""
    with pytest.raises(ConfigError, match=r"setting 'epoch': a dot between thousands reads as"):
        make_config({"epoch": text})
    whole = text.replace(".", "")
    with pytest.raises(ConfigError, match=f"write {whole} for"):
        make_config({"n_samples": text})
    f = tmp_path / "c.yaml"
    f.write_text(f"data: moons\nseed: 3\nepoch: {text}\n")  # YAML's float 2.0
    with pytest.raises(ConfigError, match=r"c.yaml.*setting 'epoch'.* a dot between"):
        load_config(f)
    if text.count(".") > 1:  # text to YAML, refused as a sweep's value, one by one
        return
    f.write_text(f"data: moons\nhid_dim: [8, {text}]\n")  # a sweep's axis, floats to YAML
    with pytest.raises(ConfigError, match=r"c.yaml.*setting 'hid_dim'.* a dot between"):
        load_config(f)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("seed: 010", "setting 'seed': YAML reads 010 as 8 (octal); write 10 for the number"),
        ("batch_size: 032", "setting 'batch_size': YAML reads 032 as 26 (octal); write 32"),
        ("epoch: 1:00", "setting 'epoch': YAML reads 1:00 as 60 (base 60); write '1:00'"),
        ("hid_dims: [010, 4]", "setting 'hid_dims': YAML reads 010 as 8 (octal)"),
        ("lr: [0.1, 010]", "setting 'lr': YAML reads 010 as 8 (octal)"),
    ],
)
def test_yaml_numbers_read_as_octal_or_base_60_are_refused(tmp_path, text, said):
    """`seed: 010` trained seed 8 and `epoch: 1:00` 60 epochs without a word, where the
    same text as a flag is 10; names had their own line already (exp_name: 010)."""
    f = tmp_path / "c.yaml"
    f.write_text(f"data: moons\n{text}\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    # (A long path is shortened in the line: pytest's folders under xdist are.)
    assert str(err.value).startswith("config file '") and f"c.yaml', line 2: {said}" in str(
        err.value
    )


def test_yaml_numbers_that_read_as_they_look_are_taken(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("data: moons\nseed: 0\nepoch: 1_000\nlr: 00.5\nhid_dims: [10, 4]\n")
    cfg = load_config(f)
    assert (cfg.seed, cfg.epoch, cfg.lr, cfg.hid_dims) == (0, 1000, 0.5, "10-4")


def test_other_numbers_with_a_dot_are_read_as_before(tmp_path):
    assert make_config({"epoch": "2.0", "lr": "1.000", "dp_rate": "0.125"}).epoch == 2
    assert make_config({"seed": "0.000"}).seed == 0  # 0 read either way
    f = tmp_path / "c.yaml"
    f.write_text("data: moons\nlr: 1.000\nepoch: 20\n")
    assert load_config(f).lr == 1.0


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["train", "--split", "0,8", "0,1", "0,1"], "write it with a decimal point: 0.8"),
        (["train", "--epoch", "1,000"], "write it without a separator: 1000"),
        (["train", "--n_samples", "1,000,000"], "write it without a separator: 1000000"),
        (["sweep", "--lr", "0,01", "0.1"], "write it with a decimal point: 0.01"),
        (["sweep", "--epoch", "1,000", "2"], "write it without a separator: 1000"),
        (["train", "--seed", "1,2"], "make a sweep: mlplab sweep --seed 1 2"),
        (["train", "--seed", "0,1"], "make a sweep: mlplab sweep --seed 0 1"),
        (["train", "--split", "1600,400,400"], "separate the values by spaces: --split 1600 400"),
        (
            ["sweep", "--lr", "0.1,0.2"],
            "; a sweep takes several values separated by spaces: --lr 0.1 0.2",
        ),
        (["sweep", "--lr", "0,01"], "0,01' is not a number; write it with a decimal point: 0.01\n"),
        (
            ["train", "--hid_dim", "64,128"],
            "not a whole number; several values, separated by spaces, make",
        ),
        (
            ["train", "--epoch", "100,200"],
            "make a sweep: mlplab sweep --epoch 100 200 (or one number",
        ),
        (
            ["sweep", "--search", "random", "--trials", "2", "--epoch", "int:1.000:3.000"],
            "'int:1.000:3.000': a dot between thousands reads as a decimal point (1.000 is 1)",
        ),
    ],
)
def test_commas_in_numbers_get_the_hint_they_mean(capsys, tmp_path, args, hint):
    """`--split 0,8` was told `--split 0 8`, `--epoch 1,000` a sweep over 1 and 0 epochs,
    and a sweep's `--lr 0,01` no hint at all."""
    from mlplab.cli import main

    assert main([*args, "--data", "moons", "--log_path", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert hint in err + "\n" and err.count("\n") == 1, err


@pytest.mark.parametrize("text", ["0.8 0.1 0.1", "0,8 0,1 0,1", "0.8, 0.1, 0.1", "'0.8,0.1,0.1'"])
def test_a_yaml_list_written_as_text_is_shown_in_brackets(tmp_path, text):
    f = tmp_path / "c.yaml"
    f.write_text(f"data: moons\nsplit: {text}\n")
    with pytest.raises(
        ConfigError, match=r"is not a list; write a list in brackets: split: \[0\.8, 0\.1, 0\.1\]"
    ):
        load_config(f)


def test_a_python_calls_notes_name_its_arguments_not_flags(tmp_path):
    """Result.notes in a notebook said `--task classification`, `(--epoch)`, `--optim
    adam` and `--target y0`, to be translated by hand."""
    import numpy as np

    import mlplab
    from mlplab.errors import note_in_python

    assert note_in_python("labels of two classes take --task classification") == (
        "labels of two classes take task='classification'"
    )
    assert note_in_python("give it more epochs (--epoch)") == "give it more epochs (epoch)"
    assert note_in_python("more epochs or --optim adam where the loss still fell, a lower "
                          "--lr or more") == (
        "more epochs or optim='adam' where the loss still fell, a lower lr or more"
    )  # fmt: skip
    assert note_in_python("--standardize false; --lr 0.1, --ignore 'ma col'") == (
        "standardize=False; lr=0.1, ignore='ma col'"
    )
    # A command in backquotes stays one.
    assert (
        note_in_python("`mlplab train --lr 0.1` or --lr 0.2") == "`mlplab train --lr 0.1` or lr=0.2"
    )
    # A sentence's verb after a flag is no value of it (it read batch_size='steadies').
    assert note_in_python("a lower --lr or a larger --batch_size steadies it") == (
        "a lower lr or a larger batch_size steadies it"
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    np.savez(tmp_path / "two.npz", X=X, y=np.where(X[:, 0] > 0, 1.5, 0.5))
    run = mlplab.train(data=str(tmp_path / "two.npz"), epoch=1, verbose=False, record=False)
    assert any(n.endswith("labels of two classes take task='classification'") for n in run.notes)
    assert not any("--" in n for n in run.notes), run.notes


def test_a_class_weight_dict_written_as_text_is_pointed_to_the_estimators(capsys, tmp_path):
    from mlplab.cli import main

    assert main(["train", "--data", "moons", "--class_weight", "{0: 1, 1: 10}"]) == 2
    assert "is mlplab.MLPClassifier(class_weight=...)'s" in capsys.readouterr().err


def test_an_emoji_in_a_setting_is_written_as_typed_in_yaml():
    """libyaml's emitter wrote it as an escape ("Modell \\U0001F9E0") in --print_config and
    config.yaml; names of the Basic Multilingual Plane were already written as typed."""
    cfg = make_config({"model_name": "Modell 🧠", "log_path": "Läufe 実験 🚀"})
    text = cfg.to_yaml()
    assert "model_name: Modell 🧠" in text and "Läufe 実験 🚀" in text and "\\U0001" not in text
    assert make_config(yaml.safe_load(text)).run_id() == cfg.run_id()


def test_one_width_in_hid_dims_is_the_run_of_n_layer_and_hid_dim(tmp_path):
    """`hid_dims: "16"` and `n_layer: 1, hid_dim: 16` build one network, yet had two run ids:
    a student who changed spelling between days trained the same model twice, and the
    report ranked its seeds as two configs (as `swish` is `silu`, they are one now)."""
    assert Config(hid_dims="16").run_id() == Config(n_layer=1, hid_dim=16).run_id()
    assert Config(hid_dims="16-16").run_id() == Config(n_layer=2, hid_dim=16).run_id()
    assert Config(hid_dims=[16, 16], hid_dim=3).run_id() == Config(n_layer=2, hid_dim=16).run_id()
    assert Config(hid_dims="16-8").run_id() != Config(n_layer=2, hid_dim=16).run_id()
    assert Config(hid_dims="16").run_id() != Config(n_layer=1, hid_dim=8).run_id()
    base = dict(data="xor", act="tanh", optim="sgd", lr=1.0, epoch=5, log_every=0,
                plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    first = mlplab.train(**base, n_layer=2, hid_dim=4)
    again = mlplab.train(**base, hid_dims="4-4")
    assert again.kept and again.run_dir == first.run_dir
    mlplab.train(**base, hid_dims="4-4", seed=1)
    mlplab.train(**base, hid_dims="4-8")
    rep = mlplab.report(str(tmp_path), verbose=False)
    assert len(rep.summary) == 2  # 4-4 (two seeds, both spellings) and 4-8
    (both,) = [row for _, row in rep.summary.iterrows() if row["n"] == 2]
    assert both["hid_dims"] == "4-4"


def test_a_run_record_given_as_settings_is_said_to_be_one(tmp_path):
    """A run's result.json given as settings (Config(**rec), train(rec), load_config of
    the file) was a 1,300-character line of 40 unknown settings, each with a suggestion
    that led nowhere ('status': did you mean 'task'?)."""
    r = mlplab.train(data="xor", epoch=2, log_every=0, plots="none", verbose=False,
                     log_path=str(tmp_path))  # fmt: skip
    rec = json.loads((r.run_dir / "result.json").read_text())
    said = "this is a run's record (result.json: run_id, run_digest, status), not settings"
    for call in (lambda: Config(**rec), lambda: mlplab.train(rec, verbose=False)):
        with pytest.raises(ConfigError) as err:
            call()
        assert str(err.value) == (
            f"{said}: the run's settings are in config.yaml beside it, and "
            "mlplab.load_run(run_dir) rebuilds its model"
        )
    with pytest.raises(ConfigError) as err:
        mlplab.load_config(r.run_dir / "result.json")
    assert str(err.value) == (
        f"{r.run_dir / 'result.json'}: {said}: the run's settings are in config.yaml beside "
        f"it, and mlplab.load_run({str(r.run_dir)!r}) rebuilds its model"
    )


def test_a_keyword_of_train_or_sweep_is_not_suggested_as_itself():
    """Config(shard=1) asked: did you mean 'shard', an argument of mlplab.sweep()?"""
    for name, call in (
        ("shard", "mlplab.sweep()"),
        ("verbose", "mlplab.train() and mlplab.sweep()"),
    ):
        with pytest.raises(ConfigError) as err:
            Config(**{name: 1})
        assert str(err.value) == f"{name!r} is an argument of {call}, not a setting"
    with pytest.raises(
        ConfigError, match=r"'shard' \(an argument of mlplab.sweep\(\), not a setting\)"
    ):
        Config(shard=1, lrr=2)


def test_a_files_unknown_key_is_said_before_a_bad_value_beside_it(tmp_path):
    """A misspelt key beside a bad value was said only once the value was mended."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: moons\nhiddim: 16\noptim: adamm\nepoch: 2\n")
    with pytest.raises(ConfigError) as err:
        mlplab.load_config(bad)
    assert "unknown setting 'hiddim' (did you mean 'hid_dim'?)" in str(err.value)


def test_the_settings_a_type_checker_reads_are_the_configs_fields():
    """`mlplab.Config(hid_dimm=3)` passed a type check (its __init__ took **data); type
    checkers now read a signature of every setting by name (mypy checks that a misspelt one
    is an error in tests/typing/public_api.py), while help(Config) shows the run-time one.
    One list, name for name, in the fields' order."""
    import ast
    import inspect

    import mlplab.config

    tree = ast.parse(inspect.getsource(mlplab.config))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Config"]
    (typed,) = [
        f
        for branch in cls.body
        if isinstance(branch, ast.If) and ast.unparse(branch.test) == "TYPE_CHECKING"
        for f in branch.body
        if isinstance(f, ast.FunctionDef) and f.name == "__init__"
    ]
    assert [a.arg for a in typed.args.kwonlyargs] == list(Config.model_fields)
    assert str(inspect.signature(Config.__init__)) == "(self, /, **data: 'Any') -> 'None'"
    assert "hid_dim" in (Config.__doc__ or "") + str(Config.model_fields["hid_dim"])


def test_standardize_auto_takes_any_case_as_every_other_choice(tmp_path):
    """`standardize: AUTO` was refused, where `optim: Adam` and `standardize: TRUE` were taken."""
    for text in ("AUTO", "Auto", " auto "):
        assert make_config({"standardize": text}).standardize == "auto"


def test_load_config_of_a_file_takes_a_namespace_whose_config_was_not_given(tmp_path):
    """`load_config("base.yaml", args)`, the README's pattern, refused an args of a parser
    with --config left out (config=None) as an unknown setting 'config'."""
    import argparse

    f = tmp_path / "base.yaml"
    f.write_text("data: moons\nepoch: 7\n")
    cfg = load_config(f, argparse.Namespace(config=None, lr=0.01, hid_dim=None))
    assert (cfg.data, cfg.epoch, cfg.lr) == ("moons", 7, 0.01)
    with pytest.raises(ConfigError, match="unknown setting 'config'"):  # two files: which?
        load_config(f, argparse.Namespace(config="other.yaml", lr=0.01))


def test_a_choice_yaml_read_as_true_or_false_says_why(tmp_path):
    """`class_weight: no` was told "False is not one of none, balanced": the user wrote
    no False, and nothing said what YAML did with the word."""
    f = tmp_path / "c.yaml"
    f.write_text("data: moons\nclass_weight: no\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert str(err.value).endswith(
        "setting 'class_weight': False is not one of none, balanced; YAML reads no, yes, on, "
        "off, true and false unquoted as true or false: write one of the choices "
        "(class_weight: none)"
    )
    # `plots: no` means none, not the first choice (png); `act: on` has no such choice.
    for text, example in [("plots: off", "plots: none"), ("act: on", "act: sigmoid")]:
        f.write_text(f"data: moons\n{text}\n")
        with pytest.raises(ConfigError, match=rf"write one of the choices \({example}\)$"):
            load_config(f)


def test_a_data_setting_refused_by_the_loader_names_its_yaml_file(tmp_path, run_cli):
    """`data: moonz` or `target:` beside a built-in set in lab.yaml were refused without
    the file's name, which a validation error of the same file gives; set by a flag, the
    line names no file."""
    (tmp_path / "lab.yaml").write_text("data: moonz\nepoch: 2\nplots: none\n")
    (tmp_path / "tgt.yaml").write_text("data: xor\ntarget: y\nepoch: 2\nplots: none\n")
    for cmd in (["train"], ["sweep", "--lr", "0.1", "0.2"]):
        line = assert_one_line_error(run_cli(*cmd, "--config", "lab.yaml", cwd=tmp_path))
        assert line.startswith("mlplab: lab.yaml: setting 'data': 'moonz' is neither"), line
        line = assert_one_line_error(
            run_cli(*cmd, "--config", "tgt.yaml", "--data", "and", cwd=tmp_path)
        )
        assert line.startswith("mlplab: tgt.yaml: setting 'target' applies to data files"), line
        line = assert_one_line_error(
            run_cli(*cmd, "--config", "lab.yaml", "--data", "moonz2", cwd=tmp_path)
        )
        assert line.startswith("mlplab: setting 'data': 'moonz2'"), line
    with pytest.raises(ConfigError, match=r"^\S*lab\.yaml: setting 'data': 'moonz'"):
        mlplab.train(load_config(tmp_path / "lab.yaml"))
    # The data file's own lines too: a file missing, a target column it lacks.
    (tmp_path / "t.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    (tmp_path / "f.yaml").write_text("data: nofile.csv\nplots: none\n")
    (tmp_path / "g.yaml").write_text("data: t.csv\ntarget: yy\nplots: none\n")
    line = assert_one_line_error(run_cli("train", "--config", "f.yaml", cwd=tmp_path))
    assert line.startswith("mlplab: f.yaml: data file 'nofile.csv' does not exist"), line
    line = assert_one_line_error(run_cli("train", "--config", "g.yaml", cwd=tmp_path))
    assert line.startswith("mlplab: g.yaml: data file 't.csv': target column 'yy'"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "f.yaml", "g.yaml", "lab.yaml", "t.csv", "tgt.yaml"
    ]  # fmt: skip
