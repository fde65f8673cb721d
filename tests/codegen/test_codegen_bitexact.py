"""Generated models, compiled with the engine for the host, match host TFLM bit for bit, and their
arena plan is no larger than TFLM's activation plan (the head of its arena; on the tiny per-op
models, plus one layer's kernel scratch, which host TFLM's reference kernels do not use)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import random_inputs
from hostbench import build_bench, have_opt_kernels, run_bench

from harness.codegen import generate
from harness.model import load_tflite
from harness.reference import run_tflm, tflm_arena

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not installed")

KERNEL_SETS = [True] + ([False] if have_opt_kernels() else [])
SUPPORTED_TINY = [n for n in __import__("tiny_models").MODELS if n != "tanh"]


def _check(model_path, out_dir, n_samples, seed=1, arena_slack=0, optimize="speed"):
    model = load_tflite(model_path)
    inputs = random_inputs(model.tensor(model.inputs[0]), n_samples, seed)
    expected = run_tflm(model_path, inputs)
    gen = generate(model, out_dir, inputs, name=model.name, optimize=optimize)
    # The reference kernels read the same int8 weights in both modes: checked once, with speed.
    for reference in KERNEL_SETS if optimize == "speed" else [False]:
        got = run_bench(build_bench(gen.dir, reference=reference), inputs, expected.shape[1:], expected.dtype)
        kind = "reference" if reference else f"optimized for {optimize}"
        mismatches = int(np.sum(got != expected))
        assert mismatches == 0, f"{model.name} ({kind} kernels): {mismatches} of {got.size} outputs differ"
    assert len(np.unique(expected)) > 1, "degenerate reference outputs would prove nothing"
    head = tflm_arena(model_path).head_bytes
    assert gen.arena_bytes <= head + arena_slack(gen) if arena_slack else gen.arena_bytes <= head, (
        f"arena plan {gen.arena_bytes} B exceeds TFLM's head {head} B")
    return gen


def _scratch_slack(gen) -> int:
    """Host TFLM's reference kernels need no im2col scratch, the optimized kernels do; on tiny
    models that buffer can exceed everything the overlapped layout saves."""
    return max((layer.scratch_bytes + 15) // 16 * 16 for layer in gen.layers) + 16


@pytest.mark.parametrize("optimize", ["speed", "size"])
@pytest.mark.parametrize("name", SUPPORTED_TINY)
def test_tiny_model_bitexact(name, optimize, tiny_model, tmp_path):
    _check(tiny_model(name), tmp_path, n_samples=12, arena_slack=_scratch_slack, optimize=optimize)


@pytest.mark.slow
@pytest.mark.parametrize("optimize", ["speed", "size"])
@pytest.mark.parametrize("fixture", ["ic_model", "kws_model"])
def test_reference_models_bitexact_and_arena(fixture, optimize, request, tmp_path):
    _check(request.getfixturevalue(fixture), tmp_path, n_samples=20, optimize=optimize)


def test_size_mode_keeps_weights_int8(tiny_model, tmp_path):
    """--optimize size: no widened copy of any weight; the optimized build's constants shrink."""
    model = load_tflite(tiny_model("fc_softmax"))
    speed = generate(model, tmp_path / "speed", None, name="m", optimize="speed")
    size = generate(model, tmp_path / "size", None, name="m", optimize="size")
    text = size.model_c.read_text()
    assert "int16_t" not in text.split("th_model_invoke")[0].replace("int16_t *)", ""), "a widened array in size mode"
    assert ".packed8 = " in text and "Optimized for size" in text
    assert size.weight_bytes < speed.weight_bytes
    assert (size.optimize, speed.optimize) == ("size", "speed")


def test_unknown_optimize_mode_is_refused(tiny_model, tmp_path):
    from harness.errors import TinyhilError

    with pytest.raises(TinyhilError, match="unknown --optimize 'tiny'; choose one of speed, size"):
        generate(load_tflite(tiny_model("fc_softmax")), tmp_path, None, name="m", optimize="tiny")
