"""The pipeline: a validated `BenchConfig` in, one results row out (`run_bench`); sweeps of them.

    config.py  the run configuration (frozen, validated once at the edge)
    bench.py   identity -> analyze -> refuse -> host TFLM -> codegen -> build -> run -> compare -> row
    row.py     the run record and how measured figures become row columns
    sweep.py   many configurations: resumable, shardable, parallel
"""

from harness.pipeline.bench import run_bench, run_identity
from harness.pipeline.config import BenchConfig

__all__ = ["BenchConfig", "run_bench", "run_identity"]
