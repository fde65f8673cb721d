"""Writing the workflow into the user's repository: paths made relative to its root and checked, the
tinyhil requirement found (or taken from --tinyhil), an existing file kept unless forced."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.ci.github import WorkflowSpec, repo_relative, workflow
from harness.ci.requirement import installed_requirement, local_requirement
from harness.errors import TinyhilError

WORKFLOW_PATH = Path(".github/workflows/tinyhil.yml")


def repo_root(folder: Path) -> Path:
    """The root of the git repository holding `folder`, or `folder` itself outside git (it may become one)."""
    done = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else folder.resolve()


def prepare_workflow(models: list[str], boards: list[str], *, baseline: str, samples: int, tolerance: float,
                     tinyhil: str | None, shards: int = 1, data: str | None = None,
                     start: Path | None = None) -> tuple[str, Path, list[str]]:
    """The workflow text for the repository holding `start` (default: the working folder), its root, and
    notes for the user (e.g. a baseline still to commit). Relative paths are the working folder's. Every
    check happens here, before anything is written."""
    root = repo_root(start or Path.cwd())
    spec = WorkflowSpec(
        models=tuple(repo_relative(m, root, "model") for m in models), boards=tuple(boards),
        baseline=repo_relative(baseline, root, "baseline", must_exist=False), samples=samples, tolerance=tolerance,
        tinyhil=local_requirement(tinyhil, root) if tinyhil else installed_requirement(root), shards=shards,
        data=repo_relative(data, root, "data") if data else None, boards_dirs=_user_board_dirs(boards, root))
    notes = [f"tinyhil in CI: {spec.tinyhil}"]
    if not (root / spec.baseline).is_file():
        notes.append(f"no baseline yet: after a first run, `tinyhil check --baseline {spec.baseline} --update` "
                     "and commit it (the gate fails until then)")
    return workflow(spec), root, notes


def write_github_workflow(models: list[str], boards: list[str], *, out: Path | None = None, force: bool = True,
                          start: Path | None = None, **options) -> tuple[Path, list[str]]:
    """Write the workflow (options as for prepare_workflow); return its path and the notes."""
    text, root, notes = prepare_workflow(models, boards, start=start, **options)
    path = (root / WORKFLOW_PATH) if out is None else Path(out)
    if path.exists() and not force:
        raise TinyhilError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path, notes


def _user_board_dirs(boards: list[str], root: Path) -> tuple[str, ...]:
    """The folders of the boards that are not shipped with tinyhil: CI must find them too."""
    from harness.boards import load_board

    folders = []
    for name in boards:
        board = load_board(name)
        if board.source != "shipped":
            folder = repo_relative(board.manifest.parent, root, f"board file folder of {name}")
            if folder not in folders:
                folders.append(folder)
    return tuple(folders)
