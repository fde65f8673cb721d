"""The `tinyhil` command line: one module per command group, each a thin layer over one stage or
the Python API. Heavy imports (TensorFlow, PlatformIO) happen inside the commands, so `tinyhil
doctor` and `tinyhil analyze` start fast. Progress goes to stderr; with --json, stdout carries one
JSON object.

    info.py       doctor, analyze          run.py        bench, sweep, demo
    compress.py   compress                 report.py     report, export, check
    questions.py  sensitivity, robustness, fit
    project.py    boards, init, ci github (tinyhil in the user's repository)
    ci.py         robot, zoo fetch/list
"""

from __future__ import annotations

import signal
import sys
import warnings

from harness.cli import ci, compress, info, project, questions, report, run
from harness.cli.app import app, ci_app, zoo_app
from harness.errors import Interrupted, TinyhilError

__all__ = ["app", "main"]

# In the order `tinyhil --help` lists them.
for _command in (info.doctor, info.analyze, run.bench, run.sweep, run.demo, compress.compress, report.report,
                 report.export, report.check, questions.sensitivity, questions.robustness, questions.fit):
    app.command()(_command)
project.register(app, ci_app)  # boards, init, ci github
app.command()(ci.robot)
zoo_app.command("fetch")(ci.zoo_fetch)
zoo_app.command("list")(ci.zoo_list)


def _interrupt(signum, _frame) -> None:
    # SIGTERM (a CI job cancelled, `kill`) ends a run the way Ctrl-C does: the run in progress is
    # stored as `interrupted` with what it measured, then the command stops.
    raise Interrupted(f"signal {signal.Signals(signum).name}")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from harness.plugins.registry import PluginLoadWarning  # (loaded already when one is shown)

    if issubclass(category, PluginLoadWarning):  # one plain line naming the plugin
        print(f"warning: {message}", file=sys.stderr)
    else:
        _default_show(message, category, filename, lineno, file, line)


_default_show = warnings.showwarning


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    warnings.showwarning = _show_warning
    try:
        app()
    except TinyhilError as e:
        # Plain text, unwrapped: scripts and users grep these lines.
        print(f"error: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))  # 2: bad input; a measured run that could not be stored: 1
    except (Interrupted, KeyboardInterrupt) as e:
        print(f"error: interrupted{f' ({e})' if str(e) else ''}; what was measured is in the results table",
              file=sys.stderr)
        sys.exit(130)
