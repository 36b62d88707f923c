"""The report's numbers: replicate statistics, ranking, and results.csv against result.json."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlplab
from mlplab.errors import ConfigError
from mlplab.reports.aggregate import mean_std_ci, metric_bounds
from mlplab.reports.api import Report, report, shared_split_note
from mlplab.reports.collect import collect, swept_variables
from mlplab.sweeps.api import sweep

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """2 configs x 3 seeds on a small ring, and their report."""
    log = tmp_path_factory.mktemp("report") / "runs"
    sweep(
        data="ring", n_samples=300, hid_dim=[3, 8], lr=0.3, epoch=40, seed=list(SEEDS),
        engine="numpy", log_every=0, plots="none", log_path=str(log), exp_name="agg",
        workers=1, report=False, verbose=False,
    )  # fmt: skip
    return log, report(log, exp_name="agg", verbose=False)


def records(log: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(log.rglob("result.json"))]


def test_swept_variables_leave_out_seed(swept: tuple[Path, Report]) -> None:
    log, rep = swept
    assert rep.variables == ["hid_dim"]
    assert rep.kind == "classification" and rep.metric == "val_acc"
    assert swept_variables(collect(log)) == ["hid_dim"]


def test_seeds_are_listed_in_order_with_their_run_ids(swept: tuple[Path, Report]) -> None:
    log, rep = swept
    run_of = {(r["hid_dim"], r["seed"]): r["run_id"] for r in records(log)}
    for _, row in rep.summary.iterrows():
        assert row["seeds"] == ", ".join(map(str, SEEDS))
        assert row["run_ids"] == ", ".join(run_of[(row["hid_dim"], s)] for s in SEEDS)
    # results.csv: within a config, runs by their own val_acc, ties in seed order.
    runs = pd.read_csv(rep.csv_path)
    for _, part in runs.groupby("rank", sort=True):
        order = list(zip(-part["val_acc"], part["seed"]))
        assert order == sorted(order)


def test_replicate_statistics_match_numpy_and_scipy(swept: tuple[Path, Report]) -> None:
    log, rep = swept
    summary = rep.summary.set_index("hid_dim")
    for hid_dim in (3, 8):
        group = [r for r in records(log) if r["hid_dim"] == hid_dim]
        assert sorted(r["seed"] for r in group) == list(SEEDS)
        for metric in ("val_acc", "test_acc", "train_loss", "val_loss"):
            x = np.array([r[metric] for r in group], dtype=float)
            mean, std = x.mean(), x.std(ddof=1)
            half = stats.t.ppf(0.975, len(x) - 1) * std / math.sqrt(len(x))
            row = summary.loc[hid_dim]
            assert row["n"] == 3
            assert row[f"{metric}_mean"] == pytest.approx(mean, abs=1e-12)
            assert row[f"{metric}_std"] == pytest.approx(std, abs=1e-12)
            # the t-interval, clipped to what the metric can take
            low, high = metric_bounds(metric)
            assert row[f"{metric}_ci_low"] == pytest.approx(max(mean - half, low), abs=1e-12)
            assert row[f"{metric}_ci_high"] == pytest.approx(min(mean + half, high), abs=1e-12)


def test_ranking_uses_the_mean_over_seeds(swept: tuple[Path, Report]) -> None:
    _, rep = swept
    means = rep.summary["val_acc_mean"].tolist()
    assert means == sorted(means, reverse=True)
    assert rep.summary["rank"].tolist() == [1, 2]
    best = rep.summary.iloc[0]["hid_dim"]
    assert rep.best_run is not None and rep.best_run["hid_dim"] == best
    # The row loads its run as its folder does (it raised a ConfigError of the whole row).
    from mlplab.restore import load_run

    assert load_run(rep.best_run, data=False).run_dir == load_run(rep.best_run["run_dir"]).run_dir


@pytest.mark.parametrize("status", ["diverged", "pruned", "interrupted", "running"])
def test_a_config_whose_seeds_diverged_ranks_after_those_whose_seeds_all_finished(
    swept: tuple[Path, Report], tmp_path: Path, status: str
) -> None:
    """The better config with two of its three seeds diverged ranked first on the mean
    of its one survivor, above a config whose three seeds all finished. So did one whose
    seeds a search pruned (the seeds it judged worse), or were stopped or are still
    training (or were killed): its seeds column lists only the seed its numbers are of."""
    import shutil

    log, rep = swept
    best = rep.summary.iloc[0]["hid_dim"]
    copy = tmp_path / "runs"
    shutil.copytree(log, copy)
    metrics = ("val_acc", "val_loss", "test_acc", "test_loss", "train_acc", "train_loss")
    for path in sorted((copy / "agg").glob("*/result.json")):
        record = json.loads(path.read_text())
        if record["hid_dim"] == best and record["seed"] != 0:  # seed 0 survives
            record.update(status=status, **dict.fromkeys(metrics))
            path.write_text(json.dumps(record))
    ranked = report(copy, exp_name="agg", verbose=False, figures=False).summary
    assert ranked["hid_dim"].tolist()[::-1][0] == best  # last, with its survivor's mean
    assert ranked.iloc[-1]["n"] == 1 and ranked.iloc[0]["n"] == 3
    assert ranked["rank"].tolist() == [1, 2]
    assert ranked.iloc[-1]["seeds"] == "0" and ranked.iloc[0]["seeds"] == "0, 1, 2"
    assert len(ranked.iloc[-1]["run_ids"].split(", ")) == 3  # every run, each named


@pytest.mark.parametrize("status", ["interrupted", "diverged", "failed"])
def test_an_experiment_with_no_finished_run_is_reported_unranked(
    swept: tuple[Path, Report], tmp_path: Path, status: str, capsys: pytest.CaptureFixture
) -> None:
    """A sweep stopped before any run finished (a Ctrl-C on a student's only run) failed to
    report, with a traceback: its note of rising losses read an empty column of objects."""
    import shutil

    log, _ = swept
    copy = tmp_path / "runs"
    shutil.copytree(log, copy)
    paths = sorted((copy / "agg").glob("*/result.json"))
    for path in paths:
        record = json.loads(path.read_text())
        assert record["train_losses"] and record["train_loss"] is not None  # as stopped
        path.write_text(json.dumps({**record, "status": status}))
    ranked = report(copy, exp_name="agg").summary
    assert (ranked["n"] == 0).all()
    rows = [line for line in capsys.readouterr().out.splitlines() if f" {status} " in line]
    assert len(rows) == len(ranked) and all(row.split()[1] == "–" for row in rows)  # unranked


def test_settings_a_run_does_not_use_do_not_split_its_config(tmp_path: Path) -> None:
    """lr_step without the step schedule (and mm with adam) shape nothing: runs that differ
    only in them are one config, whose repeats count once, not ranks with equal numbers."""
    log = tmp_path / "runs"
    sweep(
        data="xor", hid_dim=4, epoch=5, lr_schedule=["none", "step"], lr_step=[10, 20],
        optim="adam", mm=[0.0, 0.9], seed=[0, 1], engine="numpy", log_every=0,
        plots="none", log_path=str(log), workers=1, report=False, verbose=False,
    )  # fmt: skip
    summary = report(log, verbose=False, figures=False).summary
    assert len(summary) == 3  # none; step with lr_step 10; step with lr_step 20
    plain = summary[summary["lr_schedule"] == "none"].iloc[0]
    assert pd.isna(plain["lr_step"]) and plain["runs"] == 8 and plain["n"] == 2
    assert plain["repeats"] == 6
    assert "mm" not in summary or summary["mm"].isna().all()


def test_values_that_read_alike_in_six_digits_are_shown_exactly(tmp_path: Path) -> None:
    """0.01 and 0.01000000000000001 (0.1 * 0.1) are two configs, shown as two rows of 0.01."""
    from mlplab.reports.api import table_rows

    log = tmp_path / "runs"
    lrs = [0.01, 0.1 * 0.1, 0.0123451, 0.0123459]
    sweep(data="xor", epoch=2, lr=lrs, plots="none", log_path=str(log), workers=1,
          report=False, verbose=False)  # fmt: skip
    (sec,) = report(log, verbose=False, figures=False).sections
    header, rows = table_rows(sec)
    shown = sorted(row[header.index("lr")] for row in rows)
    assert shown == sorted(repr(lr) for lr in lrs)
    # Alone, values keep their short form.
    sweep(data="xor", epoch=2, lr=[0.01, 0.0123451], plots="none", log_path=str(log),
          exp_name="short", workers=1, report=False, verbose=False)  # fmt: skip
    (sec,) = report(log, exp_name="short", verbose=False, figures=False).sections
    header, rows = table_rows(sec)
    assert sorted(row[header.index("lr")] for row in rows) == ["0.01", "0.0123451"]
    # A gate's validation rows are its test rows: ranking by one is choosing by the other.
    from mlplab.reports.api import fixed_settings

    assert "data xor (its 4 rows: train = val = test)" in fixed_settings(sec)


def test_one_replicate_has_no_spread() -> None:
    mean, std, low, high = mean_std_ci(np.array([0.7]))
    assert mean == 0.7 and math.isnan(std) and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in mean_std_ci(np.array([])))


def test_results_csv_matches_the_result_files(swept: tuple[Path, Report]) -> None:
    log, rep = swept
    table = pd.read_csv(rep.csv_path)
    recs = {r["run_id"]: r for r in records(log)}
    assert sorted(table["run_id"]) == sorted(recs)
    for _, row in table.iterrows():
        rec = recs[row["run_id"]]
        for key in (
            "seed",
            "hid_dim",
            "lr",
            "epoch",
            "status",
            "train_acc",
            "val_acc",
            "test_acc",
            "val_loss",
            "test_loss",
            "train_bacc",
            "val_bacc",
            "test_bacc",
            "val_f1",
            "test_f1",
        ):
            if isinstance(rec[key], float):
                assert row[key] == pytest.approx(rec[key], rel=1e-12)
            else:
                assert row[key] == rec[key]
        assert "train_losses" not in table  # curves stay out of the CSV
    # ranked: the best config's runs come first
    assert table["rank"].is_monotonic_increasing
    summary = pd.read_csv(rep.summary_path)
    assert summary["val_acc_mean"].tolist() == pytest.approx(rep.summary["val_acc_mean"].tolist())
    # summary.csv: each config's balanced accuracy and macro F1 over its seeds, too.
    for metric in ("test_bacc", "val_f1"):
        means = table.groupby("hid_dim")[metric].mean()
        got = summary.set_index("hid_dim")[f"{metric}_mean"]
        assert got.to_dict() == pytest.approx(means.to_dict(), rel=1e-12)
        assert (summary[f"{metric}_ci_high"] <= 1).all()


def test_html_is_self_contained(swept: tuple[Path, Report]) -> None:
    _, rep = swept
    text = rep.html_path.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") >= 4
    assert "<script" not in text and "http" not in text.replace("http-equiv", "")
    assert "Best run" in text


def test_regression_ranks_by_the_validation_mse_in_the_targets_units(tmp_path: Path) -> None:
    """Ranked by val_loss, a config trained on the scaled target (standardize_target: its
    loss is of order 1) outranked a better one on the raw target (its loss is the MSE)."""
    sweep(
        data="sinlog", n_samples=240, hid_dim=[4, 16], lr=0.01, optim="adam", epoch=30,
        engine="numpy", log_every=0, plots="none", log_path=str(tmp_path), workers=1,
        standardize_target=[True, False], report=False, verbose=False,
    )  # fmt: skip
    rep = report(tmp_path, out=tmp_path / "out", verbose=False, figures=False)
    assert rep.kind == "regression" and rep.metric == "val_mse"
    errors = rep.summary["val_mse_mean"].tolist()
    assert errors == sorted(errors)
    scaled = rep.summary["standardize_target"].astype(str).str.lower() == "true"
    loss, mse = rep.summary["val_loss_mean"], rep.summary["val_mse_mean"]
    assert (loss[scaled] < mse[scaled]).all()  # the scaled loss: not the same numbers
    assert rep.summary["val_loss_mean"].tolist() != sorted(rep.summary["val_loss_mean"])
    assert {"test_mae_mean", "test_r2_mean"} <= set(rep.summary.columns)
    assert rep.html_path.parent == tmp_path / "out" and rep.html_path.is_file()


def test_each_experiment_keeps_its_own_sweeps_axis_order(tmp_path: Path) -> None:
    """Reported together, two sweeps of one log_path list their settings each in its own
    axis order (before, the newest sweep's order served both)."""
    common = dict(data="xor", epoch=20, log_every=0, plots="none", log_path=str(tmp_path))
    common |= dict(workers=1, report=False, verbose=False)
    sweep(hid_dim=[2, 4], lr=[0.5, 1.0], exp_name="a", **common)
    sweep(lr=[0.5, 1.0], seed=[0, 1], exp_name="b", **common)
    rep = report(tmp_path, out=tmp_path / "out", verbose=False, figures=False)
    orders = {s.exp_name: list(s.variables) for s in rep.sections}
    assert orders == {"a": ["hid_dim", "lr"], "b": ["lr"]}


def test_an_order_given_is_the_axis_order_and_a_wrong_one_is_one_line(
    swept: tuple[Path, Report], tmp_path: Path
) -> None:
    """order=['hiddim'] (a typo) or 'lr' (a string) were ignored without a word."""
    log, rep = swept
    rep = report(
        log, exp_name="agg", out=tmp_path, verbose=False, figures=False, order=["seed", "hid_dim"]
    )
    assert list(rep.sections[0].variables) == ["hid_dim"]
    for order, needle in (
        (["hiddim"], "report: order names 'hiddim', which is no setting; give setting names"),
        ("lr", "report: order is a list of setting names, such as ['hid_dim', 'lr'] (got 'lr')"),
        (["hid_dim", "hid_dim"], "report: order names 'hid_dim' twice; name each once"),
    ):
        with pytest.raises(ConfigError) as err:
            report(
                log, exp_name="agg", out=tmp_path / "bad", verbose=False, figures=False, order=order
            )
        assert str(err.value).startswith(needle), str(err.value)
    assert not (tmp_path / "bad").exists()


def test_summary_csv_names_a_setting_one_section_sweeps_and_another_holds(
    tmp_path: Path,
) -> None:
    """A sweep over moons, iris and sine: the regression rows of summary.csv left data
    blank, which reads as a setting that does not apply."""
    sweep(
        data=["moons", "iris", "sine"], hid_dim=[4, 8], epoch=3, log_every=0, plots="none",
        log_path=str(tmp_path), exp_name="mix", workers=1, report=False, verbose=False,
    )  # fmt: skip
    rep = report(tmp_path, exp_name="mix", verbose=False, figures=False)
    table = pd.read_csv(rep.summary_path)
    regression = table[table["task"] == "regression"]
    assert len(regression) == 2 and set(regression["data"]) == {"sine"}
    classification = table[table["task"] == "classification"]
    assert set(classification["data"]) == {"moons", "iris"}
    assert not table["hid_dim"].isna().any()
    # moons and iris ranked against each other, without a word: the classification
    # section says its ranks cross datasets; the regression one (sine alone) does not.
    import html

    page = html.unescape(rep.html_path.read_text())
    assert page.count("(across datasets: data is swept)") == 1


def test_report_of_an_empty_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no runs"):
        report(tmp_path, verbose=False, figures=False)


def test_an_experiment_that_is_not_there_is_named_with_those_that_are(tmp_path: Path) -> None:
    """report('runs', exp_name='nonexist') said only that runs/nonexist is not a folder,
    and a list of names ended in a TypeError."""
    for name in ("xor-grid", "moons"):
        (tmp_path / name).mkdir()
    (tmp_path / ".hidden").mkdir()
    with pytest.raises(
        ConfigError, match=r"has no experiment 'nonexist' \(its experiments: moons, xor-grid\)$"
    ):
        report(tmp_path, exp_name="nonexist", verbose=False, figures=False)
    with pytest.raises(
        ConfigError, match="exp_name is one experiment's name \\(text\\), not a list"
    ):
        report(tmp_path, exp_name=["xor-grid", "moons"], verbose=False, figures=False)


def test_the_best_run_of_a_report_loads_from_the_top_level(swept: tuple[Path, Report]) -> None:
    """`mlplab.load_run(rep.best_run)` raised AttributeError: load_run lived only in
    mlplab.restore, though a report's best_run is made for it."""
    import mlplab

    _, rep = swept
    run = mlplab.load_run(rep.best_run)
    assert run.run_dir == Path(rep.best_run["run_dir"])
    assert "load_run" in dir(mlplab)
    outputs = run.model_outputs(run.dataset.X_test)  # the ring's 3 classes
    accuracy = float((outputs.argmax(axis=1) == run.dataset.y_test).mean())
    assert accuracy == pytest.approx(rep.best_run["test_acc"])


def test_the_report_names_the_settings_every_run_shares(
    swept: tuple[Path, Report], capsys: pytest.CaptureFixture[str]
) -> None:
    """A table went into a paper without its dataset, split sizes, optimizer or epochs
    (only results.csv had them), nor what the seeds' interval leaves out."""
    import html

    log, rep = swept
    run = records(log)[0]
    rows = f"{run['n_train']}/{run['n_val']}/{run['n_test']} rows train/val/test"
    expected = (
        f"data ring ({rows}), task classification, n_samples 300, optim sgd, lr 0.3, "
        "epoch 40, batch_size 0 (full batch), engine numpy"
    )
    page = html.unescape(rep.html_path.read_text())
    assert expected in page
    assert "every seed of a config trains on the same split (data_seed)" in page
    report(log, exp_name="agg", out=log.parent / "again")
    printed = " ".join(capsys.readouterr().out.split())  # the table wraps its caption
    assert f"fixed: {expected}" in printed and "hid_dim 3" not in printed


def test_a_large_metric_and_its_spread_are_written_in_one_form(tmp_path: Path) -> None:
    """A table of prices printed '6.629e+05 ± 76263.4293', two scales in one cell."""
    from mlplab.reports.api import table_rows

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    df["price"] = 1e6 + 3e5 * df.a + rng.normal(0, 5e4, 200)
    df.to_csv(tmp_path / "p.csv", index=False)
    sweep(
        data=str(tmp_path / "p.csv"), standardize_target=True, lr=[0.01, 0.003], seed=[0, 1],
        epoch=5, log_every=0, plots="none", log_path=str(tmp_path / "runs"), exp_name="big",
        workers=1, report=False, verbose=False,
    )  # fmt: skip
    rep = report(tmp_path / "runs", exp_name="big", verbose=False, figures=False)
    header, rows = table_rows(rep.sections[0])
    cell = rows[0][header.index("test_mae")]
    mean, std = cell.split(" ± ")
    assert "e+0" in mean and "e+0" in std, cell


def test_small_metrics_keep_their_digits_in_every_table(tmp_path: Path, capsys) -> None:
    """A target of about 3e-4: the printed table and report.html showed val_mse 0.0000 for
    both configs (the column that ranks them) and val_mae 0.0001 beside 0.0021, while
    `mlplab train`'s table wrote 1.2171e-08; configs could not be told apart."""
    from mlplab.reports.aggregate import number_text
    from mlplab.reports.api import table_rows

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(160, 2)), columns=["a", "b"])
    df["tiny"] = 3e-4 + 1e-4 * df.a + rng.normal(0, 2e-5, 160)
    df.to_csv(tmp_path / "tiny.csv", index=False)
    sweep(
        data=str(tmp_path / "tiny.csv"), lr=[0.01, 0.001], seed=[0, 1], epoch=10,
        standardize_target=True,
        optim="adam", log_every=0, plots="none", log_path=str(tmp_path / "runs"),
        exp_name="tiny", workers=1, report=False, verbose=False,
    )  # fmt: skip
    capsys.readouterr()
    rep = report(tmp_path / "runs", out=tmp_path / "out", verbose=True)
    printed = capsys.readouterr().out
    page = html.unescape(rep.html_path.read_text())
    header, rows = table_rows(rep.sections[0])
    summary = rep.sections[0].summary
    for col in ("val_mse", "val_mae", "test_mae"):
        cells = [row[header.index(col)].split(" ± ")[0] for row in rows]
        means = summary[f"{col}_mean"].tolist()
        assert len(set(cells)) == len(cells), (col, cells)  # the configs told apart
        assert cells == [number_text(v) for v in means]
        for cell, mean in zip(cells, means, strict=True):
            assert float(cell) == pytest.approx(mean, rel=1e-3), (col, cell)
            assert cell in printed and cell in page
    assert "0.0000" not in " ".join(" ".join(row) for row in rows)
    ci = rows[0][header.index("val_mse") + 1]
    assert re.fullmatch(r"\[\d\.\d{3}e-\d\d, \d\.\d{3}e-\d\d\]", ci), ci


def test_a_reports_numbers_keep_four_significant_digits() -> None:
    """Written as `mlplab train`'s table writes them: scientific past 1e-3 and 1e5."""
    from mlplab.reports.aggregate import number_text
    from mlplab.reports.api import _ci, _pm

    assert [number_text(v) for v in (0.91234, 236.48, 0.0, -0.0, math.nan, None)] == [
        "0.9123", "236.4800", "0.0000", "0.0000", "", "",
    ]  # fmt: skip
    # Below 1, decimals enough for 4 significant digits: 0.0021 beside 0.0021 said nothing.
    assert [number_text(v) for v in (0.021347, 0.0021347, 0.0021284)] == [
        "0.02135", "0.002135", "0.002128",
    ]  # fmt: skip
    assert [number_text(v) for v in (8.5776e-05, 1.2171e-08, -1e-5, 119234.5)] == [
        "8.578e-05", "1.217e-08", "-1.000e-05", "1.192e+05",
    ]  # fmt: skip
    row = pd.Series({"m_mean": 0.9123, "m_std": 3e-5, "s_mean": 1.2e-8, "s_std": 3e-9,
                     "m_ci_low": 0.0, "m_ci_high": 4e-4})  # fmt: skip
    assert _pm(row, "m") == "0.9123 ± 3.000e-05"  # a spread too small is not ± 0.0000
    assert _pm(row, "s") == "1.200e-08 ± 3.000e-09"
    assert _ci(row, "m") == "[0, 4.000e-04]"  # one interval, one form


def test_the_table_shows_balanced_accuracy_where_accuracy_flatters(tmp_path: Path) -> None:
    """On 8% positives a model that calls every row negative has accuracy 0.92: the
    printed and HTML tables showed only that, and balanced accuracy (0.5) was in
    summary.csv alone."""
    from mlplab.reports.api import table_rows

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(400, 2)), columns=["a", "b"])
    df["y"] = (df.a + rng.normal(0, 0.3, 400) > 1.4).astype(int)
    df.to_csv(tmp_path / "rare.csv", index=False)
    common = dict(
        epoch=3, log_every=0, plots="none", log_path=str(tmp_path / "runs"), seed=[0, 1],
        lr=[0.01, 0.001], workers=1, report=False, verbose=False,
    )  # fmt: skip
    sweep(data=str(tmp_path / "rare.csv"), exp_name="rare", **common)
    sweep(data="xor", exp_name="gates", **common)  # two rows of each class: bacc = acc
    rep = report(tmp_path / "runs", out=tmp_path / "out", verbose=False, figures=False)
    by = {s.exp_name: s for s in rep.sections}
    header, rows = table_rows(by["rare"])
    summary = by["rare"].summary
    assert (summary["val_acc_mean"] - summary["val_bacc_mean"]).max() > 0.1  # it flatters
    for col in ("val_bacc", "test_bacc"):
        cells = [float(row[header.index(col)]) for row in rows]
        assert cells == pytest.approx(summary[f"{col}_mean"].tolist(), abs=1e-4)
    assert "val_bacc" in rep.html_path.read_text()
    header, _ = table_rows(by["gates"])
    assert not any("bacc" in h for h in header)


def test_rank_by_orders_configs_by_the_metric_chosen(tmp_path: Path, capsys) -> None:
    """Reports ranked by val_acc alone: on unequal classes the config that calls every
    row the common class came first. ``rank_by`` (``--rank_by``) chooses the metric."""
    from mlplab.cli import main
    from mlplab.reports.api import table_rows

    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    df["y"] = (df.a + rng.normal(0, 0.3, 300) > 1.2).astype(int)
    df.to_csv(tmp_path / "rare.csv", index=False)
    sweep(
        data=str(tmp_path / "rare.csv"), lr=[0.3, 0.03, 0.003], epoch=4, seed=[0, 1],
        log_every=0, plots="none", log_path=str(tmp_path / "runs"), exp_name="rare",
        workers=1, report=False, verbose=False,
    )  # fmt: skip
    sweep(
        data="sinlog", n_samples=120, lr=[0.01, 0.001], epoch=4, log_every=0, plots="none",
        log_path=str(tmp_path / "runs"), exp_name="reg", workers=1, report=False,
        verbose=False,
    )  # fmt: skip
    default = report(tmp_path / "runs", out=tmp_path / "a", verbose=False, figures=False)
    rep = report(
        tmp_path / "runs", out=tmp_path / "b", verbose=False, figures=False, rank_by="val_bacc"
    )
    by = {s.exp_name: s for s in rep.sections}
    rare = by["rare"]
    assert rare.metric == "val_bacc"
    means = rare.summary["val_bacc_mean"].tolist()
    assert means == sorted(means, reverse=True) and rare.summary["rank"].tolist() == [1, 2, 3]
    assert rare.runs["lr"].iloc[0] == rare.summary["lr"].iloc[0]  # runs follow their config
    header, rows = table_rows(rare)
    assert header.count("val_bacc") == 1 and header[header.index("val_bacc") + 1].startswith("95%")
    # The accuracy stays in view beside the metric that ranks.
    cells = [float(row[header.index("val_acc")]) for row in rows]
    assert cells == pytest.approx(rare.summary["val_acc_mean"].tolist(), abs=1e-4)
    # Written as settings may be: any case, dashes.
    assert report(tmp_path / "runs", exp_name="rare", out=tmp_path / "e", verbose=False, figures=False,
                  rank_by="VAL-BACC").metric == "val_bacc"  # fmt: skip
    # A regression section keeps its own metric: val_bacc is none of its.
    assert by["reg"].metric == "val_mse" == {s.exp_name: s for s in default.sections}["reg"].metric
    losses = report(tmp_path / "runs", exp_name="rare", out=tmp_path / "c", verbose=False, figures=False,
                    rank_by="val_loss").summary["val_loss_mean"].tolist()  # fmt: skip
    assert losses == sorted(losses)  # a loss ranks lowest first
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "d"),
                 "--rank_by", "val_f1"]) == 0  # fmt: skip
    out = " ".join(capsys.readouterr().out.split())
    assert "ranked by val_f1" in out
    assert (
        "report: note: rank_by val_f1 is not a metric of every table: reg (regression) is ranked by val_mse"
        in out
    )
    with pytest.raises(ConfigError, match=r"^report: rank_by is one of val_acc, val_bacc, "):
        report(tmp_path / "runs", verbose=False, figures=False, rank_by="accuracy")
    with pytest.raises(ConfigError, match=r", not 'bacc' \(did you mean 'val_bacc'\?\)$"):
        report(tmp_path / "runs", verbose=False, figures=False, rank_by="bacc")
    # A sweep ranks its own report so (its runs are kept: nothing trains again).
    again = sweep(
        data=str(tmp_path / "rare.csv"), lr=[0.3, 0.03, 0.003], epoch=4, seed=[0, 1],
        log_every=0, plots="none", log_path=str(tmp_path / "runs"), exp_name="rare",
        workers=1, verbose=False, rank_by="val_bacc",
    )  # fmt: skip
    assert again.report is not None and again.report.metric == "val_bacc"
    assert again.report.summary["val_bacc_mean"].tolist() == means
    with pytest.raises(ConfigError, match=r"^sweep: rank_by is one of val_acc, "):
        sweep(data="xor", epoch=1, log_path=str(tmp_path / "no"), verbose=False, rank_by="x")
    assert not (tmp_path / "no").exists()
    # A metric of no table here: refused before anything trains or is written, not a note
    # after the work that every table fell back to its own.
    with pytest.raises(
        ConfigError,
        match=r"^sweep: rank_by val_mse is a metric of regression, and the runs here are "
        r"classification; give one of val_acc, val_bacc, val_f1, val_loss \(classification\)$",
    ):
        sweep(data="xor", epoch=1, log_path=str(tmp_path / "no"), verbose=False,
              rank_by="val_mse")  # fmt: skip
    assert not (tmp_path / "no").exists()
    before = sorted(p.name for p in (tmp_path / "runs" / "rare").iterdir())
    with pytest.raises(ConfigError, match=r"^report: rank_by val_r2 is a metric of regression"):
        report(tmp_path / "runs", exp_name="rare", verbose=False, figures=False, rank_by="val_r2")
    assert sorted(p.name for p in (tmp_path / "runs" / "rare").iterdir()) == before


def test_configs_whose_interval_overlaps_the_firsts_are_named() -> None:
    """Rank 1 at 0.8060 [0.7872, 0.8248] above 0.8040 [0.7554, 0.8526] read as a winner."""
    from mlplab.reports.api import Section, overlap_note

    def section(rows: list[tuple[float, float, float]]) -> Section:
        summary = pd.DataFrame(
            [
                {"rank": i + 1, "val_acc_mean": m, "val_acc_ci_low": lo, "val_acc_ci_high": hi}
                for i, (m, lo, hi) in enumerate(rows)
            ]
        )
        return Section("moons", "classification", pd.DataFrame(), summary, ["lr"], "val_acc")

    close = section([(0.806, 0.7872, 0.8248), (0.804, 0.7554, 0.8526), (0.70, 0.65, 0.75)])
    assert overlap_note([close]) == (
        "the 95% interval of val_acc of rank 1 overlaps that of rank 2: the intervals alone "
        "do not order these configs (overlap is no test: the seeds' paired differences, in "
        "results.csv, may still; more seeds narrow the intervals)"
    )
    tied = section([(1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)])  # xor's seeds agree
    assert overlap_note([tied]).startswith(
        "the 95% interval of val_acc of rank 1 overlaps those of ranks 2, 3: "
    )
    apart = section([(0.90, 0.88, 0.92), (0.80, 0.78, 0.82)])
    assert overlap_note([apart]) == ""
    # One seed at rank 1 (no interval), or rank 2: nothing to compare.
    nan = float("nan")
    assert overlap_note([section([(0.9, nan, nan), (0.8, 0.7, 0.95)])]) == ""
    assert overlap_note([section([(0.9, 0.8, 0.95), (0.85, nan, nan)])]) == ""


def test_a_first_rank_over_its_surviving_seeds_alone_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Where no config finished every seed, rank 1's mean and interval (a seed of five
    diverged) were of its survivors, said only by its runs column."""
    log = tmp_path / "runs"
    sweep(
        data="moons", n_samples=100, hid_dim=4, lr=[0.1, 0.3], seed=[0, 1, 2], epoch=5,
        log_every=0, plots="none", log_path=str(log), workers=1, report=False, verbose=False,
    )  # fmt: skip
    for path in sorted((log / "exp").glob("*/result.json")):
        record = json.loads(path.read_text())
        if record["seed"] == 2:  # each config loses one seed
            path.write_text(json.dumps({**record, "status": "diverged", "val_acc": None}))
    rep = report(log)
    out = capsys.readouterr().out
    assert (  # what the interval takes for granted, under the table and on the page
        "95% CI: Student-t interval of the mean over seeds, clipped to [0, 1] (it takes the "
        "seeds' results as spread normally: under 5 seeds, or with a few seeds far from the "
        "others, it is often too narrow);"
    ) in out
    assert "it takes the seeds&#x27; results as spread normally" in rep.html_path.read_text()
    notes = [n for n in out.splitlines() if "finished seed" in n]
    assert notes == [
        "report: note: rank 1's statistics are over its 2 finished seed(s) of its 3 run(s) (1 diverged, "
        "2 finished): the seeds that did not finish are left out, which flatters it; no "
        "config finished every seed"
    ]
    for path in sorted((log / "exp").glob("*/result.json")):  # rank 2 alone loses one
        record = json.loads(path.read_text())
        lost = record["lr"] == rep.summary.iloc[1]["lr"]
        path.write_text(json.dumps({**record, "status": "diverged" if lost else "finished"}))
    report(log)
    assert "finished seed" not in capsys.readouterr().out
    # A stopped copy of a seed that finished elsewhere leaves no seed out.
    for path in sorted((log / "exp").glob("*/result.json")):
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "status": "finished"}))
    copy = shutil.copytree(path.parent, log / "exp" / "stopped-copy")
    record = json.loads((copy / "result.json").read_text())
    (copy / "result.json").write_text(json.dumps({**record, "status": "interrupted"}))
    report(log)
    assert "finished seed" not in capsys.readouterr().out


def test_the_first_of_many_configs_is_told_to_be_quoted_by_its_test_metric(tmp_path) -> None:
    """Rank 1 of 40 near-equal configs had a val_acc of 0.85 where each config's is about
    0.83, and a test_acc of 0.83: the choice flatters its validation score."""
    from mlplab.reports.api import CHOSEN_FROM, chosen_note, make_section

    rows = [
        {"lr": 0.01 * (i + 1), "seed": s, "status": "finished", "run_id": f"r{i}-{s}",
         "val_acc": 0.8 + 0.001 * i + 0.01 * s, "test_acc": 0.81, "val_loss": 0.5}
        for i in range(CHOSEN_FROM) for s in range(2)
    ]  # fmt: skip
    sec = make_section("grid", "classification", pd.DataFrame(rows), ["lr"], None)
    assert chosen_note([sec]) == (
        f"rank 1 is the best val_acc of {CHOSEN_FROM} configs, which flatters its val_acc: "
        "quote its test_acc (0.81), of rows that chose nothing"
    )
    fewer = make_section("grid", "classification", pd.DataFrame(rows[2:]), ["lr"], None)
    assert chosen_note([fewer]) == ""
    # xor's test rows are its validation rows: they chose rank 1 too.
    gate = make_section("xor", "classification", pd.DataFrame(rows).assign(data="xor"), ["lr"])
    assert chosen_note([gate]) == ""


def test_configs_of_fewer_seeds_than_the_others_are_named(tmp_path: Path) -> None:
    """One lucky seed of lr 0.3 ranked among configs of three seeds without a word."""
    from mlplab import sweep, train
    from mlplab.reports.api import few_seeds_note, report

    common = {"data": "moons", "n_samples": 120, "epoch": 3, "log_every": 0, "plots": "none"}
    common |= {"log_path": str(tmp_path / "runs"), "exp_name": "mixed"}
    sweep(**common, lr=[0.01, 0.1], seed=[0, 1, 2], workers=1, verbose=False)
    train(**common, lr=0.3, seed=0, verbose=False)
    rep = report(tmp_path / "runs", exp_name="mixed", verbose=False, figures=False)
    s = rep.summary
    lone = int(s.loc[s["lr"] == 0.3, "rank"].iloc[0])
    assert sorted(s["n"].astype(int)) == [1, 3, 3]
    note = few_seeds_note(rep.sections)
    assert note.startswith(f"rank {lone} has 1 seed, where others have up to 3: "), note
    assert note in (tmp_path / "runs" / "mixed" / "report.html").read_text(encoding="utf-8")
    # A seed that was trained and diverged is no seed to train: its config ranks after
    # the others, and says why in its runs column.
    train(**common, lr=0.3, seed=1, verbose=False)
    train(**common, lr=0.3, seed=2, verbose=False)
    records = sorted((tmp_path / "runs" / "mixed").glob("*/result.json"))
    for path in records:
        record = json.loads(path.read_text())
        if record["lr"] == 0.3 and record["seed"] == 2:
            path.write_text(json.dumps({**record, "status": "diverged", "val_acc": None}))
    rep = report(tmp_path / "runs", exp_name="mixed", verbose=False, figures=False)
    assert sorted(rep.summary["n"].astype(int)) == [2, 3, 3]
    assert few_seeds_note(rep.sections) == ""


def test_a_config_with_no_finished_run_shows_no_rank(tmp_path: Path) -> None:
    """Every run of a sweep diverged: its table read rank 1 and rank 2, in grid order,
    beside empty cells, as if one config had won."""
    from mlplab.reports.api import table_rows

    log = tmp_path / "runs"
    sweep(
        data="sinlog", n_samples=100, lr=[1e4, 1e5], epoch=3, log_every=0, plots="none",
        log_path=str(log), exp_name="div", workers=1, report=False, verbose=False,
    )  # fmt: skip
    report(
        log, exp_name="div", verbose=False, figures=False
    )  # every run diverged: no row is the best
    assert 'class="best"' not in (log / "div" / "report.html").read_text(encoding="utf-8")
    trained = sweep(
        data="sinlog", n_samples=100, lr=[1e-3], epoch=3, log_every=0, plots="none",
        log_path=str(log), exp_name="div", workers=1, report=False, verbose=False,
    )  # fmt: skip
    assert trained.counts["trained"] == 1
    rep = report(log, exp_name="div", verbose=False, figures=False)
    _, rows = table_rows(rep.sections[0])
    ranks = {row[1]: row[0] for row in rows}
    assert ranks == {"0.001": "1", "10000": "–", "100000": "–"}, rows
    assert rep.summary["rank"].tolist() == [1, 2, 3]  # summary.csv keeps its order's ranks
    assert 'class="best"' in (log / "div" / "report.html").read_text(encoding="utf-8")


def test_finished_runs_whose_training_loss_rose_are_named(tmp_path: Path) -> None:
    """A run whose loss grew to 1e34 without reaching inf finished, and its metrics were
    averaged as any other's without a word (`mlplab train` notes it; the report did not)."""
    from mlplab.reports.api import loss_rose_note

    log = tmp_path / "runs"
    sweep(
        data="moons", n_samples=100, lr=[0.1, 0.5], seed=[0, 1], epoch=4, log_every=0,
        plots="none", log_path=str(log), exp_name="rose", workers=1, report=False,
        verbose=False,
    )  # fmt: skip
    rep = report(log, exp_name="rose", verbose=False, figures=False)
    assert loss_rose_note(rep.runs) == ""  # every loss fell
    path = sorted((log / "rose").glob("*/result.json"))[2]
    record = json.loads(path.read_text())
    record["train_loss"] = 1e34
    path.write_text(json.dumps(record))
    rep = report(log, exp_name="rose", verbose=False, figures=False)
    first = record["train_losses"][0]
    note = loss_rose_note(rep.runs)
    assert note.startswith(
        f"1 finished run(s) ended with a training loss above their first (e.g. "
        f"{record['run_id']}: {first:.4g} to 1e+34): "
    ), note
    assert html.escape(note) in (log / "rose" / "report.html").read_text(encoding="utf-8")


def test_finished_runs_that_learnt_nothing_are_named(tmp_path: Path) -> None:
    """A sweep of depths had its deep sigmoid runs stuck at chance, said nowhere (`mlplab
    train` notes one): the report names them, by the training balanced accuracy against
    1 / classes, and a regression's by its training R² about 0 or below."""
    from mlplab.reports.api import chance_note

    log = tmp_path / "runs"
    kw = dict(data="iris", act="sigmoid", hid_dim=8, log_every=0, plots="none",
              log_path=str(log), exp_name="depth", workers=1, report=False, verbose=False)  # fmt: skip
    sweep(n_layer=[8], optim="sgd", lr=0.1, epoch=10, **kw)  # stuck at chance
    sweep(n_layer=[1], optim="adam", lr=0.05, epoch=30, **kw)  # learns
    rep = report(log, exp_name="depth", verbose=False, figures=False)
    stuck = rep.runs[rep.runs["n_layer"] == 8].iloc[0]
    assert stuck["n_classes"] == 3 and stuck["train_bacc"] <= 1 / 3 + 0.01
    note = chance_note(rep.runs)
    assert note.startswith(
        f"1 finished run(s) learnt nothing: their training balanced accuracy ended at chance or "
        f"below, as answering one class for every row scores chance (e.g. {stuck['run_id']}: "
        f"{stuck['train_bacc']:.4g} of 3 classes)"
    ), note
    assert html.escape(note) in (log / "depth" / "report.html").read_text(encoding="utf-8")
    # A record from before n_classes was kept: a multiclass run's chance is unknown.
    assert chance_note(rep.runs.drop(columns="n_classes")) == ""
    binary = rep.runs.assign(task_type="binary", train_bacc=[0.5, 0.9], n_classes=np.nan)
    assert chance_note(binary).startswith("1 finished run(s)")
    # The logic gates' 4 rows (the perceptron lab learns nothing of XOR by design): no
    # note, as `mlplab train` gives none.
    assert chance_note(binary.assign(n_train=4)) == ""
    regression = pd.DataFrame({"status": "finished", "task_type": "regression",
                               "run_id": ["a", "b"], "train_r2": [-12.4, 0.8]})  # fmt: skip
    assert "(e.g. a: R² -12.4)" in chance_note(regression)
    assert "about 0 or below (predicting the mean scores 0)" in chance_note(regression)


def test_finished_runs_whose_validation_loss_rose_are_named(tmp_path: Path) -> None:
    """A run that overfits ends with its last model, whose metrics the tables hold: the
    report said nothing of the far better model its best checkpoint keeps."""
    from mlplab.reports.api import val_rose_note

    log = tmp_path / "runs"
    kw = dict(n_layer=2, hid_dim=64, validate_every=10, log_every=0, plots="none",
              log_path=str(log), workers=1, report=False, verbose=False)  # fmt: skip
    kw_adam = dict(optim="adam", lr=0.02, **kw)
    sweep(data="moons", n_samples=80, noise=[0.1], epoch=20, exp_name="ov", **kw_adam)
    assert val_rose_note(report(log, exp_name="ov", verbose=False, figures=False).runs) == ""
    # Noisy moons, 64 rows: the validation loss is lowest near epoch 10, and ends far above.
    sweep(data="moons", n_samples=80, noise=[0.8], epoch=200, exp_name="ov", **kw_adam)
    rep = report(log, exp_name="ov", verbose=False, figures=False)
    over = rep.runs[rep.runs["noise"] == 0.8].iloc[0]
    assert over["val_loss"] > 2 * over["best_val_loss"]
    note = val_rose_note(rep.runs)
    assert note.startswith(
        f"1 finished run(s) ended with a validation loss more than 10% above their lowest "
        f"(e.g. {over['run_id']}: {over['best_val_loss']:.4g} at epoch {over['best_epoch']}, "
        f"{over['val_loss']:.4g} at the end): "
    ), note
    assert html.escape(note) in (log / "ov" / "report.html").read_text(encoding="utf-8")
    assert note.endswith("--patience stops a run once its validation loss stops falling")
    # Stopped by patience already: the note does not advise it.
    sweep(data="moons", n_samples=80, noise=[0.8], epoch=200, patience=3, exp_name="pat",
          **kw_adam)  # fmt: skip
    pat = report(log, exp_name="pat", verbose=False, figures=False).runs
    assert pat["stopped_early"].all() and (pat["val_loss"] > 1.1 * pat["best_val_loss"]).all()
    assert val_rose_note(pat).endswith("checkpoints/best.safetensors keeps its best model")
    # The gates validate on their training rows: a rise there is no overfitting.
    sweep(data="xor", optim="sgd", lr=[50.0], epoch=30, exp_name="gate", **kw)
    gate = report(log, exp_name="gate", verbose=False, figures=False).runs
    assert (gate["val_loss"] > 1.1 * gate["best_val_loss"]).all()
    assert val_rose_note(gate) == ""


# The page's figures draw the edited name too, whose escape character has no glyph.
@pytest.mark.filterwarnings("ignore:Glyph")
def test_names_from_files_print_as_text_not_markup_or_terminal_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data path with brackets (`d[/red].csv`) was read as rich markup: the report, and a
    sweep once every run had trained, ended in a traceback. A record's text with terminal
    codes (edited by hand, or handed over) retitled and cleared the terminal."""
    folder = tmp_path / "d["
    folder.mkdir()
    data = folder / "red].csv"
    rows = ["a,b,y"] + [f"{i % 7},{i % 5},{i % 2}" for i in range(40)]
    data.write_text("\n".join(rows) + "\n")
    log = tmp_path / "runs"
    sweep(
        data=str(data), lr=[0.1, 0.2], epoch=2, log_every=0, plots="none",
        log_path=str(log), exp_name="br", workers=1, verbose=True,
    )  # fmt: skip
    printed = "".join(capsys.readouterr().out.split())
    assert "".join(str(data).split()) in printed  # the fixed settings name the file
    path = sorted((log / "br").glob("*/result.json"))[0]
    record = json.loads(path.read_text())
    record["data"] = "\x1b]0;PWNED\x07\x1b[2Jmoons"
    # A note that names the run (its training loss rose): notes print what records say.
    record["run_id"] = "br-\x1b[2J"
    record["train_loss"] = 1e34
    path.write_text(json.dumps(record))
    (path.parent.parent / "br-\x1b[31m" / "result.json").parent.mkdir()
    (path.parent.parent / "br-\x1b[31m" / "result.json").write_text("{")  # named as skipped
    report(log, exp_name="br", verbose=True)
    said = capsys.readouterr()
    out = said.out + said.err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;PWNED\\x07\\x1b[2Jmoons" in "".join(out.split())
    assert "(e.g. br-\\x1b[2J: " in out and "br-\\x1b[31m" in out


def test_a_table_ranked_by_accuracy_names_the_best_by_balanced_accuracy() -> None:
    """class_weight none against balanced on a 1% class: the report ranked none first by
    val_acc and said nothing of --rank_by val_bacc, by which balanced was first."""
    from mlplab.reports.api import Section, report_notes

    summary = pd.DataFrame(
        {
            "rank": [1, 2],
            "class_weight": ["none", "balanced"],
            "n": [2, 2],
            "val_acc_mean": [0.965, 0.90],
            "val_bacc_mean": [0.7268, 0.8030],
            "test_acc_mean": [0.96, 0.91],
            "test_bacc_mean": [0.71, 0.80],
            "repeats": [0, 0],
        }
    )
    runs = pd.DataFrame({"status": ["finished"] * 4})
    sec = Section("cw", "classification", runs, summary, ["class_weight"], "val_acc")
    notes = report_notes([sec], summary, runs, None)
    assert (
        "rank 2 has the best val_bacc (0.803, rank 1 0.7268): the classes are unequal, and "
        "accuracy counts the common one most; --rank_by val_bacc ranks by every class"
    ) in notes
    # Ranked by val_bacc, or where the first is also the best by it: nothing to say.
    by_bacc = Section("cw", "classification", runs, summary, ["class_weight"], "val_bacc")
    assert not any("best val_bacc" in n for n in report_notes([by_bacc], summary, runs, None))
    same = summary.assign(val_bacc_mean=[0.81, 0.80])
    sec = Section("cw", "classification", runs, same, ["class_weight"], "val_acc")
    assert not any("best val_bacc" in n for n in report_notes([sec], same, runs, None))


def test_a_sweep_over_data_seed_says_its_ranks_cross_splits(tmp_path: Path, capsys) -> None:
    """Swept as the README suggests, data_seed made each split a config of its own, ranked
    on its own validation rows: rank 1 named the luckiest split, and the footnote still
    said every seed of a config trains on the same split."""
    sweep(
        data="moons", n_samples=120, lr=[0.05, 0.5], data_seed=[0, 1], seed=[0, 1], epoch=5,
        log_every=0, plots="none", log_path=str(tmp_path), exp_name="ds", workers=1,
        report=False, verbose=False,
    )  # fmt: skip
    rep = report(tmp_path, exp_name="ds")
    out = capsys.readouterr().out
    assert "ds (classification) ranks configs of different splits against each other " in out
    assert "(data_seed is swept, and the rows differ)" in out
    assert "every seed of a config trains on the same split" not in out
    assert "each config's seeds train on its own split (data_seed)" in out
    import html

    page = html.unescape(rep.html_path.read_text())
    assert "every seed of a config trains on the same split" not in page
    # One split alone: the note is not said, and the footnote is the usual one.
    sweep(
        data="moons", n_samples=120, lr=[0.05, 0.5], seed=[0, 1], epoch=5, log_every=0,
        plots="none", log_path=str(tmp_path), exp_name="one", workers=1, report=False,
        verbose=False,
    )  # fmt: skip
    report(tmp_path, exp_name="one")
    out = capsys.readouterr().out
    assert "data_seed is swept" not in out and "every seed of a config trains on the same" in out


def test_the_different_splits_note_follows_the_rows_used(tmp_path: Path, capsys) -> None:
    """The note keyed on the name data_seed: a sweep over stratify (or noise) scored its
    configs on other rows without a word, under a footnote that said every seed shares a
    split; data_seed beside split_by, which changes no row, got the note (it is refused now,
    and a split_by sweep over seeds alone gets the shared-split footnote)."""
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    df["y"] = np.where(np.arange(n) % 8 == 0, "b", "a")
    df["part"] = np.where(np.arange(n) < 80, "train", np.where(np.arange(n) < 100, "val", "test"))
    path = tmp_path / "imb.csv"
    df.to_csv(path, index=False)
    common = {
        "data": str(path), "target": "y", "epoch": 2, "seed": [0, 1], "log_every": 0,
        "plots": "none", "log_path": str(tmp_path / "runs"), "workers": 1, "report": False,
        "verbose": False,
    }  # fmt: skip
    sweep(**common, ignore="part", stratify=[True, False], exp_name="st")
    report(tmp_path / "runs", exp_name="st")
    out = capsys.readouterr().out
    assert "ranks configs of different splits against each other (stratify is swept" in out
    assert "every seed of a config trains on the same split" not in out
    sweep(**common, split_by="part", exp_name="sb")
    report(tmp_path / "runs", exp_name="sb")
    out = capsys.readouterr().out
    assert "different splits" not in out
    # The column set the split, not data_seed (which split_by leaves unused).
    assert "every seed of a config trains on the same split (split_by part)" in " ".join(
        out.split()
    )
    mixed = shared_split_note(pd.DataFrame({"split_by": [None, "part"]}))
    assert "trains on the same split (data_seed, or split_by part)" in mixed
    common |= {"data": "moons", "target": None, "n_samples": 80}
    sweep(**common, noise=[0.1, 0.3], exp_name="nz")
    report(tmp_path / "runs", exp_name="nz")
    out = capsys.readouterr().out
    assert "ranks configs of different rows against each other (noise is swept" in out
    assert "every seed of a config trains on the same split" not in out


def test_a_report_on_an_ascii_stdout_writes_plus_minus_not_question_marks(tmp_path: Path) -> None:
    """On an ASCII stdout, "mean ± std" and each "0.91 ± 0.02" printed as "0.91 ? 0.02", and
    the rank of a config with no finished run, a dash, as "?"."""
    import os
    import subprocess
    import sys

    sweep(data="xor", lr=[0.5, 1.0, 1e4], seed=[0, 1], epoch=3, act="relu", n_layer=3,
          hid_dim=64, log_every=0, plots="none", log_path=str(tmp_path), workers=1,
          report=False, verbose=False)  # fmt: skip
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(tmp_path), "--out", str(tmp_path / "r")],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("ascii")
    assert "mean +/- std over seeds" in out and " +/- 0." in out, out
    assert "|    - | 10000" in out and "?" not in out, out  # the diverged lr's rank


def test_a_regression_ranks_by_val_rmse_and_older_records_get_theirs(tmp_path: Path, capsys):
    """RMSE, the usual headline number of a regression (hydrology's, scikit-learn's
    ``root_mean_squared_error``), is in every regression record and ranks with
    ``--rank_by val_rmse``; a one-target record written before it gets the root of its MSE."""
    from mlplab.cli import main

    sweep(
        data="sinlog", n_samples=120, lr=[0.03, 0.001], epoch=4, seed=[0, 1], log_every=0,
        plots="none", log_path=str(tmp_path / "runs"), exp_name="reg", workers=1,
        report=False, verbose=False,
    )  # fmt: skip
    files = sorted((tmp_path / "runs" / "reg").glob("*/result.json"))
    for file in files:
        rec = json.loads(file.read_text())
        for split in ("train", "val", "test"):
            assert rec[f"{split}_rmse"] == pytest.approx(math.sqrt(rec[f"{split}_mse"]))
    older = json.loads(files[0].read_text())
    rmse = older.pop("val_rmse")
    files[0].write_text(json.dumps(older))  # as mlplab wrote it before RMSE
    rep = report(
        tmp_path / "runs", out=tmp_path / "a", verbose=False, figures=False, rank_by="val_rmse"
    )
    assert rep.metric == "val_rmse"
    means = rep.summary["val_rmse_mean"].tolist()
    assert means == sorted(means) and not rep.summary["val_rmse_mean"].isna().any()
    assert rep.summary["n"].tolist() == [2, 2]  # the older run counted in its config's mean
    ran = rep.runs.set_index("run_dir").loc[str(files[0].parent.absolute()), "val_rmse"]
    assert ran == pytest.approx(rmse)
    assert {"val_rmse", "test_rmse"} <= set(pd.read_csv(tmp_path / "a" / "results.csv").columns)
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "b"),
                 "--rank_by", "val_rmse"]) == 0  # fmt: skip
    assert "ranked by val_rmse" in " ".join(capsys.readouterr().out.split())


def test_an_estimators_val_equals_test_rows_are_not_quoted_as_a_test(tmp_path: Path) -> None:
    """An estimator's record scores test on its validation_fraction rows (val = test): the
    report told the user to quote its test_acc "of rows that chose nothing", said
    "240/60/60 rows", and of validation_fraction=0 contradicted itself in two notes."""
    import warnings

    from mlplab import MLPClassifier
    from mlplab.reports.api import CHOSEN_FROM

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.7 * rng.normal(size=300) > 0).astype(int)
    log = tmp_path / "runs"
    for fraction, exp in ((0.2, "sk"), (0.0, "sk0")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = MLPClassifier(
                hid_dim=2, epoch=2, lr=0.01, random_state=0, validation_fraction=fraction,
                log_path=str(log), exp_name=exp,
            ).fit(X, y)  # fmt: skip
        record = json.loads((est.run_dir_ / "result.json").read_text())
        for h in range(3, 2 + CHOSEN_FROM):  # the other configs' records, as their fits write
            (log / exp / f"{exp}-{h}").mkdir()
            (log / exp / f"{exp}-{h}" / "result.json").write_text(
                json.dumps({**record, "hid_dim": h, "run_id": f"{exp}-{h}"})
            )
    rep = report(log, exp_name="sk", verbose=False, figures=False)
    page = html.unescape(rep.html_path.read_text())
    assert "of rows that chose nothing" not in page
    assert "240/60 rows train/val (= test)" in page and "240/60/60" not in page
    assert f"{CHOSEN_FROM} run(s) (e.g. " in page
    assert "scored test on their validation rows (val = test" in page
    rep = report(log, exp_name="sk0", verbose=False, figures=False)
    page = html.unescape(rep.html_path.read_text())
    assert "of rows that chose nothing" not in page
    assert "300 rows: train = val = test" in page
    assert "scored val and test on the rows they trained on" in page


def test_every_property_of_a_report_says_what_it_is() -> None:
    """help(mlplab.Report) listed runs, summary, best_run, ... with no word of each."""
    for name in ("runs", "summary", "best_run", "variables", "kind", "metric"):
        assert getattr(Report, name).__doc__, name
    assert "load_run" in (Report.best_run.__doc__ or "")


def test_each_column_of_the_table_is_in_one_number_form(tmp_path: Path) -> None:
    """A CI column read [0.0000, 0.02836] above [7.575e-04, 2.829e-02]: one row's number
    below 0.001 put that row in scientific form alone. Now its whole column is."""
    import dataclasses

    from mlplab.reports.api import table_rows

    log = tmp_path / "runs"
    sweep(data="xor", epoch=2, lr=[0.1, 0.2], seed=[0, 1], plots="none", log_path=str(log),
          workers=1, report=False, verbose=False)  # fmt: skip
    (sec,) = report(log, verbose=False, figures=False).sections
    summary = sec.summary.copy()
    m = sec.metric
    summary[f"{m}_ci_low"] = [0.0, 7.575e-4]
    summary[f"{m}_ci_high"] = [0.02836, 0.02829]
    summary[f"{m}_mean"] = [0.5, 5e-4]
    summary[f"{m}_std"] = [0.1, 1e-4]
    header, rows = table_rows(dataclasses.replace(sec, summary=summary))
    ci = [row[header.index(next(h for h in header if h.startswith("95% CI")))] for row in rows]
    assert ci == ["[0, 2.836e-02]", "[7.575e-04, 2.829e-02]"]
    means = [row[header.index(m)] for row in rows]
    assert means == ["5.000e-01 ± 1.000e-01", "5.000e-04 ± 1.000e-04"]
    # A column of numbers of one scale keeps the plain form.
    header, rows = table_rows(sec)
    assert "e-" not in " ".join(row[header.index(m)] for row in rows)


def test_results_csv_has_every_metric_column_and_no_rank_for_a_config_none_finished(
    tmp_path: Path,
) -> None:
    """With no run finished, results.csv had no test metric columns (row["test_mse"] failed
    in a grader's script), and a diverged run alone in its section had rank 1 there, where
    the printed table shows "–"."""
    log = tmp_path / "runs"
    mlplab.train(data="sinlog", lr=1e30, epoch=3, plots="none", log_every=0,
                 log_path=str(log), verbose=False)  # fmt: skip
    rep = report(log, verbose=False, figures=False)
    table = pd.read_csv(rep.csv_path)
    assert table["status"].tolist() == ["diverged"]
    for split in ("train", "val", "test"):
        for m in ("loss", "mse", "mae", "rmse", "r2"):
            assert f"{split}_{m}" in table, f"{split}_{m}"
    assert table["rank"].isna().all()
    # A finished config keeps its rank, as an integer.
    mlplab.train(data="sinlog", lr=0.01, epoch=3, plots="none", log_every=0,
                 log_path=str(log), verbose=False)  # fmt: skip
    table = pd.read_csv(report(log, verbose=False, figures=False).csv_path)
    ranks = dict(zip(table["status"], table["rank"], strict=True))
    assert ranks["finished"] == 1 and pd.isna(ranks["diverged"])


def test_whole_number_settings_are_whole_numbers_in_the_csvs(tmp_path: Path) -> None:
    """A sweep over --model linear mlp: n_layer and hid_dim (blank for the linear rows) came
    out as 1.0 and 2.0 in results.csv and summary.csv, and 200.000 in a LaTeX table."""
    import mlplab

    mlplab.sweep(data="xor", model=["linear", "mlp"], hid_dim=2, epoch=5, log_every=0,
                 plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    rep = report(tmp_path, verbose=False, figures=False)
    for path in (rep.csv_path, rep.summary_path):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert "2" in set(table["hid_dim"]) and "1" in set(table["n_layer"]), path.name
        for column in ("hid_dim", "n_layer"):
            assert not any(v.endswith(".0") for v in table[column]), (path.name, column)
