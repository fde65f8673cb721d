"""`tinyhil demo`: the whole pipeline on the embedded default, no board and no network.

Digits CNN (trained here) → full-integer int8 .tflite → builtin engine C → PlatformIO firmware for
the emulated mps2_an386 → all 450 test samples in QEMU → results table + per-layer plot.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.pipeline import BenchConfig, run_bench

DEMO_BOARD = "mps2_an386"


def run_demo(console: Console, results_dir: Path = Path("results"), work_dir: Path | None = None,
             seed: int = 0) -> dict:
    from harness.demo_model import build_demo_model
    from harness.report import load_results, plot_per_layer
    from harness.settings import Settings

    settings = Settings.from_environ()  # `tinyhil demo` is an edge: the settings are read here, once
    work_dir = Path(work_dir) if work_dir is not None else settings.cache_dir
    with console.status("training the digits CNN and converting it to int8 (TensorFlow)"):
        demo = build_demo_model(work_dir / "demo", seed=seed)
    console.log(f"model: {demo.tflite_path} (float accuracy {demo.float_accuracy:.2%})")
    cfg = BenchConfig(
        model=demo.tflite_path, board=DEMO_BOARD, target="qemu", per_layer=True, results_dir=results_dir,
        work_dir=work_dir, x=demo.x_test, labels=demo.y_test, settings=settings,
        extra={"accuracy_float": demo.float_accuracy, "seed": seed},
    )
    row = run_bench(cfg, console=console)
    table = load_results(results_dir)
    png, pdf = plot_per_layer(table[table["model"] == row["model"]], results_dir / "demo_per_layer")
    console.print(_summary(row))
    from harness.report.store import export_tables

    export_tables(results_dir)
    console.print(f"results table: {results_dir / 'results.csv'} (and results.parquet)")
    console.print(f"plot: {png} and {pdf}")
    return row


def _summary(row: dict) -> Table:
    """The demo's figures, one per line, each with its unit (fits a narrow terminal)."""
    unit = row["unit"]
    lines = [
        ("latency, median over samples", f"{row['latency_median']:,.0f} {unit} (min {row['latency_min']:,.0f}, "
                                         f"max {row['latency_max']:,.0f})"),
        (f"{unit} per MAC", f"{row['latency_median'] / row['macs']:.2f} ({row['macs']:,} MACs)"),
        ("arena used (device)", f"{row['arena_bytes']:,} B (TFLM: {row['tflm_arena_bytes']:,} B total, "
                                f"{row['tflm_arena_head_bytes']:,} B activations)"),
        ("model's own footprint (deployable)", f"{row['deploy_flash_bytes']:,} B flash / "
                                               f"{row['deploy_ram_bytes']:,} B RAM"),
        ("test firmware (ELF)", f"{row['flash_bytes']:,} B flash / {row['ram_bytes']:,} B RAM, of which the "
                                f"harness {row['flash_harness_bytes']:,} B / {row['ram_harness_bytes']:,} B"),
        ("accuracy: float / host TFLM / device", f"{row['accuracy_float']:.2%} / {row['accuracy_host']:.2%} / "
                                                 f"{row['accuracy_device']:.2%}"),
        ("outputs differing from host TFLM", f"{row['host_mismatches']} of {row['samples']} samples"),
    ]
    if unit == "instructions":
        lines.append(("unit", f"emulator instructions (QEMU -icount shift=0), resolution {row['timer_resolution']:g}; "
                              "not cycles"))
    table = Table(title=f"tinyhil demo: {row['model']} on {row['board']} ({row['target']})", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in lines:
        table.add_row(name, value)
    return table
