"""NumPy optimizers over K models: torch.optim parity per model, state save/load, set_lr."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mlplab.engines.backend import OptimSpec
from mlplab.engines.numpy.optim import make_optimizer
from mlplab.errors import EngineError
from mlplab.gradcheck import torch_optimizer


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # tiny tensors: intra-op threads only add contention on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Each case is one stack: models of one optimizer kind with their own hyperparameters.
STACKS = [
    [OptimSpec("sgd", lr=0.1)],
    [
        OptimSpec("sgd", lr=0.1, mm=0.9, l2_coef=0.01),
        OptimSpec("sgd", lr=0.3),
        OptimSpec("sgd", lr=0.05, mm=0.5),
    ],
    [OptimSpec("rmsprop", lr=0.01)],
    [
        OptimSpec("rmsprop", lr=0.01, mm=0.9, l2_coef=0.01),
        OptimSpec("rmsprop", lr=0.02, l2_coef=0.1),
    ],
    [OptimSpec("adagrad", lr=0.1, l2_coef=0.01), OptimSpec("adagrad", lr=0.2)],
    [OptimSpec("adam", lr=0.01, l2_coef=0.01), OptimSpec("adam", lr=0.003)],
    [OptimSpec("adamw", lr=0.01, l2_coef=0.1), OptimSpec("adamw", lr=0.02)],
]
IDS = ["-".join(f"{s.name}-lr{s.lr}-mm{s.mm}-wd{s.l2_coef}" for s in specs) for specs in STACKS]
P = 30


def _grads(rng, k, steps):
    return [rng.normal(size=(k, P)) for _ in range(steps)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("specs", STACKS, ids=IDS)
def test_steps_match_torch_optim_per_model(specs, dtype):
    rng = np.random.default_rng(0)
    K = len(specs)
    p = rng.normal(size=(K, P)).astype(dtype)
    tps = [torch.nn.Parameter(torch.tensor(p[k].copy())) for k in range(K)]
    opt = make_optimizer(specs, p)
    topts = [torch_optimizer([tp], s) for tp, s in zip(tps, specs, strict=True)]
    for t, g in enumerate(_grads(rng, K, 6)):
        if t == 3:  # a schedule changing each model's lr between steps
            opt.set_lr([s.lr / (k + 2) for k, s in enumerate(specs)])
            for k, (topt, s) in enumerate(zip(topts, specs, strict=True)):
                topt.param_groups[0]["lr"] = s.lr / (k + 2)
        g = g.astype(dtype)
        g_before = g.copy()
        opt.step(g)
        np.testing.assert_array_equal(g, g_before)  # gradients are not modified
        for k, (tp, topt) in enumerate(zip(tps, topts, strict=True)):
            tp.grad = torch.tensor(g[k])
            topt.step()
        assert p.dtype == np.dtype(dtype)
        tol = {"float32": 1e-6, "float64": 1e-13}[dtype]
        for k, tp in enumerate(tps):
            np.testing.assert_allclose(p[k], tp.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("specs", STACKS, ids=IDS)
def test_float32_stack_rounds_as_each_model_alone(specs):
    # Per-model [K, 1] hyperparameters of the parameter dtype: a stack is bit-identical
    # to K optimizers of one model each.
    rng = np.random.default_rng(5)
    K = len(specs)
    p = rng.normal(size=(K, P)).astype(np.float32)
    alone = [p[k : k + 1].copy() for k in range(K)]
    opt = make_optimizer(specs, p)
    opts = [make_optimizer(s, a) for s, a in zip(specs, alone, strict=True)]
    for g in _grads(rng, K, 5):
        g = g.astype(np.float32)
        opt.step(g)
        for k, o in enumerate(opts):
            o.step(g[k : k + 1])
    for k in range(K):
        np.testing.assert_array_equal(p[k], alone[k][0])


@pytest.mark.parametrize("specs", STACKS, ids=IDS)
def test_state_round_trip_continues_identically(specs):
    rng = np.random.default_rng(1)
    K = len(specs)
    p = rng.normal(size=(K, 12))
    grads = [rng.normal(size=(K, 12)) for _ in range(8)]
    opt = make_optimizer(specs, p)
    for g in grads[:4]:
        opt.step(g)
    saved = [opt.state_arrays(k) for k in range(K)]
    saved = [(a, json.loads(json.dumps(m))) for a, m in saved]  # metadata must be JSON-able
    p_saved = p.copy()
    for g in grads[4:]:
        opt.step(g)

    p2 = p_saved.copy()
    opt2 = make_optimizer(
        [OptimSpec(s.name, lr=s.lr, mm=s.mm, l2_coef=s.l2_coef) for s in specs], p2
    )
    for k, (arrays, meta) in enumerate(saved):
        opt2.load_state_arrays(k, arrays, meta)
    for g in grads[4:]:
        opt2.step(g)
    np.testing.assert_array_equal(p2, p)
    assert list(opt2.steps) == list(opt.steps) == [8] * K


def test_only_the_models_own_buffers_are_exported():
    p = np.zeros((2, 4))
    opt = make_optimizer([OptimSpec("sgd", 0.1, mm=0.9), OptimSpec("sgd", 0.1)], p)
    assert opt.state_arrays(0)[0] == {}  # torch creates the buffer on the first step
    opt.step(np.ones((2, 4)))
    assert set(opt.state_arrays(0)[0]) == {"momentum_buffer"}
    assert opt.state_arrays(1)[0] == {}  # momentum 0: a single run keeps no buffer
    ada = make_optimizer(OptimSpec("adagrad", 0.1), np.zeros((1, 3)))
    assert set(ada.state_arrays(0)[0]) == {"sum"}  # torch creates it at construction


def test_models_at_different_steps_keep_their_own_bias_correction():
    # A model resumed at step 4 and a fresh one in one Adam stack: each as alone.
    rng = np.random.default_rng(2)
    spec = OptimSpec("adam", lr=0.1)
    a = rng.normal(size=(1, 5))
    opt_a = make_optimizer(spec, a)
    for _ in range(4):
        opt_a.step(rng.normal(size=(1, 5)))
    arrays, meta = opt_a.state_arrays(0)
    b = rng.normal(size=(1, 5))
    stack = np.concatenate([a, b])
    opt = make_optimizer(spec, stack)
    opt.load_state_arrays(0, arrays, meta)
    opt_b = make_optimizer(spec, b)
    for g in [rng.normal(size=(2, 5)) for _ in range(3)]:
        opt.step(g)
        opt_a.step(g[:1])
        opt_b.step(g[1:])
    np.testing.assert_array_equal(stack, np.concatenate([a, b]))
    assert list(opt.steps) == [7, 3]


def test_keep_drops_models_and_their_state():
    rng = np.random.default_rng(3)
    specs = [OptimSpec("rmsprop", lr, mm=mm) for lr, mm in ((0.1, 0.9), (0.2, 0.0), (0.3, 0.5))]
    p = rng.normal(size=(3, 6))
    ref = p.copy()
    opt, opt_ref = make_optimizer(specs, p), make_optimizer(specs, ref)
    grads = [rng.normal(size=(3, 6)) for _ in range(6)]
    for g in grads[:3]:
        opt.step(g)
        opt_ref.step(g)
    rows = np.array([2, 0])
    kept = np.ascontiguousarray(p[rows])
    opt.keep(rows, kept)
    for g in grads[3:]:
        opt.step(g[rows])
        opt_ref.step(g)
    np.testing.assert_array_equal(kept, ref[rows])
    np.testing.assert_array_equal(opt.hyper64["lr"][:, 0], [0.3, 0.1])


def test_fresh_state_differs_from_loaded_state():
    # guards the round-trip test: without the saved state the continuation is different
    rng = np.random.default_rng(2)
    p = rng.normal(size=(1, 5))
    grads = _grads(rng, 1, 4)
    opt = make_optimizer(OptimSpec("adam", lr=0.1), p)
    for g in grads[:2]:
        opt.step(g[:, :5])
    saved = p.copy()
    for g in grads[2:]:
        opt.step(g[:, :5])
    p2 = saved.copy()
    opt2 = make_optimizer(OptimSpec("adam", lr=0.1), p2)
    for g in grads[2:]:
        opt2.step(g[:, :5])
    assert not np.allclose(p2, p)


def test_unknown_optimizer_is_an_engine_error():
    with pytest.raises(EngineError, match="optimizer 'lbfgs'"):
        make_optimizer(OptimSpec("lbfgs", lr=0.1), np.zeros((1, 3)))


def test_a_stack_has_one_optimizer_kind():
    with pytest.raises(ValueError, match="one optimizer kind"):
        make_optimizer([OptimSpec("sgd", 0.1), OptimSpec("adam", 0.1)], np.zeros((2, 3)))


def test_loading_another_optimizers_state_is_refused():
    arrays, meta = make_optimizer(OptimSpec("adagrad", lr=0.1), np.zeros((1, 3))).state_arrays(0)
    with pytest.raises(ValueError, match="adagrad"):
        make_optimizer(OptimSpec("adam", lr=0.1), np.zeros((1, 3))).load_state_arrays(
            0, arrays, meta
        )
