"""Sweeps on Dask: one task per run, on the workers of a scheduler or on a LocalCluster.

Each worker builds, runs and stores its run (a fragment of the results store, which needs no lock:
the results folder must be the same path on every worker, e.g. a shared mount). A run keeps its
identity across retries: the client gives each task its `attempt_id`, so a task run again — its
worker was lost mid-run, or, rarely, run twice — stores its row once (the fragment's name is that
id and is never overwritten; readers keep one row per id).

Physical boards are worker resources: a run with `--target serial|labgrid` asks for
`board:<name>=1`, which only the worker that owns the board offers (`dask worker ... --resources
"board:nucleo_l4r5zi=1"`), so a board serves one run at a time; emulator runs go to any worker.
Build caches stay per worker (the worker's `$TINYHIL_CACHE` or user cache), keyed by content.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import replace

from rich.console import Console
from rich.markup import escape

from harness.errors import DataError, Interrupted
from harness.pipeline import BenchConfig

INSTALL_HINT = "--executor dask needs Dask and its distributed scheduler: pip install 'tinyhil[dask]'"


def require_dask() -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError as e:
        raise DataError(INSTALL_HINT) from e


def board_resource(cfg: BenchConfig) -> dict[str, int] | None:
    """What a run needs of a worker: its board, when the run is on one (a target that serves one run at a
    time is a device); nothing for an emulator, which any worker can start."""
    return None if cfg.target_kind.parallel else {f"board:{cfg.board}": 1}


def run_task(cfg: BenchConfig) -> dict:
    """On a worker: one run, stored by the worker; its row (a failed run's too, with `error`). Builds
    go to the worker's own cache (its $TINYHIL_CACHE or user cache), not the client's path: a worker is
    an edge of its own, its settings (cache, TFLM trees, tools) are read from its environment."""
    from harness.pipeline.bench import run_bench
    from harness.settings import Settings

    worker = Settings.from_environ()
    cfg = replace(cfg, settings=worker, work_dir=worker.cache_dir)
    try:
        return run_bench(cfg)
    except Exception as e:  # run_bench stored the failed row; the sweep goes on
        return {**getattr(e, "row", {}), "error": getattr(e, "row", {}).get("error") or f"{type(e).__name__}: {e}"}


def _client(scheduler: str | None, jobs: int, configs: list[BenchConfig]):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    if any(board_resource(cfg) for cfg in configs):
        raise DataError("runs on a physical board need the worker that owns it: start a scheduler and, on the "
                        "board's host, `dask worker SCHEDULER --resources \"board:NAME=1\"`, then pass --scheduler "
                        "(a LocalCluster would give every worker the board)")
    workers = jobs if jobs > 1 else max(2, os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _check_resources(client, configs: list[BenchConfig], scheduler: str) -> None:
    needed = {name for cfg in configs for name in (board_resource(cfg) or {})}
    offered = {name for worker in client.scheduler_info()["workers"].values() for name in worker.get("resources", {})}
    missing = sorted(needed - offered)
    if missing:
        raise DataError(f"no worker of {scheduler} offers {', '.join(missing)}: start the worker that owns the "
                        f"board with --resources \"{missing[0]}=1\"")


def run_on_dask(todo: list[tuple[str, BenchConfig]], console: Console, advance: Callable[[], None],
                scheduler: str | None = None, jobs: int = 1) -> list[dict]:
    """Submit one task per run; log and count each as it completes; the rows in the sweep's order."""
    require_dask()
    if not todo:
        return []
    from dask.distributed import as_completed

    configs = [cfg for _, cfg in todo]
    client, cluster = _client(scheduler, jobs, configs)
    try:
        if scheduler:
            _check_resources(client, configs, scheduler)
        futures = {}
        for position, (label, cfg) in enumerate(todo):
            attempt = uuid.uuid4().hex[:16]  # kept by every retry of the task: stored once
            cfg = replace(cfg, extra={**cfg.extra, "attempt_id": attempt})
            future = client.submit(run_task, cfg, key=f"tinyhil-run-{attempt}", resources=board_resource(cfg),
                                   pure=False)
            futures[future] = (position, label)
        rows: list[dict] = [{} for _ in todo]
        try:
            for future in as_completed(futures):
                position, label = futures[future]
                try:
                    rows[position] = row = future.result()
                    verdict = f"[red]failed[/red]: {escape(row['error'])}" if row.get("error") else "[green]ok[/green]"
                except Exception as e:  # the task itself failed on the cluster (e.g. it killed its workers)
                    verdict = f"[red]lost on the cluster[/red]: {escape(f'{type(e).__name__}: {e}')}"
                console.log(f"{escape(label)}: {verdict}")
                advance()
        except (KeyboardInterrupt, Interrupted):
            client.cancel(list(futures))
            raise
        return rows
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
