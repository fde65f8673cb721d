"""Framed serial protocol between the harness and the firmware, independent of the transport."""

from harness.protocol.device import Device
from harness.protocol.framing import CorruptFrameError, Frame, FrameReader, crc32, encode_frame
from harness.protocol.link import Link, LinkConfig, LinkStats
from harness.protocol.messages import (
    DTYPES,
    HOST_INPUT_INDEX,
    PROTOCOL_VERSION,
    READY_LINE,
    Command,
    ErrorCode,
    ErrorReply,
    Identity,
    LayerInfo,
    MemoryReport,
    ModelInfo,
    Reply,
    RunDone,
    Sample,
)

__all__ = [
    "DTYPES", "HOST_INPUT_INDEX", "PROTOCOL_VERSION", "READY_LINE", "Command", "CorruptFrameError",
    "Device", "ErrorCode", "ErrorReply", "Frame", "FrameReader", "Identity", "LayerInfo", "Link", "LinkConfig",
    "LinkStats", "MemoryReport", "ModelInfo", "Reply", "RunDone", "Sample", "crc32", "encode_frame",
]
