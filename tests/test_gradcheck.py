"""Every hand-written derivative and optimizer step passes ``mlplab.gradcheck``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from conftest import EXAMPLES
from mlplab.config import OPTIMIZERS
from mlplab.gradcheck import CheckResult, format_table, run_gradcheck

# The module itself (the package exposes ``mlplab.gradcheck`` as the function run_gradcheck).
gradcheck = importlib.import_module("mlplab.gradcheck")

# Run once at collection so that each component is its own test and a failure names it.
RESULTS = run_gradcheck(seed=0)


@pytest.mark.parametrize("result", RESULTS, ids=[r.component for r in RESULTS])
def test_component_passes(result: CheckResult):
    limit = gradcheck.FD_RTOL if "finite diff" in result.component else gradcheck.TORCH_RTOL
    assert result.passed, f"{result.component}: relative error {result.max_rel_err:.3g} > {limit:g}"
    assert result.max_rel_err <= limit


def test_every_component_is_checked_against_both_references():
    names = [r.component for r in RESULTS]
    assert len(names) == len(set(names))
    parts = ["activation gelu", "loss cross_entropy", "linear", "batchnorm train", "dropout"]
    parts.append("linear (one input for all models)")  # the shared-input product
    for part in [*parts, "residual block", "mlp multiclass"]:
        assert any(n.startswith(part) and n.endswith("vs finite diff") for n in names)
        assert any(n.startswith(part) and n.endswith("vs torch") for n in names)
    for opt in OPTIMIZERS:
        assert any(n.startswith(f"optimizer {opt} ") for n in names)
    assert sum(n.startswith("mlp ") for n in names) >= 6


def test_other_seeds_pass_too():
    assert all(r.passed for r in run_gradcheck(seed=1))


def test_a_wrong_derivative_is_caught(monkeypatch):
    # guards against a check that cannot fail: break sigmoid' and expect two failures
    from mlplab.engines.numpy import functional

    f, _ = functional.ACTIVATIONS["sigmoid"]
    monkeypatch.setitem(functional.ACTIVATIONS, "sigmoid", (f, lambda z, a: a * (1 - a) * 1.001))
    failed = {
        r.component for r in gradcheck.check_activations(np.random.default_rng(0)) if not r.passed
    }
    assert failed == {"activation sigmoid vs finite diff", "activation sigmoid vs torch"}


def test_format_table_and_main(capsys, monkeypatch):
    table = format_table(
        [CheckResult("linear vs torch", 1e-16, 2e-16, True), CheckResult("x", 1.0, 0.5, False)]
    )
    lines = table.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == [
        "component",
        "max abs err",
        "max rel err",
        "pass",
    ]
    assert "ok" in lines[2] and "FAIL" in lines[3]

    monkeypatch.setattr(gradcheck, "run_gradcheck", lambda seed=0: RESULTS)
    assert gradcheck.main([]) == 0
    out = capsys.readouterr().out
    assert f"{len(RESULTS)}/{len(RESULTS)} checks passed" in out
    monkeypatch.setattr(
        gradcheck, "run_gradcheck", lambda seed=0: [*RESULTS, CheckResult("bad", 1.0, 1.0, False)]
    )
    assert gradcheck.main(["--seed", "3"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_a_config_checks_its_own_model_and_optimizer(tmp_path, capsys, monkeypatch):
    """A teacher could not point gradcheck at the model of the lesson (`--act tanh` was an
    unknown setting): given a config or settings, it checks that model and its optimizer."""
    from mlplab.cli import main

    argv = ["gradcheck", "--data", "ring", "--n_layer", "2", "--hid_dim", "6", "--act", "tanh"]
    assert main([*argv, "--use_bn", "--dp_rate", "0.2", "--optim", "adam"]) == 0
    out = capsys.readouterr().out
    rows = [line.split("|")[0].strip() for line in out.splitlines() if "|" in line][1:]
    assert rows == [
        "mlp 2-6-6-3 tanh bn dp 0.2 on ring (multiclass) vs finite diff",
        "mlp 2-6-6-3 tanh bn dp 0.2 on ring (multiclass) vs torch",
        "optimizer adam (3 steps) vs torch",
    ]
    assert "3/3 checks passed" in out and "not checked" not in out
    # Settings of the run that the check leaves out are named: "3/3 checks passed" read
    # as the whole config verified.
    left = ["--class_weight", "balanced", "--l1_coef", "0.01", "--lr_schedule", "cosine"]
    assert main([*argv, *left]) == 0
    assert capsys.readouterr().out.endswith(
        "3/3 checks passed (tolerance: relative error <= 1e-05 vs finite differences with eps "
        "1e-06, <= 1e-06 vs torch)\nmlplab: note: not checked: class_weight balanced (the "
        "loss is checked unweighted); l1_coef 0.01 (its step toward 0 after each update); "
        "lr_schedule cosine (the lr is checked constant)\n"
    )
    # Settings that a check does not use are accepted (a config's own) and noted.
    assert main([*argv, "--dtype", "float32", "--epoch", "5"]) == 0
    assert capsys.readouterr().out.startswith(
        "mlplab: note: not used by a gradient check (float64, inputs of its own): "
        "--dtype float32; --epoch 5\n"
    )
    # The config's own derivative is the one checked: a broken tanh' fails it.
    from mlplab.engines.numpy import functional

    f, _ = functional.ACTIVATIONS["tanh"]
    monkeypatch.setitem(functional.ACTIVATIONS, "tanh", (f, lambda z, a: (1 - a * a) * 1.001))
    assert main(argv) == 1
    assert "FAIL" in capsys.readouterr().out


def test_an_optimizer_step_that_overflows_fails_rather_than_passes(run_cli):
    """lr 1e308: both optimizers' steps overflow to NaN, which max() dropped: the row read
    "0.00e+00 ok", after three RuntimeWarnings with source paths."""
    proc = run_cli(
        "gradcheck", "--data", "xor", "--hid_dim", "3", "--lr", "1e308", "--optim", "adam"
    )
    assert proc.returncode == 1
    (row,) = [line for line in proc.stdout.splitlines() if line.startswith("optimizer adam")]
    assert row.split("|")[1].strip() == "nan" and row.endswith("FAIL")
    assert proc.stderr == ""


def test_a_model_too_large_for_finite_differences_is_one_line(run_cli):
    proc = run_cli("gradcheck", "--data", "digits", "--hid_dim", "1000")
    assert proc.returncode == 2
    assert "the model has 75,010 parameters; finite differences check at most 50,000" in proc.stderr
    assert "give a smaller --hid_dim or --n_layer" in proc.stderr
    # A config with hid_dims: --hid_dim does not apply, and the hint says what does.
    proc = run_cli("gradcheck", EXAMPLES / "digits_mlp.yaml", "--hid_dim", "10")
    assert proc.returncode == 2
    assert "give smaller --hid_dims (such as 16-8: they set every hidden width" in proc.stderr
    proc = run_cli("gradcheck", EXAMPLES / "digits_mlp.yaml", "--hid_dims", "16-8")
    assert proc.returncode == 0, proc.stderr
