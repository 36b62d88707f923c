"""A run folder that is a symbolic link is never written through: a run starting afresh
empties its folder, and through a link planted where a classmate's run would go (its name
known in advance from --print_run_dir) it emptied the folder the link named, a home folder
as well, silently. Nor is a link put back as a run a rerun had set aside."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import assert_one_line_error


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "thesis.tex").write_text("two years of work")
    (victim / "sub" / "keep").write_text("x")
    return victim


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_linked_run_folder_is_refused_and_what_it_names_is_kept(run_cli, tmp_path):
    victim = _victim(tmp_path)
    before = _files(victim)
    args = ["--data", "xor", "--epoch", "3", "--log_path", "shared", "--exp_name", "lab3"]
    printed = run_cli("train", *args, "--print_run_dir", cwd=tmp_path)
    run = tmp_path / printed.stdout.strip()
    run.parent.mkdir(parents=True)
    run.symlink_to(victim)
    line = (
        f"setting 'exp_name': the run folder {str(run.relative_to(tmp_path))!r} is a symbolic "
        f"link (to {str(victim)!r}); a run is written into a folder of its own, which it "
        "empties to start again: remove the link, or give another exp_name or log_path"
    )
    assert_one_line_error(run_cli("train", *args, cwd=tmp_path), line)
    assert_one_line_error(run_cli("sweep", *args, "--seed", "0", "1", cwd=tmp_path), line)
    assert _files(victim) == before and run.is_symlink()


def test_a_link_set_aside_as_a_rerun_is_not_put_back_as_the_run(run_cli, tmp_path):
    victim = _victim(tmp_path)
    before = _files(victim)
    args = ["--data", "xor", "--epoch", "3", "--log_path", "shared", "--exp_name", "lab5"]
    run = tmp_path / run_cli("train", *args, "--print_run_dir", cwd=tmp_path).stdout.strip()
    run.parent.mkdir(parents=True)
    aside = run.parent / f".{run.name}.1a2b3c4d.old.rerun"
    aside.symlink_to(victim)
    proc = run_cli("train", *args, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert run.is_dir() and not run.is_symlink() and (run / "result.json").is_file()
    assert _files(victim) == before and os.path.islink(aside)


def test_a_linked_folder_that_holds_the_finished_run_is_kept_as_it_is(run_cli, tmp_path):
    """A run moved to a larger disk and linked back is the finished run: kept, not refused."""
    args = ["--data", "xor", "--epoch", "3", "--log_path", "shared", "--exp_name", "x"]
    assert run_cli("train", *args, "-q", cwd=tmp_path).returncode == 0
    (run,) = (tmp_path / "shared" / "x").glob("x-*")
    moved = tmp_path / "scratch" / run.name
    moved.parent.mkdir()
    run.rename(moved)
    run.symlink_to(moved)
    proc = run_cli("train", *args, cwd=tmp_path)
    assert proc.returncode == 0 and "already holds this config's finished run" in proc.stdout


def test_a_linked_lock_file_is_refused_and_nothing_is_made_where_it_points(run_cli, tmp_path):
    """A .sweep.lock planted as a link made every train create an empty file wherever it
    pointed (another user's folder, a name of their choosing)."""
    (tmp_path / "shared" / "lab").mkdir(parents=True)
    lock = tmp_path / "shared" / "lab" / ".sweep.lock"
    lock.symlink_to(tmp_path / "elsewhere.txt")
    proc = run_cli("train", "--data", "xor", "--epoch", "3", "--log_path", "shared",
                   "--exp_name", "lab", cwd=tmp_path)  # fmt: skip
    assert_one_line_error(
        proc,
        f"setting 'exp_name': the lock file {str(Path('shared/lab/.sweep.lock'))!r} is a "
        "symbolic link (mlplab makes it as a file of its own): remove the link",
    )
    assert not (tmp_path / "elsewhere.txt").exists()


def test_a_lock_file_that_is_a_folder_is_refused_as_input(run_cli, tmp_path):
    """A folder named .sweep.lock was "Is a directory; the run stopped: ... continues it
    from its last checkpoint", exit 1, for a run that never started."""
    (tmp_path / "runs" / "lab" / ".sweep.lock").mkdir(parents=True)
    for command in (["train"], ["sweep", "--lr", "0.1", "0.5"]):
        proc = run_cli(*command, "--data", "xor", "--epoch", "3", "--exp_name", "lab",
                       cwd=tmp_path)  # fmt: skip
        assert_one_line_error(
            proc,
            f"setting 'exp_name': the lock file {str(Path('runs/lab/.sweep.lock'))!r} is a "
            "folder (mlplab makes it as an empty file of its own): remove that folder",
        )
    assert [p.name for p in (tmp_path / "runs" / "lab").iterdir()] == [".sweep.lock"]
