"""Sweep workers never import the caller's ``__main__``; a dead worker's runs end as
their records say, and the other workers go on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlplab.config import make_config
from mlplab.runs.atomic import atomic_write_json
from mlplab.runs.record import read_result, run_dir_of
from mlplab.sweeps import local
from mlplab.sweeps.local import WORKER_DIED, train_group

# The README's sweep, shortened, as a user saves it: no `if __name__ == "__main__":`.
SCRIPT = """\
import mlplab
print("script body ran")
r = mlplab.sweep(data="xor", n_layer=1, hid_dim=[2, 4], act="sigmoid", lr=[0.5, 1.0],
                 seed=[0, 1], epoch=30, log_every=0, exp_name="xor-grid", verbose=False,
                 workers=2, plots="none")
print("counts", r.counts)
"""


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_script_without_a_main_guard_sweeps_with_worker_processes(
    tmp_path: Path, how: str
) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT, encoding="utf-8")
    args = [sys.executable, str(script)] if how == "file" else [sys.executable, "-"]
    proc = subprocess.run(
        args,
        cwd=tmp_path,
        input=SCRIPT if how == "stdin" else None,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # The workers did not run the script again: its body printed once.
    assert proc.stdout.count("script body ran") == 1
    assert "'trained': 8" in proc.stdout and "'failed': 0" in proc.stdout
    records = [json.loads(p.read_text()) for p in tmp_path.glob("runs/xor-grid/*/result.json")]
    assert sorted(r["status"] for r in records) == ["finished"] * 8
    assert (tmp_path / "runs/xor-grid/report.html").is_file()


BASE: dict[str, Any] = {
    "data": "xor",
    "act": "tanh",
    "lr": 1.0,
    "epoch": 40,
    "engine": "numpy",
    "log_every": 0,
    "plots": "none",
}


def dying_group(configs: list[dict[str, Any]], on_done: Any = None) -> list[dict[str, Any]]:
    """Like train_group, but the process dies in a run with hid_dim 3 (record `running`)
    or right after a run with hid_dim 5 was recorded `interrupted` (as SIGTERM leaves it).

    Module-level, so a worker process imports it from this test module.
    """
    for values in configs:
        status = {3: "running", 5: "interrupted"}.get(values["hid_dim"])
        if status:
            cfg = make_config(values)
            atomic_write_json(run_dir_of(cfg) / "result.json", {**values, "status": status})
            os._exit(7)  # no exception, no cleanup: as if the process were killed
    return train_group(configs, on_done)


def test_a_dead_worker_ends_its_runs_as_their_records_say(tmp_path: Path) -> None:
    values = [
        make_config({**BASE, "hid_dim": h, "log_path": str(tmp_path)}).to_dict()
        for h in (3, 5, 2, 4)
    ]
    seen: list[dict[str, Any]] = []
    outcomes = local._run_in_pool([[v] for v in values], 2, seen.append, dying_group)
    assert seen == outcomes
    by_dim = {
        make_config(v).hid_dim: o
        for v in values
        for o in outcomes
        if o["run_id"].endswith(make_config(v).run_hash())
    }
    assert len(outcomes) == 4
    assert by_dim[3]["status"] == "failed" and by_dim[3]["error"] == WORKER_DIED
    # What the console gets is what the record says: not `failed`.
    assert by_dim[5]["status"] == "interrupted"
    assert read_result(run_dir_of(make_config(values[1])))["status"] == "interrupted"
    # The other worker and the fresh ones went on.
    assert by_dim[2]["status"] == "finished" and by_dim[4]["status"] == "finished"
    crashed = read_result(run_dir_of(make_config(values[0])))
    assert crashed["status"] == "failed" and crashed["error"] == WORKER_DIED


def test_a_ctrl_c_before_a_worker_has_its_handlers_is_noted_not_a_traceback(tmp_path) -> None:
    """A Ctrl-C to the group while a worker was still starting Python raised a
    KeyboardInterrupt amid its first imports ('Exception ignored ... Traceback'). The sweep
    starts its workers with the signal blocked; one sent then waits for their handlers,
    and the worker trains nothing."""
    import pickle
    import signal

    cfg = make_config({"data": "xor", "epoch": 5, "plots": "none", "log_path": str(tmp_path)})
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, local.RELAY_SIGINT})
    try:  # as the sweep starts a worker
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlplab.sweeps.worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.kill(proc.pid, signal.SIGINT)  # before Python has even started: it stays pending
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(pickle.dumps(list(sys.path)) + pickle.dumps((train_group, [cfg.to_dict()])))
    proc.stdin.flush()
    with proc:  # closes its pipes
        reply = pickle.load(proc.stdout)
        proc.stdin.close()  # the worker's end: it exits
        proc.wait(timeout=60)
        assert proc.stderr is not None
        err = proc.stderr.read()
    assert reply == (True, [])  # the stop was noted: no run started
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()
    assert not run_dir_of(cfg).exists()


@pytest.mark.skipif(
    shutil.which("taskset") is None or (os.cpu_count() or 1) < 2, reason="needs taskset, 2+ CPUs"
)
def test_the_default_workers_are_the_cpus_the_sweep_may_use_not_the_machines() -> None:
    """Under `taskset -c 0` (a container's cpuset alike) a sweep started a worker per
    machine core, all on the one CPU it may use."""
    code = "from mlplab.sweeps.local import usable_cpus; print(usable_cpus())"
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert int(out) == 1 < (os.cpu_count() or 1)
    assert local.usable_cpus() == len(os.sched_getaffinity(0))
