"""Tiny bare-metal ELFs for mps2-an386 that misbehave on purpose, built with arm-none-eabi-gcc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = r"""
#include <stdint.h>
#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART_BAUDDIV (*(volatile uint32_t *)0x40004010u)
extern uint32_t _stack_top;
static void say(const char *s) {
  while (*s) { while (UART_STATE & 1u) {} UART_DATA = (uint8_t)*s++; }
}
void reset(void) {
  UART_BAUDDIV = 217; UART_CTRL = 3;
  say(MESSAGE);
  for (;;) {}  /* never answers */
}
__attribute__((section(".vectors"), used)) void (*const vectors[2])(void) = {
  (void (*)(void))&_stack_top, reset};
"""

LINKER = """
MEMORY { FLASH (rx) : ORIGIN = 0, LENGTH = 64K  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 64K }
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  _stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
ENTRY(reset)
"""


def build_hang_elf(work: Path, message: str) -> Path:
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc is not installed")
    work.mkdir(parents=True, exist_ok=True)
    (work / "hang.c").write_text(SOURCE)
    (work / "hang.ld").write_text(LINKER)
    elf = work / "hang.elf"
    subprocess.run(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O1", "-nostdlib", "-nostartfiles",
         f'-DMESSAGE="{message}"', "-T", str(work / "hang.ld"), str(work / "hang.c"),
         "-o", str(elf)],
        check=True, capture_output=True,
    )  # fmt: skip
    return elf
