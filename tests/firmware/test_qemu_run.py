"""The real firmware with the fake model, run in QEMU on both machines over the real protocol."""

import shutil
import time

import numpy as np
import pytest
from fake_fw import BOARDS, FAKE_MODEL, fake_inputs, fake_reference, require_build_tools, require_qemu

from harness.build import build_firmware
from harness.errors import DeviceError
from harness.protocol import Device
from harness.protocol.messages import PROTOCOL_VERSION
from harness.targets import QemuTarget

pytestmark = pytest.mark.slow


def _session(fw, tmp_path, **kw):
    require_qemu()
    return QemuTarget(fw.board, fw.elf, log_dir=tmp_path, max_seconds=60, **kw)


@pytest.mark.parametrize("board", BOARDS)
def test_identify_info_memory_and_run(fake_firmware, board, tmp_path):
    fw = fake_firmware(board)
    with _session(fw, tmp_path) as target:
        dev = Device(target, timeout=10)
        dev.wait_ready()
        ident = dev.identify()
        assert (ident.board, ident.engine, ident.kernels) == (board, "builtin", "optimized")
        assert ident.protocol_version == PROTOCOL_VERSION
        assert ident.timer == "systick"  # DWT CYCCNT does not count in QEMU
        scale = target.count_scale(ident.timer, ident.timer_hz)
        assert scale.unit == "instructions"
        assert scale.per_tick == pytest.approx(1e9 / fw.board.qemu_systick_hz)

        info = dev.model_info()
        assert (info.name, info.input_bytes, info.output_bytes, info.arena_bytes) == ("fake_dense_relu", 16, 8, 64)
        assert info.input_dtype == np.int8 and info.data_count == 4 and info.macs == 128
        assert [(layer.op, layer.name, layer.macs) for layer in info.layers] == [
            ("FULLY_CONNECTED", "fake/dense", 128), ("RELU", "fake/relu", 0)]

        mem = dev.measure_memory()
        assert mem.arena_plan_bytes == 64
        assert mem.arena_used_bytes == 8  # the fake model writes exactly 8 activation bytes
        assert 0 < mem.stack_used_bytes < 512 and mem.stack_size_bytes == 8192 - mem.stack_guard_bytes

        samples = dev.run_flash(0, 4, per_layer=True)
        outputs = np.stack([np.frombuffer(s.output, np.int8) for s in samples])
        np.testing.assert_array_equal(outputs, fake_reference(fake_inputs()))
        for s in samples:
            assert s.count > 0 and len(s.layer_counts) == 2
            # layers are timed in their own hooked pass; the whole-model count comes from an unhooked one
            assert sum(s.layer_counts) <= s.profiled_count and s.count <= s.profiled_count
            # the 128-MAC dense layer takes far more instructions than the 8-element ReLU
            assert s.layer_counts[0] > 3 * s.layer_counts[1]
        # about 1.7k instructions per inference on these machines
        assert 500 < scale.convert(samples[0].count) < 20_000

        x = np.arange(-8, 8, dtype=np.int8) * 9
        one = dev.run_input(x.tobytes())
        np.testing.assert_array_equal(np.frombuffer(one.output, np.int8), fake_reference(x[None])[0])
        assert one.layer_counts == ()


def test_counts_are_identical_across_runs(fake_firmware, tmp_path):
    fw = fake_firmware("mps2_an386")
    runs = []
    for i in range(2):
        with _session(fw, tmp_path / str(i)) as target:
            runs.append([s.count for s in Device(target, timeout=10).run_flash(0, 4)])
    assert runs[0] == runs[1]


def test_firmware_refuses_bad_requests(fake_firmware, tmp_path):
    fw = fake_firmware("netduinoplus2")
    with _session(fw, tmp_path) as target:
        dev = Device(target, timeout=10)
        with pytest.raises(DeviceError, match="error 4: sample range beyond th_data_count"):
            dev.run_flash(2, 3)
        with pytest.raises(DeviceError, match="error 3: RUN_INPUT takes"):
            dev.run_input(b"\x00" * 5)
        with pytest.raises(DeviceError, match="error 5: frame larger than the receive buffer"):
            dev.run_input(b"\x00" * 5000)  # netduinoplus2 receives frames of up to 4 KiB
        assert dev.identify().board == "netduinoplus2"  # still serving after the errors


def test_reference_kernels_build_reports_itself(tmp_path):
    require_build_tools()
    fw = build_firmware("mps2_an386", FAKE_MODEL, tmp_path / "work", kernels="reference")
    with _session(fw, tmp_path) as target:
        dev = Device(target, timeout=10)
        assert dev.identify().kernels == "reference"
        outputs = np.stack([np.frombuffer(s.output, np.int8) for s in dev.run_flash(0, 4)])
        np.testing.assert_array_equal(outputs, fake_reference(fake_inputs()))


def test_instruction_counts_agree_across_machines(fake_firmware, tmp_path):
    """The same inference code on both machines: converted with each board's emulated SysTick
    clock, the instruction counts must agree (up to mps2-an386's 40-instruction resolution)."""
    instructions = {}
    for board in BOARDS:
        fw = fake_firmware(board)
        with _session(fw, tmp_path / board) as target:
            dev = Device(target, timeout=10)
            ident = dev.identify()
            scale = target.count_scale(ident.timer, ident.timer_hz)
            instructions[board] = scale.convert(dev.run_flash(0, 1)[0].count)
    assert instructions["mps2_an386"] == pytest.approx(instructions["netduinoplus2"], abs=2 * 40)


@pytest.mark.parametrize("board", BOARDS)
def test_a_crashing_model_is_reported_at_once(board, tmp_path):
    """A model that faults (an undefined instruction) makes the firmware print its fault line; the
    Device raises on it at once instead of waiting out the timeout."""
    require_build_tools()
    model = tmp_path / "model"
    shutil.copytree(FAKE_MODEL, model)
    src = (model / "model.c").read_text().replace("if (hook) hook(1, ctx);", "__builtin_trap();")
    (model / "model.c").write_text(src)
    fw = build_firmware(board, model, tmp_path / "work")
    with _session(fw, tmp_path) as target:
        dev = Device(target, timeout=30)
        assert dev.identify().board == board
        started = time.monotonic()
        with pytest.raises(DeviceError, match=r"crashed: TINYHIL FAULT HardFault pc=0x[0-9a-f]{8}") as info:
            dev.run_flash(0, 1)
        assert time.monotonic() - started < 5
        assert b"TINYHIL FAULT" in info.value.last_bytes


@pytest.mark.parametrize("board", BOARDS)
def test_qemu_uart_on_a_pty(fake_firmware, board, tmp_path):
    fw = fake_firmware(board)
    with _session(fw, tmp_path, serial_mode="pty") as target:
        assert target.pty_path.startswith("/dev/pts/")
        dev = Device(target, timeout=10)
        assert dev.identify().board == board
        outputs = np.stack([np.frombuffer(s.output, np.int8) for s in dev.run_flash(0, 4)])
        np.testing.assert_array_equal(outputs, fake_reference(fake_inputs()))
