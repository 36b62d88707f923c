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
