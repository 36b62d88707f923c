"""report.html in headless Chromium: it loads with no errors, every image decodes, and it
renders (a screenshot is taken).

Chromium is driven over the DevTools Protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ending in NUL on fds 3 and 4), so the test needs no Python package beyond
the standard library. Set-up: ``scripts/install-chromium.sh``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlplab.reports.api import report
from mlplab.sweeps.api import sweep

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
# Started as `python -c LAUNCHER r w chromium ...`: puts our pipe ends on fds 3 and 4,
# where --remote-debugging-pipe expects them, then becomes Chromium.
LAUNCHER = (
    "import os, sys\n"
    "os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)
TIMEOUT_S = 90.0


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """A headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                str(to_child_r),
                str(from_child_w),
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a command (to the page once attached) and wait for its reply."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        reply = self.wait_for(lambda m: m.get("id") == self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for(self, match: Any, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        """Read messages until one matches; events on the way are kept in ``events``."""
        for event in self.events:
            if match(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "method" in msg:
                    self.events.append(msg)
                if match(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far."""
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails", {}))[:300])
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args", []))[:300])
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(p["entry"].get("text", "")[:300])
        return out

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI; run scripts/install-chromium.sh")
        pytest.skip("Chromium is not installed (scripts/install-chromium.sh installs it)")
    return path


@pytest.mark.browser
def test_report_html_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    log = tmp_path / "runs"
    sweep(
        data="xor",
        n_layer=1,
        hid_dim=[2, 4],
        act=["sigmoid", "tanh"],
        lr=1.0,
        epoch=60,
        seed=[0, 1],
        engine="numpy",
        log_every=0,
        log_path=str(log),
        exp_name="web",
        workers=1,
        report=False,
        verbose=False,
    )
    rep = report(log, exp_name="web", out=tmp_path / "out", verbose=False)
    html_path = rep.html_path
    text = html_path.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text  # nothing outside the file

    browser = Browser(chromium, tmp_path / "profile")
    try:
        browser.open_page()
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.send("Page.navigate", {"url": html_path.resolve().as_uri()})
        browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired")
        images = browser.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify(Array.from(document.images).map("
                "i => [i.complete, i.naturalWidth, i.alt]))",
                "returnByValue": True,
            },
        )
        loaded = json.loads(images["result"]["value"])
        gallery = browser.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify(Array.from(document.querySelectorAll("
                "'.gallery img')).map(i => [i.alt, i.getBoundingClientRect().width]))",
                "returnByValue": True,
            },
        )
        shown = json.loads(gallery["result"]["value"])
        # How the first table's first row aligns each swept setting's cell.
        align = browser.send(
            "Runtime.evaluate",
            {
                "expression": "(() => { const t = document.querySelector('table');"
                " const head = Array.from(t.querySelectorAll('th')).map(h => h.textContent);"
                " const cells = t.querySelector('tbody tr').querySelectorAll('td');"
                " return JSON.stringify(Object.fromEntries(['hid_dim', 'act'].map(n =>"
                " [n, getComputedStyle(cells[head.indexOf(n)]).textAlign]))); })()",
                "returnByValue": True,
            },
        )
        aligned = json.loads(align["result"]["value"])
        height = browser.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
        )["result"]["value"]
        # The whole page in one picture (capped), to look at by eye.
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": 1280,
                "height": min(int(height), 12000),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        shot = browser.send("Page.captureScreenshot", {"format": "png"})
        # A phone, or 1280 pixels at 300% zoom: the page reflows (the gallery's 520-pixel
        # columns pushed it 40 pixels past a 500-pixel window), and only the table's own
        # box scrolls, one a keyboard can reach.
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 420, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        narrow = browser.send(
            "Runtime.evaluate",
            {
                "expression": "(() => { const d = document.documentElement;"
                " const box = document.querySelector('.scroll');"
                " return JSON.stringify([d.scrollWidth, d.clientWidth,"
                " box.scrollWidth > box.clientWidth, box.tabIndex,"
                " box.getAttribute('aria-label'),"
                " Array.from(document.querySelectorAll('th')).every(h =>"
                " h.getAttribute('scope') === 'col')]); })()",
                "returnByValue": True,
            },
        )
        page_width, window_width, box_scrolls, tab_index, label, scoped = json.loads(
            narrow["result"]["value"]
        )
        errors = browser.errors()
    finally:
        browser.close()

    assert errors == []
    assert page_width <= window_width, (page_width, window_width)
    assert box_scrolls and tab_index == 0 and label == "Configs ranked" and scoped
    # A setting of numbers lines up on the right, as the metrics do; one of words, left.
    assert aligned == {"hid_dim": "right", "act": "left"}, aligned
    assert len(loaded) >= 4, loaded  # bars, two curve grids, metric vs setting, heatmap
    # The best run's plots, whatever size they were drawn at, are shown at least half
    # the page's width (the loss plot included), not each at its own size.
    # Each alt names the picture and says what it shows ("loss: the loss and ...").
    assert {alt.split(":")[0] for alt, _ in shown} >= {"loss", "confusion", "surface"}, shown
    assert all(len(alt) > 30 for alt, _ in shown), shown
    assert all(width >= 500 for _, width in shown), shown
    assert all(complete and width > 0 for complete, width, _ in loaded), loaded
    import base64

    png = tmp_path / "report.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


@pytest.mark.browser
def test_a_report_of_two_experiments_and_a_damaged_file_renders(
    chromium: str, tmp_path: Path
) -> None:
    import mlplab

    log = tmp_path / "runs"
    tiny = {"epoch": 8, "log_every": 0, "plots": "none", "engine": "numpy", "verbose": False}
    for seed in (0, 1):
        mlplab.train(data="xor", hid_dim=4, seed=seed, log_path=str(log), exp_name="c", **tiny)
        mlplab.train(data="sinlog", hid_dim=4, seed=seed, log_path=str(log), exp_name="r", **tiny)
    damaged = log / "c" / "c-damaged"
    damaged.mkdir()
    (damaged / "result.json").write_text("{")
    rep = report(log, out=tmp_path / "out", verbose=False)
    browser = Browser(chromium, tmp_path / "profile")
    try:
        browser.open_page()
        browser.send("Page.navigate", {"url": rep.html_path.resolve().as_uri()})
        browser.wait_for(lambda m: m.get("method") == "Page.loadEventFired")
        found = browser.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify([Array.from(document.querySelectorAll('h2'))"
                ".map(h => h.textContent), document.querySelector('.warn').innerText, "
                "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)])",
                "returnByValue": True,
            },
        )
        errors = browser.errors()
    finally:
        browser.close()
    headings, warning, images = json.loads(found["result"]["value"])
    assert errors == []
    assert headings == ["c (classification): runs ranked", "r (regression): runs ranked"]
    assert "c-damaged" in warning and "not valid JSON" in warning
    assert images and all(images)
