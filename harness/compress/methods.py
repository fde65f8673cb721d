"""The registry of compression methods: name → parameters it reads → the candidates it makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from .channel_prune import channel_prune
from .cluster import cluster
from .data import Dataset
from .distill import distill, scratch_student
from .lowrank import low_rank
from .models import TrainConfig
from .params import (
    ChannelPruneParams,
    ClusterParams,
    DistillParams,
    FineTune,
    InvalidParameterError,
    LowRankParams,
    PruneParams,
)
from .prune import magnitude_prune, prune_2_4, prune_preserving_qat
from .quantize import float_baseline, ptq_dynamic, ptq_float16, ptq_int8, ptq_int16x8, qat
from .variant import Candidate


@dataclass(frozen=True)
class Settings:
    """Every tunable of every method, with the defaults the recipe uses. CLI flags map 1:1."""

    sparsity: float = 0.5
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int | None = None
    frequency: int | None = None
    fraction: float = 0.5
    rank: int = 8
    clusters: int = 16
    alpha: float = 0.5
    temperature: float = 4.0
    student_width: int = 8
    epochs: int = 4  # fine-tune epochs after a surgery / for QAT
    learning_rate: float = 1e-3
    base_epochs: int = 15  # training of the built-in base model (and the students' budget)
    io: str = "int8"  # int8 | float: I/O tensors of the int8 variants

    def __post_init__(self):
        if self.io not in ("int8", "float"):
            raise InvalidParameterError(f"io must be 'int8' or 'float', got {self.io!r}")
        if self.base_epochs < 1:
            raise InvalidParameterError(f"base_epochs must be ≥ 1, got {self.base_epochs}")
        # Build every technique's parameters once so impossible values fail before any training.
        self.prune(), self.distill(), self.tune
        ChannelPruneParams(self.fraction), ClusterParams(self.clusters), LowRankParams(self.rank)

    @classmethod
    def from_dict(cls, values: dict) -> Settings:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InvalidParameterError(f"unknown compression parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**{k: v for k, v in values.items() if v is not None})

    @property
    def tune(self) -> FineTune:
        return FineTune(self.epochs, self.learning_rate)

    @property
    def budget(self) -> TrainConfig:
        return TrainConfig(epochs=self.base_epochs)

    @property
    def int8_io(self) -> bool:
        return self.io == "int8"

    def prune(self) -> PruneParams:
        return PruneParams(self.sparsity, self.initial_sparsity, self.begin_step, self.end_step, self.frequency)

    def distill(self) -> DistillParams:
        return DistillParams(self.alpha, self.temperature, self.student_width)


@dataclass(frozen=True)
class Job:
    """What a method works on: a trained tf_keras base model, the data, the seed, the settings."""

    base: object
    data: Dataset
    seed: int
    settings: Settings


@dataclass(frozen=True)
class Method:
    name: str
    summary: str
    parameters: tuple[str, ...]  # Settings fields it reads
    make: Callable[[Job], list[Candidate]]


METHODS: dict[str, Method] = {}


def register(method: Method) -> None:
    if method.name in METHODS:
        raise ValueError(f"compression method {method.name!r} registered twice")
    METHODS[method.name] = method


def _prune_qat(job: Job) -> list[Candidate]:
    s = job.settings
    pruned = magnitude_prune(job.base, job.data, s.prune(), s.tune)
    return [prune_preserving_qat(pruned, job.data, s.tune)]


_TUNE = ("epochs", "learning_rate")
_PRUNE = ("sparsity", "initial_sparsity", "begin_step", "end_step", "frequency")
for _method in (
    Method("float", "float32 .tflite of the base model", (), lambda j: [float_baseline(j.base)]),
    Method("ptq_int8", "full-integer int8 PTQ, per-channel weights, representative data set", ("io",),
           lambda j: [ptq_int8(j.base, j.settings.int8_io)]),
    Method("ptq_int16x8", "int16 activations, int8 weights (converter 16x8 mode); builtin engine refuses it",
           ("io",), lambda j: [ptq_int16x8(j.base, j.settings.int8_io)]),
    Method("ptq_float16", "float16 weights (not deployable on TFLM)", (), lambda j: [ptq_float16(j.base)]),
    Method("ptq_dynamic", "dynamic-range int8 weights (not deployable on TFLM)", (),
           lambda j: [ptq_dynamic(j.base)]),
    Method("qat", "quantization-aware training (tfmot) → int8", (*_TUNE, "io"),
           lambda j: [qat(j.base, j.data, j.settings.tune, j.settings.int8_io)]),
    Method("prune", "magnitude pruning, PolynomialDecay schedule, fine-tune, strip → int8", (*_PRUNE, *_TUNE),
           lambda j: [magnitude_prune(j.base, j.data, j.settings.prune(), j.settings.tune)]),
    Method("prune_2_4", "2:4 structured sparsity (tfmot sparsity_m_by_n) → int8", _TUNE,
           lambda j: [prune_2_4(j.base, j.data, j.settings.tune)]),
    Method("prune_qat", "magnitude pruning then pruning-preserving QAT → int8", (*_PRUNE, *_TUNE), _prune_qat),
    Method("channel_prune", "remove the lowest-L1 filters/units, rebuild smaller, fine-tune → int8",
           ("fraction", *_TUNE),
           lambda j: [channel_prune(j.base, j.data, ChannelPruneParams(j.settings.fraction), j.settings.tune)]),
    Method("distill", "teacher → smaller student (KD loss), plus the same student from scratch → int8",
           ("alpha", "temperature", "student_width", "base_epochs"),
           lambda j: [distill(j.base, j.data, j.settings.distill(), j.settings.budget, j.seed),
                      scratch_student(j.data, j.settings.distill(), j.settings.budget, j.seed)]),
    Method("cluster", "weight clustering with k centroids (tfmot), fine-tune, strip → int8",
           ("clusters", *_TUNE),
           lambda j: [cluster(j.base, j.data, ClusterParams(j.settings.clusters), j.settings.tune)]),
    Method("low_rank", "SVD of Dense / 1×1 conv kernels into two thinner layers, fine-tune → int8",
           ("rank", *_TUNE),
           lambda j: [low_rank(j.base, j.data, LowRankParams(j.settings.rank), j.settings.tune)]),
):
    register(_method)

# `--recipe all`: (method, settings overrides). Each step is seeded afresh, so a row does not
# depend on which steps ran before it.
RECIPES: dict[str, list[tuple[str, dict]]] = {
    "all": [
        ("float", {}),
        ("ptq_int8", {}),
        ("ptq_int16x8", {}),
        ("ptq_float16", {}),
        ("ptq_dynamic", {}),
        ("qat", {"learning_rate": 5e-4}),
        ("prune", {"sparsity": 0.5}),
        ("prune", {"sparsity": 0.8}),
        ("prune_2_4", {}),
        ("prune_qat", {"sparsity": 0.5}),
        ("channel_prune", {"fraction": 0.5}),
        ("distill", {}),
        ("cluster", {"learning_rate": 3e-4}),
        ("low_rank", {}),
    ],
}


def method_table() -> list[dict]:
    """Method names, summaries and the parameters each reads (for `--help` and docs)."""
    return [{"method": m.name, "summary": m.summary, "parameters": list(m.parameters)} for m in METHODS.values()]
