"""The settings tinyhil takes from outside a run's options: environment variables and --boards-dir,
read once at the edge (the CLI, an experiment file, the Python API) into one frozen `Settings`
record that the run configuration carries (`BenchConfig.settings`) and every stage is handed.

Below the edge no module reads the environment for a setting (tests/test_layout.py greps for it).
`Settings()` is tinyhil's defaults, with nothing read from the environment; `Settings.from_environ()`
is what the edge builds.

| variable | field | what it sets |
|---|---|---|
| `TINYHIL_CACHE` | `cache_dir` | the user cache (builds, staged project, zoo, TFLM libraries), else platformdirs' |
| `TINYHIL_BOARDS_DIR` | `boards_dirs` | folders of board files (os.pathsep-separated), after --boards-dir |
| `TINYHIL_TFLM_DIR_CMSIS_NN`, `TINYHIL_TFLM_DIR_REFERENCE`, `TINYHIL_TFLM_DIR` | `tflm_trees` | the TFLM trees |
| `TINYHIL_TFLM_COMMIT` | `tflm_commit` | the TFLM commit of a tree without a TFLM_COMMIT file |
| `TINYHIL_TFLM_BUILD_TIMEOUT` | `tflm_build_timeout_s` | seconds the TFLM library build may take |
| `TINYHIL_TFLM_LIBRARY` | `tflm_library` | `ops` (the kernels the model needs) or `full` |
| `TINYHIL_BUILD_JOBS` | `build_jobs` | parallel compiles of the TFLM library (default: the cores) |
| `TINYHIL_RENODE`, `TINYHIL_RENODE_TEST` | `renode`, `renode_test` | the Renode launcher and renode-test |
| `LG_PLACE`, `LG_COORDINATOR` | `labgrid_place`, `labgrid_coordinator` | labgrid's defaults for --place/--coordinator |
| `CC` | `c_compiler` | the host C compiler that builds the timing model's QEMU plugin |
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from harness.errors import TinyhilError

BOARDS_ENV = "TINYHIL_BOARDS_DIR"
TFLM_TREE_ENV = ("TINYHIL_TFLM_DIR_CMSIS_NN", "TINYHIL_TFLM_DIR_REFERENCE", "TINYHIL_TFLM_DIR")


def default_cache_dir() -> Path:
    """platformdirs' user cache for tinyhil (`$XDG_CACHE_HOME/tinyhil`, `~/.cache/tinyhil`)."""
    return platformdirs.user_cache_path("tinyhil")


@dataclass(frozen=True)
class Settings:
    cache_dir: Path = field(default_factory=default_cache_dir)
    # folders of board files searched before ./boards and the shipped ones, each with where it was named
    boards_dirs: tuple[tuple[Path, str], ...] = ()
    tflm_trees: tuple[tuple[str, str], ...] = ()  # (variable, path) of each TFLM tree variable set
    tflm_commit: str = ""
    tflm_build_timeout_s: float | None = None  # None: the TFLM library build's default
    tflm_library: str = "ops"
    build_jobs: int | None = None  # None: one compile per core
    renode: str | None = None  # None: `renode` on PATH
    renode_test: str | None = None  # None: beside `renode`, else on PATH
    labgrid_place: str | None = None
    labgrid_coordinator: str | None = None
    c_compiler: str | None = None  # None: cc, gcc or clang on PATH

    @property
    def tflm_environ(self) -> dict[str, str]:
        """The TFLM tree variables as they were set (`harness.build.tflm_lib.configured_trees` reads them)."""
        return dict(self.tflm_trees)

    def with_boards_dirs(self, dirs: Iterable[Path]) -> Settings:
        """These settings with --boards-dir folders before the other board folders."""
        given = tuple((Path(d).expanduser().resolve(), "--boards-dir") for d in dirs)
        return replace(self, boards_dirs=given + tuple(d for d in self.boards_dirs if d[1] != "--boards-dir"))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, boards_dirs: Iterable[Path] = ()) -> Settings:
        """The settings from the environment (and --boards-dir folders): called at the edge only."""
        env = os.environ if environ is None else environ
        cache = Path(env["TINYHIL_CACHE"]).expanduser() if env.get("TINYHIL_CACHE") else default_cache_dir()
        from_env = tuple((Path(d).expanduser().resolve(), f"${BOARDS_ENV}")
                         for d in env.get(BOARDS_ENV, "").split(os.pathsep) if d)
        library = "full" if env.get("TINYHIL_TFLM_LIBRARY") == "full" else "ops"  # anything else: ops, as always
        return cls(
            cache_dir=cache, boards_dirs=from_env,
            tflm_trees=tuple((var, env[var]) for var in TFLM_TREE_ENV if env.get(var)),
            tflm_commit=env.get("TINYHIL_TFLM_COMMIT", ""),
            tflm_build_timeout_s=_number(env, "TINYHIL_TFLM_BUILD_TIMEOUT", float),
            tflm_library=library, build_jobs=_number(env, "TINYHIL_BUILD_JOBS", int) or None,
            renode=env.get("TINYHIL_RENODE") or None, renode_test=env.get("TINYHIL_RENODE_TEST") or None,
            labgrid_place=env.get("LG_PLACE") or None, labgrid_coordinator=env.get("LG_COORDINATOR") or None,
            c_compiler=env.get("CC") or None,
        ).with_boards_dirs(boards_dirs)  # fmt: skip


def _number(env: Mapping[str, str], name: str, kind: type):
    text = env.get(name)
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise TinyhilError(f"{name} must be a number, got {text!r}") from None
    if value <= 0 and not (kind is int and value == 0):
        raise TinyhilError(f"{name} must be > 0, got {text!r}")
    return value
