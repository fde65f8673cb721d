"""A QEMU run with the timing plugin: which firmware runs on which machine, the plugin's option,
and the estimate columns read back from its trace.

A board QEMU models runs its own build. Any other Cortex-M4 board (its `timing.emulated_on`) runs
the same engine and model built for a QEMU machine with the same core: the instruction stream of the
engine does not depend on the board, and the named board's clock and memory system time it. Its
flash/RAM figures stay those of its own build (the caller's firmware).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.boards import Board, load_board
from harness.errors import TinyhilError
from harness.settings import Settings
from harness.timing.build import plugin_path
from harness.timing.memory import MemoryTiming, load_memory_timing
from harness.timing.model import CortexM4Model
from harness.timing.trace import PluginArgs, symbol_addresses

INVOKE = "th_model_invoke"  # opens a window
TIMER_READ = "th_timer_now"  # a timer read inside it: the end of the inference, or a layer stamp
CLOSERS = ("th_frame_begin", "th_timer_sync")  # the firmware is answering or starts another pass


@dataclass
class TimedRun:
    board: Board  # the board named: its clock and memory time the run
    run_board: Board  # the board QEMU emulates
    timing: MemoryTiming
    model: CortexM4Model
    elf: Path  # what QEMU runs
    plugin: PluginArgs
    plugin_so: Path  # the built QEMU plugin

    @property
    def emulated_on(self) -> str | None:
        return self.run_board.name if self.run_board.name != self.board.name else None

    def qemu_args(self) -> tuple[str, ...]:
        return ("-plugin", self.plugin.option(self.plugin_so))

    def inferences(self) -> tuple[list[float], list[list[float]]]:
        return self.model.inferences(self.plugin.out, self.timing)

    def estimate_columns(self, per_layer_json: str | None, log: Callable[[str], None]) -> dict:
        """`columns`, or none when the trace cannot give them: the run's measured figures stand alone."""
        try:
            return self.columns(per_layer_json)
        except (TinyhilError, OSError, ValueError) as e:
            log(f"no timing estimate for this run: {e}")
            return {}

    def columns(self, per_layer_json: str | None) -> dict:
        return {**self.model.estimate(self.plugin.out, self.board, per_layer_json, self.timing),
                "emulated_on": self.emulated_on}

def prepare(board: Board, own_elf: Path, build_for: Callable[[Board], Path], run_dir: Path,
            model: CortexM4Model | None = None, settings: Settings | None = None) -> TimedRun:
    """The timed run for `board`: its own ELF if QEMU models it, else a build for the machine its
    board file names (`build_for(run_board)` builds the same engine and model for it). `settings`:
    the run's (its board folders, the C compiler for the plugin)."""
    settings = settings or Settings()
    timing = load_memory_timing(board)
    if board.qemu_machine:
        run_board, elf = board, own_elf
    elif timing.emulated_on:
        run_board = load_board(timing.emulated_on, search=settings.boards_dirs)  # the user's boards, then shipped
        if not run_board.qemu_machine:
            raise TinyhilError(f"board {board.name}: timing.emulated_on names {run_board.name}, which QEMU "
                               "does not model")
        elf = build_for(run_board)
    else:
        raise TinyhilError(f"QEMU does not model board {board.name!r} and its timing section names no "
                           "emulated_on board with the same core")
    found = symbol_addresses(elf, (INVOKE, TIMER_READ, *CLOSERS))
    if INVOKE not in found or TIMER_READ not in found:
        raise TinyhilError(f"{elf} has no {INVOKE} / {TIMER_READ} symbol: not a tinyhil firmware")
    plugin_so = plugin_path(settings.c_compiler)  # built now (or an error naming why not), before anything runs
    model = model or CortexM4Model()
    args = model.plugin_args(Path(run_dir) / "timing_trace.txt", run_board, timing, start=(found[INVOKE],),
                             mark=(found[TIMER_READ],), close=tuple(found[c] for c in CLOSERS if c in found))
    return TimedRun(board=board, run_board=run_board, timing=timing, model=model, elf=elf, plugin=args,
                    plugin_so=plugin_so)


def estimate_beside(board: Board, own_elf: Path, build_for: Callable[[Board], Path], run_dir: Path, n: int,
                    per_layer: bool, per_layer_json: str | None, timeout_s: float = 600.0,
                    model: CortexM4Model | None = None, settings: Settings | None = None) -> dict:
    """The estimate columns for a run measured on silicon: the same samples run once more in QEMU
    with the plugin, so the row holds the board's DWT cycles and the model's estimate side by side
    (benchmarks/timing_vs_silicon.py turns such rows into the model-vs-silicon table)."""
    from harness.protocol import Device
    from harness.targets import QemuTarget

    timed = prepare(board, own_elf, build_for, Path(run_dir) / "estimate", model, settings)
    Path(run_dir, "estimate").mkdir(parents=True, exist_ok=True)
    with QemuTarget(timed.run_board, timed.elf, log_dir=Path(run_dir) / "estimate", max_seconds=timeout_s,
                    extra_args=timed.qemu_args()) as target:
        device = Device(target, timeout=timeout_s)
        device.wait_ready(30)
        device.identify()
        device.measure_memory()  # the one inference the plugin learns the memory behaviour from
        device.run_flash(0, n, per_layer, timeout=timeout_s, on_sample=lambda _s: None)
    cols = timed.columns(per_layer_json)
    return cols


class QemuCortexM4Model(CortexM4Model):
    """The Cortex-M4 model as the registry holds it (`harness.plugins.TIMING_MODELS`, "cm4-trm"): the
    model, and how the measure stage runs it (`harness.plugins.timing.InstrumentedTimingModel`): QEMU
    with the timing plugin, glued here."""

    def prepare_run(self, board: Board, own_elf: Path, build_for: Callable[[Board], Path], run_dir: Path,
                    settings: Settings | None) -> TimedRun:
        """The instrumented QEMU run of `board`'s firmware (the target starts it with `qemu_args()`)."""
        return prepare(board, own_elf, build_for, run_dir, self, settings)

    def estimate_beside(self, board: Board, own_elf: Path, build_for: Callable[[Board], Path], run_dir: Path,
                        n: int, per_layer: bool, per_layer_json: str | None, timeout_s: float,
                        settings: Settings | None) -> dict:
        """The estimate columns for a run measured on silicon: the same samples once more in QEMU."""
        return estimate_beside(board, own_elf, build_for, run_dir, n, per_layer, per_layer_json, timeout_s, self,
                               settings)
