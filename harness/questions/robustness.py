"""How robust is each variant? Accuracy under perturbed test inputs, measured on the device.

A perturbed test set is just another input set: it is written as an `.npz`, sent to the device by
an ordinary bench run, and that run is a row of its own (its `run_id` covers the input hash, so the
bit-exact check, the provenance and resuming all work unchanged). The row says what it is in
`perturb_*` columns, including `perturb_clean_run_id`, the run_id of the same variant on the clean
test set. `robustness_table` (a pure DataFrame transform) then joins each clean row with its
perturbed rows into `accuracy_noise_20db`, `accuracy_fgsm_0.05`, ... columns.

Perturbations, on the float test split written by `tinyhil compress` (`test_data.npz`):
* `noise_<S>db`: additive white Gaussian noise with, per sample, variance mean(x²)/10^(S/10), so the
  sample's SNR is S dB (not clipped: the device's int8 input quantization saturates out-of-range values);
* `fgsm_<e>`: x + e·sign(∇x loss) on the float Keras model `base.keras` (the model every variant was
  made from; the students' teacher), clipped to the data range [min, max] of the clean split, then
  transferred unchanged to every variant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import DataError
from harness.identity import file_sha256
from harness.pipeline import BenchConfig, run_identity

NOISE_SNRS_DB = (20.0, 10.0)
FGSM_EPSILONS = (0.05, 0.1)


@dataclass(frozen=True)
class Perturbation:
    kind: str  # "noise" | "fgsm"
    value: float  # SNR in dB, or epsilon in input units
    seed: int = 0

    @property
    def name(self) -> str:
        return f"noise_{self.value:g}db" if self.kind == "noise" else f"fgsm_{self.value:g}"

    def parameters(self) -> dict:
        if self.kind == "noise":
            return {"kind": "noise", "snr_db": self.value, "seed": self.seed, "clip": None}
        return {"kind": "fgsm", "epsilon": self.value, "source": "base.keras", "clip": "clean data range"}


def standard_perturbations(snrs=NOISE_SNRS_DB, epsilons=FGSM_EPSILONS, seed: int = 0) -> list[Perturbation]:
    return [Perturbation("noise", float(s), seed) for s in snrs] + [Perturbation("fgsm", float(e)) for e in epsilons]


def gaussian_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """x plus white Gaussian noise at `snr_db` per sample (signal power = mean of x² over the sample)."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    power = np.mean(flat ** 2, axis=1, keepdims=True)
    sigma = np.sqrt(power / 10 ** (snr_db / 10))
    return (flat + rng.standard_normal(flat.shape) * sigma).reshape(x.shape).astype(np.float32)


def fgsm(model, x: np.ndarray, y: np.ndarray, epsilon: float, low: float, high: float) -> np.ndarray:
    """Fast gradient sign examples on a tf_keras model (cross-entropy on its probabilities or logits)."""
    import tensorflow as tf

    from harness.compress.models import looks_like_probabilities

    probe = model(x[:8], training=False).numpy()
    from_logits = not looks_like_probabilities(probe)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    inputs = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = loss_fn(tf.convert_to_tensor(y), model(inputs, training=False))
    gradient = tape.gradient(loss, inputs).numpy()
    return np.clip(x + epsilon * np.sign(gradient), low, high).astype(np.float32)


def clean_data(variants_dir: Path) -> Path:
    path = Path(variants_dir) / "test_data.npz"
    if not path.is_file():
        raise DataError(f"{variants_dir}: no test_data.npz (run `tinyhil compress ... --out {variants_dir}` first)")
    return path


def make_perturbed_sets(variants_dir: Path, perturbations: list[Perturbation]) -> dict[str, Path]:
    """Write `<variants_dir>/perturbed/<name>.npz` (x float32, y) for each perturbation."""
    from harness.compress._runtime import stdout_to_stderr
    from harness.compress.models import load_user_model

    variants_dir = Path(variants_dir)
    with np.load(clean_data(variants_dir), allow_pickle=False) as npz:
        x, y = npz["x"].astype(np.float32), npz["y"]
    out_dir = variants_dir / "perturbed"
    out_dir.mkdir(exist_ok=True)
    model = None
    paths = {}
    for p in perturbations:
        if p.kind == "noise":
            perturbed = gaussian_noise(x, p.value, np.random.default_rng(p.seed))
        elif p.kind == "fgsm":
            if model is None:
                base = variants_dir / "base.keras"
                with stdout_to_stderr():
                    model = load_user_model(base).model
            perturbed = fgsm(model, x, y, p.value, float(x.min()), float(x.max()))
        else:
            raise DataError(f"unknown perturbation kind {p.kind!r}")
        path = out_dir / f"{p.name}.npz"
        np.savez(path, x=perturbed, y=y)
        paths[p.name] = path
    return paths


def deployable_variants(variants_dir: Path) -> list[Path]:
    """The .tflite files `variants.csv` marks deployable (TFLM can run them), in table order."""
    table_path = Path(variants_dir) / "variants.csv"
    if not table_path.is_file():
        raise DataError(f"{variants_dir}: no variants.csv (run `tinyhil compress` into it first)")
    table = pd.read_csv(table_path)
    keep = table[table["deployable"].astype(str).str.lower() == "true"]
    paths = [Path(variants_dir) / Path(str(p)).name for p in keep["tflite_path"].dropna()]
    paths = [p for p in paths if p.is_file()]
    if not paths:
        raise DataError(f"{variants_dir}: variants.csv lists no deployable variant with its .tflite present")
    return paths


def robustness_configs(models: list[Path], clean: Path, perturbed: dict[str, Path],
                       perturbations: list[Perturbation], template: BenchConfig) -> list[BenchConfig]:
    """For each model: the clean run, then one run per perturbed set tagged with `perturb_*` columns."""
    by_name = {p.name: p for p in perturbations}
    clean_sha = file_sha256(clean)
    configs = []
    for model in models:
        base = replace(template, model=model, data=clean)
        clean_run = run_identity(base)[0].run_id
        configs.append(base)
        for name, path in perturbed.items():
            p = by_name[name]
            tags = {"perturb_name": name, "perturb_kind": p.kind, "perturb_json": json.dumps(p.parameters()),
                    "perturb_clean_run_id": clean_run, "perturb_clean_data_sha256": clean_sha}
            configs.append(replace(base, data=path, extra={**template.extra, **tags}))
    return configs


def robustness_table(df: pd.DataFrame, clean_run_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per clean run: its device accuracy and `accuracy_<perturbation>` from the perturbed
    runs that name it, plus their total device/host mismatches and the perturbations' parameters."""
    from harness.report.transforms import latest_runs

    runs = latest_runs(df)
    if "perturb_clean_run_id" not in runs.columns:
        runs = runs.assign(perturb_clean_run_id=pd.NA, perturb_name=pd.NA, perturb_json=pd.NA)
    perturbed = runs[runs["perturb_clean_run_id"].notna()]
    clean = runs[runs["run_id"].isin(set(perturbed["perturb_clean_run_id"]) | set(clean_run_ids or []))]
    wide = perturbed.pivot_table(index="perturb_clean_run_id", columns="perturb_name", values="accuracy_device",
                                 aggfunc="last")
    wide.columns = [f"accuracy_{c}" for c in wide.columns]
    mismatches = perturbed.groupby("perturb_clean_run_id")["host_mismatches"].sum().rename("perturbed_host_mismatches")
    params = perturbed.groupby("perturb_clean_run_id").apply(
        lambda g: json.dumps({n: json.loads(j) for n, j in zip(g["perturb_name"], g["perturb_json"], strict=True)},
                             sort_keys=True), include_groups=False).rename("perturb_parameters")
    variant = clean["compress_variant"] if "compress_variant" in clean else clean["model"]
    out = clean.assign(variant=variant.fillna(clean["model"]))[
        ["variant", "model", "board", "target", "engine", "kernels", "run_id", "samples", "accuracy_host",
         "accuracy_device", "host_mismatches"]]
    out = out.join(wide, on="run_id").join(mismatches, on="run_id").join(params, on="run_id")
    return out.reset_index(drop=True)


def perturbation_columns(table: pd.DataFrame) -> list[str]:
    """The perturbation names in the table, mildest first: noise by falling SNR, then FGSM by rising ε."""
    names = [c.removeprefix("accuracy_") for c in table.columns if c.startswith(("accuracy_noise_", "accuracy_fgsm_"))]

    def mildness(name: str) -> tuple[int, float]:
        kind, _, value = name.partition("_")
        try:
            number = float(value.removesuffix("db"))
        except ValueError:
            number = 0.0
        return (0, -number) if kind == "noise" else (1, number)

    return sorted(names, key=mildness)


@dataclass(frozen=True)
class RobustnessRun:
    table: pd.DataFrame  # robustness_table of this study's variants
    perturbations: list[str]
    refused: list[tuple[str, str]]  # (variant file, error) of variants without a successful clean run
    files: dict[str, Path]


def run_robustness(variants_dir: Path, template: BenchConfig, perturbations: list[Perturbation], console) -> \
        RobustnessRun:
    """Perturbed sets → clean + perturbed device runs of every deployable variant (resumable) → joined table,
    written as `<results>/robustness.csv` with its figure."""
    from harness.pipeline.sweep import Shard, run_sweep
    from harness.questions.plots import plot_robustness
    from harness.report import NoFigure, load_results

    if template.results_dir is None:
        raise DataError("robustness needs a results directory (the perturbed runs are joined from it)")
    variants_dir = Path(variants_dir)
    models = deployable_variants(variants_dir)
    clean = clean_data(variants_dir)
    perturbed = make_perturbed_sets(variants_dir, perturbations)
    configs = robustness_configs(models, clean, perturbed, perturbations, template)
    for cfg in configs:
        cfg.validate()
    run_sweep(configs, Shard(1, 1), True, console)
    results = load_results(template.results_dir)
    clean_ids = {run_identity(cfg)[0].run_id: cfg.model for cfg in configs if not cfg.extra.get("perturb_name")}
    table = robustness_table(results, list(clean_ids))
    table = table[table["run_id"].isin(clean_ids)].reset_index(drop=True)
    measured = set(table["run_id"])
    refused = []
    for rid, model in clean_ids.items():
        if rid not in measured:
            rows = results[results["run_id"] == rid]
            refused.append((Path(model).name, str(rows["error"].dropna().iloc[-1]) if len(rows) else "not run"))
    names = [p.name for p in perturbations]
    out = Path(template.results_dir)
    table.to_csv(out / "robustness.csv", index=False)
    files = {"csv": out / "robustness.csv"}
    try:
        files["png"], files["pdf"] = plot_robustness(table, names, out / "robustness")
    except NoFigure:  # no variant ran clean on the device: the refusals say why, no empty figure
        pass
    return RobustnessRun(table, names, refused, files)
