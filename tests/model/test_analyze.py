import json
import subprocess
import sys

import numpy as np
import pytest

from harness.errors import ModelFormatError
from harness.model import load_tflite, total_macs
from harness.model.analyze import analyze, estimate_fit


def test_reads_ic_model_structure(ic_model):
    m = load_tflite(ic_model)
    assert m.op_names == ["CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    conv = m.operators[0]
    assert conv.options["padding"] == "SAME" and conv.options["fused_activation_function"] == "RELU"
    weights = m.tensor(conv.inputs[1])
    assert weights.shape == (16, 3, 3, 3) and weights.dtype == np.int8
    assert weights.quant.per_channel and weights.quant.scale.shape == (16,)
    assert weights.data.shape == weights.shape


def test_macs_match_published_figures(ic_model, kws_model):
    # MLPerf Tiny's figures: ResNet-8 12.50 M MACs, DS-CNN 2.66 M MACs.
    assert round(total_macs(load_tflite(ic_model)) / 1e6, 2) == 12.50
    assert round(total_macs(load_tflite(kws_model)) / 1e6, 2) == 2.66


def test_analyze_counts_params_and_ops(kws_model):
    info = analyze(load_tflite(kws_model))
    assert info.ops["DEPTHWISE_CONV_2D"] == 4 and info.ops["CONV_2D"] == 5
    assert info.input_dtype == "float32" and info.output_shape == (1, 12)
    assert sum(layer.macs for layer in info.layers) == info.macs
    assert info.params == sum(layer.params for layer in info.layers)


def test_fit_check_says_needed_and_available(ic_model):
    info = analyze(load_tflite(ic_model))
    tight = estimate_fit(info, "tiny", flash_bytes=64 * 1024, ram_bytes=16 * 1024)
    assert not tight.fits and "of 65,536 B" in tight.describe()
    assert estimate_fit(info, "big", 1 << 20, 1 << 20).fits


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"\x18\x00\x00\x00TFL3" + b"\xff" * 40])
def test_corrupt_model_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    with pytest.raises(ModelFormatError, match="bad.tflite"):
        load_tflite(bad)


def test_truncated_real_model_is_a_clear_error(tmp_path, kws_model):
    bad = tmp_path / "truncated.tflite"
    bad.write_bytes(kws_model.read_bytes()[:3000])
    with pytest.raises(ModelFormatError, match="corrupt"):
        load_tflite(bad)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_analyze_json(kws_model):
    out = _cli("analyze", str(kws_model), "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["macs"] == 2656768 and len(info["layers"]) == 15


def test_cli_analyze_corrupt_exits_2_with_message(tmp_path):
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"garbage")
    out = _cli("analyze", str(bad))
    assert out.returncode == 2 and "not a .tflite model" in out.stderr and "Traceback" not in out.stderr


def test_cli_analyze_board_counts_the_weights_speed_mode_copies_to_ram(kws_model):
    """nucleo_l4r5zi's flash waits: speed mode's int16 weights go to RAM, and the fit check's RAM says so;
    on mps2_an386 (zero-wait flash) they stay in flash."""
    def fit(board, mode):
        out = _cli("analyze", str(kws_model), "--board", board, "--optimize", mode, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    speed, size = fit("nucleo_l4r5zi", "speed"), fit("nucleo_l4r5zi", "size")
    copied = speed["builtin_constant_bytes"]["speed"]
    assert speed["fit"]["ram_needed"] - size["fit"]["ram_needed"] == copied > 0
    zero_wait = fit("mps2_an386", "speed")
    assert zero_wait["fit"]["model_ram"] == size["fit"]["model_ram"]


def test_cli_analyze_prints_the_table_without_a_board(kws_model):
    out = _cli("analyze", str(kws_model))
    assert out.returncode == 0, out.stderr
    assert "2,656,768 MACs" in out.stdout and "fits" not in out.stdout
