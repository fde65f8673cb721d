"""tinyhil's own target kinds, as the registry (`harness.plugins.TARGETS`) holds them. Each makes
the Target of one run; heavy imports wait until a run needs them."""

from __future__ import annotations

from dataclasses import replace

from harness.targets.base import CiRecipe, TargetKind

RENODE_ACTION = "antmicro/renode-test-action@v5"
RENODE_REVISION = "v1.15.3"  # the Renode release tinyhil's .repl files and timing were checked against


class QemuKind(TargetKind):
    name = "qemu"
    summary = "QEMU (qemu-system-arm -icount shift=0): the board's emulated machine"
    count_units = ("instructions",)
    timing = "instrumented"
    binary = "qemu-system-arm"  # what starts QEMU (a subclass may launch it another way)

    def columns(self) -> dict:
        from harness.report.provenance import qemu_version  # one format per tool: `qemu-system-arm 7.2.22`

        return {"qemu_version": qemu_version()}

    def ci(self, board):
        return CiRecipe(title="Benchmark on QEMU") if board.qemu_machine else None  # Debian's qemu-system-arm

    def make(self, cfg, board, firmware, run_dir, timed=None):
        from harness.targets.qemu import QemuTarget

        if timed is not None:  # the timing model's run (harness/timing): maybe another machine, with the plugin
            return QemuTarget(timed.run_board, timed.elf, log_dir=run_dir, max_seconds=cfg.timeout_s + self.startup_s,
                              extra_args=timed.qemu_args(), binary=self.binary)
        return QemuTarget(board, firmware.elf, log_dir=run_dir, max_seconds=cfg.timeout_s + self.startup_s,
                          binary=self.binary)


class RenodeKind(TargetKind):
    name = "renode"
    summary = "Renode: the board's .repl platform, instruction-based virtual time"
    count_units = ("instructions",)
    startup_s = 180.0  # Renode's own start and platform load, on top of the device's time

    def ci(self, board):
        if not board.renode_platform:
            return None
        # On Renode, `tinyhil robot` is the bench: its calibration run is the row, then the suite runs;
        # renode-test runs python3 from PATH: Robot Framework beside tinyhil, whose keywords the suites use.
        return CiRecipe(title="Benchmark on Renode and run the Robot suites", robot_suites=True, setup=(
            {"name": "Install Renode", "uses": RENODE_ACTION, "with": {"renode-revision": RENODE_REVISION}},
            {"name": "Robot Framework for renode-test",
             "run": 'python3 -m pip install -r "$RENODE_ROOT/tests/requirements.txt"'},
        ))

    def make(self, cfg, board, firmware, run_dir):
        from harness.targets.renode import RenodeTarget

        return RenodeTarget(board, firmware.elf, run_dir, max_seconds=cfg.timeout_s + self.startup_s,
                            binary=cfg.settings.renode)  # None: `renode` on PATH


class SerialKind(TargetKind):
    name = "serial"
    summary = "a physical board on a serial port (flashed with its upload protocol)"
    count_units = ("cycles",)
    parallel = False  # one board, one port
    external_firmware = True
    needs = ("port",)  # optional: found by the board's USB ids
    timing = "beside"

    def check(self, cfg) -> None:
        from harness.boards import load_board
        from harness.targets.serial_port import find_port

        if not cfg.port:
            # found by the board's USB ids, or an error saying why not
            find_port(load_board(cfg.board, search=cfg.settings.boards_dirs))

    def make(self, cfg, board, firmware, run_dir):
        from harness.build import upload_firmware
        from harness.targets.serial_port import SerialTarget, find_port

        # Flash (and so reset) the board once the port is open, or its boot line would be missed. A
        # board with its own firmware (firmware None) is left as it is.
        return SerialTarget(cfg.port or find_port(board), board.uart.baud, log_path=run_dir / "serial.log",
                            reset=(lambda: upload_firmware(firmware)) if firmware is not None else None)


class LabgridKind(TargetKind):
    name = "labgrid"
    summary = "a place of a labgrid board farm (its NetworkSerialPort; silicon or QEMU by tag)"
    count_units = ("cycles", "instructions")
    parallel = False  # runs one at a time on its place
    external_firmware = True
    needs = ("place", "coordinator")
    timing = "beside"  # (on a place tagged QEMU the counts are instructions: no estimate beside them)

    def resolve(self, cfg):
        from harness.targets.labgrid_place import place_and_coordinator

        place, coordinator = place_and_coordinator(cfg.place, cfg.coordinator, cfg.settings)  # else LG_PLACE / ...
        return replace(cfg, place=place, coordinator=coordinator)

    def check(self, cfg) -> None:
        from harness.targets.labgrid_place import check_labgrid_config

        check_labgrid_config(cfg.place, cfg.coordinator)

    def make(self, cfg, board, firmware, run_dir):
        from harness.targets.labgrid_place import LabgridTarget

        return LabgridTarget(board, cfg.place, cfg.coordinator, log_path=run_dir / "serial.log")
