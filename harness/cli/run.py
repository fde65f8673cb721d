"""`tinyhil bench`, `sweep` and `demo`: thin layers over the Python API (`harness.api`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from harness.cli.app import ENGINE_HELP, OPTIMIZE_HELP, TARGET_HELP, Console, console, print_json
from harness.cli.project import boards_dir_option, use_boards_dirs


def bench(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str = typer.Option(..., help="board name (boards/*.json)"),
    target: str = typer.Option("qemu", help=TARGET_HELP),
    data: Path | None = typer.Option(None, help=".npz with x (and optionally y labels)"),
    samples: int | None = typer.Option(None, help="number of samples (default: all of --data, else 10)"),
    kernels: str = typer.Option("optimized", help="the engine's kernel set: builtin optimized | reference; "
                                "tflm cmsis-nn (= optimized) | reference"),
    engine: str = typer.Option("builtin", help=ENGINE_HELP),
    optimize: str = typer.Option("speed", help=OPTIMIZE_HELP),
    per_layer: bool = typer.Option(False, "--per-layer", help="also count per layer"),
    protocol: str = typer.Option("tinyhil", help="tinyhil (framed, CRC, retries) | mlperf (the MLPerf Tiny / "
                                 "EEMBC runner's ASCII protocol, performance mode)"),
    iterations: int = typer.Option(1, help="--protocol mlperf: inferences per timed `infer N W` window"),
    warmup: int = typer.Option(0, help="--protocol mlperf: untimed inferences before each window"),
    external_firmware: bool = typer.Option(False, "--external-firmware", help="--protocol mlperf, --target serial "
                                           "| labgrid: the board runs its own firmware (e.g. MLPerf Tiny reference "
                                           "firmware); build and flash nothing, leave the size columns empty"),
    port: str | None = typer.Option(None, help="serial port of a physical board (--target serial)"),
    place: str | None = typer.Option(None, help="labgrid place (--target labgrid; default: env LG_PLACE)"),
    coordinator: str | None = typer.Option(None, help="labgrid coordinator HOST:PORT (--target labgrid; "
                                           "default: env LG_COORDINATOR)"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    seed: int = typer.Option(0, help="seed for random inputs"),
    out: Path | None = typer.Option(None, help="keep inputs.npy, outputs.npy and the result row here"),
    results: Path = typer.Option(Path("results"), help="results table directory"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Build firmware for the model, run it on the target, measure, compare with host TFLM."""
    from harness.report.location import check_writable

    check_writable(results)  # first, before the heavy imports: a run with nowhere to go is refused at once
    settings = use_boards_dirs(boards_dir)
    from harness.api import bench as bench_model
    from harness.report.console import print_rows

    row = bench_model(model, board=board, target=target, data=data, samples=samples, kernels=kernels, engine=engine,
                      optimize=optimize, per_layer=per_layer, port=port, place=place, coordinator=coordinator,
                      timeout_s=timeout, seed=seed, out=out, results_dir=results, protocol=protocol,
                      mlperf_iterations=iterations, mlperf_warmup=warmup, external_firmware=external_firmware,
                      console=console, settings=settings)
    if as_json:
        record = row.to_record()
        # The table stores the profile as JSON text; on stdout it is a real list.
        layers = json.loads(row.per_layer_json) if row.per_layer_json else None
        print_json(record | {"per_layer": layers} if layers else record)
    else:
        print_rows([row], console=Console())


def sweep(
    models: list[Path] = typer.Argument(..., help=".tflite files or directories of them, or one experiment .toml"),
    board: list[str] = typer.Option(["mps2_an386"], help="board (repeat for several)"),
    kernels: list[str] = typer.Option(["optimized"], help="the engine's kernel sets (repeat): builtin optimized | "
                                      "reference; tflm cmsis-nn (= optimized) | reference"),
    engine: str = typer.Option("builtin", help=ENGINE_HELP),
    optimize: list[str] = typer.Option(["speed"], help="builtin engine (repeat): " + OPTIMIZE_HELP),
    target: str = typer.Option("qemu", help=TARGET_HELP),
    data: Path | None = typer.Option(None, help=".npz with x (and y) for every model"),
    samples: int | None = typer.Option(None, help="samples per run"),
    per_layer: bool = typer.Option(False, "--per-layer"),
    protocol: str = typer.Option("tinyhil", help="tinyhil | mlperf (the MLPerf Tiny runner's protocol)"),
    place: str | None = typer.Option(None, help="labgrid place (--target labgrid; default: env LG_PLACE)"),
    coordinator: str | None = typer.Option(None, help="labgrid coordinator HOST:PORT (--target labgrid; "
                                           "default: env LG_COORDINATOR)"),
    shard: str = typer.Option("1/1", help="run only this share of the sweep, e.g. 2/4"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="runs (builds and emulators) in parallel"),
    executor: str = typer.Option("local", help="local (--jobs threads on this machine) | dask (one task per run "
                                 "on a Dask cluster; needs `pip install 'tinyhil[dask]'`)"),
    scheduler: str | None = typer.Option(None, help="--executor dask: the scheduler, tcp://HOST:PORT (default: a "
                                         "LocalCluster of --jobs worker processes, or one per core)"),
    resume: bool = typer.Option(True, help="skip runs already measured in the results table (by run_id)"),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="run again runs that failed for a reason that cannot change"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    results: Path | None = typer.Option(None, help="results table directory (default: results, or the "
                                        "experiment file's `results`)"),
    as_json: bool = typer.Option(False, "--json", help="print the rows as one JSON list on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Bench models x boards x kernels, or an experiment file; resumable (by run_id), shardable, parallel."""
    settings = use_boards_dirs(boards_dir)
    from harness.api import sweep as sweep_models
    from harness.report.console import print_rows

    rows = sweep_models(models, boards=board, kernels=kernels, optimize=optimize, shard=shard, jobs=jobs, resume=resume,
                        retry_failed=retry_failed, console=console, results_dir=results, target=target, engine=engine,
                        data=data, samples=samples, per_layer=per_layer, protocol=protocol, timeout_s=timeout,
                        place=place, coordinator=coordinator, executor=executor, scheduler=scheduler,
                        settings=settings)
    if as_json:
        print_json([row.to_record() for row in rows])
    elif rows:
        print_rows(rows, console=Console())


def demo(as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout")) -> None:
    """Train a digits CNN, quantize to int8, build firmware, run all test samples in QEMU, report."""
    from harness.demo import run_demo

    row = run_demo(console=console)
    if as_json:
        print_json(row)


