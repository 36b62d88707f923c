"""mlplab's NumPy metrics agree with scikit-learn's definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

from mlplab.training.metrics import accuracy, probabilities, regression_metrics


@pytest.mark.parametrize("targets", [1, 3])
def test_regression_metrics_match_sklearn(targets):
    rng = np.random.default_rng(targets)
    y = rng.normal(size=(50, targets))
    p = y + rng.normal(scale=0.3, size=y.shape)
    m = regression_metrics(y, p)
    assert m["mae"] == pytest.approx(mean_absolute_error(y, p))
    assert m["mse"] == pytest.approx(mean_squared_error(y, p))
    assert m["r2"] == pytest.approx(r2_score(y, p))
    # Several targets: the mean of their RMSEs, as scikit-learn's, not sqrt(mean MSE).
    assert m["rmse"] == pytest.approx(root_mean_squared_error(y, p))
    from mlplab.training.metrics import split_metrics

    assert set(split_metrics("regression", y, p)) == {"mae", "mse", "rmse", "r2"}  # no classes


def test_rmse_of_targets_on_different_scales_is_the_mean_of_theirs():
    y = np.array([[0.0, 0.0], [0.0, 0.0]])
    p = np.array([[1.0, 100.0], [1.0, 100.0]])
    assert regression_metrics(y, p)["rmse"] == pytest.approx(50.5)  # sqrt of the mean MSE: 70.7


def test_accuracy_from_logits():
    logits = np.array([[2.0, 0.1, -1], [0.0, 3.0, 1.0], [0.1, 0.2, 5.0], [1.0, 0.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    assert accuracy("multiclass", y, logits) == accuracy_score(y, logits.argmax(1))
    binary = np.array([[-2.0], [0.5], [3.0]])
    assert accuracy("binary", np.array([[0.0], [1.0], [0.0]]), binary) == pytest.approx(2 / 3)
    np.testing.assert_allclose(probabilities("multiclass", logits).sum(1), 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_probabilities_of_huge_logits_are_0_and_1_without_a_warning(dtype):
    logits = np.array([[-1e30], [-800.0], [0.0], [800.0], [1e30]], dtype=dtype)
    p = probabilities("binary", logits)  # warnings are errors in the tests
    np.testing.assert_array_equal(p[:, 1], [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(p.sum(1), 1.0)


def test_a_tied_binary_logit_is_p_one_half_and_the_likelier_class_is_the_predicted_one():
    """A logit of 1e-8 (float32 noise: the stuck perceptron's) was predicted class 0 but given
    P(class 1) = 0.5000000025, so predict and predict_proba disagreed."""
    from mlplab.training.metrics import TIE_LOGIT, predicted_classes

    logits = np.array([[1e-8], [-1e-8], [TIE_LOGIT], [2 * TIE_LOGIT], [0.0]])
    p = probabilities("binary", logits)
    np.testing.assert_array_equal(p[[0, 1, 2, 4], 1], 0.5)
    assert p[3, 1] > 0.5
    np.testing.assert_array_equal(p.argmax(1), predicted_classes("binary", logits))


def _sklearn_class_scores(true, pred, average):
    """scikit-learn's balanced accuracy and F1, its warnings (a class absent) silenced.
    A macro F1 is over the classes present in the truth, as balanced accuracy's mean is:
    a class the split lacks but the model predicts does not count as a 0."""
    import warnings

    from sklearn.metrics import balanced_accuracy_score, f1_score

    labels = np.unique(true) if average == "macro" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = f1_score(true, pred, labels=labels, average=average)
        return balanced_accuracy_score(true, pred), f1


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("seed", range(6))
def test_balanced_accuracy_and_f1_match_sklearn_on_random_labels(n_classes, seed):
    """Imbalanced random labels, with a class missing from the predictions, and (for more
    than two classes, where both scores average over classes) one missing from the truth."""
    from mlplab.training.metrics import class_metrics

    rng = np.random.default_rng(seed)
    share = rng.dirichlet(np.ones(n_classes) * 0.7)
    true = rng.choice(n_classes, size=int(rng.integers(5, 80)), p=share)
    pred = np.where(rng.random(len(true)) < 0.6, true, rng.integers(0, n_classes, len(true)))
    average = "binary" if n_classes == 2 else "macro"
    cases = [(true, pred)]
    gone = int(rng.integers(n_classes))
    cases.append((true, np.where(pred == gone, (gone + 1) % n_classes, pred)))  # never said
    if n_classes > 2:
        cases.append((np.where(true == gone, (gone + 1) % n_classes, true), pred))  # not there
    for t, p in cases:
        got = class_metrics(t, p, n_classes, average)
        bacc, f1 = _sklearn_class_scores(t, p, average)
        assert got["bacc"] == pytest.approx(bacc, abs=1e-12)
        assert got["f1"] == pytest.approx(f1, abs=1e-12)


def test_macro_f1_leaves_out_a_class_the_split_lacks_though_predicted():
    """A validation split without the rare class 2, where the model once predicts it: the
    macro F1 is over classes 0 and 1 (as the split's note says its scores leave class 2
    out), not a mean with a 0 for class 2 that ranks runs by how often they say it."""
    from mlplab.training.metrics import class_metrics

    true, pred = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 2, 1, 1, 1])
    got = class_metrics(true, pred, 3, "macro")
    # class 0: 2 hits of 3 rows, 2 predicted -> 0.8; class 1: 3 of 3, 3 -> 1.0
    assert got["f1"] == pytest.approx(0.9)
    assert got["bacc"] == pytest.approx((2 / 3 + 1) / 2)


@pytest.mark.parametrize(
    ("true", "pred"),
    [([0, 0, 0, 0], [0, 0, 0, 0]), ([0, 0, 0, 0], [0, 1, 0, 0]), ([1, 1, 0], [0, 0, 0])],
)
def test_binary_f1_without_a_positive_row_is_0_as_sklearns(true, pred):
    """No positive row in the truth nor the predictions: F1 is 0 / 0, which scikit-learn
    warns of and scores 0 (its ``zero_division``); mlplab gives 0 without a warning."""
    from mlplab.training.metrics import class_metrics

    t, p = np.array(true), np.array(pred)
    got = class_metrics(t, p, 2, "binary")  # warnings are errors in the tests
    assert (got["bacc"], got["f1"]) == pytest.approx(_sklearn_class_scores(t, p, "binary"))


def test_a_majority_answer_on_95_to_5_classes_scores_its_accuracy_but_not_the_others():
    """The case the two scores are for: always the common class is 0.95 accurate."""
    from mlplab.training.metrics import split_metrics

    y = np.array([[0.0]] * 95 + [[1.0]] * 5)
    m = split_metrics("binary", y, np.full((100, 1), -3.0))
    assert m == {"acc": 0.95, "bacc": 0.5, "f1": 0.0}
    logits = np.zeros((100, 3))
    logits[:, 0] = 1.0  # class 0 for all; class 2 is in neither
    m = split_metrics("multiclass", y[:, 0], logits)
    assert m["acc"] == 0.95 and m["bacc"] == 0.5
    assert m["f1"] == pytest.approx((2 * 95 / 195 + 0.0) / 2)


def test_a_sure_binary_answer_keeps_the_other_class_probability_above_zero():
    """Class 0's probability was 1 - p: 0.0 exactly for a logit of 37 (while class 1's of
    -71 kept 1e-31), and the estimator's predict_log_proba, -37, was not its log."""
    logits = np.array([[37.4], [-71.2], [0.0], [2.5]])
    P = probabilities("binary", logits)
    np.testing.assert_allclose(
        np.log(P[:, 0]), -np.logaddexp(0, logits[:, 0]), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        np.log(P[:, 1]), -np.logaddexp(0, -logits[:, 0]), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    many = probabilities("binary", np.random.default_rng(0).normal(scale=5, size=(10_000, 1)))
    assert (many.sum(axis=1) == 1.0).mean() > 0.999  # they sum to 1 as 1 - p, p did
