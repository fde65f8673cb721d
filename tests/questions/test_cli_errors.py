"""Bad input to the three commands: one `error:` line and exit code 2, before any device work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def _one_error_line(out) -> str:
    assert out.returncode == 2, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    return errors[0]


def test_sensitivity_refuses_a_tflite(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"TFL3")
    line = _one_error_line(_cli("sensitivity", str(model), cwd=tmp_path))
    assert "needs the float Keras model (.keras or .h5)" in line


@pytest.mark.parametrize("command", [["fit", "--board", "mps2_an386"], ["robustness"]])
def test_empty_variants_folder(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _one_error_line(_cli(command[0], str(empty), *command[1:], cwd=tmp_path))
    assert str(empty) in line and ("no .tflite" in line or "no variants.csv" in line)


def test_fit_rejects_a_nonpositive_budget(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "m.tflite").write_bytes(b"TFL3")
    line = _one_error_line(_cli("fit", str(tmp_path / "v"), "--board", "mps2_an386", "--ram", "0", cwd=tmp_path))
    assert "--ram must be positive" in line
