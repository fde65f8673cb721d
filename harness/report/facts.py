"""What a figure says once and what it labels: facts shared by every run go in the title, labels
carry only what differs; and which latency a figure draws (measured, or the timing model's
estimate on a named board), with its unit."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.errors import DataError
from harness.report.transforms import add_derived, engine_set

# The identity of a run as a reader sees it, in the order a label reads.
FACTS = ("model", "method", "engine_set", "board", "target")
_FACT_NAMES = {"model": "model", "method": "method", "engine_set": "engine", "board": "board", "target": "target"}
ESTIMATE_COLUMN = "latency_ms_est"


def with_facts(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` plus `engine_set` (`builtin-optimized`, `builtin-optimized-size`, `tflm-cmsis-nn`, ...) and
    `method` (the compression method of a variant, empty for a plain model)."""
    runs = runs.copy()
    runs["engine_set"] = engine_set(runs)
    method = runs["compress_method"] if "compress_method" in runs else pd.Series(pd.NA, index=runs.index)
    runs["method"] = method.astype("string").fillna("")
    return runs


def shared(runs: pd.DataFrame, facts: tuple[str, ...] = FACTS) -> dict[str, str]:
    """The facts with one value over all `runs` (empty values left out)."""
    out = {}
    for fact in facts:
        values = set(runs[fact].astype("string").fillna("")) if fact in runs else set()
        if len(values) == 1 and (value := values.pop()):
            out[fact] = value
    return out


def varying(runs: pd.DataFrame, facts: tuple[str, ...] = FACTS) -> list[str]:
    """The facts that differ between runs."""
    return [f for f in facts if f in runs and runs[f].astype("string").fillna("").nunique() > 1]


def caption(shared_facts: dict[str, str]) -> str:
    """`board mps2_an386 (qemu), engine builtin-optimized`: the shared facts, once."""
    parts = []
    for fact, value in shared_facts.items():
        if fact == "target":
            continue
        text = f"{_FACT_NAMES[fact]} {value}"
        if fact == "board" and "target" in shared_facts:
            text += f" ({shared_facts['target']})"
        parts.append(text)
    if "board" not in shared_facts and "target" in shared_facts:
        parts.append(f"target {shared_facts['target']}")
    return ", ".join(parts)


def labels(runs: pd.DataFrame, facts: list[str]) -> pd.Series:
    """Each run named by `facts` only (joined with ' / '); a run alike in all of them gets its model."""
    facts = [f for f in facts if not (f == "method" and "model" in facts)  # a variant's name says its method
             and not (f == "target" and "board" in facts)] or ["model"]  # a board runs on one target
    parts = runs[facts].astype("string").fillna("?")
    return parts.apply(lambda r: " / ".join(v for v in r if v), axis=1).astype(str)


@dataclass(frozen=True)
class Latency:
    """Which latency a figure draws: `measured` (cycles, as ms where the clock is known, or emulator
    instructions) or `ms-est` (the timing model's `latency_ms_est` on `board`)."""

    mode: str = "measured"
    board: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("measured", "ms-est"):
            raise DataError(f"--latency {self.mode!r}: use `measured` or `ms-est`")
        if self.mode == "ms-est" and not self.board:
            raise DataError("--latency ms-est needs --board B: the board whose estimate to draw")

    def check(self, table: pd.DataFrame) -> None:
        """Raise `DataError` naming what is missing when the table cannot give this latency."""
        if self.mode != "ms-est":
            return
        if ESTIMATE_COLUMN not in table.columns:
            raise DataError(f"--latency ms-est: the results have no column `{ESTIMATE_COLUMN}` (the timing "
                            "model's estimate); measure with a timing model first, or use --latency measured")
        on_board = table[(table["board"] == self.board) & table[ESTIMATE_COLUMN].notna()]
        if on_board.empty:
            raise DataError(f"--latency ms-est: no run on board {self.board!r} has `{ESTIMATE_COLUMN}`")

    def panels(self, runs: pd.DataFrame) -> list[tuple[pd.DataFrame, pd.Series, str]]:
        """(runs, latency values, axis label) per panel: one per unit (counts in two units are never on
        one axis) for measured latency, one for the estimate."""
        runs = add_derived(runs)
        if self.mode == "ms-est":
            mine = runs[(runs["board"] == self.board) & runs[ESTIMATE_COLUMN].notna()]
            model = ""
            if "timing_model" in mine and mine["timing_model"].notna().any():
                model = f", {', '.join(sorted(set(mine['timing_model'].dropna().astype(str))))}"
            return [(mine, mine[ESTIMATE_COLUMN].astype(float), f"estimated latency (ms{model})")]
        out = []
        for unit in sorted(runs["unit"].dropna().unique()):
            group = runs[runs["unit"] == unit]
            if unit == "cycles" and group["latency_ms"].notna().all():
                out.append((group, group["latency_ms"].astype(float), "latency (ms)"))
            else:
                out.append((group, group["latency_median"].astype(float), f"latency ({unit})"))
        return out
