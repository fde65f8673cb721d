"""The firmware's frame parser and command decoder, built for the host with ASan + UBSan, on
malformed frames (a bounded count here; benchmarks/fuzz.py runs 100k)."""

import pytest
from fuzz_build import build, compiler, run


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    if not compiler():
        pytest.skip("gcc is not installed (host build of the firmware parser)")
    return build(tmp_path_factory.mktemp("fuzz") / "fuzz_fw")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parser_and_commands_survive_malformed_frames(fuzzer, seed):
    result = run(fuzzer, 5000, seed, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr
    stats = dict(item.split("=") for item in result.stdout.split())
    assert int(stats["commands"]) > 100 and int(stats["resyncs"]) > 100  # it did reach the decoder


@pytest.fixture(scope="module")
def mlperf_fuzzer(tmp_path_factory):
    if not compiler():
        pytest.skip("gcc is not installed (host build of the firmware parser)")
    return build(tmp_path_factory.mktemp("fuzz") / "fuzz_mlperf", "mlperf")


@pytest.mark.parametrize("seed", [1, 2])
def test_runner_protocol_parser_survives_mangled_commands(mlperf_fuzzer, seed):
    result = run(mlperf_fuzzer, 5000, seed, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr
    stats = dict(item.split("=") for item in result.stdout.split())
    # every '%' got its m-ready (checked inside), and many commands were refused or answered by name
    assert int(stats["errors"]) > 1000 and int(stats["probes"]) > 100


@pytest.mark.parametrize("parser", ["framed", "mlperf"])
def test_libfuzzer_finds_nothing_in_either_parser(tmp_path, parser):
    """Coverage-guided (libFuzzer) on raw bytes, with ASan + UBSan and each file's property as an abort."""
    from fuzz_build import build_libfuzzer, libfuzzer_compiler, run_libfuzzer

    if not libfuzzer_compiler():
        pytest.skip("clang with libFuzzer is not installed (Debian: apt install clang libfuzzer-14-dev "
                    "libclang-rt-14-dev)")
    result = run_libfuzzer(build_libfuzzer(tmp_path / f"libfuzz_{parser}", parser), 20000, 1, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000 runs" in result.stderr and "ERROR" not in result.stderr
