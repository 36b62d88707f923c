"""``run_on_ray`` on real Ray clusters started on this machine.

Two clusters: a private local instance that ``run_on_ray`` starts and stops itself, and a
head node with 0 CPUs plus one worker node (``ray start``), so every task must run on the
worker node. Every Ray process carries a marker in its environment, so teardown can stop
exactly the processes these tests started (``ray stop`` would stop every Ray cluster of
this user on the machine) and assert that none is left.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("ray") is None:
    # An error, not a skip: CI installs Ray, and a suite that skipped these would pass
    # without them. (This folder is not named ray: it stood in for a missing Ray.)
    raise ImportError("the Ray tests need Ray: pip install -e '.[test,ray]' (scripts/test does)")

import ray_support

from mlplab.config import make_config
from mlplab.errors import ConfigError, MlplabError
from mlplab.runs.checkpoint import load_checkpoint
from mlplab.runs.record import (
    is_finished,
    read_result,
    run_dir_of,
    run_name,
    saved_settings,
    settings_yaml,
)
from mlplab.sweeps.ray_backend import TMP_PREFIX, run_on_ray, write_run_dir

pytestmark = pytest.mark.ray

RAY = str(Path(sys.executable).with_name("ray"))
MARK_ENV = "MLPLAB_RAY_TEST_MARK"
SMALL_STORE = 100 * 1024 * 1024
# Keys of result.json that differ between two trainings of the same config.
UNSTABLE_KEYS = {"wall_time_s", "started_at", "finished_at"}


# --- helpers ---------------------------------------------------------------------------------


def xor_configs(
    log_path: Path, exp_name: str, lrs: list[float], seeds: list[int], **kw: Any
) -> list[dict[str, Any]]:
    base = dict(data="xor", epoch=200, plots="none", engine="numpy", log_every=0, hid_dim=8)
    return [
        make_config(
            {**base, **kw, "lr": lr, "seed": s, "exp_name": exp_name, "log_path": str(log_path)}
        ).to_dict()
        for lr in lrs
        for s in seeds
    ]


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def marked_pids(mark: str) -> list[int]:
    """Processes (other than this one) whose environment carries ``MARK_ENV=mark``."""
    needle = f"{MARK_ENV}={mark}".encode()
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            env = (d / "environ").read_bytes().split(b"\0")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != "Z":
            pids.append(int(d.name))
    return pids


def stop_marked(mark: str, grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL, every process these tests started."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in marked_pids(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + grace_s
        while marked_pids(mark) and time.time() < deadline:
            time.sleep(0.2)


def wait_no_marked(mark: str, timeout: float = 20.0) -> list[int]:
    deadline = time.time() + timeout
    while (left := marked_pids(mark)) and time.time() < deadline:
        time.sleep(0.2)
    return left


def names(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            out.append(Path(f"/proc/{pid}/comm").read_text().strip())
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_complete_records(configs: list[dict[str, Any]]) -> None:
    """Every run has a full, finished record that names no machine path.

    The worker trained it in a private temp folder; it came home byte for byte, and no
    file of it names that folder (or any log_path): a record moves as it is.
    """
    for values in configs:
        cfg = make_config(values)
        run_dir = run_dir_of(cfg)
        assert is_finished(run_dir), run_dir
        result = read_result(run_dir)
        assert "log_path" not in result
        assert result["run_id"] == run_name(cfg)
        assert (run_dir / "metrics.csv").is_file()
        assert (run_dir / "config.yaml").read_text() == settings_yaml(saved_settings(cfg))
        assert hparam_log_paths(run_dir) == [None]
        for which in ("last", "best"):
            ckpt = load_checkpoint(run_dir / "checkpoints" / f"{which}.safetensors")
            assert "log_path" not in ckpt.meta["config"]
        for f in run_dir.rglob("*"):
            if f.is_file():
                assert TMP_PREFIX.encode() not in f.read_bytes(), f
        assert not list(run_dir.rglob(".*")), "temp files left in the record"


def hparam_log_paths(run_dir: Path) -> list[str]:
    """The ``log_path`` hparam (None: absent) of every hparams summary in the run's events."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.plugins.hparams import plugin_data_pb2

    found = []
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        for event in LegacyEventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content
                )
                if data.HasField("session_start_info"):
                    hp = data.session_start_info.hparams
                    found.append(hp["log_path"].string_value if "log_path" in hp else None)
    return found


def exp_entries(log_path: Path, exp_name: str) -> list[str]:
    return sorted(p.name for p in (log_path / exp_name).iterdir())


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_env() -> Iterator[str]:
    """Token auth with a throwaway token (nothing written to ~/.ray) and a process marker.

    Every Ray process started from here (by ``ray.init`` or ``ray start``) inherits the
    marker, which is how teardown finds them.
    """
    mark = uuid.uuid4().hex
    # Short: Ray's unix socket paths under it must stay below ~107 characters.
    ray_tmp = tempfile.mkdtemp(prefix="mlr", dir="/tmp")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MARK_ENV, mark)
        mp.setenv("RAY_TMPDIR", ray_tmp)  # Ray's session folders, removed below
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.setenv("RAY_AUTH_TOKEN", uuid.uuid4().hex + uuid.uuid4().hex)
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        mp.delenv("RAY_ADDRESS", raising=False)
        try:
            yield mark
        finally:
            import ray

            ray.shutdown()
            stop_marked(mark)
            shutil.rmtree(ray_tmp, ignore_errors=True)
    assert not marked_pids(mark), names(marked_pids(mark))


@pytest.fixture(scope="module")
def cluster(ray_env: str) -> Iterator[dict[str, Any]]:
    """A head node with 0 CPUs and one worker node with 1 CPU, started by ``ray start``."""
    port, client_port = free_port(), free_port()
    temp_dir = os.path.join(os.environ["RAY_TMPDIR"], "cluster")
    address = f"127.0.0.1:{port}"
    common = [
        "--node-ip-address=127.0.0.1",
        f"--object-store-memory={SMALL_STORE}",
        "--disable-usage-stats",
    ]
    head = [RAY, "start", "--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false"]
    head += [f"--ray-client-server-port={client_port}", f"--temp-dir={temp_dir}", *common]
    worker = [RAY, "start", f"--address={address}", "--num-cpus=1", *common]
    try:
        for cmd in (head, worker):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        import ray

        ray.init(address=address, logging_level="WARNING")
        nodes = [n for n in ray.nodes() if n["Alive"]]
        ray.shutdown()
        worker_ids = {n["NodeID"] for n in nodes if n["Resources"].get("CPU", 0) > 0}
        head_ids = {n["NodeID"] for n in nodes if n["Resources"].get("CPU", 0) == 0}
        assert len(worker_ids) == 1 and len(head_ids) == 1, nodes
        yield {
            "address": address,
            "client_address": f"ray://127.0.0.1:{client_port}",
            "worker_ids": worker_ids,
            "head_ids": head_ids,
        }
    finally:
        stop_marked(ray_env)
        left = wait_no_marked(ray_env)
        assert not left, f"Ray processes left running: {names(left)}"


# --- a local instance started by run_on_ray ---------------------------------------------------


def test_local_instance_trains_every_group_and_stops(ray_env: str, tmp_path: Path) -> None:
    configs = xor_configs(tmp_path, "loc", lrs=[0.1, 0.5, 1.0], seeds=[0, 1])
    groups = chunks(configs, 2)
    seen: list[dict[str, Any]] = []

    outcomes = run_on_ray(
        groups,
        log_path=str(tmp_path),
        num_cpus=2,
        object_store_memory=SMALL_STORE,
        on_result=seen.append,
    )

    assert [o["status"] for o in outcomes] == ["finished"] * 6
    assert sorted(o["run_id"] for o in outcomes) == sorted(
        run_name(make_config(v)) for v in configs
    )
    assert seen == outcomes
    for o in outcomes:
        assert Path(o["run_dir"]).parent == tmp_path / "loc"
        assert o["node"]
    assert_complete_records(configs)
    assert exp_entries(tmp_path, "loc") == sorted(o["run_id"] for o in outcomes)

    # The instance was started here, so it is gone now.
    import ray

    assert not ray.is_initialized()
    left = wait_no_marked(ray_env)
    assert not left, f"Ray processes left running: {names(left)}"

    # Started again, the sweep skips every finished run and starts no Ray at all.
    before = {
        o["run_id"]: (Path(o["run_dir"]) / "result.json").stat().st_mtime_ns for o in outcomes
    }
    again = run_on_ray(groups, log_path=str(tmp_path), num_cpus=2)
    assert {o["status"] for o in again} == {"skipped"}
    assert len(again) == 6
    for o in again:
        assert (Path(o["run_dir"]) / "result.json").stat().st_mtime_ns == before[o["run_id"]]
    assert not marked_pids(ray_env)


def test_sigterm_stops_a_ray_sweep_as_ctrl_c_does(ray_env: str, tmp_path: Path) -> None:
    """SIGTERM to `mlplab sweep --backend ray` (`kill PID`, a scheduler's stop): the sweep
    says what remains and exits as for Ctrl-C, instead of the stack dump and abort of the
    handler that ray.init installs; its local instance goes with it."""
    log, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    cmd = [sys.executable, "-m", "mlplab", "sweep", "--backend", "ray", "--data", "xor",
           "--n_layer", "1", "--hid_dim", "2", "--act", "sigmoid", "--lr", "0.5", "1",
           "--epoch", "100000000", "--engine", "numpy", "--log_every", "0",
           "--validate_every", "1000", "--plots", "none", "--no_report",
           "--exp_name", "term", "--log_path", str(log)]  # fmt: skip
    # The local instance's workers inherit TMPDIR: a group has started once its private
    # record folder is there.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(tmp.glob(f"{TMP_PREFIX}*")):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err  # 128 + SIGTERM, as `mlplab train` exits
    assert "2 runs remain" in err and "SIGTERM received" not in err and "Traceback" not in err
    left = wait_no_marked(ray_env)
    assert not left, f"Ray processes left running: {names(left)}"


def test_killed_worker_has_its_group_retried_once(
    ray_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = xor_configs(tmp_path / "runs", "kill", lrs=[0.1, 0.5, 1.0], seeds=[0, 1])
    groups = chunks(configs, 2)
    hold = tmp_path / "hold"
    hold.mkdir()
    target = run_name(make_config(groups[1][0]))
    (hold / f"{target}.hold").touch()
    killed: list[int] = []
    # The workers cannot import this test folder: the hold hook travels to them by value.
    # (Ray is imported here, not at the module's top: it reads its settings at import.)
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(ray_support)

    def kill_when_held() -> None:
        pid_file = hold / f"{target}.pid"
        deadline = time.time() + 90
        while not pid_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_when_held, daemon=True)
    killer.start()
    outcomes = run_on_ray(
        groups,
        log_path=str(tmp_path / "runs"),
        num_cpus=2,
        object_store_memory=SMALL_STORE,
        max_retries=2,
        group_fn=functools.partial(ray_support.hold_then_train, str(hold)),
    )
    killer.join(timeout=5)

    assert len(killed) == 1, "the held task never started"
    assert [o["status"] for o in outcomes] == ["finished"] * 6, outcomes
    run_ids = [o["run_id"] for o in outcomes]
    assert len(set(run_ids)) == 6
    # Every run exactly once: one directory per run, nothing half-landed beside them.
    assert exp_entries(tmp_path / "runs", "kill") == sorted(run_ids)
    assert_complete_records(configs)
    # The killed worker's private folder was removed by a later task.
    assert not list(Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}{killed[0]}-*"))
    assert not wait_no_marked(ray_env)


# --- a head node and a worker node started with `ray start` --------------------------------------


def test_cluster_runs_every_group_on_the_worker_node(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    configs = xor_configs(tmp_path, "clu", lrs=[0.1, 1.0], seeds=[0, 1])
    outcomes = run_on_ray(chunks(configs, 2), log_path=str(tmp_path), address=cluster["address"])

    assert [o["status"] for o in outcomes] == ["finished"] * 4
    # The head node has no CPUs: every group ran on the worker node.
    assert {o["node"] for o in outcomes} == cluster["worker_ids"]
    assert_complete_records(configs)

    # The cluster was joined, not started: it is still up after the sweep.
    import ray

    assert not ray.is_initialized()
    ray.init(address=cluster["address"], logging_level="WARNING")
    try:
        assert ray.cluster_resources().get("CPU") == 1
    finally:
        ray.shutdown()


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_nothing_listens_on_fails_at_once_with_one_line(
    ray_env: str, tmp_path: Path, scheme: str
) -> None:
    """`--address HOST:PORT` with no cluster there: one line within seconds, not the
    minutes of retries (each logged) that ray.init spends on it."""
    configs = xor_configs(tmp_path, "nowhere", lrs=[0.1], seeds=[0])
    address = f"{scheme}127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(MlplabError) as err:
        run_on_ray([configs], log_path=str(tmp_path), address=address)
    assert time.monotonic() - started < 15
    line = str(err.value)
    assert line.startswith(f"--address {address}: cannot connect to a Ray cluster (")
    assert "\n" not in line and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    "address", ["foo", "ray://", "127.0.0.1:port", "http://127.0.0.1:8265", "localhost:99999"]
)
def test_an_address_of_no_form_is_refused_as_one(
    ray_env: str, tmp_path: Path, address: str
) -> None:
    """`--address foo` went to ray.init, and its refusal read as a cluster listening there."""
    configs = xor_configs(tmp_path, "nowhere", lrs=[0.1], seeds=[0])
    with pytest.raises(ConfigError) as err:
        run_on_ray([configs], log_path=str(tmp_path), address=address)
    assert str(err.value) == (
        f"--address {address!r}: not an address; give auto, HOST:PORT (the head's 6379) or "
        "ray://HOST:10001"
    )


def test_ray_client_address_joins_the_cluster(cluster: dict[str, Any], tmp_path: Path) -> None:
    configs = xor_configs(tmp_path, "client", lrs=[0.1], seeds=[0, 1])
    outcomes = run_on_ray([configs], log_path=str(tmp_path), address=cluster["client_address"])
    assert [o["status"] for o in outcomes] == ["finished"] * 2
    assert {o["node"] for o in outcomes} == cluster["worker_ids"]
    assert_complete_records(configs)


def test_ray_records_equal_local_records(
    cluster: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlplab.sweeps.local import train_group

    numpy_runs = xor_configs(tmp_path / "ray", "same", lrs=[0.1, 0.7], seeds=[0, 1, 2])
    torch_runs = xor_configs(tmp_path / "ray", "same", lrs=[0.3], seeds=[0, 1], engine="torch")
    groups = [*chunks(numpy_runs, 3), torch_runs]
    # `--address auto` reads RAY_ADDRESS, as Ray's own tools do.
    monkeypatch.setenv("RAY_ADDRESS", cluster["address"])
    outcomes = run_on_ray(groups, log_path=str(tmp_path / "ray"), address="auto")
    assert [o["status"] for o in outcomes] == ["finished"] * 8

    for group in groups:
        train_group([{**v, "log_path": str(tmp_path / "local")} for v in group])

    for values in numpy_runs + torch_runs:
        cfg = make_config(values)
        ray_dir = run_dir_of(cfg)
        local_dir = tmp_path / "local" / cfg.exp_name / run_name(cfg)
        on_ray, local = read_result(ray_dir), read_result(local_dir)
        for key in ("train_losses", "val_losses", "test_loss", "test_acc", "train_acc"):
            assert on_ray[key] == local[key], (cfg.engine, key)
        # Whole records agree but for the time they took, and torch's threads: a Ray
        # worker runs with one (Ray sets OMP_NUM_THREADS), which the record says.
        for key in UNSTABLE_KEYS:
            on_ray.pop(key), local.pop(key)
        if cfg.engine == "torch":
            assert on_ray["environment"].pop("torch_threads") >= 1
            assert local["environment"].pop("torch_threads") >= 1
        assert on_ray == local
        assert (ray_dir / "metrics.csv").read_bytes() == (local_dir / "metrics.csv").read_bytes()


def test_runs_that_fail_land_as_failed(cluster: dict[str, Any], tmp_path: Path) -> None:
    # A data file that is not there: each run fails, and its failed record comes home.
    configs = xor_configs(tmp_path, "bad", lrs=[0.1], seeds=[0, 1])
    configs = [{**v, "data": str(tmp_path / "missing.csv")} for v in configs]
    outcomes = run_on_ray([configs], log_path=str(tmp_path), address=cluster["address"])
    assert [o["status"] for o in outcomes] == ["failed", "failed"]
    for o in outcomes:
        assert "missing.csv" in o["error"] and "\n" not in o["error"]
        assert read_result(o["run_dir"])["status"] == "failed"
        assert "log_path" not in read_result(o["run_dir"])


def test_a_relative_data_path_is_read_from_the_sweeps_folder(
    cluster: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started by `ray start` elsewhere read a relative --data path from their own
    folder: the file the sweep checked was not the one they trained on (or none at all)."""
    import numpy as np

    here = tmp_path / "project"
    here.mkdir()
    X = np.random.default_rng(0).normal(size=(60, 2))
    rows = ["a,b,y", *(f"{a},{b},{int(a + b > 0)}" for a, b in X)]
    (here / "mine.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(here)
    configs = xor_configs(tmp_path / "runs", "rel", lrs=[0.1], seeds=[0, 1], data="mine.csv")
    outcomes = run_on_ray([configs], log_path=str(tmp_path / "runs"), address=cluster["address"])
    assert [o["status"] for o in outcomes] == ["finished", "finished"], outcomes
    for o in outcomes:
        record = read_result(o["run_dir"])
        assert record["data"] == "mine.csv" and record["n_train"] == 48  # its 60 rows


def test_a_node_whose_copy_of_the_data_differs_fails_its_runs_in_one_line(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    """A node's stale copy of a data file trained its runs silently, on rows the sweep
    never read; a node without the file failed them without naming the node."""
    from mlplab.assemble import load_data

    data = tmp_path / "mine.csv"
    rows = "a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40))
    data.write_text(rows)
    configs = xor_configs(tmp_path / "runs", "stale", lrs=[0.1], seeds=[0, 1], data=str(data))
    read = load_data(make_config(configs[0])).digest
    assert read is not None
    digests = {run_name(make_config(v)): read for v in configs}

    def sweep_again() -> list[dict[str, Any]]:
        log = str(tmp_path / "runs")
        return run_on_ray(
            [configs], log_path=log, address=cluster["address"], data_digests=digests, rerun=True
        )

    data.write_text(rows.replace("6,0,0", "6,0,1"))  # the node's other copy
    outcomes = sweep_again()
    assert [o["status"] for o in outcomes] == ["failed", "failed"], outcomes
    for o in outcomes:
        assert o["error"].startswith(f"DataError: data file {str(data)!r} on the Ray node at ")
        assert "differs from the one the sweep read" in o["error"] and "\n" not in o["error"]
        assert read_result(o["run_dir"])["status"] == "failed"
    data.unlink()  # a node without the file at all
    for o in sweep_again():
        assert o["status"] == "failed" and o["error"].startswith("DataError: on the Ray node at ")
        assert "does not exist" in o["error"]
    data.write_text(rows)  # the file as the sweep read it trains
    outcomes = sweep_again()
    assert [o["status"] for o in outcomes] == ["finished", "finished"], outcomes


def test_group_that_raises_fails_its_runs(cluster: dict[str, Any], tmp_path: Path) -> None:
    # json.loads(list) raises TypeError: stands in for a group function that raises (it
    # must be importable on the worker, which this test module is not).
    configs = xor_configs(tmp_path, "raise", lrs=[0.1], seeds=[0, 1])
    outcomes = run_on_ray(
        [configs], log_path=str(tmp_path), address=cluster["address"], group_fn=json.loads
    )
    assert [o["status"] for o in outcomes] == ["failed", "failed"]
    for o in outcomes:
        assert o["error"].startswith("TypeError: the JSON object must be")
        assert "\n" not in o["error"]
        assert read_result(o["run_dir"])["status"] == "failed"


def test_resources_no_node_has_fail_with_one_line(cluster: dict[str, Any], tmp_path: Path) -> None:
    configs = xor_configs(tmp_path, "gpu", lrs=[0.1], seeds=[0])
    with pytest.raises(MlplabError, match=r"--gpus_per_task 1: no node .* 0 GPUs"):
        run_on_ray([configs], log_path=str(tmp_path), address=cluster["address"], gpus_per_task=1)
    assert not any((tmp_path / "gpu").glob("*/result.json"))


def test_a_sweep_the_cluster_refuses_leaves_nothing_behind(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    """It left its folder with a spec and a lock file, which `mlplab report` then listed
    as a sweep whose runs had not trained."""
    import sys

    log = tmp_path / "runs"
    cmd = [sys.executable, "-m", "mlplab", "sweep", "--backend", "ray", "--address"]
    cmd += [cluster["address"], "--data", "xor", "--lr", "0.1", "0.2", "--epoch", "5"]
    cmd += ["--cpus_per_task", "64", "--log_path", str(log)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "mlplab: --cpus_per_task 64 --gpus_per_task 0: no node of the Ray cluster has that much"
        )
    )
    assert not log.exists()
    (log / "exp").mkdir(parents=True)  # a folder of the user's: kept, with what it held
    (log / "exp" / "notes.txt").write_text("mine")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert sorted(p.name for p in (log / "exp").iterdir()) == [".sweep.lock", "notes.txt"]


# --- without Ray, and the landing of records -------------------------------------------------------


def test_without_ray_the_error_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    configs = xor_configs(tmp_path, "noray", lrs=[0.1], seeds=[0])
    with pytest.raises(MlplabError) as err:
        run_on_ray([configs], log_path=str(tmp_path))
    assert err.value.exit_code == 2
    assert "install it with `pip install 'mlplab[ray]'`" in str(err.value)
    # And in a clone set up by ./scripts/quickstart, whose .venv a bare pip may not be.
    assert "(in a clone of mlplab: `.venv/bin/pip install -e '.[ray]'` there)" in str(err.value)
    assert not (tmp_path / "noray").exists()


def test_write_run_dir_replaces_an_earlier_attempt_whole(tmp_path: Path) -> None:
    dest = tmp_path / "exp" / "exp-abc123"
    dest.mkdir(parents=True)
    (dest / "result.json").write_text(json.dumps({"status": "failed"}))
    (dest / "stale.txt").write_text("from an earlier attempt")
    # A landing folder left by a killed driver is hidden from reports and removed here.
    (tmp_path / "exp" / ".exp-abc123.dead.landing").mkdir()

    files = {
        "result.json": json.dumps({"status": "finished"}).encode(),
        "metrics.csv": b"epoch,train_loss\n1,0.5\n",
        "checkpoints/last.safetensors": b"\x00\x01",
    }
    write_run_dir(dest, files)

    assert is_finished(dest)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == sorted(
        files
    )
    assert os.listdir(tmp_path / "exp") == ["exp-abc123"]
    assert (dest / "checkpoints" / "last.safetensors").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/passwd", "a/../../b"])
def test_write_run_dir_refuses_paths_outside_the_run(tmp_path: Path, bad: str) -> None:
    dest = tmp_path / "exp" / "exp-abc123"
    with pytest.raises(ValueError, match="unsafe path"):
        write_run_dir(dest, {bad: b"x", "result.json": b"{}"})
    assert not dest.exists()
    assert os.listdir(tmp_path / "exp") == []


# --- the command a user types --------------------------------------------------------------------


def test_mlplab_sweep_backend_ray_on_the_cluster(cluster: dict[str, Any], tmp_path: Path) -> None:
    """`mlplab sweep --backend ray --address ...` trains on the cluster; a rerun skips it all."""
    import json
    import sys

    log = tmp_path / "runs"
    settings = "--data xor --n_layer 1 --hid_dim 2 --act sigmoid --lr 0.5 1 --seed 0 1"
    settings += " --epoch 300 --log_every 0 --plots none --exp_name cli"
    cmd = [sys.executable, "-m", "mlplab", "sweep", "--backend", "ray"]
    cmd += ["--address", cluster["address"], *settings.split(), "--log_path", str(log)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "4 runs: 4 trained, 0 skipped" in first.stdout
    runs = sorted(p for p in (log / "cli").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(runs) == 4
    for run in runs:
        assert json.loads((run / "result.json").read_text())["status"] == "finished"
    assert (log / "cli" / "report.html").is_file()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 trained, 4 skipped" in again.stdout, again.stdout


def test_a_prune_rule_reaches_the_ray_workers(cluster: dict[str, Any], tmp_path: Path) -> None:
    """Ray pickles the rule by value: a lambda of a script or notebook prunes on the cluster."""
    import numpy as np

    from mlplab.sweeps.api import sweep

    result = sweep(
        {"data": "xor", "epoch": 20, "plots": "none", "engine": "numpy", "log_every": 0},
        lr=[0.01, 0.1, 1.0, 3.0], hid_dim=8, log_path=str(tmp_path), backend="ray",
        address=cluster["address"], report=False, verbose=False,
        # At epoch 5, stop the half of the stack with the higher validation loss.
        prune=lambda e: (e.val_loss > np.median(e.val_loss)) & (e.epoch == 5),
    )  # fmt: skip
    statuses = sorted(read_result(d)["status"] for d in result.run_dirs)
    assert statuses == ["finished", "finished", "pruned", "pruned"], statuses
    assert result.counts["pruned"] == 2
    for d in result.run_dirs:
        r = read_result(d)
        assert r["epochs_run"] == (5 if r["status"] == "pruned" else 20)
