"""Bad input as a new user gives it (issue 10): each ends in one `error:` line and exit 2, refused
before anything is built or run, and a refused bench run is still a row in the results table."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from harness import cli
from harness.build.baseline import HarnessBaseline
from harness.errors import DataError
from harness.inputs import load_samples
from harness.model import load_tflite
from harness.output import OutputConsole
from harness.report import load_results

REPO = Path(__file__).resolve().parents[1]


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`tinyhil ARGS` in this process (the imports are paid once): exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["tinyhil", *args])
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # leave pytest's own handlers alone
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code or 0, out, err


def assert_one_error_line(code: int, err: str, *fragments: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def with_op_replaced(src: Path, dst: Path, old: str, new: str) -> Path:
    """A copy of a .tflite with every `old` opcode turned into `new` (same tensors, a different op)."""
    import tflite

    buf = bytearray(src.read_bytes())
    model = tflite.Model.GetRootAsModel(buf, 0)
    old_code, new_code = getattr(tflite.BuiltinOperator, old), getattr(tflite.BuiltinOperator, new)
    replaced = 0
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        if code.BuiltinCode() != old_code:
            continue
        table = code._tab
        deprecated, builtin = table.Offset(4), table.Offset(10)  # fields 0 (int8) and 3 (int32)
        assert deprecated and builtin, "both opcode fields are stored in the MLPerf Tiny models"
        buf[table.Pos + deprecated] = new_code
        buf[table.Pos + builtin:table.Pos + builtin + 4] = new_code.to_bytes(4, "little")
        replaced += 1
    assert replaced
    dst.write_bytes(bytes(buf))
    return dst


# --- --data files that are not what they should be -------------------------------------------------

def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 32, 32, 3), np.int8), y=np.zeros(0, np.int64))
    (tmp_path / "text.npz").write_text("x,y\n1,2\n")
    (tmp_path / "nothing.npz").write_bytes(b"")
    np.save(tmp_path / "x.npy", np.zeros((2, 32, 32, 3), np.int8))
    return {
        "zero samples": (tmp_path / "empty.npz", ("x holds no samples", "(0, 32, 32, 3)")),
        "not a zip": (tmp_path / "text.npz", ("is not an .npz file (not a zip archive)", "np.savez")),
        "empty file": (tmp_path / "nothing.npz", ("is not an .npz file (empty)",)),
        "a .npy": (tmp_path / "x.npy", ("is a .npy file", "np.savez")),
        "missing": (tmp_path / "nope.npz", ("cannot read", "No such file")),
    }


@pytest.mark.parametrize("case", ["zero samples", "not a zip", "empty file", "a .npy", "missing"])
def test_bad_data_files_are_named(tmp_path, ic_model, case):
    path, fragments = _bad_files(tmp_path)[case]
    with pytest.raises(DataError) as err:
        load_samples(load_tflite(ic_model), path, None)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_bad_data_files_end_in_one_error_line_and_a_row(tmp_path, ic_model, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = _bad_files(tmp_path)
    for case in ("zero samples", "not a zip", "a .npy"):
        path, fragments = files[case]
        code, out, err = run_main(monkeypatch, capsys, "bench", str(ic_model), "--board", "mps2_an386",
                                  "--data", str(path), "--results", str(tmp_path / "results"))
        assert_one_error_line(code, err, *fragments)
        assert out == ""
    rows = load_results(tmp_path / "results")  # the refusals are kept, with their reasons
    assert list(rows["status"]) == ["failed"] * 3 and rows["error"].str.startswith("DataError: ").all()
    assert not (tmp_path / "build").exists()  # refused before building anything


# --- float data the model cannot take -----------------------------------------------------------------

def test_nan_and_inf_are_refused_and_counted(tmp_path, kws_model, ic_model):
    x = np.zeros((3, 50, 10, 1), np.float32)
    x[0, 0, 0, 0] = x[2, 3, 4, 0] = np.nan
    x[1, 1, 1, 0] = -np.inf
    np.savez(tmp_path / "d.npz", x=x)
    for model in (kws_model, ic_model):  # a float input, and an int8 input fed float data to quantize
        if model == ic_model:
            x2 = np.zeros((2, 32, 32, 3), np.float64)
            x2[1, 5, 5, 1] = np.inf
            np.savez(tmp_path / "d.npz", x=x2)
        with pytest.raises(DataError) as err:
            load_samples(load_tflite(model), tmp_path / "d.npz", None)
        expected = "2 NaN and 1 inf value(s) among its 1,500" if model == kws_model else "1 inf value(s)"
        assert expected in str(err.value)
    x[:] = 0.5
    np.savez(tmp_path / "d.npz", x=x)
    assert load_samples(load_tflite(kws_model), tmp_path / "d.npz", 2).x.shape == (2, 1, 50, 10, 1)


def test_nan_limited_to_the_samples_sent(tmp_path, kws_model):
    x = np.zeros((3, 50, 10, 1), np.float32)
    x[2, 0, 0, 0] = np.nan  # the third sample only: --samples 2 never sends it
    np.savez(tmp_path / "d.npz", x=x)
    assert load_samples(load_tflite(kws_model), tmp_path / "d.npz", 2).x.shape[0] == 2
    with pytest.raises(DataError, match="1 NaN value"):
        load_samples(load_tflite(kws_model), tmp_path / "d.npz", None)


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.bool_])
def test_integer_data_for_a_float_model_is_refused(tmp_path, kws_model, dtype):
    np.savez(tmp_path / "d.npz", x=np.ones((2, 50, 10, 1), dtype))
    with pytest.raises(DataError) as err:
        load_samples(load_tflite(kws_model), tmp_path / "d.npz", None)
    assert f"x is {np.dtype(dtype)}, the model input is float32" in str(err.value)
    assert "expected floating-point samples (float32)" in str(err.value)


def test_float_data_still_converts(tmp_path, kws_model):
    np.savez(tmp_path / "d.npz", x=np.full((2, 50, 10, 1), 0.25, np.float64))
    s = load_samples(load_tflite(kws_model), tmp_path / "d.npz", None)
    assert s.x.dtype == np.float32 and float(s.x.max()) == 0.25


def test_float_data_cli_refusals(tmp_path, kws_model, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    x = np.zeros((2, 50, 10, 1), np.float32)
    x[0, 0, 0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", x=x)
    np.savez(tmp_path / "i32.npz", x=np.zeros((2, 50, 10, 1), np.int32))
    for name, fragment in (("nan.npz", "x holds 1 NaN value(s)"), ("i32.npz", "x is int32, the model input is "
                                                                             "float32")):
        code, _, err = run_main(monkeypatch, capsys, "bench", str(kws_model), "--board", "mps2_an386",
                                "--data", str(tmp_path / name), "--results", str(tmp_path / "results"))
        assert_one_error_line(code, err, fragment)
    assert not (tmp_path / "build").exists()


# --- numbers on the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["--samples", "0"], "--samples must be at least 1, got 0"),
    (["--samples", "-3"], "--samples must be at least 1, got -3"),
    (["--timeout", "0"], "--timeout must be a number of seconds > 0, got 0"),
    (["--timeout", "-5"], "--timeout must be a number of seconds > 0, got -5"),
    (["--timeout", "nan"], "--timeout must be a number of seconds > 0, got nan"),
])
def test_impossible_numbers_are_refused(tmp_path, ic_model, monkeypatch, capsys, args, fragment):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(monkeypatch, capsys, "bench", str(ic_model), "--board", "mps2_an386", *args,
                              "--results", str(tmp_path / "results"))
    assert_one_error_line(code, err, fragment)
    assert not (tmp_path / "build").exists() and out == ""


def test_sweep_refuses_samples_zero(tmp_path, ic_model, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(monkeypatch, capsys, "sweep", str(ic_model), "--samples", "0", "--timeout", "1")
    assert_one_error_line(code, err, "--samples must be at least 1, got 0")


def test_samples_zero_without_data_is_not_ten(ic_model):
    with pytest.raises(DataError, match="at least 1, got 0"):
        load_samples(load_tflite(ic_model), None, 0)
    assert load_samples(load_tflite(ic_model), None, None).x.shape[0] == 10  # the default is for "not given"


# --- analyze --board on a model bench would refuse ----------------------------------------------------

@pytest.fixture
def baseline(monkeypatch):
    """A stand-in for the board's measured harness baseline (measuring it is a firmware build)."""
    facts = {"flash_bytes": 20_000, "ram_bytes": 8_000}
    monkeypatch.setattr("harness.build.baseline.harness_baseline",
                        lambda board, *a, **k: HarnessBaseline(board.name, facts["flash_bytes"], facts["ram_bytes"],
                                                          "test"))
    return facts


def test_analyze_board_names_the_missing_ops(tmp_path, ic_model, monkeypatch, capsys, baseline):
    tanh = with_op_replaced(ic_model, tmp_path / "tanh.tflite", "SOFTMAX", "TANH")
    code, out, err = run_main(monkeypatch, capsys, "analyze", str(tanh), "--board", "mps2_an386")
    assert_one_error_line(code, err, "op not supported yet: TANH")
    assert "fits mps2_an386" in out  # the analysis itself is still printed
    code, out, err = run_main(monkeypatch, capsys, "analyze", str(tanh), "--board", "mps2_an386", "--json")
    assert_one_error_line(code, err, "op not supported yet: TANH")
    import json

    report = json.loads(out)
    assert report["unsupported_ops"] == ["TANH"] and report["fit"]["fits"] is True
    code, out, err = run_main(monkeypatch, capsys, "analyze", str(tanh))  # no board: a plain analysis
    assert code == 0 and "error" not in err


def test_analyze_board_exits_2_when_it_does_not_fit(tmp_path, ic_model, monkeypatch, capsys, baseline):
    code, out, _ = run_main(monkeypatch, capsys, "analyze", str(ic_model), "--board", "mps2_an386")
    assert code == 0 and "fits mps2_an386" in out
    baseline["flash_bytes"] = 4 * 1024 * 1024  # the harness alone fills the board's flash
    code, out, err = run_main(monkeypatch, capsys, "analyze", str(ic_model), "--board", "mps2_an386")
    assert_one_error_line(code, err, "mlperf_tiny_ic_resnet8_int8 does not fit mps2_an386: flash",
                          "of 4,194,304 B")
    assert "does NOT fit" in out
    tanh = with_op_replaced(ic_model, tmp_path / "tanh.tflite", "SOFTMAX", "TANH")
    code, _, err = run_main(monkeypatch, capsys, "analyze", str(tanh), "--board", "mps2_an386")
    assert_one_error_line(code, err, "op not supported yet: TANH; and it does not fit mps2_an386")


def test_analyze_board_shows_both_optimize_modes_and_fits_the_chosen_one(ic_model, monkeypatch, capsys, baseline):
    import json

    code, out, _ = run_main(monkeypatch, capsys, "analyze", str(ic_model), "--board", "mps2_an386", "--json")
    modes = json.loads(out)["builtin_constant_bytes"]
    assert set(modes) == {"speed", "size"} and modes["size"] < 0.7 * modes["speed"]
    # a board whose flash holds the size mode's constants but not the speed mode's
    baseline["flash_bytes"] = 4 * 1024 * 1024 - (modes["size"] + modes["speed"]) // 2
    code, out, err = run_main(monkeypatch, capsys, "analyze", str(ic_model), "--board", "mps2_an386")
    assert_one_error_line(code, err, "does not fit mps2_an386: flash")
    assert "builtin --optimize size: weights + constants" in out
    analyze = ("analyze", str(ic_model), "--board", "mps2_an386", "--optimize")
    code, out, _ = run_main(monkeypatch, capsys, *analyze, "size")
    assert code == 0 and "fits mps2_an386" in out
    code, _, err = run_main(monkeypatch, capsys, *analyze, "x")
    assert_one_error_line(code, err, "unknown --optimize 'x'")


# --- tables into a pipe -----------------------------------------------------------------------------

ROW = {"model": "mlperf_tiny_kws_dscnn_variant_pruned_50", "board": "nucleo_l4r5zi", "target": "qemu",
       "engine": "builtin", "kernels": "optimized", "unit": "instructions", "latency_median": 4_123_456,
       "arena_bytes": 12_345, "tflm_arena_bytes": 22_333, "flash_bytes": 57_796, "ram_bytes": 60_580,
       "host_mismatches": 0, "samples": 3}


def _rendered(console: Console) -> str:
    from harness.report.console import print_rows

    print_rows([ROW], console=console)
    return console.file.getvalue()


def test_results_table_is_not_cut_off_a_terminal():
    text = _rendered(OutputConsole(file=io.StringIO()))  # a file: not a terminal, no COLUMNS to ask
    assert "…" not in text
    for cell in ("mlperf_tiny_kws_dscnn_variant_pruned_50", "nucleo_l4r5zi", "builtin-optimized",
                 "4,123,456 instructions", "TFLM arena B", "mismatches"):
        assert cell in text
    assert max(len(line) for line in text.splitlines()) > 80
    # In a terminal of 80 columns rich's layout is kept (this is what a pipe got before).
    squeezed = _rendered(OutputConsole(file=io.StringIO(), force_terminal=True, width=80, color_system=None))
    assert "…" in squeezed and max(len(line) for line in squeezed.splitlines()) <= 80


def test_analyze_table_through_a_pipe(kws_model, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "harness.cli", "analyze", str(kws_model)], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "…" not in out.stdout
    assert "DEPTHWISE_CONV_2D" in out.stdout and "input (1, 50, 10, 1) float32 -> output (1, 12) float32" in out.stdout
    ops_line = next(line for line in out.stdout.splitlines() if line.startswith("ops: "))
    assert ops_line.rstrip().endswith("}")  # one line, not wrapped at 80 columns
