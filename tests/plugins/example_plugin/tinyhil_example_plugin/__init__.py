"""An engine that is tinyhil's builtin one under another name, and a target that runs QEMU
through a launcher of its own (the `tinyhil-example-qemu` console script)."""

import sys
from pathlib import Path

from harness.engines.builtin import BuiltinEngine
from harness.targets.kinds import QemuKind
from harness.targets.qemu import QemuTarget


class CopyEngine(BuiltinEngine):
    name = "builtin-copy"
    summary = "the builtin engine, registered by a plugin"


class LauncherQemu(QemuKind):
    name = "qemu-launcher"
    summary = "QEMU started through the plugin's launcher script"

    def make(self, cfg, board, firmware, run_dir):
        launcher = Path(sys.executable).with_name("tinyhil-example-qemu")
        return QemuTarget(board, firmware.elf, log_dir=run_dir, max_seconds=cfg.timeout_s + self.startup_s,
                          binary=str(launcher))
