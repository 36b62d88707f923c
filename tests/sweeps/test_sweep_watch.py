"""``sweep(subscribers=..., stop=...)``: a page or a script that watches and stops a sweep.

Every stack of the sweep sends its events to the caller's subscribers, in the caller's
process; ``stop`` stops the sweep as a Ctrl-C does, resumably, and the sweep returns.
Each outcome carries the run's final metrics, so a search ranks without reading files.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlplab.errors import ConfigError, PruneError
from mlplab.runs.record import read_result
from mlplab.sweeps.api import sweep
from mlplab.training.events import End, Event, Start, Step, Validate, as_json

BASE: dict[str, Any] = {
    "data": "ring",
    "n_samples": 120,
    "epoch": 6,
    "batch_size": 40,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
}
# Two shapes (two stacks), two seeds each.
AXES: dict[str, Any] = {"hid_dim": [4, 8], "seed": [0, 1]}


def run(log: Path, **kw: Any):
    kw.setdefault("verbose", False)
    return sweep(BASE, log_path=str(log), report=False, **AXES, **kw)


def test_subscribers_see_every_stack_in_this_process(tmp_path: Path, capsys) -> None:
    events: list[Event] = []

    class Watch:
        step_every = 1  # a live plot of every step's loss

        def __call__(self, event: Event) -> None:
            events.append(event)

    result = run(tmp_path / "runs", subscribers=[Watch()], workers=2, verbose=True)
    assert result.exit_code == 0 and result.counts["trained"] == 4
    # Asked for two workers, the sweep said why it trained here, and the events reached
    # this process's list (a worker's copy of the subscriber would have kept them).
    assert "called in this process, so it trains here (workers 1)" in capsys.readouterr().out
    starts = [e for e in events if isinstance(e, Start)]
    assert len(starts) == 2  # one per stack
    names = [s.models.name(int(k)) for s in starts for k in s.ids]
    assert sorted(names) == sorted(d.name for d in result.run_dirs)
    # step_every=1: every step of each stack (3 batches an epoch, 6 epochs).
    steps = [e for e in events if isinstance(e, Step)]
    assert len(steps) == 2 * 6 * 3
    assert sorted({e.step for e in steps}) == list(range(18))
    # Each End's finals are the record's numbers, and its outcome carries them too.
    by_name = {o["run_id"]: o for o in result.outcomes}
    stack = None
    for e in events:
        if isinstance(e, Start):
            stack = e.models
        if isinstance(e, End):
            assert e.models is stack
            for k, status, finals in zip(e.ids, e.statuses, e.finals, strict=True):
                name = stack.name(int(k))
                record = read_result(tmp_path / "runs" / "exp" / name)
                assert status == "finished" == record["status"]
                assert finals["val_loss"] == record["val_loss"]
                assert by_name[name]["metrics"]["val_loss"] == record["val_loss"]
                for key in ("test_acc", "test_bacc", "val_f1"):
                    assert finals[key] == by_name[name]["metrics"][key] == record[key], key
                assert by_name[name]["metrics"]["best_epoch"] == record["best_epoch"]
    # What a page is sent: each event names its models, whichever stack it comes from,
    # and the stack's data is there to draw (one dataset: the configs share their data).
    for e in events:
        sent = as_json(e)
        assert sent["names"] == [e.models.name(int(k)) for k in e.ids]
    assert starts[0].models.dataset is not None
    assert len(starts[0].models.dataset.X_train) == len(starts[1].models.dataset.X_train)


def test_outcomes_of_worker_processes_carry_the_metrics(tmp_path: Path) -> None:
    result = run(tmp_path / "runs", workers=2)
    assert len(result.outcomes) == 4
    for outcome in result.outcomes:
        record = read_result(Path(outcome["run_dir"]))
        for key in ("val_acc", "val_bacc", "test_f1"):
            assert outcome["metrics"][key] == record[key], key
        assert outcome["metrics"]["epochs_run"] == 6


def test_a_stop_ends_the_sweep_resumably_and_it_returns(tmp_path: Path) -> None:
    seen: list[int] = []

    class Page:  # shows each step, and its stop button is pressed once step 4 is shown
        step_every = 1

        def __call__(self, event: Event) -> None:
            if isinstance(event, Step):
                seen.append(event.step)

    def stop() -> bool:
        return bool(seen) and seen[-1] >= 4

    # It returns: no KeyboardInterrupt.
    result = run(tmp_path / "runs", workers=1, stop=stop, subscribers=[Page()])
    assert result.interrupted and result.stopped_by == "stop()" and result.exit_code == 130
    assert result.counts["remaining"] == 4 and "4 not finished" in result.summary()
    stopped = [read_result(Path(o["run_dir"])) for o in result.outcomes]
    assert len(stopped) == 2 and all(r["status"] == "interrupted" for r in stopped)
    assert all(r["steps"] == 5 and "by stop()" in r["message"] for r in stopped)
    # The page's stop is continued by its same call again, more than from a shell.
    for o, r in zip(result.outcomes, stopped, strict=True):
        assert (
            r["message"]
            == o["error"]
            == (
                f"interrupted by stop() at step 5; the same command or call again continues "
                f"it (or `mlplab train --resume {shlex.quote(os.path.abspath(o['run_dir']))}`)"
            )
        )
    # The same sweep again continues the stopped stack exactly and trains the other.
    again = run(tmp_path / "runs", workers=1)
    assert again.exit_code == 0 and again.counts["trained"] == 4
    alone = run(tmp_path / "alone", workers=1)
    for d, a in zip(again.run_dirs, alone.run_dirs, strict=True):
        resumed, straight = read_result(d), read_result(a)
        assert resumed["status"] == "finished"
        np.testing.assert_array_equal(resumed["val_losses"], straight["val_losses"])


def test_a_stop_before_the_first_step_trains_nothing(tmp_path: Path, capsys) -> None:
    result = run(tmp_path / "runs", workers=1, stop=lambda: True, verbose=True)
    assert result.interrupted and result.outcomes == [] and result.counts["remaining"] == 4
    err = capsys.readouterr().err
    assert "sweep stopped by stop(); 4 runs remain. The same sweep() call again" in err
    assert not any(read_result(d) for d in result.run_dirs)
    # Quiet, the caller's own stop says nothing: it asked for it, and the result says what
    # remains, as train(verbose=False, stop=...) keeps quiet.
    quiet = run(tmp_path / "quiet", workers=1, stop=lambda: True, verbose=False)
    assert quiet.interrupted and quiet.counts["remaining"] == 4
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"subscribers": print}, "sweep: subscribers takes a list of functions of an event"),
        ({"subscribers": None}, "sweep: subscribers takes a list of functions of an event"),
        ({"subscribers": [lambda: None]}, "sweep: subscribers takes a list"),
        ({"stop": lambda event: True}, "sweep: stop takes a function of no arguments"),
        ({"stop": lambda: "no"}, "sweep: stop() must return True or False"),
        ({"subscribers": [print], "backend": "ray"}, "backend 'ray' trains elsewhere"),
    ],
)
def test_bad_hooks_are_one_line(tmp_path: Path, kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        run(tmp_path / "runs", workers=1, **kw)
    assert says in str(err.value)
    if "backend" in kw:  # refused before anything is written
        assert not (tmp_path / "runs").exists()


def test_final_metrics_cover_the_configs_skipped_as_finished(tmp_path: Path) -> None:
    """A search that proposes a config again gets its numbers whether it trained now or
    was kept from before (outcomes hold only the runs trained by the call)."""
    first = run(tmp_path / "runs", workers=1)
    again = sweep(BASE, log_path=str(tmp_path / "runs"), report=False, verbose=False,
                  workers=1, hid_dim=[4, 16], seed=[0, 1])  # fmt: skip
    assert again.counts["skipped"] == 2 and again.counts["trained"] == 2
    metrics = again.final_metrics()
    assert list(metrics) == [d.name for d in again.run_dirs]
    for d in again.run_dirs:
        record = read_result(d)
        assert metrics[d.name]["val_loss"] == record["val_loss"]
        for key in ("test_acc", "test_bacc", "test_f1"):
            assert metrics[d.name][key] == record[key], key
    kept = set(again.skipped)
    assert kept == {d.name for d in first.run_dirs if read_result(d)["hid_dim"] == 4}
    assert kept.isdisjoint(o["run_id"] for o in again.outcomes)


def test_a_subscriber_that_raises_stops_the_sweep_with_its_error(tmp_path: Path) -> None:
    """As train() raises it: the caller's bug, not a config's. It raised at the first
    stack's End, once its runs were recorded finished: taken for a stack that failed, the
    runs were kept and the sweep exited 0 with the error nowhere."""
    seen: list[str] = []

    def picky(event: Event) -> None:
        if isinstance(event, End):
            raise RuntimeError("the page went away")

    def watch(event: Event) -> None:
        seen.append(type(event).__name__)

    with pytest.raises(RuntimeError, match="the page went away"):
        run(tmp_path / "runs", workers=1, subscribers=[picky, watch])
    records = [read_result(d) for d in (tmp_path / "runs" / "exp").iterdir() if d.is_dir()]
    assert [r["status"] for r in records] == ["finished", "finished"]  # the first stack
    assert "End" not in seen  # picky raised before watch got it, as in train()
    again = run(tmp_path / "runs", workers=1)  # the same sweep trains the rest
    assert again.counts == {**again.counts, "skipped": 2, "trained": 2}


@pytest.mark.parametrize("bad", ["yes", ValueError("no button")])
def test_a_stop_that_fails_mid_stack_stops_the_sweep_and_its_runs_continue(
    tmp_path: Path, bad: Any
) -> None:
    """A stop() that raised or returned no bool at its 5th poll failed the stack, whose
    runs were then trained one by one with a stop() that behaved: exit 0, no error."""
    polls = [0]

    def stop() -> Any:
        polls[0] += 1
        if polls[0] == 5:
            if isinstance(bad, Exception):
                raise bad
            return bad
        return False

    says = (
        "must return True or False; it returned 'yes'"
        if bad == "yes"
        else ("raised ValueError: no button")
    )
    with pytest.raises(ConfigError) as err:
        run(tmp_path / "runs", workers=1, stop=stop)
    assert str(err.value) == f"sweep: stop() {says}"
    dirs = [d for d in (tmp_path / "runs" / "exp").iterdir() if d.is_dir()]
    assert [read_result(d)["status"] for d in dirs] == ["failed", "failed"]
    again = run(tmp_path / "runs", workers=1)
    assert again.exit_code == 0 and again.counts["trained"] == 4


def test_a_stack_that_fails_on_a_configs_fault_sends_each_run_one_end(
    tmp_path: Path, stacked_steps_fail: None
) -> None:
    """A stack that fails on its own (here: a step that fails stacked, and trains alone)
    trains its runs again one by one: the page gets each run's End from that, not a
    failed End first and then a new Start of the same run."""
    ends: dict[str, list[str]] = {}

    def watch(event: Event) -> None:
        if isinstance(event, End):
            for k, status in zip(event.ids, event.statuses, strict=True):
                ends.setdefault(event.models.name(int(k)), []).append(status)

    result = run(tmp_path / "runs", workers=1, subscribers=[watch])
    assert result.exit_code == 0 and result.counts["trained"] == 4
    assert ends == {d.name: ["finished"] for d in result.run_dirs}


def test_a_generator_of_subscribers_is_read_once_and_each_gets_the_events(tmp_path: Path) -> None:
    seen: list[Event] = []
    result = run(tmp_path / "runs", workers=1, subscribers=(f for f in [seen.append]))
    assert result.exit_code == 0
    assert sum(isinstance(e, End) for e in seen) == 2  # one End per stack


def test_a_diverged_run_has_no_metrics_to_rank_it_by(tmp_path: Path) -> None:
    """Its best_val_loss is of an epoch before it broke: a search ranking by it would pick
    a run that diverged late."""
    result = sweep(BASE, log_path=str(tmp_path), report=False, verbose=False, workers=1,
                   hid_dim=4, lr=[0.1, 1e6])  # fmt: skip
    by_status = {o["status"]: o for o in result.outcomes}
    assert set(by_status) == {"finished", "diverged"}
    assert by_status["diverged"]["metrics"] == {}
    assert by_status["finished"]["metrics"]["val_loss"] > 0
    assert result.final_metrics()[by_status["diverged"]["run_id"]] == {}


@pytest.mark.parametrize(
    ("search", "axes", "says"),
    [
        ("list", {"lr": [0.05, 0.03, 0.05], "hid_dim": [8, 8, 8]},
         "1 of the 3 rows repeat the config of an earlier row; 2 distinct runs (configs"),
        ("grid", {"lr": [0.05, 0.05], "hid_dim": [8]},
         "1 of the 2 configs of the grid repeat one (a value given twice); 1 distinct run (configs"),
    ],
)  # fmt: skip
def test_a_config_asked_for_twice_trains_once_and_says_so(
    tmp_path: Path, capsys, search: str, axes: dict[str, Any], says: str
) -> None:
    """A search that pairs its proposals with run_dirs found one fewer, without a word."""
    result = sweep(BASE, log_path=str(tmp_path), report=False, workers=1, search=search, **axes)
    assert len(result.configs) == len(result.run_dirs) == len(set(axes["lr"]))
    assert says in capsys.readouterr().out


def test_a_mock_subscriber_watches_a_sweep(tmp_path: Path) -> None:
    """A Mock answers for any name: its before_checkpoints part had a part of its own, and
    so on, and wrapping them was a RecursionError."""
    from unittest import mock

    watch = mock.Mock()
    result = run(tmp_path / "runs", workers=1, subscribers=[watch])
    assert result.exit_code == 0 and result.counts["trained"] == 4
    ends = [c.args[0] for c in watch.call_args_list if isinstance(c.args[0], End)]
    assert len(ends) == 2


def test_runs_that_end_failed_without_a_retry_send_their_failed_end(tmp_path: Path) -> None:
    """A stack's failed End is held while its runs may train again one by one; where they
    do not (a prune rule's error, a SystemExit), it is sent: the page saw a Start and no
    End of runs that ended failed."""
    ends: list[End] = []

    def watch(event: Event) -> None:
        if isinstance(event, End):
            ends.append(event)

    def bad_rule(event: Any) -> Any:
        raise RuntimeError("no rule")

    with pytest.raises(PruneError, match="no rule"):  # the caller's rule: raised, as train's
        run(tmp_path / "pruned", workers=1, subscribers=[watch], prune=bad_rule)
    records = [read_result(d.parent) for d in (tmp_path / "pruned").rglob("result.json")]
    assert [r["status"] for r in records] == ["failed"] * 4
    assert sorted(s for e in ends for s in e.statuses) == ["failed"] * 4
    assert all("no rule" in m for e in ends for m in e.messages)
    ends.clear()

    def leave(event: Event) -> None:
        if isinstance(event, Validate) and event.epoch == 2:
            raise SystemExit(3)

    with pytest.raises(SystemExit):
        run(tmp_path / "exit", workers=1, subscribers=[leave, watch])
    assert [e.statuses for e in ends] == [["failed", "failed"]]


def test_a_stop_that_raises_is_named_once_in_the_record(tmp_path: Path) -> None:
    def stop() -> bool:
        raise ValueError("no button")

    with pytest.raises(ConfigError, match=r"^sweep: stop\(\) raised ValueError: no button$"):
        sweep(BASE, log_path=str(tmp_path), report=False, verbose=False, workers=1,
              hid_dim=4, seed=[0, 1], stop=stop, save_every=1)  # fmt: skip


def _ends_by_run(events: list[Event]) -> dict[str, list[tuple[str, str]]]:
    """Each run's Ends, as (status, message), by run id."""
    out: dict[str, list[tuple[str, str]]] = {}
    for e in events:
        if isinstance(e, End):
            for k, status, message in zip(e.ids, e.statuses, e.messages, strict=True):
                out.setdefault(e.models.name(int(k)), []).append((status, message))
    return out


def test_a_run_that_fails_before_it_trains_sends_its_failed_end(tmp_path: Path) -> None:
    """Its data file went missing between stacks: the runs of the second stack failed
    before they trained, and the page got no event of them, only of those that ran."""
    rng = np.random.default_rng(0)
    csv = tmp_path / "points.csv"
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(a * b > 0)}" for a, b in rng.normal(size=(120, 2)))
    csv.write_text("a,b,y\n" + rows + "\n")
    events: list[Event] = []

    def watch(event: Event) -> None:
        events.append(event)
        if isinstance(event, End):  # the first stack has ended: its file goes
            csv.unlink(missing_ok=True)

    base = {**{k: v for k, v in BASE.items() if k != "n_samples"}, "data": str(csv)}
    result = sweep(base, log_path=str(tmp_path / "runs"), report=False,
                   verbose=False, workers=1, subscribers=[watch], **AXES)  # fmt: skip
    statuses = {o["run_id"]: o["status"] for o in result.outcomes}
    assert sorted(statuses.values()) == ["failed", "failed", "finished", "finished"]
    ends = _ends_by_run(events)
    assert sorted(ends) == sorted(statuses)  # every run of the sweep ends, once
    for rid, [(status, message)] in ends.items():
        assert status == statuses[rid]
        if status == "failed":
            assert message == f"DataError: data file {str(csv)!r} does not exist"
            assert message == read_result(tmp_path / "runs" / "exp" / rid)["error"]
    failed = next(e for e in events if isinstance(e, End) and e.statuses == ["failed"])
    # What a page is sent, and what it can ask: the run's name and settings, no model.
    assert as_json(failed)["names"] == [failed.models.name(0)]
    assert failed.models.settings(0)["data"] == str(csv) and failed.finals == [{}]
    with pytest.raises(KeyError, match="the run failed before it trained"):
        failed.models.predict(0, np.zeros((1, 2)))


def test_runs_of_a_stack_that_never_started_send_their_failed_end(tmp_path: Path) -> None:
    """A stopped run continues from its checkpoint, a fresh one of its shape from step 0:
    two stacks of one group. A prune rule that raised in the first ended both runs
    failed; the second's run, never started, sent no End."""
    seen: list[int] = []

    def step(event: Event) -> None:
        if isinstance(event, Step):
            seen.append(event.step)

    step.step_every = 1  # type: ignore[attr-defined]
    kw: dict[str, Any] = {"log_path": str(tmp_path), "report": False, "verbose": False,
                          "workers": 1, "hid_dim": 4, "save_every": 1}  # fmt: skip
    first = sweep(BASE, seed=0, subscribers=[step], stop=lambda: len(seen) > 4, **kw)
    assert first.interrupted and read_result(first.run_dirs[0])["status"] == "interrupted"
    events: list[Event] = []

    def bad_rule(event: Any) -> Any:
        raise RuntimeError("no rule")

    with pytest.raises(PruneError, match="no rule"):
        sweep(BASE, seed=[0, 1], subscribers=[events.append], prune=bad_rule, **kw)
    run_dirs = sorted(p.parent for p in tmp_path.rglob("result.json"))
    assert [read_result(d)["status"] for d in run_dirs] == ["failed", "failed"]
    ends = _ends_by_run(events)
    assert sorted(ends) == [d.name for d in run_dirs]
    assert all(len(e) == 1 and e[0][0] == "failed" and "no rule" in e[0][1] for e in ends.values())


def test_the_closing_line_names_checkpoints_only_where_runs_kept_them(tmp_path: Path) -> None:
    """Runs that failed before any checkpoint (a Ray cluster that stopped under them) were
    said to be in folders of `result.json, checkpoints/`."""
    import shutil

    from mlplab.sweeps.api import _records_line

    result = sweep(BASE, seed=[0, 1], log_path=str(tmp_path), report=False, verbose=False,
                   workers=1)  # fmt: skip
    assert _records_line(result.configs).endswith("a folder per run (result.json, checkpoints/)")
    shutil.rmtree(result.run_dirs[0] / "checkpoints")
    assert _records_line(result.configs).endswith("(result.json; checkpoints/ in 1 of them)")
    shutil.rmtree(result.run_dirs[1] / "checkpoints")
    assert _records_line(result.configs).endswith("a folder per run (result.json)")
