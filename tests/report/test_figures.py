"""Every figure of the report, drawn from fixture tables of every shape, looked at through matplotlib's
own layout: no text on another, none cut off by the edge, tick labels apart and distinct, series
apart in colour and marker, fonts embedded in the PDF."""

from __future__ import annotations

import pytest
from figure_tables import VARIANTS as TABLE_VARIANTS
from figure_tables import full_rows, speed_size_rows, table, tables

from harness.report.engines import build_engines, engine_frame
from harness.report.facts import Latency
from harness.report.layout_check import layout_problems, visible_texts
from harness.report.memory import build_memory, build_memory_split
from harness.report.pareto import build_pareto
from harness.report.per_layer import build_per_layer, build_per_layer_estimate
from harness.report.style import NoFigure, SeriesStyles, pdf_font_problems, save_figure, styled

TABLES = tables()
FIGURES = {
    "pareto": build_pareto, "memory": build_memory, "memory_split": build_memory_split,
    "per_layer": build_per_layer, "per_layer_est": build_per_layer_estimate, "engines": build_engines,
}
# Absent data gives no figure (and a reason), never an empty or broken one.
NO_FIGURE = {("per_layer", "no_per_layer"): "per-layer", ("per_layer_est", "no_per_layer"): "per-layer",
             ("engines", "one_row"): "only one engine",
             ("engines", "coinciding"): "only one engine"}


@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_every_figure_is_readable(figure, table, tmp_path):
    with styled():
        if (figure, table) in NO_FIGURE:
            with pytest.raises(NoFigure, match=NO_FIGURE[figure, table]):
                FIGURES[figure](TABLES[table])
            return
        fig = FIGURES[figure](TABLES[table])
        assert layout_problems(fig) == []
        _assert_ticks_distinct(fig)
        width = fig.get_figwidth()
        assert width in (3.5, 7.0), f"{figure} is {width} in wide: not a column or the text width"
        png, pdf = save_figure(fig, tmp_path / figure)
    assert png.stat().st_size > 10_000
    assert pdf_font_problems(pdf) == []
    assert b"/FontFile2" in pdf.read_bytes()  # TrueType (Type 42) embedded, not only referenced


def _assert_ticks_distinct(fig):
    """`2, 2, 1, 1, 0` on an axis is a formatter that does not fit the range."""
    drawn = {id(t) for t, _ in visible_texts(fig)}
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels() if id(t) in drawn]
            assert len(labels) == len(set(labels)), f"repeated tick labels {labels}"


def test_coinciding_points_share_one_label():
    with styled():
        fig = build_pareto(TABLES["coinciding"])
        texts = [t.get_text().replace("\n", " ") for t, _ in visible_texts(fig)]
    five = ("ptq_int8", "qat", "prune_s50", "prune_qat_s50", "cluster_k16")
    merged = [t for t in texts if all(name in t for name in five)]
    assert len(merged) == 1, texts


def test_a_latency_over_four_decades_gets_a_log_axis_and_one_over_less_stays_linear():
    with styled():
        assert build_pareto(TABLES["four_decades"]).axes[0].get_xscale() == "log"
        assert build_pareto(TABLES["coinciding"]).axes[0].get_xscale() == "linear"


def test_many_points_get_numbers_and_a_key():
    with styled():
        fig = build_pareto(TABLES["one_board"])  # 24 places in one panel
        texts = [t.get_text() for t, _ in visible_texts(fig)]
    assert {"1", "24"} <= set(texts)
    assert any(t.startswith("1: ") for t in texts)


def test_shared_facts_go_in_the_title_once():
    with styled():
        fig = build_pareto(TABLES["coinciding"])
        texts = [t.get_text() for t, _ in visible_texts(fig)]
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "mps2_an386 (qemu)" in title and "builtin-optimized" in title
    assert sum("mps2_an386" in t for t in texts) == 1


def test_series_styles_are_distinct_pairs_and_stable():
    names = [f"method{k}" for k in range(40)]
    styles = SeriesStyles(names)
    pairs = {(styles[n].colour, styles[n].marker) for n in names}
    assert len(pairs) == len(names)
    assert SeriesStyles(reversed(names))["method7"] == styles["method7"]  # order of appearance does not matter


def test_estimated_latency_on_a_named_board(tmp_path):
    table = TABLES["full"].copy()
    table["latency_ms_est"] = table["latency_median"] / 120e6 * 1e3 * 1.1
    table["timing_model"] = "cm4-model 0.1"
    choice = Latency("ms-est", "nucleo_l4r5zi")
    choice.check(table)
    with styled():
        fig = build_pareto(table, choice)
        assert layout_problems(fig) == []
    labels = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
    assert labels == ["estimated latency (ms, cm4-model 0.1)"]
    low, high = fig.axes[0].get_xlim()
    estimates = table[table["board"] == "nucleo_l4r5zi"]["latency_ms_est"]
    assert low < estimates.min() and estimates.max() < high < 1e3  # ms, not counts


def test_estimated_latency_needs_the_column_and_the_board():
    from harness.errors import DataError

    with pytest.raises(DataError, match="latency_ms_est"):
        Latency("ms-est", "nucleo_l4r5zi").check(TABLES["full"])
    with pytest.raises(DataError, match="--board"):
        Latency("ms-est")


def test_robustness_figure_in_the_report_style(tmp_path):
    import pandas as pd

    from harness.questions.plots import build_robustness

    joined = pd.DataFrame({"variant": [v for v, *_ in TABLE_VARIANTS], "board": "mps2_an386",
                           "accuracy_device": 0.97, "accuracy_noise_20db": 0.91, "accuracy_fgsm_0.05": 0.42})
    with styled():
        fig = build_robustness(joined, ["noise_20db", "fgsm_0.05"])
        assert layout_problems(fig) == []
        _, pdf = save_figure(fig, tmp_path / "robustness")
    assert pdf_font_problems(pdf) == []
    with styled(), pytest.raises(NoFigure):
        build_robustness(joined.iloc[0:0], ["noise_20db"])


def test_per_layer_estimates_put_the_modes_side_by_side():
    """builtin speed and size and TFLM + CMSIS-NN are three series of estimated cycles, named as such."""
    with styled():
        fig = build_per_layer_estimate(TABLES["speed_size"])
        texts = " ".join(t.get_text() for t, _ in visible_texts(fig))
    assert "builtin-optimized-size" in texts and "tflm-cmsis-nn" in texts and "builtin-optimized " in texts + " "
    assert "est. cycles (cm4-trm 1)" in texts and "Per-layer estimated cycles" in texts


def test_a_profile_with_the_whole_inference_in_one_layer_is_left_out():
    """A TFLM release build's per-layer pass (profiler events stripped) puts everything in layer 0: such a
    run is not drawn as a profile."""
    import json

    from figure_tables import speed_size_rows, table

    rows = speed_size_rows()
    flat = dict(rows[-1], engine="tflm", kernels="reference", run_id="flat-tflm-reference")
    layers = json.loads(flat["per_layer_json"])
    total = sum(layer["count"] for layer in layers)
    flat["per_layer_json"] = json.dumps([{**layer, "count": total if i == 0 else 40,
                                          "cycles_est": 1.7 * total if i == 0 else 112}
                                         for i, layer in enumerate(layers)])
    with styled():
        for build in (build_per_layer, build_per_layer_estimate):
            texts = " ".join(t.get_text() for t, _ in visible_texts(build(table([*rows, flat]))))
            assert "tflm-reference" not in texts and "tflm-cmsis-nn" in texts


def test_engines_figure_takes_the_newest_run_of_a_rebuilt_engine():
    """The same model, board and engine twice (an engine rebuilt after an update: other firmware, so
    another run): one bar, the newest run's, not a failed reindex."""
    rows = speed_size_rows()
    newer = {**rows[0], "run_id": rows[0]["run_id"] + "-rebuilt", "latency_median": rows[0]["latency_median"] // 2,
             "timestamp": "2026-12-01T11:00:00+00:00"}
    frame = engine_frame(table(rows + [newer]))
    speed = frame[frame["series"] == "builtin-optimized"]
    assert len(speed) == 1 and speed["per_mac"].iloc[0] == pytest.approx(newer["latency_median"] / newer["macs"])
    build_engines(table(rows + [newer]))  # draws


def test_per_layer_panels_of_long_model_names_on_two_boards_stay_inside():
    """Two columns of panels titled "model on board" with MLPerf-length names: the titles wrap
    instead of running past the figure's edge."""
    rows = [{**r, "model": f"mlperf_tiny_{r['model']}_fc_autoencoder"} for r in full_rows()
            if r.get("per_layer_json") and r["engine"] == "builtin"]
    assert len({r["board"] for r in rows}) == 2
    with styled():
        fig = build_per_layer(table(rows))
        assert layout_problems(fig) == []
