"""The TensorFlow Playground's lessons: its feature inputs (setting ``features``) on data of
two features, drawn over the x1 x x2 plane, and its circle (``--data circle``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mlplab
from conftest import assert_one_line_error
from mlplab.config import PLAYGROUND_FEATURES, SYNTHETIC_SETS, Config
from mlplab.data import BUILTIN, load_dataset
from mlplab.data.registry import TWO_D, datasets_table
from mlplab.errors import ConfigError
from mlplab.plots import surfaces
from mlplab.runs.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
ALL = list(PLAYGROUND_FEATURES)


# --- the setting -------------------------------------------------------------------------
def test_features_take_the_playgrounds_spellings_as_the_names_that_need_no_quoting():
    given = ["X_1", "y", "x1^2", "ySquared", "x1*x2", "sin(X_1)", "sinY"]
    assert Config(data="spiral", features=given).features == ALL
    assert Config(data="spiral", features="x1 x2 x1sq").features == ["x1", "x2", "x1sq"]


@pytest.mark.parametrize(
    "given, said",
    [
        (["x1", "cosx1"], "'cosx1' is not one of the Playground's inputs: " + ", ".join(ALL)),
        (["x1", "X_1"], "'X_1' names x1 twice"),
    ],
)
def test_a_bad_feature_name_is_one_line_with_the_choices(given, said, run_cli, tmp_path):
    with pytest.raises(ConfigError, match="setting 'features'"):
        Config(data="spiral", features=given)
    proc = run_cli("train", "--data", "spiral", "--features", *given, cwd=tmp_path)
    assert_one_line_error(proc, "setting 'features'", said)


def test_features_enter_the_run_id_only_when_set():
    """Run ids recorded before the setting stay as they were (their folders are found)."""
    playground = dict(data="quadrants", hid_dims="4-2", act="tanh", lr=0.03, batch_size=10)
    assert Config(data="spiral").run_id() == "exp-bd3f13"
    assert Config(**playground, split=[0.5, 0.5, 0]).run_id() == "exp-1f395e"
    with_features = Config(data="spiral", features=["x1", "x2"])
    assert with_features.run_id() != Config(data="spiral").run_id()


@pytest.mark.parametrize("data, width", [("iris", 4), ("sine", 1)])
def test_features_on_data_of_other_widths_are_refused_in_one_line(data, width, run_cli, tmp_path):
    with pytest.raises(ConfigError, match=f"{data!r} has {width}: leave features out"):
        load_dataset(data, features=["x1sq"])
    proc = run_cli("train", "--data", data, "--features", "x1sq", cwd=tmp_path)
    assert_one_line_error(proc, "setting 'features'", f"has {width}")


# --- the data ----------------------------------------------------------------------------
@pytest.mark.parametrize("standardize", [False, True])
def test_the_model_takes_the_features_made_from_x1_x2_and_the_plane_keeps_x1_x2(standardize):
    plain = load_dataset("spiral", standardize=False)
    ds = load_dataset("spiral", features=ALL, standardize=standardize)
    assert ds.feature_names == ALL and ds.input_names == ["x1", "x2"] and ds.n_features == 7
    x1, x2 = plain.X_train.T
    made = np.column_stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)])
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(ds.raw_rows(split), getattr(plain, f"X_{split}"))
        # The one map from raw x1, x2 to the model's inputs gives the splits' own.
        np.testing.assert_allclose(
            ds.transform(ds.raw_rows(split)), getattr(ds, f"X_{split}"), atol=1e-12
        )
    if standardize:  # scaled after deriving: each feature of mean 0 and sd 1
        np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-9)
        np.testing.assert_allclose(ds.X_train.std(axis=0), 1, atol=1e-9)
    else:
        np.testing.assert_allclose(ds.X_train, made)
    # The pictures' grid lies over the x1 x x2 plane and feeds the model its 7 features.
    grid = surfaces.make_grid(ds, 20)
    assert surfaces.is_planar(ds) and grid.model_inputs.shape == (400, 7)
    raw = np.column_stack([grid.xx.ravel(), grid.yy.ravel()])
    np.testing.assert_allclose(grid.model_inputs, ds.transform(raw))
    lo, hi = surfaces.all_raw_points(ds).min(axis=0), surfaces.all_raw_points(ds).max(axis=0)
    assert grid.xx.min() < lo[0] < hi[0] < grid.xx.max()


def test_a_file_of_two_feature_columns_takes_features_of_its_columns(tmp_path):
    rows = pd.DataFrame({"u": [1.0, -2.0, 3.0, 0.5] * 5, "v": [2.0, 1.0, -1.0, 0.0] * 5})
    rows["label"] = [0, 1] * 10
    rows.to_csv(tmp_path / "two.csv", index=False)
    ds = load_dataset(str(tmp_path / "two.csv"), features=["x1sq", "x1x2"], standardize=False)
    assert ds.input_names == ["u", "v"] and ds.feature_names == ["x1sq", "x1x2"]
    u, v = ds.raw_rows("train").T
    np.testing.assert_allclose(ds.X_train, np.column_stack([u * u, u * v]))
    rows.insert(2, "w", rows["u"] - rows["v"])
    rows.to_csv(tmp_path / "three.csv", index=False)
    with pytest.raises(ConfigError, match=r"three\.csv' has 3: leave features out"):
        load_dataset(str(tmp_path / "three.csv"), features=["x1sq"])


# --- a run: its pictures, record, and predictions ------------------------------------------
@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    where = tmp_path_factory.mktemp("features")
    result = mlplab.train(
        data="spiral", n_samples=200, features=ALL, hid_dims="6", act="tanh", lr=0.03,
        batch_size=10, epoch=30, snapshot_every=10, log_every=0, log_path=str(where),
    )  # fmt: skip
    return result


def test_a_run_with_features_draws_every_plane_picture_over_x1_x2(spiral_run):
    plots = {p.name for p in (spiral_run.run_dir / "plots").iterdir()}
    assert {"surface.png", "units.png", "boundary_evolution.png", "network.png"} <= plots
    from mlplab.plots.labels import plane_names
    from mlplab.plots.live_surface import live_surface

    assert plane_names(spiral_run.dataset) == ("x1", "x2")
    svg = live_surface(spiral_run.dataset)
    assert svg is not None and "x1 (→) by x2 (↑)" in svg(spiral_run.model_outputs)


def test_the_record_and_checkpoint_keep_the_features_so_predict_makes_them_again(
    spiral_run, run_cli, tmp_path
):
    run_dir = spiral_run.run_dir
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["features"] == ALL
    meta = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta
    assert meta["features"] == ALL and meta["raw_feature_names"] == ["x1", "x2"]
    rows = np.array([[0.5, -1.0], [3.0, 2.0], [-4.0, 0.25]])
    want = spiral_run.predict(rows)
    np.testing.assert_allclose(want, spiral_run.model_outputs(spiral_run.dataset.transform(rows)))
    for data in (True, False):
        loaded = mlplab.load_run(run_dir, data=data)
        assert loaded.dataset.input_names == ["x1", "x2"]
        np.testing.assert_allclose(loaded.predict(rows), want, rtol=1e-6)
    frame = pd.DataFrame({"x2": rows[:, 1], "x1": rows[:, 0]})  # by name, in any order
    np.testing.assert_allclose(spiral_run.predict(frame), want)
    pd.DataFrame(rows, columns=["x1", "x2"]).to_csv(tmp_path / "new.csv", index=False)
    proc = run_cli("predict", run_dir, "--data", tmp_path / "new.csv")
    assert proc.returncode == 0, proc.stderr
    p1 = pd.read_csv(pd.io.common.StringIO(proc.stdout))["p_1"].to_numpy()
    np.testing.assert_allclose(p1, 1 / (1 + np.exp(-want[:, 0])), atol=1e-6)
    pd.DataFrame(rows, columns=["a", "x2"]).to_csv(tmp_path / "other.csv", index=False)
    proc = run_cli("predict", run_dir, "--data", tmp_path / "other.csv")
    assert_one_line_error(proc, "feature column 'x1' is missing", "'x1', 'x2'")


# --- the Playground's circle ---------------------------------------------------------------
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


# --- docs ------------------------------------------------------------------------------------
def test_the_readme_maps_each_playground_control_and_its_example_trains(run_cli, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = "## Coming from the TensorFlow Playground"
    assert head in readme
    section = readme.split(head, 1)[1].split("\n## ", 1)[0]
    for said in ("--split R 1-R 0", "--features", "--data circle", "--l1_coef", "BCE"):
        assert said in section, said
    for said in ("network.png` draws as cut edges", "--noise N/100"):
        assert said in section, said
    example = ROOT / "examples" / "playground_spiral.yaml"
    assert "features" in yaml.safe_load(example.read_text())
    proc = run_cli(
        "train", "--config", example, "--epoch", "2", "--plots", "none", "--log_path", tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run,) = tmp_path.glob("*/*/result.json")
    assert json.loads(run.read_text())["status"] == "finished"
