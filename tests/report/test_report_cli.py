import subprocess
import sys

from harness.report import append_results


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_report_writes_the_figures_and_says_which_it_skips(tmp_path):
    rows = [
        {"model": m, "board": "mps2_an386", "target": "qemu", "engine": "builtin", "kernels": "optimized",
         "unit": "instructions", "latency_median": lat, "accuracy_device": acc, "macs": 1000, "arena_bytes": 500,
         "flash_bytes": 9000, "ram_bytes": 4000}
        for m, lat, acc in (("a", 2000, 0.9), ("b", 3000, 0.95))
    ]
    append_results(rows, tmp_path / "results")
    out = _cli("report", "--results", str(tmp_path / "results"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name in ("pareto", "memory"):
        for ext in ("png", "pdf"):
            assert (tmp_path / "results" / f"{name}.{ext}").stat().st_size > 1000
    assert "per_layer: not written: no run has a per-layer profile" in out.stdout
    assert "engines: not written: only one engine" in out.stdout
    assert (tmp_path / "results" / "index.html").exists()
    out = _cli("report", "--results", str(tmp_path / "results"), "--latency", "ms-est", "--board", "mps2_an386",
               cwd=tmp_path)
    # the schema declares the timing model's column (harness/timing); these runs have no estimate in it
    assert out.returncode == 2 and "no run on board 'mps2_an386' has `latency_ms_est`" in out.stderr


def test_report_on_empty_results_says_what_to_do(tmp_path):
    out = _cli("report", "--results", str(tmp_path / "none"), cwd=tmp_path)
    assert out.returncode == 2 and "run `tinyhil bench`" in out.stderr
