"""What the pipeline asks of a timing model: estimates (cycles, ms, µJ...) derived from what a run
measured, under the model's own name and version — never mixed with measured counts.

A timing model takes the run's trace result (what an instrumented emulator run recorded: the
instructions executed, the memory accesses; its type belongs to the model's own trace stage) and
the Board (clock, flash wait states, caches from its board file), and returns one value per column
it declares in `estimates`. The row carries those columns beside `timing_model` and
`timing_model_version`. Register one with `harness.plugins.TIMING_MODELS.register(model)` or, from
another package, the `tinyhil.timing_models` entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.errors import TinyhilError

if TYPE_CHECKING:
    from harness.boards import Board


@runtime_checkable
class TimingModel(Protocol):
    name: str  # e.g. "cortex-m4"
    version: str  # bumped whenever its estimates for the same trace change
    estimates: tuple[str, ...]  # the row columns it fills, e.g. ("est_cycles", "est_latency_ms")

    def estimate(self, trace: Any, board: Board) -> Mapping[str, float]:
        """The estimates for one run: a value (or None) for each of `estimates`, nothing else."""
        ...


@runtime_checkable
class InstrumentedTimingModel(TimingModel, Protocol):
    """A timing model the measure stage can run itself: it instruments an emulator run of the
    firmware (tinyhil's runs QEMU with its TCG plugin) and returns the estimate columns. Where the
    target's `timing` is "instrumented" the target runs `prepare_run`'s run (its `qemu_args()`,
    `run_board`, `elf`) and the columns come from its `estimate_columns(per_layer_json, log)`; where
    it is "beside" (silicon), `estimate_beside` runs the same samples once more and returns them."""

    def prepare_run(self, board: Board, own_elf: Any, build_for: Any, run_dir: Any, settings: Any) -> Any: ...

    def estimate_beside(self, board: Board, own_elf: Any, build_for: Any, run_dir: Any, n: int, per_layer: bool,
                        per_layer_json: str | None, timeout_s: float, settings: Any) -> Mapping[str, Any]: ...


def estimate_columns(model: TimingModel, trace: Any, board: Board) -> dict[str, Any]:
    """The model's estimates as row columns, with the model's name and version; refuses a model that
    returns a column it did not declare (so estimates never overwrite measured figures)."""
    values = dict(model.estimate(trace, board))
    undeclared = sorted(set(values) - set(model.estimates))
    if undeclared:
        raise TinyhilError(f"timing model {model.name} {model.version} returned undeclared columns: "
                           f"{', '.join(undeclared)}")
    return {"timing_model": model.name, "timing_model_version": model.version,
            **{column: values.get(column) for column in model.estimates}}
