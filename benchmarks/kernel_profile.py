"""Where a model's estimated core cycles go, function by function: a kernel engineer's profile.

Runs one `bench` of MODEL on BOARD in QEMU with the timing plugin's `profile=` option, which writes
every translated block's instructions, core cycles (TRM timings and pairing, no memory waits or
branch refills) and executions at exit; the blocks are attributed to the ELF's functions
(pyelftools). Counts cover the whole QEMU run (the memory probe's inference, the timed samples, any
hooked pass) and the harness's idle loops between requests (th_timer_now, th_uart_read_byte,
main, the parser), so compare the engine's functions with each other, not with the totals. Core
cycles are the timing model's (cm4-trm: estimates); instructions are the emulator's.

IC on nucleo_l4r5zi, speed (2026-12-07): gemm_packed16 (the packed int16 conv GEMM, 2 channels x 3
pixels) takes 15.4 M of the 19.9 M estimated cycles per inference, 1.23 cycles per MAC, near its cycle
budget in conv_packed.c (26 cycles / 16 instructions per group of 24 MACs, plus about 70 per channel
pair and pixel triple); im2col (im2col_at, gather_interior) about a tenth of it, the residual ADDs 5 %.

    .venv/bin/python benchmarks/kernel_profile.py MODEL [--board nucleo_l4r5zi] [--optimize speed] [--top 25]
"""

from __future__ import annotations

import argparse
import bisect
import tempfile
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

import harness.timing.model as timing_model
import harness.timing.session as session
from harness.pipeline import BenchConfig, run_bench


def functions(elf: Path) -> tuple[list[int], list[tuple[int, str]]]:
    with open(elf, "rb") as f:
        found = sorted((s["st_value"] & ~1, (s["st_value"] & ~1) + max(s["st_size"], 2), s.name)
                       for sec in ELFFile(f).iter_sections() if isinstance(sec, SymbolTableSection)
                       for s in sec.iter_symbols() if s["st_info"]["type"] == "STT_FUNC")
    return [lo for lo, _, _ in found], [(hi, name) for _, hi, name in found]


def profile(model: Path, board: str, optimize: str, work: Path) -> tuple[Path, Path]:
    """Run the bench with the plugin's profile; return (profile file, the ELF QEMU ran)."""
    out = work / "profile.txt"
    seen: dict[str, Path] = {}
    plugin_args, prepare = timing_model.CortexM4Model.plugin_args, session.prepare

    def with_profile(self, *args, **kwargs):
        from dataclasses import replace
        return replace(plugin_args(self, *args, **kwargs), profile=out)

    def remember(*args, **kwargs):
        timed = prepare(*args, **kwargs)
        seen["elf"] = timed.elf
        return timed

    timing_model.CortexM4Model.plugin_args, session.prepare = with_profile, remember
    import harness.measure.device as device  # it imported prepare by name
    if getattr(device, "prepare", None) is prepare:
        device.prepare = remember
    cfg = BenchConfig(model=model, board=board, target="qemu", samples=1, results_dir=None, work_dir=work,
                      progress=False, optimize=optimize)
    row = run_bench(cfg)
    if "elf" not in seen or not out.is_file():
        raise SystemExit("the run did not go through the timing plugin (no profile written)")
    print(f"{model.name} on {board} ({optimize}): {row.get('cycles_est', 0):,.0f} est. cycles per inference")
    return out, seen["elf"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("--board", default="nucleo_l4r5zi")
    ap.add_argument("--optimize", default="speed")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prof, elf = profile(args.model, args.board, args.optimize, Path(tmp))
        starts, ends = functions(elf)
        per_fn: dict[str, list[int]] = {}
        for line in prof.read_text().splitlines()[1:]:
            start, n_insns, cost, execs = line.split()
            addr = int(start, 16)
            i = bisect.bisect_right(starts, addr) - 1
            name = ends[i][1] if i >= 0 and addr < ends[i][0] else f"?{addr:#x}"
            acc = per_fn.setdefault(name, [0, 0])
            acc[0] += int(cost) * int(execs)
            acc[1] += int(n_insns) * int(execs)
    total = sum(c for c, _ in per_fn.values())
    print(f"{'function':<40} {'core cycles':>14} {'share':>6} {'instructions':>14} {'cyc/instr':>9}")
    for name, (cycles, insns) in sorted(per_fn.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"{name[:40]:<40} {cycles:>14,} {cycles / total:>6.1%} {insns:>14,} {cycles / max(insns, 1):>9.2f}")


if __name__ == "__main__":
    main()
