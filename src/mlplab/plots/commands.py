"""``mlplab plot``: redraw a run's plots, or draw the activation functions.

``mlplab plot RUN_DIR`` rebuilds the trained model from the run's config.yaml and last
checkpoint (no retraining: the caller passes the loader, ``mlplab.restore.load_run``,
which this layer may not import) and draws the same plots as the end of training, from
result.json's curves, and the snapshot animation from the frames a ``--snapshot_every``
run kept (``snapshots.npz``; an unfinished run's ``snapshot_frames/``). ``mlplab plot
activations`` draws every activation next to its derivative.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlplab.config import check_path_text
from mlplab.console import terminal_text
from mlplab.errors import (
    CheckpointError,
    ConfigError,
    DataChangedWarning,
    DataError,
    short_repr,
    warnings_caught,
)
from mlplab.plots.recorder import SNAPSHOT_FILE
from mlplab.runs.curves import CURVES_FILE, with_every_point
from mlplab.runs.record import run_folder_around, run_folder_hint

if TYPE_CHECKING:
    from mlplab.plots.recorder import SnapshotRecorder

ACTIVATIONS_TARGET = "activations"

# Rebuilds a run from its folder: an object with ``record`` (result.json), ``dataset``,
# ``spec``, ``model_outputs`` (model inputs to outputs) and ``weights``; raises MlplabError with
# one line. ``data=False`` reads no data file: the dataset has names and no rows.
RunLoader = Callable[..., Any]


def plot_command(
    target: str,
    load_run: RunLoader,
    out: str | None = None,
    fmt: str | None = None,
    which: str = "last",
) -> int:
    """Draw plots for the CLI and print the paths written; return the exit status.

    Parameters
    ----------
    target : str
        A run directory, or ``activations``.
    load_run : callable
        Rebuilds the run in a folder (see :data:`RunLoader`).
    out : str, optional
        Output folder (default: ``RUN_DIR/plots``, ``RUN_DIR/plots-best`` for the best
        model, or ``./plots`` for activations).
    fmt : {'png', 'svg'}, optional
        The run's own format (its ``plots`` setting), else png.
    which : {'last', 'best'}
        The checkpoint whose model the pictures show: the last (as training drew them)
        or the best, of the lowest validation loss, with its own test metrics.

    Raises
    ------
    mlplab.errors.MlplabError
        When ``target`` is not a usable run directory (one line; the CLI exits 2).
    """
    _check_path("the run directory", target)
    _no_other_picture(out)
    run_dir, failed = Path(target), list[str]()
    if target == ACTIVATIONS_TARGET and not (run_dir / "config.yaml").is_file():
        from mlplab.plots.activations import draw_activations

        file_fmt = picture_file_format(out)
        if out and file_fmt is not None:  # one picture: --out act.png writes act.png
            if fmt is not None and fmt != file_fmt:
                raise ConfigError(
                    f"plot: --out {short_repr(out)} is a .{file_fmt} file but --format is "
                    f"{fmt}; give a file ending .{fmt}, or leave --format out"
                )
            _check_path("--out", out)
            out_path = Path(out)
            folder = check_out_folder(str(out_path.parent), given=True)
            names = draw_activations(folder, file_fmt, name=out_path.name)
            print(out_path)
            return 0
        out_dir = check_out_folder(out if out else "plots", given=bool(out))
        names = draw_activations(out_dir, fmt or "png")
        for name in names:
            print(out_dir / name)
    else:
        # Each path as its file is written: a run with snapshots draws for many seconds.
        _, names = redraw_run(
            run_dir, load_run, out, fmt, printed=True, which=which, on_failed=failed.append
        )
    if failed or not names:  # a picture failed, and said why above: a script must see it
        drew = f"{len(names)} of the {len(names) + len(failed)} pictures" if names else "no picture"
        print(f"mlplab: plot drew {drew} of {target!r}", file=sys.stderr)
        return 1
    return 0


def redraw_run(
    run_dir: Path,
    load_run: RunLoader,
    out: str | None = None,
    fmt: str | None = None,
    printed: bool = False,
    which: str = "last",
    on_failed: Callable[[str], None] | None = None,
) -> tuple[Path, list[str]]:
    """Redraw the plots of the run in ``run_dir``; return the folder and file names.
    ``printed``: print each file's path as it is written; ``which``: the checkpoint
    drawn (see :func:`plot_command`); ``on_failed``: called with each name that failed."""
    if out and picture_file_format(out) is not None:
        # A run's plots are several files: `--out loss.png` had made a folder of that name.
        raise ConfigError(
            f"plot: --out {short_repr(out)} names one picture file, but a run's plots are "
            "several (loss, surface, network, ...); give --out a folder"
        )
    if not run_dir.is_dir():
        # A data file given by mistake exists: saying it does not would mislead.
        why = "it is a file" if run_dir.exists() else "it does not exist"
        instead = run_folder_hint(run_dir) or (
            f"give a folder that holds result.json, or '{ACTIVATIONS_TARGET}'"
        )
        raise CheckpointError(f"plot: {str(run_dir)!r} is not a run directory ({why}); {instead}")
    from mlplab.runs.record import read_result

    result = read_result(run_dir)
    if result is None:
        hint = run_folder_hint(run_dir)
        raise CheckpointError(
            f"plot: {str(run_dir)!r} is not a run directory (no readable result.json)"
            + (f"; {hint}" if hint else "")
        )
    from mlplab.plots.run_plots import WITHOUT_ROWS, draw_run_plots

    # Drawn again as the run drew them: a run of svg pictures got png copies beside them.
    own = result.get("plots")
    fmt = fmt or (own if isinstance(own, str) and own in ("png", "svg") else "png")

    default = run_dir / ("plots-best" if which == "best" else "plots")
    out_dir = check_out_folder(out if out else str(default), own_run=run_dir, given=bool(out))
    only = None
    try:
        # raises CheckpointError / DataError with one line
        run = _load_noting(load_run, run_dir, which=which)
        if run.data_changed:  # no place the file was looked for holds the run's rows
            # Pictures of other rows would not be this run's (its record's metrics are not).
            raise DataError(
                f"plot: {run.data_changed}; put back the file it trained on to draw the rest"
            )
    except DataError as err:
        # The curves and the weights are the run's own, wherever its training file is
        # (a run folder copied to another machine): those are drawn, and the rest named.
        try:
            run = _load_noting(load_run, run_dir, data=False, which=which)
        except CheckpointError as gone:
            if which == "best":  # the loss curves alone are no picture of the best model
                raise
            return out_dir, _loss_of_record_only(
                run_dir, out_dir, result, fmt, printed, gone, on_failed
            )
        only = WITHOUT_ROWS
        print(
            f"mlplab: plot drew only the pictures that need no data rows: {err}",
            file=sys.stderr,
        )
    except CheckpointError as gone:
        if which == "best":
            raise
        return out_dir, _loss_of_record_only(
            run_dir, out_dir, result, fmt, printed, gone, on_failed
        )
    snapshots = _load_snapshots(run_dir)  # read first: fail before drawing

    record = with_every_point(run_dir, run.record)
    if record is run.record and isinstance(run.record.get("curves_thinned"), dict):
        print(
            f"mlplab: plot drew the curves from result.json's {len(run.record['val_epochs'])} "
            f"points: {CURVES_FILE} does not hold every point (missing or damaged)",
            file=sys.stderr,
        )
    if which == "best" and run.record.get("status") != "diverged":  # diverged: best already
        record = _best_model_record(record, run, rows=only is None)
    names = draw_run_plots(
        out_dir,
        record,
        run.dataset,
        run.model_outputs,
        run.spec,
        weights=run.weights,
        fmt=fmt,
        snapshots=snapshots,
        only=only,
        on_written=(lambda name: print(terminal_text(str(out_dir / name)), flush=True))
        if printed
        else None,
        on_failed=on_failed,
    )
    return out_dir, names


def _best_model_record(record: dict[str, Any], run: Any, rows: bool) -> dict[str, Any]:
    """``record`` with the best model's test metrics in place of the last one's, for the
    titles, and marked as the best model's; with no data rows, with no test metrics."""
    from mlplab.plots.titles import DRAWN_CHECKPOINT, scored_split
    from mlplab.runs.record import SPLIT_METRICS

    # val for a run without a test split: its titles give the validation metric (the
    # metrics alone: val_losses and val_epochs are the curves).
    prefix = f"{scored_split(record)}_"
    ours = {k for k in SPLIT_METRICS if k.startswith(prefix)}
    kept = {k: v for k, v in record.items() if k not in ours}
    kept[DRAWN_CHECKPOINT] = "best"
    if rows:  # load_run took the best model's own on the splits (none without rows)
        kept.update({k: v for k, v in run.metrics.items() if k in ours})
    return kept


def _check_path(what: str, text: str) -> None:
    try:
        check_path_text(text)
    except ValueError as err:
        raise ConfigError(f"plot: {what} {short_repr(text)}: {err}") from None


# Pictures of formats mlplab does not draw: an --out of such a name was made a folder.
OTHER_PICTURES = (".jpg", ".jpeg", ".pdf", ".gif", ".webp", ".tif", ".tiff", ".eps", ".bmp")


def _no_other_picture(out: str | None) -> None:
    """Refuse an ``--out`` named as a picture of a format not drawn (``act.jpg``), unless
    a folder of that name exists: it became a folder of that name, holding PNGs."""
    if not out:
        return
    suffix = Path(out).suffix.lower()
    folder = out.endswith("/") or Path(out).is_dir()  # `--out x.pdf/`
    if suffix in OTHER_PICTURES and not folder:
        stem = Path(out).with_suffix("")
        raise ConfigError(
            f"plot: --out {short_repr(out)} names a {suffix} picture; mlplab draws .png or "
            f".svg (activations: --out {stem}.png; a run's plots: --out a folder)"
        )


def picture_file_format(out: str | None) -> str | None:
    """``png`` or ``svg`` when ``out`` names a picture file (it ends ``.png`` or ``.svg``,
    in any case, and is no existing folder); otherwise None: ``out`` is a folder."""
    if not out:
        return None
    suffix = Path(out).suffix.lower()
    if suffix not in (".png", ".svg") or Path(out).is_dir():
        return None
    return suffix[1:]


def check_out_folder(out: str, own_run: Path | None = None, given: bool = True) -> Path:
    """``out`` as a folder that plots can be written into (made later, when drawn).

    Checked before anything is drawn: a file of that name, a file in its way, a folder
    inside a run folder other than ``own_run`` (its pictures would replace that run's),
    or a folder that cannot be written is one line (exit 2), not a traceback after drawing.
    """
    _check_path("--out", out)
    p = Path(out)
    if own_run is not None and p.is_symlink() and p.parent.resolve() == own_run.resolve():
        # The run's own plots folder is no link mlplab made: writing through it would
        # replace files of that name wherever it points.
        raise ConfigError(
            f"plot: {str(p)!r} is a link (to {str(p.readlink())!r}), not the run's own "
            "folder; remove the link, or give --out DIR"
        )
    inside = run_folder_around(p)
    if inside is not None and (own_run is None or inside != own_run.resolve()):
        raise ConfigError(
            f"plot: --out {short_repr(out)} is inside the run folder {str(inside)!r}, whose "
            "plots it would replace; give a folder outside it"
        )
    probe = p
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file" if probe == p else f"cannot be made ({str(probe)!r} is a file)"
        raise ConfigError(f"plot: --out {short_repr(out)} {what}; give a folder")
    try:
        # A real file rather than os.access: root passes every permission check, yet
        # still cannot write to a read-only mount.
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        if not given:  # the default folder: the user gave no --out to blame
            raise ConfigError(
                f"plot: {short_repr(out)} is not writable ({reason}); give --out a folder to "
                "write the pictures in"
            ) from None
        raise ConfigError(f"plot: --out {short_repr(out)} is not writable ({reason})") from None
    return p


def _load_snapshots(run_dir: Path) -> SnapshotRecorder | None:
    """The frames a ``--snapshot_every`` run kept, or None if it kept none."""
    from mlplab.plots.recorder import FRAMES_DIR, SnapshotRecorder

    try:
        return SnapshotRecorder.of_run(run_dir)
    except Exception as err:  # a damaged or foreign file: one line, nothing drawn
        file = SNAPSHOT_FILE if (run_dir / SNAPSHOT_FILE).is_file() else FRAMES_DIR
        what = "a snapshot file" if file == SNAPSHOT_FILE else "a snapshot folder"
        raise CheckpointError(
            f"plot: {str(run_dir / file)!r} is not {what} mlplab wrote "
            f"({type(err).__name__}); move it away to redraw the other plots"
        ) from None


def _data_of_record(result: dict[str, Any]) -> Any:
    """What the loss plot needs to know of a run's data, from its record alone (None for
    a record that does not say its task)."""
    from mlplab.data.synthetic import GATES
    from mlplab.plots.inputs import DataInfo

    if result.get("task_type") not in ("binary", "multiclass", "regression"):
        return None
    targets = result.get("target") or ["y"]
    name = str(result.get("data"))
    return DataInfo(
        name,
        str(result["task_type"]),
        [],
        [targets] if isinstance(targets, str) else [str(t) for t in targets],
        shared_splits=name in GATES,  # the logic gates train, validate and test on 4 rows
    )


def _loss_of_record_only(
    run_dir: Path,
    out_dir: Path,
    result: dict[str, Any],
    fmt: str,
    printed: bool,
    gone: CheckpointError,
    on_failed: Callable[[str], None] | None,
) -> list[str]:
    """No model to draw (its checkpoints deleted to save room, say): its loss curves are
    in the record all the same, and are drawn, with a line that says why only they are.
    ``gone`` is raised where a checkpoint is there (damaged, or another run's: refused, as
    everywhere) or the record has no curves or does not say its task."""
    from mlplab.plots.loss import loss_figure
    from mlplab.plots.run_plots import write_figures

    info = _data_of_record(result)
    kept = any((run_dir / "checkpoints").glob("*.safetensors"))
    if kept or info is None or not result.get("val_epochs"):
        raise gone
    print(f"mlplab: plot drew only the loss curves, from the record: {gone}", file=sys.stderr)
    record = with_every_point(run_dir, result)
    figures = {"loss": lambda: loss_figure(record, info)}
    on_written = (
        (lambda name: print(terminal_text(str(out_dir / name)), flush=True)) if printed else None
    )
    return write_figures(out_dir, figures, fmt, on_written, on_failed)


def _load_noting(load_run: RunLoader, run_dir: Path, data: bool = True, which: str = "last") -> Any:
    """``load_run``, its warning (a best model loaded for a missing last) said as a note:
    one line, not a Python warning's two."""
    with warnings_caught(record=True) as said:
        warnings.simplefilter("always", UserWarning)
        run = load_run(run_dir, which=which, data=data)
    for w in said:
        if not issubclass(w.category, DataChangedWarning):  # plot says it in its own words
            print(f"mlplab: note: {w.message}", file=sys.stderr)
    return run
