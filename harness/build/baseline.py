"""The harness's own footprint on a board, measured once from a build of a model with no layers
(firmware/baseline_model): protocol, commands, timer, startup, buffers, guard bands, stack and the
C runtime. Fit checks before a build add this measured figure to the model's own needs; the
result is cached by build identity, so it is measured again only when the firmware changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness import places
from harness.boards import Board
from harness.errors import TinyhilError
from harness.settings import Settings

BASELINE_MODEL = places.firmware_dir() / "baseline_model"


@dataclass(frozen=True)
class HarnessBaseline:
    board: str
    flash_bytes: int  # harness + runtime + unattributed flash
    ram_bytes: int  # harness buffers + guards + reserved stack + unattributed RAM
    build_id: str

    def describe(self) -> str:
        return f"harness baseline {self.flash_bytes:,} B flash / {self.ram_bytes:,} B RAM (build {self.build_id})"


def harness_baseline(board: Board, builds_root: Path | None = None, settings: Settings | None = None
                     ) -> HarnessBaseline | None:
    """The board's measured harness baseline, building it if needed; None when no toolchain is
    installed (then fit checks say they used no baseline). `builds_root`: default `builds/` of the
    settings' user cache."""
    from harness.build.cache import cached_build
    from harness.build.memory_split import split_memory

    settings = settings or Settings()
    builds_root = Path(builds_root) if builds_root is not None else settings.cache_dir / "builds"
    cache = builds_root / f"baseline-{board.name}.json"
    try:
        fw = cached_build(board, BASELINE_MODEL, builds_root, kernels="optimized", settings=settings)  # builtin engine
    except TinyhilError:
        return None
    if cache.is_file():
        facts = json.loads(cache.read_text())
        if facts.get("build_id") == fw.build_id:
            return HarnessBaseline(**facts)
    split = split_memory(fw.elf, fw.model_dir, fw.engine_build.source_dirs, arena_plan_bytes=16,
                         project_dir=fw.project_dir)
    baseline = HarnessBaseline(board.name, split.harness_flash_bytes, split.harness_ram_bytes, fw.build_id)
    cache.write_text(json.dumps(baseline.__dict__))
    return baseline
