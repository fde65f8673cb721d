"""Malformed frames for the host decoders, shared by the suite (a modest number of examples) and
benchmarks/fuzz.py (100k). The property: feeding any bytes never raises anything but the
project's typed errors, never loops, and every frame handed out has a valid CRC and a length
within the limits; every reply decoder either returns or raises ProtocolError."""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocol.framing import MAX_PAYLOAD, FrameReader, encode_frame
from harness.protocol.messages import (
    REPLY_LIMITS,
    REPLY_TYPES,
    ErrorReply,
    Identity,
    LayerInfo,
    MemoryReport,
    ModelInfo,
    RunDone,
    Sample,
    decode_ack,
)

DECODERS = {0x80: decode_ack, 0x81: Identity.decode, 0x82: ModelInfo.decode, 0x83: LayerInfo.decode,
            0x84: MemoryReport.decode, 0x85: lambda p: Sample.decode(p, 8, 2), 0x86: RunDone.decode,
            0xEE: ErrorReply.decode}


@st.composite
def mangled_stream(draw) -> bytes:
    """Valid frames, broken in the ways a link breaks them, between random bytes."""
    out = bytearray()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["frame", "garbage", "header"]))
        if kind == "garbage":
            out += draw(st.binary(max_size=64))
            continue
        if kind == "header":  # a sync and a header claiming anything
            out += b"\xa5\x5a" + struct.pack("<BBH", draw(st.integers(0, 255)), draw(st.integers(0, 255)),
                                             draw(st.integers(0, 0xFFFF)))
            continue
        frame = bytearray(encode_frame(draw(st.sampled_from(sorted(REPLY_TYPES))), draw(st.integers(0, 255)),
                                       draw(st.binary(max_size=120))))
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(frame) - 1))
            op = draw(st.sampled_from(["flip", "drop", "dup", "cut"]))
            if op == "flip":
                frame[at] ^= 1 << draw(st.integers(0, 7))
            elif op == "drop":
                del frame[at]
            elif op == "dup":
                frame.insert(at, frame[at])
            else:
                del frame[at:]
            if not frame:
                break
        out += frame
    return bytes(out)


def check_stream(data: bytes, chunk: int) -> None:
    reader = FrameReader(types=REPLY_TYPES, limits=REPLY_LIMITS)
    for i in range(0, len(data), max(1, chunk)):
        reader.feed(data[i : i + chunk])
        for _ in range(len(data) + 2):  # bounded: a frame costs at least OVERHEAD bytes
            frame = reader.next_frame()
            if frame is None:
                break
            assert frame.type in REPLY_TYPES and len(frame.payload) <= REPLY_LIMITS.get(frame.type, MAX_PAYLOAD)
            check_payload(frame.type, frame.payload)
        else:
            raise AssertionError("next_frame kept returning frames past the input's length")
    while reader.pending:
        reader.expire()
        while reader.next_frame() is not None:
            pass


def check_payload(frame_type: int, payload: bytes) -> None:
    try:
        DECODERS[frame_type](payload)
    except ProtocolError:
        pass
