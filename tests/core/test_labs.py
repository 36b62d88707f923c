"""The lectures' labs, reproduced through the examples/ configs and checked for their outcomes."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

import mlplab
from conftest import EXAMPLES


def lab(name: str, **overrides):
    cfg = mlplab.load_config(EXAMPLES / f"{name}.yaml", {"log_every": 0, **overrides})
    return mlplab.train(cfg, verbose=False, record=False).record


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_perceptron_cannot_solve_xor(engine):
    r = lab("xor_perceptron", engine=engine, epoch=2001)
    assert abs(r["train_loss"] - math.log(2)) < 1e-3  # cost stuck at ln 2
    assert r["train_acc"] <= 0.75


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_the_perceptrons_ties_are_class_0_in_the_record_as_in_the_lab(engine, capsys):
    """The lab prints Accuracy 0.5 (a probability of 0.5 is class 0); the table, result.json
    and plots decided by the sign of logits of about 1e-8, rounding noise, and said 0.75 on
    the NumPy engine and 0.25 on torch."""
    cfg = mlplab.load_config(
        EXAMPLES / "xor_perceptron.yaml", {"epoch": 2001, "plots": "none", "engine": engine}
    )
    r = mlplab.train(cfg, record=False).record
    out = capsys.readouterr().out
    assert "Accuracy: 0.5\n" in out
    assert r["train_acc"] == r["val_acc"] == r["test_acc"] == 0.5
    assert r["val_accs"][-1] == 0.5  # the curve's metric decides the same way


@pytest.mark.parametrize("gate", ["and", "or"])
def test_perceptron_solves_and_and_or(gate):
    r = lab("and_perceptron", data=gate)
    assert r["test_acc"] == 1.0


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_xor_nn_reaches_accuracy_one_and_cost_near_1e_3(engine):
    r = lab("xor_nn", engine=engine)  # 10001 full-batch steps, SGD lr 1, seed 777
    assert r["test_acc"] == 1.0
    assert 2e-4 < r["train_loss"] < 5e-3  # the lab prints 0.0012345 at step 10000
    assert r["train_losses"][0] > 0.69  # starts at or above ln 2, as the lab's 0.74


def test_the_labs_initial_weights_do_not_follow_torchs_default_dtype():
    """In a kernel where earlier code ran torch.set_default_dtype(torch.float64), init
    'torch' drew other weights under the same run id: xor-nn's step-0 cost was 0.7032, not
    the slide's 0.7434 (REFERENCE.md)."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        r = lab("xor_nn", epoch=1)
    finally:
        torch.set_default_dtype(before)
    assert r["train_losses"][0] == pytest.approx(0.7434, abs=5e-5)


def test_an_mlp_that_does_not_solve_xor_says_why_and_the_perceptron_does_not():
    """XOR with --act relu (the deck's "What's next? ReLU") fails on most seeds, and its
    printout read as the perceptron's, with no word: its ReLUs are all active on the 4
    rows (a linear net), or dead."""

    def notes(name: str, **overrides) -> list[str]:
        cfg = mlplab.load_config(EXAMPLES / f"{name}.yaml", {"log_every": 0, **overrides})
        return mlplab.train(cfg, verbose=False, record=False).notes

    # In Python's words: the notes of a Python call.
    tail = "; another seed, a lower lr, more units (hid_dim=4) or act='tanh' often does"
    # A linear net's 0.5 or 0.75, by the last digits of this CPU's float32 sums (an Intel
    # Xeon's run ends at 0.5, an AMD EPYC's at 0.75).
    (linear,) = notes("xor_nn", act="relu", seed=2)
    assert re.fullmatch(
        r"the MLP did not solve xor's 4 rows \(accuracy 0\.75?\): every ReLU is active on all "
        r"4 rows, so the net is linear on them, as a perceptron is" + re.escape(tail),
        linear,
    ), linear
    assert notes("xor_nn", act="relu", lr=10.0) == [
        "the MLP did not solve xor's 4 rows (accuracy 0.5): a layer's ReLUs output 0 on every "
        "row (dead), and pass no gradient" + tail
    ]
    assert notes("xor_nn", act="relu", seed=1) == [
        "the MLP did not solve xor's 4 rows (accuracy 0.75)" + tail
    ]
    assert notes("xor_nn") == [] and notes("xor_perceptron", epoch=2001) == []
    # On its way still (the default relu net, 30 epochs at lr 0.01): steps to add, not a
    # start to change; it was sent to a lower lr.
    quick = mlplab.train(data="xor", epoch=30, verbose=False, record=False).notes
    assert (
        len(quick) == 1
        and quick[0].startswith(
            "the MLP did not solve xor's 4 rows yet (accuracy 0.5); its loss was still falling ("
        )
        and quick[0].endswith("over the second half): more epoch, or a larger lr")
    )
    # Still on ln 2's plateau after the lab's 10001 steps at lr 0.1, and falling at every
    # validation: it was sent to "a lower lr" (40,000 steps solve it).
    (slow,) = notes("xor_nn", lr=0.1)
    assert slow == (
        "the MLP did not solve xor's 4 rows yet (accuracy 0.5); its loss, 0.6931, is still "
        "about that of knowing nothing (0.6931) and fell at every validation: its steps are "
        "too small to leave that plateau: a larger lr, or more epoch"
    )


def test_the_gate_note_suggests_only_more_units_than_the_model_has_and_a_deep_sigmoids_reason():
    """It told a 100-unit model to try "more units (--hid_dim 4)", and a 6-layer sigmoid
    stack that could not learn to try another seed, where a moons run got the reason."""

    def note(name: str, **overrides) -> str:
        cfg = mlplab.load_config(EXAMPLES / f"{name}.yaml", {"log_every": 0, **overrides})
        (only,) = mlplab.train(cfg, verbose=False, record=False).notes
        return only

    dead = "the MLP did not solve xor's 4 rows (accuracy 0.5): a layer's ReLUs output 0 on every row (dead), and pass no gradient; "  # fmt: skip
    assert note("xor_nn", act="relu", hid_dim=100, lr=10.0, epoch=300) == (
        dead + "another seed, a lower lr or act='tanh' often does"
    )
    assert note("xor_nn", act="relu", hid_dim=5, lr=10.0, epoch=300) == (
        dead + "another seed, a lower lr, more units (hid_dim=8) or act='tanh' often does"
    )
    assert note("xor_nn", act="tanh", hid_dim=5, lr=30.0, epoch=300).endswith(
        "(accuracy 0.5); another seed, a lower lr or more units (hid_dim=8) often does"
    )
    # Layers of their own widths: hid_dims overrides hid_dim, so each is widened there.
    cfg = mlplab.load_config(
        EXAMPLES / "xor_nn.yaml",
        {"log_every": 0, "act": "tanh", "hid_dims": "3-2", "lr": 30.0, "epoch": 300, "seed": 2},
    )
    assert (
        mlplab.train(cfg, verbose=False, record=False)
        .notes[-1]
        .endswith(
            "(accuracy 0.5); another seed, a lower lr or more units (hid_dims='4-4') often does"
        )
    )
    assert note("xor_wide_deep", n_layer=6, epoch=2000) == (
        "the MLP did not solve xor's 4 rows (accuracy 0.5): sigmoid's slope is at most 0.25: "
        "through 6 hidden layers the slopes alone make the gradient reaching the first at "
        "least 4^6 = 4,096 times smaller than the last's (the weights scale it too, either "
        "way), so it vanishes; act='relu' or tanh, or fewer layers, trains them"
    )


def test_the_gate_note_says_one_hidden_unit_cannot_solve_xor_where_more_epochs_were_advised():
    """A 2-1-1 net's loss still fell a little at 2000 epochs, and the note said "more epoch,
    or a larger lr"; at 20000, "another seed ... or act='tanh'". One rising unit passes on
    one number that only rises along one direction of the input: 0.75 at most, whatever
    the epochs, seed or lr. GELU dips and rises again: one unit of it solves xor."""

    def note(**overrides) -> list[str]:
        cfg = mlplab.load_config(EXAMPLES / "xor_nn.yaml", {"log_every": 0, **overrides})
        return mlplab.train(cfg, verbose=False, record=False).notes

    cannot = (
        "the MLP did not solve xor's 4 rows (accuracy 0.75): one hidden unit cannot separate "
        "xor, however long it trains: it passes on one number, which only rises (or only "
        "falls) along one direction of the input, and along no direction do xor's classes "
        "lie apart (3 rows of 4 at most); hid_dim=2 or more solves it"
    )
    assert note(hid_dim=1, epoch=2000) == [cannot]
    assert note(hid_dim=1, epoch=20000) == [cannot]
    (layers,) = note(n_layer=2, hid_dim=1, epoch=2000)
    assert "hidden layers of one unit cannot separate xor, however long it trains: each" in layers
    assert note(n_layer=2, hid_dims=[1, 1], epoch=2000)[-1].endswith(
        "hid_dims='2-2' or more solves it"
    )
    assert note(hid_dim=1, act="gelu", lr=0.5, epoch=3000) == []
    # A wider layer after the one unit can bend its number back: no such claim there.
    assert not any("cannot" in n for n in note(n_layer=2, hid_dims=[1, 4], epoch=3000))


def test_xor_wide_deep_reaches_accuracy_one():
    r = lab("xor_wide_deep")
    assert r["test_acc"] == 1.0 and r["train_loss"] < 5e-3


def test_sinlog_mlp_beats_linear_by_a_wide_margin():
    linear = lab("sinlog_linear")
    mlp = lab("sinlog_mlp")
    assert mlp["test_mae"] < 0.7 * linear["test_mae"]
    assert mlp["test_r2"] > linear["test_r2"] + 0.2
    # Validation every epoch: every point in curves.npz; in result.json every 16th epoch
    # (about TEXT_POINTS = 250 of them) and the last.
    assert mlp["curves_thinned"] == {"points": 4000, "shown": 251, "file": "curves.npz"}
    assert len(mlp["val_losses"]) == 251 and mlp["val_epochs"][-1] == 4000
    assert mlp["val_epochs"][:3] == [1, 17, 33]


def test_ring_mlp_beats_linear_by_a_wide_margin():
    linear = lab("ring_linear", epoch=1000)
    mlp = lab("ring_mlp", epoch=1000)
    assert mlp["test_acc"] > linear["test_acc"] + 0.25
    assert mlp["test_acc"] > 0.6


def test_digits_reaches_095():
    assert lab("digits_mlp")["test_acc"] >= 0.95


def test_lab_09s_point_of_init_holds_on_digits(tmp_path):
    """The README's lab 09 on digits: 256-256 ReLU from the lab's normal init falls well
    short of the same net from xavier's (the slides: 0.942 against 0.981 on MNIST)."""
    lab09 = {"data": "digits", "standardize": True, "optim": "adam", "lr": 0.001, "epoch": 15,
             "batch_size": 100, "hid_dims": "256-256", "act": "relu", "plots": "none",
             "log_path": str(tmp_path), "verbose": False}  # fmt: skip
    normal = mlplab.train(**lab09, init="normal").metrics["test_acc"]
    xavier = mlplab.train(**lab09, init="xavier").metrics["test_acc"]
    assert xavier > 0.95 and xavier > normal + 0.04, (normal, xavier)


def test_regularization_lab_config_trains(tmp_path):
    r = lab("regularization", epoch=3, save_every=1)
    assert r["status"] == "finished" and r["test_acc"] > 0.8


def test_trains_on_a_real_csv_with_string_labels(tmp_path):
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    df = wine.frame.sample(frac=1.0, random_state=0)
    df["cultivar"] = [f"class_{t}" for t in df.pop("target")]
    df = df[
        [*reversed(wine.feature_names[:7]), "cultivar", *wine.feature_names[7:]]
    ]  # label mid-table
    path = tmp_path / "wine.csv"
    df.to_csv(path, index=False)
    res = mlplab.train(
        data=str(path),
        target=["cultivar"],
        standardize=True,
        n_layer=1,
        hid_dim=32,
        optim="adam",
        lr=0.01,
        epoch=60,
        batch_size=16,
        log_every=0,
        verbose=False,
        log_path=str(tmp_path / "runs"),
        plots="none",
    )
    assert res.record["test_acc"] >= 0.85
    assert res.dataset.class_names == ["class_0", "class_1", "class_2"]
    # Predictions come back as the file's own labels, from raw (unscaled) rows.
    raw = df[res.dataset.feature_names].to_numpy(dtype=float)
    labels = res.predict_labels(raw)
    assert set(labels) <= {"class_0", "class_1", "class_2"}
    assert (labels == df["cultivar"].to_numpy()).mean() >= 0.9
    assert res.dataset.n_features == 13
    assert pd.read_csv(res.run_dir / "metrics.csv").shape[0] == 60


def test_a_run_cut_short_says_its_numbers_are_of_the_model_so_far(tmp_path, capsys):
    """Under `timeout`, the table and the lab's Accuracy line read as a finished run's but
    for one word (a grader's grep of `Accuracy: 1.0` scored a run cut short)."""
    calls = iter(range(10**6))
    cfg = mlplab.load_config(EXAMPLES / "xor_nn.yaml", {"log_every": 0, "plots": "none"})
    res = mlplab.train(cfg, log_path=str(tmp_path), stop=lambda: next(calls) >= 500)
    assert res.status == "interrupted"
    out = capsys.readouterr().out
    step = res.record["steps"]
    assert f"on xor: interrupted at step {step}, its model so far, in " in out
    assert f"(the model at step {step}, interrupted:)\nHypothesis: " in out
    # Continued, its time is the run's and this call's (it read wrong against `time`).
    again = mlplab.train(cfg, log_path=str(tmp_path))
    assert again.status == "finished"
    title = re.search(
        r"on xor: finished in ([\d.]+) s \(([\d.]+) s in this call\)\n", capsys.readouterr().out
    )
    assert title and float(title[2]) < float(title[1]) == round(again.record["wall_time_s"], 2)
    # A finished run's printout is the lab's, unchanged.
    mlplab.train(cfg, log_path=str(tmp_path / "whole"), epoch=20)
    out = capsys.readouterr().out
    assert "(the model at step" not in out and re.search(r"on xor: finished in [\d.]+ s\n", out)
