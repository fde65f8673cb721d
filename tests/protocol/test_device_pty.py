"""The Device client over a real pty (pyserial on the slave side, a fake device on the master)."""

import time

import pytest
from fake_device import OUTPUT, FakeDevice

from harness.errors import DeviceError, DeviceTimeoutError, ProtocolVersionError
from harness.protocol import PROTOCOL_VERSION, CorruptFrameError, Device, LinkConfig
from harness.protocol.messages import layer_info_payload
from harness.targets import SerialTarget


def test_commands_round_trip():
    with FakeDevice(boot_noise=b"\x00\xffbootloader v1\r\n") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        dev = Device(target, timeout=5)
        ident = dev.identify()  # waits for the ready line first, skipping the noise
        assert (ident.board, ident.timer, ident.kernels, ident.timer_overhead) == (
            "netduinoplus2", "dwt_cyccnt", "reference", 2)
        assert target.count_scale(ident.timer, ident.timer_hz).unit == "cycles"
        info = dev.model_info()
        assert [layer.op for layer in info.layers] == ["FULLY_CONNECTED", "RELU"] and info.data_count == 5
        mem = dev.measure_memory()
        assert (mem.arena_used_bytes, mem.stack_used_bytes) == (8, 40)
        seen = []
        samples = dev.run_flash(1, 3, per_layer=True, on_sample=seen.append)
        assert [s.index for s in samples] == [1, 2, 3] and seen == samples
        assert samples[0].count == 1001 and samples[0].layer_counts == (701, 300) and samples[0].output == OUTPUT
        one = dev.run_input(bytes(range(16)))
        assert one.count == 777 and one.output == bytes(range(8))[::-1]
        assert fake.received[-1] == (0x05, b"\x00" + bytes(range(16)))
        assert fake.received[-2] == (0x04, (1).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"\x01")
        assert dev.stats.retransmissions == 0 and fake.received[:4] == [
            (0x01, b""), (0x02, b""), (0x06, bytes(4)), (0x06, b"\x01" + bytes(3))]


def test_device_error_frame_raises():
    with FakeDevice() as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        with pytest.raises(DeviceError, match="error 4: sample range beyond th_data_count"):
            Device(target, timeout=5).run_flash(4, 2)


def test_silent_device_times_out_with_last_bytes():
    with FakeDevice("silent", boot_noise=b"Hard fault!\n") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        started = time.monotonic()
        with pytest.raises(DeviceTimeoutError, match="TINYHIL READY.*within 0.5 s.*Hard fault") as info:
            Device(target, timeout=0.5).identify()
        assert time.monotonic() - started < 2
        assert info.value.last_bytes == b"Hard fault!\n"


def test_a_lost_boot_line_is_probed_with_identify():
    """The ready line never came through (a noisy link took it), but the device is up: after
    ready_probe_s of quiet, IDENTIFY is asked, and the session goes on."""
    with FakeDevice("no_ready", boot_noise=b"TINY\x00") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        started = time.monotonic()
        dev = Device(target, timeout=5, link=LinkConfig(ready_probe_s=0.5))
        assert dev.identify().board == "netduinoplus2"
        assert time.monotonic() - started < 4 and fake.received[:2] == [(0x01, b""), (0x01, b"")]


def test_mute_device_times_out_after_bounded_retries():
    with FakeDevice("mute") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        started = time.monotonic()
        link = LinkConfig(retries=2, ack_timeout_s=0.2)
        with pytest.raises(DeviceTimeoutError, match="no acknowledgement to IDENTIFY after 3 attempts"):
            Device(target, timeout=0.5, link=link).identify()
        assert time.monotonic() - started < 3
        assert fake.received == [(0x01, b"")] * 3  # the command arrived, three times


def test_a_starved_device_gets_longer_waits_for_its_ack():
    """Five copies of a request wait 0.2, 0.3, 0.45, 0.68 and 1.0 s for an ACK (not 5 x 0.2 s), so a
    device that hears nothing for 1.5 s (an emulator starved of CPU) still answers in time."""
    with FakeDevice("starved") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        dev = Device(target, timeout=2, link=LinkConfig(retries=4, ack_timeout_s=0.2))
        assert dev.identify().board == "netduinoplus2"
        assert 2 <= len(fake.received) <= 5


def test_version_mismatch_is_refused_naming_both():
    with FakeDevice(version=7) as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        expected = f"protocol version 7, this harness speaks version {PROTOCOL_VERSION}"
        with pytest.raises(ProtocolVersionError, match=expected):
            Device(target, timeout=5).identify()


def test_corrupt_reply_is_detected():
    with FakeDevice("corrupt") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        with pytest.raises(CorruptFrameError, match="IDENTIFY: no intact reply after 3 attempts.*CRC") as info:
            # inter-byte timeout raised: on a loaded machine a reply's bytes can stall past 0.2 s,
            # and the last complaint would be a cut-off frame instead of the CRC this test is about
            Device(target, timeout=2, link=LinkConfig(retries=2, query_rounds=2, inter_byte_timeout_s=1.0)).identify()
        assert b"\xa5\x5a\x81" in info.value.last_bytes
        assert fake.received == [(0x01, b"")] * 6  # 3 copies of a request, asked afresh once


def test_a_layer_info_whose_replies_stay_corrupt_is_asked_again_as_a_new_request():
    with FakeDevice("stale_layer") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        dev = Device(target, timeout=2, link=LinkConfig(retries=2))
        info = dev.model_info()
        assert [layer.op for layer in info.layers] == ["FULLY_CONNECTED", "RELU"]
        layer_requests = [payload for kind, payload in fake.received if kind == 0x06]
        assert layer_requests == [layer_info_payload(0)] * 4 + [layer_info_payload(1)] * 4  # 3 copies, then anew


def test_a_host_input_whose_replies_stay_corrupt_is_run_again_as_a_new_request():
    with FakeDevice("stale_input") as fake, SerialTarget(fake.slave_name) as target:
        fake.boot()
        dev = Device(target, timeout=2, link=LinkConfig(retries=2))
        dev.model_info()
        data = bytes(range(16))
        sample = dev.run_input(data)
        assert sample.output == bytes(reversed(data[:8]))  # the intact reply of the second request
        assert [kind for kind, _ in fake.received].count(0x05) == 4  # 3 copies of the first, then anew


def test_serial_target_resets_after_opening_and_keeps_a_transcript(tmp_path):
    with FakeDevice() as fake:
        log = tmp_path / "serial.log"
        # the device boots only when "reset", which happens after the port is open
        with SerialTarget(fake.slave_name, log_path=log, reset=fake.boot) as target:
            assert Device(target, timeout=5).identify().board == "netduinoplus2"
        assert log.read_bytes().startswith(b"TINYHIL READY\n\xa5\x5a\x80")  # the ACK first
