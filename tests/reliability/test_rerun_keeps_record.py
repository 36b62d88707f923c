"""Training a config whose run has finished never loses that run's files.

Without ``--rerun`` the finished run is kept, byte for byte, and one line says where it
is and how to replace it. With ``--rerun`` the new run trains beside it and replaces the
folder whole only once it has finished: a rerun stopped by Ctrl-C leaves the finished
run exactly as it was, and no hidden folder behind.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import ENV, MLPLAB, cli, read_json

from mlplab import train

# A run that keeps snapshots and draws the boundary's evolution: the files a rerun with
# `--plots none` used to delete.
QUICK = (
    *("--data", "xor", "--n_layer", "1", "--hid_dim", "4", "--act", "tanh"),
    *("--optim", "sgd", "--lr", "1", "--epoch", "200", "--snapshot_every", "20"),
    *("--log_every", "0", "--exp_name", "keep"),
)


# A small data file; the tests that edit it change ten of its labels.
TABLE = "a,b,y\n" + "".join(f"{i % 7},{i % 5},{'yes' if i % 7 > 3 else 'no'}\n" for i in range(60))


def files_of(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run folder, by relative path, with its bytes."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def hidden_left(log: Path) -> list[Path]:
    return [p for p in (log / "keep").iterdir() if p.name.startswith(".") and p.is_dir()]


def test_a_finished_run_is_kept_and_reported_in_one_line(tmp_path: Path) -> None:
    first = cli("train", *QUICK, "--log_path", tmp_path)
    assert first.returncode == 0, first.stderr
    (run_dir,) = [p.parent for p in tmp_path.glob("keep/*/result.json")]
    before = files_of(run_dir)
    assert "snapshots.npz" in before and any("boundary_evolution" in f for f in before)

    # The same config again, once as it was and once with --plots none (not in the hash).
    for extra in ((), ("--plots", "none")):
        again = cli("train", *QUICK, *extra, "--log_path", tmp_path)
        assert again.returncode == 0, again.stderr
        lines = again.stdout.splitlines()
        assert len(lines) == 1, again.stdout
        assert str(run_dir) in lines[0] and "--rerun" in lines[0] and "kept" in lines[0]
        assert files_of(run_dir) == before
        # A setting that changes only what a new run leaves behind is named as not applied.
        assert ("without --plots none" in lines[0]) == (extra != ())
    # Left out, it is not named by its default: the call asked for no --snapshot_every 0.
    quiet = [a for a in QUICK if a not in ("--snapshot_every", "20")]
    again = cli("train", *quiet, "--log_path", tmp_path)
    assert again.returncode == 0 and "kept" in again.stdout and "without" not in again.stdout
    assert files_of(run_dir) == before


def test_a_kept_run_without_its_plots_says_how_to_draw_them(tmp_path: Path) -> None:
    """Plots are drawn after the record: a run killed meanwhile is finished without them,
    and keeping it must not hide that."""
    first = cli("train", *QUICK, "--log_path", tmp_path)
    assert first.returncode == 0, first.stderr
    (result,) = tmp_path.glob("keep/*/result.json")
    assert "plot_files" in read_json(result)
    again = cli("train", *QUICK, "--log_path", tmp_path)
    assert "were not drawn" not in again.stdout
    record = read_json(result)
    del record["plot_files"]  # as a SIGKILL between the record and its plots leaves it
    result.write_text(json.dumps(record))
    shutil.rmtree(result.parent / "plots")
    again = cli("train", *QUICK, "--log_path", tmp_path)
    (line,) = again.stdout.splitlines()
    assert f"its plots were not drawn: `mlplab plot {result.parent}` draws them" in line, line
    redraw = cli("plot", result.parent)
    assert redraw.returncode == 0, redraw.stderr
    assert any(p.suffix == ".png" for p in (result.parent / "plots").iterdir())


def test_plots_that_fail_after_the_record_leave_the_run_finished_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk or too few open files while the plots drew: a finished run, whose record
    was whole, exited 1 with "the run stopped"; and a plot that failed was recorded as
    drawn, so the run trained again never said it was missing."""
    import mlplab
    import mlplab.plots.run_plots as run_plots
    from mlplab.runs.record import RunRecord

    real_save = run_plots.save_figure

    def full_for_loss(fig, path, fmt):
        if path.name.startswith("loss"):
            raise OSError(28, "No space left on device", str(path))
        return real_save(fig, path, fmt)

    monkeypatch.setattr(run_plots, "save_figure", full_for_loss)
    kw = dict(data="moons", n_samples=100, epoch=5, log_every=0, log_path=str(tmp_path))
    with pytest.warns(RuntimeWarning, match="plot loss.png failed"):
        run = mlplab.train(**kw, verbose=False)
    assert run.status == "finished" and run.exit_code == 0
    record = read_json(run.run_dir / "result.json")
    assert record["plots_failed"] == ["loss.png"] and "loss.png" not in record["plot_files"]
    monkeypatch.setattr(run_plots, "save_figure", real_save)
    again = cli("train", "--data", "moons", "--n_samples", "100", "--epoch", "5",
                "--log_every", "0", "--log_path", tmp_path)  # fmt: skip
    assert f"loss.png could not be drawn: `mlplab plot {run.run_dir}` draws it" in again.stdout
    assert cli("plot", run.run_dir).returncode == 0
    again = cli("train", "--data", "moons", "--n_samples", "100", "--epoch", "5",
                "--log_every", "0", "--log_path", tmp_path)  # fmt: skip
    assert "could not be drawn" not in again.stdout and "kept" in again.stdout
    # The names of the plots cannot be written into result.json: the run stays finished.
    real_write = RunRecord.write_result

    def no_room_for_names(self, result):
        if "plot_files" in result:
            raise OSError(28, "No space left on device")
        return real_write(self, result)

    monkeypatch.setattr(RunRecord, "write_result", no_room_for_names)
    with pytest.warns(RuntimeWarning, match="names of the plots could not be added"):
        run = mlplab.train(**kw, seed=1, verbose=False)
    assert run.status == "finished" and run.exit_code == 0
    assert read_json(run.run_dir / "result.json")["status"] == "finished"


def test_a_finished_run_whose_model_does_not_load_is_one_line_not_two(tmp_path: Path) -> None:
    """It is not said to be kept first and refused after: one line, exit 2, files as they were."""
    first = cli("train", *QUICK, "--plots", "none", "--log_path", tmp_path)
    assert first.returncode == 0, first.stderr
    (run_dir,) = [p.parent for p in tmp_path.glob("keep/*/result.json")]
    last = run_dir / "checkpoints" / "last.safetensors"
    last.write_bytes(last.read_bytes()[:100])
    before = files_of(run_dir)
    again = cli("train", *QUICK, "--plots", "none", "--log_path", tmp_path)
    assert again.returncode == 2 and again.stdout == "", again.stdout
    (line,) = again.stderr.splitlines()
    assert "finished run, but its model does not load" in line and "--rerun" in line
    assert files_of(run_dir) == before


def _refused_after_an_edit(data: Path, args: tuple[object, ...]) -> str:
    """Change ten labels of ``data`` (the same classes, other rows), run ``args`` again:
    its one line, which must name --rerun (exit 2, nothing on stdout)."""
    data.write_text(TABLE.replace("no", "yes", 10))
    changed = cli(*args)
    assert changed.returncode == 2 and changed.stdout == "", changed.stdout
    (line,) = changed.stderr.splitlines()
    assert "--rerun" in line
    return line


def _trained_on_table(tmp_path: Path) -> tuple[Path, tuple[object, ...], Path, dict[str, bytes]]:
    """A run of TABLE as a file: its path, the train command's arguments, the run folder,
    and its files' bytes."""
    data = tmp_path / "d.csv"
    data.write_text(TABLE)
    args = ("train", "--data", data, "--epoch", "3", "--plots", "none", "--log_path", tmp_path)
    assert cli(*args).returncode == 0
    (run_dir,) = [p.parent for p in tmp_path.glob("exp/*/result.json")]
    return data, args, run_dir, files_of(run_dir)


def test_a_finished_run_of_a_data_file_changed_since_is_not_passed_off(tmp_path: Path) -> None:
    """The run's identity names the file, not its rows: training again after the file
    changed returned the old run's record (test_acc 1.0) beside the new rows."""
    data, args, run_dir, before = _trained_on_table(tmp_path)
    again = cli(*args)  # the same rows: kept, as before
    assert again.returncode == 0 and "kept" in again.stdout, again.stdout
    line = _refused_after_an_edit(data, args)
    assert f"data file '{data}' has changed since {run_dir} trained on it" in line
    assert files_of(run_dir) == before
    # Pictures of the rows would be of other rows: plot draws only the record's curves
    # and the weights, elsewhere, and says why.
    plotted = cli("plot", run_dir, "--out", tmp_path / "pictures")
    assert plotted.returncode == 0, plotted.stderr
    (note,) = plotted.stderr.splitlines()
    assert note.startswith("mlplab: plot drew only the pictures that need no data rows: ")
    assert "has changed since" in note and "(its rows differ); put back the file" in note
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == ["loss.png"]
    assert files_of(run_dir) == before
    # In Python, load_run gives the model with the file's rows as they are now, and says
    # so (it said nothing, and a metric taken on its splits passed for the record's).
    import warnings

    import mlplab
    from mlplab.errors import DataChangedWarning

    with pytest.warns(DataChangedWarning, match=r"\(its rows differ\): the model is the run's"):
        mlplab.load_run(run_dir)
    data.write_text(TABLE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlplab.load_run(run_dir)  # the file it trained on: no word
    data.write_text(TABLE.replace("no", "yes", 10))
    rerun = cli(*args, "--rerun")
    assert rerun.returncode == 0, rerun.stderr
    assert files_of(run_dir)["metrics.csv"] != before["metrics.csv"]


def test_a_changed_value_past_float32_is_told_as_a_changed_file_not_a_damaged_model(
    tmp_path: Path,
) -> None:
    """A value past float32 (1e300) put into the file since: the finished run's "model does
    not load", it said, quoting a value in no file (the new value through the old run's
    scaler), where any other edit is told as a changed file."""
    data, args, run_dir, before = _trained_on_table(tmp_path)
    lines = TABLE.splitlines()
    lines[5] = "1e300," + lines[5].split(",", 1)[1]
    data.write_text("\n".join(lines) + "\n")
    changed = cli(*args)
    assert changed.returncode == 2 and changed.stdout == "", changed.stdout
    (line,) = changed.stderr.splitlines()
    assert f"data file '{data}' has changed since {run_dir} trained on it" in line, line
    assert "does not load" not in line and "--rerun" in line
    assert files_of(run_dir) == before


def test_a_sweep_does_not_skip_finished_runs_of_a_data_file_changed_since(
    tmp_path: Path,
) -> None:
    """As `mlplab train`: the sweep had skipped such runs as finished and reported their
    old numbers beside the file's new rows."""
    data = tmp_path / "d.csv"
    data.write_text(TABLE)
    args = ("sweep", "--data", data, "--lr", "0.1", "0.2", "--epoch", "3", "--plots", "none")
    args += ("--workers", "1", "--no_report", "--log_path", tmp_path)
    assert cli(*args).returncode == 0
    run_dirs = sorted(p.parent for p in tmp_path.glob("exp/*/result.json"))
    before = {d: files_of(d) for d in run_dirs}
    again = cli(*args)  # the same rows: both skipped, as before
    assert again.returncode == 0 and "2 skipped" in again.stdout, again.stdout
    line = _refused_after_an_edit(data, args)
    assert f"data file '{data}' has changed since 2 finished runs of this sweep" in line
    assert {d: files_of(d) for d in run_dirs} == before
    rerun = cli(*args, "--rerun")
    assert rerun.returncode == 0, rerun.stderr
    assert all(files_of(d)["metrics.csv"] != before[d]["metrics.csv"] for d in run_dirs)


def test_rerun_replaces_the_folder_whole_once_finished(tmp_path: Path) -> None:
    assert cli("train", *QUICK, "--log_path", tmp_path).returncode == 0
    (run_dir,) = [p.parent for p in tmp_path.glob("keep/*/result.json")]
    (run_dir / "stale.txt").write_text("from the first run")
    started = read_json(run_dir / "result.json")

    proc = cli("train", *QUICK, "--plots", "none", "--rerun", "--log_path", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "replaced" in proc.stdout
    after = read_json(run_dir / "result.json")
    assert after["status"] == "finished"
    assert after["wall_time_s"] != started["wall_time_s"]  # a new record, not the old one
    assert not (run_dir / "stale.txt").exists()  # replaced whole, not merged
    assert not (run_dir / "plots").exists()  # the new run's own choice: no plots
    assert (run_dir / "checkpoints" / "last.safetensors").is_file()
    assert hidden_left(tmp_path) == []


def start(log: Path, *extra: str) -> subprocess.Popen[str]:
    """A real ``mlplab train`` of a run far too long to finish within the test."""
    args = [a if a != "200" else "2000000" for a in QUICK if a != "--snapshot_every"]
    args.remove("20")
    return subprocess.Popen(
        [*MLPLAB, "train", *args, "--save_every", "1", "--log_path", str(log), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def stop_when(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> tuple[str, str]:
    """Send SIGINT once ``ready()`` holds (or after 120 s); the process's output."""
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not ready():
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=120)
    finally:
        proc.kill()


def test_an_interrupted_rerun_leaves_the_finished_run_as_it_was(tmp_path: Path) -> None:
    # A long run's record, marked finished as if it had run to its end.
    stop_when(start(tmp_path), lambda: any(tmp_path.glob("keep/*/checkpoints/last.safetensors")))
    (run_dir,) = [p.parent for p in tmp_path.glob("keep/*/result.json")]
    result = read_json(run_dir / "result.json")
    (run_dir / "result.json").write_text(json.dumps({**result, "status": "finished"}))
    before = files_of(run_dir)

    rerun = start(tmp_path, "--rerun")
    out, err = stop_when(
        rerun,
        lambda: any(
            (p / "checkpoints" / "last.safetensors").is_file() for p in hidden_left(tmp_path)
        ),
    )
    assert rerun.returncode == -signal.SIGINT, err
    assert "kept unchanged" in out, out
    assert "--resume" not in out + err  # nothing is left to resume from
    assert files_of(run_dir) == before
    assert hidden_left(tmp_path) == []


def test_a_rerun_on_a_full_disk_says_the_finished_run_is_kept_not_that_it_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line named the rerun's hidden folder, gone by then, and said the same command
    would continue the run from its checkpoint: a rerun that fails is removed."""
    import errno

    from mlplab.cli import main
    from mlplab.runs import checkpoint

    args = ["train", "--data", "moons", "--n_samples", "100", "--epoch", "4", "--save_every",
            "1", "--log_every", "0", "--plots", "none", "--log_path", str(tmp_path),
            "--exp_name", "keep"]  # fmt: skip
    assert main(args) == 0
    (run_dir,) = [p.parent for p in tmp_path.glob("keep/*/result.json")]
    before = files_of(run_dir)

    def full(path, write, durable=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_write_stream", full)
    capsys.readouterr()
    assert main([*args, "--rerun"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"mlplab: No space left on device (writing the rerun in {str(run_dir.parent)!r}); the "
        "rerun stopped and was removed, and the finished run it was to replace is kept as it "
        "was; once that is mended, the same command trains it again"
    )
    assert files_of(run_dir) == before and hidden_left(tmp_path) == []


def test_a_killed_reruns_folder_goes_at_the_next_train_of_its_config(tmp_path: Path) -> None:
    """`kill -9` of a --rerun left its hidden folder until the next --rerun: a plain
    train of the config, which keeps the finished run, now removes it; a live rerun's
    folder stays."""
    kw = dict(data="xor", hid_dim=4, act="tanh", lr=1.0, epoch=20, log_every=0)
    kw.update(plots="none", verbose=False, log_path=str(tmp_path))
    run_dir = train(**kw).run_dir
    ended = subprocess.Popen(["true"])
    ended.wait()  # its pid names a process that is gone, as a killed rerun's does
    dead = run_dir.parent / f".{run_dir.name}.{ended.pid}.rerun"
    live = run_dir.parent / f".{run_dir.name}.1.rerun"  # init: alive
    for scratch in (dead, live):
        (scratch / "checkpoints").mkdir(parents=True)
    assert train(**kw).kept
    assert not dead.exists() and live.is_dir()


def test_python_api_keeps_a_finished_run_unless_rerun(tmp_path: Path) -> None:
    kw = dict(data="xor", hid_dim=4, act="tanh", lr=1.0, epoch=100, log_every=0)
    kw.update(plots="none", verbose=False, log_path=str(tmp_path))
    first = train(**kw)
    assert not first.kept
    record = (first.run_dir / "result.json").read_bytes()
    again = train(**kw)
    assert again.kept and again.run_dir == first.run_dir
    assert (first.run_dir / "result.json").read_bytes() == record
    assert again.record["test_acc"] == first.record["test_acc"]
    assert again.curves["train_losses"] == first.curves["train_losses"]
    x = first.dataset.X_test
    assert (again.predict(x) == first.predict(x)).all()  # the kept model, loaded

    fresh = train(**kw, rerun=True)
    assert not fresh.kept and fresh.status == "finished"
    assert (first.run_dir / "result.json").read_bytes() != record


def test_a_sweep_rerun_replaces_a_finished_run_only_once_finished(tmp_path: Path) -> None:
    """The batched trainer (sweeps, ``--rerun``) keeps the same promise as ``mlplab train``."""
    from mlplab.stacks import train_batched

    cfgs = [
        dict(data="xor", hid_dim=4, act="tanh", lr=1.0, epoch=50, seed=s, log_every=0)
        | dict(plots="none", exp_name="keep", log_path=str(tmp_path), save_every=1)
        for s in (0, 1)
    ]
    first = train_batched(cfgs)
    assert [r["status"] for r in first if r] == ["finished", "finished"]
    run_dirs = [tmp_path / "keep" / r["run_id"] for r in first if r]
    before = [files_of(d) for d in run_dirs]

    polls = [0]

    def stop_after_10_steps() -> bool:
        polls[0] += 1
        return polls[0] > 12  # a few polls between groups, then 10 steps

    stopped = train_batched(cfgs, should_stop=stop_after_10_steps)
    assert [r["status"] for r in stopped if r] == ["interrupted", "interrupted"]
    assert all("kept unchanged" in r["message"] for r in stopped if r)
    assert [files_of(d) for d in run_dirs] == before
    assert hidden_left(tmp_path) == []

    again = train_batched(cfgs)
    assert [r["status"] for r in again if r] == ["finished", "finished"]
    assert [files_of(d) for d in run_dirs] != before  # new records, in the same folders
    assert all(read_json(d / "result.json")["status"] == "finished" for d in run_dirs)
    assert hidden_left(tmp_path) == []


def test_an_ascii_terminal_prints_the_tables_and_a_rerun_keeps_its_new_run(tmp_path: Path) -> None:
    """On a stream whose encoding is ASCII (a C locale without UTF-8), the closing table's
    ─ and ± were a traceback after the run had trained, and --rerun then threw the
    finished new run away."""
    env = {**ENV, "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    args = [*MLPLAB, "train", "--data", "xor", "--epoch", "3", "--log_path", str(tmp_path)]
    first = subprocess.run([*args, "--plots", "none"], capture_output=True, text=True, env=env)
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    (run_dir,) = [p.parent for p in tmp_path.rglob("result.json")]
    stamp = read_json(run_dir / "result.json")["wall_time_s"]
    again = subprocess.run([*args, "--plots", "none", "--rerun"], capture_output=True,
                           text=True, env=env)  # fmt: skip
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert "replaced the earlier finished run" in again.stdout
    assert read_json(run_dir / "result.json")["wall_time_s"] != stamp
    listed = subprocess.run([*MLPLAB, "datasets"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0 and "xor" in listed.stdout, listed.stderr


def test_a_rerun_that_finished_and_then_raised_replaces_the_earlier_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new run's record said finished; an error after it (printing its table) made
    the rerun discard it, and the earlier run stayed as if the new one had failed."""
    import mlplab.runner

    settings = dict(data="xor", epoch=3, plots="none", exp_name="keep", log_path=str(tmp_path))
    old = train(**settings, verbose=False)
    before = read_json(old.run_dir / "result.json")

    def broken(*args: object, **kwargs: object) -> None:
        raise UnicodeEncodeError("ascii", "─", 0, 1, "ordinal not in range(128)")

    monkeypatch.setattr(mlplab.runner, "print_summary", broken)
    with pytest.raises(UnicodeEncodeError):
        train(**settings, verbose=True, rerun=True)
    after = read_json(old.run_dir / "result.json")
    assert after["status"] == "finished" and after["wall_time_s"] != before["wall_time_s"]
    assert hidden_left(tmp_path) == []
