import json

import pytest

from harness.boards import Board, UnknownBoardError, list_boards, load_board
from harness.errors import TinyhilError


def test_known_boards_load_with_their_facts():
    assert {"mps2_an386", "netduinoplus2"} <= set(list_boards())
    nd = load_board("netduinoplus2")
    assert isinstance(nd, Board)
    assert (nd.clock_hz, nd.flash_bytes, nd.ram_bytes) == (168_000_000, 1024 * 1024, 128 * 1024)
    assert (nd.flash.origin, nd.ram.origin) == (0x08000000, 0x20000000)
    assert nd.qemu_machine == "netduinoplus2" and nd.uart.base == 0x40011000 and nd.uart.baud == 115200
    assert (nd.uart.name, nd.uart.tx, nd.uart.rx, nd.uart.af) == ("USART1", "PA9", "PA10", 7)
    assert nd.upload_protocol == "stlink" and nd.physical and nd.soc == "stm32f4"
    mps2 = load_board("mps2_an386")
    assert mps2.qemu_machine == "mps2-an386" and mps2.qemu_systick_hz == 25_000_000
    assert mps2.uart.base == 0x40004000 and not mps2.physical and mps2.upload_protocol is None


def test_board_files_are_platformio_manifests_stating_each_fact_once():
    for name in list_boards():
        data = json.loads(load_board(name).manifest.read_text())
        assert {"name", "url", "vendor"} <= set(data)  # what PlatformIO requires of a manifest
        assert data["build"]["cpu"] == "cortex-m4"
        # the clock and the sizes live in the tinyhil section only; firmware/platform fills
        # PlatformIO's f_cpu / maximum_size from there
        assert "f_cpu" not in data["build"] and "ldscript" not in data["build"]
        assert "extra_flags" not in data["build"]
        assert not {"maximum_size", "maximum_ram_size"} & set(data.get("upload", {}))


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(UnknownBoardError, match="unknown board 'nucleo_x'.*mps2_an386.*netduinoplus2"):
        load_board("nucleo_x")
    assert issubclass(UnknownBoardError, TinyhilError)


def _board_file(**tinyhil):
    th = {"soc": "stm32f4", "clock_hz": 80_000_000,
          "memory": {"flash": {"origin": "0x08000000", "size": 512}, "ram": {"origin": "0x20000000", "size": 256}},
          "uart": {"name": "USART2", "base": "0x40004400", "baud": 9600}}
    th.update(tinyhil)
    return json.dumps({"name": "My board", "url": "u", "vendor": "v", "build": {"cpu": "cortex-m4"},
                       "tinyhil": th})


def test_a_board_is_a_file(tmp_path):
    (tmp_path / "myboard.json").write_text(_board_file())
    (tmp_path / "broken.json").write_text("{}")
    assert list_boards(tmp_path) == ["broken", "myboard"]
    b = load_board("myboard", tmp_path)
    assert b.uart.base == 0x40004400 and b.qemu_machine is None and b.renode_platform is None
    assert b.flash_bytes == 512 and b.ram.origin == 0x20000000 and not b.physical and b.usb_ids == ()
    assert b.boards_dir == tmp_path
    with pytest.raises(UnknownBoardError, match=r"broken\.json: field tinyhil is missing"):
        load_board("broken", tmp_path)
    (tmp_path / "notjson.json").write_text("{")
    with pytest.raises(UnknownBoardError, match=r"notjson\.json is not a valid tinyhil board manifest"):
        load_board("notjson", tmp_path)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("soc", "esp32", r"b\.json: field tinyhil\.soc = 'esp32' is none of"),
    ("cycle_counter", "rdtsc", r"b\.json: field tinyhil\.cycle_counter = 'rdtsc' is none of"),
    ("clock_hz", "fast", r"b\.json: field tinyhil\.clock_hz = 'fast' is not valid"),
    ("memory", {"flash": {"origin": "0x0"}, "ram": {"origin": "0x2", "size": 1}},
     r"b\.json: field tinyhil\.memory\.flash = .* is not valid \(KeyError"),
])
def test_a_board_file_with_an_unknown_value_is_refused(tmp_path, field, value, message):
    (tmp_path / "b.json").write_text(_board_file(**{field: value}))
    with pytest.raises(UnknownBoardError, match=message):
        load_board("b", tmp_path)


def test_a_project_repl_is_resolved_and_renodes_own_is_kept(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "a.json").write_text(_board_file(renode={"platform": "renode/a.repl", "uart": "sysbus.usart2"}))
    (boards / "b.json").write_text(_board_file(renode={"platform": "platforms/boards/x.repl", "uart": "u"}))
    assert load_board("a", boards).renode_platform == str(tmp_path / "renode" / "a.repl")
    assert load_board("b", boards).renode_platform == "platforms/boards/x.repl"


def test_user_boards_add_and_override_shipped_ones_in_order(tmp_path, monkeypatch):
    """--boards-dir, then $TINYHIL_BOARDS_DIR, then ./boards of the working folder, then the shipped
    boards: the first file of a name wins, the board says where it came from, and its sha256 is the file's."""
    import hashlib

    from harness.boards import board_catalog, use_boards_dirs
    from harness.settings import Settings

    work, env_dir, cli_dir = tmp_path / "work", tmp_path / "env", tmp_path / "cli"
    for folder in (work / "boards", env_dir, cli_dir):
        folder.mkdir(parents=True)
    (work / "boards" / "mine.json").write_text(_board_file(clock_hz=1_000_000))
    (work / "boards" / "mps2_an386.json").write_text(_board_file(clock_hz=2_000_000))
    (env_dir / "mine.json").write_text(_board_file(clock_hz=3_000_000))
    (cli_dir / "other.json").write_text(_board_file(clock_hz=4_000_000))
    monkeypatch.chdir(work)
    monkeypatch.delenv("TINYHIL_BOARDS_DIR", raising=False)
    try:
        local = load_board("mps2_an386")
        assert (local.source, local.clock_hz) == ("./boards", 2_000_000)
        assert local.sha256 == hashlib.sha256(local.manifest.read_bytes()).hexdigest()
        assert load_board("netduinoplus2").source == "shipped"
        monkeypatch.setenv("TINYHIL_BOARDS_DIR", str(env_dir))
        settings = Settings.from_environ()  # the edge reads $TINYHIL_BOARDS_DIR; a run carries it in its settings
        mine = load_board("mine", search=settings.boards_dirs)
        assert (mine.source, mine.clock_hz) == ("$TINYHIL_BOARDS_DIR", 3_000_000)
        # no module below the edge reads the variable itself: without the settings' folders, ./boards' file
        assert load_board("mine", search=()).source == "./boards"
        use_boards_dirs(settings.with_boards_dirs([cli_dir]).boards_dirs)  # as the CLI installs them
        assert load_board("other").source == "--boards-dir"
        catalog = {name: (path, source, overridden) for name, path, source, overridden in board_catalog()}
        assert catalog["mine"][1] == "$TINYHIL_BOARDS_DIR" and catalog["mine"][2] == [work / "boards" / "mine.json"]
        assert catalog["mps2_an386"][1] == "./boards" and len(catalog["mps2_an386"][2]) == 1
        assert {"other", "mine", "netduinoplus2", "nucleo_l4r5zi"} <= set(list_boards())
    finally:
        use_boards_dirs([])
