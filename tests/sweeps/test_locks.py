"""Run locks against a second process, as two sweeps on one log_path meet them."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from mlplab.runs.locks import RunLocks

OTHER = """
import sys
from mlplab.runs.locks import RunLocks
locks = RunLocks(sys.argv[1])
print(",".join(str(locks.acquire(r)) for r in sys.argv[2:]))
"""


def other_process_takes(folder: Path, *run_ids: str) -> list[bool]:
    out = subprocess.run(
        [sys.executable, "-c", OTHER, str(folder), *run_ids],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [x == "True" for x in out.strip().split(",")]


def test_a_held_run_is_refused_to_another_process_and_freed_on_release(tmp_path):
    locks = RunLocks(tmp_path)
    assert locks.acquire("exp-00a1b2") and locks.acquire("exp-ffffff")
    assert other_process_takes(tmp_path, "exp-00a1b2", "exp-00a1b3", "exp-ffffff") == [
        False,
        True,
        False,
    ]
    locks.release()
    assert other_process_takes(tmp_path, "exp-00a1b2", "exp-ffffff") == [True, True]
    assert list(tmp_path.iterdir()) == [tmp_path / ".sweep.lock"]  # one file, not one per run


HOLDER = """
import sys
from mlplab.runs.locks import RunLocks
locks = RunLocks(sys.argv[1])
print(locks.acquire(sys.argv[2]), flush=True)
sys.stdin.read()  # held until the test closes our stdin
"""


@contextlib.contextmanager
def held(folder, run_id: str):
    """``run_id``'s lock in ``folder``, held by another process until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        yield
    finally:
        holder.communicate(timeout=30)


def test_the_lock_file_stays_when_a_sweep_releases_so_a_third_is_still_refused(tmp_path):
    """Sweep B holds a run; sweep A, on the same folder, ends. The file the locks live on
    stays (they belong to it, not to its name), so a sweep C started next is refused B's
    run instead of locking it on a new file and training it at the same time as B."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), "exp-00b000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        a = RunLocks(tmp_path)
        assert a.acquire("exp-00a000") and not a.acquire("exp-00b000")
        inode = (tmp_path / ".sweep.lock").stat().st_ino
        a.release()
        assert (tmp_path / ".sweep.lock").stat().st_ino == inode
        assert other_process_takes(tmp_path, "exp-00b000", "exp-00a000") == [False, True]
    finally:
        holder.communicate(timeout=30)  # closes its stdin (it ends) and its stdout
    assert other_process_takes(tmp_path, "exp-00b000") == [True]


def test_two_runlocks_of_one_process_share_the_file_and_keep_each_others_locks(tmp_path):
    """A sweep's locks and a train() beside it in one process (a notebook, a subscriber):
    the second refuses the first's run, and its release, which closed a second descriptor
    of the file, no longer drops the first's locks (POSIX locks belong to the process)."""
    sweep_locks, train_lock = RunLocks(tmp_path), RunLocks(tmp_path)
    assert sweep_locks.acquire("exp-00a1b2") and sweep_locks.acquire("exp-00a1b3")
    assert not train_lock.acquire("exp-00a1b2")  # this process trains it already
    assert train_lock.acquire("exp-0c0c0c")
    train_lock.release()
    assert other_process_takes(tmp_path, "exp-00a1b2", "exp-00a1b3", "exp-0c0c0c") == [
        False,
        False,
        True,
    ]
    with RunLocks(tmp_path) as again:  # released: free again in-process too
        assert again.acquire("exp-0c0c0c")
    sweep_locks.release()
    assert other_process_takes(tmp_path, "exp-00a1b2") == [True]


def test_python_train_refuses_a_run_another_process_is_training(tmp_path):
    """train() took no lock unless asked: a train() beside a sweep training the same run
    trained it at the same time into the same folder, and one TensorBoard file was lost."""
    import pytest

    import mlplab
    from mlplab.config import make_config
    from mlplab.errors import ConfigError, RunBusy
    from mlplab.runs.record import run_name

    settings = {"data": "xor", "epoch": 2, "plots": "none", "log_path": str(tmp_path)}
    run_id = run_name(make_config(settings))
    with held(tmp_path / "exp", run_id):
        with pytest.raises(
            RunBusy, match=r"being trained by another process \(or thread\) right now"
        ) as busy:
            mlplab.train(settings, verbose=False)
        # No bad setting: `except ConfigError` took a busy run for one.
        assert not isinstance(busy.value, ConfigError)
        assert not (tmp_path / "exp" / run_id).exists()
        # A resume is given no way out that it cannot take (it takes no exp_name).
        from mlplab.runner import _run_lock

        refused = pytest.raises(RunBusy, match=r"is queued by a sweep; wait for it to end$")
        with refused, _run_lock(tmp_path / "exp" / run_id, True, resuming=True):
            pass
        # lock=False is the caller's own word that nothing else trains it.
        assert mlplab.train(settings, verbose=False, lock=False).status == "finished"
    assert mlplab.train(settings, verbose=False).kept  # free again: the finished run is kept


def test_a_sweep_started_from_a_sweeps_subscriber_leaves_it_its_runs(tmp_path):
    """Locks were per process: the same sweep() called again from a subscriber trained
    the runs its caller was about to train, and those were trained twice."""
    import mlplab
    from mlplab.training.events import End

    kw = dict(data="xor", epoch=2, lr=[0.1, 0.2], hid_dim=[2, 4], plots="none",
              log_path=str(tmp_path), workers=1, report=False, verbose=False)  # fmt: skip
    inner = []

    def again(event):
        if isinstance(event, End) and not inner:
            inner.append(mlplab.sweep(**kw))

    outer = mlplab.sweep(**kw, subscribers=[again])
    (nested,) = inner
    assert nested.counts["trained"] == 0 and nested.counts["busy"] == 2  # the next stack's
    assert outer.counts["trained"] == 4
    assert all(len(list(d.glob("events.out.tfevents.*"))) == 1 for d in outer.run_dirs)


def test_the_cli_exits_75_for_a_run_another_process_holds_not_2(tmp_path, run_cli):
    """`make -j` training one config twice failed the second with 2, the status of bad
    input, which no retry loop could tell from a mistake; 75 is EX_TEMPFAIL: try later."""
    from mlplab.config import make_config
    from mlplab.runs.record import run_name

    settings = {"data": "xor", "epoch": 2, "plots": "none", "log_path": str(tmp_path)}
    run_id = run_name(make_config(settings))
    args = ["train", "--data", "xor", "--epoch", "2", "--plots", "none", "--log_path", tmp_path]
    with held(tmp_path / "exp", run_id):
        proc = run_cli(*args)
        assert proc.returncode == 75, proc.stderr
        (line,) = proc.stderr.splitlines()
        assert "is being trained by another process" in line and "Traceback" not in line
    assert run_cli(*args).returncode == 0  # free again: it trains


def test_an_estimator_fit_on_a_busy_run_raises_run_busy_not_value_error(tmp_path, monkeypatch):
    """A fit whose run another process trains right now: the estimator made it a
    ValueError (a bad parameter, to scikit-learn's searches), where nothing was wrong
    but the timing, which a grader's retry tells by RunBusy."""
    import numpy as np
    import pytest

    from mlplab.errors import RunBusy
    from mlplab.sklearn import MLPClassifier

    monkeypatch.setattr(RunLocks, "acquire", lambda self, name: False)  # another holds it
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    with pytest.raises(RunBusy, match="being trained by another process"):
        MLPClassifier(epoch=2, log_path=str(tmp_path), plots="none").fit(X, y)


def test_a_file_system_without_locks_is_said_not_taken_for_a_busy_run(tmp_path, monkeypatch):
    """On a mount that takes no file locks (ENOLCK), every run read as held by another
    process: train exited 75 ("try again later") forever, a sweep trained nothing."""
    import errno
    import fcntl

    import pytest

    import mlplab
    from mlplab.cli import main
    from mlplab.errors import ConfigError, RunBusy

    def no_locks(*args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "lockf", no_locks)
    settings = {"data": "xor", "epoch": 2, "plots": "none", "log_path": str(tmp_path)}
    with pytest.raises(ConfigError, match=r"cannot lock runs in .* \(No locks available\): its "
                       r"file system takes no file locks") as err:  # fmt: skip
        mlplab.train(settings, verbose=False)
    assert not isinstance(err.value, RunBusy)
    with pytest.raises(ConfigError, match="takes no file locks"):
        mlplab.sweep(settings, lr=[0.1, 0.5], workers=1, verbose=False)
    from mlplab.runs import locks

    assert not locks._SHARED  # the sweep's lock file closed, not left open to the collector
    assert main(["train", "--data", "xor", "--epoch", "2", "--log_path", str(tmp_path)]) == 2
    assert mlplab.train(settings, verbose=False, lock=False).status == "finished"


def test_a_twins_8_digit_id_and_another_6_digit_id_lock_apart() -> None:
    """The lock byte was the run id's hash read as hex: abcdef and an 8-digit twin's
    00abcdef were one byte, and each run saw the other as busy."""
    from mlplab.runs.locks import lock_offset

    assert lock_offset("exp-abcdef") != lock_offset("exp-00abcdef")
    assert lock_offset("exp-ffffffffffff") < 2**63  # 12 digits, id_digits' most, fit
