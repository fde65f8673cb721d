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


# -- the MLPerf runner protocol's host side (harness.protocol.mlperf) ------------------------------
class ScriptedTarget:
    """A Target answering each write with the next canned reply (bytes). `end_is_timeout`: once
    everything is read, a read raises DeviceTimeoutError at once (no waiting out the deadline)."""

    def __init__(self, replies: list[bytes], end_is_timeout: bool = False) -> None:
        self.replies, self.written, self.ready = list(replies), [], b""
        self.end_is_timeout = end_is_timeout

    def write(self, data: bytes) -> None:
        self.written.append(data)
        if self.replies:
            self.ready += self.replies.pop(0)

    def read(self, max_bytes: int, timeout: float) -> bytes:
        if not self.ready and self.end_is_timeout:
            from harness.errors import DeviceTimeoutError

            raise DeviceTimeoutError("the scripted answer ended")
        out, self.ready = self.ready[:max_bytes], self.ready[max_bytes:]
        return out


MLPERF_INFER = (b"m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-1\r\nm-lap-us-100\r\nm-lap-us-350\r\n"
                b"m-infer-done\r\nm-results-[0.25,1e-3,-2]\r\nm-ready\r\n")


def mangled_mlperf_answer(rng) -> bytes:
    """An infer answer broken the ways a link breaks text: bits flipped, bytes dropped or doubled, cut."""
    answer = bytearray(MLPERF_INFER)
    for _ in range(rng.randrange(1, 5)):
        at = rng.randrange(len(answer))
        op = rng.randrange(4)
        if op == 0:
            answer[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del answer[at]
        elif op == 2:
            answer.insert(at, answer[at])
        else:
            del answer[at:]
        if not answer:
            break
    return bytes(answer)


def check_mlperf_answer(data: bytes) -> None:
    """Any answer to `infer` gives a result or one of the project's typed errors, quickly."""
    from harness.errors import TinyhilError
    from harness.protocol.mlperf import MlperfDevice

    try:
        MlperfDevice(ScriptedTarget([data], end_is_timeout=True), timeout=1.0).infer(1, 0)
    except TinyhilError:
        pass
