"""The fault table: benchmark sessions over a noisy link, real bytes between the harness and QEMU.

Usage: python benchmarks/faults.py [--runs 20] [--samples 20] [--profile NAME ...] [--no-per-layer]

Each run starts QEMU (mps2_an386) with the fake model's firmware (tests/fixtures/fake_model with
N flash samples), puts the loopback fault proxy (harness/targets/faultproxy.py, seeded with the
run number) between it and the harness, and does what `tinyhil bench` does on the device: wait
for the ready line, IDENTIFY, MODEL_INFO (+ LAYER_INFO each), MEASURE_MEMORY, RUN_FLASH of every
sample (per-layer counts on by default: bigger frames, a harder test). Columns:
  attempted  runs started
  identical  completed, and every reply (identity, model, memory, each sample's counts, layer
             counts and output) equal to a clean run's
  failed     ended with an error (the reasons are listed below the table)
  hung       did not end within --hang-after seconds
  wrong      completed or kept a sample that differs from the clean run (accepted wrong data)
  lost       samples the host had accepted that are missing from the result (or the error's
             partial_samples)
Fault rates are per byte and per direction ("both": each direction at that rate); delays hold a
byte and every byte after it. Times are wall-clock seconds on this machine.

Measured (a loaded 2-core host; `python benchmarks/faults.py --runs 100 --profile "1% flip both"
--profile "1% flip to host"`, then the same with "1% drop both" and "1% duplicate both"):
  profile                attempted identical failed hung wrong lost resends/run  s/run
  1% flip to host              100       100      0    0     0    0         7.2    2.9
  1% flip both                 100       100      0    0     0    0        11.4    4.7
  1% drop both                 100       100      0    0     0    0        11.3    4.8
  1% duplicate both            100       100      0    0     0    0         9.9    4.1
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "link"))

from link_fw import make_model  # noqa: E402

from harness.build import build_firmware  # noqa: E402
from harness.errors import TinyhilError  # noqa: E402
from harness.protocol import Device  # noqa: E402
from harness.targets import QemuTarget  # noqa: E402
from harness.targets.faultproxy import FaultProfile, FaultProxyTarget, Faults  # noqa: E402

NONE = Faults()


def _profiles() -> list[FaultProfile]:
    out = [FaultProfile("clean")]
    for kind in ("drop", "flip", "duplicate"):
        f = Faults(**{kind: 0.01})
        out += [FaultProfile(f"1% {kind} to device", to_device=f), FaultProfile(f"1% {kind} to host", to_host=f),
                FaultProfile(f"1% {kind} both", to_device=f, to_host=f)]
    every = Faults(drop=0.01, duplicate=0.01, flip=0.01)
    out.append(FaultProfile("1% drop+dup+flip both", to_device=every, to_host=every))
    slow = Faults(delay=0.02, delay_s=0.05)
    out.append(FaultProfile("2% of bytes delayed 50 ms, both", to_device=slow, to_host=slow))
    jitter = Faults(delay=0.2, delay_s=0.005)
    out.append(FaultProfile("20% of bytes delayed 5 ms, both", to_device=jitter, to_host=jitter))
    return out


@dataclass
class Outcome:
    result: tuple | None = None
    error: str | None = None
    partial: list = None
    accepted: list = None
    seconds: float = 0.0
    retransmissions: int = 0


def session(target, n: int, per_layer: bool, outcome: Outcome) -> None:
    accepted = outcome.accepted
    dev = Device(target, timeout=10.0)
    try:
        dev.wait_ready(30)
        ident = dev.identify()
        info = dev.model_info()
        mem = dev.measure_memory()
        samples = dev.run_flash(0, n, per_layer, on_sample=lambda s: accepted.append(s))
        outcome.result = (ident, info, mem, tuple(samples))
    except TinyhilError as e:
        outcome.error = f"{type(e).__name__}: {str(e).split(';')[0]}"
        outcome.partial = list(getattr(e, "partial_samples", []) or [])
    finally:
        outcome.retransmissions = dev.stats.retransmissions


def one_run(fw, profile: FaultProfile, seed: int, n: int, per_layer: bool, work: Path, hang_after: float) -> Outcome:
    outcome = Outcome(partial=[], accepted=[])
    qemu = QemuTarget(fw.board, fw.elf, log_dir=work, max_seconds=hang_after + 30)
    target = qemu if profile.name == "clean" else FaultProxyTarget(qemu, profile, seed=seed)
    started = time.monotonic()
    with target:
        worker = threading.Thread(target=session, args=(target, n, per_layer, outcome), daemon=True)
        worker.start()
        worker.join(hang_after)
        outcome.seconds = time.monotonic() - started
        if worker.is_alive():
            outcome.error = "hung"
    worker.join(5)
    return outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20, help="runs per profile")
    ap.add_argument("--samples", type=int, default=20, help="flash samples per run")
    ap.add_argument("--profile", action="append", help="only profiles whose name contains this")
    ap.add_argument("--no-per-layer", action="store_true", help="whole-model counts only (smaller frames)")
    ap.add_argument("--hang-after", type=float, default=180.0, help="seconds after which a run counts as hung")
    args = ap.parse_args()
    per_layer = not args.no_per_layer
    work = Path(tempfile.mkdtemp(prefix="tinyhil-faults-"))
    fw = build_firmware("mps2_an386", make_model(work / "model", args.samples), work / "build")
    clean = one_run(fw, FaultProfile("clean"), 0, args.samples, per_layer, work / "ref", args.hang_after)
    if clean.result is None:
        sys.exit(f"error: the clean reference run failed: {clean.error}")
    ref_samples = {s.index: s for s in clean.result[3]}
    profiles = [p for p in _profiles() if not args.profile or any(k in p.name for k in args.profile)]
    print(f"fault table: {args.runs} runs per profile, {args.samples} samples per run, per-layer "
          f"{'on' if per_layer else 'off'}, QEMU mps2-an386, fake model firmware")
    header = f"{'profile':34} {'attempted':>9} {'identical':>9} {'failed':>6} {'hung':>4} {'wrong':>5} " \
             f"{'lost':>4} {'resends/run':>11} {'s/run':>6}"
    print(header)
    print("-" * len(header))
    reasons: dict[str, collections.Counter] = {}
    for profile in profiles:
        counts = collections.Counter()
        why = collections.Counter()
        seconds, resends = [], []
        for run in range(args.runs):
            o = one_run(fw, profile, run + 1, args.samples, per_layer, work / f"run-{run}", args.hang_after)
            counts["attempted"] += 1
            seconds.append(o.seconds)
            resends.append(o.retransmissions)
            kept = list(o.result[3]) if o.result else o.partial
            counts["wrong"] += int(any(ref_samples.get(s.index) != s for s in kept))
            counts["lost"] += len({s.index for s in o.accepted} - {s.index for s in kept})
            if o.error == "hung":
                counts["hung"] += 1
                why["hung"] += 1
            elif o.error:
                counts["failed"] += 1
                why[o.error] += 1
            elif o.result == clean.result:
                counts["identical"] += 1
            else:
                counts["wrong"] += 1
        reasons[profile.name] = why
        print(f"{profile.name:34} {counts['attempted']:9} {counts['identical']:9} {counts['failed']:6} "
              f"{counts['hung']:4} {counts['wrong']:5} {counts['lost']:4} {sum(resends) / len(resends):11.1f} "
              f"{sum(seconds) / len(seconds):6.1f}", flush=True)
    failures = {name: why for name, why in reasons.items() if why}
    if failures:
        print("\nfailure reasons:")
        for name, why in failures.items():
            for reason, k in why.most_common():
                print(f"  {name}: {k} x {reason}")


if __name__ == "__main__":
    main()
