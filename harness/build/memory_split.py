"""What the model costs vs what the harness costs: flash and RAM split by where each symbol came from.

Read from the ELF alone (pyelftools): every sized function and object in the symbol table is
attributed to the compile unit DWARF places it in (code through `.debug_aranges`, variables
through their `DW_AT_location` address), and the compile unit's source path says which part of
the firmware it belongs to — the generated model directory, the engine (the folders the engine
names as its own: `firmware/engine`, `firmware/engine_tflm` and a TFLM tree), the harness
(`firmware/src`) or the C runtime (newlib, libgcc). Nothing is inferred by subtracting estimates;
what no symbol covers (alignment, string literals) is reported as `other`, so the parts always add
up to the ELF's totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from harness import places

FLASH_PARTS = ("weights", "model_code", "kernels", "harness", "test_data", "runtime", "other")
RAM_PARTS = ("arena", "weights", "engine_state", "harness", "stack", "other")
# Symbols of the generated model that describe it to the harness rather than compute it.
MODEL_DESCRIPTORS = ("th_model", "th_layers")
TEST_DATA_FILES = ("data.c",)
DW_OP_ADDR = 0x03


@dataclass(frozen=True)
class MemorySplit:
    flash: dict[str, int]  # FLASH_PARTS -> bytes; sums to the ELF's flash
    ram: dict[str, int]  # RAM_PARTS -> bytes; sums to the ELF's RAM
    symbols: list[tuple[str, str, str, int]] = field(default_factory=list, repr=False)  # (name, region, part, bytes)

    def columns(self) -> dict[str, int]:
        return {**{f"flash_{k}_bytes": v for k, v in self.flash.items()},
                **{f"ram_{k}_bytes": v for k, v in self.ram.items()}}

    @property
    def deploy_flash_bytes(self) -> int:
        """What the model needs in flash on its own: weights, its code, the kernels it links."""
        return self.flash["weights"] + self.flash["model_code"] + self.flash["kernels"]

    @property
    def harness_flash_bytes(self) -> int:
        return self.flash["harness"] + self.flash["runtime"] + self.flash["other"]

    @property
    def harness_ram_bytes(self) -> int:
        return self.ram["harness"] + self.ram["other"] + self.ram["stack"]


class _Classifier:
    """Compile-unit source path -> part of the firmware."""

    def __init__(self, model_dir: Path | None, engine_dirs: tuple[Path, ...], project_dir: Path | None = None) -> None:
        self.model_dir = model_dir.resolve() if model_dir else None
        roots = places.firmware_roots(project_dir)
        template = places.source_root().resolve()
        # the engine's own (Engine.prepare_build); a template folder also as the staged copy built from it
        engine_dirs = [Path(p).resolve() for p in engine_dirs]
        self.engine_dirs = tuple(dict.fromkeys(
            [*engine_dirs, *(root / d.relative_to(template) for d in engine_dirs if d.is_relative_to(template)
                             for root in roots)]))
        self.harness_dirs = tuple(root / "firmware" for root in roots)

    def origin(self, path: Path | None) -> str:
        if path is None:
            return "runtime"
        if self.model_dir and path.is_relative_to(self.model_dir):
            return "test_data" if path.name in TEST_DATA_FILES else "model"
        if any(path.is_relative_to(d) for d in self.engine_dirs):
            return "engine"
        if any(path.is_relative_to(d) for d in self.harness_dirs):
            return "harness"
        return "runtime"


def _cu_path(cu) -> Path | None:
    top = cu.get_top_DIE()
    name = top.attributes.get("DW_AT_name")
    if name is None:
        return None
    path = Path(name.value.decode(errors="replace"))
    if not path.is_absolute():
        comp_dir = top.attributes.get("DW_AT_comp_dir")
        path = Path(comp_dir.value.decode(errors="replace")) / path if comp_dir else path
    return Path(*path.resolve(strict=False).parts) if path.is_absolute() else path


def _variable_addresses(cu) -> list[int]:
    """Addresses of the CU's statically allocated variables (file scope and function statics)."""
    found = []
    stack = list(cu.get_top_DIE().iter_children())
    while stack:
        die = stack.pop()
        if die.tag == "DW_TAG_subprogram" or die.tag == "DW_TAG_lexical_block" or die.tag == "DW_TAG_namespace":
            stack.extend(die.iter_children())
        elif die.tag == "DW_TAG_variable":
            loc = die.attributes.get("DW_AT_location")
            if loc is not None and loc.form == "DW_FORM_exprloc" and len(loc.value) == 5 and loc.value[0] == DW_OP_ADDR:
                found.append(int.from_bytes(bytes(loc.value[1:5]), "little"))
    return found


def _dwarf_maps(ef: ELFFile):
    """(code address -> CU path, variable address -> CU path)."""
    if not ef.has_dwarf_info():
        return (lambda _a: None), {}
    dwarf = ef.get_dwarf_info()
    paths, variables = {}, {}
    for cu in dwarf.iter_CUs():
        path = _cu_path(cu)
        paths[cu.cu_offset] = path
        for addr in _variable_addresses(cu):
            variables.setdefault(addr, path)
    aranges = dwarf.get_aranges()

    def code_cu(addr: int) -> Path | None:
        offset = aranges.cu_offset_at_addr(addr) if aranges else None
        return paths.get(offset) if offset is not None else None

    return code_cu, variables


def split_memory(elf: Path, model_dir: Path | None = None, engine_dirs: tuple[Path, ...] = (),
                 arena_plan_bytes: int | None = None, project_dir: Path | None = None) -> MemorySplit:
    """The ELF's flash and RAM, split by part. `arena_plan_bytes` splits `th_arena` into the
    planned arena and the harness's guard band past it; `project_dir`: the project it was built in,
    when not the template itself (an installed tinyhil's staged copy)."""
    classify = _Classifier(model_dir, engine_dirs, project_dir)
    flash = dict.fromkeys(FLASH_PARTS, 0)
    ram = dict.fromkeys(RAM_PARTS, 0)
    listed: list[tuple[str, str, str, int]] = []
    with open(elf, "rb") as f:
        ef = ELFFile(f)
        code_cu, variables = _dwarf_maps(ef)
        sections = list(ef.iter_sections())
        flash_total = ram_total = 0
        for sec in sections:
            if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC and sec["sh_size"]:
                if sec["sh_type"] != "SHT_NOBITS":
                    flash_total += sec["sh_size"]
                if sec["sh_flags"] & SH_FLAGS.SHF_WRITE:
                    ram_total += sec["sh_size"]
        symtab = ef.get_section_by_name(".symtab")
        bounds, sized = {}, []
        for sym in symtab.iter_symbols() if symtab else ():
            if sym.name in ("_stack_bottom", "_stack_top"):
                bounds[sym.name] = sym["st_value"]
            kind, size, shndx = sym["st_info"]["type"], sym["st_size"], sym["st_shndx"]
            if kind in ("STT_FUNC", "STT_OBJECT") and size and isinstance(shndx, int):
                addr = sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"]
                sized.append((addr, size, kind, sym.name, shndx))
        # Aliases (__aeabi_dmul = __muldf3) and entry points inside another body (__aeabi_dsub just
        # before __adddf3) overlap: each byte counts once, for the first symbol that covers it.
        covered_to = {}
        for addr, size, kind, name, shndx in sorted(sized):
            sec = sections[shndx]
            start = max(addr, covered_to.get(shndx, 0))
            size = addr + size - start
            if size <= 0:
                continue
            covered_to[shndx] = start + size
            in_flash = sec["sh_type"] != "SHT_NOBITS"
            in_ram = bool(sec["sh_flags"] & SH_FLAGS.SHF_WRITE)
            path = code_cu(addr) if kind == "STT_FUNC" else variables.get(addr) or code_cu(addr)
            origin = classify.origin(path)
            if in_flash:
                part = _flash_part(origin, kind, name)
                flash[part] += size
                listed.append((name, "flash", part, size))
            if in_ram:
                for part, n in _ram_parts(origin, kind, name, size, arena_plan_bytes):
                    ram[part] += n
                    listed.append((name, "ram", part, n))
        stack_bytes = 0
        if {"_stack_bottom", "_stack_top"} <= bounds.keys():
            stack_bytes = bounds["_stack_top"] - bounds["_stack_bottom"]
    ram["stack"] = stack_bytes
    flash["other"] = flash_total - sum(v for k, v in flash.items() if k != "other")
    ram["other"] = ram_total - sum(v for k, v in ram.items() if k != "other")
    return MemorySplit(flash, ram, listed)


def _flash_part(origin: str, kind: str, name: str) -> str:
    if origin == "model":
        return "weights" if kind == "STT_OBJECT" and name not in MODEL_DESCRIPTORS else "model_code"
    return {"engine": "kernels", "test_data": "test_data", "harness": "harness"}.get(origin, "runtime")


def _ram_parts(origin: str, kind: str, name: str, size: int,
               arena_plan_bytes: int | None) -> list[tuple[str, int]]:
    if name == "th_arena":
        plan = min(arena_plan_bytes, size) if arena_plan_bytes is not None else size
        return [("arena", plan), ("harness", size - plan)]  # the rest is the overflow guard band
    if origin == "model" and kind == "STT_OBJECT" and name not in MODEL_DESCRIPTORS:
        return [("weights", size)]  # constants placed in RAM (.data, copied from flash at reset)
    if origin in ("model", "engine"):
        return [("engine_state", size)]
    if origin == "harness":
        return [("harness", size)]
    return [("other", size)]
