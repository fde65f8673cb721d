from __future__ import annotations

import pytest
from rich.console import Console

from harness.report import NoFigure, plot_memory, plot_pareto, plot_per_layer, rows_to_frame, summary_table
from harness.report.facts import Latency


def test_plots_write_png_and_pdf(rows, tmp_path):
    df = rows_to_frame(rows)
    for plot, stem in ((plot_pareto, "pareto"), (plot_memory, "memory"), (plot_per_layer, "per_layer")):
        png, pdf = plot(df, tmp_path / "plots" / stem)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000


def test_an_all_failed_table_gives_no_figure_and_says_why(rows, tmp_path):
    df = rows_to_frame([rows[2]])
    for plot in (plot_pareto, plot_memory, plot_per_layer):
        with pytest.raises(NoFigure):
            plot(df, tmp_path / plot.__name__)
        assert not (tmp_path / f"{plot.__name__}.png").exists()


def test_latency_axis_names_the_unit(rows):
    df = rows_to_frame(rows)
    labels = {label for _, _, label in Latency().panels(df)}
    assert labels == {"latency (instructions)", "latency (ms)"}
    no_clock = df.assign(clock_hz=None, latency_ms=None)
    assert {label for _, _, label in Latency().panels(no_clock)} == {"latency (instructions)", "latency (cycles)"}


def test_summary_table_shows_units_and_errors(rows):
    console = Console(width=250, record=True)
    console.print(summary_table(rows_to_frame(rows)))
    text = console.export_text()
    assert "12,000 instructions" in text and "30,000 cycles" in text
    assert "op not supported yet: ADD" in text


def test_print_rows_takes_bench_dicts():
    bench_row = {"model": "demo", "board": "mps2_an386", "target": "qemu", "engine": "builtin",
                 "kernels": "optimized", "unit": "instructions", "latency_median": 12_345, "macs": 6000,
                 "latency_ms": None, "instructions_per_mac": 2.06, "data_source": "in-memory"}
    console = Console(width=250, record=True)
    from harness.report import print_rows

    print_rows([bench_row], console=console)
    text = console.export_text()
    assert "12,345 instructions" in text and "2.06" in text
