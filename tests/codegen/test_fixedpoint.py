"""The engine's shortened rounding formulas equal gemmlowp's (the arithmetic TFLM uses)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hostbench import ENGINE


@pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not installed")
def test_fixedpoint_helpers_match_gemmlowp(tmp_path):
    exe = tmp_path / "check"
    source = Path(__file__).with_name("fixedpoint_check.c")
    subprocess.run(["gcc", "-O2", "-I", str(ENGINE), str(source), "-o", str(exe)], check=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "bad 0"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not installed")
def test_float_edges_match_tflm_formulas(tmp_path):
    """QUANTIZE without libm roundf and DEQUANTIZE in float instead of double give TFLM's bits."""
    exe = tmp_path / "float_edges"
    source = Path(__file__).with_name("float_edges_check.c")
    subprocess.run(["gcc", "-O2", "-I", str(ENGINE), str(source), str(ENGINE / "ops_float.c"), "-lm", "-o", str(exe)],
                   check=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("bad 0 of ")
