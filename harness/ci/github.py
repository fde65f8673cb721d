"""`tinyhil ci github`: a GitHub Actions workflow that benchmarks a repository's models on every push.

The workflow is built as data and written with pyyaml. Every job runs in the pinned container
`debian:bookworm` — the toolchain the README installs (GCC 12.2, QEMU 7.2) — so a baseline made on a
Debian 12 machine matches CI's counts at `--tolerance 0`. One job per board x emulator (x shard) runs
the sweep and uploads its results; one last job merges them, draws the report, runs the gate, writes a
Markdown summary to `$GITHUB_STEP_SUMMARY` and uploads results and figures. Which targets a board gets
and their steps are the TargetKind's (`TargetKind.ci`: Renode jobs install Renode with its action and run
the Robot suites, `tinyhil robot --run`). `$GITHUB_STEP_SUMMARY` and `$RENODE_ROOT` are text in the
generated workflow, expanded by the runner, not read here. Paths in the file are relative to the
repository root and were checked to exist inside it when the file was written.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from harness.boards import Board, load_board
from harness.errors import TinyhilError
from harness.plugins import TARGETS
from harness.targets.base import CiRecipe

CONTAINER = "debian:bookworm"  # GCC 12.2.1 and QEMU 7.2, as scripts/install.sh on Debian 12
APT_BENCH = ("python3", "python3-pip", "git", "gcc-arm-none-eabi", "libnewlib-arm-none-eabi",
             "libstdc++-arm-none-eabi-newlib", "qemu-system-arm")
APT_REPORT = ("python3", "python3-pip", "git")
CHECKOUT, UPLOAD, DOWNLOAD = "actions/checkout@v4", "actions/upload-artifact@v4", "actions/download-artifact@v4"
ARTIFACT_PREFIX = "tinyhil-bench-"
JOBS_DIR = "results/jobs"  # where the report job gathers the bench jobs' tables
MERGED_DIR = "results/merged"


@dataclass(frozen=True)
class WorkflowSpec:
    models: tuple[str, ...]  # .tflite paths relative to the repository root
    boards: tuple[str, ...]
    baseline: str  # the committed baseline table, relative to the repository root
    tinyhil: str  # the pip requirement that installs tinyhil (see requirement.py)
    samples: int = 10
    tolerance: float = 0.0  # percent; emulator counts are deterministic
    shards: int = 1  # jobs per board x emulator
    data: str | None = None  # an .npz of samples, relative to the repository root
    boards_dirs: tuple[str, ...] = ()  # folders of the user's own board files, relative to the repository root

    def targets(self, board: Board) -> list[tuple[str, CiRecipe]]:
        """The targets a hosted runner benchmarks `board` on, each with its recipe (the TargetKind's):
        tinyhil's own kinds, since the workflow installs tinyhil alone."""
        found = [(kind.name, recipe) for kind in TARGETS if TARGETS.origin(kind.name).builtin
                 for recipe in [kind.ci(board)] if recipe is not None]
        if not found:
            raise TinyhilError(f"board {board.name!r} is modelled by no emulator (QEMU or Renode): it cannot run "
                           "in CI")
        return found


def repo_relative(path: str | Path, root: Path, what: str, must_exist: bool = True) -> str:
    """`path` (relative to the working folder, or absolute) as a POSIX path relative to the repository root;
    a TinyhilError when it lies outside the repository or (with must_exist) is missing."""
    full = Path(path).expanduser().resolve()
    root = root.resolve()
    if not full.is_relative_to(root):
        raise TinyhilError(f"{what} {path} is outside the repository {root}: CI checks out only the repository")
    if must_exist and not full.exists():
        raise TinyhilError(f"{what} {path} does not exist (the workflow would fail on it)")
    return full.relative_to(root).as_posix()


def _apt_step(packages: tuple[str, ...]) -> dict:
    names = " ".join(packages)
    return {"name": "Debian 12 packages", "run": (
        f"packages='{names}'\n"
        "dpkg -s $packages >/dev/null 2>&1 || {\n"
        "  apt-get update -qq\n"
        "  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages\n"
        "}")}


def _setup_steps(spec: WorkflowSpec, packages: tuple[str, ...]) -> list[dict]:
    return [{"name": "Check out", "uses": CHECKOUT}, _apt_step(packages),
            {"name": "Install tinyhil", "run": f"python3 -m pip install {shlex.quote(spec.tinyhil)}"}]


def _job_name(board: Board, target: str, shard: int, shards: int) -> str:
    suffix = f"-{shard}of{shards}" if shards > 1 else ""
    return f"bench-{target}-{board.name}{suffix}".replace("_", "-")


def _bench_job(spec: WorkflowSpec, board: Board, target: str, recipe: CiRecipe, shard: int) -> tuple[str, dict]:
    job = _job_name(board, target, shard, spec.shards)
    results = f"results/{job}"
    steps = _setup_steps(spec, APT_BENCH) + [dict(step) for step in recipe.setup]
    data = f" --data {shlex.quote(spec.data)}" if spec.data else ""
    if recipe.robot_suites:
        mine = [m for i, m in enumerate(spec.models) if i % spec.shards == shard - 1]
        lines = [f"tinyhil robot {shlex.quote(m)} --board {board.name} --samples {spec.samples}{data} "
                 f"--out {shlex.quote(f'robot/{PurePosixPath(m).stem}-{board.name}')} --results {results} --run"
                 for m in mine]
        bench = {"name": recipe.title, "run": "\n".join(lines) or "true"}
    else:
        models = " ".join(shlex.quote(m) for m in spec.models)
        bench = {"name": recipe.title, "run": (
            f"tinyhil sweep {models} --board {board.name} --target {target} --samples {spec.samples}{data} "
            f"--shard {shard}/{spec.shards} --results {results}")}
    steps += [{"name": "Tools", "run": "tinyhil doctor"}, bench,
              {"name": "Upload this job's results", "if": "always()", "uses": UPLOAD,
               "with": {"name": ARTIFACT_PREFIX + job.removeprefix("bench-"),
                        "path": results,
                        "if-no-files-found": "error"}}]
    title = f"{board.name} on {target}" + (f" ({shard}/{spec.shards})" if spec.shards > 1 else "")
    return job, {"name": title, "runs-on": "ubuntu-latest", "container": CONTAINER, "timeout-minutes": 120,
                 "steps": steps}


def _report_job(spec: WorkflowSpec, needs: list[str]) -> dict:
    baseline = shlex.quote(spec.baseline)
    steps = _setup_steps(spec, APT_REPORT) + [
        {"name": "Gather the bench jobs' results", "uses": DOWNLOAD,
         "with": {"pattern": ARTIFACT_PREFIX + "*", "path": JOBS_DIR}},
        {"name": "Merge and report", "run": f"tinyhil report {JOBS_DIR}/* --out {MERGED_DIR}"},
        {"name": "Regression gate", "run": (
            f"tinyhil check --baseline {baseline} --results {MERGED_DIR} --tolerance {spec.tolerance:g} "
            '--summary "$GITHUB_STEP_SUMMARY"')},
        {"name": "Upload results and figures", "if": "always()", "uses": UPLOAD,
         "with": {"name": "tinyhil-report", "path": MERGED_DIR, "if-no-files-found": "warn"}},
    ]
    # runs when a bench job failed too: its runs are then missing, and the gate says which
    return {"name": "report and regression gate", "needs": needs, "if": "${{ !cancelled() }}",
            "runs-on": "ubuntu-latest", "container": CONTAINER, "timeout-minutes": 60, "steps": steps}


def workflow_data(spec: WorkflowSpec) -> dict:
    if not spec.models or not spec.boards:
        raise TinyhilError("a CI workflow needs at least one --model and one --board")
    if spec.shards < 1:
        raise TinyhilError(f"--shards must be at least 1, got {spec.shards}")
    jobs: dict[str, dict] = {}
    for board in (load_board(name) for name in spec.boards):
        for target, recipe in spec.targets(board):
            for shard in range(1, spec.shards + 1):
                name, job = _bench_job(spec, board, target, recipe, shard)
                jobs[name] = job
    jobs["report"] = _report_job(spec, list(jobs))
    # the container's Python is Debian's: the job owns it, so pip may install into it
    env = {"PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if spec.boards_dirs:
        env["TINYHIL_BOARDS_DIR"] = ":".join(spec.boards_dirs)
    return {"name": "tinyhil benchmarks", "on": {"push": None, "pull_request": None, "workflow_dispatch": None},
            "permissions": {"contents": "read"}, "env": env, "jobs": jobs}


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):  # multi-line scripts as literal blocks, readable in review
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", ""))


def workflow(spec: WorkflowSpec) -> str:
    header = ("# Written by `tinyhil ci github`; run it again rather than editing by hand.\n"
              f"# Commit the baseline first: run the benchmarks, then `tinyhil check --baseline {spec.baseline} "
              "--update`.\n")
    return header + yaml.dump(workflow_data(spec), Dumper=_Dumper, sort_keys=False, width=120)
