"""A board in a labgrid farm: acquire a place from a coordinator, talk to its serial port, release it.

labgrid (https://labgrid.org) is driven through its own command line, `labgrid-client`, one
subprocess per step: its Python client keeps process-wide state that a second session in the same
process confuses, and the command line is the interface labgrid keeps stable. The steps:

  show     -> does the place exist, who holds it, its tags
  acquire  -> the lock; refused with the holder's name when someone else has it
  env      -> the acquired place's resources as YAML (the structured form of what it matched)
  power    -> off / on when the place has a power resource labgrid can switch (a reset)
  release  -> always, in close(), also after an error or Ctrl-C; only a lock this target took

The serial port is the place's `NetworkSerialPort` (host, port; protocol `raw` or `rfc2217`),
opened with pyserial like any other port. A port that labgrid says must be reached through an SSH
proxy (`proxy_required`) is refused: the harness does not tunnel.

Flashing is NOT done through labgrid: labgrid drives MCU debug probes only through an environment
file with an OpenOCD/flash-script driver configured by the lab, on the exporter host over SSH,
none of which this harness can check here. The row says `labgrid_flashed = False`: the board is
assumed to run the firmware that was built; the firmware's identity, model and io checks and the
comparison with the host reference catch a wrong one.

Counts: a place is real silicon (cycles) unless its tag `tinyhil_target=qemu` says it is QEMU run
as QemuTarget runs it (`-icount shift=0`), whose counts are instructions. A tag `tinyhil_board`
names the board the place holds; a run for another board is refused.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import serial
import yaml

from harness.boards import Board
from harness.errors import DeviceError, TinyhilError, ToolMissingError
from harness.settings import Settings
from harness.targets.base import CountScale, Target
from harness.targets.byte_port import append_log, read_waiting

LABGRID_CLIENT = "labgrid-client"
PLACE_KINDS = ("silicon", "qemu")  # values of the tinyhil_target tag
# Resources the `labgrid-client power` command can switch (labgrid 26.0.1's client.power()).
POWER_RESOURCES = ("NetworkPowerPort", "PDUDaemonPort", "NetworkUSBPowerPort", "NetworkSiSPMPowerPort",
                   "TasmotaPowerPort", "NetworkYKUSHPowerPort", "NetworkSysfsGPIO")
# Debug probes a place may have; recorded, not used (see the module docstring).
PROBE_RESOURCES = ("NetworkUSBDebugger", "USBDebugger", "NetworkAlteraUSBBlaster")
POWER_OFF_S = 0.5  # how long the board stays off in a power cycle


class LabgridPlaceBusyError(TinyhilError):
    """The place is acquired by another user or host."""

    def __init__(self, place: str, holder: str):
        self.place, self.holder = place, holder
        super().__init__(f"labgrid place {place!r} is acquired by {holder}; ask them to release it "
                         f"(labgrid-client -p {place} release) or choose another place")


def labgrid_tool(name: str = LABGRID_CLIENT) -> str | None:
    """A labgrid command on PATH, else beside this Python (a venv's bin/, not activated)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def place_and_coordinator(place: str | None, coordinator: str | None,
                          settings: Settings) -> tuple[str | None, str | None]:
    """The place and coordinator from the arguments, else from labgrid's own variables (LG_PLACE,
    LG_COORDINATOR, read into the settings at the edge)."""
    return place or settings.labgrid_place, coordinator or settings.labgrid_coordinator


def check_labgrid_config(place: str | None, coordinator: str | None, client: str = LABGRID_CLIENT) -> None:
    """Refuse a labgrid run that cannot start: no place, no coordinator (as resolved), no labgrid-client."""
    missing = [what for what, value in (("a place (--place or LG_PLACE)", place),
                                        ("a coordinator (--coordinator HOST:PORT or LG_COORDINATOR)", coordinator))
               if not value]
    if missing:
        raise TinyhilError(f"--target labgrid needs {' and '.join(missing)}")
    if not labgrid_tool(client):
        raise ToolMissingError(f"{client} not found: install labgrid (pip install labgrid==26.0.1)")


def labgrid_user() -> str:
    """host/user as labgrid's client names the holder of a lock (LG_HOSTNAME, LG_USERNAME override).
    Not a tinyhil setting: labgrid-client, which runs with this environment, reads the same two
    variables, and this must name the holder exactly as it does."""
    return f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/{os.environ.get('LG_USERNAME', getpass.getuser())}"


@dataclass(frozen=True)
class PlaceInfo:
    """What `labgrid-client show` says about a place."""

    name: str
    acquired: str | None  # "host/user" of the holder
    tags: dict = field(default_factory=dict)


def parse_show(text: str, place: str) -> PlaceInfo:
    """The holder and tags from `labgrid-client -p PLACE show` (the lines `acquired: ...`, `tags: k=v, ...`)."""
    acquired, tags = None, {}
    for line in text.splitlines():
        if not line.startswith("  ") or line.startswith("   "):  # the place's own lines, indent 2
            continue
        key, _, value = line.strip().partition(": ")
        if key == "acquired":
            acquired = None if value in ("None", "") else value
        elif key == "tags":
            for pair in value.split(", "):
                k, _, v = pair.partition("=")
                if k:
                    tags[k] = v
    return PlaceInfo(place, acquired, tags)


def parse_env(text: str, place: str) -> list[tuple[str, dict]]:
    """(class, arguments) of each resource of the place, from `labgrid-client -p PLACE env`."""
    try:
        env = yaml.safe_load(text) or {}
        resources = env["targets"][place]["resources"] or []
    except (yaml.YAMLError, KeyError, TypeError) as e:
        raise DeviceError(f"labgrid-client env gave no resources for place {place!r}: {text[:500]!r}") from e
    out = []
    for entry in resources:
        if isinstance(entry, dict) and len(entry) == 1:
            cls, args = next(iter(entry.items()))
            out.append((cls, dict(args or {})))
    return out


def serial_url(args: dict) -> str:
    """A pyserial URL for a NetworkSerialPort's arguments."""
    host, port = args.get("host"), args.get("port")
    if not host or not port:
        raise DeviceError(f"the place's NetworkSerialPort lacks a host or port: {args}")
    if (args.get("extra") or {}).get("proxy_required"):
        raise DeviceError(f"the place's serial port {host}:{port} is only reachable through labgrid's SSH proxy, "
                          "which tinyhil does not use")
    protocol = args.get("protocol", "rfc2217")  # labgrid's default
    if protocol == "raw":
        return f"socket://{host}:{port}"
    if protocol == "rfc2217":
        return f"rfc2217://{host}:{port}"
    raise DeviceError(f"the place's serial port {host}:{port} speaks {protocol!r}; tinyhil reads raw or rfc2217")


class LabgridTarget(Target):
    name = "labgrid"

    def __init__(self, board: Board, place: str, coordinator: str, *, log_path=None,
                 client: str = LABGRID_CLIENT, command_timeout: float = 30.0, power_off_s: float = POWER_OFF_S):
        if not place or not coordinator:
            raise TinyhilError("--target labgrid needs a place (--place or LG_PLACE) and a coordinator "
                               "(--coordinator HOST:PORT or LG_COORDINATOR)")
        self.board = board
        self.place = place
        self.coordinator = coordinator
        self.log_path = log_path
        self.client = client
        self.command_timeout = command_timeout
        self.power_off_s = power_off_s
        self.info: PlaceInfo | None = None
        self.resources: list[tuple[str, dict]] = []
        self.kind = "silicon"
        self.url: str | None = None
        self.acquired = False  # this target took the lock (and so releases it)
        self.power_cycled = False
        self.release_error: str | None = None
        self.version: str | None = None
        self._port: serial.SerialBase | None = None

    # -- labgrid-client ------------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        path = labgrid_tool(self.client)
        if not path:
            raise ToolMissingError(f"{self.client} not found: install labgrid (pip install labgrid==26.0.1)")
        cmd = [path, "-x", self.coordinator, "-p", self.place, *args]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.command_timeout,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise DeviceError(f"labgrid-client {' '.join(args)} did not finish within {self.command_timeout:g} s "
                              f"(is the coordinator at {self.coordinator} up?)") from e
        if check and out.returncode != 0:
            raise DeviceError(f"labgrid-client -p {self.place} {' '.join(args)} failed "
                              f"(coordinator {self.coordinator}): {_last_line(out)}")
        return out

    def _version(self) -> str | None:
        """The client's version: from its package when it is this Python's, else by asking it."""
        path = labgrid_tool(self.client)
        if path and Path(path).parent == Path(sys.executable).parent:
            try:
                from importlib.metadata import version

                return f"labgrid {version('labgrid')}"
            except ImportError:  # PackageNotFoundError is one
                pass
        return parse_version(self._run("version", check=False).stdout)

    def _show(self) -> PlaceInfo:
        out = self._run("show", check=False)
        if out.returncode != 0:
            message = _last_line(out)
            if "matches nothing" in message:
                raise TinyhilError(f"labgrid place {self.place!r} does not exist at coordinator {self.coordinator}")
            raise DeviceError(f"cannot reach labgrid coordinator {self.coordinator} for place {self.place!r}: "
                              f"{message}")
        return parse_show(out.stdout, self.place)

    # -- Target --------------------------------------------------------------------------------
    def open(self) -> None:
        self.info = self._show()
        self.version = self._version()
        me = labgrid_user()
        if self.info.acquired and self.info.acquired != me:
            raise LabgridPlaceBusyError(self.place, self.info.acquired)
        self._check_tags(self.info.tags)
        try:
            if not self.info.acquired:  # held by this host/user already: use it, leave it held
                self.acquired = True  # before the call: a Ctrl-C during it may leave the lock taken
                out = self._run("acquire", check=False)
                if out.returncode != 0:
                    self.acquired = False
                    holder = self._show().acquired  # someone may have taken it since `show`
                    if holder and holder != me:
                        raise LabgridPlaceBusyError(self.place, holder)
                    raise DeviceError(f"labgrid could not acquire place {self.place!r}: {_last_line(out)}")
                self.acquired = True
            self.resources = parse_env(self._run("env").stdout, self.place)
            ports = [args for cls, args in self.resources if cls == "NetworkSerialPort"]
            if len(ports) != 1:
                found = ", ".join(cls for cls, _ in self.resources) or "none"
                raise DeviceError(f"labgrid place {self.place!r} has {len(ports)} NetworkSerialPort resources "
                                  f"(tinyhil needs exactly one); its resources: {found}")
            self.url = serial_url(ports[0])
            try:
                baud = int(ports[0].get("speed") or self.board.uart.baud)
                self._port = serial.serial_for_url(self.url, baudrate=baud, timeout=0.1)
            except (serial.SerialException, OSError) as e:
                raise DeviceError(f"cannot open {self._where()}: {e}") from e
            if self.power_resource:
                self._power_cycle()
        except BaseException:
            self.close()
            raise

    @property
    def power_resource(self) -> str | None:
        return next((cls for cls, _ in self.resources if cls in POWER_RESOURCES), None)

    def _check_tags(self, tags: dict) -> None:
        kind = tags.get("tinyhil_target", "silicon")
        if kind not in PLACE_KINDS:
            raise TinyhilError(f"labgrid place {self.place!r} has tag tinyhil_target={kind}; "
                               f"tinyhil knows {', '.join(PLACE_KINDS)}")
        if kind == "qemu" and not self.board.qemu_machine:
            raise TinyhilError(f"labgrid place {self.place!r} is tagged QEMU, which does not model {self.board.name}")
        board = tags.get("tinyhil_board")
        if board and board != self.board.name:
            raise TinyhilError(f"labgrid place {self.place!r} holds a {board} (tag tinyhil_board), not a "
                               f"{self.board.name}")
        self.kind = kind

    def _power_cycle(self) -> None:
        """Off, drop what the old boot sent, on: the ready line read next is this boot's."""
        self._run("power", "off")
        time.sleep(self.power_off_s)
        self._port.reset_input_buffer()
        while self._port.read(4096):
            pass
        self._run("power", "on")
        self.power_cycled = True

    def reset(self) -> None:
        """Power-cycle the board (a fault on purpose, or a reset); needs a power resource."""
        if not self.power_resource:
            raise TinyhilError(f"labgrid place {self.place!r} has no power resource to reset the board with")
        self._power_cycle()

    def _where(self) -> str:
        return f"the serial port of labgrid place {self.place!r} ({self.url})"

    def _serial(self) -> serial.SerialBase:
        if self._port is None:
            raise DeviceError(f"labgrid place {self.place!r} is not open")
        return self._port

    def read(self, max_bytes: int, timeout: float) -> bytes:
        try:
            data = read_waiting(self._serial(), max_bytes, timeout)
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f"reading {self._where()} failed: {e}") from e
        append_log(self.log_path, data)
        return data

    def write(self, data: bytes) -> None:
        try:
            self._serial().write(data)
            self._serial().flush()
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f"writing {self._where()} failed: {e}") from e

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None
        if self.acquired:
            self.acquired = False
            try:
                out = self._run("release", check=False)
                if out.returncode != 0 and "is not acquired" not in _last_line(out):
                    self.release_error = _last_line(out)
            except BaseException as e:  # noqa: BLE001 - a second Ctrl-C, a dead coordinator: say so, go on
                self.release_error = f"{type(e).__name__}: {e}"
            if self.release_error:
                print(f"warning: labgrid place {self.place!r} may still be acquired: {self.release_error}",
                      file=sys.stderr)

    def count_scale(self, timer: str, timer_hz: int) -> CountScale:
        if self.kind == "qemu":
            if timer == "dwt_cyccnt":
                raise DeviceError(f"labgrid place {self.place!r} is tagged QEMU but its firmware reports DWT "
                                  "cycles; QEMU's counts are instructions")
            per_tick = 1e9 / (self.board.qemu_systick_hz or timer_hz)  # as QemuTarget: icount shift=0
            return CountScale("instructions", per_tick, per_tick)
        return CountScale("cycles", 1.0, 1.0)  # real silicon: DWT CYCCNT / SysTick from the core clock

    def provenance(self) -> dict:
        return {
            "labgrid_place": self.place,
            "labgrid_coordinator": self.coordinator,
            "labgrid_version": self.version,
            "labgrid_place_kind": self.kind,
            "labgrid_serial": self.url,
            "labgrid_resources": ",".join(sorted({cls for cls, _ in self.resources})) or None,
            "labgrid_power_cycled": self.power_cycled,
            "labgrid_flashed": False,  # see the module docstring: the board runs what it was given
        }


def _last_line(out: subprocess.CompletedProcess) -> str:
    lines = [line for line in (out.stderr + out.stdout).splitlines() if line.strip()]
    text = lines[-1] if lines else f"exit code {out.returncode}"
    return re.sub(r"^labgrid-client: (Error: )?", "", text)


def parse_version(text: str) -> str | None:
    """`labgrid 26.0.1` from `labgrid-client version` (which prints the client's and the coordinator's)."""
    found = re.search(r"(?i)client version:?\s*(\S+)", text) or re.search(r"(\d+\.\d+[\w.+-]*)", text)
    return f"labgrid {found.group(1)}" if found else None
