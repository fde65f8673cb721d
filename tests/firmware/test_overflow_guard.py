"""Guard bands make an overflow visible: a model given a deliberately short arena plan writes into
the band past it, and the memory report says by how much."""

from __future__ import annotations

import shutil

from fake_fw import FAKE_MODEL, require_build_tools, require_qemu

from harness.build import build_firmware
from harness.protocol import Device
from harness.targets import QemuTarget


def test_a_short_arena_plan_is_reported_as_an_overflow(tmp_path):
    require_build_tools()
    require_qemu()
    short = tmp_path / "short_plan"
    shutil.copytree(FAKE_MODEL, short)
    source = (short / "model.c").read_text()
    # The fake model writes 8 activation bytes at offset 0; plan only 4 of them.
    source = source.replace("th_arena[64 + TH_ARENA_GUARD_BYTES]", "th_arena[4 + TH_ARENA_GUARD_BYTES]")
    source = source.replace(".arena_bytes = 64,", ".arena_bytes = 4,")
    assert source.count("4 + TH_ARENA_GUARD_BYTES") == 1 and ".arena_bytes = 4," in source
    (short / "model.c").write_text(source)
    fw = build_firmware("mps2_an386", short, tmp_path / "fw")
    with QemuTarget(fw.board, fw.elf, log_dir=tmp_path, max_seconds=60) as target:
        device = Device(target, timeout=10)
        device.wait_ready()
        report = device.measure_memory()
    assert (report.arena_plan_bytes, report.arena_used_bytes) == (4, 8)
    assert report.overflow() == "arena overflow: one inference wrote 4 bytes past the planned 4-byte arena"


def test_the_unmodified_plan_shows_no_overflow(fake_firmware, tmp_path):
    require_qemu()
    fw = fake_firmware("mps2_an386")
    with QemuTarget(fw.board, fw.elf, log_dir=tmp_path, max_seconds=60) as target:
        device = Device(target, timeout=10)
        device.wait_ready()
        report = device.measure_memory()
    assert report.overflow() is None and report.stack_used_bytes < report.stack_size_bytes
