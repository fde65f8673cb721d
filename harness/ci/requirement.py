"""Which pip requirement installs, in CI, the same tinyhil the user runs here.

PEP 610's `direct_url.json` in tinyhil's installed metadata says where it came from: absent for an
index (then `tinyhil==VERSION`), a VCS URL and commit for git (`tinyhil @ git+URL@COMMIT`), an archive
URL, or a local file or folder. A local path works in CI only inside the repository (then it is written
relative to the root); an editable checkout or a path elsewhere cannot, and the user is asked for
`--tinyhil REQ`.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from harness.errors import TinyhilError

ASK = "pass --tinyhil REQ with a requirement CI can install (a version pin, a wheel inside the repository, a git URL)"
_LOCAL_SUFFIXES = (".whl", ".tar.gz", ".zip")


def installed_requirement(repo_root: Path, distribution: str = "tinyhil") -> str:
    """The requirement that reinstalls the running tinyhil in the user's CI; TinyhilError when none can."""
    from harness import places

    if places.is_checkout():  # editable or on PYTHONPATH: whatever metadata says, this is a working tree
        raise TinyhilError(f"tinyhil runs from the checkout {places.source_root()}; CI cannot install that "
                           f"checkout: {ASK}")
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError as e:
        raise TinyhilError(f"tinyhil is not installed as a package here, so CI cannot reinstall it: {ASK}") from e
    text = dist.read_text("direct_url.json")
    if not text:
        return f"{distribution}=={dist.version}"
    return _from_direct_url(json.loads(text), repo_root, distribution)


def _from_direct_url(info: dict, repo_root: Path, distribution: str) -> str:
    url = info.get("url", "")
    vcs = info.get("vcs_info")
    if vcs:
        commit = vcs.get("commit_id")
        return f"{distribution} @ {vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return f"{distribution} @ {url}"
    path = Path(unquote(parsed.path))
    if (info.get("dir_info") or {}).get("editable"):
        raise TinyhilError(f"tinyhil is installed editable from {path}; CI cannot install that checkout: {ASK}")
    return local_requirement(str(path), repo_root)


def local_requirement(requirement: str, repo_root: Path) -> str:
    """A requirement as given by the user: a local wheel/sdist/folder must be inside the repository and is
    written relative to its root (`./dist/x.whl`); anything else (a pin, a URL) passes as it is."""
    looks_local = requirement.startswith((".", "/", "~")) or requirement.endswith(_LOCAL_SUFFIXES)
    if not looks_local or "://" in requirement or " @ " in requirement:
        return requirement
    path = Path(requirement).expanduser().resolve()
    root = repo_root.resolve()
    if not path.exists():
        raise TinyhilError(f"tinyhil requirement {requirement} does not exist")
    if not path.is_relative_to(root):
        raise TinyhilError(f"tinyhil comes from {path}, outside the repository {root}; CI checks out only the "
                           f"repository: {ASK}")
    return "./" + path.relative_to(root).as_posix()
