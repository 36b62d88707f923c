"""The TensorFlow Playground's lessons: its feature inputs (setting ``features``) on data of
two features, drawn over the x1 x x2 plane, and its circle (``--data circle``)."""

from __future__ import annotations

import numpy as np

from conftest import assert_one_line_error
from mlplab.config import SYNTHETIC_SETS, Config
from mlplab.data import BUILTIN, load_dataset
from mlplab.data.registry import TWO_D, datasets_table


def test_circle_is_the_playgrounds_disk_inside_a_ring():
    ds = load_dataset("circle", noise=0)
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])[:, 0]
    r = np.hypot(X[:, 0], X[:, 1])
    assert ds.task == "binary" and len(X) == 1000 and ds.scaler is None
    assert y.mean() == 0.5 and np.all(r[y == 1] < 2.5)
    assert np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5))
    # Noise moves the point its label is drawn at, not the point: labels flip near 2.5..3.5.
    noisy = load_dataset("circle", noise=0.3)
    Xn = noisy.X_train
    np.testing.assert_array_equal(np.hypot(*Xn.T) < 2.5, np.hypot(*Xn.T) < 3.0)
    assert 0 < np.mean((np.hypot(*Xn.T) < 2.5) != (noisy.y_train[:, 0] == 1)) < 0.3


def test_circle_is_registered_with_the_other_two_dimensional_sets():
    info = BUILTIN["circle"]
    assert "circle" in SYNTHETIC_SETS and "circle" in TWO_D and info.n_features == 2
    assert "TensorFlow Playground's circle" in info.summary
    assert "circle " in datasets_table() and "circles" in BUILTIN  # circles is kept
    assert Config(data="circle").standardizes() is False


def test_a_noise_past_one_on_a_class_set_is_refused_with_the_playgrounds_scale(run_cli, tmp_path):
    """The Playground's slider shows 0-50: `--noise 50` trained spiral on noise alone."""
    proc = run_cli("train", "--data", "spiral", "--noise", "50", cwd=tmp_path)
    assert_one_line_error(proc, "setting 'noise': 50", "Playground's noise N", "--noise N/100")
    assert load_dataset("sinlog", noise=2).task == "regression"  # an sd there: any size
