"""`tinyhil compress`: compression variants of a Keras model."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.app import Console


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


