"""Which layers does int8 hurt? Per-layer quantization sensitivity of a float Keras model.

Measured with TensorFlow's `tf.lite.experimental.QuantizationDebugger` (TF 2.21), on the test split:

* per-layer error (the debugger's NumericVerify pass): each quantized op's output is compared with
  the float op run on the *same* dequantized input, so the figure is that layer's own error, not the
  error accumulated upstream. From the float value f and the dequantized int8 value q of every
  output element (`layer_direct_compare_metrics`), pooled over all test samples:
  `snr_db = 10·log10(Σf² / Σ(f−q)²)` and `relative_l2 = sqrt(Σ(f−q)² / Σf²)`; plus the debugger's
  own `mean_squared_error` and `max_abs_error` (float units of that tensor).
* accuracy with only that layer int8, the rest float (`denylisted_nodes` = every other layer), and
  with every layer int8 except that one (`denylisted_nodes` = that layer) — top-1 on the host
  interpreter (tf.lite), float I/O.

Layers are ranked by the task-level harm first — accuracy with only that layer int8, lowest first —
then by `snr_db`, lowest first (on a model int8 does not hurt, the accuracies tie and the SNR ranks).
The 16x8 variant (int16 activations, int8 weights) is converted too, for its host accuracy beside
float and int8.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.compress._runtime import stdout_to_stderr
from harness.compress.convert import ConvertOptions, Quantization, tflite_accuracy, to_tflite
from harness.compress.data import Dataset, load_dataset
from harness.compress.models import keras_accuracy, load_user_model
from harness.errors import DataError, ModelFormatError

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
COLUMNS = ["rank", "layer", "op", "tensor", "snr_db", "relative_l2", "mean_squared_error", "max_abs_error",
           "accuracy_only_this_int8", "accuracy_all_but_this_int8", "elements", "scale", "zero_point"]


@dataclass(frozen=True)
class SensitivityResult:
    model: str
    data: str
    test_samples: int
    calibration_samples: int
    accuracy_keras: float
    accuracy_float_tflite: float
    accuracy_int8: float
    accuracy_int16x8: float
    table: pd.DataFrame  # COLUMNS, ranked

    def summary(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "table"}
        out["layers"] = len(self.table)
        out["measured"] = ("QuantizationDebugger layer_direct_compare_metrics (per-layer SNR, relative L2), "
                           "default layer metrics (MSE, max abs error), denylisted_nodes accuracies")
        return out


def _check_model_path(path: Path) -> None:
    if path.suffix.lower() == ".tflite":
        raise ModelFormatError(f"{path}: sensitivity needs the float Keras model (.keras or .h5) the .tflite "
                               "was converted from, not a .tflite (its float weights are gone)")
    if path.suffix.lower() not in KERAS_SUFFIXES:
        raise ModelFormatError(f"{path}: not a Keras model file (expected .keras or .h5)")


def _sums(float_values, quant_values, scale, zero_point) -> tuple[float, float]:
    f = np.asarray(float_values, dtype=np.float64)
    q = (np.asarray(quant_values, dtype=np.float64) - float(zero_point)) * float(scale)
    return float(np.sum(f * f)), float(np.sum((f - q) ** 2))


def _converter(model, data: Dataset, calibration: int):
    import tensorflow as tf

    signature = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32, name="input")
    concrete = tf.function(lambda x: model(x, training=False), input_signature=[signature]).get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = data.calibration(calibration)

    def representative():
        for sample in samples:
            yield [sample[np.newaxis].astype(np.float32)]

    converter.representative_dataset = representative
    return converter


def _debug(model, data: Dataset, calibration: int):
    """The debugger run on the test split; returns the converter-backed debugger (for the denylist
    variants) and the per-layer CSV rows.

    Two debuggers: TF 2.21 builds the converter-backed one's interpreter without
    `experimental_preserve_all_tensors`, so its direct-compare metrics read tensors the planner has
    already reused (garbage on the last layers). The debug model it makes is therefore run by a
    second debugger built from the model bytes, which does preserve every tensor."""
    import tensorflow as tf

    def test_set():
        for sample in data.x_test:
            yield [sample[np.newaxis].astype(np.float32)]

    metrics = {"signal_sum": lambda f, q, s, z: _sums(f, q, s, z)[0],
               "error_sum": lambda f, q, s, z: _sums(f, q, s, z)[1]}
    with stdout_to_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converting = tf.lite.experimental.QuantizationDebugger(
            converter=_converter(model, data, calibration), debug_dataset=test_set)
        measuring = tf.lite.experimental.QuantizationDebugger(
            quant_debug_model_content=converting.get_debug_quantized_model(), debug_dataset=test_set,
            debug_options=tf.lite.experimental.QuantizationDebugOptions(layer_direct_compare_metrics=metrics))
        measuring.run()
    dump = io.StringIO()
    measuring.layer_statistics_dump(dump)
    return converting, list(csv.DictReader(io.StringIO(dump.getvalue())))


def _accuracy_with_denylist(debugger, data: Dataset, denied: list[str]) -> float:
    import tensorflow as tf

    with stdout_to_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=denied)
        quantized = debugger.get_nondebug_quantized_model()
        return tflite_accuracy(quantized, data)


def layer_table(rows: list[dict], only: list[float], all_but: list[float]) -> pd.DataFrame:
    """The ranked per-layer table from the debugger's rows and the two denylist accuracies."""
    records = []
    for index, (row, acc_only, acc_all_but) in enumerate(zip(rows, only, all_but, strict=True)):
        signal, error = float(row["signal_sum"]), float(row["error_sum"])
        # The debugger averages each metric over samples; the ratio of the means is the pooled ratio.
        snr = np.inf if error == 0 else (10 * np.log10(signal / error) if signal > 0 else -np.inf)
        records.append({
            "layer": index, "op": row["op_name"], "tensor": row["tensor_name"], "snr_db": float(snr),
            "relative_l2": float(np.sqrt(error / signal)) if signal > 0 else np.nan,
            "mean_squared_error": float(row["mean_squared_error"]), "max_abs_error": float(row["max_abs_error"]),
            "accuracy_only_this_int8": acc_only, "accuracy_all_but_this_int8": acc_all_but,
            "elements": int(float(row["num_elements"])), "scale": float(row["scale"]),
            "zero_point": int(float(row["zero_point"])),
        })
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = table.sort_values(["accuracy_only_this_int8", "snr_db", "layer"], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[COLUMNS]


def measure_sensitivity(model_path: Path, data_spec: str = "digits", seed: int = 0,
                        calibration: int = 200) -> SensitivityResult:
    model_path = Path(model_path)
    _check_model_path(model_path)
    data = load_dataset(data_spec, seed)
    model = load_user_model(model_path).model
    expected = tuple(model.input_shape[1:])
    if expected != data.input_shape:
        raise DataError(f"the model expects inputs of shape {expected} but the data samples are {data.input_shape}")
    debugger, rows = _debug(model, data, calibration)
    names = [row["tensor_name"] for row in rows]
    only = [_accuracy_with_denylist(debugger, data, [n for n in names if n != name]) for name in names]
    all_but = [_accuracy_with_denylist(debugger, data, [name]) for name in names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        accuracies = {
            q: tflite_accuracy(to_tflite(model, data, ConvertOptions(q, calibration_samples=calibration)), data)
            for q in (Quantization.FLOAT32, Quantization.INT8, Quantization.INT16X8)
        }
    return SensitivityResult(
        model=model_path.name, data=data.name, test_samples=len(data.x_test),
        calibration_samples=min(calibration, len(data.x_train)), accuracy_keras=keras_accuracy(model, data),
        accuracy_float_tflite=accuracies[Quantization.FLOAT32], accuracy_int8=accuracies[Quantization.INT8],
        accuracy_int16x8=accuracies[Quantization.INT16X8], table=layer_table(rows, only, all_but),
    )


def write_outputs(result: SensitivityResult, out_dir: Path) -> dict[str, Path]:
    """`<stem>_sensitivity.csv`, `.json` (summary) and the plot (`.png` + `.pdf`) in out_dir."""
    from harness.questions.plots import plot_sensitivity

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{Path(result.model).stem}_sensitivity"
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    result.table.to_csv(csv_path, index=False)
    json_path.write_text(json.dumps(result.summary(), indent=2))
    png, pdf = plot_sensitivity(result, stem)
    return {"csv": csv_path, "json": json_path, "png": png, "pdf": pdf}
