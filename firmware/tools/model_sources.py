"""PlatformIO extra script (pre): add the generated model to the firmware build.

The model directory (model.c, data.c and any other C it holds) comes from the environment
variable TINYHIL_MODEL_DIR; `tinyhil bench` sets it. TINYHIL_KERNELS=reference selects the plain C
kernels of firmware/engine. Only core PlatformIO API is used, so this works with the project-local
platform and with official ones alike.
"""

import os
import sys

Import("env")  # noqa: F821  (SCons injects Import into extra scripts)

model_dir = os.environ.get("TINYHIL_MODEL_DIR", "")
if not model_dir:
    sys.stderr.write(
        "Error: TINYHIL_MODEL_DIR is not set. Point it at a generated model directory "
        "(model.c + data.c), e.g. TINYHIL_MODEL_DIR=path/to/model pio run -e mps2_an386\n"
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
env.Append(  # noqa: F821
    CPPPATH=[
        model_dir,
        os.path.join(project_dir, "firmware", "include"),
        os.path.join(project_dir, "firmware", "engine"),
    ]
)
env.BuildSources(os.path.join("$BUILD_DIR", "model"), model_dir)  # noqa: F821
