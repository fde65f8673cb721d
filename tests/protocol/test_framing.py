import struct

import pytest

from harness.errors import DeviceError
from harness.protocol import CorruptFrameError, Frame, FrameReader, Identity, Sample, crc16, encode_frame
from harness.protocol.messages import ModelInfo


def test_crc_is_ccitt_false():
    assert crc16(b"123456789") == 0x29B1  # the CRC-16/CCITT-FALSE check value
    assert crc16(b"") == 0xFFFF


def test_frame_layout():
    frame = encode_frame(0x04, b"\x01\x02")
    assert frame[:2] == b"\xa5\x5a"
    assert frame[2] == 0x04 and frame[3:5] == b"\x02\x00" and frame[5:7] == b"\x01\x02"
    assert struct.unpack("<H", frame[7:])[0] == crc16(frame[2:7])


def test_reader_skips_noise_and_handles_split_frames():
    reader = FrameReader()
    frames_out = encode_frame(0x81, b"hello") + encode_frame(0x86, b"") + encode_frame(0x85, b"x" * 300)
    stream = b"boot noise \xa5" + frames_out
    frames = []
    for i in range(0, len(stream), 7):  # arrive in small pieces
        reader.feed(stream[i : i + 7])
        while (f := reader.next_frame()) is not None:
            frames.append(f)
    assert frames == [Frame(0x81, b"hello"), Frame(0x86, b""), Frame(0x85, b"x" * 300)]
    assert reader.skipped == len(b"boot noise \xa5")


def test_bad_crc_raises_then_the_reader_resyncs():
    bad = bytearray(encode_frame(0x81, b"payload"))
    bad[6] ^= 0x01
    reader = FrameReader()
    reader.feed(bytes(bad) + encode_frame(0x86, b"\x04\x00\x00\x00"))
    with pytest.raises(CorruptFrameError, match="0x81.*CRC"):
        reader.next_frame()
    assert issubclass(CorruptFrameError, DeviceError)
    assert reader.next_frame() == Frame(0x86, b"\x04\x00\x00\x00")


def test_encode_rejects_oversized_payload():
    with pytest.raises(ValueError, match="65535"):
        encode_frame(0x05, bytes(70_000))


def test_message_decoding():
    ident = Identity.decode(struct.pack("<HIII", 1, 25_000_000, 25_000_000, 0)
                            + b"".join(bytes([len(t)]) + t for t in (b"fw", b"b", b"builtin", b"optimized",
                                                                     b"systick", b"gcc")))
    assert ident.timer == "systick" and ident.cpu_hz == 25_000_000 and ident.compiler == "gcc"
    sample = Sample.decode(struct.pack("<IQQH", 3, 2**40 + 5, 16, 2) + struct.pack("<QQ", 7, 8) + b"\x01\x02")
    assert sample == Sample(3, 2**40 + 5, (7, 8), b"\x01\x02", profiled_count=16)
    info = ModelInfo.decode(struct.pack("<IIBBIIIIII", 16, 8, 5, 1, 64, 2, 128, 5, 4096, 256) + b"\x01m")
    assert info.input_dtype == "float32" and info.output_dtype == "int8" and info.name == "m"
    with pytest.raises(struct.error):
        Identity.decode(b"\x01\x00")
