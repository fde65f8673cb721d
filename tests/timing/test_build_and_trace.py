"""The plugin's build (content-hashed, in the user cache) and the reading of its trace."""

from __future__ import annotations

import os
import shutil

import pytest

from harness.errors import TinyhilError
from harness.timing import build
from harness.timing.trace import PluginArgs, read_trace, windows

needs_cc = pytest.mark.skipif(not any(shutil.which(c) for c in ("cc", "gcc", "clang")), reason="no C compiler")


@needs_cc
def test_plugin_builds_into_the_user_cache_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = build.plugin_path()
    assert first.is_relative_to(tmp_path / "cache" / "tinyhil") and first.stat().st_size > 0
    stamp = first.stat().st_mtime_ns
    assert build.plugin_path() == first and first.stat().st_mtime_ns == stamp  # reused, not rebuilt
    # the shared object exports what QEMU 7.2's loader looks up
    symbols = open(first, "rb").read()
    assert b"qemu_plugin_install" in symbols and b"qemu_plugin_version" in symbols


@needs_cc
def test_an_edited_source_is_a_new_build(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = build.plugin_digest()
    real = build._sources

    def edited():
        sources = real()
        sources["thumb_cost.c"] += b"\n/* edited */\n"
        return sources

    monkeypatch.setattr(build, "_sources", edited)
    assert build.plugin_digest() != before


@needs_cc
def test_a_broken_source_is_one_build_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = build._sources
    monkeypatch.setattr(build, "_sources", lambda: {**real(), "thumb_cost.c": b"this is not C"})
    with pytest.raises(TinyhilError, match="building the QEMU timing plugin failed"):
        build.plugin_path()
    assert not any(p.suffix == ".so" for p in (tmp_path / "cache").rglob("*") if p.is_file())


def _trace(tmp_path, lines: list[str]):
    path = tmp_path / "trace.txt"
    path.write_text("# tinyhil-timing 1 counters insns core\n" + "\n".join(lines) + "\n")
    return path


def test_windows_pair_opening_marks_and_close(tmp_path):
    snaps = read_trace(_trace(tmp_path, ["M 1 1", "S 10 20", "M 15 30", "C 16 31", "S 20 40", "M 30 60",
                                         "M 40 70", "S 50 90", "E 60 100", "S 70 1"]))
    ws = windows(snaps)
    assert [(w.start.counts["core"], [m.counts["core"] for m in w.marks], w.end and w.end.counts["core"])
            for w in ws] == [(20, [30], 31), (40, [60, 70], 90), (90, [], 100), (1, [], None)]
    assert ws[0].marks[0] - ws[0].start == {"insns": 5, "core": 10}


def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path):
    assert [s.kind for s in read_trace(_trace(tmp_path, ["S 1 2", "M 3"]))] == ["S"]


def test_not_a_trace_is_an_error(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(TinyhilError, match="not a tinyhil timing trace"):
        read_trace(tmp_path / "x.txt")


def test_plugin_option_names_every_setting(tmp_path):
    args = PluginArgs(out=tmp_path / "t.txt", start=(0x100,), mark=(0x200,), close=(0x300, 0x400),
                      flash=(0, 0x1000), line_bytes=8, icache_lines=128, dcache_lines=32, wait_states=5,
                      prefetch=True)
    option = args.option(tmp_path / "p.so")
    assert option.split(",")[0] == str(tmp_path / "p.so")
    assert {"start=0x100", "mark=0x200", "close=0x300:0x400", "flash=0x0:0x1000", "line=8", "icache=128",
            "dcache=32", "ws=5", "prefetch=1"} <= set(option.split(","))
    with pytest.raises(TinyhilError, match="comma"):
        PluginArgs(out=tmp_path / "a,b.txt", start=(1,)).option(tmp_path / "p.so")


def test_cache_dir_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert build.cache_dir() == tmp_path / "tinyhil" / "timing-plugin"
    assert os.fspath(build.cache_dir()).startswith(str(tmp_path))
