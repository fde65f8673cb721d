"""Where speed mode puts the weights: int16 layouts in RAM when they fit the budget, else int8 ones
(in RAM when those fit, else in flash); without a budget (size mode, zero-wait flash) in flash."""

from harness.codegen import generate
from harness.codegen.placement import RamBudget, place_program, weight_bytes, weight_layout
from harness.codegen.program import build_program
from harness.model import load_tflite


def _footprint(program) -> int:
    return weight_bytes(program) + program.arena.size


def test_speed_mode_places_the_widest_layout_that_fits(kws_model):
    model = load_tflite(kws_model)
    wide = place_program(model, "speed", None)
    narrow = place_program(model, "size", None)
    assert wide.weights_in == narrow.weights_in == "flash"
    assert weight_bytes(narrow) < weight_bytes(wide)  # int8 against int16 copies

    def placed(budget_bytes):
        p = place_program(model, "speed", RamBudget(budget_bytes, "test"))
        return p.optimize, p.weights_in

    assert placed(_footprint(wide)) == ("speed", "ram")
    assert placed(_footprint(wide) - 1) == ("size", "ram")
    assert placed(_footprint(narrow)) == ("size", "ram")
    assert placed(_footprint(narrow) - 1) == ("size", "flash")
    # size mode is never widened or moved by a budget: it is given none by the pipeline, and keeps int8
    assert place_program(model, "size", RamBudget(10**9, "test")).optimize == "size"


def test_speed_mode_drops_winograd_before_widening_less(ic_model):
    """IC's 3x3 stride-1 layers take the Winograd layout (16/9 the int16 bytes): a budget that holds
    the int16 layouts but not those keeps speed mode without them, in RAM."""
    model = load_tflite(ic_model)
    wino = place_program(model, "speed", None)
    plain = build_program(model, "speed", winograd=False)
    assert (weight_layout(wino), weight_layout(plain)) == ("int16+winograd", "int16")
    assert weight_bytes(plain) < weight_bytes(wino)
    placed = place_program(model, "speed", RamBudget(_footprint(wino) - 1, "test"))
    assert (placed.optimize, placed.weights_in, weight_bytes(placed)) == ("speed", "ram", weight_bytes(plain))


def test_weights_in_ram_are_emitted_writable_so_the_linker_puts_them_in_data(kws_model, tmp_path):
    model = load_tflite(kws_model)
    gen = generate(model, tmp_path / "ram", None, name="kws", ram_budget=RamBudget(10**9, "test"))
    flash = generate(model, tmp_path / "flash", None, name="kws")
    assert (gen.weights_in, gen.weight_layout) == ("ram", "int16")
    assert (flash.weights_in, flash.weight_layout) == ("flash", "int16")
    ram_c, flash_c = (tmp_path / "ram" / "model.c").read_text(), (tmp_path / "flash" / "model.c").read_text()
    assert "static const int16_t" not in ram_c and "static int16_t" in ram_c
    assert "static const int16_t" in flash_c
