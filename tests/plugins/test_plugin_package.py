"""A plugin from another package: built and installed into a temporary environment, then used
from the CLI — an engine wrapping the builtin one and a target launching QEMU its own way."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = Path(__file__).resolve().parent / "example_plugin"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> tuple[Path, dict]:
    """A venv that sees this environment's packages (a .pth adding its site-packages) with the
    example plugin pip-installed into it; and the environment to run it with (this tree first)."""
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    venv = tmp_path_factory.mktemp("plugin-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    own = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip())
    parents = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    (own / "_tinyhil_parent_env.pth").write_text("import site; " + "; ".join(
        f"site.addsitedir({p!r})" for p in dict.fromkeys(parents)) + "\n")
    build = tmp_path_factory.mktemp("plugin-src")
    shutil.copytree(PLUGIN, build / "plugin")
    installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                                "--disable-pip-version-check", "--quiet", str(build / "plugin")],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return python, env


def _cli(python: Path, env: dict, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=900,
                          cwd=cwd, env=env)


def _plugin_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ") and "plugin" in line]


def test_doctor_lists_the_plugins_and_names_the_broken_one(plugin_env, tmp_path):
    python, env = plugin_env
    out = _cli(python, env, "doctor", cwd=tmp_path)
    assert "builtin-copy" in out.stdout and "qemu-launcher" in out.stdout
    assert "tinyhil-example-plugin 0.3.1" in out.stdout and "tinyhil 0.1.0" in out.stdout
    warnings = _plugin_warnings(out.stderr)
    assert len(warnings) == 1 and "'broken'" in warnings[0] and "ModuleNotFoundError" in warnings[0], out.stderr
    assert "Traceback" not in out.stderr


def test_bench_with_the_plugin_engine_and_target_is_bit_exact(plugin_env, tmp_path):
    python, env = plugin_env
    sys.path.insert(0, str(REPO / "tests" / "codegen"))
    from tiny_models import convert

    model = convert("fc_softmax", tmp_path)
    launches = tmp_path / "launches.txt"
    env = dict(env, TINYHIL_EXAMPLE_LAUNCH_LOG=str(launches))
    rows = {}
    for engine, target in (("builtin", "qemu"), ("builtin-copy", "qemu-launcher")):
        out = _cli(python, env, "bench", str(model), "--board", "mps2_an386", "--engine", engine, "--target", target,
                   "--samples", "4", "--json", "--out", str(tmp_path / engine), "--results", str(tmp_path / "results"),
                   cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-3000:]
        assert len(_plugin_warnings(out.stderr)) == 1  # the broken plugin, named once; the run goes on
        rows[engine] = json.loads(out.stdout.strip().splitlines()[-1])
    builtin, plugin = rows["builtin"], rows["builtin-copy"]
    assert (plugin["engine"], plugin["target"]) == ("builtin-copy", "qemu-launcher")
    assert plugin["engine_plugin"] == plugin["target_plugin"] == "tinyhil-example-plugin 0.3.1"
    assert builtin["engine_plugin"] == builtin["target_plugin"] == "tinyhil 0.1.0"
    assert plugin["status"] == "ok" and plugin["host_mismatches"] == 0
    assert plugin["unit"] == "instructions" and plugin["latency_median"] == builtin["latency_median"]
    np.testing.assert_array_equal(np.load(tmp_path / "builtin-copy" / "outputs.npy"),
                                  np.load(tmp_path / "builtin" / "outputs.npy"))
    assert plugin["run_id"] != builtin["run_id"]  # another engine and target: another run
    assert launches.read_text().count("-icount shift=0") == 1  # QEMU came up through the plugin's launcher
