"""`tinyhil doctor` and `tinyhil analyze`: what is installed and registered, and what a model is."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from harness.cli.app import Console, print_json
from harness.cli.project import boards_dir_option, use_boards_dirs
from harness.errors import TinyhilError


def doctor() -> None:
    """List the tools tinyhil needs, their versions, and what needs each; exit 0 when the offline path is ready.
    Then every registered engine, target and timing model, and where each came from."""
    from harness.doctor import check_tools, offline_path_ready, registered

    tools = check_tools()
    table = Table(title="tinyhil doctor")
    for col in ("tool", "version", "needed for", "offline path"):
        table.add_column(col)
    for t in tools:
        version = t.version or f"[red]{t.missing}[/red]"
        table.add_row(t.name, version, t.needed_for, "required" if t.required else "optional")
    Console().print(table)
    plugins = Table(title="registered engines, targets and timing models")
    for col in ("kind", "name", "from", "what it is"):
        plugins.add_column(col)
    for item in registered():
        plugins.add_row(item.kind, item.name, item.origin, item.description)
    Console().print(plugins)
    ready = offline_path_ready(tools)
    Console().print("offline path: " + ("[green]ready[/green]" if ready else "[red]not ready[/red]"))
    raise typer.Exit(0 if ready else 1)


def analyze(
    model: Path = typer.Argument(..., help="a .tflite file"),
    board: str | None = typer.Option(None, help="also check the model fits this board (exit 2 if not)"),
    engine: str = typer.Option("builtin", help="builtin | tflm, or a plugin's: the engine whose ops --board checks"),
    optimize: str = typer.Option("speed", help="builtin: the weight layouts --board's fit check counts, speed "
                                 "(int16 copies) | size (int8 only); both modes' flash are shown"),
    estimate: bool = typer.Option(False, "--estimate", help="with --board: run the model once in QEMU and print "
                                  "the timing model's per-layer cycles and ms on that board (an estimate)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Ops, tensors, params, MACs per layer and total; optionally whether it fits a board."""
    settings = use_boards_dirs(boards_dir)
    if estimate:  # -- timing model (harness/timing/layers.py)
        if not board:
            raise TinyhilError("--estimate needs --board: the estimate is for a named board's clock and memory")
        from harness.plugins import ENGINES
        from harness.timing.layers import estimate_layers

        engine_modes = ENGINES.get(engine).modes  # the builtin: speed and size, each estimated
        row, layers = estimate_layers(model, board, engine, optimize=optimize if engine_modes else "speed",
                                      settings=settings)
        # the other modes print totals only: no per-layer pass
        others = {mode: estimate_layers(model, board, engine, optimize=mode, settings=settings, per_layer=False)[0]
                  for mode in engine_modes if mode != optimize}
        summary = ("cycles_est", "latency_ms_est", "energy_uj_est", "deploy_flash_bytes", "deploy_ram_bytes",
                   "weights_in", "weight_layout")
        if as_json:
            print_json({k: row.get(k) for k in ("model", "board", "engine", "optimize", "cycles_est", "latency_ms_est",
                                                 "energy_uj_est", "timing_model", "emulated_on")}
                       | {"layers": layers.to_dict(orient="records") if layers is not None else None}
                       | ({"modes": {m: {k: r.get(k) for k in summary} for m, r in {optimize: row, **others}.items()}}
                          if engine_modes else {}))
            return
        from harness.cli.report import pd_display

        if layers is None:
            print(f"per-layer: the {engine} build has no per-operator events (totals only)")
        else:
            with pd_display():
                print(layers.to_string(index=False))
        print(f"{row['model']} on {board} ({row['engine']} engine): {row['cycles_est']:,.0f} cycles, "
              f"{row['latency_ms_est']:.2f} ms" + (f", {row['energy_uj_est']:.0f} µJ" if row.get("energy_uj_est")
                                                  else "") + f" — an estimate by {row['timing_model']}"
              + (f", run on {row['emulated_on']}'s machine" if row.get("emulated_on") else ""))
        for mode, r in {optimize: row, **others}.items() if engine_modes else ():
            print(f"  --optimize {mode}: {r['cycles_est']:,.0f} est. cycles, {r['latency_ms_est']:.2f} est. ms; "
                  f"deployable {r['deploy_flash_bytes']:,} B flash / {r['deploy_ram_bytes']:,} B RAM "
                  f"({r.get('weight_layout')} weights in {r.get('weights_in')})")
        return
    from harness.model import load_tflite
    from harness.model.analyze import analyze as analyze_model
    from harness.model.analyze import estimate_fit

    tflite = load_tflite(model)
    info = analyze_model(tflite)
    fit = refusal = in_ram = None
    modes: dict[str, int] = {}  # builtin engine: flash of its constants per --optimize mode
    if board:
        from harness.boards import load_board
        from harness.build.baseline import harness_baseline
        from harness.errors import DoesNotFitError, UnsupportedOpsError
        from harness.plugins import ENGINES

        engine_impl = ENGINES.get(engine)  # an unknown name: one error naming the choices
        engine_impl.check_mode(optimize)
        b = load_board(board)
        baseline = harness_baseline(b, settings=settings)
        try:  # what `bench` would refuse, named the way it names it
            engine_impl.check_supported(tflite)
        except UnsupportedOpsError as e:
            refusal = e
        if "size" in engine_impl.modes and refusal is None:  # an engine with the builtin's weight layouts
            from harness.codegen.footprint import constant_bytes_by_mode

            modes = constant_bytes_by_mode(tflite)
        in_ram = _weights_in_ram(tflite, b, baseline, optimize) if modes else None
        fit = estimate_fit(info, b.name, b.flash_bytes, b.ram_bytes, baseline=baseline, model_flash=modes.get(optimize),
                           weights_in_ram=in_ram[1] if in_ram else 0)
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
        print_json(out)
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
    if in_ram:
        Console().print(f"builtin --optimize speed on {b.name}: its flash waits, so the {in_ram[0]} weights "
                        f"({in_ram[1]:,} B) are copied to RAM at reset (counted in the fit check's RAM); "
                        f"`--optimize size` keeps them in flash; `--estimate` gives both modes' estimated ms")
    if fit:
        Console().print(("fits " if fit.fits else "does NOT fit ") + fit.describe())
    if refusal is not None:
        raise refusal


def _weights_in_ram(tflite, board, baseline, optimize: str) -> tuple[str, int] | None:
    """(layout, bytes) of the builtin engine's weights when `optimize` copies them to RAM on `board`."""
    from harness.codegen.placement import place_program, ram_budget, weight_bytes, weight_layout

    if baseline is None:
        return None
    placed = place_program(tflite, optimize, ram_budget(optimize, board, baseline.ram_bytes))
    if placed.weights_in != "ram":
        return None
    return weight_layout(placed), weight_bytes(placed)
