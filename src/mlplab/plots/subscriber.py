"""Plots as a subscriber: pictures of each finished model, drawn after its record.

:class:`PlotSubscriber` listens to a stack's events. With ``snapshot_every`` it captures
each model's decision surface at those steps; when a model ends ``finished``, it draws
the model's plots in this process, after the run writer has written the record, and adds
the files' names to result.json. A model that diverged gets its loss plot. A plot that
fails is a warning: the record is kept.
Each checkpoint writes the frames taken since the one before into the model's folder,
and the recorder keeps only the later ones in memory; a model that ends ``interrupted``
writes its frames so far too. Its resume takes them back, so the pictures are those of a
run that was never stopped.
"""

from __future__ import annotations

import functools
import shutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from mlplab.config import Config
from mlplab.data.dataset import Dataset
from mlplab.engines.spec import ModelSpec
from mlplab.runs.curves import with_every_point
from mlplab.runs.record import RunRecord
from mlplab.training.events import End, Event, Models, Save, Start, Step
from mlplab.training.loop import batch_bounds


class PlotSubscriber:
    """Draws the plots (and snapshot animations) of the models of one stack.

    ``cfgs``, ``specs`` and ``records`` are by model id; models whose config says
    ``plots: none`` are skipped.
    """

    def __init__(
        self,
        cfgs: list[Config] | Config,
        data: Dataset,
        specs: list[ModelSpec] | ModelSpec,
        records: list[RunRecord] | RunRecord,
    ) -> None:
        self.cfgs = cfgs if isinstance(cfgs, list) else [cfgs]
        self.specs = specs if isinstance(specs, list) else [specs]
        self.records = records if isinstance(records, list) else [records]
        self.data = data
        self.recorders: dict[int, Any] = {}
        for k, cfg in enumerate(self.cfgs):
            if cfg.snapshot_every and cfg.plots != "none":
                from mlplab.plots.recorder import SnapshotRecorder

                per_epoch = len(batch_bounds(len(data.y_train), cfg.batch_size))
                self.recorders[k] = SnapshotRecorder(data, self.specs[k], steps_per_epoch=per_epoch)

    def __call__(self, event: Event) -> None:
        # A frame's step counts the updates done: "step 100" is the model whose loss the
        # printout's line 100 gives, and "step 0" the model before training.
        if isinstance(event, Start) and self.recorders:
            for k in event.models.ids:
                if (rec := self.recorders.get(int(k))) is None:
                    continue
                if event.step:
                    # A resumed run: the frames taken before its interruption, written
                    # at its checkpoints and by the End below.
                    self._restore(int(k), event.step)
                else:
                    rec.capture(0, self._predict(event.models, int(k)))
        elif isinstance(event, Step) and self.recorders:
            done = event.step + 1  # the Step event comes after its update
            for k in event.ids:
                rec = self.recorders.get(int(k))
                every = self.cfgs[int(k)].snapshot_every
                if rec is not None and done % every == 0:
                    rec.capture(done, self._predict(event.models, int(k)))
        elif isinstance(event, End):
            for j, k in enumerate(event.ids):
                if self.cfgs[int(k)].plots == "none":
                    pass
                elif event.statuses[j] == "finished":
                    rec = self.recorders.get(int(k))
                    if rec is not None and rec.steps and rec.steps[-1] != event.step:
                        # The last frame is the model that finished, wherever training
                        # stopped between two captures (an epoch count, early stopping).
                        rec.capture(event.step, self._predict(event.models, int(k)))
                    self._draw(int(k), event.models)
                elif event.statuses[j] == "diverged":
                    self._draw_loss(int(k))
                elif event.statuses[j] == "interrupted":
                    self._keep_frames(int(k))

    def before_checkpoints(self, event: Event) -> None:
        """The frames so far, written at each Save before the run writer's checkpoint: a
        run killed outright (kill -9, a crash) resumes from that checkpoint with every
        frame up to it (a resume drops any later ones), not with a film that starts
        there. The runner calls it before the writer; the rest of this subscriber after."""
        if isinstance(event, Save) and self.recorders:
            for k in event.ids:
                self._keep_frames(int(k))

    def _predict(self, models: Models, k: int) -> Callable[[np.ndarray], np.ndarray]:
        """Model ``k``'s outputs for the pictures, in the target's own units (the engine's
        are of the scaled target where it trains so)."""
        return lambda X: self.data.in_target_units(models.predict(k, X))

    def _keep_frames(self, k: int) -> None:
        """Write an unfinished model's frames not yet written; its resume takes them back."""
        snaps = self.recorders.get(k)
        if snaps is not None:
            snaps.flush(self.records[k].dir)

    def _restore(self, k: int, step: int) -> None:
        """A resumed model's frames up to ``step``; where they are damaged, one line says
        so and its film starts again here."""
        run_dir = self.records[k].dir
        try:
            self.recorders[k].restore(run_dir, step)
        except Exception as err:  # a damaged or foreign file: the run goes on without it
            self.recorders[k].forget(run_dir)
            warnings.warn(
                f"mlplab: the snapshots kept in {str(run_dir)!r} are damaged "
                f"({type(err).__name__}); its animation starts again after step {step}",
                RuntimeWarning,
                stacklevel=2,
            )

    def _draw_loss(self, k: int) -> None:
        """A diverged model's loss plot: where the loss blew up is what its user wants to
        see. Its other pictures are of its best weights, which ``mlplab plot RUN_DIR``
        loads from best.safetensors; the weights in the stack now are not finite."""
        from mlplab.plots.run_plots import loss_figure, write_figures

        rec = self.records[k]
        result = rec.read_result()
        if result is None:
            return
        curves = with_every_point(rec.dir, result)
        loss = functools.partial(loss_figure, curves, self.data, self.specs[k])
        names = write_figures(rec.plots_dir, {"loss": loss}, self.cfgs[k].plots)
        if names:
            result["plot_files"] = names
            rec.write_result(result)

    def _draw(self, k: int, models: Models) -> None:
        """Model ``k``'s pictures, and their names in its result.json. The run has finished
        and its record is whole: whatever fails here (a full disk, too few open files, the
        memory to import matplotlib) is said, and the run ends as it did, with the plots
        that could not be drawn named in ``plots_failed`` (a run trained again says so)."""
        rec = self.records[k]
        result = rec.read_result()
        if result is None:
            return  # the writer did not record this model: nothing to draw for
        failed: list[str] = []
        try:
            names = self._draw_files(k, models, result, failed.append)
        except Exception as err:  # draw_run_plots warns per plot; this is the rest
            warnings.warn(
                f"mlplab: plotting failed ({type(err).__name__}: {err}); results are kept",
                RuntimeWarning,
                stacklevel=2,
            )
            return  # no plot_files: a run trained again says its plots were not drawn
        from mlplab.plots.recorder import STEM

        result["plot_files"] = [n for n in names if not n.startswith(STEM)]
        if snapshots := [n for n in names if n.startswith(STEM)]:
            result["snapshots"] = snapshots
        if failed:
            result["plots_failed"] = failed
        try:
            rec.write_result(result)
        except OSError as err:  # the record of the run stays as the writer left it
            warnings.warn(
                f"mlplab: the names of the plots could not be added to result.json "
                f"({err.strerror or err}); the run's record is kept as it ended",
                RuntimeWarning,
                stacklevel=2,
            )

    def _draw_files(
        self, k: int, models: Models, result: dict[str, Any], on_failed: Callable[[str], None]
    ) -> list[str]:
        """Draw model ``k``'s pictures; the names of those written."""
        from mlplab.plots.recorder import FRAMES_DIR, SNAPSHOT_FILE
        from mlplab.plots.run_plots import draw_run_plots

        rec, snaps = self.records[k], self.recorders.get(k)
        if snaps is not None and snaps.steps:
            # The frames the pictures show, kept in the run's folder for `mlplab plot
            # RUN_DIR` to redraw; they replace the frames its checkpoints wrote.
            snaps = snaps.for_drawing()
            snaps.save(rec.dir / SNAPSHOT_FILE)
            shutil.rmtree(rec.dir / FRAMES_DIR, ignore_errors=True)
        return draw_run_plots(
            rec.plots_dir,
            with_every_point(rec.dir, result),
            self.data,
            self._predict(models, k),
            self.specs[k],
            weights=models.export(k).weights,
            fmt=self.cfgs[k].plots,
            snapshots=snaps,
            on_failed=on_failed,
        )
