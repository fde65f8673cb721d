"""The most accurate variant that fits a board (or a tighter budget), from measured rows.

What a budget applies to: the *deployable footprint* of each row, `deploy_flash_bytes` (weights +
generated model code + the kernels linked in) and `deploy_ram_bytes` (arena used + engine state +
stack used by one inference), both measured from the built ELF and on the device. The test
firmware's `flash_bytes`/`ram_bytes` also hold the benchmark harness (protocol, timer, the test
inputs bundled into flash, receive buffers, a reserved stack), which a deployed application does not
carry; `--footprint firmware` applies the budget to them instead. The board's own flash/RAM always
caps the budget. Latency: `latency_median` in the row's unit — instructions under an emulator (the
budget is then an instruction count), cycles on silicon (the budget is then ms, against `latency_ms`).

Accuracy is `accuracy_device` on the labelled test split (`test_data.npz`). Variants without a
successful measurement are benchmarked first (a resumable sweep: measured ones are skipped).

The builtin engine's `--optimize` modes (speed: int16 weight copies; size: int8 weights only) are
candidates of their own, named `variant [mode]`: of a variant's modes that fit, the fastest is kept
(speed, unless only size fits the flash budget) and the other is excluded saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from harness.errors import DataError, DoesNotFitError
from harness.pipeline import BenchConfig, run_identity

KIB = 1024
FOOTPRINTS = {"deploy": ("deploy_flash_bytes", "deploy_ram_bytes"), "firmware": ("flash_bytes", "ram_bytes")}


@dataclass(frozen=True)
class Budget:
    flash_bytes: int
    ram_bytes: int
    latency: float | None  # in the rows' unit; ms when the unit is cycles
    footprint: str = "deploy"

    def describe(self) -> str:
        lat = "" if self.latency is None else f", latency ≤ {self.latency:g} (instructions; ms for cycles)"
        return (f"flash ≤ {self.flash_bytes / KIB:g} KiB, RAM ≤ {self.ram_bytes / KIB:g} KiB "
                f"({self.footprint} footprint){lat}")


def make_budget(board, flash_kb: float | None, ram_kb: float | None, latency: float | None,
                footprint: str = "deploy") -> Budget:
    """The board's flash/RAM, tightened by the given KiB figures (a looser one is capped by the board)."""
    if footprint not in FOOTPRINTS:
        raise DataError(f"unknown footprint {footprint!r}; choose one of {', '.join(FOOTPRINTS)}")
    for name, value in (("--flash", flash_kb), ("--ram", ram_kb), ("--latency", latency)):
        if value is not None and value <= 0:
            raise DataError(f"{name} must be positive, got {value:g}")
    flash = board.flash_bytes if flash_kb is None else min(board.flash_bytes, int(flash_kb * KIB))
    ram = board.ram_bytes if ram_kb is None else min(board.ram_bytes, int(ram_kb * KIB))
    return Budget(flash, ram, latency, footprint)


def _latency_check(row: pd.Series, limit: float | None) -> str | None:
    """Why the row misses the latency budget, or None."""
    if limit is None:
        return None
    unit = row.get("unit")
    if unit == "cycles":
        value, shown = row.get("latency_ms"), "ms"
    else:
        value, shown = row.get("latency_median"), str(unit)
    if value is None or pd.isna(value):
        return f"no latency measured in a unit the budget can use ({unit})"
    if float(value) > limit:
        return f"latency {float(value):,.0f} {shown} > {limit:,.0f} {shown}" if shown != "ms" else \
            f"latency {float(value):.3f} ms > {limit:g} ms"
    return None


def judge(row: pd.Series, budget: Budget) -> list[str]:
    """Every reason the measured row misses the budget (empty: it fits)."""
    flash_col, ram_col = FOOTPRINTS[budget.footprint]
    reasons = []
    if pd.isna(row.get("accuracy_device")):
        reasons.append("no device accuracy (unlabelled samples)")
    for column, limit, what in ((flash_col, budget.flash_bytes, "flash"), (ram_col, budget.ram_bytes, "RAM")):
        value = row.get(column)
        if value is None or pd.isna(value):
            reasons.append(f"{what} not measured ({column})")
        elif int(value) > limit:
            reasons.append(f"{what} {int(value) / KIB:.1f} KiB > {limit / KIB:g} KiB ({column})")
    latency = _latency_check(row, budget.latency)
    if latency:
        reasons.append(latency)
    return reasons


def decide(rows: dict[str, pd.Series | str], budget: Budget) -> pd.DataFrame:
    """`rows`: variant → its newest successful row, or the reason it has none. Returns every variant,
    fitting ones first ranked by device accuracy (then smaller flash, RAM, faster), with `excluded_because`."""
    flash_col, ram_col = FOOTPRINTS[budget.footprint]
    records = []
    for variant, row in rows.items():
        if isinstance(row, str):
            records.append({"variant": variant, "fits": False, "excluded_because": f"no successful device run: {row}"})
            continue
        reasons = judge(row, budget)
        records.append({
            "variant": variant, "fits": not reasons, "accuracy_device": row.get("accuracy_device"),
            "flash_bytes_budgeted": row.get(flash_col), "ram_bytes_budgeted": row.get(ram_col),
            "latency_median": row.get("latency_median"), "unit": row.get("unit"),
            "host_mismatches": row.get("host_mismatches"), "run_id": row.get("run_id"),
            "excluded_because": "; ".join(reasons),
        })
    table = pd.DataFrame.from_records(records)
    for column in ("accuracy_device", "flash_bytes_budgeted", "ram_bytes_budgeted", "latency_median"):
        if column not in table:
            table[column] = pd.NA
        table[column] = pd.to_numeric(table[column], errors="coerce")
    table = table.sort_values(["fits", "accuracy_device", "flash_bytes_budgeted", "ram_bytes_budgeted",
                               "latency_median"], ascending=[False, False, True, True, True], na_position="last",
                              kind="stable").reset_index(drop=True)
    table.insert(0, "rank", [i + 1 if fits else pd.NA for i, fits in enumerate(table["fits"])])
    return table


def prefer_fastest_mode(table: pd.DataFrame) -> pd.DataFrame:
    """Of each variant's fitting `[mode]` candidates keep the fastest; exclude the others, saying why."""
    base = table["variant"].str.replace(r" \[\w+\]$", "", regex=True)
    table = table.copy()
    for _variant, group in table[table["fits"]].groupby(base[table["fits"]]):
        if len(group) < 2:
            continue
        best = group["latency_median"].idxmin()
        for i in group.index.drop(best):
            table.loc[i, "fits"] = False
            table.loc[i, "excluded_because"] = f"{table.loc[best, 'variant']} fits too and is faster"
    table = table.sort_values(["fits", "accuracy_device", "flash_bytes_budgeted", "ram_bytes_budgeted",
                               "latency_median"], ascending=[False, False, True, True, True], na_position="last",
                              kind="stable").reset_index(drop=True)
    table["rank"] = [i + 1 if fits else pd.NA for i, fits in enumerate(table["fits"])]
    return table


def measured_rows(configs: list[BenchConfig], results: pd.DataFrame) -> dict[str, pd.Series | str]:
    """Each config's newest successful row by run_id, or the newest failure's error (or 'not run').
    Keyed by variant name, as `variant [mode]` when the configs hold several --optimize modes."""
    from harness.report.transforms import latest_runs

    ok = latest_runs(results)
    out: dict[str, pd.Series | str] = {}
    several_modes = len({cfg.optimize for cfg in configs}) > 1
    for cfg in configs:
        rid = run_identity(cfg)[0].run_id
        name = Path(cfg.model).stem + (f" [{cfg.optimize}]" if several_modes else "")
        hits = ok[ok["run_id"] == rid]
        if len(hits):
            out[name] = hits.iloc[-1]
        else:
            failures = results[results["run_id"] == rid]["error"].dropna()
            out[name] = str(failures.iloc[-1]) if len(failures) else "not run"
    return out


def fit_variants(variants_dir: Path, template: BenchConfig, flash_kb: float | None, ram_kb: float | None,
                 latency: float | None, footprint: str, console,
                 optimize: tuple[str, ...] = ("speed",)) -> tuple[pd.DataFrame, Budget]:
    """Benchmark what is not measured yet (each variant in each of the builtin engine's `optimize`
    modes), then rank. Raises DoesNotFitError when nothing fits (its `table` attribute holds the
    ranked exclusions)."""
    from harness.boards import load_board
    from harness.pipeline.sweep import Shard, expand_models, plan, run_sweep
    from harness.report import load_results

    variants_dir = Path(variants_dir)
    if not variants_dir.is_dir():
        raise DataError(f"no such variants folder: {variants_dir}")
    models = expand_models([variants_dir])  # an empty folder: "holds no .tflite files"
    budget = make_budget(load_board(template.board), flash_kb, ram_kb, latency, footprint)
    data = variants_dir / "test_data.npz"
    if not data.is_file():
        raise DataError(f"{variants_dir}: no test_data.npz with labels (written by `tinyhil compress`): "
                        "ranking by accuracy needs labelled test data")
    modes = optimize if template.engine_impl.modes else (template.optimize,)
    configs = [cfg for mode in dict.fromkeys(modes) for cfg in
               plan(models, [template.board], [template.kernels], replace(template, data=data, optimize=mode))]
    for cfg in configs:
        cfg.validate()
    run_sweep(configs, Shard(1, 1), True, console)
    table = prefer_fastest_mode(decide(measured_rows(configs, load_results(template.results_dir)), budget))
    if not table["fits"].any():
        error = DoesNotFitError(f"no variant in {variants_dir} fits {budget.describe()} on {template.board}")
        error.table, error.budget = table, budget
        raise error
    return table, budget


def format_decision(table: pd.DataFrame, budget: Budget) -> list[str]:
    """Plain lines: the ranked candidates (KiB, the rows' latency unit), then each exclusion and why."""
    lines = [f"budget: {budget.describe()}"]
    fits = table[table["fits"]]
    if len(fits):
        shown = pd.DataFrame({
            "rank": fits["rank"].astype(int), "variant": fits["variant"],
            "accuracy_device": fits["accuracy_device"].map("{:.4f}".format),
            "flash_KiB": (fits["flash_bytes_budgeted"] / KIB).map("{:.1f}".format),
            "ram_KiB": (fits["ram_bytes_budgeted"] / KIB).map("{:.1f}".format),
            "latency": fits["latency_median"].map("{:,.0f}".format), "unit": fits["unit"],
            "host_mismatches": fits["host_mismatches"].astype("Int64"),
        })
        lines += ["candidates that fit, most accurate first:", shown.to_string(index=False)]
    for row in table[~table["fits"]].itertuples():
        lines.append(f"excluded: {row.variant}: {row.excluded_because}")
    return lines
