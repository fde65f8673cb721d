"""Report transforms: pure DataFrame -> DataFrame functions (inputs are never modified)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from harness.report.schema import EMULATOR_UNIT, RUN_KEYS, UNITS_WITH_MS

MEMORY_COLUMNS = ("flash_bytes", "ram_bytes", "arena_bytes", "tflm_arena_bytes", "tflm_arena_head_bytes")


def add_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Fill `latency_ms` (cycles at clock_hz) and `instructions_per_mac` where they are missing."""
    df = df.copy()
    if df.empty:
        return df
    latency = pd.to_numeric(df["latency_median"], errors="coerce").astype("float64")
    clock = pd.to_numeric(df["clock_hz"], errors="coerce").astype("float64")
    macs = pd.to_numeric(df["macs"], errors="coerce").astype("float64")
    unit = df["unit"].astype("string")
    cycles = unit.isin(UNITS_WITH_MS).fillna(False).to_numpy(bool)
    instructions = (unit == EMULATOR_UNIT).fillna(False).to_numpy(bool)
    ms = np.where(cycles & (clock > 0), latency / clock * 1e3, np.nan)
    per_mac = np.where(instructions & (macs > 0), latency / macs, np.nan)
    df["latency_ms"] = df["latency_ms"].fillna(pd.Series(ms, index=df.index))
    df["instructions_per_mac"] = df["instructions_per_mac"].fillna(pd.Series(per_mac, index=df.index))
    return df


def successful(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that produced measurements (no `error`)."""
    return df[df["error"].isna()].copy()


def unperturbed(df: pd.DataFrame) -> pd.DataFrame:
    """Runs on unperturbed inputs: a robustness study's perturbed runs (`perturb_clean_run_id` set) are
    left out, so they are not drawn as variants of their own."""
    if "perturb_clean_run_id" not in df.columns:
        return df.copy()
    return df[df["perturb_clean_run_id"].isna()].copy()


def failed(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["error"].notna()].copy()


def latest_runs(df: pd.DataFrame, keys: tuple[str, ...] = RUN_KEYS, *, include_failed: bool = False) -> pd.DataFrame:
    """The newest successful row per run (`run_id`; table order breaks timestamp ties: later wins).
    A later failed attempt never hides a good one; `include_failed` keeps runs that never succeeded
    (their newest attempt), so a report can list them."""
    if df.empty:
        return df.copy()
    ordered = df.assign(_order=np.arange(len(df))).sort_values(["timestamp", "_order"], na_position="first")
    ok = ordered[ordered["error"].isna()]
    newest = ok.groupby(list(keys), dropna=False, sort=False).tail(1)
    if include_failed:
        never_ok = ordered[~ordered.set_index(list(keys)).index.isin(newest.set_index(list(keys)).index)]
        newest = pd.concat([newest, never_ok.groupby(list(keys), dropna=False, sort=False).tail(1)])
    return newest.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def engine_set(df: pd.DataFrame) -> pd.Series:
    """Each run's engine and kernel set, `engine[-kernels][-size]` (`builtin-optimized`,
    `builtin-optimized-size`, `tflm-cmsis-nn`): the builtin engine's size mode is its own series,
    speed (the default) is not named."""
    kernels = df["kernels"].astype("string").fillna("") if "kernels" in df else pd.Series("", index=df.index)
    engine = df["engine"].astype("string").fillna("?") + kernels.map(lambda k: f"-{k}" if k else "")
    if "optimize" in df.columns:
        engine = engine + df["optimize"].astype("string").fillna("").map(lambda m: "-size" if m == "size" else "")
    return engine


def run_label(df: pd.DataFrame) -> pd.Series:
    """Short readable name of each run: `model / engine[-kernels][-size] @ board (target)`. Two runs with
    the same label (models that share a file name) get the start of their run_id added."""
    engine = engine_set(df)
    where = df["board"].astype("string").fillna("?") + " (" + df["target"].astype("string").fillna("?") + ")"
    label = df["model"].astype("string").fillna("?") + " / " + engine + " @ " + where
    if "run_id" in df.columns:
        ids = df["run_id"].astype("string")
        clash = label.groupby(label).transform(lambda g: ids[g.index].nunique(dropna=False) > 1)
        label = label.where(~clash.astype(bool), label + " [" + ids.str.slice(0, 8).fillna("?") + "]")
    return label


def pareto_front(df: pd.DataFrame, latency: str = "latency_median",
                 accuracy: str = "accuracy_device") -> pd.DataFrame:
    """Add `on_pareto_front`: no other run of the same unit is at least as fast and as accurate
    while strictly better in one of the two. Latencies in different units are never compared."""
    df = df.copy()
    df["on_pareto_front"] = False
    for _, group in df.dropna(subset=[latency, accuracy]).groupby("unit"):
        x = group[latency].to_numpy(float)
        y = group[accuracy].to_numpy(float)
        dominated = (
            (x[None, :] <= x[:, None]) & (y[None, :] >= y[:, None])
            & ((x[None, :] < x[:, None]) | (y[None, :] > y[:, None]))
        ).any(axis=1)
        df.loc[group.index[~dominated], "on_pareto_front"] = True
    return df


def memory_long(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, memory kind) with `bytes`: flash, RAM, arena and the TFLM arena figures."""
    present = [c for c in MEMORY_COLUMNS if c in df.columns]
    wide = df.assign(run=run_label(df))[["run", *present]]
    long = wide.melt(id_vars="run", var_name="memory", value_name="bytes").dropna(subset=["bytes"])
    long["memory"] = long["memory"].str.removesuffix("_bytes")
    return long.reset_index(drop=True)


def per_layer_long(df: pd.DataFrame) -> pd.DataFrame:
    """Unpack `per_layer_json`: one row per (run, layer) with index, name, op, macs, count, unit and
    the timing model's cycles_est (None where the run has no estimate)."""
    rows = []
    for _, run in df.dropna(subset=["per_layer_json"]).iterrows():
        for position, layer in enumerate(json.loads(run["per_layer_json"])):
            rows.append({
                "run": run_label(run.to_frame().T).iloc[0],
                "model": run["model"],
                "unit": run["unit"],
                "index": int(layer.get("index", position)),
                "name": str(layer.get("name", f"layer{position}")),
                "op": str(layer.get("op", layer.get("type", "?"))),
                "macs": layer.get("macs"),
                "count": layer.get("count"),
                "cycles_est": layer.get("cycles_est"),  # the timing model's, where the run had it
            })
    columns = ["run", "model", "unit", "index", "name", "op", "macs", "count", "cycles_est"]
    return pd.DataFrame(rows, columns=columns)
