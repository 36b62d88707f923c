"""A sweep reads each data file once in a process, not once per stack; and never a file
changed since."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlplab
from mlplab import assemble
from mlplab.config import make_config


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    df["y"] = (df.a + df.b > 0).astype(int)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def reads(monkeypatch):
    """The data files load_data reads, in order."""
    seen: list[str] = []
    real = assemble.load_dataset

    def counting(data, **kw):
        seen.append(str(data))
        return real(data, **kw)

    monkeypatch.setattr(assemble, "load_dataset", counting)
    return seen


def test_a_sweep_of_three_stacks_reads_its_file_once(tmp_path, table, reads):
    """Three model shapes are three stacks: each read the file again (with the sweep's
    own check, four reads; 3 s each for 100,000 rows)."""
    common = dict(data=str(table), target="y", epoch=2, plots="none", log_every=0,
                  log_path=str(tmp_path / "runs"), verbose=False)  # fmt: skip
    result = mlplab.sweep(**common, hid_dim=[2, 3, 4], workers=1, report=False)
    assert [o["status"] for o in result.outcomes] == ["finished"] * 3
    assert reads == [str(table)]
    # Each run's record has the data as a run of its own would: a train of the same config
    # finds it finished, with the same data digest (no retraining).
    again = mlplab.train(**common, hid_dim=3)
    assert again.status == "finished"
    assert len(reads) == 2  # train, outside a sweep, reads afresh


def test_a_changed_file_is_read_again_and_a_copy_changes_nothing_kept(table, reads):
    cfg = make_config({"data": str(table), "target": "y"})
    with assemble.reuse_loaded_data():
        first = assemble.load_data(cfg)
        first.notes.append("mine")
        first.record_facts["x"] = 1
        first.scaler = None  # a resumed run sets its own
        second = assemble.load_data(cfg)
        assert len(reads) == 1
        assert "mine" not in second.notes and "x" not in second.record_facts
        assert second.scaler is not None
        assert np.shares_memory(first.X_train, second.X_train)  # no copy of the rows
        # Another split is another load; and the file rewritten (more rows) is read again.
        assemble.load_data(make_config({"data": str(table), "target": "y", "data_seed": 1}))
        assert len(reads) == 2
        df = pd.read_csv(table)
        pd.concat([df, df.head(5)]).to_csv(table, index=False)
        third = assemble.load_data(cfg)
        assert len(reads) == 3
        assert len(third.y_train) + len(third.y_val) + len(third.y_test) == 205
    assemble.load_data(cfg)  # outside: afresh
    assert len(reads) == 4


def test_a_run_within_a_sweep_uses_the_sweep_s_kept_data(table, reads):
    """train() keeps data within its own call; within a sweep's (a run trained alone after
    its stack failed), it uses the sweep's, and leaves it kept when it returns."""
    cfg = make_config({"data": str(table), "target": "y"})
    with assemble.reuse_loaded_data():
        assemble.load_data(cfg)
        with assemble.reuse_loaded_data():
            assemble.load_data(cfg)
        assemble.load_data(cfg)
    assert len(reads) == 1
