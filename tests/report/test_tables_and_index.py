"""The comparison table (CSV + LaTeX, compiled by pdflatex where installed) and index.html (opened in
headless Chromium where installed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from figure_tables import tables

from harness.report.build import write_report
from harness.report.paper import comparison_table, write_comparison

TABLES = tables()


def test_comparison_has_separate_engine_kernels_method_and_units():
    table = comparison_table(TABLES["full"])
    assert {"engine", "kernels", "method"} <= set(table.columns)
    assert set(table["engine"]) == {"builtin", "tflm"} and "ptq_int8" in set(table["method"])
    assert {"latency (instructions)", "latency (cycles)", "latency (ms)", "instructions / MAC", "arena (B)",
            "accuracy (%)"} <= set(table.columns)
    emulator = table[table["board"] == "mps2_an386"]
    assert emulator["latency (ms)"].isna().all()  # no ms for instruction counts
    assert "latency (ms)" not in comparison_table(TABLES["one_board"]).columns  # no column of '--'


def test_latex_is_a_booktabs_table_with_caption_and_label(tmp_path):
    _, tex = write_comparison(TABLES["one_board"], tmp_path / "comparison")
    text = tex.read_text()
    for part in (r"\toprule", r"\midrule", r"\bottomrule", r"\caption{", r"\label{tab:tinyhil-comparison}"):
        assert part in text
    assert "board mps2\\_an386 (qemu)" in text  # shared: said once in the caption, not a column
    assert "& mps2\\_an386 &" not in text
    assert re.search(r"\\begin\{tabular\}\{l+r+\}", text)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (texlive-latex-base)")
def test_latex_table_compiles(tmp_path):
    write_comparison(TABLES["full"], tmp_path / "comparison")
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{booktabs}\\usepackage[margin=5mm,"
                                      "landscape]{geometry}\\begin{document}\\tiny\\input{comparison.tex}"
                                      "\\end{document}\n")
    out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_report_skips_absent_figures_and_writes_the_index(tmp_path):
    (tmp_path / "per_layer.png").write_bytes(b"old")  # from an earlier table: must not survive
    written = {w.name: w for w in write_report(TABLES["no_per_layer"], tmp_path)}
    assert written["per_layer"].line() == ("per_layer: not written: no run has a per-layer profile "
                                           "(bench with --per-layer)")
    assert not (tmp_path / "per_layer.png").exists()
    assert all(not w.problems for w in written.values())
    page = (tmp_path / "index.html").read_text()
    for name in ("pareto", "memory", "memory_split", "engines"):
        assert f"src='{name}.png'" in page
    assert "per_layer</b>: not written" in page and "<table" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (Debian package chromium)")
def test_index_images_load_in_headless_chromium(tmp_path):
    write_report(TABLES["one_row"], tmp_path)
    page = (tmp_path / "index.html").read_text()
    probe = ("<script>window.addEventListener('load',()=>{for(const i of document.images)"
             "i.setAttribute('data-loaded',i.complete&&i.naturalWidth>0?'yes':'no')})</script>")
    (tmp_path / "probe.html").write_text(page.replace("</body>", probe + "</body>"))
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--dump-dom", (tmp_path / "probe.html").as_uri()],
                         capture_output=True, text=True, timeout=120)
    loaded = re.findall(r"data-loaded=\"(\w+)\"", out.stdout)
    assert len(loaded) == page.count("<img") >= 3, out.stdout[-2000:] + out.stderr[-2000:]
    assert set(loaded) == {"yes"}
