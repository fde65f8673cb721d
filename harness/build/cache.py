"""Builds cached by content: the build directory is named by the hash of everything that goes into
the firmware (the generated model, the firmware sources, platformio.ini, the board file, engine,
kernels, compiler, and the TFLM tree for that engine). An identical build is reused, not rebuilt,
and the row says so; concurrent runs of one build wait for each other on a lock."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from harness.boards import PROJECT_DIR, Board
from harness.build.firmware import Firmware, read_elf_sizes
from harness.build.platformio import _pio_version, build_firmware
from harness.identity import short_hash, tree_sha256
from harness.report.provenance import toolchain_version

STAMP = "build.json"
FIRMWARE_INPUTS = ("firmware", "platformio.ini")


def build_id(board: Board, model_dir: Path, kernels: str, engine: str) -> str:
    """The hash of what goes into this build."""
    facts = {
        "model": tree_sha256([model_dir], model_dir),
        "firmware": tree_sha256([PROJECT_DIR / p for p in FIRMWARE_INPUTS], PROJECT_DIR),
        "board_file": tree_sha256([board.manifest], board.manifest.parent),
        "board": board.name, "engine": engine, "kernels": kernels, "compiler": toolchain_version(),
    }
    if engine == "tflm":
        tree = Path(os.environ.get("TINYHIL_TFLM_DIR", ""))
        commit = tree / "TFLM_COMMIT"
        facts["tflm_tree"] = [str(tree.resolve()), commit.read_text().strip() if commit.is_file() else None]
    return short_hash(facts)


def cached_build(board: Board, generated_dir: Path, builds_root: Path, *, kernels: str, engine: str,
                 timeout: float = 900.0) -> Firmware:
    """The firmware for this generated model: reused when an identical build exists, else built.
    The generated directory moves into the build's own folder, so the build's inputs stay beside it."""
    bid = build_id(board, generated_dir, kernels, engine)
    work = Path(builds_root).resolve() / bid
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        model_dir = work / "model"
        if not model_dir.is_dir():
            shutil.copytree(generated_dir, model_dir)
        reused = _load_stamp(work, board, model_dir, kernels)
        if reused is not None:
            return replace(reused, build_id=bid, cached=True, build_seconds=0.0)
        fw = build_firmware(board, model_dir, work, kernels=kernels, engine=engine, timeout=timeout)
        (work / STAMP).write_text(json.dumps({"elf": str(fw.elf), "build_seconds": fw.build_seconds,
                                              "engine": engine, "kernels": kernels, "board": board.name}))
        return replace(fw, build_id=bid, cached=False)


def _load_stamp(work: Path, board: Board, model_dir: Path, kernels: str) -> Firmware | None:
    stamp = work / STAMP
    if not stamp.is_file():
        return None
    try:
        facts = json.loads(stamp.read_text())
        elf = Path(facts["elf"])
    except (ValueError, KeyError, OSError):
        return None
    if not elf.is_file():
        return None
    sizes = read_elf_sizes(elf)
    return Firmware(elf=elf, board=board, model_dir=model_dir, kernels=kernels, build_dir=elf.parent.parent,
                    log_path=work / "build.log", sizes=sizes, build_seconds=0.0, toolchain=sizes.toolchain,
                    platformio=_pio_version())
