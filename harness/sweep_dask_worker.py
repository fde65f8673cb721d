"""What a Dask worker runs for a sweep: one run per task, and the stop the client sends on Ctrl-C.

A stopped sweep ends on the workers the way `tinyhil sweep` ends on Ctrl-C locally: the run in
progress stops where it is and is stored as `interrupted` with what it measured (run_bench stores
it), and a run that had not started does not start. The client calls `stop_sweep` on every worker
(`Client.run`); it marks the sweep stopped there and raises `Interrupted` in the threads running
its tasks (an asynchronous exception: the run's Python code, which polls its emulator or board
every few tens of ms, sees it at once; a blocking call, when it returns).

LocalCluster workers are this machine's processes, in the terminal's process group: Ctrl-C reaches
them too. `dask_setup` (loaded as the workers' preload) makes them ignore SIGINT — and so the
builds they start — so that the client alone decides, and the run is stored, not killed.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import replace

from harness.errors import Interrupted
from harness.pipeline import BenchConfig
from harness.pipeline.interrupt import interruption, raise_in_threads

_lock = threading.Lock()
_running: dict[int, tuple[str, str]] = {}  # thread id -> (sweep, attempt_id) of the run it runs, on this worker
_stopped: set[str] = set()  # sweeps stopped by their client: their tasks that start now return at once


def dask_setup(worker=None) -> None:
    """Worker preload: ignore SIGINT (a terminal's Ctrl-C); the client stops the runs and stores them."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_task(cfg: BenchConfig, sweep: str) -> dict:
    """On a worker: one run, stored by the worker; its row (a failed or interrupted run's too, with
    `error`)."""
    try:
        with _lock:
            if sweep in _stopped:
                return {"status": "not started", "error": "the sweep was stopped before this run started"}
            _running[threading.get_ident()] = (sweep, cfg.extra.get("attempt_id"))
        try:
            return _run(cfg)
        finally:
            with _lock:
                _running.pop(threading.get_ident(), None)
    except (Interrupted, KeyboardInterrupt) as e:  # stored as `interrupted` by run_bench already
        return {"attempt_id": cfg.extra.get("attempt_id"), "status": "interrupted", "error_type": "Interrupted",
                "error": f"Interrupted: {e}" if str(e) else "interrupted"}


def _run(cfg: BenchConfig) -> dict:
    """Builds go to the worker's own cache (its $TINYHIL_CACHE or user cache), not the client's path:
    a worker is an edge of its own, its settings (cache, TFLM trees, tools) read from its environment."""
    from harness.pipeline.bench import run_bench
    from harness.settings import Settings

    worker = Settings.from_environ()
    try:
        return run_bench(replace(cfg, settings=worker, work_dir=worker.cache_dir))
    except Exception as e:  # run_bench stored the failed row; the sweep goes on
        row = getattr(e, "row", {})
        return {**row, "error": row.get("error") or f"{type(e).__name__}: {e}"}


def stop_sweep(sweep: str, reason: str) -> list[str]:
    """On a worker (Client.run): no run of `sweep` starts here any more, and those running are
    interrupted. Returns the `attempt_id`s of the runs interrupted."""
    with _lock:
        _stopped.add(sweep)
        mine = {thread: attempt for thread, (owner, attempt) in _running.items() if owner == sweep}
        return [mine[t] for t in raise_in_threads(mine, interruption(reason))]
