"""The Python API, for notebooks and scripts; the CLI is a thin layer over it.

    import harness
    row = harness.bench("kws.tflite", board="netduinoplus2", target="qemu", samples=10)
    row.latency_median, row.unit          # 4.7e6, 'instructions'
    row.to_series()                       # the row as the results table holds it
    rows = harness.sweep(["variants/"], boards=["mps2_an386"], kernels=["optimized", "reference"])
    table = harness.load_results("results")

Every option is a `harness.pipeline.BenchConfig` field; the configuration is validated once, here,
before anything runs. What comes from outside the options — environment variables such as
TINYHIL_CACHE or the TFLM trees, board folders — is read here too, once, into the configuration's
`settings` (`harness.settings.Settings`; pass `settings=` to choose them yourself). Failures raise
(a `TinyhilError` names the problem); the failed row is still
stored in the results table and is on the exception as `.row`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from harness.pipeline import BenchConfig
    from harness.report.schema import ResultRow


def _quiet() -> Console:
    from rich.console import Console

    return Console(stderr=True, quiet=True)


def run(cfg: BenchConfig, console: Console | None = None) -> ResultRow:
    """One benchmark from a configuration; the row as a typed record."""
    from harness.pipeline import run_bench
    from harness.report.schema import ResultRow

    return ResultRow.from_mapping(run_bench(cfg.validate(), console=console or _quiet()))


def bench(model: str | Path, *, board: str, target: str = "qemu", console: Console | None = None,
          **options: Any) -> ResultRow:
    """Build firmware for `model`, run it on `target`, measure, compare with host TFLM; the row.
    `options` are BenchConfig fields: engine, kernels, data, samples, per_layer, protocol, port,
    place, coordinator, timeout_s, seed, out, results_dir (None: store nothing), work_dir..."""
    from harness.pipeline import BenchConfig

    return run(BenchConfig(model=Path(model), board=board, target=target, **options), console)


def sweep_configs(models: Iterable[str | Path], *, boards: Iterable[str] = ("mps2_an386",),
                  kernels: Iterable[str] = ("optimized",), optimize: Iterable[str] = ("speed",),
                  results_dir: Path | None = None, console: Console | None = None, **options: Any) -> list[BenchConfig]:
    """Every configuration of a sweep, validated: models (files or folders of .tflite) x boards x
    kernels, for each engine mode in `optimize`; or one experiment .toml (its compression step runs first)."""
    from harness.pipeline import BenchConfig
    from harness.pipeline.sweep import expand_models, plan
    from harness.settings import Settings

    options.setdefault("settings", Settings.from_environ())  # read once, here, for every run of the sweep
    models = [Path(m) for m in models]
    if len(models) == 1 and models[0].suffix == ".toml":
        from harness.experiment import configurations, load_experiment, run_compression

        exp = load_experiment(models[0], boards_search=options["settings"].boards_dirs)
        if results_dir is not None:
            exp = replace(exp, results=Path(results_dir))
        if exp.compress is not None:
            (console or _quiet()).log(f"compression step of {exp.name}: {exp.compress.recipe or exp.compress.method}")
            run_compression(exp.compress)
        configs = configurations(exp, BenchConfig(model=Path("."), board=exp.boards[0], settings=options["settings"]))
    else:
        boards = list(boards)
        template = BenchConfig(model=Path("."), board=boards[0], results_dir=Path(results_dir or "results"),
                               **options)
        configs = [cfg for mode in optimize
                   for cfg in plan(expand_models(models), boards, list(kernels), replace(template, optimize=mode))]
    return [cfg.validate() for cfg in configs]


def sweep(models: Iterable[str | Path], *, boards: Iterable[str] = ("mps2_an386",),
          kernels: Iterable[str] = ("optimized",), optimize: Iterable[str] = ("speed",), shard: str = "1/1",
          jobs: int = 1, resume: bool = True, retry_failed: bool = False, console: Console | None = None,
          executor: str = "local", scheduler: str | None = None, **options: Any) -> list[ResultRow]:
    """Bench every configuration (see `sweep_configs`); resumable by run_id, shardable (`"2/4"`),
    `jobs` at a time (`executor="dask"`: one task per run on a Dask cluster, `scheduler` tcp://HOST:PORT or a
    LocalCluster). A failed run does not stop the sweep: its row is in the list with its error."""
    from harness.pipeline.sweep import Shard, run_sweep
    from harness.report.schema import ResultRow

    console = console or _quiet()
    shard_spec = Shard.parse(shard)
    configs = sweep_configs(models, boards=boards, kernels=kernels, optimize=optimize, console=console, **options)
    rows = run_sweep(configs, shard_spec, resume, console, retry_failed=retry_failed, jobs=jobs, executor=executor,
                     scheduler=scheduler)
    return [ResultRow.from_mapping(row) for row in rows if row]


def load_results(results_dir: str | Path = "results", *, latest: bool = False) -> pd.DataFrame:
    """The results table (every attempt, typed); `latest=True`: the newest successful attempt per run."""
    from harness.report import latest_runs
    from harness.report import load_results as load

    table = load(Path(results_dir))
    return latest_runs(table) if latest else table
