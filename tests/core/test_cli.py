"""The command line: help without torch, datasets, print_config, and one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, assert_one_line_error


def test_help_and_datasets_do_not_import_torch():
    code = (
        "import sys, io, contextlib\n"
        "from mlplab.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['sweep', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "main(['datasets'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'sklearn' not in sys.modules, 'sklearn was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in (
        "xor",
        "sinlog",
        "sine",
        "ring",
        "moons",
        "circles",
        "spiral",
        "gauss",
        "digits",
        "iris",
        "wine",
        "breast_cancer",
        "diabetes",
        "and",
        "or",
    ):
        assert name in proc.stdout


def test_train_help_lists_every_setting_with_its_unit(run_cli):
    proc = run_cli("train", "--help")
    assert proc.returncode == 0
    for flag in (
        "--n_layer",
        "--hid_dim",
        "--act",
        "--optim",
        "--l2_coef",
        "--dp_rate",
        "--log_every",
        "--validate_every",
        "--save_every",
        "--device",
        "--log_path",
        "--model_name",
        "--engine",
    ):
        assert flag in proc.stdout
    assert "count steps" in proc.stdout and "count epochs" in proc.stdout


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_help_gives_a_settings_choices_once(command):
    """The choices are in the flag's metavar or after its help, not both (nor neither)."""
    import re

    from mlplab.cli import build_parser

    parser = build_parser()
    sub = parser.parse_args([command]).commands[command]
    for action in sub._actions:
        if not action.option_strings or action.help in (None, "==SUPPRESS=="):
            continue
        in_metavar = str(action.metavar or "").startswith("{")
        in_help = re.search(r"\{[\w.\-]+(, [\w.\-]+)+\}", action.help) is not None
        assert not (in_metavar and in_help), (action.dest, action.metavar, action.help)
    standardize = next(a for a in sub._actions if a.dest == "standardize")
    assert standardize.metavar == "{auto,true,false}"


def test_sweep_help_shows_one_value_settings_with_one_placeholder(run_cli, tmp_path):
    """`--log_path DIR [DIR ...]` read as if a sweep could write to several folders."""
    proc = run_cli("sweep", "--help")
    assert proc.returncode == 0
    for shown in ("--log_path DIR ", "--exp_name NAME ", "--model_name NAME ", "--save_every N "):
        assert shown in proc.stdout
    assert "--lr LR [LR ...]" in proc.stdout and "DIR [DIR" not in proc.stdout
    # They still take a second value, to refuse it with the sweep's reason.
    refused = run_cli("sweep", "--data", "xor", "--log_path", tmp_path / "a", tmp_path / "b")
    assert refused.returncode == 2 and "a sweep writes to one folder" in refused.stderr
    assert not (tmp_path / "a").exists()


def test_print_config_is_valid_config(run_cli, tmp_path):
    proc = run_cli("train", "--config", EXAMPLES / "xor_nn.yaml", "--lr", "0.5", "--print_config")
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)
    assert resolved["lr"] == 0.5 and resolved["hid_dim"] == 2 and resolved["act"] == "sigmoid"
    again = tmp_path / "again.yaml"
    again.write_text(proc.stdout)
    proc2 = run_cli("train", "--config", again, "--print_config")
    assert yaml.safe_load(proc2.stdout) == resolved


def test_names_in_any_script_are_written_as_they_are(run_cli, tmp_path):
    """--print_config, a run's config.yaml and a sweep's spec wrote a Greek target as
    "\\u03C4\\u03B9\\u03BC\\u03AE", which a student could neither read nor edit. An output
    that cannot show the characters still gets escapes, which load again."""
    rows = "".join(f"{i % 5},{i % 3},{(i % 5) * 0.5}\n" for i in range(30))
    (tmp_path / "données.csv").write_text("größe,b,τιμή\n" + rows)
    args = ["--data", "données.csv", "--target", "τιμή", "--epoch", "2", "--plots", "none"]
    shown = run_cli("train", *args, "--print_config", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "- τιμή\n" in shown.stdout and "données.csv" in shown.stdout
    assert run_cli("train", *args, "-q", "--log_path", "runs", cwd=tmp_path).returncode == 0
    (saved,) = tmp_path.glob("runs/*/*/config.yaml")
    text = saved.read_text(encoding="utf-8")
    assert "- τιμή\n" in text and "\\u" not in text
    assert yaml.safe_load(text)["target"] == ["τιμή"]
    swept = run_cli("sweep", *args, "--lr", "0.1", "0.2", "-q", "--no_report", "--log_path",
                    "runs", cwd=tmp_path)  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    (spec,) = tmp_path.glob("runs/*/sweep-*.yaml")
    assert "- τιμή\n" in spec.read_text(encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    ascii_out = subprocess.run(
        [sys.executable, "-m", "mlplab", "train", *args, "--print_config"],
        capture_output=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert ascii_out.returncode == 0 and ascii_out.stdout.isascii(), ascii_out.stderr
    assert yaml.safe_load(ascii_out.stdout.decode())["target"] == ["τιμή"]


def test_the_results_table_is_drawn_in_ascii_on_an_ascii_stdout(tmp_path: Path) -> None:
    """On an ASCII stdout each of the table's line-drawing characters printed as '?': a
    grid of question marks around the numbers (the report's table was drawn in ASCII)."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    out = subprocess.run(
        [sys.executable, "-m", "mlplab", "train", "--data", "moons", "--epoch", "3",
         "--plots", "none", "--log_every", "0", "--log_path", "runs"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    table = [ln for ln in out.stdout.splitlines() if ln[:1] in "+|?"]
    assert len(table) == 7, out.stdout  # top, header, rule, 3 splits, bottom
    assert table[0].startswith("+--") and table[1].startswith("| split |"), table
    assert not any("?" in ln for ln in table), table


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--lr", "0"], ["'lr'"]),
        (["--lr", "abc"], ["'lr'"]),
        (["--dp_rate", "1.5"], ["'dp_rate'"]),
        (["--act", "sigmoidd"], ["'act'", "relu"]),
        # scikit-learn's solver, which mlplab has not: adding an optimizer breaks nothing here.
        (["--optim", "lbfgs"], ["'optim'", "adamw"]),
        (["--hid_dimm", "3"], ["--hid_dimm", "did you mean --hid_dim"]),
        (["--learnin_rate", "0.1"], ["--learnin_rate'", "did you mean --lr?"]),
        (["--weight_decay", "0.1"], ["--weight_decay", "did you mean --l2_coef"]),
        # The TensorFlow Playground's names got no hint.
        (["--regularization", "L2"], ["--regularization'", "--l1_coef for L1, --l2_coef for L2"]),
        (["--regularization_rate", "0.1"], ["--regularization_rate", "--l1_coef for L1"]),
        (["--percTrainData", "50"], ["--percTrainData'", "did you mean --split?"]),
        # A prefix set the setting without a word, where Python and YAML refuse it.
        (["--l1", "0.01"], ["--l1'", "did you mean --l1_coef?"]),
        (["--noi", "0.2"], ["--noi'", "did you mean --noise?"]),
        (["--ep", "5"], ["--ep'", "did you mean --epoch?"]),  # was --help
        # The Playground's names, camelCase
        (["--learningRate", "0.1"], ["--learningRate'", "did you mean --lr?"]),
        (["--networkShape", "4,2"], ["--networkShape'", "did you mean --hid_dims?"]),
        (["--dataset", "xor"], ["--dataset'", "did you mean --data?"]),
        (["--data", "nope.csv"], ["nope.csv", "does not exist"]),
        (["--data", "mnist"], ["'data'", "xor", "digits is the 8x8 handwritten digits"]),
        (["--data", "XOR"], ["'data'", "built-in names are lower case: xor"]),
        (["--config", "missing.yaml"], ["missing.yaml"]),
        # Several values of a setting: argparse takes the second for FILE.yaml, the third
        # as unknown; both lines say that train takes one value and name the sweep.
        (["--lr", "1", "2"], ["'2' is not a config file", "takes one value", "mlplab sweep"]),
        (["--lr", "1", "2", "3"], ["unrecognized arguments: 3", "takes one value"]),
        # Batch norm has no variance over one row: refused up front on both engines.
        (["--use_bn", "--batch_size", "1"], ["'use_bn'", "'batch_size'", "2 or more"]),
        (["--use_bn", "--batch_size", "1", "--engine", "torch"], ["'use_bn'", "'batch_size'"]),
        (
            # A regression: a classifier's split of 1 row holds one class, refused first.
            ["--use_bn", "--data", "sine", "--n_samples", "10", "--split", "1", "1", "8"],
            ["'use_bn'", "'split'", "1 row"],
        ),
        # A fraction of a row: floored, it would leave rows out without a word.
        (["--data", "iris", "--split", "30.5", "10", "10"], ["'split'", "30.5", "whole number"]),
        # Counts past the rows, as typed: it showed [1000.0, 20.0, 20.0].
        (["--data", "moons", "--split", "1000", "20", "20"], ["'split': 1000 20 20 asks for 1040"]),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(run_cli, tmp_path, args, needles):
    proc = run_cli("train", "--log_path", tmp_path / "runs", "--epoch", "2", *args)
    assert_one_line_error(proc, *needles)
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("result.json"))


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_config_given_as_a_positional_dash_is_asked_for_as_a_file(run_cli, tmp_path, command):
    """`cat cfg.yaml | mlplab train -` was told "'-' is not a config file; a setting of
    `mlplab train` takes one value", as if a second value of a flag were typed."""
    proc = run_cli(command, "-", "--log_path", tmp_path)
    assert_one_line_error(proc, "'-'", "not standard input: save it to one first")


def test_a_misspelt_required_flag_is_named_not_the_missing_one(run_cli, tmp_path):
    """`mlplab predict RUN --dat new.csv` said "the following arguments are required:
    --data", silent on the --dat typed; the misspelt flag is the fault."""
    proc = run_cli("predict", tmp_path, "--dat", "new.csv")
    assert_one_line_error(proc, "unknown setting '--dat'", "did you mean --data?")
    proc = run_cli("predict", tmp_path, "--datt=new.csv")
    assert_one_line_error(proc, "unknown setting '--datt'", "did you mean --data?")
    # With no flag misspelt, the missing one is still named; `--` is no flag.
    proc = run_cli("predict", tmp_path, "--")
    assert_one_line_error(proc, "the following arguments are required: --data")


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_flag_in_another_case_names_the_setting_it_means(run_cli, tmp_path, command):
    """`--LR 0.1` said only "unknown setting '--LR'", though README promises the nearest."""
    proc = run_cli(command, "--data", "xor", "--LR", "0.1", "--log_path", tmp_path / "runs")
    assert_one_line_error(proc, "unknown setting '--LR' (did you mean --lr?)")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("argv", "flag", "hint"),
    [
        (["train", "--data", "xor", "--no_batch"], "--no_batch", "(a setting of mlplab sweep)"),
        (["train", "--data", "xor", "--workers", "2"], "--workers", "(a setting of mlplab sweep)"),
        (["report", "runs", "--lr", "1"], "--lr",
         "(a setting of mlplab train, sweep, gradcheck and backprop)"),
    ],
)  # fmt: skip
def test_a_setting_of_another_command_is_named_so(run_cli, tmp_path, argv, flag, hint):
    """`mlplab train --no_batch` was asked 'did you mean --log_path?'."""
    proc = run_cli(*argv, "--log_path" if argv[0] != "report" else "--out", tmp_path / "r")
    line = assert_one_line_error(proc, f"unknown setting '{flag}' {hint}")
    assert "did you mean" not in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("flag", "meant"),
    [("--learning-rate", "--lr"), ("--learning-rate=0.1", "--lr"), ("--hidden-size", "--hid_dim"),
     ("--weight-decay", "--l2_coef"), ("--batch-norm", "--use_bn"), ("--num-epochs", "--epoch")],
)  # fmt: skip
def test_a_dashed_flag_names_the_setting_it_means(run_cli, tmp_path, flag, meant):
    """`--learning-rate 0.1` got no "did you mean" while `--learning_rate` did: argparse
    users write flags with dashes."""
    value = [] if "=" in flag else ["0.1"]
    proc = run_cli("train", "--data", "xor", flag, *value, "--log_path", tmp_path / "runs")
    name = flag.split("=")[0]
    assert_one_line_error(proc, f"unknown setting '{name}' (did you mean {meant}?)")
    assert not (tmp_path / "runs").exists()


def test_bad_csv_files(run_cli, tmp_path):
    cases = {
        "empty.csv": ("", []),
        "malformed.csv": ('a,b,y\n1,2,0\n"3,4\n', []),
        "nan.csv": ("a,b,y\n1,,0\n2,3,1\n4,5,0\n6,7,1\n", ["NaN", "'b'"]),
        "target.csv": ("a,b,y\n1,2,0\n2,3,1\n4,5,0\n", ["'label'", "does not exist"]),
    }
    for name, (content, needles) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        extra = ["--target", "label"] if name == "target.csv" else []
        proc = run_cli(
            "train", "--data", path, "--log_path", tmp_path / "runs", "--epoch", "2", *extra
        )
        assert_one_line_error(proc, name, *needles)
    assert not list((tmp_path / "runs").rglob("result.json"))


def test_python_m_mlplab_trains_and_records(run_cli, tmp_path):
    proc = run_cli(
        "train",
        "--data",
        "and",
        "--model",
        "linear",
        "--lr",
        "1",
        "--epoch",
        "300",
        "--log_every",
        "100",
        "--log_path",
        tmp_path,
        "--exp_name",
        "gate",
        "--plots",
        "none",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("0 ")  # the labs' `step cost` lines
    assert "Hypothesis:" in proc.stdout and "Accuracy: 1.0" in proc.stdout
    (run,) = [p for p in (tmp_path / "gate").iterdir() if p.is_dir()]  # not the runs' lock
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "finished" and result["test_acc"] == 1.0


def test_public_functions_are_not_shadowed_by_subpackages():
    """mlplab.train/sweep/report stay functions after their modules are imported."""
    code = (
        "import mlplab, mlplab.runner, mlplab.sweeps.api, mlplab.reports.api\n"
        "assert callable(mlplab.train) and callable(mlplab.sweep) and callable(mlplab.report)\n"
        "assert mlplab.train is mlplab.runner.train\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("ci", [False, True])
def test_progress_bar_on_a_terminal_only(tmp_path, ci):
    """A real pseudo-terminal gets the progress bar; CI and pipes get plain lines."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    env["TERM"] = "xterm"
    text = _on_a_terminal(
        ["train", "--data", "sinlog", "--hid_dim", "20", "--epoch", "2000", "--log_every", "500",
         "--plots", "none", "--log_path", str(tmp_path)],
        env, cols=80,
    )  # fmt: skip
    assert "500 " in text and "finished in" in text  # the step lines and the table either way
    assert ("/2000" in text) is (not ci)
    # The bar's rate, to compare settings by: steps a second.
    assert bool(re.search(r"\d[\d,]* steps/s", text)) is (not ci)


def test_the_config_file_may_be_given_without_its_flag(run_cli):
    proc = run_cli("train", EXAMPLES / "xor_nn.yaml", "--lr", "0.5", "--print_config")
    assert proc.returncode == 0, proc.stderr
    printed = yaml.safe_load(proc.stdout)
    assert printed["exp_name"] == "xor-nn" and printed["lr"] == 0.5
    both = run_cli("train", EXAMPLES / "xor_nn.yaml", "--config", EXAMPLES / "sinlog_mlp.yaml")
    assert_one_line_error(both, "two config files")
    # A flag's second value beside --config is no second config file: `--hid_dims 256 128`
    # was "two config files: '128' and --config ...".
    widths = run_cli("train", "--config", EXAMPLES / "xor_nn.yaml", "--hid_dims", "256", "128")
    assert_one_line_error(
        widths, "'128' is not a config file: hid_dims' widths are joined by '-': --hid_dims 256-128"
    )
    rates = run_cli("train", "--config", EXAMPLES / "xor_nn.yaml", "--lr", "0.1", "0.2")
    assert_one_line_error(rates, "'0.2' is not a config file; a setting of `mlplab train` takes")


def test_early_stopping_is_said_in_the_closing_table(run_cli, tmp_path):
    args = ["--data", "moons", "--epoch", "300", "--patience", "5", "--optim", "adam"]
    proc = run_cli("train", *args, "--lr", "0.05", "--plots", "none", "--log_path", tmp_path)
    assert proc.returncode == 0, proc.stderr
    (path,) = tmp_path.rglob("result.json")
    r = json.loads(path.read_text())
    assert r["stopped_early"] and r["epochs_run"] < 300
    line = f"stopped early at epoch {r['epochs_run']} (patience 5; best epoch {r['best_epoch']})"
    assert line in proc.stdout


def test_ctrl_c_while_the_parser_is_built_is_one_line(monkeypatch, capsys):
    """Ctrl-C in the first ~0.2 s (the parser imports pydantic and the config) was a
    traceback; now it is the same line and status as a Ctrl-C later on."""
    from mlplab import cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    try:
        rc = cli.main(["train", "--data", "xor"])
    except KeyboardInterrupt:  # escaping here would stop pytest itself, not fail the test
        pytest.fail("Ctrl-C while the parser was built escaped mlplab.cli.main")
    assert rc == 130
    assert capsys.readouterr().err == "mlplab: interrupted\n"


def test_resume_names_the_settings_it_refuses_and_a_file_given_as_run(run_cli, tmp_path):
    proc = run_cli("train", "--resume", tmp_path, "--plots", "none", "--log_every", "0")
    assert_one_line_error(proc, "give no other settings (got --plots, --log_every)")
    (tmp_path / "tab.csv").write_text("a,y\n1,0\n")
    proc = run_cli("train", "--resume", tmp_path / "tab.csv")
    assert_one_line_error(proc, "tab.csv", "is not a run directory (it is a file)")


def test_a_batch_size_over_the_training_rows_is_noted(run_cli, tmp_path):
    proc = run_cli(
        "train", "--data", "moons", "--batch_size", "100000", "--epoch", "1", "--plots", "none",
        "--log_path", tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "batch_size 100000 is more than the 800 training rows" in proc.stdout


def test_train_prints_the_datas_notes_and_a_target_scale_note(tmp_path, capsys):
    """What the loader noted reaches the user, and a regression on prices in the millions
    that diverges says that the target's scale is why."""
    import numpy as np
    import pandas as pd

    from mlplab.cli import main

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60)})
    df["price"] = 1e6 + 2e5 * df.x
    df.rename_axis("id").to_csv(tmp_path / "prices.csv")
    argv = ["train", "--data", str(tmp_path / "prices.csv"), "--epoch", "5", "--plots", "none"]
    rc = main([*argv, "--log_every", "0", "--log_path", str(tmp_path / "runs")])
    err = "".join(capsys.readouterr())
    # Said before the run trained, the cause is not said again in other words after it.
    assert rc == 1 and "the run diverged; the note above says why" in err
    assert "Try a lower lr" not in err  # a lower lr diverged again, or fit below the mean
    assert "mlplab: note: feature column 'id' counts the rows (0, 1, 2, ...)" in err
    assert len(re.findall(r"mlplab: note: the target reaches 1\.\d+e\+06; an MLP learns", err)) == 1
    assert err.index("the target reaches") < err.index("the run diverged")
    assert "--standardize_target true trains on it scaled" in err
    # The cure: the same run with the target standardized finishes, with its MAE in the
    # target's units (prices of 1e6 +- 2e5), and no such note.
    rc = main([*argv, "--standardize_target", "true", "--optim", "adam", "--lr", "0.01",
               "--log_every", "0", "--log_path", str(tmp_path / "runs")])  # fmt: skip
    out = "".join(capsys.readouterr())
    assert rc == 0 and "target reaches" not in out
    test_mae = float(re.search(r"│ test\s+│\s+[\d.]+\s+│\s+([\d.e+]+)", out)[1])
    assert 1e3 < test_mae < 1e6  # dollars, not the scaled target's units (about 1)
    df["price"] = 1.0 + 0.2 * df.x  # the same rows in units of a million: no scale note
    df.to_csv(tmp_path / "prices.csv", index=False)
    assert main([*argv, "--log_every", "0", "--log_path", str(tmp_path / "runs")]) == 0
    assert "note" not in "".join(capsys.readouterr())
    # Targets in the hundreds (diabetes, 25 to 346) diverge at the default lr too.
    assert main(["train", "--data", "diabetes", "--plots", "none", "--log_every", "0",
                 "--log_path", str(tmp_path / "runs")]) == 1  # fmt: skip
    err = "".join(capsys.readouterr())
    assert "the target reaches 346; an MLP learns" in err and "--standardize_target true" in err
    main(["datasets"])
    lines = capsys.readouterr().out.splitlines()
    (at,) = [i for i, ln in enumerate(lines) if "│ diabetes " in ln]
    cell = " ".join(ln.split("│")[-2].strip() for ln in lines[at : at + 3])  # wrapped
    assert "use --standardize_target true, --lr 0.001, or --optim adam --lr 0.1" in cell
    for advice in (["--standardize_target", "true"], ["--lr", "0.001"],
                   ["--optim", "adam", "--lr", "0.1"]):  # fmt: skip
        assert main(["train", "--data", "diabetes", *advice, "--plots", "none", "--log_every",
                     "0", "--log_path", str(tmp_path / "runs")]) == 0  # fmt: skip
        out = capsys.readouterr().out
        assert float(re.search(r"│ test\s+│(?:[^│]+│){4}\s+(-?[\d.]+)", out)[1]) > 0.15


def test_a_model_that_learnt_nothing_says_which_units_stopped_it(tmp_path):
    """The note said "or its ReLUs died" of a model whose fourth layer was dead in all 16
    units, and nothing of a deep sigmoid stack's vanishing gradient."""
    import torch

    import mlplab

    kw = dict(data="moons", n_layer=4, hid_dim=16, optim="sgd", batch_size=32, epoch=30,
              plots="none", log_path=str(tmp_path), verbose=False)  # fmt: skip
    dead = mlplab.train(act="relu", lr=5.0, **kw)
    # Counted apart from mlplab's engines: the torch module's ReLU outputs on every
    # training row.
    module = dead.to_torch()
    outs: list[torch.Tensor] = []
    for layer in module.modules():
        if isinstance(layer, torch.nn.ReLU):
            layer.register_forward_hook(lambda m, i, o: outs.append(o))
    x = torch.as_tensor(dead.dataset.X_train, dtype=torch.float32)
    with torch.no_grad():
        module(x)
    counts = [int((o <= 0).all(dim=0).sum()) for o in outs]
    assert len(counts) == 4 and counts[-1] == 16, counts
    (note,) = [n for n in dead.notes if n.startswith("dead ReLUs")]
    listed = ", ".join(f"{c} of 16" for c in counts)
    assert note == (
        f"dead ReLUs: units that output 0 on every training row, by hidden layer: {listed} "
        "(no gradient passes hidden layer 4, whose every unit is dead); a lower lr, or "
        "act='leaky_relu', keeps them alive"  # Python's words, in a Python call's notes
    )
    assert any("learnt nothing" in n for n in dead.notes)
    # A run that learnt keeps no such note, dead units or not.
    assert not any(n.startswith("dead ReLUs") for n in mlplab.train(act="relu", lr=0.1, **kw).notes)

    deep = mlplab.train(act="sigmoid", lr=0.1, **{**kw, "n_layer": 8, "data": "spiral"})
    assert any("learnt nothing" in n for n in deep.notes)
    assert "sigmoid's slope is at most 0.25: through 8 hidden layers" in " ".join(deep.notes)
    # A skip connection carries the gradient past the layers: no such claim of them.
    skipped = mlplab.train(act="sigmoid", lr=0.1, sc_type="residual", **{**kw, "n_layer": 8})
    assert not any("sigmoid's slope" in n for n in skipped.notes)
    # A loss that fell at every step, no unit dead: the lr was too low, not too high (it
    # was told to try a tenth of 1e-5).
    slow = mlplab.train(act="relu", lr=1e-5, **{**kw, "data": "sine", "n_layer": 1,
                                                "optim": "adam", "batch_size": 0})  # fmt: skip
    (note,) = [n for n in slow.notes if n.startswith("the training R²")]
    assert note.endswith("its training loss never rose and no unit died, so its steps were "
                         "too small or too few, not too big: try a higher lr, e.g. "
                         "lr=0.0001, or more epochs")  # fmt: skip


def test_optimizer_settings_that_train_otherwise_than_named_get_a_note(tmp_path) -> None:
    """lr_schedule exponential with the default lr_gamma (0.1, the step schedule's) took
    the lr to 1e-7 by epoch 5, and adamw without l2_coef trained as adam: both silently."""
    import mlplab

    kw = dict(data="moons", n_samples=100, plots="none", record=False, verbose=False)
    fast = mlplab.train(lr_schedule="exponential", epoch=20, **kw)
    assert (
        "lr_schedule='exponential' multiplies the lr by lr_gamma 0.1 every epoch: by epoch 4 "
        "of 20 it is a thousandth of its start or less"
    ) in " ".join(fast.notes)
    lrs = fast.record["lrs"]
    assert lrs[3] == pytest.approx(lrs[0] / 1000) and lrs[2] > lrs[0] / 1000  # as it says
    slow = mlplab.train(lr_schedule="exponential", lr_gamma=0.95, epoch=20, **kw)
    assert not any("lr_schedule" in n for n in slow.notes)
    adamw = mlplab.train(optim="adamw", lr=0.01, epoch=3, **kw)
    assert "optim='adamw' with l2_coef 0 trains as adam" in " ".join(adamw.notes)
    import numpy as np

    adam = mlplab.train(optim="adam", lr=0.01, epoch=3, **kw)
    assert np.array_equal(adamw.weights["out.weight"], adam.weights["out.weight"])
    decayed = mlplab.train(optim="adamw", lr=0.01, l2_coef=0.01, epoch=3, **kw)
    assert not any("adamw" in n for n in decayed.notes)
    # A kept run says them again, as its other notes.
    recorded = {**kw, "record": True, "log_path": str(tmp_path)}
    first = mlplab.train(optim="adamw", lr=0.01, epoch=3, **recorded)
    kept = mlplab.train(optim="adamw", lr=0.01, epoch=3, **recorded)
    assert (
        kept.kept
        and [n for n in kept.notes if "adamw" in n]
        == [n for n in first.notes if "adamw" in n]
        != []
    )


def test_an_under_trained_or_chance_level_classifier_gets_a_note(tmp_path, capsys):
    """A table's first run (the default 100 full-batch steps) stopped with the validation
    loss still falling, and a 2%-positive table scored 0.98 by answering 'no': neither
    said so."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    from mlplab.cli import main

    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    base = ["train", "--plots", "none", "--log_every", "0", "--log_path", str(tmp_path / "runs")]
    assert main([*base, "--data", str(tmp_path / "cancer.csv")]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("mlplab: note")]
    assert len(notes) == 1, notes
    assert re.fullmatch(
        r"mlplab: note: the validation loss was still falling when the default 100 epochs ran "
        r"out \(0\.\d+ at epoch 50, 0\.\d+ at epoch (9\d|100)\); the model may be under-trained: raise "
        r"--epoch, or take more steps per epoch with --batch_size 32, or try --optim adam "
        r"--lr 0\.001",
        notes[0],
    )
    low, high = map(float, re.findall(r"\((0\.\d+) at epoch 50, (0\.\d+) at epoch", notes[0])[0])
    assert high < 0.98 * low
    # The suggestion works, and an epoch count the user chose is theirs: no such note. (Its
    # 100 epochs of adam then go past the best validation loss: that is noted instead.)
    more = [*base, "--data", str(tmp_path / "cancer.csv"), "--batch_size", "32", "--optim", "adam"]
    assert main([*more, "--lr", "0.001", "--epoch", "100"]) == 0
    out = capsys.readouterr().out
    notes = [ln for ln in out.splitlines() if ln.startswith("mlplab: note")]
    assert "under-trained" not in out and len(notes) <= 1
    assert all("the model overfits after that" in n for n in notes)
    assert float(re.search(r"│ test\s+│\s+[\d.]+\s+│\s+([\d.]+)", out)[1]) > 0.95

    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(1000, 3)), columns=["a", "b", "c"])
    noise["y"] = np.where(rng.random(1000) < 0.03, "yes", "no")
    noise.to_csv(tmp_path / "rare.csv", index=False)
    assert main([*base, "--data", str(tmp_path / "rare.csv"), "--epoch", "20"]) == 0
    out = capsys.readouterr().out
    share = (noise["y"] == "no").to_numpy()
    assert re.search(
        r"mlplab: note: test accuracy (0\.\d+) is no better than always answering 'no', the "
        r"most common class in training \(\1 of the test rows\); the model has learnt nothing",
        out,
    ), out
    assert 0.9 < share.mean() < 1
    # Weighed classes give up accuracy for the rare class: the line says so and gives the
    # balanced accuracy (it opened "no better than always answering 'no'" beside 0.97).
    rare = [*base, "--data", str(tmp_path / "rare.csv"), "--epoch", "20"]
    assert main([*rare, "--class_weight", "balanced", "--optim", "adam"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    (record,) = [
        json.loads(p.read_text())
        for p in (tmp_path / "runs").glob("exp/*/result.json")
        if json.loads(p.read_text())["class_weight"] == "balanced"
    ]
    assert record["test_acc"] < 0.9  # noise features: the weights cost accuracy
    assert (
        f"mlplab: note: test accuracy {record['test_acc']:.4g} is below the share of 'no', "
        "the most common class in training, in the test rows" in out
    ), out
    assert (
        f"balanced accuracy {record['test_bacc']:.4g} (always answering 'no' scores 0.5) "
        "and the confusion matrix show each class's hits" in out
    ), out
    # The labs' gates (4 rows, train = val = test) say nothing: 0.5 on xor is the lesson.
    assert main([*base, "--config", str(EXAMPLES / "xor_perceptron.yaml")]) == 0
    assert "note" not in capsys.readouterr().out


def test_the_closing_table_shows_balanced_accuracy_and_f1_where_classes_are_imbalanced(
    tmp_path, capsys
):
    """On 95:5 classes always answering the common one is 0.95 accurate: the table adds
    the record's balanced accuracy (0.5) and F1 of the positive class (0), named by its
    label ('yes', class 1). Balanced classes and the labs' 4-row gates (the and gate is
    3:1) keep the lab's table."""
    import numpy as np
    import pandas as pd

    from mlplab.cli import main

    rng = np.random.default_rng(1)
    rare = pd.DataFrame(rng.normal(size=(600, 2)), columns=["a", "b"])
    rare["y"] = np.where(np.arange(600) % 20 == 0, "yes", "no")
    rare.to_csv(tmp_path / "rare.csv", index=False)
    base = ["train", "--log_path", str(tmp_path / "runs"), "--plots", "none", "--log_every", "0"]
    assert main([*base, "--data", str(tmp_path / "rare.csv"), "--epoch", "20"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"┃ split +┃ +loss ┃ +acc ┃ +bacc ┃ +f1 \(yes\) ┃\n", out), out
    (record,) = (tmp_path / "runs").glob("exp/*/result.json")
    r = json.loads(record.read_text())
    row = re.search(r"│ test +│ +([\d.]+) │ +([\d.]+) │ +([\d.]+) │ +([\d.]+) │", out)
    assert [float(v) for v in row.groups()[1:]] == [
        round(r[k], 4) for k in ("test_acc", "test_bacc", "test_f1")
    ]
    assert r["test_acc"] > 0.9 and r["test_bacc"] == 0.5 and r["test_f1"] == 0.0
    # Of several classes, the F1 is the macro mean, which its column says (a scikit-learn
    # user's first question: macro or weighted?); the record keeps its key test_f1.
    rare["y"] = np.where(np.arange(600) % 20 == 0, "yes", np.where(rare.a > 0, "no", "maybe"))
    rare.to_csv(tmp_path / "rare3.csv", index=False)
    assert main([*base, "--data", str(tmp_path / "rare3.csv"), "--epoch", "5"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"┃ split +┃ +loss ┃ +acc ┃ +bacc ┃ +f1 \(macro\) ┃\n", out), out
    for more in (
        ["--data", "iris", "--epoch", "5"],
        ["--config", str(EXAMPLES / "and_perceptron.yaml")],
    ):
        assert main([*base, *more]) == 0
        out = capsys.readouterr().out
        assert re.search(r"┃ split +┃ +loss ┃ +acc ┃\n", out), out


def test_a_second_value_of_a_one_value_flag_is_named_as_such(tmp_path):
    """`--workers 2 3` left '3' as the config file: 'config file '3' does not exist'."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "sweep", "--data", "xor", "--workers", "2", "3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert_one_line_error(
        proc, "config file '3' does not exist (a second value of a flag that takes one?)"
    )
    assert not list(tmp_path.iterdir())


def test_the_opening_line_says_every_step_not_every_1_steps(tmp_path, capsys):
    from mlplab.cli import main

    argv = ["train", "--data", "xor", "--epoch", "2", "--plots", "none", "--log_every", "1"]
    assert main([*argv, "--log_path", str(tmp_path)]) == 0
    assert ", printing step and batch loss every step -> " in "".join(capsys.readouterr())


def test_log_val_adds_the_latest_validation_to_each_printed_line(tmp_path, capsys):
    """The classification lab prints its accuracy every 200 epochs (53% at 200); the
    `step loss` lines said nothing of it."""
    import mlplab
    from mlplab.cli import main
    from mlplab.config import run_hash

    argv = ["train", "--data", "ring", "--epoch", "3", "--plots", "none", "--log_every", "1"]
    assert main([*argv, "--log_val", "true", "--log_path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if re.match(r"\d+ ", line)]
    assert len(lines[0].split()) == 2  # step 0 comes before the first validation
    record = json.loads(next(tmp_path.rglob("result.json")).read_text())
    for step, line in enumerate(lines[1:], start=1):
        parts = line.split()
        assert parts[0] == str(step) and parts[2::2] == ["val_loss", "val_acc"]
        assert float(parts[3]) == pytest.approx(record["val_losses"][step - 1], rel=1e-3)
        assert float(parts[5]) == pytest.approx(record["val_accs"][step - 1], rel=1e-3)
        # Four digits each, trailing zeros kept: lines of 1.35 beside 1.428 were ragged.
        assert all(len(parts[i].replace(".", "").lstrip("0")) == 4 for i in (3, 5)), line
    assert "printing step and batch loss with the latest validation every step" in out
    same = {"data": "ring", "epoch": 3}
    assert run_hash(mlplab.Config(**same, log_val=True)) == run_hash(mlplab.Config(**same))


def test_a_regression_with_one_test_row_ends_without_a_traceback(tmp_path, capsys):
    """The split that the tiny-file message suggests (--split 3 1 1) leaves one test row,
    whose R² is null: the target-scale note compared it with 0 and crashed."""
    from mlplab.cli import main

    rows = "".join(f"{i},{i % 3},{2 * i + i % 3}\n" for i in range(5))
    (tmp_path / "tiny.csv").write_text("a,b,y\n" + rows)
    argv = ["train", "--data", str(tmp_path / "tiny.csv"), "--split", "3", "1", "1"]
    assert main([*argv, "--epoch", "2", "--plots", "none", "--log_path", str(tmp_path)]) == 0
    assert "Traceback" not in "".join(capsys.readouterr())


def test_q_is_short_for_quiet(run_cli, tmp_path):
    """`mlplab train -q` was 'unrecognized arguments: -q', as most command lines take it."""
    proc = run_cli(
        "train", "--data", "xor", "--epoch", "2", "--plots", "none", "--log_path", tmp_path, "-q"
    )
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert len(list(tmp_path.glob("exp/*/result.json"))) == 1
    proc = run_cli("sweep", "--data", "xor", "--epoch", "2", "--hid_dim", "2", "4", "--plots", "none",
                   "--log_path", tmp_path / "s", "-q")  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip().startswith("2 runs: 2 trained")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["sweep", "--data", "xor", "--lr", "0.1", "--lr=0.5", "--epoch", "2"],
            "sweep: --lr given twice; give its values once (--lr 0.1 0.5 makes a sweep axis)",
        ),
        (["train", "--data", "xor", "--lr", "1e-3", "--lr", "0.5"], "train: --lr given twice;"),
        (
            ["train", "--config", EXAMPLES / "xor_nn.yaml", "--config", EXAMPLES / "xor_nn.yaml"],
            "--config given twice; give one config file",
        ),
        (["sweep", "--data", "xor", "--workers", "1", "--workers", "2"], "--workers given twice"),
        # Not the axis form, which a sweep refuses for it.
        (
            ["sweep", "--data", "xor", "--exp_name", "a", "--exp_name", "b"],
            "sweep: --exp_name given twice; a sweep takes one value of it",
        ),
        (["gradcheck", "--seed", "1", "--seed", "2"], "gradcheck: --seed given twice"),
        # A prefix is no flag (it set log_every once, then again).
        (
            ["train", "--data", "xor", "--log_e", "3", "--log_every", "5"],
            "did you mean --log_every",
        ),
    ],
)
def test_a_flag_given_twice_is_refused_not_the_last_kept(run_cli, tmp_path, args, needle):
    """argparse keeps the last value: a sweep's axis value, or a whole config file, was
    dropped without a word."""
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, needle)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_setting_with_one_dash_is_named_as_such(run_cli, tmp_path, command):
    """`-lr 0.1` was told that a setting takes one value (several make a sweep)."""
    proc = run_cli(command, "--data", "xor", "-lr", "0.1", cwd=tmp_path)
    assert_one_line_error(proc, "unknown flag '-lr': settings take two dashes (--lr)")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (  # a slide's en dash: taken for the config file, and the next word named
            ["train", "--data", "xor", "\u2013lr", "0.5"],
            "train: '\u2013lr' begins with an en dash (\u2013), as slides and PDFs print a "
            "flag's two hyphens: type --lr",
        ),
        (
            ["sweep", "--data", "xor", "--lr", "0.1", "0.5", "\u2014seed", "0", "1"],
            "sweep: '\u2014seed' begins with an em dash (\u2014), as slides and PDFs print a "
            "flag's two hyphens: type --seed",
        ),
        (
            ["train", "\u2013-config", "examples/xor_nn.yaml"],
            "'\u2013-config' begins with an en dash (\u2013)",
        ),
        (  # Python's or Hydra's way, after a file and after flags
            ["train", str(EXAMPLES / "xor_nn.yaml"), "lr=0.5"],
            "train: 'lr=0.5': a setting is a flag and its value: --lr 0.5",
        ),
        (
            ["train", "--data", "xor", "lr=0.5"],
            "'lr=0.5': a setting is a flag and its value: --lr 0.5",
        ),
        (
            ["train", "--data", "xor", "epochs=3"],
            "'epochs=3': settings are flags and their values (--name value), and 'epochs' is "
            "no setting (did you mean --epoch?); see `mlplab train --help`",
        ),
        (  # the quotes a slide printed around the positional file
            ["train", f"\u201c{EXAMPLES / 'xor_nn.yaml'}\u201d"],
            f"(the quotes are part of the name: give {EXAMPLES / 'xor_nn.yaml'})",
        ),
        (["train", "k=w.yaml"], "config file 'k=w.yaml' does not exist"),  # a file's name
        (  # a short flag guessed from other tools
            ["train", "-c", str(EXAMPLES / "xor_nn.yaml")],
            "train: unknown flag '-c': mlplab's flags are words after two dashes "
            "(--class_weight, --config); see `mlplab train --help`",
        ),
    ],
)
def test_a_flag_pasted_or_written_as_another_tool_writes_it_is_named(
    run_cli, tmp_path, args, needle
):
    """A dash pasted from a slide, `lr=0.5` and `-c` were told that a setting takes one
    value (several make a sweep), naming the word after the mistake, or none."""
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, needle)
    assert "sweep: `mlplab sweep`" not in proc.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--data", "xor", "--split", "1600,400,400"],
         "setting 'split': '1600,400,400' is not a number; separate the values by spaces: "
         "--split 1600 400 400"),
        (["train", "--data", "xor", "--lr", "0,5"],
         "setting 'lr': '0,5' is not a number; write it with a decimal point: 0.5"),
        (["train", "--data", "xor", "--seed", "1,2"],
         "setting 'seed': '1,2' is not a whole number; several values, separated by spaces, "
         "make a sweep: mlplab sweep --seed 1 2"),
        (["train", "--data", "xor", "--device", "cuda if torch.cuda.is_available() else cpu"],
         "setting 'device': must be one of auto, cpu, cuda, cuda:N (auto: cuda where torch "
         "finds one, else cpu) (got 'cuda if torch.cuda.is_available() else cpu')"),
        (["trian", "--data", "xor"], "invalid choice: 'trian' (choose from 'train', "),
        (["trian", "--data", "xor"], "; did you mean 'train'?"),
    ],
)  # fmt: skip
def test_a_beginners_value_or_command_is_told_how_to_write_it(run_cli, tmp_path, args, needle):
    """Commas between values (or as a decimal mark), the lecture's device line pasted as
    text, and a command's typo: "is not a number", pydantic's "at most 32 characters",
    and argparse's list of commands, with no way to write them."""
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, needle)
    assert not list(tmp_path.iterdir())


def test_a_value_that_begins_with_a_dash_of_a_slide_is_a_value(run_cli):
    """`--model_name –draft` was told to type --draft, no flag of mlplab's."""
    proc = run_cli("train", "--data", "xor", "--model_name", "\u2013draft", "--print_config")
    assert proc.returncode == 0, proc.stderr
    assert "model_name: \u2013draft" in proc.stdout


def test_plot_and_resume_name_the_run_folder_meant(run_cli, tmp_path):
    """A folder inside a run (its plots/ or checkpoints/) or an experiment folder was told
    only that it is no run directory, as predict no longer was; a relative path that does
    not exist, run from another folder, said nothing of where it was looked for."""
    trained = run_cli(
        "train", "--data", "xor", "--epoch", "3", "-q", "--log_path", "runs", cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "runs" / "exp").glob("exp-*")
    inside = f"give the run folder that holds it, 'runs/exp/{run.name}' (with its config.yaml)"
    assert_one_line_error(run_cli("plot", f"runs/exp/{run.name}/plots", cwd=tmp_path), inside)
    assert_one_line_error(
        run_cli("backprop", "--resume", f"runs/exp/{run.name}/checkpoints", cwd=tmp_path), inside
    )
    assert_one_line_error(
        run_cli("plot", "runs/exp", cwd=tmp_path),
        f"it is an experiment folder of 1 run; give that run's folder, 'runs/exp/{run.name}'",
    )
    (tmp_path / "elsewhere").mkdir()
    assert_one_line_error(
        run_cli("plot", f"runs/exp/{run.name}", cwd=tmp_path / "elsewhere"),
        f"(it does not exist); it was looked for in {tmp_path / 'elsewhere'}",
    )
    # A project's own config.yaml above a missing run is no run to give (it named the
    # project's folder, and / where / has one).
    project = tmp_path / "proj"
    project.mkdir()
    (project / "config.yaml").write_text("foo: 1\n")
    missing = run_cli("plot", str(project / "runs" / "exp-123456"))
    assert missing.returncode == 2 and "give the run folder" not in missing.stderr


def test_a_switch_given_twice_loses_nothing_and_is_accepted(run_cli):
    proc = run_cli("train", "--data", "xor", "-q", "--quiet", "--print_config")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["train", "--resume", "", "--epoch", "1"], "--resume"),
        (["train", "--config=", "--data", "xor"], "--config"),
        (["train", ""], "FILE.yaml"),
        (["sweep", "--config", "", "--data", "xor"], "--config"),
        (["backprop", "--resume="], "--resume"),
        (["predict", "", "--data", "new.csv"], "RUN_DIR"),
        (["predict", "run", "--data", ""], "--data"),
        (["predict", "run", "--data", "new.csv", "--out", ""], "--out"),
        (["plot", ""], "RUN_DIR"),
        (["plot", "activations", "--out", ""], "--out"),
        (["report", ""], "LOG_PATH"),
        (["report", "runs", "--out="], "--out"),
    ],
)
def test_an_empty_path_is_refused_not_read_as_the_current_folder(run_cli, tmp_path, args, name):
    """`--resume ""` trained a new run into ./runs, `report ""` wrote its files into '.'."""
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, f"{name} '' is an empty path", "give ")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args", [["train", "--resume", "  ", "--epoch", "1"], ["backprop", "--resume", " "]]
)
def test_a_blank_path_is_named_by_its_flag(run_cli, tmp_path, args):
    """`--resume "  "` was named in train()'s Python words (resume='  '), not as --resume."""
    proc = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, f"--resume {args[2]!r} is a blank path", "give ")
    assert not list(tmp_path.iterdir())


# As root, a file of mode 000 is still read (and one of 555 written): the process gives
# up the capabilities that let root read and write any file, and meets the permissions.
NO_ROOT_READS = [
    *("setpriv", "--inh-caps=-dac_override,-dac_read_search"),
    "--bounding-set=-dac_override,-dac_read_search",
]


@pytest.mark.parametrize("command", ["train", "sweep"])
@pytest.mark.parametrize("name", ["secret.csv", "secret.npz"])
def test_a_data_file_that_cannot_be_read_is_named_as_the_data_file(tmp_path, command, name):
    """It was 'Permission denied (secret.csv); the run stopped', exit 1; in a sweep
    'Permission denied ('secret.csv')', naming no setting."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a file of mode 000 is read without setpriv")
    secret = tmp_path / name
    secret.write_text("a,b,y\n1,2,0\n3,4,1\n")
    secret.chmod(0)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    argv = [command, "--data", name, "--epoch", "2", "--seed", "0", "-q"]
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "mlplab", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert_one_line_error(proc, f"mlplab: data file '{name}' cannot be read (Permission denied)")
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_file_where_a_run_folder_goes_is_named_and_kept(run_cli, tmp_path, command):
    """`log_path/exp_name` or the run folder a file: 'File exists (LF/exp); the run
    stopped' or 'Not a directory', exit 1, naming no setting."""
    (tmp_path / "LF").mkdir()
    (tmp_path / "LF" / "exp").write_text("keep\n")
    args = [command, "--data", "xor", "--epoch", "2", "--seed", "0", "--workers", "1"]
    args = args[:-2] if command == "train" else args
    proc = run_cli(*args, "--log_path", "LF", cwd=tmp_path)
    line = assert_one_line_error(proc, "setting 'exp_name': 'LF/exp' is a file")
    assert "log_path" in line and not proc.stdout
    assert (tmp_path / "LF" / "exp").read_text() == "keep\n"
    assert [p.name for p in (tmp_path / "LF").iterdir()] == ["exp"]
    # The run folder itself a file: found by the name the run would take.
    (tmp_path / "LF" / "exp").unlink()
    run = _trained_elsewhere(run_cli, args, tmp_path)
    (tmp_path / "LF" / "exp").mkdir()
    (tmp_path / "LF" / "exp" / run.name).write_text("keep\n")
    proc = run_cli(*args, "--log_path", "LF", cwd=tmp_path)
    assert_one_line_error(proc, f"'LF/exp/{run.name}' is a file, where the run's folder")
    assert (tmp_path / "LF" / "exp" / run.name).read_text() == "keep\n"
    assert [p.name for p in (tmp_path / "LF" / "exp").iterdir()] == [run.name]


def _trained_elsewhere(run_cli, args: list[str], tmp_path: Path) -> Path:
    """The run folder ``args`` trains, in ``R``: the name its run takes in any log_path."""
    trained = run_cli(*args, "--log_path", "R", "-q", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "R" / "exp").glob("exp-*")
    return run


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_link_to_a_missing_folder_where_a_run_folder_goes_is_named(run_cli, tmp_path, command):
    """`log_path/exp_name` a link to a folder since removed: 'File exists (LF/exp); the run
    stopped', exit 1, after train had printed where the run would go."""
    (tmp_path / "LF").mkdir()
    (tmp_path / "LF" / "exp").symlink_to(tmp_path / "gone")
    args = [command, "--data", "xor", "--epoch", "2", "--seed", "0", "--workers", "1"]
    args = args[:-2] if command == "train" else args
    proc = run_cli(*args, "--log_path", "LF", cwd=tmp_path)
    line = assert_one_line_error(
        proc,
        "setting 'exp_name': 'LF/exp'",
        f"a symbolic link to a missing folder ('{tmp_path}/gone')",
    )
    assert "log_path" in line and not proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LF"]
    assert [p.name for p in (tmp_path / "LF").iterdir()] == ["exp"]
    # The run folder such a link, or a link in a loop: found by the name the run would take.
    (tmp_path / "LF" / "exp").unlink()
    run = _trained_elsewhere(run_cli, args, tmp_path)
    (tmp_path / "LF" / "exp").mkdir()
    (tmp_path / "LF" / "exp" / run.name).symlink_to(run.name)
    proc = run_cli(*args, "--log_path", "LF", cwd=tmp_path)
    assert_one_line_error(proc, f"'LF/exp/{run.name}', where the run's folder", "loop of links")
    assert [p.name for p in (tmp_path / "LF" / "exp").iterdir()] == [run.name]


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_log_path_that_goes_up_out_of_a_missing_folder_is_refused(run_cli, tmp_path, command):
    """`--log_path x/sub/../../p` made x/sub, as mkdir -p does, and left it empty; the line
    gives the path without it, which names the same place."""
    (tmp_path / "x").mkdir()
    args = [command, "--data", "xor", "--epoch", "2", "--plots", "none", "-q"]
    args += ["--lr", "0.1", "0.2"] if command == "sweep" else []
    proc = run_cli(*args, "--log_path", "x/sub/../../p", cwd=tmp_path)
    assert_one_line_error(
        proc,
        "setting 'log_path': 'x/sub/../../p' goes up (..) out of 'x/sub', which does not exist",
        "give 'p', the same place",
    )
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["x"]
    # Up out of folders that exist, as a shell would go: the runs land in x/p.
    (tmp_path / "x" / "sub").mkdir()
    proc = run_cli(*args, "--log_path", "x/sub/../p", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["p", "sub"]


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_an_experiment_folder_that_cannot_be_written_is_named(tmp_path, command):
    """A sweep named '.sweep.lock', a file of its own, rather than the setting."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    (tmp_path / "R" / "exp").mkdir(parents=True)
    (tmp_path / "R" / "exp").chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    argv = [command, "--data", "xor", "--epoch", "2", "--log_path", "R"]
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "mlplab", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert_one_line_error(proc, "setting 'exp_name': 'R/exp' (log_path/exp_name) is not writable")
    assert not list((tmp_path / "R" / "exp").iterdir())


def test_a_finished_run_in_a_read_only_folder_is_kept(tmp_path):
    """A course's published, read-only folder of reference runs (or a full disk): the
    same config again was refused as unwritable, though keeping its run writes nothing."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    train = [sys.executable, "-m", "mlplab", "train", "--data", "xor", "--epoch", "2"]
    subprocess.run([*train, "--plots", "none", "--log_path", "ref", "-q"], cwd=tmp_path, check=True)
    before = sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "ref").rglob("*"))
    for folder in [tmp_path / "ref", *(tmp_path / "ref").rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    kept = subprocess.run([*prefix, *train, "--plots", "none", "--log_path", "ref"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert "already holds this config's finished run (test_acc" in kept.stdout
    assert sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "ref").rglob("*")) == before
    # A new run there is refused, with what to do.
    new = subprocess.run([*prefix, *train, "--lr", "0.3", "--log_path", "ref"],
                         capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert_one_line_error(
        new, "setting 'log_path': 'ref' is not writable (Permission denied); give log_path a "
        "folder you can write to"
    )  # fmt: skip


def test_a_rerun_over_a_read_only_run_says_what_it_left_behind(tmp_path):
    """--rerun over a finished run of mode 555 replaced it, but what rmtree could not remove
    stayed in a hidden `.RUN.xxxx.old.rerun` folder, without a word."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    import mlplab

    first = mlplab.train(data="xor", epoch=5, plots="none", verbose=False,
                         log_path=str(tmp_path / "runs"))  # fmt: skip
    first.run_dir.chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", "train", "--data", "xor",
                           "--epoch", "5", "--plots", "none", "--rerun", "--log_path",
                           str(tmp_path / "runs")], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (aside,) = first.run_dir.parent.glob(f".{first.run_dir.name}.*.old.rerun")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "could not be removed whole" in lines[0], proc.stderr
    assert repr(str(aside)) in lines[0]
    assert json.loads((first.run_dir / "result.json").read_text())["status"] == "finished"
    aside.chmod(0o755)


def test_resume_of_a_run_it_may_not_write_says_how_to_continue_a_copy(tmp_path):
    """A course's read-only reference run: --resume blamed 'log_path', which the student
    never gave; a copy that kept its read-only modes failed mid-run with exit 1."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    import mlplab

    stopped = mlplab.train(data="xor", epoch=50, save_every=1, plots="none", verbose=False,
                           log_path=str(tmp_path / "ref"), stop=lambda: True)  # fmt: skip
    assert stopped.status == "interrupted"
    for folder in (stopped.run_dir / "checkpoints", stopped.run_dir):
        folder.chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", "train", "--resume",
                           str(stopped.run_dir)], capture_output=True, text=True)  # fmt: skip
    line = assert_one_line_error(
        proc, f"--resume {str(stopped.run_dir)!r}: {str(stopped.run_dir)!r} cannot be written "
        "(Permission denied); to continue it, copy it (cp -r RUN DIR), make the copy writable"
    )  # fmt: skip
    assert "log_path" not in line
    stopped.run_dir.chmod(0o755)  # the copy's folder writable, its checkpoints/ not
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", "train", "--resume",
                           str(stopped.run_dir)], capture_output=True, text=True)  # fmt: skip
    assert_one_line_error(proc, f"{str(stopped.run_dir / 'checkpoints')!r} cannot be written")
    # The same command again, as --resume: it said "it continues", then failed (exit 1).
    stopped.run_dir.chmod(0o555)
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", "train", "--data", "xor",
                           "--epoch", "50", "--save_every", "1", "--plots", "none",
                           "--log_path", str(tmp_path / "ref")],
                          capture_output=True, text=True)  # fmt: skip
    assert_one_line_error(
        proc, f"{stopped.run_dir} holds this config's unfinished run: {str(stopped.run_dir)!r} "
        "cannot be written (Permission denied); to continue it, copy it"
    )  # fmt: skip
    assert "continues" not in proc.stdout
    for folder in (stopped.run_dir, stopped.run_dir / "checkpoints"):
        folder.chmod(0o755)


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_another_users_lock_file_is_one_line_that_says_what_to_do(tmp_path, command):
    """A class's shared folder, its lock file made by a student with umask 022: the next
    student's run said "Permission denied; the run stopped ... continues it", exit 1."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a file of mode 444 is written without setpriv")
    (tmp_path / "shared" / "lab").mkdir(parents=True)
    (tmp_path / "shared" / "lab" / ".sweep.lock").touch(mode=0o444)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    argv = [command, "--data", "xor", "--epoch", "2", "--log_path", "shared", "--exp_name", "lab"]
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", *argv],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert_one_line_error(
        proc, "setting 'exp_name': cannot open the lock file 'shared/lab/.sweep.lock' "
        "(Permission denied): another user made it; its owner can `chmod g+w` it"
    )  # fmt: skip
    assert [p.name for p in (tmp_path / "shared" / "lab").iterdir()] == [".sweep.lock"]


def test_an_unwritable_home_gets_no_matplotlib_warnings(tmp_path):
    """A course's shared account with a read-only HOME: matplotlib warned in two lines that
    it made a temporary folder, in every process, with -q too, and rebuilt its font cache
    in each."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    home, temp = tmp_path / "home", tmp_path / "temp"
    home.mkdir(mode=0o555)
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPL", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(temp))
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    argv = ["train", "--data", "xor", "--epoch", "3", "--log_path", "runs", "-q"]
    proc = subprocess.run([*prefix, sys.executable, "-m", "mlplab", *argv],
                          capture_output=True, text=True, cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert list(tmp_path.glob("runs/exp/*/plots/loss.png"))
    (own,) = temp.iterdir()  # the folder that stands in for HOME's, kept for the next
    assert own.name.startswith("mlplab-matplotlib-") and (own.stat().st_mode & 0o777) == 0o700


def test_a_report_of_a_read_only_folder_asks_for_out(tmp_path):
    """It said 'report --out: cannot write in ...' to a user who gave no --out."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    mlplab_train = [sys.executable, "-m", "mlplab", "train", "--data", "xor", "--epoch", "2"]
    subprocess.run([*mlplab_train, "-q", "--plots", "none"], cwd=tmp_path, check=True)
    (tmp_path / "runs").chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    report = [*prefix, sys.executable, "-m", "mlplab", "report", "runs"]
    proc = subprocess.run(report, capture_output=True, text=True, cwd=tmp_path)
    assert_one_line_error(
        proc,
        "report: cannot write the report in 'runs', the folder read (Permission denied); "
        "give --out (out= in Python) a folder to write it in",
    )
    out = subprocess.run([*report, "--out", "elsewhere"], capture_output=True, text=True,
                         cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "elsewhere" / "report.html").is_file()
    # A shared (sticky) folder whose report.html another user wrote: it was called
    # "read-only", which it is not, with no --out to give.
    if os.geteuid() != 0:
        return  # another user's file needs root to make
    (tmp_path / "runs").chmod(0o1777)
    subprocess.run([sys.executable, "-m", "mlplab", "report", "runs"], cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    os.chown(tmp_path / "runs" / "report.html", 65534, 65534)  # nobody's
    proc = subprocess.run(report, capture_output=True, text=True, cwd=tmp_path)
    assert_one_line_error(
        proc, "report: cannot write 'runs/report.html' (Permission denied: this user may not "
        "write the file); no file written; give --out (out= in Python) a folder"
    )  # fmt: skip


@pytest.mark.parametrize("command", ["gradcheck", "backprop", "train", "sweep", "report"])
def test_each_commands_description_is_wrapped_as_its_help_is(run_cli, command):
    """gradcheck's and backprop's descriptions were single lines of 204 and 141 characters."""
    proc = run_cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    usage_end = proc.stdout.index("\n\n")  # the description follows the usage
    description = proc.stdout[usage_end + 2 :].split("\n\n", 1)[0]
    assert description and max(len(line) for line in description.splitlines()) <= 79


def test_the_labs_hypothesis_block_is_for_the_gates_not_a_small_file(tmp_path, capsys):
    """A 10-row CSV printed the labs' Hypothesis / Correct block under its table: the
    model's answers for its 8 training rows, unnamed, which read as the true labels."""
    from mlplab.cli import main

    rows = "\n".join(f"{i},{(i * 7) % 10},{i % 2}" for i in range(10))
    (tmp_path / "small.csv").write_text("a,b,y\n" + rows + "\n")
    base = ["train", "--epoch", "2", "--plots", "none", "--log_path", str(tmp_path / "runs")]
    assert main([*base, "--data", str(tmp_path / "small.csv"), "--split", "8", "1", "1"]) == 0
    assert "Hypothesis:" not in capsys.readouterr().out
    assert main([*base, "--data", "xor"]) == 0  # the lab's gate keeps the lab's printout
    assert "Hypothesis:" in capsys.readouterr().out


def test_a_noisy_minibatch_curve_still_falling_gets_the_under_trained_note():
    """Minibatch Adam's validation loss fell from 6.0 to 3.5 over the second half, its last
    point a hair above its lowest (epoch 99 of 100): the note stayed silent."""
    import numpy as np

    from mlplab.config import Config
    from mlplab.console import under_trained_note

    epochs = list(range(1, 101))
    losses = list(np.linspace(8.0, 3.5, 100) + 0.05 * np.sin(np.arange(100)))
    losses[-1] = min(losses) * 1.01  # the last swings just above the lowest
    result = {"status": "finished", "val_losses": losses, "val_epochs": epochs, "n_train": 800}
    cfg = Config(optim="adam", lr=0.001, batch_size=32)
    note = under_trained_note(cfg, result)
    assert note is not None and "still falling when the default 100 epochs ran out" in note
    # The lowest of the last validations is named with its own epoch, not the last one's.
    at = 90 + int(np.argmin(losses[90:]))
    assert f", {min(losses[90:]):.4g} at epoch {at + 1})" in note
    # A curve that has levelled off (its lowest long before the end) gets none.
    flat = [*np.linspace(8.0, 3.5, 50), *np.full(50, 3.6)]
    assert under_trained_note(cfg, {**result, "val_losses": flat}) is None


def test_a_classifier_crawling_down_from_chance_gets_the_under_trained_note():
    """A table's default run (SGD full-batch) fell from 0.694 to 0.669, 1.9% over the
    second half, short of the 2% the note asked: test accuracy 0.68 with no word, where
    the note's own tips reached 0.88. A curve that fell far and levels off, as slowly,
    gets none."""
    import numpy as np

    from mlplab.config import Config
    from mlplab.console import under_trained_note

    epochs = list(range(1, 101))
    crawl = list(np.linspace(0.694, 0.669, 100))
    result = {"status": "finished", "val_losses": crawl, "val_epochs": epochs, "n_train": 480}
    note = under_trained_note(Config(), result)
    assert note is not None and note.endswith(
        "under-trained: raise --epoch, or take more steps per epoch with --batch_size 32, or "
        "try --optim adam --lr 0.001"
    )
    settled = list(np.linspace(0.694, 0.2, 50)) + list(np.linspace(0.2, 0.198, 50))
    assert under_trained_note(Config(), {**result, "val_losses": settled}) is None


def test_a_training_loss_that_stood_still_did_not_fall():
    """The swing note said "barely fell" of a training loss that did not move at all."""
    from mlplab.console import overfit_note

    val = [1.0, 0.5, 0.7, 0.7, 0.7, 0.7]
    record = {"status": "finished", "val_losses": val, "val_epochs": [1, 2, 3, 4, 5, 6],
              "best_val_loss": 0.5, "best_epoch": 2}  # fmt: skip
    for train, moved in (([0.6931] * 6, "did not fall"), ([0.7] * 4 + [0.69] * 2, "barely fell"),
                         ([0.69] * 4 + [0.7] * 2, "rose")):  # fmt: skip
        note = overfit_note(False, {**record, "train_losses": train})
        assert note is not None and f"the training loss {moved} meanwhile" in note


def test_overfits_is_said_of_a_trend_not_of_a_swing():
    """ "The model overfits" was said of a rise in the last epoch of a model still learning,
    of a model at chance (lr 10) whose validation loss bounced, and of one whose lowest
    validation loss came by luck at epoch 2: each compared one point with another."""
    import numpy as np

    from mlplab.console import overfit_note

    def note(val, train, dp_rate=0.0):
        best = int(np.argmin(val))
        return overfit_note(False, {
            "status": "finished", "val_losses": list(val), "train_losses": list(train),
            "val_epochs": list(range(1, len(val) + 1)), "best_val_loss": float(val[best]),
            "best_epoch": best + 1, "dp_rate": dp_rate,
        })  # fmt: skip

    n = 300
    falling = np.linspace(0.7, 0.2, n)
    late = np.r_[np.linspace(0.7, 0.22, n - 1), 0.26]  # lowest at epoch 299 of 300
    assert "it rose in the last validation only" in note(late, falling)
    rng = np.random.default_rng(0)
    bouncing = 1.0 + 0.4 * np.abs(rng.normal(size=100))  # lowest by luck, level far above
    chance = np.linspace(1.3, 1.1, 100)  # falls, but stays above every validation loss
    said = note(bouncing, chance)
    assert "stays above the lowest validation loss" in said and "overfits after" not in said
    # Dropout's training loss (of the thinned network) may stay above: then it is a trend.
    assert "the model overfits after that" in note(bouncing, chance, dp_rate=0.5)
    # The last point spiked, but the last validations average near the lowest.
    level = np.r_[np.linspace(0.7, 0.3, 50), np.full(49, 0.31), 0.4]
    assert "near the lowest" in note(level, np.linspace(0.7, 0.1, 100))
    # The textbook curve: the validation loss turns up and keeps rising as training fits.
    textbook = np.r_[np.linspace(0.7, 0.43, 243), np.linspace(0.45, 0.89, 757)]
    assert "the model overfits after that" in note(textbook, np.linspace(0.7, 0.14, 1000))


def test_a_target_far_from_zero_for_its_spread_gets_the_scale_note(tmp_path, capsys):
    """A log price (13.4 +- 0.45) fit worse than its mean (R² -1.2) with no word of why:
    the note waited for a target in the hundreds."""
    import numpy as np
    import pandas as pd

    from mlplab.cli import main

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    df["log_price"] = 13.4 + 0.3 * df.a - 0.2 * df.b * df.c + rng.normal(0, 0.1, 600)
    df.to_csv(tmp_path / "logp.csv", index=False)
    base = ["train", "--data", str(tmp_path / "logp.csv"), "--plots", "none", "--log_every",
            "0", "--log_path", str(tmp_path / "runs")]  # fmt: skip
    assert main(base) == 0
    out = capsys.readouterr().out
    r2 = float(re.search(r"│ test\s+│(?:[^│]+│){4}\s+(-?[\d.]+)", out)[1])
    assert r2 < 0 and "note: the target sits at 13.4 with a spread of 0.3" in out
    assert main([*base, "--standardize_target", "true"]) == 0
    out = capsys.readouterr().out
    assert float(re.search(r"│ test\s+│(?:[^│]+│){4}\s+(-?[\d.]+)", out)[1]) > 0.5
    assert "the target sits at" not in out


def test_a_regression_far_below_its_mean_is_not_said_to_predict_the_mean():
    """At a training R² of -1088 the note said "the model predicts about the target's mean",
    in place of the note that its training loss rose from 23 to 207."""
    from mlplab.config import make_config
    from mlplab.console import end_notes
    from mlplab.data.dataset import load_dataset

    cfg, data = make_config({"data": "sine", "lr": 1.0}), load_dataset("sine")
    result = {"status": "finished", "steps": 5000, "train_losses": [23.0, 150.0, 207.0],
              "train_loss": 207.0, "val_epochs": [1, 2, 3]}  # fmt: skip
    (note,) = end_notes(cfg, data, {**result, "train_r2": -1088.0})
    assert note.startswith("the training loss rose from 23 (epoch 1) to 207")
    (note,) = end_notes(cfg, data, {**result, "train_r2": -1088.0, "train_losses": [300.0, 207.0]})
    assert "the training R² is -1.1e+03: the model predicts worse than the target's mean" in note
    (note,) = end_notes(cfg, data, {**result, "train_r2": 0.001})  # about the mean: the news
    assert "the model predicts about the target's mean, whatever the features" in note


def test_a_regression_left_at_its_mean_says_the_lr_is_too_high(tmp_path, capsys):
    """sinlog's MLP at lr 0.5: its ReLUs died on the first steps, every later step loss was
    the same, and the run ended "finished" with a training R² of -4e-16 and no word."""
    from mlplab.cli import main

    base = ["train", "--data", "sinlog", "--n_layer", "1", "--hid_dim", "200", "--act", "relu",
            "--epoch", "200", "--log_every", "0", "--plots", "none",
            "--log_path", str(tmp_path / "runs")]  # fmt: skip
    assert main([*base, "--lr", "0.5"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"│ train\s+│(?:[^│]+│){4}\s+-?[\d.]+e-1\d", out)  # R² about 0
    assert "note: the training R² is about 0: the model predicts about the target's mean" in out
    assert "its units stopped learning or the lr is too high: try a lower lr, e.g. --lr 0.05" in out
    # The units counted, not guessed: every one of the 200 is dead.
    assert (
        "dead ReLUs: units that output 0 on every training row, by hidden layer: 200 of 200" in out
    )
    assert main([*base, "--lr", "0.05"]) == 0  # R² 0.48: learning, if slowly
    assert "note:" not in capsys.readouterr().out
    # Two epochs of full batches are two steps: too few to blame the lr for the mean.
    short = [*base, "--lr", "0.05"]
    short[short.index("--epoch") + 1] = "2"
    assert main(short) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "after 2 optimizer steps the model has barely trained; give it more epochs" in out
    assert "lower lr" not in out


def test_a_training_loss_that_rose_says_the_lr_is_too_high(tmp_path, capsys):
    """The lecture's 2-2-1 xor net at lr 1e6 ended "finished" at a loss of 4.2e5, from 0.71."""
    from mlplab.cli import main

    base = ["train", "--data", "xor", "--n_layer", "1", "--hid_dim", "2", "--act", "sigmoid",
            "--epoch", "200", "--plots", "none", "--log_path", str(tmp_path / "runs")]  # fmt: skip
    assert main([*base, "--lr", "1e6"]) == 0
    out = capsys.readouterr().out
    note = re.search(r"note: the training loss rose from 0.7147 \(epoch 1\) to ([\d.e+]+)", out)
    assert note and float(note[1]) > 1e5, out
    assert "so the lr is too high; try a lower lr, e.g. --lr 100000" in out


def test_the_perceptron_labs_loss_at_ln2_gets_no_note(capsys):
    """08-1's perceptron cannot learn XOR: its cost stays at ln 2 by design, a hair
    above its first value at the end; that is no loss that rose."""
    import math

    import mlplab
    from mlplab.console import loss_rose_note

    xor = mlplab.train(EXAMPLES / "xor_perceptron.yaml", plots="none", record=False)
    assert abs(xor.record["train_loss"] - math.log(2)) < 1e-3
    assert "note:" not in capsys.readouterr().out
    record = {"status": "finished", "train_losses": [0.6931, 0.69315], "train_loss": 0.69315}
    assert loss_rose_note(mlplab.Config(lr=0.1), record) is None
    assert loss_rose_note(mlplab.Config(lr=0.1), {**record, "train_loss": 0.8}) is not None


@pytest.mark.slow
def test_an_lr_that_makes_sgd_bounce_is_not_called_overfitting(capsys):
    """sinlog's MLP at lr 0.05: its validation loss was lowest at epoch 3379 and 13% above
    that at epoch 4000, its training loss 1.816 then 2.081, and the note said "the model
    overfits". It read the training loss at the best epoch between two of result.json's
    250 points of the curve (2.467 at epoch 3377, 2.020 at 3393), where SGD bounces.

    The epochs differ from one CPU to another (a bouncing SGD amplifies the last bits of
    its BLAS's sums), so the note is checked against the run's own full curves."""
    import numpy as np

    import mlplab
    from mlplab.console import OVERFIT, TREND_POINTS

    r = mlplab.train(EXAMPLES / "sinlog_mlp.yaml", lr=0.05, log_every=0, plots="none", record=False)
    out = capsys.readouterr().out
    epochs, train, val = (r.curves[k] for k in ("val_epochs", "train_losses", "val_losses"))
    best = epochs[val.index(min(val))]
    assert val[-1] > min(val) * (1 + OVERFIT)  # SGD bounces at this lr: the note is due
    found = re.search(r"the validation loss was lowest at epoch (\d+) \(([\d.]+)\)", out)
    assert found is not None, out
    assert int(found[1]) == best == r.record["best_epoch"]
    # Means over a twentieth of the validations from the best and at the end, of every
    # epoch's point, not of result.json's thinned curve.
    w, b = max(TREND_POINTS, len(val) // 20), epochs.index(best)
    before, after = float(np.mean(train[b : b + w])), float(np.mean(train[-w:]))
    if after < before * (1 - OVERFIT / 2):
        assert "meanwhile" not in out
    else:
        assert "overfits" not in out
        assert f"meanwhile ({before:.4g}, then {after:.4g}, means over {w} validations)" in out


def test_the_screen_names_the_model_by_its_layers_as_the_plot_titles_do(monkeypatch, capsys):
    """The start line, the table, the live view and a Result said `mlp 2x1 sigmoid` of the
    lecture's 2-2-1 net (which reads like Linear(2, 1)), its plots `mlp 2-2-1 sigmoid`."""
    import mlplab
    from mlplab import runner

    titles: list[str] = []
    monkeypatch.setattr(runner, "live_view", lambda title, *a, **kw: titles.append(title) or [])
    r = mlplab.train(EXAMPLES / "xor_nn.yaml", epoch=3, log_every=0, record=False)
    out = capsys.readouterr().out
    assert out.startswith("mlplab: mlp 2-2-1 sigmoid on xor (binary, 4 rows)"), out
    assert "\nmlp 2-2-1 sigmoid on xor: finished in" in out
    assert titles == ["mlp 2-2-1 sigmoid on xor"]
    assert repr(r).startswith("<Result mlp 2-2-1 sigmoid on xor: finished")
    assert "<b>mlp 2-2-1 sigmoid on xor</b>" in r._repr_html_()
    assert "2x1" not in out + repr(r)


def test_a_quiet_runs_repr_says_it_has_notes(capsys):
    """With verbose=False a run's notes (a setting it did not use, a model no better than
    the common class) are its only word of what went wrong, and nothing pointed to them."""
    import mlplab

    r = mlplab.train(data="xor", optim="adam", mm=0.5, epoch=2, verbose=False, record=False)
    assert capsys.readouterr() == ("", "")
    assert len(r.notes) >= 1 and repr(r).endswith(
        f"; not recorded; {len(r.notes)} note{'s' if len(r.notes) > 1 else ''} in .notes>"
    )
    assert "note" not in repr(mlplab.train(data="xor", epoch=2, verbose=False, record=False))


def test_the_start_line_names_a_data_files_target(tmp_path, capsys):
    """Without --target the last column is the target: a file whose last column was a
    0/1 feature trained that column from the real target, and the start line said only
    'binary'."""
    import mlplab

    rows = "x1,x2,churn,plan_pro\n" + "".join(
        f"{i},{i % 3},{i % 2},{(i // 2) % 2}\n" for i in range(40)
    )
    (tmp_path / "t.csv").write_text(rows)
    kw = {"epoch": 1, "log_every": 0, "record": False, "data": str(tmp_path / "t.csv")}
    mlplab.train(**kw)
    assert "(binary target 'plan_pro', 40 rows, features standardized)" in capsys.readouterr().out
    mlplab.train(**kw, target=["churn", "plan_pro"], task="regression")
    assert "(regression targets 'churn', 'plan_pro', 40 rows" in capsys.readouterr().out


def test_the_start_line_says_what_was_standardized(capsys):
    """`standardize: auto` scaled a table's features with no word on the screen (only
    result.json said so): the start line names what the engine trains on."""
    import mlplab

    kw = {"epoch": 1, "log_every": 0, "record": False}
    mlplab.train(data="iris", **kw)
    assert "(multiclass, 150 rows, features standardized), engine" in capsys.readouterr().out
    mlplab.train(data="sinlog", standardize="true", standardize_target="true", **kw)
    assert "(regression, 2400 rows, features and target standardized)" in capsys.readouterr().out
    mlplab.train(data="iris", standardize="false", **kw)
    assert "(multiclass, 150 rows), engine" in capsys.readouterr().out
    wide = mlplab.train(EXAMPLES / "sinlog_mlp.yaml", epoch=2, verbose=False, record=False)
    assert repr(wide).startswith("<Result mlp 2-200-1 relu on sinlog")


@pytest.mark.parametrize("code", [0, 1, 130])
def test_a_ctrl_c_once_the_command_is_done_keeps_its_status(code: int) -> None:
    """A Ctrl-C just after a finished run's closing line, as Python shut down, ended the
    process by SIGINT (status -2 to its parent) where 0 was due; only a stopped command's
    130 and 143 were kept. Here a real SIGINT comes during an exit handler."""
    import subprocess
    import sys

    script = (
        "import atexit, os, signal, time\n"
        "from mlplab import cli\n"
        f"cli.main = lambda: {code}\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))\n"
        "print('done', flush=True)\n"
        "cli.run()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=50)  # fmt: skip
    # A command stopped by Ctrl-C (130) ends killed by SIGINT, so that a script stops too.
    status = -signal.SIGINT if code == 130 else code
    assert proc.returncode == status and proc.stdout == "done\n", proc.stderr
    assert "Traceback" not in proc.stderr


def _examples(command: str, columns: int) -> tuple[list[str], str]:
    """The example commands of ``command --help`` at ``columns``, each joined back into
    one line across its shell continuations, and the whole help."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", command, "--help"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": str(columns)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    examples = proc.stdout.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    joined = examples.replace(" \\\n", " ").splitlines()
    return [" ".join(c.split()) for c in joined if not c.strip().startswith("#")], proc.stdout


@pytest.mark.parametrize("command", ["train", "sweep", "backprop", "gradcheck"])
def test_help_fits_an_80_column_terminal_and_its_examples_still_run(command):
    """The examples and notes were written at 88 to 107 columns: on an 80-column terminal
    they wrapped mid-word. Broken now with shell continuations, each pastes as the same
    command, at any width (a line with no flag to break before was printed twice)."""
    wide, _ = _examples(command, 200)
    assert wide and all(c.startswith(f"mlplab {command}") for c in wide)
    for columns in (80, 40, 30):
        commands, text = _examples(command, columns)
        assert commands == wide, columns
        if columns == 80:
            assert max(len(line) for line in text.splitlines()) <= 80


def test_no_under_trained_note_for_a_perfect_classifier_or_beside_the_swing_note():
    """A separable table ended at val_acc 1.0 with its loss at 2e-4 and was told it "may be
    under-trained"; a loss still falling that ended 30% above its lowest got "raise --epoch"
    and "it swings, lower --lr" in one breath."""
    import numpy as np

    from mlplab.config import Config
    from mlplab.console import end_notes, under_trained_note
    from mlplab.data.dataset import load_dataset

    epochs = list(range(1, 101))
    losses = list(np.linspace(8.0, 3.5, 100))
    result = {"status": "finished", "val_losses": losses, "val_epochs": epochs, "n_train": 800}
    cfg = Config(optim="adam", lr=0.001, batch_size=32)
    assert under_trained_note(cfg, result) is not None  # the same curve, short of perfect
    assert under_trained_note(cfg, {**result, "val_acc": 0.97}) is not None
    assert under_trained_note(cfg, {**result, "val_acc": 1.0}) is None

    data = load_dataset("moons", n_samples=200)
    swung = {**result, "val_losses": [*losses[:-1], 3.5 * 1.3], "best_val_loss": losses[-2]}
    swung |= {"best_epoch": 99, "train_losses": losses}
    notes = end_notes(cfg, data, swung)
    assert len(notes) == 1 and "swings" in notes[0] and "still falling" not in notes[0], notes


def _on_a_terminal(args: list[str], env: dict[str, str], cols: int = 200) -> str:
    """What ``mlplab ARGS`` prints, with ``env``, on a real pseudo-terminal ``cols`` columns
    wide (the test fails where it exits other than 0)."""
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlplab", *args], stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=120) == 0, out.decode(errors="replace")
    os.close(primary)
    return out.decode(errors="replace")


def test_a_dumb_terminal_gets_the_tables_whole(tmp_path):
    """TERM=dumb (Emacs' shell, some IDE consoles) on a 200-column terminal: rich took it
    as 80 columns whatever width mlplab gave, and cut numbers to '0.6…'."""
    settings = ["--data", "xor", "--hid_dim", "2", "4", "--epoch", "20", "--log_every", "0"]
    env = {**os.environ, "TERM": "dumb"}
    _on_a_terminal(["sweep", *settings, "--plots", "none", "--log_path", str(tmp_path), "-q"], env)
    report = _on_a_terminal(["report", str(tmp_path / "exp")], env)
    assert "…" not in report and "hid_dim" in report and "val_acc" in report
    listed = _on_a_terminal(["datasets"], env)
    assert "…" not in listed and "train=val=test" in listed


def test_a_notebook_cell_gets_lines_not_a_bar(tmp_path):
    """`!mlplab train ...` in a notebook runs on a pseudo-terminal whose output is the
    cell's: the bar's repaints (cursor moves a cell cannot follow) stayed there, 513
    escape sequences for a 4-second run, in the saved notebook too."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "JPY_PARENT_PID")}
    args = ["train", "--data", "xor", "--epoch", "300", "--log_every", "100", "--plots", "none"]
    on_terminal = _on_a_terminal(
        [*args, "--log_path", str(tmp_path / "a")], {**env, "TERM": "xterm"}
    )
    assert "\x1b[2K" in on_terminal  # a terminal's bar, erased as it goes
    in_cell = _on_a_terminal(
        [*args, "--log_path", str(tmp_path / "b")],
        {**env, "TERM": "xterm-color", "JPY_PARENT_PID": "4242"},
    )
    assert "\x1b" not in in_cell
    lines = in_cell.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["0", "100", "200"], in_cell  # a log's


def test_a_plot_of_a_read_only_run_asks_for_out(tmp_path):
    """It said "--out '.../plots' is not writable" to a user who gave no --out."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("as root, a folder of mode 555 is written without setpriv")
    mlplab_train = [sys.executable, "-m", "mlplab", "train", "--data", "xor", "--epoch", "2"]
    subprocess.run([*mlplab_train, "-q", "--plots", "none"], cwd=tmp_path, check=True)
    (run_dir,) = (p.parent for p in (tmp_path / "runs").rglob("result.json"))
    run_dir.chmod(0o555)
    prefix = NO_ROOT_READS if os.geteuid() == 0 else []
    plot = [*prefix, sys.executable, "-m", "mlplab", "plot", str(run_dir)]
    proc = subprocess.run(plot, capture_output=True, text=True, cwd=tmp_path)
    line = assert_one_line_error(proc, "is not writable (Permission denied); give --out a folder")
    assert "--out '" not in line
    out = subprocess.run([*plot, "--out", "elsewhere"], capture_output=True, text=True,
                         cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "elsewhere" / "loss.png").is_file()


def test_a_narrow_terminal_keeps_each_line_whole(tmp_path):
    """On a 40-column terminal, the lines printed above the progress bar were broken with
    newlines at the width, and a run folder copied from them was cut in two."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    log = tmp_path / "a folder with a long name for the runs"
    text = _on_a_terminal(
        ["train", "--data", "xor", "--epoch", "300", "--log_every", "100", "--plots", "none",
         "--log_path", str(log)],
        {**env, "TERM": "xterm"}, cols=40,
    )  # fmt: skip
    (run_dir,) = [p.parent for p in log.rglob("result.json")]
    assert str(run_dir) in text.replace("\r\n", "\n")


def _bar_lines(text: str) -> list[str]:
    """The states of a progress bar: each repaint starts by erasing its line."""
    return [part for part in text.replace("\r\n", "\n").split("\x1b[2K")[1:] if part.strip()]


def test_a_bar_on_a_narrow_terminal_keeps_its_numbers_whole(tmp_path):
    """At 40 columns the bar cut its step count and the time left to '…' and kept a
    bar of two cells: the epochs, the loss and the time left are what fits."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "JPY_PARENT_PID")}
    args = ["--data", "moons", "--epoch", "600", "--log_every", "0", "--plots", "none"]
    text = _on_a_terminal(
        ["train", *args, "--log_path", str(tmp_path / "a")], {**env, "TERM": "xterm"}, cols=40
    )
    bars = [line for line in _bar_lines(text) if "epoch" in line]
    assert bars and not any("…" in line for line in bars), bars[-3:]
    assert re.search(r"epoch \d+/600 loss [\d.]+ \S*\d:\d\d:\d\d", bars[-1]), bars[-1]
    sweep = ["sweep", *args, "--lr", "0.1", "0.2", "--log_path", str(tmp_path / "b"),
             "--workers", "1", "--no_batch"]  # one run after the other  # fmt: skip
    text = _on_a_terminal(sweep, {**env, "TERM": "xterm"}, cols=40)
    bars = [line for line in _bar_lines(text) if re.search(r"\d/2 runs", line)]
    assert bars, text[-2000:]
    # The time left, or not yet known; and no number cut, once a run has ended (on a wide
    # terminal its line stands beside the bar) as before.
    left = re.compile(r"\d+% \S*(\d:\d\d:\d\d|-:--:--)")
    assert all(left.search(line) for line in bars), [b for b in bars if not left.search(b)]
    assert not any("…" in line for line in bars), bars[-3:]


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_no_progress_prints_lines_not_a_bar_on_a_terminal(tmp_path, how):
    """A screen reader reads every repaint of a bar; only TERM=dumb, CI or a pipe turned
    it off, each with other effects."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "JPY_PARENT_PID")}
    env["TERM"] = "xterm"
    flag = ["--no_progress"] if how == "flag" else []
    if how == "environment":
        env["MLPLAB_NO_PROGRESS"] = "1"
    args = ["--data", "xor", "--epoch", "300", "--log_every", "100", "--plots", "none", *flag]
    text = _on_a_terminal(["train", *args, "--log_path", str(tmp_path / "a")], env)
    assert "\x1b[2K" not in text and "\x1b[?25l" not in text, text  # no bar, no hidden cursor
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["0", "100", "200"], text
    sweep = ["sweep", *args, "--lr", "0.1", "0.2", "--log_path", str(tmp_path / "b")]
    text = _on_a_terminal(sweep, env)
    assert "\x1b[2K" not in text and "run records in" in text, text


def test_print_run_dir_names_the_folder_train_writes_and_trains_nothing(run_cli, tmp_path):
    """A script had no way to learn a run's folder but to parse one of three lines (trained,
    kept, resumed), which --quiet leaves out."""
    args = ["train", "--config", EXAMPLES / "xor_nn.yaml", "--log_path", tmp_path / "runs"]
    proc = run_cli(*args, "--epoch", "5", "--print_run_dir", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "" and not (tmp_path / "runs").exists()
    (printed,) = proc.stdout.splitlines()
    assert run_cli(*args, "--epoch", "5", "--quiet", cwd=tmp_path).returncode == 0
    (record,) = (tmp_path / "runs").rglob("result.json")
    assert printed == str(record.parent)
    proc = run_cli(*args, "--print_run_dir", "--resume", printed, cwd=tmp_path)
    assert_one_line_error(proc, "--print_run_dir names a config's run folder")
    # With --print_config, one was printed and the other lost without a word.
    proc = run_cli(*args, "--print_run_dir", "--print_config", cwd=tmp_path)
    assert_one_line_error(proc, "--print_config and --print_run_dir each print one thing")
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (["--data", "nosuch.csv"], "data file 'nosuch.csv' does not exist"),
        (["--data", "tab.csv", "--target", "nope"], "target column 'nope' does not exist"),
        (["--data", "xor", "--n_samples", "5"], "'n_samples' does not apply to the 'xor'"),
        (["--data", "tab.csv", "--target", "label", "CHANGED"], "has changed since"),
        # --rerun trains again on the file as it is: the folder, as train --rerun writes it
        (["--data", "tab.csv", "--target", "label", "--rerun", "CHANGED"], None),
    ],
)
def test_print_run_dir_refuses_what_train_refuses(tmp_path, capsys, monkeypatch, settings, needle):
    """`RUN=$(mlplab train ... --print_run_dir) || exit` got status 0 and a folder for a
    missing data file, an unknown target or a changed file, which train then refused: the
    script went on to wait for a record that never came."""
    from mlplab.cli import main

    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{i},{i % 3 / 3},{i % 5 / 5},{'yes' if i % 2 else 'no'}\n" for i in range(20))
    Path("tab.csv").write_text("id,x1,x2,label\n" + rows)
    base = ["train", "--epoch", "2", "--plots", "none", "--log_path", "runs"]
    if "CHANGED" in settings:
        settings = settings[:-1]
        assert main([*base, *[a for a in settings if a != "--rerun"], "-q"]) == 0
        with open("tab.csv", "a") as f:
            f.write("20,0.5,0.5,no\n")
    capsys.readouterr()
    status = main([*base, *settings, "--print_run_dir"])
    out, err = capsys.readouterr()
    if needle is None:
        assert status == 0 and err == "" and Path(out.strip()).parent == Path("runs/exp")
        return
    assert status == 2
    assert out == "" and err.count("\n") == 1 and needle in err, (out, err)


def test_a_relu_classifier_at_chance_is_told_its_relus_may_have_died():
    """Three ReLUs on circles ended at chance with every unit off on every row (white in
    units.png); the note named epochs, adam, the lr and features, but not dead ReLUs, as
    the regression's note does."""
    from mlplab.console import majority_note
    from mlplab.data.dataset import load_dataset

    data = load_dataset("moons")
    at_chance = {"status": "finished", "test_acc": 0.3, "n_layer": 1, "model": "mlp"}
    said = majority_note(data, {**at_chance, "act": "relu"})
    assert said is not None and "a lower lr where it swung or its ReLUs died, " in said
    assert "ReLU" not in (majority_note(data, {**at_chance, "act": "tanh"}) or "")
    linear = {**at_chance, "act": "relu", "n_layer": 0, "model": "linear"}
    assert "ReLU" not in (majority_note(data, linear) or "")
    # A run that uses Adam is not told to use it (the README's fraud run was).
    assert "--optim adam" in said
    for optim in ("adam", "adamw"):
        assert "--optim adam" not in majority_note(data, {**at_chance, "optim": optim})


def test_a_classifier_at_chance_on_unscaled_large_features_is_told_to_scale_them(run_cli, tmp_path):
    """--standardize false on a table whose features reach 4254: test accuracy 0.54, and
    the notes sent it to --act leaky_relu and more epochs, which left it at 0.54; scaled,
    0.98. The features' scale is named, and the lr, epochs and units' advice is not."""
    proc = run_cli("train", "--data", "breast_cancer", "--standardize", "false", "--plots",
                   "none", "--log_every", "0", "--log_path", tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = [ln for ln in proc.stdout.splitlines() if ln.startswith("mlplab: note:")]
    assert any("feature 'worst area' reaches 4.25e+03, and the features are unscaled" in n
               and "--standardize true" in n for n in notes), notes  # fmt: skip
    (chance,) = [n for n in notes if "no better than always answering" in n]
    assert chance.endswith("the model has learnt nothing beyond the classes' sizes")
    assert not any("leaky_relu" in n or "more epochs" in n for n in notes), notes


def test_a_classifier_answering_one_class_on_unscaled_features_is_told_to_scale_them(
    run_cli, tmp_path
):
    """Wine's table, unscaled: the model answered one class on every training row (balanced
    accuracy 1/3), its test rows beat the common class by luck (0.67), and the notes said
    only that the validation loss swung (a lower --lr), never the proline of 1680."""
    from sklearn.datasets import load_wine

    load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    proc = run_cli("train", "--data", tmp_path / "wine.csv", "--target", "target",
                   "--standardize", "false", "--optim", "adam", "--lr", "1e-3", "--batch_size",
                   "0", "--epoch", "200", "--patience", "10", "--plots", "none", "--log_every",
                   "0", "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (record,) = (tmp_path / "runs").rglob("result.json")
    result = json.loads(record.read_text())
    assert result["train_bacc"] == pytest.approx(1 / 3) and result["test_acc"] > 0.5
    notes = [ln for ln in proc.stdout.splitlines() if ln.startswith("mlplab: note:")]
    assert any("feature 'proline' reaches 1.68e+03, and the features are unscaled" in n
               for n in notes), notes  # fmt: skip


def test_a_large_target_fit_poorly_without_diverging_gets_the_target_scale_note():
    """A claim amount (median 52, maximum 1797) fit to a training R² of 0.02 was told to
    lower its lr: only a run that diverged or fell below the mean heard of
    --standardize_target, which took the same data to 0.56."""
    import numpy as np

    from mlplab.console import target_scale_note
    from mlplab.data.dataset import Dataset

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = np.exp(3.9 + rng.normal(size=(300, 1)))
    data = Dataset("claims.csv", "regression", X, y, X, y, X, y, ["a", "b"], ["claim"], None)
    result = {"status": "finished", "test_r2": 0.05, "train_r2": 0.0169}
    assert target_scale_note(data, result).startswith(  # why, then what: not the start's echo
        f"the training R² is 0.017: the target reaches {np.abs(y).max():.3g}; an MLP learns"
    )
    assert target_scale_note(data, {**result, "train_r2": 0.44}) is None  # it learnt
    small = Dataset("s.csv", "regression", X, y / 100, X, y, X, y, ["a", "b"], ["c"], None)
    assert target_scale_note(small, result) is None  # values of order 1: not the scale


def test_a_large_target_is_noted_before_the_run_trains(tmp_path, run_cli):
    """Diabetes (targets 25 to 346) diverged on a first run at the default lr, and only
    then heard of --standardize_target."""
    args = ("train", "--data", "diabetes", "--epoch", "1", "--plots", "none",
            "--log_every", "0", "--log_path", tmp_path)  # fmt: skip
    out = run_cli(*args).stdout
    note = (
        "mlplab: note: the target reaches 346; an MLP learns values of order 1 far more "
        "easily: --standardize_target true trains on it scaled (predictions and metrics "
        "stay in its units)"
    )
    assert note in out and out.index(note) < out.index("mlplab: mlp 10-100-1 relu on diabetes")
    scaled = run_cli(*args, "--standardize_target", "true")
    assert scaled.returncode == 0 and "target reaches" not in scaled.stdout + scaled.stderr
    sine = run_cli("train", "--data", "sine", "--epoch", "1", "--plots", "none",
                   "--log_path", tmp_path)  # fmt: skip
    assert "target reaches" not in sine.stdout  # the lab's sin(x): of order 1


def test_a_target_of_tiny_spread_is_noted_before_and_after_the_run(tmp_path, run_cli):
    """A target of 1e-12 scale trained to a training R² of -6.7e22, and was told to lower
    its lr; a target of 1e12 was told of --standardize_target before and after its run.
    At a spread of 0.01 the test R² was 0.11 against 0.9997 scaled."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = 1e-12 * (1 + 0.1 * X[:, 0])
    df.to_csv(tmp_path / "tiny.csv", index=False)
    args = ("train", "--data", tmp_path / "tiny.csv", "--epoch", "5", "--plots", "none",
            "--log_every", "0", "--log_path", tmp_path / "runs")  # fmt: skip
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    start = (
        "mlplab: note: the target varies by only 9.42e-14 (its spread); an MLP learns values "
        "of order 1 far more easily: --standardize_target true"
    )
    assert start in proc.stdout and proc.stdout.index(start) < proc.stdout.index("mlplab: mlp ")
    end = proc.stdout[proc.stdout.index("│ test") :]
    assert "the target varies by only 9.42e-14" in end and "--lr 0.001" not in end
    scaled = run_cli(*args, "--standardize_target", "true")
    assert scaled.returncode == 0 and "varies by only" not in scaled.stdout + scaled.stderr
    df["y"] = 0.5 + 0.1 * X[:, 0]  # a spread of 0.1: of order 1 enough
    df.to_csv(tmp_path / "fine.csv", index=False)
    fine = run_cli("train", "--data", tmp_path / "fine.csv", "--epoch", "1", "--plots", "none",
                   "--log_every", "0", "--log_path", tmp_path / "runs")  # fmt: skip
    assert fine.returncode == 0 and "varies by only" not in fine.stdout


def test_unscaled_features_of_large_values_are_named_where_a_run_blew_up(tmp_path, run_cli):
    """--standardize false on an income of 1.3e5 beside a ratio: the run diverged and was
    told to lower its lr, again and again, 10 times each time."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"income": rng.uniform(2e4, 1.3e5, 500), "ratio": rng.uniform(0, 1, 500)})
    df["y"] = df.income / 1e5 + df.ratio + rng.normal(0, 0.1, 500)
    df.to_csv(tmp_path / "feat.csv", index=False)
    args = ("train", "--data", tmp_path / "feat.csv", "--standardize", "false",
            "--plots", "none", "--log_every", "0", "--log_path", tmp_path / "runs")  # fmt: skip
    note = (
        "mlplab: note: feature 'income' reaches 1.3e+05, and the features are unscaled: a "
        "step that suits it overshoots the others; --standardize true"
    )
    for lr in ("1", "0.01"):  # inf at step 1; a loss that rose to 1e28 and 'finished'
        proc = run_cli(*args, "--lr", lr)
        out = " ".join((proc.stdout + proc.stderr).split())
        assert note in out, out
        assert "Try a lower lr" not in out and "try a lower lr" not in out
        assert "was still falling" not in out
    scaled = run_cli(*args[:3], "--plots", "none", "--log_path", tmp_path / "runs")  # auto
    assert scaled.returncode == 0 and "kept" not in scaled.stdout
    assert "features are unscaled" not in scaled.stdout


def test_a_results_notes_are_kept_whether_printed_or_not(tmp_path, capsys):
    """verbose=False (a grader, a notebook cell kept quiet) lost every note: a setting the
    run did not use, a target far from order 1, a model that learnt nothing."""
    import mlplab

    settings = dict(data="diabetes", epoch=1, hid_dims="4-4", n_layer=3, plots="none",
                    log_path=str(tmp_path))  # fmt: skip
    quiet = mlplab.train(**settings, verbose=False)
    assert capsys.readouterr().out == ""
    # In Python's words: a notebook's user calls train(n_layer=3), not --n_layer 3.
    assert quiet.notes[0] == "not used by this run: n_layer=3 (hid_dims 4-4 gives 2 hidden layers)"
    assert any(n.startswith("the target reaches 346") for n in quiet.notes)
    loud = mlplab.train(**settings, rerun=True)
    out = capsys.readouterr().out
    assert loud.notes == quiet.notes
    # Printed as the command line's lines are (flags), which the notes say in Python's words.
    from mlplab.errors import note_in_python

    printed = note_in_python(" ".join(out.split()))
    assert all(f"mlplab: note: {n}" in printed for n in loud.notes)
    # A kept run (a notebook run again) keeps the notes that it prints: the setting it
    # does not use, and what its numbers said when it ended (the start's note of the
    # target, said before training, is in the end's).
    kept = mlplab.train(**settings, verbose=False)
    assert kept.kept and kept.notes == [quiet.notes[0], quiet.notes[2]]
    assert quiet.notes[2].startswith("the test R² is")
    mlplab.train(**settings)
    assert f"mlplab: note: {quiet.notes[2][:60]}" in capsys.readouterr().out


def test_main_returns_argparses_exit_status_instead_of_raising(capsys):
    """cli.main returned 2 for a bad value but raised SystemExit for an unknown flag, so a
    script or test calling it in-process needed both a return value and a try."""
    from mlplab.cli import main

    assert main(["train", "--bogus", "1"]) == 2
    assert "unknown setting '--bogus'" in capsys.readouterr().err
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("mlplab ")
    assert main(["train", "--lr", "x"]) == 2


@pytest.mark.parametrize("command", ["train", "sweep", "gradcheck", "backprop"])
def test_a_config_file_after_a_flag_of_several_values_is_named(run_cli, tmp_path, command):
    """`mlplab train --target a b FILE.yaml` read the file's name as a third target and
    loaded no config: --print_config showed another config with exit 0, and a run failed
    on a "column" that named no cause. The sweep caught it; train, gradcheck and backprop
    did not."""
    config = tmp_path / "c.yaml"
    config.write_text("data: xor\nseed: 777\n")
    extra = ["--print_config"] if command == "train" else []
    proc = run_cli(command, "--target", "a", "b", config, *extra, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr.strip() == (
        f"mlplab: setting 'target': {str(config)!r} was read as one of its values; give the "
        f"config file first (`mlplab {command} {config} --target ...`) or as --config {config}"
    )
    if command == "train":  # first, as the line says, it is the config
        shown = run_cli(command, config, "--target", "a", "b", *extra, cwd=tmp_path)
        assert shown.returncode == 0 and "seed: 777" in shown.stdout, shown.stderr


def test_names_with_control_characters_print_them_written_out(run_cli, tmp_path):
    """A data file or folder named with an escape sequence (handed over by someone else)
    retitled, cleared or recoloured the terminal from train's first and last lines, and
    from the paths plot and predict --out print."""
    esc = "d\x1b]0;PWN\x07"
    shown = "d\\x1b]0;PWN\\x07"
    data = tmp_path / f"{esc}.csv"
    data.write_text("a,b,y\n" + "".join(f"{i / 10},{(i * 7) % 5},{i % 2}\n" for i in range(30)))
    train = run_cli(
        "train", "--data", data.name, "--epoch", "2", "--log_path", "runs", cwd=tmp_path
    )
    assert train.returncode == 0, train.stderr
    assert "\x1b" not in train.stdout + train.stderr and f"on {shown}.csv" in train.stdout
    (run,) = (tmp_path / "runs" / "exp").glob("exp-*")
    (tmp_path / esc).mkdir()
    out = tmp_path / esc / "p.csv"
    predict = run_cli("predict", run, "--data", data, "--out", out)
    assert predict.returncode == 0, predict.stderr
    assert "\x1b" not in predict.stdout and shown in predict.stdout
    plot = run_cli("plot", run, "--out", tmp_path / esc / "pics")
    assert plot.returncode == 0, plot.stderr
    assert "\x1b" not in plot.stdout and shown in plot.stdout


def test_a_command_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    """A report of many runs under a memory limit (or matplotlib's import there) ended in
    a 30-line traceback and MemoryError."""
    import mlplab.reports.api as api
    from mlplab.cli import main

    def starved(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(api, "report", starved)
    (tmp_path / "runs").mkdir()
    assert main(["report", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlplab: report ran out of memory; give it")


def test_a_dumb_terminal_gets_tables_without_lines(tmp_path, monkeypatch):
    """TERM=dumb (a screen reader's terminal, an editor's shell) still got box-drawing
    characters, which a screen reader read aloud one by one."""
    import subprocess
    import sys

    env = {**os.environ, "TERM": "dumb"}
    base = [sys.executable, "-m", "mlplab"]
    for args in (
        ["train", "--data", "iris", "--epoch", "2", "--plots", "none", "--log_path", str(tmp_path)],
        ["report", str(tmp_path)],
        ["datasets"],
    ):
        proc = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert not set("┏┃━│─┼┡┗└┌") & set(proc.stdout), (args, proc.stdout)
        assert " split " in proc.stdout or " rank " in proc.stdout or " name " in proc.stdout


def test_quiet_still_says_why_the_status_is_130_when_a_ctrl_c_came_as_the_run_ended(
    tmp_path, capsys, monkeypatch
):
    """-q printed nothing at all where a Ctrl-C came as the run finished (status 130): the
    line that says the record is complete is its only one, and a finished run's record has
    no message."""
    import mlplab.runner as runner
    from mlplab.cli import main

    real = runner.train

    def stopped_as_it_ended(*args, **kwargs):
        result = real(*args, **kwargs)
        result.exit_code = 130  # as train sets it for a stop that came as the run ended
        return result

    monkeypatch.setattr(runner, "train", stopped_as_it_ended)
    status = main(["train", "--data", "xor", "--epoch", "2", "--plots", "none", "-q",
                   "--log_path", str(tmp_path)])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 130 and out == ""
    assert err == "mlplab: SIGINT came as the run ended: it finished, and its record is complete\n"


def test_help_names_what_the_commands_take(run_cli):
    """predict's --data listed CSV, Parquet and NPZ (it reads .tsv and .txt too); --features
    said predict takes x1, x2, where a file's run takes the file's own two columns; and
    --save_every said nothing of a kill, after which only a written checkpoint resumes."""
    predict = " ".join(run_cli("predict", "--help").stdout.split())
    assert "rows (.csv, .tsv, .txt, .parquet or .npz)" in predict
    train = " ".join(run_cli("train", "--help").stdout.split())
    assert "predict takes the data's own two columns (x1, x2 of a built-in set)" in train
    assert "a kill -9 leaves only the last of every N to resume from" in train


def test_help_lists_only_what_each_command_uses(run_cli):
    """gradcheck's help had a `schedule:` heading over none of its flags and an `output:`
    group of --id_digits alone; backprop listed --log_val and --id_digits, which it uses
    no more than gradcheck does."""
    gradcheck = run_cli("gradcheck", "--help").stdout
    assert "schedule:" not in gradcheck and "--id_digits" not in gradcheck
    backprop = run_cli("backprop", "--help").stdout
    assert "--log_val" not in backprop and "--id_digits" not in backprop
    assert "--patience" in backprop  # it stops the training a trace follows early
    train = run_cli("train", "--help").stdout
    assert "schedule:" in train and "--id_digits" in train and "--log_val" in train


def test_train_help_names_the_settings_that_leave_a_run_as_it_is(run_cli):
    """Which settings make a run's identity was only in the README: --snapshot_every 5 on
    a finished run kept it and drew no animation, and --help never said why."""
    from mlplab.config import HASH_EXCLUDED

    text = " ".join(run_cli("train", "--help").stdout.split())
    named = text.split("A run is its settings but ", 1)[1].split(":", 1)[0]
    flags = set(re.findall(r"--(\w+)", named))
    # Where the run goes (log_path, exp_name) and an old spelling (use_xavier) aside.
    assert flags == set(HASH_EXCLUDED) - {"log_path", "exp_name", "use_xavier"}


def test_an_empty_config_file_is_noted(run_cli, tmp_path):
    """An empty YAML (a student's empty submission) trained every default without a word."""
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    proc = run_cli("train", tmp_path / "empty.yaml", "--epoch", "2", "--plots", "none",
                   "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        f"mlplab: note: {tmp_path / 'empty.yaml'} sets nothing: every setting not given as a "
        "flag is its default\n"
    )
    (tmp_path / "some.yaml").write_text("epoch: 2\n")
    proc = run_cli("train", tmp_path / "some.yaml", "--plots", "none", "--log_path", tmp_path)
    assert proc.returncode == 0 and "sets nothing" not in proc.stdout
    # A sweep of an empty file trained every default in each row, as silently.
    proc = run_cli("sweep", tmp_path / "empty.yaml", "--epoch", "2", "--lr", "0.1", "1",
                   "--plots", "none", "--log_path", tmp_path / "grid")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"mlplab: note: {tmp_path / 'empty.yaml'} sets nothing")


def test_a_command_out_of_memory_is_told_what_shrinks_that_commands_work(run_cli, monkeypatch):
    """`train` out of memory was told "or less to do (a report of one --exp_name)", a
    report's remedy."""
    import mlplab.cli

    def no_memory(args):
        raise MemoryError

    for command in ("train", "report"):
        monkeypatch.setattr(mlplab.cli, f"_cmd_{command}", no_memory)
    proc = run_cli("train", "--data", "xor")
    assert (proc.returncode, proc.stderr) == (
        1,
        "mlplab: train ran out of memory; give it more (a batch job's memory request, "
        "`ulimit -v`)\n",
    )
    proc = run_cli("report", "runs")
    assert proc.returncode == 1 and proc.stderr.endswith(
        "`ulimit -v`), or less to do (a report of one --exp_name)\n"
    )


def test_a_sweep_stopped_by_a_limit_or_a_workers_python_says_what_mends_it():
    """A worker's Python this user may not run was told "(the folder writable again)", and
    a file-size limit's "File too large" named no limit."""
    import argparse
    import errno
    import resource

    from mlplab.cli import _sweep_goes_on

    sweep = argparse.Namespace(command="sweep")
    python = OSError(errno.EACCES, "Permission denied", "/srv/lab/.venv/bin/python")
    assert _sweep_goes_on(sweep, python).startswith(
        "; the sweep stopped: once that is mended (a Python workers can run, or --workers 1),"
    )
    folder = OSError(errno.EACCES, "Permission denied", "/srv/lab/runs/exp")
    assert "(the folder writable again)" in _sweep_goes_on(sweep, folder)
    named = OSError(errno.EACCES, "Permission denied", "/srv/lab/runs/python-lab")  # a name
    assert "(the folder writable again)" in _sweep_goes_on(sweep, named)
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/lab/runs/exp/x")
    assert "once that is mended (the disk is full), the same command" in _sweep_goes_on(sweep, full)
    # A run's own line in a sweep's progress and its record say it too.
    from mlplab.errors import error_line

    assert error_line(full) == "No space left on device (/srv/lab/runs/exp/x): the disk is full"
    big = OSError(errno.EFBIG, "File too large", "/srv/lab/runs/exp/x")
    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY:
        assert "(a file larger than its file system takes)" in _sweep_goes_on(sweep, big)


def test_a_big_data_file_is_said_to_be_read_before_the_wait(tmp_path, run_cli, monkeypatch):
    """A 115 MB CSV was read and checked for 10 s with nothing printed, by train, sweep and
    predict alike: a line names the file and its size first (on stderr, where progress
    goes), unless -q. The size that counts as big is made small here."""
    import mlplab
    import mlplab.console

    rows = ["a,b,y", *(f"{i / 7:.3f},{(i * 3) % 11},{i % 2}" for i in range(60))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    size = (tmp_path / "d.csv").stat().st_size
    common = ["--data", "d.csv", "--epoch", "2", "--plots", "none", "--log_path", "runs"]
    said = f"mlplab: reading d.csv ({size} B) ..."
    proc = run_cli("train", *common, "--exp_name", "small", cwd=tmp_path)
    assert proc.returncode == 0 and "reading" not in proc.stderr  # 20 MiB and more only
    monkeypatch.setattr(mlplab.console, "BIG_DATA_FILE", size)
    proc = run_cli("train", *common, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr.splitlines()[0] == said, proc.stderr
    run = next((tmp_path / "runs" / "exp").iterdir())
    proc = run_cli("sweep", *common, "--lr", "0.1", "0.2", "--workers", "1", "--no_report",
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr.count(said) == 1, proc.stderr
    proc = run_cli("predict", run, "--data", "d.csv", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr.splitlines()[0] == said, proc.stderr
    proc = run_cli("predict", run, "--data", "d.csv", "-q", cwd=tmp_path)
    assert proc.returncode == 0 and "reading" not in proc.stderr
    proc = run_cli("train", *common, "--rerun", "-q", cwd=tmp_path)
    assert proc.returncode == 0 and "reading" not in proc.stderr
    # --resume from another folder names the file it reads, found above the run's folder
    # (it named d.csv of the current folder, or none where no such file was).
    monkeypatch.chdir(tmp_path)
    stopped = mlplab.train(data="d.csv", epoch=50, plots="none", log_path="runs",
                           exp_name="cut", stop=lambda: True, verbose=False)  # fmt: skip
    assert stopped.status == "interrupted"
    (tmp_path / "elsewhere").mkdir()
    proc = run_cli("train", "--resume", stopped.run_dir, cwd=tmp_path / "elsewhere")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == f"mlplab: reading {tmp_path / 'd.csv'} ({size} B) ..."


def test_backend_numpy_or_torch_points_to_the_engine(tmp_path, run_cli):
    """`--backend numpy` (PyTorch's and Keras's word for it) was sent to `mlplab sweep
    --backend`, which then refused numpy: no line named `engine`."""
    import mlplab
    from mlplab.errors import ConfigError

    meant = "the NumPy or PyTorch engine is the setting 'engine' ({}); a sweep's backend is"
    proc = run_cli("train", "--data", "xor", "--backend", "numpy")
    assert_one_line_error(proc, "unknown setting '--backend': " + meant.format("--engine numpy"))
    proc = run_cli("sweep", "--data", "xor", "--lr", "1", "2", "--backend=Torch")
    assert_one_line_error(proc, "invalid choice: 'Torch'", meant.format("--engine torch"))
    (tmp_path / "be.yaml").write_text("data: xor\nbackend: torch\n")
    proc = run_cli("train", "--config", tmp_path / "be.yaml")
    assert_one_line_error(proc, "be.yaml: 'backend': " + meant.format("engine: torch"))
    # A sweep's file too, which named no file for it.
    proc = run_cli("sweep", "--config", tmp_path / "be.yaml", "--lr", "1", "2")
    assert_one_line_error(proc, "be.yaml: 'backend': " + meant.format("engine: torch"))
    with pytest.raises(ConfigError, match=re.escape(meant.format("engine='numpy'"))):
        mlplab.train(data="xor", backend="numpy", record=False, verbose=False)
    with pytest.raises(ConfigError, match=re.escape(meant.format("engine='numpy'"))):
        mlplab.sweep(data="xor", lr=[1, 2], backend="numpy", verbose=False)
    # Where a sweep's backend is what was meant, the line says so as before, and so does a
    # command that has no --engine to point to.
    proc = run_cli("train", "--data", "xor", "--backend", "ray")
    assert_one_line_error(proc, "unknown setting '--backend' (a setting of mlplab sweep)")
    proc = run_cli("report", "--backend", "numpy", cwd=tmp_path)
    assert_one_line_error(proc, "unknown setting '--backend' (a setting of mlplab sweep)")
