"""QEMU target behaviour with misbehaving firmware: nothing can hang the harness."""

import shutil
import time

import pytest
from hang_firmware import build_hang_elf

from harness.boards import load_board
from harness.errors import DeviceError, DeviceTimeoutError, TinyhilError, ToolMissingError
from harness.protocol import Device, LinkConfig
from harness.targets import QemuTarget, qemu_version

pytestmark = pytest.mark.skipif(not shutil.which("qemu-system-arm"), reason="qemu-system-arm is not installed")

BOARD = load_board("mps2_an386")


@pytest.fixture(scope="module")
def silent_elf(tmp_path_factory):
    return build_hang_elf(tmp_path_factory.mktemp("silent"), "booting, then stuck\\n")


@pytest.fixture(scope="module")
def mute_elf(tmp_path_factory):
    return build_hang_elf(tmp_path_factory.mktemp("mute"), "TINYHIL READY\\n")


def test_firmware_that_never_boots_times_out_with_last_bytes(silent_elf, tmp_path):
    with QemuTarget(BOARD, silent_elf, log_dir=tmp_path, max_seconds=30) as target:
        started = time.monotonic()
        with pytest.raises(DeviceTimeoutError, match="TINYHIL READY.*within 1 s.*booting, then stuck") as info:
            Device(target, timeout=1.0).identify()
        assert time.monotonic() - started < 3
        assert info.value.last_bytes == b"booting, then stuck\n"
        assert info.value.log_path == tmp_path / "qemu.log"


def test_firmware_that_never_answers_times_out(mute_elf, tmp_path):
    with QemuTarget(BOARD, mute_elf, log_dir=tmp_path, max_seconds=30) as target:
        started = time.monotonic()
        link = LinkConfig(retries=3, ack_timeout_s=0.3)
        never = r"no acknowledgement to MODEL_INFO after 4 attempts \(the last waited 1 s\)"  # waits back off to 1 s
        with pytest.raises(DeviceTimeoutError, match=never):
            Device(target, timeout=1.0, link=link).model_info()
        assert time.monotonic() - started < 4


def test_hard_limit_kills_qemu(silent_elf, tmp_path):
    target = QemuTarget(BOARD, silent_elf, log_dir=tmp_path, max_seconds=1.0)
    with target:
        time.sleep(1.5)
        with pytest.raises(DeviceTimeoutError, match="hard limit of 1 s"):
            target.read(10, 0.1)
        assert target._proc.poll() is not None


def test_close_ends_the_qemu_process(silent_elf, tmp_path):
    target = QemuTarget(BOARD, silent_elf, log_dir=tmp_path)
    target.open()
    proc = target._proc
    assert proc.poll() is None
    target.close()
    assert proc.poll() is not None
    target.close()  # twice is fine


def test_qemu_that_exits_is_reported(silent_elf, tmp_path):
    target = QemuTarget(BOARD, silent_elf, log_dir=tmp_path, extra_args=("-no-such-option",))
    with pytest.raises(DeviceError, match="did not accept a serial connection"):
        target.open()
    assert "no-such-option" in (tmp_path / "qemu.log").read_text()
    target.close()


def test_missing_qemu_and_unsupported_board(silent_elf, tmp_path):
    with pytest.raises(ToolMissingError, match="qemu-system-armx not found"):
        QemuTarget(BOARD, silent_elf, binary="qemu-system-armx").open()
    no_qemu = BOARD.__class__(**{**BOARD.__dict__, "qemu_machine": None})
    with pytest.raises(TinyhilError, match="QEMU does not model board"):
        QemuTarget(no_qemu, silent_elf)
    with pytest.raises(TinyhilError, match="unknown QEMU serial mode 'usb'"):
        QemuTarget(BOARD, silent_elf, serial_mode="usb")


def test_qemu_version_is_reported():
    assert qemu_version().startswith("QEMU emulator version")
