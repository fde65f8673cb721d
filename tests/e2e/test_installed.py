"""tinyhil as users get it: the sdist and wheel built with `python -m build`, the wheel installed into a fresh
venv (third-party packages reused from this one), run from empty folders outside the checkout with a read-only
package, and the CI workflow `tinyhil init` writes run step by step in a fresh git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from harness.report import load_results

from .conftest import REPO, keras_to_int8_tflite
from .workflow_runner import LocalRunner, clean_env

pytestmark = pytest.mark.slow
TEMPLATE = ("platformio.ini", "firmware/src/main.c", "firmware/platform/platform.py", "boards/mps2_an386.json",
            "renode/stm32f405.repl", "firmware/baseline_model/model.c")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist + wheel, built from a copy of the source tree (the build writes egg-info beside its sources)."""
    src = tmp_path_factory.mktemp("src") / "tinyhil"
    top = {".git", ".venv", "build", "dist", "results"}  # the checkout's own, at its top level only

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in ("__pycache__", ".pio") or n.endswith(".egg-info")}
        if Path(folder) == REPO:
            skip |= top & set(names)
        if Path(folder).name == "toolchain":
            skip |= {"bin"}
        return skip

    shutil.copytree(REPO, src, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def venv(tmp_path_factory, dist) -> Path:
    """A fresh venv with the built wheel; this environment's third-party packages reached through a .pth line
    (a path line adds the folder but runs none of its .pth files, so the checkout's editable install stays out)."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    purelib = Path(subprocess.run([root / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()"
                                   "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "_third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(dist.glob("*.whl"))
    done = subprocess.run([root / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root


def _package_dir(venv: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed package, not a checkout
    out = subprocess.run([venv / "bin" / "python", "-c", "import harness; print(harness.__file__)"],
                         capture_output=True, text=True, check=True, cwd="/", env=env)
    return Path(out.stdout.strip()).parent


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def _read_only(package: Path) -> list[str] | None:
    """A command prefix that mounts the package read-only for the command (a private mount namespace), or
    None when this machine does not allow it (then the test compares the package's files before and after)."""
    prefix = ["unshare", "-m", "sh", "-c", f'mount --bind "{package}" "{package}" && '
              f'mount -o remount,bind,ro "{package}" "{package}" && exec "$0" "$@"']
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run([*prefix, "sh", "-c", f'! touch "{package}/.probe" 2>/dev/null'], capture_output=True)
    return prefix if probe.returncode == 0 else None


def test_both_distributions_carry_the_project_template(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    for item in TEMPLATE:
        assert f"harness/_project/{item}" in wheel, item
    assert not any("toolchain/bin" in name for name in wheel)  # links are made on the machine that builds
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        names = sdist.getnames()
    for item in TEMPLATE:
        assert any(name.endswith(f"/{item}") for name in names), item


def test_bench_from_an_empty_folder_with_a_read_only_package(venv, kws_model, tmp_path):
    package = _package_dir(venv)
    assert not package.is_relative_to(REPO) and (package / "_project" / "platformio.ini").is_file()
    work = tmp_path / "empty folder"
    work.mkdir()
    shutil.copy(kws_model, work / "kws.tflite")
    env = clean_env(venv / "bin", tmp_path / "home", tmp_path / "cache")
    before = _listing(package)
    prefix = _read_only(package) or []
    done = subprocess.run([*prefix, str(venv / "bin" / "tinyhil"), "bench", "kws.tflite", "--board", "mps2_an386",
                           "--target", "qemu", "--samples", "3", "--json"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    row = json.loads(done.stdout.strip().splitlines()[-1])
    assert row["status"] == "ok" and row["samples"] == 3 and row["host_mismatches"] == 0
    assert row["unit"] == "instructions" and row["latency_median"] > 0
    # built in the staged copy of the template: its compile units still count as kernels and harness
    assert row["flash_kernels_bytes"] > 10_000 and row["flash_harness_bytes"] > 1_000, row
    assert row["board_file"] == f"{package / '_project' / 'boards' / 'mps2_an386.json'} (shipped)"
    assert row["tinyhil_version"] == "0.1.0" and row["tinyhil_commit"] is None and row["repo_commit"] is None
    assert list(load_results(work / "results")["status"]) == ["ok"]  # stored in the fragment store
    assert _listing(package) == before  # nothing written inside the package
    assert (tmp_path / "cache" / "builds").is_dir() and not (work / "build").exists()


def test_user_boards_list_and_override(venv, tmp_path):
    work = tmp_path / "w"
    (work / "boards").mkdir(parents=True)
    shipped = json.loads((_package_dir(venv) / "_project" / "boards" / "mps2_an386.json").read_text())
    shipped["tinyhil"]["clock_hz"] = 50_000_000
    (work / "boards" / "mps2_an386.json").write_text(json.dumps(shipped))
    (work / "boards" / "bad.json").write_text(json.dumps({"name": "x", "build": {"cpu": "cortex-m4"},
                                                          "tinyhil": {"soc": "cmsdk"}}))
    env = clean_env(venv / "bin", tmp_path / "home", tmp_path / "cache")
    done = subprocess.run([venv / "bin" / "tinyhil", "boards", "--json"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error: board file")
    assert "bad.json: field tinyhil.clock_hz is missing" in done.stderr
    (work / "boards" / "bad.json").unlink()
    done = subprocess.run([venv / "bin" / "tinyhil", "boards", "--json"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    boards = {b["board"]: b for b in json.loads(done.stdout)}
    assert boards["mps2_an386"]["source"] == "./boards" and boards["mps2_an386"]["clock_mhz"] == 50
    assert len(boards["mps2_an386"]["overrides"]) == 1 and boards["netduinoplus2"]["source"] == "shipped"
    assert boards["netduinoplus2"]["emulators"] == ["qemu", "renode"] and boards["nucleo_l4r5zi"]["emulators"] == []


def _tiny_models(folder: Path) -> tuple[Path, Path]:
    """Two models with the same input and output: one small, one with twenty times the MACs."""
    import keras

    def build(filters: int, layers: int, path: Path) -> Path:
        keras.utils.set_random_seed(0)
        x = keras.Input(shape=(12, 12, 1), batch_size=1)
        y = x
        for _ in range(layers):
            y = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(y)
        y = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(y))
        return keras_to_int8_tflite(keras.Model(x, y), path, (12, 12, 1))

    return build(2, 1, folder / "fast.tflite"), build(16, 3, folder / "slow.tflite")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=ci@example.org", "-c", "user.name=ci", *args],
                   check=True, capture_output=True)


def _jobs(runner: LocalRunner, workflow: dict, repo: Path) -> dict[str, dict[str, int]]:
    """Every job of the workflow in order (bench jobs, then the report job), from a clean results folder."""
    for path in (repo / "results").glob("*"):
        if path.is_dir():
            shutil.rmtree(path)
    shutil.rmtree(runner.artifacts)
    runner.artifacts.mkdir()
    runner.summary.unlink(missing_ok=True)
    return {job: {s.name: s.returncode for s in runner.run_job(workflow, job)} for job in workflow["jobs"]}


def test_the_workflow_init_writes_runs_and_gates_in_a_fresh_repository(venv, dist, tmp_path):
    repo = tmp_path / "user repo"
    (repo / "models").mkdir(parents=True)
    (repo / "vendor").mkdir()
    _git(repo, "init", "-q")
    fast, slow = _tiny_models(tmp_path)
    shutil.copy(fast, repo / "models" / "net.tflite")
    wheel = shutil.copy(next(dist.glob("*.whl")), repo / "vendor")
    env = clean_env(venv / "bin", tmp_path / "home", tmp_path / "cache")
    init = subprocess.run([venv / "bin" / "tinyhil", "init", "--tinyhil", f"vendor/{Path(wheel).name}"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    for made in ("tinyhil.toml", "boards/README.md", ".gitignore", ".github/workflows/tinyhil.yml"):
        assert (repo / made).is_file(), made
    again = subprocess.run([venv / "bin" / "tinyhil", "init"], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and again.stdout.count("kept ") == 4  # nothing overwritten without --force
    workflow = yaml.safe_load((repo / ".github/workflows/tinyhil.yml").read_text())
    assert list(workflow["jobs"]) == ["bench-qemu-mps2-an386", "report"]
    assert "python3 -m pip install ./vendor/" in json.dumps(workflow)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "tinyhil project")

    runner = LocalRunner(repo, tmp_path / "artifacts", env)
    first = _jobs(runner, workflow, repo)
    assert all(code == 0 for code in first["bench-qemu-mps2-an386"].values()), first
    assert first["report"]["Regression gate"] == 2  # no baseline committed yet: the gate says so
    base = subprocess.run([venv / "bin" / "tinyhil", "check", "--baseline", "results/baseline.parquet", "--results",
                           "results/merged", "--update"], cwd=repo, env=env, capture_output=True, text=True)
    assert base.returncode == 0, base.stderr
    _git(repo, "add", "results/baseline.parquet")
    _git(repo, "commit", "-qm", "baseline")

    same = _jobs(runner, workflow, repo)
    assert all(code == 0 for job in same.values() for code in job.values()), same
    summary = runner.summary.read_text()
    assert "**ok**" in summary and "| net | mps2_an386 | qemu | builtin |" in summary

    shutil.copy(slow, repo / "models" / "net.tflite")  # the same file name, a slower model
    _git(repo, "commit", "-qam", "a bigger model")
    slower = _jobs(runner, workflow, repo)
    assert all(code == 0 for code in slower["bench-qemu-mps2-an386"].values())
    assert slower["report"]["Regression gate"] == 1 and slower["report"]["Upload results and figures"] == 0
    summary = runner.summary.read_text()
    assert "regression(s)**" in summary and "| latency_median |" in summary and "| model_sha256 |" in summary
    row = json.loads(subprocess.run([venv / "bin" / "python", "-c", "import pandas as pd; print(pd.read_parquet("
                                     "'results/merged/results.parquet').iloc[-1].to_json())"], cwd=repo, env=env,
                                    capture_output=True, text=True, check=True).stdout)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert row["repo_commit"] == head.strip() and row["tinyhil_commit"] is None
