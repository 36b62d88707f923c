"""How a sweep fails to join a Ray cluster: at once, and with the reason that holds.

No cluster is started here: a closed port and a stand-in for the ``ray`` module give the
failures that a real ``ray.init`` gives after seconds or minutes.
"""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import pytest

from mlplab.errors import ConfigError, MlplabError
from mlplab.sweeps import ray_backend


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the with ends: nothing listens there


def test_auto_checks_the_ray_address_it_would_join(monkeypatch):
    """RAY_ADDRESS of a dead head with --address auto: ray.init waited on it for over 9
    minutes, while the same address given as --address failed in 2 s."""
    port = closed_port()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(MlplabError, match=rf"^--address auto \(RAY_ADDRESS=127\.0\.0\.1:{port}\): "
                       r"cannot connect to a Ray cluster"):  # fmt: skip
        ray_backend.check_reachable("auto")
    assert time.monotonic() - started < 15
    monkeypatch.setenv("RAY_ADDRESS", "nonsense")
    with pytest.raises(ConfigError, match=r"RAY_ADDRESS='nonsense' is not an address"):
        ray_backend.check_reachable("auto")
    monkeypatch.delenv("RAY_ADDRESS")
    ray_backend.check_reachable("auto")  # Ray's to find: no check of its own


def fake_ray(error: Exception) -> tuple[SimpleNamespace, list[str]]:
    calls: list[str] = []

    def init(**kw):
        calls.append(kw["address"])
        raise error

    return SimpleNamespace(is_initialized=lambda: False, init=init, shutdown=lambda: None), calls


def test_auto_without_a_cluster_says_so_not_that_something_listens(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray, calls = fake_ray(
        ConnectionError(
            "Could not find any running Ray instance. Please specify the one to connect to"
        )
    )
    with pytest.raises(MlplabError) as err:
        ray_backend._connect(ray, "auto", None, None)
    assert str(err.value) == (
        "--address auto: no running Ray cluster was found on this machine; start one with "
        "`ray start --head`, or leave out --address for a local instance"
    )
    assert calls == ["auto"]  # not tried again


def test_a_refused_token_is_not_tried_again(monkeypatch):
    """Each try of a cluster that wants a token took 20 to 30 s and the same refusal."""
    monkeypatch.setattr(ray_backend, "check_reachable", lambda address: None)
    ray, calls = fake_ray(RuntimeError("gcs_client: InvalidAuthToken: the token is not valid"))
    with pytest.raises(MlplabError, match=r"RAY_AUTH_TOKEN"):
        ray_backend._connect(ray, "10.0.0.1:6379", None, None)
    assert calls == ["10.0.0.1:6379"]
    # A handshake that fails once on a busy head is tried again, as before.
    ray, calls = fake_ray(ConnectionError("Initialization failure from server"))
    monkeypatch.setattr(ray_backend, "CONNECT_RETRY_S", 0.0)
    with pytest.raises(MlplabError, match=r"something listens there"):
        ray_backend._connect(ray, "10.0.0.1:6379", None, None)
    assert len(calls) == ray_backend.CONNECT_ATTEMPTS > 1


def test_a_sweep_to_an_address_nothing_listens_on_writes_nothing(tmp_path, run_cli):
    """It was refused once the sweep's spec and lock file were written in its folder."""
    address = f"127.0.0.1:{closed_port()}"
    proc = run_cli(
        "sweep", "--data", "xor", "--epoch", "1", "--lr", "0.1", "0.2", "--backend", "ray",
        "--address", address, "--log_path", tmp_path / "runs",
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"mlplab: --address {address}: cannot connect to a Ray cluster (")
    assert not (tmp_path / "runs").exists()


def test_a_cluster_that_stops_under_a_run_is_named_as_such():
    """Its runs were recorded `LocalRayletDiedError: The task's local raylet died. Check
    raylet.out for more information.`: no path, and nothing of what to do."""
    import ray

    err = ray.exceptions.LocalRayletDiedError()
    line = ray_backend._task_error(ray, err, retries=3)
    assert line.startswith("the Ray cluster stopped under this run (LocalRayletDiedError)")
    assert "run the same sweep" in line


def test_a_ray_task_shows_warnings_in_one_line_and_puts_the_workers_back():
    # A worker process runs the caller's own tasks too: mlplab's one-line warnings are for
    # its own training only, and the worker's own display returns after, failed or not.
    from mlplab.errors import one_line_warning

    def workers_own(*args, **kwargs):  # the display a Ray worker had before
        pass

    seen = []

    def group_that_fails(configs):
        seen.append(ray_backend.warnings.showwarning)
        raise RuntimeError("the group failed")

    before = ray_backend.warnings.showwarning
    ray_backend.warnings.showwarning = workers_own
    try:
        with pytest.raises(RuntimeError, match="the group failed"):
            ray_backend._train_group_task([], group_that_fails)
        assert seen == [one_line_warning]
        assert ray_backend.warnings.showwarning is workers_own
    finally:
        ray_backend.warnings.showwarning = before
