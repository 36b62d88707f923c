"""A finished run is never lost without a word: it is kept, or replaced whole.

A run's folder is named by the hash of its config, so training the same config again
lands on the same folder. ``mlplab train`` keeps a finished run there (as a sweep skips
it) and says so in one line. ``--rerun`` (``train(..., rerun=True)``) trains the new run
in a hidden folder beside it, ``.NAME.PID.rerun``, and only once the new run has
finished does it take the old folder's place; an interrupted, diverged or failed rerun
is removed and the finished run stays as it was. Reports skip hidden folders, so a rerun
in progress (or one a SIGKILL cut short) never shows up as a run.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

from mlplab.runs.atomic import replace_dir
from mlplab.runs.record import is_finished, read_result

SUFFIX = ".rerun"


def finished_record(run_dir: Path) -> dict[str, Any] | None:
    """The finished run's result.json in ``run_dir``, or None (no run, or not finished)."""
    if not run_dir.exists():
        # A process killed between the two renames of replace_run left the finished
        # run aside: put it back.
        for aside in run_dir.parent.glob(f".{run_dir.name}.*.old{SUFFIX}"):
            if aside.is_symlink() or not aside.is_dir():
                continue  # only a run folder of mlplab's is put back, never a link
            os.replace(aside, run_dir)
            break
    _remove_dead_reruns(run_dir)  # any train of the config tidies, not only a --rerun
    return read_result(run_dir) if is_finished(run_dir) else None


# Settings outside the run's hash that change what a run leaves behind: given anew for a
# kept run, they do nothing, and the line says so.
RECORD_SETTINGS = ("plots", "snapshot_every", "save_every")


def kept_line(run_dir: Path, result: dict[str, Any], asked: dict[str, Any] | None = None) -> str:
    """One line: where the finished run is, its main result, and how to replace it.

    ``asked``: the settings this call gave; those of :data:`RECORD_SETTINGS` that differ
    from the kept run's are named, since they apply only to a new run."""
    no_test = result.get("n_test") == 0
    score = next(
        (
            f" ({k} {result[k]:.4g})"
            # val's for a run without a test split (split 0.9 0.1 0)
            for k in ("test_acc", "test_r2", "val_acc", "val_r2")
            if isinstance(result.get(k), float) and (k.startswith("test_") or no_test)
        ),
        "",
    )
    unused = [
        f"--{k} {asked[k]}"
        for k in RECORD_SETTINGS
        if asked is not None and k in result and k in asked and asked[k] != result[k]
    ]
    so = f" as it was, without {' or '.join(unused)}" if unused else ""
    # Plots are drawn after the record is written: a run killed meanwhile, or whose plots
    # failed, is finished without them, and training it again would not draw them.
    no_plots = result.get("plots", "none") != "none" and "plot_files" not in result
    failed = result.get("plots_failed")
    failed = [
        str(n) for n in (failed if isinstance(failed, list) else [])
        if not (run_dir / "plots" / str(n)).is_file()
    ]  # fmt: skip
    redraw = f"; its plots were not drawn: `mlplab plot {run_dir}` draws them" if no_plots else ""
    if failed and not no_plots:
        some = ", ".join(failed[:3]) + (" ..." if len(failed) > 3 else "")
        them = "it" if len(failed) == 1 else "them"
        redraw = f"; {some} could not be drawn: `mlplab plot {run_dir}` draws {them}"
    return (
        f"mlplab: {run_dir} already holds this config's finished run{score}; it is kept{so}. "
        "Train it again with --rerun (rerun=True in Python): the new run replaces it "
        f"only once it has finished{redraw}"
    )


def scratch_dir(run_dir: Path) -> Path:
    """A new hidden folder beside ``run_dir`` for its rerun; leftovers of dead reruns go."""
    _remove_dead_reruns(run_dir)
    path = run_dir.parent / f".{run_dir.name}.{os.getpid()}{SUFFIX}"
    shutil.rmtree(path, ignore_errors=True)  # this process's own earlier, cut-short attempt
    return path


def _remove_dead_reruns(run_dir: Path) -> None:
    """Remove the hidden folders of ``run_dir``'s reruns whose process is gone (killed)."""
    for old in run_dir.parent.glob(f".{run_dir.name}.*{SUFFIX}"):
        pid = old.name.removeprefix(f".{run_dir.name}.").removesuffix(SUFFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def replace_run(new: Path, run_dir: Path) -> None:
    """Put the finished rerun ``new`` in the place of ``run_dir`` (see ``replace_dir``);
    the old run waits aside under a name :func:`finished_record` knows, to put it back."""
    aside = run_dir.parent / f".{run_dir.name}.{uuid.uuid4().hex[:8]}.old{SUFFIX}"
    replace_dir(new, run_dir, aside)
    if aside.exists():
        # A read-only old run: its checkpoints went, the rest stayed aside, hidden and unsaid.
        warnings.warn(
            f"the earlier run, replaced, could not be removed whole (a folder in it may not be "
            f"written); what is left of it is in {str(aside)!r}: make it writable and remove it "
            "(chmod -R u+w, then rm -r)",
            stacklevel=2,
        )


def discard(new: Path) -> None:
    """Remove a rerun that did not finish; the finished run beside it is untouched."""
    shutil.rmtree(new, ignore_errors=True)


def settle(new: Path, run_dir: Path, status: str | None, where: str = "") -> str | None:
    """End a rerun: a finished one replaces ``run_dir``; any other is removed, and the
    returned line says so (``where``, e.g. " at step 40", tells where it ended)."""
    if status == "finished":
        replace_run(new, run_dir)
        return None
    discard(new)
    return (
        f"the rerun ended {status}{where} and is removed; "
        f"the earlier finished run in {run_dir} is kept unchanged"
    )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
