"""The TFLM engine's generated model: the flatbuffer in flash, the resolver list, arena sizes, data.c.

The C++ adapter (firmware/engine_tflm) cannot be compiled here (no TFLM sources); what is compiled is
the generated C, for the Cortex-M4, and the build's refusal when TFLM's sources are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.codegen import generate
from harness.codegen.tflm_model import (
    TFLM_RESOLVER_METHODS,
    TflmUnsupportedOpsError,
    check_tflm_supported,
    generate_tflm,
)
from harness.errors import UnsupportedOpsError
from harness.model import load_tflite
from harness.reference import tflm_arena

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GCC = "arm-none-eabi-gcc"


def _inputs(model, n=3):
    t = model.tensor(model.inputs[0])
    rng = np.random.default_rng(0)
    if t.dtype == np.int8:
        return rng.integers(-128, 128, size=(n, *t.shape[1:]), dtype=np.int8)
    return rng.normal(0, 1, size=(n, *t.shape[1:])).astype(t.dtype)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, ic_model, kws_model):
    """name -> (model, inputs, TflmGeneratedModel, host TflmArena), generated once per module."""
    out = {}
    for path in (ic_model, kws_model):
        model = load_tflite(path)
        inputs = _inputs(model)
        arena = tflm_arena(path)
        gen = generate_tflm(model, tmp_path_factory.mktemp(model.name), inputs, name=model.name, arena=arena)
        out[model.name] = (model, inputs, gen, arena)
    return out


def _model_bytes(source: str) -> bytes:
    match = re.search(r"th_tflm_model_data\[(\d+)\][^=]*=\s*\{(.*?)\};", source, re.S)
    assert match, "no th_tflm_model_data array in model.c"
    values = bytes(int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})", match.group(2)))
    assert len(values) == int(match.group(1))
    return values


def _ops_h_methods(text: str) -> list[str]:
    return re.findall(r"X\((\w+)\)", text)


def _ops_h_define(text: str, name: str) -> int:
    return int(re.search(rf"#define {name} (\d+)u", text).group(1))


@pytest.mark.parametrize("which", ["mlperf_tiny_ic_resnet8_int8", "mlperf_tiny_kws_dscnn"])
def test_model_c_holds_exactly_the_tflite_bytes(generated, which):
    model, _, gen, _ = generated[which]
    source = gen.model_c.read_text()
    assert _model_bytes(source) == model.path.read_bytes()
    assert "__attribute__((aligned(16)))" in source.split("th_tflm_model_data")[1].split("=")[0]
    assert f"th_tflm_model_bytes = {model.size_bytes}u;" in source
    assert gen.weight_bytes == model.size_bytes
    assert "void th_model_invoke" not in source  # the adapter implements it


@pytest.mark.parametrize(("which", "expected"), [
    ("mlperf_tiny_ic_resnet8_int8",
     ["AddConv2D", "AddAdd", "AddAveragePool2D", "AddReshape", "AddFullyConnected", "AddSoftmax"]),
    ("mlperf_tiny_kws_dscnn",
     ["AddQuantize", "AddConv2D", "AddDepthwiseConv2D", "AddAveragePool2D", "AddReshape", "AddFullyConnected",
      "AddSoftmax", "AddDequantize"]),
])  # fmt: skip
def test_resolver_registrations_are_exactly_the_model_op_set(generated, which, expected):
    model, _, gen, _ = generated[which]
    ops_h = gen.ops_h.read_text()
    assert _ops_h_methods(ops_h) == expected == list(gen.resolver_methods)
    assert {TFLM_RESOLVER_METHODS[op] for op in {o.op for o in model.operators}} == set(expected)
    assert _ops_h_define(ops_h, "TH_TFLM_OP_COUNT") == len(expected)


def test_descriptor_has_one_layer_per_operator(generated):
    model, _, gen, _ = generated["mlperf_tiny_kws_dscnn"]
    source = gen.model_c.read_text()
    table = source.split("th_layers[] = {")[1].split("};")[0]
    assert re.findall(r'", "(\w+)", \d+u\}', table) == [op.op for op in model.operators]
    assert gen.n_layers == len(model.operators) and f".n_layers = {gen.n_layers}u" in source
    assert f".macs = {gen.macs}u" in source and gen.macs > 0
    assert ".arena_bytes = TH_TFLM_ARENA_BYTES" in source


@pytest.mark.parametrize("which", ["mlperf_tiny_ic_resnet8_int8", "mlperf_tiny_kws_dscnn"])
def test_arenas_cover_host_tflm_with_a_margin(generated, which):
    _, _, gen, arena = generated[which]
    ops_h = gen.ops_h.read_text()
    assert _ops_h_define(ops_h, "TH_TFLM_ARENA_BYTES") == gen.arena_bytes
    assert _ops_h_define(ops_h, "TH_TFLM_PERSISTENT_BYTES") == gen.persistent_bytes
    assert gen.arena_bytes > arena.head_bytes and gen.persistent_bytes > arena.tail_bytes
    assert gen.arena_bytes % 16 == 0 and gen.persistent_bytes % 16 == 0
    # the margin is bounded: at most the largest CMSIS-NN scratch buffer plus 1 KiB and alignment
    scratch = max(layer.scratch_bytes for layer in gen.layers)
    assert gen.arena_bytes <= arena.head_bytes + scratch + 1024 + 16


def test_data_c_is_the_builtin_engines(generated, tmp_path):
    model, inputs, gen, _ = generated["mlperf_tiny_ic_resnet8_int8"]
    builtin = generate(model, tmp_path, inputs, name=model.name)
    assert gen.data_c.read_bytes() == builtin.data_c.read_bytes()
    assert (gen.data_bytes, gen.n_inputs) == (builtin.data_bytes, builtin.n_inputs)
    assert (gen.input_bytes, gen.output_bytes) == (builtin.input_bytes, builtin.output_bytes)


def _sign_model(tmp_path):
    tf = pytest.importorskip("tensorflow")

    @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32)])
    def body(x):
        return tf.math.sign(x) + tf.math.cos(x)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([body.get_concrete_function()], body)
    path = tmp_path / "sign_cos.tflite"
    path.write_bytes(converter.convert())
    return load_tflite(path)


def test_an_op_tflm_lacks_is_refused_by_name(tmp_path):
    model = _sign_model(tmp_path)
    assert {"SIGN", "COS"} <= set(model.op_names)
    with pytest.raises(TflmUnsupportedOpsError) as err:
        check_tflm_supported(model)
    assert err.value.ops == ["SIGN"]  # COS has a TFLM kernel (AddCos)
    assert str(err.value) == "TFLM has no kernel for: SIGN"
    assert isinstance(err.value, UnsupportedOpsError)
    out = tmp_path / "gen"
    with pytest.raises(TflmUnsupportedOpsError):
        generate_tflm(model, out, None, name="sign")
    assert not out.exists()


CHECK_OPS_H = """#include "tflm_ops.h"
#define TH_NAME(method) #method,
static const char *const names[] = {TH_TFLM_OPS(TH_NAME)};
_Static_assert(sizeof(names) / sizeof(names[0]) == TH_TFLM_OP_COUNT, "op count");
const char *const *th_check_names = names;
"""


@pytest.mark.skipif(shutil.which(GCC) is None, reason=f"{GCC} not installed")
def test_generated_c_compiles_for_cortex_m4(generated, tmp_path):
    from elftools.elf.elffile import ELFFile

    _, _, gen, _ = generated["mlperf_tiny_kws_dscnn"]
    (tmp_path / "check_ops.c").write_text(CHECK_OPS_H)
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2", "-std=gnu11",
             "-Wall", "-Wextra", "-Werror", "-fdata-sections", "-I", os.path.join(REPO, "firmware", "include"),
             "-I", str(gen.dir)]
    for source in (gen.model_c, gen.data_c, tmp_path / "check_ops.c"):
        obj = tmp_path / (source.stem + ".o")
        done = subprocess.run([GCC, *flags, "-c", str(source), "-o", str(obj)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with open(tmp_path / "model.o", "rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
        data = symbols["th_tflm_model_data"]
        assert data["st_size"] == gen.weight_bytes
        assert elf.get_section(data["st_shndx"])["sh_addralign"] >= 16
        assert {"th_model", "th_tflm_model_bytes"} <= symbols.keys()


def _pio_build(model_dir, tmp_path, **env_vars):
    hidden = ("TINYHIL_TFLM_DIR", "TINYHIL_TFLM_DIR_CMSIS_NN", "TINYHIL_TFLM_DIR_REFERENCE", "TINYHIL_TFLM_TREE",
              "TINYHIL_ENGINE")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env.update(TINYHIL_MODEL_DIR=str(model_dir), PLATFORMIO_BUILD_DIR=str(tmp_path / "pio"),
               PLATFORMIO_SETTING_ENABLE_TELEMETRY="No", TINYHIL_BOARD="mps2_an386",
               PLATFORMIO_BOARDS_DIR=str(Path(REPO) / "boards"), **env_vars)
    return subprocess.run([sys.executable, "-m", "platformio", "run", "-e", "tinyhil", "-d", REPO],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.skipif(shutil.which(GCC) is None, reason=f"{GCC} not installed")
def test_a_build_without_tflm_sources_says_what_to_get(generated, tmp_path):
    _, _, gen, _ = generated["mlperf_tiny_kws_dscnn"]
    done = _pio_build(gen.dir, tmp_path, TINYHIL_ENGINE="tflm")
    assert done.returncode != 0
    assert "TINYHIL_TFLM_DIR" in done.stderr and "create_tflm_tree.py" in done.stderr
    wrong_engine = _pio_build(gen.dir, tmp_path)  # a TFLM model directory built for the builtin engine
    assert wrong_engine.returncode != 0
    assert "generated for the tflm engine" in wrong_engine.stderr
