"""The layout reads as the pipeline: no import cycles between harness modules (lazy imports included),
and the command line stays in small modules."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def _modules() -> dict[str, Path]:
    out = {}
    for path in HARNESS.rglob("*.py"):
        name = ".".join(path.relative_to(HARNESS.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the harness modules it imports anywhere in its body (a package's own submodules and
    the `harness` package itself, which only holds the lazy API, are left out)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for name in names:
                target = resolve(name) if name.startswith("harness.") else None
                if target and target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_its_way_back_to_itself():
    graph = import_graph()
    assert "harness.pipeline.bench" in graph and "harness.plugins" in graph["harness.pipeline.config"]
    assert cycles(graph) == []
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]  # the check itself finds one


def test_the_command_line_is_split_into_small_modules():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (HARNESS / "cli").glob("*.py")}
    assert {"app.py", "run.py", "report.py", "__init__.py"} <= set(sizes)
    assert max(sizes.values()) <= 250, sizes


# Settings (environment variables, --boards-dir) are read once, at the edge, into `harness.settings.Settings`,
# which the run configuration carries down. Elsewhere the environment is only touched where it is not a
# tinyhil setting — each such place listed here with why.
EDGE = ("cli/",)  # the command line: every module of it is the edge
ENVIRONMENT_ALLOWED = {
    ("settings.py", "env = os.environ if environ is None else environ"): "the edge's reader of every setting",
    ("build/platformio.py", "env = dict(os.environ)  # the build's own environment: PlatformIO and the compilers "
                            "inherit the user's"): "PlatformIO's subprocess environment (PATH, its own variables)",
    ("targets/renode.py", 'env={**os.environ, "TMPDIR": str(tmp)},'): "Renode's subprocess environment",
    ("targets/renode_robot.py", 'env = {**os.environ, "PYTHONPATH": library_path(), "TMPDIR": str(_tmp(results_dir))}'
                                "  # renode-test's own"): "renode-test's subprocess environment",
    ("targets/renode_robot.py", 'return os.pathsep.join([str(here), *sorted(site), *filter(None, '
                                '[os.environ.get("PYTHONPATH")])])'): "renode-test's PYTHONPATH keeps the caller's",
    ("targets/labgrid_place.py", "return f\"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/"
                                 "{os.environ.get('LG_USERNAME', getpass.getuser())}\""):
        "labgrid-client's own variables, mirrored to name a lock's holder as labgrid does",
    ("reference/lite.py", 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")'): "quiets TensorFlow; reads nothing",
    ("demo_model.py", 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")'): "quiets TensorFlow; reads nothing",
    ("compress/_runtime.py", 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")'): "quiets TensorFlow; reads nothing",
}
# Where `Settings.from_environ()` may be called: the edges (a Dask worker, `tinyhil doctor` / `zoo` / `demo`
# run as commands of their own; a BenchConfig made without settings reads them when it is made).
SETTINGS_EDGES = ("cli/", "api.py", "settings.py", "pipeline/config.py", "sweep_dask_worker.py", "doctor.py", "zoo.py",
                  "demo.py")


def environment_uses(source: str) -> list[int]:
    """Lines that touch the process environment: `os.environ`, `os.getenv`, `from os import environ`..."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv", "putenv")
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                a.name in ("environ", "environb", "getenv") for a in node.names):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_module_below_the_edge_reads_the_environment_for_a_setting():
    found, allowed_seen = [], set()
    for path in sorted(HARNESS.rglob("*.py")):
        rel = path.relative_to(HARNESS).as_posix()
        if rel.startswith(EDGE):
            continue
        text = path.read_text().splitlines()
        for line in environment_uses(path.read_text()):
            key = (rel, text[line - 1].strip())
            if key in ENVIRONMENT_ALLOWED:
                allowed_seen.add(key)
            else:
                found.append(f"harness/{rel}:{line}: {key[1]}")
    assert not found, "read the setting into harness.settings.Settings at the edge instead:\n" + "\n".join(found)
    assert allowed_seen == set(ENVIRONMENT_ALLOWED), set(ENVIRONMENT_ALLOWED) - allowed_seen  # no stale entry
    # the check itself sees the ways a module can read the environment
    assert environment_uses('import os\nx = os.environ.get("TINYHIL_CACHE")\ny = os.getenv("CC")') == [2, 3]
    assert environment_uses("from os import environ\n") == [1]


def test_settings_are_read_from_the_environment_at_the_edges_only():
    callers = sorted(path.relative_to(HARNESS).as_posix() for path in HARNESS.rglob("*.py")
                     if "Settings.from_environ(" in path.read_text() or "Settings.from_environ," in path.read_text())
    assert callers and all(c.startswith(SETTINGS_EDGES) for c in callers), callers


def test_the_measure_stage_reaches_the_timing_model_through_its_registry():
    graph = import_graph()
    measure = [m for m in graph if m.startswith("harness.measure")]
    assert measure and not any(t.startswith("harness.timing") for m in measure for t in graph[m])
    assert "harness.plugins" in graph["harness.measure.device"]
