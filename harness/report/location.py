"""Whether runs can be stored in a results folder, checked before anything is built — with the
standard library only, so the CLI answers before importing pandas, pyarrow or TensorFlow."""

from __future__ import annotations

import uuid
from pathlib import Path

from harness.errors import TinyhilError
from harness.report import durable

STORE_DIR = "store"
_checked: set[Path] = set()


class ResultsLocationError(TinyhilError):
    """The results folder cannot be written (a file of that name, read-only, full)."""


def runs_folder(results_dir: Path) -> Path:
    return Path(results_dir) / STORE_DIR / "runs"


def samples_folder(results_dir: Path) -> Path:
    return Path(results_dir) / STORE_DIR / "samples"


def check_writable(results_dir: str | Path) -> None:
    """Fail now, in words, when runs could not be stored here. (Checked once per folder and process: a
    sweep validates every configuration.) A folder of the old single-table format is migrated by the
    store's first write, once, keeping a backup."""
    results_dir = Path(results_dir)
    if results_dir.resolve() in _checked:
        return
    if results_dir.exists() and not results_dir.is_dir():
        raise ResultsLocationError(f"the results location {results_dir} is a file, not a folder: "
                                   "pass another --results folder or move the file")
    try:
        for folder in (runs_folder(results_dir), samples_folder(results_dir)):
            folder.mkdir(parents=True, exist_ok=True)
        probe = runs_folder(results_dir) / f".probe-{uuid.uuid4().hex[:8]}{durable.PARTIAL_SUFFIX}"
        durable.write_once(probe, lambda p: p.write_bytes(b"tinyhil write probe\n" * 64))
        probe.unlink()
        _checked.add(results_dir.resolve())
    except OSError as e:
        raise ResultsLocationError(f"the results location {results_dir} is not writable: "
                                   f"{e.strerror or e} ({type(e).__name__})") from e

