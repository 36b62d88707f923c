"""A sweep split across the tasks of a job array: each trains its own part of the runs."""

from __future__ import annotations

import pytest

import mlplab
from mlplab.errors import ConfigError

COMMON = dict(data="xor", epoch=5, log_every=0, plots="none", workers=1, verbose=False)


def test_the_parts_of_a_sharded_sweep_are_disjoint_equal_and_whole(tmp_path, capsys):
    """A job array had no way to split one sweep: every task ran the whole sweep, and the
    first locked every run, so the others exited 0 having trained nothing."""
    grid = dict(lr=[0.1, 0.5, 1.0], hid_dim=[2, 4], seed=[0, 1], log_path=str(tmp_path))
    parts = [
        mlplab.sweep(**COMMON, **grid, exp_name="g", shard=f"{i}/4", report=False) for i in range(4)
    ]
    ids = [{p.name for p in part.run_dirs} for part in parts]
    assert [len(i) for i in ids] == [3, 3, 3, 3]  # 12 runs in 4 equal parts
    assert len(set().union(*ids)) == 12  # disjoint, and together the whole sweep
    assert all(part.counts["trained"] == 3 for part in parts)
    # Each part holds every lr: runs are dealt out, not cut into slices of the grid.
    assert all(len({c.lr for c in part.configs}) > 1 for part in parts)
    # A part's notes speak of the whole sweep: the other parts' runs are no repeats of a
    # config, and a report over all of them covers no other sweep's.
    loud = {**COMMON, "verbose": True}
    mlplab.sweep(**loud, **grid, exp_name="g", shard="0/4", rerun=True)
    out = " ".join(capsys.readouterr().out.split())
    assert "repeat" not in out and "not this sweep's" not in out, out
    whole = mlplab.sweep(**COMMON, **grid, exp_name="g", report=False)
    assert {p.name for p in whole.run_dirs} == set().union(*ids)
    assert whole.counts["trained"] == 0  # every run was trained by its part
    rep = mlplab.report(tmp_path, exp_name="g", verbose=False)
    assert len(rep.runs) == 12
    # A random search draws the same samples in every task.
    rand = dict(search="random", trials=6, lr="loguniform:0.01:1", log_path=str(tmp_path))
    a = [mlplab.sweep(**COMMON, **rand, exp_name="r", shard=f"{i}/2", report=False)
         for i in range(2)]  # fmt: skip
    assert len({p.name for part in a for p in part.run_dirs}) == 6


def test_a_shard_that_is_no_part_is_refused(tmp_path, run_cli):
    with pytest.raises(ConfigError, match=r"^--shard: '4/4' is not I/N with 0 <= I < N"):
        mlplab.sweep(**COMMON, lr=[0.1, 0.5], shard="4/4", log_path=str(tmp_path))
    with pytest.raises(ConfigError, match=r"^--shard 2/3: the sweep has 2 runs, so part 2"):
        mlplab.sweep(**COMMON, lr=[0.1, 0.5], shard="2/3", log_path=str(tmp_path))
    proc = run_cli("sweep", "--data", "xor", "--lr", "0.1", "0.5", "--shard", "x",
                   "--log_path", tmp_path)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.startswith("mlplab: --shard: 'x' is not I/N")
    assert not (tmp_path / "exp").exists()  # nothing written
    proc = run_cli("sweep", "--data", "xor", "--lr", "0.1", "0.5", "--epoch", "3",
                   "--shard", "1/2", "--no_report", "--plots", "none", "--workers", "1",
                   "--log_path", tmp_path)  # fmt: skip
    assert proc.returncode == 0 and "1 trained" in proc.stdout + proc.stderr
