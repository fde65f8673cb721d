"""`tinyhil doctor`: which external tools are here, their versions, and what needs each."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from dataclasses import dataclass

from harness.settings import Settings


@dataclass(frozen=True)
class ToolStatus:
    name: str
    needed_for: str
    required: bool  # required by the offline path (the embedded default)
    version: str | None  # None when missing
    missing: str = "missing"  # what to show when it is missing

    @property
    def present(self) -> bool:
        return self.version is not None


def _first_line(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else None


def _binary(name: str, version_flag: str = "--version") -> str | None:
    path = shutil.which(name)
    return _first_line([path, version_flag]) if path else None


def _package(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _renode(settings: Settings) -> str | None:
    from harness.targets.renode import renode_version
    from harness.targets.renode_script import renode_binary

    binary = renode_binary(settings)
    return renode_version(binary) if binary else None


def _renode_test(settings: Settings) -> str | None:
    """renode-test has no --version (it exits 2): it counts as present when `--help` runs."""
    from harness.targets.renode_script import renode_test_binary

    path = renode_test_binary(settings)
    if not path:
        return None
    try:
        ok = subprocess.run([path, "--help"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"runs (no --version): {path}" if ok else None


def _labgrid() -> str | None:
    from harness.targets.labgrid_place import labgrid_tool

    if not labgrid_tool():
        return None
    return f"labgrid {_package('labgrid')}" if _package("labgrid") else "labgrid-client (version unknown)"


def check_tools(settings: Settings | None = None) -> list[ToolStatus]:
    """Every tool and tree tinyhil uses, found as `settings` say (default: read from the environment
    here: `tinyhil doctor` is an edge of its own)."""
    settings = settings or Settings.from_environ()
    return [
        ToolStatus("arm-none-eabi-gcc", "building firmware", True, _binary("arm-none-eabi-gcc")),
        # the way the build runs it (`python -m platformio`), so what doctor finds is what builds
        ToolStatus("platformio", "building firmware", True, _first_line([sys.executable, "-m", "platformio",
                                                                          "--version"])),
        ToolStatus("qemu-system-arm", "--target qemu", True, _binary("qemu-system-arm")),
        ToolStatus("tflite-micro", "host TFLM reference outputs", True, _package("tflite-micro")),
        ToolStatus("tensorflow", "demo, compress", True, _package("tensorflow")),
        ToolStatus("renode", "--target renode ($TINYHIL_RENODE or PATH)", False, _renode(settings)),
        ToolStatus("renode-test", "the generated Robot tests (tinyhil robot)", False, _renode_test(settings)),
        ToolStatus("labgrid-client", "--target labgrid (board farms)", False, _labgrid()),
        *tflm_trees(settings),
    ]


def tflm_trees(settings: Settings) -> list[ToolStatus]:
    """One line per TFLM kernel set: the tree named for it (path, TFLM commit, whether CMSIS-NN is in
    it) and whether its library is built, or which variable to set."""
    from harness.build.tflm_lib import (
        KERNEL_SETS,
        TREE_VARIABLES,
        TflmTreeError,
        board_cpu_flags,
        cache_root,
        find_tree,
        library_key,
    )
    from harness.places import shipped_boards_dir

    out = []
    for kernels in KERNEL_SETS:
        name, needed = f"TFLM tree ({kernels})", f"--engine tflm --kernels {kernels}"
        try:
            tree = find_tree(kernels, settings.tflm_environ, settings.tflm_commit)
        except TflmTreeError as e:
            missing = f"none: set {TREE_VARIABLES[kernels]}" if "no TFLM tree" in str(e) else str(e)
            out.append(ToolStatus(name, needed, False, None, missing))
            continue
        # every board has the same CPU flags
        key = library_key(tree, board_cpu_flags(shipped_boards_dir() / "mps2_an386.json"))
        built = (cache_root(settings.cache_dir) / key / "lib.json").is_file()
        out.append(ToolStatus(name, needed, False, f"{tree.path}, TFLM {tree.commit or 'commit unknown'}, CMSIS-NN "
                              f"{'in it' if tree.has_cmsis_nn else 'not in it'}, kernels {tree.kernels}, library "
                              f"{'built' if built else 'not built yet'} ({cache_root(settings.cache_dir) / key})"))
    return out


@dataclass(frozen=True)
class Registered:
    kind: str  # engine | target | timing model
    name: str
    origin: str  # "tinyhil 0.1.0", or a plugin's distribution, version and entry point
    description: str


def registered() -> list[Registered]:
    """Every registered engine, target and timing model, with where it came from (plugins that
    failed to load are named in a warning when the registry loads)."""
    from harness.plugins import REGISTRIES

    out = []
    for registry in REGISTRIES:
        for entry in registry.entries():
            describe = getattr(entry.item, "describe", None)
            text = describe() if callable(describe) else f"{entry.item.version}: estimates " + \
                ", ".join(entry.item.estimates)
            out.append(Registered(registry.kind, entry.name, entry.origin.describe(), text))
    return out


def offline_path_ready(tools: list[ToolStatus]) -> bool:
    return all(t.present for t in tools if t.required)
