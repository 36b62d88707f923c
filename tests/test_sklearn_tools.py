"""The estimators in scikit-learn's tools, and saved as mlplab checkpoints."""

from __future__ import annotations

import json
import os
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlplab.errors import CheckpointError, ConfigError
from mlplab.sklearn import MLPClassifier, MLPRegressor

# Small networks that still learn these sets well, in well under a second each.
QUICK = {"hid_dim": 16, "lr": 0.01, "epoch": 60, "random_state": 0}


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def wave():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(600, 2))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + rng.normal(0, 0.05, size=600)
    return X, y


def test_pipeline_with_scaler_generalizes(cancer):
    X, y = cancer
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**QUICK)).fit(Xtr, ytr)
    assert pipe.score(Xte, yte) >= 0.93
    assert pipe.predict_proba(Xte).shape == (len(Xte), 2)


def test_grid_search_over_hid_dim_and_lr(iris):
    X, y = iris
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(epoch=60, random_state=0)),
        {"mlpclassifier__hid_dim": [4, 16], "mlpclassifier__lr": [1e-3, 1e-2]},
        cv=3,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    # 60 epochs at lr 1e-3 do not get far; the search must find the larger lr.
    assert grid.best_params_["mlpclassifier__lr"] == 1e-2
    assert grid.best_score_ >= 0.9
    assert grid.score(X, y) >= 0.9


def test_cross_val_score_classifier_and_regressor(iris, wave):
    X, y = iris
    scores = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**QUICK)), X, y, cv=5)
    assert scores.mean() >= 0.9
    X, y = wave
    r2 = cross_val_score(MLPRegressor(**{**QUICK, "epoch": 100}), X, y, cv=3)
    assert r2.mean() >= 0.9


def test_cross_val_score_in_worker_processes(iris):
    """n_jobs=2 sends the estimator to other processes by pickle and back."""
    X, y = iris
    scores = cross_val_score(
        make_pipeline(StandardScaler(), MLPClassifier(**QUICK)), X, y, cv=4, n_jobs=2
    )
    assert scores.mean() >= 0.9
    # joblib keeps its worker pool, and the threads that manage it, for reuse. They would
    # outlive this test in this pytest process, where a later `train` then (rightly)
    # refuses to fork plot workers.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def test_clone_gives_an_unfitted_copy_with_the_same_params(iris):
    X, y = iris
    est = MLPClassifier(**QUICK, n_layer=2, act="tanh").fit(X, y)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(X)
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_pickle_round_trip_predicts_the_same_and_keeps_training(iris, engine):
    X, y = iris
    est = MLPClassifier(**QUICK, engine=engine).fit(X, y)
    blob = pickle.dumps(est)
    # The engine goes into the pickle as weights and optimizer state, not training data.
    assert len(blob) < 40_000
    back = pickle.loads(blob)
    assert back.engine_ == engine
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    # Both continue identically: the optimizer state came along.
    est.partial_fit(X, y)
    back.partial_fit(X, y)
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X), rtol=1e-6)


def test_a_pickle_of_an_older_mlplab_without_a_later_setting_loads_and_predicts(iris, tmp_path):
    """A pickle made before `l1_coef` existed raised "'Config' object has no attribute
    'l1_coef'" on pickle.load: its estimator and its Config lacked the setting."""
    import io

    from mlplab.config import Config

    X, y = iris
    est = MLPClassifier(**QUICK).fit(X, y)

    class Older(pickle.Pickler):  # writes est as a version without l1_coef did
        def reducer_override(self, obj):
            if isinstance(obj, Config | MLPClassifier):
                fn, args, state, *rest = obj.__reduce_ex__(2)
                if isinstance(obj, Config):
                    values = {k: v for k, v in state["__dict__"].items() if k != "l1_coef"}
                    state = {**state, "__dict__": values}
                else:  # and fitted attributes kept since
                    later = {"l1_coef", "validation_loss_curve_", "best_epoch_", "t_",
                             "best_loss_", "best_validation_score_", "train_scores_",
                             "_order_rng"}  # fmt: skip
                    state = {k: v for k, v in state.items() if k not in later}
                return (fn, args, state, *rest)
            return NotImplemented

    blob = io.BytesIO()
    Older(blob).dump(est)
    assert b"l1_coef" not in blob.getvalue()  # the older pickle has no such setting
    back = pickle.loads(blob.getvalue())
    assert back.l1_coef == 0.0 and back.get_params()["l1_coef"] == 0.0
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    assert back.validation_loss_curve_ is None and back.best_epoch_ == back.n_iter_
    back.save(tmp_path / "kept.safetensors")  # the format meant to last, from an old pickle
    np.testing.assert_array_equal(
        MLPClassifier.load(tmp_path / "kept.safetensors").predict_proba(X), est.predict_proba(X)
    )
    back.partial_fit(X, y)  # trains on, as a fresh one would
    clone(back).fit(X, y)


# --- save / load -----------------------------------------------------------------------------
def test_classifier_save_load_is_exact(tmp_path, iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    est = MLPClassifier(**QUICK).fit(df, names)
    path = tmp_path / "clf.safetensors"
    est.save(path)
    back = MLPClassifier.load(path)
    assert back.get_params() == est.get_params()
    assert list(back.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(back.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert back.n_features_in_ == 4
    assert back.loss_curve_ == est.loss_curve_
    assert back.n_iter_ == est.n_iter_
    np.testing.assert_array_equal(back.predict_proba(df), est.predict_proba(df))
    assert (back.predict(df) == est.predict(df)).all()
    assert back.score(df, names) >= 0.9


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_regressor_save_load_multi_output(tmp_path, wave, engine):
    X, y = wave
    Y = np.c_[y, -y]
    est = MLPRegressor(**QUICK, engine=engine, optim="sgd", mm=0.9, hid_dims=(8, 4)).fit(X, Y)
    est.save(tmp_path / "reg.safetensors")
    back = MLPRegressor.load(tmp_path / "reg.safetensors")
    assert back.n_outputs_ == 2 and back.engine_ == engine
    assert back.get_params()["hid_dims"] == (8, 4)  # a tuple, as given (JSON has lists)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    est.partial_fit(X, Y)
    back.partial_fit(X, Y)
    np.testing.assert_allclose(back.predict(X), est.predict(X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_partial_fit_after_load_continues_as_the_model_in_memory(tmp_path, iris, engine):
    """The order in which partial_fit draws minibatches is saved with the model: a loaded
    model's next epochs are those the saved one would have trained, bit for bit."""
    X, y = iris
    est = MLPClassifier(**QUICK, batch_size=16, dp_rate=0.1, engine=engine)
    est.partial_fit(X, y, classes=[0, 1, 2])
    est.save(tmp_path / "p.safetensors")
    back = MLPClassifier.load(tmp_path / "p.safetensors")
    for _ in range(2):
        est.partial_fit(X, y)
        back.partial_fit(X, y)
    assert back.loss_curve_ == est.loss_curve_
    assert np.array_equal(back.predict_proba(X), est.predict_proba(X))


def test_a_file_saved_without_partial_fits_order_still_loads(tmp_path, iris):
    """Files written before the order was saved load and train on; a damaged order is the
    file's fault, named as such."""
    from mlplab.runs.checkpoint import load_checkpoint, save_checkpoint

    X, y = iris
    est = MLPClassifier(**QUICK, batch_size=16).partial_fit(X, y, classes=[0, 1, 2])
    est.save(tmp_path / "p.safetensors")
    ckpt = load_checkpoint(tmp_path / "p.safetensors")
    del ckpt.meta["estimator"]["fitted"]["order_rng"]
    save_checkpoint(tmp_path / "old.safetensors", ckpt)
    old = MLPClassifier.load(tmp_path / "old.safetensors")
    np.testing.assert_array_equal(old.predict_proba(X), est.predict_proba(X))
    assert old.partial_fit(X, y).n_iter_ == 2
    ckpt.meta["estimator"]["fitted"]["order_rng"] = {"bit_generator": "MT19937"}
    save_checkpoint(tmp_path / "bad.safetensors", ckpt)
    with pytest.raises(CheckpointError, match="incomplete estimator metadata"):
        MLPClassifier.load(tmp_path / "bad.safetensors")


def test_binary_int_labels_save_load(tmp_path, cancer):
    X, y = cancer
    est = make_pipeline(StandardScaler(), MLPClassifier(**QUICK)).fit(X, y)
    clf = est[-1]
    clf.save(tmp_path / "b.safetensors")
    back = MLPClassifier.load(tmp_path / "b.safetensors")
    assert back.classes_.dtype == clf.classes_.dtype
    Xs = est[0].transform(X)
    np.testing.assert_array_equal(back.predict(Xs), clf.predict(Xs))


def test_saved_file_is_plain_safetensors(tmp_path, iris):
    from safetensors.numpy import load_file

    X, y = iris
    MLPClassifier(**QUICK).fit(X, y).save(tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    assert "model/out.weight" in tensors
    assert tensors["model/out.weight"].shape == (3, 16)


def test_save_to_a_folder_names_the_folder_not_a_temporary_file(tmp_path, iris):
    X, y = iris
    est = MLPClassifier(**QUICK).fit(X, y)
    with pytest.raises(ConfigError) as err:
        est.save(tmp_path)
    assert str(err.value) == (
        f"save: {str(tmp_path)!r} is a folder; give a file name such as model.safetensors"
    )
    assert not list(tmp_path.iterdir())
    # Below a file: a NotADirectoryError that named `.m.safetensors.u68a9o47.tmp`.
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as err:
        est.save(tmp_path / "afile" / "m.safetensors")
    assert str(err.value) == (
        f"save: {str(tmp_path / 'afile' / 'm.safetensors')!r} cannot be written (a part of "
        "its path is a file, not a folder)"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_load_refuses_the_wrong_class_and_run_checkpoints(tmp_path, iris):
    X, y = iris
    MLPClassifier(**QUICK).fit(X, y).save(tmp_path / "c.safetensors")
    with pytest.raises(
        CheckpointError, match="holds the estimator MLPClassifier, not MLPRegressor"
    ):
        MLPRegressor.load(tmp_path / "c.safetensors")
    with pytest.raises(CheckpointError, match="does not exist"):
        MLPClassifier.load(tmp_path / "missing.safetensors")


def test_a_run_and_a_saved_estimator_given_to_the_others_loader_name_the_right_one(tmp_path, iris):
    """A run folder given to MLPClassifier.load "did not exist"; a saved estimator given
    to load_run was "not a run directory (it is a file)"; a run's checkpoint named
    mlplab.restore.load_run, and no folder."""
    import mlplab

    X, y = iris
    est = tmp_path / "c.safetensors"
    MLPClassifier(**QUICK).fit(X, y).save(est)
    run = mlplab.train(data="xor", epoch=2, verbose=False, plots="none", log_path=str(tmp_path))
    with pytest.raises(CheckpointError) as err:
        MLPClassifier.load(run.run_dir)
    assert str(err.value).endswith(
        f"is a folder, not a file of MLPClassifier.save; it is a training run's folder: "
        f"mlplab.load_run({str(run.run_dir)!r}) loads its model"
    )
    with pytest.raises(CheckpointError) as err:
        mlplab.load_run(est)
    assert str(err.value).endswith(
        f"it is a saved estimator (MLPClassifier.save), not a training run: "
        f"mlplab.MLPClassifier.load({str(est)!r}) loads it"
    )
    with pytest.raises(CheckpointError) as err:
        MLPRegressor.load(run.run_dir / "checkpoints" / "best.safetensors")
    assert str(err.value).endswith(
        "is a training run's checkpoint, not a saved estimator; its run folder loads the "
        f"run: mlplab.load_run({str(run.run_dir)!r}, which='best')"
    )


def test_load_never_runs_code(tmp_path):
    """A pickle with a payload, named like a checkpoint, is refused unopened."""
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError, match="not a readable mlplab checkpoint"):
        MLPClassifier.load(path)
    assert not marker.exists()


def test_save_needs_a_fitted_estimator(tmp_path):
    with pytest.raises(NotFittedError):
        MLPClassifier().save(tmp_path / "x.safetensors")


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_to_torch_is_the_fitted_network_in_plain_pytorch(iris, wave, engine):
    import torch
    from torch import nn

    X, y = iris
    clf = MLPClassifier(**QUICK, n_layer=2, use_bn=True, dp_rate=0.1, engine=engine).fit(X, y)
    module = clf.to_torch()
    assert isinstance(module, nn.Module) and not module.training
    with torch.no_grad():
        logits = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(
        torch.softmax(torch.as_tensor(logits), 1).numpy(), clf.predict_proba(X), atol=1e-5
    )
    assert (clf.classes_[logits.argmax(1)] == clf.predict(X)).all()

    Xw, yw = wave
    reg = MLPRegressor(**QUICK, engine=engine).fit(Xw, yw)
    with torch.no_grad():
        values = reg.to_torch()(torch.as_tensor(Xw, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(values[:, 0], reg.predict(Xw), atol=1e-5)
    with pytest.raises(NotFittedError):
        MLPRegressor().to_torch()


@pytest.mark.parametrize("est", [MLPClassifier, MLPRegressor])
def test_verbose_fit_prints_its_progress_and_results_table(iris, wave, est, capsys):
    """verbose=True trains without a record (no log_path) and prints as mlplab train does."""
    X, y = iris if est is MLPClassifier else wave
    model = est(**{**QUICK, "epoch": 5}, verbose=True).fit(X, y)
    out = capsys.readouterr().out
    assert model.n_iter_ == 5 and model.run_dir_ is None
    assert re.search(r": finished in \d+\.\d\d s\n", out) and "┃ split" in out
    # The default batch_size 200 is min(200, rows): no note that it exceeds iris's 150.
    assert "note: batch_size" not in out
    # A line an epoch, as scikit-learn's MLP prints its iterations.
    assert len(re.findall(r"^\d+ [\d.e+-]+$", out, re.M)) == 5
    # The parameters left at their defaults are no settings given: they were noted as
    # unused (`--lr_gamma 0.1 (...)`, `--mm 0.0` of adam) on every verbose fit.
    assert "not used by this run" not in out
    est(**{**QUICK, "epoch": 2}, optim="adam", mm=0.9, verbose=True).fit(X, y)
    notes = [ln for ln in capsys.readouterr().out.splitlines() if "not used" in ln]
    assert notes == ["mlplab: note: not used by this run: mm=0.9 (momentum is sgd's and rmsprop's)"]
    # epoch=100 is the user's (the estimator's default is 200), though it is Config's.
    est(**{**QUICK, "epoch": 100}, verbose=True).fit(X, y)
    assert "default 100 epochs" not in capsys.readouterr().out
    # patience=0 leaves min_delta unused by design: no note of the estimator's own 1e-4.
    est(**{**QUICK, "epoch": 2}, patience=0, verbose=True).fit(X, y)
    assert "not used by this run" not in capsys.readouterr().out


def test_verbose_table_shows_no_test_split_the_estimator_does_not_have(iris, tmp_path, capsys):
    """The record's test split is the held-out rows again (it needs one); the printed table
    and notes show train and val only, where the test row was the val row repeated."""
    X, y = iris
    # Three epochs at the default lr learn nothing yet: the note on the majority class shows.
    kw = {"hid_dim": 8, "epoch": 3, "patience": 0, "random_state": 0, "verbose": True}
    MLPClassifier(**kw, validation_fraction=0.2, log_path=tmp_path, plots="none").fit(X, y)
    out = capsys.readouterr().out
    rows = re.findall(r"^│ (\S+) +│", out, re.M)
    assert rows == ["train", "val"]
    assert "note: validation accuracy 0.3333 is no better than always answering '0'" in out
    assert "test" not in out.replace(str(tmp_path), "")
    (result,) = tmp_path.glob("*/*/result.json")
    record = json.loads(result.read_text())
    assert record["test_acc"] == record["val_acc"] and record["test_loss"] == record["val_loss"]

    MLPClassifier(**kw).fit(X, y)  # validation on the training rows themselves
    out = capsys.readouterr().out
    rows = re.findall(r"^│ (\S+) +│", out, re.M)
    assert rows == ["train=val"]
    # The labs' Hypothesis/Correct block is the gates' (4 rows); iris's 150 had printed.
    assert "Hypothesis" not in out and "Correct" not in out


def test_plots_none_draws_no_plots_for_a_search_of_recorded_fits(tmp_path, iris):
    """With log_path, every fit of a search drew its run's plots (a grid search 10.8 s
    became 32.4 s), and the estimators had no way to ask for none."""
    X, y = iris
    quiet = MLPClassifier(**QUICK, plots="none", log_path=tmp_path / "a").fit(X, y)
    assert (quiet.run_dir_ / "result.json").is_file() and not (quiet.run_dir_ / "plots").exists()
    drawn = MLPClassifier(**QUICK, log_path=tmp_path / "b").fit(X, y)
    assert (drawn.run_dir_ / "plots" / "loss.png").is_file()
    assert clone(quiet).get_params()["plots"] == "none"
    with pytest.raises(ValueError, match=r"setting 'plots': 'pdf' is not one of png, svg, none"):
        MLPClassifier(**QUICK, plots="pdf").fit(X, y)
