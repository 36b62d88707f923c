"""``mlplab train --resume RUN_DIR`` from another folder than the one the run trained in.

A run's data file given by a relative path (``--data daten/données.csv``) is relative to
the folder it trained in: ``mlplab plot`` and ``load_run`` found it there, above the run
folder, but ``--resume`` looked only here: it said the file did not exist, or went on
with a same-named file's other rows. The line an interruption prints named the run
folder relative to the folder it trained in, unquoted: pasted elsewhere, or with a space
in the path, it did not resume the run.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from reliability_support import ENV, MLPLAB, assert_one_line, assert_same_run, read_json

from mlplab.runner import train
from mlplab.training.events import Step

DATA = "daten/données.csv"
KW = dict(data=DATA, target="saison", batch_size=8, epoch=20, log_every=0, plots="none")


def _project(root: Path, reordered: bool = False) -> Path:
    """A project folder with a space and non-ASCII letters in its path, and its data file
    (``reordered``: a same-named file of the same columns, its rows in another order)."""
    (root / "daten").mkdir(parents=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    table = pd.DataFrame(X, columns=["längé", "größe_µm"])
    table["saison"] = np.where(X[:, 0] * X[:, 1] > 0, "été", "hiver")
    (table[::-1] if reordered else table).to_csv(root / DATA, index=False)
    return root


def _stopped_run(project: Path, monkeypatch, log_path: str = "Läufe rel") -> Path:
    """A run of ``KW`` trained in ``project`` and stopped at step 20: its folder, absolute."""
    monkeypatch.chdir(project)
    pressed: list[bool] = []

    class Button:  # pressed at step 20 (of about 100)
        step_every = 1

        def __call__(self, event: object) -> None:
            if isinstance(event, Step) and event.step == 20:
                pressed.append(True)

    res = train(
        **KW, log_path=log_path, subscribers=[Button()], stop=lambda: bool(pressed), verbose=False
    )
    # Absolute, though log_path was relative: the folder of the run trained in project.
    assert res.status == "interrupted" and res.run_dir.is_relative_to(project / log_path)
    return res.run_dir


def _mlplab(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MLPLAB, *map(str, args)], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300
    )


def test_resume_from_another_folder_reads_the_runs_own_file(tmp_path, monkeypatch):
    """From a folder with a same-named file of other rows, too: the run's own is read, and
    the run ends as one never stopped."""
    project = _project(tmp_path / "Übung 1")
    by_cli = _stopped_run(project, monkeypatch)
    in_python = _stopped_run(project, monkeypatch, log_path="Läufe zwei")
    straight = train(**KW, log_path=str(tmp_path / "straight"), verbose=False).run_dir
    elsewhere = _project(tmp_path / "Übung 2", reordered=True)
    proc = _mlplab("train", "--resume", by_cli, "-q", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert_same_run(straight, by_cli)
    monkeypatch.chdir(elsewhere)
    assert train(resume=in_python, verbose=False).status == "finished"
    assert_same_run(straight, in_python)


def test_resume_refuses_a_file_changed_since_naming_each_place_tried(tmp_path, monkeypatch):
    project = _project(tmp_path / "Übung 1")
    run_dir = _stopped_run(project, monkeypatch)
    elsewhere = _project(tmp_path / "Übung 2", reordered=True)
    mine = pd.read_csv(project / DATA)
    mine[1:].to_csv(project / DATA, index=False)  # a row gone
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    proc = _mlplab("train", "--resume", run_dir, cwd=elsewhere)
    tried = f"tried {str(elsewhere / DATA)!r}, {str(project / DATA)!r}"
    assert_one_line(proc.returncode, proc.stderr, f"data file {DATA!r} has changed since", tried)
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
    (project / DATA).unlink()
    (elsewhere / DATA).unlink()
    proc = _mlplab("train", "--resume", run_dir, cwd=tmp_path)
    assert_one_line(
        proc.returncode,
        proc.stderr,
        f"data file {DATA!r} does not exist",
        "relative to the folder it trained in, here or above the run folder",
    )


def _interrupted(args: list[str], cwd: Path, log_path: Path) -> tuple[int, str]:
    """Run ``args`` in ``cwd`` in a session of its own, SIGINT its group (as Ctrl-C does)
    once it trains with a record in ``log_path``; its exit status and what it printed
    (standard output, then error, where the interruption line goes)."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=cwd,
        start_new_session=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if " -> " in line:  # the header, printed just before training
            break
    deadline = time.monotonic() + 120
    while not any(log_path.rglob("result.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # some steps taken
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGINT and "Traceback" not in err, (proc.returncode, err)
    return proc.returncode, "".join(seen) + out + err


def test_the_interruption_line_pastes_into_a_shell_in_any_folder(tmp_path):
    project = _project(tmp_path / "Übung 1")
    args = [*MLPLAB, "train", "--data", DATA, "--target", "saison", "--epoch", "10000000"]
    args += ["--log_every", "0", "--plots", "none", "--log_path", "Läufe rel"]
    _, out = _interrupted(args, project, project / "Läufe rel")
    (run_dir,) = [p.parent for p in (project / "Läufe rel").rglob("result.json")]
    command = out.split("(or `", 1)[1].split("`)", 1)[0]
    assert shlex.split(command) == ["mlplab", "train", "--resume", str(run_dir)]
    assert read_json(run_dir / "result.json")["message"].endswith(f"(or `{command}`)")
    # Pasted into a shell in another folder (as `python -m mlplab`: the same CLI).
    (tmp_path / "elsewhere").mkdir()
    pasted = f"{shlex.quote(sys.executable)} -m {command}"
    _, out = _interrupted(["bash", "-c", pasted], tmp_path / "elsewhere", run_dir)
    assert f"the interrupted run in {run_dir} continues from its checkpoint" in out
    assert f"(or `{command}`)" in out


def test_the_same_command_again_trains_afresh_where_its_file_has_changed(
    tmp_path, monkeypatch, capsys
):
    """The same command again continued an interrupted run from its checkpoint whatever
    its data file held now: its first 20 steps on one set of rows, the rest on another."""
    project = _project(tmp_path / "p")
    run_dir = _stopped_run(project, monkeypatch, log_path="runs")
    before = read_json(run_dir / "result.json")["data_digest"]
    other = _project(tmp_path / "other", reordered=True)  # the same columns, other order
    (project / DATA).write_bytes((other / DATA).read_bytes())
    res = train(**KW, log_path="runs", verbose=True)
    out = capsys.readouterr().out
    assert f"it cannot continue: data file {DATA!r} has changed since it trained" in out
    assert res.status == "finished" and res.run_dir.resolve() == run_dir.resolve()
    after = read_json(run_dir / "result.json")
    assert after["data_digest"] != before
    straight = train(**KW, log_path=str(tmp_path / "straight"), verbose=False).run_dir
    assert_same_run(straight, run_dir)  # trained from step 0 on the rows it holds now


def test_a_run_on_an_absolute_path_resumes_once_its_project_moved(tmp_path, monkeypatch):
    """A run trained on `~/proj/daten/x.csv` (an absolute path, as `~` is stored) could not
    be resumed once the project moved with its data: the file was looked for only where it
    had been, and --resume takes no --data. Its last parts are looked for above the moved
    run folder, the one holding the run's own rows taken (not a same-named decoy)."""
    project = _project(tmp_path / "Übung 1")
    absolute = str(project / DATA)
    monkeypatch.setitem(KW, "data", absolute)
    straight = train(**KW, log_path=str(tmp_path / "straight"), verbose=False).run_dir
    run_dir = _stopped_run(project, monkeypatch)
    moved = tmp_path / "archive" / "Übung 1"
    moved.parent.mkdir()
    project.rename(moved)
    moved_run = moved / run_dir.relative_to(project)
    # A same-named file of other rows nearer the run folder than the project's own.
    _project(moved / "Läufe rel", reordered=True)
    proc = _mlplab("train", "--resume", moved_run, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_same_run(straight, moved_run)


def test_resume_of_a_run_without_its_config_yaml_says_it_is_not_lost(tmp_path, monkeypatch):
    """With its config.yaml deleted, `--resume` said only "not a run directory (no
    config.yaml)", read as a lost run, though the command that trained it continued it
    from its checkpoint (which holds the config) and wrote config.yaml again."""
    project = _project(tmp_path / "Übung 1")
    run_dir = _stopped_run(project, monkeypatch)
    (run_dir / "config.yaml").unlink()
    proc = _mlplab("train", "--resume", run_dir, cwd=project)
    assert_one_line(
        proc.returncode,
        proc.stderr,
        "is not a run directory (no config.yaml); its checkpoints/last.safetensors is there: "
        "the command that trained it continues it, and writes its config.yaml again",
    )
    monkeypatch.chdir(project)
    assert train(**KW, log_path="Läufe rel", verbose=False).run_dir == run_dir
    assert read_json(run_dir / "result.json")["status"] == "finished"
    assert (run_dir / "config.yaml").is_file()


def test_a_stopped_run_whose_result_json_was_deleted_continues_from_its_checkpoint(
    tmp_path, monkeypatch, capsys
):
    """`make` deletes its target on Ctrl-C: with result.json gone, the same command trained
    the run again from step 0 without a word, though its checkpoint was there (--resume
    continued it)."""
    project = _project(tmp_path / "Übung 1")
    run_dir = _stopped_run(project, monkeypatch)
    straight = train(**KW, log_path=str(tmp_path / "straight"), verbose=False).run_dir
    (run_dir / "result.json").unlink()
    from mlplab.runs.checkpoint import load_checkpoint

    step = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta["loop"]["step"]
    assert step > 0
    capsys.readouterr()
    again = train(**KW, log_path="Läufe rel", verbose=True)
    assert again.run_dir == run_dir and again.status == "finished"
    said = capsys.readouterr().out
    assert (
        f"has no result.json; the run there continues from its checkpoint at step {step}\n" in said
    )
    assert_same_run(straight, run_dir)
