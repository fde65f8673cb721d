"""Session fixtures: link-test firmware built once (mps2_an386), fast and slow variants."""

from __future__ import annotations

import shutil

import pytest
from link_fw import N_SAMPLES, make_model


def require_tools() -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="session")
def link_firmware(tmp_path_factory):
    """build(spin) -> Firmware of the fake model with N_SAMPLES samples, built once per spin."""
    from harness.build import build_firmware

    built = {}

    def build(spin: int = 0):
        require_tools()
        if spin not in built:
            root = tmp_path_factory.mktemp(f"linkfw-{spin}")
            model = make_model(root / "model", N_SAMPLES, spin)
            built[spin] = build_firmware("mps2_an386", model, root / "work")
        return built[spin]

    return build
