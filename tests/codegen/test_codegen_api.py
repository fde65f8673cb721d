"""The code generator's contract: refusals, folding, input checks, arena planning, the C it writes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from harness.codegen import check_supported, generate
from harness.codegen.arena import Block, Request, plan_arena
from harness.codegen.lower_light import broadcast_strides
from harness.codegen.quant import mean_multiplier, quantize_multiplier
from harness.errors import DataError, UnsupportedOpsError
from harness.model import load_tflite


def test_unsupported_op_is_named_before_any_build(tiny_model, tmp_path):
    model = load_tflite(tiny_model("tanh"))
    with pytest.raises(UnsupportedOpsError) as err:
        check_supported(model)
    assert err.value.ops == ["TANH"]
    assert "TANH" in str(err.value)
    with pytest.raises(UnsupportedOpsError):
        generate(model, tmp_path, None, name="tanh")
    assert not (tmp_path / "model.c").exists()


def test_shape_ops_are_folded_and_reshape_is_an_alias(tiny_model, tmp_path):
    model = load_tflite(tiny_model("flatten_dynamic_batch"))
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(model.op_names)
    check_supported(model)
    gen = generate(model, tmp_path, None, name="flat")
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(gen.folded_ops)
    assert [layer.op for layer in gen.layers] == ["CONV_2D", "FULLY_CONNECTED"]  # RESHAPE costs nothing
    source = gen.model_c.read_text()
    assert "memcpy" not in source
    assert gen.n_layers == 2 and f".n_layers = {gen.n_layers}u" in source


def test_generated_model_description(tiny_model, tmp_path):
    model = load_tflite(tiny_model("fc_softmax"))
    inputs = np.arange(3 * 64, dtype=np.int64).reshape(3, 1, 8, 8, 1).astype(np.int8)
    gen = generate(model, tmp_path, inputs, name="digits")
    assert (gen.input_shape, gen.input_dtype, gen.output_shape, gen.output_dtype) == (
        (1, 8, 8, 1), "int8", (1, 10), "int8")
    assert gen.macs == sum(layer.macs for layer in gen.layers) > 0
    assert gen.arena_bytes % 16 == 0 and gen.arena_bytes > 0
    weights = sum(model.tensor(t).nbytes for op in model.operators for t in op.inputs[1:3] if t >= 0)
    assert gen.weight_bytes >= weights
    data = gen.data_c.read_text()
    assert "th_data_count = 3u" in data
    assert len(re.findall(r"0x[0-9a-f]{2}", data)) == inputs.size
    assert '.name = "digits"' in gen.model_c.read_text()


def test_inputs_must_match_the_model(tiny_model, tmp_path):
    model = load_tflite(tiny_model("fc_softmax"))
    with pytest.raises(DataError, match="float32"):
        generate(model, tmp_path, np.zeros((2, 8, 8, 1), np.float32), name="x")
    with pytest.raises(DataError, match="shape"):
        generate(model, tmp_path, np.zeros((2, 8, 7, 1), np.int8), name="x")


def test_arena_plan_shares_space_between_disjoint_lifetimes():
    def one(*args):
        return Block((Request(*args),))

    plan = plan_arena([one("a", 100, 0, 1), one("b", 50, 1, 2), one("c", 100, 2, 3)])
    assert plan.offsets["a"] == plan.offsets["c"] or plan.offsets["b"] == 0  # a and c never live together
    assert plan.size == 176  # 100 (aligned to 112) + 50 + alignment


def test_arena_block_keeps_offsets_and_lifetimes():
    # x dies at layer 1 where y (laid 32 B below x's start) is made; z lives on at layers 2-3.
    chain = Block((Request("x", 64, 0, 1, rel=32), Request("y", 64, 1, 3, rel=0)))
    plan = plan_arena([chain, Block((Request("z", 48, 2, 3),))])
    assert plan.offsets["x"] - plan.offsets["y"] == 32
    # z may reuse x's bytes above y once x is dead: the block is not a rectangle in time.
    assert plan.size == 112


def test_quantize_multiplier_matches_tflite_rounding():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1 - 2**-40) == (1 << 30, 1)  # rounds up to 2^31: halved, shift + 1
    assert quantize_multiplier(2**-40) == (0, 0)  # below 2^-31 flushes to zero
    multiplier, shift = mean_multiplier(0.5, 3)
    assert shift == -1 and multiplier == (1 << 31) // 3


def test_broadcast_dims_merge_to_four():
    dims, (s1, s2) = broadcast_strides((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (5,))
    assert dims == [1, 1, 24, 5] and s1 == [0, 0, 5, 1] and s2 == [0, 0, 0, 1]


def test_python_rescale_rounds_like_tflm():
    from harness.codegen.quant import mul_by_quantized_multiplier

    assert mul_by_quantized_multiplier(12345, 1 << 30, 1) == 12345  # times 1.0
    assert mul_by_quantized_multiplier(3, 1 << 30, -1) == 1  # 0.75 -> 1
    assert mul_by_quantized_multiplier(-3, 1 << 30, -1) == -1  # -0.75 -> -1
    assert mul_by_quantized_multiplier(-6, 1 << 30, -1) == -2  # -1.5 -> -2: halves away from zero
    assert mul_by_quantized_multiplier(6, 1 << 30, -1) == 2


def test_tensor_names_become_valid_c_strings():
    from harness.codegen.emit import c_string

    assert c_string('conv/"a"\\b') == '"conv/\\"a\\"\\\\b"'
    assert c_string("x\x01é") == '"x\\001\\303\\251"'


@pytest.mark.parametrize("scale_out", [0.05, 1e-9])  # the second needs a left-shifting output rescale
def test_add_tables_equal_tflm_arithmetic(scale_out):
    from harness.codegen.quant import _wrap32, add_params, mul_by_quantized_multiplier, quantize_multiplier

    s1, s2, zp1, zp2 = 0.02, 0.03, 5, -7
    params = add_params(s1, s2, scale_out, zp1, zp2)
    twice_max = 2 * max(np.float32(s1), np.float32(s2))
    m1, sh1 = quantize_multiplier(s1 / float(twice_max))
    m2, sh2 = quantize_multiplier(s2 / float(twice_max))
    mo, so = quantize_multiplier(float(twice_max) / ((1 << 20) * scale_out))
    assert (so > 0) == (scale_out < 1e-8) and params["output_shift"] <= 0
    for a in range(-128, 128, 7):
        for b in range(-128, 128, 5):
            direct = mul_by_quantized_multiplier(
                _wrap32(mul_by_quantized_multiplier((a - zp1) << 20, m1, sh1)
                        + mul_by_quantized_multiplier((b - zp2) << 20, m2, sh2)), mo, so)
            tables = mul_by_quantized_multiplier(
                _wrap32(params["luts"][0][a + 128] + params["luts"][1][b + 128]),
                params["output_multiplier"], params["output_shift"])
            assert tables == direct
