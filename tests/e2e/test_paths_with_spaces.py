"""Blanks in paths (issue 10): a model file, the working folder, the cache and the checkout itself, each
with a space in its path, still build and run bit-exact in QEMU (the linker used to get half a map path)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def test_bench_with_spaces_in_every_path(tmp_path, kws_model):
    checkout = tmp_path / "my projects" / "tiny hil"  # the project as a user might have cloned it
    checkout.mkdir(parents=True)
    shutil.copy(REPO / "platformio.ini", checkout)
    for folder in ("boards", "firmware", "harness"):
        shutil.copytree(REPO / folder, checkout / folder, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".pio"))
    work = tmp_path / "a work dir"
    work.mkdir()
    model = shutil.copy(kws_model, work / "my model.tflite")
    cache = tmp_path / "a cache dir"  # builds go to the user cache: a space there too
    env = dict(os.environ, PYTHONPATH=str(checkout), TINYHIL_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-m", "harness.cli", "bench", str(model), "--board", "mps2_an386",
                          "--samples", "2", "--json"], capture_output=True, text=True, cwd=work, env=env,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["model"] == "my model" and row["status"] == "ok"
    assert row["samples"] == 2 and row["host_mismatches"] == 0
    maps = list((cache / "builds").glob("*/pio-build/tinyhil/firmware.map"))
    assert maps, "the map file landed where the flag said, under a path with a space"
