"""--target labgrid for real on loopback: a labgrid coordinator and exporter started here, in a fresh
folder, export an emulated board (QEMU, its UART on a local socket) as a place; a power switch
(labgrid's `simplerest` NetworkPowerPort) served by this test stops and resets that QEMU."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.errors import DataError, DeviceError, TinyhilError, ToolMissingError
from harness.pipeline import BenchConfig
from harness.report import load_results
from harness.targets.labgrid_place import (
    LabgridPlaceBusyError,
    LabgridTarget,
    check_labgrid_config,
    labgrid_tool,
    parse_env,
    parse_show,
    serial_url,
)

BOARD = load_board("mps2_an386")
TOOLS = ("labgrid-coordinator", "labgrid-exporter", "labgrid-client")


# -- without labgrid: parsing and refusals -------------------------------------------------------
SHOW = """Place 'b1':
  tags: tinyhil_board=mps2_an386, tinyhil_target=qemu
  matches:
    exp/g/NetworkSerialPort
  acquired: otherhost/alice
  acquired resources:
    exp/g/NetworkSerialPort/NetworkSerialPort
  created: 2026-12-01 20:22:37.164873
Acquired resource 'NetworkSerialPort' (exp/g/NetworkSerialPort/NetworkSerialPort):
  {'acquired': 'b1',
"""


def test_show_and_env_are_parsed():
    info = parse_show(SHOW, "b1")
    assert info.acquired == "otherhost/alice"
    assert info.tags == {"tinyhil_board": "mps2_an386", "tinyhil_target": "qemu"}
    assert parse_show(SHOW.replace("otherhost/alice", "None"), "b1").acquired is None
    env = "targets:\n  b1:\n    resources:\n    - NetworkSerialPort:\n        host: h\n        port: 5\n"
    assert parse_env(env, "b1") == [("NetworkSerialPort", {"host": "h", "port": 5})]
    with pytest.raises(DeviceError, match="no resources for place 'b1'"):
        parse_env("targets: {}\n", "b1")


def test_serial_urls():
    assert serial_url({"host": "h", "port": 5, "protocol": "raw"}) == "socket://h:5"
    assert serial_url({"host": "h", "port": 5}) == "rfc2217://h:5"  # labgrid's default protocol
    with pytest.raises(DeviceError, match="SSH proxy"):
        serial_url({"host": "h", "port": 5, "extra": {"proxy_required": True}})
    with pytest.raises(DeviceError, match="speaks 'telnet'"):
        serial_url({"host": "h", "port": 5, "protocol": "telnet"})


def test_config_refusals(monkeypatch, tmp_path):
    monkeypatch.delenv("LG_PLACE", raising=False)
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    cfg = BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386", target="labgrid")
    with pytest.raises(TinyhilError, match=r"needs a place \(--place or LG_PLACE\) and a coordinator"):
        cfg.validate()
    with pytest.raises(TinyhilError, match="needs a coordinator"):
        BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386", target="labgrid", place="b1").validate()
    monkeypatch.setenv("LG_COORDINATOR", "127.0.0.1:1")
    monkeypatch.setenv("LG_PLACE", "b1")
    cfg = BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386", target="labgrid")  # made at the edge
    resolved = cfg.target_kind.resolve(cfg)  # labgrid's variables, read into the settings, fill the options
    assert (resolved.place, resolved.coordinator) == ("b1", "127.0.0.1:1")
    with pytest.raises(ToolMissingError, match="labgrid-clientx not found"):
        check_labgrid_config(resolved.place, resolved.coordinator, client="labgrid-clientx")


def test_place_tags_decide_the_unit_and_the_board():
    target = LabgridTarget(BOARD, "b1", "127.0.0.1:1")
    assert target.count_scale("systick", 25_000_000).unit == "cycles"  # untagged: real silicon
    target._check_tags({"tinyhil_target": "qemu", "tinyhil_board": "mps2_an386"})
    scale = target.count_scale("systick", 25_000_000)
    assert scale.unit == "instructions" and scale.per_tick == 1e9 / (BOARD.qemu_systick_hz or 25_000_000)
    with pytest.raises(DeviceError, match="QEMU's counts are instructions"):
        target.count_scale("dwt_cyccnt", 25_000_000)
    with pytest.raises(TinyhilError, match="holds a netduinoplus2"):
        target._check_tags({"tinyhil_board": "netduinoplus2"})
    with pytest.raises(TinyhilError, match="tinyhil_target=renode; tinyhil knows silicon, qemu"):
        target._check_tags({"tinyhil_target": "renode"})


def test_sweep_refuses_parallel_labgrid_runs(tmp_path):
    from harness.pipeline.sweep import Shard, run_sweep

    cfg = BenchConfig(model=tmp_path / "m.tflite", board="mps2_an386", target="labgrid", place="b1",
                      coordinator="127.0.0.1:1", results_dir=None)
    with pytest.raises(DataError, match="one at a time"):
        run_sweep([cfg], Shard.parse("1/1"), False, None, jobs=2)


# -- a real coordinator and exporter on loopback ------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}: {log.read_text()[-2000:]}")


class Lab:
    """A coordinator in its own folder; exporters and other processes started on demand, all killed
    (by process group) at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: list[subprocess.Popen] = []
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        # -l: loopback only (labgrid listens on all interfaces by default); places live in its cwd
        self.spawn("coordinator", [labgrid_tool("labgrid-coordinator"), "-l", self.address], root / "coordinator")
        _wait_port(port, self.procs[-1], root / "coordinator" / "log")

    def spawn(self, name: str, cmd: list[str], cwd: Path) -> subprocess.Popen:
        cwd.mkdir(parents=True, exist_ok=True)
        with open(cwd / "log", "ab") as log:
            proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def client(self, *args: str, user: str | None = None, host: str | None = None, check: bool = True):
        env = dict(os.environ)
        if user:
            env.update(LG_USERNAME=user, LG_HOSTNAME=host or "elsewhere")
        out = subprocess.run([labgrid_tool(), "-x", self.address, *args], capture_output=True, text=True,
                             env=env, timeout=60)
        if check:
            assert out.returncode == 0, out.stderr
        return out

    def export(self, name: str, resources: str) -> None:
        """An exporter named `name` (its group too) with these resources; waits until the
        coordinator lists them."""
        folder = self.root / f"exporter-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "exporter.yaml").write_text(f"{name}:\n{resources}")
        self.spawn(name, [labgrid_tool("labgrid-exporter"), "-c", self.address, "--hostname", "127.0.0.1",
                          "-n", name, str(folder / "exporter.yaml")], folder)
        deadline = time.monotonic() + 20
        while f"{name}/{name}/" not in self.client("resources").stdout:
            assert time.monotonic() < deadline, (folder / "log").read_text()[-2000:]
            time.sleep(0.2)

    def place(self, name: str, *matches: str, tags: tuple[str, ...] = ()) -> None:
        self.client("-p", name, "create")
        self.client("-p", name, "add-match", *matches)
        if tags:
            self.client("-p", name, "set-tags", *tags)

    def holder(self, place: str) -> str | None:
        return parse_show(self.client("-p", place, "show").stdout, place).acquired

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    missing = [tool for tool in TOOLS if not labgrid_tool(tool)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install labgrid==26.0.1)")
    lab = Lab(tmp_path_factory.mktemp("lab"))
    try:
        yield lab
    finally:
        lab.close()


SERIAL_NOWHERE = "  NetworkSerialPort:\n    host: 127.0.0.1\n    port: 9\n    protocol: raw\n"
POWER_NOWHERE = ("  NetworkPowerPort:\n    model: simplerest\n    host: 'http://127.0.0.1:9/{index}/{value}'\n"
                 "    index: 0\n")


def test_refusals_and_release(lab):
    """Held by someone else: refused naming them, and left to them. Failing after the acquire (no
    serial port): released. An unknown place: refused."""
    lab.export("misc", SERIAL_NOWHERE + POWER_NOWHERE)
    lab.place("busy", "*/misc/NetworkSerialPort")
    lab.client("-p", "busy", "acquire", user="alice", host="otherhost")
    with pytest.raises(LabgridPlaceBusyError, match="labgrid place 'busy' is acquired by otherhost/alice"):
        LabgridTarget(BOARD, "busy", lab.address).open()
    assert lab.holder("busy") == "otherhost/alice"  # not released by the refused run

    lab.place("noserial", "*/misc/NetworkPowerPort")
    with pytest.raises(DeviceError, match="has 0 NetworkSerialPort resources.*NetworkPowerPort"):
        LabgridTarget(BOARD, "noserial", lab.address).open()  # fails after acquiring
    assert lab.holder("noserial") is None

    with pytest.raises(TinyhilError, match="place 'nosuch' does not exist at coordinator"):
        LabgridTarget(BOARD, "nosuch", lab.address).open()


# -- the benchmark through the place ------------------------------------------------------------
class PowerSwitch(http.server.ThreadingHTTPServer):
    """labgrid's `simplerest` power protocol (GET .../{index}/{value}) switching a QEMU over QMP:
    off stops the CPU, on resets the board and runs it."""

    def __init__(self, qmp_path: str):
        self.qmp_path, self.switched = qmp_path, []
        super().__init__(("127.0.0.1", 0), _PowerHandler)

    def qmp(self, *commands: str) -> None:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.qmp_path)
            stream = s.makefile("rwb")
            stream.readline()  # greeting
            for command in ("qmp_capabilities", *commands):
                stream.write(json.dumps({"execute": command}).encode() + b"\n")
                stream.flush()
                while "event" in json.loads(stream.readline()):
                    pass


class _PowerHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        value = self.path.rstrip("/").rsplit("/", 1)[-1]
        if value in ("0", "1"):
            self.server.qmp(*(("stop",) if value == "0" else ("system_reset", "cont")))
            self.server.switched.append(value)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"1" if (self.server.switched or ["1"])[-1] == "1" else b"0")

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_bench_through_a_labgrid_place_is_bit_exact(lab, tmp_path):
    """The same benchmark, first straight on QEMU, then through the place exporting that QEMU's
    UART: bit-exact, the same instruction counts, the place released after."""
    from harness.pipeline import run_bench

    model = _tiny_model(tmp_path)
    common = dict(model=model, board=BOARD.name, samples=3, work_dir=tmp_path / "build",
                  results_dir=tmp_path / "results", progress=False)
    direct = run_bench(BenchConfig(target="qemu", **common))
    assert direct["status"] == "ok" and direct["host_mismatches"] == 0
    uart = _lab_board(lab, tmp_path, direct["build_id"])
    switch = PowerSwitch(str(tmp_path / "qmp.sock"))
    threading.Thread(target=switch.serve_forever, daemon=True).start()
    try:
        lab.export("board", f"  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {uart}\n    protocol: raw\n"
                            f"  NetworkPowerPort:\n    model: simplerest\n"
                            f"    host: 'http://127.0.0.1:{switch.server_address[1]}/relay/{{index}}/{{value}}'\n"
                            f"    index: 0\n")
        lab.place("board", "*/board/NetworkSerialPort", "*/board/NetworkPowerPort",
                  tags=("tinyhil_target=qemu", "tinyhil_board=mps2_an386"))
        row = run_bench(BenchConfig(target="labgrid", place="board", coordinator=lab.address, **common))
    finally:
        switch.shutdown()
    assert row["status"] == "ok" and row["host_mismatches"] == 0 and row["build_cached"]
    assert row["unit"] == "instructions" and row["latency_ms"] is None
    assert row["latency_median"] == direct["latency_median"]  # icount: the same count either way
    assert row["labgrid_place"] == "board" and row["labgrid_coordinator"] == lab.address
    assert row["labgrid_version"] == "labgrid 26.0.1" and row["labgrid_place_kind"] == "qemu"
    assert row["labgrid_serial"] == f"socket://127.0.0.1:{uart}"
    assert row["labgrid_resources"] == "NetworkPowerPort,NetworkSerialPort"
    assert row["labgrid_power_cycled"] is True and row["labgrid_flashed"] is False
    assert switch.switched == ["0", "1"]
    assert lab.holder("board") is None  # released


    stored = load_results(tmp_path / "results")
    assert list(stored["target"]) == ["qemu", "labgrid"] and stored["labgrid_place"].iloc[1] == "board"


@pytest.mark.slow
def test_a_boards_own_firmware_through_a_place_over_the_mlperf_protocol(lab, tmp_path):
    """A board running firmware tinyhil did not flash (here: tinyhil's MLPerf-protocol firmware,
    started by the lab), measured with --external-firmware: nothing built, no size claimed, outputs
    bit-exact with the host, the same window as driving that firmware directly."""
    from harness.pipeline import run_bench

    model = _tiny_model(tmp_path)
    common = dict(model=model, board=BOARD.name, samples=3, work_dir=tmp_path / "build", protocol="mlperf",
                  results_dir=tmp_path / "results", progress=False)
    direct = run_bench(BenchConfig(target="qemu", **common))
    assert direct["status"] == "ok" and direct["host_mismatches"] == 0
    uart = _lab_board(lab, tmp_path, direct["build_id"])
    lab.export("own", f"  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {uart}\n    protocol: raw\n")
    lab.place("own", "*/own/NetworkSerialPort", tags=("tinyhil_target=qemu",))
    row = run_bench(BenchConfig(target="labgrid", place="own", coordinator=lab.address, external_firmware=True,
                                **common))
    assert row["status"] == "ok" and row["host_mismatches"] == 0 and row["engine"] == "external"
    assert row.get("flash_bytes") is None and row.get("build_id") is None and row["kernels"] is None
    assert row["latency_median"] == direct["latency_median"] and row["unit"] == "instructions"
    assert row["mlperf_profile"] == direct["mlperf_profile"] and row["run_id"] != direct["run_id"]
    assert lab.holder("own") is None


def _tiny_model(tmp_path: Path) -> Path:
    """A one-layer int8 model for the end-to-end runs (skips without the toolchain or QEMU)."""
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if not __import__("shutil").which(tool):
            pytest.skip(f"{tool} is not installed")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "codegen"))
    from tiny_models import convert

    return convert("fc_softmax", tmp_path)


def _lab_board(lab, tmp_path: Path, build_id: str) -> int:
    """The board of a place: QEMU running that build as QemuTarget runs it, its UART a socket server
    (the port, returned), QMP at tmp_path/qmp.sock for a power switch. Not probed: the first
    connection boots it."""
    from harness.targets import QemuTarget

    elf = json.loads((tmp_path / "build" / "builds" / build_id / "build.json").read_text())["elf"]
    qemu = QemuTarget(BOARD, Path(elf))
    qemu._qmp_path = str(tmp_path / "qmp.sock")
    uart = _free_port()
    lab.spawn(f"qemu-{build_id}", qemu.command(uart), tmp_path / "qemu")
    _wait_for_text(tmp_path / "qemu" / "log", "waiting for connection")
    return uart


def _wait_for_text(path: Path, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text(errors="replace") if path.exists() else ""):
        assert time.monotonic() < deadline, f"no {text!r} in {path}"
        time.sleep(0.05)
