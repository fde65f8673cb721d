"""Real bytes between the harness and QEMU through the fault proxy; QEMU killed, frozen and reset
in the middle of a run. Every sample that arrives must be right, none may be lost, nothing hangs."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from link_fw import N_SAMPLES, inputs, reference

from harness.errors import DeviceError, DeviceTimeoutError
from harness.protocol import Device, LinkConfig
from harness.targets import QemuTarget
from harness.targets.faultproxy import FaultProfile, FaultProxyTarget, Faults

pytestmark = pytest.mark.slow

EXPECTED = reference(inputs(N_SAMPLES))
SLOW_SPIN = 400_000  # idle turns per inference: a run then takes about a second or more


def _qemu(fw, tmp_path) -> QemuTarget:
    return QemuTarget(fw.board, fw.elf, log_dir=tmp_path, max_seconds=120)


def _outputs(samples) -> np.ndarray:
    return np.stack([np.frombuffer(s.output, np.int8) for s in samples])


def _session(target, per_layer=True, on_sample=None, timeout=5.0, link=None):
    dev = Device(target, timeout=timeout, link=link, seed=1)
    dev.wait_ready(30)
    dev.identify()
    dev.model_info()
    dev.measure_memory()
    return dev, dev.run_flash(0, N_SAMPLES, per_layer, on_sample=on_sample)


def test_clean_proxy_is_transparent(link_firmware, tmp_path):
    fw = link_firmware()
    with _qemu(fw, tmp_path / "direct") as target:
        _, direct = _session(target)
    with FaultProxyTarget(_qemu(fw, tmp_path / "proxy"), FaultProfile("clean")) as target:
        dev, proxied = _session(target)
    assert proxied == direct  # counts, layer counts and outputs, sample by sample
    np.testing.assert_array_equal(_outputs(proxied), EXPECTED)
    assert dev.stats.retransmissions == 0


@pytest.mark.parametrize("faults", [
    Faults(drop=0.005, duplicate=0.005, flip=0.005),
    Faults(drop=0.01),
    Faults(flip=0.01),
    Faults(duplicate=0.01),
    Faults(delay=0.02, delay_s=0.05),
], ids=["mixed", "1pct-drop", "1pct-flip", "1pct-dup", "delay"])  # fmt: skip
def test_a_noisy_link_still_gives_the_clean_results(link_firmware, tmp_path, faults):
    fw = link_firmware()
    with _qemu(fw, tmp_path / "direct") as target:
        _, clean = _session(target)
    profile = FaultProfile("noisy", to_device=faults, to_host=faults)
    with FaultProxyTarget(_qemu(fw, tmp_path / "proxy"), profile, seed=7) as target:
        dev, noisy = _session(target)
        counts = target.counts
    assert noisy == clean
    injected = sum(c.dropped + c.flipped + c.duplicated + c.delayed for c in counts.values())
    assert injected > 0  # the faults did happen
    if not faults.delay:
        assert dev.stats.retransmissions > 0 or dev.link.reader.corrupt > 0


def test_qemu_killed_mid_run_keeps_the_samples_that_arrived(link_firmware, tmp_path):
    fw = link_firmware(SLOW_SPIN)
    qemu = _qemu(fw, tmp_path)
    with FaultProxyTarget(qemu, FaultProfile("clean")) as target:
        started = time.monotonic()

        def kill_at_ten(sample):
            if sample.index == 10:
                qemu.kill()

        with pytest.raises(DeviceError, match="QEMU (exited|serial connection failed)") as info:
            _session(target, on_sample=kill_at_ten)
        assert time.monotonic() - started < 30
    kept = info.value.partial_samples
    assert 11 <= len(kept) < N_SAMPLES
    assert [s.index for s in kept] == list(range(len(kept)))
    np.testing.assert_array_equal(_outputs(kept), EXPECTED[: len(kept)])


def test_qemu_frozen_for_a_while_then_the_run_completes(link_firmware, tmp_path):
    fw = link_firmware(SLOW_SPIN)
    qemu = _qemu(fw, tmp_path)
    with qemu as target:

        def freeze_at_ten(sample):
            if sample.index == 10:
                qemu.freeze()
                threading.Timer(2.0, qemu.thaw).start()

        dev, samples = _session(target, on_sample=freeze_at_ten, timeout=1.0)
    np.testing.assert_array_equal(_outputs(samples), EXPECTED)
    assert dev.stats.retransmissions >= 1  # the timeouts during the freeze asked again


def test_qemu_frozen_for_good_fails_in_bounded_time_keeping_samples(link_firmware, tmp_path):
    fw = link_firmware(SLOW_SPIN)
    qemu = _qemu(fw, tmp_path)
    link = LinkConfig(retries=3)
    with qemu as target:

        def freeze_at_ten(sample):
            if sample.index == 10:
                qemu.freeze()

        started = time.monotonic()
        with pytest.raises(DeviceTimeoutError, match="RUN_FLASH after 4 attempts") as info:
            _session(target, on_sample=freeze_at_ten, timeout=1.0, link=link)
        assert time.monotonic() - started < 20
    kept = info.value.partial_samples
    assert len(kept) >= 11
    np.testing.assert_array_equal(_outputs(kept), EXPECTED[: len(kept)])


def test_firmware_reset_mid_run_resumes_from_what_is_missing(link_firmware, tmp_path):
    fw = link_firmware(SLOW_SPIN)
    qemu = _qemu(fw, tmp_path)
    with FaultProxyTarget(qemu, FaultProfile("clean")) as target:
        requested = []
        original = target.write

        def spy(data):  # every RUN_FLASH start the host asks for
            if data[2] == 0x04:
                requested.append(int.from_bytes(data[6:10], "little"))
            original(data)

        target.write = spy

        def reset_at_ten(sample):
            if sample.index == 10:
                qemu.reset()

        dev, samples = _session(target, on_sample=reset_at_ten)
    np.testing.assert_array_equal(_outputs(samples), EXPECTED)
    assert dev.stats.resets == 1
    assert requested[0] == 0 and 11 <= requested[1] < N_SAMPLES  # resumed, not started over
