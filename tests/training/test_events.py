"""The loop's events: their order, what they carry, and pruning rows of a stack."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.choose import make_backend
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.errors import ConfigError, PruneError
from mlplab.runner import train
from mlplab.training.events import End, Event, Save, Start, Step, Validate, as_json
from mlplab.training.loop import LrSchedule, Schedule, StackState, fit

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
SPEC = ModelSpec(2, 1, 1, 4, "tanh", task="binary")


def _stack(lrs: list[float]):
    models = []
    for seed in range(len(lrs)):
        s = run_streams(seed)
        w = init_state(SPEC, "default", s.weights)
        models.append(ModelInit(w, OptimSpec("sgd", lrs[seed]), 0.0, s.dropout))
    backend = make_backend("numpy", SPEC, models)
    backend.set_data({"train": (X, Y), "val": (X, Y), "test": (X, Y)})
    state = StackState.fresh([run_streams(s).order for s in range(len(lrs))])
    return backend, state


def test_events_come_in_order_and_end_each_model_once():
    backend, state = _stack([0.5, 1.0, 2.0])
    seen: list[object] = []
    targets = {"train": Y, "val": Y, "test": Y}
    schedule = Schedule(epoch=6, log_every=2, save_every=3)
    fit(
        backend,
        "binary",
        targets,
        schedule,
        [LrSchedule(lr) for lr in (0.5, 1, 2)],
        state,
        [seen.append],
    )
    kinds = [type(e).__name__ for e in seen]
    assert kinds[0] == "Start" and kinds[-1] == "End"
    assert [e.step for e in seen if isinstance(e, Step)] == [0, 2, 4]
    assert [e.epoch for e in seen if isinstance(e, Validate)] == list(range(1, 7))
    assert [e.epoch for e in seen if isinstance(e, Save)] == [3, 6]
    (end,) = [e for e in seen if isinstance(e, End)]
    assert sorted(end.ids.tolist()) == [0, 1, 2] and end.statuses == ["finished"] * 3
    assert all(set(f) >= {"train_loss", "val_acc", "test_acc"} for f in end.finals)
    v = [e for e in seen if isinstance(e, Validate)][-1]
    assert v.lr.tolist() == [0.5, 1.0, 2.0] and v.val_loss.shape == (3,)
    # Each validation says where the run ends, for a rule's last rung, as Start does.
    assert {e.epochs for e in seen if isinstance(e, Validate)} == {6} == {seen[0].epochs}


def test_prune_stops_the_named_rows_and_the_others_go_on():
    backend, state = _stack([0.1, 1.0, 3.0, 0.5])
    ends: list[End] = []

    def worst_half(event: Validate) -> np.ndarray:
        # At epoch 5, stop the two models with the highest validation loss.
        if event.epoch != 5:
            return np.zeros(len(event.ids), dtype=bool)
        return event.val_loss >= np.sort(event.val_loss)[-2]

    targets = {"train": Y, "val": Y, "test": Y}
    fit(
        backend,
        "binary",
        targets,
        Schedule(epoch=20, log_every=0),
        [LrSchedule(lr) for lr in (0.1, 1, 3, 0.5)],
        state,
        [lambda e: ends.append(e) if isinstance(e, End) else None],
        prune=worst_half,
    )
    pruned, finished = ends
    assert pruned.statuses == ["pruned", "pruned"] and pruned.epoch == 5
    assert finished.statuses == ["finished", "finished"] and finished.epoch == 20
    assert set(pruned.ids) | set(finished.ids) == {0, 1, 2, 3}
    # A pruned model's curves, and its place in the data, stop where it was pruned (its
    # epoch and step went on with the stack).
    stopped = state.loop_state(int(pruned.ids[0]))
    assert len(stopped.history.val_epochs) == 5
    assert (stopped.epoch, stopped.step) == (5, 5)  # full batch: a step an epoch
    assert len(state.loop_state(int(finished.ids[0])).history.val_epochs) == 20
    assert state.loop_state(int(finished.ids[0])).epoch == 20


@pytest.mark.parametrize("rule_name", ["prune", "early_stop"])
def test_the_rules_see_every_model_their_event_names_when_patience_ends_some(rule_name):
    """Patience ends a model at the validation a rule is asked about: the rule still reads
    every model the event names (a rule that predicted with them met "model 0 is not in
    the stack", and predict_all's rows no longer matched the event's ids)."""
    backend, state = _stack([0.0, 1.0, 2.0])  # lr 0: its loss never improves
    asked: list[tuple[list[int], int]] = []

    def rule(event: Validate) -> np.ndarray:
        for k in event.ids:
            event.models.predict(int(k), X)
        asked.append((event.ids.tolist(), len(event.models.predict_all(X))))
        return np.zeros(len(event.ids), dtype=bool)

    ends: list[End] = []
    fit(
        backend, "binary", {"train": Y, "val": Y, "test": Y},
        Schedule(epoch=6, log_every=0, patience=2), [LrSchedule(lr) for lr in (0.0, 1, 2)],
        state, [lambda e: ends.append(e) if isinstance(e, End) else None],
        **{rule_name: rule},
    )  # fmt: skip
    assert ends[0].ids.tolist() == [0] and ends[0].epoch == 3  # patience 2: its 3rd validation
    assert asked[2] == ([0, 1, 2], 3)  # the rule at that validation saw all three
    assert asked[3] == ([1, 2], 2)


def test_a_prune_hook_that_returns_no_mask_over_the_events_ids_is_named():
    """A hook returning the ids to stop (not a mask) failed inside NumPy's indexing."""
    import pytest

    for rule, said in (
        (lambda v: v.ids[:1], "int64 of shape (1,)"),
        # A rule that forgot its return: "object of shape ()" named no epoch either.
        (lambda v: None, "None (no return?)"),
    ):
        backend, state = _stack([0.1, 1.0, 3.0])
        with pytest.raises(PruneError) as err:
            fit(
                backend, "binary", {"train": Y, "val": Y, "test": Y},
                Schedule(epoch=3, log_every=0), [LrSchedule(lr) for lr in (0.1, 1, 3)], state,
                [], prune=rule,
            )  # fmt: skip
        assert str(err.value) == (
            "prune must return a bool mask over the event's ids (shape (3,)), True for each "
            f"model to stop; at the validation of epoch 1 it returned {said}"
        )


def test_a_subscriber_sees_a_single_run(tmp_path):
    starts, vals = [], []

    def sub(event):
        if isinstance(event, Start):
            starts.append(event)
        elif isinstance(event, Validate):
            vals.append(float(event.val_loss[0]))

    res = train(
        data="xor",
        hid_dim=2,
        act="sigmoid",
        lr=1.0,
        epoch=50,
        log_every=0,
        plots="none",
        verbose=False,
        log_path=str(tmp_path),
        subscribers=[sub],
    )
    assert len(starts) == 1 and vals == res.record["val_losses"]
    # What a live page needs from the start: where the run ends, its task, its run id,
    # its settings and the data it trains on (to draw the points and a surface).
    (start,) = starts
    assert (start.epochs, start.task) == (50, "binary")
    assert start.models.name(0) == res.run_dir.name == res.record["run_id"]
    data = start.models.dataset
    assert data is not None and data.name == "xor"
    np.testing.assert_array_equal(data.X_train, res.dataset.X_train)
    sent = as_json(start)
    assert sent["names"] == [res.run_dir.name] and sent["settings"][0]["hid_dim"] == 2
    assert sent["settings"][0]["lr"] == 1.0


def test_every_event_as_json_is_strict_json_with_the_events_numbers():
    """A web page or a log file takes the events as JSON: no NaN, no arrays, no models."""
    import json

    # The second model's first update makes its weights NaN: its first validation loss
    # (and its rate) are not finite, and its next step ends it, diverged.
    backend, state = _stack([0.5, np.inf])
    seen: list[object] = []
    with np.errstate(all="ignore"):  # as mlplab.train runs the loop
        fit(
            backend, "binary", {"train": Y, "val": Y, "test": Y},
            Schedule(epoch=4, log_every=1, save_every=2), [LrSchedule(0.5), LrSchedule(np.inf)],
            state, [seen.append],
        )  # fmt: skip
    texts = [json.dumps(as_json(e), allow_nan=False) for e in seen]  # raises on NaN or inf
    back = [json.loads(t) for t in texts]
    assert [b["event"] for b in back][:2] == ["start", "step"]
    assert back[0] == {
        "event": "start", "epoch": 0, "step": 0, "epochs": 4, "task": "binary",
        "ids": [0, 1], "names": ["0", "1"],  # fit was given no names: ids as text
        "settings": [{}, {}],  # nor settings
    }  # fmt: skip
    assert {b["event"] for b in back} == {"start", "step", "validate", "save", "end"}
    for event, b in zip(seen, back, strict=True):
        assert "models" not in b and "train_outputs" not in b
        if isinstance(event, Validate) and len(event.ids) == 1:
            assert b["ids"] == event.ids.tolist() and b["epoch"] == event.epoch
            assert b["val_loss"] == event.val_loss.tolist()
            assert b["improved"] == event.improved.tolist()
        # Every event names its models, for a page that joins mid-run.
        assert b["names"] == [str(k) for k in b["ids"]]
    ends = [b for b in back if b["event"] == "end"]
    assert sorted(s for e in ends for s in e["statuses"]) == ["diverged", "finished"]
    diverged = next(e for e in ends if e["statuses"] == ["diverged"])
    assert diverged["finals"] == [{}] and "at step" in diverged["messages"][0]
    first = next(b for b in back if b["event"] == "validate")
    assert first["ids"] == [0, 1] and first["val_loss"][1] is None and first["lr"][1] is None
    assert isinstance(first["val_loss"][0], float) and first["lr"][0] == 0.5


def test_an_events_predict_takes_rows_as_the_engine_holds_them(tmp_path):
    """A page drew its surface from raw grid points through event.models.predict, which
    takes standardized rows where the run standardizes: as documented now, the dataset's
    transform gives them, and the outputs are then Result.predict's for the raw rows."""
    grid = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-1.0, 0.5]])
    seen = {}

    def at_end(event):
        if isinstance(event, End):
            seen["raw"] = event.models.predict(0, grid)
            seen["scaled"] = event.models.predict(0, seen["transform"](grid))

    from mlplab.data.dataset import load_dataset

    data = load_dataset("moons", n_samples=100, standardize=True)
    seen["transform"] = data.transform
    run = train(data="moons", n_samples=100, standardize=True, epoch=3, engine="numpy",
                record=False, verbose=False, subscribers=[at_end])  # fmt: skip
    np.testing.assert_allclose(seen["scaled"], run.predict(grid), rtol=1e-6)
    assert not np.allclose(seen["raw"], run.predict(grid), rtol=1e-3)


def test_predict_all_is_every_models_predict_in_one_pass():
    """A page drawing each model of a stack called predict K times, each a pass of all K."""
    backend, state = _stack([0.5, 1.0, 2.0])
    grid = np.random.default_rng(0).normal(size=(50, 2))
    seen = {}

    def at_validate(event):
        if isinstance(event, Validate) and event.epoch == 3:
            seen["all"] = event.models.predict_all(grid)
            seen["each"] = [event.models.predict(int(k), grid) for k in event.models.ids]

    fit(backend, "binary", {"train": Y, "val": Y, "test": Y}, Schedule(epoch=4),
        [LrSchedule(lr) for lr in (0.5, 1, 2)], state, [at_validate])  # fmt: skip
    assert seen["all"].shape == (3, 50, 1)
    np.testing.assert_array_equal(seen["all"], np.stack(seen["each"]))
    assert not np.allclose(seen["all"][0], seen["all"][2])  # three models, not one thrice


@pytest.mark.parametrize(
    ("engine", "dtype"), [("numpy", "float32"), ("numpy", "float64"), ("torch", "float32")]
)
def test_predict_of_one_model_is_its_row_of_predict_all_bit_for_bit(engine, dtype, monkeypatch):
    """With batch norm (its running statistics), dropout (eval: off) and a residual
    block, in a stack that lost a row: predict(id) is predict_all's row for that id. On
    the NumPy engine it runs that one model's pass, not the stack's: a page that drew
    each of K models with predict ran K passes of all K."""
    if engine == "torch":
        pytest.importorskip("torch")
    spec = ModelSpec(2, 3, 2, 6, "tanh", use_bn=True, dp_rate=0.3, sc_type="residual",
                     task="multiclass")  # fmt: skip
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 3, size=40)
    models = []
    for seed, rate in enumerate((0.0, 0.3, 0.5, 0.2)):
        s = run_streams(seed)
        w = init_state(spec, "default", s.weights)
        models.append(ModelInit(w, OptimSpec("adam", 0.01 * (seed + 1)), rate, s.dropout))
    backend = make_backend(engine, spec, models, dtype=dtype)
    backend.set_data({"train": (X, y), "val": (X, y), "test": (X, y)})
    state = StackState.fresh([run_streams(s).order for s in range(4)])
    grid = rng.normal(size=(64, 2))
    passes: list[int] = []
    if engine == "numpy":
        from mlplab.engines.numpy.model import MLP

        forward = MLP.forward
        monkeypatch.setattr(
            MLP, "forward", lambda m, *a, **k: (passes.append(m.K), forward(m, *a, **k))[1]
        )
    seen = {}

    def at_validate(event):
        if isinstance(event, Validate) and event.epoch == 3:
            passes.clear()
            seen["each"] = [event.models.predict(int(k), grid) for k in event.models.ids]
            seen["passes"] = list(passes)
            seen["all"] = event.models.predict_all(grid)
            seen["ids"] = event.models.ids.tolist()

    fit(backend, "multiclass", {"train": y, "val": y, "test": y}, Schedule(epoch=3, batch_size=8),
        [LrSchedule(0.01 * (k + 1)) for k in range(4)], state, [at_validate],
        prune=lambda v: v.ids == 1)  # fmt: skip
    assert seen["ids"] == [0, 2, 3] and seen["all"].shape == (3, 64, 3)
    for row, each in enumerate(seen["each"]):
        assert each.dtype == np.float64
        np.testing.assert_array_equal(each, seen["all"][row])
    assert not np.allclose(seen["all"][0], seen["all"][1])
    if engine == "numpy":
        assert seen["passes"] == [1, 1, 1]  # each model's own pass, not the stack's


def test_an_early_stop_rule_ends_its_models_finished_and_stopped_early():
    """A stop of one's own (a target accuracy, a budget) had only `stop`, which ends a run
    `interrupted` and lets the same call train it on; `early_stop` ends it as patience
    does, and the others train on."""
    backend, state = _stack([0.5, 1.0, 2.0])
    ends: list[End] = []
    fit(backend, "binary", {"train": Y, "val": Y, "test": Y}, Schedule(epoch=12, log_every=0),
        [LrSchedule(lr) for lr in (0.5, 1, 2)], state,
        [lambda e: ends.append(e) if isinstance(e, End) else None],
        early_stop=lambda v: (v.ids == 1) & (v.epoch == 4))  # fmt: skip
    early, rest = ends
    assert early.ids.tolist() == [1] and early.statuses == ["finished"] and early.epoch == 4
    assert early.finals[0]["val_loss"] > 0 and rest.epoch == 12
    assert state.stopped_early.tolist() == [False, True, False]
    # One bool answers for a single model (a single run's rule need not build a mask) ...
    backend, state = _stack([0.5])
    fit(backend, "binary", {"train": Y, "val": Y, "test": Y}, Schedule(epoch=12, log_every=0),
        [LrSchedule(0.5)], state, early_stop=lambda v: v.epoch == 3)  # fmt: skip
    assert state.stopped_early.tolist() == [True] and state.epoch == 3
    # ... not for several, where it stopped every model by the first one's numbers.
    backend, state = _stack([0.5, 1.0])
    with pytest.raises(PruneError, match="it returned one bool for 2 models"):
        fit(backend, "binary", {"train": Y, "val": Y, "test": Y},
            Schedule(epoch=12, log_every=0), [LrSchedule(lr) for lr in (0.5, 1)], state,
            early_stop=lambda v: v.epoch == 3)  # fmt: skip


def test_train_early_stop_records_a_finished_run_that_the_same_call_keeps(tmp_path):
    import pytest

    from mlplab.errors import PruneError

    kw = dict(data="moons", epoch=200, optim="adam", lr=0.01, log_path=str(tmp_path),
              plots="none", verbose=False)  # fmt: skip
    run = train(**kw, early_stop=lambda v: v.epoch == 7)
    assert run.status == "finished" and run.record["stopped_early"]
    assert run.record["epochs_run"] == 7 and run.exit_code == 0
    again = train(**kw, early_stop=lambda v: v.epoch == 7)
    assert again.kept and again.record["epochs_run"] == 7
    with pytest.raises(PruneError, match="early_stop must return a bool mask"):
        train(**kw, rerun=True, early_stop=lambda v: "yes")
    with pytest.raises(Exception, match="early_stop takes a function"):
        train(**kw, early_stop=5)


def test_a_subscriber_asks_for_steps_at_its_own_cadence_whatever_is_printed():
    """Step events came only at log_every (or a terminal's progress bar): a live plot of
    every step's loss had to print every step too (log_every=1)."""
    steps: list[int] = []

    def every(event):
        if isinstance(event, Step):
            steps.append(event.step)

    every.step_every = 1  # type: ignore[attr-defined]
    res = train(data="moons", hid_dim=8, epoch=3, batch_size=100, log_every=0,
                record=False, verbose=False, subscribers=[every])  # fmt: skip
    assert steps == list(range(res.record["steps"])) and len(steps) == 24
    steps.clear()
    every.step_every = 5  # type: ignore[attr-defined]
    train(data="moons", hid_dim=8, epoch=3, batch_size=100, log_every=0, record=False,
          verbose=False, subscribers=[every])  # fmt: skip
    assert steps == [0, 5, 10, 15, 20]
    # A NumPy integer is a whole number; a Mock, which answers for any name, no cadence.
    steps.clear()
    every.step_every = np.int64(10)  # type: ignore[attr-defined]
    train(data="moons", hid_dim=8, epoch=3, batch_size=100, log_every=0, record=False,
          verbose=False, subscribers=[every])  # fmt: skip
    assert steps == [0, 10, 20]
    from unittest import mock

    spy = mock.MagicMock()
    train(data="xor", epoch=3, log_every=0, record=False, verbose=False, subscribers=[spy])
    assert spy.call_count == 5  # its events, as before step_every existed
    every.step_every = "often"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="step_every is a whole number of steps"):
        train(data="xor", epoch=1, record=False, verbose=False, subscribers=[every])

    class EverySecond:  # the README's typed way: a class declares its cadence
        step_every = 2

        def __call__(self, event: Event) -> None:
            if isinstance(event, Step):
                steps.append(event.step)

    steps.clear()
    train(data="moons", hid_dim=8, epoch=1, batch_size=100, log_every=0, record=False,
          verbose=False, subscribers=[EverySecond()])  # fmt: skip
    assert steps == [0, 2, 4, 6]


def test_a_run_an_exception_ends_sends_the_callers_subscribers_a_failed_end(tmp_path):
    """A subscriber raised at epoch 3: the run is recorded `failed`, the exception reaches
    the caller, and the caller's subscribers (the one that raised too) get an End that
    says so, with no metrics; a page learns it as it learns any other end."""
    import mlplab
    from mlplab.runs.record import read_result

    seen: list[Any] = []

    def boom(event):
        seen.append(("boom", event))
        if isinstance(event, Validate) and event.epoch == 3:
            raise RuntimeError("the page went away")

    def watch(event):
        seen.append(("watch", event))

    with pytest.raises(RuntimeError, match="the page went away"):
        mlplab.train(data="xor", epoch=10, log_path=str(tmp_path), plots="none",
                     verbose=False, subscribers=[boom, watch])  # fmt: skip
    ends = [(who, e) for who, e in seen if isinstance(e, End)]
    assert [who for who, _ in ends] == ["boom", "watch"]
    for _, end in ends:
        assert end.statuses == ["failed"] and end.finals == [{}]
        assert end.messages == ["RuntimeError: the page went away"]
        assert end.epoch == 3 and list(end.ids) == [0]
        assert as_json(end)["statuses"] == ["failed"]
    # The watcher saw no Validate of epoch 3 (boom raised before it), then the End.
    assert [e.epoch for who, e in seen if who == "watch" and isinstance(e, Validate)] == [1, 2]
    (run_dir,) = [d for d in (tmp_path / "exp").iterdir() if d.is_dir()]
    assert read_result(run_dir)["status"] == "failed"


@pytest.mark.parametrize(
    ("settings", "metrics"),
    [
        ({"data": "moons", "n_samples": 120}, ("val_acc", "val_bacc", "val_f1", "val_loss")),
        (
            {"data": "sinlog", "n_samples": 120},
            ("val_mse", "val_mae", "val_rmse", "val_r2", "val_loss"),
        ),
    ],
)
def test_val_score_gives_each_models_metric_as_its_record_has_it(tmp_path, settings, metrics):
    """A prune rule ranks as the report ranks (val_bacc on unequal classes): the event
    carried only the loss and the accuracy or MAE."""
    from mlplab.sweeps.api import sweep

    last: dict[str, dict[str, float]] = {}

    def rule(event: Validate) -> np.ndarray:
        if event.epoch == 3:  # the last: its weights are the finals'
            for k in event.ids:
                name = event.models.name(int(k))
                row = int(np.flatnonzero(event.ids == k)[0])
                last[name] = {m: float(event.val_score(m)[row]) for m in metrics}
        return np.zeros(len(event.ids), bool)

    result = sweep(**settings, epoch=3, lr=[0.01, 0.1], hid_dim=4, plots="none",
                   log_path=str(tmp_path), workers=1, report=False, verbose=False,
                   prune=rule)  # fmt: skip
    assert len(last) == 2
    for run_dir in result.run_dirs:
        record = json.loads((run_dir / "result.json").read_text())
        for m in metrics:
            assert last[run_dir.name][m] == pytest.approx(record[m], rel=1e-6, abs=1e-12), m
    with pytest.raises(ConfigError, match=r"val_score: 'val_r2' is not a metric of a class"):
        Validate(None, 1, 1, np.arange(1), *[np.zeros(1)] * 6, task="binary").val_score("val_r2")


def test_settings_is_a_copy_of_every_value_lists_and_all():
    """settings(id) copies only what can change (lists, dicts), and gives what deepcopy
    gave: equal values, in the same order, none shared with the stack's own."""
    import copy

    from mlplab.config import Config
    from mlplab.training.events import Models

    own = {**Config(data="xor", split=[0.6, 0.2, 0.2]).to_dict(), "nested": {"a": [[1], 2.5]}}
    models = Models(None, StackState.fresh([]), ["x"], [own])
    got = models.settings(0)
    assert got == copy.deepcopy(own) and list(got) == list(own) and got is not own
    got["split"].append(99)
    got["nested"]["a"][0].append(3)
    assert own["split"] == [0.6, 0.2, 0.2] and own["nested"] == {"a": [[1], 2.5]}
    assert models.settings(0) == copy.deepcopy(own)
