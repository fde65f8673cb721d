"""The bench pipeline: identity → analyze → refuse → host reference → generate (the engine) → build →
run (the target) → compare → row.

Each stage takes and returns typed values (RunIdentity, ModelInfo, HostReference, GeneratedModel,
Firmware, DeviceRun: `pipeline/records.py`, `measure/records.py`); `run_bench` strings them together
and keeps each in the run's `RunState` as it arrives, and the row is built from them at the end in
one place (`pipeline/row.py: build_row`), so a run that fails later still records everything already
measured — host reference accuracy, arena figures, ELF sizes — with its `error`. The engine, the
target and the timing model are the registered ones the configuration names; the settings
(`cfg.settings`) are the ones the edge resolved.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from rich.console import Console

from harness.build.baseline import harness_baseline
from harness.build.cache import cached_build
from harness.build.firmware import Firmware
from harness.codegen.placement import ram_budget
from harness.errors import DataError, DoesNotFitError, Interrupted, TinyhilError
from harness.identity import file_sha256, run_id, samples_sha256
from harness.inputs import Samples, load_samples
from harness.measure.device import run_on_device
from harness.model import TfliteModel, analyze, estimate_fit, load_tflite
from harness.pipeline.config import BenchConfig
from harness.pipeline.records import (
    BuildResult,
    GeneratedFacts,
    HostReference,
    ModelFacts,
    RunIdentity,
    RunOutcome,
    RunProvenance,
)
from harness.pipeline.row import RunState, accuracy, build_row, compression_columns, keep_raw, samples_frame
from harness.plugins import ENGINES, TARGETS
from harness.report.provenance import code_provenance


def _samples(cfg: BenchConfig, model: TfliteModel) -> Samples:
    if cfg.x is not None:
        inp = model.tensor(model.inputs[0])
        if cfg.x.dtype != inp.dtype:
            raise DataError(f"in-memory samples are {cfg.x.dtype}, the model input is {inp.dtype}")
        x = cfg.x.reshape((cfg.x.shape[0], *inp.shape))
        return Samples(x=x, y=cfg.labels, source="in-memory")
    return load_samples(model, cfg.data, cfg.samples, cfg.seed)


def _provenance(cfg: BenchConfig) -> RunProvenance:
    return RunProvenance(
        model=Path(cfg.model).stem, model_path=str(cfg.model), board=cfg.board, target=cfg.target,
        engine=cfg.engine_label, kernels=cfg.kernels if cfg.engine_impl.builds_firmware else None,
        optimize=cfg.optimize_label, per_layer=cfg.per_layer, protocol=cfg.protocol,
        engine_plugin=_plugin(ENGINES.origin(cfg.engine_label)), target_plugin=_plugin(TARGETS.origin(cfg.target)),
        attempt_id=uuid.uuid4().hex[:16],
        code=code_provenance(),  # tinyhil's version/commit and the user's repository, known before anything runs
        compression=compression_columns(Path(cfg.model)), extra=dict(cfg.extra),
    )  # fmt: skip


def _plugin(origin) -> str:
    return f"{origin.dist} {origin.version}"


def run_bench(cfg: BenchConfig, console: Console | None = None) -> dict:
    """Run one (model, board, target, engine) benchmark and return its results row.

    Any failure is recorded too — a project error, any other exception, or an interruption: the
    row keeps every figure and every sample measured before it, plus `status` and `error`, and is
    stored before the exception goes on to the caller.
    """
    console = console or Console(stderr=True, quiet=True)
    cfg = cfg.validate()
    started = time.monotonic()
    provenance = _provenance(cfg)
    state = RunState()
    try:
        _run_stages(cfg, provenance, console, state)
    except BaseException as e:
        interrupted = isinstance(e, (KeyboardInterrupt, Interrupted))
        outcome = RunOutcome(status="interrupted" if interrupted else "failed",
                             wall_time_s=round(time.monotonic() - started, 2), error_type=type(e).__name__,
                             error=f"{type(e).__name__}: {e}" if str(e) or not interrupted else "interrupted")
        row = build_row(provenance, state, outcome)
        _record(cfg, row, state)
        if isinstance(e, Exception):
            e.row = row  # callers that go on (sweeps) keep the failed row
        raise
    row = build_row(provenance, state, RunOutcome(status="ok", wall_time_s=round(time.monotonic() - started, 2)))
    _record(cfg, row, state)
    return row


def run_identity(cfg: BenchConfig) -> tuple[RunIdentity, Samples | None]:
    """The run's identity columns — by content: the model file's and the samples' hashes — and the
    samples. Computable for a model that cannot be read too (its samples are then 'unavailable'),
    so a refused run has a run_id and a resumed sweep knows it."""
    path = Path(cfg.model)
    model_sha = file_sha256(path) if path.is_file() else "missing"
    try:
        samples = _samples(cfg, load_tflite(path))
        input_sha, n, source = samples_sha256(samples.x), int(samples.x.shape[0]), samples.source
    except TinyhilError:
        samples, input_sha, n, source = None, "unavailable", int(cfg.samples or 0), None
    from harness.boards import load_board

    try:  # the board file by content: an edited board is a different run
        board = load_board(cfg.board, search=cfg.settings.boards_dirs)
        board_sha, board_file = board.sha256, f"{board.manifest} ({board.source})"
    except TinyhilError:
        board_sha, board_file = "unknown", None
    the_run_id = run_id(model_sha256=model_sha, board=cfg.board, board_sha256=board_sha,
                                target=cfg.target, engine=cfg.engine_label,
                                kernels=cfg.kernels, input_sha256=input_sha, samples=n, per_layer=cfg.per_layer,
                                protocol=cfg.protocol, mlperf_window=(cfg.mlperf_iterations, cfg.mlperf_warmup),
                                optimize=cfg.optimize_label)
    identity = RunIdentity(model_sha256=model_sha, input_sha256=input_sha, samples=n, data_source=source,
                           board_sha256=board_sha, board_file=board_file, run_id=the_run_id)
    return identity, samples


def _run_stages(cfg: BenchConfig, provenance: RunProvenance, console: Console, state: RunState) -> None:
    from harness.boards import load_board
    from harness.reference import run_tflm, tflm_arena

    engine = cfg.engine_impl
    state.persistent_arena_bytes = engine.persistent_arena_bytes

    # known before anything can refuse, so even a refusal has its run_id
    state.identity, samples = run_identity(cfg)
    board = load_board(cfg.board, search=cfg.settings.boards_dirs)
    console.log(f"board {board.name}: {board.manifest} ({board.source})")
    state.model = ModelFacts(clock_hz=board.clock_hz)
    model = load_tflite(cfg.model)
    if samples is None:
        samples = _samples(cfg, model)  # raises the reason the samples could not be made
    state.samples = samples
    info = analyze(model)
    state.model = ModelFacts(clock_hz=board.clock_hz, macs=info.macs)
    budget = None
    if engine.builds_firmware:  # (a device's own firmware is whatever it is: nothing to check or build)
        engine.check_supported(model)  # refuses unsupported ops by name, before anything is built
        baseline = harness_baseline(board, cfg.work_dir / "builds", settings=cfg.settings)
        fit = estimate_fit(info, board.name, board.flash_bytes, board.ram_bytes, baseline=baseline)
        if not fit.fits:
            raise DoesNotFitError(f"{model.name} does not fit {fit.describe()} (estimate before building)")
        if engine.places_weights:
            budget = ram_budget(cfg.optimize, board, baseline.ram_bytes if baseline else None)

    console.log(f"host TFLM reference on {samples.x.shape[0]} samples")
    state.host_out = run_tflm(cfg.model, samples.x)
    arena = tflm_arena(cfg.model)
    state.host = HostReference(accuracy_host=accuracy(state.host_out, samples.y), tflm_arena_bytes=arena.total_bytes,
                               tflm_arena_head_bytes=arena.head_bytes)

    generated = cfg.work_dir / "generated" / provenance.attempt_id
    gen = None  # with --external-firmware, the device's own: nothing to generate
    if engine.builds_firmware:
        console.log(f"generating C for the {engine.name} engine")
        placing = {"ram_budget": budget} if budget is not None else {}  # only engines that place weights
        gen = engine.generate(model, generated / "model", samples.x, name=model.name, arena=arena, mode=cfg.optimize,
                              **placing)
        if gen.weights_in == "ram":
            console.log(f"weights in RAM, copied at reset ({gen.weight_bytes:,} B; {budget.why})")
    state.generated = GeneratedFacts(arena_plan_bytes=gen.arena_bytes if gen else None,
                                     engine=engine.generated_columns(gen) if gen else {})
    try:
        fw = _build(cfg, board, gen, console)
        if fw is not None:
            state.build = BuildResult(fw.columns(gen.arena_bytes))
        # (the timing model may build the same generated model for the machine that emulates the board)
        state.device = run_on_device(cfg, board, fw, gen, cfg.work_dir / "runs" / provenance.attempt_id,
                                     samples.x.shape[0], console, state.received, inputs=samples.x,
                                     output_tensor=model.tensor(model.outputs[0]), builds=cfg.work_dir / "builds")
    finally:
        shutil.rmtree(generated, ignore_errors=True)  # each build keeps its own copy
    if cfg.out:
        keep_raw(cfg.out, samples.x, state.device.outputs.reshape(state.host_out.shape), build_row(provenance, state))


def _build(cfg: BenchConfig, board, gen, console: Console) -> Firmware | None:
    """The firmware for the generated model (reused when an identical build exists); None when the
    device runs its own (nothing generated, nothing built or flashed)."""
    if gen is None:
        console.log("the device runs its own firmware: nothing built or flashed")
        return None
    console.log(f"building firmware for {board.name} ({cfg.engine_impl.name} engine, {cfg.kernels} kernels, "
                f"{cfg.protocol} protocol) with PlatformIO")
    fw = cached_build(board, gen.dir, cfg.work_dir / "builds", kernels=cfg.kernels, engine=cfg.engine_impl,
                      timeout=cfg.build_timeout_s, protocol=cfg.protocol, settings=cfg.settings)
    console.log(f"firmware {fw.build_id}{' (cached)' if fw.cached else ''}: {fw.flash_bytes:,} B flash, "
                f"{fw.ram_bytes:,} B RAM")
    return fw


def _record(cfg: BenchConfig, row: dict, state: RunState | None = None) -> None:
    """Store the row; if that fails, it and its samples are kept in a fallback file the error names."""
    if cfg.results_dir is None:
        return
    from harness.report.fallback import store_or_keep

    store_or_keep(row, samples_frame(row, state) if state else None, cfg.results_dir)
