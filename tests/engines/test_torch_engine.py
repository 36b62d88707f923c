"""The torch engine over a model axis: a stack of K is K single runs, and state round-trips."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlplab.config import OPTIMIZERS
from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.choose import make_backend
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.spec import ModelSpec, Task
from mlplab.engines.torch.backend import TorchBackend
from mlplab.engines.torch.model import StackedMLP

# Two hidden layers of one width: the second block is residual; batch norm and dropout on.
SPEC = ModelSpec(
    in_dim=3, out_dim=3, n_layer=2, hid_dim=6, act="tanh", use_bn=True, dp_rate=0.3,
    sc_type="residual", task="multiclass",
)  # fmt: skip
N, B, STEPS = 40, 8, 6
# Per model: (seed, lr, mm, l2_coef, dp_rate): momentum, weight decay and dropout mixed.
ROWS = [
    (0, 0.05, 0.0, 0.0, 0.3),
    (1, 0.02, 0.9, 1e-3, 0.0),
    (2, 0.1, 0.0, 1e-2, 0.0),
    (3, 0.03, 0.9, 0.0, 0.3),
]


def _data(spec: ModelSpec) -> dict:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, spec.in_dim))
    y: np.ndarray
    if spec.task == "multiclass":
        y = rng.integers(0, spec.out_dim, size=N)
    elif spec.task == "binary":
        y = (X[:, :1] > 0).astype(np.float64)
    else:
        y = X[:, : spec.out_dim] ** 2
    return {"train": (X, y), "val": (X[:20], y[:20])}


def _model(spec: ModelSpec, optim: str, row: tuple, dtype: str = "float64") -> ModelInit:
    seed, lr, mm, l2, dp = row
    streams = run_streams(seed)
    weights = init_state(spec, "default", streams.weights, dtype)
    return ModelInit(weights, OptimSpec(optim, lr, mm, l2), dp_rate=dp, dropout=streams.dropout)


def _backend(spec: ModelSpec, optim: str, rows: list, dtype: str = "float64") -> TorchBackend:
    b = TorchBackend(spec, [_model(spec, optim, r, dtype) for r in rows], dtype=dtype)
    b.set_data(_data(spec))
    return b


def _idx(K: int, steps: int = STEPS) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [np.stack([rng.permutation(N)[:B] for _ in range(K)]) for _ in range(steps)]


@pytest.mark.parametrize("optim", OPTIMIZERS)
@pytest.mark.parametrize("minibatch", [True, False], ids=["idx", "full"])
def test_a_stack_of_k_trains_as_k_single_runs(optim: str, minibatch: bool) -> None:
    stack = _backend(SPEC, optim, ROWS)
    singles = [_backend(SPEC, optim, [r]) for r in ROWS]
    idx = _idx(len(ROWS))
    for step in range(STEPS):
        batch = idx[step] if minibatch else None
        losses = stack.train_step(batch)
        for k, single in enumerate(singles):
            one = single.train_step(None if batch is None else batch[k : k + 1])
            np.testing.assert_allclose(losses[k], one[0], rtol=1e-12)
            np.testing.assert_allclose(
                stack.step_outputs()[k], single.step_outputs()[0], rtol=1e-10, atol=1e-12
            )
    val_losses, val_out = stack.evaluate("val")
    assert val_losses.shape == (4,) and val_losses.dtype == np.float64
    assert val_out.shape == (4, 20, 3)
    for k, single in enumerate(singles):
        state, alone = stack.export(k), single.export(0)
        for name, w in alone.weights.items():  # running statistics included
            np.testing.assert_allclose(state.weights[name], w, rtol=1e-10, atol=1e-12)
        assert sorted(state.optim) == sorted(alone.optim)
        for name, v in alone.optim.items():
            np.testing.assert_allclose(state.optim[name], v, rtol=1e-10, atol=1e-12)
        assert state.optim_meta == alone.optim_meta
        np.testing.assert_array_equal(state.rng["torch_generator"], alone.rng["torch_generator"])
        np.testing.assert_allclose(val_losses[k], single.evaluate("val")[0][0], rtol=1e-10)


def test_shared_rows_for_binary_and_regression_stacks() -> None:
    tasks: tuple[tuple[Task, int], ...] = (("binary", 1), ("regression", 2))
    for task, out_dim in tasks:
        spec = dataclasses.replace(SPEC, task=task, out_dim=out_dim, use_bn=False)
        stack = _backend(spec, "adam", ROWS)
        singles = [_backend(spec, "adam", [r]) for r in ROWS]
        for _ in range(3):
            losses = stack.train_step(None)
            np.testing.assert_allclose(losses, [s.train_step(None)[0] for s in singles], rtol=1e-12)
        np.testing.assert_allclose(
            stack.predict(_data(spec)["val"][0])[2],
            singles[2].predict(_data(spec)["val"][0])[0],
            rtol=1e-10,
        )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_export_then_load_continues_bit_identically(dtype: str) -> None:
    a = _backend(SPEC, "adam", ROWS, dtype)
    idx = _idx(4, 2 * STEPS)
    for batch in idx[:STEPS]:
        a.train_step(batch)
    saved = [a.export(k) for k in range(4)]
    # The same hyperparameters, but other initial weights and dropout streams.
    b = _backend(SPEC, "adam", [(seed + 10, *rest) for seed, *rest in ROWS], dtype)
    for k, state in enumerate(saved):
        b.load(k, state)
    for batch in idx[STEPS:]:
        np.testing.assert_array_equal(a.train_step(batch), b.train_step(batch))
    for k in range(4):
        ea, eb = a.export(k), b.export(k)
        for name in ea.weights:
            np.testing.assert_array_equal(ea.weights[name], eb.weights[name])
        for name in ea.optim:
            np.testing.assert_array_equal(ea.optim[name], eb.optim[name])
        np.testing.assert_array_equal(ea.rng["torch_generator"], eb.rng["torch_generator"])
        assert ea.optim_meta == eb.optim_meta


def test_export_gives_unstacked_shapes_and_torch_state_names() -> None:
    stack = _backend(SPEC, "sgd", ROWS)
    stack.set_lr(np.array([0.5, 0.25, 0.125, 0.0625]))
    stack.train_step(None)
    with_mm, without = stack.export(1), stack.export(0)
    shapes = {**SPEC.param_shapes(), **SPEC.buffer_shapes()}
    assert {n: w.shape for n, w in with_mm.weights.items()} == shapes
    assert {n: v.shape for n, v in with_mm.optim.items()} == {
        f"{n}.momentum_buffer": s for n, s in SPEC.param_shapes().items()
    }
    assert without.optim == {}  # mm = 0: torch.optim keeps no momentum buffer
    assert with_mm.optim_meta == {"name": "sgd", "step": 1, "lr": 0.25}
    assert with_mm.rng["torch_generator"].dtype == np.uint8


def test_keep_continues_the_kept_models_as_before() -> None:
    full = _backend(SPEC, "rmsprop", ROWS)
    kept = _backend(SPEC, "rmsprop", ROWS)
    idx = _idx(4, 2 * STEPS)
    for batch in idx[:STEPS]:
        full.train_step(batch)
        kept.train_step(batch)
    kept.save_best(np.array([True, False, True, False]))
    rows = np.array([3, 0])
    outputs = kept.step_outputs()
    kept.keep(rows)
    assert kept.K == 2
    np.testing.assert_array_equal(kept.step_outputs(), outputs[rows])  # the last step's, by row
    np.testing.assert_array_equal(
        kept.best_weights(1)["out.weight"], full.export(0).weights["out.weight"]
    )
    for batch in idx[STEPS:]:
        np.testing.assert_allclose(
            kept.train_step(batch[rows]), full.train_step(batch)[rows], rtol=1e-12
        )
    for new, old in enumerate(rows):
        a, b = kept.export(new), full.export(old)
        for name in a.weights:
            np.testing.assert_allclose(a.weights[name], b.weights[name], rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(a.rng["torch_generator"], b.rng["torch_generator"])


def test_best_weights_are_the_init_until_saved() -> None:
    models = [_model(SPEC, "adam", r) for r in ROWS[:2]]
    b = TorchBackend(SPEC, models, dtype="float64")
    b.set_data(_data(SPEC))
    b.train_step(None)
    np.testing.assert_array_equal(b.best_weights(1)["out.bias"], models[1].weights["out.bias"])
    b.save_best(np.array([False, True]))
    b.train_step(None)
    np.testing.assert_array_equal(b.best_weights(0)["out.bias"], models[0].weights["out.bias"])
    assert not np.array_equal(b.best_weights(1)["out.bias"], b.export(1).weights["out.bias"])


def test_stacked_gradients_equal_an_unstacked_modules_autograd() -> None:
    spec = dataclasses.replace(SPEC, dp_rate=0.0)
    rows = [(s, 0.1, 0.0, 0.0, 0.0) for s in range(3)]
    b = _backend(spec, "sgd", rows)
    X, y = _data(spec)["train"]
    modules = [b.model.to_module(k).train() for k in range(3)]  # before the step changes them
    b.model.train()
    out = b.model(torch.as_tensor(X))
    F.cross_entropy(out.reshape(-1, 3), torch.as_tensor(y).repeat(3), reduction="none").view(
        3, -1
    ).mean(1).sum().backward()
    for k, module in enumerate(modules):
        F.cross_entropy(module(torch.as_tensor(X)), torch.as_tensor(y)).backward()
        for name, p in module.named_parameters():
            grad = dict(b.model.named_parameters())[name].grad
            assert grad is not None
            torch.testing.assert_close(grad[k], p.grad, rtol=1e-10, atol=1e-12)
        for name, buf in module.named_buffers():  # batch norm's running statistics (torch's)
            if not name.endswith("num_batches_tracked"):
                torch.testing.assert_close(
                    dict(b.model.named_buffers())[name][k], buf, rtol=1e-12, atol=1e-14
                )


def test_dropout_draws_only_for_models_with_a_rate() -> None:
    b = _backend(SPEC, "adam", ROWS)
    start = [b.export(k).rng["torch_generator"] for k in range(4)]
    b.train_step(None)
    b.evaluate("val")  # eval mode draws nothing
    after = [b.export(k).rng["torch_generator"] for k in range(4)]
    drew = [not np.array_equal(s, a) for s, a in zip(start, after, strict=True)]
    assert drew == [r[4] > 0 for r in ROWS]


def test_models_with_one_seed_draw_the_same_masks_and_another_seed_others() -> None:
    rows = [(5, 0.1, 0.0, 0.0, 0.3), (5, 0.1, 0.0, 0.0, 0.3), (6, 0.1, 0.0, 0.0, 0.3)]
    b = _backend(SPEC, "sgd", rows)
    losses = b.train_step(None)
    assert losses[0] == losses[1] != losses[2]


def test_evaluate_in_batches_gives_the_full_batch_result() -> None:
    b = _backend(SPEC, "adam", ROWS)
    b.train_step(None)
    full_loss, full_out = b.evaluate("train")
    part_loss, part_out = b.evaluate("train", batch_size=7)
    np.testing.assert_allclose(part_out, full_out, rtol=1e-12)
    np.testing.assert_allclose(part_loss, full_loss, rtol=1e-12)


def test_float32_engine_runs_in_float32_and_returns_float64() -> None:
    b = _backend(SPEC, "adamw", ROWS, "float32")
    assert all(p.dtype == torch.float32 for p in b.model.parameters())
    losses = b.train_step(_idx(4)[0])
    assert losses.dtype == np.float64 and losses.shape == (4,)
    assert b.step_outputs().dtype == np.float64
    assert b.export(0).weights["out.weight"].dtype == np.float32


def test_make_backend_builds_the_torch_stack() -> None:
    models = [_model(SPEC, "sgd", r) for r in ROWS]
    b = make_backend("torch", SPEC, models, device="cpu", dtype="float64")
    assert isinstance(b, TorchBackend) and b.K == 4


def test_stacked_parameters_are_named_and_shaped_by_the_spec() -> None:
    model = StackedMLP(SPEC, 5)
    shapes = {n: tuple(t.shape) for n, t in model.state_tensors().items()}
    expected = {n: (5, *s) for n, s in {**SPEC.param_shapes(), **SPEC.buffer_shapes()}.items()}
    assert shapes == expected


def test_to_module_is_model_k_as_plain_pytorch() -> None:
    b = _backend(SPEC, "adam", ROWS)
    b.train_step(None)
    X = torch.as_tensor(_data(SPEC)["val"][0])
    module = b.model.to_module(2).eval()
    torch.testing.assert_close(
        module(X).detach().numpy(), b.predict(X.numpy())[2], rtol=1e-12, atol=1e-14
    )
    assert module.hidden[0].dropout is None  # model 2's dp_rate is 0
    assert b.model.to_module(0).hidden[0].dropout.p == 0.3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_stack_trains_as_on_cpu_and_resumes_exactly() -> None:
    rows = [r for r in ROWS if r[4] == 0]  # dropout masks differ between devices' generators
    cpu = _backend(SPEC, "adam", rows)
    cuda = TorchBackend(
        SPEC, [_model(SPEC, "adam", r) for r in rows], device="cuda", dtype="float64"
    )
    cuda.set_data(_data(SPEC))
    for batch in _idx(len(rows)):
        np.testing.assert_allclose(cuda.train_step(batch), cpu.train_step(batch), rtol=1e-9)
    np.testing.assert_allclose(
        cuda.evaluate("val")[1], cpu.evaluate("val")[1], rtol=1e-8, atol=1e-10
    )
    again = TorchBackend(
        SPEC, [_model(SPEC, "adam", r) for r in rows], device="cuda", dtype="float64"
    )
    again.set_data(_data(SPEC))
    for k in range(len(rows)):
        again.load(k, cuda.export(k))
    batch = _idx(len(rows))[0]
    np.testing.assert_array_equal(again.train_step(batch), cuda.train_step(batch))


def test_a_cuda_device_that_torch_does_not_see_is_one_line(monkeypatch) -> None:
    # `--device cuda:7` on a machine with one GPU: refused by name before any tensor moves,
    # not torch's "invalid device ordinal" from inside the first step.
    from mlplab.engines.torch.backend import resolve_device
    from mlplab.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for device in ("cuda:7", "cuda:1", "cuda:" + "9" * 30):
        with pytest.raises(
            ConfigError, match=r"setting 'device'.*sees only cuda:0; use one of them"
        ):
            resolve_device(device)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    assert resolve_device("cuda") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="sees no CUDA device"):
        resolve_device("cuda:0")


@pytest.mark.parametrize("engine", ["numpy", "torch", "auto"])
def test_a_device_refused_leaves_nothing_written(run_cli, tmp_path, monkeypatch, engine):
    """A run on a GPU this machine lacks (or on the numpy engine) was refused once it had
    made its log_path, its experiment folder and a lock file."""
    if torch.cuda.is_available():
        pytest.skip("a machine with a GPU trains on it")
    proc = run_cli("train", "--data", "xor", "--device", "cuda", "--engine", engine,
                   "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 2 and "setting 'device'" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
