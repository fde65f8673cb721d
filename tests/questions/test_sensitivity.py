"""`sensitivity` with real TensorFlow: a model with one layer made fragile to int8 on purpose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fragile(tmp_path_factory):
    """The digits CNN (width 4, 3 epochs) with one huge unit in `dense` that the classifier ignores.

    Float predictions are unchanged (the classifier's weights from that unit are zero), but the unit
    sets the int8 scale of `dense`'s output tensor, so the other 15 units are quantized to a step of
    ~16. That tensor is `dense`'s output and the classifier's input: either layer alone in int8
    loses accuracy. The other layers are untouched."""
    from harness.compress._runtime import seed_everything
    from harness.compress.data import load_digits_dataset
    from harness.compress.models import TrainConfig, build_digits_cnn, train

    seed_everything(0)
    data = load_digits_dataset(0)
    model = build_digits_cnn(data.input_shape, data.num_classes, width=4)
    train(model, data, TrainConfig(epochs=3))
    dense, classifier = model.get_layer("dense"), model.get_layer("classifier")
    kernel, bias = dense.get_weights()
    bias[0] += 4000.0
    dense.set_weights([kernel, bias])
    kernel, bias = classifier.get_weights()
    kernel[0, :] = 0.0
    classifier.set_weights([kernel, bias])
    path = tmp_path_factory.mktemp("sens") / "fragile.keras"
    model.save(path)
    return path


def test_sensitivity_finds_the_fragile_layer_and_writes_table_and_plot(fragile, tmp_path):
    from harness.questions.sensitivity import COLUMNS, measure_sensitivity, write_outputs

    result = measure_sensitivity(fragile, "digits", seed=0, calibration=100)
    table = result.table
    assert list(table.columns) == COLUMNS and list(table["rank"]) == list(range(1, len(table) + 1))
    ops = list(table.sort_values("layer")["op"])
    assert ops == ["CONV_2D", "CONV_2D", "MAX_POOL_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED",
                   "FULLY_CONNECTED", "SOFTMAX"]
    top = table.iloc[:2]
    assert sorted(t.split("/")[1] for t in top["tensor"]) == ["classifier", "dense"]
    assert (top["accuracy_only_this_int8"] < result.accuracy_float_tflite - 0.2).all()
    others = table.iloc[2:]
    assert (others["accuracy_only_this_int8"] >= result.accuracy_float_tflite - 0.02).all()
    assert result.accuracy_int8 < result.accuracy_float_tflite - 0.2
    assert result.accuracy_int16x8 > result.accuracy_int8 + 0.1  # a 16-bit step keeps the small units
    # Ops that do not requantize show only float round-off; quantized convs sit in between.
    lossless = table[table["op"].isin(["MAX_POOL_2D", "RESHAPE"])]
    assert (lossless["snr_db"] > 100).all()
    convs = table[table["op"] == "CONV_2D"]
    assert ((convs["snr_db"] > 15) & (convs["snr_db"] < 80)).all()
    assert np.allclose(table["relative_l2"], 10 ** (-table["snr_db"] / 20), rtol=1e-6)

    files = write_outputs(result, tmp_path)
    assert pd.read_csv(files["csv"])["tensor"].iloc[0] == table["tensor"].iloc[0]
    assert files["png"].stat().st_size > 10_000 and files["pdf"].is_file()
