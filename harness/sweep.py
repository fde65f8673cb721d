"""Sweeps: models × boards × kernels, one bench run each, resumable and shardable.

Resumable: a configuration that already has a successful row in the results table is skipped, so
an interrupted sweep picks up where it stopped. Shardable: `--shard 2/4` runs every fourth
configuration starting at the second, so four machines (or processes) share one sweep and append
to one table (the store locks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from harness.bench import BenchConfig, run_bench
from harness.errors import DataError, TinyhilError


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError as e:
            raise DataError(f"--shard must look like 2/4, got {text!r}") from e
        if not 1 <= index <= count:
            raise DataError(f"--shard {text}: the index must be between 1 and {max(count, 1)}")
        return cls(index, count)

    def take(self, items: list) -> list:
        return items[self.index - 1 :: self.count]


def expand_models(paths: Iterable[Path]) -> list[Path]:
    """Model files, with each directory standing for the .tflite files in it (sorted)."""
    models: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.tflite"))
            if not found:
                raise DataError(f"{path} holds no .tflite files")
            models += found
        elif path.is_file():
            models.append(path)
        else:
            raise DataError(f"no such model file or directory: {path}")
    return models


def plan(models: list[Path], boards: list[str], kernels: list[str], template: BenchConfig) -> list[BenchConfig]:
    """Every (model, board, kernels) configuration, in a stable order (shards depend on it)."""
    return [replace(template, model=m, board=b, kernels=k) for m in models for b in boards for k in kernels]


def _done(results_dir: Path | None) -> set[tuple]:
    from harness.report import load_results

    if results_dir is None:
        return set()
    table = load_results(results_dir)
    ok = table[table["error"].isna() & table["latency_median"].notna()]
    return {tuple(r) for r in ok[["model", "board", "target", "engine", "kernels"]].itertuples(index=False)}


def _key(cfg: BenchConfig) -> tuple:
    return (Path(cfg.model).stem, cfg.board, cfg.target, cfg.engine, cfg.kernels)


def run_sweep(configs: list[BenchConfig], shard: Shard, resume: bool, console: Console) -> list[dict]:
    """Run this shard's configurations; a failing one is recorded and the sweep goes on."""
    mine = shard.take(configs)
    done = _done(configs[0].results_dir) if resume and configs else set()
    rows = []
    for number, cfg in enumerate(mine, 1):
        label = f"[{number}/{len(mine)}] {Path(cfg.model).name} on {cfg.board} ({cfg.kernels})"
        if _key(cfg) in done:
            console.log(f"{escape(label)}: already in the results table, skipped")
            continue
        console.log(escape(label))
        try:
            rows.append(run_bench(cfg, console=console))
        except TinyhilError as e:  # run_bench has recorded the failed row; keep sweeping
            console.log(f"{escape(label)}: [red]failed[/red]: {escape(str(e))}")
            rows.append(e.row)
    return rows
