"""Experiment files: parsed once, bad entries refused with the TOML line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.experiment import ExperimentError, configurations, load_experiment
from harness.pipeline import BenchConfig

GOOD = """\
[experiment]
name = "t"
models = ["m.tflite"]
boards = ["mps2_an386", "netduinoplus2"]
kernels = ["optimized", "reference"]
samples = 3
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "m.tflite").write_bytes(b"x")
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


def test_a_good_experiment_expands_to_every_configuration(tmp_path):
    exp = load_experiment(_write(tmp_path, GOOD))
    configs = configurations(exp, BenchConfig(model=Path("."), board="x"))
    assert len(configs) == 4 and {c.samples for c in configs} == {3}
    assert [(c.board, c.kernels) for c in configs][:2] == [("mps2_an386", "optimized"), ("mps2_an386", "reference")]
    assert all(c.results_dir == tmp_path / "results" for c in configs)  # relative to the file


@pytest.mark.parametrize("replace, line, words", [
    ('boards = ["mps2_an386", "netduinoplus2"]', 4, "no_such_board"),
    ('kernels = ["optimized", "reference"]', 5, "unknown kernel 'fastest'"),
    ("samples = 3", 6, "whole number >= 1"),
    ('models = ["m.tflite"]', 3, "no such model file or folder"),
])
def test_a_bad_entry_is_refused_naming_its_line(tmp_path, replace, line, words):
    bad = {
        'boards = ["mps2_an386", "netduinoplus2"]': 'boards = ["mps2_an386", "no_such_board"]',
        'kernels = ["optimized", "reference"]': 'kernels = ["optimized", "fastest"]',
        "samples = 3": "samples = 0",
        'models = ["m.tflite"]': 'models = ["missing.tflite"]',
    }[replace]
    path = _write(tmp_path, GOOD.replace(replace, bad))
    with pytest.raises(ExperimentError) as error:
        load_experiment(path)
    assert str(error.value).startswith(f"{path}:{line}:") and words in str(error.value)


def test_unknown_keys_tables_and_broken_toml(tmp_path):
    with pytest.raises(ExperimentError, match=r":7: speed: unknown entry"):
        load_experiment(_write(tmp_path, GOOD + "speed = 2\n"))
    with pytest.raises(ExperimentError, match=r"unknown table \[extra\]"):
        load_experiment(_write(tmp_path, GOOD + "[extra]\nx = 1\n"))
    with pytest.raises(ExperimentError, match="not valid TOML"):
        load_experiment(_write(tmp_path, GOOD + "samples = = 3\n"))
    with pytest.raises(ExperimentError, match="needs exactly one of recipe or method"):
        load_experiment(_write(tmp_path, GOOD + "[compress]\ndata = 'digits'\n"))


def test_the_shipped_examples_parse():
    root = Path(__file__).resolve().parents[1] / "experiments"
    examples = sorted(root.glob("*.toml"))
    assert examples
    for path in examples:
        if "shared/models" in path.read_text() and not (root.parent.parent / "shared" / "models").is_dir():
            continue  # its models are the CI's, not a user's machine's
        load_experiment(path)


def test_the_protocol_is_an_entry(tmp_path):
    exp = load_experiment(_write(tmp_path, GOOD + 'protocol = "mlperf"\n'))
    assert {c.protocol for c in configurations(exp, BenchConfig(model=Path("."), board="x"))} == {"mlperf"}
    with pytest.raises(ExperimentError, match=r":7: protocol: must be one of tinyhil, mlperf, got 'ascii'"):
        load_experiment(_write(tmp_path, GOOD + 'protocol = "ascii"\n'))


def test_a_labgrid_place_and_coordinator_are_entries(tmp_path):
    text = GOOD + 'targets = ["labgrid"]\nplace = "bench-3"\ncoordinator = "127.0.0.1:20408"\n'
    configs = configurations(load_experiment(_write(tmp_path, text)), BenchConfig(model=Path("."), board="x"))
    assert {(c.target, c.place, c.coordinator) for c in configs} == {("labgrid", "bench-3", "127.0.0.1:20408")}
    with pytest.raises(ExperimentError, match=r":7: place: must be a non-empty string, got 3"):
        load_experiment(_write(tmp_path, GOOD + "place = 3\n"))
