"""Tabular defaults: data files and bundled tables are standardized, the labs' sets are not.

``standardize: auto`` (the default) fits the scaler on the training split of a data file or
a bundled table and keeps it in the checkpoint, where ``mlplab predict`` reads it; the
lectures' synthetic sets stay raw, as the labs train them. ``--split`` asks that are not
what they look like are refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import assert_one_line_error
from mlplab.assemble import load_data
from mlplab.config import SYNTHETIC_SETS, make_config
from mlplab.data.registry import BUILTIN
from mlplab.errors import ConfigError
from mlplab.runs.checkpoint import load_checkpoint

# The README's command for a user's table, without --standardize.
README_FLAGS = ("--optim", "ADAM", "--lr", "1e-3", "--batch_size", "32")


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory) -> Path:
    """The breast-cancer table as a user would have it: a CSV with a string target."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    df = bunch.frame
    df["diagnosis"] = [str(bunch.target_names[t]) for t in df.pop("target")]
    path = tmp_path_factory.mktemp("table") / "cancer.csv"
    df.to_csv(path, index=False)
    return path


def _record(log: Path) -> tuple[dict, dict]:
    (run_dir,) = [p for p in log.glob("*/*") if (p / "result.json").is_file()]
    result = json.loads((run_dir / "result.json").read_text())
    return result, load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta


def test_config_and_registry_agree_on_the_synthetic_sets():
    assert {d.name for d in BUILTIN.values() if d.source == "synthetic"} == SYNTHETIC_SETS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("xor", False),
        ("sinlog", False),
        ("ring", False),
        ("moons", False),
        ("breast_cancer", True),
        ("digits", True),
        ("diabetes", True),
    ],
)
def test_auto_standardizes_tables_and_leaves_the_labs_sets_raw(data, expected):
    cfg = make_config({"data": data})
    assert cfg.standardize == "auto" and cfg.standardizes() is expected
    ds = load_data(cfg)
    assert (ds.scaler is not None) is expected
    if expected:
        np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-9)
    # Explicit values win over auto, both ways.
    flipped = load_data(make_config({"data": data, "standardize": not expected}))
    assert (flipped.scaler is not None) is (not expected)


def test_auto_keeps_the_hashes_of_what_it_resolves_to(cancer_csv):
    xor = make_config({"data": "xor"})
    assert xor.run_hash() == make_config({"data": "xor", "standardize": False}).run_hash()
    table = make_config({"data": str(cancer_csv)})
    assert (
        table.run_hash() == make_config({"data": str(cancer_csv), "standardize": True}).run_hash()
    )
    assert (
        table.run_hash() != make_config({"data": str(cancer_csv), "standardize": False}).run_hash()
    )


def test_standardize_takes_auto_true_false_only():
    assert make_config({"standardize": "true"}).standardize is True
    assert make_config({"standardize": "false"}).standardize is False
    with pytest.raises(ConfigError, match="'standardize'"):
        make_config({"standardize": "sometimes"})


def test_a_users_table_reaches_the_standardized_accuracy_by_default(cancer_csv, run_cli, tmp_path):
    """Issue 15, item 8: the README's settings gave 0.877 on raw features."""
    common = ("train", "--data", cancer_csv, "--target", "diagnosis", *README_FLAGS)
    common += ("--plots", "none", "--log_every", "0", "--quiet")
    proc = run_cli(*common, "--log_path", tmp_path / "auto")
    assert proc.returncode == 0, proc.stderr
    result, meta = _record(tmp_path / "auto")
    assert result["test_acc"] >= 0.95
    assert result["standardize"] == "auto"
    mean, std = (np.asarray(a) for a in meta["scaler"])
    assert (std > 0).all()
    # Fitted on the training split only: its moments are not the whole table's.
    table = pd.read_csv(cancer_csv).drop(columns="diagnosis").to_numpy()
    assert mean.shape == (30,) and not np.allclose(mean, table.mean(axis=0), rtol=1e-12)
    # The switch still works: the raw features train without a scaler in the record.
    proc = run_cli(*common, "--standardize", "false", "--log_path", tmp_path / "raw")
    assert proc.returncode == 0, proc.stderr
    assert _record(tmp_path / "raw")[1]["scaler"] is None


def test_bare_flag_still_means_true(cancer_csv, run_cli):
    proc = run_cli("train", "--data", cancer_csv, "--standardize", "--print_config")
    assert proc.returncode == 0, proc.stderr
    assert "standardize: true" in proc.stdout
    proc = run_cli("train", "--data", cancer_csv, "--standardize", "maybe", "--print_config")
    assert_one_line_error(proc, "'standardize'")


def test_predict_applies_the_scaler_kept_with_the_model(cancer_csv, run_cli, tmp_path):
    data = tmp_path / "train.csv"
    data.write_bytes(cancer_csv.read_bytes())
    log = tmp_path / "runs"
    proc = run_cli(
        "train", "--data", data, "--target", "diagnosis", *README_FLAGS, "--epoch", "20",
        "--plots", "none", "--log_path", log, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in log.glob("*/*") if (p / "result.json").is_file()]
    rows = tmp_path / "new.csv"
    pd.read_csv(cancer_csv).head(40).to_csv(rows, index=False)
    before = run_cli("predict", run_dir, "--data", rows)
    assert before.returncode == 0, before.stderr
    # The training file changes afterwards (rows added, here the same rows in other
    # units): a scaler refitted on it would move every prediction.
    df = pd.read_csv(data)
    df.iloc[:, :30] *= 3.0
    df.to_csv(data, index=False)
    after = run_cli("predict", run_dir, "--data", rows)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout


def test_load_run_keeps_the_checkpoints_scaler_when_the_file_changed(cancer_csv, tmp_path):
    from mlplab.errors import DataChangedWarning
    from mlplab.restore import load_run
    from mlplab.runner import train

    data = tmp_path / "train.csv"
    data.write_bytes(cancer_csv.read_bytes())
    res = train(
        data=str(data), target=["diagnosis"], optim="adam", lr=1e-3, batch_size=32, epoch=5,
        plots="none", verbose=False, log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    raw = pd.read_csv(cancer_csv).iloc[:40, :30].to_numpy(dtype=np.float64)
    before = load_run(res.run_dir)
    expected = before.model_outputs(before.dataset.transform(raw))
    df = pd.read_csv(data)
    df.iloc[:, :30] *= 3.0  # the file in other units: a refitted scaler would differ
    df.to_csv(data, index=False)
    with pytest.warns(DataChangedWarning, match="its rows differ"):  # and says so
        after = load_run(res.run_dir)
    saved = after.checkpoint_meta["scaler"]
    np.testing.assert_array_equal(after.dataset.scaler[0], saved[0])
    np.testing.assert_array_equal(after.dataset.scaler[1], saved[1])
    np.testing.assert_allclose(after.model_outputs(after.dataset.transform(raw)), expected)
    # Its splits are the file's new rows in the model's scale: three times the old ones'
    # distance from the mean, in units of the saved std.
    np.testing.assert_allclose(
        after.dataset.X_train * saved[1] + saved[0],
        3.0 * (before.dataset.X_train * saved[1] + saved[0]),
        rtol=1e-9, atol=1e-9,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (("--data", "moons", "--split", "0.5", "0.3", "0.1"), ("'split'", "add up to 1", "0.9")),
        (("--data", "xor", "--split", "0.8", "0.1", "0.1"), ("'split'", "'xor'", "4 rows")),
        (("--data", "and", "--split", "2", "1", "1"), ("'split'", "'and'")),
    ],
)
def test_split_asks_that_would_mislead_are_refused(run_cli, tmp_path, flags, needles):
    proc = run_cli("train", *flags, "--epoch", "1", "--log_path", tmp_path)
    assert_one_line_error(proc, *needles)
    assert not any(tmp_path.iterdir())


def test_two_ratios_leave_the_rest_to_test():
    ds = load_data(make_config({"data": "moons", "split": [0.5, 0.3]}))
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (500, 300, 200)


def test_result_predict_reads_a_dataframe_by_name_and_refuses_scaled_splits():
    """predict takes raw rows: the dataset's splits, already scaled, were scaled twice
    (test accuracy 0.49 for 0.89 on wine), and a DataFrame's columns were taken by place."""
    from mlplab.errors import DataError
    from mlplab.runner import train

    r = train(data="wine", hid_dim=16, epoch=20, optim="adam", lr=0.01, record=False, verbose=False)
    ds = r.dataset
    assert ds.scaler is not None
    # A slice is a view of the split: standardized too, and refused as the split is.
    for split in (ds.X_train, ds.X_val, ds.X_test, ds.X_test[:5], ds.X_train[::2, :]):
        with pytest.raises(DataError, match="already standardized; give them to model_outputs"):
            r.predict(split)
    mean, std = ds.scaler
    raw = pd.DataFrame(ds.X_test * std + mean, columns=ds.feature_names)
    np.testing.assert_allclose(r.predict(raw), r.model_outputs(ds.X_test), rtol=1e-5, atol=1e-6)
    reordered = raw[raw.columns[::-1]]
    np.testing.assert_array_equal(r.predict(reordered), r.predict(raw))
    np.testing.assert_array_equal(r.predict(pd.DataFrame(raw.to_numpy())), r.predict(raw))
    with pytest.raises(DataError, match="X has no column 'alcohol'; the model's features are"):
        r.predict(raw.drop(columns="alcohol"))


@pytest.mark.parametrize("how", ["data", "config", "tuple", "dataset"])
def test_a_table_in_memory_as_data_is_one_line_naming_the_way(how):
    from mlplab.errors import MlplabError
    from mlplab.runner import train

    df = pd.DataFrame({"a": [0.0, 1.0, 2.0], "y": [0, 1, 0]})
    call = {
        "data": lambda: train(data=df, target="y", record=False),
        "config": lambda: train(df, record=False),
        "tuple": lambda: train(data=(df[["a"]].to_numpy(), df.y.to_numpy()), record=False),
        "dataset": lambda: train(dataset=df, record=False),
    }[how]
    with pytest.raises(MlplabError) as err:
        call()
    assert "\n" not in str(err.value)
    assert "MLPClassifier / MLPRegressor" in str(err.value)
    way = {"dataset": "Dataset", "tuple": "np.savez('data.npz'"}.get(how, "to_csv")
    assert way in str(err.value)


def test_a_feature_of_values_near_1e300_or_1e_minus_300_standardizes(tmp_path: Path) -> None:
    """A feature of values near 1e-300 varies, but its variance (1e-600) underflowed to 0:
    it was standardized as a constant column, all zeros, and a run on it scored chance."""
    from mlplab.data.dataset import load_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    for scale in (1e-300, 1e300, 1.0):
        pd.DataFrame({"t": x * scale, "y": (x > 0).astype(int)}).to_csv(
            tmp_path / "t.csv", index=False
        )
        ds = load_dataset(str(tmp_path / "t.csv"), target=["y"], standardize=True)
        assert ds.X_train.std() == pytest.approx(1.0, rel=1e-9), scale
        assert np.corrcoef(ds.X_train[:, 0], ds.y_train[:, 0])[0, 1] > 0.5, scale


def test_transform_gives_float64_rows_of_a_list_or_an_int_array():
    """A dataset without a standardization gave a list back as it was (its .shape failed)
    and an int array as int64, where the README says float64 rows."""
    from mlplab.data import load_dataset

    ds = load_dataset("xor")
    assert ds.scaler is None and ds.features is None
    for rows in ([[0, 1], [1, 1]], np.array([[0, 1], [1, 1]])):
        out = ds.transform(rows)
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
        np.testing.assert_array_equal(out, [[0.0, 1.0], [1.0, 1.0]])
