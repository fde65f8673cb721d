"""`tinyhil ci github`: a GitHub Actions workflow that benchmarks a repository's models on every push.

One job on ubuntu: the Arm toolchain and QEMU from apt, tinyhil from pip, Renode through
antmicro/renode-test-action (called without tests it only installs Renode and puts `renode` and
`renode-test` on PATH);
then every model is benched on every emulator that models each board, the Renode boards' Robot
suites are generated and run under renode-test (`tinyhil robot --run`), the results table and plots
are uploaded as an artifact whatever happened, and `tinyhil check` fails the job on a regression
against the committed baseline. Scalars are written as JSON strings, which YAML reads verbatim.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from harness.boards import Board, load_board
from harness.errors import TinyhilError

APT_PACKAGES = ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "libstdc++-arm-none-eabi-newlib", "qemu-system-arm")
RENODE_ACTION = "antmicro/renode-test-action@v5"
RENODE_REVISION = "v1.15.3"  # the Renode release tinyhil's .repl files and timing were checked against


@dataclass(frozen=True)
class WorkflowSpec:
    models: tuple[str, ...]  # .tflite paths in the user's repository
    boards: tuple[str, ...]
    baseline: str  # the committed baseline table tinyhil check compares against
    samples: int = 10
    tolerance: float = 0.0  # percent; emulator counts are deterministic
    tinyhil: str = "tinyhil"  # the pip requirement that installs tinyhil (a name, a path or a git URL)
    python: str = "3.11"
    renode_revision: str = RENODE_REVISION
    results: str = "results"

    def targets(self, board: Board) -> list[str]:
        found = [t for t, models in (("qemu", board.qemu_machine), ("renode", board.renode_platform)) if models]
        if not found:
            raise TinyhilError(f"board {board.name!r} is modelled by no emulator (QEMU or Renode): it cannot run in CI")
        return found


def _q(value: str) -> str:
    return json.dumps(value)


def _step(name: str, *, run: str | None = None, uses: str | None = None, with_: dict | None = None,
          if_: str | None = None) -> list[str]:
    lines = [f"      - name: {_q(name)}"]
    if if_:
        lines.append(f"        if: {if_}")
    if uses:
        lines.append(f"        uses: {uses}")
    if with_:
        lines.append("        with:")
        lines += [f"          {key}: {_q(str(value))}" for key, value in with_.items()]
    if run:
        lines.append("        run: |")
        lines += [f"          {line}" for line in run.splitlines()]
    return lines


def _bench_lines(spec: WorkflowSpec, boards: list[Board], target: str) -> list[str]:
    return [
        f"tinyhil bench {shlex.quote(model)} --board {board.name} --target {target} --samples {spec.samples} "
        f"--results {shlex.quote(spec.results)}"
        for board in boards if target in spec.targets(board) for model in spec.models
    ]  # fmt: skip


def workflow(spec: WorkflowSpec) -> str:
    if not spec.models or not spec.boards:
        raise TinyhilError("a CI workflow needs at least one --model and one --board")
    boards = [load_board(name) for name in spec.boards]
    renode_boards = [b for b in boards if "renode" in spec.targets(b)]
    results = shlex.quote(spec.results)
    qemu = _bench_lines(spec, boards, "qemu")
    # On Renode, `tinyhil robot` is the bench: its calibration run is the row, then the suite runs.
    robot = [
        f"tinyhil robot {shlex.quote(model)} --board {b.name} --samples {spec.samples} "
        f"--out {shlex.quote(f'robot/{PurePosixPath(model).stem}-{b.name}')} --results {results} --run"
        for b in renode_boards for model in spec.models
    ]  # fmt: skip
    steps = [
        *_step("Check out", uses="actions/checkout@v4"),
        *_step("Python", uses="actions/setup-python@v5", with_={"python-version": spec.python}),
        *_step("Arm toolchain and QEMU",
               run=f"sudo apt-get update\nsudo apt-get install -y --no-install-recommends {' '.join(APT_PACKAGES)}"),
        *_step("Install tinyhil", run=f"python -m pip install {shlex.quote(spec.tinyhil)}"),
    ]  # fmt: skip
    if renode_boards:
        steps += _step("Install Renode", uses=RENODE_ACTION, with_={"renode-revision": spec.renode_revision})
        # renode-test runs python3 from PATH: Robot Framework beside tinyhil, whose keywords the suites use
        steps += _step("Robot Framework for renode-test",
                       run='python -m pip install -r "$RENODE_ROOT/tests/requirements.txt"')
    steps += _step("Tools", run="tinyhil doctor")
    if qemu:
        steps += _step("Benchmark on QEMU", run="\n".join(qemu))
    if robot:
        steps += _step("Benchmark on Renode and run the Robot suites under renode-test", run="\n".join(robot))
    steps += _step("Plots", if_="always()", run=f"tinyhil report {results} --out {results}/report")
    artifact = {"name": "tinyhil-results", "path": f"{spec.results}\nrobot", "if-no-files-found": "warn"}
    steps += _step("Upload results", if_="always()", uses="actions/upload-artifact@v4", with_=artifact)
    steps += _step("Regression gate",
                   run=f"tinyhil check --baseline {shlex.quote(spec.baseline)} --results {results} "
                       f"--tolerance {spec.tolerance:g}")  # fmt: skip
    header = [
        "# Written by `tinyhil ci github`; run it again rather than editing by hand.",
        f"# Commit the baseline first: run the benchmarks, then `tinyhil check --baseline {spec.baseline} --update`.",
        "name: tinyhil benchmarks",
        "on:",
        "  push:",
        "  pull_request:",
        "  workflow_dispatch:",
        "permissions:",
        "  contents: read",
        "jobs:",
        "  bench:",
        "    runs-on: ubuntu-22.04",
        "    timeout-minutes: 120",
        "    steps:",
    ]
    return "\n".join([*header, *steps, ""])
