"""A self-contained ``report.html``: inline CSS, images as base64 data URIs, no scripts.

It opens from disk with no server and no network: nothing in it points outside the file.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from mlplab.reports.plots import Plot

MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg"}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; margin: .2rem 0 1rem; }
.meta span { margin-right: 1.4rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; }
td.text, th.text { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
tr.best td { background: #e8f5e9; font-weight: 600; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .85rem; margin-top: .3rem; }
.note { color: #555; font-size: .9rem; }
.gallery { display: flex; flex-wrap: wrap; gap: 1rem; }
.gallery figure { flex: 1 1 360px; margin: 0; }
"""


@dataclass
class Page:
    """Everything the page shows; built by :func:`mlplab.reports.api.report`.

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
    best_title: str = ""
    best_meta: dict[str, str] = field(default_factory=dict)
    best_images: list[tuple[str, Path]] = field(default_factory=list)


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
        '<p class="meta">'
        + "".join(f"<span><b>{e(k)}</b>: {e(v)}</span>" for k, v in page.meta.items())
        + "</p>",
        "<h2>Runs ranked</h2>",
    ]
    if page.table_note:
        out.append(f'<p class="note">{e(page.table_note)}</p>')
    out.append('<div class="scroll"><table><thead><tr>')
    out.extend(_cell("th", h, h in page.text_columns) for h in page.table_header)
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(page.table_rows):
        out.append('<tr class="best">' if i == 0 else "<tr>")
        out.extend(_cell("td", v, h in page.text_columns) for h, v in zip(page.table_header, row))
        out.append("</tr>")
    out.append("</tbody></table></div>")
    if page.plots:
        out.append("<h2>Across the sweep</h2>")
    for plot in page.plots:
        out.append(
            f'<figure><img src="{data_uri(plot.png, "image/png")}" alt="{e(plot.title)}">'
            f"<figcaption><b>{e(plot.title)}</b>. {e(plot.caption)}</figcaption></figure>"
        )
    if page.best_title:
        out.append(f"<h2>{e(page.best_title)}</h2>")
        out.append(
            '<p class="meta">'
            + "".join(f"<span><b>{e(k)}</b>: {e(v)}</span>" for k, v in page.best_meta.items())
            + "</p>"
        )
        images = [(n, p) for n, p in page.best_images if p.suffix.lower() in MIME]
        if images:
            out.append('<div class="gallery">')
            for name, path in images:
                uri = data_uri(path.read_bytes(), MIME[path.suffix.lower()])
                out.append(
                    f'<figure><img src="{uri}" alt="{e(name)}">'
                    f"<figcaption>{e(name)}</figcaption></figure>"
                )
            out.append("</div>")
        else:
            out.append('<p class="note">This run has no plots (it ran with plots: none).</p>')
    out.append("</body></html>")
    return "\n".join(out)


def _cell(tag: str, value: str, text: bool) -> str:
    cls = ' class="text"' if text else ""
    return f"<{tag}{cls}>{html.escape(value)}</{tag}>"
