"""The TFLM library build, on small fake trees: which tree a kernel set gets, the flags each source is
compiled with (TFLM's release build), the sources left out, and that a library is built once and
then reused. A real TFLM tree is exercised in tests/e2e/test_tflm_engine.py."""

import subprocess
from pathlib import Path

import pytest

from harness.build import tflm_lib
from harness.build.tflm_lib import (
    DEFINES,
    TflmTreeError,
    board_cpu_flags,
    compile_command,
    configured_trees,
    ensure_library,
    find_tree,
    load_tree,
    members,
    resolver_registrations,
    sources,
)
from harness.errors import BuildError

CPU = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")


def make_tree(root: Path, cmsis_nn: bool, commit: str = "90b983c") -> Path:
    files = {
        "tensorflow/lite/micro/micro_interpreter.h": "",
        "tensorflow/lite/micro/micro_interpreter.cc": "int tflm_core(void) { return 1; }\n",
        "tensorflow/lite/micro/micro_mutable_op_resolver.h":
            "TfLiteStatus AddConv2D(\n const TFLMRegistration& registration = Register_CONV_2D()) {\n}\n"
            "TfLiteStatus AddSoftmax(const TFLMRegistration& registration = Register_SOFTMAX()) { }\n",
        "tensorflow/lite/micro/kernels/conv.cc": "struct TFLMRegistration {};\nTFLMRegistration Register_CONV_2D() "
                                                 "{ return {}; }\n",
        "tensorflow/lite/micro/kernels/conv_common.cc": "int tflm_conv_common(int x) { return x * 3; }\n",
        "tensorflow/lite/micro/kernels/softmax.cc": "struct TFLMRegistration {};\nTFLMRegistration Register_SOFTMAX() "
                                                    "{ return {}; }\n",
        "tensorflow/lite/micro/kernels/kernel_util.cc": "int tflm_util(void) { return 8; }\n",
        "tensorflow/lite/micro/examples/hello/main.cc": "int main() { return 0; }\n",
        "tensorflow/lite/kernels/internal/common.cc": "#ifndef NDEBUG\n#error release builds define NDEBUG\n#endif\n"
                                                      "int tflm_common(void) { return 2; }\n",
        "signal/src/window.cc": "int tflm_window(void) { return 4; }\n",
        "third_party/kissfft/kiss_fft.c": "int kiss(void) { return 5; }\n",
    }
    if cmsis_nn:  # the optimised kernel replaces kernels/conv.cc and shares kernels/conv_common.cc
        del files["tensorflow/lite/micro/kernels/conv.cc"]
        files["tensorflow/lite/micro/kernels/cmsis_nn/conv.cc"] = (
            "struct TFLMRegistration {};\nTFLMRegistration Register_CONV_2D() { return {}; }\n")
        conv = "third_party/cmsis_nn/Source/ConvolutionFunctions/"
        files |= {conv + "arm_convolve_s8.c": "int arm_s8(void) { return 6; }\n",
                  conv + "arm_convolve_f32.c": "int arm_f32(void) { return 7; }\n",
                  "third_party/cmsis_nn/Source/NNSupportFunctions/arm_nntables_flt.c": "int flt;\n",
                  "third_party/cmsis_nn/Include/arm_nnfunctions.h": ""}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "TFLM_COMMIT").write_text(commit + "\n")
    return root


@pytest.fixture
def trees(tmp_path):
    return make_tree(tmp_path / "cmsis", True), make_tree(tmp_path / "ref", False)


def test_each_kernel_set_gets_the_tree_named_for_it(trees, monkeypatch):
    cmsis, ref = trees
    env = {"TINYHIL_TFLM_DIR_CMSIS_NN": str(cmsis), "TINYHIL_TFLM_DIR_REFERENCE": str(ref)}
    assert find_tree("cmsis-nn", env).path == cmsis.resolve()
    assert find_tree("reference", env).path == ref.resolve()
    tree = find_tree("cmsis-nn", env)
    assert tree.columns() == {"tflm_tree": str(cmsis.resolve()), "tflm_commit": "90b983c", "tflm_has_cmsis_nn": True,
                              "tflm_kernels": "cmsis-nn"}
    assert "CMSIS_NN" in tree.defines() and "CMSIS_NN" not in find_tree("reference", env).defines()
    # one tree in TINYHIL_TFLM_DIR serves the kernel set it holds, and names the variable for the other
    assert find_tree("reference", {"TINYHIL_TFLM_DIR": str(ref)}).path == ref.resolve()
    with pytest.raises(TflmTreeError, match="set TINYHIL_TFLM_DIR_CMSIS_NN"):
        find_tree("cmsis-nn", {"TINYHIL_TFLM_DIR": str(ref)})
    with pytest.raises(TflmTreeError, match="holds the reference kernels, not cmsis-nn"):
        configured_trees({"TINYHIL_TFLM_DIR_CMSIS_NN": str(ref)})
    with pytest.raises(TflmTreeError, match="no TFLM kernel set"):
        find_tree("optimized", env)
    with pytest.raises(TflmTreeError, match="not a TFLM tree"):
        load_tree(cmsis / "tensorflow")


def test_sources_and_flags_are_tflm_release_builds(trees):
    cmsis, _ = trees
    tree = load_tree(cmsis)
    rels = [p.relative_to(tree.path).as_posix() for p in sources(tree)]
    assert rels == ["tensorflow/lite/kernels/internal/common.cc", "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc",
                    "tensorflow/lite/micro/kernels/conv_common.cc", "tensorflow/lite/micro/kernels/kernel_util.cc",
                    "tensorflow/lite/micro/kernels/softmax.cc", "tensorflow/lite/micro/micro_interpreter.cc",
                    "third_party/cmsis_nn/Source/ConvolutionFunctions/arm_convolve_s8.c"]
    by_name = {Path(r).name: compile_command(tree, tree.path / r, Path("x.o"), CPU) for r in rels}
    assert "-O2" in by_name["conv.cc"] and "-O2" in by_name["arm_convolve_s8.c"]
    assert "-Os" in by_name["common.cc"] and "-Os" in by_name["micro_interpreter.cc"]
    cxx = by_name["micro_interpreter.cc"]
    assert cxx[0] == "arm-none-eabi-g++" and "-std=c++17" in cxx and "-fno-threadsafe-statics" in cxx
    assert by_name["arm_convolve_s8.c"][0] == "arm-none-eabi-gcc" and "-std=c17" in by_name["arm_convolve_s8.c"]
    for define in ("NDEBUG", "TF_LITE_STATIC_MEMORY", "TF_LITE_STRIP_ERROR_STRINGS", "CMSIS_NN",
                   "ARM_NN_ENABLE_F32=0", "PROJECT_GENERATION"):
        assert f"-D{define}" in cxx
    assert set(DEFINES) <= {a[2:] for a in cxx if a.startswith("-D")}
    assert all(flag in cxx for flag in CPU)


def test_cpu_flags_come_from_the_board_file():
    assert board_cpu_flags(Path("boards/mps2_an386.json")) == CPU


def test_an_op_set_takes_the_core_and_its_kernel_files(trees):
    tree = load_tree(trees[1])
    assert resolver_registrations(tree) == {"AddConv2D": "CONV_2D", "AddSoftmax": "SOFTMAX"}
    rels = [p.relative_to(tree.path).as_posix() for p in members(tree, ("AddConv2D",))]
    assert rels == ["tensorflow/lite/kernels/internal/common.cc", "tensorflow/lite/micro/kernels/conv.cc",
                    "tensorflow/lite/micro/kernels/conv_common.cc", "tensorflow/lite/micro/kernels/kernel_util.cc",
                    "tensorflow/lite/micro/micro_interpreter.cc"]
    assert len(members(tree, None)) == len(rels) + 1  # the full library adds softmax.cc
    with pytest.raises(BuildError, match="no AddTanh"):
        members(tree, ("AddTanh",))
    cmsis = load_tree(trees[0])
    assert {p.name for p in members(cmsis, ("AddConv2D",))} >= {"conv.cc", "conv_common.cc", "arm_convolve_s8.c"}


def test_library_grows_by_the_ops_a_new_model_needs(trees, tmp_path):
    tree = load_tree(trees[1])
    conv = ensure_library(tree, CPU, methods=("AddConv2D",), root=tmp_path / "cache", progress=None)
    again = ensure_library(tree, CPU, methods=("AddConv2D",), root=tmp_path / "cache", progress=None)
    assert not conv.cached and again.cached and again.path == conv.path
    both = ensure_library(tree, CPU, methods=("AddSoftmax", "AddConv2D"), root=tmp_path / "cache", progress=None)
    assert not both.cached and both.key == conv.key  # one archive per tree and flags, grown
    names = subprocess.run(["arm-none-eabi-nm", str(both.path)], capture_output=True, text=True).stdout
    assert "Register_SOFTMAX" in names and "Register_CONV_2D" in names


def test_library_is_built_once_then_reused(trees, tmp_path):
    tree = load_tree(trees[1])
    first = ensure_library(tree, CPU, root=tmp_path / "cache", progress=None)
    assert not first.cached and first.path.is_file() and first.key
    second = ensure_library(tree, CPU, root=tmp_path / "cache", progress=None)
    assert second.cached and second.path == first.path and second.columns()["tflm_lib_cached"] is True
    assert second.columns()["tflm_build_type"] == "release"
    other_cpu = ensure_library(tree, (*CPU[:-1], "-mfpu=fpv4-sp-d16", "-O0"), root=tmp_path / "cache", progress=None)
    assert other_cpu.key != first.key and not other_cpu.cached  # keyed by the flags


def test_a_failing_source_names_the_file_and_keeps_what_compiled(trees, tmp_path):
    ref = trees[1]
    (ref / "tensorflow/lite/micro/kernels/conv.cc").write_text("this is not C++\n")
    with pytest.raises(BuildError, match=r"compiling .*conv\.cc for the TFLM library failed"):
        ensure_library(load_tree(ref), CPU, root=tmp_path / "cache", progress=None, jobs=1)


def test_timeout_says_how_far_it_got(trees, tmp_path, monkeypatch):
    monkeypatch.setattr(tflm_lib, "_compile", lambda cmd, deadline: (None, "timed out\n"))
    with pytest.raises(BuildError, match=r"took more than 5 s \(0/6 files compiled.*TINYHIL_TFLM_BUILD_TIMEOUT"):
        ensure_library(load_tree(trees[1]), CPU, root=tmp_path / "cache", progress=None, timeout=5, jobs=1)
