"""The command set (mirrors firmware/src/protocol.h) and the decoded replies.

Integers are little-endian; a string is a u8 length followed by that many bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

PROTOCOL_VERSION = 2
READY_LINE = b"TINYHIL READY\n"
HOST_INPUT_INDEX = 0xFFFFFFFF
FLAG_PER_LAYER = 0x01


class Command(IntEnum):
    IDENTIFY = 0x01
    MODEL_INFO = 0x02
    MEASURE_MEMORY = 0x03
    RUN_FLASH = 0x04  # u32 start, u32 count, u8 flags
    RUN_INPUT = 0x05  # u8 flags, input bytes


class Reply(IntEnum):
    IDENTITY = 0x81
    MODEL_INFO = 0x82
    LAYER = 0x83
    MEMORY = 0x84
    SAMPLE = 0x85
    RUN_DONE = 0x86
    ERROR = 0xEE


class ErrorCode(IntEnum):
    BAD_CRC = 1
    UNKNOWN_COMMAND = 2
    BAD_LENGTH = 3
    OUT_OF_RANGE = 4
    TOO_LARGE = 5


DTYPES = {1: np.dtype(np.int8), 2: np.dtype(np.uint8), 3: np.dtype(np.int16), 4: np.dtype(np.int32),
          5: np.dtype(np.float32)}


class _Cursor:
    """Reads fields off a payload in order."""

    def __init__(self, payload: bytes) -> None:
        self.data = payload
        self.pos = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def string(self) -> str:
        n = self.take("B")
        text = self.data[self.pos : self.pos + n]
        if len(text) != n:
            raise struct.error("string runs past the end of the payload")
        self.pos += n
        return text.decode("utf-8", errors="replace")

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


@dataclass(frozen=True)
class Identity:
    protocol_version: int
    cpu_hz: int  # the core clock the firmware configured
    timer_hz: int  # the clock the count timer runs at (as the firmware believes)
    timer_overhead: int  # ticks between two back-to-back timer reads
    firmware: str
    board: str
    engine: str
    kernels: str
    timer: str  # "dwt_cyccnt" or "systick"
    compiler: str

    @classmethod
    def decode(cls, payload: bytes) -> Identity:
        c = _Cursor(payload)
        version, cpu_hz, timer_hz, overhead = c.take("HIII")
        return cls(version, cpu_hz, timer_hz, overhead, *(c.string() for _ in range(6)))


@dataclass(frozen=True)
class LayerInfo:
    index: int
    macs: int
    op: str
    name: str

    @classmethod
    def decode(cls, payload: bytes) -> LayerInfo:
        c = _Cursor(payload)
        index, macs = c.take("II")
        return cls(index, macs, c.string(), c.string())


@dataclass(frozen=True)
class ModelInfo:
    name: str
    input_bytes: int
    output_bytes: int
    input_dtype: np.dtype
    output_dtype: np.dtype
    arena_bytes: int
    n_layers: int
    macs: int
    data_count: int  # samples compiled into flash
    output_max: int  # the firmware's output buffer
    max_layers: int  # the most layers the firmware can time
    layers: tuple[LayerInfo, ...] = ()

    @classmethod
    def decode(cls, payload: bytes) -> ModelInfo:
        c = _Cursor(payload)
        in_bytes, out_bytes, in_dt, out_dt, arena, n_layers, macs, count, out_max, max_layers = c.take(
            "IIBBIIIIII"
        )
        return cls(c.string(), in_bytes, out_bytes, DTYPES.get(in_dt, np.dtype(np.uint8)),
                   DTYPES.get(out_dt, np.dtype(np.uint8)), arena, n_layers, macs, count, out_max,
                   max_layers)


@dataclass(frozen=True)
class MemoryReport:
    arena_plan_bytes: int
    arena_used_bytes: int  # painted high-water mark over one inference; past the plan = overflow
    stack_used_bytes: int  # deepest stack below the caller during one inference
    stack_size_bytes: int  # usable stack (the reserved stack less its guard band)
    static_ram_bytes: int  # .data + .bss
    arena_guard_bytes: int  # painted past the planned arena
    stack_guard_bytes: int  # painted at the low end of the stack region

    @classmethod
    def decode(cls, payload: bytes) -> MemoryReport:
        return cls(*_Cursor(payload).take("IIIIIII"))

    def overflow(self) -> str | None:
        """Why this report shows an overflow, with the numbers, or None."""
        if self.arena_used_bytes > self.arena_plan_bytes:
            over = self.arena_used_bytes - self.arena_plan_bytes
            beyond = " (the whole guard band: at least that much)" if over >= self.arena_guard_bytes else ""
            return (f"arena overflow: one inference wrote {over} bytes past the planned "
                    f"{self.arena_plan_bytes}-byte arena{beyond}")
        if self.stack_used_bytes > self.stack_size_bytes:
            return (f"stack overflow: one inference used {self.stack_used_bytes} bytes of stack, "
                    f"{self.stack_size_bytes} are usable (into the {self.stack_guard_bytes}-byte guard)")
        return None


@dataclass(frozen=True)
class Sample:
    index: int  # HOST_INPUT_INDEX for RUN_INPUT
    count: int  # timer ticks for the whole inference, from an unhooked pass
    layer_counts: tuple[int, ...]  # ticks per layer from a second, hooked pass; empty unless asked for
    output: bytes
    profiled_count: int = 0  # ticks of the hooked pass as a whole (0 without per-layer timing)

    @classmethod
    def decode(cls, payload: bytes) -> Sample:
        c = _Cursor(payload)
        index, count, profiled, n = c.take("IQQH")
        layer_counts = tuple(c.take("Q") for _ in range(n))
        return cls(index, count, layer_counts, c.rest(), profiled)


@dataclass(frozen=True)
class ErrorReply:
    code: int
    message: str

    @classmethod
    def decode(cls, payload: bytes) -> ErrorReply:
        c = _Cursor(payload)
        return cls(c.take("B"), c.string())


def run_flash_payload(start: int, count: int, per_layer: bool) -> bytes:
    return struct.pack("<IIB", start, count, FLAG_PER_LAYER if per_layer else 0)


def run_input_payload(data: bytes, per_layer: bool) -> bytes:
    return bytes([FLAG_PER_LAYER if per_layer else 0]) + bytes(data)
