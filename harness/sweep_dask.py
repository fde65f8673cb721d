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
The worker side (the task, and the stop on Ctrl-C) is harness/sweep_dask_worker.py.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

from rich.console import Console
from rich.markup import escape

from harness.errors import DataError, Interrupted
from harness.pipeline import BenchConfig
from harness.sweep_dask_worker import stop_sweep

STOP_GRACE_S = 60.0  # how long an interrupted sweep waits for its runs in progress to be stored
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


def _client(scheduler: str | None, jobs: int, configs: list[BenchConfig], stack: contextlib.ExitStack):
    """A client of `scheduler`, or of a LocalCluster of `jobs` worker processes (closed with `stack`)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return stack.enter_context(Client(scheduler))
    if any(board_resource(cfg) for cfg in configs):
        raise DataError("runs on a physical board need the worker that owns it: start a scheduler and, on the "
                        "board's host, `dask worker SCHEDULER --resources \"board:NAME=1\"`, then pass --scheduler "
                        "(a LocalCluster would give every worker the board)")
    import dask

    stack.enter_context(dask.config.set(_local_cluster_config()))  # for the cluster's life (restarts too)
    workers = jobs if jobs > 1 else max(2, os.cpu_count() or 1)
    # Workers preload harness.sweep_dask_worker: they ignore a terminal's Ctrl-C (see there).
    # No memory limit, as for --jobs: Dask's default would pause or restart a worker whose run needs
    # more than its share of RAM (and poll every worker's memory ten times a second).
    # Started with no worker, then scaled without waiting: runs are submitted at once and the first
    # worker up starts on them while the others are still starting.
    cluster = stack.enter_context(LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.ERROR,
                                               memory_limit=0, preload=["harness.sweep_dask_worker"]))
    cluster.scale(workers)
    return stack.enter_context(Client(cluster))


def _local_cluster_config() -> dict:
    """Where a LocalCluster loses time against --jobs's thread pool on one machine, and the fix."""
    # One run per worker at a time, the rest queued at the scheduler, as the pool does: Dask's
    # default (1.1) hands each one-thread worker a second run, which waits behind a long one while
    # another worker idles at the end of the sweep.
    import dask

    config: dict = {
        "distributed.scheduler.worker-saturation": 1.0,
        # The workers' statistical profiler samples the task's thread every 10 ms, taking the GIL from
        # the run's own work (its link polling); the event loops' 20 ms tick and 0.5 s system monitor
        # cost ~1 s of CPU per 10 s on an idle cluster of two. A sweep uses none of them.
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.interval": "2s",
    }
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Workers forked from a server that loaded what a run needs once (harness/sweep_dask_warm.py),
        # rather than each a fresh interpreter importing Dask, pandas and the pipeline (spawn: ~1.5 s
        # of CPU per worker to start, as long again to shut down, ~1 s more in its first run).
        from distributed.utils import get_mp_context

        config["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(config):
            get_mp_context()  # Dask sets its own preload list once; the harness's modules join it
        multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", "harness.sweep_dask_warm"])
    return config


def prestart(scheduler: str | None) -> None:
    """Start the LocalCluster's fork server now: it loads the harness while the client reads the
    results table and plans the sweep, rather than after."""
    if scheduler is None and "distributed.worker.multiprocessing-method" in _local_cluster_config():
        from multiprocessing import forkserver

        forkserver.ensure_running()  # (returns at once; workers forked later wait for its preload)


def _check_resources(client, configs: list[BenchConfig], scheduler: str) -> None:
    needed = {name for cfg in configs for name in (board_resource(cfg) or {})}
    offered = {name for worker in client.scheduler_info()["workers"].values() for name in worker.get("resources", {})}
    missing = sorted(needed - offered)
    if missing:
        raise DataError(f"no worker of {scheduler} offers {', '.join(missing)}: start the worker that owns the "
                        f"board with --resources \"{missing[0]}=1\"")


def run_on_dask(todo: list[tuple[str, BenchConfig]], console: Console, advance: Callable[[], None],
                scheduler: str | None = None, jobs: int = 1) -> list[dict]:
    """Submit one task per run; log and count each as it completes; the rows in the sweep's order.
    Interrupted (Ctrl-C, SIGTERM), it stops the runs in progress — each stored as `interrupted`
    with what it measured — and starts no other, then raises as the local executor does."""
    require_dask()
    if not todo:
        return []
    from dask.distributed import as_completed

    from harness.sweep_dask_worker import run_task

    configs = [cfg for _, cfg in todo]
    sweep = uuid.uuid4().hex[:16]
    with contextlib.ExitStack() as stack:
        client = _client(scheduler, jobs, configs, stack)
        if scheduler:
            _check_resources(client, configs, scheduler)
        futures: dict = {}
        rows: list[dict] = [{} for _ in todo]
        try:
            for position, (label, cfg) in enumerate(todo):
                attempt = uuid.uuid4().hex[:16]  # kept by every retry of the task: stored once
                cfg = replace(cfg, extra={**cfg.extra, "attempt_id": attempt})
                future = client.submit(run_task, cfg, sweep, key=f"tinyhil-run-{attempt}",
                                       resources=board_resource(cfg), pure=False)
                futures[future] = (position, label, attempt)
            for future in as_completed(futures):
                position, label, _ = futures[future]
                rows[position] = _outcome(future, label, console)
                advance()
        except (KeyboardInterrupt, Interrupted) as e:
            _stop(client, futures, sweep, str(e) or type(e).__name__, console)
            raise
        return rows


def _outcome(future, label: str, console: Console) -> dict:
    """The row of a finished task, logged as the local executor logs a run."""
    try:
        row = future.result()
        verdict = ("[green]ok[/green]" if not row.get("error") else "[yellow]interrupted[/yellow], stored"
                   if row.get("status") == "interrupted" else f"[red]failed[/red]: {escape(row['error'])}")
    except Exception as e:  # the task itself failed on the cluster (e.g. it killed its workers)
        row, verdict = {}, f"[red]lost on the cluster[/red]: {escape(f'{type(e).__name__}: {e}')}"
    console.log(f"{escape(label)}: {verdict}")
    return row


def _stop(client, futures: dict, sweep: str, reason: str, console: Console) -> None:
    """Stop a sweep on its cluster: no run starts any more, the runs in progress are interrupted on
    their workers and stored there; wait (up to STOP_GRACE_S) until they are."""
    from dask.distributed import wait

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # a second Ctrl-C waits too
    try:
        try:
            stopped = {attempt for ids in client.run(stop_sweep, sweep, reason).values() for attempt in ids}
        except Exception as e:  # a worker gone: those runs are lost with it, the others still stored
            console.log(f"[red]could not stop every worker[/red]: {escape(f'{type(e).__name__}: {e}')}")
            stopped = set()
        running = [f for f, (_, _, attempt) in futures.items() if attempt in stopped]
        client.cancel([f for f in futures if f not in running and not f.done()])
        if running:
            console.log(f"stopping: storing the {len(running)} run(s) in progress as interrupted")
        wait(running, timeout=STOP_GRACE_S)
        for future in running:
            label = futures[future][1]
            if future.done():
                _outcome(future, label, console)
            else:
                console.log(f"{escape(label)}: [red]not stored within {STOP_GRACE_S:g} s of the stop[/red]")
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
