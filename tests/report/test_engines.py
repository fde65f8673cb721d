from __future__ import annotations

import pytest

from harness.report import NoFigure, rows_to_frame
from harness.report.engines import engine_frame, plot_engines


def _run(engine, kernels, per_mac, arena, kernels_flash, model="kws"):
    return {"run_id": f"{model}-{engine}-{kernels}", "model": model, "board": "mps2_an386", "target": "qemu",
            "engine": engine, "kernels": kernels, "unit": "instructions", "status": "ok", "macs": 1000,
            "latency_median": per_mac * 1000, "instructions_per_mac": per_mac, "arena_bytes": arena,
            "flash_kernels_bytes": kernels_flash, "timestamp": "2026-01-01T10:00:00+00:00"}


def test_engine_figure_has_one_series_per_engine_and_kernel_set(rows, tmp_path):
    df = rows_to_frame([*rows, _run("builtin", "optimized", 1.9, 20_000, 9_000),
                        _run("tflm", "cmsis-nn", 2.9, 31_000, 40_000), _run("tflm", "reference", 16.2, 31_500, 30_000)])
    frame = engine_frame(df)
    kws = frame[frame["model"] == "kws"].set_index("series")
    assert kws.loc["tflm-reference", "instructions_per_mac"] == 16.2
    assert kws.loc["tflm-cmsis-nn", "arena_bytes"] == 31_000
    assert kws.loc["builtin-optimized", "flash_kernels_bytes"] == 9_000
    board = frame[frame["board"] == "nucleo_f401re"].iloc[0]  # a board's cycles: its own row of panels, own unit
    assert board["unit"] == "cycles" and board["instructions_per_mac"] != board["instructions_per_mac"]
    png, pdf = plot_engines(df, tmp_path / "engines")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(NoFigure, match="only one engine"):  # nothing to compare: no figure of methods
        plot_engines(rows_to_frame([rows[2]]), tmp_path / "empty")
