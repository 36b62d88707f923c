"""A single run's progress bar on a terminal shows a loss from its first steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rich.progress

import mlplab
import mlplab.console


def test_the_first_epoch_shows_the_last_steps_loss(tmp_path: Path, monkeypatch) -> None:
    """The bar showed no loss until the first epoch had ended (a long first epoch of a big
    table: nothing but the step count)."""
    monkeypatch.setattr(mlplab.console, "interactive", lambda: True)
    seen: list[tuple[int, str]] = []  # the bar's epoch and text after each update
    update = rich.progress.Progress.update

    def watched(self: rich.progress.Progress, task_id: Any, **kw: Any) -> None:
        update(self, task_id, **kw)
        fields = self._tasks[task_id].fields
        seen.append((fields["epoch"], fields["info"]))

    monkeypatch.setattr(rich.progress.Progress, "update", watched)
    mlplab.train(
        data="ring", n_samples=300, batch_size=16, epoch=2, log_every=0, plots="none",
        log_path=str(tmp_path),
    )  # fmt: skip
    first = [info for epoch, info in seen if epoch == 0]
    assert first and all(info.startswith("loss ") for info in first), seen[:3]
    assert float(first[-1].split()[1]) > 0
    assert next(info for epoch, info in seen if epoch == 1).startswith("loss ")


def _piped(log_path: Path, epoch: int, quiet_s: float = 0.0) -> list[str]:
    """The `mlplab: epoch` lines of a moons run of ``epoch`` epochs whose stdout is a pipe,
    with :attr:`RunConsole.QUIET_S` at ``quiet_s`` (0: a line at every validation)."""
    import subprocess
    import sys

    code = (
        "import mlplab.console, mlplab\n"
        f"mlplab.console.RunConsole.QUIET_S = {quiet_s}\n"
        f"mlplab.train(data='moons', epoch={epoch}, log_every=0, plots='none', "
        f"log_path={str(log_path)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [ln for ln in proc.stdout.splitlines() if ln.startswith("mlplab: epoch ")]


def test_a_run_in_a_pipe_says_where_it_is_after_a_silence(tmp_path: Path) -> None:
    """In a pipe, `--log_every 0` printed nothing between its first line and its results:
    a 48 s run was silent, and a CI job that kills a silent process could kill it."""
    said = _piped(tmp_path, 3)
    assert [ln.split(",")[0] for ln in said] == [f"mlplab: epoch {e}/3" for e in (1, 2, 3)]
    assert all(", step " in ln and ", loss " in ln for ln in said)
    # At the default, a short run prints none.
    assert _piped(tmp_path / "b", 3, quiet_s=30.0) == []


def test_a_run_in_a_pipe_says_how_long_is_left(tmp_path: Path) -> None:
    """A log's line after a silence said the epoch and the loss, but not how long the run
    had taken nor how long it would go on: a terminal's bar says both."""
    import re

    said = _piped(tmp_path, 4)
    assert len(said) == 4, said
    # The pace from the first step (the first validation's too), nothing left at the last.
    assert "left)" not in said[-1]
    for line in said[:3]:
        assert re.search(r", loss [\d.]+ \(\d+ s, about \d+ s left\)$", line), line


def test_a_run_in_a_pipe_says_where_it_is_between_validations(tmp_path: Path) -> None:
    """A log's line after a silence came only at a validation: an epoch of a big table, or
    many epochs between validations (`--validate_every 50`), was silent for minutes."""
    import re
    import subprocess
    import sys

    def run(validate_every: int, batch_size: int) -> list[str]:
        code = (
            "import mlplab.console, mlplab\n"
            "mlplab.console.RunConsole.QUIET_S = 0.0\n"
            f"mlplab.train(data='moons', epoch=4, batch_size={batch_size}, log_every=0, "
            f"validate_every={validate_every}, plots='none', "
            f"log_path={str(tmp_path / str(validate_every))!r})\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return [ln for ln in proc.stdout.splitlines() if re.match("mlplab: (in )?epoch ", ln)]

    # 50 minibatches an epoch: lines within each epoch, at steps no validation ends.
    said = run(1, 16)
    within = [ln for ln in said if "batch loss" in ln]
    steps = [int(re.search(r", step (\d+)", ln)[1]) for ln in within]  # steps done
    assert len(steps) >= 150 and all(s % 50 for s in steps), said[:5]
    line = next(ln for ln in within if ", step 120," in ln)
    # Within the third epoch (two done): said as the epoch in progress.
    assert re.search(r"^mlplab: in epoch 3/4, step 120, batch loss [\d.]+ \(\d+ s, about", line)
    # Full batch, validated every 2 epochs: the epochs between them say where the run is.
    said = run(2, 0)
    assert [ln.split(",")[:2] for ln in said] == [
        ["mlplab: epoch 1/4", " step 1"], ["mlplab: epoch 2/4", " step 2"],
        ["mlplab: epoch 3/4", " step 3"], ["mlplab: epoch 4/4", " step 4"],
    ]  # fmt: skip
