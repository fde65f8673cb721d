"""`tinyhil bench --target qemu` with the timing model: estimates for a board QEMU does not model,
run on a machine with the same core and timed with the board's own clock and memory system."""

import json

import pytest

from harness.timing.model import CortexM4Model

from .conftest import last_json, run_cli

pytestmark = pytest.mark.slow
MODEL = f"{CortexM4Model.name} {CortexM4Model.version}"  # what the rows must name


def test_estimate_for_a_board_qemu_does_not_model(tmp_path, kws_model):
    named = last_json(run_cli("bench", str(kws_model), "--board", "nucleo_l4r5zi", "--target", "qemu", "--samples",
                              "2", "--per-layer", "--json", cwd=tmp_path))
    plain = last_json(run_cli("bench", str(kws_model), "--board", "mps2_an386", "--target", "qemu", "--samples", "2",
                              "--json", cwd=tmp_path))
    assert named["board"] == "nucleo_l4r5zi" and named["emulated_on"] == "mps2_an386"
    assert plain["emulated_on"] is None and plain["energy_uj_est"] is None  # an FPGA board: no current figure
    assert named["timing_model"] == plain["timing_model"] == MODEL
    # the same engine ran: the same instructions; the measured unit stays instructions
    assert named["unit"] == plain["unit"] == "instructions" and named["latency_ms"] is None
    assert named["latency_median"] == pytest.approx(plain["latency_median"], rel=1e-3)
    # sizes come from the named board's own build, not the emulated machine's
    assert named["flash_bytes"] != plain["flash_bytes"]
    # 5 flash wait states at 120 MHz cost cycles the zero-wait machine does not have
    assert named["cycles_est"] > plain["cycles_est"] > named["latency_median"]
    assert named["latency_ms_est"] == pytest.approx(named["cycles_est"] / 120e6 * 1e3)
    assert named["energy_uj_est"] > 0
    layers = json.loads(named["per_layer_json"])
    assert all(layer["cycles_est"] > 0 for layer in layers)
    # the hooked pass adds only the hooks' few cycles per layer
    assert sum(layer["cycles_est"] for layer in layers) == pytest.approx(named["cycles_est"], rel=0.01)
    # speed mode on flash with wait states: the weights are copied to RAM, and counted there
    assert named["weights_in"] == "ram" and plain["weights_in"] == "flash"
    assert named["ram_weights_bytes"] > 0 and plain["ram_weights_bytes"] == 0
    assert named["flash_weights_bytes"] >= named["ram_weights_bytes"]  # the image the startup code copies
    assert named["deploy_ram_bytes"] > named["ram_weights_bytes"] + named["arena_bytes"]


def test_size_mode_keeps_the_weights_in_flash_and_pays_its_wait_states(tmp_path, kws_model):
    def bench(mode):
        return last_json(run_cli("bench", str(kws_model), "--board", "nucleo_l4r5zi", "--optimize", mode,
                                 "--samples", "1", "--json", cwd=tmp_path))

    speed, size = bench("speed"), bench("size")
    assert size["weights_in"] == "flash" and size["ram_weights_bytes"] == 0
    assert speed["weights_in"] == "ram" and speed["host_mismatches"] == size["host_mismatches"] == 0
    assert size["deploy_flash_bytes"] < speed["deploy_flash_bytes"]  # int8 weights only
    assert speed["cycles_est"] < size["cycles_est"]  # no flash wait states on weight reads


def test_estimate_beside_a_silicon_run(tmp_path, kws_model):
    """What `bench --target serial` adds to a row measured on a board: the same samples, estimated."""
    from harness.boards import load_board
    from harness.build.cache import cached_build
    from harness.codegen import generate
    from harness.inputs import load_samples
    from harness.model import load_tflite
    from harness.timing.session import estimate_beside

    model = load_tflite(kws_model)
    gen = generate(model, tmp_path / "gen", load_samples(model, None, 2, 0).x, name=model.name)
    board = load_board("nucleo_l4r5zi")

    def build(b):
        return cached_build(b, gen.dir, tmp_path / "builds", kernels="optimized").elf  # the builtin engine

    cols = estimate_beside(board, build(board), build, tmp_path / "run", 2, False, None)
    assert cols["emulated_on"] == "mps2_an386" and cols["timing_model"] == MODEL
    assert cols["cycles_est"] > 1e6 and cols["latency_ms_est"] == pytest.approx(cols["cycles_est"] / 120e3)


def test_an_emulated_board_gets_the_estimate_its_twin_gets_on_its_own_machine(tmp_path, kws_model):
    """stm32f4_discovery (STM32F407, run on mps2-an386) and netduinoplus2 (STM32F405, run on QEMU's own
    STM32F405 machine) share the core, the clock and the memory system: the same engine must come out
    the same, though one ran at 0x0 and the other at 0x08000000 with its own build."""
    own = last_json(run_cli("bench", str(kws_model), "--board", "netduinoplus2", "--samples", "1", "--json",
                            cwd=tmp_path))
    emulated = last_json(run_cli("bench", str(kws_model), "--board", "stm32f4_discovery", "--samples", "1",
                                 "--json", cwd=tmp_path))
    assert own["emulated_on"] is None and emulated["emulated_on"] == "mps2_an386"
    assert emulated["cycles_est"] == pytest.approx(own["cycles_est"], rel=1e-3)


def test_without_the_plugin_a_qemu_board_still_runs_and_another_board_says_why(tmp_path, kws_model):
    import os
    import subprocess
    import sys

    from .conftest import REPO

    env = dict(os.environ, PYTHONPATH=str(REPO), CC="/bin/false", XDG_CACHE_HOME=str(tmp_path / "cache"))

    def bench(board):
        return subprocess.run([sys.executable, "-m", "harness.cli", "bench", str(kws_model), "--board", board,
                               "--samples", "1", "--json"], capture_output=True, text=True, cwd=tmp_path, env=env,
                              timeout=600)

    plain = last_json(bench("mps2_an386"))
    assert plain["status"] == "ok" and plain["latency_median"] > 0 and plain.get("cycles_est") is None
    refused = bench("nucleo_l4r5zi")
    assert refused.returncode == 2 and "building the QEMU timing plugin failed" in refused.stderr


def test_analyze_estimate_gives_per_layer_cycles_and_both_modes(tmp_path, kws_model):
    out = last_json(run_cli("analyze", str(kws_model), "--board", "nucleo_l4r5zi", "--estimate", "--json",
                            cwd=tmp_path))
    assert out["board"] == "nucleo_l4r5zi" and out["optimize"] == "speed" and out["timing_model"] == MODEL
    layers = out["layers"]
    assert sum(layer["cycles_est"] for layer in layers) == pytest.approx(out["cycles_est"], rel=0.01)
    assert {layer["op"] for layer in layers} >= {"CONV_2D", "DEPTHWISE_CONV_2D"}
    speed, size = out["modes"]["speed"], out["modes"]["size"]
    assert speed["cycles_est"] == out["cycles_est"] and 0 < speed["cycles_est"] < size["cycles_est"]
    assert size["deploy_flash_bytes"] < speed["deploy_flash_bytes"] and size["weights_in"] == "flash"


def test_analyze_estimate_of_a_tflm_release_build_gives_totals_only(tmp_path, kws_model):
    import os

    if not os.environ.get("TINYHIL_TFLM_DIR_CMSIS_NN"):
        pytest.skip("set TINYHIL_TFLM_DIR_CMSIS_NN to a TFLM tree exported by create_tflm_tree.py to run this")
    out = run_cli("analyze", str(kws_model), "--board", "nucleo_l4r5zi", "--estimate", "--engine", "tflm", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "no per-operator events (totals only)" in out.stdout
    assert "cycles," in out.stdout and f"an estimate by {MODEL}" in out.stdout
