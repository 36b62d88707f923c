"""``train(stop=...)``: a stop button's request, from a thread that signals cannot reach.

A web page's server or a notebook widget trains in another thread; the run stops at a step
boundary as a Ctrl-C stops it, keeps its checkpoint, and the same call again continues it
to the run an unstopped train gives, bit for bit.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from reliability_support import assert_same_run, read_json

from mlplab.errors import ConfigError
from mlplab.runner import train
from mlplab.training.events import Step

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


def test_a_stop_that_is_not_a_function_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train: stop takes a function of no arguments"):
        train(log_path=str(tmp_path), stop=True, **KW)
    assert not any(tmp_path.iterdir())
