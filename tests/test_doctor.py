import shutil

from harness.doctor import check_tools, offline_path_ready
from harness.settings import Settings


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


def test_doctor_names_each_tflm_tree_or_the_variable_to_set(tmp_path):
    from harness.doctor import tflm_trees

    tree = tmp_path / "tree"
    (tree / "tensorflow/lite/micro").mkdir(parents=True)
    (tree / "tensorflow/lite/micro/micro_interpreter.h").write_text("")
    (tree / "TFLM_COMMIT").write_text("90b983c2b3f1480642e040bbd2ddb37b998f3424\n")
    lines = {t.name: t for t in tflm_trees(Settings(cache_dir=tmp_path / "cache",
                                                    tflm_trees=(("TINYHIL_TFLM_DIR_REFERENCE", str(tree)),)))}
    ref = lines["TFLM tree (reference)"]
    assert ref.present and str(tree) in ref.version and "90b983c2b3f1" in ref.version
    assert "CMSIS-NN not in it" in ref.version and "library not built yet" in ref.version
    cmsis = lines["TFLM tree (cmsis-nn)"]
    assert not cmsis.present and cmsis.missing == "none: set TINYHIL_TFLM_DIR_CMSIS_NN"
