"""Starts qemu-system-arm with the arguments given, after noting them in $TINYHIL_EXAMPLE_LAUNCH_LOG."""

import os
import sys


def main() -> None:
    log = os.environ.get("TINYHIL_EXAMPLE_LAUNCH_LOG")
    if log:
        with open(log, "a") as f:
            f.write(" ".join(sys.argv[1:]) + "\n")
    os.execvp("qemu-system-arm", ["qemu-system-arm", *sys.argv[1:]])
