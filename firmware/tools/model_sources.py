"""PlatformIO extra script (pre): add the generated model to the firmware build.

The model directory (model.c, data.c and any other C it holds) comes from the environment
variable TINYHIL_MODEL_DIR; `tinyhil bench` sets it. Only core PlatformIO API is used, so this works
with the project-local platform and with official ones alike.

The engine is the builtin one unless TINYHIL_ENGINE=tflm (or the env's `custom_tinyhil_engine = tflm`).
TINYHIL_KERNELS is the engine's kernel set: `optimized` / `reference` (the plain C kernels of
firmware/engine) for the builtin engine, `cmsis-nn` / `reference` for TFLM. For TFLM the model
directory must come from harness.codegen.tflm_model (it holds tflm_ops.h); TensorFlow Lite Micro
itself is linked as a static library built once per (tree, CPU flags) by harness/build/tflm_lib.py
from a tree exported by tflite-micro's create_tflm_tree.py, named per kernel set
(TINYHIL_TFLM_DIR_CMSIS_NN, TINYHIL_TFLM_DIR_REFERENCE, or TINYHIL_TFLM_DIR); only
firmware/engine_tflm (the C++ adapter) is compiled here.
"""

import os
import sys

Import("env")  # noqa: F821  (SCons injects Import into extra scripts)

model_dir = os.environ.get("TINYHIL_MODEL_DIR", "")
if not model_dir:
    sys.stderr.write(
        "Error: TINYHIL_MODEL_DIR is not set. Point it at a generated model directory "
        "(model.c + data.c), e.g. TINYHIL_BOARD=mps2_an386 TINYHIL_MODEL_DIR=path/to/model pio run -e tinyhil\n"
    )
    env.Exit(1)  # noqa: F821
model_dir = os.path.abspath(model_dir)
missing = [name for name in ("model.c", "data.c") if not os.path.isfile(os.path.join(model_dir, name))]
if missing:
    sys.stderr.write("Error: %s lacks %s\n" % (model_dir, ", ".join(missing)))
    env.Exit(1)  # noqa: F821

project_dir = env.subst("$PROJECT_DIR")  # noqa: F821
ENGINES = ("builtin", "tflm")
env_engine = env.GetProjectOption("custom_tinyhil_engine", "builtin")  # noqa: F821
engine = os.environ.get("TINYHIL_ENGINE", "") or env_engine
if engine not in ENGINES:
    sys.stderr.write("Error: TINYHIL_ENGINE must be 'builtin' or 'tflm', not %r\n" % engine)
    env.Exit(1)  # noqa: F821
# An env made for TFLM leaves the builtin kernels out; any other env can build either engine (the
# unused builtin kernels are dropped by --gc-sections).
if env_engine == "tflm" and engine != "tflm":
    sys.stderr.write("Error: this PlatformIO env is set up for the tflm engine (custom_tinyhil_engine = tflm) "
                     "and has no builtin kernels, but TINYHIL_ENGINE=%s\n" % engine)
    env.Exit(1)  # noqa: F821
generated_for_tflm = os.path.isfile(os.path.join(model_dir, "tflm_ops.h"))
if generated_for_tflm != (engine == "tflm"):
    sys.stderr.write(
        "Error: %s was generated for the %s engine, but this build is for the %s engine\n"
        % (model_dir, "tflm" if generated_for_tflm else "builtin", engine)
    )
    env.Exit(1)  # noqa: F821

kernels = os.environ.get("TINYHIL_KERNELS", "") or ("cmsis-nn" if engine == "tflm" else "optimized")
engine_kernels = {"builtin": ("optimized", "reference"), "tflm": ("cmsis-nn", "reference")}[engine]
if kernels not in engine_kernels:
    sys.stderr.write("Error: TINYHIL_KERNELS for the %s engine must be %s, not %r\n"
                     % (engine, " or ".join(repr(k) for k in engine_kernels), kernels))
    env.Exit(1)  # noqa: F821
protocol = os.environ.get("TINYHIL_PROTOCOL", "") or "tinyhil"
if protocol not in ("tinyhil", "mlperf"):
    sys.stderr.write("Error: TINYHIL_PROTOCOL must be 'tinyhil' or 'mlperf', not %r\n" % protocol)
    env.Exit(1)  # noqa: F821
if protocol == "mlperf":  # main() is the MLPerf Tiny runner protocol's (firmware/src/mlperf.c)
    env.Append(CPPDEFINES=["TH_PROTOCOL_MLPERF"])  # noqa: F821
if engine == "builtin" and kernels == "reference":
    env.Append(CPPDEFINES=["TH_KERNELS_REFERENCE"])  # noqa: F821

if engine == "tflm":
    # TFLM comes in as a static library built once per (tree, CPU flags) outside this build
    # (harness/build/tflm_lib.py, with TFLM's release flags); the tree is the one named for the
    # kernel set (TINYHIL_TFLM_DIR_CMSIS_NN / TINYHIL_TFLM_DIR_REFERENCE / TINYHIL_TFLM_DIR), or
    # TINYHIL_TFLM_TREE when the harness has chosen it already. Only the adapter is compiled here,
    # with the library's defines (TF_LITE_STATIC_MEMORY changes TFLM's structs).
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)
    from harness.build.tflm_lib import board_cpu_flags, ensure_library, find_tree, load_tree, model_methods  # noqa: E402
    from harness.errors import TinyhilError  # noqa: E402

    try:
        chosen = os.environ.get("TINYHIL_TFLM_TREE", "")
        # this build script is its own edge: the harness hands it the tree through the environment
        tree = load_tree(chosen) if chosen else find_tree(kernels, os.environ)
        if tree.kernels != kernels:
            raise TinyhilError("TINYHIL_TFLM_TREE=%s holds the %s kernels, not %s" % (tree.path, tree.kernels, kernels))
        library = ensure_library(tree, board_cpu_flags(env["TINYHIL_BOARD"].manifest),  # noqa: F821
                                 methods=model_methods(model_dir))
    except TinyhilError as e:
        sys.stderr.write("Error: %s\n" % e)
        env.Exit(1)  # noqa: F821
    # On the whole env, not a clone: the platform's builder appends the CPU flags after this pre-script.
    # TFLM's defines are inert for the C sources (none of them tests NDEBUG, CMSIS_NN, ...).
    env.Append(  # noqa: F821
        CPPPATH=[str(d) for d in tree.include_dirs()],
        CPPDEFINES=["TH_ENGINE_TFLM"] + tree.defines(),
        CXXFLAGS=["-fno-threadsafe-statics"],
        LIBPATH=[str(library.path.parent)],
        LIBS=[library.path.stem[3:]],
    )
    env.BuildSources(  # noqa: F821
        os.path.join("$BUILD_DIR", "engine_tflm"), os.path.join(project_dir, "firmware", "engine_tflm")
    )

env.Append(  # noqa: F821
    CPPPATH=[
        model_dir,
        os.path.join(project_dir, "firmware", "include"),
        os.path.join(project_dir, "firmware", "engine"),
    ]
)
env.BuildSources(os.path.join("$BUILD_DIR", "model"), model_dir)  # noqa: F821
