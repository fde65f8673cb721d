"""The schema is declared once: results/README.md's column table is generated from it."""

from __future__ import annotations

from harness.places import PACKAGE_DIR
from harness.report.schema import COLUMN_KINDS, SCHEMA, render_columns_markdown, update_readme


def test_results_readme_lists_exactly_the_schema():
    readme = (PACKAGE_DIR.parent / "results" / "README.md").read_text()
    assert update_readme(readme) == readme, "results/README.md is stale: run `python -m harness.report.schema`"
    for column in COLUMN_KINDS:
        assert f"| `{column}` |" in readme


def test_every_column_has_a_kind_unit_and_meaning():
    for f in SCHEMA:
        assert f.metadata["meaning"].strip(), f.name
        assert f.metadata["kind"] in ("str", "int", "float", "bool"), f.name
    assert "latency_median" in render_columns_markdown()
