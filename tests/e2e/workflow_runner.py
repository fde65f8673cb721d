"""Runs a GitHub Actions job of the workflow `tinyhil ci github` writes, here: its `run:` steps in order with
bash -e in the repository, with the `GITHUB_*` variables they read; the three actions it uses are done the way
GitHub does them (checkout: the repository is already there; upload/download-artifact: folders copied to and
from an artifact store). Renode's action cannot run here: a job that uses it is refused, naming it."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str


@dataclass
class LocalRunner:
    repo: Path
    artifacts: Path  # one folder per uploaded artifact
    env: dict[str, str]  # the machine's environment for the steps (PATH with the installed tinyhil, HOME...)
    summary: Path = field(init=False)

    def __post_init__(self) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.summary = self.artifacts.parent / "step_summary.md"

    def run_job(self, workflow: dict, job_name: str) -> list[StepResult]:
        """Run the job's steps until one fails (later steps run only when they say `if: always()`)."""
        job = workflow["jobs"][job_name]
        env = {**self.env, **{k: str(v) for k, v in (workflow.get("env") or {}).items()},
               "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(self.repo), "GITHUB_JOB": job_name,
               "GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(self.artifacts.parent / "runner-temp")}
        Path(env["RUNNER_TEMP"]).mkdir(exist_ok=True)
        results: list[StepResult] = []
        failed = False
        for step in job["steps"]:
            if failed and step.get("if") != "always()":
                continue
            result = self._step(step, env)
            results.append(result)
            failed = failed or result.returncode != 0
        return results

    def _step(self, step: dict, env: dict) -> StepResult:
        name = step.get("name", step.get("uses", "run"))
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            return StepResult(name, 0, "the repository is the working tree")
        if uses.startswith("actions/upload-artifact@"):
            source = self.repo / step["with"]["path"]
            if not source.exists():
                return StepResult(name, 1 if step["with"].get("if-no-files-found") == "error" else 0, f"no {source}")
            shutil.copytree(source, self.artifacts / step["with"]["name"], dirs_exist_ok=True)
            return StepResult(name, 0, f"uploaded {source}")
        if uses.startswith("actions/download-artifact@"):
            target = self.repo / step["with"]["path"]
            for artifact in sorted(self.artifacts.iterdir()):
                if fnmatch.fnmatch(artifact.name, step["with"]["pattern"]):
                    shutil.copytree(artifact, target / artifact.name, dirs_exist_ok=True)
            return StepResult(name, 0, f"downloaded into {target}")
        if uses:
            raise RuntimeError(f"step {name!r} uses {uses}, which cannot run on this machine")
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=self.repo, env=env, capture_output=True,
                              text=True, timeout=900)
        return StepResult(name, done.returncode, done.stdout + done.stderr)


def clean_env(path_first: Path, home: Path, cache: Path) -> dict[str, str]:
    """A user's shell: the installed tinyhil first on PATH, no PYTHONPATH pointing into a checkout."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TERM", "TMPDIR")}
    return {**keep, "PATH": f"{path_first}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "TINYHIL_CACHE": str(cache), "PIP_NO_INDEX": "1"}
