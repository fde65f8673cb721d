"""Build stage: PlatformIO project + generated model -> Firmware (ELF and its sizes)."""

from harness.build.firmware import ElfSizes, Firmware, check_fits, read_elf_sizes
from harness.build.platformio import build_firmware, check_tools, upload_firmware

__all__ = ["ElfSizes", "Firmware", "build_firmware", "check_fits", "check_tools", "read_elf_sizes",
           "upload_firmware"]
