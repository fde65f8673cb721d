"""Reading a pyserial port (a socket:// URL or a device) the way every target does: wait up to
`timeout` for the first byte, then take whatever else is already waiting; and keeping a raw
transcript of what was read, for the targets that log one."""

from __future__ import annotations


def read_waiting(port, max_bytes: int, timeout: float) -> bytes:
    port.timeout = timeout
    data = port.read(1)
    if data and max_bytes > 1:
        data += port.read(min(port.in_waiting, max_bytes - 1))
    return data


def append_log(log_path, data: bytes) -> None:
    """Add the bytes just read to the target's transcript (none when log_path is None)."""
    if data and log_path:
        with open(log_path, "ab") as log:
            log.write(data)
