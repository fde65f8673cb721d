"""Fuzz both parsers: the host's frame reader and reply decoders, and the firmware's frame parser
and command decoder (built for the host with AddressSanitizer + UBSan).

Usage: python benchmarks/fuzz.py [--frames 100000] [--hypothesis 2000] [--seed 1]

Host: `--frames` malformed streams from a seeded mutator (valid reply frames with bits flipped,
bytes dropped, doubled or cut, random headers, noise) go through FrameReader and every reply
decoder (tests/protocol/fuzz_host.py), then `--hypothesis` examples of the same property drawn by
hypothesis, then `--frames` mangled answers through the MLPerf protocol driver. Firmware: `--frames`
malformed command frames (tests/link/fuzz_fw.c) and `--frames` mangled runner commands
(tests/link/fuzz_mlperf.c); then each of the two for `--frames` libFuzzer inputs when clang
with libFuzzer is installed. Prints counts and fails on any crash, hang (per-run timeout), sanitizer
report, broken property or untyped exception.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "protocol"), str(ROOT / "tests" / "link")]

from fuzz_build import build, build_libfuzzer, libfuzzer_compiler, run, run_libfuzzer  # noqa: E402
from fuzz_host import check_mlperf_answer, check_stream, mangled_mlperf_answer, mangled_stream  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from harness.protocol.framing import encode_frame  # noqa: E402
from harness.protocol.messages import REPLY_TYPES  # noqa: E402


def mutated(rng: random.Random) -> bytes:
    frame = bytearray(encode_frame(rng.choice(sorted(REPLY_TYPES)), rng.randrange(256),
                                   rng.randbytes(rng.randrange(120))))
    for _ in range(rng.randrange(4)):
        at = rng.randrange(len(frame))
        op = rng.randrange(5)
        if op == 0:
            frame[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del frame[at]
        elif op == 2:
            frame.insert(at, frame[at])
        elif op == 3:
            del frame[at:]
        else:
            frame[at] = rng.randrange(256)
        if not frame:
            break
    return bytes(frame) + (rng.randbytes(rng.randrange(16)) if rng.random() < 0.2 else b"")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--hypothesis", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    started = time.monotonic()
    batch = 50
    for _ in range(args.frames // batch):
        check_stream(b"".join(mutated(rng) for _ in range(batch)), rng.randrange(1, 64))
    print(f"host reader + decoders: {args.frames} mutated frames, 0 failures, {time.monotonic() - started:.1f} s")

    started = time.monotonic()

    @settings(max_examples=args.hypothesis, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mangled_stream(), st.integers(1, 64))
    def prop(data, chunk):
        check_stream(data, chunk)

    prop()
    print(f"host reader + decoders: {args.hypothesis} hypothesis examples, 0 failures, "
          f"{time.monotonic() - started:.1f} s")

    started = time.monotonic()
    for _ in range(args.frames):
        check_mlperf_answer(mangled_mlperf_answer(rng))
    print(f"host MLPerf protocol driver: {args.frames} mangled infer answers, 0 failures, "
          f"{time.monotonic() - started:.1f} s")

    for parser, label in (("framed", "firmware framed parser + commands"), ("mlperf", "firmware MLPerf parser")):
        exe = build(Path(tempfile.mkdtemp(prefix="tinyhil-fuzz-")) / f"fuzz_{parser}", parser)
        started = time.monotonic()
        result = run(exe, args.frames, args.seed)
        if result.returncode != 0 or "runtime error" in result.stderr or "Sanitizer" in result.stderr:
            sys.exit(f"error: {label} fuzz failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
        print(f"{label} (gcc -fsanitize=address,undefined): {result.stdout.strip()}, "
              f"0 sanitizer reports, {time.monotonic() - started:.1f} s")
        if not libfuzzer_compiler():
            print(f"{label} (libFuzzer): skipped, clang with libFuzzer is not installed")
            continue
        exe = build_libfuzzer(exe.parent / f"libfuzz_{parser}", parser)
        started = time.monotonic()
        result = run_libfuzzer(exe, args.frames, args.seed)
        if result.returncode != 0:
            sys.exit(f"error: {label} libFuzzer run failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
        cov = re.findall(r"cov: (\d+) ft: (\d+)", result.stderr)
        print(f"{label} (clang libFuzzer + ASan + UBSan): {args.frames} inputs, coverage {cov[-1][0] if cov else '?'} "
              f"edges, 0 crashes, 0 sanitizer reports, {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
