"""A trained run as an ordinary PyTorch module: Result.to_torch() and LoadedRun.to_torch()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mlplab.restore import load_run
from mlplab.runner import train

SETTINGS = dict(
    data="moons", n_samples=200, n_layer=2, hid_dim=16, use_bn=True, dp_rate=0.2,
    sc_type="residual", optim="adam", lr=0.01, batch_size=32, epoch=5, log_every=0,
    plots="none", verbose=False,
)  # fmt: skip


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_to_torch_gives_the_runs_outputs_from_plain_pytorch(engine, tmp_path):
    res = train(log_path=str(tmp_path), engine=engine, **SETTINGS)
    before = torch.random.get_rng_state()
    module = res.to_torch()
    assert torch.equal(torch.random.get_rng_state(), before)  # no draws from the global RNG
    assert isinstance(module, nn.Module) and not module.training
    assert any(isinstance(m, nn.BatchNorm1d) for m in module.modules())
    assert any(isinstance(m, nn.Linear) for m in module.modules())
    X = res.dataset.X_test
    with torch.no_grad():
        out = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out, res.model_outputs(X), rtol=1e-5, atol=1e-5)

    # Raw rows: the run's preprocessing first, as predict() applies it.
    raw = np.array([[0.0, 0.5], [1.5, -0.3]])
    with torch.no_grad():
        raw_out = module(torch.as_tensor(res.dataset.transform(raw), dtype=torch.float32))
    np.testing.assert_allclose(raw_out.numpy(), res.predict(raw), rtol=1e-5, atol=1e-5)

    # Batch norm counts the batches its statistics saw, as torch's own training does: 160
    # training rows in batches of 32 are 5 steps an epoch, for 5 epochs (it said 0).
    counts = [int(m.num_batches_tracked) for m in module.modules() if isinstance(m, nn.BatchNorm1d)]
    assert counts == [25, 25] == [res.record["steps"]] * 2

    # The same from the run's folder, with no retraining; and the weights are a copy.
    loaded = load_run(res.run_dir).to_torch()
    for name, t in loaded.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            np.testing.assert_array_equal(t.numpy(), res.weights[name])
    with torch.no_grad():
        next(iter(loaded.parameters())).zero_()
    with torch.no_grad():
        again = res.to_torch()(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_array_equal(again, out)


def test_to_torch_keeps_float64_weights(tmp_path):
    res = train(log_path=str(tmp_path), dtype="float64", **SETTINGS)
    module = res.to_torch()
    assert all(p.dtype == torch.float64 for p in module.parameters())
    X = res.dataset.X_test
    with torch.no_grad():
        out = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(out, res.model_outputs(X), rtol=1e-10, atol=1e-12)


def test_to_torch_for_raw_rows_carries_the_standardization(tmp_path):
    """to_torch() took standardized rows only, and the scaler was not part of it."""
    res = train(
        data="wine", hid_dim=8, epoch=5, log_path=str(tmp_path), plots="none", verbose=False
    )
    assert res.dataset.scaler is not None
    mean, std = res.dataset.scaler
    raw = np.random.default_rng(0).normal(size=(6, len(mean))) * std + mean
    for run in (res, load_run(res.run_dir)):
        module = run.to_torch(raw_inputs=True)
        assert not module.training
        with torch.no_grad():
            out = module(torch.as_tensor(raw, dtype=torch.float32)).numpy()
        np.testing.assert_allclose(out, res.predict(raw), rtol=1e-5, atol=1e-5)
        state = module.state_dict()
        np.testing.assert_allclose(state["mean"].numpy(), mean, rtol=1e-6)
        np.testing.assert_array_equal(state["model.out.weight"].numpy(), res.weights["out.weight"])
    # Without standardization the model takes raw rows already: it is the plain module.
    plain = train(data="moons", n_samples=100, epoch=2, record=False, verbose=False)
    assert plain.dataset.scaler is None
    assert set(plain.to_torch(raw_inputs=True).state_dict()) == set(plain.weights)


def test_predict_labels_of_a_loaded_run_are_the_trained_runs(tmp_path):
    res = train(log_path=str(tmp_path), **SETTINGS)
    raw = np.random.default_rng(0).normal(size=(20, 2))
    assert list(load_run(res.run_dir).predict_labels(raw)) == list(res.predict_labels(raw))


def test_predict_refuses_rows_of_another_shape(tmp_path):
    """A 1-D row is not read as N rows of one feature, nor a row of 3 as of 2."""
    from mlplab import train
    from mlplab.errors import DataError

    res = train(data="moons", epoch=5, plots="none", verbose=False, log_path=str(tmp_path))
    assert res.predict([[0.5, 0.1]]).shape == (1, 1)
    with pytest.raises(DataError, match=r"got shape \(2,\) \(one row is \[\[\.\.\.\]\]"):
        res.predict([0.5, 0.1])
    with pytest.raises(DataError, match=r"X must be \[rows, 2\] .*\(x1, x2\); got shape \(1, 3\)"):
        res.predict_labels([[0.5, 0.1, 2.0]])


def test_load_run_names_a_bad_which_or_run_dir(tmp_path):
    """which='worst' said its checkpoint file does not exist; load_run(3) was a TypeError
    from pathlib."""
    from mlplab.errors import ConfigError

    res = train(data="xor", epoch=2, log_path=str(tmp_path), plots="none", verbose=False)
    with pytest.raises(
        ConfigError, match=r"which is 'last' or 'best' \(its checkpoints\), not 'worst'"
    ):
        load_run(res.run_dir, which="worst")
    with pytest.raises(ConfigError, match=r"run_dir is a run.s folder \(a path\), not 3$"):
        load_run(3)
    assert load_run(str(res.run_dir), which="best").status == "finished"


def test_transform_takes_a_table_s_columns_by_name(tmp_path):
    """dataset.transform(frame) scaled a DataFrame's columns by position and gave back a
    DataFrame: the README's torch.as_tensor(run.dataset.transform(X)) refused it, and a
    frame in another column order gave a regression's predictions off by 320, silently."""
    import pandas as pd

    from mlplab.errors import DataError

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        rng.normal(size=(120, 3)) * [1, 10, 100] + [0, 5, 50], columns=["a", "b", "c"]
    )
    df["y"] = df.a + df.b / 10 - df.c / 100
    df.to_csv(tmp_path / "t.csv", index=False)
    res = train(data=str(tmp_path / "t.csv"), target="y", epoch=3, log_every=0, plots="none",
                verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    X = df[["a", "b", "c"]].head(5)
    mixed = X[["c", "a", "b"]]
    want = res.dataset.transform(X.to_numpy())
    for given in (mixed, {k: mixed[k].tolist() for k in mixed}):
        got = res.dataset.transform(given)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    with torch.no_grad():
        out = res.to_torch()(torch.as_tensor(res.dataset.transform(mixed), dtype=torch.float32))
    np.testing.assert_allclose(out.numpy(), res.predict(X), rtol=1e-4, atol=1e-4)
    with pytest.raises(DataError, match=r"^X has no column 'b'; the model's features are a, b, c$"):
        res.dataset.transform(X[["a", "c"]])
    # A frame of unnamed columns is taken in order, as an array, and gives an array too; a
    # column twice is refused in one line; one row as a dict of numbers is a row.
    plain = res.dataset.transform(pd.DataFrame(X.to_numpy()))
    assert isinstance(plain, np.ndarray)
    np.testing.assert_array_equal(plain, want)
    with pytest.raises(DataError, match=r"^X has the column 'a' twice; give each feature once$"):
        res.dataset.transform(X[["a", "b", "c", "a"]])
    row = {k: float(v) for k, v in X.iloc[0].items()}
    np.testing.assert_array_equal(res.dataset.transform(row), want[:1])
    np.testing.assert_allclose(res.predict(row), res.predict(X.head(1)))
