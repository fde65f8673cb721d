"""What the builtin and TFLM engines tell the build (on a small fake TFLM tree; a real tree is
exercised in tests/e2e/test_tflm_engine.py), and how the pipeline uses what they declare."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.build.tflm_lib import TflmTreeError
from harness.plugins import ENGINES
from harness.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "firmware"))
from test_tflm_lib import make_tree  # noqa: E402 - the fake tree of the TFLM library tests


def test_kernel_sets_and_aliases_are_the_engines_own():
    builtin, tflm = ENGINES.get("builtin"), ENGINES.get("tflm")
    assert builtin.resolve_kernels("reference") == "reference" and tflm.resolve_kernels("optimized") == "cmsis-nn"
    assert builtin.firmware_engine == "builtin" and not ENGINES.get("external").builds_firmware
    assert builtin.persistent_arena_bytes == 0 and tflm.persistent_arena_bytes is None
    assert "CONV_2D" in builtin.supported_ops() and "TANH" in tflm.supported_ops()
    build = builtin.prepare_build(load_board("mps2_an386"), "optimized", Path("."), Settings())
    assert build.env == {"TINYHIL_ENGINE": "builtin"} and all(d.name == "engine" for d in build.source_dirs)
    assert build == builtin.reuse_build(build.stamp, Settings())


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_tflm_brings_its_tree_into_the_build_the_cache_key_and_the_memory_split(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "ref", cmsis_nn=False)
    monkeypatch.setenv("TINYHIL_TFLM_DIR_REFERENCE", str(tree))
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "tflm_ops.h").write_text("X(AddSoftmax)\n")
    tflm, board = ENGINES.get("tflm"), load_board("mps2_an386")
    settings = replace(Settings.from_environ(), tflm_build_timeout_s=120)  # what the edge read, handed down
    facts = tflm.cache_facts(board, "reference", settings)
    assert facts["engine"] == "tflm" and facts["tflm_tree"][:2] == [str(tree.resolve()), "90b983c"]
    with pytest.raises(TflmTreeError, match="set TINYHIL_TFLM_DIR_REFERENCE"):
        tflm.cache_facts(board, "reference", Settings())  # the variable is set, but only the edge reads it
    build = tflm.prepare_build(board, "reference", model_dir, settings)
    assert (tmp_path / "cache" / "tflm-lib").is_dir()  # the library went to the settings' user cache
    assert build.env == {"TINYHIL_ENGINE": "tflm", "TINYHIL_TFLM_TREE": str(tree.resolve())}
    assert tree.resolve() in build.source_dirs  # the tree's compile units are the engine's
    assert build.columns["tflm_commit"] == "90b983c" and build.columns["tflm_lib_cached"] is False
    reused = tflm.reuse_build(json.loads(json.dumps(build.stamp)), settings)  # as a cached build's build.json keeps it
    assert reused.env == build.env and reused.source_dirs == build.source_dirs
    assert reused.columns == {**build.columns, "tflm_lib_cached": True}
