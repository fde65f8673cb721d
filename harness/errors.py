"""Errors a user sees. Each names the problem in words; the CLI prints them without a traceback."""


class TinyhilError(Exception):
    """Base of every error the harness raises on purpose."""


class ModelFormatError(TinyhilError):
    """The file is not a readable .tflite / Keras model."""


class UnsupportedOpsError(TinyhilError):
    """The builtin engine lacks kernels for some ops of the model."""

    def __init__(self, ops: list[str]):
        self.ops = sorted(set(ops))
        # One entry per op name (e.g. "DEQUANTIZE (float16 tensor 'w'; ...)"): show the first
        # reason for each op and count the rest, so a model with 40 such tensors stays readable.
        by_op: dict[str, list[str]] = {}
        for entry in self.ops:
            by_op.setdefault(entry.split(" ", 1)[0], []).append(entry)
        shown = [group[0] + (f" (+{len(group) - 1} more)" if len(group) > 1 else "") for group in by_op.values()]
        super().__init__(f"op not supported yet: {', '.join(shown)}")


class DoesNotFitError(TinyhilError):
    """The model or firmware needs more flash/RAM than the board has."""


class ToolMissingError(TinyhilError):
    """An external tool (compiler, PlatformIO, QEMU, Renode) is not installed."""


class BuildError(TinyhilError):
    """The firmware build failed; carries the build log path."""


class DeviceError(TinyhilError):
    """The device answered wrongly or not at all; carries the last bytes and the log path."""


class DeviceTimeoutError(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """A frame passed its CRC but its contents break the protocol (length, code, order)."""


class DeviceResetError(DeviceError):
    """The device rebooted in the middle of a session (its ready line came again)."""


class ProtocolVersionError(ProtocolError):
    """The firmware speaks another protocol version than the harness."""


class DataError(TinyhilError):
    """User data (npz, data set) is missing, malformed or does not match the model."""


class UnknownBoardError(TinyhilError):
    """No boards/<name>.json, or the file lacks what the harness needs."""


class InvalidParameterError(TinyhilError, ValueError):
    """A compression parameter is impossible (sparsity ≥ 1, rank ≤ 0, fewer than 2 clusters...)."""


class UnsupportedModelError(TinyhilError):
    """The model's structure does not allow this technique (e.g. branches for channel pruning)."""


class Interrupted(BaseException):
    """The run was stopped from outside (Ctrl-C, SIGTERM). A BaseException, like KeyboardInterrupt,
    so no `except Exception` swallows it; the run in progress is stored as `interrupted`."""
