"""Targets: where the firmware runs. Each is a byte stream; harness.protocol speaks over it."""

from harness.targets.base import CountScale, Target
from harness.targets.qemu import QemuTarget, qemu_version
from harness.targets.renode import RenodeTarget, renode_script, robot_test
from harness.targets.serial_port import SerialTarget

__all__ = ["CountScale", "QemuTarget", "RenodeTarget", "SerialTarget", "Target", "qemu_version",
           "renode_script", "robot_test"]
