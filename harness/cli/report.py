"""`tinyhil report` and `tinyhil check`: figures and tables from the results, and the regression gate."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import Console


def report(
    results: list[Path] = typer.Argument(None, help="results directories (shards of one sweep merge into one "
                                         "table); default: results"),
    out: Path | None = typer.Option(None, help="where the table and figures go (default: the results directory)"),
    results_option: list[Path] = typer.Option(None, "--results", help="a results directory (same as the arguments)"),
    latency: str = typer.Option("measured", help="latency axis: `measured` (cycles as ms, or emulator instructions) "
                                "or `ms-est` (the timing model's latency_ms_est on --board)"),
    board: str | None = typer.Option(None, help="with --latency ms-est: the board whose estimate to draw"),
) -> None:
    """Paper figures and tables from the results: Pareto, memory, memory split, per-layer, engines, comparison
    (.tex + .csv), and index.html showing them all."""
    from harness.errors import DataError
    from harness.report import load_results, summary_table
    from harness.report.build import write_report
    from harness.report.facts import Latency
    from harness.report.paper import merge_tables
    from harness.report.store import export_tables, load_samples_table, write_tables

    choice = Latency(latency, board)
    dirs = [*(results or []), *(results_option or [])] or [Path("results")]
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        raise DataError(f"no results in {missing[0]} (no such directory): run `tinyhil bench` or `tinyhil sweep` "
                        "first")
    table = merge_tables([load_results(d) for d in dirs])
    if table.empty:
        raise DataError(f"no results in {', '.join(map(str, dirs))}: run `tinyhil bench` or `tinyhil sweep` first")
    choice.check(table)
    out = out or dirs[0]
    if len(dirs) > 1 or out.resolve() != dirs[0].resolve():  # the merged table, as one run would have written it
        write_tables(table, out, pd_concat([load_samples_table(d) for d in dirs], key="attempt_id"))
        if len(dirs) > 1:
            Console().print(f"merged {len(dirs)} tables: {len(load_results(out))} rows in {out}")
    else:
        export_tables(out)
    Console().print(f"table: {out / 'results.csv'} and {out / 'results.parquet'} (exports of {out / 'store'})")
    from harness.report.transforms import unperturbed

    Console().print(summary_table(unperturbed(table)))  # perturbed runs: the robustness table
    for item in write_report(table, out, latency=choice, boards=_board_limits(table)):
        Console().print(item.line(), highlight=False, soft_wrap=True)


def _board_limits(table) -> dict[str, tuple[int, int]]:
    """Flash and RAM of each board in the table whose board file is known (no limit line otherwise)."""
    from harness.boards import load_board
    from harness.errors import UnknownBoardError

    limits = {}
    for name in table["board"].dropna().unique():
        try:
            b = load_board(str(name))
            limits[str(name)] = (b.flash_bytes, b.ram_bytes)
        except UnknownBoardError:
            pass
    return limits


def export(
    results: Path | None = typer.Option(None, help="results table directory (default: results, or where the "
                                        "recovered run was meant to go)"),
    recover: list[Path] = typer.Option(None, "--recover", help="first store a run kept in a fallback file "
                                       "(named by the error of a run that could not be stored; repeat)"),
) -> None:
    """Write results.csv, results.parquet and samples.parquet from the results store (its exports)."""
    from harness.report.fallback import recover as recover_run
    from harness.report.store import export_tables

    folder = results
    for path in recover or []:
        folder = recover_run(path, results)
        Console().print(f"stored the run of {path} in {folder}")
    for kind, path in export_tables(folder or Path("results")).items():
        Console().print(f"{kind}: {path}")


def pd_concat(frames, key: str):
    import pandas as pd

    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True).drop_duplicates([key, "sample"]) if frames else pd.DataFrame()


def check(
    baseline: Path = typer.Option(..., help="committed baseline table (.parquet or .csv)"),
    results: Path = typer.Option(Path("results"), help="results table directory"),
    tolerance: float = typer.Option(0.0, help="allowed growth of latency, arena and flash, in percent"),
    update: bool = typer.Option(False, "--update", help="write the newest successful runs as the baseline"),
    summary: Path | None = typer.Option(None, help="append a Markdown summary here (CI: \"$GITHUB_STEP_SUMMARY\")"),
) -> None:
    """Regression gate: compare the newest runs with a baseline by run_id; exit 1 on any regression."""
    from harness.errors import DataError
    from harness.report import latest_runs, load_results
    from harness.report.check import compare, findings_frame, load_baseline, markdown_summary

    table = load_results(results)
    if table.empty:
        raise DataError(f"no results in {results}: nothing to check")
    if update:
        latest_runs(table).to_parquet(baseline, index=False)
        print(f"baseline written: {baseline} ({len(latest_runs(table))} runs)")
        return
    findings = compare(table, load_baseline(baseline), tolerance)
    failing = [f for f in findings if f.fails]
    if findings:
        with pd_display():
            print(findings_frame(findings).to_string(index=False))
    runs = len(latest_runs(load_baseline(baseline)))
    if summary is not None:
        with open(summary, "a") as f:
            f.write(markdown_summary(findings, table, runs, tolerance))
    print(f"{len(failing)} regression(s) in {runs} baseline run(s) at tolerance {tolerance:g} %"
          if failing else f"ok: {runs} baseline run(s), no regression at tolerance {tolerance:g} %")
    raise typer.Exit(1 if failing else 0)


def pd_display():
    import pandas as pd

    return pd.option_context("display.width", 10_000, "display.max_columns", None, "display.max_colwidth", 80)


