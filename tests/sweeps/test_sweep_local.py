"""Worker processes: a group per task, and a worker that dies fails only what it had started."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlplab.config import make_config
from mlplab.runs.atomic import atomic_write_json
from mlplab.runs.record import read_result, run_dir_of
from mlplab.sweeps import local
from mlplab.sweeps.local import WORKER_DIED, train_group

BASE: dict[str, Any] = {
    "data": "xor",
    "act": "tanh",
    "lr": 1.0,
    "epoch": 40,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
}


def crashing_group(configs: list[dict[str, Any]], on_done: Any = None) -> list[dict[str, Any]]:
    """Like train_group, but the process dies in the middle of any run with hid_dim 3.

    Module-level, so a spawned worker imports it from this test module.
    """
    for values in configs:
        if values["hid_dim"] == 3:
            cfg = make_config(values)
            atomic_write_json(run_dir_of(cfg) / "result.json", {**values, "status": "running"})
            os._exit(7)  # no exception, no cleanup: as if the process were killed
    return train_group(configs, on_done)


def test_train_group_returns_one_outcome_per_config(tmp_path: Path) -> None:
    configs = [{**BASE, "hid_dim": h, "log_path": str(tmp_path)} for h in (2, 4)]
    seen: list[str] = []
    outcomes = train_group(configs, on_done=lambda o: seen.append(o["run_id"]))
    assert [o["status"] for o in outcomes] == ["finished", "finished"]
    assert seen == [o["run_id"] for o in outcomes]
    assert all(o["error"] is None and o["wall_time_s"] > 0 for o in outcomes)
    assert all(read_result(o["run_dir"])["status"] == "finished" for o in outcomes)


def test_a_dead_worker_fails_its_run_and_the_pool_goes_on(tmp_path: Path) -> None:
    values = [
        make_config({**BASE, "hid_dim": h, "log_path": str(tmp_path)}).to_dict() for h in (3, 2, 4)
    ]
    # One worker process, so the groups run in order: the crash comes first, the other
    # groups have not started and go to a fresh pool.
    outcomes = local._run_in_pool([[v] for v in values], 1, lambda o: None, crashing_group)
    by_dim = {
        make_config(v).hid_dim: o
        for v in values
        for o in outcomes
        if o["run_id"].endswith(make_config(v).run_hash())
    }
    assert by_dim[3]["status"] == "failed" and by_dim[3]["error"] == WORKER_DIED
    assert by_dim[2]["status"] == "finished" and by_dim[4]["status"] == "finished"
    crashed = read_result(run_dir_of(make_config(values[0])))
    assert crashed["status"] == "failed" and crashed["error"] == WORKER_DIED
