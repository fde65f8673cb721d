"""The pure parts of the three questions: noise at a stated SNR, the robustness join, the fit ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.questions.fit import KIB, Budget, decide, judge, prefer_fastest_mode
from harness.questions.robustness import gaussian_noise, robustness_table


def test_gaussian_noise_has_the_stated_snr_per_sample():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(400, 8, 8, 1)).astype(np.float32)
    for snr_db in (20.0, 10.0):
        noisy = gaussian_noise(x, snr_db, np.random.default_rng(0))
        signal = np.sum(x.reshape(400, -1).astype(np.float64) ** 2)
        noise = np.sum((noisy - x).reshape(400, -1).astype(np.float64) ** 2)
        assert 10 * np.log10(signal / noise) == pytest.approx(snr_db, abs=0.1)
        assert noisy.dtype == np.float32 and noisy.shape == x.shape
    same_seed = [gaussian_noise(x, 20, np.random.default_rng(0)) for _ in range(2)]
    assert np.array_equal(*same_seed)


def _row(run_id, accuracy, ts, **extra):
    return {"run_id": run_id, "model": extra.pop("model", "m"), "board": "mps2_an386", "target": "qemu",
            "engine": "builtin", "kernels": "optimized", "samples": 10, "accuracy_host": accuracy,
            "accuracy_device": accuracy, "host_mismatches": 0, "error": extra.pop("error", None), "timestamp": ts,
            "compress_variant": extra.pop("variant", "v"), **extra}


def test_robustness_join_takes_the_newest_successful_perturbed_runs():
    tag = {"perturb_json": json.dumps({"kind": "noise", "snr_db": 20})}
    df = pd.DataFrame([
        _row("clean_a", 0.9, "1", variant="a"),
        _row("clean_b", 0.8, "1", variant="b"),
        _row("pa", 0.5, "2", perturb_clean_run_id="clean_a", perturb_name="noise_20db", **tag),
        _row("pa", 0.6, "3", perturb_clean_run_id="clean_a", perturb_name="noise_20db", **tag),  # newer wins
        _row("pa", None, "4", perturb_clean_run_id="clean_a", perturb_name="noise_20db", error="DeviceError: x",
             **tag),  # a later failure never hides a good run
        _row("fa", 0.3, "2", perturb_clean_run_id="clean_a", perturb_name="fgsm_0.1",
             perturb_json=json.dumps({"kind": "fgsm", "epsilon": 0.1})),
        _row("pb", 0.7, "2", perturb_clean_run_id="clean_b", perturb_name="noise_20db", **tag),
    ])
    table = robustness_table(df).set_index("variant")
    assert table.loc["a", "accuracy_noise_20db"] == 0.6
    assert table.loc["a", "accuracy_fgsm_0.1"] == 0.3 and table.loc["a", "accuracy_device"] == 0.9
    assert table.loc["b", "accuracy_noise_20db"] == 0.7 and pd.isna(table.loc["b", "accuracy_fgsm_0.1"])
    assert json.loads(table.loc["a", "perturb_parameters"])["fgsm_0.1"]["epsilon"] == 0.1
    assert len(table) == 2  # perturbed runs are columns, not rows


def _measured(variant, accuracy, flash, ram, latency, unit="instructions", latency_ms=None):
    return pd.Series({"variant": variant, "accuracy_device": accuracy, "deploy_flash_bytes": flash,
                      "deploy_ram_bytes": ram, "flash_bytes": flash + 100 * KIB, "ram_bytes": ram + 80 * KIB,
                      "latency_median": latency, "latency_ms": latency_ms, "unit": unit, "run_id": variant,
                      "host_mismatches": 0})


def test_fit_ranks_fitting_variants_by_accuracy_and_says_why_others_are_out():
    rows = {
        "big": _measured("big", 0.99, 300 * KIB, 10 * KIB, 1e6),
        "wide": _measured("wide", 0.98, 40 * KIB, 70 * KIB, 1e6),
        "slow": _measured("slow", 0.97, 40 * KIB, 10 * KIB, 9e6),
        "good": _measured("good", 0.96, 50 * KIB, 12 * KIB, 2e6),
        "small": _measured("small", 0.96, 20 * KIB, 8 * KIB, 1e6),
        "refused": "UnsupportedOpsError: op not supported yet: CONV_2D (int16 activations)",
    }
    table = decide(rows, Budget(256 * KIB, 64 * KIB, 5e6))
    assert list(table["variant"][:2]) == ["small", "good"]  # equal accuracy: the smaller flash first
    assert list(table["rank"][:2]) == [1, 2] and table["rank"][2:].isna().all()
    why = dict(zip(table["variant"], table["excluded_because"], strict=True))
    assert "flash 300.0 KiB > 256 KiB" in why["big"]
    assert "RAM 70.0 KiB > 64 KiB" in why["wide"]
    assert "latency 9,000,000 instructions > 5,000,000 instructions" in why["slow"]
    assert why["refused"].startswith("no successful device run: UnsupportedOpsError")
    # The whole test firmware is larger: the same budget then excludes what the model alone fits.
    firmware = decide(rows, Budget(256 * KIB, 64 * KIB, None, footprint="firmware"))
    assert "small" not in set(firmware.loc[firmware["fits"], "variant"])


def test_fit_chooses_the_fastest_optimize_mode_that_fits():
    rows = {
        "a [speed]": _measured("a [speed]", 0.95, 180 * KIB, 30 * KIB, 1.0e6),
        "a [size]": _measured("a [size]", 0.95, 95 * KIB, 30 * KIB, 1.2e6),
        "b [speed]": _measured("b [speed]", 0.90, 60 * KIB, 20 * KIB, 0.5e6),
        "b [size]": _measured("b [size]", 0.90, 40 * KIB, 20 * KIB, 0.6e6),
    }
    roomy = prefer_fastest_mode(decide(rows, Budget(256 * KIB, 64 * KIB, None)))
    assert list(roomy.loc[roomy["fits"], "variant"]) == ["a [speed]", "b [speed]"]
    why = dict(zip(roomy["variant"], roomy["excluded_because"], strict=True))
    assert why["a [size]"] == "a [speed] fits too and is faster"
    tight = prefer_fastest_mode(decide(rows, Budget(128 * KIB, 64 * KIB, None)))
    assert list(tight.loc[tight["fits"], "variant"]) == ["a [size]", "b [speed]"]  # only size fits for a
    assert list(tight["rank"][:2]) == [1, 2]
    why = dict(zip(tight["variant"], tight["excluded_because"], strict=True))
    assert "flash 180.0 KiB > 128 KiB" in why["a [speed]"]


def test_fit_latency_budget_is_ms_for_cycle_counts():
    row = _measured("hw", 0.9, 10 * KIB, 4 * KIB, 168_000, unit="cycles", latency_ms=1.0)
    assert judge(row, Budget(64 * KIB, 64 * KIB, 2.0)) == []
    assert judge(row, Budget(64 * KIB, 64 * KIB, 0.5)) == ["latency 1.000 ms > 0.5 ms"]


def test_perturbations_are_listed_mildest_first():
    from harness.questions.robustness import perturbation_columns

    table = pd.DataFrame(columns=["accuracy_device", "accuracy_fgsm_0.1", "accuracy_noise_10db", "accuracy_fgsm_0.05",
                                  "accuracy_noise_20db", "accuracy_host"])
    assert perturbation_columns(table) == ["noise_20db", "noise_10db", "fgsm_0.05", "fgsm_0.1"]
