"""The command set (mirrors firmware/src/protocol.h) and the decoded replies.

Integers are little-endian; a string is a u8 length followed by that many bytes. Every decoder
checks lengths and codes and raises ProtocolError: a payload that is short, long or carries an
unknown code is never read as something else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from harness.errors import ProtocolError, ProtocolVersionError

PROTOCOL_VERSION = 4
READY_LINE = b"TINYHIL READY\n"
HOST_INPUT_INDEX = 0xFFFFFFFF
FLAG_PER_LAYER = 0x01


class Command(IntEnum):
    IDENTIFY = 0x01
    MODEL_INFO = 0x02
    MEASURE_MEMORY = 0x03
    RUN_FLASH = 0x04  # u32 start, u32 count, u8 flags
    RUN_INPUT = 0x05  # u8 flags, input bytes
    LAYER_INFO = 0x06  # u32 layer index


class Reply(IntEnum):
    ACK = 0x80  # u8 the acknowledged command
    IDENTITY = 0x81
    MODEL_INFO = 0x82
    LAYER = 0x83
    MEMORY = 0x84
    SAMPLE = 0x85
    RUN_DONE = 0x86
    ERROR = 0xEE


REPLY_TYPES = frozenset(int(r) for r in Reply)
# The longest payload of each reply: a header claiming more is noise (firmware/src/commands.c).
_STR = 256
REPLY_LIMITS = {Reply.ACK: 1, Reply.IDENTITY: 2 + 16 + 6 * _STR, Reply.MODEL_INFO: 34 + _STR,
                Reply.LAYER: 8 + 2 * _STR, Reply.MEMORY: 36, Reply.RUN_DONE: 8, Reply.ERROR: 1 + _STR}
COMMAND_TYPES = frozenset(int(c) for c in Command)


class ErrorCode(IntEnum):
    UNKNOWN_COMMAND = 2
    BAD_LENGTH = 3
    OUT_OF_RANGE = 4
    TOO_LARGE = 5


DTYPES = {1: np.dtype(np.int8), 2: np.dtype(np.uint8), 3: np.dtype(np.int16), 4: np.dtype(np.int32),
          5: np.dtype(np.float32)}


class _Cursor:
    """Reads fields off a payload in order; running short raises ProtocolError naming the message."""

    def __init__(self, payload: bytes, what: str) -> None:
        self.data = bytes(payload)
        self.what = what
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ProtocolError(f"{self.what} payload of {len(self.data)} bytes is too short")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def string(self) -> str:
        n = self.take("B")
        if self.pos + n > len(self.data):
            raise ProtocolError(f"{self.what}: a string runs past the end of the payload")
        text = self.data[self.pos : self.pos + n]
        self.pos += n
        return text.decode("utf-8", errors="replace")

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{self.what} payload has {len(self.data) - self.pos} bytes too many")


def _dtype(code: int, what: str) -> np.dtype:
    if code not in DTYPES:
        raise ProtocolError(f"{what}: unknown dtype code {code}")
    return DTYPES[code]


@dataclass(frozen=True)
class Identity:
    protocol_version: int
    cpu_hz: int  # the core clock the firmware configured
    timer_hz: int  # the clock the count timer runs at (as the firmware believes)
    timer_overhead: int  # ticks between two back-to-back timer reads
    rx_max: int  # the largest request payload the firmware takes, bytes
    firmware: str
    board: str
    engine: str
    kernels: str
    timer: str  # "dwt_cyccnt" or "systick"
    compiler: str

    @classmethod
    def decode(cls, payload: bytes) -> Identity:
        c = _Cursor(payload, "IDENTITY")
        version = c.take("H")  # first, and checked first: the rest of the layout depends on it
        if version != PROTOCOL_VERSION:
            raise ProtocolVersionError(
                f"the device speaks protocol version {version}, this harness speaks version "
                f"{PROTOCOL_VERSION}: rebuild the firmware from this checkout"
            )
        cpu_hz, timer_hz, overhead, rx_max = c.take("IIII")
        strings = [c.string() for _ in range(6)]
        c.end()
        return cls(version, cpu_hz, timer_hz, overhead, rx_max, *strings)


@dataclass(frozen=True)
class LayerInfo:
    index: int
    macs: int
    op: str
    name: str

    @classmethod
    def decode(cls, payload: bytes) -> LayerInfo:
        c = _Cursor(payload, "LAYER")
        index, macs = c.take("II")
        layer = cls(index, macs, c.string(), c.string())
        c.end()
        return layer


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
        c = _Cursor(payload, "MODEL_INFO")
        in_bytes, out_bytes, in_dt, out_dt, arena, n_layers, macs, count, out_max, max_layers = c.take(
            "IIBBIIIIII"
        )
        name = c.string()
        c.end()
        in_dtype, out_dtype = _dtype(in_dt, "MODEL_INFO input"), _dtype(out_dt, "MODEL_INFO output")
        for nbytes, dtype, what in ((in_bytes, in_dtype, "input"), (out_bytes, out_dtype, "output")):
            if nbytes % dtype.itemsize:
                raise ProtocolError(f"MODEL_INFO: {nbytes} {what} bytes is no whole number of {dtype}")
        if out_bytes > out_max:
            raise ProtocolError(f"MODEL_INFO: output of {out_bytes} bytes exceeds the {out_max}-byte buffer")
        return cls(name, in_bytes, out_bytes, in_dtype, out_dtype, arena, n_layers, macs, count, out_max,
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
    persistent_used_bytes: int  # the engine's persistent buffer in use (painted; 0 for the builtin engine)
    engine_arena_used_bytes: int  # the engine's own figure for its whole arena (TFLM arena_used_bytes(); 0: none)

    @classmethod
    def decode(cls, payload: bytes) -> MemoryReport:
        c = _Cursor(payload, "MEMORY")
        report = cls(*c.take("IIIIIIIII"))
        c.end()
        return report

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
    def decode(cls, payload: bytes, output_bytes: int | None = None, n_layers: int | None = None) -> Sample:
        """`output_bytes` / `n_layers` (when known): the output length and number of layer counts
        the sample must have."""
        c = _Cursor(payload, "SAMPLE")
        index, count, profiled, n = c.take("IQQH")
        layer_counts = tuple(c.take("Q") for _ in range(n))
        output = c.rest()
        if output_bytes is not None and len(output) != output_bytes:
            raise ProtocolError(f"SAMPLE {index}: {len(output)} output bytes, the model has {output_bytes}")
        if n_layers is not None and n != n_layers:
            raise ProtocolError(f"SAMPLE {index}: {n} layer counts, the model has {n_layers} layers")
        return cls(index, count, layer_counts, output, profiled)


@dataclass(frozen=True)
class RunDone:
    start: int
    count: int

    @classmethod
    def decode(cls, payload: bytes) -> RunDone:
        c = _Cursor(payload, "RUN_DONE")
        done = cls(*c.take("II"))
        c.end()
        return done


@dataclass(frozen=True)
class ErrorReply:
    code: int
    message: str

    @classmethod
    def decode(cls, payload: bytes) -> ErrorReply:
        c = _Cursor(payload, "ERROR")
        code = c.take("B")
        message = c.string()
        c.end()
        return cls(code, message)


def decode_ack(payload: bytes) -> int:
    c = _Cursor(payload, "ACK")
    command = c.take("B")
    c.end()
    if command not in COMMAND_TYPES:
        raise ProtocolError(f"ACK of unknown command 0x{command:02x}")
    return command


def run_flash_payload(start: int, count: int, per_layer: bool) -> bytes:
    return struct.pack("<IIB", start, count, FLAG_PER_LAYER if per_layer else 0)


def run_input_payload(data: bytes, per_layer: bool) -> bytes:
    return bytes([FLAG_PER_LAYER if per_layer else 0]) + bytes(data)


def layer_info_payload(index: int) -> bytes:
    return struct.pack("<I", index)
