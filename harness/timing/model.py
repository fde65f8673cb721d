"""The Cortex-M4 timing model: the plugin's event counts and a board's memory system -> cycles.

cycles = core cycles (TRM instruction timings, pairing rules, branch refills, exception entries;
         counted by the plugin)
       + instruction-fetch stalls (flash wait states on cache misses, less what the prefetch buffer
         hid; counted by the plugin with the board's figures)
       + flash wait states x data reads that missed the data cache
       + 1 per unaligned access (TRM §3.3.2: an unaligned access is split into aligned transfers)
SRAM is zero wait on every shipped board. What it leaves out: bus contention (DMA, the write
buffer), interrupts other than those the firmware takes itself, cache behaviour the manuals do not
describe (organisation, replacement: modelled fully associative LRU), data-dependent SDIV/UDIV.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.boards import Board
from harness.errors import DeviceError
from harness.timing.memory import MemoryTiming, load_memory_timing
from harness.timing.trace import PluginArgs, read_trace, windows


@dataclass(frozen=True)
class Estimate:
    cycles: float
    breakdown: dict[str, float]  # where the cycles come from


class CortexM4Model:
    """Estimates from the TRM and each board's reference manual; no parameter fitted to silicon."""

    name = "cm4-trm"
    # 2: instruction sizes from their encodings (version 1 mis-decoded the last instruction of a
    # block QEMU split before a page-crossing instruction, up to ~1 % of a model's cycles)
    version = "2"
    estimates = ("cycles_est", "latency_ms_est", "energy_uj_est", "timing_model", "emulated_on")

    def estimate(self, trace: Path, board: Board, per_layer_json: str | None = None,
                 timing: MemoryTiming | None = None) -> dict:
        """The plugin's trace + the board -> the row's estimate columns (the per-layer JSON gets
        `cycles_est` per layer when the run had a hooked pass). The median over the timed inferences."""
        timing = timing or load_memory_timing(board)
        whole, layered = self.inferences(trace, timing)
        if not whole:
            raise DeviceError(f"the timing trace {trace} holds no timed inference")
        cols = self.columns(float(np.median(whole)), board, timing)
        if per_layer_json and layered:
            layers = json.loads(per_layer_json)
            complete = [row for row in layered if len(row) == len(layers)]
            if complete:
                for layer, est in zip(layers, np.median(np.array(complete), axis=0), strict=True):
                    layer["cycles_est"] = float(est)
                cols["per_layer_json"] = json.dumps(layers)
        return cols

    def inferences(self, trace: Path, timing: MemoryTiming) -> tuple[list[float], list[list[float]]]:
        """Cycles per unhooked inference, and per layer for each hooked one. A window opens at the
        engine's invoke; one timer read ends a whole inference; a hooked pass reads the timer before
        each layer, after the last, and once more at its end."""
        try:
            found = windows(read_trace(trace))
        except OSError as e:
            raise DeviceError(f"the QEMU timing plugin wrote no trace ({e})") from e
        whole, layered = [], []
        for w in found:
            if len(w.marks) == 1:
                whole.append(self.cycles(w.marks[0] - w.start, timing).cycles)
            elif len(w.marks) >= 3:
                stamps = w.marks[:-1]
                layered.append([self.cycles(b - a, timing).cycles for a, b in zip(stamps, stamps[1:], strict=False)])
        return whole, layered

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def plugin_args(self, out: Path, run_board: Board, timing: MemoryTiming, start: tuple[int, ...],
                    mark: tuple[int, ...] = (), close: tuple[int, ...] = ()) -> PluginArgs:
        """Accesses are attributed by the machine QEMU runs (its flash region), timed by the named
        board's memory system."""
        flash = (run_board.flash.origin, run_board.flash.origin + run_board.flash.size)
        return PluginArgs(out=out, start=start, mark=mark, close=close, flash=flash,
                          line_bytes=timing.flash_line_bytes, icache_lines=timing.icache_lines,
                          dcache_lines=timing.dcache_lines, unified=timing.unified_cache,
                          wait_states=timing.flash_wait_states, prefetch=timing.prefetch)

    def cycles(self, counts: dict[str, int], timing: MemoryTiming) -> Estimate:
        parts = {
            "core": float(counts["core"]),
            "ifetch_stall": float(counts["ifetch_stall"]),
            "dflash_stall": float(counts["dflash_miss"] * timing.flash_wait_states),
            "unaligned": float(counts["unaligned"]),
        }
        return Estimate(cycles=sum(parts.values()), breakdown=parts)

    def columns(self, cycles: float, board: Board, timing: MemoryTiming) -> dict:
        """The row's estimate columns for one inference of `cycles` on `board`."""
        latency_ms = cycles / board.clock_hz * 1e3
        energy = None
        if timing.run_current_ma is not None and timing.supply_v is not None:
            energy = latency_ms * timing.run_current_ma * timing.supply_v  # ms x mA x V = µJ
        return {"cycles_est": cycles, "latency_ms_est": latency_ms, "energy_uj_est": energy,
                "timing_model": self.label}
