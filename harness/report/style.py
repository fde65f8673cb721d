"""One look for every figure `tinyhil report` writes: sizes for a paper's columns, fonts embedded in
the PDF as TrueType (Type 42, never Type 3), Paul Tol's colour-blind-safe palettes, a marker (or a
hatch) per series so a grey print still separates them, and tick formatters that fit the range.

The rcParams come from tueplots (font sizes, line widths, grid, legend) with what a paper needs on
top; every figure is built and saved inside `styled()`, so nothing leaks into the caller's
matplotlib state. `SeriesStyles` is made once per report: the same method or engine keeps its
colour and marker in every figure of that report.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator
from tueplots import axes as tue_axes
from tueplots import fontsizes
from tueplots.constants.color import palettes

SINGLE_COLUMN_IN = 3.5  # one column of a two-column venue (IEEE, ACM, ICML, ...)
DOUBLE_COLUMN_IN = 7.0  # the whole text width
FONT = "DejaVu Sans"  # ships with matplotlib: present on every install, embeddable
# Paul Tol's palettes (colour-blind safe); the pale grey each ends with is left out (it is for 'no data').
METHOD_COLOURS = tuple(f"#{c}" for c in palettes.paultol_muted[:-1])
# Vibrant, reordered so the first three (builtin, TFLM + CMSIS-NN, TFLM reference) are far apart.
ENGINE_COLOURS = tuple(f"#{palettes.paultol_vibrant[i]}" for i in (0, 3, 2, 5, 1, 4))
PART_COLOURS = METHOD_COLOURS
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++", "**", "||")


class NoFigure(Exception):  # noqa: N818 - not an error: the figure has nothing to show
    """The data a figure needs is absent: the figure is not written, and the report says why."""


def rc() -> dict:
    """The rcParams of every report figure."""
    params = {
        **fontsizes.icml2024(),  # 8 pt text, 6 pt ticks and legend: a paper's caption size
        **tue_axes.lines(),
        **tue_axes.grid(grid_alpha=0.25),
        **tue_axes.legend(frameon=False),
        **tue_axes.spines(top=False, right=False),
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "pdf.fonttype": 42,  # TrueType, embedded: venues reject Type 3 fonts
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "figure.dpi": 100,
        "savefig.dpi": 300,
        "axes.titleweight": "normal",
        "lines.markersize": 4.5,
        "hatch.linewidth": 0.5,
        "legend.handlelength": 1.6,
        "legend.borderaxespad": 0.3,
    }
    return params


@contextlib.contextmanager
def styled() -> Iterator[None]:
    """Build and save a figure with the report style (rcParams are read when artists are made)."""
    with matplotlib.rc_context(rc()):
        yield


def new_figure(width: float = SINGLE_COLUMN_IN, height: float | None = None) -> Figure:
    """A figure `width` inches wide (a column or the text width), laid out by constrained layout."""
    fig = Figure(figsize=(width, height or width * 0.72), layout="constrained")
    fig.get_layout_engine().set(h_pad=2 / 72, w_pad=2 / 72, hspace=0.04, wspace=0.04)
    return fig


def title(fig: Figure, text: str, **kwargs) -> None:
    """`fig.suptitle`, wrapped at word boundaries to fit the figure's width (measured, not guessed)."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    chars = max(len(line) for line in text.splitlines())
    artist = fig.suptitle(text, **kwargs)
    while chars > 20 and artist.get_window_extent(canvas.get_renderer()).width > 0.97 * fig.bbox.width:
        chars = int(chars * 0.9)
        artist.set_text("\n".join(textwrap.fill(line, chars) for line in text.splitlines()))


def height_for(rows: int, row_in: float, *, legend_rows: int = 0, title_lines: int = 2) -> float:
    """Inches for a figure of `rows` bars or runs (at least a readable axes), its ticks and axis label,
    a legend of `legend_rows` lines under it and a title."""
    axes = max(0.45, rows * row_in + 0.1)
    return axes + 0.42 + legend_rows * 0.115 + title_lines * 0.16 + 0.08


def width_for(panels: int) -> float:
    """One column for a single panel, the text width for more."""
    return SINGLE_COLUMN_IN if panels <= 1 else DOUBLE_COLUMN_IN


@dataclass(frozen=True)
class SeriesStyle:
    colour: str
    marker: str
    hatch: str


class SeriesStyles:
    """Name -> (colour, marker, hatch), every pair distinct, assigned in sorted name order so a report
    (and any report with the same series) gives a method or engine the same look in every figure."""

    def __init__(self, names: Iterable[str], colours: tuple[str, ...] = METHOD_COLOURS) -> None:
        self._colours = colours
        self._styles: dict[str, SeriesStyle] = {}
        for name in sorted({str(n) for n in names}):
            self._add(name)

    def _add(self, name: str) -> SeriesStyle:
        used = {(s.colour, s.marker) for s in self._styles.values()}
        k = len(self._styles)
        # Walk the colour x marker grid diagonally: neighbours differ in both, and no pair repeats.
        for step in range(len(self._colours) * len(MARKERS)):
            i = k + step
            colour = self._colours[i % len(self._colours)]
            marker = MARKERS[(i + i // math.lcm(len(self._colours), len(MARKERS))) % len(MARKERS)]
            if (colour, marker) not in used:
                break
        style = SeriesStyle(colour, marker, HATCHES[k % len(HATCHES)])
        self._styles[name] = style
        return style

    def __getitem__(self, name: str) -> SeriesStyle:
        return self._styles.get(str(name)) or self._add(str(name))

    def names(self) -> list[str]:
        return list(self._styles)


def scale_for(max_value: float) -> tuple[float, str]:
    """Divide values by a power of 1000 so ticks read `150` with the unit `10³ instructions`."""
    if not max_value or not math.isfinite(max_value) or abs(max_value) < 10_000:
        return 1.0, ""
    power = min(int(math.log10(abs(max_value)) // 3), 3)
    return 1000.0**power, {1: "10³", 2: "10⁶", 3: "10⁹"}[power] + " "


def _number(value: float, step: float) -> str:
    """`value` with thousands separators and as many decimals as the tick step needs (2.5 -> 1)."""
    decimals = next((d for d in range(4) if abs(round(step, d) - step) <= 1e-9 * max(1.0, abs(step))), 3)
    return f"{value:,.{decimals}f}"


def _compact(value: float) -> str:
    """`2k`, `150k`, `1.5M`, `0.02`: short labels for a log axis."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:g}{suffix}"
    return f"{value:g}"


def fit_ticks(axis, values: Iterable[float], *, scale: float = 1.0, log: bool | None = None) -> bool:
    """Ticks that fit the range: a log axis when the values span more than a decade (returned), else a
    few linear ticks; labels as plain numbers (thousands separators) with only the decimals the step
    needs, the values divided by `scale` (see `scale_for`)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    if log is None:
        log = len(finite) > 1 and max(finite) / min(finite) > 10
    set_scale = axis.axes.set_xscale if axis.axis_name == "x" else axis.axes.set_yscale
    if log:
        set_scale("log")
        span = math.log10(max(finite) / min(finite)) if finite else 1
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if span > 2.5 else (1.0, 2.0, 5.0)))
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10))))
        axis.set_minor_formatter(FuncFormatter(lambda _x, _pos: ""))
        axis.set_major_formatter(FuncFormatter(lambda x, _pos: _compact(x / scale)))
    else:
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3))

        def linear(x, _pos):
            ticks = axis.get_majorticklocs()
            step = (ticks[1] - ticks[0]) / scale if len(ticks) > 1 else 1.0
            return _number(x / scale, step)

        axis.set_major_formatter(FuncFormatter(linear))
    return log


def save_figure(fig: Figure, out_stem: str | Path) -> tuple[Path, Path]:
    """Write `<out_stem>.png` (300 dpi) and `<out_stem>.pdf` at the figure's exact size (a column or the
    text width: no tight crop that would change it); return both paths."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = out_stem.with_suffix(".png"), out_stem.with_suffix(".pdf")
    with styled():
        fig.savefig(png)
        fig.savefig(pdf, metadata={"Creator": "tinyhil report", "CreationDate": None})
    return png, pdf


def pdf_font_problems(pdf: str | Path) -> list[str]:
    """Fonts of a PDF that a venue's checker rejects: Type 3, or not embedded (pypdf reads the font
    dictionaries of every page). An empty list means every font is embedded as TrueType or Type 1."""
    from pypdf import PdfReader

    problems = []
    for number, page in enumerate(PdfReader(str(pdf)).pages, start=1):
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for key, ref in fonts.items():
            font = ref.get_object()
            subtype = font.get("/Subtype")
            name = font.get("/BaseFont", key)
            if subtype == "/Type3":
                problems.append(f"page {number}: {name} is a Type 3 font")
                continue
            if subtype == "/Type0":  # composite (Type 42 from matplotlib): the descriptor is on the descendant
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"page {number}: {name} is not embedded")
    return problems
