"""`tinyhil bench --protocol mlperf`: tinyhil's firmware speaking the MLPerf Tiny runner protocol
under QEMU, end to end, outputs compared with host TFLM, timing against the framed protocol's."""

import pytest

from .conftest import last_json, run_cli

pytestmark = pytest.mark.slow


def test_ic_over_the_runner_protocol_matches_host_and_the_framed_timing(tmp_path, ic_model):
    args = ("bench", str(ic_model), "--board", "mps2_an386", "--samples", "2", "--json")
    runner = last_json(run_cli(*args, "--protocol", "mlperf", "--iterations", "2", "--warmup", "1", cwd=tmp_path))
    framed = last_json(run_cli(*args, cwd=tmp_path))
    assert runner["protocol"] == "mlperf" and framed["protocol"] == "tinyhil"
    assert runner["host_mismatches"] == 0 and runner["samples"] == 2  # int8 outputs recovered from the text
    assert runner["unit"] == "instructions" and runner["latency_ms"] is None
    # a microsecond stamp under QEMU -icount shift=0 is 1000 instructions, over a window of 2 inferences
    assert runner["timer_resolution"] == 500 and runner["mlperf_iterations"] == 2 and runner["mlperf_warmup"] == 1
    assert abs(runner["latency_median"] - framed["latency_median"]) <= runner["timer_resolution"] + 64
    assert runner["mlperf_device_name"] == "dut-[tinyhil mps2_an386]"
    assert runner["arena_bytes"] == framed["arena_bytes"] and runner["run_id"] != framed["run_id"]
    assert runner["build_id"] != framed["build_id"]


def test_mlperf_only_options_are_refused_elsewhere(tmp_path, ic_model):
    out = run_cli("bench", str(ic_model), "--board", "mps2_an386", "--iterations", "5", cwd=tmp_path)
    assert out.returncode == 2 and "error: --iterations and --warmup are for --protocol mlperf" in out.stderr
    out = run_cli("bench", str(ic_model), "--board", "mps2_an386", "--protocol", "mlperf", "--per-layer", cwd=tmp_path)
    assert out.returncode == 2 and "--per-layer needs --protocol tinyhil" in out.stderr
    out = run_cli("bench", str(ic_model), "--board", "mps2_an386", "--protocol", "ascii", cwd=tmp_path)
    assert out.returncode == 2 and "unknown protocol 'ascii'" in out.stderr
    out = run_cli("bench", str(ic_model), "--board", "mps2_an386", "--external-firmware", cwd=tmp_path)
    assert out.returncode == 2 and "--external-firmware needs --protocol mlperf" in out.stderr
    out = run_cli("bench", str(ic_model), "--board", "mps2_an386", "--protocol", "mlperf", "--external-firmware",
                  cwd=tmp_path)
    assert out.returncode == 2 and "(--target serial or labgrid); qemu runs what tinyhil builds" in out.stderr
