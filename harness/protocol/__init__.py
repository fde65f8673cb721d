"""Framed serial protocol between the harness and the firmware, independent of the transport."""

from harness.protocol.device import Device
from harness.protocol.framing import CorruptFrameError, Frame, FrameReader, crc16, encode_frame
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
    Sample,
)

__all__ = [
    "DTYPES", "HOST_INPUT_INDEX", "PROTOCOL_VERSION", "READY_LINE", "Command", "CorruptFrameError",
    "Device", "ErrorCode", "ErrorReply", "Frame", "FrameReader", "Identity", "LayerInfo", "MemoryReport",
    "ModelInfo", "Reply", "Sample", "crc16", "encode_frame",
]
