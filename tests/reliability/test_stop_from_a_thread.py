"""``train(stop=...)``: a stop button's request, from a thread that signals cannot reach.

A web page's server or a notebook widget trains in another thread; the run stops at a step
boundary as a Ctrl-C stops it, keeps its checkpoint, and the same call again continues it
to the run an unstopped train gives, bit for bit.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from reliability_support import assert_same_run, read_json

from mlplab.errors import ConfigError
from mlplab.runner import train
from mlplab.training.events import End, Step

# 800 training rows / 32 = 25 steps an epoch; 4 epochs = 100 steps.
KW = dict(data="moons", batch_size=32, dp_rate=0.2, optim="adam", epoch=4, save_every=1)
KW.update(log_every=1, plots="none", verbose=False)


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_stop_button_in_another_thread_stops_the_run_and_the_same_call_continues_it(
    tmp_path: Path, engine: str
) -> None:
    ref = train(log_path=str(tmp_path / "ref"), engine=engine, **KW)
    pressed = threading.Event()

    def button(event: object) -> None:  # a subscriber: the page's button is pressed at step 40
        if isinstance(event, Step) and event.step == 40:
            pressed.set()

    out: list = []
    log = str(tmp_path / "stopped")
    worker = threading.Thread(
        target=lambda: out.append(
            train(log_path=log, engine=engine, subscribers=[button], stop=pressed.is_set, **KW)
        )
    )
    worker.start()
    worker.join(timeout=300)
    (stopped,) = out  # returned, not raised: no KeyboardInterrupt in the training thread
    assert stopped.status == "interrupted" and stopped.exit_code == 130
    record = read_json(stopped.run_dir / "result.json")
    assert record["status"] == "interrupted" and record["steps"] == 41
    assert record["message"].startswith("interrupted by stop() at step 41")
    assert (stopped.run_dir / "checkpoints" / "last.safetensors").is_file()

    again = train(log_path=log, engine=engine, **KW)  # the same call, no stop: it continues
    assert again.status == "finished" and again.run_dir == stopped.run_dir
    assert_same_run(ref.run_dir, again.run_dir)


@pytest.mark.parametrize("stop", [True, lambda event: True], ids=["a bool", "one argument"])
def test_a_stop_that_is_not_a_function_of_nothing_is_one_line(tmp_path: Path, stop) -> None:
    """A stop taking an argument failed at the first step: a TypeError and a failed record."""
    with pytest.raises(ConfigError, match=r"train: stop takes a function of no arguments"):
        train(log_path=str(tmp_path), stop=stop, **KW)
    assert not any(tmp_path.iterdir())


def broken() -> bool:
    raise RuntimeError("the page went away")


@pytest.mark.parametrize(
    ("stop", "line"),
    [
        (broken, "train: stop() raised RuntimeError: the page went away"),
        (lambda: "False", "train: stop() must return True or False; it returned 'False'"),
        (lambda: np.array([False, False]), "train: stop() must return True or False"),
    ],
    ids=["raises", "a string", "an array"],
)
def test_a_stop_that_raises_or_answers_no_bool_ends_the_run_failed_with_one_line(
    tmp_path: Path, stop, line: str
) -> None:
    """Such a stop raised its own exception (a string "False" stopped the run)."""
    with pytest.raises(ConfigError, match=re.escape(line)):
        train(log_path=str(tmp_path), stop=stop, **KW)
    (record,) = tmp_path.glob("exp/exp-*/result.json")
    assert read_json(record)["status"] == "failed" and line in read_json(record)["error"]


def test_numpys_bool_is_an_answer(tmp_path: Path) -> None:
    res = train(log_path=str(tmp_path), stop=lambda: np.bool_(False), **KW)
    assert res.status == "finished"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_as_the_run_ends_is_said_and_sets_the_exit_status(
    tmp_path: Path, capsys, sig: int, code: int
) -> None:
    """A signal during the plots, after the loop had ended: `mlplab train` exited 0 with
    no word, as if the Ctrl-C (or a scheduler's SIGTERM) had been lost."""

    def at_the_end(event: object) -> None:  # after the record: where the plots draw
        if isinstance(event, End):
            os.kill(os.getpid(), sig)

    kw = {**KW, "verbose": True}
    res = train(log_path=str(tmp_path), subscribers=[at_the_end], handle_signals=True, **kw)
    assert res.status == "finished" and res.exit_code == code
    name = signal.Signals(sig).name
    assert (
        f"mlplab: {name} came as the run ended: it finished, and its record is complete"
        in capsys.readouterr().err  # why the exit status is not 0
    )
    assert read_json(res.run_dir / "result.json")["status"] == "finished"
