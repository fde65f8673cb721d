"""TensorFlow Lite Micro compiled once per (tree, CPU flags) into a cached static library.

    find_tree(kernels, environ)        -> TflmTree (the tree the user named for that kernel set: Settings.tflm_environ)
    ensure_library(tree, cpu_flags)    -> TflmLibrary (built, or reused from the cache)

A tree is one exported by tflite-micro's own `create_tflm_tree.py` (never part of this repository).
The user names trees by kernel set: `TINYHIL_TFLM_DIR_CMSIS_NN` / `TINYHIL_TFLM_DIR_REFERENCE`, or
`TINYHIL_TFLM_DIR` for a single tree (its kernel set is read from it: a tree with
`third_party/cmsis_nn` is the CMSIS-NN one).

The library is built the way TFLM's own release make build (`BUILD_TYPE=release`, target
`cortex_m_generic`) builds it: the same defines (NDEBUG among them, so every TFLITE_DCHECK is
gone), the same code-generation flags, and its per-directory optimisation (kernels and CMSIS-NN's
sources at -O2, everything else at -Os). `-g` is added: it changes no code, and the ELF memory split
reads the compile units from it. `micro_time.cc` gets PROJECT_GENERATION (its stub timer): the
trees carry no CMSIS device header, and the harness times with its own counter.

It lives outside any per-model build, under `tflm-lib/<key>/` of the user cache (`Settings.cache_dir`, default
`~/.cache/tinyhil`), keyed by the tree's content, its TFLM commit, the flags and the compiler; a
build holds a lock, so concurrent runs wait for one another. The first build of a tree takes
minutes (10–25 on 2 cores): it reports progress and stops at a configurable timeout.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from harness.build.own_group import run_in_own_group
from harness.errors import BuildError, ToolMissingError
from harness.identity import short_hash, tree_sha256

KERNEL_SETS = ("cmsis-nn", "reference")
TREE_VARIABLES = {"cmsis-nn": "TINYHIL_TFLM_DIR_CMSIS_NN", "reference": "TINYHIL_TFLM_DIR_REFERENCE"}
SINGLE_TREE_VARIABLE = "TINYHIL_TFLM_DIR"
BUILD_TYPE = "release"  # TFLM's make BUILD_TYPE whose flags this build uses
DEFAULT_TIMEOUT_S = 3600.0
STAMP = "lib.json"
LIB_NAME = "tflm"  # libtflm.a

# TFLM's release make build for cortex_m_generic (its V=1 log), apart from the CPU flags.
CODEGEN_FLAGS = ("-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-ffunction-sections",
                 "-fdata-sections", "-fmessage-length=0", "-fomit-frame-pointer", "-funsigned-char", "-g")
DEFINES = ("TF_LITE_STATIC_MEMORY", "TF_LITE_DISABLE_X86_NEON", "KERNELS_OPTIMIZED_FOR_SPEED", "NDEBUG",
           "TF_LITE_STRIP_ERROR_STRINGS", "TF_LITE_MCU_DEBUG_LOG", "CPU_M4=1", "ARMCM4", "PROJECT_GENERATION")
CMSIS_NN_DEFINES = ("CMSIS_NN", "ARM_NN_ENABLE_F16=0", "ARM_NN_ENABLE_F32=0")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
# The directories TFLM's make build compiles at -O2 (KERNEL_OPTIMIZATION_LEVEL); the rest is -Os.
SPEED_DIRS = ("tensorflow/lite/micro/kernels/", "third_party/cmsis_nn/Source/")
THIRD_PARTY_INCLUDES = ("flatbuffers/include", "gemmlowp", "ruy", "kissfft", "cmsis_nn", "cmsis_nn/Include",
                        "cmsis/CMSIS/Core/Include")
SOURCE_SUFFIXES = (".c", ".cc", ".cpp")
# TFLM's signal library (and the kissfft it wraps) registers no op the harness can resolve
# (harness/codegen/tflm_model.py): left out, it changes no linked object and saves ~40 files.
SKIPPED_DIRS = ("signal/", "third_party/kissfft/")
MARKER = Path("tensorflow/lite/micro/micro_interpreter.h")


class TflmTreeError(ToolMissingError):
    """No usable TFLM tree for the kernel set asked for."""


@dataclass(frozen=True)
class TflmTree:
    path: Path
    commit: str  # from the tree's TFLM_COMMIT file, or TINYHIL_TFLM_COMMIT; "" when neither says
    has_cmsis_nn: bool

    @property
    def kernels(self) -> str:
        return "cmsis-nn" if self.has_cmsis_nn else "reference"

    def columns(self) -> dict:
        return {"tflm_tree": str(self.path), "tflm_commit": self.commit, "tflm_has_cmsis_nn": self.has_cmsis_nn,
                "tflm_kernels": self.kernels}

    def include_dirs(self) -> list[Path]:
        return [self.path] + [self.path / "third_party" / d for d in THIRD_PARTY_INCLUDES
                              if (self.path / "third_party" / d).is_dir()]

    def defines(self) -> list[str]:
        return list(DEFINES) + (list(CMSIS_NN_DEFINES) if self.has_cmsis_nn else [])


def load_tree(path: Path | str, commit: str = "") -> TflmTree:
    """The tree at `path`; `commit`: its TFLM commit when it has no TFLM_COMMIT file (TINYHIL_TFLM_COMMIT)."""
    path = Path(path).expanduser().resolve()
    if not (path / MARKER).is_file():
        raise TflmTreeError(f"{path} is not a TFLM tree (no {MARKER}); export one with tflite-micro's "
                            "create_tflm_tree.py (see firmware/engine_tflm/README.md)")
    commit_file = path / "TFLM_COMMIT"
    commit = commit_file.read_text().strip() if commit_file.is_file() else commit
    return TflmTree(path, commit, (path / "third_party" / "cmsis_nn" / "Source").is_dir())


def configured_trees(environ: Mapping[str, str], commit: str = "") -> dict[str, TflmTree]:
    """Kernel set -> tree, from the variables the user set (`Settings.tflm_environ`; each tree checked)."""
    trees: dict[str, TflmTree] = {}
    for kernels, var in TREE_VARIABLES.items():
        if environ.get(var):
            tree = load_tree(environ[var], commit)
            if tree.kernels != kernels:
                raise TflmTreeError(f"{var}={tree.path} holds the {tree.kernels} kernels, not {kernels}")
            trees[kernels] = tree
    if environ.get(SINGLE_TREE_VARIABLE):
        tree = load_tree(environ[SINGLE_TREE_VARIABLE], commit)
        trees.setdefault(tree.kernels, tree)
    return trees


def find_tree(kernels: str, environ: Mapping[str, str], commit: str = "") -> TflmTree:
    """The tree for a TFLM kernel set, or TflmTreeError naming the variable to set."""
    if kernels not in KERNEL_SETS:
        raise TflmTreeError(f"--kernels {kernels!r} is no TFLM kernel set; choose one of {', '.join(KERNEL_SETS)}")
    trees = configured_trees(environ, commit)
    if kernels not in trees:
        named = ", ".join(f"{t.kernels} ({t.path})" for t in trees.values()) or "none"
        raise TflmTreeError(f"no TFLM tree with the {kernels} kernels: set {TREE_VARIABLES[kernels]} (or "
                            f"{SINGLE_TREE_VARIABLE}) to a tree exported by create_tflm_tree.py; trees named: {named}")
    return trees[kernels]


@dataclass(frozen=True)
class TflmLibrary:
    tree: TflmTree
    path: Path  # libtflm.a
    key: str
    build_seconds: float  # of the build that last added objects to it
    cached: bool  # reused by this call (not built by it)
    cpu_flags: tuple[str, ...]

    def columns(self) -> dict:
        return {**self.tree.columns(), "tflm_build_type": BUILD_TYPE, "tflm_lib_key": self.key,
                "tflm_lib_cached": self.cached, "tflm_lib_build_seconds": self.build_seconds}


def sources(tree: TflmTree) -> list[Path]:
    """The tree's C/C++ sources TFLM's make build compiles (CMSIS-NN without its float kernels)."""
    out = []
    for path in sorted(tree.path.rglob("*")):
        rel = path.relative_to(tree.path).as_posix()
        if (path.suffix not in SOURCE_SUFFIXES or not path.is_file() or "/examples/" in f"/{rel}"
                or rel.startswith(SKIPPED_DIRS)):
            continue
        if rel.startswith("third_party/cmsis_nn/") and ("_f16" in path.name or "_f32" in path.name
                                                        or path.name == "arm_nntables_flt.c"):
            continue
        out.append(path)
    return out


KERNELS_DIR = "tensorflow/lite/micro/kernels/"
KERNEL_HELPERS = ("kernel_util.cc", "micro_tensor_utils.cc")  # used by every op's kernel
_RESOLVER_METHOD = re.compile(r"TfLiteStatus\s+(Add\w+)\s*\(([^{;]*)\{")
_REGISTRATION = re.compile(r"Register_(\w+)\s*\(")


def resolver_registrations(tree: TflmTree) -> dict[str, str]:
    """MicroMutableOpResolver method -> the TFLM registration it adds (AddConv2D -> CONV_2D), read from
    the tree's micro_mutable_op_resolver.h."""
    text = (tree.path / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text(errors="replace")
    out = {}
    for method, params in _RESOLVER_METHOD.findall(text):
        registration = _REGISTRATION.search(params)
        if registration:
            out[method] = registration.group(1)
    return out


def members(tree: TflmTree, methods: tuple[str, ...] | None) -> list[Path]:
    """The sources the library needs: all of them (`methods` None: the full library, as TFLM's make
    archives it), or TFLM's core, the kernel helpers, CMSIS-NN's sources and, per resolver method, the
    kernel file defining its registration and that file's `_common` sibling. An object in the library is
    compiled the same either way; the op set only says which are compiled (and so how long it takes)."""
    every = sources(tree)
    if methods is None:
        return every
    registrations = resolver_registrations(tree)
    unknown = [m for m in methods if m not in registrations]
    if unknown:
        raise BuildError(f"{tree.path}: micro_mutable_op_resolver.h has no {', '.join(unknown)}")
    kernel_files = [p for p in every if p.relative_to(tree.path).as_posix().startswith(KERNELS_DIR)]
    wanted = {p for p in every if p not in kernel_files}  # core, CMSIS-NN sources
    wanted |= {p for p in kernel_files if p.name in KERNEL_HELPERS}
    texts = {p: p.read_text(errors="replace") for p in kernel_files}
    for method in methods:
        definition = re.compile(rf"\bRegister_{registrations[method]}\s*\(\s*\)\s*\{{")
        defining = [p for p in kernel_files if definition.search(texts[p])]
        if not defining:
            raise BuildError(f"{tree.path}: no kernel source defines Register_{registrations[method]}() ({method})")
        for path in defining:
            wanted.add(path)
            # an optimised kernel (kernels/cmsis_nn/conv.cc) shares the reference one's kernels/conv_common.cc
            wanted |= {p for p in kernel_files if p.name == path.stem + "_common" + path.suffix}
    return [p for p in every if p in wanted]


def optimisation(rel: str) -> str:
    return "-O2" if rel.startswith(SPEED_DIRS) else "-Os"


def compile_command(tree: TflmTree, source: Path, obj: Path, cpu_flags: tuple[str, ...]) -> list[str]:
    rel = source.relative_to(tree.path).as_posix()
    cxx = source.suffix != ".c"
    return [
        "arm-none-eabi-g++" if cxx else "arm-none-eabi-gcc", *cpu_flags, *CODEGEN_FLAGS, optimisation(rel),
        *(CXX_FLAGS if cxx else C_FLAGS), *(f"-D{d}" for d in tree.defines()),
        *(f"-I{d}" for d in tree.include_dirs()), "-c", str(source), "-o", str(obj),
    ]  # fmt: skip


def cache_root(cache_dir: Path) -> Path:
    """Where the libraries are kept, in the user cache (`Settings.cache_dir`)."""
    return Path(cache_dir) / "tflm-lib"


def library_key(tree: TflmTree, cpu_flags: tuple[str, ...]) -> str:
    from harness.report.provenance import toolchain_version

    flags = [CODEGEN_FLAGS, DEFINES, CMSIS_NN_DEFINES, CXX_FLAGS, C_FLAGS, SPEED_DIRS, SKIPPED_DIRS]
    return short_hash({"tree": tree_sha256([tree.path], tree.path), "commit": tree.commit,
                       "cpu_flags": list(cpu_flags), "flags": flags, "compiler": toolchain_version()})


def _stderr_progress(done: int, total: int, seconds: float) -> None:
    sys.stderr.write(f"tinyhil: building the TFLM library: {done}/{total} files, {seconds:.0f} s\n")
    sys.stderr.flush()


def ensure_library(tree: TflmTree, cpu_flags: tuple[str, ...] | list[str], *, methods: tuple[str, ...] | None = None,
                   timeout: float | None = None, jobs: int | None = None, root: Path | None = None,
                   progress: Callable[[int, int, float], None] | None = _stderr_progress) -> TflmLibrary:
    """The library for this tree and these CPU flags, holding at least what `methods` (resolver calls,
    e.g. from a model's tflm_ops.h) need, or everything (`methods` None): reused when it already does,
    else the missing objects are compiled and added (one archive per tree and flags)."""
    cpu_flags = tuple(cpu_flags)
    if timeout is None:
        timeout = DEFAULT_TIMEOUT_S
    if not shutil.which("arm-none-eabi-g++"):
        raise ToolMissingError("arm-none-eabi-g++ not found: the TFLM engine needs the GNU Arm C++ toolchain "
                               "(Debian: apt install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib)")
    key = library_key(tree, cpu_flags)
    if root is None:
        from harness.settings import default_cache_dir

        root = cache_root(default_cache_dir())
    work = root / key
    work.mkdir(parents=True, exist_ok=True)
    archive = work / f"lib{LIB_NAME}.a"
    with open(work / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        needed = [p.relative_to(tree.path).as_posix() for p in members(tree, methods)]
        stamp = _read_stamp(work)
        have = set(stamp["members"]) if stamp else set()
        if stamp is not None and set(needed) <= have:
            return TflmLibrary(tree, archive, key, stamp["build_seconds"], True, cpu_flags)
        all_members = sorted(have | set(needed))
        seconds = _build(tree, cpu_flags, work, [tree.path / r for r in all_members], timeout=timeout,
                         jobs=jobs or os.cpu_count() or 1, progress=progress)
        (work / STAMP).write_text(json.dumps({
            "tree": str(tree.path), "commit": tree.commit, "kernels": tree.kernels, "cpu_flags": list(cpu_flags),
            "build_type": BUILD_TYPE, "build_seconds": seconds, "library": str(archive), "members": all_members,
        }, indent=1))  # fmt: skip
        return TflmLibrary(tree, archive, key, seconds, False, cpu_flags)


def _read_stamp(work: Path) -> dict | None:
    try:
        stamp = json.loads((work / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if (work / f"lib{LIB_NAME}.a").is_file() and "members" in stamp else None


def _build(tree: TflmTree, cpu_flags: tuple[str, ...], work: Path, files: list[Path], *, timeout: float, jobs: int,
           progress: Callable[[int, int, float], None] | None) -> float:
    obj_dir = work / "obj"
    obj_dir.mkdir(exist_ok=True)
    log_path = work / "build.log"
    started = time.monotonic()
    deadline = started + timeout
    objects = [obj_dir / (s.relative_to(tree.path).as_posix().replace("/", "__") + ".o") for s in files]
    todo = [(s, o) for s, o in zip(files, objects, strict=True) if not o.is_file()]  # resumes a stopped build
    done = len(files) - len(todo)
    with open(log_path, "a") as log, ThreadPoolExecutor(max_workers=jobs) as pool:
        running: dict = {}
        last_report = 0.0
        while todo or running:
            while todo and len(running) < jobs:
                source, obj = todo.pop(0)
                cmd = compile_command(tree, source, obj.with_suffix(".tmp"), cpu_flags)
                running[pool.submit(_compile, cmd, deadline)] = (source, obj)
            finished, _ = wait(running, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED)
            for future in finished:
                source, obj = running.pop(future)
                code, output = future.result()
                log.write(output)
                if code is None:
                    todo.clear()
                elif code != 0:
                    raise BuildError(f"compiling {source} for the TFLM library failed (log: {log_path}):\n"
                                     + "\n".join(output.splitlines()[-20:]))
                else:
                    obj.with_suffix(".tmp").rename(obj)
                    done += 1
            now = time.monotonic()
            if now > deadline:
                todo.clear()  # let the running compiles end (each is bounded by the deadline too)
            if progress and (now - last_report >= 30 or not (todo or running)):
                progress(done, len(files), now - started)
                last_report = now
    if done < len(files):
        raise BuildError(f"the TFLM library build took more than {timeout:g} s ({done}/{len(files)} files "
                         f"compiled, kept for the next try; raise TINYHIL_TFLM_BUILD_TIMEOUT); log: {log_path}")
    archive = work / f"lib{LIB_NAME}.a"
    response = work / "objects.rsp"
    response.write_text("\n".join(str(o) for o in objects))
    tmp = archive.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    result = subprocess.run(["arm-none-eabi-ar", "rcs", str(tmp), f"@{response}"], capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"archiving the TFLM library failed: {result.stderr.strip()}")
    tmp.rename(archive)
    return round(time.monotonic() - started, 1)


def _compile(cmd: list[str], deadline: float) -> tuple[int | None, str]:
    try:
        result = run_in_own_group(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None, f"timed out: {' '.join(cmd)}\n"
    return result.returncode, (" ".join(cmd) + "\n" + result.stdout + result.stderr) if result.returncode else ""


def model_methods(model_dir: Path) -> tuple[str, ...]:
    """The resolver calls a generated model needs (its tflm_ops.h); TINYHIL_TFLM_LIBRARY=full builds
    everything instead (`Settings.tflm_library`, the engine's choice)."""
    return tuple(re.findall(r"X\((Add\w+)\)", (Path(model_dir) / "tflm_ops.h").read_text()))


def cpu_flags(build: dict) -> tuple[str, ...]:
    """The machine flags of a board manifest's `build` section, as firmware/platform's builder sets them."""
    return ("-mcpu=%s" % build["cpu"], "-mthumb", "-mfloat-abi=%s" % build.get("float_abi", "hard"),
            "-mfpu=%s" % build.get("fpu", "fpv4-sp-d16"))


def board_cpu_flags(manifest: Path) -> tuple[str, ...]:
    return cpu_flags(json.loads(Path(manifest).read_text())["build"])
