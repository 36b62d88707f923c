"""TensorBoard event files, built from tensorboard's own protos.

This does not import torch or TensorFlow, so NumPy-engine runs stay light; the records
are framed by :mod:`mlplab.runs.tfrecord` (why: see there). Each run writes its
HParams session (settings, status, final metrics) and no experiment summary, so
TensorBoard's HParams view builds one table from every run of a sweep.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Scalars whose step axis counts optimizer steps; every other scalar is indexed by epoch.
STEP_TAGS = frozenset({"train/step_loss"})

# A run's status as the HParams dashboard's session status (its Status filter): a run
# that diverged or failed must not be listed among the successes. An interrupted run has
# no outcome yet (its resume writes the session again); a pruned one ended by design.
SESSION_STATUS = {
    "finished": "STATUS_SUCCESS",
    "pruned": "STATUS_SUCCESS",
    "interrupted": "STATUS_UNKNOWN",
}


class EventWriter:
    """Scalars and hparams into ``logdir``, readable by a stock ``tensorboard --logdir``.

    ``keep_until=(step, epoch)`` is for a resumed run: the events of earlier attempts up
    to that checkpoint are copied into the new file, after its restart mark (a
    ``SessionLog.START`` at step 0), and the old files are emptied, so the steps that are
    trained again (after the checkpoint) do not show up twice. Emptied, not removed: a
    ``tensorboard`` left running holds the old file by its name, and its Python loader
    waited on a removed one for good, showing none of the resumed run; an emptied one
    ends, the loader moves on to the new file, and the mark makes it drop what it had
    before it reads the copies. A file emptied by an earlier resume is removed.
    """

    def __init__(self, logdir: str | Path, keep_until: tuple[int, int] | None = None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog

        from mlplab.runs.tfrecord import RecordFile

        self._Event = Event
        if not Path(logdir).is_dir():  # a stat, not a mkdir: cheaper where it exists
            Path(logdir).mkdir(parents=True, exist_ok=True)
        # mlplab writes plain files there: a link or a FIFO of that name is not its own,
        # and is neither read (a FIFO blocks) nor emptied (truncate follows a link out of
        # the run folder, to whatever file it names).
        old = [
            f
            for f in sorted(Path(logdir).glob("events.out.tfevents.*") if keep_until else [])
            if f.is_file() and not f.is_symlink()
        ]
        kept = _kept_events(old, *keep_until) if keep_until else []
        self._w = RecordFile(logdir)
        self.add_event(Event(wall_time=time.time(), file_version="brain.Event:2"))
        # Every file starts with the mark, as TensorBoard's server takes the first one it
        # reads in a run for the start, not a restart.
        self.add_event(
            Event(wall_time=time.time(), session_log=SessionLog(status=SessionLog.START))
        )
        if old:
            for ev in kept:
                self.add_event(ev)
            self._w.flush()
            # Emptied only once their kept events are on disk in the new file: a crash
            # in between leaves both, which the restart mark keeps apart.
            for f in old:
                with contextlib.suppress(FileNotFoundError):
                    if f.stat().st_size:
                        os.truncate(f, 0)
                    else:  # emptied by an earlier resume: every reader has moved past it
                        f.unlink()

    def add_event(self, event: Any) -> None:
        self._w.write(event.SerializeToString())

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.scalars({tag: value}, step)

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Several scalars of one step as one event (as a merged tf.summary writes them).

        One event instead of one per tag: a lab-sized sweep writes hundreds of runs, and
        each event costs its framing and checksums.
        """
        self._w.write(scalar_event(values, int(step), time.time()))

    def write(self, event: bytes) -> None:
        """A serialized ``Event`` (see :func:`scalar_events`)."""
        self._w.write(event)

    def flush(self) -> None:
        self._w.flush()

    def session_start(self, hparams: dict[str, Any]) -> None:
        """The run's settings for the HParams dashboard, written as it starts, so that a
        run in training is listed there (as running) and not only once it ended.

        Its session group is its settings but the seed, which is no column: TensorBoard's
        table then shows a config's seeds as one row, with their mean (or median, min,
        max) metrics, as the report ranks configs, and each seed's run within it.

        No experiment summary: TensorBoard keeps the first one it finds, so one run's
        columns would hide the others' (a sweep over moons and sine showed no accuracy).
        Without it, TensorBoard builds the table from every run's settings and scalars."""
        from google.protobuf import struct_pb2
        from tensorboard.plugins.hparams import plugin_data_pb2

        # Not the seed: a group's row shows one session's settings, and one seed of the
        # group's several would read as the seed of its mean.
        shown = {k: v for k, v in hparams.items() if v is not None and k != "seed"}
        group = json.dumps(shown, sort_keys=True, default=str)
        ssi = plugin_data_pb2.SessionStartInfo(
            start_time_secs=time.time(),
            group_name=hashlib.sha256(group.encode()).hexdigest()[:12],
        )
        for k, v in shown.items():
            val = struct_pb2.Value()
            if isinstance(v, bool):
                val.bool_value = v
            elif isinstance(v, int | float):
                val.number_value = float(v)
            else:
                val.string_value = str(v)
            ssi.hparams[k].CopyFrom(val)
        self._hparams_event(plugin_data_pb2.HParamsPluginData(session_start_info=ssi, version=0))

    def session_end(
        self, metrics: dict[str, float], status: str = "finished", epoch: int = 0
    ) -> None:
        """The run's status and final metrics, once, as it ends; ``status`` is the
        record's (diverged and failed show as failures). The final metrics are scalars at
        ``epoch``, where the run ended: at 0, the Scalars tab drew them as a lone point
        before the curves began."""
        from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

        sei = plugin_data_pb2.SessionEndInfo(
            status=api_pb2.Status.Value(SESSION_STATUS.get(status, "STATUS_FAILURE")),
            end_time_secs=time.time(),
        )
        self._hparams_event(plugin_data_pb2.HParamsPluginData(session_end_info=sei, version=0))
        for m, v in metrics.items():
            self.scalar(m, v, epoch)

    def _hparams_event(self, content: Any) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata

        plugin = SummaryMetadata.PluginData(
            plugin_name="hparams", content=content.SerializeToString()
        )
        value = Summary.Value(
            tag=_hparams_tag(content), metadata=SummaryMetadata(plugin_data=plugin)
        )
        self.add_event(Event(summary=Summary(value=[value]), wall_time=time.time()))

    def close(self) -> None:
        self._w.close()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def scalar_event(values: dict[str, float], step: int, wall_time: float) -> bytes:
    """The serialized ``Event`` of a step's scalars, as ``Event(...).SerializeToString()``."""
    return scalar_events(list(values), np.array([list(values.values())]), step, wall_time)[0]


def scalar_events(
    tags: Sequence[str], values: np.ndarray, step: int, wall_time: float
) -> list[bytes]:
    """One serialized ``Event`` per model: row k of ``values [K, T]`` under ``tags [T]``.

    Written out in protobuf's wire format because building the proto objects cost ~5 µs
    an event, most of a lab-sized sweep's TensorBoard time (hundreds of runs, ~200 events
    each). The layout is fixed by tensorboard's ``event.proto``/``summary.proto``:
    ``Event{1: double wall_time, 2: int64 step, 5: Summary{1: repeated Value{1: string
    tag, 2: float simple_value}}}``; a test checks it against the protos. The K events
    differ only in their floats, so they are laid out as one ``[K, bytes]`` array.
    A value past float32's range becomes inf, as protobuf stores it.
    """
    heads = [_value_head(t) for t in tags]
    with np.errstate(over="ignore"):
        floats = np.asarray(values, dtype=np.float64).astype("<f4")
    size = sum(len(h) + 4 for h in heads)
    head = b"\x09" + struct.pack("<d", wall_time)
    if step:  # proto3 leaves a zero out
        head += b"\x10" + _varint(step if step > 0 else step + (1 << 64))
    head += b"\x2a" + _varint(size)
    template = head + b"".join(h + bytes(4) for h in heads)
    out = np.tile(np.frombuffer(template, dtype=np.uint8), (len(floats), 1))
    at = len(head)
    for t, h in enumerate(heads):
        at += len(h)
        out[:, at : at + 4] = floats[:, t : t + 1].view(np.uint8)
        at += 4
    return [row.tobytes() for row in out]


@functools.cache
def _value_head(tag: str) -> bytes:
    """The bytes of a ``Summary.Value`` up to its float: ``1: Value{1: tag, 2: (float)}``.

    The same for every step of a tag, so they are built once (a sweep writes ~200 events
    a run, with the same four tags)."""
    t = tag.encode()
    body = b"\x0a" + _varint(len(t)) + t + b"\x15"
    return b"\x0a" + _varint(len(body) + 4) + body


def _hparams_tag(content: Any) -> str:
    # The tag names TensorBoard's HParams plugin looks for.
    if content.HasField("session_start_info"):
        return "_hparams_/session_start_info"
    return "_hparams_/session_end_info"


def _read_events(path: Path) -> list[Any]:
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    # A run killed mid-write leaves a truncated last record; the loader stops before it.
    # Events are a view of the run, not its record: a damaged file keeps what it can.
    events: list[Any] = []
    with contextlib.suppress(Exception):
        events.extend(LegacyEventFileLoader(str(path)).Load())
    return events


def _kept_events(paths: Sequence[Path], step: int, epoch: int) -> list[Any]:
    """The events of ``paths`` (in order) that a resume from (``step``, ``epoch``) keeps.

    A restart mark drops what came before it at its step or later, as TensorBoard does:
    a resume's copy that a crash left beside the files it was copied from counts once.
    """
    kept: list[Any] = []
    for f in paths:
        for ev in _read_events(f):
            if ev.HasField("session_log") and ev.session_log.status == ev.session_log.START:
                kept = [e for e in kept if e.step < ev.step]
            elif _before(ev, step, epoch):
                kept.append(ev)
    return kept


def _before(event: Any, step: int, epoch: int) -> bool:
    """True for a scalar logged before the checkpoint at (``step``, ``epoch``).

    ``step`` counts completed steps (step-indexed scalars carry the 0-based step index),
    ``epoch`` completed epochs. The resumed run writes its own hparams summary.
    """
    if not event.HasField("summary"):
        return False  # the file-version header; the new file has its own
    for value in event.summary.value:
        if value.metadata.plugin_data.plugin_name == "hparams" or value.tag.startswith("hparam/"):
            return False
        limit_ok = event.step < step if value.tag in STEP_TAGS else event.step <= epoch
        if not limit_ok:
            return False
    return True


class TensorBoardLogger:
    """A subscriber that writes each model's TensorBoard events into its run folder.

    Steps shown at ``log_every`` go to ``train/step_loss``; validations go to the
    ``train/*`` and ``val/*`` curves, thinned to about ``points`` per curve by
    :meth:`shows` (every event costs its framing and checksums, which on lab-sized models
    outweighs the step itself); the last validation always shows. The run's settings go to
    the HParams dashboard as its file opens, and its status and final metrics at the end.
    Events reach the file before every checkpoint (subscribe this before the run writer),
    so a killed run resumes with no gap.
    """

    def __init__(
        self,
        logdirs: list[Path],
        hparams: list[dict[str, Any]],
        task: str,
        epochs: int,
        log_every: int,
        points: int = 1000,
        keep_until: tuple[int, int] | None = None,
        validate_every: int = 1,
    ) -> None:
        self.logdirs, self.hparams_of = logdirs, hparams
        self.metric = "mae" if task == "regression" else "acc"
        self.epochs, self.log_every, self.validate_every = epochs, log_every, validate_every
        # Counted in validations. Every one when they fit; else about half the points go
        # evenly over the planned ones, the rest to the early ones (see shows): at most
        # about ``points`` in all.
        planned = epochs // validate_every
        self.every = 1 if planned <= points else max(1, 2 * planned // max(points, 1))
        self.early = max(1, points // 8)
        self.keep_until = keep_until
        self.writers: dict[int, EventWriter] = {}
        self.unshown: Any = None  # the last Validate, where the thinning left it out

    def __call__(self, event: Any) -> None:
        from mlplab.training.events import End, Save, Start, Step, Validate

        if isinstance(event, Start):
            pass  # files open at their first event, once the run writer has made the folder
        elif isinstance(event, Step):
            if self.log_every and event.step % self.log_every == 0:
                for k, loss in zip(event.ids, event.losses, strict=True):
                    self.writer(int(k)).scalar("train/step_loss", float(loss), event.step)
        elif isinstance(event, Validate):
            # A validation left out by the thinning is kept (a reference) until the next:
            # a run that stops there (patience, a prune) ends its curves with it.
            self.unshown = None if self.shows(event.epoch) else event
            if self.unshown is None:
                for k, data in zip(event.ids, self._curve_events(event), strict=True):
                    self.writer(int(k)).write(data)
        elif isinstance(event, Save):
            for k in event.ids:
                self.writer(int(k)).flush()
        elif isinstance(event, End):
            # The unshown validation's point of each model that ends with it, built once
            # for the stack. Not for an interrupted run: its resume goes on with the thinning.
            last = self.unshown
            points = (
                dict(zip(map(int, last.ids), self._curve_events(last), strict=True))
                if last is not None
                else {}
            )
            for j, k in enumerate(event.ids):
                w = self.writers.pop(int(k), None) or self.writer(int(k), keep=False)
                if int(k) in points and event.statuses[j] in ("finished", "pruned"):
                    w.write(points[int(k)])
                finals = {
                    f"hparam/{name}": v
                    for name, v in event.finals[j].items()
                    if isinstance(v, float) and math.isfinite(v)
                }
                w.session_end(finals, event.statuses[j], event.epoch)
                w.close()

    def _curve_events(self, event: Any) -> list[bytes]:
        """A Validate's curve points, one serialized event per model of ``event.ids``."""
        m = self.metric
        # The learning rate too: with a schedule it is what explains a curve's bends.
        tags = ("train/loss", f"train/{m}", "val/loss", f"val/{m}", "train/lr")
        columns = (event.train_loss, event.train_metric, event.val_loss, event.val_metric)
        values = np.column_stack((*columns, event.lr))
        return scalar_events(tags, values, event.epoch, time.time())

    def shows(self, epoch: int) -> bool:
        """Whether the curves get a point at the validation of ``epoch``: each of the first
        validations, then sparser by octaves (``early // 2`` points per doubling), never
        sparser than the planned run's ``points``; and the last. A run stopped long before
        its planned ``epoch`` (Ctrl-C on a huge one) keeps its early curve."""
        n = epoch // self.validate_every  # the n-th validation
        octave = 1 << (n // self.early).bit_length()
        return n % min(self.every, octave) == 0 or epoch == self.epochs

    def writer(self, k: int, keep: bool = True) -> EventWriter:
        """Model ``k``'s event file, opened at its first use."""
        w = self.writers.get(k)
        if w is None:
            w = EventWriter(self.logdirs[k], self.keep_until)
            w.session_start(self.hparams_of[k])
            if keep:
                self.writers[k] = w
        return w

    def close(self) -> None:
        """Close what an exception left open (the events so far stay on disk)."""
        for w in self.writers.values():
            with contextlib.suppress(Exception):
                w.close()
        self.writers.clear()
