"""The NumPy engine against the torch engine, weight conversion, and the XOR outcomes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.choose import make_backend
from mlplab.engines.init import init_state
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.numpy.model import MLP
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.backend import TorchBackend
from mlplab.engines.torch.model import MLP as TorchMLP
from mlplab.engines.torch.model import load_numpy_state
from mlplab.errors import EngineError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny models gain nothing from intra-op threads, and on a busy machine torch's thread
    # pool can make each step take milliseconds; restored after each test.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def _one(spec, weights, optim, dp_rate=None):
    """The start of a stack of one model (K = 1)."""
    rate = spec.dp_rate if dp_rate is None else dp_rate
    return [ModelInit(weights, optim, rate, np.random.SeedSequence(0))]


def _numpy(spec, weights, optim, dtype="float32"):
    return NumpyBackend(spec, _one(spec, weights, optim), dtype=dtype)


def _torch(spec, weights, optim, dtype="float32"):
    return TorchBackend(spec, _one(spec, weights, optim), dtype=dtype)


def _pair(spec, optim, seed=777, dtype="float32", scheme="default"):
    init = init_state(spec, scheme, seed, dtype=dtype)
    return _numpy(spec, init, optim, dtype), _torch(spec, init, optim, dtype)


def _train(backend, splits, steps, idx=None):
    """Per-step losses of the one model; ``idx`` are its rows ([B], made [1, B])."""
    backend.set_data(splits)
    rows = None if idx is None else np.asarray(idx)[None]
    return [float(backend.train_step(rows)[0]) for _ in range(steps)]


def _weights(backend):
    return backend.export(0).weights


def to_torch_state_dict(state, num_batches_tracked=0):
    """NumPy state -> torch ``state_dict``, with the ``num_batches_tracked`` torch keeps."""
    sd = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    for k in state:
        if k.endswith(".bn.running_mean"):
            sd[k[: -len("running_mean")] + "num_batches_tracked"] = torch.tensor(
                num_batches_tracked, dtype=torch.long
            )
    return sd


def from_torch_state_dict(sd):
    """torch ``state_dict`` -> NumPy state (``num_batches_tracked`` dropped)."""
    return {k: t.detach().numpy().copy() for k, t in sd.items() if "num_batches" not in k}


def _sinlog(n, rng):
    x = rng.uniform(0, 10, size=(n, 2))
    y = 2 * np.sin(x[:, :1]) + np.log(x[:, 1:] ** 2 / 2)
    return x, y


# --- training curves agree -------------------------------------------------------------------


def test_xor_1000_steps_final_loss_agrees_with_torch_float32():
    spec = ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")
    npb, tb = _pair(spec, OptimSpec("sgd", lr=1.0))
    splits = {"train": (XOR_X, XOR_Y)}
    ln, lt = _train(npb, splits, 1000), _train(tb, splits, 1000)
    assert ln[0] == pytest.approx(lt[0], rel=1e-6)
    assert ln[-1] == pytest.approx(lt[-1], rel=0.01)
    np.testing.assert_allclose(ln, lt, rtol=0.01)  # the whole curve, not just its end


def test_sinlog_regression_adam_300_steps_agrees_with_torch_float32():
    spec = ModelSpec(2, 1, 1, 50, "relu", task="regression")
    x, y = _sinlog(400, np.random.default_rng(0))
    npb, tb = _pair(spec, OptimSpec("adam", lr=0.01), seed=1)
    splits = {"train": (x, y), "val": _sinlog(100, np.random.default_rng(1))}
    ln, lt = _train(npb, splits, 300), _train(tb, splits, 300)
    assert ln[-1] < 0.5 * ln[0]
    assert ln[-1] == pytest.approx(lt[-1], rel=0.01)
    assert npb.evaluate("val")[0][0] == pytest.approx(tb.evaluate("val")[0][0], rel=0.01)


OPTIMS = [
    OptimSpec("sgd", lr=0.1, mm=0.9, l2_coef=0.01),
    OptimSpec("rmsprop", lr=0.01, mm=0.5, l2_coef=0.01),
    OptimSpec("adagrad", lr=0.1, l2_coef=0.01),
    OptimSpec("adam", lr=0.01, l2_coef=0.01),
    OptimSpec("adamw", lr=0.01, l2_coef=0.1),
    # L1's proximal shrink after the update, no part of torch.optim: each engine's own.
    OptimSpec("sgd", lr=0.1, mm=0.9, l1_coef=0.3),
    OptimSpec("adam", lr=0.01, l2_coef=0.01, l1_coef=0.5),
]
# Dropout rate 0 here: the engines draw dropout masks from different RNGs (NumPy's
# Generator, torch's global generator), so steps with dropout cannot agree exactly.
STEP_SPECS = {
    "plain": ModelSpec(3, 2, 2, 6, "tanh", task="regression"),
    "bn+residual": ModelSpec(
        3, 4, 2, 6, "gelu", use_bn=True, sc_type="residual", task="multiclass"
    ),
    # A width per layer: the residual applies only where widths match (8 -> 8).
    "hid_dims 8-8-5": ModelSpec(
        3, 4, 3, 8, "relu", use_bn=True, sc_type="residual", task="multiclass", hid_dims=(8, 8, 5)
    ),
}


@pytest.mark.parametrize("optim", OPTIMS, ids=lambda o: o.name + "-l1" * bool(o.l1_coef))
@pytest.mark.parametrize("spec_name", sorted(STEP_SPECS))
def test_float64_steps_agree_with_torch(spec_name, optim):
    spec = STEP_SPECS[spec_name]
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 3))
    y = rng.integers(0, 4, 16) if spec.task == "multiclass" else rng.normal(size=(16, 2))
    npb, tb = _pair(spec, optim, seed=5, dtype="float64")
    splits = {"train": (x, y)}
    ln, lt = (
        _train(npb, splits, 3, idx=np.arange(0, 16, 2)),
        _train(tb, splits, 3, idx=np.arange(0, 16, 2)),
    )
    np.testing.assert_allclose(ln, lt, rtol=1e-10)
    sn, st = _weights(npb), _weights(tb)
    assert set(sn) == set(st)
    for k in sn:  # parameters and batch-norm running statistics
        np.testing.assert_allclose(sn[k], st[k], rtol=1e-6, atol=1e-9, err_msg=k)


def test_dropout_train_is_random_and_eval_is_deterministic():
    spec = ModelSpec(4, 1, 2, 32, "relu", dp_rate=0.5, task="regression")
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(64, 4)), rng.normal(size=(64, 1))
    npb, tb = _pair(spec, OptimSpec("sgd", lr=0.0), dtype="float64")  # lr 0: weights fixed
    npb.set_data({"train": (x, y)})
    tb.set_data({"train": (x, y)})
    assert npb.evaluate("train")[0][0] == pytest.approx(tb.evaluate("train")[0][0], rel=1e-12)
    train_losses = {float(npb.train_step(None)[0]) for _ in range(3)}
    assert len(train_losses) == 3  # a new mask each step
    np.testing.assert_array_equal(npb.predict(x), npb.predict(x))


# --- weights move between engines ------------------------------------------------------------

CONVERT_SPEC = ModelSpec(
    3, 3, 3, 8, "silu", use_bn=True, dp_rate=0.2, sc_type="residual", task="multiclass"
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_weights_in_torch_give_the_same_predictions(dtype):
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    npb = _numpy(
        CONVERT_SPEC, init_state(CONVERT_SPEC, "kaiming", 1, dtype), OptimSpec("adam", 0.01), dtype
    )
    _train(npb, {"train": (x, y)}, 20, idx=np.arange(20))  # moves weights and running stats
    net = TorchMLP(CONVERT_SPEC).to(getattr(torch, dtype))
    load_numpy_state(net, _weights(npb))
    with torch.no_grad():
        expected = net.eval()(torch.tensor(x, dtype=getattr(torch, dtype))).double().numpy()
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(npb.predict(x)[0], expected, rtol=tol, atol=tol)
    # the same through the state_dict conversion, strictly (num_batches_tracked added)
    net2 = TorchMLP(CONVERT_SPEC).to(getattr(torch, dtype))
    net2.load_state_dict(
        # 20 train-mode steps: torch counts them; the NumPy engine has no use for the count.
        to_torch_state_dict(_weights(npb), 20),
        strict=True,
    )
    assert int(net2.hidden[0].bn.num_batches_tracked) == 20
    with torch.no_grad():
        np.testing.assert_allclose(
            net2.eval()(torch.tensor(x, dtype=getattr(torch, dtype))).double().numpy(), expected
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_weights_in_numpy_give_the_same_predictions(dtype):
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    tb = _torch(
        CONVERT_SPEC,
        init_state(CONVERT_SPEC, "xavier", 2, dtype),
        OptimSpec("sgd", 0.1, mm=0.9),
        dtype,
    )
    _train(tb, {"train": (x, y)}, 20, idx=np.arange(20))
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    net = TorchMLP(CONVERT_SPEC).to(getattr(torch, dtype))
    load_numpy_state(net, _weights(tb))
    for state in (_weights(tb), from_torch_state_dict(net.state_dict())):
        assert not any(k.endswith("num_batches_tracked") for k in state)
        model = MLP(CONVERT_SPEC, [state], dtype)
        np.testing.assert_allclose(
            model.forward(x.astype(dtype))[0][0], tb.predict(x)[0], rtol=tol, atol=tol
        )


# --- the backend protocol --------------------------------------------------------------------


def test_evaluate_in_batches_equals_whole_and_outputs_are_float64():
    spec = ModelSpec(2, 1, 2, 4, "tanh", use_bn=True, task="binary")
    b = make_backend(
        "numpy", spec, _one(spec, init_state(spec, "default", 0), OptimSpec("sgd", 0.1))
    )
    x = np.random.default_rng(9).normal(size=(10, 2))
    b.set_data({"test": (x, np.array([0, 1] * 5))})  # 1-D binary targets become [N, 1]
    loss, out = b.evaluate("test")
    loss_b, out_b = b.evaluate("test", batch_size=3)
    assert out.dtype == np.float64 and out.shape == (1, 10, 1)
    np.testing.assert_allclose(out_b, out, rtol=1e-6)
    assert loss_b[0] == pytest.approx(loss[0], rel=1e-6)
    np.testing.assert_allclose(b.predict(x), out, rtol=1e-6)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_predict_over_a_wide_layer_holds_its_activations_in_slices(engine, monkeypatch):
    """A plot's grid through a layer of 10**8 units asked for 100 GB at once (the grid's
    256-row slices bound only the outputs): predict now slices the rows by the widest
    layer, with the same outputs."""
    import tracemalloc

    from mlplab.engines import spec as spec_module

    spec = ModelSpec(2, 1, 1, 4096, "relu", task="binary")
    b = make_backend(
        engine, spec, _one(spec, init_state(spec, "default", 0), OptimSpec("sgd", 0.1))
    )
    x = np.random.default_rng(9).normal(size=(2048, 2))
    whole = b.predict(x)  # 2048 x 4096 float32 per layer: 32 MB, under the bound
    monkeypatch.setattr(spec_module, "PREDICT_VALUES", 4096 * 64)  # slices of 64 rows
    assert spec.predict_rows(len(x)) == 64
    if engine == "numpy":  # tracemalloc sees NumPy's allocations, not torch's
        tracemalloc.start()
        sliced = b.predict(x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8 * 2**20, peak  # a few 1 MB slices, not the 32 MB layers
    else:
        sliced = b.predict(x)
    np.testing.assert_allclose(sliced, whole, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_an_evaluation_of_many_rows_is_sliced_per_model_alike_in_a_stack_and_alone(
    engine, monkeypatch
):
    """test_batch_size 0 evaluated every row at once: a stack of 64 on 200,000 rows took
    6.8 GB at its end. Past EVAL_VALUES a model's activations per layer are sliced, by
    its own width, not the stack's: each model's numbers stay bit for bit its own."""
    import tracemalloc

    from mlplab.engines import spec as spec_module

    spec = ModelSpec(2, 1, 1, 1024, "relu", task="binary")
    inits = [ModelInit(init_state(spec, "default", s), OptimSpec("sgd", 0.1)) for s in range(4)]
    x = np.random.default_rng(9).normal(size=(1024, 2))
    y = (x[:, 0] > 0).astype(np.float64)
    data = {"train": (x[:8], y[:8]), "test": (x, y)}
    assert spec.eval_rows(len(x)) == 0  # 1024 x 1024 per model: one pass
    whole = make_backend(engine, spec, inits)
    whole.set_data(data)
    loss_whole, out_whole = whole.evaluate("test")
    monkeypatch.setattr(spec_module, "EVAL_VALUES", 1024 * 64)  # slices of 64 rows
    assert spec.eval_rows(len(x)) == 64 and spec.eval_rows(64) == 0
    stack = make_backend(engine, spec, inits)
    stack.set_data(data)
    sliced_by = []
    outputs = stack._outputs
    monkeypatch.setattr(stack, "_outputs", lambda X, b: sliced_by.append(b) or outputs(X, b))
    if engine == "numpy":  # tracemalloc sees NumPy's allocations, not torch's
        tracemalloc.start()
        loss, out = stack.evaluate("test")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8 * 2**20, peak  # 4 models' 64-row slices, not 4 x 4 MB a layer
    else:
        loss, out = stack.evaluate("test")
    assert sliced_by == [64]  # test_batch_size 0 asked: sliced by the model's width
    np.testing.assert_allclose(out, out_whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss, loss_whole, rtol=1e-5)
    for k in (0, 3):  # alone, sliced the same, as in the stack
        alone = make_backend(engine, spec, [inits[k]])
        alone.set_data(data)
        loss_k, out_k = alone.evaluate("test")
        if engine == "numpy":
            np.testing.assert_array_equal(out_k[0], out[k])
            assert loss_k[0] == loss[k]
        else:
            np.testing.assert_allclose(out_k[0], out[k], rtol=1e-5, atol=1e-6)  # float32 sums


def test_set_lr_changes_the_step():
    spec = ModelSpec(2, 1, 1, 2, "sigmoid", task="binary")
    b = _numpy(spec, init_state(spec, "default", 0), OptimSpec("sgd", 1.0))
    b.set_data({"train": (XOR_X, XOR_Y)})
    b.set_lr(np.array([0.0]))
    before = _weights(b)
    b.train_step(None)
    for k, v in _weights(b).items():
        np.testing.assert_array_equal(v, before[k])


def test_numpy_engine_refuses_what_it_cannot_train():
    with pytest.raises(EngineError, match="activation 'swish'"):
        MLP(ModelSpec(2, 1, 1, 2, "swish"), [{}], "float32")
    spec = ModelSpec(2, 1, 1, 2, "relu")
    with pytest.raises(EngineError, match="float16"):
        MLP(spec, [init_state(spec, "default", 0)], "float16")
    with pytest.raises(EngineError, match="cpu"):
        make_backend(
            "numpy",
            spec,
            _one(spec, init_state(spec, "default", 0), OptimSpec("sgd", 0.1)),
            device="cuda",
        )


# --- XOR outcomes with the NumPy engine (seed 777, SGD lr 1, 10001 full-batch steps) ---------


def _xor_run(n_layer, hid_dim, steps=10001):
    spec = ModelSpec(2, 1, n_layer, hid_dim, "sigmoid", task="binary")
    b = _numpy(spec, init_state(spec, "default", 777), OptimSpec("sgd", 1.0))
    _train(b, {"train": (XOR_X, XOR_Y)}, steps)
    losses, outputs = b.evaluate("train")
    loss, logits = losses[0], outputs[0]
    accuracy = float(((logits > 0) == (XOR_Y > 0.5)).mean())  # sigmoid(z) > 0.5 iff z > 0
    return loss, accuracy


def test_xor_nn_2_2_1_learns_xor():
    loss, accuracy = _xor_run(1, 2)
    assert accuracy == 1.0
    assert loss < 0.01


def test_perceptron_cannot_learn_xor():
    loss, accuracy = _xor_run(0, 2)
    assert abs(loss - np.log(2)) < 0.01  # stuck at ln 2: outputs all 0.5
    assert accuracy <= 0.75


def test_xor_wide_deep_2_10_10_10_1_learns_xor():
    loss, accuracy = _xor_run(3, 10)
    assert accuracy == 1.0
    assert loss < 0.01


def test_l1_leaves_the_weights_a_model_does_not_need_at_zero_alike_in_both_engines():
    """The TensorFlow Playground's lesson: with L1 the weights of inputs that do not help
    go to exactly 0 (with L2 they only shrink); the biases are not penalized."""
    spec = ModelSpec(4, 1, 0, 1, "relu", task="regression")  # a linear model
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = 3 * x[:, :1] - 2 * x[:, 1:2] + 5  # inputs 3 and 4 do not count
    splits = {"train": (x, y)}
    for l1, zero in ((0.0, False), (0.05, True)):
        npb, tb = _pair(spec, OptimSpec("sgd", lr=0.05, l1_coef=l1), seed=3)
        _train(npb, splits, 300), _train(tb, splits, 300)
        w, wt = _weights(npb)["out.weight"][0], _weights(tb)["out.weight"][0]
        np.testing.assert_allclose(w, wt, rtol=1e-5, atol=1e-6)  # float32 sums' last bits
        assert (w[2:] == 0).all() == zero == (wt[2:] == 0).all() and (w[:2] != 0).all()
        assert w[0] == pytest.approx(3, abs=0.1) and w[1] == pytest.approx(-2, abs=0.1)
        assert _weights(npb)["out.bias"][0] == pytest.approx(5, abs=0.05)  # not shrunk
