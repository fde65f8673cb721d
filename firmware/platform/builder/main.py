"""SCons build script of the tinyhil platform: bare-metal C for Cortex-M with GNU Arm.

Flags come from the board manifest (boards/*.json, `build` section): cpu, fpu, float ABI,
linker script and board defines. Sources come from the project (src_dir, build_src_filter) and
from extra scripts (firmware/tools/model_sources.py adds the generated model).
"""

import os

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()

toolchain_bin = os.path.join(platform.get_package_dir("toolchain-gccarmnoneeabi"), "bin")
env.PrependENVPath("PATH", toolchain_bin)

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.rodata|\.data|\.ARM\.exidx|\.ARM\.extab)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.heap|\.stack)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGSUFFIX=".elf",
)

machine_flags = [
    "-mcpu=%s" % board.get("build.cpu"),
    "-mthumb",
    "-mfloat-abi=%s" % board.get("build.float_abi", "hard"),
    "-mfpu=%s" % board.get("build.fpu", "fpv4-sp-d16"),
]

env.Append(
    ASFLAGS=machine_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=machine_flags
    + ["-O2", "-g", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections", "-fno-common"],
    CFLAGS=["-std=gnu11"],
    CXXFLAGS=["-std=gnu++17", "-fno-exceptions", "-fno-rtti"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    LINKFLAGS=machine_flags
    + [
        "-nostartfiles",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        "-Wl,-Map,${BUILD_DIR}/firmware.map",
        "-L",
        os.path.join(env.subst("$PROJECT_DIR"), "firmware", "ld"),
    ],
    LIBS=["c_nano", "m", "gcc"],
)

if not env.get("LDSCRIPT_PATH"):
    env.Replace(LDSCRIPT_PATH=os.path.join("$PROJECT_DIR", board.get("build.ldscript")))

target_elf = env.BuildProgram()
target_bin = env.Command(
    os.path.join("$BUILD_DIR", "${PROGNAME}.bin"),
    target_elf,
    env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
)

AlwaysBuild(env.Alias("size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Size $SOURCES")))

# Flashing a physical board: st-flash (stlink tools) writes the binary at the board's flash base
# and resets it. Emulator-only boards list no upload protocol and get no upload target.
if "stlink" in board.get("upload.protocols", []):
    upload_base = board.get("upload.offset_address", "0x08000000")
    env.Replace(UPLOADER="st-flash", UPLOADCMD="$UPLOADER --reset write $SOURCE %s" % upload_base)
    AlwaysBuild(env.Alias("upload", target_bin, env.VerboseAction("$UPLOADCMD", "Uploading $SOURCE")))

Default([target_elf, target_bin])
