"""A signal while a run's data is read or made ends `mlplab train` at once, with its
signal's exit status and one line, and nothing written: it waited for the data (minutes
for 10**8 rows) and a first step, and `timeout 8` ended after 108 s."""

from __future__ import annotations

import os
import signal

import pytest

import mlplab.runner


@pytest.fixture
def signalled_while_loading(monkeypatch):
    """load_data sends this process a real signal as it starts, then reads on."""
    real = mlplab.runner.load_data
    sent: list[int] = []

    def loading(cfg):
        os.kill(os.getpid(), sent[0])
        return real(cfg)

    monkeypatch.setattr(mlplab.runner, "load_data", loading)
    return sent


@pytest.mark.parametrize(
    ("sig", "code", "name"),
    [
        (signal.SIGTERM, 143, "SIGTERM"),
        (signal.SIGINT, 130, "Ctrl-C"),
        (signal.SIGHUP, 129, "SIGHUP"),
    ],
)
def test_a_signal_as_the_data_loads_ends_train_at_once(
    run_cli, tmp_path, signalled_while_loading, sig, code, name
):
    hangup = signal.getsignal(signal.SIGHUP)
    if sig == signal.SIGHUP:
        # Under nohup (as CI runs the suite) SIGHUP is ignored, and a run leaves it so.
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        signalled_while_loading.append(sig)
        handler = signal.getsignal(sig)
        proc = run_cli("train", "--data", "moons", "--epoch", "5", "--plots", "none",
                       "--log_path", tmp_path / "runs")  # fmt: skip
        assert proc.returncode == code
        assert proc.stderr == (
            f"mlplab: {name} came before the run began to train (while its data was read or "
            "made): it stopped, and nothing was written\n"
        )
        assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))
        assert signal.getsignal(sig) == handler  # the process's own again
    finally:
        signal.signal(signal.SIGHUP, hangup)


def test_in_python_it_is_a_keyboard_interrupt_and_the_same_call_then_trains(
    tmp_path, signalled_while_loading
):
    signalled_while_loading.append(signal.SIGINT)
    kw = dict(data="moons", epoch=5, plots="none", log_path=str(tmp_path), verbose=False)
    with pytest.raises(KeyboardInterrupt, match="came before the run began to train"):
        mlplab.runner.train(**kw)
    assert not list(tmp_path.rglob("result.json"))
    signalled_while_loading[0] = 0  # signal 0: no signal, only a check
    assert mlplab.runner.train(**kw).status == "finished"


def test_handle_signals_true_in_python_still_returns_the_interrupted_result(
    tmp_path, signalled_while_loading
):
    """train(handle_signals=True) returns its Result for a signal (a job script's
    sys.exit(r.exit_code) gave 143); the stop before the run begins is the command's."""
    signalled_while_loading.append(signal.SIGTERM)
    res = mlplab.runner.train(data="moons", epoch=5, plots="none", log_path=str(tmp_path),
                              verbose=False, handle_signals=True)  # fmt: skip
    assert (res.status, res.exit_code) == ("interrupted", 143)
