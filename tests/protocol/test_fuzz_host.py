"""Hypothesis: the host's frame reader and reply decoders on malformed input (a few hundred
examples here; benchmarks/fuzz.py runs 100k)."""

from fuzz_host import DECODERS, check_payload, check_stream, mangled_stream
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None)
@given(mangled_stream(), st.integers(1, 64))
def test_reader_survives_any_stream(data, chunk):
    check_stream(data, chunk)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(DECODERS)), st.binary(max_size=300))
def test_decoders_raise_only_protocol_errors(frame_type, payload):
    check_payload(frame_type, payload)
