"""The run configuration: one frozen record, validated once at the edge (CLI, experiment file or
Python API) and handed unchanged from stage to stage.

Engines, targets and timing models are looked up by name in their registries (`harness.plugins`)
and asked what they need; nothing here knows any one of them by name. What comes from outside the
options (environment variables, --boards-dir) is the `settings` record, resolved at the edge when the
configuration is made (`harness.settings`); no stage below reads the environment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.build.platformio import PROTOCOLS, check_protocol
from harness.errors import DataError, TinyhilError
from harness.plugins import ENGINES, TARGETS, TIMING_MODELS
from harness.settings import Settings

EXTERNAL_ENGINE = "external"  # what a device running its own firmware is recorded as
DEFAULT_TIMING_MODEL = "cm4-trm"  # the Cortex-M4 model (harness/timing), where the target asks for estimates


@dataclass(frozen=True)
class BenchConfig:
    model: Path
    board: str
    target: str = "qemu"
    data: Path | None = None
    samples: int | None = None
    kernels: str = "optimized"
    engine: str = "builtin"
    optimize: str = "speed"  # the engine's mode (builtin: speed = int16 weight copies | size = int8 only)
    per_layer: bool = False
    protocol: str = "tinyhil"  # the framed protocol, or "mlperf": the MLPerf Tiny runner's ASCII protocol
    mlperf_iterations: int = 1  # `infer N W`: inferences per timed window, and warmups before it
    mlperf_warmup: int = 0
    external_firmware: bool = False  # the device runs its own firmware (e.g. MLPerf Tiny reference): build nothing
    port: str | None = None
    place: str | None = None  # --target labgrid: the place (default: the settings' LG_PLACE, at validation)
    coordinator: str | None = None  # --target labgrid: HOST:PORT (default: the settings' LG_COORDINATOR)
    timing_model: str = DEFAULT_TIMING_MODEL  # the registered timing model behind the *_est columns
    timeout_s: float = 300.0
    build_timeout_s: float = 900.0
    progress: bool = field(default=True, compare=False)  # a per-run progress bar (off inside a sweep's own)
    seed: int = 0
    out: Path | None = None
    results_dir: Path | None = Path("results")
    work_dir: Path | None = None  # builds, generated C, run files (None: the settings' user cache)
    labels: np.ndarray | None = field(default=None, compare=False)  # for callers with data in memory
    x: np.ndarray | None = field(default=None, compare=False)
    extra: dict = field(default_factory=dict, compare=False)  # extra columns (e.g. compression sidecar)
    # what the edge read from the environment and --boards-dir (default: this process's environment, read
    # when the configuration is made, i.e. at the edge)
    settings: Settings = field(default_factory=Settings.from_environ, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.work_dir is None:
            object.__setattr__(self, "work_dir", self.settings.cache_dir)
        if self.engine in ENGINES:  # the engine's own name for a common one (TFLM: optimized = CMSIS-NN)
            object.__setattr__(self, "kernels", ENGINES.get(self.engine).kernel_aliases.get(self.kernels,
                                                                                            self.kernels))

    @property
    def optimize_label(self) -> str | None:
        """The mode the run's firmware was built in: only engines with modes have one."""
        return self.optimize if self.engine_impl.modes else None

    @property
    def engine_label(self) -> str:
        """What runs the model: the engine tinyhil builds, or `external` for a device's own firmware."""
        return EXTERNAL_ENGINE if self.external_firmware else self.engine

    @property
    def engine_impl(self):
        """The registered Engine that runs the model (`harness.engines.Engine`)."""
        return ENGINES.get(self.engine_label)

    @property
    def target_kind(self):
        """The registered TargetKind the run goes to (`harness.targets.TargetKind`)."""
        return TARGETS.get(self.target)

    def validate(self) -> BenchConfig:
        """Refuse what cannot run, naming the problem, before anything is built; return the
        configuration with what its target reads from outside (labgrid's LG_PLACE...) filled in."""
        if self.samples is not None and self.samples < 1:
            raise DataError(f"--samples must be at least 1, got {self.samples}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise TinyhilError(f"--timeout must be a number of seconds > 0, got {self.timeout_s:g}")
        kind = self.target_kind
        ENGINES.get(self.engine)  # an unknown name fails here, naming the choices
        if kind.timing is not None:
            TIMING_MODELS.get(self.timing_model)  # likewise for the timing model the target's estimates use
        engine = self.engine_impl
        if engine.builds_firmware:
            engine.resolve_kernels(self.kernels)
            engine.check_mode(self.optimize)
        check_protocol(self.protocol)
        if self.protocol == "mlperf":
            if self.per_layer:
                raise TinyhilError("--per-layer needs --protocol tinyhil: the MLPerf protocol times whole inferences")
            if self.mlperf_iterations < 1 or self.mlperf_warmup < 0:
                raise TinyhilError(f"--iterations must be >= 1 and --warmup >= 0, got {self.mlperf_iterations} "
                                   f"and {self.mlperf_warmup}")
        elif not engine.builds_firmware:
            raise TinyhilError("--external-firmware needs --protocol mlperf: a device's own firmware is only "
                               "spoken to through the MLPerf Tiny runner protocol")
        elif (self.mlperf_iterations, self.mlperf_warmup) != (1, 0):
            raise TinyhilError("--iterations and --warmup are for --protocol mlperf (the framed protocol times "
                               "each inference once, without warmup)")
        if not engine.builds_firmware and not kind.external_firmware:
            able = [k.name for k in TARGETS if k.external_firmware]
            raise TinyhilError(f"--external-firmware is for a board already running its firmware (--target "
                               f"{' or '.join(able)}); {self.target} runs what tinyhil builds")
        if engine.builds_firmware:
            engine.check_ready(self.kernels, self.settings)
        resolved = kind.resolve(self)
        kind.check(resolved)
        if self.results_dir is not None:
            from harness.report.location import check_writable

            check_writable(self.results_dir)  # last of the checks, still before anything is built
        return resolved


__all__ = ["PROTOCOLS", "BenchConfig"]
