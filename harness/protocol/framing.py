"""Frames: 0xA5 0x5A | type u8 | seq u8 | len u16 LE | payload | crc32(type..payload) u32 LE.

The CRC is zlib's CRC-32. `FrameReader` takes bytes as they arrive and hands out whole frames.
It resynchronises instead of discarding: a header with a type the reader does not expect or a
length above `MAX_PAYLOAD`, or a frame whose CRC fails, costs one byte — the scan resumes at the
byte after that sync pattern, so good frames after a broken one are still found. `expire()` gives
up on a frame whose bytes stopped coming (the caller's inter-byte timeout). Bytes that belong to
no frame (boot text, a reset's ready line, noise) are kept in `noise` for the caller to inspect.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Container, Mapping
from dataclasses import dataclass

from harness.errors import DeviceError

SYNC = b"\xa5\x5a"
HEADER = struct.Struct("<BBH")  # type, seq, payload length
CRC = struct.Struct("<I")
HEADER_BYTES = len(SYNC) + HEADER.size
OVERHEAD = HEADER_BYTES + CRC.size
MAX_PAYLOAD = 32768  # no frame is longer in either direction (firmware/src/protocol.h)
NOISE_KEEP = 4096


class CorruptFrameError(DeviceError):
    """Frames kept arriving corrupt (bad CRC, broken length) until the retries ran out."""


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes


def encode_frame(frame_type: int, seq: int, payload: bytes = b"") -> bytes:
    if not 0 <= frame_type <= 0xFF:
        raise ValueError(f"frame type {frame_type} does not fit a byte")
    if not 0 <= seq <= 0xFF:
        raise ValueError(f"sequence number {seq} does not fit a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte frame limit")
    body = HEADER.pack(frame_type, seq, len(payload)) + bytes(payload)
    return SYNC + body + CRC.pack(crc32(body))


class FrameReader:
    """Incremental decoder: feed() bytes, then take frames with next_frame() until it gives None.

    `types`: the frame types this end accepts (others are taken for noise); None accepts any.
    `limits`: the longest payload of some types (others: `max_payload`)."""

    def __init__(self, types: Container[int] | None = None, max_payload: int = MAX_PAYLOAD,
                 limits: Mapping[int, int] | None = None) -> None:
        self._buf = bytearray()
        self.types = types
        self.max_payload = max_payload
        self.limits = dict(limits or {})
        self.noise = bytearray()  # the latest bytes that were part of no frame
        self.skipped = 0  # bytes that were part of no frame, in all
        self.corrupt = 0  # frame starts rejected: bad CRC, unexpected type, impossible length
        self.last_problem = ""

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> bool:
        """Bytes of an unfinished frame are waiting for the rest."""
        return bool(self._buf)

    def _skip(self, n: int) -> None:
        self.noise += self._buf[:n]
        del self.noise[:-NOISE_KEEP]
        self.skipped += n
        del self._buf[:n]

    def _reject(self, problem: str) -> None:
        self.corrupt += 1
        self.last_problem = problem
        self._skip(1)

    def expire(self) -> None:
        """The rest of the pending frame is not coming: rescan after its first byte."""
        if self._buf:
            self._reject(f"frame start cut off ({len(self._buf)} bytes, then silence)")

    def next_frame(self) -> Frame | None:
        while True:
            start = self._buf.find(SYNC)
            if start < 0:
                keep = 1 if self._buf.endswith(SYNC[:1]) else 0
                self._skip(len(self._buf) - keep)
                return None
            self._skip(start)
            if len(self._buf) < HEADER_BYTES:
                return None
            frame_type, seq, length = HEADER.unpack_from(self._buf, len(SYNC))
            if length > self.limits.get(frame_type, self.max_payload):
                self._reject(f"impossible length {length} (type 0x{frame_type:02x})")
                continue
            if self.types is not None and frame_type not in self.types:
                self._reject(f"unexpected frame type 0x{frame_type:02x}")
                continue
            total = OVERHEAD + length
            if len(self._buf) < total:
                return None
            body = bytes(self._buf[len(SYNC) : total - CRC.size])
            (received,) = CRC.unpack_from(self._buf, total - CRC.size)
            if crc32(body) != received:
                self._reject(f"frame type 0x{frame_type:02x} ({length} bytes) failed its CRC check")
                continue
            del self._buf[:total]
            return Frame(frame_type, seq, body[HEADER.size :])
