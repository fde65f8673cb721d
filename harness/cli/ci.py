"""`tinyhil robot`, `tinyhil ci github` and `tinyhil zoo`: suites, workflows and reference models."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import Console, console
from harness.errors import TinyhilError


def robot(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str = typer.Option(..., help="a Renode-modelled board (boards/*.json with a renode section)"),
    samples: int = typer.Option(5, help="flash samples the suite runs"),
    data: Path | None = typer.Option(None, help=".npz with x (and optionally y labels)"),
    out: Path = typer.Option(Path("robot"), help="folder for <board>.robot, firmware.elf and board.repl"),
    tolerance: int = typer.Option(100, help="SysTick ticks a latency count may differ from the calibration"),
    run: bool = typer.Option(False, "--run", help="then run the suite under renode-test"),
    results: Path = typer.Option(Path("results"), help="results table directory (the calibration run's row)"),
) -> None:
    """Calibrate on Renode and write the benchmark as a Robot suite for renode-test (and run it with --run)."""
    from harness.ci.robot import make_suite
    from harness.pipeline import BenchConfig
    from harness.targets.renode_robot import run_robot

    cfg = BenchConfig(model=model, board=board, target="renode", data=data, samples=samples, results_dir=results)
    suite = make_suite(cfg, out, tolerance=tolerance, console=console)
    Console().print(f"suite: {suite}")
    if run:
        done = run_robot(suite, out / "results", settings=cfg.settings)
        Console().print(f"renode-test exit {done.returncode}; log: {out / 'results' / 'renode-test.log'}")
        if done.returncode:
            raise TinyhilError(f"renode-test failed the suite {suite} (exit {done.returncode}); "
                               f"see {out / 'results' / 'renode-test.log'}")


def zoo_fetch(collection: str = typer.Argument("mlperf-tiny")) -> None:
    """Download, verify (sha256) and cache a collection of reference models."""
    from harness import zoo

    Console().print(zoo.listing_table(zoo.fetch(collection)))


def zoo_list() -> None:
    """List cached reference models."""
    from harness import zoo

    Console().print(zoo.listing_table(zoo.list_cached()))


