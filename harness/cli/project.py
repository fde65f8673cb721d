"""Commands for using tinyhil in the user's own repository: `boards`, `init`, `ci github`, and the
`--boards-dir` option the board-reading commands share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from harness.output import OutputConsole as Console

if TYPE_CHECKING:
    from harness.settings import Settings

BOARDS_DIR_HELP = "a folder of your own board files (repeat); before $TINYHIL_BOARDS_DIR, ./boards and the shipped ones"


def boards_dir_option():
    return typer.Option(None, "--boards-dir", help=BOARDS_DIR_HELP)


def use_boards_dirs(dirs: list[Path] | None) -> Settings:
    """The settings of this command (the edge of the program): the environment's and --boards-dir,
    read once; the board folders are installed for every board lookup, and the settings are passed on."""
    from harness.boards import use_boards_dirs as apply
    from harness.errors import UnknownBoardError
    from harness.settings import Settings

    missing = [d for d in dirs or () if not Path(d).is_dir()]
    if missing:
        raise UnknownBoardError(f"--boards-dir {missing[0]} is not a folder")
    settings = Settings.from_environ(boards_dirs=dirs or ())
    apply(settings.boards_dirs)
    return settings


def register(app: typer.Typer, ci_app: typer.Typer) -> None:
    app.command("boards")(boards)
    app.command("init")(init)
    ci_app.command("github")(ci_github)


def boards(
    show: str | None = typer.Option(None, "--show", help="print this board's file (a start for your own)"),
    boards_dir: list[Path] = boards_dir_option(),
    as_json: bool = typer.Option(False, "--json", help="print one JSON list on stdout"),
) -> None:
    """Every board: where its file came from, clock, memory, which emulators model it, whether it flashes."""
    from harness.boards import board_catalog, load_board

    use_boards_dirs(boards_dir)
    if show:
        typer.echo(load_board(show).manifest.read_text(), nl=False)
        return
    rows = []
    for name, path, source, overridden in board_catalog():
        b = load_board(name)
        emulators = [e for e, modelled in (("qemu", b.qemu_machine), ("renode", b.renode_platform)) if modelled]
        rows.append({"board": name, "source": source, "file": str(path), "overrides": [str(p) for p in overridden],
                     "clock_mhz": b.clock_hz / 1e6, "flash_kib": b.flash_bytes / 1024, "ram_kib": b.ram_bytes / 1024,
                     "emulators": emulators, "flash_with": b.upload_protocol, "counts": b.cycle_counter})
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="tinyhil boards (first file of a name wins)")
    for col in ("board", "from", "clock", "flash", "RAM", "emulated by", "flashed with", "file"):
        table.add_column(col, justify="right" if col in ("clock", "flash", "RAM") else "left")
    for r in rows:
        file = r["file"] + (f" (overrides {', '.join(r['overrides'])})" if r["overrides"] else "")
        table.add_row(r["board"], r["source"], f"{r['clock_mhz']:g} MHz", f"{r['flash_kib']:,.0f} KiB",
                      f"{r['ram_kib']:,.0f} KiB", ", ".join(r["emulators"]) or "none",
                      r["flash_with"] or "(emulator only)", file)
    Console().print(table)


def init(
    folder: Path = typer.Argument(Path("."), help="the folder to make a tinyhil project (default: here)"),
    model: list[Path] = typer.Option(None, "--model", help=".tflite to bench in CI (repeat; default: every "
                                     ".tflite in the folder)"),
    board: str = typer.Option("mps2_an386", help="the board of the example experiment and the CI workflow"),
    tinyhil: str | None = typer.Option(None, help="pip requirement CI installs tinyhil from (default: the one this "
                                       "tinyhil was installed from)"),
    force: bool = typer.Option(False, "--force", help="overwrite files that exist"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Make a folder a tinyhil project: example experiment, boards/ with a README, CI workflow, .gitignore."""
    from harness.init_project import init_project

    use_boards_dirs(boards_dir)
    report = init_project(folder, models=model or [], board=board, tinyhil=tinyhil, force=force)
    out = Console()
    for path in report.written:
        out.print(f"wrote {path}")
    for path in report.kept:
        out.print(f"kept {path} (exists; --force overwrites)")
    for note in report.notes:
        out.print(f"note: {note}")


def ci_github(
    model: list[str] = typer.Option(..., "--model", help=".tflite path in your repository (repeat for several)"),
    board: list[str] = typer.Option(..., "--board", help="board to bench on every emulator that models it (repeat)"),
    baseline: str = typer.Option("results/baseline.parquet", help="committed baseline for tinyhil check"),
    samples: int = typer.Option(10, help="samples per run"),
    data: str | None = typer.Option(None, help=".npz of samples in your repository"),
    tolerance: float = typer.Option(0.0, help="allowed growth in percent (0: emulator counts are deterministic)"),
    shards: int = typer.Option(1, help="jobs per board x emulator"),
    tinyhil: str | None = typer.Option(None, help="pip requirement CI installs tinyhil from: a version pin, a "
                                       "wheel inside the repository, a git URL (default: the one this tinyhil was "
                                       "installed from)"),
    out: Path | None = typer.Option(None, help="workflow file (default: .github/workflows/tinyhil.yml of the "
                                    "repository)"),
    boards_dir: list[Path] = boards_dir_option(),
) -> None:
    """Write a GitHub Actions workflow: a job per board x emulator in debian:bookworm, then merge, report, gate."""
    from harness.ci.write import write_github_workflow

    use_boards_dirs(boards_dir)
    path, notes = write_github_workflow(model, board, baseline=baseline, samples=samples, tolerance=tolerance,
                                        tinyhil=tinyhil, shards=shards, data=data, out=out)
    Console().print(f"wrote {path}")
    for note in notes:
        Console().print(f"note: {note}")
