"""Sweeps: models × boards × kernels, one bench run each, resumable and shardable.

Resumable: a configuration that already has a successful row in the results table is skipped, so
an interrupted sweep picks up where it stopped. Shardable: `--shard 2/4` runs every fourth
configuration starting at the second, so four machines (or processes) share one sweep and append
to one table (the store locks it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.errors import DataError
from harness.pipeline.bench import run_bench, run_identity
from harness.pipeline.config import BenchConfig
from harness.pipeline.interrupt import interruption, raise_in_threads


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError as e:
            raise DataError(f"--shard must look like 2/4, got {text!r}") from e
        if not 1 <= index <= count:
            raise DataError(f"--shard {text}: the index must be between 1 and {max(count, 1)}")
        return cls(index, count)

    def take(self, items: list) -> list:
        return items[self.index - 1 :: self.count]


def expand_models(paths: Iterable[Path]) -> list[Path]:
    """Model files, with each directory standing for the .tflite files in it (sorted)."""
    models: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.tflite"))
            if not found:
                raise DataError(f"{path} holds no .tflite files")
            models += found
        elif path.is_file():
            models.append(path)
        else:
            raise DataError(f"no such model file or directory: {path}")
    return models


def plan(models: list[Path], boards: list[str], kernels: list[str], template: BenchConfig) -> list[BenchConfig]:
    """Every (model, board, kernels) configuration, in a stable order (shards depend on it)."""
    return [replace(template, model=m, board=b, kernels=k) for m in models for b in boards for k in kernels]


# Failures that cannot change by running again (same model, same board, same code): a resumed
# sweep does not repeat them unless asked (--retry-failed).
PERMANENT_ERRORS = ("UnsupportedOpsError", "DoesNotFitError", "ModelFormatError", "UnknownBoardError")


def _history(results_dir: Path | None) -> tuple[set[str], set[str]]:
    """(run_ids measured successfully, run_ids that failed for a reason that cannot change)."""
    from harness.report import load_results

    if results_dir is None:
        return set(), set()
    table = load_results(results_dir)
    ok = set(table.loc[table["error"].isna() & table["latency_median"].notna(), "run_id"].dropna())
    permanent = set(table.loc[table["error_type"].isin(PERMANENT_ERRORS).fillna(False), "run_id"].dropna())
    return ok, permanent - ok


EXECUTORS = ("local", "dask")  # local: a thread pool of --jobs; dask: harness.sweep_dask


def run_sweep(configs: list[BenchConfig], shard: Shard, resume: bool, console: Console,
              retry_failed: bool = False, jobs: int = 1, executor: str = "local",
              scheduler: str | None = None) -> list[dict]:
    """Run this shard's configurations, `jobs` at a time (or as tasks of a Dask cluster), under one
    progress bar over the sweep. A failing run is recorded (any exception: run_bench stores its row)
    and the sweep goes on; an interruption stops it after the rows of the runs in progress are stored."""
    if jobs < 1:
        raise DataError(f"--jobs must be >= 1, got {jobs}")
    if executor not in EXECUTORS:
        raise DataError(f"unknown --executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise DataError("--scheduler is the address of a Dask scheduler: use it with --executor dask")
    if executor == "dask":
        from harness.sweep_dask import prestart, require_dask

        require_dask()  # (a board run there is a worker resource: one at a time, whatever the cluster's size)
        prestart(scheduler)
    else:
        serial = sorted({cfg.target for cfg in configs if not cfg.target_kind.parallel})
        if jobs > 1 and serial:
            raise DataError(f"--target {serial[0]} runs one at a time on its device: use --jobs 1")
    mine = shard.take(configs)
    done, permanent = _history(configs[0].results_dir) if resume and configs else (set(), set())
    todo = []
    for cfg in mine:
        label = f"{Path(cfg.model).name} on {cfg.board}/{cfg.target} ({cfg.engine}, {cfg.kernels})"
        identity = run_identity(cfg)[0].run_id if done or permanent else None
        if identity in done:
            console.log(f"{escape(label)}: run {identity} already in the results table, skipped")
        elif identity in permanent and not retry_failed:
            console.log(f"{escape(label)}: run {identity} failed before for a reason that cannot change; "
                        "skipped (--retry-failed runs it again)")
        else:
            todo.append((label, replace(cfg, progress=False)))
    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("sweep", total=len(todo))
        if executor == "dask":
            from harness.sweep_dask import run_on_dask

            return run_on_dask(todo, console, lambda: progress.advance(task), scheduler=scheduler, jobs=jobs)

        running: set[int] = set()  # threads running a run (--jobs > 1)
        lock = threading.Lock()

        def one(item: tuple[str, BenchConfig]) -> dict:
            label, cfg = item
            console.log(escape(label))
            with lock:
                running.add(threading.get_ident())
            try:
                row = run_bench(cfg, console=console)
                console.log(f"{escape(label)}: [green]ok[/green]")
                return row
            except Exception as e:  # run_bench has stored the failed row; keep sweeping
                console.log(f"{escape(label)}: [red]failed[/red]: {escape(f'{type(e).__name__}: {e}')}")
                return getattr(e, "row", {})
            finally:
                with lock:
                    running.discard(threading.get_ident())
                progress.advance(task)

        if jobs == 1:
            return [one(item) for item in todo]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(one, item) for item in todo]
            try:
                return [f.result() for f in futures]
            except BaseException as e:
                for f in futures:
                    f.cancel()  # runs not started never start
                # Ctrl-C reaches this (main) thread only (builds and emulators run in their own process
                # groups): the runs in progress are stopped and stored as `interrupted`, as with --jobs 1.
                with lock:
                    raise_in_threads(running, interruption(str(e) or "the sweep was stopped"))
                raise
