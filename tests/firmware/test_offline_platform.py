"""`pio run` works from a fresh copy of the project with an empty PlatformIO core and no network."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_fw import FAKE_MODEL, require_build_tools

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _no_network_prefix() -> list[str]:
    """`unshare -rn` (a user + network namespace with no interfaces) where the kernel allows it."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


def test_fresh_checkout_builds_offline(tmp_path):
    require_build_tools()
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "platformio.ini", project)
    shutil.copytree(REPO / "boards", project / "boards")
    shutil.copytree(REPO / "firmware", project / "firmware", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    core = tmp_path / "empty-core"
    env = dict(os.environ, PLATFORMIO_CORE_DIR=str(core), TINYHIL_MODEL_DIR=str(FAKE_MODEL),
               TINYHIL_BOARD="mps2_an386", PLATFORMIO_SETTING_ENABLE_TELEMETRY="No")
    for name in ("PLATFORMIO_BUILD_DIR", "PLATFORMIO_PACKAGES_DIR", "PLATFORMIO_PLATFORMS_DIR",
                 "PLATFORMIO_BOARDS_DIR"):
        env.pop(name, None)
    result = subprocess.run(
        [*_no_network_prefix(), sys.executable, "-m", "platformio", "run", "-e", "tinyhil"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (project / ".pio" / "build" / "tinyhil" / "program.elf").is_file()
    # the platform registered its own tool-scons and toolchain links inside the workspace
    assert (project / ".pio" / "packages" / "tool-scons.pio-link").is_file()
    assert (project / ".pio" / "packages" / "toolchain-gccarmnoneeabi.pio-link").is_file()


def test_missing_model_dir_is_explained(tmp_path):
    require_build_tools()
    env = dict(os.environ, PLATFORMIO_BUILD_DIR=str(tmp_path), TINYHIL_BOARD="mps2_an386")
    env.pop("TINYHIL_MODEL_DIR", None)
    result = subprocess.run([sys.executable, "-m", "platformio", "run", "-e", "tinyhil", "-d", str(REPO)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "TINYHIL_MODEL_DIR is not set" in result.stdout + result.stderr
