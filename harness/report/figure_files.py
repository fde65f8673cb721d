"""Writing a figure: one PNG (for reading) and one vector PDF (for the paper) beside each other."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def save_figure(fig: Figure, out_stem: str | Path) -> tuple[Path, Path]:
    """Write `<out_stem>.png` and `<out_stem>.pdf`; return both paths."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = out_stem.with_suffix(".png"), out_stem.with_suffix(".pdf")
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight")
    return png, pdf
