"""Frames: 0xA5 0x5A | type u8 | len u16 LE | payload | crc16-CCITT(type..payload) u16 LE.

The CRC is CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), which `binascii.crc_hqx`
computes. `FrameReader` takes bytes as they arrive and hands out whole frames, skipping
anything before a sync pattern (boot text, line noise).
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from harness.errors import DeviceError

SYNC = b"\xa5\x5a"
HEADER = struct.Struct("<BH")  # type, payload length
MAX_PAYLOAD = 0xFFFF


class CorruptFrameError(DeviceError):
    """A frame arrived whose CRC does not match its contents."""


def crc16(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes


def encode_frame(frame_type: int, payload: bytes = b"") -> bytes:
    if not 0 <= frame_type <= 0xFF:
        raise ValueError(f"frame type {frame_type} does not fit a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte frame limit")
    body = HEADER.pack(frame_type, len(payload)) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


class FrameReader:
    """Incremental decoder: feed() bytes, then take frames with next_frame()."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0  # bytes discarded while looking for a sync pattern

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_frame(self) -> Frame | None:
        """The next complete frame, None if more bytes are needed.

        Raises CorruptFrameError for a frame with a bad CRC, after dropping it, so the caller
        may keep reading."""
        start = self._buf.find(SYNC)
        if start < 0:
            keep = 1 if self._buf.endswith(SYNC[:1]) else 0
            self.skipped += len(self._buf) - keep
            del self._buf[: len(self._buf) - keep]
            return None
        self.skipped += start
        del self._buf[:start]
        if len(self._buf) < 2 + HEADER.size:
            return None
        frame_type, length = HEADER.unpack_from(self._buf, 2)
        total = 2 + HEADER.size + length + 2
        if len(self._buf) < total:
            return None
        body = bytes(self._buf[2 : total - 2])
        (received_crc,) = struct.unpack_from("<H", self._buf, total - 2)
        del self._buf[:total]
        if crc16(body) != received_crc:
            raise CorruptFrameError(
                f"frame type 0x{frame_type:02x} ({length} bytes) failed its CRC check: "
                f"got 0x{received_crc:04x}, computed 0x{crc16(body):04x}"
            )
        return Frame(frame_type, body[HEADER.size :])
