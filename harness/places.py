"""Where tinyhil reads its shipped files and where it writes: never inside the package.

* The **project template** (`platformio.ini`, `firmware/`, `boards/`, `renode/`) is read from the checkout's
  top level when tinyhil runs from a checkout, else from the copy the wheel carries in `harness/_project/`
  (setup.py maps the top-level folders there; the repository keeps one copy).
* The **cache** (builds, staged PlatformIO projects, zoo downloads) is the user cache directory the
  settings name (`harness.settings`: `$TINYHIL_CACHE`, else platformdirs' user cache), passed in here.
* **Results** go to `./results` of the working folder or `--out`; that is the caller's choice, not here.

An installed package is built in a staged copy of the template under the cache, named by the template's
content hash, because PlatformIO writes into its project folder (`.pio/`) and site-packages may be
read-only. A checkout builds in place, as it always has.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ITEMS = ("platformio.ini", "firmware", "boards", "renode")  # what a build or a board lookup reads
_BUNDLED = PACKAGE_DIR / "_project"
_IGNORED = shutil.ignore_patterns(".pio", "__pycache__", "*.pyc")


@functools.cache
def source_root() -> Path:
    """The folder holding the project template: the checkout's top level, or the wheel's bundled copy."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "platformio.ini").is_file() and (checkout / "firmware").is_dir():
        return checkout
    if (_BUNDLED / "platformio.ini").is_file():
        return _BUNDLED
    raise RuntimeError(f"tinyhil is installed without its firmware and board files (neither {checkout} nor "
                       f"{_BUNDLED} has platformio.ini): reinstall it from a complete wheel or sdist")


def is_checkout() -> bool:
    """True when running from a source checkout (the template is the repository's own top level)."""
    return source_root() == PACKAGE_DIR.parent


def shipped_boards_dir() -> Path:
    return source_root() / "boards"


def firmware_dir() -> Path:
    return source_root() / "firmware"


def template_sha256() -> str:
    from harness.identity import tree_sha256

    root = source_root()
    return tree_sha256([root / item for item in PROJECT_ITEMS], root)


@functools.cache
def build_project_dir(cache_dir: Path | None) -> Path:
    """The PlatformIO project to build in: the checkout itself, or a staged copy of the installed template
    in the user cache `cache_dir` (made once per template content, atomically, so concurrent first runs
    do not clash)."""
    if is_checkout():
        return source_root()
    if cache_dir is None:
        raise RuntimeError("an installed tinyhil builds in a staged copy of its template: name the user cache")
    staged = Path(cache_dir) / "project" / template_sha256()[:16]
    if (staged / "platformio.ini").is_file():
        return staged
    staged.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".staging-", dir=staged.parent))
    for item in PROJECT_ITEMS:
        source = source_root() / item
        if source.is_dir():
            shutil.copytree(source, scratch / item, ignore=_IGNORED)
        elif source.is_file():
            shutil.copy2(source, scratch / item)
    _make_writable(scratch)  # a read-only install copies read-only modes; the build writes beside them
    try:
        scratch.rename(staged)
    except OSError:  # another process staged it first: theirs is identical
        shutil.rmtree(scratch, ignore_errors=True)
    return staged


def firmware_roots(project_dir: Path | None = None) -> tuple[Path, ...]:
    """The project folders a firmware may have been built in: the template, and the project it was
    built in (an installed tinyhil's staged copy: the same sources under another path)."""
    return tuple(dict.fromkeys([source_root().resolve(), *([Path(project_dir).resolve()] if project_dir else [])]))


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
