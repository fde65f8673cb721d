"""The harness baseline is measured from a build, not assumed, and fit checks use it."""

from __future__ import annotations

import json
import subprocess
import sys

from fake_fw import require_build_tools

from harness.boards import load_board
from harness.build.baseline import harness_baseline
from harness.places import PACKAGE_DIR


def test_the_baseline_comes_from_a_build_and_is_cached(tmp_path):
    require_build_tools()
    board = load_board("netduinoplus2")
    first = harness_baseline(board, tmp_path)
    assert first is not None and 2_000 < first.flash_bytes < 64_000 and 4_096 < first.ram_bytes < board.ram_bytes
    again = harness_baseline(board, tmp_path)
    assert again == first  # same build id: read back, not rebuilt
    assert (tmp_path / first.build_id / "build.json").is_file()


def test_analyze_board_adds_the_measured_baseline(tmp_path, kws_model):
    require_build_tools()
    out = subprocess.run([sys.executable, "-m", "harness.cli", "analyze", str(kws_model), "--board", "netduinoplus2",
                          "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                         env={"PYTHONPATH": str(PACKAGE_DIR.parent), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    fit = json.loads(out.stdout.strip().splitlines()[-1])["fit"]
    baseline = harness_baseline(load_board("netduinoplus2"), tmp_path / "build" / "builds")
    assert fit["flash_needed"] == fit["model_flash"] + baseline.flash_bytes
    assert fit["ram_needed"] == fit["model_ram"] + baseline.ram_bytes
    assert "harness baseline" in fit["harness_basis"]
