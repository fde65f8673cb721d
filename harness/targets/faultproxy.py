"""A loopback fault proxy: real bytes between the harness and a target, with faults injected.

`FaultProxyTarget(inner, profile, seed)` opens `inner` (QEMU, a serial port, Renode), listens on
127.0.0.1 (loopback only), connects to itself, and relays bytes between that TCP connection and
`inner` in two threads, one per direction. Each direction drops, duplicates, bit-flips and delays
bytes at its own rates, from its own seeded random stream, so a run's faults can be repeated.
Delays keep the byte order (a held byte holds the ones after it), as a slow bridge would.
"""

from __future__ import annotations

import random
import re
import select
import socket
import threading
import time
from dataclasses import dataclass, field, fields

from harness.errors import DeviceError, TinyhilError
from harness.targets.base import CountScale, Target

PUMP_POLL_S = 0.02


@dataclass(frozen=True)
class Faults:
    """Per-byte fault rates of one direction (each a probability in [0, 1])."""

    drop: float = 0.0
    duplicate: float = 0.0
    flip: float = 0.0  # one random bit of the byte inverted
    delay: float = 0.0  # the byte (and all after it) held back by `delay_s`
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0 or (f.name != "delay_s" and value > 1):
                raise TinyhilError(f"fault rate {f.name}={value} is not a probability")

    @property
    def clean(self) -> bool:
        return not (self.drop or self.duplicate or self.flip or (self.delay and self.delay_s))


@dataclass(frozen=True)
class FaultProfile:
    name: str
    to_device: Faults = field(default_factory=Faults)
    to_host: Faults = field(default_factory=Faults)

    @classmethod
    def parse(cls, spec: str) -> FaultProfile:
        """'drop=0.01,flip=0.01' (both directions) or 'host:drop=0.01,device:delay=0.1,delay_s=0.02'."""
        rates = {"device": {}, "host": {}}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            m = re.fullmatch(r"(?:(device|host):)?(\w+)=([0-9.eE+-]+)", item)
            if not m or m.group(2) not in {f.name for f in fields(Faults)}:
                raise TinyhilError(f"bad fault spec {item!r}: use [device:|host:]drop|duplicate|flip|delay|delay_s=X")
            for side in (m.group(1),) if m.group(1) else ("device", "host"):
                rates[side][m.group(2)] = float(m.group(3))
        return cls(spec, Faults(**rates["device"]), Faults(**rates["host"]))


@dataclass
class FaultCounts:
    bytes: int = 0
    dropped: int = 0
    duplicated: int = 0
    flipped: int = 0
    delayed: int = 0


class _Mangler:
    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self.faults = faults
        self.rng = rng
        self.counts = FaultCounts()

    def apply(self, data: bytes) -> list[tuple[float, bytes]]:
        """(pause before, bytes) pieces to send in order."""
        f, rng, c = self.faults, self.rng, self.counts
        c.bytes += len(data)
        if f.clean:
            return [(0.0, data)]
        pieces: list[tuple[float, bytes]] = []
        out = bytearray()
        pause = 0.0
        for byte in data:
            if f.delay and rng.random() < f.delay:
                c.delayed += 1
                pieces.append((pause, bytes(out)))
                out, pause = bytearray(), f.delay_s
            if f.drop and rng.random() < f.drop:
                c.dropped += 1
                continue
            if f.flip and rng.random() < f.flip:
                c.flipped += 1
                byte ^= 1 << rng.randrange(8)
            out.append(byte)
            if f.duplicate and rng.random() < f.duplicate:
                c.duplicated += 1
                out.append(byte)
        pieces.append((pause, bytes(out)))
        return pieces


class FaultProxyTarget(Target):
    """`inner` seen through a faulty loopback TCP link."""

    def __init__(self, inner: Target, profile: FaultProfile, seed: int = 0) -> None:
        self.inner = inner
        self.profile = profile
        self.name = f"{inner.name} via fault proxy ({profile.name})"
        self._to_device = _Mangler(profile.to_device, random.Random(f"{seed}:device"))
        self._to_host = _Mangler(profile.to_host, random.Random(f"{seed}:host"))
        self._client: socket.socket | None = None
        self._server_side: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._error: str | None = None

    @property
    def log_path(self):
        return self.inner.log_path

    @property
    def counts(self) -> dict[str, FaultCounts]:
        return {"to_device": self._to_device.counts, "to_host": self._to_host.counts}

    def open(self) -> None:
        self.inner.open()
        with socket.create_server(("127.0.0.1", 0)) as listener:
            self._client = socket.create_connection(listener.getsockname()[:2], timeout=5)
            self._server_side, _ = listener.accept()
        for sock in (self._client, self._server_side):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._threads = [threading.Thread(target=self._pump_to_device, daemon=True),
                         threading.Thread(target=self._pump_to_host, daemon=True)]
        for t in self._threads:
            t.start()

    def _fail(self, why: str) -> None:
        if self._error is None:
            self._error = why
        try:
            self._server_side.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _pump_to_device(self) -> None:
        sock = self._server_side
        while not self._stop.is_set():
            ready, _, _ = select.select([sock], [], [], PUMP_POLL_S)
            if not ready:
                continue
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            try:
                for pause, piece in self._to_device.apply(data):
                    if pause:
                        time.sleep(pause)
                    if piece:
                        self.inner.write(piece)
            except DeviceError as e:
                return self._fail(str(e))

    def _pump_to_host(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.inner.read(4096, PUMP_POLL_S)
            except DeviceError as e:
                return self._fail(str(e))
            if not data:
                continue
            try:
                for pause, piece in self._to_host.apply(data):
                    if pause:
                        time.sleep(pause)
                    if piece:
                        self._server_side.sendall(piece)
            except OSError:
                return

    def _sock(self) -> socket.socket:
        if self._client is None:
            raise DeviceError("fault proxy target is not open")
        return self._client

    def read(self, max_bytes: int, timeout: float) -> bytes:
        sock = self._sock()
        ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
        if not ready:
            return b""
        try:
            data = sock.recv(max_bytes)
        except OSError as e:
            raise DeviceError(f"fault proxy connection failed: {e}") from e
        if not data:
            raise DeviceError(self._error or "the fault proxy closed the connection")
        return data

    def write(self, data: bytes) -> None:
        try:
            self._sock().sendall(data)
        except OSError as e:
            raise DeviceError(self._error or f"fault proxy connection failed: {e}") from e

    def close(self) -> None:
        self._stop.set()
        for sock in (self._client, self._server_side):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        for t in self._threads:
            t.join(timeout=2)
        self._client = self._server_side = None
        self.inner.close()

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        return self.inner.count_scale(timer, timer_hz)
