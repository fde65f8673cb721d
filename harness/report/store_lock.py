"""The compaction lock: one compaction of a results folder at a time, across machines sharing it.

A lock file (`store/.compact.lock`) made by hard-linking a file that names its owner (host, pid, a
random token, when it was taken) to the lock's name: atomic on a local file system and on NFS, where
`flock` need not hold across clients. The owner touches it between merges (`refresh`), so its mtime
is a heartbeat. A lock is stale, and is taken away, when its owner is a process of this host that
no longer runs (a compaction killed), when it names no owner (the empty file an older tinyhil's
flock left), or when its heartbeat is older than `STALE_S` (a machine that died or lost the folder;
this assumes the machines' clocks agree within minutes, as NTP keeps them).

What it guarantees, and what it does not: compaction is safe without any lock — a segment is
written durably before the files it holds are removed, a compactor that finds a file gone leaves
the work to the other, and readers keep one row per `attempt_id` — so a lock that fails (taken away
from a live but stalled owner, or two machines breaking one stale lock at once) costs duplicated
work and rows stored twice until the next compaction, never a lost or doubled row in what is read.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

STALE_S = 600.0  # a heartbeat older than this: the owner is gone
POLL_S = 0.2


class FolderLock:
    def __init__(self, path: Path, stale_s: float = STALE_S) -> None:
        self.path = Path(path)
        self.stale_s = stale_s
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex}

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock; with `wait` off, False at once when someone else holds it."""
        # The owner is written to a file of its own first, then linked to the lock's name: the lock
        # file is never seen empty. link() fails when the name exists; its link count tells whether
        # it worked even where a lost NFS reply makes it report otherwise (the classic NFS lock).
        self._remove_orphans()
        mine = self.path.with_name(f"{self.path.name}.{self.owner['token']}.tmp")
        mine.write_text(json.dumps({**self.owner, "since": time.time()}))
        try:
            while True:
                try:
                    os.link(mine, self.path)
                except OSError:
                    pass
                if os.stat(mine).st_nlink == 2:
                    return True
                if self._take_if_stale():
                    continue
                if not wait:
                    return False
                time.sleep(POLL_S)
        finally:
            mine.unlink(missing_ok=True)

    def refresh(self) -> None:
        """The heartbeat: the owner is still at work (a long compaction is not taken for a dead one)."""
        if self.held():
            os.utime(self.path)

    def held(self) -> bool:
        return (_read(self.path) or {}).get("token") == self.owner["token"]

    def release(self) -> None:
        if self.held():  # (not a lock someone took away from us as stale and holds now)
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()

    def _remove_orphans(self) -> None:
        """Owner files of takers killed before they removed theirs (a few bytes each)."""
        for orphan in self.path.parent.glob(f"{self.path.name}.*.tmp"):
            try:
                if time.time() - orphan.stat().st_mtime > self.stale_s:
                    orphan.unlink()
            except OSError:
                pass

    def _take_if_stale(self) -> bool:
        """Remove the lock file if its owner is gone; True when the caller should try again."""
        owner = _read(self.path)
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return True  # released meanwhile
        # No owner in it: the empty file an older tinyhil's flock left (every lock taken here is whole).
        gone = owner is None or (owner.get("host") == self.owner["host"] and not _alive(owner.get("pid")))
        if not gone and age <= self.stale_s:
            return False
        # Take it away by renaming it (atomic: of two takers, one gets it); if what was renamed is not
        # the lock judged stale (it was released and taken again meanwhile), put that one back.
        grave = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(self.path, grave)
        except FileNotFoundError:
            return True
        taken = _read(grave)
        if (taken or {}).get("token") != (owner or {}).get("token"):
            try:
                os.link(grave, self.path)
            except FileExistsError:
                pass
        grave.unlink(missing_ok=True)
        return True


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # gone
        return None


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
