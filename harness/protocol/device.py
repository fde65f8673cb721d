"""The host side of the protocol: the command set over a reliable Link (harness.protocol.link).

`run_flash` keeps every sample that arrived: the samples are numbered, the ones missing at the
end of a stream are asked for again by index, a device reboot resumes from what is still
missing, and an error raised during a run carries `partial_samples` (all samples received, in
index order) so a caller can keep them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from harness.errors import DeviceError, DeviceResetError, ProtocolError
from harness.protocol.framing import CorruptFrameError, Frame
from harness.protocol.link import Link, LinkConfig
from harness.protocol.messages import (
    HOST_INPUT_INDEX,
    Command,
    Identity,
    LayerInfo,
    MemoryReport,
    ModelInfo,
    Reply,
    RunDone,
    Sample,
    layer_info_payload,
    run_flash_payload,
    run_input_payload,
)
from harness.targets.base import Target


def _ranges(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted indices as (start, count) runs."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


class Device:
    """Talks to the tinyhil firmware over any Target."""

    def __init__(self, target: Target, *, timeout: float = 10.0, link: LinkConfig | None = None,
                 seed: int | None = None) -> None:
        self.target = target
        self.timeout = timeout
        self.link = Link(target, timeout=timeout, config=link, seed=seed)
        self.identity: Identity | None = None
        self._model_info: ModelInfo | None = None

    @property
    def ready(self) -> bool:
        return self.link.ready

    @property
    def last_bytes(self) -> bytes:
        return self.link.last_bytes

    @property
    def stats(self):
        return self.link.stats

    def wait_ready(self, timeout: float | None = None) -> None:
        self.link.wait_ready(timeout)

    def _reset_seen(self) -> None:
        self.link.stats.resets += 1
        if self.link.stats.resets > self.link.config.max_resets:
            raise self.link.error(DeviceError(f"the device rebooted {self.link.stats.resets} times in one session"))

    def _request(self, command: Command, payload: bytes, expect: Reply, timeout: float | None) -> bytes:
        """A query (IDENTIFY, MODEL_INFO, LAYER_INFO, MEASURE_MEMORY) or a host input (RUN_INPUT): its
        replies changing nothing on the device, one whose replies kept arriving corrupt is asked again
        as a new request — the reply built afresh, as missing samples are — before the run fails."""
        rounds = 0
        while True:
            try:
                return self.link.request(command, payload, expect, timeout)
            except DeviceResetError:
                self._reset_seen()  # the request was lost with the reboot: ask again
            except CorruptFrameError:
                rounds += 1
                if rounds >= self.link.config.query_rounds:
                    raise

    # -- commands ----------------------------------------------------------------------------
    def identify(self, timeout: float | None = None) -> Identity:
        """The firmware's identity; a firmware of another protocol version is refused."""
        self.identity = Identity.decode(self._request(Command.IDENTIFY, b"", Reply.IDENTITY, timeout))
        return self.identity

    def model_info(self, timeout: float | None = None) -> ModelInfo:
        info = ModelInfo.decode(self._request(Command.MODEL_INFO, b"", Reply.MODEL_INFO, timeout))
        layers = []
        for i in range(info.n_layers):
            layer = LayerInfo.decode(self._request(Command.LAYER_INFO, layer_info_payload(i), Reply.LAYER, timeout))
            if layer.index != i:
                raise self.link.error(ProtocolError(f"asked for layer {i}, got layer {layer.index}"))
            layers.append(layer)
        self._model_info = dataclasses.replace(info, layers=tuple(layers))
        return self._model_info

    def measure_memory(self, timeout: float | None = None) -> MemoryReport:
        return MemoryReport.decode(self._request(Command.MEASURE_MEMORY, b"", Reply.MEMORY, timeout))

    def run_flash(
        self,
        start: int,
        count: int,
        per_layer: bool = False,
        *,
        timeout: float | None = None,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> list[Sample]:
        """Run the samples compiled into flash; `timeout` bounds the wait for each next sample.

        Returns one Sample per index, in order. On failure the raised DeviceError carries
        `partial_samples`: every sample that did arrive."""
        got: dict[int, Sample] = {}
        rounds = 0
        try:
            while missing := [i for i in range(start, start + count) if i not in got]:
                if rounds >= self.link.config.sample_rounds:
                    shown = ", ".join(map(str, missing[:8])) + (" ..." if len(missing) > 8 else "")
                    raise self.link.error(DeviceError(
                        f"{len(missing)} of {count} samples still missing after {rounds} requests each: {shown}"))
                rounds += 1
                for first, n in _ranges(missing):
                    try:
                        self._stream(first, n, per_layer, timeout, got, on_sample)
                    except DeviceResetError:
                        self._reset_seen()  # resume with what is still missing
                        rounds -= 1
                        break
        except DeviceError as e:
            e.partial_samples = [got[i] for i in sorted(got)]
            raise
        return [got[i] for i in range(start, start + count)]

    def _stream(self, first: int, n: int, per_layer: bool, timeout: float | None, got: dict[int, Sample],
                on_sample: Callable[[Sample], None] | None) -> None:
        info = self._model_info
        out_bytes = info.output_bytes if info else None
        n_layers = (info.n_layers if per_layer else 0) if info else None

        def take(frame: Frame) -> bool:
            if frame.type == Reply.SAMPLE:
                sample = Sample.decode(frame.payload, out_bytes, n_layers)
                if not first <= sample.index < first + n:
                    raise self.link.error(ProtocolError(
                        f"sample {sample.index} arrived for a request of samples {first}..{first + n - 1}"))
                if sample.index not in got:
                    got[sample.index] = sample
                    if on_sample:
                        on_sample(sample)
                return False
            if frame.type == Reply.RUN_DONE:
                done = RunDone.decode(frame.payload)
                if (done.start, done.count) != (first, n):
                    raise self.link.error(ProtocolError(
                        f"RUN_DONE for samples {done.start}+{done.count}, asked {first}+{n}"))
                return True
            raise self.link.error(ProtocolError(f"unexpected frame type 0x{frame.type:02x} during RUN_FLASH"))

        self.link.exchange(Command.RUN_FLASH, run_flash_payload(first, n, per_layer), take, timeout)

    def run_input(self, data: bytes, per_layer: bool = False, *, timeout: float | None = None) -> Sample:
        """Send one input (the model's own dtype, raw bytes) and run it."""
        payload = run_input_payload(data, per_layer)
        if self.identity and len(payload) > self.identity.rx_max:
            raise DeviceError(f"an input of {len(data)} bytes does not fit the firmware's "
                              f"{self.identity.rx_max}-byte receive buffer (TH_RX_MAX)")
        info = self._model_info
        # Asked afresh when its replies kept arriving corrupt, like a query: the device runs the
        # input again, as it runs a missing flash sample again.
        reply = self._request(Command.RUN_INPUT, payload, Reply.SAMPLE, timeout)
        n_layers = (info.n_layers if per_layer else 0) if info else None
        sample = Sample.decode(reply, info.output_bytes if info else None, n_layers)
        if sample.index != HOST_INPUT_INDEX:
            raise ProtocolError(f"expected the reply to a host input, got sample {sample.index}")
        return sample
