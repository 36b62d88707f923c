"""NumPy optimizers: torch.optim parity, state save/load, set_lr."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mlplab.engines.backend import OptimSpec
from mlplab.engines.init import init_state
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.backend import make_optimizer as make_torch_optimizer
from mlplab.errors import EngineError


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # tiny tensors: intra-op threads only add contention on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SPECS = [
    OptimSpec("sgd", lr=0.1),
    OptimSpec("sgd", lr=0.1, mm=0.9, l2_coef=0.01),
    OptimSpec("rmsprop", lr=0.01),
    OptimSpec("rmsprop", lr=0.01, mm=0.9, l2_coef=0.01),
    OptimSpec("adagrad", lr=0.1, l2_coef=0.01),
    OptimSpec("adam", lr=0.01, l2_coef=0.01),
    OptimSpec("adamw", lr=0.01, l2_coef=0.1),
]
IDS = [f"{s.name}-mm{s.mm}-wd{s.l2_coef}" for s in SPECS]


def _grads(rng, n, steps):
    return [rng.normal(size=n) for _ in range(steps)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_steps_match_torch_optim(spec, dtype):
    rng = np.random.default_rng(0)
    p = rng.normal(size=30).astype(dtype)
    tp = torch.nn.Parameter(torch.tensor(p.copy()))
    opt, topt = make_optimizer(spec, p), make_torch_optimizer([tp], spec)
    for t, g in enumerate(_grads(rng, 30, 6)):
        if t == 3:  # a schedule changing lr between steps
            opt.lr = spec.lr / 2
            topt.param_groups[0]["lr"] = spec.lr / 2
        g = g.astype(dtype)
        g_before = g.copy()
        opt.step(g)
        np.testing.assert_array_equal(g, g_before)  # gradients are not modified
        tp.grad = torch.tensor(g)
        topt.step()
        assert p.dtype == np.dtype(dtype)
        tol = {"float32": 1e-6, "float64": 1e-13}[dtype]
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_state_round_trip_continues_identically(spec):
    rng = np.random.default_rng(1)
    p = rng.normal(size=12)
    grads = _grads(rng, 12, 8)
    opt = make_optimizer(spec, p)
    for g in grads[:4]:
        opt.step(g)
    arrays, meta = opt.state_arrays()
    meta = json.loads(json.dumps(meta))  # must be JSON-able
    saved = p.copy()
    for g in grads[4:]:
        opt.step(g)

    p2 = saved.copy()
    opt2 = make_optimizer(spec, p2)
    opt2.load_state_arrays(arrays, meta)
    for g in grads[4:]:
        opt2.step(g)
    np.testing.assert_array_equal(p2, p)
    assert opt2.steps == opt.steps == 8


def test_fresh_state_differs_from_loaded_state():
    # guards the round-trip test: without the saved state the continuation is different
    rng = np.random.default_rng(2)
    p = rng.normal(size=5)
    grads = _grads(rng, 5, 4)
    opt = make_optimizer(OptimSpec("adam", lr=0.1), p)
    for g in grads[:2]:
        opt.step(g)
    saved = p.copy()
    for g in grads[2:]:
        opt.step(g)
    p2 = saved.copy()
    opt2 = make_optimizer(OptimSpec("adam", lr=0.1), p2)
    for g in grads[2:]:
        opt2.step(g)
    assert not np.allclose(p2, p)


def test_backend_optim_and_rng_state_resume_exactly():
    spec = ModelSpec(3, 2, 2, 6, "relu", use_bn=True, dp_rate=0.3, task="multiclass")
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(32, 3)), rng.integers(0, 2, 32)
    init = init_state(spec, "default", 0)
    a = NumpyBackend(spec, init, OptimSpec("rmsprop", lr=0.01, mm=0.9), seed=7)
    a.set_data({"train": (X, y)})
    for _ in range(5):
        a.train_step(rng.permutation(32)[:16])
    params, (opt_arrays, opt_meta), (rng_arrays, rng_meta) = (
        a.state_dict(),
        a.optim_state(),
        a.rng_state(),
    )
    assert (
        "out.weight.square_avg" in opt_arrays and "hidden.0.bn.bias.momentum_buffer" in opt_arrays
    )
    opt_meta, rng_meta = json.loads(json.dumps(opt_meta)), json.loads(json.dumps(rng_meta))
    batches = [rng.permutation(32)[:16] for _ in range(5)]
    losses_a = [a.train_step(idx) for idx in batches]

    b = NumpyBackend(
        spec, init_state(spec, "default", 99), OptimSpec("rmsprop", lr=0.5, mm=0.9), seed=0
    )
    b.set_data({"train": (X, y)})
    b.load_state_dict(params)
    b.load_optim_state(opt_arrays, opt_meta)
    b.load_rng_state(rng_arrays, rng_meta)
    losses_b = [b.train_step(idx) for idx in batches]
    assert losses_b == losses_a  # dropout masks, moments, lr and weights all restored
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)


def test_unknown_optimizer_is_an_engine_error():
    with pytest.raises(EngineError, match="optimizer 'lbfgs'"):
        make_optimizer(OptimSpec("lbfgs", lr=0.1), np.zeros(3))


def test_loading_another_optimizers_state_is_refused():
    arrays, meta = make_optimizer(OptimSpec("adagrad", lr=0.1), np.zeros(3)).state_arrays()
    with pytest.raises(ValueError, match="adagrad"):
        make_optimizer(OptimSpec("adam", lr=0.1), np.zeros(3)).load_state_arrays(arrays, meta)
