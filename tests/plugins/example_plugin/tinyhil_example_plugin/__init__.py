"""An engine that is tinyhil's builtin one under another name, and a target that runs QEMU
through a launcher of its own (the `tinyhil-example-qemu` console script)."""

import sys
from pathlib import Path

from harness.engines.builtin import BuiltinEngine
from harness.targets.kinds import QemuKind


class CopyEngine(BuiltinEngine):
    name = "builtin-copy"
    summary = "the builtin engine, registered by a plugin"


class LauncherQemu(QemuKind):
    name = "qemu-launcher"
    summary = "QEMU started through the plugin's launcher script"

    @property
    def binary(self) -> str:
        return str(Path(sys.executable).with_name("tinyhil-example-qemu"))
