"""Running methods on a base model: seeding, timing, files, and the variant table."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import DataError, TinyhilError

from ._runtime import seed_everything, stdout_to_stderr
from .data import Dataset, load_dataset
from .methods import METHODS, RECIPES, Job, Settings
from .models import build_default_model, keras_accuracy, load_user_model, train
from .params import InvalidParameterError
from .variant import COLUMNS, VariantRecord, materialize


@dataclass(frozen=True)
class BaseModel:
    model: object  # trained tf_keras model
    note: str  # where it came from / what was converted
    accuracy: float


def prepare_base(model_path: str | None, data: Dataset, settings: Settings, seed: int) -> BaseModel:
    """Load the user's Keras model (converting Keras 3 to tf_keras) or train the built-in one."""
    seed_everything(seed)
    if model_path is None:
        model = build_default_model(data.input_shape, data.num_classes)
        with stdout_to_stderr():
            train(model, data, settings.budget)
        note = f"built-in {model.name} trained {settings.base_epochs} epochs on {data.name}"
    else:
        loaded = load_user_model(Path(model_path))
        model, note = loaded.model, loaded.note
        _check_fits(model, data)
    return BaseModel(model, note, keras_accuracy(model, data))


def _check_fits(model, data: Dataset) -> None:
    expected = tuple(model.input_shape[1:])
    if expected != data.input_shape:
        raise DataError(f"the model expects inputs of shape {expected} but the data samples are {data.input_shape}")
    outputs = model.output_shape[-1]
    if outputs is None or outputs < data.num_classes:
        raise DataError(f"the model has {outputs} outputs but the data has {data.num_classes} classes")


def run_steps(base: BaseModel, data: Dataset, steps: list[tuple[str, dict]], user: dict, seed: int,
              out: Path, keep_going: bool) -> list[VariantRecord | dict]:
    """Each step: seed, build candidates, convert/evaluate/write them. Failed steps become rows."""
    rows: list[VariantRecord | dict] = []
    for method_name, overrides in steps:
        method = METHODS.get(method_name)
        if method is None:
            raise InvalidParameterError(f"unknown method {method_name!r}; known: {sorted(METHODS)}")
        settings = Settings.from_dict({**user, **overrides})
        seed_everything(seed)
        started = time.perf_counter()
        try:
            with stdout_to_stderr():
                candidates = method.make(Job(base.model, data, seed, settings))
        except TinyhilError as exc:
            if not keep_going:
                raise
            rows.append({"variant": method_name, "method": method_name, "deployable": False,
                         "reason": f"failed: {exc}", "seed": seed,
                         "params_json": json.dumps({**user, **overrides}, sort_keys=True)})
            continue
        share = (time.perf_counter() - started) / len(candidates)
        for candidate in candidates:
            seconds = share if candidate.train_seconds is None else candidate.train_seconds
            record = materialize(candidate, data, out, seed, seconds)
            rows.append(replace(record, notes=dict(record.notes, base_model=base.note)))
    return rows


def to_table(rows: list[VariantRecord | dict]) -> pd.DataFrame:
    dicts = [row.row() if isinstance(row, VariantRecord) else row for row in rows]
    table = pd.DataFrame(dicts).reindex(columns=COLUMNS)
    return table.replace({None: np.nan})


def compress(model_path: str | None, steps: list[tuple[str, dict]], data_spec: str, out: Path, seed: int,
             user: dict, keep_going: bool) -> pd.DataFrame:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_dict(user)  # reject bad parameters before any training
    data = load_dataset(data_spec, seed)
    base = prepare_base(model_path, data, settings, seed)
    with stdout_to_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base.model.save(out / "base.keras")  # tf_keras; the PTQ variants are conversions of it
    rows = run_steps(base, data, steps, user, seed, out, keep_going)
    table = to_table(rows)
    table.to_csv(out / "variants.csv", index=False)
    # The test split in the form `tinyhil bench --data` reads (x, y), so device accuracy uses the same samples.
    np.savez(out / "test_data.npz", x=data.x_test, y=data.y_test)
    (out / "compress_run.json").write_text(json.dumps(
        {"base_model": base.note, "base_accuracy_keras": base.accuracy, "data": data.name,
         "train_samples": len(data.x_train), "test_samples": len(data.x_test), "seed": seed,
         "steps": [[name, overrides] for name, overrides in steps], "parameters": user}, indent=2))
    return table


def recipe_steps(recipe: str) -> list[tuple[str, dict]]:
    if recipe not in RECIPES:
        raise InvalidParameterError(f"unknown recipe {recipe!r}; known: {sorted(RECIPES)}")
    return RECIPES[recipe]
