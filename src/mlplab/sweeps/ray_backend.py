"""Run a sweep's groups on a Ray cluster: ``mlplab sweep ... --backend ray``.

The unit of work is the same **group** as in :mod:`mlplab.sweeps.local`: one Ray task trains
one group of same-shaped configs with :func:`mlplab.sweeps.local.train_group` (a batched
model where the batched trainer applies), so a sweep of 256 tiny models costs a few tasks,
not 256.

Records come home by value: a worker trains into a private temporary ``log_path``, packs
every file of each run directory (relative path -> bytes) and returns them; this process
writes them under the real ``run_dir_of(cfg)``. Workers therefore need mlplab installed
but no shared filesystem. The run id does not depend on ``log_path``, and no file of a
record names the folder it was written in, so the files land as the worker wrote them,
byte for byte: a record from Ray is the record the local backend would have written.

Faults:

- a worker process or node that dies has its group retried by Ray (``max_retries``); an
  exception raised by the group itself (bad data, say) is not retried, and its runs are
  recorded as ``failed``;
- a retried group trains from scratch in a fresh temporary folder, and only the attempt
  that returns lands, so a run is never written twice;
- a landing run directory appears with one rename, so a half-copied run never exists
  under its real name and never looks finished;
- runs that have finished are skipped before anything is submitted, as locally.

Public API: :func:`run_on_ray`, :func:`import_ray`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from mlplab.errors import ConfigError, MlplabError, install_hint, one_line_warning, short_repr
from mlplab.runs.atomic import replace_dir
from mlplab.sweeps.local import usable_cpus

Outcome = dict[str, Any]
OnResult = Callable[[Outcome], None]
# The files of one run directory: relative POSIX path -> bytes.
Packed = dict[str, bytes]

INSTALL_HINT = install_hint("ray")
# Prefix of the workers' private record folders, followed by the worker's PID so a later
# task can remove the folders of workers that were killed before they cleaned up.
TMP_PREFIX = "mlplab-ray-"
# Test hook: a folder. A task whose first run id has ``<folder>/<run_id>.hold`` writes
# its PID to ``<folder>/<run_id>.pid`` (first attempt only) and sleeps, so a test can kill
# the worker mid-group. Unset in normal use; costs one environment lookup per task.


def import_ray() -> ModuleType:
    """Import Ray, or raise :class:`MlplabError` (exit status 2) saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MlplabError(
            f"--backend ray needs Ray, which is not installed; {INSTALL_HINT}"
        ) from None
    return ray


def run_on_ray(
    groups: list[list[dict[str, Any]]],
    *,
    log_path: str | os.PathLike[str],
    address: str | None = None,
    cpus_per_task: float = 1,
    gpus_per_task: float = 0,
    max_retries: int = 3,
    on_result: OnResult | None = None,
    rerun: bool = False,
    num_cpus: int | None = None,
    object_store_memory: int | None = None,
    group_fn: Callable[..., list[Outcome]] | None = None,
    data_digests: dict[str, str | None] | None = None,
) -> list[Outcome]:
    """Train every group as one Ray task; write the returned records under ``log_path``.

    Parameters
    ----------
    groups : list of list of dict
        Validated settings (``Config.to_dict()``); each inner list is one task.
    log_path : path
        Root of the run records on this machine. Every config's ``log_path`` is set to it,
        so records land in ``log_path/exp_name/exp_name-HASH`` (relative to this process's
        working directory when relative) and say so inside.
    address : str, optional
        ``None``: start a private local Ray instance for this call and stop it at the end.
        ``"auto"`` (honours ``RAY_ADDRESS``), ``"host:port"`` or ``"ray://host:10001"``:
        join a running cluster and leave it running. If this process is already connected
        to Ray (``ray.is_initialized()``), that connection is used and kept.
    cpus_per_task, gpus_per_task : float
        Ray resources of one task (default 1 CPU, 0 GPUs); fractions such as
        ``gpus_per_task=0.25`` let four groups share a GPU.
    max_retries : int
        How often Ray runs a group again after its worker process or node died (default 3).
        Exceptions raised by the group itself are not retried.
    on_result : callable, optional
        Called with each run's outcome as its record lands (progress printing).
    rerun : bool
        Train finished runs again; by default they are skipped (outcome ``skipped``).
    num_cpus, object_store_memory : int, optional
        Size of the local instance started when ``address`` is None (default: every CPU,
        Ray's default store). Ignored when joining a cluster.
    group_fn : callable, optional
        ``group_fn(configs) -> outcomes``, importable on the workers; default
        :func:`mlplab.sweeps.local.train_group`.
    data_digests : dict, optional
        Run id -> the digest of the rows its data file gave this process
        (:attr:`mlplab.data.dataset.Dataset.digest`). A node whose copy of the file gives
        other rows fails the group's runs with a line that says so, rather than training
        them on data no one checked.

    Returns
    -------
    list of dict
        One outcome per config, in the order the groups ended: ``run_id``, ``run_dir``
        (on this machine), ``status`` (finished | diverged | failed | interrupted |
        skipped), ``error`` (one line or None), ``wall_time_s`` and ``node`` (the Ray node
        id that trained it, or None).

    Raises
    ------
    mlplab.errors.MlplabError
        Ray is not installed, the cluster cannot be reached, or no node has the resources
        of one task (exit status 2).
    mlplab.sweeps.local.SweepInterrupted
        On Ctrl-C: pending groups are cancelled; ``outcomes`` holds the runs that landed.
    """
    ray = import_ray()
    check_options(cpus_per_task, gpus_per_task, max_retries)
    outcomes: list[Outcome] = []
    report = on_result or (lambda outcome: None)

    # --- skip what has finished (a sweep started again picks up where it stopped) --------
    todo: list[list[dict[str, Any]]] = []
    for group in groups:
        keep = []
        for values in group:
            values = _at_log_path(values, log_path)
            if not rerun and _is_finished(values):
                outcome = _outcome(values, "skipped", None)
                outcomes.append(outcome)
                report(outcome)
            else:
                keep.append(values)
        if keep:
            todo.append(keep)
    if not todo:
        return outcomes

    # --- connect, submit, and land each group's records as it ends ----------------------
    connected_here = _connect(ray, address, num_cpus, object_store_memory)
    pending: list[Any] = []
    from mlplab.sweeps.local import SigtermSeen, SweepInterrupted, signal_of, sigterm_stops

    sigterm = SigtermSeen()  # replaced by the handler's own once it is installed
    try:
        _check_cluster(ray, cpus_per_task, gpus_per_task)
        task = ray.remote(_train_group_task).options(
            num_cpus=cpus_per_task,
            num_gpus=gpus_per_task,
            max_retries=max_retries,
            # Only system failures (a dead worker or node) are retried; an exception of
            # the group itself would fail the same way again.
            retry_exceptions=False,
            name="mlplab-train-group",
        )
        # ray.init put in its own SIGTERM handler (a stack dump, then an abort): a
        # SIGTERM stops the sweep as Ctrl-C does instead.
        with sigterm_stops() as sigterm:
            # The folder the sweep was started in: a relative --data path is read from it
            # on each node that has it, not from the folder Ray started its workers in.
            here = os.getcwd()
            digests = data_digests or {}
            by_ref = {
                task.remote(
                    group, group_fn, here, {_run_id(v): digests.get(_run_id(v)) for v in group}
                ): group
                for group in todo
            }
            pending = list(by_ref)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    for outcome in _land(ray, ref, by_ref.pop(ref), max_retries):
                        outcomes.append(outcome)
                        report(outcome)
    except KeyboardInterrupt as stop:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref)
        raise SweepInterrupted(outcomes, signal_of(stop, sigterm)) from None
    finally:
        if connected_here:
            # Stops the instance started above; for a joined cluster it only disconnects.
            ray.shutdown()
    return outcomes


# --- driver side ---------------------------------------------------------------------------


def check_options(cpus_per_task: float, gpus_per_task: float, max_retries: int = 0) -> None:
    """Ray's options, before anything is written or Ray is started: one line each."""
    for name, value in (("cpus_per_task", cpus_per_task), ("gpus_per_task", gpus_per_task)):
        if not math.isfinite(value):
            raise ConfigError(f"--{name}: must be a finite number (got {value:g})")
    if cpus_per_task < 0:
        raise ConfigError(f"--cpus_per_task: must be at least 0 (got {cpus_per_task:g})")
    if gpus_per_task < 0:
        raise ConfigError(f"--gpus_per_task: must be at least 0 (got {gpus_per_task:g})")
    if cpus_per_task == 0 and gpus_per_task == 0:
        # A task that needs nothing is never queued: every group would start at once.
        raise ConfigError("--cpus_per_task and --gpus_per_task: one of them must be above 0")
    if gpus_per_task > 1 and gpus_per_task != int(gpus_per_task):
        raise ConfigError(
            f"--gpus_per_task: above 1 it must be a whole number (got {gpus_per_task:g})"
        )
    if max_retries < 0:
        raise ConfigError(f"max_retries: must be at least 0 (got {max_retries})")


# Tries to join an existing cluster before giving up, and the pause between them.
CONNECT_ATTEMPTS = 3
CONNECT_RETRY_S = 2.0
# Seconds to wait for a TCP connection to an --address before calling it unreachable.
CONNECT_TIMEOUT_S = 10.0


def _connect(
    ray: ModuleType, address: str | None, num_cpus: int | None, object_store_memory: int | None
) -> bool:
    """Start or join Ray; True when this call did (so it must shut down or disconnect)."""
    if ray.is_initialized():
        return False
    if address is None:
        # "local": a fresh instance even if RAY_ADDRESS is set or a cluster runs here;
        # joining one is what --address auto is for.
        ray.init(
            address="local",
            num_cpus=num_cpus if num_cpus is not None else usable_cpus(),
            object_store_memory=object_store_memory,
            include_dashboard=False,
            logging_level=logging.WARNING,
        )
        return True
    check_reachable(address)
    last: Exception | None = None
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            ray.init(address=address, logging_level=logging.WARNING)
            return True
        except Exception as err:  # ConnectionError, ValueError, grpc errors: all "cannot join"
            last = err
            # A failed join can leave a half-made connection behind, and every later
            # ray.init in this process would then fail too: clear it before trying again.
            with contextlib.suppress(Exception):
                ray.shutdown()
            if _no_cluster(err):
                raise MlplabError(
                    f"--address {address}: no running Ray cluster was found on this machine; "
                    "start one with `ray start --head`, or leave out --address for a local "
                    "instance"
                ) from None
            if _refused(err):
                break  # a token it lacks: the same again, at 20 to 30 s a try
            if attempt + 1 < CONNECT_ATTEMPTS:
                # A busy head can fail a Ray Client handshake once ("Initialization
                # failure from server"); a second try a moment later usually succeeds.
                time.sleep(CONNECT_RETRY_S)
    reason = str(last).strip().splitlines()[0] if str(last).strip() else type(last).__name__
    # Something listens there (check_reachable): a cluster that refused this process,
    # most often for want of its token, not one to start.
    raise MlplabError(
        f"--address {address}: something listens there, but this process could not join "
        f"it as a Ray cluster ({reason}); a cluster with token authentication (Ray turns it "
        "on where ~/.ray/auth_token exists) takes RAY_AUTH_MODE=token and its RAY_AUTH_TOKEN "
        "in this process's environment, and on the head node --address auto joins it"
    )


def _no_cluster(err: Exception) -> bool:
    """``--address auto`` where no cluster runs (Ray's own words)."""
    return "could not find any running ray instance" in str(err).lower()


def _refused(err: Exception) -> bool:
    """A cluster that refused this process's authentication: no retry will pass."""
    text = str(err).lower()
    return "auth" in text or "token" in text or "unauthenticated" in text


def check_address(address: Any) -> None:
    """Refuse, before anything is written, an ``--address`` of no form Ray joins by."""
    if not isinstance(address, str):
        raise ConfigError(
            f"--address: {short_repr(address)} is not an address (address= takes text)"
        )
    if address in ("auto", "local"):
        return  # Ray's to find, or to start
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or "//" in host or not port.isdigit() or not 0 < int(port) < 65536:
        # "foo" had gone to ray.init, whose refusal read as a cluster that listens there.
        raise ConfigError(
            f"--address {address!r}: not an address; give auto, HOST:PORT (the head's "
            "6379) or ray://HOST:10001"
        )


def check_reachable(address: str) -> None:
    """Refuse a ``HOST:PORT`` or ``ray://HOST:PORT`` that nothing listens on, in one line.

    ``ray.init`` keeps retrying such an address for many minutes, logging every attempt,
    before it gives up; a plain TCP connection tells at once. ``auto`` is Ray's to find.
    """
    import socket

    check_address(address)
    named = f"--address {address}"
    if address == "auto":
        # auto joins RAY_ADDRESS where it is set: ray.init waited on a dead one for minutes.
        env = os.environ.get("RAY_ADDRESS", "").strip()
        if not env or env in ("auto", "local"):
            return
        try:
            check_address(env)
        except ConfigError:
            raise ConfigError(
                f"--address auto: RAY_ADDRESS={env!r} is not an address; give HOST:PORT or "
                "ray://HOST:10001, or unset it"
            ) from None
        address, named = env, f"--address auto (RAY_ADDRESS={env})"
    elif address == "local":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError, OverflowError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise MlplabError(
            f"{named}: cannot connect to a Ray cluster ({reason}); start one "
            "with `ray start --head`, or leave out --address for a local instance"
        ) from None


def _check_cluster(ray: ModuleType, cpus_per_task: float, gpus_per_task: float) -> None:
    """Fail with one line, instead of waiting forever, when no node can run a task."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if any(r.get("CPU", 0) >= cpus_per_task and r.get("GPU", 0) >= gpus_per_task for r in nodes):
        return
    most_cpu = max((r.get("CPU", 0) for r in nodes), default=0)
    most_gpu = max((r.get("GPU", 0) for r in nodes), default=0)
    raise MlplabError(
        f"--cpus_per_task {cpus_per_task:g} --gpus_per_task {gpus_per_task:g}: no node of the "
        f"Ray cluster has that much (largest: {most_cpu:g} CPUs, {most_gpu:g} GPUs)"
    )


def _land(ray: ModuleType, ref: Any, group: list[dict[str, Any]], retries: int) -> list[Outcome]:
    """Write one finished task's records; a task that failed for good fails its runs."""
    try:
        reply = ray.get(ref)
    except ray.exceptions.RayError as err:
        error = _task_error(ray, err, retries)
        from mlplab.sweeps.local import mark_ended

        failed = []
        for values in group:
            if not _is_finished(values):
                mark_ended(values, error)
                failed.append(_outcome(values, "failed", error))
        return failed
    outcomes = []
    for item in reply["runs"]:
        values, outcome = item["values"], item["outcome"]
        run_dir = _run_dir(values)
        if item["files"] and not (_is_finished(values) and outcome["status"] != "finished"):
            # (A finished record is never replaced by an unfinished one of a concurrent sweep.)
            write_run_dir(run_dir, item["files"])
        outcomes.append({**outcome, "run_dir": str(run_dir), "node": reply.get("node")})
    return outcomes


def _task_error(ray: ModuleType, err: Exception, retries: int) -> str:
    """One line for a group that did not come back."""
    exc = ray.exceptions
    if isinstance(err, exc.WorkerCrashedError | exc.NodeDiedError | exc.OwnerDiedError):
        return f"Ray worker died ({type(err).__name__}), {retries} retries used"
    if isinstance(err, exc.TaskCancelledError):
        return "Ray task cancelled"
    if isinstance(err, exc.LocalRayletDiedError):
        # Ray's own line sends its reader to raylet.out: the cluster itself went away.
        return (
            "the Ray cluster stopped under this run (LocalRayletDiedError); start it again "
            "and run the same sweep: the finished runs are kept"
        )
    cause = getattr(err, "cause", None)
    if isinstance(cause, BaseException):
        text = str(cause).strip().splitlines()
        return f"{type(cause).__name__}: {text[0] if text else ''}".rstrip(": ")
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


def write_run_dir(run_dir: str | Path, files: Packed) -> None:
    """Put a run directory in place all at once, from its files.

    The files go into a hidden folder next to ``run_dir`` (``result.json`` last, each
    fsynced), which then replaces ``run_dir`` by rename. An earlier attempt's folder is
    moved aside first and removed after, so readers see the old record, no record, or the
    new one, never a mix. Hidden folders left by a killed process are removed here and are
    ignored by the report meanwhile.
    """
    dest = Path(run_dir)
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in [*parent.glob(f".{dest.name}.*.landing"), *parent.glob(f".{dest.name}.*.old")]:
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".landing", dir=parent))
    try:
        # mkdtemp makes the folder private (0700); a record is as readable as other files.
        os.chmod(tmp, 0o777 & ~_umask())
        for rel in sorted(files, key=lambda r: (r == "result.json", r)):
            path = tmp / _safe_relative(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(files[rel])
                f.flush()
                os.fsync(f.fileno())
        replace_dir(tmp, dest, parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _safe_relative(rel: str) -> Path:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"unsafe path in a returned run record: {rel!r}")
    return p


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- helpers shared by both sides ------------------------------------------------------------


def _at_log_path(values: dict[str, Any], log_path: str | os.PathLike[str]) -> dict[str, Any]:
    from mlplab.config import make_config

    return make_config({**values, "log_path": os.fspath(log_path)}).to_dict()


def _run_dir(values: dict[str, Any]) -> Path:
    from mlplab.config import make_config
    from mlplab.runs.record import run_dir_of

    return run_dir_of(make_config(values))


def _run_id(values: dict[str, Any]) -> str:
    from mlplab.config import make_config
    from mlplab.runs.record import run_name

    return run_name(make_config(values))


def _is_finished(values: dict[str, Any]) -> bool:
    from mlplab.runs.record import is_finished

    return is_finished(_run_dir(values))


def _outcome(values: dict[str, Any], status: str, error: str | None) -> Outcome:
    return {
        "run_id": _run_id(values),
        "run_dir": str(_run_dir(values)),
        "status": status,
        "error": error,
        "wall_time_s": None,
        "node": None,
        "metrics": {},
    }


# --- worker side -----------------------------------------------------------------------------


def _train_group_task(
    configs: list[dict[str, Any]],
    group_fn: Callable[..., list[Outcome]] | None,
    cwd: str | None = None,
    digests: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """The Ray task: train ``configs`` into a private folder and return their records.

    ``cwd`` is the folder the sweep started in: where this node has it (the same machine,
    a shared filesystem), the task works there, so that a relative data path names the
    file the sweep checked, not one in the folder where ``ray start`` ran. ``digests``:
    run id -> the rows the sweep read (see :func:`run_on_ray`), checked here first.

    Returns ``{"node": node_id, "runs": [{"values", "outcome", "files"}, ...]}`` with one
    entry per run that ended (an interrupted group can end early).
    """
    import ray

    # Warnings as the CLI shows them (one line, in mlplab's words), as a local worker does;
    # put back after, for the tasks of the caller's own that this worker runs next.
    shown, warnings.showwarning = warnings.showwarning, one_line_warning
    if group_fn is None:
        from mlplab.sweeps.local import train_group

        group_fn = train_group
    if cwd is not None and os.path.isdir(cwd):
        os.chdir(cwd)
    _remove_orphans()
    tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
    from mlplab.assemble import reuse_loaded_data

    try:
        # The run id leaves log_path out, so the private runs keep the real run ids.
        private = [{**values, "log_path": tmp} for values in configs]
        with reuse_loaded_data():  # the check's read of the file is the training's
            _check_node_data(configs, digests or {})
            by_id = {o["run_id"]: o for o in group_fn(private)}
        runs = []
        for values in configs:
            outcome = by_id.get(_run_id(values))
            if outcome is None:
                continue  # not reached: the group stopped early
            src = _run_dir({**values, "log_path": tmp})
            files: Packed = {}
            if src.is_dir():
                # A record names no machine path, so it travels as it is.
                files = pack_run_dir(src)
            keep = {k: outcome.get(k) for k in ("run_id", "status", "error", "wall_time_s")}
            keep["metrics"] = outcome.get("metrics") or {}
            runs.append({"values": values, "outcome": keep, "files": files})
        return {"node": ray.get_runtime_context().get_node_id(), "runs": runs}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        warnings.showwarning = shown


def _check_node_data(configs: list[dict[str, Any]], digests: dict[str, str | None]) -> None:
    """Refuse, in one line, a data file whose copy on this node gives other rows than the
    sweep read: a stale copy left on one machine of a cluster trained its runs silently,
    and their records said nothing of it."""
    import ray

    from mlplab.assemble import load_data
    from mlplab.config import make_config
    from mlplab.errors import DataError

    node = ray.util.get_node_ip_address()
    for values in configs:
        expected = digests.get(_run_id(values))
        if expected is None:  # a built-in set, arrays in memory, or a caller's own groups
            continue
        cfg = make_config(values)
        try:
            data = load_data(cfg)
        except DataError as err:  # a file missing on one node: which one, of many
            raise DataError(f"on the Ray node at {node}: {err}") from None
        if data.digest != expected:
            raise DataError(
                f"data file {cfg.data!r} on the Ray node at {node} differs from the one the "
                "sweep read (its rows differ): give every node the same copy (or a shared "
                "folder), then run the sweep again; its finished runs are kept"
            )


def pack_run_dir(run_dir: str | Path) -> Packed:
    """Every file under ``run_dir`` as relative POSIX path -> bytes (no temp files)."""
    root = Path(run_dir)
    files: Packed = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not (path.name.startswith(".") and path.name.endswith(".tmp")):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def _remove_orphans() -> None:
    """Remove private record folders of worker processes that no longer exist.

    A worker killed mid-group (the fault a retry recovers from) never runs its cleanup.
    """
    for folder in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*-*"):
        pid_text = folder.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's
