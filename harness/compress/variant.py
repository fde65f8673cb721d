"""A compressed variant: its files (.tflite, Keras model, JSON sidecar) and its table row."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._runtime import stdout_to_stderr
from .convert import NOT_DEPLOYABLE, ConvertOptions, tflite_accuracy, tflm_accuracy, to_tflite
from .data import Dataset
from .metrics import file_figures
from .models import keras_accuracy

# variants.csv columns, in order; later checks read these names.
COLUMNS = [
    "variant", "method", "params_json", "accuracy_keras", "accuracy_tflite", "accuracy_tflm",
    "tflite_bytes", "gzip_bytes", "params", "nonzero_fraction", "macs", "macs_source",
    "deployable", "reason", "wall_time_s", "seed", "tflite_path",
]


@dataclass(frozen=True)
class Candidate:
    """What a technique hands back: a trained tf_keras model and how to convert it."""

    name: str
    method: str
    params: dict
    model: object  # tf_keras model (possibly tfmot-wrapped for QAT)
    convert: ConvertOptions
    save_keras: bool = True  # QAT-wrapped models need tfmot scopes to reload: not saved
    notes: dict = field(default_factory=dict)  # extra facts for the sidecar (e.g. teacher accuracy)
    train_seconds: float | None = None  # set by methods that make several candidates in one call


@dataclass(frozen=True)
class VariantRecord:
    """One row of the variant table, also written as `<name>.json`."""

    variant: str
    method: str
    params_json: str
    accuracy_keras: float
    accuracy_tflite: float
    accuracy_tflm: float | None
    tflite_bytes: int
    gzip_bytes: int
    params: int
    nonzero_fraction: float
    macs: int
    macs_source: str
    deployable: bool
    reason: str
    wall_time_s: float
    seed: int
    tflite_path: str
    notes: dict = field(default_factory=dict)

    def row(self) -> dict:
        return {name: getattr(self, name) for name in COLUMNS}


def materialize(
    candidate: Candidate, data: Dataset, out_dir: Path, seed: int, train_seconds: float
) -> VariantRecord:
    """Convert, evaluate (Keras, tf.lite, TFLM where it can run), write files, return the row."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tflite_model = to_tflite(candidate.model, data, candidate.convert)
    tflite_path = out_dir / f"{candidate.name}.tflite"
    tflite_path.write_bytes(tflite_model)
    if candidate.save_keras:
        with stdout_to_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            candidate.model.save(out_dir / f"{candidate.name}.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter deprecation notice
        accuracy_tflite = tflite_accuracy(tflite_model, data)
    reason = NOT_DEPLOYABLE.get(candidate.convert.quantization, "")
    accuracy_tflm = None
    if not reason:
        try:
            accuracy_tflm = tflm_accuracy(tflite_model, data)
        except RuntimeError as exc:  # TFLM refused to prepare the graph
            reason = f"TFLM could not run it: {exc}"
    figures = file_figures(tflite_path)
    record = VariantRecord(
        variant=candidate.name,
        method=candidate.method,
        params_json=json.dumps(candidate.params, sort_keys=True),
        accuracy_keras=keras_accuracy(candidate.model, data),
        accuracy_tflite=accuracy_tflite,
        accuracy_tflm=accuracy_tflm,
        tflite_bytes=figures.tflite_bytes,
        gzip_bytes=figures.gzip_bytes,
        params=figures.params,
        nonzero_fraction=figures.nonzero_fraction,
        macs=figures.macs,
        macs_source="harness.model.total_macs(.tflite)",
        deployable=not reason,
        reason=reason,
        wall_time_s=round(train_seconds + time.perf_counter() - started, 3),
        seed=seed,
        tflite_path=str(tflite_path),
        notes=dict(candidate.notes, quantization=candidate.convert.quantization.value,
                   int8_io=candidate.convert.int8_io,
                   keras_model=f"{candidate.name}.keras" if candidate.save_keras else None),
    )
    sidecar = asdict(record)
    sidecar["params"] = candidate.params  # the technique's parameters, as the issue names them
    sidecar["param_count"] = record.params
    (out_dir / f"{candidate.name}.json").write_text(json.dumps(sidecar, indent=2, sort_keys=True))
    return record
