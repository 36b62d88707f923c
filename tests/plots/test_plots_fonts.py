"""Text in a script the plot font lacks (Korean labels and column names): one line that
names the characters and what to install, from a run, `mlplab plot` and a sweep's workers;
an installed CJK font is used where the style's font has no glyph."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mlplab.plots import style

CLASSES = ["봄", "여름", "가을", "겨울"]
NOTE = "mlplab: plots: no installed font has the characters "


def _korean_csv(folder: Path) -> Path:
    path = folder / "한글 데이터.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["기온", "습도", "계절"])
        for i in range(80):
            k = i % 4
            out.writerow([k + (i % 7) / 10, 2 * k - (i % 5) / 10, CLASSES[k]])
    return path


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlplab", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _font_lines(stderr: str) -> list[str]:
    """The lines about glyphs, in mlplab's words or in matplotlib's (and the source line
    Python's own warning form adds after each)."""
    return [
        line
        for line in stderr.splitlines()
        if "font" in line or "Glyph" in line or "draw()" in line
    ]


def _check_said_once_a_process(stderr: str, processes: int = 1) -> None:
    lines = _font_lines(stderr)
    if style._installed_fallback():  # a CJK font here draws them all: nothing to say
        assert lines == [], stderr
        return
    assert 1 <= len(lines) <= processes, stderr
    for line in lines:
        assert line.startswith(NOTE), line
        assert all(ch in line for ch in "".join(CLASSES) + "기온습도"), line
        assert "fonts-noto-cjk" in line and "Noto Sans CJK" in line, line


def test_a_run_and_its_redraw_say_in_one_line_which_characters_no_font_has(tmp_path):
    """A run on Korean data printed 28 lines of matplotlib's, one per character missing
    from DejaVu Sans; `mlplab plot` as many again."""
    data = _korean_csv(tmp_path)
    proc = _cli(
        "train", "--data", data.name, "--target", "계절", "--epoch", "20", "--engine", "numpy",
        "--log_every", "0", "--log_path", "runs", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    _check_said_once_a_process(proc.stderr)
    (run_dir,) = (tmp_path / "runs" / "exp").glob("exp-*")
    assert (run_dir / "plots" / "confusion.png").is_file()
    proc = _cli("plot", run_dir, "--out", "again", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _check_said_once_a_process(proc.stderr)


def test_a_sweeps_workers_say_it_in_mlplabs_one_line_too(tmp_path):
    """The workers printed Python's own form: `.../style.py:206: UserWarning: Glyph ...`
    and `  canvas.draw()`, per character and picture (296 lines for 4 runs)."""
    data = _korean_csv(tmp_path)
    proc = _cli(
        "sweep", "--data", data.name, "--target", "계절", "--hid_dim", "4", "8",
        "--lr", "0.01", "0.1", "--epoch", "10", "--engine", "numpy", "--log_every", "0",
        "--workers", "2", "--log_path", "runs", "--no_report", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "UserWarning" not in proc.stderr
    _check_said_once_a_process(proc.stderr, processes=2)


@style.styled
def _titled(text: str):
    fig = style.new_figure(3, 2)
    fig.add_subplot().set_title(text)
    return fig


def _missed(text: str) -> list[str]:
    """The glyph warnings matplotlib gives while a figure titled ``text`` is drawn."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        style._write_png(_titled(text), io.BytesIO())
    return [str(w.message) for w in said if "Glyph" in str(w.message)]


def test_an_installed_fallback_font_draws_what_the_style_font_lacks(monkeypatch):
    """A font of CJK_FONTS that is installed is tried after DejaVu Sans (font.family; a
    font.sans-serif list gives its first installed font alone); one that is not installed
    is left out, as matplotlib would log 'findfont: Font family ... not found' for it.
    STIXGeneral, which matplotlib ships, stands in for a CJK font: it has ⌒ and ℊ, which
    DejaVu Sans lacks."""
    monkeypatch.setattr(style, "CJK_FONTS", ("No Such Font CJK",))
    style._installed_fallback.cache_clear()
    assert len(_missed("a ⌒ ℊ")) == 2
    monkeypatch.setattr(style, "CJK_FONTS", ("No Such Font CJK", "STIXGeneral"))
    style._installed_fallback.cache_clear()
    try:
        assert style._installed_fallback() == ("STIXGeneral",)
        assert _missed("a ⌒ ℊ") == []
    finally:
        monkeypatch.undo()
        style._installed_fallback.cache_clear()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_pictures_saved_in_a_notebook_say_it_once_a_process(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(style, "_SAID", set())
    monkeypatch.setattr(style, "CJK_FONTS", ())
    style._installed_fallback.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for _ in range(2):
                style.save_figure(_titled("계절: 봄"), tmp_path / f"a.{fmt}", fmt)
    finally:
        monkeypatch.undo()
        style._installed_fallback.cache_clear()
    texts = [str(w.message) for w in said]
    assert texts == [texts[0]] and texts[0].startswith(NOTE + "'계절봄'"), texts
    # The note names the user's line (this file's), not contextlib's, through which it came.
    assert said[0].filename == __file__, said[0].filename


def test_the_note_names_a_font_of_each_missing_script(tmp_path):
    """An emoji or a Hindi label was told to install the Korean, Chinese and Japanese
    font, which has neither; and the note spoke of PNG plots alone, though an SVG's text
    is drawn as outlines of the same fonts."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    if names & {"Symbola", "Noto Sans Devanagari"}:
        pytest.skip("a font here has these characters")
    style._SAID.clear()  # the note is said once a process
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        with style.fonts_noted():
            fig = style.new_figure(3, 2)
            fig.suptitle("कुत्ता 🎉")
            fig.savefig(io.BytesIO(), format="svg")
    (line,) = [str(w.message) for w in got if str(w.message).startswith(NOTE)]
    assert "🎉" in line and "क" in line and "drawn as empty boxes in the plots;" in line
    assert "emoji and symbols: Symbola, package fonts-symbola" in line
    assert "; other scripts: the Noto font of the script, package fonts-noto)" in line
    assert "fonts-noto-cjk" not in line
