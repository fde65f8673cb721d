import struct
import zlib

import pytest

from harness.errors import DeviceError, ProtocolError, ProtocolVersionError
from harness.protocol import Frame, FrameReader, Identity, RunDone, Sample, crc32, encode_frame
from harness.protocol.framing import MAX_PAYLOAD
from harness.protocol.messages import (
    PROTOCOL_VERSION,
    REPLY_TYPES,
    ErrorReply,
    LayerInfo,
    MemoryReport,
    ModelInfo,
    decode_ack,
)


def _frames(reader: FrameReader) -> list[Frame]:
    out = []
    while (f := reader.next_frame()) is not None:
        out.append(f)
    return out


def test_crc_is_zlib_crc32():
    assert crc32(b"123456789") == 0xCBF43926  # the CRC-32/ISO-HDLC check value
    assert crc32(b"") == 0


def test_frame_layout():
    frame = encode_frame(0x04, 0x37, b"\x01\x02")
    assert frame[:2] == b"\xa5\x5a"
    assert frame[2] == 0x04 and frame[3] == 0x37 and frame[4:6] == b"\x02\x00" and frame[6:8] == b"\x01\x02"
    assert struct.unpack("<I", frame[8:])[0] == zlib.crc32(frame[2:8])


def test_reader_skips_noise_and_handles_split_frames():
    reader = FrameReader()
    frames_out = encode_frame(0x81, 1, b"hello") + encode_frame(0x86, 2, b"") + encode_frame(0x85, 3, b"x" * 300)
    stream = b"boot noise \xa5" + frames_out
    frames = []
    for i in range(0, len(stream), 7):  # arrive in small pieces
        reader.feed(stream[i : i + 7])
        frames += _frames(reader)
    assert frames == [Frame(0x81, 1, b"hello"), Frame(0x86, 2, b""), Frame(0x85, 3, b"x" * 300)]
    assert reader.skipped == len(b"boot noise \xa5") and bytes(reader.noise) == b"boot noise \xa5"


def test_bad_crc_costs_one_byte_and_the_reader_resyncs():
    bad = bytearray(encode_frame(0x81, 9, b"payload"))
    bad[7] ^= 0x01
    reader = FrameReader()
    reader.feed(bytes(bad) + encode_frame(0x86, 9, b"\x04\x00\x00\x00"))
    assert _frames(reader) == [Frame(0x86, 9, b"\x04\x00\x00\x00")]
    assert reader.corrupt == 1 and "CRC" in reader.last_problem


def test_a_corrupted_length_does_not_swallow_the_frames_after_it():
    """A length byte flipped upwards makes the frame claim the next frames; the CRC fails and the
    rescan from the byte after its sync finds them all."""
    bad = bytearray(encode_frame(0x85, 1, b"abc"))
    bad[4] = 200  # claims 200 payload bytes
    good = [encode_frame(0x85, 1 + i, bytes([i]) * 40) for i in range(6)]
    reader = FrameReader()
    reader.feed(bytes(bad) + b"".join(good))
    assert [f.seq for f in _frames(reader)] == [1, 2, 3, 4, 5, 6]


def test_impossible_length_and_unknown_type_are_rejected_at_once():
    reader = FrameReader(types=REPLY_TYPES)
    huge = b"\xa5\x5a\x85\x01" + struct.pack("<H", MAX_PAYLOAD + 1)
    unknown = encode_frame(0x42, 1, b"zz")
    reader.feed(huge + unknown + encode_frame(0x80, 7, b"\x01"))
    assert _frames(reader) == [Frame(0x80, 7, b"\x01")]
    assert reader.corrupt == 2 and not reader.pending


def test_expire_gives_up_a_frame_cut_short():
    reader = FrameReader()
    reader.feed(encode_frame(0x81, 1, b"0123456789")[:-3])  # the rest never comes
    assert _frames(reader) == [] and reader.pending
    reader.expire()
    assert _frames(reader) == [] and not reader.pending and reader.corrupt == 1


def test_encode_rejects_oversized_payload_and_bad_seq():
    with pytest.raises(ValueError, match="32768"):
        encode_frame(0x05, 0, bytes(MAX_PAYLOAD + 1))
    with pytest.raises(ValueError, match="sequence"):
        encode_frame(0x05, 256)


def _s(text: bytes) -> bytes:
    return bytes([len(text)]) + text


IDENTITY = struct.pack("<HIIII", PROTOCOL_VERSION, 25_000_000, 25_000_000, 0, 32758) + b"".join(
    _s(t) for t in (b"fw", b"b", b"builtin", b"optimized", b"systick", b"gcc"))


def test_message_decoding():
    ident = Identity.decode(IDENTITY)
    assert ident.timer == "systick" and ident.cpu_hz == 25_000_000 and ident.compiler == "gcc"
    assert ident.rx_max == 32758
    sample = Sample.decode(struct.pack("<IQQH", 3, 2**40 + 5, 16, 2) + struct.pack("<QQ", 7, 8) + b"\x01\x02", 2, 2)
    assert sample == Sample(3, 2**40 + 5, (7, 8), b"\x01\x02", profiled_count=16)
    info = ModelInfo.decode(struct.pack("<IIBBIIIIII", 16, 8, 5, 1, 64, 2, 128, 5, 4096, 256) + b"\x01m")
    assert info.input_dtype == "float32" and info.output_dtype == "int8" and info.name == "m"
    assert RunDone.decode(struct.pack("<II", 3, 4)) == RunDone(3, 4)
    assert decode_ack(b"\x04") == 4


def test_version_mismatch_names_both_versions():
    other = PROTOCOL_VERSION + 1
    with pytest.raises(ProtocolVersionError, match=f"version {other}.*version {PROTOCOL_VERSION}"):
        Identity.decode(struct.pack("<H", other) + IDENTITY[2:])
    assert issubclass(ProtocolVersionError, DeviceError)


@pytest.mark.parametrize("decode, payload, problem", [
    (Identity.decode, struct.pack("<H", PROTOCOL_VERSION), "too short"),
    (Identity.decode, IDENTITY + b"\x00", "too many"),
    (Identity.decode, IDENTITY[:-2], "string runs past"),
    (ModelInfo.decode, struct.pack("<IIBBIIIIII", 16, 8, 9, 1, 64, 2, 128, 5, 4096, 256) + b"\x01m", "dtype code 9"),
    (ModelInfo.decode, struct.pack("<IIBBIIIIII", 16, 6, 1, 4, 64, 2, 128, 5, 4096, 256) + b"\x01m", "whole number"),
    (ModelInfo.decode, struct.pack("<IIBBIIIIII", 16, 8000, 1, 1, 64, 2, 128, 5, 4096, 256) + b"\x01m", "exceeds"),
    (MemoryReport.decode, bytes(35), "too short"),
    (MemoryReport.decode, bytes(37), "too many"),
    (LayerInfo.decode, struct.pack("<II", 0, 1) + b"\x05ab", "string runs past"),
    (RunDone.decode, bytes(4), "too short"),
    (ErrorReply.decode, b"", "too short"),
    (decode_ack, b"\x77", "unknown command"),
    (lambda p: Sample.decode(p, 2, 0), struct.pack("<IQQH", 1, 5, 0, 0) + b"\x01", "1 output bytes"),
    (lambda p: Sample.decode(p, 1, 2), struct.pack("<IQQH", 1, 5, 0, 0) + b"\x01", "0 layer counts"),
    (Sample.decode, struct.pack("<IQQH", 1, 5, 0, 3) + bytes(8), "too short"),
])  # fmt: skip
def test_decoders_refuse_malformed_payloads_with_a_typed_error(decode, payload, problem):
    with pytest.raises(ProtocolError, match=problem):
        decode(payload)
