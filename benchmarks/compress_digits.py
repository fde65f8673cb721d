"""Run the compression recipe on scikit-learn digits and print the variant table.

    python benchmarks/compress_digits.py [--out DIR] [--seed N] [--recipe all]

Writes DIR/variants.csv (+ one .tflite / .json per variant) and prints the table with the
deltas against the float baseline. The figures are measured on this run, never assumed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from harness.compress import compress_command


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader compares, with size / MAC ratios against the int8 PTQ variant."""
    reference = table.set_index("variant").loc["int8_ptq"]
    view = table[["variant", "method", "accuracy_keras", "accuracy_tflite", "accuracy_tflm", "tflite_bytes",
                  "gzip_bytes", "params", "nonzero_fraction", "macs", "deployable", "wall_time_s"]].copy()
    view["size_vs_int8"] = view["tflite_bytes"] / reference["tflite_bytes"]
    view["gzip_vs_int8"] = view["gzip_bytes"] / reference["gzip_bytes"]
    view["macs_vs_int8"] = view["macs"] / reference["macs"]
    return view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipe", default="all")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="compress_digits_"))
    started = time.perf_counter()
    table = compress_command(None, None, args.recipe, "digits", out, args.seed, {})
    elapsed = time.perf_counter() - started
    with pd.option_context("display.width", 220, "display.max_columns", 30, "display.precision", 4):
        print(summarize(table).to_string(index=False))
    by_name = table.set_index("variant")
    drop = by_name.loc["baseline_float", "accuracy_tflite"] - by_name.loc["int8_ptq", "accuracy_tflite"]
    print(f"\nint8 PTQ accuracy loss vs float: {100 * drop:.2f} points")
    print(f"distilled student {by_name.loc['student_distilled', 'accuracy_tflite']:.4f} vs scratch student "
          f"{by_name.loc['student_scratch', 'accuracy_tflite']:.4f} (same architecture, init and budget)")
    print(f"{len(table)} variants in {elapsed:.1f} s → {out / 'variants.csv'}")


if __name__ == "__main__":
    main()
