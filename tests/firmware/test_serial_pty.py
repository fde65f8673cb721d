"""The serial target end to end through a real /dev/pts device: QEMU's UART on `-serial pty`, QEMU
paused until the SerialTarget has the port open, then resumed by its `reset` callback — the way a
real board is flashed and reset once its port is open — and the protocol run over pyserial."""

import os
import re
import signal
import socket
import subprocess
import time

import numpy as np
import pytest
from fake_fw import fake_inputs, fake_reference, require_qemu

from harness.protocol import Device
from harness.targets.qemu import _free_port, _qmp_call
from harness.targets.serial_port import SerialTarget

pytestmark = pytest.mark.slow


def _resume(qmp_port: int) -> None:
    with socket.create_connection(("127.0.0.1", qmp_port), timeout=10) as qmp:
        stream = qmp.makefile("rwb")
        _qmp_call(stream, None)
        _qmp_call(stream, "qmp_capabilities")
        _qmp_call(stream, "cont")


@pytest.mark.parametrize("board", ["netduinoplus2", "mps2_an386"])
def test_serial_target_on_a_qemu_pty(fake_firmware, board, tmp_path):
    require_qemu()
    fw = fake_firmware(board)
    qmp_port = _free_port()
    log = tmp_path / "qemu.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["qemu-system-arm", "-M", fw.board.qemu_machine, "-nographic", "-monitor", "none", "-icount", "shift=0",
             "-serial", "pty", "-S", "-qmp", f"tcp:127.0.0.1:{qmp_port},server=on,wait=off", "-kernel", str(fw.elf)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not (found := re.search(rb"char device redirected to (/dev/pts/\d+)", log.read_bytes())):
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        pty = found.group(1).decode()
        with SerialTarget(pty, fw.board.uart.baud, log_path=tmp_path / "serial.log",
                          reset=lambda: _resume(qmp_port)) as target:
            dev = Device(target, timeout=10)
            dev.wait_ready()  # the boot line, seen because the port was open before the "reset"
            assert dev.identify().board == board
            outputs = np.stack([np.frombuffer(s.output, np.int8) for s in dev.run_flash(0, 4)])
            np.testing.assert_array_equal(outputs, fake_reference(fake_inputs()))
        transcript = (tmp_path / "serial.log").read_bytes()
        assert transcript.startswith(b"TINYHIL READY")  # every byte read, from the first
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
