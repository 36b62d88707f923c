"""The stacked optimizers step each model as torch.optim (foreach=False) steps it alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.config import OPTIMIZERS as CONFIG_OPTIMIZERS
from mlplab.engines.backend import OptimSpec
from mlplab.engines.numpy.optim import make_optimizer as numpy_make_optimizer
from mlplab.engines.torch.optim import OPTIMIZERS, make_optimizer
from mlplab.errors import EngineError
from mlplab.gradcheck import torch_optimizer  # the reference, as test_numpy_optim's

SHAPES = {"w": (3, 4), "b": (3,)}
# Per-model settings: momentum off and on, weight decay off and on, different lrs.
ROWS = [(0.05, 0.0, 0.0), (0.01, 0.9, 1e-2), (0.2, 0.0, 1e-3), (0.03, 0.5, 0.0)]
STEPS = 25


def _run(name: str, rows: list[tuple[float, float, float]], dtype: torch.dtype) -> dict:
    """Train K stacked rows and K torch.optim references on the same gradients."""
    gen = torch.Generator().manual_seed(0)
    K = len(rows)
    specs = [OptimSpec(name, lr, mm, l2) for lr, mm, l2 in rows]
    params = {
        n: torch.randn(K, *s, generator=gen, dtype=torch.float64).to(dtype).requires_grad_()
        for n, s in SHAPES.items()
    }
    refs = [
        {n: p.detach()[k].clone().requires_grad_() for n, p in params.items()} for k in range(K)
    ]
    ref_opts = [torch_optimizer(list(r.values()), s) for r, s in zip(refs, specs, strict=True)]
    opt = make_optimizer(params, specs)
    for step in range(STEPS):
        if step == 10:  # a schedule changes every model's lr
            new_lr = np.array([lr / 2 for lr, _, _ in rows])
            opt.set_lr(new_lr)
            for o, lr in zip(ref_opts, new_lr, strict=True):
                o.param_groups[0]["lr"] = float(lr)
        for n, p in params.items():
            g = torch.randn(K, *SHAPES[n], generator=gen, dtype=torch.float64).to(dtype)
            p.grad = g.clone()
            for k in range(K):
                refs[k][n].grad = g[k].clone()
        opt.step()
        for o in ref_opts:
            o.step()
    return {"params": params, "refs": refs, "opt": opt, "ref_opts": ref_opts}


def _tol(dtype: torch.dtype) -> dict:
    # float64: the stacked and torch's formulas round alike to ~1e-12 over 25 steps;
    # float32: a few units of float32 rounding.
    return (
        {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("rows", [ROWS[:1], ROWS[1:2], ROWS], ids=["K1-mm0", "K1-mm", "K4-mixed"])
def test_each_row_steps_as_torch_optim(name: str, rows: list, dtype: torch.dtype) -> None:
    r = _run(name, rows, dtype)
    for k, ref in enumerate(r["refs"]):
        for n, p in r["params"].items():
            torch.testing.assert_close(p.detach()[k], ref[n].detach(), **_tol(dtype))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_exported_state_is_torch_optims_state(name: str) -> None:
    r = _run(name, ROWS, torch.float64)
    opt, ref_opts = r["opt"], r["ref_opts"]
    for k, ref_opt in enumerate(ref_opts):
        arrays, meta = opt.export(k)
        assert meta == {"name": name, "step": STEPS, "lr": ROWS[k][0] / 2}
        expected = {}
        for n, p in r["refs"][k].items():
            for s, v in ref_opt.state[p].items():
                if s != "step":
                    expected[f"{n}.{s}"] = v.numpy()
        # A model with momentum 0 exports no momentum buffer, as torch.optim keeps none.
        assert sorted(arrays) == sorted(expected)
        for key, v in expected.items():
            assert arrays[key].shape == v.shape
            np.testing.assert_allclose(arrays[key], v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_load_then_keep_stepping_matches_an_unbroken_run(name: str) -> None:
    specs = [OptimSpec(name, lr, mm, l2) for lr, mm, l2 in ROWS]
    gen = torch.Generator().manual_seed(1)
    params = {n: torch.randn(4, *s, generator=gen, dtype=torch.float64) for n, s in SHAPES.items()}
    grads = [
        {n: torch.randn(4, *s, generator=gen, dtype=torch.float64) for n, s in SHAPES.items()}
        for _ in range(6)
    ]

    def stepped(opt, ps, gs):
        for n, p in ps.items():
            p.grad = gs[n].clone()
        opt.step()

    a = {n: p.clone().requires_grad_() for n, p in params.items()}
    opt_a = make_optimizer(a, specs)
    for g in grads[:3]:
        stepped(opt_a, a, g)
    saved = [opt_a.export(k) for k in range(4)]
    b = {n: p.detach().clone().requires_grad_() for n, p in a.items()}
    opt_b = make_optimizer(b, specs)
    for k, (arrays, meta) in enumerate(saved):
        opt_b.load(k, arrays, meta)
    for g in grads[3:]:
        stepped(opt_a, a, g)
        stepped(opt_b, b, g)
    for n in a:
        assert torch.equal(a[n], b[n])


def test_an_optimizer_an_engine_lacks_is_the_same_one_line_in_both_engines() -> None:
    """The torch engine raised a ValueError ('a stack trains one optimizer of ...') where
    the NumPy engine names the setting in an EngineError line: both name it now."""
    spec = OptimSpec("lbfgs", 0.1)
    lines = []
    for engine, build in [
        ("numpy", lambda: numpy_make_optimizer(spec, np.zeros((1, 3)))),
        ("torch", lambda: make_optimizer({"w": torch.zeros(1, 3)}, [spec])),
    ]:
        with pytest.raises(EngineError) as err:
            build()
        lines.append(str(err.value).replace(engine, "ENGINE"))
    assert lines[0] == lines[1], lines
    choices = ", ".join(CONFIG_OPTIMIZERS)
    assert (
        lines[0]
        == f"setting 'optim': the ENGINE engine has no optimizer 'lbfgs'; choose one of {choices}"
    )


def test_keep_selects_rows_of_every_state() -> None:
    specs = [OptimSpec("rmsprop", lr, mm, l2) for lr, mm, l2 in ROWS]
    params = {"w": torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)}
    opt = make_optimizer(params, specs)
    params["w"].grad = torch.randn(4, 3, 4, dtype=torch.float64)
    opt.step()
    before = {k: opt.export(k) for k in range(4)}
    params["w"].data = params["w"].data[[3, 1]]
    opt.keep(np.array([3, 1]))
    for new, old in enumerate([3, 1]):
        arrays, meta = opt.export(new)
        assert meta == before[old][1]
        assert sorted(arrays) == sorted(before[old][0])
        for key, v in arrays.items():
            np.testing.assert_array_equal(v, before[old][0][key])


def test_load_refuses_another_optimizers_state() -> None:
    params = {"w": torch.zeros(1, 2, requires_grad=True)}
    opt = make_optimizer(params, [OptimSpec("adam", 0.1)])
    with pytest.raises(ValueError, match="'sgd'"):
        opt.load(0, {}, {"name": "sgd", "step": 0, "lr": 0.1})
    with pytest.raises(ValueError, match=r"w\.momentum_buffer"):
        opt.load(0, {"w.momentum_buffer": np.zeros(2)}, {"name": "adam", "step": 1, "lr": 0.1})


def test_a_stack_trains_one_optimizer_kind() -> None:
    params = {"w": torch.zeros(2, 2, requires_grad=True)}
    with pytest.raises(ValueError, match="one optimizer"):
        make_optimizer(params, [OptimSpec("adam", 0.1), OptimSpec("sgd", 0.1)])
