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
