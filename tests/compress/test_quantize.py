"""Post-training quantization and QAT on the digits CNN."""

import numpy as np
import pytest

from harness.compress.convert import ConvertOptions, Quantization, tflm_accuracy, to_tflite
from harness.compress.quantize import float_baseline, ptq_dynamic, ptq_float16, ptq_int8, qat


@pytest.fixture(scope="session")
def float_record(base, make):
    return make(float_baseline(base))


def test_float_baseline_matches_keras(float_record, base_accuracy):
    assert float_record.accuracy_keras == pytest.approx(base_accuracy)
    assert float_record.accuracy_tflite == pytest.approx(base_accuracy, abs=0.01)
    assert float_record.deployable and float_record.accuracy_tflm == pytest.approx(float_record.accuracy_tflite)


def test_int8_ptq_within_1_5_points_and_4x_smaller(int8_record, float_record):
    assert float_record.accuracy_tflite - int8_record.accuracy_tflite <= 0.015
    assert int8_record.deployable and int8_record.accuracy_tflm is not None
    assert abs(int8_record.accuracy_tflm - int8_record.accuracy_tflite) <= 0.01  # ≤1 LSB differences
    assert int8_record.tflite_bytes < 0.35 * float_record.tflite_bytes
    assert int8_record.macs == float_record.macs > 0


def test_int8_io_selectable(base, digits):
    import tensorflow as tf

    for int8_io, dtype in ((True, np.int8), (False, np.float32)):
        model = to_tflite(base, digits, ConvertOptions(Quantization.INT8, int8_io=int8_io))
        interpreter = tf.lite.Interpreter(model_content=model)
        assert interpreter.get_input_details()[0]["dtype"] == dtype
        assert interpreter.get_output_details()[0]["dtype"] == dtype
        assert list(interpreter.get_input_details()[0]["shape"]) == [1, 8, 8, 1]
    assert ptq_int8(base, int8_io=False).params["io"] == "float"


@pytest.mark.parametrize("make_candidate", [ptq_float16, ptq_dynamic])
def test_float16_and_dynamic_marked_not_deployable(base, digits, make, make_candidate):
    record = make(make_candidate(base))
    assert not record.deployable and record.reason
    assert record.accuracy_tflm is None
    assert record.accuracy_tflite >= 0.9
    # The reason is true: TFLM really refuses to prepare this graph.
    with pytest.raises(RuntimeError):
        tflm_accuracy(to_tflite(base, digits, make_candidate(base).convert), digits)


def test_qat_int8(base, digits, tune, make, int8_record):
    record = make(qat(base, digits, tune))
    assert record.method == "qat" and record.deployable
    assert record.accuracy_tflite >= int8_record.accuracy_tflite - 0.03
    assert record.tflite_bytes < 60_000


def test_int16x8_variant_host_accuracy_and_refused_by_builtin_engine_by_name(base, make, int8_record):
    from harness.codegen import check_supported
    from harness.compress.quantize import ptq_int16x8
    from harness.errors import UnsupportedOpsError
    from harness.model import load_tflite

    record = make(ptq_int16x8(base))
    model = load_tflite(record.tflite_path)
    assert model.tensor(model.inputs[0]).dtype == np.int16
    assert record.accuracy_tflite >= int8_record.accuracy_tflite - 0.01  # 16-bit activations lose no more
    assert record.deployable and record.accuracy_tflm == pytest.approx(record.accuracy_tflite, abs=0.01)
    with pytest.raises(UnsupportedOpsError, match=r"CONV_2D \(int16 activations"):
        check_supported(model)
