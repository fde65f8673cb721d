import shutil

from harness.doctor import check_tools, offline_path_ready


def test_doctor_reports_real_versions():
    tools = {t.name: t for t in check_tools()}
    assert set(tools) >= {"arm-none-eabi-gcc", "platformio", "qemu-system-arm", "renode"}
    gcc = tools["arm-none-eabi-gcc"]
    assert (gcc.version is not None) == (shutil.which("arm-none-eabi-gcc") is not None)
    if gcc.present:
        assert "arm-none-eabi-gcc" in gcc.version


def test_missing_required_tool_means_not_ready(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # hides the Debian toolchain and QEMU
    tools = check_tools()
    assert not {t.name: t for t in tools}["qemu-system-arm"].present
    assert not offline_path_ready(tools)


def test_renode_test_without_version_flag_counts_as_present(tmp_path, monkeypatch):
    """renode-test exits 2 on --version; doctor probes it with --help instead."""
    fake = tmp_path / "renode-test"
    fake.write_text('#!/bin/sh\n[ "$1" = "--help" ] && exit 0\nexit 2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("TINYHIL_RENODE_TEST", str(fake))
    assert {t.name: t for t in check_tools()}["renode-test"].version == f"runs (no --version): {fake}"
    fake.write_text("#!/bin/sh\nexit 2\n")  # one that does not run at all is missing
    assert not {t.name: t for t in check_tools()}["renode-test"].present
