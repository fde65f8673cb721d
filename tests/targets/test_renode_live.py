"""Against a real Renode: every Renode board runs KWS and IC bit-exact, QEMU and Renode agree on
netduinoplus2, the generated Robot suite passes (and fails when it should) under renode-test, and a
monitor error becomes a typed error. Skipped, naming what is missing, without `renode` /
`renode-test` on PATH (or $TINYHIL_RENODE pointing at the launcher)."""

import dataclasses
import os
import shutil

import pytest

from harness.boards import load_board
from harness.errors import DeviceError
from harness.pipeline import BenchConfig, run_bench
from harness.report.store import load_samples_table
from harness.settings import Settings
from harness.targets import RenodeTarget
from harness.targets.renode_script import renode_binary, renode_test_binary

RENODE_BOARDS = ("netduinoplus2", "stm32f4_discovery", "nrf52840_dk", "nano33ble", "frdm_k64f")
# QEMU's SysTick on netduinoplus2 resolves 1e9/168e6 = 5.95 instructions; Renode's counts for one
# ELF moved by up to 21 ticks between runs (time synchronised at block boundaries). Measured
# differences were <= 19 instructions on KWS (~4.7 M) and <= 25 on IC (~17.5 M).
AGREEMENT_INSTRUCTIONS = 64

SETTINGS = Settings.from_environ()  # TINYHIL_RENODE / TINYHIL_RENODE_TEST, as the CLI reads them
needs_renode = pytest.mark.skipif(renode_binary(SETTINGS) is None,
                                  reason="renode not found: put it on PATH or set TINYHIL_RENODE")
needs_renode_test = pytest.mark.skipif(renode_test_binary(SETTINGS) is None,
                                       reason="renode-test not found: put it on PATH or set TINYHIL_RENODE")
needs_toolchain = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                                     reason="arm-none-eabi-gcc is not installed")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("renode-live")


@pytest.fixture(params=["kws", "ic"])
def model(request, kws_model, ic_model):
    return {"kws": kws_model, "ic": ic_model}[request.param]


def _bench(model, board, target, work, samples=3):
    cfg = BenchConfig(model=model, board=board, target=target, samples=samples, results_dir=work / "results",
                      work_dir=work / "build", progress=False)
    return run_bench(cfg)


@pytest.mark.slow
@needs_renode
@needs_toolchain
@pytest.mark.parametrize("board", RENODE_BOARDS)
def test_bit_exact_on_every_renode_board(board, model, work):
    row = _bench(model, board, "renode", work)
    assert row["status"] == "ok" and row["host_mismatches"] == 0
    assert row["timer"] == "systick" and row["unit"] == "instructions" and row["timer_resolution"] == 1.0
    assert row["renode_version"].startswith("Renode 1.")
    assert row["latency_ms"] is None  # instructions have no ms
    assert row["latency_median"] > 1_000_000 and row["arena_bytes"] > 0


@pytest.mark.slow
@needs_renode
@needs_toolchain
def test_qemu_and_renode_agree_on_netduinoplus2(kws_model, work):
    rows = {t: _bench(kws_model, "netduinoplus2", t, work, samples=4) for t in ("qemu", "renode")}
    samples = load_samples_table(work / "results")
    counts = {t: samples[samples["attempt_id"] == row["attempt_id"]].sort_values("sample")["latency_raw"].tolist()
              for t, row in rows.items()}
    assert len(counts["qemu"]) == len(counts["renode"]) == 4
    for q, r in zip(counts["qemu"], counts["renode"], strict=True):
        assert abs(q - r) <= AGREEMENT_INSTRUCTIONS, f"QEMU {q:.0f} vs Renode {r:.0f} instructions"
    assert rows["qemu"]["unit"] == rows["renode"]["unit"] == "instructions"


@pytest.mark.slow
@needs_renode
@needs_renode_test
@needs_toolchain
def test_robot_suite_passes_under_renode_test_and_fails_on_a_wrong_output(kws_model, work):
    from harness.ci.robot import make_suite
    from harness.targets.renode_robot import run_robot

    cfg = BenchConfig(model=kws_model, board="netduinoplus2", target="renode", samples=2,
                      results_dir=work / "results", work_dir=work / "build", progress=False)
    suite = make_suite(cfg, work / "robot")
    done = run_robot(suite, work / "robot" / "results", timeout=900)
    log = (work / "robot" / "results" / "renode-test.log").read_text()
    assert done.returncode == 0, log[-3000:]
    assert "finished successfully" in log
    text = suite.read_text()
    reference = text.split("@{REFERENCE}", 1)[1].split()[0]
    wrong = ("01" if reference[:2] != "01" else "02") + reference[2:]
    suite.write_text(text.replace(reference, wrong, 1))
    done = run_robot(suite, work / "robot" / "results-wrong", timeout=900)
    log = (work / "robot" / "results-wrong" / "renode-test.log").read_text()
    assert done.returncode != 0 and "outputs differ from host TFLM" in log, log[-3000:]


@needs_renode
def test_a_platform_renode_cannot_load_is_a_typed_error(tmp_path):
    board = dataclasses.replace(load_board("netduinoplus2"), renode_platform=str(tmp_path / "missing.repl"))
    (tmp_path / "fw.elf").write_bytes(b"\x7fELF")
    target = RenodeTarget(board, tmp_path / "fw.elf", tmp_path / "w")
    with pytest.raises(DeviceError, match=r"could not set up netduinoplus2: machine LoadPlatformDescription "
                                          r"@.*missing.repl: Could not find file"):
        target.open()
    assert target._proc is None
    with pytest.raises(ProcessLookupError):  # nothing of its process group is left
        os.killpg(target.pid, 0)
