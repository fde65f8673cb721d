"""Impossible parameters fail fast, with a message naming the parameter, before any training."""

import pytest

from harness.compress import InvalidParameterError, Settings, compress_command
from harness.compress.params import ChannelPruneParams, ClusterParams, DistillParams, LowRankParams, PruneParams
from harness.errors import TinyhilError


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PruneParams(final_sparsity=1.0), "final_sparsity"),
        (lambda: PruneParams(final_sparsity=1.5), "final_sparsity"),
        (lambda: PruneParams(final_sparsity=-0.1), "final_sparsity"),
        (lambda: PruneParams(0.5, initial_sparsity=0.6), "initial_sparsity"),
        (lambda: PruneParams(0.5, begin_step=10, end_step=5), "end_step"),
        (lambda: ChannelPruneParams(1.0), "fraction"),
        (lambda: ChannelPruneParams(0.0), "fraction"),
        (lambda: LowRankParams(0), "rank"),
        (lambda: LowRankParams(-3), "rank"),
        (lambda: ClusterParams(1), "clusters"),
        (lambda: DistillParams(alpha=1.5), "alpha"),
        (lambda: DistillParams(temperature=0), "temperature"),
        (lambda: Settings(io="uint8"), "io"),
    ],
)
def test_impossible_parameters(build, message):
    with pytest.raises(InvalidParameterError, match=message):
        build()


def test_errors_are_tinyhil_errors():
    assert issubclass(InvalidParameterError, TinyhilError)


def test_unknown_parameter_named():
    with pytest.raises(InvalidParameterError, match="sparsty"):
        Settings.from_dict({"sparsty": 0.5})


def test_command_rejects_sparsity_one_before_training(tmp_path):
    with pytest.raises(InvalidParameterError, match="final_sparsity"):
        compress_command(None, "prune", None, "digits", tmp_path, 0, {"sparsity": 1.0})
    assert not (tmp_path / "variants.csv").exists()


def test_command_needs_exactly_one_of_method_or_recipe(tmp_path):
    with pytest.raises(InvalidParameterError, match="exactly one"):
        compress_command(None, None, None, "digits", tmp_path, 0, {})
    with pytest.raises(InvalidParameterError, match="exactly one"):
        compress_command(None, "prune", "all", "digits", tmp_path, 0, {})
    with pytest.raises(InvalidParameterError, match="unknown method"):
        compress_command(None, "magic", None, "digits", tmp_path, 0, {})
