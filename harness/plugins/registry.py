"""One registry per extension point: a name -> implementation table that knows where each came from.

Builtins are registered by tinyhil itself; other packages add theirs through Python entry points
(`[project.entry-points."tinyhil.engines"]` and so on). Loading is lazy — the first lookup loads the
builtins, then every entry point of the group. A plugin that fails to load (an import error, a
wrong type, a name clash) is named in one `PluginLoadWarning` and left out; the rest works. Two
registrations under one name are an error, never a silent override.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from harness.errors import TinyhilError

T = TypeVar("T")
BUILTIN_DIST = "tinyhil"


class DuplicateNameError(TinyhilError):
    """Two implementations registered under one name in one registry."""


class UnknownNameError(TinyhilError):
    """A name no implementation is registered under."""


class PluginLoadWarning(UserWarning):
    """A plugin's entry point could not be loaded; it is left out and everything else works."""


@dataclass(frozen=True)
class Origin:
    """Where a registered implementation came from: a distribution and its version, and the entry
    point (`module:attribute`) for a plugin (empty for tinyhil's own)."""

    dist: str
    version: str
    entry_point: str = ""

    @property
    def builtin(self) -> bool:
        return not self.entry_point

    def describe(self) -> str:
        return f"{self.dist} {self.version}" + (f" (entry point {self.entry_point})" if self.entry_point else "")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    item: T
    origin: Origin


def _tinyhil_origin() -> Origin:
    from harness import __version__

    return Origin(BUILTIN_DIST, __version__)


class Registry(Generic[T]):
    """Implementations of one extension point by name.

    `kind` names it in messages ("engine"); `group` is its entry-point group; `interface` is the
    class every item must be an instance of; `builtins` registers tinyhil's own on first use."""

    def __init__(self, kind: str, group: str, interface: type, builtins: Callable[[Registry[T]], None]) -> None:
        self.kind, self.group, self.interface = kind, group, interface
        self._builtins = builtins
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False
        self.failures: list[str] = []  # one line per plugin that failed to load

    def register(self, item: T, origin: Origin | None = None) -> T:
        """Add `item` under `item.name`; a name already taken is a DuplicateNameError."""
        self._ensure_loaded()  # tinyhil's own and the installed plugins first: a clash is always seen
        if not isinstance(item, self.interface):
            raise TinyhilError(f"{item!r} is not a {self.interface.__name__}: it cannot be registered as a {self.kind}")
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise TinyhilError(f"a {self.kind} needs a non-empty string `name`, got {name!r}")
        origin = origin or _tinyhil_origin()
        if name in self._entries:
            raise DuplicateNameError(f"{self.kind} {name!r} is registered twice: by "
                                     f"{self._entries[name].origin.describe()} and by {origin.describe()}")
        self._entries[name] = Entry(name, item, origin)
        return item

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._builtins(self)
        for ep in importlib.metadata.entry_points(group=self.group):
            self._load_entry_point(ep)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist = ep.dist.name if ep.dist else "unknown distribution"
        version = ep.dist.version if ep.dist else "?"
        try:
            obj = ep.load()
            item = obj() if isinstance(obj, type) else obj  # a class is instantiated without arguments
            if getattr(item, "name", None) != ep.name:
                raise TinyhilError(f"the entry point is named {ep.name!r} but the {self.kind} calls itself "
                                   f"{getattr(item, 'name', None)!r}")
            self.register(item, Origin(dist, version, f"{self.group}: {ep.name} = {ep.value}"))
        except Exception as e:  # any failure of someone else's code: name it once, keep going
            message = (f"{self.kind} plugin {ep.name!r} from {dist} {version} ({self.group}) failed to load "
                       f"and is left out: {type(e).__name__}: {e}")
            self.failures.append(message)
            warnings.warn(message, PluginLoadWarning, stacklevel=3)

    def get(self, name: str) -> T:
        self._ensure_loaded()
        entry = self._entries.get(name)
        if entry is None:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")
        return entry.item

    def origin(self, name: str) -> Origin:
        self.get(name)
        return self._entries[name].origin

    def names(self) -> tuple[str, ...]:
        self._ensure_loaded()
        return tuple(self._entries)

    def entries(self) -> list[Entry[T]]:
        self._ensure_loaded()
        return list(self._entries.values())

    def __iter__(self) -> Iterator[T]:
        return (entry.item for entry in self.entries())

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries
