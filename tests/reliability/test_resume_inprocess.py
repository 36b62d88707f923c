"""Stops at chosen steps (mid-epoch, at an epoch's last batch, during the results write),
second Ctrl-Cs, exceptions and resume edge cases, driven in-process so each lands exactly."""

from __future__ import annotations

import csv
import shlex
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from reliability_support import (
    assert_one_line,
    assert_same_run,
    call_main,
    read_json,
    run_dirs,
    scalars,
)
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util.tensor_util import make_ndarray

from mlplab import runner as run_mod
from mlplab.plots.recorder import FRAMES_DIR, SnapshotRecorder
from mlplab.runner import train
from mlplab.runs.checkpoint import load_checkpoint
from mlplab.runs.record import is_finished
from mlplab.training import metrics as metrics_mod
from mlplab.training.events import End, Step

# 800 training rows / 32 = 25 steps per epoch; 6 epochs = 150 steps.
KW = dict(
    data="moons",
    batch_size=32,
    dp_rate=0.2,
    optim="adam",
    epoch=6,
    save_every=1,
    log_every=1,  # every step reaches on_step, where the tests inject their faults
    plots="none",
    verbose=False,
)


@pytest.fixture(scope="module")
def refs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for engine in ("numpy", "torch"):
        res = train(log_path=str(tmp_path_factory.mktemp(f"ref-{engine}")), engine=engine, **KW)
        assert res.status == "finished"
        out[engine] = res.run_dir
    return out


def fault_at(monkeypatch, step: int, action) -> None:
    """Run ``action()`` in a subscriber, at the event of optimizer step ``step`` (0-based)."""
    original = run_mod.wire_subscribers

    def with_fault(*args, **kwargs):
        writer, tb, subs = original(*args, **kwargs)

        def fault(event):
            if isinstance(event, Step) and event.step == step:
                action()

        return writer, tb, [*subs, fault]

    monkeypatch.setattr(run_mod, "wire_subscribers", with_fault)


def resume(run_dir: Path):
    return train(resume=run_dir, verbose=False, handle_signals=True)


@pytest.mark.parametrize(
    ("engine", "step", "sig"),
    [
        ("numpy", 0, signal.SIGINT),  # the very first step
        ("numpy", 24, signal.SIGINT),  # an epoch's last batch: stops before the next epoch
        ("numpy", 37, signal.SIGINT),  # mid-epoch
        ("numpy", 101, signal.SIGTERM),
        ("torch", 24, signal.SIGINT),
        ("torch", 62, signal.SIGTERM),
    ],
)
def test_stop_at_step_then_resume_is_exact(refs, tmp_path, monkeypatch, engine, step, sig):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    fault_at(monkeypatch, step, lambda: signal.raise_signal(sig))
    res = train(log_path=str(tmp_path), engine=engine, handle_signals=True, **KW)
    monkeypatch.undo()
    assert {s: signal.getsignal(s) for s in before} == before  # handlers restored
    assert res.status == "interrupted" and res.exit_code == {2: 130, 15: 143}[int(sig)]
    r = read_json(res.run_dir / "result.json")
    assert r["steps"] == step + 1
    assert len(r["train_losses"]) == r["epochs_run"] == (step + 1) // 25
    assert (
        load_checkpoint(res.run_dir / "checkpoints" / "last.safetensors").meta["loop"][
            "batch_in_epoch"
        ]
        == (step + 1) % 25
    )
    assert resume(res.run_dir).status == "finished"
    assert_same_run(refs[engine], res.run_dir)


def test_ctrl_c_in_a_script_or_notebook_keeps_the_step_then_raises(refs, tmp_path, monkeypatch):
    """Without handle_signals, a Ctrl-C (a notebook's interrupt) came mid-step: the run kept
    only its last save_every checkpoint, or none, and its record said to start over."""
    term = signal.getsignal(signal.SIGTERM)
    during = []

    def ctrl_c():
        during.append(signal.getsignal(signal.SIGTERM))
        signal.raise_signal(signal.SIGINT)

    fault_at(monkeypatch, 37, ctrl_c)
    with pytest.raises(KeyboardInterrupt, match=r"stopped at step 38 with a checkpoint in "):
        train(log_path=str(tmp_path), engine="numpy", **KW)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert during == [term]  # SIGTERM is the script's own business
    (run_dir,) = run_dirs(tmp_path)
    assert read_json(run_dir / "result.json")["status"] == "interrupted"
    assert load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"] == 38
    again = train(log_path=str(tmp_path), engine="numpy", **KW)  # the same call continues
    assert again.status == "finished" and again.run_dir == run_dir
    assert_same_run(refs["numpy"], run_dir)


def test_ctrl_c_as_a_python_run_ends_keeps_it_finished_and_says_so(tmp_path, monkeypatch):
    original = run_mod.wire_subscribers

    def ctrl_c_at_the_end(*args, **kwargs):
        writer, tb, subs = original(*args, **kwargs)

        def fault(event):
            if isinstance(event, End):
                signal.raise_signal(signal.SIGINT)

        return writer, tb, [*subs, fault]

    monkeypatch.setattr(run_mod, "wire_subscribers", ctrl_c_at_the_end)
    with pytest.raises(KeyboardInterrupt, match="Ctrl-C came as the run ended: it finished"):
        train(log_path=str(tmp_path), engine="numpy", **{**KW, "epoch": 1})
    monkeypatch.undo()
    (run_dir,) = run_dirs(tmp_path)
    assert is_finished(run_dir)


def test_second_ctrl_c_stops_at_once_and_resumes_from_last_checkpoint(refs, tmp_path, monkeypatch):
    def twice():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # the handler raises KeyboardInterrupt now

    fault_at(monkeypatch, 37, twice)
    monkeypatch.setattr(run_mod, "SAME_STOP_S", 0.0)  # the second comes as a user's would
    with pytest.raises(KeyboardInterrupt):
        train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **KW)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    (run_dir,) = run_dirs(tmp_path)
    r = read_json(run_dir / "result.json")
    assert r["status"] == "interrupted" and "--resume" in r["error"]
    assert r["epochs_run"] == len(r["train_losses"]) == 1  # partial curves are kept
    assert load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"] == 25
    assert resume(run_dir).status == "finished"
    assert_same_run(refs["numpy"], run_dir)


def test_one_sigint_delivered_twice_is_one_stop_with_its_checkpoint(refs, tmp_path, monkeypatch):
    """`timeout -s INT` signals the process, then its group: the run got SIGINT twice
    within microseconds, took the second for a user's second Ctrl-C and stopped mid-step
    with no checkpoint, so the same command trained it again from the start."""

    def twice():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    fault_at(monkeypatch, 37, twice)
    result = train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **KW)
    monkeypatch.undo()
    assert result.status == "interrupted"
    (run_dir,) = run_dirs(tmp_path)
    assert load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"] == 38
    assert resume(run_dir).status == "finished"
    assert_same_run(refs["numpy"], run_dir)


def test_ctrl_c_in_library_use_records_interrupted(refs, tmp_path, monkeypatch):
    def ctrl_c():
        raise KeyboardInterrupt

    fault_at(monkeypatch, 80, ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        train(log_path=str(tmp_path), engine="numpy", **KW)  # no signal handlers
    monkeypatch.undo()
    (run_dir,) = run_dirs(tmp_path)
    r = read_json(run_dir / "result.json")
    assert r["status"] == "interrupted" and len(r["train_losses"]) == 3
    assert resume(run_dir).status == "finished"
    assert_same_run(refs["numpy"], run_dir)


def test_ctrl_c_while_results_are_written(refs, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(metrics_mod, "split_metrics", boom)  # as the finals are taken
    with pytest.raises(KeyboardInterrupt):
        train(log_path=str(tmp_path), engine="numpy", **KW)
    monkeypatch.undo()
    (run_dir,) = run_dirs(tmp_path)
    assert read_json(run_dir / "result.json")["status"] == "interrupted"
    assert not is_finished(run_dir)
    assert resume(run_dir).status == "finished"
    assert_same_run(refs["numpy"], run_dir)


def test_snapshots_taken_before_a_ctrl_c_are_in_the_resumed_runs_pictures(tmp_path, monkeypatch):
    """--snapshot_every frames live in memory until the run finishes: an interrupted run
    keeps those it took, and its resume ends with the uninterrupted run's frames."""
    kw = {**KW, "plots": "png", "snapshot_every": 10}  # 150 steps: 15 frames and the last
    ref = train(log_path=str(tmp_path / "ref"), engine="numpy", **kw)
    fault_at(monkeypatch, 64, lambda: signal.raise_signal(signal.SIGINT))
    cut = train(log_path=str(tmp_path / "cut"), engine="numpy", handle_signals=True, **kw)
    monkeypatch.undo()
    assert cut.status == "interrupted"
    assert resume(cut.run_dir).status == "finished"
    with np.load(ref.run_dir / "snapshots.npz") as a, np.load(cut.run_dir / "snapshots.npz") as b:
        assert a.files == b.files and list(a["steps"]) == [*range(0, 150, 10), 150]  # + the end
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_run_that_failed_resumes_with_the_frames_of_its_last_checkpoint(tmp_path):
    """A run that ends without an End event (a crash, kill -9, a subscriber that raises)
    kept no frames: they lived in memory until the run ended, and its resume drew a film
    from its checkpoint on. Each checkpoint now keeps them, and the failed run continues
    from its last one with the frames an uninterrupted run has."""
    kw = {**KW, "plots": "png", "snapshot_every": 10, "save_every": 2}
    ref = train(log_path=str(tmp_path / "ref"), engine="numpy", **kw)
    saves = []

    def crash_after_the_second_save(event):
        saves.append(type(event).__name__ == "Save")
        if sum(saves) == 2 and type(event).__name__ == "Validate":
            raise RuntimeError("the machine went away")

    log = str(tmp_path / "cut")
    with pytest.raises(RuntimeError):
        train(log_path=log, engine="numpy", subscribers=[crash_after_the_second_save], **kw)
    (run_dir,) = run_dirs(Path(log))
    assert read_json(run_dir / "result.json")["status"] == "failed"
    assert not (run_dir / "snapshots.npz").exists()  # snapshots.npz: a finished run
    kept = SnapshotRecorder.of_run(run_dir)
    assert kept.steps == list(range(0, 101, 10))  # to the checkpoint at step 100
    again = train(log_path=log, engine="numpy", **kw)
    assert again.status == "finished" and again.run_dir == run_dir
    with np.load(ref.run_dir / "snapshots.npz") as a, np.load(run_dir / "snapshots.npz") as b:
        assert list(a["steps"]) == list(b["steps"])
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert_same_run(ref.run_dir, run_dir)


def test_the_frames_reach_the_disk_before_each_checkpoint(tmp_path, monkeypatch):
    """A kill between a checkpoint and the frames written after it left the checkpoint
    without its frames (the first, without any): the frames now go first."""
    from mlplab.runs.writer import RunWriter

    seen = []
    save = RunWriter._save

    def checked(self, k, models, which, state=None):
        if which == "last":
            step = models.loop_state(k, curves=False).step
            seen.append((step, SnapshotRecorder.of_run(self.models[k].record.dir).steps[-1]))
        return save(self, k, models, which, state)

    monkeypatch.setattr(RunWriter, "_save", checked)
    kw = {**KW, "plots": "png", "snapshot_every": 10, "save_every": 2}
    train(log_path=str(tmp_path), engine="numpy", **kw)
    # Every periodic checkpoint (steps 50, 100, 150) finds its frames on disk; the last
    # (the run's end) finds the film that the finished run keeps.
    assert [s for s, _ in seen[:3]] == [50, 100, 150]
    assert all(kept == step for step, kept in seen[:3])


def written_at_each_save(run_dir_of, seen):
    """A subscriber that notes, at each Save, the snapshot files written since the one
    before (new, or replaced: a rename gives another inode and time) and their bytes."""
    before: dict[str, tuple[int, int, int]] = {}

    def note(event):
        if type(event).__name__ != "Save":
            return
        files = [p for p in run_dir_of().rglob("snapshot*") if p.is_file()]
        files += list((run_dir_of() / FRAMES_DIR).glob("*"))
        now = {str(p): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size) for p in files}
        seen.append(sum(key[2] for name, key in now.items() if before.get(name) != key))
        before.update(now)

    return note


def test_each_checkpoint_writes_only_its_new_frames(tmp_path):
    """A checkpoint wrote every frame so far, and the bytes written grew with the square
    of the steps: each now writes the frames since the one before, in a file of their
    own, so the bytes written are those of the frames once; the finished run keeps the
    frames its pictures show, in place of them."""
    kw = {**KW, "plots": "png", "snapshot_every": 1, "save_every": 1}  # a frame a step
    written: list[int] = []
    note = written_at_each_save(lambda: run_dirs(tmp_path)[0], written)
    res = train(log_path=str(tmp_path), engine="numpy", subscribers=[note], **kw)
    assert res.status == "finished" and len(written) == 6  # a save per epoch
    frame = 80 * 80 * 4  # float32 on the default grid
    # 25 frames a save (the first also the model before training, and the head)
    assert all(25 * frame < w < 26 * frame for w in written[1:]), written
    assert written[0] < 26 * frame + 200_000
    assert sum(written) < 152 * frame + 200_000  # each frame once, not at each save
    assert not (res.run_dir / FRAMES_DIR).exists()
    assert SnapshotRecorder.load(res.run_dir / "snapshots.npz").steps[-1] == 150


def test_a_resume_removes_the_frames_written_past_its_checkpoint(tmp_path, monkeypatch):
    """A kill between a save's frames and its checkpoint: the resume continues from the
    checkpoint before, and the frames past it are taken again, not kept twice."""
    from mlplab.runs.writer import RunWriter

    kw = {**KW, "plots": "png", "snapshot_every": 10, "save_every": 2}
    ref = train(log_path=str(tmp_path / "ref"), engine="numpy", **kw)
    save = RunWriter._save

    def killed_at_step_100(self, k, models, which, state=None):
        if models.loop_state(k, curves=False).step == 100:
            raise RuntimeError("killed")
        return save(self, k, models, which, state)

    monkeypatch.setattr(RunWriter, "_save", killed_at_step_100)
    log = str(tmp_path / "cut")
    with pytest.raises(RuntimeError):
        train(log_path=log, engine="numpy", **kw)
    monkeypatch.undo()
    (run_dir,) = run_dirs(Path(log))
    assert SnapshotRecorder.of_run(run_dir).steps == list(range(0, 101, 10))
    assert load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"] == 50
    assert train(log_path=log, engine="numpy", **kw).status == "finished"
    with np.load(ref.run_dir / "snapshots.npz") as a, np.load(run_dir / "snapshots.npz") as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert_same_run(ref.run_dir, run_dir)


def failed_after_the_second_save(log: str, kw: dict) -> Path:
    """A run of ``kw`` that failed after its checkpoint at step 100; its folder."""
    saves = []

    def crash(event):
        saves.append(type(event).__name__ == "Save")
        if sum(saves) == 2 and type(event).__name__ == "Validate":
            raise RuntimeError("the machine went away")

    with pytest.raises(RuntimeError):
        train(log_path=log, engine="numpy", subscribers=[crash], **kw)
    (run_dir,) = run_dirs(Path(log))
    return run_dir


def test_a_run_interrupted_with_every_frame_in_one_file_resumes_with_them(tmp_path):
    """Runs interrupted before the frames had a folder kept every frame so far in
    snapshots.npz: their resume takes them back."""
    kw = {**KW, "plots": "png", "snapshot_every": 10, "save_every": 2}
    ref = train(log_path=str(tmp_path / "ref"), engine="numpy", **kw)
    log = str(tmp_path / "cut")
    run_dir = failed_after_the_second_save(log, kw)
    rec = SnapshotRecorder.of_run(run_dir)
    frames = np.stack(list(rec.each_frame()))
    np.savez(run_dir / "snapshots.npz", steps=rec.steps, frames=frames, **rec.shared())
    shutil.rmtree(run_dir / FRAMES_DIR)
    assert train(log_path=log, engine="numpy", **kw).status == "finished"
    with np.load(ref.run_dir / "snapshots.npz") as a, np.load(run_dir / "snapshots.npz") as b:
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_damaged_frames_are_one_warning_and_the_run_goes_on(tmp_path):
    kw = {**KW, "plots": "png", "snapshot_every": 10, "save_every": 2}
    log = str(tmp_path / "cut")
    run_dir = failed_after_the_second_save(log, kw)
    (run_dir / FRAMES_DIR / "00000006.npz").write_text("not frames")
    with pytest.warns(RuntimeWarning, match="damaged.*starts again after step 100") as caught:
        res = train(log_path=log, engine="numpy", **kw)
    assert res.status == "finished" and len(caught) == 1
    assert SnapshotRecorder.load(run_dir / "snapshots.npz").steps == [110, 120, 130, 140, 150]


def test_ctrl_c_after_the_finished_record_keeps_it_finished(refs, tmp_path):
    """A Ctrl-C in a subscriber after the run's End (the plots are drawn then) lands after
    result.json says finished: the finished record stays, as the uninterrupted run's."""

    def ctrl_c_at_end(event):
        if isinstance(event, End):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(log_path=str(tmp_path), engine="numpy", subscribers=[ctrl_c_at_end], **KW)
    (run_dir,) = run_dirs(tmp_path)
    assert is_finished(run_dir)
    assert "error" not in read_json(run_dir / "result.json")
    assert_same_run(refs["numpy"], run_dir)


def test_an_error_inside_the_run_is_recorded_as_failed(refs, tmp_path, monkeypatch):
    def fail():
        raise RuntimeError("hook failed")

    fault_at(monkeypatch, 60, fail)
    with pytest.raises(RuntimeError, match="hook failed"):
        train(log_path=str(tmp_path), engine="numpy", **KW)
    monkeypatch.undo()
    (run_dir,) = run_dirs(tmp_path)
    r = read_json(run_dir / "result.json")
    assert r["status"] == "failed" and r["error"] == "RuntimeError: hook failed"
    assert len(r["train_losses"]) == 2
    assert resume(run_dir).status == "finished"  # a failed run can be resumed
    assert_same_run(refs["numpy"], run_dir)


def test_resume_without_a_checkpoint_starts_again(refs, tmp_path):
    """A run killed before its first checkpoint: --resume trains it from the start."""
    run_dir = tmp_path / "exp" / refs["numpy"].name
    shutil.copytree(refs["numpy"], run_dir)
    shutil.rmtree(run_dir / "checkpoints")
    (run_dir / "result.json").write_text('{"status": "running"}')
    assert resume(run_dir).status == "finished"
    assert_same_run(refs["numpy"], run_dir)


def test_resume_says_where_the_run_goes_on_from(refs, tmp_path, monkeypatch, capsys):
    """`--resume RUN` printed only the start line; the same command again names the step
    it continues from, and so does --resume now."""
    fault_at(monkeypatch, 37, lambda: signal.raise_signal(signal.SIGINT))
    run_dir = train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **KW).run_dir
    monkeypatch.undo()
    step = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"]
    capsys.readouterr()
    assert call_main(["train", "--resume", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"mlplab: the interrupted run in {run_dir} continues from its checkpoint at step {step}\n"
    )
    assert_same_run(refs["numpy"], run_dir)


def test_resume_with_settings_of_watching_names_the_command_that_takes_them(
    refs, tmp_path, monkeypatch, capsys
):
    """`--resume RUN --plots none` was refused, with no way named to continue the run
    without its plots: its own config.yaml with them continues it (they are no part of a
    run's identity)."""

    fault_at(monkeypatch, 37, lambda: signal.raise_signal(signal.SIGINT))
    run_dir = train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **KW).run_dir
    monkeypatch.undo()
    capsys.readouterr()
    rc = call_main(["train", "--resume", str(run_dir), "--log_every", "0"])
    line = assert_one_line(rc, capsys.readouterr().err, "(got --log_every)")
    command = line.split("`")[1]
    assert command == (f"mlplab train {run_dir}/config.yaml --log_path {tmp_path} --log_every 0")
    step = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"]
    assert call_main(shlex.split(command)[1:]) == 0
    out = capsys.readouterr().out
    assert f"interrupted run; it continues from its checkpoint at step {step} " in out
    ref, got = read_json(refs["numpy"] / "result.json"), read_json(run_dir / "result.json")
    assert got["log_every"] == 0 and got["status"] == "finished"
    for key in ("train_losses", "val_losses", "test_acc", "test_loss", "steps"):
        assert got[key] == ref[key], key  # the run the interruption cut, to the bit
    # Where a run is written is no such setting: another log_path is another run.
    rc = call_main(["train", "--resume", str(run_dir), "--log_path", str(tmp_path / "x")])
    assert "give them with its config" not in assert_one_line(rc, capsys.readouterr().err)


def test_resume_refuses_finished_and_diverged_runs(refs, tmp_path, capsys):
    rc = call_main(["train", "--resume", str(refs["numpy"])])
    line = assert_one_line(rc, capsys.readouterr().err, "already finished")
    # And what trains it again (its config's data path is as written where it trained).
    assert line.endswith("(the command that trained it, with --rerun, trains it again)")
    run_dir = tmp_path / "run"
    shutil.copytree(refs["numpy"], run_dir)
    r = read_json(run_dir / "result.json")
    (run_dir / "result.json").write_text(f'{{"status": "diverged", "lr": {r["lr"]}}}')
    rc = call_main(["train", "--resume", str(run_dir)])
    assert_one_line(rc, capsys.readouterr().err, "diverged", "lower lr")


@pytest.mark.parametrize("what", ["missing", "no_config", "extra_flag"])
def test_resume_bad_targets_are_one_line_errors(refs, tmp_path, capsys, what):
    args = ["train", "--resume", str(tmp_path / "nowhere")]
    if what == "no_config":
        args = ["train", "--resume", str(tmp_path)]
    elif what == "extra_flag":
        args = ["train", "--resume", str(refs["numpy"]), "--lr", "0.1"]
    rc = call_main(args)
    assert_one_line(rc, capsys.readouterr().err, "resume")


def test_tensorboard_has_no_duplicates_after_resume(refs, tmp_path, monkeypatch):
    fault_at(monkeypatch, 70, lambda: signal.raise_signal(signal.SIGINT))
    res = train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **KW)
    monkeypatch.undo()
    before = scalars(res.run_dir)
    assert max(s for s, _ in before["train/step_loss"]) == 70
    # A `tensorboard --logdir --load_fast=false` left running across the resume: it
    # had waited on the removed file for good, and never showed the resumed steps.
    live = plugin_event_accumulator.EventAccumulator(str(res.run_dir), {"tensors": 0})
    live.Reload()
    resume(res.run_dir)
    after = scalars(res.run_dir)
    steps = [s for s, _ in after["train/step_loss"]]
    assert steps == list(range(150))  # each step once, in order
    assert [s for s, _ in after["val/loss"]] == list(range(1, 7))
    live.Reload()
    assert [e.step for e in live.Tensors("train/step_loss")] == list(range(150))
    shown = {e.step: float(make_ndarray(e.tensor_proto)) for e in live.Tensors("val/loss")}
    rows = list(csv.DictReader((res.run_dir / "metrics.csv").read_text().splitlines()))
    assert shown == pytest.approx({int(r["epoch"]): float(r["val_loss"]) for r in rows})
    # The first attempt's file is emptied, not removed (the live reader holds its name).
    files = [p for p in res.run_dir.glob("events.out.tfevents.*") if p.stat().st_size]
    assert len(files) == 1


def test_adam_of_a_larger_model_resumes_exactly(tmp_path, monkeypatch):
    # A model past the lab sizes (66k parameters, multi-threaded on the torch engine): its
    # Adam state must carry over a stop as exactly as a tiny model's does.
    kw = {**KW, "hid_dims": "512-128", "dp_rate": 0.0, "epoch": 3}
    ref = train(log_path=str(tmp_path / "ref"), engine="torch", **kw)
    assert ref.record["n_params"] >= 65_536
    fault_at(monkeypatch, 40, lambda: signal.raise_signal(signal.SIGINT))
    res = train(log_path=str(tmp_path / "cut"), engine="torch", handle_signals=True, **kw)
    monkeypatch.undo()
    assert res.status == "interrupted"
    assert resume(res.run_dir).status == "finished"
    assert_same_run(ref.run_dir, res.run_dir)


def test_a_stop_mid_epoch_keeps_best_apart_from_last(refs, tmp_path, monkeypatch):
    # Stopped mid-epoch right after a best epoch, `last` holds a model some steps further
    # on than `best`; the two files must not be one (a hard link) then.
    from mlplab.runs.checkpoint import load_checkpoint

    fault_at(monkeypatch, 30, lambda: signal.raise_signal(signal.SIGINT))
    kw = {**KW, "dp_rate": 0.0}
    res = train(log_path=str(tmp_path), engine="numpy", handle_signals=True, **kw)
    monkeypatch.undo()
    assert res.status == "interrupted"
    ck = res.run_dir / "checkpoints"
    last, best = load_checkpoint(ck / "last.safetensors"), load_checkpoint(ck / "best.safetensors")
    assert (
        last.meta["loop"]["batch_in_epoch"] == 6 and (ck / "best.safetensors").stat().st_nlink == 1
    )
    assert any((last.model[k] != best.model[k]).any() for k in last.model)


def test_resume_refuses_settings_beside_it(tmp_path: Path) -> None:
    """train(resume=dir, lr=...) had ended with the run's own lr and epoch, the lr given
    dropped without a word; the command line already refused --resume with settings."""
    from mlplab.errors import ConfigError

    res = train(log_path=str(tmp_path), data="xor", epoch=3, plots="none", verbose=False)
    before = read_json(res.run_dir / "result.json")
    for extra, named in (
        ({"lr": 0.01, "epoch": 5}, "lr=0.01, epoch=5"),
        ({"record": False}, "record=False"),
        ({"config": {"data": "xor"}}, "config"),
        ({"rerun": True}, "rerun=True"),
    ):
        with pytest.raises(ConfigError, match="resume= continues a run with its own config") as e:
            train(resume=res.run_dir, verbose=False, **extra)
        assert named in str(e.value)
    assert read_json(res.run_dir / "result.json") == before  # nothing trained or written
