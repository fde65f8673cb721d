"""SCons build script of the tinyhil platform: bare-metal C for Cortex-M with GNU Arm.

Flags come from the board manifest (boards/*.json, `build` section): cpu, fpu, float ABI; the
linker script, the board's defines and the Board itself come from the pre-script
firmware/tools/board_config.py (from the manifest's `tinyhil` section). Sources come from the
project (src_dir, build_src_filter) and from extra scripts (firmware/tools/model_sources.py adds the generated model).
"""

import os
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment
from SCons.Subst import Literal

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
    LINKFLAGS=machine_flags
    + [
        "-nostartfiles",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        # A Literal reaches the shell as one quoted word: SCons splits plain strings on blanks, so a
        # build folder with a space in its path would hand the linker half a map path.
        Literal("-Wl,-Map," + os.path.join(env.subst("$BUILD_DIR"), "firmware.map")),
    ],
    LIBS=["c_nano", "m", "gcc"],
)

tinyhil_board = env.get("TINYHIL_BOARD")
if tinyhil_board is None or not env.get("LDSCRIPT_PATH"):
    sys.stderr.write("Error: the tinyhil platform needs extra_scripts = pre:firmware/tools/board_config.py\n")
    env.Exit(1)
env.Append(CPPDEFINES=[("F_CPU", "%dL" % tinyhil_board.clock_hz)])

target_elf = env.BuildProgram()
target_bin = env.Command(
    os.path.join("$BUILD_DIR", "${PROGNAME}.bin"),
    target_elf,
    env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
)

AlwaysBuild(env.Alias("size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Size $SOURCES")))

# Flashing a physical board with its upload protocol (upload.protocol in its manifest: stlink ->
# st-flash, jlink -> JLinkExe, cmsis-dap/pyocd -> pyOCD; harness/build/boardgen.py). Emulator-only
# boards name no protocol and get no upload target.
target_hex = env.Command(
    os.path.join("$BUILD_DIR", "${PROGNAME}.hex"),
    target_elf,
    env.VerboseAction("$OBJCOPY -O ihex $SOURCES $TARGET", "Building $TARGET"),
)
if tinyhil_board.upload_protocol:
    from harness.build.boardgen import upload_command

    build_dir = env.subst("$BUILD_DIR")
    progname = env.subst("$PROGNAME")
    script_path = os.path.join(build_dir, "upload.jlink")
    argv, script = upload_command(
        tinyhil_board,
        elf=os.path.join(build_dir, progname + ".elf"),
        binary=os.path.join(build_dir, progname + ".bin"),
        hexfile=os.path.join(build_dir, progname + ".hex"),
        script=script_path,
    )

    def _write_script(target, source, env):
        if script is not None:
            with open(script_path, "w", encoding="utf-8") as fp:
                fp.write(script)

    env.Replace(UPLOADER=argv[0], UPLOADCMD=" ".join('"%s"' % a if " " in a else a for a in argv))
    AlwaysBuild(env.Alias("upload", [target_elf, target_bin, target_hex],
                          [_write_script, env.VerboseAction("$UPLOADCMD", "Uploading with $UPLOADER")]))

Default([target_elf, target_bin, target_hex])
