"""Results folders of the old format (one `results.parquet` + `results.csv` + `samples.parquet`
rewritten on every run): read as they are, and migrated into the fragment store once, on the
first write, after a backup copy of the old files.

`store/legacy.json` marks a folder as migrated (or as never having had old files); from then on
`results.csv` / `results.parquet` are exports and are never read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.report import durable

if TYPE_CHECKING:
    import pandas as pd

MARKER = Path("store") / "legacy.json"
FILES = ("results.parquet", "results.csv", "samples.parquet")


def _old_files(results_dir: Path) -> list[Path]:
    if (results_dir / MARKER).exists():
        return []
    return [results_dir / name for name in FILES if (results_dir / name).is_file()]


def read_table(results_dir: Path) -> pd.DataFrame | None:
    """The old-format table of a folder not migrated yet (None otherwise). A damaged Parquet file
    is named in a warning and the CSV kept beside it is read instead."""
    import pandas as pd
    files = {p.name: p for p in _old_files(results_dir)}
    if "results.parquet" in files:
        try:
            return pd.read_parquet(files["results.parquet"])
        except Exception as e:  # pyarrow raises several kinds for a damaged file
            durable.warn_unreadable(files["results.parquet"], e)
    if "results.csv" in files:
        try:
            return pd.read_csv(files["results.csv"])
        except Exception as e:
            durable.warn_unreadable(files["results.csv"], e)
    return None


def read_samples(results_dir: Path) -> pd.DataFrame | None:
    import pandas as pd

    files = {p.name: p for p in _old_files(results_dir)}
    if "samples.parquet" not in files:
        return None
    try:
        return pd.read_parquet(files["samples.parquet"])
    except Exception as e:
        durable.warn_unreadable(files["samples.parquet"], e)
        return None


def migrate(results_dir: Path, append: Callable) -> Path | None:
    """Move an old-format folder's rows and samples into the store (once); return the backup folder.
    Safe to run from several processes at once: every name it writes is derived from the old files'
    content, so a second migrator finds the work done and adds nothing."""
    results_dir = Path(results_dir)
    marker = results_dir / MARKER
    if marker.exists():
        return None
    old = _old_files(results_dir)
    backup = None
    if old:
        digest = hashlib.sha256()
        for path in old:
            digest.update(path.name.encode() + path.read_bytes())
        key = digest.hexdigest()[:16]
        backup = results_dir / f"backup-before-store-{key}"
        _back_up(old, backup)
        import pandas as pd

        from harness.report.frame import normalize

        table, samples = read_table(results_dir), read_samples(results_dir)
        if table is not None and len(table):
            table = normalize(table)
            if table["attempt_id"].isna().any():  # rows older than attempt ids: stable ids from the content
                table.loc[table["attempt_id"].isna(), "attempt_id"] = [
                    f"legacy-{key[:8]}-{i}" for i in table.index[table["attempt_id"].isna()]]
            append(results_dir, table, samples, key=f"{durable.SEGMENT_PREFIX}legacy-{key}",
                   order=pd.Series(range(-len(table), 0), index=table.index))
    marker.parent.mkdir(parents=True, exist_ok=True)
    note = {"backup": backup.name if backup else None, "files": [p.name for p in old]}
    durable.write_once(marker, lambda p: p.write_text(json.dumps(note) + "\n"))
    return backup


def _back_up(files: list[Path], backup: Path) -> None:
    backup.mkdir(exist_ok=True)
    for path in files:
        copy = backup / path.name
        if copy.exists():
            continue
        durable.write_once(copy, lambda tmp, src=path: shutil.copyfile(src, tmp))
        os.utime(copy, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
