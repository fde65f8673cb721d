"""The review's questions: `tinyhil sensitivity`, `robustness` and `fit`."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import Console, console, print_json


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
        print_json(result.summary() | {"files": paths, "layers": result.table.to_dict(orient="records")})
        return
    summary = result.summary()
    Console().print(f"{result.model} on {result.data} ({result.test_samples} test samples): top-1 keras "
                    f"{summary['accuracy_keras']:.4f}, float tflite {result.accuracy_float_tflite:.4f}, "
                    f"int8 {result.accuracy_int8:.4f}, int16x8 {result.accuracy_int16x8:.4f}")
    shown = result.table.assign(tensor=result.table["tensor"].str.split(";").str[0])
    typer.echo(shown.drop(columns=["scale", "zero_point"]).to_string(index=False))  # unwrapped, for logs
    for kind, path in paths.items():
        Console().print(f"{kind}: {path}")


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
    from harness.pipeline import BenchConfig
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
    from harness.errors import DoesNotFitError
    from harness.pipeline import BenchConfig
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
        print_json({"budget": budget.describe(), "chosen": chosen["variant"],
                     "table": table.to_dict(orient="records")})
        return
    typer.echo("\n".join(format_decision(table, budget)))
    typer.echo(f"chosen: {chosen['variant']} (device accuracy {chosen['accuracy_device']:.4f}, "
               f"{chosen['flash_bytes_budgeted'] / 1024:.1f} KiB flash, {chosen['ram_bytes_budgeted'] / 1024:.1f} KiB "
               f"RAM, {chosen['latency_median']:,.0f} {chosen['unit']} per inference, on {board})")


