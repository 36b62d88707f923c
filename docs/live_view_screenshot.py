"""Make docs/live_view.png, the README's picture of the live view, from a real run.

It executes a one-cell notebook (``mlplab.train`` of examples/xor_nn.yaml) in a real Jupyter
kernel with nbclient, exports it to HTML with nbconvert, and takes a screenshot with
Debian's headless Chromium (``scripts/install-chromium.sh``). The picture is the notebook as
it is saved after the run: the live view in its last state, then the lab's printout.

    pip install -e ".[docs]"
    python docs/live_view_screenshot.py            # -> docs/live_view.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbclient
import nbformat
from nbconvert import HTMLExporter
from PIL import Image, ImageChops

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "live_view.png"
CELL = """\
import mlplab
result = mlplab.train("xor_nn.yaml", log_every=2500, plots="none")
"""


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("live_view_screenshot: no chromium; run scripts/install-chromium.sh", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        # The kernel works in the temporary folder: the config is copied there, runs/ lands there.
        shutil.copy(REPO / "examples" / "xor_nn.yaml", tmp)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp}}
        ).execute()
        page, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        html = Path(tmp) / "live_view.html"
        html.write_text(page, encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=900,1000",
                f"--screenshot={shot}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        img = Image.open(shot).convert("RGB")
        # Trim the page's empty margin, keeping a small white border.
        box = ImageChops.difference(img, Image.new("RGB", img.size, "white")).getbbox()
        if box is not None:
            left, top, right, bottom = box
            img = img.crop((max(left - 12, 0), max(top - 12, 0), right + 12, bottom + 12))
        OUT.parent.mkdir(exist_ok=True)
        img.save(OUT, optimize=True)
    print(f"wrote {OUT.relative_to(REPO)} ({img.size[0]}x{img.size[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
