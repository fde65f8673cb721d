"""When a run's row cannot be stored (disk full, folder gone read-only), it is not lost: the row and
its per-sample series go to one JSON file in the user's state folder (else the temporary folder),
whose path the error names; `tinyhil export --recover FILE` stores it later.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import TinyhilError

FORMAT = "tinyhil-unsaved-run/1"


class StoreWriteError(TinyhilError):
    """A measured run could not be stored; its figures are in a fallback file (exit 1, not 2: the
    input was fine, the run happened, only the storing failed)."""

    exit_code = 1

    def __init__(self, message: str, fallback: Path | None):
        super().__init__(message)
        self.fallback = fallback


def _places() -> list[Path]:
    places = []
    try:
        import platformdirs

        places.append(platformdirs.user_state_path("tinyhil") / "unsaved")
    except ImportError:
        pass
    return [*places, Path(tempfile.gettempdir()) / "tinyhil-unsaved", Path.home()]


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def save_fallback(row: dict, samples: pd.DataFrame | None, results_dir: Path, reason: BaseException) -> Path | None:
    """Write the row and samples to the first place that takes them; None when none does."""
    doc = {
        "format": FORMAT, "results_dir": str(results_dir), "reason": f"{type(reason).__name__}: {reason}",
        "row": {k: _plain(v) for k, v in row.items()},
        "samples": [] if samples is None else [{k: _plain(v) for k, v in rec.items()}
                                                for rec in samples.to_dict(orient="records")],
    }
    text = json.dumps(doc, indent=1)
    name = f"{row.get('attempt_id') or 'run'}.json"
    for place in _places():
        try:
            place.mkdir(parents=True, exist_ok=True)
            path = place / name
            path.write_text(text)
            return path
        except OSError:
            continue
    return None


def store_or_keep(row: dict, samples: pd.DataFrame | None, results_dir: Path) -> None:
    """Append the run to the store; when that fails for any reason (a full disk, a folder gone
    read-only, a row the schema refuses), write the fallback file and raise StoreWriteError naming it."""
    from harness.report.store import append_results

    try:
        append_results([row], results_dir, samples=samples)
    except Exception as e:
        path = save_fallback(row, samples, results_dir, e)
        kept = (f"its row and samples are saved in {path} (`tinyhil export --recover {path}` stores them)"
                if path else "and no fallback file could be written either")
        raise StoreWriteError(f"the run was measured but could not be stored in {results_dir} "
                              f"({type(e).__name__}: {e}); {kept}", path) from e


def load_fallback(path: Path) -> tuple[dict, pd.DataFrame, Path]:
    """(row, samples, the results folder it was meant for) of a fallback file."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise TinyhilError(f"cannot read the unsaved-run file {path}: {e}") from e
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TinyhilError(f"{path} is not an unsaved-run file of tinyhil ({FORMAT})")
    return doc["row"], pd.DataFrame.from_records(doc["samples"]), Path(doc["results_dir"])


def recover(path: Path, results_dir: Path | None = None) -> Path:
    """Store a fallback file's run (once: its attempt_id makes a second import a no-op)."""
    from harness.report.store import append_results, load_results

    row, samples, meant = load_fallback(path)
    target = results_dir or meant
    if row.get("attempt_id") not in set(load_results(target)["attempt_id"].dropna()):
        append_results([row], target, samples=samples if len(samples) else None)
    return target
