"""The estimators' validation, early stopping, row weights and row-independent predictions.

- ``validation_scores_`` is measured on held-out rows (``validation_fraction``), or is None;
- with ``patience``, the model ends with its best weights (scikit-learn's early_stopping);
- ``sample_weight`` and ``class_weight`` weigh each row's loss: a weight of 2 trains what
  two copies of the row train, checked against repeated rows on both engines;
- a row's prediction does not depend on the other rows of the call.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from mlplab.engines.numpy.functional import LOSSES
from mlplab.engines.torch.backend import stacked_losses
from mlplab.runs.checkpoint import load_checkpoint
from mlplab.sklearn import MLPClassifier, MLPRegressor


# --- validation_scores_ ----------------------------------------------------------------------
def test_validation_scores_are_measured_on_held_out_rows():
    X, y = make_classification(400, n_features=6, flip_y=0.1, random_state=0)
    clf = MLPClassifier(
        hid_dim=16, lr=0.01, epoch=15, patience=0, validation_fraction=0.25, random_state=3
    ).fit(X, y)
    # The same split the estimator makes (stratified, seeded by random_state).
    _, val = train_test_split(np.arange(400), test_size=0.25, random_state=3, stratify=y)
    assert len(clf.validation_scores_) == 15
    # Every score is a count of the 100 held-out rows, and the last is the final model's.
    assert all(abs(s * len(val) - round(s * len(val))) < 1e-9 for s in clf.validation_scores_)
    assert clf.validation_scores_[-1] == clf.score(X[val], y[val])
    assert len(clf.train_scores_) == 15


def test_without_held_out_rows_there_are_no_validation_scores():
    """Issue 15, item 10: the first score was 409/569, the training rows' accuracy."""
    X, y = make_blobs(120, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=8, epoch=5, random_state=0).fit(X, y)
    assert clf.validation_scores_ is None
    assert len(clf.train_scores_) == 5


def test_validation_scores_weigh_the_held_out_rows_by_sample_weight():
    """As scikit-learn's _score(X_val, y_val, sample_weight_val): the held-out rows count by
    their weights (the accuracy was the unweighted one, 0.333 where 0.714 was due)."""
    X, y = load_iris(return_X_y=True)
    w = np.where(y == 1, 5.0, 1.0)
    kw = {"hid_dim": 8, "epoch": 20, "random_state": 3, "validation_fraction": 0.2, "patience": 0}
    clf = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    _, val = train_test_split(np.arange(150), test_size=0.2, random_state=3, stratify=y)
    assert len(clf.validation_scores_) == 20
    weighted = clf.score(X[val], y[val], sample_weight=w[val])
    assert clf.validation_scores_[-1] == pytest.approx(weighted, rel=1e-12)
    assert clf.validation_scores_[-1] != pytest.approx(clf.score(X[val], y[val]))

    Xr = np.random.default_rng(0).normal(size=(200, 3))
    yr = np.c_[Xr @ [1.0, 2.0, 3.0], Xr[:, 0]]
    wr = np.random.default_rng(1).uniform(0.1, 5.0, 200)
    reg = MLPRegressor(**kw).fit(Xr, yr, sample_weight=wr)
    _, val = train_test_split(np.arange(200), test_size=0.2, random_state=3)
    mae = mean_absolute_error(yr[val], reg.predict(Xr[val]), sample_weight=wr[val])
    assert reg.validation_scores_[-1] == pytest.approx(-mae, rel=1e-6)
    assert reg.validation_scores_[-1] != pytest.approx(
        -mean_absolute_error(yr[val], reg.predict(Xr[val])), rel=1e-3
    )


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_even_weights_score_the_held_out_rows_as_no_weights_do(engine):
    """Weights of 1, and held-out rows that all weigh 0 (counted evenly, as in the
    validation loss), give the scores of a fit without weights, at every validation."""
    X, y = make_classification(400, n_features=6, flip_y=0.1, random_state=0)
    kw = {"hid_dim": 16, "lr": 0.01, "epoch": 8, "batch_size": 32, "patience": 0}
    kw.update(validation_fraction=0.25, random_state=3, engine=engine)
    plain = MLPClassifier(**kw).fit(X, y)
    ones = MLPClassifier(**kw).fit(X, y, sample_weight=np.ones(400))
    assert ones.validation_scores_ == plain.validation_scores_
    _, val = train_test_split(np.arange(400), test_size=0.25, random_state=3, stratify=y)
    w = np.ones(400)
    w[val] = 0.0
    zeros = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    assert zeros.validation_scores_ == plain.validation_scores_


# --- early stopping --------------------------------------------------------------------------
def test_patience_ends_with_the_best_weights(tmp_path):
    X, y = make_classification(300, n_features=10, flip_y=0.2, random_state=1)
    clf = MLPClassifier(
        hid_dim=64, lr=0.03, epoch=300, batch_size=32, patience=5, validation_fraction=0.3,
        random_state=0, log_path=tmp_path,
    ).fit(X, y)  # fmt: skip
    assert clf.n_iter_ < 300  # it stopped early: 5 validations after its best
    ckpts = clf.run_dir_ / "checkpoints"
    best = load_checkpoint(ckpts / "best.safetensors").model
    last = load_checkpoint(ckpts / "last.safetensors").model
    w = "hidden.0.linear.weight"
    assert not np.array_equal(best[w], last[w])
    np.testing.assert_array_equal(clf.coefs_[0], best[w].T)
    np.testing.assert_array_equal(clf.intercepts_[-1], best["out.bias"])


def test_the_weights_kept_are_the_lowest_validation_losss_whatever_min_delta(tmp_path):
    """With min_delta=0.01 a fit kept epoch 82's weights (validation loss 0.1269) where
    epoch 92 reached 0.1195: the best moved only by min_delta's steps, which should only
    decide when patience runs out (as scikit-learn's tol does)."""
    import mlplab

    X, y = make_classification(300, n_features=10, flip_y=0.1, random_state=1)
    clf = MLPClassifier(
        hid_dim=32, lr=0.01, epoch=60, batch_size=32, patience=1000, min_delta=0.05,
        validation_fraction=0.3, random_state=0, log_path=tmp_path,
    ).fit(X, y)  # fmt: skip
    losses = np.asarray(clf.validation_loss_curve_)
    lowest = int(np.argmin(losses))
    assert losses[lowest] < losses[0] - 0.05 and lowest > 0
    assert clf.best_epoch_ == lowest + 1
    record = mlplab.load_run(clf.run_dir_, data=False).record
    assert record["best_epoch"] == lowest + 1 and record["best_val_loss"] == losses.min()
    best = load_checkpoint(clf.run_dir_ / "checkpoints" / "best.safetensors").model
    np.testing.assert_array_equal(clf.coefs_[0], best["hidden.0.linear.weight"].T)


def test_without_patience_the_last_weights_stay(tmp_path):
    X, y = make_classification(200, n_features=5, flip_y=0.2, random_state=1)
    clf = MLPClassifier(
        hid_dim=32, lr=0.03, epoch=30, batch_size=32, patience=0, validation_fraction=0.3,
        random_state=0, log_path=tmp_path,
    ).fit(X, y)  # fmt: skip
    last = load_checkpoint(clf.run_dir_ / "checkpoints" / "last.safetensors").model
    np.testing.assert_array_equal(clf.coefs_[0], last["hidden.0.linear.weight"].T)


# --- row weights in the loss -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("loss", "task"), [("bce", "binary"), ("cross_entropy", "multiclass"), ("mse", "regression")]
)
def test_weighted_loss_and_gradient_equal_repeated_rows(loss, task):
    """A row of weight k is k copies of it: the loss, and each row's summed gradient."""
    rng = np.random.default_rng(0)
    n, counts = 7, np.array([1, 2, 0, 3, 1, 1, 4])
    width = {"binary": 1, "multiclass": 4, "regression": 2}[task]
    out = rng.normal(size=(1, n, width))
    y = {
        "binary": rng.integers(0, 2, (1, n, 1)).astype(float),
        "multiclass": rng.integers(0, 4, (1, n)),
        "regression": rng.normal(size=(1, n, 2)),
    }[task]
    rep = np.repeat(np.arange(n), counts)
    w = (counts / counts.mean())[None, :, None]  # mean 1, as the estimators pass them
    loss_w, grad_w = LOSSES[loss](out.copy(), y, True, w)
    loss_r, grad_r = LOSSES[loss](out[:, rep].copy(), y[:, rep], True, None)
    np.testing.assert_allclose(loss_w, loss_r, rtol=1e-12)
    summed = np.zeros_like(grad_w)
    np.add.at(summed[0], rep, grad_r[0])
    np.testing.assert_allclose(grad_w, summed, rtol=1e-12, atol=1e-15)
    # The torch engine's loss agrees, weights and all, and so does its autograd gradient.
    t_out = torch.tensor(out, requires_grad=True)
    t_y = torch.tensor(y[0])  # targets shared by the model axis
    t_loss = stacked_losses(task, t_out, t_y, torch.tensor(w[0]))
    t_loss.sum().backward()
    np.testing.assert_allclose(t_loss.detach().numpy(), loss_w, rtol=1e-12)
    np.testing.assert_allclose(t_out.grad.numpy(), grad_w, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_integer_sample_weight_trains_what_repeated_rows_train(cls, engine):
    X, y = make_blobs(60, centers=3, random_state=2)
    if cls is MLPRegressor:
        y = X[:, 0] * 0.5 - X[:, 1]
    sw = np.random.default_rng(0).integers(0, 4, 60)  # zeros remove rows
    kw = {"hid_dim": 8, "lr": 0.02, "epoch": 40, "batch_size": 0, "dtype": "float64"}
    kw.update(engine=engine, random_state=1)
    weighted = cls(**kw).fit(X, y, sample_weight=sw)
    repeated = cls(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-12)
    plain = cls(**kw).fit(X, y)
    assert not np.allclose(plain.loss_curve_, weighted.loss_curve_)


def test_weights_follow_the_rows_through_minibatches_and_the_validation_split():
    """Both engines draw the same minibatches: weighted, they still train the same model."""
    X, y = make_blobs(150, centers=3, random_state=0)
    sw = np.random.default_rng(1).uniform(0, 3, 150)
    kw = {"hid_dim": 8, "epoch": 12, "batch_size": 16, "dtype": "float64", "random_state": 3}
    kw.update(validation_fraction=0.2, patience=0)
    a = MLPClassifier(engine="numpy", **kw).fit(X, y, sample_weight=sw)
    b = MLPClassifier(engine="torch", **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)
    plain = MLPClassifier(engine="numpy", **kw).fit(X, y)
    assert not np.allclose(plain.loss_curve_, a.loss_curve_)


def test_class_weight_is_sample_weight_by_class():
    X, y = make_classification(
        400, n_features=5, weights=[0.9, 0.1], flip_y=0.05, class_sep=0.5, random_state=0
    )
    kw = {"hid_dim": 16, "lr": 0.01, "epoch": 60, "dtype": "float64", "random_state": 0}
    balanced = MLPClassifier(class_weight="balanced", **kw).fit(X, y)
    by_hand = MLPClassifier(**kw).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(balanced.loss_curve_, by_hand.loss_curve_, rtol=1e-12)
    as_dict = MLPClassifier(class_weight={1: 9.0}, **kw).fit(X, y)
    by_hand = MLPClassifier(**kw).fit(X, y, sample_weight=np.where(y == 1, 9.0, 1.0))
    np.testing.assert_allclose(as_dict.loss_curve_, by_hand.loss_curve_, rtol=1e-12)
    # What users weigh classes for: the rare class is found more often.
    plain = MLPClassifier(**kw).fit(X, y)
    rare = y == 1
    assert (balanced.predict(X[rare]) == 1).mean() > (plain.predict(X[rare]) == 1).mean() + 0.1


@pytest.mark.parametrize(
    ("params", "weights", "message"),
    [
        ({}, -np.ones(30), "Negative values"),
        ({}, np.ones(29), "sample_weight"),
        ({}, np.zeros(30), "non-zero"),
        ({"class_weight": {0: 0.0, 1: 0.0}}, None, "every weight is 0"),
        ({"class_weight": "even"}, None, "'class_weight' parameter"),
        ({"class_weight": {7: 2.0}}, None, "class_weight"),
    ],
)
def test_bad_weights_are_one_line_value_errors(params, weights, message):
    X, y = make_blobs(30, centers=2, random_state=0)
    with pytest.raises(ValueError) as info:
        MLPClassifier(hid_dim=4, epoch=2, **params).fit(X, y, sample_weight=weights)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# --- partial_fit and saved estimators ------------------------------------------------------
@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_partial_fit_weighs_rows_as_repeated_rows(engine):
    """A weight of 2 in partial_fit trains what two copies of the row train (full batch),
    for sample_weight and a dict class_weight alike; before, partial_fit ignored both."""
    X, y = make_blobs(60, centers=3, random_state=0)
    kw = {"hid_dim": 8, "lr": 0.05, "batch_size": 0, "dtype": "float64", "engine": engine}
    twice = np.r_[np.full(20, 2.0), np.ones(40)]
    weighted = MLPClassifier(random_state=0, **kw)
    by_class = MLPClassifier(class_weight={y[0]: 2.0}, random_state=0, **kw)
    repeated = MLPClassifier(random_state=0, **kw)
    first = y == y[0]
    for _ in range(5):
        weighted.partial_fit(X, y, sample_weight=twice, classes=[0, 1, 2])
        by_class.partial_fit(X, y, classes=[0, 1, 2])
        repeated.partial_fit(np.r_[X[:20], X], np.r_[y[:20], y], classes=[0, 1, 2])
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-12)
    same_rows = MLPClassifier(random_state=0, **kw)
    for _ in range(5):
        same_rows.partial_fit(X, y, sample_weight=np.where(first, 2.0, 1.0), classes=[0, 1, 2])
    np.testing.assert_allclose(by_class.predict_proba(X), same_rows.predict_proba(X), atol=1e-12)
    plain = MLPClassifier(random_state=0, **kw)
    for _ in range(5):
        plain.partial_fit(X, y, classes=[0, 1, 2])
    assert not np.allclose(plain.loss_curve_, by_class.loss_curve_)
    reg_w = MLPRegressor(random_state=0, **kw).partial_fit(X, X[:, 0], twice)
    reg_r = MLPRegressor(random_state=0, **kw).partial_fit(
        np.r_[X[:20], X], np.r_[X[:20, 0], X[:, 0]]
    )
    np.testing.assert_allclose(reg_w.predict(X), reg_r.predict(X), atol=1e-12)


def test_partial_fit_refuses_balanced_class_weight():
    """One batch's class counts are not the data's (scikit-learn's SGDClassifier refuses too)."""
    X, y = make_blobs(30, centers=2, random_state=0)
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize(
    "labels", [np.array([0, 1, 2]), np.array(["ant", "bee", "cat"]), np.array([-1, 5, 9])]
)
def test_a_saved_class_weight_comes_back_with_its_labels(tmp_path, labels):
    """Keys from np.unique (NumPy ints) once made save fail, and int keys came back as text,
    so a loaded model could not be fitted again."""
    X, codes = make_blobs(60, centers=3, random_state=0)
    y = labels[codes]
    weights = dict(zip(np.unique(y), [1.0, 2.0, 3.0], strict=True))
    clf = MLPClassifier(hid_dim=4, epoch=2, class_weight=weights, random_state=0).fit(X, y)
    clf.save(tmp_path / "clf.safetensors")
    back = MLPClassifier.load(tmp_path / "clf.safetensors")
    assert back.class_weight == weights
    assert [type(k) for k in back.class_weight] == [type(k.item()) for k in weights]
    refit = clone(back).fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), clf.predict_proba(X))


# --- predictions -----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_rows_prediction_does_not_depend_on_the_other_rows(engine):
    """float32 models: alone, in a batch, or shuffled, a row gets the same outputs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    y = np.sin(X[:, 0]) + X[:, 1:4].sum(axis=1)
    reg = MLPRegressor(hid_dim=48, n_layer=2, use_bn=True, epoch=5, engine=engine, random_state=0)
    reg.fit(X, y)
    batch = reg.predict(X)
    alone = np.array([reg.predict(X[i : i + 1])[0] for i in range(0, 300, 7)])
    perm = rng.permutation(300)
    np.testing.assert_allclose(alone, batch[::7], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reg.predict(X[perm]), batch[perm], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weight", [-1.0, np.inf, np.nan, "x"])
def test_a_class_weight_that_is_no_weight_is_refused_naming_it(weight):
    """{1: -1} trained the model to miss class 1 (its loss fell to -122); inf was told to
    lower the lr, and NaN was told that every sample_weight is 0, of weights never passed."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError) as err:
        MLPClassifier(class_weight={1: weight}, epoch=3, verbose=False).fit(X, y)
    assert str(err.value) == (
        f"setting 'class_weight': the weight of class 1 is {weight!r}; class weights are "
        "finite numbers of 0 or more"
    )


@pytest.mark.parametrize(("fraction", "split"), [(0.0, "training"), (0.2, "validation")])
def test_the_target_scale_warning_names_the_rows_its_r2_is_of(fraction, split):
    """An estimator's warning said "the test R² is -2.73" where it holds no test rows: the
    number was of its training rows (or its validation rows)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning) as caught:
        MLPRegressor(random_state=0, validation_fraction=fraction, verbose=False).fit(X, y)
    (said,) = [str(w.message) for w in caught if "R²" in str(w.message)]
    assert said.startswith(f"MLPRegressor: the {split} R² is -") and "test R²" not in said
