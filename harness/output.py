"""The console the CLI prints its tables and lines on (stdout), light enough to import at start-up."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

UNBOUNDED_WIDTH = 100_000  # "as wide as it needs": what a table is measured against off a terminal


class OutputConsole(Console):
    """A rich Console that cuts nothing when its output is not a terminal (a pipe, a file, a CI log).

    rich lays out for 80 columns when it cannot ask a terminal, squeezing a wide table into "mo…"
    cells. Here a table then gets the width it needs, and long lines are not wrapped; in a
    terminal this is rich's Console unchanged.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if self.is_terminal or kwargs.get("width") is not None:
            super().print(*objects, **kwargs)
            return
        tables = [o for o in objects if isinstance(o, Table)]
        unbounded = self.options.update_width(UNBOUNDED_WIDTH)
        needed = max((self.measure(t, options=unbounded).maximum for t in tables), default=0)
        kwargs.setdefault("soft_wrap", not tables)
        width = self.width
        self.width = max(width, needed)  # rich caps print(width=) at the console's own width
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = width
