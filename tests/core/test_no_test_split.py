"""A run without a test split: a Kaggle-style user's labelled train.csv, all of it trained
or validated on (`--split 0.9 0.1 0`), whose test rows are an unlabelled test.csv of its
own. mlplab refused such a split, and a tenth of the labelled rows went to a test split
that was never used."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlplab
from mlplab import runner as run_mod
from mlplab.data import load_dataset
from mlplab.errors import ConfigError, DataError
from mlplab.reports.collect import record_damage
from mlplab.training.events import Step


def _labelled(tmp_path: Path, n: int = 200) -> str:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    label = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path = tmp_path / "train.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": label}).to_csv(
        path, index=False
    )
    return str(path)


@pytest.mark.parametrize(
    ("split", "sizes"),
    [
        ((0.9, 0.1, 0), (180, 20, 0)),
        ((1800, 200, 0), None),  # counts: of a 2000-row file
        ((0.8, 0.2), (160, 40, 0)),  # two ratios adding up to 1: the rest is none
        ((0.5, 0.5, 0), (100, 100, 0)),
    ],
)
def test_a_split_of_no_test_rows_trains_on_every_labelled_row(tmp_path, split, sizes):
    n = 2000 if sizes is None else 200
    ds = load_dataset(_labelled(tmp_path, n), split=split)
    got = (len(ds.X_train), len(ds.X_val), len(ds.X_test))
    assert got == (sizes or (1800, 200, 0))
    assert not ds.has_test and ds.X_test.shape == (0, 3) and ds.y_test.shape == (0, 1)
    assert ds.n_rows == n  # every row is a training or validation row


def test_rounding_leaves_no_row_to_a_test_split_that_was_asked_to_be_empty(tmp_path):
    # 0.5 0.5 0 of 5 rows: 2 and 2, and the row rounding leaves goes to validation.
    ds = load_dataset(_labelled(tmp_path, 5), split=(0.5, 0.5, 0), task="regression", target="a",
                      ignore="label")  # fmt: skip
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (2, 3, 0)
    # Two ratios that add up to less than 1 still give the rest to test, and refuse none.
    with pytest.raises(ConfigError, match=r"\(10 rows -> 9/1/0\)"):
        load_dataset(_labelled(tmp_path, 10), split=(0.9, 0.09))


def test_train_and_val_still_need_a_row_each(tmp_path):
    path = _labelled(tmp_path, 10)
    with pytest.raises(ConfigError, match=r"leaves an empty set .*\(10 rows -> 10/0/0\)"):
        load_dataset(path, split=(1.0, 0, 0))
    with pytest.raises(ConfigError, match=r"leaves an empty set .*\(10 rows -> 0/10/0\)"):
        load_dataset(path, split=(0, 1.0, 0))
    with pytest.raises(ConfigError, match="train, val and test need one each, so 3 rows"):
        load_dataset("moons", n_samples=1, split=(0.5, 0.5, 0))


def test_a_split_by_column_without_test_rows_trains_on_the_others(tmp_path):
    df = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) % 3})
    df.assign(fold=["train"] * 24 + ["val"] * 6).to_csv(tmp_path / "f.csv", index=False)
    ds = load_dataset(str(tmp_path / "f.csv"), target="y", split_by="fold", task="regression")
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (24, 6, 0)
    df.assign(fold=["train"] * 30).to_csv(tmp_path / "nv.csv", index=False)
    with pytest.raises(DataError, match="column 'fold' names no val row; train and val need"):
        load_dataset(str(tmp_path / "nv.csv"), target="y", split_by="fold")


def test_a_run_without_test_rows_says_so_where_test_numbers_would_be(tmp_path, capsys):
    r = mlplab.train(data=_labelled(tmp_path), split=[0.9, 0.1, 0], epoch=3, plots="none",
                     log_path=str(tmp_path / "runs"))  # fmt: skip
    out = capsys.readouterr().out
    assert r.status == "finished"
    # The console's table: a test row that says it has none, not blank cells or NaN.
    (row,) = [line for line in out.splitlines() if "test" in line and "│" in line]
    assert "test (no rows)" in row and row.count("–") == 2 and "nan" not in row.lower()
    # result.json: the test metrics are left out, and n_test says why.
    record = json.loads((r.run_dir / "result.json").read_text())
    assert record["n_test"] == 0 and record["n_train"] == 180 and record["n_val"] == 20
    assert not [k for k in record if k.startswith("test_") and k != "test_batch_size"]
    assert record_damage(record) is None  # a report counts it as a finished run
    # A record of a run with test rows that lacks them is still one a report leaves out.
    assert "'test_loss' is missing" in (record_damage({**record, "n_test": 5}) or "")
    # The Result: its metrics, repr and notebook view.
    assert not [k for k in r.metrics if k.startswith("test_")] and "val_acc" in r.metrics
    assert "no test rows (val_loss=" in repr(r)
    assert "<td>test (no rows)</td><td>–</td>" in r._repr_html_()
    # Loaded again, as a notebook or `mlplab predict` has it, best checkpoint included.
    best = mlplab.load_run(r.run_dir, which="best")
    assert not best.dataset.has_test and "no test rows" in repr(best)
    assert not [k for k in best.metrics if k.startswith("test_")]


def test_a_kept_run_without_test_rows_names_its_validation_score(tmp_path, capsys):
    kw = dict(data=_labelled(tmp_path), split=[0.9, 0.1, 0], epoch=3, plots="none",
              log_path=str(tmp_path / "runs"))  # fmt: skip
    mlplab.train(**kw)
    capsys.readouterr()
    mlplab.train(**kw)
    assert "already holds this config's finished run (val_acc " in capsys.readouterr().out


def test_a_regression_without_test_rows_keeps_its_notes_on_validation(tmp_path, capsys):
    """The notes that judge a test score (a model no better than the mean, a target whose
    scale kept it from fitting) judge the validation rows of a run without test rows."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(300, 2))
    y = 1e6 + 1e5 * x[:, 0]  # a target far from order 1
    path = tmp_path / "price.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "price": y}).to_csv(path, index=False)
    r = mlplab.train(data=str(path), split=[0.8, 0.2], epoch=30, plots="none",
                     log_path=str(tmp_path / "runs"))  # fmt: skip
    assert r.record["n_test"] == 0
    notes = " ".join(r.notes)
    assert "standardize_target=True" in notes and "the test R²" not in notes


def test_an_imbalanced_classifier_without_test_rows_is_judged_on_validation(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 2))
    label = np.where(rng.random(400) < 0.9, "common", "rare")  # no feature tells them apart
    path = tmp_path / "rare.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": label}).to_csv(path, index=False)
    r = mlplab.train(data=str(path), split=[0.75, 0.25, 0], epoch=50, optim="adam",
                     plots="none", verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    assert any(n.startswith("validation accuracy ") for n in r.notes), r.notes


def test_a_run_without_test_rows_resumes_and_writes_no_test_scalars(tmp_path, monkeypatch):
    original = run_mod.wire_subscribers

    def with_stop(*args, **kwargs):
        writer, tb, subs = original(*args, **kwargs)

        def stop(event):
            if isinstance(event, Step) and event.step == 7:
                signal.raise_signal(signal.SIGINT)

        return writer, tb, [*subs, stop]

    monkeypatch.setattr(run_mod, "wire_subscribers", with_stop)
    kw = dict(data=_labelled(tmp_path), split=[0.9, 0.1, 0], epoch=4, batch_size=45,
              save_every=1, log_every=1, plots="none", verbose=False)  # fmt: skip
    res = mlplab.train(log_path=str(tmp_path / "runs"), handle_signals=True, **kw)
    monkeypatch.undo()
    assert res.status == "interrupted"
    done = mlplab.train(resume=res.run_dir, verbose=False, handle_signals=True)
    assert done.status == "finished" and done.record["n_test"] == 0
    assert "val_acc" in done.metrics and not any(k.startswith("test_") for k in done.metrics)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(done.run_dir))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "hparam/val_acc" in tags and not [t for t in tags if t.startswith("hparam/test")]


def test_a_sweep_of_stacked_runs_without_test_rows(tmp_path, capsys):
    from mlplab.sweeps.api import sweep

    base = {"data": _labelled(tmp_path), "split": [0.9, 0.1, 0], "epoch": 3, "plots": "none",
            "lr": [0.01, 0.1], "seed": [0, 1], "log_path": str(tmp_path / "runs")}  # fmt: skip
    res = sweep(base)
    assert res.exit_code == 0 and len(res.outcomes) == 4
    assert all("val_acc" in o["metrics"] and "test_acc" not in o["metrics"] for o in res.outcomes)
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json")]
    assert len(records) == 4 and {r["n_test"] for r in records} == {0}
    out = capsys.readouterr().out
    assert "– test: no test rows" in out and "nan" not in out.lower()
    # Its summary.csv has the test columns, empty (a script reads every sweep's alike):
    # it had none, and s["test_acc_mean"] raised KeyError.
    import pandas as pd

    summary = pd.read_csv(next((tmp_path / "runs").rglob("summary.csv")))
    for column in ("test_acc_mean", "test_acc_ci_low", "test_loss_std", "test_f1_ci_high"):
        assert column in summary and summary[column].isna().all()
    assert summary["val_acc_mean"].notna().all()


def test_predict_works_for_a_run_without_test_rows(tmp_path, run_cli):
    r = mlplab.train(data=_labelled(tmp_path), split=[0.8, 0.2], epoch=3, plots="none",
                     verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    new = pd.read_csv(tmp_path / "train.csv").drop(columns="label").head(4)
    new.to_csv(tmp_path / "test.csv", index=False)
    proc = run_cli("predict", r.run_dir, "--data", tmp_path / "test.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "predicted,p_no,p_yes"
    assert len(proc.stdout.splitlines()) == 5


def test_the_estimators_keep_their_own_validation_rows_as_test(tmp_path):
    """The scikit-learn estimators' record keeps its validation rows as its test split."""
    from mlplab.sklearn import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(epoch=3, validation_fraction=0.2, random_state=0,
                        log_path=str(tmp_path / "runs")).fit(X, y)  # fmt: skip
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json")]
    assert record["n_test"] == record["n_val"] == 24 and "test_acc" in record
    assert clf.score(X, y) >= 0


def test_the_readme_and_the_split_settings_help_say_how(run_cli):
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    part = readme.split("**No test split.**")[1].split("###")[0]
    assert "--split 0.9 0.1 0" in part and "test.csv" in part and "mlplab predict" in part
    help_text = " ".join(run_cli("train", "--help").stdout.split())
    assert "a test size of 0 (0.9 0.1 0, or two ratios adding up to 1)" in help_text
    assert "no test row is a run without a test split" in help_text


def test_per_class_of_a_run_without_test_rows_names_the_splits_it_has(tmp_path):
    r = mlplab.train(data=_labelled(tmp_path), split=[0.9, 0.1, 0], epoch=3, plots="none",
                     verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    with pytest.raises(DataError, match=r"^per_class: this run has no test rows .*split='val'"):
        r.per_class()
    assert r.per_class("val")["rows"].sum() == 20


@pytest.mark.parametrize("split", [[300, 0, 0], [1.0, 0.0], [1.0, 0.0, 0.0]])
def test_a_split_without_val_rows_says_test_may_have_none(split):
    """It said each split needs a row and suggested one for test: --split 298 1 1."""
    with pytest.raises(
        ConfigError,
        match=r"train and val need one row or more each \(test may have none\), for example, --split 270 30 0",
    ):
        load_dataset("moons", n_samples=300, split=split)
