"""The built firmware: its ELF and what it occupies, read from the ELF with pyelftools."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from harness.boards import Board
from harness.engines.base import EngineBuild
from harness.errors import BuildError, DoesNotFitError


@dataclass(frozen=True)
class ElfSizes:
    sections: dict[str, int]  # every allocated section: name -> bytes
    flash_bytes: int  # what is programmed: code, read-only data, vector table, .data's initial image
    ram_bytes: int  # what is reserved in RAM: .data, .bss, stack (and heap if any)
    compiler: str  # from the ELF's .comment, e.g. "GCC: (15:12.2.rel1-1) 12.2.1 20221205"

    @property
    def toolchain(self) -> str:
        """The compiler in the one format rows use: `arm-none-eabi-gcc 12.2.1`."""
        return compiler_version(self.compiler)


def compiler_version(comment: str) -> str:
    match = re.search(r"GCC: \(.*?\) (\d+\.\d+\.\d+)", comment)
    return f"arm-none-eabi-gcc {match.group(1)}" if match else comment


def read_elf_sizes(elf: Path) -> ElfSizes:
    try:
        with open(elf, "rb") as f:
            ef = ELFFile(f)
            sections: dict[str, int] = {}
            flash = ram = 0
            for sec in ef.iter_sections():
                flags = sec["sh_flags"]
                if not flags & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                    continue
                size = sec["sh_size"]
                sections[sec.name] = size
                if sec["sh_type"] != "SHT_NOBITS":
                    flash += size  # has contents: stored in flash (for .data, its load image)
                if flags & SH_FLAGS.SHF_WRITE:
                    ram += size
            comment = ef.get_section_by_name(".comment")
            compiler = comment.data().split(b"\0")[0].decode(errors="replace") if comment else ""
    except (OSError, ELFError) as e:
        raise BuildError(f"cannot read ELF {elf}: {e}") from e
    return ElfSizes(sections, flash, ram, compiler)


@dataclass(frozen=True)
class Firmware:
    elf: Path
    board: Board
    model_dir: Path
    kernels: str  # the engine's kernel set (its own name: builtin optimized | reference, tflm cmsis-nn | reference)
    build_dir: Path
    log_path: Path
    sizes: ElfSizes
    build_seconds: float
    toolchain: str  # compiler that built it, `arm-none-eabi-gcc 12.2.1`
    platformio: str = field(default="")
    build_id: str = ""  # hash of the build's inputs (harness.build.cache)
    cached: bool = False  # reused from an identical earlier build
    engine: str = "builtin"  # the registered engine it was built with (flashing rebuilds the same)
    firmware_engine: str | None = None  # what firmware/ compiled in (TINYHIL_ENGINE); None: the same as `engine`
    pio_env: str = "tinyhil"  # the platformio.ini env it was built with
    engine_build: EngineBuild = field(default_factory=EngineBuild)  # what the engine added (e.g. the TFLM library)
    protocol: str = "tinyhil"  # what the firmware speaks: the framed protocol, or "mlperf" (MLPerf Tiny runner)
    project_dir: Path | None = None  # the PlatformIO project it was built in (an installed tinyhil's staged copy)

    @property
    def flash_bytes(self) -> int:
        return self.sizes.flash_bytes

    @property
    def ram_bytes(self) -> int:
        return self.sizes.ram_bytes

    @property
    def sections(self) -> dict[str, int]:
        return self.sizes.sections

    def columns(self, arena_plan_bytes: int | None) -> dict:
        """The row's build columns: sizes, the memory split (the engine's own folders, e.g. a TFLM
        tree, count as kernels and engine state), toolchain, build identity, the engine's extras."""
        from harness.build.memory_split import split_memory

        split = split_memory(self.elf, self.model_dir, self.engine_build.source_dirs,
                             arena_plan_bytes=arena_plan_bytes, project_dir=self.project_dir)
        return {
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            **split.columns(),
            "deploy_flash_bytes": split.deploy_flash_bytes,
            "sections_json": json.dumps(self.sections),
            "toolchain_version": self.toolchain,
            "platformio_version": self.platformio,
            "build_seconds": self.build_seconds,
            "build_id": self.build_id,
            "build_cached": self.cached,
            **self.engine_build.columns,  # e.g. the TFLM tree, commit, kernel set, library
        }


def check_fits(sizes: ElfSizes, board: Board) -> None:
    """Raise DoesNotFitError when the ELF needs more flash or RAM than the board has."""
    problems = []
    if sizes.flash_bytes > board.flash_bytes:
        problems.append(f"flash: needs {sizes.flash_bytes} bytes, {board.name} has {board.flash_bytes}")
    if sizes.ram_bytes > board.ram_bytes:
        problems.append(f"RAM: needs {sizes.ram_bytes} bytes, {board.name} has {board.ram_bytes}")
    if problems:
        raise DoesNotFitError("firmware does not fit the board; " + "; ".join(problems))
