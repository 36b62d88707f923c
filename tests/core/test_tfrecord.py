"""mlplab's event-file framing against tensorboard's own reader and checksum."""

from __future__ import annotations

import os

import pytest

from mlplab.runs.tensorboard import EventWriter
from mlplab.runs.tfrecord import masked_crc32c


@pytest.mark.parametrize("n", [0, 1, 7, 8, 12, 63, 200, 4096])
def test_masked_crc_matches_tensorboard(n):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as ref

    data = os.urandom(n)
    assert masked_crc32c(data) == ref(data)


def test_events_read_back_with_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    w = EventWriter(tmp_path)
    for step in range(3000):  # ~200 KB: more than one 64 KB buffer, so several flushes
        w.scalars({"train/loss": 1.0 / (step + 1), "val/acc": step / 3000}, step)
    w.scalar("train/step_loss", 0.5, 7)
    w.close()
    ea = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    ea.Reload()
    loss = ea.Scalars("train/loss")
    assert [e.step for e in loss] == list(range(3000))
    assert loss[9].value == pytest.approx(0.1)
    assert ea.Scalars("val/acc")[1500].value == pytest.approx(0.5)
    assert [(e.step, e.value) for e in ea.Scalars("train/step_loss")] == [(7, 0.5)]


def test_two_writers_in_one_second_use_two_files(tmp_path):
    a, b = EventWriter(tmp_path), EventWriter(tmp_path)
    a.close()
    b.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


@pytest.mark.parametrize("step", [0, 1, 127, 128, 300_000, 2**40])
def test_scalar_events_are_the_protos_bytes(step):
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    from mlplab.runs.tensorboard import scalar_event

    values = {"train/loss": 0.25, "val/acc": 1.0 / 3, "a" * 200: -7.5, "big": 1e300, "neg": -1e39}
    ref = Event(
        wall_time=1795358871.123,
        step=step,
        summary=Summary(value=[Summary.Value(tag=t, simple_value=v) for t, v in values.items()]),
    )
    ours = scalar_event(values, step, 1795358871.123)
    assert ours == ref.SerializeToString()
    assert Event.FromString(ours) == ref


def test_a_stacks_events_are_each_models_proto_bytes():
    import numpy as np
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    from mlplab.runs.tensorboard import scalar_events

    tags = ["train/loss", "train/acc", "val/loss", "val/acc"]
    values = np.array([[0.5, 0.75, 0.25, 1.0], [1e300, -1e39, float("nan"), 1 / 3], [0, 0, 0, 0]])
    events = scalar_events(tags, values, 4242, 1795358871.5)
    assert len(events) == 3
    for row, ours in zip(values, events, strict=True):
        ref = Event(
            wall_time=1795358871.5,
            step=4242,
            summary=Summary(
                value=[Summary.Value(tag=t, simple_value=v) for t, v in zip(tags, row)]
            ),
        )
        got = Event.FromString(ours)
        assert [v.tag for v in got.summary.value] == tags
        if not np.isnan(row).any():
            assert ours == ref.SerializeToString()
        else:  # NaN != NaN: compare the other values, and that NaN stays NaN
            assert np.isnan(got.summary.value[2].simple_value)
            assert got.summary.value[0].simple_value == float("inf")
            assert got.summary.value[1].simple_value == float("-inf")


def attempt(logdir, epochs: range, keep_until: tuple[int, int] | None = None) -> None:
    """One attempt of a run: ``val/loss`` at each of ``epochs``, resumed from ``keep_until``."""
    w = EventWriter(logdir, keep_until)
    for e in epochs:
        w.scalar("val/loss", 1.0 / e, e)
    w.close()


def test_a_tensorboard_left_running_shows_the_resumed_run_once(tmp_path):
    # `tensorboard --logdir --load_fast=false` reads a run with the plugin accumulator, a
    # notebook with the legacy one. The first attempt logged epochs up to 10, after its
    # checkpoint at 8; the resume goes on from 8. The old file was removed under the
    # readers, which then waited on it for good and never showed epoch 11.
    from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator

    attempt(tmp_path, range(1, 11))
    legacy = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    server = plugin_event_accumulator.EventAccumulator(str(tmp_path), {"tensors": 0})
    for reader in (legacy, server):
        reader.Reload()
    attempt(tmp_path, range(9, 21), keep_until=(0, 8))
    for reader in (legacy, server):
        reader.Reload()
    assert [e.step for e in legacy.Scalars("val/loss")] == list(range(1, 21))
    assert [e.step for e in server.Tensors("val/loss")] == list(range(1, 21))
    fresh = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    fresh.Reload()
    assert [e.step for e in fresh.Scalars("val/loss")] == list(range(1, 21))
    # The old file is emptied, the next resume removes it: one file holds the events.
    sizes = sorted(p.stat().st_size for p in tmp_path.glob("events.out.tfevents.*"))
    assert len(sizes) == 2 and sizes[0] == 0
    attempt(tmp_path, range(21, 23), keep_until=(0, 20))
    sizes = sorted(p.stat().st_size for p in tmp_path.glob("events.out.tfevents.*"))
    assert len(sizes) == 2 and sizes[0] == 0


def test_a_copy_that_a_crash_left_beside_its_source_counts_once(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    attempt(tmp_path, range(1, 11))
    (first,) = tmp_path.glob("events.out.tfevents.*")
    events = first.read_bytes()
    attempt(tmp_path, range(9, 13), keep_until=(0, 8))
    first.write_bytes(events)  # killed after the copy reached the disk, before the emptying
    attempt(tmp_path, range(13, 15), keep_until=(0, 12))
    files = [p for p in tmp_path.glob("events.out.tfevents.*") if p.stat().st_size]
    assert len(files) == 1
    ea = EventAccumulator(str(files[0]), size_guidance={"scalars": 0})
    ea.Reload()
    loss = ea.Scalars("val/loss")
    assert [e.step for e in loss] == list(range(1, 15))
    assert [e.value for e in loss] == pytest.approx([1.0 / e for e in range(1, 15)])


def test_records_reach_the_file_once_flush_secs_have_passed(tmp_path):
    """By size alone, a run of a few hundred small events showed nothing in a running
    TensorBoard until it ended (64 KiB buffered), and a SIGKILL lost them all."""
    from mlplab.runs.tfrecord import RecordFile

    for name in ("slow", "now"):
        (tmp_path / name).mkdir()
    slow = RecordFile(tmp_path / "slow", flush_secs=3600.0)
    now = RecordFile(tmp_path / "now", flush_secs=0.0)
    for f in (slow, now):
        f.write(b"x" * 100)
    assert slow.path.stat().st_size == 0  # buffered: neither 64 KiB nor an hour yet
    assert now.path.stat().st_size == 100 + 16  # on disk at once, framed
    now.write(b"y" * 10)
    assert now.path.stat().st_size == 100 + 16 + 10 + 16
    slow.close()
    now.close()
    assert slow.path.stat().st_size == 116


def test_records_reach_the_file_a_second_after_the_last_write(tmp_path, monkeypatch):
    """At 10 seconds, a record reached the file only once a later one came past the
    deadline: a 20-second run validating at 8 and 17 seconds showed nothing in
    TensorBoard until it ended, and a validation among a run's step records waited an
    epoch. A second: a slow run's records as they come, a fast run's once a second."""
    import mlplab.runs.tfrecord as tfrecord

    clock = [1000.0]
    monkeypatch.setattr(tfrecord.time, "monotonic", lambda: clock[0])
    f = tfrecord.RecordFile(tmp_path, flush_bytes=1 << 20)
    f.write(b"s" * 10)  # the run's start, as it opens
    assert f.path.stat().st_size == 0
    clock[0] += 8.0  # the first validation, 8 s on
    f.write(b"v" * 10)
    assert f.path.stat().st_size == 2 * (10 + 16)
    for _ in range(9):  # a fast run's step records, 0.1 s apart: buffered for a second
        clock[0] += 0.1
        f.write(b"f" * 10)
    assert f.path.stat().st_size == 2 * (10 + 16)
    clock[0] += 0.15
    f.write(b"v" * 10)  # a validation among them, 1.05 s after the last write
    assert f.path.stat().st_size == 12 * (10 + 16)
    f.close()


def test_a_resume_leaves_a_linked_event_file_and_what_it_names_alone(tmp_path):
    """A resume empties the run's old event files; a link of that name in a run folder
    (handed over with it) was followed, and emptied a file outside the folder."""
    import mlplab

    kw = dict(data="moons", n_samples=100, epoch=20, save_every=2, log_every=0, plots="none",
              verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    epochs = iter(range(100))
    run = mlplab.train(**kw, stop=lambda: next(epochs) > 5)
    assert run.status == "interrupted"
    victim = tmp_path / "notes.db"
    victim.write_bytes(b"precious data that must survive")
    link = run.run_dir / "events.out.tfevents.1000.host.1.0"
    link.symlink_to(victim)
    resumed = mlplab.train(resume=run.run_dir, verbose=False)
    assert resumed.status == "finished"
    assert victim.read_bytes() == b"precious data that must survive"
    assert link.is_symlink()
    # The run's own earlier file was emptied as before, its events kept in the new one.
    own = [p for p in run.run_dir.glob("events.out.tfevents.*") if not p.is_symlink()]
    assert sorted(p.stat().st_size > 0 for p in own) == [False, True]
