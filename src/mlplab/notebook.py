"""Rich display in Jupyter: the HTML that a run, a sweep and a report show in a notebook.

Jupyter calls ``_repr_html_`` on the last value of a cell. :class:`mlplab.runner.Result`,
:class:`mlplab.sweeps.api.SweepResult` and :class:`mlplab.reports.api.Report` delegate it to the
builders here: a small table (status, metrics, run folder) and, where the run drew plots, the
main plots inline as base64 images, the large ones (a snapshot animation) named with a link,
so that a saved notebook stays small. Outside Jupyter nothing calls them.

This module imports nothing from mlplab, so the classes of every layer can call it; it reads
the objects by their public attributes.
"""

from __future__ import annotations

import base64
import contextlib
import html
import math
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Plot files by suffix; a GIF (the --snapshot_every animation) is linked, not embedded.
IMAGE_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
# Rows of a sweep's or report's table shown in the notebook; the CSV files hold them all.
MAX_ROWS = 20
_STYLE = "border-collapse:collapse;margin:4px 0"
# Plots are shown at one scale, so that their type has one size: a surface's 660 px at
# 420 px, and a loss plot or the 3-D regression view as much wider as they are drawn. A
# cap on the width alone shrank those wide plots to type too small to read.
IMAGE_SCALE = 420 / 660
IMAGE_WIDTH = 420  # px, for a plot whose file does not say its width (SVG)
# A saved notebook keeps every image a cell showed: still plots are embedded up to these
# sizes, the rest named, as is an animation (a run's snapshot GIF and grid took a Result's
# view to 1.5 MB).
EMBED_MAX_BYTES = 384 * 1024  # one plot (a loss plot 50 kB, the ring's surface 240 kB)
EMBED_TOTAL_BYTES = 768 * 1024  # the plots of one view


def plot_files(folder: Path, suffixes: Iterable[str] = IMAGE_MIME) -> dict[Path, int]:
    """The picture files in a run's ``plots`` folder, with their sizes, in name order:
    plain files only. mlplab writes no links there; a link in a run folder handed over
    could name any file of the machine, which a shared page would then carry (a linked
    ``plots`` folder, the pictures of another), and a FIFO or a device would block the
    read or never end it."""
    files: dict[Path, int] = {}
    if folder.is_symlink():  # the folder itself a link: its files are another folder's
        return files
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in suffixes:
            with contextlib.suppress(OSError):  # gone since listed
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode):
                    files[p] = st.st_size
    return files


# The largest picture a report's page embeds: a 100,000-epoch snapshot GIF is a few MB;
# twenty sparse files of 64 MB named as pictures made a page of 1.7 GB.
PAGE_IMAGE_MAX_BYTES = 16 * 1024 * 1024


def read_plot_file(path: Path, limit: int = PAGE_IMAGE_MAX_BYTES) -> bytes | None:
    """The bytes of a picture :func:`plot_files` listed, read from the file it checks as it
    opens it (not a link, a plain file, at most ``limit`` bytes), or None where it is not
    one now: a file swapped for a link between the listing and the read put any file its
    reader may read into a shared page."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return f.read(limit + 1)[:limit]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.4e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4f}"
    return "" if v is None else str(v)


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """An HTML table, every cell escaped."""
    header = list(header)
    head = "".join(f'<th scope="col">{html.escape(str(h))}</th>' for h in header)
    # A key-value table has no header: a row of empty cells drew a blank band on top. Its
    # keys are the rows' headers, so that a screen reader names each value by its key.
    keyed = not any(str(h) for h in header)

    def cell(i: int, v: Any) -> str:
        tag = ("th", ' scope="row"') if keyed and i == 0 else ("td", "")
        return f"<{tag[0]}{tag[1]}>{html.escape(_fmt(v))}</{tag[0]}>"

    body = "".join(
        "<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    thead = "" if keyed else f"<thead><tr>{head}</tr></thead>"
    return f'<table style="{_STYLE}">{thead}<tbody>{body}</tbody></table>'


# What each of a run's pictures shows, for its alt text: a screen reader said "loss" or
# "confusion", a caption's word, of a picture it could not describe.
PLOT_ALT = {
    "loss": "the loss and the metric over the epochs, a line per split",
    "surface": "the model's output over the plane of the two inputs, with the data points",
    "regression_3d": "the model's output as a 3-D surface over the two inputs, with the test "
    "rows' (or, in a run without test rows, the validation rows') true and predicted values "
    "as points",
    "fit": "the model's output along its one input, with the data points",
    "pred_vs_true": "each train and test row's (validation row's, in a run without test rows) "
    "prediction against its true value; on the diagonal is exact",
    "residuals": "each test row's (validation row's, in a run without test rows) residual, "
    "true minus predicted, against its prediction; on the dashed line at 0 is exact",
    "confusion": "the confusion matrix of the test rows (the validation rows, in a run without "
    "test rows): each true class by predicted class",
    "network": "the network: a node per unit, an edge per weight, its width the weight's size "
    "and its colour its sign (orange positive, blue negative)",
    "units": "each hidden unit's output over the two inputs, a panel per unit and a row per "
    "layer (orange on, blue off), its line z = 0 dashed, with the training points",
    "boundary_evolution": "the model's output over the two inputs at moments of training",
}


def plot_alt(stem: str) -> str:
    """A picture's alt text from its file stem: its name and what it shows."""
    name = stem.replace("_", " ")
    return f"{name}: {PLOT_ALT[stem]}" if stem in PLOT_ALT else name


def images(folder: Path | None, limit: int = 8) -> str:
    """The plot files of ``folder`` (png, svg, gif): the main ones as inline ``<img>`` tags,
    the rest named in a line; '' when none.

    A notebook saves what a cell showed, so each embedded plot stays in the file: still
    plots are embedded smallest first while each is at most :data:`EMBED_MAX_BYTES` and they
    total at most :data:`EMBED_TOTAL_BYTES` (``limit`` of them at most), and shown in name
    order. The others, and every GIF (the snapshot animation: many pictures in one, half a
    megabyte), are named with their sizes, linked where the folder is a relative path (a
    notebook's ``runs/...``, which Jupyter opens).
    """
    if folder is None or not folder.is_dir():
        return ""
    files = plot_files(folder)
    embed: set[Path] = set()
    total = 0
    for p, size in sorted(files.items(), key=lambda item: item[1]):
        if (
            p.suffix.lower() != ".gif"
            and len(embed) < limit
            and size <= EMBED_MAX_BYTES
            and total + size <= EMBED_TOTAL_BYTES
        ):
            embed.add(p)
            total += size
    tags = []
    for p in (p for p in files if p in embed):
        raw = read_plot_file(p, EMBED_MAX_BYTES)
        if raw is None:  # no plain file of its size now
            continue
        width = pixel_width(raw)
        style = (
            f"width:{round(width * IMAGE_SCALE)}px;max-width:100%"
            if width
            else f"max-width:{IMAGE_WIDTH}px"
        )
        src = f"data:{IMAGE_MIME[p.suffix.lower()]};base64,{base64.b64encode(raw).decode('ascii')}"
        name = html.escape(p.stem.replace("_", " "))
        alt = html.escape(plot_alt(p.stem))
        tags.append(
            f'<figure style="display:inline-block;margin:4px"><img src="{src}" alt="{alt}" '
            f'style="{style}"/><figcaption>{name}</figcaption></figure>'
        )
    rest = [
        (
            f'<a href="{html.escape(p.as_posix())}">{html.escape(p.name)}</a>'
            if not p.is_absolute()
            else f"<code>{html.escape(p.name)}</code>"
        )
        + f" ({files[p] / 1024:.0f} kB)"
        for p in files
        if p not in embed
    ]
    note = (
        f"<p>Not embedded, to keep a saved notebook small: {', '.join(rest)}, in "
        f"<code>{html.escape(str(folder))}</code>.</p>"
        if rest
        else ""
    )
    return f"<div>{''.join(tags)}{note}</div>" if tags or rest else ""


def pixel_width(data: bytes) -> int | None:
    """The width in pixels that a PNG or GIF file's header declares; None for others."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(data[6:8], "little")
    return None


def result_html(
    title: str,
    record: Mapping[str, Any],
    metrics: Mapping[str, float],
    run_dir: Path | None,
    by_target: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """One run: status, engine, time, its final metrics by split, the folder, then its plots.

    ``metrics`` maps names such as ``test_acc`` to values; they are laid out split by metric.
    ``by_target`` (a regression of several targets): each target's own, as ``{"flow":
    {"test_mae": ...}}``, on a row of its own under each split's mean.
    """
    split_names = ("train", "val", "test")
    splits = [s for s in split_names if any(k.startswith(f"{s}_") for k in metrics)]
    names = sorted({k.split("_", 1)[1] for k in metrics if k.split("_", 1)[0] in split_names})
    rows = []
    for s in splits:
        rows.append([s, *(metrics.get(f"{s}_{m}") for m in names)])
        for target, own in (by_target or {}).items() if len(by_target or {}) > 1 else ():
            rows.append([f"{s}: {target}", *(own.get(f"{s}_{m}") for m in names)])
    if rows and record.get("n_test") == 0:  # split 0.9 0.1 0: a row says there is no test
        rows.append(["test (no rows)", *("–" for _ in names)])
    info = [
        ("status", record.get("status")),
        ("engine", record.get("engine_used")),
        ("wall time (s)", record.get("wall_time_s")),
        ("best epoch", record.get("best_epoch")),
        ("run dir", str(run_dir) if run_dir is not None else "not recorded"),
        # Why a run did not finish; a diverged run has no final metrics to lay out below.
        (
            "message",
            (record.get("message") or None) if record.get("status") != "finished" else None,
        ),
    ]
    return (
        f"<div><b>{html.escape(title)}</b>"
        + table(["", ""], [(k, v) for k, v in info if v is not None])
        + (table(["split", *names], rows) if rows else "")
        + images(run_dir / "plots" if run_dir is not None else None)
        + "</div>"
    )


def frame_html(df: Any, columns: list[str]) -> str:
    """The first :data:`MAX_ROWS` rows of a DataFrame, the given columns that it has."""
    cols = [c for c in columns if c in df.columns]
    rows = df[cols].head(MAX_ROWS).itertuples(index=False, name=None)
    note = f"<i>first {MAX_ROWS} of {len(df)} rows</i>" if len(df) > MAX_ROWS else ""
    return table(cols, rows) + note


def report_html(rep: Any) -> str:
    """A report (or one of its sections): its paths, then each experiment's runs ranked
    (status, metrics, run dir) and its best run's plots."""
    parts = [section_html(sec) for sec in getattr(rep, "sections", [rep])]
    head = (
        table(["", ""], [("report", str(rep.html_path)), ("table", str(rep.csv_path))])
        if hasattr(rep, "html_path")  # a Report; a Section has no files of its own
        else ""
    )
    return f"<div><b>mlplab report</b>{head}{''.join(parts)}</div>"


def section_html(sec: Any) -> str:
    """One experiment of a report: counts, the ranked runs and the best run's plots."""
    metrics = [c for c in sec.runs.columns if c.split("_", 1)[0] in ("train", "val", "test")]
    metrics = [c for c in metrics if c.rsplit("_", 1)[-1] in ("acc", "loss", "mae", "r2")]
    metrics = sorted(metrics, key=lambda c: (c != sec.metric, c))
    head = table(
        ["", ""],
        [
            ("runs", len(sec.runs)),
            ("configs", len(sec.summary)),
            ("swept", ", ".join(sec.variables) or "seed replicates only"),
            ("ranked by", f"{sec.metric} (mean over seeds)"),
        ],
    )
    runs = frame_html(sec.runs, ["run_id", *sec.variables, "seed", "status", *metrics, "run_dir"])
    best = sec.best_run
    plots = images(Path(str(best["run_dir"])) / "plots") if best is not None else ""
    if plots:
        plots = "<b>Best run's plots</b>" + plots
    return f"<p><b>{html.escape(sec.title)}</b></p>{head}{runs}{plots}"


def sweep_html(res: Any) -> str:
    """A sweep: its counts and spec; then its report, or this call's outcomes without one."""
    counts = getattr(res, "counts", {}) or {}
    head = table(
        ["", ""],
        [
            ("runs", len(res.configs)),
            *((k, v) for k, v in counts.items()),
            *([] if "interrupted" in counts else [("interrupted", res.interrupted)]),
            ("wall time (s)", res.wall_time_s),
            ("spec", str(res.spec_path)),
        ],
    )
    if res.report is not None:
        body = report_html(res.report)
    else:
        body = table(
            ["run_id", "status", "wall_time_s", "error"],
            [
                [o.get("run_id"), o.get("status"), o.get("wall_time_s"), o.get("error")]
                for o in res.outcomes[:MAX_ROWS]
            ],
        )
    return f"<div><b>mlplab sweep</b>{head}{body}</div>"
