"""`tinyhil init`: turn the user's folder into a tinyhil project, never overwriting a file unless forced.

It writes an example experiment (`tinyhil.toml`), an empty `boards/` with a README of a board file's
fields, the CI workflow (when there is a model to bench), and the `.gitignore` lines for what runs leave
behind. Existing files are kept and named; `.gitignore` only gains the lines it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXPERIMENT = """\
# A tinyhil experiment: `tinyhil sweep tinyhil.toml`. Paths are relative to this file.
[experiment]
name = "{name}"
models = [{models}]   # .tflite files or folders of them
boards = ["{board}"]
targets = ["qemu"]    # qemu | renode | serial | labgrid
engines = ["builtin"]
kernels = ["optimized"]
samples = 10
results = "results"
# data = "test.npz"   # x (and y labels); without it, random inputs in the model's input range
"""

BOARDS_README = """\
# Your boards

A board is one JSON file here, `<board id>.json`; tinyhil finds it by that id (`--board <id>`), before its
shipped boards of the same name (`tinyhil boards` lists every board and where it came from). Start from a
shipped one: `tinyhil boards --show nucleo_l4r5zi > boards/myboard.json`.

The file is a PlatformIO board manifest (`name`, `url`, `vendor`, `build.cpu` = `cortex-m4`; `upload.protocol`
and `build.hwids` for a physical board) plus a `tinyhil` section:

| field | meaning |
|---|---|
| `soc` | driver family: `cmsdk`, `stm32f4`, `stm32l4`, `nrf52`, `kinetis_k` |
| `clock_hz` | core clock the firmware configures |
| `clock` | SoC clock inputs, e.g. `{"source": "hse", "hse_hz": 8000000}` |
| `memory.flash`, `memory.ram` | `origin` and `size` in bytes (hex strings allowed) |
| `uart` | `name`, `base`, `baud`, `tx`/`rx` pins, `af` (pin mux), `vcp` (on the probe's USB) |
| `cycle_counter` | `dwt` (cycles) or `systick` |
| `qemu` | `machine` and `systick_hz` when QEMU models the board |
| `renode` | `platform` (a .repl) and `uart` when Renode models it |
| `rx_max` | largest command frame the firmware accepts |

A file that is not valid is refused with one `error:` line naming the file and the field.
"""

GITIGNORE_LINES = ("# tinyhil: results (the committed baseline excepted) and run outputs",
                   "results/*", "!results/baseline.parquet", "robot/", ".pio/")


@dataclass
class InitReport:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _write(path: Path, text: str, force: bool, report: InitReport) -> None:
    if path.exists() and not force:
        report.kept.append(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    report.written.append(path)


def find_models(folder: Path) -> list[Path]:
    """The .tflite files of the folder, outside what runs leave behind."""
    skip = {"results", "robot", ".git", ".venv", "node_modules", ".pio"}
    return sorted(p for p in folder.rglob("*.tflite") if not skip & set(p.relative_to(folder).parts))


def init_project(folder: Path, *, models: list[Path], board: str, tinyhil: str | None, force: bool,
                 samples: int = 10) -> InitReport:
    from harness.boards import load_board
    from harness.ci.write import prepare_workflow

    folder = folder.resolve()
    report = InitReport()
    load_board(board)  # an unknown board, a model outside the repository... are refused before anything is written
    models = [Path(m) for m in models] or find_models(folder)
    workflow = folder / ".github" / "workflows" / "tinyhil.yml"
    workflow_text = None
    if models and (force or not workflow.exists()):
        workflow_text, _root, notes = prepare_workflow([str(m) for m in models], [board],
                                                       baseline=str(folder / "results" / "baseline.parquet"),
                                                       samples=samples, tolerance=0.0, tinyhil=tinyhil, start=folder)
        report.notes += notes
    listed = ", ".join(f'"{m.resolve().relative_to(folder).as_posix()}"' for m in models
                       if m.resolve().is_relative_to(folder))
    _write(folder / "tinyhil.toml", EXPERIMENT.format(name=folder.name, models=listed or '"model.tflite"',
                                                      board=board), force, report)
    _write(folder / "boards" / "README.md", BOARDS_README, force, report)
    _append_gitignore(folder / ".gitignore", report)
    if not models:
        report.notes.append("no .tflite in this folder yet: add one, then `tinyhil ci github --model M --board "
                            f"{board}` writes the CI workflow")
    elif workflow_text is None:
        report.kept.append(workflow)
    else:
        _write(workflow, workflow_text, True, report)
    return report


def _append_gitignore(path: Path, report: InitReport) -> None:
    existing = path.read_text().splitlines() if path.is_file() else []
    missing = [line for line in GITIGNORE_LINES if line not in existing]
    if not missing:
        report.kept.append(path)
        return
    text = path.read_text() if path.is_file() else ""
    path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(missing) + "\n")
    report.written.append(path)
