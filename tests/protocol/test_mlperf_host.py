"""The host side of the MLPerf runner protocol against a scripted byte stream: what it accepts,
what it refuses (each with the project's typed error), and malformed input found by hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_host import MLPERF_INFER, ScriptedTarget, check_mlperf_answer, mangled_mlperf_answer
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import DeviceError, DeviceTimeoutError, ProtocolError
from harness.measure.mlperf import requantize
from harness.model.tflite_file import QuantParams
from harness.protocol.mlperf import MlperfDevice, parse_results

Scripted = ScriptedTarget


INFER = MLPERF_INFER[:MLPERF_INFER.index(b"m-results")]


def test_an_inference_and_its_window():
    device = MlperfDevice(Scripted([INFER + b"m-results-[0.250,1e-3,-2]\r\nm-ready\r\n"]), timeout=1)
    result = device.infer(1, 0)
    assert result.elapsed_us == 250 and result.results == (0.25, 0.001, -2.0)


@pytest.mark.parametrize("reply, error, match", [
    (b"e-[Unknown command: infer]\r\nm-ready\r\n", DeviceError, "refused `infer 1 0`"),
    (INFER.replace(b"m-lap-us-350\r\n", b"") + b"m-results-[1]\r\nm-ready\r\n", ProtocolError, "1 m-lap-us"),
    (INFER.replace(b"350", b"50") + b"m-results-[1]\r\nm-ready\r\n", ProtocolError, "backwards"),
    (INFER + b"m-results-[1,x]\r\nm-ready\r\n", ProtocolError, "other than numbers"),
    (INFER + b"m-results-[1]\r\n", DeviceTimeoutError, "no reply"),
    (b"x" * 70000, ProtocolError, "without a line end"),
    (b"TINYHIL FAULT hardfault pc=0x1234\r\n", DeviceError, "faulted"),
])
def test_bad_answers_are_refused_by_name(reply, error, match):
    with pytest.raises(error, match=match):
        MlperfDevice(Scripted([reply]), timeout=0.3).infer(1, 0)


def test_db_load_sends_hex_chunks_and_checks_load_done():
    target = Scripted([b"m-[Expecting 40 bytes]\r\nm-ready\r\n", b"m-ready\r\n", b"m-load-done\r\nm-ready\r\n"])
    MlperfDevice(target, chunk_bytes=32).load(bytes(range(40)))
    assert target.written == [b"db load 40%", b"db " + bytes(range(32)).hex().encode() + b"%",
                              b"db " + bytes(range(32, 40)).hex().encode() + b"%"]
    early = Scripted([b"m-ready\r\n", b"m-load-done\r\nm-ready\r\n", b"m-ready\r\n"])
    with pytest.raises(ProtocolError, match="early"):
        MlperfDevice(early, chunk_bytes=32).load(bytes(40))
    with pytest.raises(ProtocolError, match="not a runner command"):
        MlperfDevice(Scripted([])).command("db " + "00" * 40)


def test_requantize_recovers_integers_and_refuses_what_does_not_fit():
    class Tensor:
        dtype, shape = np.dtype(np.int8), (1, 3)
        quant = QuantParams(scale=np.array([1 / 256]), zero_point=np.array([-128]), axis=0)

    q = np.array([-128, 0, 127], np.int8)
    printed = tuple(float(f"{np.float32((int(v) + 128) / 256):.8e}") for v in q)
    assert np.frombuffer(requantize(printed, Tensor), np.int8).tolist() == q.tolist()
    with pytest.raises(ProtocolError, match="2 values"):
        requantize(printed[:2], Tensor)
    with pytest.raises(ProtocolError, match="do not map"):
        requantize((0.0, 0.5, 2.0), Tensor)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_noise_gives_a_typed_error_or_a_result(noise):
    check_mlperf_answer(noise)


def test_mangled_answers_give_a_typed_error_or_a_result():
    import random

    rng = random.Random(5)
    for _ in range(300):
        check_mlperf_answer(mangled_mlperf_answer(rng))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_results_never_raises_untyped(text):
    try:
        parse_results(text)
    except ProtocolError:
        pass
