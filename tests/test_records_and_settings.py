"""One typed record from configuration to row: the settings read once at the edge, the stages' frozen
records, and the row built from them in one place (`harness.pipeline.row.build_row`)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.errors import TinyhilError
from harness.inputs import Samples
from harness.measure.records import (
    DeviceRun,
    MemoryMeasurement,
    Received,
    TargetFacts,
    TimerFacts,
    TimingEstimate,
)
from harness.pipeline import BenchConfig
from harness.pipeline.records import (
    BuildResult,
    GeneratedFacts,
    HostReference,
    ModelFacts,
    RunIdentity,
    RunOutcome,
    RunProvenance,
)
from harness.pipeline.row import RunState, build_row
from harness.plugins import TIMING_MODELS, UnknownNameError
from harness.protocol.messages import Sample
from harness.settings import Settings
from harness.targets.base import CountScale

ENVIRONMENT = {
    "TINYHIL_CACHE": "/tmp/tinyhil-cache", "TINYHIL_BOARDS_DIR": "/a:/b", "TINYHIL_TFLM_DIR_REFERENCE": "/tree",
    "TINYHIL_TFLM_COMMIT": "90b983c", "TINYHIL_TFLM_BUILD_TIMEOUT": "120", "TINYHIL_TFLM_LIBRARY": "full",
    "TINYHIL_BUILD_JOBS": "3", "TINYHIL_RENODE": "/opt/renode/renode", "LG_PLACE": "b1",
    "LG_COORDINATOR": "lab:20408", "CC": "clang", "UNRELATED": "x",
}


def test_every_setting_is_read_from_the_environment_once_into_one_record():
    s = Settings.from_environ(ENVIRONMENT, boards_dirs=[Path("/cli")])
    assert s.cache_dir == Path("/tmp/tinyhil-cache")
    assert s.boards_dirs == ((Path("/cli"), "--boards-dir"), (Path("/a"), "$TINYHIL_BOARDS_DIR"),
                             (Path("/b"), "$TINYHIL_BOARDS_DIR"))
    assert s.tflm_environ == {"TINYHIL_TFLM_DIR_REFERENCE": "/tree"} and s.tflm_commit == "90b983c"
    assert (s.tflm_build_timeout_s, s.tflm_library, s.build_jobs) == (120.0, "full", 3)
    assert (s.renode, s.renode_test, s.labgrid_place, s.labgrid_coordinator, s.c_compiler) == (
        "/opt/renode/renode", None, "b1", "lab:20408", "clang")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.cache_dir = Path("/elsewhere")
    default = Settings.from_environ({})
    assert default.boards_dirs == () and default.tflm_trees == () and default.tflm_library == "ops"
    assert Settings() == dataclasses.replace(default, cache_dir=Settings().cache_dir)  # defaults read nothing
    with pytest.raises(TinyhilError, match="TINYHIL_BUILD_JOBS must be a number, got 'many'"):
        Settings.from_environ({"TINYHIL_BUILD_JOBS": "many"})


def test_a_configuration_carries_its_settings_and_stages_use_them_not_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "env-cache"))
    made = BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386")  # made at the edge: reads it now
    assert made.settings.cache_dir == made.work_dir == tmp_path / "env-cache"
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "later"))
    assert dataclasses.replace(made, samples=3).work_dir == tmp_path / "env-cache"  # carried, not read again
    given = BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386", settings=Settings(cache_dir=tmp_path / "s"))
    assert given.work_dir == tmp_path / "s"
    with pytest.raises(UnknownNameError, match="unknown timing model 'nope'; choose one of cm4-trm"):
        dataclasses.replace(made, timing_model="nope").validate()  # looked up by name in TIMING_MODELS


def _run_state(samples: list[Sample], scale: CountScale | None) -> RunState:
    state = RunState(received=Received(samples=samples, scale=scale, overhead_ticks=2, output_dtype=np.dtype("int8")))
    state.identity = RunIdentity("m" * 64, "i" * 64, 2, "random", "b" * 64, "boards/x.json (shipped)", "r1")
    state.model = ModelFacts(clock_hz=25_000_000, macs=1000)
    state.host = HostReference(accuracy_host=None, tflm_arena_bytes=900, tflm_arena_head_bytes=700)
    state.generated = GeneratedFacts(arena_plan_bytes=640, engine={"weights_in": "flash"})
    state.build = BuildResult({"flash_bytes": 5000, "ram_bytes": 3000, "ram_engine_state_bytes": 16})
    state.received.target = TargetFacts(kind={"qemu_version": "qemu-system-arm 7.2"})
    state.received.timer = TimerFacts("instructions", "systick", 25_000_000, 40.0, 80.0, "tinyhil 3", 25_000_000)
    state.received.memory = MemoryMeasurement(600, 400, 4096, 0, {})
    state.host_out = np.zeros((2, 4), dtype=np.int8)
    state.samples = Samples(x=np.zeros((2, 1, 4), dtype=np.int8), y=np.array([0, 1]), source="random")
    state.persistent_arena_bytes = 0
    return state


PROVENANCE = RunProvenance(model="m", model_path="m.tflite", board="mps2_an386", target="qemu", engine="builtin",
                           kernels="optimized", optimize="speed", per_layer=False, protocol="tinyhil",
                           engine_plugin="tinyhil 0.1.0", target_plugin="tinyhil 0.1.0", attempt_id="a1",
                           code={"tinyhil_version": "0.1.0"}, extra={"note": "x"})


def test_a_failed_run_is_built_from_the_records_that_arrived():
    scale = CountScale("instructions", 40.0, 40.0)
    state = _run_state([Sample(0, 102, (), bytes(4)), Sample(1, 112, (), bytes(4))], scale)
    row = build_row(PROVENANCE, state, RunOutcome("failed", 1.5, "DeviceError", "DeviceError: gone"))
    assert (row["status"], row["error"], row["wall_time_s"], row["run_id"]) == ("failed", "DeviceError: gone", 1.5,
                                                                                 "r1")
    assert row["note"] == "x" and row["weights_in"] == "flash" and row["qemu_version"] == "qemu-system-arm 7.2"
    # the samples that did arrive are summarised: (ticks - overhead) x 40 instructions
    assert row["latency_median"] == (100 * 40 + 110 * 40) / 2 and row["latency_min"] == 4000.0
    assert row["latency_ms"] is None and row["instructions_per_mac"] == 4.2  # instructions have no ms
    assert row["arena_bytes"] == 600 and row["deploy_ram_bytes"] == 600 + 16 + 400
    assert "host_mismatches" not in row and "cycles_est" not in row
    empty = build_row(PROVENANCE, RunState())  # a refusal before anything ran: provenance alone
    assert set(empty) == set(PROVENANCE.columns()) and "status" not in empty


def test_a_finished_run_takes_its_device_figures_and_the_estimate_from_their_records():
    state = _run_state([], None)
    state.device = DeviceRun(outputs=np.zeros((2, 4), dtype=np.int8), latency=[4000.0, 4400.0], unit="instructions",
                             raw_latency=[4080.0, 4480.0], profiled=[0.0, 0.0], per_layer_json='[{"count": 1}]',
                             estimate=TimingEstimate.of({"cycles_est": 5000.0, "timing_model": "cm4-trm 1"}))
    row = build_row(PROVENANCE, state, RunOutcome("ok", 2.0))
    assert row["status"] == "ok" and "error" not in row and row["host_mismatches"] == 0
    assert row["accuracy_device"] == 0.5  # argmax 0 for both samples, labels 0 and 1
    assert row["latency_median"] == 4200.0 and row["latency_raw_median"] == 4280.0
    assert row["cycles_est"] == 5000.0 and row["timing_model"] == "cm4-trm 1"
    assert row["per_layer_json"] == '[{"count": 1}]' and row["timer_overhead"] == 80.0
    assert TimingEstimate.of({}) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.device.unit = "cycles"


class _FlatModel:
    """A timing model the measure stage cannot run (no instrumented run): estimates stay empty."""

    name, version, estimates = "flat-test", "1", ("est_cycles",)

    def estimate(self, trace, board):
        return {"est_cycles": None}


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs the Arm toolchain and QEMU")
def test_the_measure_stage_uses_the_timing_model_the_configuration_names(tmp_path, kws_model, monkeypatch):
    from harness.pipeline import run_bench

    monkeypatch.setattr(TIMING_MODELS, "_entries", dict(TIMING_MODELS._entries))  # registered for this test only
    TIMING_MODELS.register(_FlatModel())
    cfg = BenchConfig(model=kws_model, board="mps2_an386", samples=1, results_dir=None, timing_model="flat-test")
    row = run_bench(cfg)
    assert row["status"] == "ok" and row["unit"] == "instructions" and row["latency_median"] > 0
    assert row.get("cycles_est") is None and row.get("timing_model") is None  # measured figures stand alone
    timed = run_bench(dataclasses.replace(cfg, timing_model="cm4-trm"))
    assert timed["cycles_est"] > 0 and timed["timing_model"] == "cm4-trm 2"
    assert timed["latency_median"] == row["latency_median"]  # the same firmware, the same counts
