"""``mlplab backprop``: the chain rule of one real training step, checked by autograd.

The lecture's manual backprop script gives the reference numbers for the 2-2-1 sigmoid
network; torch autograd those of every depth, activation, loss, batch norm and dropout;
the real training loop those of the step after; real processes the command line.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLES, assert_one_line_error
from mlplab.chainrule import Trace, _update_formula, backprop, backprop_command
from mlplab.config import OPTIMIZERS
from mlplab.engines.backend import OptimSpec
from mlplab.engines.numpy import functional
from mlplab.engines.numpy.functional import ACTIVATIONS

SCRIPT = EXAMPLES / "xor_backprop.py"


def _script_step0() -> dict[str, np.ndarray]:
    """Every variable of ``examples/xor_backprop.py`` after its first step (step 0)."""
    source = SCRIPT.read_text()
    assert "STEPS = 10001" in source
    scope: dict[str, object] = {"__name__": "xor_backprop"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source.replace("STEPS = 10001", "STEPS = 1"), str(SCRIPT), "exec"), scope)
    return {k: np.asarray(v) for k, v in scope.items() if isinstance(v, np.ndarray | float)}


def _script_weights() -> dict[str, np.ndarray]:
    """The script's initial weights (same seed, same draws), in mlplab's [out, in] names."""
    rng = np.random.default_rng(777)
    w1, b1 = rng.standard_normal((2, 2)), rng.standard_normal((2,))
    w2, b2 = rng.standard_normal((2, 1)), rng.standard_normal((1,))
    return {
        "hidden.0.linear.weight": w1.T,
        "hidden.0.linear.bias": b1,
        "out.weight": w2.T,
        "out.bias": b2,
    }


XOR_221 = dict(
    data="xor", n_layer=1, hid_dim=2, act="sigmoid", optim="sgd", lr=1.0, epoch=1, seed=777
)


def test_xor_221_equals_the_lecture_script_line_by_line() -> None:
    s = _script_step0()
    trace = backprop(XOR_221, dtype="float64", weights=_script_weights())
    assert trace.passed, trace.verdict()
    n = len(s["X"])  # the script's deltas are of the summed cost: n times mlplab's (the mean's)

    def same(name: str, expected: np.ndarray, rtol: float = 1e-12) -> None:
        np.testing.assert_allclose(trace[name].value, expected, rtol=rtol, atol=1e-15, err_msg=name)

    for name in ("X", "Y", "l1", "a1", "l2", "Y_pred"):
        same(name, s[name])
    same("cost", s["cost"])
    # The script adds 1e-7 to d_Y_pred's denominator (relative ~4e-7 here); the rest is exact.
    for name in ("d_Y_pred", "d_l2", "d_w2", "d_a1", "d_l1", "d_w1"):
        np.testing.assert_allclose(trace[name].value * n, s[name], rtol=1e-6, err_msg=name)
    assert not np.allclose(trace["d_w1"].value * n, s["d_w1"], rtol=1e-12)  # the 1e-7 shows
    # Its bias step is by the mean of the deltas: exactly d_b here, and the same new bias.
    for b in ("b1", "b2"):
        same(f"d_{b}", s[f"d_{b}"].mean(axis=0), rtol=1e-6)
        same(f"new_{b}", s[b], rtol=1e-6)
    # Its weight step is by the summed gradient: lr * n * d_w of the mean cost.
    for w in ("w1", "w2"):
        np.testing.assert_allclose(
            trace[w].value - 1.0 * n * trace[f"d_{w}"].value, s[w], rtol=1e-6, err_msg=w
        )
        np.testing.assert_allclose(
            trace[f"new_{w}"].value, trace[w].value - trace[f"d_{w}"].value, rtol=1e-12
        )


def _script_lines() -> list[tuple[str, str]]:
    """``(name, formula)`` of each assignment in the script's training loop, in order."""
    loop = SCRIPT.read_text().split("for step in range(STEPS):")[1].split("if step %")[0]
    return re.findall(r"^    (\w+) = (.+)$", loop, flags=re.MULTILINE)


def _plain(formula: str) -> str:
    """A formula without NumPy's prefix, spaces, trailing notes and the script's spelling."""
    formula = formula.split("   (")[0].replace("np.", "").replace("LEARNING_RATE", "lr")
    return formula.replace("1.0", "1").replace(" ", "")


def test_xor_221_lecture_form_equals_the_lecture_script_line_by_line() -> None:
    """--form lecture: every line of the script's first step, same formula, equal value."""
    s = _script_step0()
    trace = backprop(XOR_221, dtype="float64", weights=_script_weights(), form="lecture")
    assert trace.passed, trace.verdict()
    assert trace.form == "lecture" and "lecture form" in trace.title
    for name in ("X", "Y"):
        np.testing.assert_array_equal(trace[name].value, s[name], err_msg=name)
    lines = _script_lines()
    assert [n for n, _ in lines][:6] == ["l1", "a1", "l2", "Y_pred", "cost", "d_Y_pred"]
    # The update reassigns w1 ... b2: the trace calls the new values new_w1 ... new_b2.
    # The trace adds the values of the script's sigmoid_prime(l2), sigmoid_prime(l1) factors.
    traced = [q for q in trace.quantities if q.phase != "input" and "'" not in q.name]
    assert [q.name for q in traced] == [
        f"new_{n}" if n in ("w1", "b1", "w2", "b2") else n for n, _ in lines
    ]
    for q, (name, formula) in zip(traced, lines):
        assert _plain(q.formula) == _plain(f"{q.name} = {formula}".replace(f"{name}=", "")), name
        np.testing.assert_array_equal(q.value, s[name], err_msg=q.name)  # equal, not close
        assert q.max_diff is not None  # and each one checked by autograd
    # The slide's bias step uses the mean of the deltas, its weight step their sum.
    assert trace["d_b1"].shape == (4, 2) and trace["d_w1"].shape == (2, 2)
    np.testing.assert_array_equal(trace.grads["out.bias"], s["d_b2"].mean(axis=0))
    np.testing.assert_array_equal(trace.updated["out.weight"], s["w2"].T)


@pytest.mark.parametrize(
    "act, dtype, step", [("sigmoid", "float64", 0), ("tanh", "float64", 5), ("relu", "float32", 2)]
)
def test_lecture_form_is_n_times_the_mean_form_up_to_the_slides_1e7(
    act: str, dtype: str, step: int
) -> None:
    """Deeper nets and mini-batches: the slide's sums are N times the mean cost's gradients."""
    cfg = dict(
        data="moons", n_samples=40, batch_size=8, n_layer=2, hid_dim=4, act=act, optim="sgd",
        lr=0.5, lr_schedule="cosine", epoch=2, dtype=dtype, seed=2,
    )  # fmt: skip
    mean, lecture = backprop(cfg, step=step), backprop(cfg, step=step, form="lecture")
    assert mean.passed and lecture.passed, (mean.verdict(), lecture.verdict())
    n = 8
    # The 1e-7 changes each row's delta by a factor s / (s + 1e-7), s = Y_pred * (1 - Y_pred);
    # float32's own rounding is 1e-7 relative.
    y_pred = mean["Y_pred"].value.astype(np.float64)
    rtol = 2e-7 / float((y_pred * (1 - y_pred)).min()) + (2e-6 if dtype == "float32" else 0)
    for name in ("d_Y_pred", "d_l3", "d_w3", "d_a2", "d_l2", "d_w2", "d_l1", "d_w1"):
        expected = n * mean[name].value.astype(np.float64)
        np.testing.assert_allclose(
            lecture[name].value, expected, rtol=rtol, atol=1e-7, err_msg=name
        )
    for k in (1, 2, 3):  # the slide's bias delta is per row; its step is their mean: d_b
        assert lecture[f"d_b{k}"].shape == (n, mean[f"d_b{k}"].shape[0])
        np.testing.assert_allclose(
            lecture[f"d_b{k}"].value.mean(axis=0), mean[f"d_b{k}"].value, rtol=rtol, atol=1e-7
        )
        np.testing.assert_allclose(lecture[f"new_b{k}"].value, mean[f"new_b{k}"].value, rtol=1e-5)
    at = re.search(r"\(lr = (\S+)\)", lecture["new_w1"].formula)
    assert at is not None
    lr = float(at.group(1))
    assert (lr < 0.5) == (lecture.epoch > 0)  # the cosine schedule's rate of that step
    step_w = lecture["w1"].value - lr * n * mean["d_w1"].value
    np.testing.assert_allclose(lecture["new_w1"].value, step_w, rtol=1e-5, atol=1e-7)


def test_lecture_names_in_order_for_xor_nn() -> None:
    trace = backprop(EXAMPLES / "xor_nn.yaml")
    lecture = ["l1", "a1", "l2", "Y_pred", "cost", "d_Y_pred", "d_l2", "d_w2", "d_a1", "d_l1"]
    lecture += ["d_w1", "d_b1", "d_b2", "new_w1", "new_b1", "new_w2", "new_b2"]
    assert set(lecture) <= set(trace.names)
    order = [trace.names.index(n) for n in lecture[:11]]
    assert order == sorted(order)
    assert trace["l1"].formula == "l1 = X @ w1 + b1"
    assert trace["d_l1"].formula == "d_l1 = d_a1 * a1 * (1 - a1)"
    assert trace["d_w1"].formula == "d_w1 = X.T @ d_l1"
    assert trace["w1"].shape == (2, 2) and trace["d_w2"].shape == (2, 1)
    # init: torch gives the slide's own first cost
    assert float(trace["cost"].value) == pytest.approx(0.7434073090553284, rel=1e-6)


def test_title_of_a_linear_model_names_no_activation() -> None:
    # The perceptron lab has no hidden layer, so the config's act (relu by default) is unused.
    trace = backprop(EXAMPLES / "xor_perceptron.yaml")
    assert not any(n.startswith("a") and n[1:].isdigit() for n in trace.names)
    assert ", 2-1 linear, bce loss" in trace.title
    assert ", 2-2-1 sigmoid, bce loss" in backprop(EXAMPLES / "xor_nn.yaml").title


def test_title_says_a_torch_engine_or_gpu_of_the_config_is_not_used() -> None:
    """`--engine torch --step 100` showed the NumPy engine's step under a title that named
    no engine, and `--device cuda` went unsaid where train refuses it on this machine."""
    title = backprop(EXAMPLES / "xor_nn.yaml", engine="torch", device="cuda").title
    assert (
        ", float32, on the NumPy engine and the CPU (the config's engine torch and device "
        "cuda not used); checked against torch autograd" in title
    )
    assert "engine" not in backprop(EXAMPLES / "xor_nn.yaml", engine="numpy").title
    # engine auto, where train would pick torch: a step past 2,000,000 hidden activations.
    wide = backprop(data="moons", hid_dim=4000, n_layer=1).title
    assert "(the config's engine auto (torch for this model) not used)" in wide
    assert "engine" not in backprop(data="moons", hid_dim=40, n_layer=1).title


VARIANTS = {
    "plain": dict(use_bn=False, dp_rate=0.0, sc_type="none"),
    "bn": dict(use_bn=True, dp_rate=0.0, sc_type="none"),
    "dropout": dict(use_bn=False, dp_rate=0.3, sc_type="none"),
    "bn+dropout+residual": dict(use_bn=True, dp_rate=0.25, sc_type="residual"),
}
DATA = {"bce": "moons", "cross_entropy": "ring", "mse": "sinlog"}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("loss", list(DATA))
def test_every_activation_depth_loss_and_layer_agrees_with_autograd(
    loss: str, depth: int, variant: str
) -> None:
    for j, act in enumerate(ACTIVATIONS):
        dtype = ("float32", "float64")[j % 2]  # the default dtype, and the exact one
        trace = backprop(
            data=DATA[loss], n_samples=40, batch_size=8, n_layer=depth, hid_dim=4, act=act,
            optim="adam", lr=0.01, epoch=2, dtype=dtype, seed=3, step=1, **VARIANTS[variant],
        )  # fmt: skip
        assert trace.passed, (act, trace.verdict())
        checked = [q for q in trace.quantities if q.max_diff is not None]
        assert len(checked) >= 4 * depth + 8  # every layer's quantities were compared
        L = depth + 1
        assert {f"l{L}", f"d_w{L}", "d_w1", f"new_w{L}"} <= set(trace.names)
        assert trace.spec.loss == loss
        if VARIANTS[variant]["dp_rate"]:
            mask = trace["mask1"].value
            kept = 1 / (1 - VARIANTS[variant]["dp_rate"])
            assert (np.isclose(mask, 0) | np.isclose(mask, kept)).all() and (mask == 0).any()
        if VARIANTS[variant]["use_bn"]:
            assert f"d_gamma{depth}" in trace.names and f"a{depth}_hat" in trace.names


@pytest.mark.parametrize("optim", OPTIMIZERS)
def test_update_is_the_optimizers_after_steps_of_state(optim: str) -> None:
    """Momentum and moment estimates carried from earlier steps: torch.optim agrees."""
    trace = backprop(
        data="ring", n_samples=40, batch_size=8, n_layer=2, hid_dim=4, act="tanh", use_bn=True,
        dp_rate=0.2, optim=optim, lr=0.05, mm=0.9, l2_coef=0.01, epoch=3, seed=1, step=6,
        lr_schedule="cosine",
    )  # fmt: skip
    assert trace.passed, trace.verdict()
    assert trace["new_w1"].max_diff is not None


def test_an_optimizer_without_an_update_formula_is_an_error_not_adams_formula() -> None:
    """An optimizer unknown to the trace printed Adam's formula beside its own values, and
    the check (of values, not text) still said ok: it is an error a test catches."""
    with pytest.raises(ValueError, match="no update formula for optimizer 'lbfgs'"):
        _update_formula(OptimSpec("lbfgs", lr=0.1), "w1", 0.1)
    assert _update_formula(OptimSpec("adam", lr=0.1), "w1", 0.1).startswith("new_w1 = w1 - lr")


def test_the_step_is_the_training_loops_step() -> None:
    """Step k's update, dropout draw and batch-norm statistics are what training does next."""
    cfg = dict(
        data="moons", n_samples=40, batch_size=16, n_layer=2, hid_dim=5, act="relu",
        use_bn=True, dp_rate=0.3, optim="adam", lr=0.01, epoch=3, seed=5,
    )  # fmt: skip
    for k in (0, 2, 3):  # 3 batches an epoch: step 3 opens the second epoch
        now, after = backprop(cfg, step=k), backprop(cfg, step=k + 1)
        assert now.step == k and after.step == k + 1
        assert after.weights.keys() == now.updated.keys()
        for name, value in after.weights.items():
            np.testing.assert_array_equal(value, now.updated[name], err_msg=f"{k} {name}")
    assert backprop(cfg, step=3).epoch == 1


def test_saturated_output_is_explained_not_failed() -> None:
    """Y_pred rounds to 1 in float32: d_Y_pred is 0/0 there, d_l2 from l2 is still exact."""
    weights = {
        "hidden.0.linear.weight": np.zeros((2, 2)),
        "hidden.0.linear.bias": np.zeros(2),
        "out.weight": np.ones((1, 2)),
        "out.bias": np.array([50.0]),
    }
    trace = backprop(dict(data="xor", n_layer=1, hid_dim=2, act="sigmoid"), weights=weights)
    assert not np.isfinite(trace["d_Y_pred"].value).all()
    assert "rounds to 0 or 1" in trace["d_Y_pred"].note and trace["d_Y_pred"].max_diff is None
    np.testing.assert_allclose(trace["d_l2"].value.ravel(), [0.25, 0, 0, 0.25])
    assert trace.passed and trace["d_l2"].max_diff is not None
    lecture = backprop(dict(data="xor", n_layer=1, hid_dim=2, act="sigmoid"), weights=weights,
                       form="lecture")  # fmt: skip
    np.testing.assert_allclose(lecture["d_Y_pred"].value.ravel(), [1e7, 0, 0, 1e7], rtol=1e-6)
    assert "1e-7" in lecture["d_Y_pred"].note and lecture.passed
    assert (lecture["d_l2"].value == 0).all() and lecture["d_l2"].max_diff is not None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", ["mean", "lecture"])
def test_a_nearly_saturated_output_is_checked_and_passes(dtype: str, form: str) -> None:
    """Y_pred = sigmoid(-40) = 4e-18: Y_pred * (1 - Y_pred) is below the 1e-12 at which torch's
    bce backward clamps it, but not 0. The trace's d_Y_pred is the exact formula's (the
    lecture's slide would give the same), so it is checked, and passes, not FAILED."""
    weights = {
        "hidden.0.linear.weight": np.zeros((2, 2)),
        "hidden.0.linear.bias": np.zeros(2),
        "out.weight": np.ones((1, 2)),
        "out.bias": np.array([-41.0]),  # l2 = -40 on every row
    }
    cfg = dict(data="xor", n_layer=1, hid_dim=2, act="sigmoid", dtype=dtype)
    trace = backprop(cfg, weights=weights, form=form)
    q = trace["d_Y_pred"]
    y_pred = trace["Y_pred"].value.ravel().astype(np.float64)
    s = y_pred * (1 - y_pred)
    assert (s > 0).all() and (s < 1e-12).all()
    assert q.note == "" and q.max_diff is not None, q.note
    assert trace.passed, trace.verdict()
    if form == "mean":  # the rows with Y = 1: -1 / (Y_pred * N), about -5.9e16
        np.testing.assert_allclose(q.value.ravel()[[1, 2]], -1 / (y_pred[[1, 2]] * 4), rtol=1e-6)


def test_a_wrong_d_y_pred_formula_still_fails_where_the_output_saturates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlplab import chainrule

    def clamped(task: str, y_pred: np.ndarray, y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        s = np.maximum(y_pred * (1 - y_pred), 1e-12)  # torch's clamp: not the formula shown
        return (y_pred - y.reshape(shape)) / s / shape[0]

    monkeypatch.setattr(chainrule, "_d_y_pred", clamped)
    weights = {
        "hidden.0.linear.weight": np.zeros((2, 2)),
        "hidden.0.linear.bias": np.zeros(2),
        "out.weight": np.ones((1, 2)),
        "out.bias": np.array([-41.0]),
    }
    cfg = dict(data="xor", n_layer=1, hid_dim=2, act="sigmoid", dtype="float64")
    trace = backprop(cfg, weights=weights)
    assert not trace.passed and [q.name for q in trace.failed] == ["d_Y_pred"]


@pytest.mark.parametrize("form", ["mean", "lecture"])
def test_a_wrong_derivative_fails_the_check(monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    def wrong_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1 - a  # forgot a factor

    monkeypatch.setitem(functional.ACTIVATIONS, "tanh", (functional.tanh, wrong_prime))
    out: list[str] = []
    code = backprop_command(
        None, {"data": "xor", "act": "tanh", "hid_dim": 3}, 0, None, None, 24, out.append, form
    )
    assert code == 1
    assert "verdict: FAILED" in out[0] and "d_l1" in out[0].splitlines()[-1]


def test_large_values_are_elided_and_html_renders() -> None:
    trace = backprop(data="moons", n_samples=200, n_layer=1, hid_dim=32, batch_size=64, epoch=1)
    text = trace.to_text()
    assert "..." in text and "w1" in text and "[64, 32]" in text and "[2, 32]" in text
    assert len(text.splitlines()) < 400
    assert "<table>" in trace._repr_html_() and "d_w1" in trace._repr_html_()
    with pytest.raises(KeyError, match="no quantity"):
        trace["d_w9"]


def test_cli_prints_every_quantity_and_draws_the_network(run_cli, tmp_path: Path) -> None:
    png = tmp_path / "step.png"
    proc = run_cli("backprop", EXAMPLES / "xor_nn.yaml", "--step", "100", "--plot", png)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(
        "mlplab backprop: step 100 (epoch 101, batch 1 of 1)"
    )
    for line in ("l1  ", "a1  ", "d_Y_pred  ", "d_w1  ", "new_b2  "):
        assert any(ln.startswith(line) for ln in proc.stdout.splitlines()), line
    assert "verdict: ok" in proc.stdout
    assert "d_b2      [4, 1]" not in proc.stdout  # the mean form's d_b2 is a sum over rows
    proc = run_cli("backprop", EXAMPLES / "xor_nn.yaml", "--step", "100", "--form", "lecture")
    assert proc.returncode == 0, proc.stderr
    assert "lecture form" in proc.stdout.splitlines()[0] and "verdict: ok" in proc.stdout
    assert "d_b2      [4, 1]    d_b2 = d_l2   (one row per example)" in proc.stdout
    import matplotlib.image

    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[0] > 200


def test_cli_resume_starts_from_the_runs_checkpoint(run_cli, tmp_path: Path) -> None:
    from mlplab.restore import load_run

    proc = run_cli(
        "train", "--data", "xor", "--hid_dim", "3", "--act", "tanh", "--epoch", "40",
        "--save_every", "10", "--log_path", tmp_path, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p.parent for p in tmp_path.rglob("config.yaml")]
    proc = run_cli("backprop", "--resume", run_dir)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert "step 40 " in header
    assert "(past the run's end at epoch 40: the step training on would take)" in header
    trace = backprop(resume=run_dir)
    assert backprop(resume=run_dir, step=7).step == 47  # the run has finished: it trains on
    for name, value in load_run(run_dir).weights.items():
        np.testing.assert_array_equal(trace.weights[name], value, err_msg=name)


def test_cli_resume_finds_the_runs_data_file_from_another_folder(run_cli, tmp_path: Path) -> None:
    """A run trained on data/gate.csv in its project folder: backprop --resume from
    elsewhere said the file did not exist, as train --resume did."""
    project, other = tmp_path / "project", tmp_path / "other"
    (project / "data").mkdir(parents=True)
    other.mkdir()
    rows = "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(20))
    (project / "data" / "gate.csv").write_text("a,b,y\n" + rows)
    proc = run_cli("train", "--data", "data/gate.csv", "--target", "y", "--hid_dim", "3",
                   "--epoch", "5", "--quiet", "--plots", "none", cwd=project)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p.parent for p in project.rglob("config.yaml")]
    proc = run_cli("backprop", "--resume", run_dir, cwd=other)
    assert proc.returncode == 0, proc.stderr
    assert "verdict: ok" in proc.stdout


XOR4 = ["--data", "xor", "--epoch", "4"]


@pytest.mark.parametrize(
    "args, needle",
    [
        ([*XOR4, "--step", "-1"], "--step"),
        ([*XOR4, "--step", "x"], "--step"),
        ([*XOR4, "--step", "99"], "--step 99: training ends after 4 steps"),
        (
            [*XOR4, "--batch_size", "1", "--row", "4"],
            "--row 4: the training data has 4 rows; choose 0 to 3",
        ),
        ([*XOR4, "--batch_size", "1", "--row", "-1"], "--row must be a non-negative integer"),
        ([*XOR4, "--row", "1"], "this config's step takes 4 rows: give --batch_size 1 too"),
        (["--resume", "no/such/run"], "not a run directory"),
        (["--resume", "somewhere", "--lr", "2"], "give no other settings"),
        ([*XOR4, "--plot", "picture.txt"], "--plot"),
        ([*XOR4, "--act", "sigmoidal"], "'act'"),
        ([*XOR4, "--threshold", "0"], "--threshold"),
        ([*XOR4, "--hid_dim", "40", "--plot", "net.png"], "--plot"),
        ([*XOR4, "--plot", "/proc/net.png"], "--plot '/proc/net.png' cannot be written"),
        ([*XOR4, "--form", "sum"], "--form 'sum': choose mean or lecture"),
        ([*XOR4, "--form", "lecture", "--optim", "adam"], "has optim adam: use --form mean"),
        ([*XOR4, "--form", "lecture", "--mm", "0.9", "--use_bn"], "batch norm, momentum"),
        (["--data", "ring", "--form", "lecture"], "has a multiclass output"),
        (["--data", "sinlog", "--form", "lecture"], "has a regression output"),
        # Before: no bound, and 20 GB of memory before the kernel killed it without a word.
        ([*XOR4, "--hid_dim", "1000000000"], "would take about 745"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(run_cli, tmp_path: Path, args, needle) -> None:
    proc = run_cli("backprop", *args, cwd=tmp_path)
    assert_one_line_error(proc, needle)
    assert proc.stdout == ""
    assert not list(tmp_path.iterdir())  # nothing written


def test_trace_is_public() -> None:
    import mlplab

    assert mlplab.backprop is backprop
    assert isinstance(backprop(data="xor"), Trace)


def test_help_lists_only_settings_that_change_a_trace(run_cli, tmp_path: Path) -> None:
    """--log_path, --plots, --engine and the like change nothing in a trace: accepted (a
    config's flags may be passed on as they are) but not listed."""
    text = run_cli("backprop", "--help").stdout
    for flag in ("--log_path", "--plots", "--engine", "--snapshot_every", "--log_every"):
        assert f"{flag} " not in text, flag
    for flag in ("--lr", "--act", "--patience", "--batch_size", "--seed"):
        assert f"{flag} " in text, flag
    proc = run_cli("backprop", *XOR4, "--engine", "torch", "--plots", "none", cwd=tmp_path)
    assert proc.returncode == 0 and "verdict: ok" in proc.stdout, proc.stderr


def test_the_diagram_labels_only_edges_it_can_label_legibly() -> None:
    """2-4-4-1: the 16 labels between the hidden layers piled up in one column, unreadable.
    Every label drawn must be clear of every other."""
    import matplotlib.pyplot as plt

    fig = backprop({"data": "xor", "n_layer": 2, "hid_dim": 4, "act": "tanh"}).figure()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in fig.axes[0].texts if t.get_text().startswith(("w ", "b "))]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert sum(t.get_text().startswith("w ") for t in labels) == 4  # the 4 -> 1 edges only
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    title = " ".join(fig.axes[0].get_title().split())  # wrapped to the figure's width
    assert "w and d on the edges hidden 2 → output only: more than 4 edges join the" in title
    assert "other layers (print the trace for every w and d)" in title
    plt.close(fig)


def test_the_diagram_title_fits_in_the_figure(tmp_path: Path) -> None:
    """2-3-1 relu: the note of which edges carry labels ran past both edges of the
    picture, cut off mid-word. Every line of the title lies within the figure, drawn as
    --plot writes it (120 dpi), and the axes stay clear of it."""
    trace = backprop({"data": "sinlog", "n_layer": 1, "hid_dim": 3, "act": "relu", "batch_size": 4})
    fig = trace.figure()
    fig.set_dpi(120)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    box = ax.title.get_window_extent(renderer)
    inside = fig.bbox
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (box, inside)
    assert inside.y0 <= box.y0 and box.y1 <= inside.y1, (box, inside)
    assert box.y0 >= ax.get_window_extent(renderer).y1  # above the diagram
    words = " ".join(ax.get_title().split())
    assert "(print the trace for every w and d) step 0," in words
    assert "13 parameters edge width" in words
    trace.plot(tmp_path / "relu3.png")  # and the file is written at that size


def test_the_form_takes_any_case_as_the_settings_do() -> None:
    """--form Lecture was refused, while --optim ADAM is taken."""
    trace = backprop(XOR_221, dtype="float64", weights=_script_weights(), form="Lecture")
    assert trace.form == "lecture" and "lecture form" in trace.title and trace.passed


def test_the_cost_line_also_gives_the_labs_cost_which_train_prints() -> None:
    """The cost line showed the formula from Y_pred with the engine's value from the
    logits (0.7434072495), where the slide and `mlplab train` print 0.7434073091."""
    import yaml

    cfg = yaml.safe_load((EXAMPLES / "xor_nn.yaml").read_text())
    trace = backprop(cfg)
    cost = trace["cost"]
    assert cost.max_diff is not None and trace.passed  # still checked against autograd
    lab = float(re.fullmatch(r"the lab's, from Y_pred: ([\d.]+)", cost.aside)[1])
    assert lab == pytest.approx(0.7434073090553284, abs=1e-10)  # the slide's step 0
    assert abs(float(cost.value) - lab) > 1e-8
    assert f"ok   ({cost.aside})" in trace.to_text()


def test_relus_masked_values_print_as_zero_not_negative_zero(run_cli) -> None:
    """``l1 * (l1 > 0)`` of a negative l1 is -0.0 in IEEE arithmetic, which printed as
    ``-0.`` under ``a1 = relu(l1)`` and ``d_l1``: the lecture's max(x, 0) has no sign there."""
    from mlplab.chainrule import format_value

    masked = np.array([[-1.5, 2.0]]) * np.array([[0.0, 1.0]])
    assert np.signbit(masked[0, 0])  # the negative zero itself
    assert format_value(masked) == "[[0. 2.]]"
    assert format_value(np.float64(-0.0)) == "0"
    proc = run_cli("backprop", "--data", "sinlog", "--hid_dim", "3", "--act", "relu",
                   "--batch_size", "4")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "a1 = relu(l1)" in text and "d_l1" in text
    assert not re.search(r"-0\.(?!\d)", text)  # no -0. (a -0.5 still prints)


def test_the_notes_under_the_lowest_nodes_are_clear_of_the_layer_names() -> None:
    """2-8-8-3: the unit is short in a tall diagram, and the b and d under each hidden
    column's lowest node ran into 'hidden 1' and 'hidden 2'. No word touches another."""
    import itertools

    import matplotlib.pyplot as plt

    trace = backprop({"data": "ring", "n_samples": 200, "n_layer": 2, "hid_dim": 8, "act": "tanh"})
    fig = trace.figure()
    fig.set_dpi(120)  # as --plot writes it
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text()]
    names = [t for t in texts if t.get_text().startswith(("input", "hidden", "output"))]
    assert len(names) == 4
    boxes = [t.get_window_extent(renderer) for t in texts]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    plt.close(fig)


def test_a_trace_reprs_in_one_line_and_prints_in_full():
    """A plain REPL printed the dataclass with every array: 46,000 characters for digits."""
    import mlplab

    trace = mlplab.backprop(data="digits", hid_dim=3)
    line = repr(trace)
    assert "\n" not in line and line.startswith("<Trace mlplab backprop: step 0")
    assert f"{len(trace.quantities)} quantities, ok, all " in line and len(line) < 400
    assert str(trace) == trace.to_text() and len(str(trace)) > 10 * len(line)


def test_weights_that_are_not_the_models_state_are_refused_in_one_line():
    """A grader's weights of other names or shapes came out as a KeyError from the engine
    or NumPy's broadcasting error, where every other bad input is a ConfigError."""
    from mlplab.errors import ConfigError

    good = _script_weights()
    names = (
        "hidden.0.linear.weight [2, 2], hidden.0.linear.bias [2], out.weight [1, 2], out.bias [1]"
    )
    with pytest.raises(ConfigError, match=re.escape(f"state names, {names} (weights [out, in]")):
        backprop(XOR_221, weights={"W1": np.zeros((2, 2))})
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "weights['out.weight'] must be [1, 2] numbers ([out, in], as torch's state_dict); "
            "given shape [2, 1]"
        ),
    ):
        backprop(XOR_221, weights={**good, "out.weight": np.ones((2, 1))})
    # A bias is a vector: no orientation.
    with pytest.raises(
        ConfigError, match=re.escape("weights['out.bias'] must be [1] numbers (as torch's state")
    ):
        backprop(XOR_221, weights={**good, "out.bias": ["a"]})
    with pytest.raises(ConfigError, match=r"weights\['out.bias'\] holds values that are not fin"):
        backprop(XOR_221, weights={**good, "out.bias": [np.nan]})
    # A module's parameters, which require grad, as a student's exercise hands them over.
    import torch

    params = {k: torch.tensor(v, requires_grad=True) for k, v in good.items()}
    b = backprop(XOR_221, dtype="float64", weights=good)
    np.testing.assert_array_equal(
        backprop(XOR_221, dtype="float64", weights=params).grads["out.weight"],
        b.grads["out.weight"],
    )
    # Lists, as a student may write them, are taken as the arrays they are.
    listed = {k: np.asarray(v).tolist() for k, v in good.items()}
    a, b = (
        backprop(XOR_221, dtype="float64", weights=listed),
        backprop(XOR_221, dtype="float64", weights=good),
    )
    for name in good:
        np.testing.assert_array_equal(a.grads[name], b.grads[name])


def test_weights_by_the_printouts_names_are_taken_in_its_orientation() -> None:
    """The printout shows w1 [in, out]; given under its state name, a square w1 was taken
    as [out, in] without a word, and the step was of another model. The printout's own
    names now say which orientation is meant."""
    good = _script_weights()
    by_state = backprop(XOR_221, dtype="float64", weights=good)
    printed = {
        "w1": by_state["w1"].value, "b1": by_state["b1"].value,
        "w2": by_state["w2"].value, "b2": by_state["b2"].value,
    }  # fmt: skip
    assert printed["w1"].shape == (2, 2) and not np.allclose(printed["w1"], printed["w1"].T)
    by_lecture = backprop(XOR_221, dtype="float64", weights=printed)
    for name in good:
        np.testing.assert_array_equal(by_lecture.grads[name], by_state.grads[name])


def test_weights_by_the_printouts_names_are_refused_in_its_names_and_orientation() -> None:
    """A student who wrote the printout's w2 [2, 1] as [1, 2] was told that
    weights['out.weight'] must be [1, 2] and that she gave (2, 1): the shape she had given,
    by a name she had not used. A misspelled or missing printout name was answered with
    the state names alone, as if only those were taken."""
    from mlplab.errors import ConfigError

    good = {"w1": [[1.0, 2.0], [4.0, 5.0]], "b1": [0.0, 0.0], "w2": [[1.0], [1.0]], "b2": [0.0]}
    with pytest.raises(ConfigError) as err:
        backprop(EXAMPLES / "xor_nn.yaml", weights={**good, "w2": [[1.0, 1.0]]})
    assert str(err.value) == (
        "backprop: weights['w2'] must be [2, 1] numbers ([in, out], as the printout writes "
        "it); given shape [1, 2]"
    )
    with pytest.raises(ConfigError, match=re.escape("weights['w1'] must be [2, 2] numbers")):
        backprop(EXAMPLES / "xor_nn.yaml", weights={**good, "w1": [[1, 2, 3], [4, 5, 6]]})
    with pytest.raises(ConfigError) as err:
        backprop(EXAMPLES / "xor_nn.yaml", weights={**good, "b1": [[0.0, 0.0]]})
    assert "weights['b1'] must be [2] numbers (as the printout writes it); given shape [1, 2]" in (
        str(err.value)
    )
    with pytest.raises(ConfigError, match=re.escape("weights['w1'] must be [2, 1] numbers (")):
        backprop(EXAMPLES / "and_perceptron.yaml", weights={"w1": [[1.0, 1.0]], "b1": [-1.5]})
    for weights, amiss in [
        ({"W1": good["w1"], "b1": [0, 0], "w2": good["w2"], "b2": [0]}, "(w1 missing; W1 unknown)"),
        ({"w1": good["w1"], "b1": [0, 0], "w2": good["w2"]}, "(b2 missing)"),
    ]:
        with pytest.raises(ConfigError) as err:
            backprop(EXAMPLES / "xor_nn.yaml", weights=weights)
        message = str(err.value)
        assert "\n" not in message and message.endswith(amiss), message
        # Both sets, the printout's first, each with its shapes and orientation.
        printed = message.index(
            "by the printout's names, w1 [2, 2], b1 [2], w2 [2, 1], b2 [1] (weights [in, out]"
        )
        assert printed < message.index("state names, hidden.0.linear.weight [2, 2],")
        assert "[out, in]" in message and message.count("[out, in]") == 1
    # With batch norm only the state names are taken (its running statistics have none).
    with pytest.raises(ConfigError, match="not taken with batch norm"):
        backprop(dict(data="xor", hid_dim=2, use_bn=True), weights=good)


def test_the_printouts_weights_are_labelled_as_the_stored_tensors_transpose() -> None:
    """The printout's "w1 ... hidden.0.linear.weight [in, out]" read as if the stored
    tensor were [in, out]; it is [out, in], and w1 its transpose."""
    trace = backprop(EXAMPLES / "xor_nn.yaml")
    assert trace["w1"].formula == "hidden.0.linear.weight.T"
    assert trace["w2"].formula == "out.weight.T" and trace["b2"].formula == "out.bias"
    assert "[in, out]" not in trace.to_text()


def test_d_b_says_what_it_is_in_the_other_form() -> None:
    """d_b2 is the bias's gradient [1] in the mean form and the slide's per-row delta [4, 1]
    in the lecture form: the printout said so only in the lecture form, and not that the
    same name means another thing in the other."""
    mean = backprop(EXAMPLES / "xor_nn.yaml")
    lecture = backprop(EXAMPLES / "xor_nn.yaml", form="lecture", dtype="float64")
    for n in (1, 2):
        assert f"--form lecture's d_b{n} is d_l{n}, one row per example" in mean[f"d_b{n}"].aside
        assert f"--form mean's d_b{n} is the bias's gradient" in lecture[f"d_b{n}"].aside
        np.testing.assert_allclose(  # what it says: the mean over the rows, up to the 1e-7
            lecture[f"d_b{n}"].value.mean(axis=0), mean[f"d_b{n}"].value, rtol=1e-5, atol=1e-9
        )
    line = next(x for x in mean.to_text().splitlines() if x.startswith("d_b2 "))
    assert line.endswith("ok   (the bias's gradient; --form lecture's d_b2 is d_l2, one row "
                         "per example)")  # fmt: skip
    # Where --form lecture does not apply, it is not named.
    assert not backprop(data="ring", n_samples=30)["d_b2"].aside


def test_row_chooses_the_one_example_of_a_batch_size_1_step(run_cli) -> None:
    """The "one example by hand" exercise: a --batch_size 1 trace showed the shuffled
    order's row, and no option chose which."""
    for row, x, y in [(0, [0, 0], 0), (1, [0, 1], 1), (2, [1, 0], 1), (3, [1, 1], 0)]:
        trace = backprop(EXAMPLES / "xor_nn.yaml", batch_size=1, row=row, dtype="float64")
        assert trace.passed, trace.verdict()
        np.testing.assert_array_equal(trace["X"].value, [x])
        np.testing.assert_array_equal(trace["Y"].value, [[y]])
    # One row's d_l2 is Y_pred - y: the mean over a batch of one.
    assert trace["d_l2"].value == pytest.approx(trace["Y_pred"].value - 0)
    proc = run_cli("backprop", EXAMPLES / "xor_nn.yaml", "--batch_size", "1", "--row", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mlplab backprop: step 0 (epoch 1, row 1 of the training data)")
    assert "X         [1, 2]    the batch's inputs\n          [[0. 1.]]" in proc.stdout


def test_a_hand_check_by_the_printouts_names_and_what_grads_holds_are_as_documented() -> None:
    """The README pointed a student who wrote w1 [in, out] at trace.grads, keyed by state
    name and transposed, and in the lecture form a mix of sums (weights) and means (biases).
    It now points at trace["d_w1"] and says what grads holds: both checked here."""
    mine = {"w1": [[1, -1], [1, -1]], "b1": [-0.5, 1.5], "w2": [[1], [1]], "b2": [-1.5]}
    mean = backprop(EXAMPLES / "xor_nn.yaml", weights=mine, dtype="float64")
    X, Y = mean["X"].value, mean["Y"].value
    # By hand, as the lecture writes it (the mean cost: / N).
    a1 = 1 / (1 + np.exp(-(X @ np.array(mine["w1"]) + mine["b1"])))
    y_pred = 1 / (1 + np.exp(-(a1 @ np.array(mine["w2"]) + mine["b2"])))
    d_l1 = (y_pred - Y) / len(X) @ np.array(mine["w2"]).T * a1 * (1 - a1)
    np.testing.assert_allclose(X.T @ d_l1, mean["d_w1"].value, rtol=1e-12)
    np.testing.assert_allclose(X.T @ d_l1, mean["d_w1"].reference, rtol=1e-12)
    np.testing.assert_array_equal(mean.grads["hidden.0.linear.weight"], mean["d_w1"].value.T)
    lecture = backprop(EXAMPLES / "xor_nn.yaml", weights=mine, dtype="float64", form="lecture")
    np.testing.assert_array_equal(lecture.grads["hidden.0.linear.weight"], lecture["d_w1"].value.T)
    np.testing.assert_allclose(
        lecture.grads["hidden.0.linear.bias"], lecture["d_b1"].value.mean(axis=0), rtol=1e-15
    )
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    assert 'trace["d_w1"].reference` autograd\'s' in readme
    assert "checked against `trace.grads`" not in readme


def test_the_sigmoid_prime_factors_are_shown_as_values_checked_by_autograd() -> None:
    """The slide's d_l2 = d_Y_pred * sigmoid_prime(l2) named a factor that the trace never
    showed as a value: a lecturer had no number to point at. Both forms show it, checked."""
    for form in ("mean", "lecture"):
        trace = backprop(EXAMPLES / "xor_nn.yaml", form=form)
        names = trace.names
        assert names.index("Y_pred'") == names.index("d_l2") - 1
        assert names.index("a1'") == names.index("d_l1") - 1
        y_pred, a1 = trace["Y_pred"].value, trace["a1"].value
        np.testing.assert_allclose(trace["Y_pred'"].value, y_pred * (1 - y_pred), rtol=1e-6)
        np.testing.assert_allclose(trace["a1'"].value, a1 * (1 - a1), rtol=1e-6)
        assert trace["a1'"].max_diff is not None and trace.passed
        named = "sigmoid'(l1)" if form == "mean" else "sigmoid_prime(l1)"  # the slide's name
        assert f"a1'       [4, 2]    a1' = {named} = a1 * (1 - a1)" in trace.to_text()
    assert trace["Y_pred'"].formula == "Y_pred' = sigmoid_prime(l2) = Y_pred * (1 - Y_pred)"
    assert trace["a1'"].formula == "a1' = sigmoid_prime(l1) = a1 * (1 - a1)"
    relu = backprop({"data": "xor", "act": "relu", "hid_dim": 3})
    assert relu["a1'"].formula == "a1' = relu'(l1) = (l1 > 0)" and relu.passed
    np.testing.assert_array_equal(relu["a1'"].value, relu["l1"].value > 0)


def test_the_jupyter_table_has_the_texts_sections_and_precision() -> None:
    """The table rounded every value to 4 decimals (d_b1 showed 0.0002, one digit) and had
    no forward / backward / update rows, which the text has."""
    trace = backprop(EXAMPLES / "xor_nn.yaml")
    page = trace._repr_html_()
    heads = re.findall(r"<th colspan='5'[^>]*>--- (\w+) ---</th>", page)
    assert heads == ["input", "forward", "backward", "update"]
    (d_b1,) = [ln.strip() for ln in trace.to_text().splitlines() if ln.startswith("d_b1 ")]
    value = trace.to_text().split(d_b1)[1].splitlines()[1].strip()  # as the text prints it
    assert value == "[0.011783 0.00017 ]"  # not the table's old [0.0118 0.0002]
    assert value in page


def test_plot_without_a_path_is_shown_inline_in_jupyter(tmp_path: Path) -> None:
    """trace.plot() raised TypeError (missing 'path'): a notebook had to write a file and
    show it with Image. Without a path it returns a picture that Jupyter shows as PNG."""
    trace = backprop(EXAMPLES / "xor_nn.yaml")
    picture = trace.plot()
    png = picture._repr_png_()
    assert png.startswith(b"\x89PNG") and "network at step 0" in repr(picture)
    assert picture.save(tmp_path / "net.png").read_bytes().startswith(b"\x89PNG")
    assert trace.plot(tmp_path / "net2.png") == tmp_path / "net2.png"


def test_the_wide_diagrams_title_says_plainly_that_no_edge_is_labelled() -> None:
    """The wide-deep net's title read "w and d on no edge, where labels fit (the printout
    has every value)", which does not make sense as written."""
    import matplotlib.pyplot as plt

    fig = backprop(EXAMPLES / "xor_wide_deep.yaml").figure()
    title = " ".join(fig.axes[0].get_title().split())
    assert title.startswith(
        "no edge labelled: more than 4 edges join each pair of layers "
        "(print the trace for every w and d) step 0,"
    ), title
    plt.close(fig)


def test_a_difference_among_huge_values_is_shown_relative_to_them(run_cli):
    """An exploding init's d_Y_pred (values near 1e176) passed with "max diff 7.3e+134 ok",
    which read as a wide miss let through: the line says what share of the values it is."""
    proc = run_cli(
        "backprop", "--data", "moons", "--n_samples", "200", "--n_layer", "8", "--hid_dim",
        "10", "--act", "relu", "--init", "normal", "--optim", "sgd", "--lr", "0.1",
        "--batch_size", "0", "--dtype", "float64", "--seed", "0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("d_Y_pred ")]
    diff, share = re.search(r"max diff (\S+) \(relative (\S+)\) ok$", line).groups()
    assert float(diff) > 1e100 and float(share) < 1e-12
    # Values near 1 keep the plain form.
    assert re.search(r"^d_w1 .* max diff \S+ ok", proc.stdout, re.M)
