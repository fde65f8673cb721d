"""Build the QEMU timing plugin (C, in `plugin/`) with the host C compiler, cached by content hash.

The shared object goes to the user's cache folder (platformdirs; `XDG_CACHE_HOME` is respected),
under the hash of its sources and the compiler's version, so an edited source or another compiler is
a new build and a second call costs nothing. Nothing prebuilt is shipped. `scripts/install.sh` runs
`python -m harness.timing.build` once; otherwise the first estimate builds it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import platformdirs

from harness.errors import BuildError, ToolMissingError

SOURCES = ("tinyhil_timing.c", "thumb_cost.c", "tables.c")
HEADERS = ("qemu_plugin_api.h", "thumb_cost.h", "timing_state.h")
CFLAGS = ("-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden", "-D_POSIX_C_SOURCE=200809L")


def compiler(preferred: str | None = None) -> str:
    """The host C compiler: `preferred` (the settings' CC) if it is found, else cc, gcc or clang."""
    for name in (preferred, "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise ToolMissingError("no host C compiler (cc, gcc or clang) to build the QEMU timing plugin: "
                           "install one (Debian: apt install gcc)")


def _sources() -> dict[str, bytes]:
    folder = resources.files("harness.timing") / "plugin"
    return {name: (folder / name).read_bytes() for name in (*SOURCES, *HEADERS)}


def plugin_digest(cc: str | None = None) -> str:
    cc = cc or compiler()
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[:1]
    h = hashlib.sha256()
    for name, data in sorted(_sources().items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    h.update(" ".join(CFLAGS).encode() + b"\0" + "".join(version).encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("tinyhil")) / "timing-plugin"


def plugin_path(cc: str | None = None) -> Path:
    """The built plugin, building it first if this source/compiler pair has not been built yet
    (`cc`: the compiler the settings name, `Settings.c_compiler`)."""
    cc = compiler(cc)
    target = cache_dir() / plugin_digest(cc) / "tinyhil_timing.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tinyhil-plugin-") as tmp:
        src = Path(tmp)
        for name, data in _sources().items():
            (src / name).write_bytes(data)
        built = target.parent / f".{os.getpid()}.so"
        cmd = [cc, *CFLAGS, "-o", str(built), *(str(src / s) for s in SOURCES)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            built.unlink(missing_ok=True)
            raise BuildError(f"building the QEMU timing plugin failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}")
        os.replace(built, target)  # atomic: a concurrent build of the same sources writes the same bytes
    return target


if __name__ == "__main__":
    print(plugin_path())
