"""PlatformIO extra script (pre): add the generated model to the firmware build.

The model directory (model.c, data.c and any other C it holds) comes from the environment
variable TINYHIL_MODEL_DIR; `tinyhil bench` sets it. TINYHIL_KERNELS=reference selects the plain C
kernels of firmware/engine. Only core PlatformIO API is used, so this works with the project-local
platform and with official ones alike.

The engine is the builtin one unless TINYHIL_ENGINE=tflm (or the env's `custom_tinyhil_engine = tflm`):
then the model directory must come from harness.codegen.tflm_model (it holds tflm_ops.h), and
TensorFlow Lite Micro's sources come from TINYHIL_TFLM_DIR, a tree exported by tflite-micro's
create_tflm_tree.py; they are built together with firmware/engine_tflm (the C++ adapter).
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

kernels = os.environ.get("TINYHIL_KERNELS", "optimized")
if kernels not in ("optimized", "reference"):
    sys.stderr.write("Error: TINYHIL_KERNELS must be 'optimized' or 'reference', not %r\n" % kernels)
    env.Exit(1)  # noqa: F821
if kernels == "reference":
    env.Append(CPPDEFINES=["TH_KERNELS_REFERENCE"])  # noqa: F821

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

if engine == "tflm":
    tflm_dir = os.environ.get("TINYHIL_TFLM_DIR", "")
    if not os.path.isfile(os.path.join(tflm_dir, "tensorflow", "lite", "micro", "micro_interpreter.h")):
        sys.stderr.write(
            "Error: the tflm engine needs TensorFlow Lite Micro's C++ sources, and TINYHIL_TFLM_DIR=%r "
            "holds none (no tensorflow/lite/micro/micro_interpreter.h). Export a tree once, with network, "
            "from a clone of https://github.com/tensorflow/tflite-micro:\n"
            "  python3 tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py "
            "--makefile_options=\"TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn TARGET_ARCH=cortex-m4+fp\" "
            "/path/to/tflm-tree\nthen set TINYHIL_TFLM_DIR=/path/to/tflm-tree\n" % tflm_dir
        )
        env.Exit(1)  # noqa: F821
    tflm_dir = os.path.abspath(tflm_dir)
    third_party = ["flatbuffers/include", "gemmlowp", "ruy", "kissfft", "cmsis_nn", "cmsis_nn/Include",
                   "cmsis/CMSIS/Core/Include"]
    env.Append(  # noqa: F821
        CPPPATH=[tflm_dir] + [os.path.join(tflm_dir, "third_party", d) for d in third_party
                              if os.path.isdir(os.path.join(tflm_dir, "third_party", d))],
        CPPDEFINES=["TH_ENGINE_TFLM", "TF_LITE_STATIC_MEMORY"]
        + (["CMSIS_NN"] if os.path.isdir(os.path.join(tflm_dir, "third_party", "cmsis_nn")) else []),
        CXXFLAGS=["-std=gnu++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"],
    )
    env.BuildSources(os.path.join("$BUILD_DIR", "tflm"), tflm_dir, src_filter=["+<*>", "-<examples/>"])  # noqa: F821
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
