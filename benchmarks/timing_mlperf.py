"""The timing model on the MLPerf Tiny models, beside published silicon figures.

    python benchmarks/timing_mlperf.py [--boards nucleo_l4r5zi ...] [--models ic kws vww ad] [--out table.md]

Each (model, board) is one `tinyhil bench --target qemu` run of the builtin engine (one random
sample): its `cycles_est` and `latency_ms_est` on the named board. Published figures are MLPerf Tiny
closed-division results (latency = 1 / median throughput of the runner's performance mode), with
their source; the ratio is estimate / published. They were measured with *other engines* (TFLM
v2.3.1 with CMSIS-NN in the reference submission, ST's X-CUBE-AI in ST's), so a ratio mixes the
engine's difference with the model's error: it validates the model only where the engine matches.
TFLM + CMSIS-NN runs here when a TFLM tree is configured (`--engine tflm`, see README "TFLM").
Nothing here is fitted: the model's parameters come from the manuals.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from harness.pipeline import BenchConfig, run_bench
from harness.zoo import reference_model

MODELS = {"ic": "mlperf_tiny_ic_resnet8_int8.tflite", "kws": "mlperf_tiny_kws_dscnn.tflite",
          "vww": "mlperf_tiny_vww_mobilenet.tflite", "ad": "mlperf_tiny_ad_fc_autoencoder.tflite"}
_REF = "MLPerf Tiny v0.5 closed, reference submission (TFLM v2.3.1, CMSIS-NN), mlcommons/tiny_results_v0.5 " \
       "closed/reference/results/Nucleo-L4R5ZI/{task}/performance/results.txt"
_ST = "MLPerf Tiny v1.0 closed, STMicroelectronics (X-CUBE-AI), mlcommons/tiny_results_v1.0 " \
      "closed/STMicroelectronics/results/NUCLEO_L4R5ZI/{task}/performance/results.txt"
# (model, board) -> [(published ms, engine that ran, source)]. Latency = 1000 / median throughput (inf./s).
_THROUGHPUT = {"ic": (1.420, 4.407), "kws": (5.497, 13.323), "vww": (1.665, 4.339), "ad": (99.487, 131.950)}
PUBLISHED = {(task, "nucleo_l4r5zi"): [(1000 / ref, "tflm+cmsis-nn", _REF.format(task=task)),
                                      (1000 / st, "x-cube-ai", _ST.format(task=task))]
             for task, (ref, st) in _THROUGHPUT.items()}


def estimate(model: str, board: str, engine: str, work: Path) -> dict:
    cfg = BenchConfig(model=reference_model(MODELS[model]), board=board, target="qemu", engine=engine, samples=1,
                      results_dir=None, work_dir=work, progress=False, timeout_s=1800)
    try:
        row = run_bench(cfg)
    except Exception as e:  # one model an engine cannot run must not lose the others' rows
        return {"model": model, "board": board, "engine": engine, "error": f"{type(e).__name__}: {e}"}
    return {"model": model, "board": board, "engine": engine, "instructions": row["latency_median"],
            "cycles_est": row["cycles_est"], "ms_est": row["latency_ms_est"], "uj_est": row["energy_uj_est"],
            "emulated_on": row["emulated_on"], "timing_model": row["timing_model"]}


def table(rows: list[dict]) -> pd.DataFrame:
    out = []
    for r in rows:
        published = PUBLISHED.get((r["model"], r["board"])) or [(None, None, None)]
        for ms, engine, source in published:
            ratio = r.get("ms_est") / ms if ms and r.get("ms_est") else None
            out.append({**r, "published_ms": ms, "published_engine": engine, "ratio_est_to_published": ratio,
                        "source": source})
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", nargs="+", default=["nucleo_l4r5zi"])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--engine", default="builtin")
    ap.add_argument("--work", type=Path, default=Path("build/timing_mlperf"))
    ap.add_argument("--out", type=Path, default=None, help="also write the table here (.md or .csv)")
    args = ap.parse_args()
    rows = [estimate(m, b, args.engine, args.work) for m in args.models for b in args.boards]
    frame = table(rows)
    text = frame.to_markdown(index=False, floatfmt=".4g") if hasattr(frame, "to_markdown") else frame.to_string()
    print(text)
    if args.out:
        frame.to_csv(args.out, index=False) if args.out.suffix == ".csv" else args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
