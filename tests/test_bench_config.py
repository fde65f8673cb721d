import json
from pathlib import Path

import pytest

from harness.bench import BenchConfig, compression_columns
from harness.errors import TinyhilError


def test_compression_sidecar_becomes_prefixed_columns(tmp_path):
    model = tmp_path / "prune_50.tflite"
    model.write_bytes(b"")
    (tmp_path / "prune_50.json").write_text(json.dumps(
        {"variant": "prune_50", "method": "prune", "nonzero_fraction": 0.5, "gzip_bytes": 1234, "other": 1}))
    cols = compression_columns(model)
    assert cols == {"compress_variant": "prune_50", "compress_method": "prune", "compress_nonzero_fraction": 0.5,
                    "compress_gzip_bytes": 1234}


def test_no_or_foreign_sidecar_adds_nothing(tmp_path):
    model = tmp_path / "m.tflite"
    assert compression_columns(model) == {}
    (tmp_path / "m.json").write_text("[1, 2]")
    assert compression_columns(model) == {}


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "jtag"}, "unknown target 'jtag'"),
    ({"kernels": "fast"}, "unknown kernels 'fast'"),
    ({"target": "serial"}, "emulator-only: it has no serial port"),
    ({"target": "serial", "board": "nano33ble"}, r"UARTE0.*does not reach the host over its USB.*P1.03/P1.10.*--port"),
])
def test_bad_config_names_the_problem(kwargs, message):
    with pytest.raises(TinyhilError, match=message):
        BenchConfig(**{"model": Path("m.tflite"), "board": "mps2_an386", **kwargs}).validate()


def test_tflm_engine_without_its_sources_says_how_to_get_them(monkeypatch, tmp_path):
    from harness.errors import ToolMissingError

    monkeypatch.setenv("TINYHIL_TFLM_DIR", str(tmp_path))  # a directory without TFLM in it
    with pytest.raises(ToolMissingError, match="create_tflm_tree.py"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", engine="tflm").validate()
    with pytest.raises(TinyhilError, match="unknown engine 'onnx'"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", engine="onnx").validate()


def test_engine_selects_the_platformio_env():
    from harness.boards import load_board
    from harness.build.platformio import pio_env_name

    assert pio_env_name(load_board("netduinoplus2"), "tflm") == "netduinoplus2_tflm"  # official platform + TFLM
    assert pio_env_name(load_board("netduinoplus2"), "builtin") == "tinyhil"  # the generic env
    assert pio_env_name(load_board("mps2_an386"), "tflm") == "tinyhil"  # no special env: local platform
