"""Targets: where the firmware runs. Each is a byte stream; harness.protocol speaks over it."""

from harness.targets.base import CountScale, Target, TargetKind
from harness.targets.qemu import QemuTarget, qemu_version
from harness.targets.renode import RenodeTarget, renode_version
from harness.targets.renode_script import renode_script
from harness.targets.serial_port import SerialTarget

__all__ = ["CountScale", "QemuTarget", "RenodeTarget", "SerialTarget", "Target", "TargetKind", "qemu_version",
           "renode_script", "renode_version"]
