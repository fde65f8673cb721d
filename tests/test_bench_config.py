import json
from pathlib import Path

import pytest

from harness.errors import TinyhilError
from harness.pipeline import BenchConfig
from harness.pipeline.row import compression_columns


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
    ({"optimize": "tiny"}, "unknown --optimize 'tiny'; choose one of speed, size"),
    ({"target": "serial"}, "emulator-only: it has no serial port"),
    ({"target": "serial", "board": "nano33ble"}, r"UARTE0.*does not reach the host over its USB.*P1.03/P1.10.*--port"),
])
def test_bad_config_names_the_problem(kwargs, message):
    with pytest.raises(TinyhilError, match=message):
        BenchConfig(**{"model": Path("m.tflite"), "board": "mps2_an386", **kwargs}).validate()


def test_tflm_engine_without_its_sources_says_how_to_get_them(monkeypatch, tmp_path):
    from harness.errors import ToolMissingError

    for var in ("TINYHIL_TFLM_DIR_CMSIS_NN", "TINYHIL_TFLM_DIR_REFERENCE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TINYHIL_TFLM_DIR", str(tmp_path))  # a directory without TFLM in it
    with pytest.raises(ToolMissingError, match="create_tflm_tree.py"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", engine="tflm").validate()
    monkeypatch.delenv("TINYHIL_TFLM_DIR")
    with pytest.raises(ToolMissingError, match="set TINYHIL_TFLM_DIR_REFERENCE"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", engine="tflm", kernels="reference").validate()
    with pytest.raises(TinyhilError, match="unknown engine 'onnx'"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", engine="onnx").validate()


def test_kernels_are_the_engines_own_kernel_sets():
    assert BenchConfig(model=Path("m.tflite"), board="b", engine="tflm").kernels == "cmsis-nn"  # optimised = CMSIS-NN
    assert BenchConfig(model=Path("m.tflite"), board="b", engine="tflm", kernels="reference").kernels == "reference"
    assert BenchConfig(model=Path("m.tflite"), board="b").kernels == "optimized"
    with pytest.raises(TinyhilError, match="unknown kernels 'cmsis-nn' for the builtin engine"):
        BenchConfig(model=Path("m.tflite"), board="mps2_an386", kernels="cmsis-nn").validate()


def test_optimize_mode_is_part_of_the_run_identity_only_when_not_the_default():
    from harness.identity import run_id

    facts = dict(model_sha256="m", board="b", target="qemu", engine="builtin", kernels="optimized",
                 input_sha256="i", samples=3, per_layer=False)
    assert run_id(**facts, optimize="speed") == run_id(**facts)  # ids of earlier (speed) runs stay valid
    assert run_id(**facts, optimize="size") != run_id(**facts)
    assert BenchConfig(model=Path("m"), board="b").optimize_label == "speed"
    assert BenchConfig(model=Path("m"), board="b", optimize="size").optimize_label == "size"
    assert BenchConfig(model=Path("m"), board="b", engine="tflm", optimize="size").optimize_label is None
