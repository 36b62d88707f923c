"""MLPClassifier and MLPRegressor: scikit-learn's own checks, and what mlplab adds.

The estimator checks run on small, fast settings (tiny networks, 50 epochs, the NumPy
engine that ``engine='auto'`` picks for them) so the whole suite takes seconds.
"""

from __future__ import annotations

import inspect
import io
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlplab.errors import CheckpointError
from mlplab.restore import load_run
from mlplab.sklearn import (
    EXPECTED_FAILED_CHECKS,
    MLPClassifier,
    MLPRegressor,
    expected_failed_checks,
)

FAST = {"hid_dim": 16, "lr": 0.01, "epoch": 50}
CHECKED = [
    MLPClassifier(**FAST),
    MLPRegressor(**FAST),
    # float64: the checks that float32 may fail by one ulp pass here.
    MLPClassifier(**FAST, dtype="float64"),
    MLPRegressor(**FAST, dtype="float64"),
    # Every model and training option at once, with a held-out validation split.
    MLPClassifier(
        **FAST,
        n_layer=2,
        use_bn=True,
        dp_rate=0.1,
        sc_type="residual",
        optim="sgd",
        mm=0.9,
        lr_schedule="cosine",
        batch_size=32,
        validation_fraction=0.2,
        patience=3,
    ),
    MLPRegressor(
        **FAST, n_layer=2, use_bn=True, dp_rate=0.1, batch_size=32, validation_fraction=0.2
    ),
]


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_expected_failures_are_documented_and_few():
    assert all(len(reason) > 40 for reason in EXPECTED_FAILED_CHECKS.values())
    # Row order and batch size no longer matter: only the sample-weight check is left (on
    # dense data, and on sparse data, which is made dense).
    assert set(EXPECTED_FAILED_CHECKS) == {
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    }
    assert expected_failed_checks(MLPClassifier()) == EXPECTED_FAILED_CHECKS
    assert expected_failed_checks(MLPRegressor(dtype="float64")) == {}
    drawn = expected_failed_checks(MLPRegressor(dtype="float64", validation_fraction=0.1))
    assert "draw" in drawn["check_sample_weight_equivalence_on_dense_data"]
    # As fit takes them: a NumPy dtype, and scikit-learn's 'auto' batch (the whole of the
    # checks' data, under 200 rows). 'auto' was compared with 200 and raised a TypeError.
    assert expected_failed_checks(MLPRegressor(dtype=np.float64)) == {}
    assert expected_failed_checks(MLPRegressor(dtype="float64", batch_size="auto")) == {}
    assert expected_failed_checks(MLPClassifier(batch_size="auto")) == EXPECTED_FAILED_CHECKS
    # Values fit refuses (in one line of its own) give the float32 answer, not a TypeError.
    for odd in ({"batch_size": None}, {"validation_fraction": None}, {"dtype": "bogus"}):
        assert expected_failed_checks(MLPClassifier(**odd)) == EXPECTED_FAILED_CHECKS


def test_the_docstring_examples_print_what_they_show_and_do_not_warn():
    """MLPClassifier's example showed predict_proba as [[0.99, 0.01, 0.]] where it gives
    [[1., 0., 0.]], and its fit warned "raise epoch", as the module's example did."""
    import doctest

    import mlplab.sklearn

    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in doctest.DocTestFinder().find(mlplab.sklearn) if t.examples]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning is an exception, which fails the example
        for test in tests:
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    # The module's and MLPClassifier's examples all run: none is skipped.
    shown = [t for t in tests if t.name in ("mlplab.sklearn", "mlplab.sklearn.MLPClassifier")]
    assert len(shown) == 2
    assert not any(e.options.get(doctest.SKIP) for t in shown for e in t.examples)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_every_parameter_is_documented_with_its_default(cls):
    doc = cls.__doc__
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        assert f"    {name} : " in doc, name
        assert f"default={p.default!r}" in doc or f"default={p.default}" in doc, name


# --- parameters ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lr": -1.0}, "setting 'lr': Input should be greater than 0"),
        ({"act": "nope"}, "setting 'act': 'nope' is not one of sigmoid, tanh, relu"),
        ({"hid_dim": 0}, "setting 'hid_dim'"),
        ({"optim": "lbfgs"}, "setting 'optim': 'lbfgs' is not one of sgd"),
        ({"validation_fraction": 1.0}, "setting 'validation_fraction': must be in [0, 1)"),
        ({"random_state": "seven"}, "'random_state' parameter"),
        ({"exp_name": "a/b"}, "setting 'exp_name'"),
        ({"use_bn": True, "batch_size": 1}, "settings 'use_bn' and 'batch_size'"),
        # Text is refused where a number or a bool belongs (Config would convert it), in
        # the settings' form for validation_fraction too (scikit-learn's was another).
        ({"lr": "0.01"}, "setting 'lr': '0.01' is text, not a number"),
        ({"use_bn": "yes"}, "setting 'use_bn': 'yes' is text, not True or False"),
        ({"epoch": "3"}, "setting 'epoch': '3' is text, not a whole number"),
        ({"batch_size": "16"}, "setting 'batch_size': '16' is text, not a whole number or 'auto'"),
        ({"validation_fraction": "0.1"}, "setting 'validation_fraction': '0.1' is text, not a"),
        ({"validation_fraction": [0.1]}, "setting 'validation_fraction': [0.1] is not a number"),
        ({"validation_fraction": True}, "setting 'validation_fraction': True is not a number"),
    ],
)
def test_bad_parameters_raise_one_line_value_error_in_fit(params, message):
    X, y = make_blobs(20, centers=2, random_state=0)
    est = MLPClassifier(**params)  # __init__ accepts anything
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_every_number_or_bool_parameter_refuses_text_and_is_named(cls):
    """Each parameter whose default is a number or a bool, given as text (str(default)),
    is a one-line ValueError that names it, in fit and in partial_fit's first call; set_params
    and clone, which only store values, take it. (verbose is scikit-learn's and checked by its
    constraints, which refuse text too.)"""
    X, y = make_blobs(20, centers=2, random_state=0)
    numbers = {
        name: default
        for name, default in cls().get_params().items()
        if isinstance(default, bool | int | float) and name != "verbose"
    }
    assert {"lr", "use_bn", "epoch", "batch_size", "validation_fraction"} <= set(numbers)
    first_call = {"classes": [0, 1]} if cls is MLPClassifier else {}
    for name, default in numbers.items():
        est = clone(cls().set_params(**{name: str(default)}))
        refused = f"^setting '{name}': '{default}' is text, not"
        with pytest.raises(ValueError, match=refused):
            est.fit(X, y)
        with pytest.raises(ValueError, match=refused):
            est.partial_fit(X, y, **first_call)
        assert not hasattr(est, "n_iter_")
    with pytest.raises(ValueError, match="'verbose' parameter"):
        cls(verbose="yes").fit(X, y)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("widths", [(100,), [50, 20], np.array([8, 4])])
def test_a_width_per_layer_given_as_hid_dim_points_to_hid_dims(cls, widths):
    """hidden_layer_sizes=(100,) carried over as hid_dim=(100,) was "not a whole number",
    and a list was said to make a sweep, which an estimator does not run."""
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError) as info:
        cls(hid_dim=widths, epoch=2).fit(X, (X[:, 0] > 0).astype(int))
    msg = str(info.value)
    assert f"hid_dims={tuple(int(w) for w in widths)}" in msg and "sweep" not in msg, msg


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("warm_start", "partial_fit"),
        ("max_iter", "epoch"),
        ("hidden_layer_sizes", "hid_dims"),
        ("learning_rate", "'constant' is lr_schedule='none'"),
        # No counterpart: said so, with what is done instead.
        ("shuffle", "nothing: the rows are shuffled every epoch"),
        ("beta_1", "PyTorch's betas (0.9, 0.999)"),
        ("max_fun", "no lbfgs solver"),
    ],
)
def test_a_parameter_of_another_name_is_named_by_the_public_class(cls, name, ours):
    """scikit-learn's own MLP parameters are what a user tries first: the error names the
    estimator (not a private base class) and mlplab's name for what they set."""
    with pytest.raises(TypeError) as info:
        cls(**{name: "constant" if name == "learning_rate" else 1})
    msg = str(info.value)
    assert msg.startswith(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
    assert "_MLPBase" not in msg and ours in msg and "\n" not in msg
    with pytest.raises(TypeError, match=f"{cls.__name__}.*'nonsense'.*hid_dim"):
        cls(nonsense=1)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("hidden_size", "hid_dim"), ("num_epochs", "epoch"), ("lrr", "lr"),
        # Keras' and PyTorch's: seed had no hint, units was "did you mean 'init'", and a
        # number as learning_rate was named as scikit-learn's schedule.
        ("seed", "random_state"), ("units", "hid_dim"), ("learning_rate", "lr"),
    ],
)  # fmt: skip
def test_pytorchs_names_and_near_misses_get_the_configs_hint(cls, name, ours):
    """`hidden_size=8` (PyTorch's name) got no hint, where the config's hint has one."""
    with pytest.raises(TypeError) as info:
        cls(**{name: 1})
    assert f"{name!r} (did you mean {ours!r}?); its parameters are" in str(info.value)


def test_no_hidden_widths_name_the_setting_of_a_model_without_hidden_layers():
    """hidden_layer_sizes=() is scikit-learn's linear model: here n_layer=0, which the
    error names (it said only "widths ..., each at least 1 (got '')")."""
    X, y = make_blobs(40, centers=2, random_state=0)
    with pytest.raises(ValueError, match="no widths: a model without hidden layers is n_layer 0"):
        MLPClassifier(hid_dims=()).fit(X, y)
    assert MLPClassifier(hid_dims=np.array([5, 2]), epoch=1).fit(X, y).n_layers_ == 4


def test_numpy_scalars_from_a_grid_are_accepted():
    X, y = make_blobs(60, centers=2, random_state=0)
    est = MLPClassifier(hid_dim=np.int64(8), lr=np.float64(0.05), epoch=np.int32(5)).fit(X, y)
    assert est.n_iter_ == 5
    assert est.coefs_[0].shape == (2, 8)
    # As NumPy users write them: a float32 fraction (np.linspace's in a grid), a NumPy
    # dtype, widths as an array. The first was refused inside train_test_split.
    est = MLPClassifier(
        hid_dims=np.array([6, 4]), validation_fraction=np.float32(0.2), dtype=np.float64, epoch=2
    ).fit(X, y)
    assert [w.shape for w in est.coefs_] == [(2, 6), (6, 4), (4, 1)]
    assert est.coefs_[0].dtype == np.float64 and len(est.validation_scores_) == 2
    with pytest.raises(ValueError, match="setting 'dtype': 'int32' is not one of float32"):
        MLPClassifier(dtype=np.int32).fit(X, y)


# --- classifier ------------------------------------------------------------------------------
def test_binary_uses_one_sigmoid_output_and_string_labels():
    X, y = make_blobs(200, centers=2, cluster_std=1.0, random_state=1)
    labels = np.array(["no", "yes"])[y]
    clf = MLPClassifier(hid_dim=16, lr=0.01, epoch=60, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    assert clf.n_outputs_ == 1
    assert [c.shape for c in clf.coefs_] == [(2, 16), (16, 1)]
    # Copies of the engine's weights: a write would change nothing, so it is refused.
    with pytest.raises(ValueError, match="read-only"):
        clf.coefs_[0][:] = 0
    with pytest.raises(ValueError, match="read-only"):
        clf.intercepts_[0][:] = 0
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6, atol=1e-12)
    assert clf.score(X, labels) >= 0.95


def test_multiclass_uses_softmax_outputs():
    X, y = make_blobs(300, centers=4, cluster_std=0.8, random_state=2)
    clf = MLPClassifier(hid_dim=32, lr=0.01, epoch=80, random_state=0).fit(X, y + 10)
    assert list(clf.classes_) == [10, 11, 12, 13]
    assert clf.n_outputs_ == 4
    assert clf.predict_proba(X).shape == (300, 4)
    assert clf.score(X, y + 10) >= 0.9


def test_extreme_logits_give_probabilities_without_warnings():
    X, y = make_blobs(100, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=8, lr=0.05, epoch=20, random_state=0).fit(X, y)
    proba = clf.predict_proba(X * 1e6)  # huge logits: exp would overflow
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_and_predict_proba_agree_on_a_tied_logit(monkeypatch):
    X, y = make_blobs(40, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=4, epoch=2, random_state=0).fit(X, y)
    tied = np.array([[1e-8], [-1e-8], [0.0], [0.3]])  # float32 noise around 0, then a 1
    monkeypatch.setattr(clf, "_outputs", lambda X: tied)
    proba = clf.predict_proba(X[:4])
    np.testing.assert_array_equal(proba[:3], 0.5)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X[:4]))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X[:4])), proba, rtol=1e-12)


def test_one_class_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 'a'"):
        MLPClassifier().fit(X, ["a"] * 10)


def test_multilabel_targets_are_rejected():
    X = np.random.default_rng(0).normal(size=(10, 2))
    Y = np.random.default_rng(1).integers(0, 2, size=(10, 3))
    with pytest.raises(ValueError, match=r"y of shape \(10, 3\) is multilabel or multi-output.*"
                       r"MultiOutputClassifier\(MLPClassifier\(\)\)"):  # fmt: skip
        MLPClassifier().fit(X, Y)


def test_a_category_column_of_numbers_is_refused_as_one_of_text_is():
    """pandas' category type of region codes 0..4 fit silently as one quantity (test R²
    0.55 where one-hot gave 0.998), while the same column of text categories was refused."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "region": rng.integers(0, 5, 40)})
    y = X.a + np.array([0.0, 3, -2, 1, -1])[X.region]
    coded = X.assign(region=X.region.astype("category"))
    with pytest.raises(ValueError) as err:
        MLPRegressor(epoch=2).fit(coded, y)
    assert str(err.value).startswith(
        "MLPRegressor: X's column 'region' is of pandas' category type (codes such as "
    )
    assert "X.astype({'region': float})" in str(err.value)
    assert "pd.get_dummies(X, columns=['region'])" in str(err.value)
    fitted = MLPRegressor(epoch=2, verbose=False).fit(X, y)  # plain numbers: the user's choice
    # A model fitted on the codes (an earlier mlplab's) predicts on them as it learnt them,
    # whatever a batch holds of them: predict(X) was refused where predict(X[:2]) was not.
    np.testing.assert_array_equal(fitted.predict(coded), fitted.predict(X))
    np.testing.assert_array_equal(fitted.predict(coded.iloc[:2]), fitted.predict(X.iloc[:2]))


def test_one_hot_targets_are_refused_with_the_labels_they_hold():
    # Keras' to_categorical: one model a column (MultiOutputClassifier) was the wrong lead.
    X = np.random.default_rng(0).normal(size=(12, 2))
    Y = np.eye(3)[np.arange(12) % 3]
    with pytest.raises(ValueError, match=r"y of shape \(12, 3\) looks one-hot encoded.*"
                       r"y\.argmax\(axis=1\)$"):  # fmt: skip
        MLPClassifier().fit(X, Y)


def test_a_text_or_categorical_column_is_named_with_how_to_encode_it():
    """scikit-learn's "could not convert string to float: 'g'" named no column."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    y = (X.a > 0).astype(int)
    colour = X.assign(colour=pd.Categorical(rng.choice(["g", "h"], 30)))
    with pytest.raises(ValueError) as err:
        MLPClassifier(epoch=2).fit(colour, y)
    assert (
        str(err.value).startswith("MLPClassifier: X's column 'colour' holds categories ('")
        and "not numbers; encode it first, a 0/1 column per value: pd.get_dummies(X, "
        "columns=['colour'])"
        in str(err.value)
    )
    words = X.assign(s=rng.choice(["x", "y"], 30), t="z")
    with pytest.raises(ValueError, match=r"^MLPRegressor: X's column 's' holds text \('.'\), "
                       r"not numbers; other such columns: 't'; encode them first"):  # fmt: skip
        MLPRegressor(epoch=2).fit(words, X.b)
    fitted = MLPClassifier(epoch=2).fit(X, y)
    with pytest.raises(ValueError, match=r"X's column 'a' holds text \('q'\)"):
        fitted.predict(X.assign(a="q"))
    # Numbers kept as objects, and categories of two numbers (one 0/1 column), are numbers.
    MLPClassifier(epoch=2).fit(X.assign(o=X.a.astype(object), k=pd.Categorical(y)), y)


def test_a_column_of_dates_as_text_gets_the_command_lines_date_hint():
    """A column of dates ('01.01.2015') was told to be one-hot encoded with the others,
    pd.get_dummies(X, columns=['date', ...]): a 0/1 column per day. The command line
    tells such a column as dates, and so do the estimators, by the same rule."""
    from mlplab.data.dataset import DATES_HINT

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    days = pd.date_range("2015-01-01", periods=30, freq="D")
    dated = X.assign(date=days.strftime("%d.%m.%Y"))
    with pytest.raises(ValueError) as err:
        MLPRegressor(epoch=2).fit(dated, X.b)
    message = str(err.value)
    assert message == (
        "MLPRegressor: X's column 'date' holds dates or times ('01.01.2015'), not numbers: "
        f"{DATES_HINT}, or leave it out: X.drop(columns=['date'])"
    )
    assert "get_dummies" not in message
    # Beside columns of words: the dates their hint, the words theirs, in X's order.
    mixed = dated.assign(station=rng.choice(["Aare", "Rhine"], 30),
                         when=days.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    with pytest.raises(ValueError) as err:
        MLPRegressor(epoch=2).fit(mixed, X.b)
    message = str(err.value)
    assert "\n" not in message and message.startswith(
        "MLPRegressor: X's column 'date' holds dates or times ('01.01.2015'), not numbers; "
        "other such columns: 'when': encode them as numbers first"
    )
    assert message.endswith(
        "X.drop(columns=['date', 'when']); also, X's column 'station' holds text ('"
        + mixed.station[0]
        + "'), not numbers; encode it first, a 0/1 column per value: "
        "pd.get_dummies(X, columns=['station']), or a OneHotEncoder in a ColumnTransformer "
        "before the estimator in a Pipeline (or leave it out: X.drop(columns=[...]))"
    )


def test_scikit_learns_batch_size_auto_is_the_default_200():
    X, y = make_blobs(300, centers=3, random_state=0)
    kw = dict(hid_dim=8, epoch=3, random_state=0)
    auto = MLPClassifier(batch_size="auto", **kw).fit(X, y)
    assert auto.get_params()["batch_size"] == "auto"  # kept as given, as clone() needs
    default = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), default.predict_proba(X))
    with pytest.raises(
        ValueError, match=r"setting 'batch_size': 'big' is text, not a whole number or 'auto'"
    ):
        MLPClassifier(batch_size="big", **kw).fit(X, y)


def test_alpha_is_named_with_its_conversion_not_as_the_same_setting():
    """alpha=1.0 renamed l2_coef=1.0 gave digits 0.36 where scikit-learn gave 0.97: its
    alpha is divided by the batch and spares the biases."""
    with pytest.raises(TypeError, match=r"scikit-learn's alpha: here l2_coef = alpha / batch_size"):
        MLPClassifier(alpha=1.0)


def test_the_regressors_alpha_conversion_gives_scikit_learns_penalty():
    """The regressor's alpha was named l2_coef = alpha / batch_size, as the classifier's:
    half scikit-learn's penalty, as its loss is twice scikit-learn's (squared_error / 2)."""
    from sklearn.datasets import load_diabetes
    from sklearn.neural_network import MLPRegressor as SkRegressor

    with pytest.raises(TypeError, match=r"here l2_coef = 2 \* alpha / batch_size"):
        MLPRegressor(alpha=1.0)
    with pytest.raises(TypeError, match=r"here min_delta = 2 \* tol"):
        MLPRegressor(tol=1e-3)
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()
    n, alpha = len(y), 10.0
    # A strong penalty, full batches and a linear model: the penalty sets the weights.
    sk = SkRegressor(hidden_layer_sizes=(16,), activation="identity", alpha=alpha, batch_size=n,
                     learning_rate_init=0.01, max_iter=3000, tol=0, n_iter_no_change=10**9,
                     random_state=0).fit(X, y)  # fmt: skip
    ours = MLPRegressor(hid_dim=16, act="identity", l2_coef=2 * alpha / n, batch_size=n,
                        lr=0.01, epoch=3000, patience=0, random_state=0).fit(X, y)  # fmt: skip

    def sum_of_squares(coefs: list[np.ndarray]) -> float:
        return sum(float((w**2).sum()) for w in coefs)

    assert sum_of_squares(ours.coefs_) == pytest.approx(sum_of_squares(sk.coefs_), rel=0.01)
    assert ours.score(X, y) == pytest.approx(sk.score(X, y), abs=0.005)


def test_curves_and_early_stopping(tmp_path):
    X, y = make_blobs(300, centers=3, random_state=0)
    clf = MLPClassifier(
        hid_dim=16, lr=0.01, epoch=40, validate_every=5, patience=0, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ == 40
    assert len(clf.loss_curve_) == 8  # one per validation: epochs 5, 10, ..., 40
    assert len(clf.train_scores_) == 8
    assert clf.validation_scores_ is None  # no rows held out (validation_fraction=0)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 2
    assert clf.train_scores_[-1] >= 0.9

    stopped = MLPClassifier(
        hid_dim=16,
        lr=0.05,
        epoch=500,
        patience=3,
        validation_fraction=0.3,
        batch_size=16,
        random_state=0,
    ).fit(X, y)
    assert stopped.n_iter_ < 500
    assert len(stopped.loss_curve_) == stopped.n_iter_
    assert len(stopped.validation_scores_) == stopped.n_iter_
    # The loss that patience watched: lowest at best_epoch_, and not lower in the
    # `patience` validations after it (Keras' history.history["val_loss"]).
    losses = stopped.validation_loss_curve_
    assert len(losses) == stopped.n_iter_ and stopped.n_iter_ - stopped.best_epoch_ == 3
    assert losses[stopped.best_epoch_ - 1] <= min(losses) + stopped.min_delta
    # Saved and loaded with the model.
    stopped.save(tmp_path / "clf.safetensors")
    assert MLPClassifier.load(tmp_path / "clf.safetensors").validation_loss_curve_ == losses
    # partial_fit, which validates nothing, has none.
    assert (
        MLPClassifier(epoch=1).partial_fit(X, y, classes=[0, 1, 2]).validation_loss_curve_ is None
    )


def test_random_state_makes_fits_repeatable():
    X, y = make_blobs(200, centers=3, random_state=0)
    a = MLPClassifier(hid_dim=8, epoch=10, batch_size=32, random_state=5).fit(X, y)
    b = MLPClassifier(hid_dim=8, epoch=10, batch_size=32, random_state=5).fit(X, y)
    c = MLPClassifier(hid_dim=8, epoch=10, batch_size=32, random_state=6).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ != c.loss_curve_
    # A RandomState instance draws the seed: repeatable from the same state too.
    d = MLPClassifier(hid_dim=8, epoch=3, random_state=np.random.RandomState(1)).fit(X, y)
    e = MLPClassifier(hid_dim=8, epoch=3, random_state=np.random.RandomState(1)).fit(X, y)
    assert d.loss_curve_ == e.loss_curve_


def test_engines_train_the_same_model():
    """numpy and torch start from the same weights and follow the same formulas."""
    X, y = make_blobs(120, centers=3, random_state=0)
    kw = {"hid_dim": 8, "epoch": 15, "batch_size": 40, "dtype": "float64", "random_state": 3}
    a = MLPClassifier(engine="numpy", **kw).fit(X, y)
    b = MLPClassifier(engine="torch", **kw).fit(X, y)
    assert (a.engine_, b.engine_) == ("numpy", "torch")
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_feature_names_are_kept_and_checked():
    X, y = make_blobs(80, centers=2, n_features=3, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = MLPClassifier(hid_dim=8, epoch=10, random_state=0).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    assert clf.n_features_in_ == 3
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"a": "z"}))
    with (
        pytest.warns(UserWarning, match="valid feature names"),
        pytest.raises(ValueError, match="expecting 3 features"),
    ):
        clf.predict(X[:, :2])
    plain = MLPClassifier(hid_dim=8, epoch=2).fit(X, y)
    assert not hasattr(plain, "feature_names_in_")


# --- partial_fit -----------------------------------------------------------------------------
def test_classifier_partial_fit_trains_one_epoch_per_call():
    X, y = make_blobs(300, centers=3, random_state=0)
    clf = MLPClassifier(hid_dim=16, lr=0.01, batch_size=50, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    first = clf.score(X, y)
    for i in range(1, 30):
        clf.partial_fit(X[(i % 3) * 100 :][:100], y[(i % 3) * 100 :][:100])
    assert clf.n_iter_ == 30
    assert len(clf.loss_curve_) == 30 and len(clf.train_scores_) == 30
    assert clf.validation_scores_ is None
    assert clf.score(X, y) >= max(0.9, first)
    match = r"classes=\[0, 1\] is not the classes the model has learned \(\[0, 1, 2\], from"
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.full(300, 7))


def test_partial_fit_continues_after_fit():
    X, y = make_blobs(200, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=8, epoch=10, random_state=0).fit(X, y)
    before = clf.loss_curve_[-1]
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 11
    assert len(clf.loss_curve_) == 11
    assert clf.loss_curve_[-1] <= before * 1.05
    clf.fit(X, y)  # fit starts over
    assert clf.n_iter_ == 10


def test_regressor_partial_fit():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = X[:, 0] - 0.5 * X[:, 1]
    reg = MLPRegressor(hid_dim=16, lr=0.01, batch_size=50, random_state=0)
    for _ in range(40):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 40
    assert reg.predict(X).shape == (400,)
    assert reg.score(X, y) >= 0.95
    with pytest.raises(ValueError, match="target"):
        reg.partial_fit(X, np.c_[y, y])


# --- regressor -------------------------------------------------------------------------------
def test_regressor_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(400, 2))
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2 / 4]
    kw = {"hid_dim": 32, "lr": 0.01, "epoch": 150, "batch_size": 64, "random_state": 0}
    multi = MLPRegressor(**kw).fit(X, Y)
    assert multi.n_outputs_ == 2
    assert multi.predict(X).shape == (400, 2)
    assert multi.score(X, Y) >= 0.9
    single = MLPRegressor(**kw).fit(X, Y[:, 0])
    assert single.predict(X).shape == (400,)
    assert single.score(X, Y[:, 0]) >= 0.9
    column = MLPRegressor(**kw).fit(X, Y[:, :1])
    assert column.predict(X).shape == (400, 1)
    # The scores are the negative MAE: higher is better, and below 0.
    assert all(s <= 0 for s in single.train_scores_)
    assert single.train_scores_[-1] > single.train_scores_[0]


def test_divergence_is_a_clear_error():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    with (
        pytest.raises(ValueError, match=r"diverged.*lr=0\.1"),
        np.errstate(over="ignore", invalid="ignore"),
    ):
        MLPRegressor(optim="sgd", lr=1.0, engine="torch", random_state=0).fit(X, 1e6 * X[:, 0])


# --- run records -----------------------------------------------------------------------------
def test_log_path_writes_the_run_record(tmp_path):
    X, y = make_blobs(100, centers=3, random_state=0)
    clf = MLPClassifier(
        hid_dim=8, epoch=12, random_state=4, log_path=tmp_path, plots="none", exp_name="skl"
    ).fit(X, y)
    run = clf.run_dir_
    assert run is not None and run.parent == tmp_path / "skl"
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "finished"
    assert result["seed"] == 4 and result["hid_dim"] == 8 and result["optim"] == "adam"
    assert result["data"].startswith("array-100x2-")
    assert result["task_type"] == "multiclass"
    np.testing.assert_allclose(result["train_losses"], clf.loss_curve_)
    assert result["train_accs"] == clf.train_scores_
    assert (run / "config.yaml").is_file()
    assert (run / "metrics.csv").is_file()
    assert (run / "checkpoints" / "last.safetensors").is_file()
    # Its data are arrays the record does not keep: the tools that rebuild a model say so.
    with pytest.raises(CheckpointError, match=r"trained on arrays in memory \(array-.*: an mlplab"):
        load_run(run)
    from mlplab.cli import main

    assert main(["train", "--resume", str(run)]) == 2


@pytest.mark.parametrize("centers", [2, 3])
def test_the_records_balanced_accuracy_and_f1_are_sklearns_of_the_predictions(tmp_path, centers):
    """On imbalanced string labels: the record's F1 is of ``classes_[1]`` (binary) or
    macro-averaged, and its balanced accuracy the mean recall, of what predict gives."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    X, y = make_blobs([200, 30, 20][:centers], centers=None, cluster_std=3.0, random_state=0)
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = MLPClassifier(hid_dim=8, epoch=20, random_state=0, log_path=tmp_path, plots="none").fit(
        X, labels
    )
    result = json.loads((clf.run_dir_ / "result.json").read_text())
    pred = clf.predict(X)
    assert result["train_acc"] == pytest.approx(np.mean(pred == labels))
    assert 0 < result["train_bacc"] < result["train_acc"]  # the rare classes are missed more
    assert result["train_bacc"] == pytest.approx(balanced_accuracy_score(labels, pred))
    if centers == 2:
        f1 = f1_score(labels, pred, pos_label=clf.classes_[1])
    else:
        f1 = f1_score(labels, pred, average="macro")
    assert result["train_f1"] == pytest.approx(f1)


def test_fits_that_hold_out_other_rows_keep_their_own_records(tmp_path, capsys):
    """validation_fraction was in neither the record nor the run's hash: fits with 0, 0.2
    and 0.3 shared one folder, the last overwriting the others."""
    X, y = make_blobs(100, centers=3, random_state=0)
    dirs, records = set(), []
    for fraction in (0.0, 0.2, 0.3):
        clf = MLPClassifier(hid_dim=8, epoch=3, batch_size=32, random_state=0, verbose=True,
                            validation_fraction=fraction, log_path=tmp_path, plots="none")  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
        dirs.add(clf.run_dir_)
        records.append(json.loads((clf.run_dir_ / "result.json").read_text()))
        # The start line counts the rows once: the held-out ones are val and test both.
        assert "(multiclass, 100 rows)" in capsys.readouterr().out
    assert len(dirs) == 3
    assert [r["split"] for r in records] == [None, [0.8, 0.2], [0.7, 0.3]]
    assert [(r["n_train"], r["n_val"]) for r in records] == [(100, 100), (80, 20), (70, 30)]


def test_an_arrays_columns_are_named_x0_on_as_an_npz_runs_are(tmp_path, capsys):
    """Fitted on an array, the estimator named its columns x1, x2, ...: `mlplab predict`
    on its record wanted a CSV of other names than an NPZ-trained run (x0, x1, ...) and
    than scikit-learn's get_feature_names_out give."""
    from sklearn.preprocessing import StandardScaler

    from mlplab.cli import main

    X, y = make_blobs(60, centers=3, random_state=0)
    clf = MLPClassifier(hid_dim=8, epoch=5, random_state=0, log_path=tmp_path, plots="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert not hasattr(clf, "feature_names_in_")  # as scikit-learn's, for an array
    names = list(StandardScaler().fit(X).get_feature_names_out())
    assert names == ["x0", "x1"]
    pd.DataFrame(X[:4], columns=names).to_csv(tmp_path / "rows.csv", index=False)
    np.savez(tmp_path / "rows.npz", X=X[:4])
    capsys.readouterr()
    assert main(["predict", str(clf.run_dir_), "--data", str(tmp_path / "rows.csv"), "-q"]) == 0
    from_csv = capsys.readouterr().out
    assert main(["predict", str(clf.run_dir_), "--data", str(tmp_path / "rows.npz"), "-q"]) == 0
    assert capsys.readouterr().out == from_csv
    assert [int(line.split(",")[0]) for line in from_csv.split()[1:]] == list(clf.predict(X[:4]))
    # A second submission over the first: refused, as "trained on arrays in memory", once
    # --out existed, and the old predictions left in place.
    out = tmp_path / "sub.csv"
    for _ in range(2):
        out.write_text("old\n")
        args = ["predict", str(clf.run_dir_), "--data", str(tmp_path / "rows.csv"), "--out"]
        assert main([*args, str(out), "-q"]) == 0
        assert out.read_text().replace("\r\n", "\n") == from_csv


def test_dtype_given_as_numpy_saves_and_one_row_batch_norm_is_a_value_error(tmp_path):
    """save() of dtype=np.float64 was 'not JSON serializable'; batch norm on one row
    raised ConfigError (not a ValueError) naming a batch_size the user never gave."""
    X, y = make_blobs(40, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=4, epoch=2, dtype=np.float64).fit(X, y)
    clf.save(tmp_path / "m.safetensors")
    back = MLPClassifier.load(tmp_path / "m.safetensors")
    assert back.get_params()["dtype"] == "float64"
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(
        ValueError,
        match=r"^setting 'use_bn': batch norm needs 2 or more training rows; this fit has 1$",
    ):
        MLPRegressor(use_bn=True, epoch=2).fit(np.array([[0.0, 1.0]]), np.array([1.0]))
    one_row = r"^setting 'use_bn': batch norm needs 2 or more rows; this partial_fit has 1$"
    for engine in ("numpy", "torch"):  # torch's own words were 'Expected more than 1 value'
        est = MLPRegressor(use_bn=True, engine=engine).partial_fit(X[:8], y[:8].astype(float))
        with pytest.raises(ValueError, match=one_row):
            est.partial_fit(X[:1], y[:1].astype(float))


def test_an_interrupted_fit_says_to_fit_again_not_to_resume(tmp_path):
    """A real SIGINT during a recorded fit: the message offered train(resume=...), which
    refuses an estimator's record (its arrays are not kept)."""
    import os
    import signal
    import threading
    import time

    def interrupt_once_training() -> None:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("exp/*/result.json")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    X, y = make_blobs(200, centers=2, random_state=0)
    sender = threading.Thread(target=interrupt_once_training)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt) as stop:
            MLPClassifier(hid_dim=8, epoch=10_000_000, patience=0, log_path=tmp_path).fit(X, y)
    finally:
        sender.join()
    assert re.fullmatch(
        r"the run stopped at step \d+; its record is in .+, and fitting again starts over",
        str(stop.value),
    ), str(stop.value)
    assert "resume" not in str(stop.value)


def test_an_interrupted_fit_without_a_record_says_the_estimator_is_as_it_was():
    """It said "(record=False: nothing was written)", an argument of train() the user of
    an estimator never passed."""
    import os
    import signal
    import threading

    X, y = make_blobs(200, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=8, epoch=2).fit(X, y)  # imports done: the next fit starts at once
    before = clf.predict(X)
    sender = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt) as stop:
            clf.set_params(epoch=10_000_000, patience=0).fit(X, y)
    finally:
        sender.join()
    assert re.fullmatch(
        r"fit stopped at step \d+; the estimator is left as it was", str(stop.value)
    ), str(stop.value)
    np.testing.assert_array_equal(clf.predict(X), before)


def test_an_estimators_record_predicts_with_the_model_the_estimator_keeps(tmp_path, capsys):
    """With patience the estimator predicts with its best epoch's weights, and its record
    gave its last model by default: probabilities 0.33 apart, and no word of it."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    y = np.where(X.a - X.b + rng.normal(size=300) > 0, "yes", "no")
    clf = MLPClassifier(hid_dim=64, lr=0.05, epoch=300, patience=5, random_state=1,
                        log_path=str(tmp_path), plots="none", verbose=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.best_epoch_ < clf.n_iter_  # its last model is another
    expected = clf.predict_proba(X)
    last = load_run(clf.run_dir_, data=False, which="last").predict_proba(X)
    assert np.abs(last - expected).max() > 0.01
    run = load_run(clf.run_dir_, data=False)
    np.testing.assert_allclose(run.predict_proba(X), expected, atol=1e-6)
    X.to_csv(tmp_path / "rows.csv", index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "predict", str(clf.run_dir_), "--data", "rows.csv"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = pd.read_csv(io.StringIO(proc.stdout))
    np.testing.assert_allclose(said[["p_no", "p_yes"]].to_numpy(), expected, atol=1e-6)
    assert proc.stderr == (
        f"mlplab: note: predicting with {clf.run_dir_}'s best model (epoch {clf.best_epoch_}), "
        "as the estimator that fitted it did (patience); its last, of epoch "
        f"{clf.n_iter_}, is --checkpoint last\n"
    )


def test_a_regressors_record_names_its_targets_as_a_dataframe_y_does(tmp_path):
    """Fitted on y with columns px and py, the record and `mlplab predict` said y0 and y1,
    while X's names were kept."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc"))
    Y = pd.DataFrame({"px": X.a + X.b, "py": 2 * X.c})
    named = MLPRegressor(
        epoch=3, random_state=0, log_path=str(tmp_path), plots="none", verbose=False
    )
    run = load_run(named.fit(X, Y).run_dir_, data=False)
    assert run.dataset.target_names == ["px", "py"]
    one = MLPRegressor(epoch=3, random_state=0, log_path=str(tmp_path), plots="none", verbose=False)
    assert load_run(one.fit(X, Y.px).run_dir_, data=False).dataset.target_names == ["px"]
    plain = MLPRegressor(
        epoch=3, random_state=0, log_path=str(tmp_path), plots="none", verbose=False
    )
    run = load_run(plain.fit(X, Y.to_numpy()).run_dir_, data=False)
    assert run.dataset.target_names == ["y0", "y1"]  # an array names none
    blank = MLPRegressor(
        epoch=3, random_state=0, log_path=str(tmp_path), plots="none", verbose=False
    )
    run = load_run(blank.fit(X, Y.rename(columns={"px": ""})).run_dir_, data=False)
    assert run.dataset.target_names == ["y0", "y1"]  # "" names no column of a CSV's header


def test_no_log_path_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = make_blobs(50, centers=2, random_state=0)
    clf = MLPClassifier(hid_dim=4, epoch=3).fit(X, y)
    assert clf.run_dir_ is None
    assert list(tmp_path.iterdir()) == []


def test_unwritable_log_path_is_a_value_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    X, y = make_blobs(20, centers=2, random_state=0)
    with pytest.raises(ValueError, match="setting 'log_path'"):
        MLPClassifier(epoch=1, log_path=blocker / "runs").fit(X, y)


def test_a_width_per_layer_as_hidden_layer_sizes():
    X, y = make_blobs(200, centers=3, random_state=0)
    for widths in ("16-8", (16, 8)):
        clf = MLPClassifier(hid_dims=widths, epoch=30, lr=0.01, random_state=0).fit(X, y)
        shapes = {k: v.shape for k, v in clf._backend.export(0).weights.items()}
        assert shapes["hidden.0.linear.weight"] == (16, 2)
        assert shapes["hidden.1.linear.weight"] == (8, 16)
        assert shapes["out.weight"] == (3, 8)
        assert clf.score(X, y) > 0.9


def test_an_n_layer_that_hid_dims_overrides_is_a_warning_at_the_users_line():
    """A search over n_layer on a base with hid_dims fitted one model again and again,
    with no word; the CLI notes it, and the estimator warns, where fit was called."""
    X, y = make_blobs(60, centers=2, random_state=0)
    with pytest.warns(UserWarning, match=r"n_layer=3 is ignored: hid_dims=\(8, 4\) gives 2") as w:
        clf = MLPClassifier(hid_dims=(8, 4), n_layer=3, epoch=2, patience=0).fit(X, y)
    assert [r.filename for r in w if "n_layer" in str(r.message)] == [__file__]
    assert [c.shape for c in clf.coefs_] == [(2, 8), (8, 4), (4, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the count hid_dims gives, or the default: no word
        MLPClassifier(hid_dims=(8, 4), n_layer=2, epoch=2, patience=0).fit(X, y)
        MLPClassifier(hid_dims=(8, 4), epoch=2, patience=0).fit(X, y)


def test_none_for_off_says_which_value_turns_the_setting_off():
    X, y = make_blobs(40, centers=2, random_state=0)
    with pytest.raises(
        ValueError, match=r"^setting 'patience': an empty value \(null, ~ or None\) is not a whole"
    ) as e:
        MLPClassifier(patience=None).fit(X, y)
    assert "0 turns early stopping off" in str(e.value)


@pytest.mark.parametrize("log", [False, True])
def test_overflowing_features_name_the_estimators_own_fixes(tmp_path, log):
    X, y = make_blobs(20, centers=2, random_state=0)
    clf = MLPClassifier(epoch=1, log_path=tmp_path / "runs" if log else None)
    with pytest.raises(
        ValueError,
        match=r"^X, y: feature 'x\d' holds -?\d\.\d+e\+200 in the train rows, "
        r"past the largest float32 \(3\.4e\+38\)",
    ) as err:
        clf.fit(X * 1e200, y)
    msg = str(err.value)
    # An estimator has no --standardize or --dtype flag: the hint is what it does have.
    assert "dtype='float64'" in msg and "--" not in msg, msg
    assert MLPClassifier(epoch=1, dtype="float64").fit(X * 1e200, y).predict(X).shape == (20,)


# --- early stopping as scikit-learn's: tol, ConvergenceWarning, best_* ------------------------
def test_min_delta_is_tol_and_best_attributes_describe_the_model_kept() -> None:
    """Without a least improvement, any tiny drop reset the patience and the fit ran on."""
    X, y = make_blobs(200, centers=3, cluster_std=3.0, random_state=0)
    common = dict(epoch=400, patience=10, validation_fraction=0.25, random_state=0)
    strict = MLPClassifier(min_delta=0.0, **common).fit(X, y)
    loose = MLPClassifier(min_delta=1e-2, **common).fit(X, y)
    assert loose.n_iter_ < strict.n_iter_
    # Stopped early: the model kept is the lowest validation loss's, within the patience's
    # 10 validations back (a drop smaller than min_delta is kept too, as scikit-learn's
    # early_stopping keeps its best: the model of a drop of less was lost), and its score
    # is named.
    assert loose.best_epoch_ == int(np.argmin(loose.validation_loss_curve_)) + 1
    assert loose.n_iter_ - 10 <= loose.best_epoch_ < loose.n_iter_
    assert loose.best_validation_score_ == loose.validation_scores_[loose.best_epoch_ - 1]
    assert loose.best_loss_ is None  # rows held out, as scikit-learn's
    on_train = MLPClassifier(epoch=20, patience=0, random_state=0).fit(X, y)
    assert on_train.best_epoch_ == 20 and on_train.best_validation_score_ is None
    assert on_train.best_loss_ == min(on_train.loss_curve_)


def test_fit_warns_when_the_epochs_run_out_before_the_patience(tmp_path) -> None:
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_blobs(60, centers=2, random_state=0)
    # No rows held out (validation_fraction=0): the loss that patience watches is the
    # training rows', and the warning says so.
    with pytest.warns(ConvergenceWarning, match="all 3 epochs ran and the training loss") as w:
        clf = MLPClassifier(epoch=3, random_state=0).fit(X, y)
    assert w[0].filename == __file__  # the user's fit, not a line inside mlplab
    with pytest.warns(ConvergenceWarning, match="all 3 epochs ran and the validation loss"):
        MLPClassifier(epoch=3, validation_fraction=0.2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLPClassifier(epoch=3, patience=0, random_state=0).fit(X, y)  # a fixed count asked
    clf.save(tmp_path / "m.safetensors")
    loaded = MLPClassifier.load(tmp_path / "m.safetensors")
    assert (loaded.best_epoch_, loaded.best_loss_) == (clf.best_epoch_, clf.best_loss_)


def test_hints_name_parameters_not_command_line_flags() -> None:
    X, y = make_blobs(20, centers=2, random_state=0)
    # it had said --engine torch
    with pytest.raises(ValueError, match=r"use device=cpu, or engine=torch where torch sees"):
        MLPClassifier(engine="numpy", device="cuda").fit(X, y)


def test_a_failed_fit_leaves_the_estimator_as_it_was() -> None:
    """A fit that failed left a half-set estimator: predict, score and save were
    AttributeErrors ('_predictor64', '_backend'), not NotFittedError or the old model."""
    from sklearn.exceptions import NotFittedError

    X, y = make_blobs(90, centers=3, random_state=0)
    first = MLPClassifier(epoch=5, class_weight={7: 1.0})
    with pytest.raises(ValueError, match=r"class_weight': \[7\] are not classes of y \(0, 1, 2\)"):
        first.fit(X, y)
    with pytest.raises(NotFittedError):
        first.predict(X[:2])
    fitted = MLPClassifier(epoch=5, random_state=0).fit(X, y)
    before = fitted.predict_proba(X)
    with pytest.raises(ValueError):
        fitted.fit(X, y, sample_weight=np.zeros(len(y)))
    np.testing.assert_array_equal(fitted.predict_proba(X), before)  # the last good model
    diverging = MLPRegressor(epoch=5, lr=10, optim="sgd", random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        diverging.fit(X, y * 100.0)
    with pytest.raises(NotFittedError):
        diverging.predict(X[:2])


def test_a_partial_fit_that_diverges_drops_its_model_rather_than_predict_nan() -> None:
    from sklearn.exceptions import NotFittedError

    X, y = make_blobs(90, centers=3, random_state=0)
    reg = MLPRegressor(lr=10, optim="sgd", batch_size=16, random_state=0)
    with pytest.raises(
        ValueError, match=r"diverged.*The model is dropped \(its weights are not finite\)"
    ):
        reg.partial_fit(X, y * 1.0)
    with pytest.raises(NotFittedError):
        reg.predict(X[:2])  # was [nan, nan]


def test_partial_fit_weighs_classes_by_the_dict_when_a_batch_lacks_one() -> None:
    """class_weight={1: 5.0} on a batch of class 0 alone was 'The classes, [0], are not in
    class_weight' (SGDClassifier takes it)."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.array([0] * 10 + [1] * 10)
    clf = MLPClassifier(class_weight={1: 5.0}, random_state=0)
    clf.partial_fit(X[:10], y[:10], classes=[0, 1])
    clf.partial_fit(X[10:], y[10:])
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match=r"needs at least 2 classes, got classes=\[0\]$"):
        MLPClassifier().partial_fit(X, y, classes=np.array([0]))


def test_data_too_large_for_float32_is_named_as_what_fit_was_given() -> None:
    """The line named the data 'array', a file name the user never gave."""
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(
        ValueError,
        match=r"^X, y: target 'y' holds .*e\+\d+ in the train rows, past the largest float32 "
        r"\(3\.4e\+38\); rescale y \(e\.g\. TransformedTargetRegressor with a "
        r"StandardScaler\), or use dtype='float64'$",
    ):
        MLPRegressor(epoch=5).fit(X, X[:, 0] * 1e200)
    # Within float32, but not its square: the loss was inf before the first step, and the
    # line called it a divergence and asked for a lower lr, which could not help.
    with pytest.raises(
        ValueError,
        match=r"^X, y: target values overflow float32 when squared in the loss \(largest "
        r"magnitude 2\.\d+e\+20, past 1\.84e\+19\); rescale y \(e\.g\. "
        r"TransformedTargetRegressor with a StandardScaler\), or use dtype='float64'$",
    ):
        MLPRegressor(epoch=5, lr=1e-8).fit(X, X[:, 0] * 1e20)
    assert MLPRegressor(epoch=5, dtype="float64").fit(X, X[:, 0] * 1e20).n_iter_ == 5


def test_partial_fit_refuses_labels_of_another_type_than_classes() -> None:
    """Numbers against text classes (or text against numbers) were turned into labels
    without a word: classes=['0', '1', '2'] with y of ints trained, then predict returned
    text and score refused the same y. scikit-learn refuses both."""
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.arange(30) % 3
    with pytest.raises(
        ValueError, match=r"^y has labels that are not in classes_ \['0', '1', '2'\]: \[0, 1, 2\]$"
    ):
        MLPClassifier().partial_fit(X, y, classes=["0", "1", "2"])
    clf = MLPClassifier(epoch=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"not in classes_ \[0, 1, 2\]: \['0', '1', '2'\]$"):
        clf.partial_fit(X, y.astype(str))
    clf.partial_fit(X, y.astype(float))  # 1.0 is the label 1, as scikit-learn takes it
    assert clf.predict(X).dtype.kind == "i" and clf.n_iter_ == 3


def test_set_params_with_a_scikit_learn_name_gives_mlplabs() -> None:
    """A search grid written for scikit-learn's MLP ({'mlp__max_iter': ...}) got only
    'Invalid parameter', where the constructor names mlplab's parameter."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(
        ValueError, match=r"'max_iter' for estimator MLPClassifier; here, use epoch"
    ):
        MLPClassifier().set_params(max_iter=5)
    pipe = make_pipeline(StandardScaler(), MLPRegressor())
    with pytest.raises(ValueError, match=r"here, use partial_fit\(X, y\)"):
        pipe.set_params(mlpregressor__warm_start=True)
    assert pipe.set_params(mlpregressor__epoch=3).steps[1][1].epoch == 3


def test_scikit_learns_layer_count_output_activation_and_loss_are_read_as_its(tmp_path):
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    X, y = make_blobs(120, centers=3, random_state=0)
    kw = dict(epoch=5, random_state=0)
    for ours, theirs, target in (
        (
            MLPClassifier(hid_dims=(8, 4), **kw),
            SkClassifier(hidden_layer_sizes=(8, 4), max_iter=5),
            y,
        ),
        (MLPClassifier(hid_dim=8, **kw), SkClassifier(hidden_layer_sizes=(8,), max_iter=5), y % 2),
        (MLPRegressor(hid_dim=8, **kw), SkRegressor(hidden_layer_sizes=(8,), max_iter=5), X[:, 0]),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours.fit(X, target)
            theirs.fit(X, target)
        assert (ours.n_layers_, ours.out_activation_) == (theirs.n_layers_, theirs.out_activation_)
        assert ours.loss_ == ours.loss_curve_[-1]
        ours.save(tmp_path / "m.safetensors")
        saved = type(ours).load(tmp_path / "m.safetensors")
        assert (saved.n_layers_, saved.out_activation_) == (ours.n_layers_, ours.out_activation_)
        # t_, the rows the optimizer saw: each epoch's training rows, as scikit-learn's.
        held_out = round(ours.validation_fraction * len(X))
        assert ours.t_ == ours.n_iter_ * (len(X) - held_out) and saved.t_ == ours.t_
        assert theirs.t_ == theirs.n_iter_ * len(X)  # its fit holds out no rows here
    step = MLPClassifier(hid_dim=8, random_state=0)
    step.partial_fit(X, y, classes=[0, 1, 2])
    step.partial_fit(X[:50], y[:50])
    assert (step.n_iter_, step.t_) == (2, len(X) + 50)


def test_the_regressors_loss_is_the_mean_squared_error_twice_scikit_learns() -> None:
    """As its docstrings say: loss_curve_ holds the MSE, scikit-learn's half of it, so the
    two are compared (min_delta against tol) with a factor of 2."""
    from sklearn.metrics import mean_squared_error
    from sklearn.neural_network import MLPRegressor as SkRegressor

    X, _ = make_blobs(100, centers=3, n_features=3, random_state=0)
    y = X @ np.array([1.0, 2.0, 3.0])
    # One full-batch step, so small that the model after it predicts as the one before.
    ours = MLPRegressor(
        hid_dim=8, epoch=1, lr=1e-12, batch_size=0, patience=0, dtype="float64", random_state=0
    ).fit(X, y)
    assert ours.loss_curve_[0] == pytest.approx(mean_squared_error(y, ours.predict(X)), rel=1e-9)
    theirs = SkRegressor(
        hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e-12, alpha=0.0,
        batch_size=100, max_iter=1, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
    assert theirs.loss_curve_[0] == pytest.approx(mean_squared_error(y, theirs.predict(X)) / 2)


def test_a_validation_set_smaller_than_the_classes_is_refused_as_scikit_learn_does():
    """validation_fraction=0.001 of 300 rows held out one row of one class, and early
    stopping followed its loss; scikit-learn refuses such a split."""
    X, y = make_blobs(300, centers=3, random_state=0)
    with pytest.raises(ValueError, match=r"holds out 1 of 300 rows, fewer than the 3 classes"):
        MLPClassifier(validation_fraction=0.001, epoch=1).fit(X, y)
    assert len(MLPClassifier(validation_fraction=0.01, epoch=1).fit(X, y).validation_scores_) == 1


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_a_validation_set_of_every_row_is_refused_in_mlplabs_words(cls):
    """validation_fraction=0.999 of 100 rows got scikit-learn's message of test_size and
    train_size, settings the user never gave, where 0.001 and 1.0 got mlplab's own."""
    X, y = make_blobs(100, centers=3, random_state=0)
    for fraction in (0.999, 0.995):
        with pytest.raises(ValueError) as caught:
            cls(validation_fraction=fraction, epoch=1).fit(X, y)
        assert str(caught.value) == (
            f"validation_fraction={fraction} holds out 100 of 100 rows, leaving none to train "
            "on; lower it to 0.99 or below (0 validates on the training rows)"
        )
    assert cls(validation_fraction=0.99, epoch=1).fit(X, y).n_iter_ == 1  # the value it names
    # Of few rows too, the value it names is one that trains.
    y7 = np.array([0, 0, 0, 1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"holds out 7 of 7 rows, .* lower it to 0\.85 or below"):
        cls(validation_fraction=0.9, epoch=1).fit(X[:7], y7)
    assert cls(validation_fraction=0.85, epoch=1).fit(X[:7], y7).n_iter_ == 1


@pytest.mark.parametrize(
    "labels",
    [np.array([False, True]), np.array([1.0, 2.0]), np.array(["1", "2"], dtype=object)],
    ids=["bool", "float", "digit-text"],
)
def test_an_estimators_record_predicts_its_labels_of_their_own_kind(tmp_path, labels):
    """load_run(data=False) of an estimator's log_path record gave 'True', '2.0' or 2
    where the estimator's predict gives True, 2.0 or '1'."""
    from mlplab.restore import load_run

    X, y01 = make_blobs(80, centers=2, random_state=0)
    y = labels[y01]
    est = MLPClassifier(
        epoch=20, patience=0, random_state=0, log_path=str(tmp_path), plots="none"
    ).fit(X, y)
    (run,) = [p.parent for p in tmp_path.rglob("config.yaml")]
    predicted = load_run(run, data=False).predict_labels(X)
    assert predicted.dtype == est.predict(X).dtype or predicted.dtype == object
    assert (predicted == est.predict(X)).all()


def test_a_regressors_target_scale_note_names_the_scikit_learn_cure(capsys):
    """verbose=True said `--standardize_target true`, a setting MLPRegressor refuses."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    MLPRegressor(hid_dim=16, epoch=3, random_state=0, verbose=True).fit(X, y)
    out = " ".join("".join(capsys.readouterr()).split())
    assert "the target reaches 346" in out
    assert (
        "TransformedTargetRegressor(regressor=MLPRegressor(...), transformer=StandardScaler())"
        in out
    )
    assert "--standardize_target" not in out


def test_a_fit_stopped_early_on_unscaled_features_is_told_to_scale_them():
    """Raw wine (proline up to 1680): patience stopped 8 default fits in 10 at accuracies
    from 0.08 to 0.78 (0.94 scaled) without a word; only a fit that ran all its epochs
    heard of the features' scale."""
    import warnings

    from sklearn.datasets import load_wine
    from sklearn.exceptions import ConvergenceWarning

    X, y = load_wine(return_X_y=True)
    with pytest.warns(ConvergenceWarning) as caught:
        raw = MLPClassifier(random_state=0).fit(X, y)
    assert raw.n_iter_ < raw.epoch  # patience stopped it
    (said,) = [str(w.message) for w in caught]
    loss = raw.loss_curve_[raw.best_epoch_ - 1]
    assert said.startswith(f"MLPClassifier: patience=10 stopped the fit at epoch {raw.n_iter_} "
                           f"and kept epoch {raw.best_epoch_}'s weights, whose training loss "
                           f"{loss:.4g} is no better than knowing the classes' shares (1.086); "
                           "feature 'x12' reaches 1.68e+03, and the features are unscaled")  # fmt: skip
    assert caught[0].filename == __file__
    # A good fit that patience stopped, beside a year's column of 2000, is no fault of the
    # scale: nothing said (it was told to scale, at accuracy 1.0).
    rng = np.random.default_rng(0)
    X, y = make_blobs(3000, centers=[[-3, -3], [3, 3]], random_state=0)
    X = np.c_[X, 2000 + rng.normal(size=3000)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        good = MLPClassifier(random_state=0, epoch=500).fit(X, y)
    assert good.n_iter_ < 500 and good.score(X, y) > 0.99


def test_a_classifier_on_unscaled_features_is_told_to_scale_them_not_to_raise_epoch():
    """Unscaled columns of 2000 beside 15 reached 0.44 accuracy, 0.96 behind a
    StandardScaler, and the warning said "raise epoch"."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.normal(15, 8, 300), rng.uniform(0, 900, 300), rng.uniform(10, 2000, 300)]
    )
    y = np.where(X[:, 2] > 1300, "a", np.where(X[:, 0] > 15, "b", "c"))
    with pytest.warns(ConvergenceWarning) as caught:
        raw = MLPClassifier(hid_dim=32, epoch=100, random_state=0).fit(X, y)
    (said,) = [str(w.message) for w in caught]
    assert said.startswith("MLPClassifier: the loss was still falling after all 100 epochs; "
                           "feature 'x2' reaches 1.99e+03, and the features are unscaled")  # fmt: skip
    assert said.endswith("make_pipeline(StandardScaler(), ...) scales each to mean 0 and spread 1")
    assert caught[0].filename == __file__  # the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scaled = make_pipeline(
            StandardScaler(), MLPClassifier(hid_dim=32, epoch=100, random_state=0)
        )
        assert scaled.fit(X, y).score(X, y) > raw.score(X, y) + 0.3  # the cure it names


def test_a_quiet_regressor_on_a_large_target_warns_of_its_scale():
    """make_pipeline(StandardScaler(), MLPRegressor()) on prices fit to R² -5.8 and said only
    "raise epoch": the target-scale note reached verbose=True alone."""
    import warnings

    from sklearn.datasets import load_diabetes
    from sklearn.exceptions import ConvergenceWarning

    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"^MLPRegressor: the (test|training) R² is "
                      r"[-\d.e+]+(, worse than the training mean's 0)?: the target reaches 346; .*"
                      r"TransformedTargetRegressor") as caught:  # fmt: skip
        MLPRegressor(hid_dim=16, epoch=3, random_state=0).fit(X, y)
    assert caught[0].filename == __file__  # the user's line
    assert not any("raise epoch" in str(w.message) for w in caught)  # not the cure here
    with warnings.catch_warnings(record=True) as scaled:
        warnings.simplefilter("always")
        MLPRegressor(hid_dim=16, epoch=3, random_state=0).fit(X, (y - y.mean()) / y.std())
    assert not any("target reaches" in str(w.message) for w in scaled)
    # A target of tiny spread (1e-12 of a unit) is told the same cure, not "raise epoch".
    with pytest.warns(ConvergenceWarning, match=r"the target varies by only [\d.e+-]+ \(its "
                      r"spread\); .*TransformedTargetRegressor"):  # fmt: skip
        MLPRegressor(hid_dim=16, epoch=3, random_state=0).fit(X, 1e-12 * y)


def test_sparse_input_from_a_pipeline_fits_as_its_dense_form():
    """A ColumnTransformer with a OneHotEncoder (or a TfidfVectorizer) hands on a sparse
    matrix, which scikit-learn's MLP takes: it was refused ("Use X.toarray()", which no
    pipeline step can do), and a grid search ended with every fit failed."""
    import pandas as pd
    import scipy.sparse as sp
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(30)], 300)})
    y = df["city"].str[1:].astype(int) % 2
    encode = ColumnTransformer([("oh", OneHotEncoder(), ["city"])])
    assert sp.issparse(encode.fit_transform(df))
    kw = {"epoch": 40, "random_state": 0, "verbose": False}
    sparse = make_pipeline(encode, MLPClassifier(**kw)).fit(df, y)
    dense = MLPClassifier(**kw).fit(encode.transform(df).toarray(), y)
    np.testing.assert_allclose(
        sparse.predict_proba(df), dense.predict_proba(encode.transform(df).toarray())
    )
    X = sp.random(50, 4, density=0.5, random_state=0, format="csr")
    reg = MLPRegressor(**kw).fit(X, X.sum(axis=1).A1)
    np.testing.assert_allclose(reg.predict(X), reg.predict(X.toarray()))


@pytest.mark.parametrize(("given", "meant"), [("seed", "random_state"), ("units", "hid_dim")])
def test_set_params_hints_mlplabs_name_as_the_constructor_does(given, meant):
    """set_params(seed=...) got scikit-learn's generic line: the constructor named
    random_state, set_params (a search grid's) did not."""
    with pytest.raises(
        ValueError,
        match=f"Invalid parameter '{given}' for estimator MLPClassifier \\(did you mean '{meant}'\\?\\)",
    ):
        MLPClassifier().set_params(**{given: 1})


def test_the_typed_parameters_are_the_shared_signatures():
    """Type checkers read EstimatorParams (tests/typing/public_api.py checks that a misspelt
    or mistyped parameter is an error to mypy); scikit-learn reads _MLPBase's signature.
    One list, name for name and type for type."""
    from mlplab.sklearn import EstimatorParams, _MLPBase

    shared = {
        name: p.annotation
        for name, p in inspect.signature(_MLPBase.__init__).parameters.items()
        if name != "self"
    }
    # ForwardRefs and strings: both modules postpone their annotations
    typed = {k: v.__forward_arg__ for k, v in EstimatorParams.__annotations__.items()}
    assert typed == shared


def test_numbers_with_thousands_separators_and_arrays_of_text_are_named():
    """'1,694.6' was told to be one-hot encoded (a column a value), and a NumPy array of
    dates or words got NumPy's "could not convert string to float", which names no column."""
    X = pd.DataFrame({"x": ["1,694.6", "12,000", "2,100.5", "700"] * 5})
    with pytest.raises(ValueError, match=r"column 'x' holds numbers with thousands separators"):
        MLPRegressor(epoch=2).fit(X, np.arange(20.0))
    dates = np.array([[f"2020-01-{i % 28 + 1:02d}", str(i)] for i in range(40)])
    with pytest.raises(ValueError, match=r"X's column 0 holds dates or times \('2020-01-01'\)"):
        MLPRegressor(epoch=2).fit(dates, np.arange(40.0))
    words = np.array([["red" if i % 2 else "blue", i] for i in range(40)], dtype=object)
    with pytest.raises(ValueError, match=r"X's column 0 holds text \('blue'\)"):
        MLPClassifier(epoch=2).fit(words, np.arange(40) % 2)
