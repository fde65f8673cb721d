"""Compile a generated model with the engine for the host and run it on a batch of inputs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "firmware" / "engine"
INCLUDE = REPO / "firmware" / "include"

class BuildFailed(RuntimeError):
    """gcc rejected the generated code; carries the compiler output."""


def have_opt_kernels() -> bool:
    return all((ENGINE / f"opt_{k}.c").exists() for k in ("conv", "dwconv", "fc"))


def build_bench(model_dir: Path, *, reference: bool) -> Path:
    """gcc -O2 the engine + model.c + data.c + host_main.c; returns the executable."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise FileNotFoundError("gcc")
    kind = "ref" if reference else "opt"
    engine = sorted(p for p in ENGINE.glob("*.c") if reference is False or not p.name.startswith("opt_"))
    exe = model_dir / ("bench_ref" if reference else "bench_opt")
    cmd = [gcc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unused-function",
           "-fsanitize=undefined", "-fno-sanitize-recover=all",
           "-I", str(ENGINE), "-I", str(INCLUDE), "-DTH_PLAN_CHECK",
           *(["-DTH_KERNELS_REFERENCE"] if reference else []),
           *map(str, engine), str(model_dir / "model.c"), str(model_dir / "data.c"),
           str(Path(__file__).with_name("host_main.c")), "-o", str(exe), "-lm",
           *(f"-Wl,--wrap=th_{kind}_{k}_s8" for k in ("conv2d", "dwconv")),
           *([] if reference else ["-Wl,--wrap=th_opt_conv2d_s8_winograd"])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise BuildFailed(done.stderr[-4000:])
    return exe


def run_bench(exe: Path, inputs: np.ndarray, out_shape: tuple[int, ...], out_dtype) -> np.ndarray:
    """Outputs [N, *out_shape] for inputs [N, ...]; raises CalledProcessError on a failed check."""
    work = exe.parent
    (work / "in.bin").write_bytes(np.ascontiguousarray(inputs).tobytes())
    done = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin")],
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise AssertionError(f"{exe.name} failed ({done.returncode}): {done.stderr[-2000:]}")
    raw = np.frombuffer((work / "out.bin").read_bytes(), dtype=out_dtype)
    return raw.reshape(len(inputs), *out_shape)
