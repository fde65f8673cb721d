"""Parameters of each technique, one frozen dataclass each, checked when built."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import InvalidParameterError, UnsupportedModelError  # noqa: F401  (re-exported)


def _fraction(name: str, value: float, allow_zero: bool = True) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value < 1.0):
        bound = "0 ≤" if allow_zero else "0 <"
        raise InvalidParameterError(f"{name} must satisfy {bound} {name} < 1, got {value}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise InvalidParameterError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True)
class FineTune:
    """Fine-tuning budget after a model surgery (epochs over the training set)."""

    epochs: int = 4
    learning_rate: float = 1e-3
    batch_size: int = 32

    def __post_init__(self):
        if self.epochs < 1:
            raise InvalidParameterError(f"epochs must be ≥ 1, got {self.epochs}")
        _positive("learning_rate", self.learning_rate)
        if self.batch_size < 1:
            raise InvalidParameterError(f"batch_size must be ≥ 1, got {self.batch_size}")


@dataclass(frozen=True)
class PruneParams:
    """Polynomial-decay magnitude pruning. Steps default to the fine-tune length (None)."""

    final_sparsity: float = 0.5
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int | None = None  # None: 70 % of the fine-tune steps
    frequency: int | None = None  # None: chosen so that end_step is a pruning step

    def __post_init__(self):
        _fraction("final_sparsity", self.final_sparsity)
        _fraction("initial_sparsity", self.initial_sparsity)
        if self.initial_sparsity > self.final_sparsity:
            raise InvalidParameterError("initial_sparsity must not exceed final_sparsity")
        if self.begin_step < 0:
            raise InvalidParameterError(f"begin_step must be ≥ 0, got {self.begin_step}")
        if self.end_step is not None and self.end_step <= self.begin_step:
            raise InvalidParameterError(f"end_step ({self.end_step}) must be after begin_step ({self.begin_step})")
        if self.frequency is not None and self.frequency < 1:
            raise InvalidParameterError(f"frequency must be ≥ 1, got {self.frequency}")


@dataclass(frozen=True)
class ChannelPruneParams:
    fraction: float = 0.5  # share of filters/units removed from each prunable layer

    def __post_init__(self):
        _fraction("fraction", self.fraction, allow_zero=False)


@dataclass(frozen=True)
class DistillParams:
    alpha: float = 0.5  # weight of the hard-label cross-entropy
    temperature: float = 4.0
    student_width: int = 8  # base width of the student CNN (the digits teacher uses 16)

    def __post_init__(self):
        if not 0.0 <= self.alpha <= 1.0:
            raise InvalidParameterError(f"alpha must be in [0, 1], got {self.alpha}")
        _positive("temperature", self.temperature)
        if self.student_width < 1:
            raise InvalidParameterError(f"student_width must be ≥ 1, got {self.student_width}")


@dataclass(frozen=True)
class ClusterParams:
    clusters: int = 16

    def __post_init__(self):
        if self.clusters < 2:
            raise InvalidParameterError(f"clusters must be ≥ 2 (k centroids), got {self.clusters}")


@dataclass(frozen=True)
class LowRankParams:
    rank: int = 8

    def __post_init__(self):
        if self.rank <= 0:
            raise InvalidParameterError(f"rank must be ≥ 1, got {self.rank}")


