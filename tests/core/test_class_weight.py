"""``class_weight: balanced``: a rare class counts in the loss as much as a common one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlplab.config import Config
from mlplab.data import load_dataset
from mlplab.data.dataset import balance_classes
from mlplab.errors import ConfigError
from mlplab.runner import train
from mlplab.sweeps.api import sweep


@pytest.fixture(scope="module")
def rare(tmp_path_factory) -> str:
    """1,000 rows, about 5% of them 'fraud', which a second feature only hints at."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 2))
    fraud = (X[:, 0] + 0.8 * rng.normal(size=1000)) > 2.2
    path = tmp_path_factory.mktemp("data") / "rare.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": np.where(fraud, "fraud", "ok")}).to_csv(
        path, index=False
    )
    return str(path)


def test_each_class_weighs_rows_over_its_rows_and_each_split_averages_one(rare):
    ds = load_dataset(rare, split=[0.6, 0.2, 0.2])
    balance_classes(ds)
    assert ds.weights is not None and set(ds.weights) == {"train", "val", "test"}
    y = ds.y_train[:, 0].astype(int)
    w = ds.weights["train"]
    # scikit-learn's 'balanced', rows / (classes x class rows), scaled to average 1: the
    # classes' weights stand in the inverse ratio of their counts.
    counts = np.bincount(y)
    assert w[y == 1][0] / w[y == 0][0] == pytest.approx(counts[0] / counts[1])
    assert np.ptp(w[y == 1]) == 0 and np.ptp(w[y == 0]) == 0
    for split in ("train", "val", "test"):
        assert ds.weights[split].mean() == pytest.approx(1.0)
    # The two classes weigh alike in the training loss.
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())


def test_balanced_finds_more_of_the_rare_class_than_none(rare, tmp_path):
    kw = dict(data=rare, optim="adam", lr=0.01, epoch=30, batch_size=64, hid_dim=16,
              plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    plain = train(**kw)
    balanced = train(**kw, class_weight="balanced")
    assert balanced.run_dir != plain.run_dir and balanced.record["class_weight"] == "balanced"
    X = np.concatenate([plain.dataset.X_test, plain.dataset.X_val])
    y = np.concatenate([plain.dataset.y_test, plain.dataset.y_val])[:, 0]

    fraud = plain.dataset.class_names.index("fraud")

    def recall(res) -> float:  # of the rare class, on the rows held out
        predicted = (res.model_outputs(X)[:, 0] > 0).astype(int)
        return float((predicted[y == fraud] == fraud).mean())

    assert recall(balanced) > recall(plain) + 0.2
    assert balanced.record["test_acc"] < plain.record["test_acc"]  # what it costs


def test_runs_before_the_setting_keep_their_ids_and_a_sweep_stacks_the_kinds_apart(rare, tmp_path):
    assert Config(class_weight="none").run_hash() == Config().run_hash()
    assert Config(class_weight=None).class_weight == "none"  # scikit-learn's spelling
    assert Config(class_weight="balanced").run_hash() != Config().run_hash()
    res = sweep(data=rare, class_weight=["none", "balanced"], seed=[0, 1], epoch=3,
                log_path=str(tmp_path), workers=1, report=False, verbose=False, plots="none")  # fmt: skip
    assert res.exit_code == 0
    # Each run's loss is its own kind's: the same as a single run of its config.
    for cfg, run_dir in zip(res.configs, res.run_dirs, strict=True):
        alone = train(cfg, record=False, verbose=False)
        from mlplab.runs.record import read_result

        assert read_result(run_dir)["train_loss"] == alone.record["train_loss"]


def test_a_regression_takes_no_class_weight_and_says_so(capsys, tmp_path):
    res = train(data="sinlog", class_weight="balanced", epoch=2, log_path=str(tmp_path),
                plots="none")  # fmt: skip
    assert res.dataset.weights is None
    assert "class_weight applies to a classification; sinlog is a regression" in (
        capsys.readouterr().out
    )


def test_a_dataset_given_to_train_is_balanced_too_and_its_own_weights_kept(rare, tmp_path):
    """train(dataset=..., class_weight='balanced') trained unweighted under a record that
    said balanced; a Dataset with row weights of its own is not overridden unsaid."""
    from mlplab.errors import ConfigError

    ds = load_dataset(rare)
    kw = dict(dataset=ds, epoch=3, record=False, verbose=False)
    plain = train(**kw)
    balanced = train(**kw, class_weight="balanced")
    assert balanced.record["train_loss"] != plain.record["train_loss"]
    assert ds.weights is None  # the caller's Dataset is left as it was
    ds.weights = {s: np.ones(len(y)) for s, (_, y) in ds.splits().items()}
    with pytest.raises(ConfigError, match="on a dataset with weights of its own"):
        train(**kw, class_weight="balanced")


def test_a_class_no_training_row_has_weighs_as_one_of_average_size():
    from mlplab.data.dataset import Dataset

    X = np.zeros((4, 1))
    train_y, held_y = np.array([0, 1, 0, 1]), np.array([0, 1, 2, 1])  # c only held out
    ds = Dataset("t", "multiclass", X, train_y, X, held_y, X, held_y, ["x"], ["y"],
                 ["a", "b", "c"])  # fmt: skip
    balance_classes(ds)
    # a and b weigh 1 (balanced, equal counts), and so does c, which had weighed rows /
    # classes, the largest weight of all, and made its one row most of the val loss.
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(ds.weights[split], 1.0)


def test_backprop_refuses_a_weighted_cost_rather_than_show_another_step():
    from mlplab.chainrule import backprop
    from mlplab.errors import ConfigError

    with pytest.raises(ConfigError, match="backprop traces the unweighted cost's chain rule"):
        backprop(data="and", class_weight="balanced", hid_dim=2)


def test_per_class_gives_each_classs_numbers_as_scikit_learn_does(tmp_path):
    """A rare class's recall of 0 was in no file and no call: the means (bacc, f1) hid it,
    and sklearn's classification_report took standardized rows predict refuses."""
    from sklearn.metrics import precision_recall_fscore_support

    import mlplab
    from mlplab.errors import DataError
    from mlplab.training.metrics import predicted_classes, true_classes

    for data in ("iris", "breast_cancer"):
        run = mlplab.train(data=data, epoch=3, plots="none", verbose=False,
                           log_path=str(tmp_path))  # fmt: skip
        table = run.per_class("test")
        X, y = run.dataset.X_test, run.dataset.y_test
        true = true_classes(run.dataset.task, y)
        pred = predicted_classes(run.dataset.task, run.model_outputs(X))
        labels = list(range(len(run.dataset.class_names)))
        p, r, f, support = precision_recall_fscore_support(
            true, pred, labels=labels, zero_division=0
        )
        assert list(table.index) == run.dataset.class_names
        np.testing.assert_array_equal(table["rows"], support)
        np.testing.assert_allclose(table["recall"], r)
        np.testing.assert_allclose(table["precision"], p)
        np.testing.assert_allclose(table["f1"], f, atol=1e-12)
        assert table["predicted"].sum() == len(true)
        # The balanced accuracy in the record is the mean recall of the classes with rows.
        assert table["recall"].mean() == pytest.approx(run.record["test_bacc"])
    with pytest.raises(DataError, match=r"split is one of train, val \(or validation\), test"):
        run.per_class("holdout")
    assert run.per_class("validation").equals(run.per_class("val"))
    # A class never predicted has precision 0, not NaN (scikit-learn's zero_division).
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(400, 2)), columns=["a", "b"])
    df["y"] = np.where(np.arange(400) < 8, "rare", "common")
    df.to_csv(tmp_path / "rare.csv", index=False)
    quiet = mlplab.train(data=str(tmp_path / "rare.csv"), epoch=10, optim="adam", plots="none",
                         verbose=False, record=False, stratify=True)  # fmt: skip
    table = quiet.per_class("test")
    assert table.loc["rare", "rows"] == 1 and table.loc["rare", "predicted"] == 0
    assert (table.loc["rare", ["recall", "precision", "f1"]] == 0).all()
    assert not table.isna().any().any()
    sine = mlplab.train(data="sine", epoch=1, plots="none", verbose=False, record=False)
    with pytest.raises(DataError, match="a regression model has no classes"):
        sine.per_class()


def test_a_weight_per_class_names_the_estimator_that_takes_one():
    """Keras' class_weight={0: 1, 1: 10} was only "not one of none, balanced"."""
    with pytest.raises(ConfigError) as err:
        Config(class_weight={0: 1, 1: 10})
    assert str(err.value).endswith(
        "setting 'class_weight': {0: 1, 1: 10} is not one of none, balanced; a weight per "
        "class ({label: weight}) is mlplab.MLPClassifier(class_weight=...)'s; a run takes "
        "'balanced', which weighs each class by rows / (classes x its rows), so that a rare "
        "class counts as much as a common one"
    )
