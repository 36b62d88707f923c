"""One legible, fast style for every mlplab figure, and the one way figures are saved.

Figures are built as :class:`matplotlib.figure.Figure` objects on an Agg canvas, never
through ``pyplot``: nothing opens a window, nothing depends on the user's backend or on a
display (CI, SSH, a sweep worker), and ``pyplot``'s global figure registry is never touched, so
drawing leaks no figures. Skipping pyplot also keeps the import cheap,
which matters because every ``mlplab train`` draws at its end.

Every function that builds or saves a figure runs under :func:`styled`, so the style
holds whoever calls it (``train``, ``mlplab plot``, a notebook) and whatever the user's
``matplotlibrc`` says.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, ParamSpec, TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from mlplab.errors import users_stacklevel, warnings_caught
from mlplab.plots.labels import display_name as display_name  # re-exported
from mlplab.plots.labels import model_label as model_label  # re-exported

DPI = 100  # 100 dpi: sharp enough to read, small and quick to encode

# Every text drawn as written. Names come from the user (a model name, a data file's name,
# its class labels and column names, swept values), and matplotlib reads text between two
# `$` as mathtext: a class "$5 to $10" lost its `$` to italics, a model `$\foo{$` failed
# the whole picture. mlplab writes no mathtext of its own (R² is unicode), so one switch,
# which every text made under it keeps (titles, labels, legends, tick labels), rather
# than `$` escaped wherever a name enters. TeX and mathtext tick labels stay off too,
# whatever a user's matplotlibrc says: TeX reads the same `$`, and mathtext tick labels
# would now print as `$...$`.
TEXT_AS_WRITTEN: dict[str, Any] = {
    "text.parse_math": False,
    "text.usetex": False,
    "axes.formatter.use_mathtext": False,
}

# Font sizes >= 10 pt so the figures read well in a report or on a slide.
STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.framealpha": 0.85,
    "figure.titlesize": 13,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.interpolation": "nearest",
    # Deterministic SVG: fixed element ids, so `mlplab plot` redraws identical files; text
    # as text, which a paper's figure can edit and search (as paths it could not).
    "svg.hashsalt": "mlplab",
    "svg.fonttype": "none",
    **TEXT_AS_WRITTEN,
}

# Binary surfaces: class 0 blue, class 1 orange, undecided white: TensorFlow Playground's two
# colours, the other way round (there orange is the negative class), as matplotlib orders them.
# Mistakes are marked in near-black: a red rim vanished on orange points and was red on
# green to the red-green colour blind, and many red rims blurred into one band.
BLUE, ORANGE, WRONG = "#2f6eb5", "#e8871e", "#111111"
# Points are a shade darker than the regions, so a correct point stays visible on its own
# class's region (with a white rim).
POINT_BLUE, POINT_ORANGE = "#1b4a87", "#b35f00"
BINARY_CMAP = LinearSegmentedColormap.from_list("mlplab_binary", [BLUE, "#f7f7f7", ORANGE])
# Class colours for multiclass plots: Okabe and Ito's seven, which readers of any colour
# blindness tell apart (tab10's purple after blue was one blue to a protanope, CIELAB
# distance 2.2; these keep 10.9 or more apart), then three darker ones. Mistakes are
# marked near-black (WRONG), never by a colour of these.
CLASS_COLORS = [
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#8c564b",
    "#7f7f7f",
    "#393b79",
]
# Test is Okabe and Ito's bluish green: tab10's green beside val's orange was one colour to
# readers with protanopia (CIELAB distance 4.6, against 45 now).
SERIES = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#009e73"}
# Train and test points drawn together (pred_vs_true, fit): Okabe and Ito's blue and
# vermilion. SERIES's blue and green ran together on a projector, as two series of curves
# do not: a line is wider than a point.
SPLIT_POINTS = {"train": "#0072b2", "test": "#d55e00", "val": "#d55e00"}  # val: no test split

# Fonts for Korean, Chinese and Japanese text (class labels, column names), which the
# style's font (DejaVu Sans) has no characters of: the first of them installed is tried
# after it. Only an installed one is named, as matplotlib logs "findfont: Font family ...
# not found" for each family it lacks; and only in font.family, as font.sans-serif gives
# its first installed font alone, with no fallback to the others.
CJK_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans KR",
    "Source Han Sans K",
    "Source Han Sans",
    "NanumGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "Microsoft YaHei",
    "SimHei",
    "Hiragino Sans",
    "Yu Gothic",
    "MS Gothic",
    "WenQuanYi Zen Hei",
)


@functools.cache
def _installed_fallback() -> tuple[str, ...]:
    """The first of :data:`CJK_FONTS` that matplotlib knows of here, if any."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in CJK_FONTS if name in installed)[:1]


def with_fallback_font(rc: dict[str, Any]) -> dict[str, Any]:
    """``rc`` with an installed CJK font (:data:`CJK_FONTS`) after the families in use."""
    families = list(rc.get("font.family", mpl.rcParams["font.family"]))
    extra = [name for name in _installed_fallback() if name not in families]
    return {**rc, "font.family": [*families, *extra]} if extra else rc


P = ParamSpec("P")
R = TypeVar("R")


def styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` under :data:`STYLE` (fonts, dpi, deterministic SVG ids)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(with_fallback_font(STYLE)):  # type: ignore[arg-type]  # literal keys
            return fn(*args, **kwargs)

    return wrapper


# matplotlib's warning for a character that no font of a text has, once per character and
# figure: a run on Korean data printed 28 of them, a sweep's workers hundreds.
_GLYPH_MISSING = re.compile(r"Glyph (\d+) \(.*\) missing from font\(s\) ", re.DOTALL)
_NOTING: list[dict[str, None]] = []  # the characters missed so far, while fonts_noted runs
_SAID: set[str] = set()  # the notes given in this process: one a process (a sweep's worker)
MAX_NAMED_GLYPHS = 20


@contextlib.contextmanager
def fonts_noted() -> Iterator[None]:
    """Say in one line which characters no installed font could draw while this runs (a
    run's plots, ``mlplab plot``, a report), and what to do, rather than matplotlib's
    warning for each character of each figure. Nested, the outermost one says it; the
    same note is said once in a process.

    It collects matplotlib's warnings, through Python's warnings machinery, which is the
    process's own: two threads drawing at once (two ``train()`` calls of a web page) take
    turns (:func:`mlplab.errors.warnings_caught`); another library's ``catch_warnings``
    in another thread may still let matplotlib's warnings through."""
    with warnings_caught():  # another thread's waits; one nested in this thread goes on
        if _NOTING:
            yield
            return
        missed: dict[str, None] = {}  # in the order met
        warnings.filterwarnings("always", _GLYPH_MISSING.pattern, UserWarning)
        shown = warnings.showwarning

        def note(
            message: Warning | str, category: type[Warning], *where: Any, **named: Any
        ) -> None:
            if issubclass(category, UserWarning) and (m := _GLYPH_MISSING.match(str(message))):
                if (char := chr(int(m[1]))).isprintable():  # no font draws a control code
                    missed[char] = None
            else:  # another warning goes on as it would have (its file, line, ...)
                shown(message, category, *where, **named)

        warnings.showwarning = note
        _NOTING.append(missed)
        try:
            yield
        finally:
            _NOTING.pop()
    if missed:
        _say_missing_glyphs(list(missed))


def _say_missing_glyphs(chars: list[str]) -> None:
    shown = "".join(chars[:MAX_NAMED_GLYPHS])
    more = f" and {len(chars) - MAX_NAMED_GLYPHS} more" if len(chars) > MAX_NAMED_GLYPHS else ""
    text = (
        f"mlplab: plots: no installed font has the characters {shown!r}{more}, drawn as "
        f"empty boxes in the plots; {_font_cure(chars)}"
    )
    if text not in _SAID:
        _SAID.add(text)
        warnings.warn(text, UserWarning, stacklevel=users_stacklevel())


def _font_cure(chars: list[str]) -> str:
    """Which fonts have ``chars``, by script: the CJK font told of an emoji or of Hindi
    had none of them."""
    import unicodedata

    def script(c: str) -> str:
        name = unicodedata.name(c, "")
        if any(w in name for w in ("CJK", "HANGUL", "HIRAGANA", "KATAKANA")):
            return "Korean, Chinese, Japanese: Noto Sans CJK, package fonts-noto-cjk"
        if ord(c) >= 0x1F000 or unicodedata.category(c) == "So":
            # A font of colour emoji is no help: matplotlib draws outlines only.
            return "emoji and symbols: Symbola, package fonts-symbola"
        return "other scripts: the Noto font of the script, package fonts-noto"

    fonts = "; ".join(sorted({script(c) for c in chars}))  # in one order, whatever the chars
    return (
        f"install a font that has them ({fonts}) and delete matplotlib's list of fonts, "
        f"fontlist-*.json in {mpl.get_cachedir()!r}"
    )


def new_figure(width: float, height: float, layout: Literal["constrained"] | None = None) -> Figure:
    """An empty figure of ``width`` x ``height`` inches on its own Agg canvas.

    ``layout="constrained"`` lets matplotlib place the axes so that every label, colour
    bar and legend outside them fits in the figure.
    """
    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def ink_on(fill: Any) -> str:
    """``black`` or ``white``: whichever text colour contrasts more with ``fill`` (by WCAG's
    relative luminance). White on a mid-blue confusion cell stood at 2.8:1; black there is
    7.6:1."""
    from matplotlib.colors import to_rgb

    c = np.array(to_rgb(fill))
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = float(c @ [0.2126, 0.7152, 0.0722])
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def class_colors(n: int) -> list[str]:
    """``n`` distinct class colours (cycled past 10 classes)."""
    return [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(n)]


def class_cmap(n: int) -> ListedColormap:
    """A colormap with one flat colour per class, for class-index images and colorbars."""
    return ListedColormap(class_colors(n), name=f"mlplab_classes_{n}")


MAX_CLASS_TICKS = 20  # classes named on a colour bar; past this the bar only says how many


def class_colorbar(fig: Figure, names: list[str], **where: Any) -> Any:
    """A colour bar of one flat colour per class, named by ``names`` (if few enough).

    ``where`` is ``cax=`` or ``ax=`` as for :meth:`Figure.colorbar`. Past
    :data:`MAX_CLASS_TICKS` classes the bar names none and its label says how many
    classes share the repeating colours.
    """
    n = len(names)
    if n <= MAX_CLASS_TICKS:
        norm = BoundaryNorm(np.arange(n + 1) - 0.5, n)
        mappable = ScalarMappable(norm=norm, cmap=class_cmap(n))
        cb = fig.colorbar(mappable, label="predicted class (faded: unsure)", **where)
        cb.set_ticks(list(range(n)), labels=names)
        return cb
    # One band per colour of the palette, not per class: a bar of 10,000 bands (and
    # their ticks) takes minutes to draw and shows nothing more.
    k = len(CLASS_COLORS)
    mappable = ScalarMappable(norm=BoundaryNorm(np.arange(k + 1) - 0.5, k), cmap=class_cmap(k))
    label = f"predicted class: {n} classes, colours repeat (faded: unsure)"
    cb = fig.colorbar(mappable, label=label, **where)
    cb.set_ticks([])
    cb.minorticks_off()
    return cb


@styled
def save_figure(fig: Figure, path: Path | IO[bytes], fmt: str) -> None:
    """Write ``fig`` to ``path`` (a file, or a binary stream) as PNG or SVG.

    PNG is encoded with light zlib compression (level 1): several times faster than
    the default, for files that stay a few tens of kB. SVG drops the date from its
    metadata so that the same figure gives the same bytes.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    with fonts_noted():
        _save_figure(fig, path, fmt)


def _save_figure(fig: Figure, path: Path | IO[bytes], fmt: str) -> None:
    if isinstance(path, Path):
        # Whole or not at all: a full disk had left 0-byte pictures in a finished run.
        from mlplab.runs.atomic import atomic_open

        with atomic_open(path, "wb") as f:
            _save_figure(fig, f, fmt)
        return
    if fmt == "png":
        _write_png(fig, path)
    else:
        fig.savefig(path, format="svg", metadata={"Date": None})


def _write_png(fig: Figure, path: Path | IO[bytes]) -> None:
    """The Agg picture as a PNG: what ``savefig`` writes, without the alpha channel."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    encode_png(canvas, path)


def encode_png(canvas: FigureCanvasAgg, path: Path | IO[bytes]) -> None:
    """Encode what ``canvas`` last drew as a PNG.

    Figures have an opaque face, so RGB holds the same pixels in three quarters of the
    bytes, which zlib then compresses about a quarter faster. A figure that is not
    opaque (a user's transparent style) keeps its alpha.
    """
    rgba = canvas.buffer_rgba()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), rgba, "raw")
    if np.asarray(rgba)[..., 3].min() == 255:
        image = image.convert("RGB")
    info = PngInfo()
    info.add_text("Software", f"Matplotlib version{mpl.__version__}, https://matplotlib.org/")
    image.save(path, format="png", compress_level=1, pnginfo=info, dpi=(DPI, DPI))


def set_title(ax: Any, text: str) -> Any:
    """Title ``ax`` at a fixed height above it, each line wrapped to its column's width.

    Giving ``y`` turns off matplotlib's automatic title placement, which measures every
    tick label of the axes (and of its siblings) on each draw to dodge them; no mlplab
    plot has labels above its axes, so the fixed place is right and drawing is faster.
    A line wider than the figure was cut at both ends (a best model's test R², lost).
    """
    spec = ax.get_subplotspec()
    columns = spec.get_gridspec().ncols if spec is not None else 1
    return ax.set_title(wrap_title(text, ax.figure.get_size_inches()[0] / columns), y=1.0, pad=8)


def centre_title(ax: Any) -> None:
    """Centre ``ax``'s title (from :func:`set_title`) on the figure, as the axes are laid
    out: call it once the figure is filled.

    :func:`set_title` wraps lines to the figure's width, but matplotlib centres a title on
    its axes: where tick labels on one side and a colour bar on the other push the axes
    off the figure's centre, a line that fit ran past the nearer edge (a best model's
    confusion matrix lost the first letter of its data's name).
    """
    fig = ax.get_figure(root=True)
    fig.draw_without_rendering()  # the layout: where the axes sit
    box = ax.get_position()
    ax.title.set_x((0.5 - box.x0) / box.width)  # the figure's middle, in the axes' units


def set_suptitle(fig: Figure, text: str, beside: float = 0.0, **kw: Any) -> Any:
    """The figure's title, each line wrapped to its width (a line wider than the figure
    was cut at both ends: a best model's test R², lost), less ``beside`` inches on each
    side (a legend at the title's height)."""
    width = fig.get_size_inches()[0] - 2 * beside
    return fig.suptitle(wrap_title(text, width, STYLE["figure.titlesize"]), **kw)


# A title line's room: the width it is wrapped to, less this many inches.
TITLE_SIDES = 0.3


def wrap_title(text: str, width: float, size: float | None = None) -> str:
    """Each line of ``text`` wrapped, at spaces, to fit a figure ``width`` inches wide.

    A caller's label can be long (backprop's note of which edges carry their values ran
    past both edges of a 3-layer diagram, cut off mid-word). Lines are measured in the
    title's font, not counted in characters: a count safe for wide characters (∝, →)
    wrapped a 5-inch diagram's title at 42 of them, halfway across.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    # ``size``: the font's, a figure title's 13 pt (an axes' 12 by default): measured at
    # 12, a 13 pt line that "fit" ran past the figure's edges.
    renderer = RendererAgg(1, 1, DPI)
    font = FontProperties(size=size or STYLE["axes.titlesize"])
    room = (width - TITLE_SIDES) * DPI

    def fits(line: str) -> bool:
        return renderer.get_text_width_height_descent(line, font, ismath=False)[0] <= room

    def pieces(word: str) -> list[str]:
        # A word wider than the room (a snake_case model name) is cut where it must be,
        # as it would otherwise run past both edges uncut.
        out, part = [], ""
        for ch in word:
            if part and not fits(part + ch):
                out.append(part)
                part = ""
            part += ch
        return [*out, part]

    out = []
    for line in text.split("\n"):
        words = [p for w in line.split(" ") for p in (pieces(w) if not fits(w) else [w])]
        for word in words[1:]:
            if fits(f"{words[0]} {word}"):
                words[0] = f"{words[0]} {word}"
            else:
                out.append(words[0])
                words[0] = word
        out.append(words[0])
    return "\n".join(out)
