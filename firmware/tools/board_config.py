"""PlatformIO extra script (pre): configure the build from the board file alone.

The board is the env's `board` (boards/<id>.json, from `boards_dir` or PLATFORMIO_BOARDS_DIR), or,
on an official platform whose `board` is one of its own, the tinyhil board named by
`custom_tinyhil_board`. From its `tinyhil` section this script generates the linker script
(MEMORY + firmware/ld/tinyhil_sections.ld) into the build dir and adds the board's defines
(clock, UART, pins, sizes; harness/build/boardgen.py). The Board is left in env["TINYHIL_BOARD"]
for the platform's builder (upload command).
"""

import os
import sys

from SCons.Subst import Literal

Import("env")  # noqa: F821  (SCons injects Import into extra scripts)

project_dir = env.subst("$PROJECT_DIR")  # noqa: F821
if project_dir not in sys.path:
    sys.path.insert(0, project_dir)  # this checkout's harness, not any other installed one

from harness.boards import load_board  # noqa: E402
from harness.build.boardgen import board_defines, linker_memory  # noqa: E402
from harness.errors import TinyhilError  # noqa: E402

config = env.GetProjectConfig()  # noqa: F821
board_id = env.GetProjectOption("custom_tinyhil_board", "") or env.subst("$BOARD")  # noqa: F821
boards_dir = config.get("platformio", "boards_dir")
if not board_id:
    sys.stderr.write("Error: no board: set TINYHIL_BOARD (e.g. TINYHIL_BOARD=mps2_an386 pio run -e tinyhil)\n")
    env.Exit(1)  # noqa: F821
try:
    board = load_board(board_id, boards_dir)
except TinyhilError as e:
    sys.stderr.write("Error: %s\n" % e)
    env.Exit(1)  # noqa: F821

build_dir = env.subst("$BUILD_DIR")  # noqa: F821
os.makedirs(build_dir, exist_ok=True)
ldscript = os.path.join(build_dir, "tinyhil_%s.ld" % board.name)
text = linker_memory(board)
try:
    with open(ldscript, encoding="utf-8") as fp:
        unchanged = fp.read() == text
except OSError:
    unchanged = False
if not unchanged:  # rewriting an identical file would relink every time
    with open(ldscript, "w", encoding="utf-8") as fp:
        fp.write(text)

env.Replace(LDSCRIPT_PATH=ldscript, TINYHIL_BOARD=board)  # noqa: F821
env.Append(  # noqa: F821
    CPPDEFINES=board_defines(board),
    # Literal: one quoted word even when the checkout's path has a space in it.
    LINKFLAGS=[Literal("-L" + os.path.join(project_dir, "firmware", "ld"))],
)
