"""mlplab's NumPy metrics agree with scikit-learn's definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error, r2_score

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
