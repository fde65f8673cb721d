"""--target serial: the port found by the board's USB ids (the pty path: tests/firmware/test_serial_pty.py)."""

from types import SimpleNamespace

import pytest

from harness.boards import load_board
from harness.errors import DeviceError
from harness.targets.serial_port import find_port


def _port(device, vid=None, pid=None):
    return SimpleNamespace(device=device, vid=vid, pid=pid)


def test_the_port_is_found_by_the_boards_usb_ids():
    nucleo = load_board("nucleo_l4r5zi")  # ST-LINK/V2-1
    ports = [_port("/dev/ttyS0"), _port("/dev/ttyACM0", 0x1366, 0x1015), _port("/dev/ttyACM1", 0x0483, 0x374B)]
    assert find_port(nucleo, ports) == "/dev/ttyACM1"
    assert find_port(load_board("nrf52840_dk"), ports) == "/dev/ttyACM0"  # J-Link OB


def test_no_matching_port_lists_what_was_seen():
    with pytest.raises(DeviceError, match=r"no serial port of a frdm_k64f \(USB 0D28:0204\).*"
                                          r"/dev/ttyUSB0 \(0403:6001\), /dev/ttyS0.*--port"):
        find_port(load_board("frdm_k64f"), [_port("/dev/ttyUSB0", 0x0403, 0x6001), _port("/dev/ttyS0")])


def test_two_matching_ports_need_a_choice():
    ports = [_port("/dev/ttyACM1", 0x0483, 0x374B), _port("/dev/ttyACM0", 0x0483, 0x374B)]
    with pytest.raises(DeviceError, match="2 serial ports match nucleo_f446re.*/dev/ttyACM0, /dev/ttyACM1"):
        find_port(load_board("nucleo_f446re"), ports)


def test_a_uart_off_the_usb_or_an_emulated_board_needs_port():
    with pytest.raises(DeviceError, match="nano33ble's UART .* P1.03/P1.10 pins and pass --port"):
        find_port(load_board("nano33ble"), [])
    with pytest.raises(DeviceError, match="mps2_an386 is emulator-only"):
        find_port(load_board("mps2_an386"), [])


def test_this_hosts_ports_are_listed_without_error():
    """The real pyserial listing runs (on a host without the board: an error naming what it saw)."""
    try:
        port = find_port(load_board("nucleo_l4r5zi"))
    except DeviceError as e:
        assert "no serial port of a nucleo_l4r5zi" in str(e)
    else:
        assert port.startswith("/dev/")
