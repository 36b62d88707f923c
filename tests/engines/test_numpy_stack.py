"""NumpyBackend over a model axis K: a stack of K models trains as K single runs.

Also: export/load continues a model exactly, keep(rows) leaves the remaining models'
training unchanged, and the stacked gradients match torch autograd per model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mlplab.engines.backend import ModelInit, ModelState, OptimSpec
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.numpy.functional import LOSSES
from mlplab.engines.spec import ModelSpec
from mlplab.gradcheck import TORCH_LOSSES, torch_twin

N_ROWS = 24
# Float64 products of a stack and of one model are the same sums, but BLAS may order a
# [K * out]-wide product's additions differently from a single [out]-wide one.
RTOL, ATOL = 1e-11, 1e-13

# Each stack mixes what a sweep varies: lr, momentum 0 and 0.9, weight decay, dropout
# rate 0 and 0.3, seeds.
MM = (0.0, 0.9, 0.0, 0.5)
DP = (0.0, 0.3, 0.3, 0.0)
LR = {"sgd": 0.1, "rmsprop": 0.01, "adagrad": 0.1, "adam": 0.01, "adamw": 0.01}
SPECS = {
    "bn-dropout-residual": ModelSpec(
        3, 3, 2, 5, "tanh", use_bn=True, sc_type="residual", task="multiclass"
    ),
    "relu-regression": ModelSpec(3, 2, 2, 6, "relu", task="regression"),
    "sigmoid-binary": ModelSpec(3, 1, 1, 4, "sigmoid", task="binary"),
}


def _inits(spec: ModelSpec, optim: str, dp: bool = True) -> list[ModelInit]:
    inits = []
    for k in range(4):
        streams = run_streams(100 + k)
        mm = MM[k] if optim in ("sgd", "rmsprop") else 0.0
        inits.append(
            ModelInit(
                init_state(spec, "default", streams.weights, dtype="float64"),
                OptimSpec(optim, LR[optim] * (1 + k / 2), mm=mm, l2_coef=0.01 * (k % 2)),
                dp_rate=DP[k] if dp else 0.0,
                dropout=streams.dropout,
            )
        )
    return inits


def _data(spec: ModelSpec, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_ROWS, spec.in_dim))
    if spec.task == "multiclass":
        y = rng.integers(0, spec.out_dim, N_ROWS)
    elif spec.task == "binary":
        y = rng.integers(0, 2, (N_ROWS, 1)).astype(np.float64)
    else:
        y = rng.normal(size=(N_ROWS, spec.out_dim))
    val = (rng.normal(size=(10, spec.in_dim)), y[:10])
    return {"train": (X, y), "val": val}


def _backend(spec, inits, data, dtype="float64") -> NumpyBackend:
    b = NumpyBackend(spec, inits, dtype=dtype)
    b.set_data(data)
    return b


def _batches(K: int, steps: int, seed: int = 1, batch: int = 8) -> list[np.ndarray | None]:
    rng = np.random.default_rng(seed)
    return [np.stack([rng.permutation(N_ROWS)[:batch] for _ in range(K)]) for _ in range(steps)]


def _assert_state_close(a: dict, b: dict, exact: bool = False) -> None:
    assert set(a) == set(b)
    for k in a:
        if exact:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            np.testing.assert_allclose(a[k], b[k], rtol=RTOL, atol=ATOL, err_msg=k)


# --- (a) a stack equals K single runs ----------------------------------------------------------


@pytest.mark.parametrize("minibatch", [True, False], ids=["minibatch", "full-batch"])
@pytest.mark.parametrize("optim", sorted(LR))
@pytest.mark.parametrize("case", sorted(SPECS))
def test_stack_equals_separate_single_runs(case, optim, minibatch):
    spec = SPECS[case]
    inits = _inits(spec, optim)
    data = _data(spec)
    steps = 6
    batches = _batches(4, steps) if minibatch else [None] * steps
    stack = _backend(spec, inits, data)
    stack_losses = np.stack([stack.train_step(idx) for idx in batches])  # [steps, K]
    assert stack_losses.shape == (steps, 4) and stack_losses.dtype == np.float64
    val_losses, val_out = stack.evaluate("val")
    for k, init in enumerate(inits):
        alone = _backend(spec, [init], data)
        losses = [alone.train_step(None if idx is None else idx[k : k + 1]) for idx in batches]
        np.testing.assert_allclose(stack_losses[:, k], np.concatenate(losses), rtol=RTOL)
        _assert_state_close(stack.export(k).weights, alone.export(0).weights)
        sk, ak = stack.export(k), alone.export(0)
        _assert_state_close(sk.optim, ak.optim)
        assert sk.optim_meta == ak.optim_meta
        assert sk.rng_meta == ak.rng_meta  # the same dropout draws, or none
        v_loss, v_out = alone.evaluate("val")
        np.testing.assert_allclose(val_losses[k], v_loss[0], rtol=RTOL)
        np.testing.assert_allclose(val_out[k], v_out[0], rtol=RTOL, atol=ATOL)


def test_float32_full_batch_stack_matches_single_runs_closely():
    spec = SPECS["sigmoid-binary"]
    inits = _inits(spec, "sgd", dp=False)
    data = _data(spec)
    stack = _backend(spec, inits, data, "float32")
    losses = np.stack([stack.train_step(None) for _ in range(20)])
    for k, init in enumerate(inits):
        alone = _backend(spec, [init], data, "float32")
        ref = np.concatenate([alone.train_step(None) for _ in range(20)])
        np.testing.assert_allclose(losses[:, k], ref, rtol=1e-5)
        _, out = stack.evaluate("train")
        np.testing.assert_allclose(out[k], alone.evaluate("train")[1][0], rtol=1e-4, atol=1e-5)


def test_models_with_dropout_draw_from_their_own_stream_and_others_draw_nothing():
    spec = SPECS["relu-regression"]
    inits = _inits(spec, "sgd")
    b = _backend(spec, inits, _data(spec))
    before = [b.export(k).rng_meta for k in range(4)]
    b.train_step(None)
    after = [b.export(k).rng_meta for k in range(4)]
    assert [a != z for a, z in zip(after, before, strict=True)] == [d > 0 for d in DP]
    # Model 1's stream is np.random.default_rng(its SeedSequence), as the protocol says.
    assert before[1]["bit_generator"] == np.random.default_rng(inits[1].dropout).bit_generator.state


# --- (b) export -> load continues bit-identically ----------------------------------------------


@pytest.mark.parametrize("optim", sorted(LR))
def test_export_load_into_a_fresh_backend_continues_bit_identically(optim):
    spec = SPECS["bn-dropout-residual"]
    inits = _inits(spec, optim)
    data = _data(spec)
    a = _backend(spec, inits, data)
    for idx in _batches(4, 4, seed=2):
        a.train_step(idx)
    a.set_lr(np.array([0.05, 0.04, 0.03, 0.02]) * (1 if optim == "sgd" else 0.1))
    states = [a.export(k) for k in range(4)]
    # Through JSON, as a checkpoint keeps the metadata.
    states = [
        ModelState(
            s.weights,
            s.optim,
            json.loads(json.dumps(s.optim_meta)),
            s.rng,
            json.loads(json.dumps(s.rng_meta)),
        )
        for s in states
    ]
    fresh_inits = [
        ModelInit(
            init_state(spec, "default", 99 + k, dtype="float64"),
            OptimSpec(optim, lr=1.0, mm=i.optim.mm, l2_coef=i.optim.l2_coef),
            dp_rate=i.dp_rate,
            dropout=np.random.SeedSequence(1234 + k),
        )
        for k, i in enumerate(inits)
    ]
    b = _backend(spec, fresh_inits, data)
    for k, s in enumerate(states):
        b.load(k, s)
    later = [*_batches(4, 5, seed=3), None]
    losses_a = [a.train_step(idx) for idx in later]
    losses_b = [b.train_step(idx) for idx in later]
    np.testing.assert_array_equal(np.stack(losses_b), np.stack(losses_a))
    for k in range(4):
        sa, sb = a.export(k), b.export(k)
        _assert_state_close(sa.weights, sb.weights, exact=True)
        _assert_state_close(sa.optim, sb.optim, exact=True)
        assert sa.optim_meta == sb.optim_meta and sa.rng_meta == sb.rng_meta


def test_export_holds_only_the_models_own_optimizer_state():
    spec = SPECS["relu-regression"]
    b = _backend(spec, _inits(spec, "sgd"), _data(spec))
    assert b.export(1).optim == {}  # before the first step, as torch
    b.train_step(None)
    for k, mm in enumerate(MM):
        names = {n.rsplit(".", 1)[1] for n in b.export(k).optim}
        assert names == ({"momentum_buffer"} if mm else set())
    s = b.export(1)
    assert s.optim["out.weight.momentum_buffer"].shape == spec.param_shapes()["out.weight"]
    assert s.optim_meta == {"name": "sgd", "step": 1, "lr": LR["sgd"] * 1.5}
    assert s.weights.keys() == init_state(spec, "default", 0).keys()


def test_a_model_loaded_into_a_single_run_continues_as_in_the_stack():
    spec = SPECS["bn-dropout-residual"]
    inits = _inits(spec, "adam")
    data = _data(spec)
    stack = _backend(spec, inits, data)
    for idx in _batches(4, 3):
        stack.train_step(idx)
    # Model 2's settings (dropout rate, optimizer), other weights and stream; then its state.
    fresh = ModelInit(inits[0].weights, inits[2].optim, inits[2].dp_rate, np.random.SeedSequence(5))
    alone = _backend(spec, [fresh], data)
    alone.load(0, stack.export(2))
    later = _batches(4, 3, seed=5)
    for idx in later:
        ls = stack.train_step(idx)
        la = alone.train_step(idx[2:3])
        np.testing.assert_allclose(la[0], ls[2], rtol=RTOL)
    _assert_state_close(alone.export(0).weights, stack.export(2).weights)


# --- (c) keep(rows) --------------------------------------------------------------------------


@pytest.mark.parametrize("optim", ["sgd", "adam"])
def test_keep_leaves_the_remaining_models_training_unchanged(optim):
    spec = SPECS["bn-dropout-residual"]
    inits = _inits(spec, optim)
    data = _data(spec)
    ref, b = _backend(spec, inits, data), _backend(spec, inits, data)
    batches = _batches(4, 8, seed=4)
    for idx in batches[:3]:
        ref.train_step(idx)
        b.train_step(idx)
    ref.save_best(np.array([True, False, True, True]))
    b.save_best(np.array([True, False, True, True]))
    rows = np.array([3, 1])
    b.keep(rows)
    assert b.K == 2
    for idx in batches[3:]:
        lr = ref.train_step(idx)
        lb = b.train_step(idx[rows])
        np.testing.assert_allclose(lb, lr[rows], rtol=RTOL)
    for i, k in enumerate(rows):
        _assert_state_close(b.export(i).weights, ref.export(k).weights)
        _assert_state_close(b.export(i).optim, ref.export(k).optim)
        assert b.export(i).rng_meta == ref.export(k).rng_meta
        _assert_state_close(b.best_weights(i), ref.best_weights(k), exact=True)
    # keep(rows) of all rows keeps all; an emptied stack holds no model
    b.keep(np.array([0]))
    assert b.K == 1 and b.train_step(None).shape == (1,)


# --- best weights, lr, evaluation ------------------------------------------------------------------


def test_save_best_remembers_only_the_improved_models():
    spec = SPECS["bn-dropout-residual"]
    inits = _inits(spec, "sgd")
    b = _backend(spec, inits, _data(spec))
    _assert_state_close(b.best_weights(2), inits[2].weights, exact=True)  # init before any save
    b.train_step(None)
    b.save_best(np.array([False, False, True, False]))
    snapshot = b.export(2).weights
    b.train_step(None)
    _assert_state_close(b.best_weights(2), snapshot, exact=True)
    _assert_state_close(b.best_weights(0), inits[0].weights, exact=True)
    b.save_best(np.ones(4, dtype=bool))
    _assert_state_close(b.best_weights(0), b.export(0).weights, exact=True)


def test_set_lr_changes_each_models_step():
    spec = SPECS["sigmoid-binary"]
    inits = _inits(spec, "sgd", dp=False)
    data = _data(spec)
    b = _backend(spec, inits, data)
    b.set_lr(np.array([0.0, 0.1, 0.0, 0.2]))
    b.train_step(None)
    for k, init in enumerate(inits):
        moved = any(not np.array_equal(v, init.weights[n]) for n, v in b.export(k).weights.items())
        assert moved == (k in (1, 3))
    assert b.export(3).optim_meta["lr"] == 0.2


def test_reusing_the_evaluation_of_the_training_split_changes_nothing():
    # Logic-gate labs validate on the training split; the next step reuses that forward pass.
    spec = SPECS["sigmoid-binary"]
    inits = _inits(spec, "sgd", dp=False)
    data = _data(spec)
    data["val"] = data["train"]
    a, b = _backend(spec, inits, data), _backend(spec, inits, data)
    for _ in range(5):
        a.evaluate("val")
        la = a.train_step(None)
        lb = b.train_step(None)
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a.step_outputs(), b.step_outputs())
    _assert_state_close(a.export(2).weights, b.export(2).weights, exact=True)


def test_evaluate_in_batches_and_predict_shapes():
    spec = SPECS["bn-dropout-residual"]
    b = _backend(spec, _inits(spec, "sgd"), _data(spec))
    b.train_step(None)
    full_loss, full_out = b.evaluate("train")
    part_loss, part_out = b.evaluate("train", batch_size=5)
    assert full_out.shape == (4, N_ROWS, 3) and full_out.dtype == np.float64
    np.testing.assert_allclose(part_out, full_out, rtol=1e-12)
    np.testing.assert_allclose(part_loss, full_loss, rtol=1e-12)
    X = np.random.default_rng(0).normal(size=(7, 3))
    assert b.predict(X).shape == (4, 7, 3)
    assert b.step_outputs().shape == (4, N_ROWS, 3)


# --- (d) stacked gradients against torch autograd --------------------------------------------


@pytest.mark.parametrize("case", sorted(SPECS))
@pytest.mark.parametrize("minibatch", [True, False], ids=["own-rows", "shared-rows"])
def test_stacked_gradients_match_torch_autograd_per_model(case, minibatch):
    spec = SPECS[case]
    K = 4
    inits = _inits(spec, "sgd", dp=False)
    data = _data(spec, seed=7)
    b = _backend(spec, inits, data)
    X, y = b.data["train"][:2]  # (X, y, row weights)
    idx = _batches(K, 1, seed=8, batch=10)[0] if minibatch else None
    xs = X if idx is None else X[idx]
    ys = y if idx is None else y[0][idx]
    out, caches = b.model.forward(xs, True, b.rngs)
    _, dout = LOSSES[spec.loss](out, ys, True)
    grads = b.model.backward(caches, dout)
    for k in range(K):
        net = torch_twin(spec, inits[k].weights)
        xk = torch.tensor(X if idx is None else X[idx[k]])
        yk = torch.tensor(y[0] if idx is None else y[0][idx[k]])
        TORCH_LOSSES[spec.loss]()(net(xk), yk).backward()
        for name, p in net.named_parameters():
            np.testing.assert_allclose(
                grads[name][k].reshape(p.shape),
                p.grad.numpy(),
                rtol=1e-10,
                atol=1e-13,
                err_msg=name,
            )
