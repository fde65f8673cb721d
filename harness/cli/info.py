"""`tinyhil doctor` and `tinyhil analyze`: what is installed and registered, and what a model is."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from harness.cli.app import Console, print_json
from harness.cli.project import boards_dir_option, use_boards_dirs


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
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Ops, tensors, params, MACs per layer and total; optionally whether it fits a board."""
    use_boards_dirs(boards_dir)
    from harness.model import load_tflite
    from harness.model.analyze import analyze as analyze_model
    from harness.model.analyze import estimate_fit

    tflite = load_tflite(model)
    info = analyze_model(tflite)
    fit = refusal = None
    if board:
        from harness.boards import load_board
        from harness.build.baseline import harness_baseline
        from harness.errors import DoesNotFitError, UnsupportedOpsError
        from harness.plugins import ENGINES

        engine_impl = ENGINES.get(engine)  # an unknown name: one error naming the choices
        b = load_board(board)
        fit = estimate_fit(info, b.name, b.flash_bytes, b.ram_bytes, baseline=harness_baseline(b))
        try:  # what `bench` would refuse, named the way it names it
            engine_impl.check_supported(tflite)
        except UnsupportedOpsError as e:
            refusal = e
        if not fit.fits:
            refusal = DoesNotFitError(f"{f'{refusal}; and it' if refusal else info.name} does not fit "
                                      f"{fit.describe()} (estimate before building)")
    if as_json:
        out = info.to_dict()
        if fit:
            out["fit"] = {**fit.__dict__, "fits": fit.fits}
            out["unsupported_ops"] = getattr(refusal, "ops", [])  # [] too when it only does not fit
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
    if fit:
        Console().print(("fits " if fit.fits else "does NOT fit ") + fit.describe())
    if refusal is not None:
        raise refusal


