"""The timing model against the Cortex-M4 TRM on hand-written Thumb-2 sequences, run in QEMU with the
real plugin: the model's cycles must equal the TRM's, case by case (harness/timing/micro.py)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from harness.timing.memory import MemoryTiming
from harness.timing.micro import CASES, MicroCase, run_case
from harness.timing.model import CortexM4Model

pytestmark = pytest.mark.skipif(not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")),
                                reason="qemu-system-arm or arm-none-eabi-gcc is not installed")

ZERO_WAIT = MemoryTiming(flash_wait_states=0, flash_line_bytes=16, icache_lines=0, dcache_lines=0,
                         unified_cache=False, prefetch=False, memory_source="test", sram="zero wait",
                         run_current_ma=None, supply_v=None, current_source="", emulated_on=None)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_model_matches_the_trm(case: MicroCase):
    counts = run_case(case)
    assert CortexM4Model().cycles(counts, ZERO_WAIT).cycles == case.trm, case.why


# Flash with an ART-like cache (5 wait states, 16-byte lines): a 10-times loop over 3 lines of code.
FLASH_LOOP = MicroCase("flash_loop", "movs r2, #10\nloop:\n" + "\n".join(["adds r0, r0, #1"] * 20)
                       + "\nsubs r2, r2, #1\nbne loop", 0, "")


def _flash_run(**memory) -> dict[str, int]:
    return run_case(FLASH_LOOP, flash=(0, 0x400000), **memory)


def test_instruction_cache_misses_only_on_the_first_pass():
    counts = _flash_run(line_bytes=16, icache=64, wait_states=5, prefetch=False)
    # the body spans bytes 0..45 from the 16-byte aligned bench_start: lines 0, 1, 2; after the
    # first pass every fetch hits. The first line follows a jump over a gap, the next two are sequential.
    assert (counts["ifetch_miss"], counts["ifetch_miss_seq"]) == (1, 2)
    assert counts["ifetch_stall"] == 3 * 5  # no prefetch: every miss waits the 5 wait states
    assert CortexM4Model().cycles(counts, replace(ZERO_WAIT, flash_wait_states=5)).cycles == (
        1 + 10 * 22 + 9 * 1 + 3 * 5)


def test_prefetch_hides_sequential_misses_the_code_outlasts():
    counts = _flash_run(line_bytes=16, icache=64, wait_states=5, prefetch=True)
    # 8 one-cycle instructions per line take longer than the 5-cycle read the prefetch started
    assert counts["ifetch_stall"] == 5


def test_without_a_cache_every_pass_misses():
    counts = _flash_run(line_bytes=16, icache=0, wait_states=5, prefetch=False)
    assert counts["ifetch_miss"] + counts["ifetch_miss_seq"] == 10 * 3


LITERALS = MicroCase("literal_loop", "movs r2, #8\nloop:\nldr r0, =0x12345678\nldr r3, =0x9abcdef0\n"
                     "subs r2, r2, #1\nbne loop\nb bench_stop\n.align 4\n.ltorg", 0, "")


def test_data_cache_keeps_literals():
    cached = run_case(LITERALS, flash=(0, 0x400000), line_bytes=16, dcache=8, wait_states=5)
    uncached = run_case(LITERALS, flash=(0, 0x400000), line_bytes=16, dcache=0, wait_states=5)
    assert cached["dflash_reads"] == uncached["dflash_reads"] == 16
    assert cached["dflash_miss"] == 1  # both literals share one 16-byte line
    assert uncached["dflash_miss"] == 16
