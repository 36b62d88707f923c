"""The batched trainer against single runs: each config's results equal training it alone.

The reference is a single run on the NumPy engine (``engine: numpy``) with the same
settings, since the stack is the NumPy engine's arithmetic with a leading axis K.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlplab.config import Config
from mlplab.runner import train
from mlplab.runs.checkpoint import load_checkpoint
from mlplab.stacks import train_batched
from mlplab.training.grouping import group_indices, group_key

CURVES = ("train_losses", "val_losses", "lrs")
FINALS = ("train_loss", "val_loss", "test_loss", "best_val_loss")


def _configs(tmp_path: Path, base: dict, variants: list[dict]) -> list[Config]:
    common = {"engine": "numpy", "plots": "none", "log_every": 0, "log_path": str(tmp_path / "b")}
    return [Config(**{**common, **base, **v}) for v in variants]


def _single(cfg: Config, tmp_path: Path) -> dict:
    return train(Config(**{**cfg.to_dict(), "log_path": str(tmp_path / "s")}), verbose=False).record


def _assert_same(batched: dict, single: dict, exact: bool = False) -> None:
    """``exact``: with minibatches each model's products are its own, as alone: every
    number is equal (the README's "bit for bit"), not just close."""
    if exact:
        volatile = {"wall_time_s", "started_at", "finished_at", "log_path", "message"}
        for k in sorted((set(batched) | set(single)) - volatile):
            assert batched.get(k) == single.get(k), k
    assert set(batched) == set(single)
    for k in ("status", "epochs_run", "steps", "stopped_early", "val_epochs"):
        assert batched[k] == single[k], k
    if batched["best_epoch"] != single["best_epoch"]:
        # On a plateau the best epoch is a tie broken by rounding: both epochs' val losses
        # must then agree to the tolerance (a torch stack rounds differently).
        v = dict(zip(single["val_epochs"], single["val_losses"], strict=True))
        np.testing.assert_allclose(v[batched["best_epoch"]], v[single["best_epoch"]], rtol=1e-5)
    for k in FINALS:
        np.testing.assert_allclose(batched[k], single[k], rtol=1e-4, atol=1e-7, err_msg=k)
    for k in CURVES:
        np.testing.assert_allclose(batched[k], single[k], rtol=1e-4, atol=1e-7, err_msg=k)
    metric = "mae" if single["task_type"] == "regression" else "acc"
    if metric == "acc":
        scores = [f"{s}_{m}" for s in ("train", "val", "test") for m in ("acc", "bacc", "f1")]
        for k in (*scores, "train_accs", "val_accs"):
            assert batched[k] == single[k], k
    else:
        for k in ("test_mae", "test_mse", "test_r2", "train_maes", "val_maes"):
            np.testing.assert_allclose(batched[k], single[k], rtol=1e-4, err_msg=k)


def _check(tmp_path: Path, base: dict, variants: list[dict]) -> list[dict]:
    cfgs = _configs(tmp_path, base, variants)
    assert len(group_indices(cfgs, 256)) == 1
    results = train_batched(cfgs)
    for cfg, res in zip(cfgs, results, strict=True):
        _assert_same(res, _single(cfg, tmp_path), exact=cfg.engine == "numpy")
    return results


def test_xor_group_differs_in_lr_mm_l2_seed_init(tmp_path: Path) -> None:
    base = {"data": "xor", "n_layer": 1, "hid_dim": 2, "act": "sigmoid", "epoch": 300}
    variants = [
        {"lr": 1.0, "seed": 777},
        {"lr": 0.5, "mm": 0.9, "seed": 1},
        {"lr": 0.2, "l2_coef": 0.01, "seed": 2, "init": "xavier"},
        {"lr": 2.0, "seed": 3, "init": "normal", "mm": 0.5, "l2_coef": 1e-3},
    ]
    results = _check(tmp_path, {**base, "log_every": 100}, variants)
    # Every config has its own complete run record.
    for res in results:
        run_dir = tmp_path / "b" / res["exp_name"] / res["run_id"]  # records name no log_path
        on_disk = json.loads((run_dir / "result.json").read_text())
        assert on_disk["status"] == "finished" and on_disk["test_acc"] == res["test_acc"]
        assert (run_dir / "config.yaml").is_file() and (run_dir / "metrics.csv").is_file()
        assert list(run_dir.glob("events.out.tfevents.*"))
        last = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
        assert last.meta["loop"]["epoch"] == 300
        assert (run_dir / "checkpoints" / "best.safetensors").is_file()


def test_minibatch_adam_dropout_multiclass(tmp_path: Path) -> None:
    # Per-config data order and dropout masks must come from each config's own RNGs.
    base = {
        "data": "iris",
        "standardize": True,
        "n_layer": 2,
        "hid_dim": 16,
        "act": "relu",
        "optim": "adam",
        "batch_size": 32,
        "epoch": 15,
        "validate_every": 2,
        "lr_schedule": "cosine",
    }
    variants = [
        {"lr": 0.01, "seed": 0},
        {"lr": 0.003, "seed": 5, "dp_rate": 0.2, "l2_coef": 1e-3},
        {"lr": 0.02, "seed": 9, "dp_rate": 0.5, "init": "kaiming"},
    ]
    _check(tmp_path, base, variants)


def test_regression_batchnorm_residual_sgd_momentum(tmp_path: Path) -> None:
    base = {
        "data": "sinlog",
        "n_samples": 300,
        "split": [200, 50, 50],
        "n_layer": 2,
        "hid_dim": 8,
        "act": "tanh",
        "use_bn": True,
        "sc_type": "residual",
        "batch_size": 64,
        "epoch": 8,
        "lr_schedule": "step",
        "lr_step": 3,
        "lr_gamma": 0.5,
    }
    variants = [
        {"lr": 0.01, "mm": 0.9, "seed": 1},
        {"lr": 0.005, "seed": 2, "l2_coef": 0.01},
    ]
    _check(tmp_path, base, variants)


@pytest.mark.parametrize("optim", ["rmsprop", "adagrad", "adamw"])
def test_other_optimizers(tmp_path: Path, optim: str) -> None:
    base = {"data": "moons", "n_layer": 1, "hid_dim": 8, "act": "tanh", "optim": optim, "epoch": 40}
    variants = [
        {"lr": 0.01, "seed": 1, "mm": 0.5 if optim == "rmsprop" else 0.0},
        {"lr": 0.03, "seed": 2, "l2_coef": 0.01},
    ]
    _check(tmp_path, base, variants)


def test_patience_stops_configs_independently(tmp_path: Path) -> None:
    base = {"data": "moons", "n_layer": 1, "hid_dim": 8, "act": "relu", "epoch": 200, "patience": 3}
    variants = [{"lr": 3.0, "seed": 1}, {"lr": 0.05, "seed": 2}, {"lr": 0.5, "seed": 3}]
    results = _check(tmp_path, base, variants)
    assert len({r["epochs_run"] for r in results}) > 1  # they did stop at different epochs


# The single NumPy run itself warns on overflow as it diverges (the stack does not).
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_diverged_config_leaves_the_others_training(tmp_path: Path) -> None:
    base = {
        "data": "sinlog",
        "n_samples": 200,
        "split": [100, 50, 50],
        "n_layer": 1,
        "hid_dim": 16,
        "epoch": 30,
    }
    variants = [{"lr": 1e3, "seed": 1}, {"lr": 1e-3, "seed": 2}]
    cfgs = _configs(tmp_path, base, variants)
    results = train_batched(cfgs)
    singles = [_single(c, tmp_path) for c in cfgs]
    assert (
        [r["status"] for r in results] == [s["status"] for s in singles] == ["diverged", "finished"]
    )
    assert results[0]["message"] == singles[0]["message"]
    _assert_same(results[1], singles[1], exact=True)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_stack_with_l1_trains_each_config_as_alone(tmp_path: Path, engine: str) -> None:
    base = {"data": "moons", "n_layer": 2, "hid_dim": 8, "act": "tanh", "epoch": 8,
            "batch_size": 32, "l1_coef": 0.01, "engine": engine, "device": "cpu"}  # fmt: skip
    variants = [{"lr": 0.1, "seed": 1}, {"lr": 0.3, "seed": 2, "mm": 0.9, "l2_coef": 1e-3}]
    results = _check(tmp_path, base, variants)
    assert all(r["status"] == "finished" for r in results)


def test_grouping() -> None:
    a = Config(data="xor", lr=0.1, seed=1)
    b = Config(data="xor", lr=0.5, seed=2, mm=0.9, init="xavier", dp_rate=0.1)
    c = Config(data="xor", hid_dim=3)
    d = Config(data="xor", optim="adam")
    e = Config(data="xor", snapshot_every=10)  # snapshots at other steps: another stack
    assert group_key(a) == group_key(b)
    # The models of a stack share l1_coef (its shrink is the stack's).
    assert group_key(Config(data="xor", l1_coef=0.01)) != group_key(a)
    assert len({group_key(x) for x in (a, c, d)}) == 3
    # a, b and the last share a key; groups keep the configs' order.
    assert group_indices([a, c, b, d, e, Config(data="xor", seed=3)], max_group=2) == [
        [0, 2],
        [5],
        [1],
        [3],
        [4],
    ]


@pytest.fixture
def one_torch_thread():
    # Tiny models gain nothing from intra-op threads; on a busy machine they cost much.
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize(
    ("base", "optim"),
    [
        ({"data": "xor", "n_layer": 1, "hid_dim": 4, "act": "sigmoid", "epoch": 60}, "sgd"),
        (
            {
                "data": "iris",
                "standardize": True,
                "n_layer": 2,
                "hid_dim": 8,
                "act": "relu",
                "use_bn": True,
                "batch_size": 32,
                "epoch": 6,
            },
            "adam",
        ),
    ],
)
def test_torch_stack_equals_single_torch_runs(tmp_path: Path, base: dict, optim: str) -> None:
    # The torch stack (the path that runs on CUDA) against single `engine: torch` runs.
    variants = [
        {"lr": 0.5 if optim == "sgd" else 0.01, "seed": 1, "mm": 0.9 if optim == "sgd" else 0.0},
        {"lr": 0.1 if optim == "sgd" else 0.003, "seed": 2, "l2_coef": 1e-3, "init": "xavier"},
    ]
    _check(tmp_path, {**base, "optim": optim, "engine": "torch", "device": "cpu"}, variants)


def test_a_width_per_layer_trains_batched_as_alone(tmp_path):
    base = dict(
        data="moons",
        hid_dims="8-4",
        act="tanh",
        epoch=6,
        batch_size=32,
        plots="none",
        engine="numpy",
        log_every=0,
    )
    cfgs = [
        dict(base, seed=s, lr=lr, log_path=str(tmp_path / "b"))
        for s in (0, 1)
        for lr in (0.05, 0.2)
    ]
    batched = train_batched(cfgs)
    for cfg, rb in zip(cfgs, batched, strict=True):
        alone = train(**{**cfg, "log_path": str(tmp_path / "a")}, verbose=False).record
        assert rb["n_params"] == alone["n_params"] == 2 * 8 + 8 + 8 * 4 + 4 + 4 * 1 + 1
        _assert_same(rb, alone, exact=True)


def test_a_stopped_stack_resumes_each_config_exactly(tmp_path: Path) -> None:
    """Stopped at an epoch's end (a Ctrl-C in a sweep), each config resumes as if never stopped."""
    base = {
        "data": "moons",
        "n_samples": 300,
        "n_layer": 1,
        "hid_dim": 8,
        "act": "relu",
        "optim": "adam",
        "batch_size": 32,  # minibatches: the data-order RNG must resume too
        "dp_rate": 0.1,  # and the dropout RNG
        "epoch": 12,
        "save_every": 0,
    }
    cfgs = _configs(tmp_path, base, [{"lr": 0.01, "seed": 1}, {"lr": 0.03, "seed": 2}])
    asked = []

    def stop_at_the_thirtieth_question() -> bool:
        asked.append(None)
        return len(asked) >= 30  # asked before the group starts, then before every step

    stopped = train_batched(cfgs, should_stop=stop_at_the_thirtieth_question)
    for cfg, rec in zip(cfgs, stopped, strict=True):
        # 8 steps an epoch: the stop lands mid-epoch, and resumes there.
        assert rec["status"] == "interrupted" and rec["epochs_run"] == 3
        assert rec["steps"] % 8 != 0
        assert "mlplab train --resume" in rec["message"]
        resumed = train(resume=Path(cfg.log_path) / cfg.exp_name / rec["run_id"], verbose=False)
        assert resumed.status == "finished"
        _assert_same(resumed.record, _single(cfg, tmp_path), exact=True)


def test_a_stop_before_a_group_starts_trains_nothing_of_it(tmp_path: Path) -> None:
    base = {"data": "xor", "n_layer": 1, "hid_dim": 2, "act": "sigmoid", "epoch": 50}
    cfgs = _configs(tmp_path, base, [{"lr": 0.5}, {"lr": 1.0}])
    assert train_batched(cfgs, should_stop=lambda: True) == [None, None]
    assert not (tmp_path / "b").exists()


def test_schedules_checkpoints_and_snapshots_stack_as_alone(tmp_path: Path) -> None:
    # Every setting a single run accepts trains inside the stack too: per-model lr
    # schedules, periodic checkpoints (save_every) and snapshots (snapshot_every).
    base = {
        "data": "moons",
        "n_samples": 300,
        "n_layer": 1,
        "hid_dim": 8,
        "act": "tanh",
        "optim": "sgd",
        "batch_size": 64,
        "epoch": 12,
        "save_every": 4,
        "snapshot_every": 10,
        "plots": "png",
    }
    variants = [
        {"lr": 0.1, "seed": 1, "lr_schedule": "cosine"},
        {"lr": 0.2, "seed": 2, "lr_schedule": "step", "lr_step": 3, "lr_gamma": 0.5},
        {"lr": 0.3, "seed": 3, "lr_schedule": "exponential", "lr_gamma": 0.9, "dp_rate": 0.2},
    ]
    cfgs = [Config(**{**c.to_dict(), "plots": "png"}) for c in _configs(tmp_path, base, variants)]
    assert len(group_indices(cfgs, 256)) == 1  # one stack, schedules and all
    results = train_batched(cfgs)
    drawn = {"plot_files", "snapshots", "plots"}  # the stack's pictures, checked below
    for cfg, res in zip(cfgs, results, strict=True):
        # Alone without pictures: drawing them (an animation) took most of this test's time.
        single = _single(Config(**{**cfg.to_dict(), "plots": "none"}), tmp_path)
        _assert_same(
            {k: v for k, v in res.items() if k not in drawn},
            {k: v for k, v in single.items() if k not in drawn},
            exact=True,
        )
        run_dir = tmp_path / "b" / cfg.exp_name / res["run_id"]
        ckpt = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
        assert ckpt.meta["loop"]["epoch"] == 12
        assert (run_dir / "snapshots.npz").is_file()
        assert (run_dir / "plots" / "loss.png").is_file()


def test_a_config_given_twice_trains_once(tmp_path: Path) -> None:
    """A search that proposes a config again had trained it twice, as two rows of one stack
    writing one folder; it is one run, equal to training it alone."""
    a, b = _configs(tmp_path, {"data": "xor", "epoch": 30}, [{"lr": 0.1}, {"lr": 0.2}])
    results = train_batched([a, b, a])
    assert results[0] is not None and results[1] is not None
    assert results[2] == results[0] and results[0]["lr"] == 0.1 and results[1]["lr"] == 0.2
    runs = sorted(p.name for p in (tmp_path / "b" / a.exp_name).iterdir() if p.is_dir())
    assert len(runs) == 2, runs
    _assert_same(results[2], _single(a, tmp_path), exact=True)
