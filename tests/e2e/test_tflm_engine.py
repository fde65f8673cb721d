"""`tinyhil bench --engine tflm` against real TFLM trees, on both emulated boards, both kernel sets.

Needs trees exported by tflite-micro's create_tflm_tree.py (never part of this repository):
TINYHIL_TFLM_DIR_CMSIS_NN (with CMSIS-NN) and TINYHIL_TFLM_DIR_REFERENCE (without); each test skips,
naming the variable, when its tree is not configured. The first run builds the TFLM library (minutes);
every later one reuses it from the cache.

The instructions/MAC bounds are TFLM's own make build (BUILD_TYPE=release, cortex_m_generic, the same
commit), measured on QEMU mps2-an386 -icount shift=0: the project's build must match them within 5 %.
"""

import os

import pytest

from harness.build.tflm_lib import TREE_VARIABLES

from .conftest import last_json, run_cli

pytestmark = pytest.mark.slow

# TFLM's own make build, instructions per MAC on mps2-an386 (issue 9)
TFLM_MAKE_INSTRUCTIONS_PER_MAC = {("ic", "reference"): 8.59, ("kws", "reference"): 16.24,
                                  ("ic", "cmsis-nn"): 2.39, ("kws", "cmsis-nn"): 2.90}
TIMEOUT_S = float(os.environ.get("TINYHIL_TFLM_BUILD_TIMEOUT", 3600)) + 900


def tree_for(kernels: str) -> str:
    var = TREE_VARIABLES[kernels]
    if not os.environ.get(var):
        pytest.skip(f"set {var} to a TFLM tree exported by create_tflm_tree.py ({kernels} kernels) to run this")
    return os.environ[var]


def bench_tflm(model, board: str, kernels: str, cwd) -> dict:
    return last_json(run_cli("bench", str(model), "--board", board, "--engine", "tflm", "--kernels", kernels,
                             "--samples", "3", "--json", cwd=cwd, timeout=TIMEOUT_S))


@pytest.mark.parametrize("kernels", ["reference", "cmsis-nn"])
@pytest.mark.parametrize("board", ["mps2_an386", "netduinoplus2"])
@pytest.mark.parametrize("name", ["ic", "kws"])
def test_tflm_runs_bit_exact_and_names_its_tree(name, board, kernels, tmp_path, ic_model, kws_model):
    tree = tree_for(kernels)
    row = bench_tflm({"ic": ic_model, "kws": kws_model}[name], board, kernels, tmp_path)
    assert row["status"] == "ok" and row["host_mismatches"] == 0 and row["samples"] == 3
    assert row["engine"] == "tflm" and row["kernels"] == kernels == row["tflm_kernels"]
    assert row["tflm_tree"] == os.path.realpath(tree) and row["tflm_commit"]
    assert row["tflm_has_cmsis_nn"] is (kernels == "cmsis-nn") and row["tflm_build_type"] == "release"
    # the whole arena TFLM used: both parts, each measured on the device, and TFLM's own figure beside them
    assert row["arena_persistent_bytes"] > 0 and row["arena_nonpersistent_bytes"] > 0
    assert row["arena_bytes"] == row["arena_persistent_bytes"] + row["arena_nonpersistent_bytes"]
    assert abs(row["arena_bytes"] - row["tflm_arena_used_bytes"]) <= 0.05 * row["tflm_arena_used_bytes"]
    assert row["flash_kernels_bytes"] > 0
    if board == "mps2_an386":
        expected = TFLM_MAKE_INSTRUCTIONS_PER_MAC[(name, kernels)]
        assert row["instructions_per_mac"] == pytest.approx(expected, rel=0.05), row["instructions_per_mac"]


@pytest.mark.parametrize("kernels", ["reference", "cmsis-nn"])
def test_a_second_model_reuses_the_tflm_library(kernels, tmp_path, ic_model, kws_model):
    tree_for(kernels)
    first = bench_tflm(ic_model, "mps2_an386", kernels, tmp_path)
    second = bench_tflm(kws_model, "mps2_an386", kernels, tmp_path)
    assert second["tflm_lib_key"] == first["tflm_lib_key"]
    # a new firmware, the same library (the firmware itself may be in the user cache from an earlier run)
    assert second["tflm_lib_cached"] is True and second["build_id"] != first["build_id"]
    if not second["build_cached"]:
        assert second["build_seconds"] < 300  # the model and the adapter only, linked against the library


def test_a_release_build_reports_no_per_layer_profile(tmp_path, kws_model):
    """TFLM's release build compiles out the per-operator profiler events: with --per-layer the row
    carries no per-layer counts (not the whole inference in layer 0), and the rest is measured."""
    tree_for("cmsis-nn")
    out = run_cli("bench", str(kws_model), "--board", "nucleo_l4r5zi", "--engine", "tflm", "--kernels", "cmsis-nn",
                  "--samples", "2", "--per-layer", "--json", cwd=tmp_path, timeout=TIMEOUT_S)
    row = last_json(out)
    assert row["status"] == "ok" and row["host_mismatches"] == 0
    assert row.get("per_layer_json") is None
    assert row["cycles_est"] > 0 and row["latency_median"] > 0
