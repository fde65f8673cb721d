"""Reads a figure's own layout (the window extents matplotlib gives each text artist after a draw) and
names what a reader would see as broken: two texts on top of each other, a text cut off by the edge,
two series that look alike. The report runs it on every figure it writes; the tests assert it finds
nothing."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

_SLACK_PX = 0.5  # extents are rounded to pixels: touching is not overlapping


def visible_texts(fig: Figure) -> list[tuple[Text, Bbox]]:
    """Every drawn, non-empty text of the figure with its window extent (after a draw)."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    hidden = _undrawn_tick_labels(fig)
    out = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        out.append((text, text.get_window_extent(renderer)))
    return out


def _undrawn_tick_labels(fig: Figure) -> set[int]:
    # An axis keeps Tick objects (and their labels) it does not draw: ticks past the view limits and
    # spares from an earlier locator. `_update_ticks` is what the axis itself draws.
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis._update_ticks() if ax.get_visible() and ax.axison and axis.get_visible() else []
            drawn = {id(label) for tick in ticks for label in (tick.label1, tick.label2)}
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                hidden |= {id(label) for label in (tick.label1, tick.label2) if id(label) not in drawn}
    return hidden


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > _SLACK_PX) and (min(a.y1, b.y1) - max(a.y0, b.y0) > _SLACK_PX)


def layout_problems(fig: Figure) -> list[str]:
    """Texts that overlap another text or leave the figure, and series drawn alike."""
    texts = visible_texts(fig)
    page = fig.bbox
    problems = []
    for i, (text, box) in enumerate(texts):
        if box.x0 < page.x0 - _SLACK_PX or box.y0 < page.y0 - _SLACK_PX or box.x1 > page.x1 + _SLACK_PX \
                or box.y1 > page.y1 + _SLACK_PX:
            problems.append(f"text {text.get_text()!r} leaves the figure")
        for other, other_box in texts[i + 1:]:
            if _overlap(box, other_box):
                problems.append(f"texts {text.get_text()!r} and {other.get_text()!r} overlap")
    problems += _alike_series(fig)
    return problems


def _alike_series(fig: Figure) -> list[str]:
    """Legend entries that a reader cannot tell apart: the same colour with the same marker or hatch."""
    problems = []
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]:
        seen: dict[tuple, str] = {}
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            look = series_look(handle)
            if look in seen:
                problems.append(f"series {seen[look]!r} and {text.get_text()!r} look alike: {look}")
            seen[look] = text.get_text()
    return problems


def series_look(handle) -> tuple:
    """What tells a legend entry apart: colours, marker, fill, hatch, line style."""
    from matplotlib.colors import to_hex

    def colour(c):
        try:
            return to_hex(c, keep_alpha=False)
        except (ValueError, TypeError):
            return str(c)

    if hasattr(handle, "get_marker"):  # Line2D
        return ("line", colour(handle.get_color()), colour(handle.get_markerfacecolor()), handle.get_marker(),
                handle.get_fillstyle(), handle.get_linestyle())
    if hasattr(handle, "get_hatch"):  # Patch
        return ("patch", colour(handle.get_facecolor()), handle.get_hatch() or "", colour(handle.get_edgecolor()))
    return ("other", type(handle).__name__, id(handle))
