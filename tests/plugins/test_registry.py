"""The registries: names, origins, duplicates, plugins that fail to load, and no name comparisons left."""

from __future__ import annotations

import importlib.metadata
import re
import warnings
from pathlib import Path

import pytest

from harness.engines.builtin import BuiltinEngine
from harness.errors import TinyhilError
from harness.plugins import ENGINES, TARGETS, TIMING_MODELS, DuplicateNameError, PluginLoadWarning, Registry
from harness.plugins.registry import UnknownNameError
from harness.plugins.timing import TimingModel, estimate_columns

HARNESS = Path(__file__).resolve().parents[2] / "harness"


class Renamed(BuiltinEngine):
    name = "renamed"


def _registry(monkeypatch, *entry_points: importlib.metadata.EntryPoint) -> Registry:
    from harness.engines.base import Engine

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [ep for ep in entry_points
                                                                           if ep.group == group])
    return Registry("engine", "tinyhil.engines", Engine, lambda r: r.register(BuiltinEngine()))


def test_the_builtins_are_registered_with_their_origin():
    assert {"builtin", "tflm", "external"} <= set(ENGINES.names())
    assert {"qemu", "renode", "serial", "labgrid"} <= set(TARGETS.names())
    assert ENGINES.origin("builtin").describe().startswith("tinyhil ")
    assert TARGETS.get("qemu").count_units == ("instructions",) and TARGETS.get("serial").count_units == ("cycles",)
    assert not TARGETS.get("labgrid").parallel and TARGETS.get("qemu").parallel
    assert "cm4-trm" in TIMING_MODELS.names() and all(isinstance(m, TimingModel) for m in TIMING_MODELS)


def test_a_duplicate_name_is_an_error_and_an_unknown_one_names_the_choices(monkeypatch):
    registry = _registry(monkeypatch)
    with pytest.raises(DuplicateNameError, match="engine 'builtin' is registered twice"):
        registry.register(BuiltinEngine())
    with pytest.raises(UnknownNameError, match="unknown engine 'onnx'; choose one of builtin"):
        registry.get("onnx")
    with pytest.raises(TinyhilError, match="is not a Engine"):
        registry.register(object())


def test_a_plugin_that_fails_to_load_is_one_warning_and_the_rest_works(monkeypatch):
    good = importlib.metadata.EntryPoint("renamed", f"{__name__}:Renamed", "tinyhil.engines")
    broken = importlib.metadata.EntryPoint("broken", "no_such_module_here:Engine", "tinyhil.engines")
    clash = importlib.metadata.EntryPoint("builtin", "harness.engines.builtin:BuiltinEngine", "tinyhil.engines")
    registry = _registry(monkeypatch, broken, good, clash)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert registry.names() == ("builtin", "renamed")
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginLoadWarning)]
    assert len(messages) == 2, messages
    assert "'broken'" in messages[0] and "ModuleNotFoundError" in messages[0]
    assert "'builtin'" in messages[1] and "registered twice" in messages[1]
    assert registry.origin("renamed").entry_point.endswith(f"renamed = {__name__}:Renamed")


class _Model:
    name, version, estimates = "flat", "1", ("est_cycles",)

    def estimate(self, trace, board):
        return {"est_cycles": 2.0 * trace}


def test_a_timing_model_fills_only_the_columns_it_declares():
    assert isinstance(_Model(), TimingModel)
    assert estimate_columns(_Model(), 10, board=None) == {"timing_model": "flat", "timing_model_version": "1",
                                                          "est_cycles": 20.0}
    sneaky = _Model()
    sneaky.estimate = lambda trace, board: {"latency_median": 1.0}
    with pytest.raises(TinyhilError, match="undeclared columns: latency_median"):
        estimate_columns(sneaky, 10, board=None)
    assert TIMING_MODELS.names() == () or all(isinstance(m, TimingModel) for m in TIMING_MODELS)


# Stages below the CLI ask the registered engine or target; none compares a name itself.
PIPELINE = ("pipeline", "measure", "build", "ci", "experiment.py", "api.py")
NAMES = "|".join(["builtin", "tflm", "external", "qemu", "renode", "serial", "labgrid"])
COMPARISON = re.compile(rf"""(engine|target)\w*\s*(==|!=|\bin\b|\bnot in\b)\s*\(?\s*["']({NAMES})["']""")


def test_no_engine_or_target_name_is_compared_in_the_pipeline():
    files = [p for part in PIPELINE for p in ([HARNESS / part] if part.endswith(".py") else
                                               sorted((HARNESS / part).rglob("*.py")))]
    assert len(files) > 10
    found = [f"{p.relative_to(HARNESS)}:{i}: {line.strip()}" for p in files
             for i, line in enumerate(p.read_text().splitlines(), 1) if COMPARISON.search(line)]
    assert not found, found
    assert COMPARISON.search('if cfg.engine == "tflm":')  # the check itself sees one
