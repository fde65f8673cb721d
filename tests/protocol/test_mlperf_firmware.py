"""tinyhil's firmware built with --protocol mlperf, under QEMU, spoken to byte for byte the way the
MLPerf Tiny / EEMBC runner does (the line formats its host scripts match), then through the
harness's own driver (harness.protocol.mlperf)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "link"))
from link_fw import FAKE_MODEL, inputs, reference  # noqa: E402

from harness.errors import DeviceError  # noqa: E402
from harness.protocol.mlperf import MlperfDevice, parse_results  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mlperf_firmware(tmp_path_factory):
    import shutil

    from harness.build import build_firmware

    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    return build_firmware("mps2_an386", FAKE_MODEL, tmp_path_factory.mktemp("fw-mlperf"), protocol="mlperf")


@pytest.fixture
def qemu(mlperf_firmware, tmp_path):
    from harness.boards import load_board
    from harness.targets import QemuTarget

    with QemuTarget(load_board("mps2_an386"), mlperf_firmware.elf, log_dir=tmp_path, max_seconds=120) as target:
        yield target


def _answer(target, command: bytes, timeout: float = 20.0) -> list[str]:
    """Send raw bytes; the lines up to and including m-ready."""
    target.write(command)
    buf, deadline = b"", time.monotonic() + timeout
    while b"m-ready\r\n" not in buf:
        assert time.monotonic() < deadline, f"no m-ready after {command!r}: {buf!r}"
        buf += target.read(4096, 0.2)
    return buf.decode().split("\r\n")[:-1]


def test_the_runners_conversation(qemu):
    boot = _answer(qemu, b"")
    assert boot[0] == "m-timestamp-mode-performance" and boot[-2:] == ["m-init-done", "m-ready"]
    assert re.match(r"^m-name-dut-\[tinyhil mps2_an386\]$", _answer(qemu, b"name%")[0])
    assert _answer(qemu, b"profile%")[:2] == ["m-profile-[tinyhil-fw 0.1.0 (mlperf)]", "m-model-[fake_dense_relu]"]
    assert _answer(qemu, b"bogus%") == ["e-[Unknown command: bogus]", "m-ready"]
    assert _answer(qemu, b"infer 1 0%")[0].startswith("e-[db holds")  # nothing loaded yet
    x = inputs(2)
    assert _answer(qemu, b"db load 16%") == ["m-[Expecting 16 bytes]", "m-ready"]
    assert _answer(qemu, b"db " + x[1, :8].tobytes().hex().encode() + b"%") == ["m-ready"]
    assert _answer(qemu, b"db " + x[1, 8:].tobytes().hex().encode() + b"%") == ["m-load-done", "m-ready"]
    lines = _answer(qemu, b"infer 3 1%")
    assert [re.sub(r"\d+$", "N", s) for s in lines[:7]] == [
        "m-warmup-start-N", "m-warmup-done", "m-infer-start-N", "m-lap-us-N", "m-lap-us-N", "m-infer-done",
        lines[6]]
    assert lines[0] == "m-warmup-start-1" and lines[2] == "m-infer-start-3"
    start, end = (int(s.rsplit("-", 1)[1]) for s in lines[3:5])
    assert 0 <= start <= end
    # the fake model's output has no quantization: the firmware prints its integers
    assert np.array_equal(np.array(parse_results(lines[6])), reference(x[1:2])[0])
    assert _answer(qemu, b"results%")[0] == lines[6]
    assert _answer(qemu, b"infer%")[0] == "m-warmup-start-10"  # the reference's default: 1 after 10 warmups
    assert _answer(qemu, b"db print%")[0] == "m-buffer-" + "-".join(f"{b:02x}" for b in x[1, :8].tobytes())


def test_refusals_and_line_noise(qemu):
    _answer(qemu, b"")
    assert _answer(qemu, b"db load 99999999%")[0].startswith("e-[db load: more bytes")
    assert _answer(qemu, b"db load 0%")[0].startswith("e-[Command 'db load' requires")
    assert _answer(qemu, b"db load 4%")[0] == "m-[Expecting 4 bytes]"
    assert _answer(qemu, b"db 0g%")[0].startswith("e-[Invalid hex digit")
    assert _answer(qemu, b"db 012%")[0].startswith("e-[Insufficent number of hex digits")
    assert _answer(qemu, b"infer -1%")[0] == "e-[Inference iterations must be >0]"
    assert _answer(qemu, b"x" * 300 + b"%")[0].startswith("e-[Command longer")
    assert _answer(qemu, b"\r\nname\r\n%")[0].startswith("m-name-dut-")  # line ends around a command are ignored


def test_the_harness_driver(qemu):
    device = MlperfDevice(qemu, timeout=20)
    device.wait_ready(20)
    assert device.name() == "dut-[tinyhil mps2_an386]"
    info = device.tinyhil_info()
    assert info["identity"]["engine"] == "builtin" and info["identity"]["input_bytes"] == "16"
    assert int(info["memory"]["arena_used"]) <= int(info["memory"]["arena_plan"]) == 64
    x = inputs(4)
    for k in range(4):
        device.load(x[k].tobytes())
        result = device.infer(iterations=2, warmup=0)
        assert result.elapsed_us >= 0 and np.array_equal(np.array(result.results), reference(x[k:k + 1])[0])
    with pytest.raises(DeviceError, match="refused `bogus`"):
        device.command("bogus")
