"""The compaction lock holds across processes and machines sharing a folder, and a dead owner's lock
is taken over: by its pid on this host at once, by its heartbeat's age from another host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.report.store_lock import STALE_S, FolderLock

REPO = Path(__file__).resolve().parents[2]


def test_one_owner_at_a_time(tmp_path):
    path = tmp_path / ".compact.lock"
    first, second = FolderLock(path), FolderLock(path)
    assert first.acquire(wait=False) and first.held()
    assert not second.acquire(wait=False)  # held by a live process of this host
    assert json.loads(path.read_text())["pid"] == os.getpid()
    first.release()
    assert not path.exists()
    assert second.acquire(wait=False) and second.held() and not first.held()
    second.release()
    assert list(tmp_path.iterdir()) == []  # no owner file left behind


def test_a_killed_owner_on_this_host_is_taken_over_at_once(tmp_path):
    path = tmp_path / ".compact.lock"
    code = ("import os, sys; from harness.report.store_lock import FolderLock; "
            "assert FolderLock(__import__('pathlib').Path(sys.argv[1])).acquire(); os._exit(0)")  # dies holding it
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    dead = json.loads(path.read_text())
    assert dead["pid"] != os.getpid()
    lock = FolderLock(path)
    assert lock.acquire(wait=False) and lock.held()  # no wait for the heartbeat to age
    lock.release()


def _other_machine(path: Path, age_s: float) -> None:
    """A lock as a compaction on another host sharing the folder leaves it, its heartbeat `age_s` old."""
    path.write_text(json.dumps({"host": "another-machine.lab", "pid": 1, "token": "f" * 32, "since": 0}))
    then = time.time() - age_s
    os.utime(path, (then, then))


def test_another_hosts_lock_holds_while_its_heartbeat_is_fresh(tmp_path):
    path = tmp_path / ".compact.lock"
    _other_machine(path, age_s=5)
    lock = FolderLock(path)
    assert not lock.acquire(wait=False)  # its pid means nothing here: only the heartbeat counts
    _other_machine(path, age_s=STALE_S + 60)
    assert lock.acquire(wait=False) and lock.held()
    assert [p.name for p in tmp_path.iterdir()] == [".compact.lock"]  # the stale one is gone, not kept aside


def test_the_heartbeat_keeps_a_long_compaction_from_being_taken(tmp_path):
    path = tmp_path / ".compact.lock"
    owner = FolderLock(path, stale_s=60)
    assert owner.acquire()
    then = time.time() - 120
    os.utime(path, (then, then))  # as if the last merge took two minutes...
    owner.refresh()  # ...and then the owner touched it
    assert not FolderLock(path, stale_s=60).acquire(wait=False)


def test_a_lock_taken_away_is_not_removed_by_its_old_owner(tmp_path):
    path = tmp_path / ".compact.lock"
    stalled, other = FolderLock(path, stale_s=1), FolderLock(path, stale_s=1)
    assert stalled.acquire()
    then = time.time() - 10
    os.utime(path, (then, then))  # a live owner that stalled past the stale rule (e.g. a hung mount)
    assert other.acquire(wait=False) and not stalled.held()
    stalled.release()  # what the stalled one does when it wakes up
    assert other.held()


def test_an_older_tinyhils_empty_lock_file_does_not_block(tmp_path):
    path = tmp_path / ".compact.lock"
    path.touch()  # what the flock-based lock left in every results folder
    lock = FolderLock(path)
    assert lock.acquire(wait=False) and lock.held()


def test_compaction_leaves_the_folder_to_a_compaction_on_another_machine(tmp_path):
    from harness.report.compaction import compact
    from harness.report.fragments import list_fragments
    from harness.report.location import runs_folder
    from harness.report.store import append_results, load_results

    for i in range(3):
        row = {"model": "m", "board": "mps2_an386", "target": "qemu", "engine": "builtin", "run_id": f"run-{i}",
               "attempt_id": f"a-{i}", "unit": "instructions", "latency_median": 1000.0 + i}
        append_results([row], tmp_path)
    lock = tmp_path / "store" / ".compact.lock"
    _other_machine(lock, age_s=1)
    assert compact(tmp_path, wait=False) == 0 and len(list_fragments(runs_folder(tmp_path))) == 3
    _other_machine(lock, age_s=STALE_S + 1)  # that machine died mid-compaction
    assert compact(tmp_path, wait=False) == 3 and len(list_fragments(runs_folder(tmp_path))) == 1
    assert not lock.exists() and list(load_results(tmp_path)["run_id"]) == ["run-0", "run-1", "run-2"]
