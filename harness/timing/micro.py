"""Microbenchmarks: hand-written Thumb-2 sequences whose Cortex-M4 cycle counts follow from the TRM.

Each case is assembled into a bare-metal image for QEMU's mps2-an386, run once with the timing
plugin, and the plugin's figure for the code between `bench_start` and `bench_stop` is set beside
the TRM's, worked out by hand in `trm` (Arm DDI 0439B Table 3-1, §3.3.2 and Table 7-1). The model's
choices where the TRM gives a range are stated with each case (P = 1 for a direct branch to an
aligned target, 3 for a register/table branch; SDIV at its 12-cycle bound).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ToolMissingError
from harness.timing.build import plugin_path
from harness.timing.trace import PluginArgs, read_trace, symbol_addresses, windows


@dataclass(frozen=True)
class MicroCase:
    name: str
    body: str  # between bench_start and bench_stop
    trm: int  # cycles by the TRM, worked out in `why`
    why: str
    setup: str = ""


def _rep(line: str, n: int) -> str:
    return "\n".join([line] * n)


CASES = (
    MicroCase("alu", _rep("adds r0, r0, #1", 16), 16, "16 x ADD 1"),
    MicroCase("multiply_dsp", "\n".join(["mul r0, r1, r2", "mla r3, r1, r2, r3", "smull r4, r5, r1, r2",
                                         "smlal r4, r5, r1, r2", "smlad r6, r1, r2, r6", "smlabb r6, r1, r2, r6",
                                         "sxtb16 r7, r1", "pkhbt r8, r1, r2, lsl #16", "ssat r9, #8, r1",
                                         "usat r9, #8, r1"]),
              10, "MUL, MLA, SMULL, SMLAL, SMLAD, SMLABB, SXTB16, PKHBT, SSAT, USAT: 1 each"),
    MicroCase("ldr_alone", _rep("ldr r0, [r1]\nadds r2, r2, #1", 8), 24, "8 x (LDR 2 + ADD 1)"),
    MicroCase("ldr_pipelined", "ldr r0, [r1]\nldr r2, [r1, #4]\nldr r3, [r1, #8]\nldr r4, [r1, #12]", 5,
              "LDR 2, then 3 neighbouring LDRs 1 each (§3.3.2)"),
    MicroCase("trm_pairs", "ldr r0, [r1, r5]\nstr r0, [r3, #20]\nldr r0, [r1, r5]\nstr r4, [r3, r5]", 6,
              "§3.3.2's examples: LDR R0,[R1,R2]; STR R0,[R3,#20] 3 and LDR; STR reg 3"),
    MicroCase("str_imm", _rep("str r0, [r1]\nstr r2, [r1, #4]", 4), 8, "STR Rx,[Ry,#imm] always 1 (§3.3.2)"),
    MicroCase("ldm_stm", "ldm r1, {r2-r5}\nstm r3, {r2-r5}\npush {r4-r7}\npop {r4-r7}", 20, "LDM/STM/PUSH/POP 1+N"),
    MicroCase("ldrd_strd", "ldrd r2, r3, [r1]\nstrd r2, r3, [r1, #8]", 6, "LDRD/STRD 1+N = 3"),
    MicroCase("agu_interlock", "adds r1, r1, #4\nldr r0, [r1]", 4,
              "ADD 1, LDR 2 + 1 (address from the preceding data processing result, §3.3.2)"),
    MicroCase("loop", "movs r2, #10\nloop: adds r0, r0, #1\nsubs r2, r2, #1\nbne loop", 1 + 10 * 3 + 9 * 1,
              "MOV 1, 10 x (ADD 1 + SUB 1 + BNE 1), 9 taken: + P = 1 each (16-bit target)"),
    MicroCase("page_split_loop", "movs r2, #10\nb 1f\n.p2align 10\n.space 1020\n1: adds r0, r0, #1\n"
              "add.w r3, r3, #1\nsubs r2, r2, #1\nbne 1b", 1 + 2 + 10 * 4 + 9 * 1,
              "MOVS 1, B 1 + P, 10 x (ADDS, ADD.W, SUBS, BNE 1), 9 taken: + P = 1 each; the ADD.W straddles a "
              "1 KB page, where QEMU splits the loop into blocks"),
    MicroCase("divide", "sdiv r0, r1, r2\nudiv r0, r1, r2", 24, "SDIV/UDIV 2-12: the model takes 12"),
    MicroCase("fpu", "vmla.f32 s0, s1, s2\nvdiv.f32 s3, s4, s5\nvadd.f32 s6, s7, s8\nvmul.f32 s9, s10, s11", 19,
              "VMLA 3, VDIV 14, VADD 1, VMUL 1 (Table 7-1)"),
    MicroCase("unaligned", _rep("ldr r0, [r1, #1]\nadds r2, r2, #1", 4), 16,
              "4 x (LDR 2 + 1 unaligned + ADD 1)"),
    MicroCase("table_branch", "tbb [pc, r5]\n.byte 1, 1\nnop", 6, "TBB 2 + P = 3 (§3.3.2) + NOP 1"),
)

_SETUP = """
  ldr r0, =0xE000ED88   @ CPACR: enable the FPU
  ldr r1, [r0]
  orr r1, r1, #(0xF << 20)
  str r1, [r0]
  dsb
  isb
  ldr r1, =0x20001000
  ldr r3, =0x20002000
  movs r2, #7
  movs r5, #0
"""


def source(case: MicroCase) -> str:
    return f"""  .syntax unified
  .cpu cortex-m4
  .fpu fpv4-sp-d16
  .thumb
  .section .vectors, "a"
  .word 0x20008000
  .word _reset
  .text
  .thumb_func
  .global _reset
_reset:
{_SETUP}
{case.setup}
  b bench_start
  .ltorg                @ the setup's literals, apart from the case's
  .space 32             @ so the case starts after a jump, not in the next line
  .align 4
  .global bench_start
bench_start:
{case.body}
  .global bench_stop
bench_stop:
  movs r0, #0x18        @ semihosting SYS_EXIT, ADP_Stopped_ApplicationExit
  ldr r1, =0x20026
  bkpt 0xab
  b .
  .ltorg
"""


def build(case: MicroCase, work: Path) -> Path:
    gcc = shutil.which("arm-none-eabi-gcc")
    if not gcc:
        raise ToolMissingError("arm-none-eabi-gcc not found (Debian: apt install gcc-arm-none-eabi)")
    (work / "case.S").write_text(source(case))
    (work / "link.ld").write_text("SECTIONS { . = 0; .text : { KEEP(*(.vectors)) *(.text*) } }\n")
    elf = work / "case.elf"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-nostdlib",
                    "-T", str(work / "link.ld"), "-o", str(elf), str(work / "case.S")],
                   check=True, capture_output=True, text=True)
    return elf


def run_elf(elf: Path, trace: Path, *, flash: tuple[int, int] | None = None, line_bytes: int = 16,
            icache: int = 0, dcache: int = 0, wait_states: int = 0, prefetch: bool = False,
            timeout: float = 30.0) -> dict[str, int]:
    """The counters between bench_start and bench_stop of one run on mps2-an386."""
    addrs = symbol_addresses(elf, ("bench_start", "bench_stop"))
    args = PluginArgs(out=trace, start=(addrs["bench_start"],), close=(addrs["bench_stop"],), flash=flash,
                      line_bytes=line_bytes, icache_lines=icache, dcache_lines=dcache, wait_states=wait_states,
                      prefetch=prefetch)
    subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-icount", "shift=0",
                    "-semihosting-config", "enable=on,target=native", "-plugin", args.option(plugin_path()),
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=timeout)
    (window,) = [w for w in windows(read_trace(trace)) if w.end is not None]
    return window.end - window.start


def run_case(case: MicroCase, **memory) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="tinyhil-micro-") as tmp:
        elf = build(case, Path(tmp))
        return run_elf(elf, Path(tmp) / "trace.txt", **memory)
