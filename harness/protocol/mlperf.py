"""The host side of the EEMBC / MLPerf Tiny runner protocol, performance mode.

ASCII commands ending in '%' (`name`, `profile`, `db load N`, `db <hex>`, `infer N W`, `results`);
each is answered by lines ending in "\\r\\n" and then `m-ready`; a line starting `e-` is the
device refusing the command. This drives any device that speaks it: tinyhil's firmware built with
`--protocol mlperf` (firmware/src/mlperf.c) or MLPerf Tiny reference firmware. Only tinyhil's own
firmware answers `tinyhil-info`; for any other device that is None and the row says less.

Latency here is what the runner measures: two `m-lap-us` stamps, in microseconds of the device's
timer, around N inferences. An emulator's microseconds are virtual time (instructions at the
board's clock), which the caller converts with the target's CountScale, never calling them cycles.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass

from harness.errors import DeviceError, DeviceTimeoutError, ProtocolError
from harness.targets.base import Target

COMMAND_MAX = 80  # the reference firmware's EE_CMD_SIZE: longer commands are cut there
LINE_MAX = 1 << 16  # a "line" longer than this without a line end is noise, not a reply
READY = "m-ready"
_RESULTS = re.compile(r"^m-results-\[(.*)\]$")
_LAP = re.compile(r"^m-lap-us-(\d+)$")
_NAME = re.compile(r"^m-name-(.*)$")
_FIELDS = re.compile(r"^m-tinyhil-(identity|memory)-\[(.*)\]$")


@dataclass(frozen=True)
class MlperfInference:
    iterations: int
    warmup: int
    start_us: int
    end_us: int
    results: tuple[float, ...]

    @property
    def elapsed_us(self) -> int:
        return self.end_us - self.start_us


def parse_results(line: str) -> tuple[float, ...]:
    m = _RESULTS.match(line)
    if not m:
        raise ProtocolError(f"not an m-results line: {line[:80]!r}")
    body = m.group(1).strip()
    try:
        return tuple(float(x) for x in body.split(",")) if body else ()
    except ValueError:
        raise ProtocolError(f"m-results holds something other than numbers: {line[:120]!r}") from None


def _fields(body: str) -> dict[str, str]:
    out = {}
    for item in body.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise ProtocolError(f"tinyhil-info field without '=': {item[:60]!r}")
        out[key] = value
    return out


class MlperfDevice:
    """Talks the MLPerf Tiny runner protocol over any Target."""

    def __init__(self, target: Target, *, timeout: float = 30.0, chunk_bytes: int = 32) -> None:
        if not 1 <= chunk_bytes <= (COMMAND_MAX - 4) // 2:
            raise ValueError(f"chunk_bytes must be 1..{(COMMAND_MAX - 4) // 2}")
        self.target = target
        self.timeout = timeout
        self.chunk_bytes = chunk_bytes
        self._pending = b""
        self.transcript: deque[str] = deque(maxlen=64)  # the latest lines received, for error messages

    # ---- lines ----------------------------------------------------------------------------------

    def _line(self, deadline: float, waiting_for: str) -> str:
        while b"\n" not in self._pending:
            if len(self._pending) > LINE_MAX:
                raise ProtocolError(f"{len(self._pending)} bytes without a line end while waiting for {waiting_for}")
            left = deadline - time.monotonic()
            if left <= 0:
                tail = " | ".join(list(self.transcript)[-5:]) or "nothing"
                raise DeviceTimeoutError(f"no reply to {waiting_for} (last lines: {tail})")
            self._pending += self.target.read(4096, min(left, 0.5))
        raw, _, self._pending = self._pending.partition(b"\n")
        line = raw.decode("ascii", errors="replace").strip("\r\x00 ")
        self.transcript.append(line)
        if line.startswith("TINYHIL FAULT"):
            raise DeviceError(f"the firmware faulted: {line}")
        return line

    def wait_ready(self, timeout: float, probe_after: float = 2.0) -> None:
        """Until the device says m-ready. Firmware that booted before we connected says nothing, so
        after `probe_after` s of silence it is asked its name."""
        deadline = time.monotonic() + timeout
        probe_at = time.monotonic() + probe_after
        while True:
            try:
                if self._line(min(deadline, probe_at), "the device's m-ready") == READY:
                    return
            except DeviceTimeoutError:
                if time.monotonic() >= deadline:
                    raise
                probe_at = deadline
                self.target.write(b"name%")

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        """Send one command; the lines of its answer (up to m-ready, not included). An `e-` line
        raises DeviceError naming the command."""
        if "%" in text or len(text) + 1 > COMMAND_MAX:
            raise ProtocolError(f"not a runner command (a '%' inside, or over {COMMAND_MAX} chars): {text[:40]!r}")
        self.target.write(text.encode("ascii") + b"%")
        deadline = time.monotonic() + (timeout or self.timeout)
        lines: list[str] = []
        while (line := self._line(deadline, f"`{text[:40]}`")) != READY:
            lines.append(line)
        errors = [line for line in lines if line.startswith("e-")]
        if errors:
            raise DeviceError(f"the device refused `{text[:40]}`: {errors[0]}")
        return lines

    # ---- the runner's commands -------------------------------------------------------------------

    def name(self) -> str:
        for line in self.command("name"):
            m = _NAME.match(line)
            if m:
                return m.group(1)
        raise ProtocolError("no m-name line in the answer to `name`")

    def profile(self) -> str:
        """The firmware and model versions, as the device states them (`m-profile-[..] m-model-[..]`)."""
        return " ".join(line[2:] for line in self.command("profile") if line.startswith("m-"))

    def load(self, data: bytes) -> None:
        """`db load N`, then the bytes as hex, chunk_bytes per command, until m-load-done."""
        if not data:
            raise ProtocolError("db load needs at least one byte")
        self.command(f"db load {len(data)}")
        for at in range(0, len(data), self.chunk_bytes):
            lines = self.command("db " + data[at:at + self.chunk_bytes].hex())
            last = at + self.chunk_bytes >= len(data)
            if ("m-load-done" in lines) != last:
                raise ProtocolError(f"db: m-load-done {'missing after' if last else 'early, at'} byte "
                                    f"{min(at + self.chunk_bytes, len(data))} of {len(data)}")

    def infer(self, iterations: int = 1, warmup: int = 0, timeout: float | None = None) -> MlperfInference:
        if iterations < 1 or warmup < 0:
            raise ProtocolError(f"infer needs iterations >= 1 and warmup >= 0, got {iterations} {warmup}")
        lines = self.command(f"infer {iterations} {warmup}", timeout)
        laps = [int(m.group(1)) for line in lines if (m := _LAP.match(line))]
        results = [line for line in lines if line.startswith("m-results-")]
        if len(laps) != 2 or len(results) != 1 or "m-infer-done" not in lines:
            raise ProtocolError(f"`infer {iterations} {warmup}` answered {len(laps)} m-lap-us and {len(results)} "
                                f"m-results lines{'' if 'm-infer-done' in lines else ', no m-infer-done'}")
        if laps[1] < laps[0]:
            raise ProtocolError(f"m-lap-us went backwards ({laps[0]} then {laps[1]}): a wrapped timer?")
        return MlperfInference(iterations, warmup, laps[0], laps[1], parse_results(results[0]))

    def tinyhil_info(self) -> dict[str, dict[str, str]] | None:
        """tinyhil firmware's identity and memory probe; None from a device that does not know it."""
        try:
            lines = self.command("tinyhil-info")
        except DeviceError as e:
            if "Unknown command" in str(e):
                return None
            raise
        info = {}
        for line in lines:
            m = _FIELDS.match(line)
            if m:
                info[m.group(1)] = _fields(m.group(2))
        if set(info) != {"identity", "memory"}:
            raise ProtocolError(f"tinyhil-info answered {sorted(info)}, not identity and memory")
        return info
