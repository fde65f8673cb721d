"""The link: one request at a time over a Target, made reliable on a noisy line.

* Every request carries a sequence number; the device acknowledges it (ACK, same seq) before it
  works on it, and every frame it sends for it carries that seq, so replies to earlier requests
  (a replay of a retried one, say) are told apart and ignored.
* A request with no ACK in `ack_timeout_s` (plus its transfer time), or no reply in the request
  timeout, or whose reply arrived corrupt (the line then went quiet), is sent again with the same
  seq, at most `retries` times; the firmware answers a repeat with the reply it already sent
  instead of running the request again.
* A frame whose next byte is `inter_byte_timeout_s` late is given up (the reader rescans it), so
  a lost or corrupted length byte costs a fraction of a second, not the request timeout.
* The device's ready line in the middle of a session means it rebooted: DeviceResetError.
"""

from __future__ import annotations

import difflib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import DeviceError, DeviceResetError, DeviceTimeoutError, ProtocolError
from harness.protocol.framing import CorruptFrameError, Frame, FrameReader, encode_frame
from harness.protocol.messages import (
    READY_LINE,
    REPLY_LIMITS,
    REPLY_TYPES,
    Command,
    ErrorReply,
    Reply,
    decode_ack,
)
from harness.targets.base import Target

TAIL_BYTES = 256  # how much of the received stream an error quotes
POLL_S = 0.05
FAULT_MARK = b"TINYHIL FAULT"  # the firmware's fault handler prints this line, then stops


@dataclass(frozen=True)
class LinkConfig:
    retries: int = 20  # resends of one request (same seq) before it fails
    ack_timeout_s: float = 0.3  # wait for the ACK, on top of the request's transfer time
    ack_timeout_max_s: float = 1.0  # each resend in a row without an ACK waits 1.5x longer, up to this
    query_rounds: int = 3  # a query whose replies kept arriving corrupt is asked afresh (new seq) this often
    inter_byte_timeout_s: float = 0.2  # a frame whose next byte is this late is broken
    rx_bytes_per_s: float = 4000.0  # the slowest device input rate assumed (QEMU takes ~9 KB/s)
    sample_rounds: int = 20  # requests of one missing sample before the run fails
    max_resets: int = 3  # device reboots one session survives
    ready_probe_s: float = 5.0  # no boot line by then (lost on the line): ask IDENTIFY whether it is up


@dataclass
class LinkStats:
    requests: int = 0
    retransmissions: int = 0
    resets: int = 0


def with_context(error: DeviceError, last_bytes: bytes, log_path) -> DeviceError:
    error.last_bytes = last_bytes
    error.log_path = log_path
    return error


def _looks_like_ready(tail: bytes) -> bool:
    """A ready line with a few bytes dropped, doubled or flipped (a noisy link)."""
    line = tail.rstrip(b"\r\n")[-2 * len(READY_LINE) :]
    return difflib.SequenceMatcher(None, line, READY_LINE.rstrip()).ratio() >= 0.6


class Link:
    def __init__(self, target: Target, *, timeout: float, config: LinkConfig | None = None,
                 seed: int | None = None) -> None:
        self.target = target
        self.timeout = timeout
        self.config = config or LinkConfig()
        self.stats = LinkStats()
        self.ready = False
        self.reader = FrameReader(types=REPLY_TYPES, limits=REPLY_LIMITS)
        self._seq = random.Random(seed).randrange(256)
        self._tail = bytearray()
        self._last_byte = time.monotonic()

    # -- bytes -------------------------------------------------------------------------------
    @property
    def last_bytes(self) -> bytes:
        return bytes(self._tail)

    def error(self, error: DeviceError) -> DeviceError:
        return with_context(error, self.last_bytes, self.target.log_path)

    def _log_hint(self) -> str:
        return f"; log: {self.target.log_path}" if self.target.log_path else ""

    def receive(self, until: float) -> bytes:
        try:
            chunk = self.target.read(4096, max(0.0, min(POLL_S, until - time.monotonic())))
        except DeviceError as e:  # the target died (QEMU exited, port vanished): say what came last
            raise self.error(e) from None
        if chunk:
            self._last_byte = time.monotonic()
            self._tail += chunk
            del self._tail[:-TAIL_BYTES]
            self._check_fault()
        return chunk

    def _check_fault(self) -> None:
        at = self._tail.find(FAULT_MARK)
        if at < 0 or b"\n" not in self._tail[at:]:
            return
        line = self._tail[at:].split(b"\n", 1)[0].decode(errors="replace")
        raise self.error(DeviceError(f"the firmware crashed: {line}{self._log_hint()}"))

    def timeout_error(self, what: str, timeout: float) -> DeviceTimeoutError:
        return self.error(DeviceTimeoutError(
            f"no {what} from the {self.target.name} target within {timeout:g} s; "
            f"last bytes received: {self.last_bytes[-64:]!r}{self._log_hint()}"))

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the firmware's boot line; frames may only be sent after it. A line that came
        through damaged (and the line went quiet after it) counts too: requests are retried."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        probe_at = time.monotonic() + self.config.ready_probe_s
        pending = bytearray()
        while READY_LINE not in pending:
            now = time.monotonic()
            quiet = now - self._last_byte >= self.config.inter_byte_timeout_s
            if pending and quiet and _looks_like_ready(bytes(pending)):
                pending.clear()
                break
            if now >= probe_at and quiet:
                probe_at = deadline  # once
                if self._answers_identify(deadline):
                    return
            if now >= deadline:
                raise self.timeout_error("'TINYHIL READY' line", timeout)
            pending += self.receive(deadline)
        self.reader.feed(bytes(pending.split(READY_LINE, 1)[1]) if pending else b"")
        self.reader.noise.clear()
        self.ready = True

    def _answers_identify(self, deadline: float) -> bool:
        """Whether the device answers an IDENTIFY although its boot line never came through (a
        noisy line can take more of it than `_looks_like_ready` forgives). IDENTIFY is always
        answered afresh, so asking it once more later costs nothing."""
        self.ready = True
        try:
            self.request(Command.IDENTIFY, b"", Reply.IDENTITY, timeout=max(0.5, min(5.0, deadline - time.monotonic())))
        except DeviceResetError:  # the boot line came during the probe: up now
            pass
        except DeviceError:
            self.ready = False
            return False
        self.reader.noise.clear()
        return True

    def poll(self, until: float) -> Frame | None:
        """The next whole frame to arrive before `until`, or None."""
        while True:
            frame = self.reader.next_frame()
            if READY_LINE in self.reader.noise:
                self.reader.noise.clear()
                raise self.error(DeviceResetError(f"the device rebooted (its ready line came again){self._log_hint()}"))
            if frame is not None:
                return frame
            now = time.monotonic()
            if self.reader.pending and now - self._last_byte > self.config.inter_byte_timeout_s:
                self.reader.expire()
                continue
            if now >= until:
                return None
            self.reader.feed(self.receive(until))

    def trouble(self) -> int:
        """A count that grows with every broken frame and every stray byte (a lost sync)."""
        return self.reader.corrupt + self.reader.skipped

    def quiet_after_trouble(self, trouble_before: int) -> bool:
        """Something arrived broken since `trouble_before` and nothing more is coming."""
        return (self.trouble() > trouble_before and not self.reader.pending
                and time.monotonic() - self._last_byte >= self.config.inter_byte_timeout_s)

    # -- requests ----------------------------------------------------------------------------
    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _write(self, frame: bytes) -> None:
        if not self.ready:
            self.wait_ready()
        self.target.write(frame)

    def _gave_up(self, command: Command, acked: bool, ack_wait: float, timeout: float,
                 corrupt_before: int) -> DeviceError:
        attempts = self.config.retries + 1
        if self.reader.corrupt > corrupt_before:  # this request's replies came broken (not only earlier ones)
            return self.error(CorruptFrameError(
                f"{command.name}: no intact reply after {attempts} attempts; {self.reader.corrupt} corrupt "
                f"frames so far, the last: {self.reader.last_problem}{self._log_hint()}"))
        waited, each = ("reply", timeout) if acked else ("acknowledgement", ack_wait)
        return self.error(DeviceTimeoutError(
            f"no {waited} to {command.name} after {attempts} attempts (the last waited {each:.2g} s) from the "
            f"{self.target.name} target; last bytes received: {self.last_bytes[-64:]!r}{self._log_hint()}"))

    def exchange(self, command: Command, payload: bytes, on_frame: Callable[[Frame], bool],
                 timeout: float | None = None) -> None:
        """Send one request and hand every frame for it to `on_frame` until that returns True.

        `timeout` bounds the wait for each next frame after the ACK; `on_frame` returning False
        means "more to come" (streamed samples); any frame for this request counts as progress."""
        timeout = self.timeout if timeout is None else timeout
        cfg = self.config
        seq = self.next_seq()
        frame = encode_frame(command, seq, payload)
        ack_wait = cfg.ack_timeout_s + len(frame) / cfg.rx_bytes_per_s
        self.stats.requests += 1
        attempts, acked, unacked = 0, False, 0
        corrupt_before = self.reader.corrupt
        self._write(frame)
        trouble_before = self.trouble()
        wait = ack_wait
        deadline = time.monotonic() + wait
        while True:
            got = self.poll(min(deadline, time.monotonic() + cfg.inter_byte_timeout_s))
            now = time.monotonic()
            if got is None:
                if now >= deadline or self.quiet_after_trouble(trouble_before):
                    attempts += 1
                    if attempts > cfg.retries:
                        raise self._gave_up(command, acked, wait, timeout, corrupt_before)
                    # No ACK again: the device (or the host running an emulator) may be starved; wait longer.
                    unacked = 0 if acked else unacked + 1
                    wait = min(max(cfg.ack_timeout_max_s, ack_wait), ack_wait * 1.5**unacked)
                    self.stats.retransmissions += 1
                    self._write(frame)
                    trouble_before = self.trouble()
                    deadline = now + wait  # every copy of a request is acknowledged
                    acked = False
                continue
            if got.seq != seq:
                continue  # a late reply to an earlier request
            acked = True
            deadline = now + timeout
            if got.type == Reply.ACK:
                if decode_ack(got.payload) != command:
                    raise self.error(ProtocolError(f"ACK for seq {seq} names another command than {command.name}"))
                continue
            attempts = 0
            if got.type == Reply.ERROR:
                err = ErrorReply.decode(got.payload)
                raise self.error(DeviceError(f"device reported error {err.code}: {err.message}"))
            if on_frame(got):
                return

    def request(self, command: Command, payload: bytes, expect: Reply, timeout: float | None = None) -> bytes:
        """One request, one reply of type `expect`: its payload."""
        result: list[bytes] = []

        def take(frame: Frame) -> bool:
            if frame.type != expect:
                raise self.error(ProtocolError(f"expected a {expect.name} frame for {command.name}, "
                                               f"got type 0x{frame.type:02x}"))
            result.append(frame.payload)
            return True

        self.exchange(command, payload, take, timeout)
        return result[0]
