"""The regression gate for CI: the newest successful runs against a committed baseline, by run_id.

A run regresses when its device output stops matching host TFLM, its accuracy drops, or its
latency, arena or flash grows beyond the tolerance (percent; emulator counts are deterministic,
so 0 is usable). A baseline run that was not measured is a failure too: the gate cannot vouch for
it. A baseline run whose model file changed (same model name, board, target, engine, kernels, samples:
another run_id) is compared with the new run, and the change of file is named. Counts made with another
compiler or emulator version are not compared at all: that is an error (exit 2), not a regression.
Pure DataFrame -> list of findings; the CLI prints them as a table and sets the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import DataError
from harness.report.store import normalize
from harness.report.transforms import latest_runs, run_label

# Figures that must not grow beyond the tolerance (a smaller figure is an improvement). `cycles_est`
# (the timing model's, deterministic) is compared only between runs timed by the same model version.
GROWTH_FIGURES = ("latency_median", "arena_bytes", "flash_bytes", "deploy_flash_bytes", "deploy_ram_bytes",
                  "cycles_est")
# What makes counts comparable: the same compiler and the same emulator.
TOOL_COLUMNS = ("toolchain_version", "qemu_version", "renode_version")
# A run's configuration without its content hashes: finds the run a changed model file became.
CONFIG_KEYS = ("model", "board", "target", "engine", "kernels", "optimize", "samples", "per_layer", "protocol")
CONTENT_KEYS = ("model_sha256", "input_sha256", "board_sha256")


@dataclass(frozen=True)
class Finding:
    run_id: str
    run: str  # readable label
    figure: str
    baseline: object
    current: object
    verdict: str  # "regression" | "missing" | "improved" | "changed"

    @property
    def fails(self) -> bool:
        return self.verdict in ("regression", "missing")


def load_baseline(path: Path) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"baseline {path} does not exist (write one with `tinyhil check --update`)")
    try:
        table = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    except Exception as e:  # pyarrow and pandas raise many kinds for a file that is not a table
        raise DataError(f"baseline {path} is not a results table: {e}") from e
    if "run_id" not in table.columns:
        raise DataError(f"baseline {path} has no run_id column: not a tinyhil results table")
    return normalize(table)


def compare(current: pd.DataFrame, baseline: pd.DataFrame, tolerance_pct: float = 0.0) -> list[Finding]:
    """Every difference between the newest successful runs and the baseline's, by run_id."""
    if tolerance_pct < 0:
        raise DataError(f"--tolerance must be >= 0 percent, got {tolerance_pct:g}")
    base = latest_runs(baseline).set_index("run_id")
    now = latest_runs(current).set_index("run_id")
    pairs, findings = [], []
    for run_id, old in base.iterrows():
        label = run_label(old.to_frame().T).iloc[0]
        new = now.loc[run_id] if run_id in now.index else _same_configuration(old, now)
        if new is None:
            findings.append(Finding(run_id, label, "run", "measured", "not measured", "missing"))
            continue
        pairs.append((run_id, label, old, new))
    check_same_tools(pairs)
    for run_id, label, old, new in pairs:
        for key in CONTENT_KEYS:  # the same configuration on another file: say which file changed
            if _known(old.get(key)) and _known(new.get(key)) and old[key] != new[key]:
                findings.append(Finding(run_id, label, key, str(old[key])[:12], str(new[key])[:12], "changed"))
        findings += _compare_run(run_id, label, old, new, tolerance_pct)
    return findings


def _same_configuration(old: pd.Series, now: pd.DataFrame) -> pd.Series | None:
    """The one current run with the baseline run's configuration (content hashes aside), if exactly one."""
    keys = [k for k in CONFIG_KEYS if k in now.columns and _known(old.get(k))]
    if now.empty or not keys:
        return None
    match = now
    for key in keys:
        match = match[match[key].astype("string") == str(old[key])]
    return match.iloc[0] if len(match) == 1 else None


def check_same_tools(pairs: list) -> None:
    """Refuse (DataError, exit 2) to compare counts made with different compilers or emulators."""
    differences = []
    for _run_id, label, old, new in pairs:
        for column in TOOL_COLUMNS:
            a, b = old.get(column), new.get(column)
            if _known(a) and _known(b) and a != b:
                differences.append(f"{label}: {column} {a} in the baseline, {b} now")
    if differences:
        more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
        raise DataError("the baseline's counts were made with other tools, so they cannot be compared: "
                        + "; ".join(differences[:3]) + more + ". Make the baseline with the tools CI uses "
                        "(Debian 12: GCC 12.2, QEMU 7.2; the workflow's container), or rewrite it with --update")


def _compare_run(run_id: str, label: str, old: pd.Series, new: pd.Series, tolerance_pct: float) -> list[Finding]:
    out = []
    if _known(new.get("host_mismatches")) and int(new["host_mismatches"]) > int(_or(old.get("host_mismatches"), 0)):
        out.append(Finding(run_id, label, "host_mismatches", old.get("host_mismatches"), new["host_mismatches"],
                           "regression"))
    if _known(old.get("accuracy_device")) and _known(new.get("accuracy_device")):
        if float(new["accuracy_device"]) < float(old["accuracy_device"]):
            out.append(Finding(run_id, label, "accuracy_device", old["accuracy_device"], new["accuracy_device"],
                               "regression"))
    if _known(old.get("unit")) and old.get("unit") != new.get("unit"):
        out.append(Finding(run_id, label, "unit", old["unit"], new.get("unit"), "regression"))
        return out  # counts in different units cannot be compared
    models = old.get("timing_model"), new.get("timing_model")
    remodelled = all(_known(m) for m in models) and models[0] != models[1]
    if remodelled:  # another model (or version): another figure, not a regression
        out.append(Finding(run_id, label, "timing_model", *models, "changed"))
    for figure in GROWTH_FIGURES:
        if figure == "cycles_est" and remodelled:
            continue
        a, b = old.get(figure), new.get(figure)
        if not (_known(a) and _known(b)) or float(a) == float(b):
            continue
        limit = float(a) * (1 + tolerance_pct / 100)
        verdict = "regression" if float(b) > limit else ("improved" if float(b) < float(a) else "changed")
        out.append(Finding(run_id, label, figure, a, b, verdict))
    return out


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


def _or(value, default):
    return value if _known(value) else default


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    rows = [{"run_id": f.run_id, "run": f.run, "figure": f.figure, "baseline": f.baseline, "current": f.current,
             "change": _change(f), "verdict": f.verdict} for f in findings]
    return pd.DataFrame(rows, columns=["run_id", "run", "figure", "baseline", "current", "change", "verdict"])


def _change(f: Finding) -> str:
    try:
        a, b = float(f.baseline), float(f.current)
    except (TypeError, ValueError):
        return ""
    return f"{(b - a) / a * 100:+.3f} %" if a else f"{b - a:+,.0f}"


def markdown_summary(findings: list[Finding], current: pd.DataFrame, baseline_runs: int,
                     tolerance_pct: float) -> str:
    """The gate's verdict, its findings and the runs compared, as Markdown (for `$GITHUB_STEP_SUMMARY`)."""
    failing = [f for f in findings if f.fails]
    at = f"in {baseline_runs} baseline run(s) at tolerance {tolerance_pct:g} %"
    verdict = f"**{len(failing)} regression(s)** {at}" if failing else f"**ok**: no regression {at}"
    lines = ["## tinyhil regression gate", "", verdict, ""]
    if findings:
        lines += ["| run | figure | baseline | now | change | verdict |", "|---|---|--:|--:|--:|---|"]
        lines += [f"| {f.run} | {f.figure} | {_cell(f.baseline)} | {_cell(f.current)} | {_change(f)} | "
                  f"{f.verdict} |" for f in findings]
        lines.append("")
    runs = latest_runs(current)
    if len(runs):
        columns = ("model", "board", "target", "engine", "kernels", "latency_median", "unit", "arena_bytes",
                   "flash_bytes", "host_mismatches")
        lines += ["### Runs", "", "| model | board | target | engine | kernels | latency (median) | unit | "
                  "arena (B) | flash (B) | host mismatches |", "|---|---|---|---|---|--:|---|--:|--:|--:|"]
        lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for _, r in runs.iterrows()]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if not _known(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
