"""``mlplab predict RUN_DIR --data FILE``: a run's predictions for new rows, as a CSV."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import assert_one_line_error
from mlplab.runner import train
from mlplab.training.metrics import probabilities


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    log = tmp_path_factory.mktemp("runs")
    res = train(data="iris", epoch=60, plots="none", verbose=False, log_path=str(log))
    rows = tmp_path_factory.mktemp("new") / "new.csv"
    # Raw (unstandardized) rows with the run's feature names, the target left in.
    raw = res.dataset.X_test if res.dataset.scaler is None else None
    if raw is None:
        mean, std = res.dataset.scaler
        raw = res.dataset.X_test * std + mean
    df = pd.DataFrame(raw, columns=res.dataset.feature_names)
    df["target"] = "anything"
    df.to_csv(rows, index=False)
    return res, rows, raw


def test_predict_writes_class_names_and_probabilities(iris_run, run_cli, tmp_path):
    res, rows, raw = iris_run
    out = tmp_path / "preds.csv"
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", out)
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(out)
    assert list(preds.columns) == ["predicted", *(f"p_{c}" for c in res.dataset.class_names)]
    assert preds["predicted"].tolist() == list(res.predict_labels(raw))
    np.testing.assert_allclose(preds.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-6)


def test_predictions_in_python_take_a_path_and_send_a_dataframe_to_predict(iris_run):
    """predictions(run, df) failed deep in the reading with "unhashable type: 'DataFrame'",
    and a pathlib.Path with "'PosixPath' object has no attribute 'lower'"."""
    from mlplab.errors import ConfigError
    from mlplab.predict import predictions

    res, rows, _ = iris_run
    by_path = predictions(res.run_dir, rows, quiet=True)
    assert by_path.equals(predictions(str(res.run_dir), str(rows), quiet=True))
    frame = pd.read_csv(rows)
    with pytest.raises(ConfigError) as err:
        predictions(res.run_dir, frame)
    assert str(err.value) == (
        "predictions: data= is a data file's path, not a DataFrame; rows in memory (a "
        "DataFrame of the run's columns) go to mlplab.load_run(run_dir).predict(rows), or "
        ".predict_labels and .predict_proba"
    )
    from mlplab import load_run

    labels = load_run(res.run_dir).predict_labels(frame[res.dataset.feature_names])
    assert list(labels) == by_path["predicted"].tolist()


def test_predict_prints_regression_values(run_cli, tmp_path):
    res = train(data="sinlog", epoch=20, plots="none", verbose=False, log_path=str(tmp_path))
    X = np.array([[1.0, 2.0], [5.0, 7.5]])
    pd.DataFrame(X, columns=res.dataset.feature_names).to_csv(tmp_path / "x.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "x.csv")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == ",".join(res.dataset.target_names)
    np.testing.assert_allclose([float(v) for v in lines[1:]], res.predict(X)[:, 0], rtol=1e-6)


def test_keep_copies_columns_beside_the_predictions(iris_run, run_cli, tmp_path):
    """Predictions could be matched to their rows by position alone unless the run had
    been trained with the id ignored (an estimator's record never is), and a labelled
    file's true target could not be set beside them."""
    res, rows, raw = iris_run
    df = pd.read_csv(rows)
    df.insert(0, "id", [f"{i:05d}" for i in range(len(df))])
    df.to_csv(tmp_path / "ids.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "ids.csv", "--keep", "id",
                   "target", res.dataset.feature_names[0])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = ["id", "target", res.dataset.feature_names[0], "predicted"]
    assert lines[0].split(",")[:4] == head
    assert [ln.split(",")[0] for ln in lines[1:4]] == ["00000", "00001", "00002"]  # as written
    assert [ln.split(",")[3] for ln in lines[1:]] == list(res.predict_labels(raw))
    # Bad names: one line each, exit 2, naming the column and the file's columns.
    for name, needle in [("ID", "case-sensitive: it has 'id'"), ("nope", "has no such column")]:
        bad = run_cli("predict", res.run_dir, "--data", tmp_path / "ids.csv", "--keep", name)
        assert bad.returncode == 2 and needle in bad.stderr and f"--keep {name!r}" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stdout == ""


def test_a_regression_kept_beside_its_target_names_its_prediction(run_cli, tmp_path):
    """A regression's prediction is named as its target: beside the true value kept from
    the file, two columns had one name."""
    res = train(data="sinlog", epoch=5, plots="none", verbose=False, log_path=str(tmp_path))
    (target,) = res.dataset.target_names
    X = np.array([[1.0, 2.0], [5.0, 7.5]])
    df = pd.DataFrame(X, columns=res.dataset.feature_names)
    df[target] = [0.25, 0.75]
    df.to_csv(tmp_path / "x.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "x.csv", "--keep", target)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(__import__("io").StringIO(proc.stdout))
    assert list(got.columns) == [target, f"predicted_{target}"]
    assert got[target].tolist() == [0.25, 0.75]
    np.testing.assert_allclose(got[f"predicted_{target}"], res.predict(X)[:, 0], rtol=1e-6)


def test_an_earlier_predictions_columns_kept_rename_every_new_one(run_cli, tmp_path):
    """Keeping an earlier prediction's `predicted` and `p_1` renamed those two new columns
    alone: `p_*` then picked the old p_1 beside the new p_0."""
    res = train("examples/xor_nn.yaml", epoch=5, plots="none", verbose=False,
                log_path=str(tmp_path))  # fmt: skip
    df = pd.DataFrame([[0, 1], [1, 1]], columns=res.dataset.feature_names)
    df = df.assign(predicted=["old", "old"], p_0=[0.5, 0.5], p_1=[0.5, 0.5])
    df.to_csv(tmp_path / "again.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "again.csv", "--keep",
                   "predicted", "p_1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    head = proc.stdout.splitlines()[0].split(",")
    assert head == ["predicted", "p_1", "predicted_predicted", "predicted_p_0", "predicted_p_1"]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("a,b\n1,2\n", "feature columns"),
        (None, "is not numeric"),
        ("", "empty"),
    ],
)
def test_bad_rows_are_one_line(iris_run, run_cli, tmp_path, table, needle):
    res, rows, _ = iris_run
    path = tmp_path / "bad.csv"
    if table is None:
        df = pd.read_csv(rows)
        df[res.dataset.feature_names[0]] = "x"
        df.to_csv(path, index=False)
    else:
        path.write_text(table)
    proc = run_cli("predict", res.run_dir, "--data", path, "--out", tmp_path / "p.csv")
    assert_one_line_error(proc, needle)
    assert not (tmp_path / "p.csv").exists()


def test_a_missing_value_is_named_by_its_column_and_row(iris_run, run_cli, tmp_path):
    res, rows, _ = iris_run
    df = pd.read_csv(rows)
    col = res.dataset.feature_names[1]
    df.loc[2, col] = np.nan
    df.to_csv(tmp_path / "na.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "na.csv")
    assert_one_line_error(proc, f"feature column {col!r} has NaN (a missing value) in data row 3")


def test_out_dash_prints_the_csv_and_writes_no_file(iris_run, run_cli, tmp_path):
    """--out - wrote a file named '-'; as Unix tools read it, it is standard output, which
    holds the CSV alone (the count goes to stderr)."""
    res, rows, raw = iris_run
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "-").exists()
    assert proc.stderr == f"{len(raw)} predictions -> standard output\n"
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert preds["predicted"].tolist() == list(res.predict_labels(raw))
    plain = run_cli("predict", res.run_dir, "--data", rows, cwd=tmp_path)
    assert plain.stdout == proc.stdout and plain.stderr == ""
    # A file of that name is still written when named as one.
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", "./-", cwd=tmp_path)
    assert proc.returncode == 0 and (tmp_path / "-").read_text() == plain.stdout


def test_out_must_be_a_csv_file_in_an_existing_folder(iris_run, run_cli, tmp_path):
    res, rows, _ = iris_run
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path)
    assert_one_line_error(proc, f"--out {str(tmp_path)!r} is a folder; give a file in it")
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / "no" / "p.csv")
    assert_one_line_error(proc, "does not exist; give a file in an existing folder")
    (tmp_path / "afile").write_text("x")  # a file where its folder should be: said so
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / "afile" / "p.csv")
    assert_one_line_error(proc, f"{str(tmp_path / 'afile')!r} is a file, not a folder")
    # CSV text under a Parquet name was written, and no Parquet reader could open it.
    for name in ("preds.parquet", "preds.NPZ"):
        proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / name)
        assert_one_line_error(
            proc, "predictions are written as CSV; give a .csv file (e.g. preds.csv)"
        )
        assert not (tmp_path / name).exists()


def test_out_never_overwrites_the_rows_and_names_itself(iris_run, run_cli, tmp_path):
    res, rows, _ = iris_run
    before = rows.read_bytes()
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", rows)
    assert_one_line_error(proc, "is the --data file")
    assert rows.read_bytes() == before
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", "/proc/preds.csv")
    line = assert_one_line_error(proc, "--out '/proc/preds.csv' cannot be written")
    assert ".tmp" not in line


def test_out_never_replaces_a_read_only_file(iris_run, run_cli, tmp_path):
    """The atomic rename replaced a file made read-only (0444) with the predictions, exit 0,
    and left it writable: a protected file is refused, for root too, as rm asks."""
    res, rows, _ = iris_run
    kept = tmp_path / "kept.csv"
    kept.write_text("keep\n")
    kept.chmod(0o444)
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", kept)
    assert_one_line_error(proc, "--out '" + str(kept) + "' cannot be written: Permission denied")
    assert kept.read_text() == "keep\n" and kept.stat().st_mode & 0o777 == 0o444


def test_out_writes_through_a_link_or_a_fifo_and_never_replaces_them(iris_run, run_cli, tmp_path):
    """A symbolic link keeps pointing at the file, which gets the predictions; a FIFO (as
    /dev/stdout or /dev/null) is written to, not replaced by a regular file."""
    res, rows, _ = iris_run
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    (tmp_path / "link.csv").symlink_to(real)
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / "link.csv")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link.csv").is_symlink()
    assert real.read_text().startswith("predicted,")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", fifo)
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0] == real.read_text()


def test_a_finished_run_without_its_last_checkpoint_says_it_predicts_with_the_best(
    run_cli, tmp_path
):
    res = train(data="moons", epoch=30, plots="none", verbose=False, log_path=str(tmp_path))
    X = pd.DataFrame([[0.0, 0.5], [1.0, -0.5]], columns=res.dataset.feature_names)
    X.to_csv(tmp_path / "x.csv", index=False)
    run_dir = shutil.copytree(res.run_dir, tmp_path / "copy")
    (run_dir / "checkpoints" / "last.safetensors").unlink()
    proc = run_cli("predict", run_dir, "--data", tmp_path / "x.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (  # one note, no Python warning beside it
        f"mlplab: note: {run_dir}/checkpoints/last.safetensors is missing or unreadable; "
        "predicting with its best model\n"
    )
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "x.csv")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # In Python, load_run says so too (it said nothing), and plot as one note.
    from mlplab.restore import load_run

    with pytest.warns(UserWarning, match=r"last.safetensors is missing: load_run gives") as w:
        loaded = load_run(run_dir, data=False)
    assert [x.filename for x in w] == [__file__]  # the warning names the user's line
    assert loaded.checkpoint_meta["loop"]["epoch"] == res.record["best_epoch"]
    proc = run_cli("plot", run_dir, "--out", tmp_path / "pictures")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "last.safetensors" in line]
    assert notes == [
        f"mlplab: note: {run_dir}/checkpoints/last.safetensors is missing: load_run gives "
        "the run's best model (best.safetensors), which predicts otherwise than its last"
    ]


def test_quiet_prints_the_predictions_and_errors_alone(iris_run, run_cli, tmp_path):
    """`predict --quiet`, as train's and sweep's: no note, no count; an error still prints."""
    res, rows, raw = iris_run
    run_dir = shutil.copytree(res.run_dir, tmp_path / "copy")
    (run_dir / "checkpoints" / "last.safetensors").unlink()  # a note, unless quiet
    loud = run_cli("predict", run_dir, "--data", rows, "--out", "-")
    assert loud.returncode == 0 and "mlplab: note:" in loud.stderr, loud.stderr
    quiet = run_cli("predict", run_dir, "--data", rows, "--out", "-", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert quiet.stdout == loud.stdout and len(quiet.stdout.splitlines()) == len(raw) + 1
    out = tmp_path / "preds.csv"
    proc = run_cli("predict", run_dir, "--data", rows, "--out", out, "-q")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert out.read_text() == loud.stdout
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    proc = run_cli("predict", run_dir, "--data", tmp_path / "bad.csv", "--quiet")
    assert_one_line_error(proc, "the run's feature columns")
    assert "--quiet" in run_cli("predict", "--help").stdout


def test_predict_evaluates_many_rows_in_slices_with_the_same_outputs(iris_run, monkeypatch):
    """Bounded memory: rows go through the model a slice at a time (here a few rows per
    slice), and the outputs are those of one pass over all rows."""
    import mlplab.trained

    res, _, raw = iris_run
    whole = res.predict(raw)
    monkeypatch.setattr(mlplab.trained, "PREDICT_VALUES", 3 * max(res.config.hidden_widths()))
    np.testing.assert_allclose(res.predict(raw), whole, rtol=1e-5, atol=1e-7)
    assert res.predict(raw[:0]).shape == (0, *whole.shape[1:])


def test_an_npz_file_gives_its_columns_by_position(run_cli, tmp_path):
    """An NPZ file's X names no columns: the run's features are its columns, in order, and
    another count is refused; new rows need no y."""
    res = train(data="moons", epoch=20, plots="none", verbose=False, log_path=str(tmp_path))
    X = np.array([[0.0, 0.5], [1.0, -0.5], [2.0, 0.3]])
    np.savez(tmp_path / "new.npz", X=X)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.npz")
    assert proc.returncode == 0, proc.stderr
    predicted = [row.split(",")[0] for row in proc.stdout.splitlines()[1:]]
    assert predicted == [str(c) for c in res.predict_labels(X)]
    np.savez(tmp_path / "wide.npz", X=np.c_[X, X[:, :1]], y=np.zeros(3))
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "wide.npz")
    assert_one_line_error(proc, "X has 3 columns; the run needs 2, in this order: x1, x2")
    # One row saved as a flat array: it read as 2 rows of one column, with no word why.
    np.savez(tmp_path / "row.npz", X=X[0])
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "row.npz")
    assert_one_line_error(proc, "X has 1 columns; the run needs 2, in this order: x1, x2; one "
                          "row is X of shape (1, N): X.reshape(1, -1)")  # fmt: skip
    np.savez(tmp_path / "cube.npz", X=np.zeros((3, 2, 2)))  # images: flattened first
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "cube.npz")
    assert_one_line_error(proc, "(got (3, 2, 2)); rows of arrays are flattened first: "
                          "X.reshape(len(X), -1)")  # fmt: skip
    # Its rows by NumPy's index, where its user finds them (counted from 1, X[2] was "row 3").
    from mlplab.errors import DataError
    from mlplab.predict import predictions

    gaps = X.copy()
    gaps[1, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=gaps)
    with pytest.raises(DataError, match=r"'x2' has NaN \(a missing value\) in row X\[1\];"):
        predictions(res.run_dir, str(tmp_path / "nan.npz"), quiet=True)
    gaps[2, 0] = np.inf
    np.savez(tmp_path / "nans.npz", X=gaps)
    with pytest.raises(
        DataError, match=r"'x1' 1 inf \(row X\[2\]\), 'x2' 1 NaN \(missing value; row X\[1\]\)"
    ):
        predictions(res.run_dir, str(tmp_path / "nans.npz"), quiet=True)


def test_new_rows_in_a_file_that_is_no_npz_archive_are_one_line(iris_run, run_cli, tmp_path):
    res, _, _ = iris_run
    (tmp_path / "bad.npz").write_text("not an archive\n")
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "bad.npz")
    assert_one_line_error(proc, "bad.npz", "is not an NPZ archive of NumPy arrays")


def test_a_run_that_did_not_finish_predicts_with_a_note(run_cli, tmp_path):
    """A diverged run keeps its best model: it predicts, and says which model it used."""
    kw = dict(data="sinlog", lr=10, epoch=50, plots="none", verbose=False)
    res = train(**kw, log_path=str(tmp_path))
    assert res.status == "diverged"
    np.savez(tmp_path / "new.npz", X=np.zeros((2, res.dataset.n_features)))
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.npz")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3
    best = res.record["best_epoch"]
    assert proc.stderr == (
        f"mlplab: note: {res.run_dir} is diverged; predicting with its best model (epoch {best})\n"
    )


def test_a_run_whose_result_json_is_damaged_predicts_with_a_note_naming_it(
    iris_run, run_cli, tmp_path
):
    res, _, _ = iris_run
    copy = tmp_path / "copy"
    shutil.copytree(res.run_dir, copy)
    (copy / "result.json").write_text('{"status":')
    np.savez(tmp_path / "new.npz", X=np.zeros((2, res.dataset.n_features)))
    proc = run_cli("predict", copy, "--data", tmp_path / "new.npz")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3
    assert proc.stderr.startswith(f"mlplab: note: {copy / 'result.json'} is missing or unreadable;")


def _yes_no_table(path, labels=("no", "yes"), extra_row=None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    df = pd.DataFrame(X, columns=["a", "b"])
    df["label"] = np.where(X[:, 0] > 0, labels[1], labels[0])
    if extra_row is not None:
        df.loc[len(df)] = extra_row
    df.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        # Renamed classes sort the other way: the model's class 0 ('no') would be called 'aaa'.
        (dict(labels=("zzz", "aaa")), "classes are now aaa, zzz (the model's: no, yes)"),
        # A class added: the model has 1 output for 3 names.
        (dict(extra_row=[0.1, 0.2, "maybe"]), "classes are now maybe, no, yes"),
    ],
)
def test_a_training_file_changed_since_keeps_the_models_own_labels(
    run_cli, tmp_path, change, needle
):
    """predict labels outputs with the checkpoint's class names, whatever the training file
    holds now; plot, which reads the file again, draws no rows of a changed one."""
    table = tmp_path / "t.csv"
    _yes_no_table(table)
    res = train(data=str(table), epoch=5, plots="none", verbose=False, log_path=str(tmp_path))
    X = pd.read_csv(table)[["a", "b"]].to_numpy()
    expected = res.predict_labels(X)
    _yes_no_table(table, **change)
    proc = run_cli("predict", res.run_dir, "--data", table)
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert list(preds.columns) == ["predicted", "p_no", "p_yes"]
    assert preds["predicted"].tolist()[: len(expected)] == expected.tolist()
    proc = run_cli("plot", res.run_dir, "--out", tmp_path / "plots")
    _drew_without_rows(
        proc, tmp_path / "plots", f"data file {str(table)!r} has changed since", needle
    )


def _drew_without_rows(proc, out: Path, *needles: str) -> None:
    """plot drew the loss curves alone (no picture of rows that are not the run's), exit
    0, and said why in one line."""
    assert proc.returncode == 0, proc.stderr
    (note,) = proc.stderr.splitlines()
    assert note.startswith("mlplab: plot drew only the pictures that need no data rows: ")
    for needle in needles:
        assert needle in note, (needle, note)
    assert sorted(p.name for p in out.iterdir()) == ["loss.png"]
    assert proc.stdout.split() == [str(out / "loss.png")]


def test_a_run_folder_predicts_without_its_training_file(run_cli, tmp_path):
    """A run copied elsewhere, or whose training file has gone, still predicts: the
    checkpoint keeps the names, the task and the scaler. Redrawing its loss curves needs
    no file; the pictures of its rows do, and the note names it as the run's own, relative
    to where it trained."""
    _yes_no_table(tmp_path / "t.csv")
    proc = run_cli("train", "--data", "t.csv", "--epoch", "5", "--plots", "none", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = next((tmp_path / "runs" / "exp").iterdir())
    moved = tmp_path / "elsewhere"
    (tmp_path / "t.csv").rename(tmp_path / "rows.csv")
    proc = run_cli("predict", run_dir, "--data", tmp_path / "rows.csv", cwd=tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert len(preds) == 40 and set(preds["predicted"]) <= {"no", "yes"}
    X = pd.read_csv(tmp_path / "rows.csv")[["a", "b"]].to_numpy()
    from mlplab.restore import load_run

    run = load_run(run_dir, data=False)
    assert run.dataset.scaler is not None  # the file's standardization, from the checkpoint
    np.testing.assert_allclose(preds[["p_no", "p_yes"]].sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(preds["p_yes"], 1 / (1 + np.exp(-run.predict(X)[:, 0])), rtol=1e-5)
    # From any folder, the file is found where the run trained, above its folder.
    (tmp_path / "rows.csv").rename(tmp_path / "t.csv")
    proc = run_cli("plot", run_dir, "--out", moved, cwd=tmp_path / "runs")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert {p.name for p in moved.iterdir()} == {"loss.png", "surface.png", "confusion.png"}
    assert load_run(run_dir).dataset.n_rows == 40
    shutil.rmtree(moved)
    (tmp_path / "t.csv").rename(tmp_path / "rows.csv")
    proc = run_cli("plot", run_dir, "--out", moved, cwd=tmp_path / "runs")
    _drew_without_rows(
        proc,
        moved,
        "is rebuilt from the data it trained on: data file 't.csv' does not exist",
        "relative to the folder it trained in",
        "predictions need no training file: mlplab predict, or load_run(RUN_DIR, data=False)",
    )


def test_a_same_named_file_here_does_not_hide_the_runs_own_above_its_folder(
    run_cli, tmp_path, monkeypatch
):
    """Each project folder of a class keeps its data/train.csv: plot and load_run, from
    another project, read that folder's file first, found its rows differ, and said to put
    back the file, though the run's own lay untouched in the folder it trained in."""
    mine, other = tmp_path / "project 1", tmp_path / "project 2"
    for folder in (mine, other):
        (folder / "data").mkdir(parents=True)
    _yes_no_table(mine / "data" / "train.csv")
    rows = pd.read_csv(mine / "data" / "train.csv")
    rows[::-1].to_csv(other / "data" / "train.csv", index=False)  # the same, reordered
    args = ("--data", "data/train.csv", "--epoch", "5", "--plots", "none", "-q")
    assert run_cli("train", *args, cwd=mine).returncode == 0
    (run_dir,) = [p.parent for p in (mine / "runs").rglob("result.json")]
    proc = run_cli("plot", run_dir, "--out", tmp_path / "pictures", cwd=other)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert {p.name for p in (tmp_path / "pictures").iterdir()} == {
        "loss.png",
        "surface.png",
        "confusion.png",
    }
    monkeypatch.chdir(other)
    import warnings

    from mlplab.restore import load_run

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = load_run(run_dir)
    assert run.data_changed is None
    assert run.dataset.digest == run.checkpoint_meta["data_digest"]
    # Where no place holds the run's rows, the one line names each place tried.
    rows[1:].to_csv(mine / "data" / "train.csv", index=False)
    shutil.rmtree(tmp_path / "pictures")
    proc = run_cli("plot", run_dir, "--out", tmp_path / "pictures", cwd=other)
    tried = (other / "data" / "train.csv", mine / "data" / "train.csv")
    _drew_without_rows(
        proc,
        tmp_path / "pictures",
        "data file 'data/train.csv' has changed since",
        f"(its rows differ; tried {str(tried[0])!r}, {str(tried[1])!r})",
    )


def test_a_header_without_rows_predicts_its_header_as_a_unix_filter_does(
    iris_run, run_cli, tmp_path
):
    """`grep pattern rows.csv | mlplab predict RUN --data -` where nothing matched failed a
    `set -e` script with exit 2: a filter of no rows gives no rows, its header, exit 0 (and
    says so on stderr). No header at all is still refused."""
    res, rows, _ = iris_run
    header = rows.read_text().splitlines()[0]
    (tmp_path / "head.csv").write_text(header + "\n")
    proc = run_cli(
        "predict", res.run_dir, "--data", tmp_path / "head.csv", "--out", tmp_path / "p.csv"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith(
        "head.csv' has no data rows: the output is its header alone"
    )
    names = res.dataset.class_names
    assert (tmp_path / "p.csv").read_text() == ",".join(
        ["predicted", *(f"p_{c}" for c in names)]
    ) + "\n"
    target = header.split(",")[-1]
    cmd = [sys.executable, "-m", "mlplab", "predict", str(res.run_dir), "--data", "-"]
    piped = subprocess.run(
        [*cmd, "--keep", target], input=header + "\n", capture_output=True, text=True
    )
    assert piped.returncode == 0 and piped.stdout.splitlines() == [
        ",".join([target, "predicted", *(f"p_{c}" for c in names)])
    ]
    empty = subprocess.run(cmd, input="", capture_output=True, text=True)
    assert_one_line_error(empty, "standard input holds no rows")


def test_a_value_that_is_not_a_number_is_named_by_its_column_and_row(iris_run, run_cli, tmp_path):
    res, rows, _ = iris_run
    df = pd.read_csv(rows).astype({res.dataset.feature_names[2]: object})
    col = res.dataset.feature_names[2]
    df.loc[4, col] = "n/a?"
    df.to_csv(tmp_path / "s.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "s.csv")
    assert_one_line_error(proc, f"feature column {col!r} is not numeric ('n/a?' in data row 5)")
    np.savez(tmp_path / "s.npz", X=np.full((3, len(res.dataset.feature_names)), "a"))
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "s.npz")
    assert_one_line_error(proc, "s.npz", "X must hold numbers")


def test_rows_with_decimal_commas_predict_as_with_decimal_points(iris_run, run_cli, tmp_path):
    """New rows from a European spreadsheet: ';' between values, ',' before decimals."""
    res, rows, raw = iris_run
    pd.read_csv(rows).to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    assert "," in (tmp_path / "eu.csv").read_text().splitlines()[1]
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "eu.csv")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert preds["predicted"].tolist() == list(res.predict_labels(raw))


def test_spaces_after_the_commas_are_not_part_of_names_or_labels(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    lines = ["a, b, label"] + [f"{x0:.4f}, {x1:.4f}, {c}" for (x0, x1), c in zip(X, labels)]
    (tmp_path / "spaced.csv").write_text("\n".join(lines) + "\n")
    res = train(
        data=str(tmp_path / "spaced.csv"),
        epoch=5,
        plots="none",
        verbose=False,
        log_path=str(tmp_path / "runs"),
    )
    assert res.dataset.feature_names == ["a", "b"] and res.dataset.class_names == ["no", "yes"]
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "spaced.csv")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))["predicted"]
    assert set(preds) == {"no", "yes"}  # the labels as written, without their leading space


def test_a_checkpoint_whose_names_do_not_fit_its_model_is_one_line(iris_run, tmp_path):
    """Without the training file the names come from the checkpoint, which is input: a
    class list of another length would label the outputs wrongly."""
    import shutil

    from mlplab.errors import CheckpointError
    from mlplab.restore import load_run
    from mlplab.runs.checkpoint import load_checkpoint, save_checkpoint

    res, _, _ = iris_run
    run_dir = tmp_path / "run"
    shutil.copytree(res.run_dir, run_dir)
    last = run_dir / "checkpoints" / "last.safetensors"
    assert load_run(run_dir, data=False).dataset.class_names == res.dataset.class_names
    ckpt = load_checkpoint(last)
    ckpt.meta["class_names"] = ckpt.meta["class_names"][:2]
    save_checkpoint(last, ckpt)
    with pytest.raises(CheckpointError, match="do not fit its model"):
        load_run(run_dir, data=False)
    # A feature named twice fed that column twice and never the other: predictions, exit 0.
    ckpt.meta["class_names"] = res.dataset.class_names
    ckpt.meta["feature_names"] = ckpt.meta["feature_names"][:1] * len(res.dataset.feature_names)
    save_checkpoint(last, ckpt)
    with pytest.raises(CheckpointError, match="do not fit its model"):
        load_run(run_dir, data=False)
    # A binary model with three class names: an IndexError from predict.
    from mlplab import train

    xor = train(data="xor", epoch=2, plots="none", log_path=str(tmp_path / "xor"), verbose=False)
    last = xor.run_dir / "checkpoints" / "last.safetensors"
    assert load_run(xor.run_dir, data=False).dataset.task == "binary"
    ckpt = load_checkpoint(last)
    ckpt.meta["class_names"] = ["no", "yes", "maybe"]
    save_checkpoint(last, ckpt)
    with pytest.raises(CheckpointError, match="do not fit its model"):
        load_run(xor.run_dir, data=False)


@pytest.mark.parametrize(
    "data",
    [{"data": "moons", "n_samples": 120}, {"data": "iris"}, {"data": "sinlog", "n_samples": 120}],
)
def test_a_torch_run_predicts_from_its_folder_alone(run_cli, tmp_path, data):
    """`mlplab predict` (load_run(data=False): a dataset of no rows) on a run that the torch
    engine trained, for each task: the same outputs as the trained model's."""
    pytest.importorskip("torch")
    res = train(
        **data, epoch=3, engine="torch", plots="none", verbose=False, log_path=str(tmp_path)
    )
    raw = res.dataset.X_test[:5]
    if res.dataset.scaler is not None:
        mean, std = res.dataset.scaler
        raw = raw * std + mean
    np.savez(tmp_path / "new.npz", X=raw)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.npz")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))
    if res.dataset.task == "regression":
        np.testing.assert_allclose(preds.to_numpy(), res.predict(raw), rtol=1e-5, atol=1e-6)
    else:
        assert preds.iloc[:, 0].astype(str).tolist() == [str(c) for c in res.predict_labels(raw)]


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_run_trained_on_a_gpu_predicts_on_a_machine_without_one(run_cli, tmp_path, engine):
    """A GPU run's folder (`device: cuda` in its config) copied to a CPU-only machine: its
    model loads on the CPU, on either engine, and predicts and plots there; only training it
    again needs the GPU."""
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the run would load there")
    res = train(data="moons", n_samples=100, epoch=3, engine="torch", device="cpu",
                log_path=str(tmp_path / "runs"), plots="none", verbose=False)  # fmt: skip
    config = res.run_dir / "config.yaml"
    config.write_text(config.read_text().replace("device: cpu", "device: cuda"))
    from mlplab.restore import load_run

    X = res.dataset.X_test
    for data in (True, False):
        run = load_run(res.run_dir, engine=engine, data=data)
        np.testing.assert_allclose(run.model_outputs(X), res.predict(X), rtol=1e-5, atol=1e-6)
    np.savez(tmp_path / "rows.npz", X=X)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "rows.npz")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("plot", res.run_dir, "--out", tmp_path / "plots")
    assert proc.returncode == 0, proc.stderr


def test_the_columns_the_run_ignored_come_first_so_each_prediction_names_its_row(run_cli, tmp_path):
    """A file with an id column trains with ``--ignore id``; its predictions carry the id
    (and whatever else the run ignored and the new rows have), not the bare row order."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    table = pd.DataFrame({"id": [f"r{i:03d}" for i in range(60)], "a": X[:, 0], "b": X[:, 1]})
    table["label"] = np.where(X[:, 0] > 0, "yes", "no")
    table.to_csv(tmp_path / "t.csv", index=False)
    res = train(
        data=str(tmp_path / "t.csv"),
        ignore=["id"],
        epoch=5,
        plots="none",
        verbose=False,
        log_path=str(tmp_path / "runs"),
    )
    new = table.drop(columns="label").iloc[::-1].head(7)  # another order: the id tells them
    new.to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout))
    assert list(preds.columns) == ["id", "predicted", "p_no", "p_yes"]
    assert preds["id"].tolist() == new["id"].tolist()
    assert preds["predicted"].tolist() == list(res.predict_labels(new[["a", "b"]].to_numpy()))
    # Rows without the ignored column predict as before, with the outputs alone.
    new.drop(columns="id").to_csv(tmp_path / "bare.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "bare.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "predicted,p_no,p_yes"


@pytest.mark.parametrize("sep", [",", ";"])
def test_the_ignored_columns_come_back_as_written_cell_for_cell(run_cli, tmp_path, sep):
    """An id of 00123, one past float64's integers, or the text NA is copied as written:
    read as numbers they came back as 123.0, ...992.0 and an empty cell, and the
    predictions no longer matched their rows. In a ';' file with decimal commas, an id
    that looks like one (1,5) is not read as the number 1.5."""
    ids = ["00123", "9007199254740993", "12345678901234567890123", "1,5", "7", "x-9", "", "8"]
    cities = ["NA", "None", "Paris", "", "null", "Lyon", "N/A", "Nice"]
    a = [1.25, 2.5, 1.0, 2.0, 0.5, 3.0, 1.5, 2.25]
    rows = [
        sep.join(
            [
                f'"{i}"' if sep == "," and "," in i else i,
                c,
                f"{v}".replace(".", ",") if sep == ";" else f"{v}",
                lab,
            ]
        )
        for i, c, v, lab in zip(ids, cities, a, "xyxyxyxy", strict=True)
    ]
    path = tmp_path / "t.csv"
    path.write_text(sep.join(["id", "city", "a", "label"]) + "\n" + "\n".join(rows) + "\n")
    res = train(
        data=str(path),
        ignore=["id", "city"],
        split=[4, 2, 2],
        epoch=2,
        plots="none",
        verbose=False,
        log_path=str(tmp_path / "runs"),
    )
    proc = run_cli("predict", res.run_dir, "--data", path)
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)
    assert preds["id"].tolist() == ids
    assert preds["city"].tolist() == cities
    np.testing.assert_allclose(
        preds[["p_x", "p_y"]].to_numpy(float), res.predict_proba(np.array(a)[:, None]), rtol=1e-6
    )


def test_a_rows_prediction_does_not_depend_on_the_other_rows(iris_run, run_cli, tmp_path):
    """Every digit printed: the model's float32 weights are evaluated in float64 and printed
    to 10 digits. In float32, BLAS's summation order (set by the batch's shape) moved the
    8th digit of most rows; float64 alone still moves the 16th."""
    from mlplab.predict import predictions

    res, rows, _ = iris_run
    table = pd.read_csv(rows)
    every = predictions(res.run_dir, str(rows))
    for i in range(len(table)):
        table.iloc[[i]].to_csv(tmp_path / "one.csv", index=False)
        alone = predictions(res.run_dir, str(tmp_path / "one.csv"))
        pd.testing.assert_frame_equal(alone, every.iloc[[i]].reset_index(drop=True))
    printed = pd.read_csv(io.StringIO(run_cli("predict", res.run_dir, "--data", rows).stdout))
    pd.testing.assert_frame_equal(printed, every)
    assert printed.iloc[:, 1:].map(lambda v: v == float(f"{v:.10g}")).all().all()
    # The weights are the run's own: the float32 engine agrees to float32's precision.
    outputs = res.predict(table.iloc[:, :4].to_numpy())
    np.testing.assert_allclose(
        every.iloc[:, 1:].to_numpy(), probabilities(res.dataset.task, outputs), atol=1e-6
    )


def test_out_is_never_written_into_a_run_folder(iris_run, run_cli, tmp_path):
    """--out naming a file of a run's record (metrics.csv), or one beside or below it, is
    refused before anything is written: the record stays as training left it."""
    res, rows, _ = iris_run
    run_dir = res.run_dir.resolve()
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in files}
    link = tmp_path / "link"
    link.symlink_to(run_dir / "checkpoints")
    for out in (
        run_dir / "metrics.csv",
        run_dir / "preds.csv",
        run_dir / "checkpoints" / "preds.csv",
        link / "preds.csv",
    ):
        proc = run_cli("predict", res.run_dir, "--data", rows, "--out", out)
        assert_one_line_error(proc, f"--out {str(out)!r}", f"run folder {str(run_dir)!r}")
    assert sorted(p for p in run_dir.rglob("*") if p.is_file()) == files
    assert all(p.read_bytes() == content for p, content in before.items())
    # Beside the run folders (in the log folder) is fine.
    out = run_dir.parent / "preds.csv"
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(out)) == len(rows.read_text().splitlines()) - 1
    out.unlink()  # the fixture's log folder, as the other tests expect it


def test_an_npz_run_that_ignored_a_column_predicts_its_own_file(run_cli, tmp_path):
    """Training names an NPZ file's columns x0, x1, ...; a run trained with --ignore x0
    predicts the same file (x0 dropped from the features, and first in the output, as an
    ignored column of a table is), and still takes rows of its features alone."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 3))
    np.savez(tmp_path / "data.npz", X=X, y=(X[:, 1] > X[:, 2]).astype(int))
    res = train(
        data=str(tmp_path / "data.npz"), ignore=["x0"], epoch=5, plots="none", verbose=False,
        log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    assert res.dataset.feature_names == ["x1", "x2"]
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "data.npz")
    assert proc.returncode == 0, proc.stderr
    preds = pd.read_csv(io.StringIO(proc.stdout), dtype={"predicted": str})
    assert list(preds.columns) == ["x0", "predicted", "p_0", "p_1"]
    np.testing.assert_allclose(preds["x0"], X[:, 0])
    assert preds["predicted"].tolist() == [str(c) for c in res.predict_labels(X[:, 1:])]
    np.savez(tmp_path / "features.npz", X=X[:, 1:])
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "features.npz")
    assert proc.returncode == 0, proc.stderr
    assert (
        pd.read_csv(io.StringIO(proc.stdout), dtype={"predicted": str})["predicted"].tolist()
        == preds["predicted"].tolist()
    )
    np.savez(tmp_path / "wide.npz", X=np.c_[X, X[:, :1]])
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "wide.npz")
    assert_one_line_error(proc, "X has 4 columns; the run needs 2, in this order: x1, x2")


def test_python_predict_names_what_is_wrong_with_its_rows(iris_run, tmp_path):
    """Result.predict took NaN and inf to some class (setosa), and a path, text or a wrong
    width to a NumPy traceback; mlplab predict named the column and row."""
    from mlplab.errors import DataError

    res, _, raw = iris_run
    first = res.dataset.feature_names[0]
    for value, kind in ((np.nan, "NaN (a missing value)"), (np.inf, "inf")):
        rows = raw[:3].copy()
        rows[1, 0] = value
        for call in (res.predict, res.predict_labels):
            # Python's index, where the user finds the row (counted from 1, it was "row 2").
            with pytest.raises(
                DataError,
                match=rf"column '{re.escape(first)}' has {re.escape(kind)} in row X\[1\];",
            ):
                call(rows)
    # A DataFrame's row by its index label.
    frame = pd.DataFrame(raw[:3], columns=res.dataset.feature_names, index=[100, 101, 102])
    frame.iloc[1, 0] = np.nan
    with pytest.raises(DataError, match=r"has NaN \(a missing value\) in row X\.loc\[101\];"):
        res.predict(frame)
    with pytest.raises(DataError, match=r"X is a path \('new.csv'\); predict takes rows"):
        res.predict("new.csv")
    with pytest.raises(DataError, match="X must hold numbers, \\[rows, 4\\] \\(could not convert"):
        res.predict([["a", "1", "2", "3"]])
    with pytest.raises(DataError, match=r"X must be \[rows, 4\] .* got shape \(1, 3\)"):
        res.model_outputs([[0.0, 1.0, 2.0]])  # was an 'shapes not aligned' traceback
    # A dict of columns is a table, as a DataFrame is.
    table = {name: raw[:2, i] for i, name in enumerate(res.dataset.feature_names)}
    np.testing.assert_array_equal(res.predict(table), res.predict(raw[:2]))


def test_a_diverged_run_refuses_to_predict_rather_than_give_nan(tmp_path):
    from mlplab.errors import DataError

    res = train(data="sinlog", lr=1e3, epoch=3, plots="none", verbose=False, log_path=str(tmp_path))
    assert res.status == "diverged"
    with pytest.raises(DataError, match="the run diverged, so its model's outputs are not finite"):
        res.predict([[1.0, 2.0]])


def test_out_never_overwrites_the_file_the_run_trained_on(run_cli, tmp_path):
    """`--out train.csv` of a run trained with `--data train.csv` replaced the training
    file, and with it the run's way to be rebuilt (load_run, mlplab plot)."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    table["y"] = (table["a"] > 0).map({True: "yes", False: "no"})
    table.to_csv(tmp_path / "train.csv", index=False)
    table[["a", "b"]].to_csv(tmp_path / "new.csv", index=False)
    args = ("--data", "train.csv", "--target", "y", "--epoch", "2", "--plots", "none")
    proc = run_cli("train", *args, "--exp_name", "t", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_dir = next((tmp_path / "runs" / "t").iterdir())
    before = (tmp_path / "train.csv").read_bytes()
    # From the folder it trained in, and from inside the run folder (the path found above it).
    for cwd, out in ((tmp_path, "train.csv"), (run_dir, "../../../train.csv")):
        proc = run_cli("predict", run_dir, "--data", tmp_path / "new.csv", "--out", out, cwd=cwd)
        assert_one_line_error(proc, f"--out {out!r} is the data file", "trained on")
        assert (tmp_path / "train.csv").read_bytes() == before
    proc = run_cli("predict", run_dir, "--data", "new.csv", "--out", "preds.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_an_overfit_run_says_so_and_predicts_with_its_best_model(run_cli, tmp_path):
    """The validation loss rose far above its lowest and nothing said so; the table, the
    last checkpoint and predict used the last model, and only Python reached the best."""
    from mlplab.restore import load_run

    args = ["--data", "moons", "--n_samples", "80", "--noise", "0.4", "--n_layer", "2",
            "--hid_dim", "64", "--optim", "adam", "--lr", "0.01", "--epoch", "200",
            "--batch_size", "16", "--log_every", "0", "--plots", "none"]  # fmt: skip
    proc = run_cli("train", *args, "--log_path", tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    assert "the model overfits after that" in proc.stdout
    assert "`mlplab predict RUN --checkpoint best`" in proc.stdout
    (run_dir,) = [p.parent for p in (tmp_path / "runs").rglob("result.json")]
    rows = np.random.default_rng(0).normal(size=(30, 2))
    pd.DataFrame(rows, columns=["x1", "x2"]).to_csv(tmp_path / "new.csv", index=False)
    out = {}
    for which in ("last", "best"):
        proc = run_cli("predict", run_dir, "--data", tmp_path / "new.csv", "--checkpoint", which)
        assert proc.returncode == 0, proc.stderr
        out[which] = pd.read_csv(io.StringIO(proc.stdout))
        model = load_run(run_dir, which=which)
        expected = probabilities("binary", model.predict(rows))[:, 1]
        np.testing.assert_allclose(out[which]["p_1"], expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(out["last"]["p_1"], out["best"]["p_1"])


def test_a_validation_loss_that_swings_while_training_stands_still_is_not_called_overfit(
    tmp_path, capsys
):
    """Minibatch Adam on sine ended with a validation loss 50% above its lowest while the
    training loss stayed where it was; the note said "the model overfits"."""
    from mlplab.cli import main

    args = ["train", "--data", "sine", "--n_layer", "2", "--hid_dim", "32", "--act", "tanh",
            "--optim", "adam", "--lr", "0.01", "--batch_size", "32", "--epoch", "300",
            "--log_every", "0", "--plots", "none", "--log_path", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    (note,) = [ln for ln in capsys.readouterr().out.splitlines() if "lowest at epoch" in ln]
    assert "overfits" not in note and "the validation loss swings" in note
    record = json.loads(next(tmp_path.rglob("result.json")).read_text())
    # Every epoch's point (result.json thins a curve), and means over a twentieth of the
    # validations from the best and at the end, as the note reads them.
    curves = np.load(next(tmp_path.rglob("curves.npz")))
    train, epochs = list(curves["train_losses"]), list(curves["val_epochs"])
    w, b = len(epochs) // 20, epochs.index(record["best_epoch"])
    before, after = float(np.mean(train[b : b + w])), float(np.mean(train[-w:]))
    assert record["val_losses"][-1] > 1.1 * record["best_val_loss"]
    assert after > 0.95 * before
    assert f"({before:.4g}, then {after:.4g}, means over {w} validations)" in note
    # Said as it went: a fall of 2% was "did not fall".
    moved = "rose" if after > before else "barely fell"
    assert f"the training loss {moved} meanwhile ({before:.4g}" in note


def test_missing_columns_of_a_wide_table_are_named_in_a_short_line(run_cli, tmp_path):
    """A 44-feature run given a file without one column listed all 44 needed columns and
    all 45 present ones."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 44))
    df = pd.DataFrame(X, columns=[f"f{i:02d}" for i in range(44)]).assign(y=(X[:, 0] > 0) * 1)
    df.to_csv(tmp_path / "wide.csv", index=False)
    run = train(data=str(tmp_path / "wide.csv"), epoch=2, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    df.drop(columns=["f07"]).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "new.csv")
    assert_one_line_error(
        proc, "the run's feature column 'f07' is missing; it needs 44 columns: 'f00', 'f01'"
    )
    assert "and 34 more (it has 'f00'" in proc.stderr and "and 34 more)" in proc.stderr
    assert len(proc.stderr) < 400


def test_a_column_named_in_another_case_or_left_unused_is_said(run_cli, tmp_path):
    """`X1` for the run's `x1` was called missing with no hint; and a one-hot column of a
    category training never saw (color_purple) was dropped without a word."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x1": rng.normal(size=30), "color_red": rng.integers(0, 2, 30)})
    df["y"] = (df.x1 > 0) * 1
    df.to_csv(tmp_path / "t.csv", index=False)
    run = train(data=str(tmp_path / "t.csv"), epoch=2, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    df.rename(columns={"x1": "X1"}).to_csv(tmp_path / "case.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "case.csv")
    assert_one_line_error(proc, "names are case-sensitive: the file has 'X1' for 'x1'")
    df.assign(color_purple=1, color_score=3.5).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0 and len(pd.read_csv(io.StringIO(proc.stdout))) == 30
    # A one-hot column beside the run's own: a category training never saw. Others (the
    # target of a labelled file, an id) are no surprise.
    assert (
        "'color_purple' is not a column the run trained on (it has 'color_red'), left out: "
        "a category that training never saw has no column of its own"
    ) in proc.stderr
    assert "'y'" not in proc.stderr and "color_score" not in proc.stderr  # not 0s and 1s
    quiet = run_cli("predict", run.run_dir, "--data", tmp_path / "new.csv", "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_python_predict_proba_gives_the_cli_probabilities(iris_run, run_cli, tmp_path):
    """Result had logits and labels, but its probabilities only through the command line's
    p_CLASS columns (or a softmax of one's own)."""
    from mlplab import load_run
    from mlplab.errors import DataError

    res, rows, raw = iris_run
    proba = res.predict_proba(raw)
    assert proba.shape == (len(raw), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert list(np.asarray(res.dataset.class_names)[proba.argmax(1)]) == list(
        res.predict_labels(raw)
    )
    out = tmp_path / "p.csv"
    assert (
        run_cli("predict", str(res.run_dir), "--data", str(rows), "--out", str(out)).returncode == 0
    )
    cli = pd.read_csv(out)[[f"p_{c}" for c in res.dataset.class_names]].to_numpy()
    np.testing.assert_allclose(
        load_run(res.run_dir, dtype="float64").predict_proba(raw), cli, atol=1e-6
    )
    reg = train(data="sine", epoch=2, record=False, verbose=False)
    with pytest.raises(DataError, match="regression model has no classes"):
        reg.predict_proba([[0.5]])


def _by_hand(task="binary", y=None, class_names=("0", "1"), X=None, **kw):
    from mlplab.data.dataset import Dataset

    X = np.random.default_rng(0).normal(size=(20, 2)) if X is None else X
    y = (np.arange(20) % 2).reshape(-1, 1).astype(float) if y is None else y
    names = None if class_names is None else list(class_names)
    return Dataset("mine", task, X, y, X, y, X, y, ["a", "b"], ["y"], names, **kw)


NAN_X = np.random.default_rng(0).normal(size=(20, 2))
NAN_X[6, 1] = np.nan


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"y": np.array([0, 1] * 10)}, "y_train of a binary dataset is float [N, 1]"),
        ({"task": "multiclass", "y": np.arange(20) % 3, "class_names": None},
         "names its classes in class_names"),
        ({"task": "classification"}, "task is one of binary"),
        ({"task": "regression", "y": np.linspace(0, 1, 20), "class_names": None},
         "y_train of a regression dataset is float [N, 1] (a column per target name)"),
        ({"class_names": None}, "class_names (2; got None)"),
        ({"class_names": ("a", "a")}, "class_names names one twice"),
        ({"X": NAN_X}, "X_train has NaN or inf in row X_train[6]"),
        ({"X": np.full((20, 2), "1.5")}, "X_train holds <U3 values; it takes numbers"),
        ({"X": torch.zeros(20, 2)}, "X_train is a torch.Tensor; a Dataset holds NumPy arrays"),
        ({"label_kind": "number", "class_names": ("a", "b")}, "'number' does not fit ['a', 'b']"),
        ({"X": np.zeros((20, 2)).tolist()}, "X_train is a list; a Dataset holds NumPy arrays"),
        ({"weights": {"train": np.ones(20)}}, "val has 20 rows, its weights none"),
        ({"scaler": (np.zeros(3), np.ones(3))}, "scaler is (mean, std), each [2]"),
    ],
)  # fmt: skip
def test_a_dataset_built_by_hand_is_checked_in_one_line(kw, needle):
    """train(dataset=...) with arrays of the wrong shape for their task failed deep in
    the loss or the metrics (IndexError, ZeroDivisionError); NaN trained as numbers that
    'overflow float32'."""
    from mlplab.errors import DataError

    with pytest.raises(DataError, match=re.escape(needle)) as e:
        train(dataset=_by_hand(**kw), epoch=1, record=False, verbose=False)
    assert "\n" not in str(e.value)


def test_a_recorded_run_on_a_hand_built_dataset_takes_no_other_runs_folder(tmp_path):
    """Under the default data (xor) it had replaced a finished xor run's record, and the
    next xor call was handed its model (kept, test_acc 0.6 on xor)."""
    kw = dict(epoch=30, lr=0.5, verbose=False, log_path=str(tmp_path), plots="none")
    xor = train(data="xor", **kw)
    mine = train(dataset=_by_hand(), **kw)
    assert mine.run_dir != xor.run_dir and mine.config.data.startswith("array-40x2-")
    again = train(data="xor", **kw)
    assert again.kept and again.run_dir == xor.run_dir and again.record["n_train"] == 4
    # Its record keeps no rows, but load_run(data=False) needs none: the model loads.
    from mlplab.errors import CheckpointError
    from mlplab.restore import load_run

    X = np.random.default_rng(1).normal(size=(5, 2))
    loaded = load_run(mine.run_dir, data=False)
    np.testing.assert_allclose(loaded.model_outputs(X), mine.model_outputs(X), rtol=1e-6)
    with pytest.raises(CheckpointError, match="trained on arrays in memory"):
        load_run(mine.run_dir)  # its rows are asked for: they are nowhere


def test_predict_labels_gives_integer_labels_as_integers_and_names_as_text(tmp_path):
    """Labels of an integer y come back as integers, so that ``predict_labels(X) == y``
    scores the model (as text, every comparison was False); names stay text, and a
    spelling that is not an integer's own (007) is a name."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.where(X[:, 0] > 0, 3, -1)
    np.savez(tmp_path / "ints.npz", X=X, y=y)
    res = train(
        data=str(tmp_path / "ints.npz"),
        optim="adam",
        lr=0.05,
        epoch=40,
        record=False,
        verbose=False,
    )
    labels = res.predict_labels(X)
    assert labels.dtype == np.int64 and set(labels) <= {-1, 3}
    assert (labels == y).mean() > 0.9
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": np.where(y > 0, "007", "x")})
    table.to_csv(tmp_path / "t.csv", index=False)
    res = train(
        data=str(tmp_path / "t.csv"), optim="adam", lr=0.05, epoch=40, record=False, verbose=False
    )
    assert res.dataset.classes.dtype == object
    assert (res.predict_labels(X) == table["label"].to_numpy()).mean() > 0.9


@pytest.mark.parametrize(
    ("labels", "suffix", "dtype"),
    [
        (np.array(["1", "2"], dtype=object), ".parquet", object),  # text, though digits
        (np.array([False, True]), ".csv", bool),
        (np.array([-(2**63), 2**63 - 1]), ".npz", np.int64),  # int64's ends, 19 digits
        (pd.array([False, True], dtype="boolean"), ".parquet", bool),  # pandas' nullable
    ],
    ids=["parquet-text-digits", "bool", "int64-ends", "parquet-nullable-bool"],
)
def test_predict_labels_are_of_the_kind_y_was_also_from_the_checkpoint_alone(
    tmp_path, labels, suffix, dtype
):
    """Text labels that look like numbers stay text, True/False come back as booleans, and
    19-digit integers as integers; load_run(data=False) gives them alike, from the
    checkpoint, where the names alone would say otherwise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.asarray(labels[(X[:, 0] > 0).astype(int)])
    path = tmp_path / f"t{suffix}"
    if suffix == ".npz":
        np.savez(path, X=X, y=y)
    else:
        column = labels[(X[:, 0] > 0).astype(int)]  # its own dtype: a nullable one stays so
        table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": column})
        table.to_parquet(path) if suffix == ".parquet" else table.to_csv(path, index=False)
    res = train(data=str(path), optim="adam", lr=0.05, epoch=30, verbose=False, plots="none",
                log_path=str(tmp_path / "runs"))  # fmt: skip
    from mlplab.restore import load_run

    for model in (res, load_run(res.run_dir, data=False)):
        predicted = model.predict_labels(X)
        assert predicted.dtype == dtype
        assert (predicted == y).mean() > 0.9


def test_a_hand_built_dataset_may_name_its_classes_by_integers():
    res = train(dataset=_by_hand(class_names=(0, 1)), epoch=2, record=False, verbose=False)
    assert res.predict_labels(np.zeros((3, 2))).dtype == np.int64


def test_an_interrupted_run_without_its_last_checkpoint_says_it_predicts_with_the_best(
    run_cli, tmp_path
):
    """The note said 'predicting with its checkpoint at step N' while the best model,
    of another epoch, predicted: the last checkpoint's absence went unsaid."""
    from mlplab.training.events import Validate

    def ctrl_c(event):
        if isinstance(event, Validate) and event.epoch == 20:
            raise KeyboardInterrupt

    kw = dict(data="moons", epoch=40, save_every=10, plots="none", verbose=False)
    kw["log_path"] = str(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        train(**kw, subscribers=[ctrl_c])
    (run_dir,) = [p.parent for p in tmp_path.rglob("config.yaml")]
    best = json.loads((run_dir / "result.json").read_text())["best_epoch"]
    pd.DataFrame([[0.0, 0.5]], columns=["x1", "x2"]).to_csv(tmp_path / "x.csv", index=False)
    # Asked for the best model, the note names its epoch: it named the step of the last
    # checkpoint, which the best one's file also holds (it is written at the stop too).
    proc = run_cli("predict", run_dir, "--data", tmp_path / "x.csv", "--checkpoint", "best")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"mlplab: note: {run_dir} is interrupted; predicting with its best model (epoch {best})\n"
    )
    (run_dir / "checkpoints" / "last.safetensors").unlink()
    proc = run_cli("predict", run_dir, "--data", tmp_path / "x.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"mlplab: note: {run_dir} is interrupted; predicting with its best model (epoch {best}); "
        f"{run_dir}/checkpoints/last.safetensors is missing\n"
    )


def test_a_damaged_last_model_points_to_the_best_one(iris_run, run_cli, tmp_path):
    """A flipped byte in last.safetensors refused the run, and its whole best model went
    unmentioned."""
    res, rows, raw = iris_run
    run = tmp_path / "run"
    shutil.copytree(res.run_dir, run)
    last = run / "checkpoints" / "last.safetensors"
    data = bytearray(last.read_bytes())
    data[-1] ^= 0xFF  # a tensor byte: the checksum no longer matches
    last.write_bytes(bytes(data))
    proc = run_cli("predict", run, "--data", rows)
    assert_one_line_error(proc, "is corrupted (its checksum does not match its contents)")
    assert "its best model may still predict: give --checkpoint best" in proc.stderr
    best = run_cli("predict", run, "--data", rows, "--checkpoint", "best")
    assert best.returncode == 0, best.stderr
    assert len(best.stdout.strip().splitlines()) == len(raw) + 1
    # A run that cannot be rebuilt at all is not sent to a best model that fails alike.
    (run / "config.yaml").unlink()
    proc = run_cli("predict", run, "--data", rows)
    assert_one_line_error(proc, "is not a run directory (no config.yaml)")
    assert "--checkpoint best" not in proc.stderr


def test_a_diverged_runs_result_warns_that_its_outputs_are_of_the_blown_up_weights(tmp_path):
    """train() returned the weights after the blow-up, which predicted with full
    confidence and no word, where load_run of the same folder gives the best model."""
    import warnings

    import mlplab

    run = mlplab.train(data="moons", lr=1e6, epoch=20, log_every=0, plots="none",
                       verbose=False, log_path=str(tmp_path))  # fmt: skip
    assert run.status == "diverged"
    # A quiet run's notes say why it did not finish, in Python's words, not only "diverged".
    why = run.notes[-1]
    assert why == run.record["message"].replace("--lr ", "lr=") and "diverged" in why
    assert "lr=" in why and "--lr" not in why, why
    # A command in backquotes stays one a shell runs.
    from mlplab.errors import flags_as_arguments

    said = "stopped; `mlplab train --resume runs/x` continues it, or --lr 0.1"
    assert (
        flags_as_arguments(said)
        == "stopped; `mlplab train --resume runs/x` continues it, or lr=0.1"
    )
    assert "1 note in .notes" in repr(run) or "notes in .notes" in repr(run)
    for call in (run.predict, run.predict_proba, run.predict_labels):
        with pytest.warns(UserWarning, match="this run diverged") as said:
            call([[0.0, 0.0]])
        assert said[0].filename == __file__  # the user's line, not mlplab's
        assert f"mlplab.load_run({str(run.run_dir)!r}) gives its best model (epoch" in str(
            said[0].message
        )
    best = mlplab.load_run(run.run_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(best.predict_proba([[0.0, 0.0]])).all()


def test_predict_takes_tensors_with_grad_and_names_pandas_missing_values(tmp_path):
    """A tensor that requires grad was torch's own RuntimeError; pandas' pd.NA was
    "float() argument must be ... not 'NAType'"; a column named in another case was
    only "no column 'x1'"."""
    import torch

    from mlplab.errors import DataError

    run = train(data="moons", epoch=3, plots="none", verbose=False, log_path=str(tmp_path))
    rows = [[0.5, 0.1], [-1.0, 0.7]]
    want = run.predict_labels(rows)
    grad = torch.tensor(rows, requires_grad=True)
    np.testing.assert_array_equal(run.predict_labels(grad), want)
    frame = pd.DataFrame({"x1": pd.array([0.5, -1.0], dtype="Float64"), "x2": [0.1, 0.7]})
    np.testing.assert_array_equal(run.predict_labels(frame), want)
    frame.loc[1, "x1"] = pd.NA
    with pytest.raises(DataError, match=r"X: feature column 'x1' has NaN \(a missing value\) "
                       r"in row X\.loc\[1\]"):  # fmt: skip
        run.predict_labels(frame)

    # A frame of another library (polars: to_numpy() takes none of pandas' arguments)
    # is read as an array, as before.
    class Frame:
        def __init__(self, rows):
            self.rows = np.asarray(rows)

        def to_numpy(self, writable=False):
            return self.rows

        def __array__(self, dtype=None, copy=None):
            return self.rows.astype(dtype or self.rows.dtype)

    np.testing.assert_array_equal(run.predict_labels(Frame(rows)), want)
    with pytest.raises(DataError, match="X has no column 'x1' \\(it has 'X1': names are case"):
        run.predict_labels(pd.DataFrame({"X1": [0.5], "x2": [0.1]}))


def test_predict_writes_a_labels_control_characters_out_on_a_terminal(tmp_path):
    """Class labels come from the training file: one holding an escape sequence retitled
    and recoloured the terminal that `mlplab predict` printed to. Into a file or a pipe
    the CSV stays as it is."""
    import pty
    import subprocess
    import sys

    odd = "\x1b]0;PWNED\x07red"
    rows = ["a,b,y"] + [f"{i},{i % 3},{odd if i % 2 else 'blue'}" for i in range(24)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "new.csv").write_text("a,b\n1,1\n2,2\n")
    run = train(data=str(tmp_path / "train.csv"), epoch=2, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    cmd = [sys.executable, "-m", "mlplab", "predict", str(run.run_dir), "--data",
           str(tmp_path / "new.csv"), "-q"]  # fmt: skip
    piped = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "\x1b]0;PWNED\x07red" in piped.stdout
    leader, follower = pty.openpty()
    proc = subprocess.run(cmd, stdout=follower, stderr=subprocess.PIPE, timeout=120)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower closed: all was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert b"\\x1b]0;PWNED\\x07red" in shown


def test_a_column_named_in_another_unicode_form_is_the_runs(run_cli, tmp_path):
    """A header written on macOS spells 'längé' as 'a' and a combining mark (NFD): the
    line said 'längé' was missing and listed 'längé' among the file's columns."""
    import unicodedata

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    names = ["längé", "größe_µm"]
    train_file = tmp_path / "train.csv"
    pd.DataFrame({**dict(zip(names, X.T)), "y": (X[:, 0] > 0).astype(int)}).to_csv(
        train_file, index=False
    )
    res = train(data=str(train_file), target="y", epoch=5, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    nfd = [unicodedata.normalize("NFD", n) for n in names]
    assert nfd[0] != names[0]
    new = tmp_path / "new.csv"
    pd.DataFrame(dict(zip(nfd, X[:5].T))).to_csv(new, index=False)
    proc = run_cli("predict", res.run_dir, "--data", new)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(res.predict_labels(X[:5]))


def test_a_builtin_datasets_name_is_no_file_of_rows(iris_run, run_cli, tmp_path):
    """`--data iris` said "data file 'iris' does not exist", as if a file had gone."""
    res, _, _ = iris_run
    proc = run_cli("predict", res.run_dir, "--data", "iris", cwd=tmp_path)
    assert_one_line_error(proc, "--data 'iris' is a built-in dataset's name; predict takes a file")


def test_the_csv_on_an_ascii_standard_output_keeps_its_names(run_cli, tmp_path):
    """With a standard output whose encoding is ASCII, the CSV's class names became '?'
    (p_?, p_??) in a file read back: the CSV goes out as UTF-8."""
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    table = pd.DataFrame(X, columns=["a", "b"])
    table["계절"] = np.where(X[:, 0] > 0, "봄", "여름")
    table.to_csv(tmp_path / "k.csv", index=False)
    res = train(data=str(tmp_path / "k.csv"), target="계절", epoch=3, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    table[["a", "b"]].head(4).to_csv(tmp_path / "new.csv", index=False)
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "predict", str(res.run_dir), "--data",
         str(tmp_path / "new.csv")], capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    assert lines[0] == "predicted,p_봄,p_여름"
    assert {line.split(",")[0] for line in lines[1:]} <= {"봄", "여름"}


def test_out_is_never_the_runs_own_file_found_above_it(run_cli, tmp_path):
    """From another project folder holding its own train.csv, the guard looked at that
    one alone, and --out '../proj a/train.csv' replaced the run's training file."""
    rows = "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(40))
    proj, other = tmp_path / "proj a", tmp_path / "other"
    for folder in (proj, other):
        folder.mkdir()
        (folder / "train.csv").write_text("a,b,y\n" + rows[: 200 if folder == other else None])
    proc = run_cli("train", "--data", "train.csv", "--target", "y", "--epoch", "3",
                   "--plots", "none", "-q", cwd=proj)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p.parent for p in proj.rglob("result.json")]
    kept = (proj / "train.csv").read_bytes()
    (other / "new.csv").write_text("a,b\n1,2\n")
    proc = run_cli("predict", run_dir, "--data", "new.csv", "--out", "../proj a/train.csv",
                   cwd=other)  # fmt: skip
    assert_one_line_error(proc, "is the data file that the run")
    assert (proj / "train.csv").read_bytes() == kept


def test_a_file_with_both_unicode_forms_of_a_column_reads_the_runs_own(run_cli, tmp_path):
    """A header with 'é' written both ways renamed one onto the other: two columns of one
    name, and a traceback."""
    import unicodedata

    X = np.random.default_rng(0).normal(size=(40, 2))
    pd.DataFrame({"é": X[:, 0], "b": X[:, 1], "y": (X[:, 0] > 0).astype(int)}).to_csv(
        tmp_path / "t.csv", index=False
    )
    res = train(data=str(tmp_path / "t.csv"), target="y", epoch=3, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    nfd = unicodedata.normalize("NFD", "é")
    pd.DataFrame({"é": X[:4, 0], nfd: [9.0] * 4, "b": X[:4, 1]}).to_csv(
        tmp_path / "new.csv", index=False
    )
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0, proc.stderr
    got = [int(line.split(",")[0]) for line in proc.stdout.strip().splitlines()[1:]]
    assert got == list(res.predict_labels(X[:4]))


def test_rows_piped_to_predict_data_dash_are_predicted_as_from_a_file(tmp_path):
    """`cat new.csv | mlplab predict RUN --data -` read a file named '-', which did not
    exist; a script had to write its rows to a temporary file first."""
    run = train(data="moons", epoch=3, plots="none", verbose=False, log_path=str(tmp_path))
    rows = pd.DataFrame({"x2": [0.5, -0.2, 1.0], "x1": [0.1, 0.9, -1.0]})  # by name, any order
    rows.to_csv(tmp_path / "new.csv", index=False)

    def predict(*args, stdin=""):
        cmd = [sys.executable, "-m", "mlplab", "predict", str(run.run_dir), *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)

    from_file = predict("--data", str(tmp_path / "new.csv"))
    piped = predict("--data", "-", stdin=(tmp_path / "new.csv").read_text())
    assert piped.returncode == 0 == from_file.returncode, piped.stderr
    assert piped.stdout == from_file.stdout and len(piped.stdout.splitlines()) == 4
    # Errors name standard input, not a temporary file, in one line; nothing is empty.
    bad = predict("--data", "-", stdin="x1,x3\n1,2\n")
    assert (
        bad.returncode == 2
        and "data file standard input (--data -): the run's feature" in bad.stderr
    )
    assert len(bad.stderr.splitlines()) == 1 and "/tmp" not in bad.stderr
    empty = predict("--data", "-")
    assert empty.returncode == 2 and "standard input holds no rows" in empty.stderr


def test_a_run_of_many_classes_predicts_without_warnings(run_cli, tmp_path):
    """Past 100 classes, each probability column added one at a time made pandas warn
    that the frame was fragmented: 400 lines on stderr for 500 classes."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(480, 2)), columns=["a", "b"])
    df["y"] = [f"c{i % 120}" for i in range(480)]
    df.to_csv(tmp_path / "many.csv", index=False)
    res = train(data=str(tmp_path / "many.csv"), target=["y"], epoch=2, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    out = tmp_path / "p.csv"
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "many.csv", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout.strip() == f"480 predictions -> {out}", proc.stderr[
        :300
    ]
    got = pd.read_csv(out)
    assert got.shape == (480, 121) and list(got.columns[:3]) == ["predicted", "p_c0", "p_c1"]
    np.testing.assert_allclose(got.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-6)


def test_a_path_inside_a_run_folder_names_the_run_folder_to_give(iris_run, run_cli, tmp_path):
    """`predict RUN/checkpoints/last.safetensors` said only "is not a run directory (it is
    a file)", and `predict RUN/checkpoints` "(no config.yaml)": neither named RUN."""
    res, rows, _ = iris_run
    run = Path(res.run_dir)
    for inside in (run / "checkpoints" / "last.safetensors", run / "checkpoints"):
        proc = run_cli("predict", inside, "--data", rows)
        assert_one_line_error(
            proc,
            f"{str(inside)!r} is not a run directory",
            f"give the run folder that holds it, {str(run)!r} (with its config.yaml)",
        )
    # Named as given: from inside the run folder, a relative path leads to it.
    proc = run_cli("predict", "last.safetensors", "--data", rows, cwd=run / "checkpoints")
    assert_one_line_error(proc, "give the run folder that holds it, '..'")
    # A folder near no run gets the line it had.
    proc = run_cli("predict", tmp_path, "--data", rows)
    line = assert_one_line_error(proc, "is not a run directory (no config.yaml)")
    assert "give" not in line


@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor"])
def test_a_saved_estimator_given_as_the_run_says_how_to_load_it(kind, run_cli, tmp_path):
    """A file from MLPClassifier.save said only "is not a run directory (it is a file)",
    where MLPClassifier.load of a run's checkpoint names load_run."""
    import mlplab

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int) if kind == "MLPClassifier" else X[:, 0]
    est = getattr(mlplab, kind)(epoch=2, random_state=0).fit(X, y)
    path = tmp_path / "est.safetensors"
    est.save(path)
    pd.DataFrame(X, columns=["x1", "x2"]).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", path, "--data", tmp_path / "new.csv")
    assert_one_line_error(
        proc,
        f"{str(path)!r} is not a run directory (it is a file); it is a saved estimator "
        f"({kind}.save), which predict does not read; in Python, "
        f"mlplab.{kind}.load({str(path)!r}) and then its .predict(X)",
    )


def test_an_experiment_folder_given_as_the_run_names_one_of_its_runs(iris_run, run_cli, tmp_path):
    """A sweep's folder said only "is not a run directory (no config.yaml)"."""
    res, rows, _ = iris_run
    sweep = run_cli("sweep", "--data", "iris", "--epoch", "3", "--lr", "0.001", "0.3",
                    "--workers", "1", "--plots", "none", "--log_path", tmp_path / "runs",
                    "--exp_name", "sw", "--quiet")  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    folder = tmp_path / "runs" / "sw"
    # The report's best run, by val_acc (ties by val_loss), not the first by name.
    runs = sorted(p for p in folder.iterdir() if (p / "config.yaml").is_file())
    records = [json.loads((p / "result.json").read_text()) for p in runs]
    best = min(zip(records, runs, strict=True), key=lambda r: (-r[0]["val_acc"], r[0]["val_loss"]))
    proc = run_cli("predict", folder, "--data", rows)
    assert_one_line_error(
        proc,
        f"{str(folder)!r} is not a run directory (no config.yaml); it is an experiment folder "
        f"of 2 runs; give one run's folder, e.g. the best by val_acc, {str(best[1])!r} (its "
        "results.csv, from mlplab report, ranks them)",
    )
    # A train's experiment folder, of one run.
    run = Path(res.run_dir)
    proc = run_cli("predict", run.parent, "--data", rows)
    assert_one_line_error(proc, f"experiment folder of 1 run; give that run's folder, {str(run)!r}")


def test_an_experiment_folder_names_its_best_run_by_the_reports_ranking(tmp_path) -> None:
    """`mlplab predict runs/grid` suggested runs/grid/grid-0474f9, the first by name, not
    grid-dab492, the report's best: the hint names the best finished run by the report's
    default metric where the records say it, and the first by name where they do not."""
    from mlplab.runs.record import run_folder_hint

    def run(name: str, **record: object) -> None:
        (tmp_path / "grid" / name).mkdir(parents=True)
        (tmp_path / "grid" / name / "config.yaml").write_text("epoch: 1\n")
        if record:
            (tmp_path / "grid" / name / "result.json").write_text(json.dumps(record))

    # as records have it: the `task` setting auto, the task the run found in task_type
    done = {"status": "finished", "task": "auto", "task_type": "regression"}
    run("grid-0474f9", **done, val_mse=9.0, val_mae=2.0)
    run("grid-3b1c20", **done, val_mse=4.0, val_mae=1.9)
    run("grid-dab492", **done, val_mse=4.0, val_mae=1.5)  # tied val_mse: by val_mae
    run("grid-e00000", status="diverged", task="auto", task_type="regression", val_mse=0.1)
    run("grid-f00000", **done, val_mse=float("nan"))
    run("grid-f11111")  # no record yet
    hint = run_folder_hint(tmp_path / "grid")
    assert hint == (
        "it is an experiment folder of 6 runs; give one run's folder, e.g. the best by "
        f"val_mse, {str(tmp_path / 'grid' / 'grid-dab492')!r} (its results.csv, from mlplab "
        "report, ranks them)"
    )
    assert "\n" not in hint
    shutil.rmtree(tmp_path / "grid")
    run("a-1", status="finished", task="binary", val_acc=0.8, val_loss=0.4)
    run("a-2", status="finished", task="binary", val_acc=0.9, val_loss=0.5)
    assert "e.g. the best by val_acc, " in (hint := run_folder_hint(tmp_path / "grid") or "")
    assert hint.endswith(f"{str(tmp_path / 'grid' / 'a-2')!r} (its results.csv, from mlplab "
                         "report, ranks them)")  # fmt: skip
    shutil.rmtree(tmp_path / "grid")
    run("b-1")
    run("b-2", status="running")
    assert run_folder_hint(tmp_path / "grid") == (
        "it is an experiment folder of 2 runs; give one run's folder, e.g. "
        f"{str(tmp_path / 'grid' / 'b-1')!r} (its results.csv, from mlplab report, ranks them)"
    )


def test_a_run_still_training_without_a_checkpoint_says_so(iris_run, run_cli, tmp_path):
    """A run training now (status running), before its first save, said only that its
    last.safetensors did not exist, as if a file had gone."""
    res, rows, _ = iris_run
    run = tmp_path / "run"
    shutil.copytree(res.run_dir, run)
    shutil.rmtree(run / "checkpoints")
    record = json.loads((run / "result.json").read_text())
    (run / "result.json").write_text(json.dumps({**record, "status": "running"}))
    proc = run_cli("predict", run, "--data", rows)
    assert_one_line_error(
        proc,
        f"{str(run)!r} has no checkpoint yet: the run is still training, or was killed before "
        "its first checkpoint; predict once it has finished (--save_every N writes one every "
        "N epochs while it trains)",
    )
    # A finished run whose checkpoints have gone is not said to be training.
    (run / "result.json").write_text(json.dumps(record))
    proc = run_cli("predict", run, "--data", rows)
    line = assert_one_line_error(proc, "last.safetensors' does not exist")
    assert "still training" not in line.replace(str(tmp_path), "")


def test_missing_one_hot_columns_are_told_how_to_be_made(run_cli, tmp_path):
    """pandas.get_dummies of a batch without green rows has no color_green, and a file of
    the text column color has none of color_*: both were refused with the missing names
    alone."""
    rng = np.random.default_rng(0)
    color = rng.choice(["red", "green", "blue"], 60)
    df = pd.concat(
        [pd.DataFrame({"x1": rng.normal(size=60)}), pd.get_dummies(color, prefix="color")], axis=1
    )
    df["y"] = (df.x1 > 0) * 1
    df.to_csv(tmp_path / "t.csv", index=False)
    run = train(data=str(tmp_path / "t.csv"), epoch=2, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    no_green = color != "green"
    x1 = df.x1[no_green].reset_index(drop=True)
    new = pd.concat([x1, pd.get_dummies(color[no_green], prefix="color")], axis=1)
    new.to_csv(tmp_path / "nogreen.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "nogreen.csv")
    assert_one_line_error(
        proc,
        "the run's feature column 'color_green' is missing",
        "; a category absent from these rows is a one-hot column of 0s: add it as such "
        "(pandas: df.reindex(columns=[*df.columns, 'color_green'], fill_value=0))",
    )
    # Added as told, the rows predict.
    new.reindex(columns=[*new.columns, "color_green"], fill_value=0).to_csv(
        tmp_path / "fixed.csv", index=False
    )
    assert run_cli("predict", run.run_dir, "--data", tmp_path / "fixed.csv").returncode == 0
    # The text column as it was before encoding.
    pd.DataFrame({"x1": df.x1, "color": color}).to_csv(tmp_path / "raw.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "raw.csv")
    line = assert_one_line_error(
        proc,
        "; the file's text column 'color' is what 'color_blue', 'color_green', 'color_red' "
        "encode: one-hot encode it as for training (pandas.get_dummies(df, columns=['color']))",
    )
    assert "column of 0s" not in line


def test_a_missing_column_that_held_other_values_than_0_and_1_is_no_category(run_cli, tmp_path):
    """digits' pixel_3_4, missing beside a pixel_3_0 of 0s, was told to be added as a
    one-hot column of 0s: followed, a centre pixel was blank and every prediction wrong."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"px_0": np.zeros(60), "px_1": rng.integers(0, 17, 60)})
    df["px_2"] = rng.integers(0, 17, 60)
    df["y"] = (df.px_1 > df.px_2) * 1
    df.to_csv(tmp_path / "t.csv", index=False)
    new = df.drop(columns=["px_2", "y"])
    new.to_csv(tmp_path / "no_px_2.csv", index=False)
    for standardize, hint in [
        ("auto", None),  # training's spread: px_2 held 0 to 16, no category's column
        ("false", "; if it is one-hot of a category absent from these rows, add it as 0s"),
    ]:
        run = train(data=str(tmp_path / "t.csv"), epoch=2, plots="none", verbose=False,
                    standardize=standardize, log_path=str(tmp_path / "runs"))  # fmt: skip
        proc = run_cli("predict", run.run_dir, "--data", tmp_path / "no_px_2.csv")
        line = assert_one_line_error(proc, "the run's feature column 'px_2' is missing")
        assert ("0s" in line) == (hint is not None), line
        assert hint is None or hint in line, line


def test_every_text_column_the_run_one_hot_encoded_is_named_in_the_hint(run_cli, tmp_path):
    """A file of the text columns color and region named only color in its get_dummies
    hint: followed, the file was refused again for region (training names both)."""
    rng = np.random.default_rng(0)
    color, region = rng.choice(["red", "blue"], 60), rng.choice(["north", "south"], 60)
    df = pd.concat(
        [pd.DataFrame({"x1": rng.normal(size=60)}), pd.get_dummies(color, prefix="color"),
         pd.get_dummies(region, prefix="region")], axis=1,
    )  # fmt: skip
    df["y"] = (df.x1 > 0) * 1
    df.to_csv(tmp_path / "t.csv", index=False)
    run = train(data=str(tmp_path / "t.csv"), epoch=2, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    raw = pd.DataFrame({"x1": df.x1, "color": color, "region": region})
    raw.to_csv(tmp_path / "raw.csv", index=False)
    proc = run_cli("predict", run.run_dir, "--data", tmp_path / "raw.csv")
    assert_one_line_error(
        proc,
        "; the file's text columns 'color', 'region' are what 'color_blue', 'color_red', "
        "'region_north', 'region_south' encode: one-hot encode them as for training "
        "(pandas.get_dummies(df, columns=['color', 'region']))",
    )
    # Done as told, the rows predict.
    pd.get_dummies(raw, columns=["color", "region"]).to_csv(tmp_path / "new.csv", index=False)
    assert run_cli("predict", run.run_dir, "--data", tmp_path / "new.csv").returncode == 0


def test_an_npz_file_piped_to_data_dash_is_told_to_be_given_by_its_path(iris_run, tmp_path):
    """`cat new.npz | mlplab predict RUN --data -` said "standard input is zip-compressed;
    unpack it first", which no NPZ file is meant to be."""
    res, _, raw = iris_run
    np.savez(tmp_path / "new.npz", X=raw)

    def predict(stdin: bytes) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "mlplab", "predict", str(res.run_dir), "--data", "-"]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120)
        return subprocess.CompletedProcess(cmd, proc.returncode, proc.stdout.decode(),
                                           proc.stderr.decode())  # fmt: skip

    assert_one_line_error(
        predict((tmp_path / "new.npz").read_bytes()),
        "--data -: standard input holds an NPZ file, which predict reads from a file: give "
        "its path (--data new.npz)",
    )
    # A zipped CSV is still told to be unpacked.
    import zipfile

    with zipfile.ZipFile(tmp_path / "rows.zip", "w") as z:
        z.writestr("rows.csv", "a,b\n1,2\n")
    assert_one_line_error(predict((tmp_path / "rows.zip").read_bytes()), "zip-compressed")


def test_rows_far_past_the_training_values_are_noted(iris_run, run_cli, tmp_path):
    """Inputs a million times out of range got a probability of 1.0 with no word: the
    checkpoint's standardization knows how far they lie. Rows of the training range get
    none."""
    res, rows, _ = iris_run
    df = pd.read_csv(rows)
    first = res.dataset.feature_names[0]
    df.loc[2, first] = df[first].iloc[2] * 1e6
    df.to_csv(tmp_path / "far.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "far.csv")
    assert proc.returncode == 0, proc.stderr
    (note,) = proc.stderr.strip().splitlines()
    assert note.startswith(f"mlplab: note: '{tmp_path / 'far.csv'}': 1 of {len(df)} rows have a ")
    assert f"(data row 3: {first!r} is " in note and "outputs for them are a guess" in note
    assert len(proc.stdout.splitlines()) == len(df) + 1  # predicted all the same
    quiet = run_cli("predict", res.run_dir, "--data", rows)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert run_cli("predict", res.run_dir, "--data", tmp_path / "far.csv", "-q").stderr == ""
    # A long tail's training rows, and a rare one-hot 1, are none; a year of 0 is one.
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"income": rng.lognormal(0, 1.5, 300), "year": rng.integers(1995, 2005, 300),
                          "rare": (rng.random(300) < 0.01).astype(int)})  # fmt: skip
    table["y"] = (table.income > 1).astype(int)
    table.to_csv(tmp_path / "t.csv", index=False)
    run = train(data=str(tmp_path / "t.csv"), target=["y"], epoch=2, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    own = run_cli("predict", run.run_dir, "--data", tmp_path / "t.csv")
    assert own.returncode == 0 and own.stderr == "", own.stderr
    table.head(3).assign(year=[2000, 0, 1]).to_csv(tmp_path / "years.csv", index=False)
    years = run_cli("predict", run.run_dir, "--data", tmp_path / "years.csv")
    assert "2 of 3 rows have a value 100 or more training spreads" in years.stderr, years.stderr


def test_a_torch_run_predicts_where_torch_is_not_installed(run_cli, tmp_path):
    """A machine kept to predict, without torch: a torch-engine run's predict failed with
    "checkpoint ... does not fit this run's config.yaml (ModuleNotFoundError ...)", and its
    load_run too, where the numpy engine evaluates the same model."""
    import subprocess
    import sys

    res = train(data="moons", epoch=3, engine="torch", plots="none", verbose=False,
                log_path=str(tmp_path))  # fmt: skip
    X = np.array([[0.0, 0.5], [1.0, -0.5], [2.0, 0.3]])
    pd.DataFrame(X, columns=res.dataset.feature_names).to_csv(tmp_path / "x.csv", index=False)
    with_torch = run_cli("predict", res.run_dir, "--data", tmp_path / "x.csv")
    assert with_torch.returncode == 0, with_torch.stderr
    blocked = "import sys\nsys.modules['torch'] = None\n"  # as if torch were not installed
    code = blocked + "from mlplab.cli import main\nsys.exit(main(sys.argv[1:]))"
    args = ["predict", str(res.run_dir), "--data", str(tmp_path / "x.csv")]
    without = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert without.returncode == 0, without.stderr
    assert without.stdout == with_torch.stdout
    code = blocked + f"import mlplab\nmlplab.load_run({str(res.run_dir)!r}, data=False)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert loaded.returncode == 1
    assert ("is of a torch-engine run, and torch cannot be imported here; the numpy engine "
            "loads the same model: load_run(run_dir, engine='numpy')") in loaded.stderr  # fmt: skip


def test_out_of_a_compressed_or_tab_separated_name_is_written_so(iris_run, run_cli, tmp_path):
    """--out sub.csv.gz (or .zip, .bz2, .xz) wrote plain CSV text under a compressed
    file's name, which an upload that unpacks it (Kaggle's) failed to read; .tsv got
    commas. Each is written as its name says; a compression not written is refused."""
    import bz2
    import gzip
    import lzma
    import zipfile

    res, rows, _ = iris_run
    plain = run_cli("predict", res.run_dir, "--data", rows, "-q").stdout
    unpack = {
        "sub.csv.gz": lambda p: gzip.decompress(p.read_bytes()),
        "sub.bz2": lambda p: bz2.decompress(p.read_bytes()),
        "sub.csv.XZ": lambda p: lzma.decompress(p.read_bytes()),
        "sub.zip": lambda p: zipfile.ZipFile(p).read("sub.csv"),
        "sub.csv.zip": lambda p: zipfile.ZipFile(p).read("sub.csv"),
    }
    for name, read in unpack.items():
        out = tmp_path / name
        proc = run_cli("predict", res.run_dir, "--data", rows, "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert read(out).decode() == plain, name
        assert pd.read_csv(out).equals(pd.read_csv(io.StringIO(plain)))  # as pandas infers it
    assert zipfile.ZipFile(tmp_path / "sub.zip").namelist() == ["sub.csv"]  # one CSV inside
    # A tab between values for .tsv and .tab, compressed or not.
    for name in ("sub.tsv", "sub.TAB", "sub.tsv.gz"):
        proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
        got = pd.read_csv(tmp_path / name, sep="\t")
        assert got.equals(pd.read_csv(io.StringIO(plain))), name
    # Other formats, or a compression not written, are refused by name: nothing is written.
    proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / "sub.csv.tar.gz")
    assert "(e.g. sub.csv)" in proc.stderr  # not sub.csv.csv
    for name in ("sub.zst", "sub.csv.7z", "sub.parquet.gz", "sub.tgz", "sub.tar.gz", "s.tar.bz2"):
        proc = run_cli("predict", res.run_dir, "--data", rows, "--out", tmp_path / name)
        assert_one_line_error(
            proc,
            f"--out {str(tmp_path / name)!r}: predictions are written as CSV",
            ".gz, .bz2, .xz or .zip",
            ".tsv",
        )
        assert not (tmp_path / name).exists()


def test_an_ignored_id_in_another_case_or_absent_is_noted(run_cli, tmp_path):
    """A run trained with --ignore id, on a file that names it Id or has none: the output
    had no id column, and nothing said why; the predictions could not be joined back."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    table = pd.DataFrame({"id": [f"r{i}" for i in range(40)], "a": X[:, 0], "b": X[:, 1]})
    table["spend"] = X[:, 1] * 2
    table["label"] = np.where(X[:, 0] > 0, "yes", "no")
    table.to_csv(tmp_path / "t.csv", index=False)
    res = train(data=str(tmp_path / "t.csv"), ignore=["id", "spend"], epoch=2, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    new = table.drop(columns=["label", "spend"]).head(5)
    new.to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # its id: no note
    new.rename(columns={"id": "Id"}).to_csv(tmp_path / "Id.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "Id.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "predicted,p_no,p_yes"
    assert proc.stderr == (
        f"mlplab: note: {str(tmp_path / 'Id.csv')!r} has no column 'id', which the run "
        "ignored and predict copies beside the predictions to name their rows; it has 'Id' "
        "(names are case-sensitive): rename it 'id', or add --keep Id\n"
    )
    new.drop(columns="id").to_csv(tmp_path / "bare.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "bare.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"mlplab: note: {str(tmp_path / 'bare.csv')!r} has none of the columns the run "
        "ignored ('id', 'spend'), which predict copies beside the predictions to name their "
        "rows: the predictions are in the file's row order\n"
    )
    cmd = [sys.executable, "-m", "mlplab", "predict", str(res.run_dir), "--data", "-"]
    piped = subprocess.run(cmd, input=(tmp_path / "bare.csv").read_text(), capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert piped.returncode == 0 and piped.stdout == proc.stdout, piped.stderr
    assert piped.stderr.startswith("mlplab: note: standard input (--data -) has none of the ")
    # Quiet, or with an id of its own kept, it says nothing.
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "Id.csv", "-q")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "Id.csv", "--keep", "Id")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.splitlines()[0] == "Id,predicted,p_no,p_yes"


def test_a_run_that_stopped_early_names_its_best_model_unless_one_is_asked_for(run_cli, tmp_path):
    """After early stopping, predict used the last model (patience epochs past the best)
    and said nothing, where Keras's restore_best_weights and an estimator keep the best."""
    res = train(data="moons", n_samples=80, noise=0.4, n_layer=2, hid_dim=64, optim="adam",
                lr=0.01, epoch=300, batch_size=16, patience=5, plots="none", verbose=False,
                log_path=str(tmp_path / "runs"))  # fmt: skip
    rec = res.record
    assert rec["stopped_early"] and rec["best_epoch"] < rec["epochs_run"]
    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(5, 2)), columns=["x1", "x2"])
    rows.to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"mlplab: note: {res.run_dir} stopped early at epoch {rec['epochs_run']} (patience "
        f"5): predicting with its last model, as by default; its best, of epoch "
        f"{rec['best_epoch']}, is --checkpoint best\n"
    )
    for args in (["--checkpoint", "last"], ["--checkpoint", "best"], ["-q"]):
        again = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv", *args)
        assert again.returncode == 0 and again.stderr == "", (args, again.stderr)
        if args[-1] != "best":
            assert again.stdout == proc.stdout


def test_spaces_around_a_copied_id_are_left_out_at_both_ends(run_cli, tmp_path):
    """An id written ` 10601 ` came back as `10601 `: the space after the comma was left
    out and the one before the next kept, and a quoted `"  B2  "` kept both. One rule now,
    that of names and labels: the spaces at either end are no part of it."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 1))
    lines = ["id,a,note,label"] + [
        f"r{i},{x:.4f},n{i},{'yes' if x > 0 else 'no'}" for i, x in enumerate(X[:, 0])
    ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    res = train(data=str(tmp_path / "t.csv"), ignore=["id", "note"], epoch=2, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    new = 'id,a,note\n  A1  ,0.5, x \n"  B2  ",-0.5,"  y"\n 10601 ,1.0,z  \n007,0.1,\n'
    (tmp_path / "new.csv").write_text(new)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)
    assert got["id"].tolist() == ["A1", "B2", "10601", "007"]
    assert got["note"].tolist() == ["x", "y", "z", ""]


def test_missing_values_to_predict_are_counted_by_column_in_one_line(iris_run, run_cli, tmp_path):
    """NaN in three rows of one column and one of another was refused at its first cell,
    with no count and no word of the other column: fixed one round at a time."""
    res, rows, _ = iris_run
    names = res.dataset.feature_names
    df = pd.read_csv(rows)
    df.loc[[3, 7, 9, 11], names[0]] = np.nan
    df.loc[5, names[2]] = np.nan
    df.loc[1, names[2]] = np.inf
    df.to_csv(tmp_path / "na.csv", index=False)
    proc = run_cli(
        "predict", res.run_dir, "--data", tmp_path / "na.csv", "--out", tmp_path / "p.csv"
    )
    assert_one_line_error(
        proc,
        f"data file {str(tmp_path / 'na.csv')!r}: 6 cells of the feature columns hold no "
        f"number: {names[0]!r} 4 NaN (missing values; data rows 4, 8, 10, ...), {names[2]!r} "
        "1 NaN (data row 6) and 1 inf (data row 2); every row to predict needs a number in "
        "each feature column",
    )
    assert not (tmp_path / "p.csv").exists()


def test_an_id_column_the_run_never_saw_is_noted_with_keep(iris_run, run_cli, tmp_path):
    """A Kaggle test.csv's PassengerId, beside a run that ignored nothing: the submission
    came without it, and nothing said so."""
    res, rows, _ = iris_run
    table = pd.read_csv(rows)
    table.insert(0, "PassengerId", range(100, 100 + len(table)))
    table.to_csv(tmp_path / "test.csv", index=False)
    proc = run_cli("predict", res.run_dir, "--data", tmp_path / "test.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"mlplab: note: {str(tmp_path / 'test.csv')!r} has a column 'PassengerId' that the run "
        "did not train on, which the predictions leave out: they are in the file's row "
        "order; --keep PassengerId copies it beside them\n"
    )
    kept = run_cli("predict", res.run_dir, "--data", tmp_path / "test.csv", "--keep", "PassengerId")
    assert kept.returncode == 0 and kept.stderr == "", kept.stderr
    assert kept.stdout.splitlines()[1].startswith("100,")
    plain = run_cli("predict", res.run_dir, "--data", rows)  # no id: no note
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
