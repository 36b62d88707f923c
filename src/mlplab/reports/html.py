"""A self-contained ``report.html``: inline CSS, images as base64 data URIs, no scripts.

It opens from disk with no server and no network: nothing in it points outside the file.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from mlplab.notebook import plot_alt, read_plot_file
from mlplab.reports.plots import Plot

MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg"}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; margin: .2rem 0 1rem; }
.meta span { margin-right: 1.4rem; }
/* A long folder path breaks where it must, rather than widening the page. */
.meta, figcaption, .note, .warn li { overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; }
td.text, th.text { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
tr.best td { background: #e8f5e9; font-weight: 600; }
.scroll { overflow-x: auto; }
.scroll:focus { outline: 2px solid #2f6eb5; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
figure { margin: 1rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .85rem; margin-top: .3rem; }
.note { color: #555; font-size: .9rem; }
.warn { background: #fff4e5; border: 1px solid #f0c36d; padding: .4rem .8rem; margin: 1rem 0; }
.warn ul { margin: .3rem 0; font-size: .85rem; }
/* The best run's plots come at many sizes: two to a row, each drawn at the same width,
   so a small loss plot is as readable as a large surface. */
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr));
           grid-auto-flow: dense;
           gap: 1rem; }
.gallery figure { margin: 0; }
.gallery figure.wide { grid-column: 1 / -1; }
.gallery img { width: 100%; height: auto; }
"""


@dataclass
class PageSection:
    """One experiment and task kind: its ranked table, figures and best run.

    ``table_header``/``table_rows`` are already-formatted strings; ``text_columns`` are
    left-aligned. ``best_images`` are ``(name, path)`` of the best run's own plots.
    """

    title: str
    meta: dict[str, str]
    table_header: list[str]
    table_rows: list[list[str]]
    text_columns: set[str] = field(default_factory=set)
    table_note: str = ""
    plots: list[Plot] = field(default_factory=list)
    plots_note: str = ""
    best_title: str = ""
    best_meta: dict[str, str] = field(default_factory=dict)
    best_images: list[tuple[str, Path]] = field(default_factory=list)


@dataclass
class Page:
    """Everything the page shows; built by :func:`mlplab.reports.api.report`.

    ``skipped`` lines name the result.json files left out and why; ``notes`` say what
    the tables' numbers need read with them (the report's printed notes).
    """

    title: str
    meta: dict[str, str]
    sections: list[PageSection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render(page: Page) -> str:
    """The HTML document as one string."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(page.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(page.title)}</h1>",
        _meta(page.meta),
    ]
    if page.skipped:
        out.append(
            f'<div class="warn"><b>{len(page.skipped)} result.json file{"s" if len(page.skipped) > 1 else ""} left out</b><ul>'
            + "".join(f"<li>{e(line)}</li>" for line in page.skipped)
            + "</ul></div>"
        )
    if page.notes:
        out.append(
            '<div class="warn"><b>Read the tables with</b><ul>'
            + "".join(f"<li>{e(line)}</li>" for line in page.notes)
            + "</ul></div>"
        )
    for sec in page.sections:
        out.extend(_section(sec, len(page.sections) > 1))
    out.append("</body></html>")
    return "\n".join(out)


def _section(sec: PageSection, several: bool) -> list[str]:
    e = html.escape
    out = [f"<h2>{e(sec.title)}: runs ranked</h2>" if several else "<h2>Runs ranked</h2>"]
    out.append(_meta(sec.meta))
    if sec.table_note:
        out.append(f'<p class="note">{e(sec.table_note)}</p>')
    # A table wider than the window scrolls in its box: focusable and named, so that a
    # keyboard reaches its far columns and a screen reader says what it is.
    name = f"{sec.title}: configs ranked" if several else "Configs ranked"
    out.append(
        f'<div class="scroll" tabindex="0" role="region" aria-label="{e(name)}">'
        f"<table><caption>{e(name)}</caption><thead><tr>"
    )
    out.extend(_cell("th", h, h in sec.text_columns) for h in sec.table_header)
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(sec.table_rows):
        # The first row is the best only where it has a rank ("–": no run finished).
        out.append('<tr class="best">' if i == 0 and row[0] != "–" else "<tr>")
        out.extend(_cell("td", v, h in sec.text_columns) for h, v in zip(sec.table_header, row))
        out.append("</tr>")
    out.append("</tbody></table></div>")
    if sec.plots:
        out.append(f"<h3>Across {e(sec.title) if several else 'the sweep'}</h3>")
        if sec.plots_note:
            out.append(f'<p class="note">{e(sec.plots_note)}</p>')
    for plot in sec.plots:
        out.append(
            f'<figure><img src="{data_uri(plot.png, "image/png")}" alt="{e(plot.title)}">'
            f"<figcaption><b>{e(plot.title)}</b>. {e(plot.caption)}</figcaption></figure>"
        )
    if sec.best_title:
        out.append(f"<h3>{e(sec.best_title)}</h3>")
        out.append(_meta(sec.best_meta))
        images = [(n, p) for n, p in sec.best_images if p.suffix.lower() in MIME]
        if images:
            out.append('<div class="gallery">')
            for name, path in images:
                data = read_plot_file(path)
                if data is None:  # no plain file now, or past a picture's size
                    continue
                uri = data_uri(data, MIME[path.suffix.lower()])
                size = png_size(data)
                # A wide picture (the loss plot's panels side by side) takes the whole row,
                # so its text is as large as that of the square ones.
                wide = size is not None and size[0] > 1.6 * size[1]
                cls = ' class="wide"' if wide else ""
                out.append(
                    f'<figure{cls}><img src="{uri}" alt="{e(plot_alt(path.stem))}">'
                    f"<figcaption>{e(name)}</figcaption></figure>"
                )
            out.append("</div>")
        else:
            out.append('<p class="note">This run has no plots (it ran with plots: none).</p>')
    return out


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's header (None for another format)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _meta(items: dict[str, str]) -> str:
    e = html.escape
    return (
        '<p class="meta">'
        + "".join(f"<span><b>{e(k)}</b>: {e(v)}</span>" for k, v in items.items())
        + "</p>"
    )


def _cell(tag: str, value: str, text: bool) -> str:
    cls = ' class="text"' if text else ""
    scope = ' scope="col"' if tag == "th" else ""  # a column's header, for screen readers
    return f"<{tag}{scope}{cls}>{html.escape(value)}</{tag}>"
