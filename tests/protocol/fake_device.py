"""A Python stand-in for the firmware on the master side of a real pty, speaking frames.

It encodes its replies with struct directly (not with harness.protocol.messages) so the tests
check the harness decoder against an independent writer of the wire format.
"""

from __future__ import annotations

import os
import select
import struct
import threading
import time
import tty

from harness.protocol.framing import FrameReader, encode_frame
from harness.protocol.messages import COMMAND_TYPES, PROTOCOL_VERSION

OUTPUT = bytes([3, 1, 4, 1, 5, 9, 2, 6])


def s(text: str) -> bytes:
    raw = text.encode()
    return bytes([len(raw)]) + raw


class FakeDevice:
    """Serves IDENTIFY, MODEL_INFO, MEASURE_MEMORY, RUN_FLASH, RUN_INPUT like the firmware.

    mode: "ok"; "silent" (never says anything); "mute" (ready line, then never answers);
    "no_ready" (its boot line lost on the way: answers, but never says it is ready);
    "corrupt" (flips a payload byte of every reply); "stale_layer" (every reply to the first request
    of each LAYER_INFO — all its resends, same seq — arrives corrupt, as a broken kept frame would; a
    new request is answered intact); "stale_input" (the same for each RUN_INPUT); "starved" (ignores
    what it receives for its first 1.5 s, as an emulator starved of CPU would).
    `version`: the protocol version it claims."""

    def __init__(self, mode: str = "ok", boot_noise: bytes = b"", version: int = PROTOCOL_VERSION) -> None:
        self.mode = mode
        self.version = version
        self._seq = 0
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        self._slave = slave
        self._stop = threading.Event()
        self.received: list[tuple[int, bytes]] = []
        self._boot = boot_noise + (b"TINYHIL READY\n" if mode not in ("silent", "no_ready") else b"")
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._first_layer_seq: dict[bytes, int] = {}  # "stale_layer": the seq whose replies are broken
        self._corrupt_now = False

    def __enter__(self) -> FakeDevice:
        return self

    def boot(self) -> None:
        """Start talking; call after the host opened the port (pyserial flushes input on open)."""
        self._thread.start()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self._slave)

    def _send(self, frame_type: int, payload: bytes) -> None:
        frame = bytearray(encode_frame(frame_type, self._seq, payload))
        if (self.mode == "corrupt" or self._corrupt_now) and frame_type != 0x80:
            frame[6] ^= 0xFF
        os.write(self.master, bytes(frame))

    def _serve(self) -> None:
        self._booted = time.monotonic()
        os.write(self.master, self._boot)
        reader = FrameReader(types=COMMAND_TYPES)
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            reader.feed(os.read(self.master, 4096))
            while (frame := reader.next_frame()) is not None:
                self.received.append((frame.type, frame.payload))
                if self.mode == "starved" and time.monotonic() - self._booted < 1.5:
                    continue
                if self.mode in ("ok", "corrupt", "no_ready", "stale_layer", "stale_input", "starved"):
                    self._seq = frame.seq
                    if (self.mode, frame.type) in (("stale_layer", 0x06), ("stale_input", 0x05)):
                        first = self._first_layer_seq.setdefault(frame.payload, frame.seq)
                        self._corrupt_now = frame.seq == first
                    self._send(0x80, bytes([frame.type]))
                    self._answer(frame.type, frame.payload)
                    self._corrupt_now = False

    def _answer(self, command: int, payload: bytes) -> None:
        if command == 0x01:
            self._send(0x81, struct.pack("<HIIII", self.version, 168_000_000, 168_000_000, 2, 4086)
                       + s("fake-fw") + s("netduinoplus2")
                       + s("builtin") + s("reference") + s("dwt_cyccnt") + s("gcc 12"))
        elif command == 0x02:
            self._send(0x82, struct.pack("<IIBBIIIIII", 16, 8, 1, 1, 64, 2, 128, 5, 4096, 256) + s("fake"))
        elif command == 0x06:
            (index,) = struct.unpack("<I", payload)
            layers = [(128, "FULLY_CONNECTED", "dense"), (0, "RELU", "relu")]
            macs, op, name = layers[index]
            self._send(0x83, struct.pack("<II", index, macs) + s(op) + s(name))
        elif command == 0x03:
            self._send(0x84, struct.pack("<IIIIIIIII", 64, 8, 40, 8192, 1000, 256, 256, 0, 0))
        elif command == 0x04:
            start, count, flags = struct.unpack("<IIB", payload)
            if start + count > 5:
                self._send(0xEE, bytes([4]) + s("sample range beyond th_data_count"))
                return
            for i in range(start, start + count):
                layers = (700 + i, 300) if flags & 1 else ()
                self._send(0x85, struct.pack("<IQQH", i, 1000 + i, sum(layers), len(layers))
                           + b"".join(struct.pack("<Q", c) for c in layers) + OUTPUT)
            self._send(0x86, struct.pack("<II", start, count))
        elif command == 0x05:
            self._send(0x85, struct.pack("<IQQH", 0xFFFFFFFF, 777, 0, 0) + bytes(reversed(payload[1:9])))
        else:
            self._send(0xEE, bytes([2]) + s("unknown command type"))
