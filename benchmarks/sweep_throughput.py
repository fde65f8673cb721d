"""Sweep throughput on one machine: `--jobs 2` against Dask's LocalCluster (two worker processes).

Usage: python benchmarks/sweep_throughput.py [--models ic kws vww ad] [--samples 5] [--workers 2] [--repeats 2]
                                            [--running-cluster]

Sweeps the MLPerf Tiny models (from the zoo cache: `tinyhil zoo fetch mlperf-tiny`; or
../shared/models) over both QEMU boards (mps2_an386, netduinoplus2) with the builtin engine, as a
user would (`tinyhil sweep` in a subprocess). A first, untimed sweep fills the build cache, so the
timed ones measure runs (host reference, QEMU, storing), not compiles; each timed sweep writes to a
fresh results folder, so nothing is skipped. The two executors take turns, `--repeats` times each,
in alternating order (jobs, dask, then dask, jobs, ...), so a shared machine's changing load falls
on both alike. Printed per sweep: runs, how many ended ok, wall seconds (for Dask including the
cluster's start and shutdown), runs per minute, and the runs' own wall seconds summed (`run s`:
each row's `wall_time_s`, the time inside run_bench); then each executor's median. With
`--running-cluster` a third executor takes its turns: `--scheduler` of a scheduler and `--workers`
worker processes started (`dask scheduler`, `dask worker`) before the timed sweeps, as a lab keeps
them running — the runs' throughput without a cluster's start. A run the board cannot hold
(e.g. VWW's arena on netduinoplus2's 128 KB) is refused before building and still counts as a run.

Measured (2 cores shared with other engineers' jobs; medians of 3 and 2 sweeps):
  --repeats 3 --running-cluster (5 samples): --jobs 2 46.9 runs/min, --executor dask 43.3, running 45.0
  --repeats 2 --samples 50:                  --jobs 2 27.0 runs/min, --executor dask 29.0
  --repeats 3 --running-cluster, nothing else running: --jobs 2 44.3, --executor dask 43.8, running 47.6
(the same day, with spawned workers, Dask's profiler and ticks on and no prestart — one run per
 worker already: 5 samples, --repeats 2: --jobs 2 36.0 runs/min, --executor dask 28.2.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOARDS = ("mps2_an386", "netduinoplus2")


def models(names: list[str]) -> list[Path]:
    from harness import zoo

    found = []
    for name in names:
        try:
            found.append(zoo.model_path(name))
        except Exception as e:  # not cached (and no network): say so, go on with the others
            print(f"skipping {name}: {e}", file=sys.stderr)
    return found


def sweep(paths: list[Path], results: Path, samples: int, cwd: Path, *extra: str) -> tuple[list[dict], float]:
    command = [sys.executable, "-m", "harness.cli", "sweep", *map(str, paths), *[f"--board={b}" for b in BOARDS],
               "--samples", str(samples), "--results", str(results), "--json", *extra]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(extra) or 'sweep'} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds


def running_cluster(work: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and `workers` one-thread worker processes, configured as the LocalCluster is."""
    from dask.distributed import Client

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False", DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL="1s",
               DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
    address_file = work / "scheduler.json"
    bin_dir = Path(sys.executable).parent
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--scheduler-file", str(address_file),
                               "--no-dashboard", "--port", "0"], env=env, stderr=subprocess.DEVNULL)]
    while not address_file.exists():
        time.sleep(0.1)
    procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", "--scheduler-file", str(address_file),
                                   "--nworkers", str(workers), "--nthreads", "1", "--memory-limit", "0",
                                   "--no-dashboard", "--preload", "harness.sweep_dask_worker"], env=env,
                                  stderr=subprocess.DEVNULL, cwd=work))
    with Client(scheduler_file=str(address_file)) as client:
        client.wait_for_workers(workers, timeout=120)
        return client.scheduler.address, procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["ic", "kws", "vww", "ad"])
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2, help="--jobs N, and the LocalCluster's worker processes")
    ap.add_argument("--repeats", type=int, default=2, help="sweeps per executor, taking turns")
    ap.add_argument("--running-cluster", action="store_true", help="also sweep on a cluster started beforehand")
    args = ap.parse_args()
    paths = models(args.models)
    if not paths:
        sys.exit("error: no MLPerf Tiny model cached: run `tinyhil zoo fetch mlperf-tiny`")
    work = Path(tempfile.mkdtemp(prefix="tinyhil-throughput-"))
    rows, seconds = sweep(paths, work / "warm", args.samples, work, "--jobs", str(args.workers))
    print(f"{len(paths)} models x {len(BOARDS)} boards, {args.samples} samples per run; untimed warm-up sweep "
          f"(fills the build cache): {seconds:.0f} s, {os.cpu_count()} cores")
    print(f"{'executor':44} {'runs':>5} {'ok':>4} {'seconds':>8} {'runs/min':>9} {'run s':>6}")
    executors = [(f"--jobs {args.workers}", ("--jobs", str(args.workers))),
                 (f"--executor dask (LocalCluster, {args.workers} workers)",
                  ("--executor", "dask", "--jobs", str(args.workers)))]
    procs: list[subprocess.Popen] = []
    if args.running_cluster:
        address, procs = running_cluster(work, args.workers)
        executors.append((f"--scheduler (running, {args.workers} workers)",
                          ("--executor", "dask", "--scheduler", address)))
    try:
        measure(executors, paths, work, args.samples, args.repeats)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)


def measure(executors: list[tuple[str, tuple[str, ...]]], paths: list[Path], work: Path, samples: int,
            repeats: int) -> None:
    rates: dict[str, list[float]] = {name: [] for name, _ in executors}
    for repeat in range(repeats):
        for name, extra in executors if repeat % 2 == 0 else executors[::-1]:
            folder = work / f"{name.split()[0].strip('-')}-{repeat}"
            rows, seconds = sweep(paths, folder, samples, work, *extra)
            ok = sum(1 for r in rows if r.get("status") == "ok")
            rates[name].append(len(rows) / seconds * 60)
            inside = sum(r.get("wall_time_s") or 0 for r in rows)
            print(f"{name:44} {len(rows):5} {ok:4} {seconds:8.1f} {rates[name][-1]:9.2f} {inside:6.1f}", flush=True)
    for name, values in rates.items():
        print(f"median {name:37} {statistics.median(values):9.2f} runs/min over {len(values)} sweeps")


if __name__ == "__main__":
    main()
