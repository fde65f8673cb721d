"""A session fixture building the firmware once per board with the hand-written fake model."""

from __future__ import annotations

import pytest
from fake_fw import FAKE_MODEL, require_build_tools


@pytest.fixture(scope="session")
def fake_firmware(tmp_path_factory):
    """build(board) -> Firmware, built once per board per test session."""
    from harness.build import build_firmware

    built = {}

    def build(board: str):
        require_build_tools()
        if board not in built:
            built[board] = build_firmware(board, FAKE_MODEL, tmp_path_factory.mktemp(f"fw-{board}"))
        return built[board]

    return build
