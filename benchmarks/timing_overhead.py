"""What the timing plugin costs: wall time of the same inferences in QEMU with and without it.

    python benchmarks/timing_overhead.py MODEL.tflite [--board mps2_an386] [--samples 5]

Builds the builtin engine for the board (the bench pipeline's own build), then runs the flash
samples twice on QEMU's machine for that board: plain, and with the plugin timing it with the board's
memory system. Prints both wall times and the ratio (the issue's budget: at most 2x). A third run
keeps every callback (`mem=2`: nothing learnt and replayed) and prints how far the replayed estimate
is from that exact one.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from harness.boards import load_board
from harness.build.cache import cached_build
from harness.codegen import generate
from harness.inputs import load_samples
from harness.model import load_tflite
from harness.protocol import Device
from harness.targets import QemuTarget
from harness.timing.session import prepare


def timed_run(board, elf: Path, n: int, work: Path, extra: tuple[str, ...]) -> float:
    with QemuTarget(board, elf, log_dir=work, max_seconds=900, extra_args=extra) as target:
        device = Device(target, timeout=600)
        device.wait_ready(30)
        device.identify()
        started = time.monotonic()
        device.run_flash(0, n, False, timeout=600, on_sample=lambda _s: None)
        return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--board", default="mps2_an386")
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path("build/timing_overhead"))
    args = ap.parse_args()
    board = load_board(args.board)
    model = load_tflite(args.model)
    samples = load_samples(model, None, args.samples, 0)
    gen = generate(model, args.work / "generated", samples.x, name=model.name)
    fw = cached_build(board, gen.dir, args.work / "builds", kernels="optimized")  # the builtin engine
    timed = prepare(board, fw.elf, lambda b: cached_build(b, gen.dir, args.work / "builds", kernels="optimized").elf,
                    args.work)
    plain = timed_run(timed.run_board, timed.elf, args.samples, args.work, ())
    plugged = timed_run(timed.run_board, timed.elf, args.samples, args.work, timed.qemu_args())
    replayed = statistics.median(timed.inferences()[0])
    flag, option = timed.qemu_args()
    exact_s = timed_run(timed.run_board, timed.elf, args.samples, args.work, (flag, option + ",mem=2"))
    exact = statistics.median(timed.inferences()[0])
    print(f"{model.name} on {timed.run_board.qemu_machine} timed as {board.name}, {args.samples} inferences: "
          f"plain QEMU {plain:.2f} s, with the timing plugin {plugged:.2f} s, ratio {plugged / plain:.2f}x; "
          f"every callback kept {exact_s:.2f} s ({exact_s / plain:.2f}x); estimate replayed {replayed:,.0f} "
          f"vs exact {exact:,.0f} cycles ({(replayed - exact) / exact * 100:+.3f} %)")


if __name__ == "__main__":
    main()
