"""Build the kernel benchmark for QEMU mps2-an386 and print instructions/MAC per layer shape.

Usage: python benchmarks/kernels/run_kernel_bench.py [--opt-level -O2] [--markdown]

The firmware (bench_main.c + startup.c + firmware/engine) runs every conv / depthwise / FC layer
shape of the MLPerf Tiny IC and KWS models with the reference and the optimized kernels on the
same data, checks the outputs are identical on the Cortex-M4 build (real DSP instructions), and
times each call with SysTick. Under `qemu -icount shift=0` one instruction takes 1 ns of virtual
time and SysTick runs at 25 MHz, so one tick is 40 instructions: the figures are emulator
instruction counts (resolution 40 instructions per call), not cycles.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINE = HERE.parents[1] / "firmware" / "engine"
INSTRUCTIONS_PER_TICK = 40  # 1 GHz virtual instruction clock / 25 MHz SysTick
CFLAGS = ("-std=c11", "-Wall", "-Wextra", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
          "-mfpu=fpv4-sp-d16", "-ffunction-sections")
ENGINE_SOURCES = ("ref_conv.c", "ref_dwconv.c", "ref_fc.c", "opt_conv.c", "conv_im2col.c",
                  "conv_gemm_asm.c", "conv_packed.c", "opt_dwconv.c", "dwconv3x3.c", "dwconv3x3_asm.c",
                  "dwconv_ring3.c", "opt_fc.c", "scratch.c", "fc_pack.c", "conv_pack.c", "conv_winograd.c",
                  "ops_float.c")


@dataclass(frozen=True)
class LayerResult:
    model: str
    name: str
    macs: int
    ref_instructions: int
    opt_instructions: int  # the optimized kernel on the --optimize speed layouts
    size_instructions: int  # on the --optimize size layouts (int8 weights)
    outputs_match: bool  # both against the reference

    @property
    def ref_per_mac(self) -> float:
        return self.ref_instructions / self.macs

    @property
    def opt_per_mac(self) -> float:
        return self.opt_instructions / self.macs

    @property
    def size_per_mac(self) -> float:
        return self.size_instructions / self.macs


def build(out_dir: Path, opt_level: str = "-O2") -> Path:
    """Compile the benchmark ELF; raises FileNotFoundError without arm-none-eabi-gcc."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise FileNotFoundError("arm-none-eabi-gcc")
    elf = out_dir / "kernel_bench.elf"
    cmd = [gcc, opt_level, *CFLAGS, "-I", str(ENGINE), str(HERE / "bench_main.c"), str(HERE / "startup.c"),
           str(HERE / "random_check.c"),
           *(str(ENGINE / s) for s in ENGINE_SOURCES), "-nostartfiles", "--specs=nano.specs",
           "-T", str(HERE / "link.ld"), "-Wl,--gc-sections", "-o", str(elf), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return elf


@dataclass(frozen=True)
class RandomSweep:
    kernel: str
    cases: int
    mismatches: int


@dataclass(frozen=True)
class BenchRun:
    layers: list[LayerResult]
    random: list[RandomSweep]


def run(elf: Path, timeout_s: float = 300.0) -> BenchRun:
    """Run the ELF in QEMU (icount, semihosting) and parse its LAYER and RANDOM lines."""
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise FileNotFoundError("qemu-system-arm")
    cmd = [qemu, "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
           "-serial", "none", "-icount", "shift=0", "-semihosting-config", "enable=on,target=native",
           "-kernel", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    text = proc.stdout + proc.stderr
    if "DONE" not in text:
        raise RuntimeError(f"kernel benchmark did not finish (exit {proc.returncode}):\n{text[-2000:]}")
    layers, random = [], []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[0] == "LAYER":
            _, model, name, macs, ref_ticks, opt_ticks, size_ticks, match = parts
            layers.append(LayerResult(model, name, int(macs), int(ref_ticks) * INSTRUCTIONS_PER_TICK,
                                      int(opt_ticks) * INSTRUCTIONS_PER_TICK,
                                      int(size_ticks) * INSTRUCTIONS_PER_TICK, match == "1"))
        elif len(parts) == 4 and parts[0] == "RANDOM":
            random.append(RandomSweep(parts[1], int(parts[2]), int(parts[3])))
    return BenchRun(layers, random)


def model_totals(results: list[LayerResult], size: bool = False) -> dict[str, tuple[int, int, int]]:
    """Per model: (MACs, reference instructions, optimized instructions) over its layers; with
    `size`, the optimized figure is that of the --optimize size layouts."""
    totals: dict[str, tuple[int, int, int]] = {}
    for r in results:
        macs, ref, opt = totals.get(r.model, (0, 0, 0))
        totals[r.model] = (macs + r.macs, ref + r.ref_instructions,
                           opt + (r.size_instructions if size else r.opt_instructions))
    return totals


def format_table(results: list[LayerResult]) -> str:
    lines = ["| model | layer | MACs | ref instr/MAC | speed instr/MAC | size instr/MAC | speed-up | bit-exact |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r.model} | {r.name} | {r.macs:,} | {r.ref_per_mac:.2f} | {r.opt_per_mac:.2f} | "
                     f"{r.size_per_mac:.2f} | {r.ref_instructions / r.opt_instructions:.1f}x | "
                     f"{'yes' if r.outputs_match else 'NO'} |")
    sizes = model_totals(results, size=True)
    for model, (macs, ref, opt) in model_totals(results).items():
        if model.endswith("_alt"):
            continue
        lines.append(f"| {model} | **all conv/dw/fc layers** | {macs:,} | {ref / macs:.2f} | {opt / macs:.2f} | "
                     f"{sizes[model][2] / macs:.2f} | {ref / opt:.1f}x | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt-level", default="-O2", help="GCC optimisation flag for the whole build")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench = run(build(Path(tmp), args.opt_level))
    print("Emulator instructions (QEMU mps2-an386, -icount shift=0, SysTick, 40-instruction resolution)")
    print(format_table(bench.layers))
    for sweep in bench.random:
        print(f"random {sweep.kernel} shapes on Cortex-M4: {sweep.mismatches} mismatches in {sweep.cases} cases")
    ok = all(r.outputs_match for r in bench.layers) and all(s.mismatches == 0 for s in bench.random)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
