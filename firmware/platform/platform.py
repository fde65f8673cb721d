"""The tinyhil development platform: builds with the system GNU Arm toolchain, fully offline.

PlatformIO needs its core package `tool-scons` before any build and would fetch it from the
registry. It instantiates this class first, so we register the bundled `tool-scons` folder
(which runs the pip-installed SCons 4.11.1) as an installed package, the same way
`pio pkg install -g -t symlink://...` would. The toolchain is declared in platform.json as a
`symlink://` package; we make its path absolute so the spec resolves from any working directory, and
fill its `bin/` with links to the system's arm-none-eabi-* tools (made here, not shipped: a wheel cannot
carry symlinks, and the tools' folder is the machine's).

A tinyhil board file states its clock and memory once, in its `tinyhil` section; PlatformIO's own
fields for them (`build.f_cpu`, `upload.maximum_size`, `upload.maximum_ram_size`) are filled in
from there when PlatformIO loads the board.
"""

import glob
import json
import os
import shutil

from platformio.public import PlatformBase

HERE = os.path.dirname(os.path.realpath(__file__))


def _link_core_scons(packages_dir):
    link_path = os.path.join(packages_dir, "tool-scons.pio-link")
    scons_dir = os.path.join(HERE, "tool-scons")
    wanted = {
        "cwd": HERE,
        "spec": {"owner": "platformio", "name": "tool-scons", "uri": "symlink://" + scons_dir},
    }
    try:
        with open(link_path, encoding="utf-8") as fp:
            if json.load(fp) == wanted:
                return
    except (OSError, ValueError):
        pass
    os.makedirs(packages_dir, exist_ok=True)
    tmp_path = "%s.%d.tmp" % (link_path, os.getpid())
    with open(tmp_path, "w", encoding="utf-8") as fp:
        json.dump(wanted, fp)
    os.replace(tmp_path, link_path)  # atomic: parallel builds may race here


def _link_system_toolchain(toolchain_dir):
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        return  # the harness checks for the compiler before building and names the package to install
    bin_dir = os.path.join(toolchain_dir, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    for tool in glob.glob(os.path.join(os.path.dirname(os.path.realpath(gcc)), "arm-none-eabi-*")):
        link = os.path.join(bin_dir, os.path.basename(tool))
        if os.path.islink(link) and os.readlink(link) == tool:
            continue
        tmp_link = "%s.%d.tmp" % (link, os.getpid())
        os.symlink(tool, tmp_link)
        os.replace(tmp_link, link)  # atomic: parallel builds may race here


def _number(value):
    return int(str(value), 0)


def _fill_platformio_fields(config):
    tinyhil = config.get("tinyhil", {})
    if "clock_hz" in tinyhil:
        config.update("build.f_cpu", "%dL" % _number(tinyhil["clock_hz"]))
    memory = tinyhil.get("memory", {})
    for region, field in (("flash", "upload.maximum_size"), ("ram", "upload.maximum_ram_size")):
        if "size" in memory.get(region, {}):
            config.update(field, _number(memory[region]["size"]))


class TinyhilPlatform(PlatformBase):
    def __init__(self, manifest_path):
        super().__init__(manifest_path)
        _link_core_scons(self.config.get("platformio", "packages_dir"))
        _link_system_toolchain(os.path.join(HERE, "toolchain"))
        self.packages["toolchain-gccarmnoneeabi"]["version"] = "symlink://" + os.path.join(
            HERE, "toolchain"
        )

    def get_boards(self, id_=None):
        boards = super().get_boards(id_)
        for config in [boards] if id_ else boards.values():
            _fill_platformio_fields(config)
        return boards

    def is_embedded(self):
        return True
