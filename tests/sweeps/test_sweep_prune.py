"""``sweep(prune=...)``: a rule that stops the weaker rows of each stack as they train.

The hook that successive halving builds on: the stopped runs end ``pruned`` with full
records, the others train on exactly as they would have alone, and the same sweep again
leaves the pruned runs as they are.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlplab.errors import ConfigError, PruneError
from mlplab.runner import train
from mlplab.runs.record import read_result
from mlplab.sweeps.api import sweep
from mlplab.training.events import Validate

BASE: dict[str, Any] = {
    "data": "ring",
    "n_samples": 200,
    "epoch": 12,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
    "hid_dim": 8,
}
LRS = [0.003, 0.03, 0.3, 1.0]
AT = 4  # the epoch where the rule stops the worse half


def worse_half(event: Validate) -> np.ndarray:
    """At epoch AT, stop the half of the stack with the higher validation loss."""
    if event.epoch != AT:
        return np.zeros(len(event.ids), dtype=bool)
    return event.val_loss > np.median(event.val_loss)


def run(log: Path, **kw: Any):
    return sweep(BASE, lr=LRS, log_path=str(log), report=False, verbose=False, **kw)


def by_lr(result) -> dict[float, dict[str, Any]]:
    records = [read_result(d) for d in result.run_dirs]
    return {r["lr"]: r for r in records if r is not None}


def test_a_prune_rule_stops_the_worse_half_and_the_others_train_as_alone(tmp_path: Path) -> None:
    result = run(tmp_path / "runs", workers=1, prune=worse_half)
    assert result.exit_code == 0
    assert result.counts["pruned"] == 2 and result.counts["trained"] == 2
    assert "2 pruned" in result.summary()
    records = by_lr(result)
    pruned = sorted(lr for lr, r in records.items() if r["status"] == "pruned")
    assert len(pruned) == 2
    for lr in pruned:
        r = records[lr]
        assert r["message"] == f"pruned at epoch {AT}" and r["epochs_run"] == AT
        assert len(r["val_losses"]) == AT and "test_acc" in r  # final metrics, as it stood
        run_dir = next(d for d in result.run_dirs if read_result(d)["lr"] == lr)
        assert (run_dir / "checkpoints" / "last.safetensors").is_file()
    # A search tells a pruned run's numbers (as it stood) from a whole run's, now and kept.
    by_id = {d.name: read_result(d)["status"] for d in result.run_dirs}
    assert (
        result.statuses() == by_id and sorted(by_id.values()) == ["finished"] * 2 + ["pruned"] * 2
    )
    again = run(tmp_path / "runs", workers=1, prune=worse_half)
    assert again.counts["skipped"] == 4 and again.statuses() == by_id
    # Each pruned run had a higher validation loss at the rule's epoch than each survivor.
    survivors = [lr for lr in LRS if lr not in pruned]
    assert min(records[lr]["val_losses"][AT - 1] for lr in pruned) > max(
        records[lr]["val_losses"][AT - 1] for lr in survivors
    )
    # A survivor trains on as it would alone: rows leaving the stack change nothing else.
    for lr in survivors:
        alone = train({**BASE, "lr": lr}, record=False, verbose=False, handle_signals=False)
        assert records[lr]["status"] == "finished" and records[lr]["epochs_run"] == 12
        assert records[lr]["val_losses"] == alone.record["val_losses"]
        assert records[lr]["test_acc"] == alone.record["test_acc"]


def test_the_same_sweep_again_keeps_its_pruned_runs_and_one_without_the_rule_trains_them(
    tmp_path: Path, capsys
) -> None:
    log = tmp_path / "runs"
    first = run(log, workers=1, prune=worse_half)
    stamps = {d: (d / "result.json").stat().st_mtime_ns for d in first.run_dirs}
    again = run(log, workers=1, prune=worse_half)
    assert again.counts["trained"] == 0 and again.counts["skipped"] == 4
    assert {d: (d / "result.json").stat().st_mtime_ns for d in first.run_dirs} == stamps
    # The summary said "4 skipped", where the first call had said "2 pruned".
    assert "0 trained, 4 skipped (2 pruned before), 0 failed" in again.summary()
    dry = run(log, workers=1, prune=worse_half, dry_run=True)
    assert dry.summary() == "dry run: 4 runs: 2 finished, 2 pruned, 0 to train; nothing trained"
    # Without the rule (the spec file run by mlplab sweep), the pruned runs would train to
    # their end, undoing the search, with no word before.
    capsys.readouterr()
    sweep(BASE, lr=LRS, log_path=str(log), report=False, verbose=True, dry_run=True)
    out = capsys.readouterr().out
    assert "2 of these runs were stopped by a prune rule; with no rule here they would " in out
    assert ": 2 finished, 2 to train, " in out
    # A part of the sweep (--shard) counts its own; --rerun trains every run again anyway.
    part = next(i for i, lr in enumerate(LRS) if by_lr(first)[lr]["status"] == "pruned")
    kw = dict(log_path=str(log), report=False, verbose=True, dry_run=True)
    sweep(BASE, lr=LRS, shard=f"{part}/4", **kw)  # a part of one run, a pruned one
    assert "note: 1 of these runs was stopped by a prune rule" in capsys.readouterr().out
    sweep(BASE, lr=LRS, rerun=True, **kw)
    assert "stopped by a prune rule" not in capsys.readouterr().out
    sweep(BASE, lr=LRS, rerun=True, workers=1, prune=worse_half, **kw)
    assert ": 2 finished, 2 pruned, 4 to train again (--rerun)" in capsys.readouterr().out
    # Without the rule, a pruned run trains afresh to its end; finished ones stay.
    full = run(log, workers=1)
    assert full.counts["trained"] == 2 and full.counts["skipped"] == 2
    assert all(r["status"] == "finished" and r["epochs_run"] == 12 for r in by_lr(full).values())


def test_a_rule_that_raises_in_a_rerun_is_raised_and_the_earlier_records_are_kept(
    tmp_path: Path,
) -> None:
    """--rerun over finished runs trains in scratch folders: a rule that raised there left
    the earlier records, and the sweep read them back as this run's, 'trained' and
    finished, with no error. It raises, the runs say failed, and the records stay."""
    log = tmp_path / "runs"
    first = run(log, workers=1)
    stamps = {d: (d / "result.json").read_bytes() for d in first.run_dirs}

    def broken(event: Validate) -> np.ndarray:
        raise KeyError("no trial for " + event.models.name(int(event.ids[0])))

    ended: list[Any] = []
    with pytest.raises(PruneError, match=r"^prune: the rule raised KeyError: 'no trial for "):
        run(log, workers=1, rerun=True, prune=broken, subscribers=[ended.append])
    assert {d: (d / "result.json").read_bytes() for d in first.run_dirs} == stamps
    failed = [s for e in ended if type(e).__name__ == "End" for s in e.statuses]
    assert failed == ["failed"] * len(LRS)


def test_a_rule_in_a_module_travels_to_worker_processes(tmp_path: Path, monkeypatch) -> None:
    """Workers import the rule by its module (the sweep's sys.path travels with them)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "my_rules.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def first_epoch_worst(event):
                # At epoch 2, stop the model with the highest validation loss.
                if event.epoch != 2:
                    return np.zeros(len(event.ids), dtype=bool)
                return event.val_loss == event.val_loss.max()

            def broken(event):
                raise KeyError("no such rung")
            """
        )
    )
    monkeypatch.syspath_prepend(str(rules))
    import my_rules

    # Two shapes (widths), a stack each, one per worker: one run of each stack is pruned.
    result = sweep(
        {**BASE, "hid_dim": [4, 8]}, lr=[0.03, 1.0], log_path=str(tmp_path / "runs"),
        report=False, verbose=False, workers=2, prune=my_rules.first_epoch_worst,
    )  # fmt: skip
    statuses = sorted(
        json.loads((d / "result.json").read_text())["status"] for d in result.run_dirs
    )
    assert statuses == ["finished", "finished", "pruned", "pruned"]
    # A worker's rule that raises fails its runs with the rule's error, as in-process, and
    # reaches the caller.
    with pytest.raises(PruneError, match=r"^prune: the rule raised KeyError: 'no such rung'"):
        sweep(
            {**BASE, "hid_dim": [4, 8]}, lr=[0.03, 1.0], log_path=str(tmp_path / "runs"),
            exp_name="broken", report=False, verbose=False, workers=2, prune=my_rules.broken,
        )  # fmt: skip
    failed = list((tmp_path / "runs" / "broken").glob("broken-*/result.json"))
    assert len(failed) == 4
    errors = {json.loads(path.read_text())["error"] for path in failed}
    assert errors == {
        "PruneError: prune: the rule raised KeyError: 'no such rung' (at the validation of epoch 1)"
    }
    sys.modules.pop("my_rules", None)


def test_a_rule_defined_in_a_notebook_trains_the_sweep_in_this_process(
    tmp_path: Path, capsys
) -> None:
    """A lambda (or a function of __main__) cannot reach a worker: said once, and the
    sweep trains here, with the rule."""
    result = sweep(
        BASE, lr=LRS, hid_dim=[4, 8], log_path=str(tmp_path / "runs"), report=False,
        verbose=True, progress=False, workers=2, prune=lambda e: e.val_loss > np.median(e.val_loss),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "the prune rule is defined in a script or notebook" in out
    # At every validation the worse half of what is left stops: 4 -> 2 -> 1 a stack.
    assert result.counts["pruned"] == 6 and result.counts["trained"] == 2


def test_a_prune_that_is_not_a_function_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sweep: prune takes a function of a Validate event"):
        run(tmp_path / "runs", workers=1, prune="halving")
    assert not (tmp_path / "runs").exists()


def test_a_sweep_whose_runs_diverged_or_were_pruned_still_exits_0(tmp_path: Path) -> None:
    """A pruned run ended by design, with its metrics: beside a diverged run it is not the
    "nothing usable" of a sweep whose every run diverged (exit 1)."""
    result = sweep(
        data="sinlog", n_samples=200, lr=[100.0, 0.01], hid_dim=4, epoch=30, engine="torch",
        log_every=0, plots="none", log_path=str(tmp_path), workers=1, report=False,
        verbose=False, prune=lambda e: np.full(len(e.ids), e.epoch == 25),
    )  # fmt: skip
    assert result.counts["diverged"] == 1 and result.counts["pruned"] == 1
    assert result.exit_code == 0 and "diverged:" not in result.summary()


def half_then_broken(event: Validate) -> np.ndarray:
    """Stops the worse half at epoch AT, then raises: a rule with a bug in its second rung."""
    if event.epoch == 2 * AT:
        raise RuntimeError("rung two is broken")
    return worse_half(event)


def test_a_rule_that_raises_fails_its_runs_and_keeps_those_it_stopped(
    tmp_path: Path, capsys
) -> None:
    """A broken rule was caught as a stack failure: its configs trained again one by one,
    without it, to the end, and the runs it had pruned came back `finished`, exit 0. Then
    it was returned as failed runs, in silence with verbose=False: now it is raised, as
    train(early_stop=...) raises it."""
    with pytest.raises(PruneError, match="rung two is broken"):
        sweep(BASE, lr=LRS, log_path=str(tmp_path / "runs"), report=True, verbose=True,
              progress=False, workers=1, prune=half_then_broken, epoch=3 * AT)  # fmt: skip
    assert "4 runs: 0 trained, 0 skipped, 2 failed/diverged, 2 pruned" in capsys.readouterr().out
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json")]
    assert len(records) == 4
    assert not (tmp_path / "runs" / "exp" / "summary.csv").exists()  # no report of a broken rule
    pruned = [r for r in records if r["status"] == "pruned"]
    assert [r["epochs_run"] for r in pruned] == [AT, AT]  # kept as the rule left them
    for r in (r for r in records if r["status"] == "failed"):
        assert r["error"] == (
            f"PruneError: prune: the rule raised RuntimeError: rung two is broken (at the "
            f"validation of epoch {2 * AT})"
        )
        assert r["epochs_run"] == 2 * AT  # not trained on without the rule


def test_a_rule_that_returns_no_mask_is_named_in_its_runs(tmp_path: Path) -> None:
    with pytest.raises(PruneError, match=r"^prune must return a bool mask"):
        run(tmp_path / "runs", workers=1, prune=lambda e: np.ones(len(e.ids) + 1, bool))
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json")]
    assert len(records) == 4
    errors = {r["error"] for r in records}
    assert errors == {
        "PruneError: prune must return a bool mask over the event's ids (shape (4,)), True "
        "for each model to stop; at the validation of epoch 1 it returned bool of shape (5,)"
    }


def test_one_bool_for_a_stack_of_several_is_no_mask(tmp_path: Path) -> None:
    """A rule written for one model (train's early_stop form) returned one bool, which
    pruned every model of the stack by the first model's numbers."""
    with pytest.raises(PruneError, match=r"it returned one bool for 4 models"):
        run(tmp_path / "runs", workers=1, prune=lambda e: e.val_metric[0] >= 0.0)
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json")]
    assert sorted(r["status"] for r in records) == ["failed"] * 4


def test_pruned_runs_are_not_said_to_lack_the_plots_asked_for_now(tmp_path: Path, capsys) -> None:
    """Kept with --plots png asked now, the line named the pruned runs as finished runs
    without their plots: a pruned run gets no plots."""
    log = tmp_path / "runs"
    run(log, workers=1, prune=worse_half)
    capsys.readouterr()
    sweep(
        {**BASE, "plots": "png"}, lr=LRS, log_path=str(log), report=False, verbose=True,
        progress=False, workers=1, prune=worse_half,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "finished runs were kept as they were, without --plots png (2 runs)" in err


def test_a_rule_knows_each_model_by_its_run_id_across_the_stacks(tmp_path: Path) -> None:
    """Ids are positions in a stack and repeat from stack to stack; names do not."""
    seen: dict[str, list[int]] = {}

    def record(event: Validate) -> np.ndarray:
        for k in event.ids:
            seen.setdefault(event.models.name(int(k)), []).append(event.epoch)
        return np.zeros(len(event.ids), dtype=bool)

    result = sweep(
        {**BASE, "hid_dim": [4, 8]}, lr=[0.03, 1.0], log_path=str(tmp_path / "runs"),
        report=False, verbose=False, workers=1, prune=record,
    )  # fmt: skip
    assert sorted(seen) == sorted(d.name for d in result.run_dirs)  # 4 names, 2 stacks
    assert all(epochs == list(range(1, 13)) for epochs in seen.values())


@pytest.mark.parametrize("kw", [{"no_batch": True}, {"group_size": 1}], ids=["no_batch", "1"])
def test_a_rule_that_sees_one_model_at_a_time_is_noted(tmp_path: Path, capsys, kw) -> None:
    result = sweep(
        BASE, lr=LRS, log_path=str(tmp_path), report=False, verbose=True, progress=False,
        workers=1, prune=worse_half, **kw,
    )  # fmt: skip
    assert result.counts["pruned"] == 0  # the median of one model is itself
    out = capsys.readouterr().out
    assert "so the prune rule sees one model at a time" in out
    # Not followed by another note that gave the stacks as one per shape.
    assert "one per model shape" not in out and "sees one stack at a time" not in out


def test_the_report_ranks_pruned_configs_by_how_far_they_got(tmp_path: Path) -> None:
    """Configs whose every run was pruned have no mean: they ranked in grid order, a config
    cut at the first rung above one that reached the second."""
    from mlplab.reports.api import report

    def halving(event: Validate) -> np.ndarray:  # rungs at epochs 3 and 6
        if event.epoch not in (3, 6) or len(event.ids) < 2:
            return np.zeros(len(event.ids), dtype=bool)
        # The highest rate goes first: an order the grid's does not give by chance.
        lrs = np.array([LRS[int(k)] for k in event.ids])
        return lrs == lrs.max()

    result = run(tmp_path / "runs", workers=1, prune=halving)
    reached = {r["lr"]: r["epochs_run"] for r in by_lr(result).values()}
    assert reached == {1.0: 3, 0.3: 6, 0.03: 12, 0.003: 12}
    rep = report(tmp_path / "runs", verbose=False)
    ranked = rep.summary.sort_values("rank")["lr"].tolist()
    assert [reached[lr] for lr in ranked] == [12, 12, 6, 3]
    # summary.csv says how each config's runs ended: its `runs` was a count alone.
    import pandas as pd

    table = pd.read_csv(rep.summary_path)
    assert table.columns.tolist()[table.columns.get_loc("runs") + 1] == "statuses"
    said = dict(zip(table["lr"], table["statuses"], strict=True))
    assert said == {  # the epoch each was cut at, which the pruned ones rank by
        1.0: "1 pruned at epoch 3", 0.3: "1 pruned at epoch 6", 0.03: "1 finished",
        0.003: "1 finished",
    }  # fmt: skip
    # ... and so does the DataFrame a script reads (it had no `statuses`).
    assert dict(zip(rep.summary["lr"], rep.summary["statuses"], strict=True)) == said


def test_configs_cut_at_one_rung_rank_by_their_metric_where_they_were_cut() -> None:
    """Four lrs pruned at epoch 5 (val_loss 0.60, 0.49, 0.34, 0.26 there) ranked in the
    order of their run ids, the folder's: their records' metrics went unread."""
    import pandas as pd

    from mlplab.reports.aggregate import aggregate

    cut = {0.001: 0.603, 0.002: 0.490, 0.005: 0.338, 0.01: 0.262}
    rows = [
        {"run_id": f"exp-{i}", "lr": lr, "seed": 0, "status": "pruned", "epochs_run": 5,
         "val_loss": loss, "val_acc": 1 - loss}
        for i, (lr, loss) in enumerate(sorted(cut.items()))
    ]  # fmt: skip
    rows.append({"run_id": "exp-9", "lr": 0.1, "seed": 0, "status": "finished",
                 "epochs_run": 20, "val_loss": 0.1, "val_acc": 0.9})  # fmt: skip
    for rank_by in (("val_loss", True), ("val_acc", False)):
        table = aggregate(pd.DataFrame(rows), ["lr"], ["val_loss", "val_acc"], rank_by)
        assert table["lr"].tolist() == [0.1, 0.01, 0.005, 0.002, 0.001]
        assert table["val_loss_mean"].isna().sum() == 4  # the cut ones enter no mean


def test_configs_cut_with_equal_metrics_rank_by_the_validation_loss_there() -> None:
    """As equal means do (the README's rule): two lrs cut at one rung with val_acc 0.40
    each ranked in folder order, the worse val_loss first."""
    import pandas as pd

    from mlplab.reports.aggregate import aggregate

    rows = [
        {"run_id": "exp-0", "lr": 0.003, "seed": 0, "status": "pruned", "epochs_run": 5,
         "val_loss": 0.6993, "val_acc": 0.40},
        {"run_id": "exp-1", "lr": 0.01, "seed": 0, "status": "pruned", "epochs_run": 5,
         "val_loss": 0.6963, "val_acc": 0.40},
    ]  # fmt: skip
    table = aggregate(
        pd.DataFrame(rows), ["lr"], ["val_acc", "val_loss"], ("val_acc", False), ("val_loss", True)
    )
    assert table["lr"].tolist() == [0.01, 0.003]
    assert not [c for c in table if c.startswith("_sort")]


def test_a_rule_reads_each_models_settings_and_is_told_it_sees_one_stack(
    tmp_path: Path, capsys
) -> None:
    """A search's rule ranks or proposes by settings: event.models.settings(id) gives each
    model's (only its run id before). Across shapes the rule sees one stack at a time,
    which the sweep now says, rather than halving each shape without a word."""
    seen: dict[str, tuple[float, int]] = {}

    def stop_the_largest_lr(event: Validate) -> np.ndarray:
        lrs = []
        for k in event.ids:
            s = event.models.settings(int(k))
            seen[event.models.name(int(k))] = (s["lr"], s["hid_dim"])
            lrs.append(s["lr"])
            s["split"].append(99)  # a copy, lists and all: the next call sees none of it
            assert event.models.settings(int(k))["split"] == [0.6, 0.2, 0.2]
        assert event.models.settings(-1) == {} == event.models.settings(10**6)
        return np.asarray(lrs) == max(LRS)

    result = sweep(BASE, lr=LRS, hid_dim=[4, 8], split=[0.6, 0.2, 0.2], log_path=str(tmp_path), workers=1,
                   report=False, verbose=True, progress=False, prune=stop_the_largest_lr)  # fmt: skip
    assert "the prune rule sees one stack at a time: these 8 configs train as 2 stacks" in (
        capsys.readouterr().out
    )
    assert sorted(seen.values()) == sorted((lr, h) for lr in LRS for h in (4, 8))
    records = [read_result(d) for d in result.run_dirs]
    assert sorted((r["lr"], r["status"]) for r in records if r["status"] == "pruned") == [
        (1.0, "pruned"),
        (1.0, "pruned"),
    ]


def test_a_ctrl_c_after_the_last_config_of_a_stack_ended_still_interrupts_the_sweep(
    tmp_path: Path,
) -> None:
    """A real SIGINT once the stack's last config had ended (pruned here; stopped by its
    patience in the report) left the first one interrupted, yet the sweep took only the
    group's last outcome as its verdict: exit 0, a report, no "sweep interrupted"."""
    import os
    import signal

    def cut_the_last_then_press_ctrl_c(event: Validate) -> np.ndarray:
        if event.epoch == 6:
            os.kill(os.getpid(), signal.SIGINT)
        return np.arange(len(event.ids)) == (1 if event.epoch == 3 else -1)

    result = sweep(BASE, lr=LRS[:2], log_path=str(tmp_path), report=False, verbose=False,
                   workers=1, progress=False, prune=cut_the_last_then_press_ctrl_c,
                   handle_signals=True)  # fmt: skip
    statuses = {lr: r["status"] for lr, r in by_lr(result).items()}
    assert sorted(statuses.values()) == ["interrupted", "pruned"], statuses
    assert result.interrupted and result.stopped_by == "SIGINT" and result.exit_code == 130


@pytest.mark.parametrize(
    ("group_size", "stacks"), [(None, [300]), (300, [300]), (120, [120, 120, 60])]
)
def test_a_prune_rule_sees_one_stack_of_a_shape_past_256_or_the_group_size_given(
    tmp_path: Path, capsys, group_size: int | None, stacks: list[int]
) -> None:
    """300 xor configs of one shape trained as stacks of 256 and 44 whatever was asked
    (group_size=300 too), and the note blamed memory, or was not printed."""
    seen: list[int] = []

    def count(event: Validate) -> np.ndarray:
        if event.epoch == 1:
            seen.append(len(event.ids))
        return np.zeros(len(event.ids), dtype=bool)

    sweep(
        {"data": "xor", "hid_dim": 2, "epoch": 2, "log_every": 0, "plots": "none"},
        seed=list(range(300)), log_path=str(tmp_path / "runs"), report=False, verbose=True,
        progress=False, workers=1, group_size=group_size, prune=count,
    )  # fmt: skip
    assert seen == stacks
    out = capsys.readouterr().out
    if len(stacks) > 1:
        assert f"configs train as {len(stacks)} stacks (group_size {group_size})" in out
    else:
        assert "the prune rule sees one stack at a time" not in out


def test_a_search_joins_its_proposals_to_their_runs_by_config_run_id(tmp_path: Path) -> None:
    """A search's rows, a repeat among them, matched to the runs by Config.run_id(): the
    sweep's result lists each config once, so a join by position goes wrong."""
    import mlplab

    rows = [{"lr": 0.3}, {"lr": 0.03}, {"lr": 0.3}]
    names: dict[int, str] = {}

    def note(event: Validate) -> np.ndarray:
        names.update({int(k): event.models.name(int(k)) for k in event.ids})
        return np.zeros(len(event.ids), dtype=bool)

    result = sweep(BASE, search="list", lr=[r["lr"] for r in rows], log_path=str(tmp_path),
                   report=False, verbose=False, workers=1, prune=note)  # fmt: skip
    ids = [mlplab.Config(**BASE, **row, log_path=str(tmp_path)).run_id() for row in rows]
    assert ids[0] == ids[2] != ids[1]
    assert set(ids) == set(names.values()) == set(result.statuses())
    assert [read_result(tmp_path / "exp" / i)["lr"] for i in ids] == [0.3, 0.03, 0.3]
