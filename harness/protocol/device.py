"""The host side of the protocol: commands out, replies in, every wait bounded by a timeout."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from harness.errors import DeviceError, DeviceTimeoutError
from harness.protocol.framing import CorruptFrameError, Frame, FrameReader, encode_frame
from harness.protocol.messages import (
    HOST_INPUT_INDEX,
    READY_LINE,
    Command,
    ErrorReply,
    Identity,
    LayerInfo,
    MemoryReport,
    ModelInfo,
    Reply,
    Sample,
    run_flash_payload,
    run_input_payload,
)
from harness.targets.base import Target

TAIL_BYTES = 256  # how much of the received stream an error quotes
POLL_S = 0.05
FAULT_MARK = b"TINYHIL FAULT"  # the firmware's fault handler prints this line, then stops


def _with_context(error: DeviceError, last_bytes: bytes, log_path) -> DeviceError:
    error.last_bytes = last_bytes
    error.log_path = log_path
    return error


class Device:
    """Talks to the tinyhil firmware over any Target."""

    def __init__(self, target: Target, *, timeout: float = 10.0) -> None:
        self.target = target
        self.timeout = timeout
        self.ready = False
        self._reader = FrameReader()
        self._pending = bytearray()  # bytes read while waiting for the ready line
        self._tail = bytearray()
        self._model_info: ModelInfo | None = None

    # -- low level ---------------------------------------------------------------------------
    @property
    def last_bytes(self) -> bytes:
        return bytes(self._tail)

    def _receive(self, deadline: float) -> bytes:
        try:
            chunk = self.target.read(4096, max(0.0, min(POLL_S, deadline - time.monotonic())))
        except DeviceError as e:  # the target died (QEMU exited, port vanished): say what came last
            raise _with_context(e, self.last_bytes, self.target.log_path) from None
        if chunk:
            self._tail += chunk
            del self._tail[:-TAIL_BYTES]
            self._check_fault()
        return chunk

    def _check_fault(self) -> None:
        at = self._tail.find(FAULT_MARK)
        if at < 0 or b"\n" not in self._tail[at:]:
            return
        line = self._tail[at:].split(b"\n", 1)[0].decode(errors="replace")
        log = self.target.log_path
        raise _with_context(
            DeviceError(f"the firmware crashed: {line}" + (f"; log: {log}" if log else "")),
            self.last_bytes,
            log,
        )

    def _timeout(self, what: str, timeout: float) -> DeviceTimeoutError:
        tail = self.last_bytes
        log = self.target.log_path
        return _with_context(
            DeviceTimeoutError(
                f"no {what} from the {self.target.name} target within {timeout:g} s; "
                f"last bytes received: {tail[-64:]!r}" + (f"; log: {log}" if log else "")
            ),
            tail,
            log,
        )

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the firmware's boot line; frames may only be sent after it."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while READY_LINE not in self._pending:
            if time.monotonic() >= deadline:
                raise self._timeout("'TINYHIL READY' line", timeout)
            self._pending += self._receive(deadline)
        after = self._pending.split(READY_LINE, 1)[1]
        self._reader.feed(bytes(after))
        self._pending.clear()
        self.ready = True

    def send(self, command: Command, payload: bytes = b"") -> None:
        if not self.ready:
            self.wait_ready()
        self.target.write(encode_frame(command, payload))

    def receive(self, timeout: float | None = None) -> Frame:
        """The next frame; an ERROR frame raises DeviceError, a corrupt one CorruptFrameError."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self._reader.next_frame()
            except CorruptFrameError as e:
                raise _with_context(e, self.last_bytes, self.target.log_path) from None
            if frame is not None:
                break
            if time.monotonic() >= deadline:
                raise self._timeout("reply frame", timeout)
            self._reader.feed(self._receive(deadline))
        if frame.type == Reply.ERROR:
            err = ErrorReply.decode(frame.payload)
            raise _with_context(
                DeviceError(f"device reported error {err.code}: {err.message}"),
                self.last_bytes,
                self.target.log_path,
            )
        return frame

    def _expect(self, reply: Reply, timeout: float | None = None) -> bytes:
        frame = self.receive(timeout)
        if frame.type != reply:
            raise _with_context(
                DeviceError(f"expected a {reply.name} frame, got type 0x{frame.type:02x}"),
                self.last_bytes,
                self.target.log_path,
            )
        return frame.payload

    # -- commands ----------------------------------------------------------------------------
    def identify(self, timeout: float | None = None) -> Identity:
        self.send(Command.IDENTIFY)
        return Identity.decode(self._expect(Reply.IDENTITY, timeout))

    def model_info(self, timeout: float | None = None) -> ModelInfo:
        self.send(Command.MODEL_INFO)
        info = ModelInfo.decode(self._expect(Reply.MODEL_INFO, timeout))
        layers = tuple(LayerInfo.decode(self._expect(Reply.LAYER, timeout)) for _ in range(info.n_layers))
        self._model_info = dataclasses.replace(info, layers=layers)
        return self._model_info

    def measure_memory(self, timeout: float | None = None) -> MemoryReport:
        self.send(Command.MEASURE_MEMORY)
        return MemoryReport.decode(self._expect(Reply.MEMORY, timeout))

    def run_flash(
        self,
        start: int,
        count: int,
        per_layer: bool = False,
        *,
        timeout: float | None = None,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> list[Sample]:
        """Run the samples compiled into flash; `timeout` bounds the wait for each next sample."""
        self.send(Command.RUN_FLASH, run_flash_payload(start, count, per_layer))
        samples = []
        for expected in range(start, start + count):
            sample = Sample.decode(self._expect(Reply.SAMPLE, timeout))
            if sample.index != expected:
                raise _with_context(
                    DeviceError(f"sample {sample.index} arrived where {expected} was expected"),
                    self.last_bytes,
                    self.target.log_path,
                )
            samples.append(sample)
            if on_sample:
                on_sample(sample)
        done = self._expect(Reply.RUN_DONE, timeout)
        if int.from_bytes(done[:4], "little") != count:
            raise DeviceError(f"device ran {int.from_bytes(done[:4], 'little')} samples, not {count}")
        return samples

    def run_input(self, data: bytes, per_layer: bool = False, *, timeout: float | None = None) -> Sample:
        """Send one input (the model's own dtype, raw bytes) and run it."""
        self.send(Command.RUN_INPUT, run_input_payload(data, per_layer))
        sample = Sample.decode(self._expect(Reply.SAMPLE, timeout))
        if sample.index != HOST_INPUT_INDEX:
            raise DeviceError(f"expected the reply to a host input, got sample {sample.index}")
        return sample
