"""Optimized kernels (opt_*.c) against the reference kernels (ref_*.c), bit for bit, on
thousands of random shapes and quantization parameters (host build, plain-C DSP equivalents)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from kernel_lib import ENGINE, ConvParams, DwParams, FcParams, build_kernel_lib, ptr

from harness.codegen.pack import conv_packed, conv_packed8, fc_packed_s8, fc_packed_s16
from harness.codegen.scratch import dw3_applies, dwconv_scratch_bytes, winograd_scratch_bytes
from harness.codegen.winograd import conv_winograd, winograd_applies

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not installed")


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return build_kernel_lib(tmp_path_factory.mktemp("kernels"))


def _requant_params(rng, n, depth):
    """Per-channel multipliers and shifts that put most outputs inside int8 (so rounding is
    exercised, not just saturation) for a dot product of `depth` terms; sometimes a left shift."""
    multiplier = rng.integers(1 << 30, (1 << 31) - 1, size=n, dtype=np.int64).astype(np.int32)
    centre = round(-6.3 - 0.5 * np.log2(max(depth, 1)))
    shift = (centre + rng.integers(-2, 3, size=n)).astype(np.int32)
    if rng.random() < 0.05:
        shift = rng.integers(-2, 3, size=n).astype(np.int32)
    return multiplier, shift


def _activation(rng):
    lo, hi = sorted(rng.integers(-128, 128, size=2).tolist())
    return [(-128, 127), (lo, hi), (-128, 127)][rng.integers(0, 3)] if hi > lo else (-128, 127)


def _out_size(in_size, k, stride, dilation, rng):
    """Output size and leading pad for SAME or VALID padding, as TFLite computes them."""
    eff_k = (k - 1) * dilation + 1
    if rng.random() < 0.5:  # SAME
        out = (in_size + stride - 1) // stride
        pad = max((out - 1) * stride + eff_k - in_size, 0) // 2
    else:
        out = (in_size - eff_k) // stride + 1
        pad = 0
    return out, pad


def _conv_case(rng):
    """Random conv geometry; a third of the cases are 1x1 (pointwise) convolutions."""
    pointwise = rng.random() < 0.33
    k_h, k_w = (1, 1) if pointwise else (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    while True:
        g = dict(in_h=int(rng.integers(1, 11)), in_w=int(rng.integers(1, 11)), k_h=k_h, k_w=k_w,
                 stride_h=int(rng.integers(1, 4)), stride_w=int(rng.integers(1, 4)),
                 dilation_h=int(rng.integers(1, 3)), dilation_w=int(rng.integers(1, 3)))
        g["out_h"], g["pad_top"] = _out_size(g["in_h"], k_h, g["stride_h"], g["dilation_h"], rng)
        g["out_w"], g["pad_left"] = _out_size(g["in_w"], k_w, g["stride_w"], g["dilation_w"], rng)
        if g["out_h"] > 0 and g["out_w"] > 0:
            return g


def _fill_conv(rng, g, in_c, out_c, filter_shape, with_bias, depthwise=False):
    arrays = dict(
        input=rng.integers(-128, 128, size=(g["in_h"], g["in_w"], in_c), dtype=np.int8),
        filter=rng.integers(-127, 128, size=filter_shape, dtype=np.int8),
        bias=rng.integers(-(1 << 16), 1 << 16, size=out_c, dtype=np.int32) if with_bias else None,
    )
    if with_bias and rng.random() < 0.05:  # biases too large for the kernels' short requantization
        arrays["bias"][:] = rng.integers(-(1 << 30), 1 << 30, size=out_c, dtype=np.int32)
    depth = g["k_h"] * g["k_w"] * (1 if depthwise else in_c)
    arrays["multiplier"], arrays["shift"] = _requant_params(rng, out_c, depth)
    params = ConvParams(
        input=ptr(arrays["input"], ctypes.c_int8), in_h=g["in_h"], in_w=g["in_w"], in_c=in_c,
        input_offset=int(rng.integers(-127, 129)), filter=ptr(arrays["filter"], ctypes.c_int8),
        k_h=g["k_h"], k_w=g["k_w"], bias=ptr(arrays["bias"], ctypes.c_int32),
        out_h=g["out_h"], out_w=g["out_w"], out_c=out_c, output_offset=int(rng.integers(-128, 128)),
        stride_h=g["stride_h"], stride_w=g["stride_w"], dilation_h=g["dilation_h"],
        dilation_w=g["dilation_w"], pad_top=g["pad_top"], pad_left=g["pad_left"],
        out_multiplier=ptr(arrays["multiplier"], ctypes.c_int32),
        out_shift=ptr(arrays["shift"], ctypes.c_int32),
    )
    params.act_min, params.act_max = _activation(rng)
    return params, arrays


def conv_scratch_contract(p: ConvParams) -> int:
    """Scratch bytes opt_conv.c asks for (its header): int16 im2col columns of K rounded up to 4, three
    for the int16 packed layout's 3-pixel loop, else two; conv_winograd.c's V and sums."""
    if p.wino:
        return 96 * p.in_c + 384
    return (3 if p.packed else 2) * ((p.k_h * p.k_w * p.in_c + 3) // 4 * 4) * 2


def dwconv_scratch_contract(d: DwParams) -> int:
    """Scratch bytes opt_dwconv.c / dwconv3x3.c ask for (their headers) to take their fast paths."""
    c = d.conv
    long_rows = c.stride_w == 1 and 8 <= c.out_w < 62
    columns_fit = not long_rows and c.stride_h == 1 and 8 <= c.out_h < 62  # walked transposed
    rows_fit = c.stride_w == 1 and c.out_w < 62  # any row that fits the planes, shorter ones too
    if (d.depth_multiplier == 1 and (c.k_h, c.k_w, c.dilation_h, c.dilation_w) == (3, 3, 1, 1) and c.out_c % 4 == 0
            and (rows_fit or columns_fit)):
        window = ((c.out_w - 1) * c.stride_w if columns_fit else (c.out_h - 1) * c.stride_h) + 3  # input rows read
        planes = 4 * 128 * (window if window <= 8 else 6)  # all of them, or six at a time
        return planes + (4 * c.out_h * c.out_w if columns_fit and window > 8 else 0)  # + a group's output
    if d.depth_multiplier != 1 or c.out_c % 4 or c.k_h > 16:
        return 0
    width = (c.out_w - 1) * c.stride_w + (c.k_w - 1) * c.dilation_w + 1
    return 8 * c.k_h * (c.k_w + width)


GUARD = 64  # int16 guard words after the scratch: the kernel must stay inside its contract


def _run_both(lib, name, params, conv, out_shape, scratch_bytes):
    """Run ref then opt (with `scratch_bytes` of poisoned scratch, or NULL for 0); returns outputs."""
    outputs = []
    for kind in ("ref", "opt"):
        out = np.full(out_shape, 0x55, dtype=np.int8)
        conv.output = ptr(out, ctypes.c_int8)
        scratch = None
        if kind == "opt" and scratch_bytes > 0:
            scratch = np.full(scratch_bytes // 2 + GUARD, 0x7B7B, dtype=np.int16)
        conv.scratch = ptr(scratch, ctypes.c_int16)
        getattr(lib, f"th_{kind}_{name}_s8")(ctypes.byref(params))
        if scratch is not None:
            assert np.all(scratch[scratch_bytes // 2:] == 0x7B7B), "kernel wrote past its scratch"
        outputs.append(out)
    return outputs


def test_conv_matches_reference(lib):
    rng = np.random.default_rng(1234)
    unsaturated = total = packed_cases = 0
    for case in range(2500):
        g = _conv_case(rng)
        in_c = int(rng.choice([1, 2, 3, 4, 5, 8, 12, 16, 7]))
        out_c = int(rng.integers(1, 10))
        params, _arrays = _fill_conv(rng, g, in_c, out_c, (out_c, g["k_h"], g["k_w"], in_c),
                                     with_bias=rng.random() < 0.9)
        for scratch_bytes in {conv_scratch_contract(params), lib.th_conv2d_s8_scratch_bytes(ctypes.byref(params))}:
            ref, opt = _run_both(lib, "conv2d", params, params, (g["out_h"], g["out_w"], out_c), scratch_bytes)
            assert np.array_equal(ref, opt), f"case {case}: {g} in_c={in_c} out_c={out_c} scratch={scratch_bytes}"
        for field, packed in _check_conv_packed(lib, params, _arrays).items():
            packed_cases += 1
            opt = _run_packed(lib, params, packed, (g["out_h"], g["out_w"], out_c), field)
            assert np.array_equal(ref, opt), f"case {case}: {field}, {g} in_c={in_c} out_c={out_c}"
        unsaturated += np.count_nonzero((ref > -128) & (ref < 127))
        total += ref.size
    assert unsaturated > 0.5 * total  # the cases exercise rounding, not only clamping
    assert packed_cases > 1000  # both packed layouts are exercised (even out_c, short requantization)


def _run_packed(lib, params, packed, out_shape, field="packed"):
    """The optimized conv on a packed layout (`packed`: int16 weights, `packed8`: int8, `wino`: through
    th_opt_conv2d_s8_winograd) with no int8 filter and poisoned, guarded scratch."""
    out = np.full(out_shape, 0x55, dtype=np.int8)
    filt = params.filter
    params.filter = ctypes.POINTER(ctypes.c_int8)()
    setattr(params, field, ptr(packed, ctypes.c_uint32))
    n = conv_scratch_contract(params) // 2
    assert n * 2 == lib.th_conv2d_s8_scratch_bytes(ctypes.byref(params))
    scratch = np.full(n + GUARD, 0x7B7B, dtype=np.int16)
    params.output, params.scratch = ptr(out, ctypes.c_int8), ptr(scratch, ctypes.c_int16)
    (lib.th_opt_conv2d_s8_winograd if field == "wino" else lib.th_opt_conv2d_s8)(ctypes.byref(params))
    params.filter = filt
    setattr(params, field, ctypes.POINTER(ctypes.c_uint32)())
    assert np.all(scratch[n:] == 0x7B7B), "kernel wrote past its scratch"
    return out


def _check_conv_packed(lib, params, arrays) -> dict[str, np.ndarray]:
    """Both packed layouts ({"packed": int16, "packed8": int8}) if the layer qualifies, else {}; the
    Python (codegen) and C layouts must agree."""
    layouts = {}
    for field, py_pack, count, c_pack in (("packed", conv_packed, lib.th_conv_packed_words, lib.th_conv_pack),
                                          ("packed8", conv_packed8, lib.th_conv_packed8_words, lib.th_conv_pack8)):
        n = count(ctypes.byref(params))
        py = py_pack(arrays["filter"], arrays["bias"], arrays["multiplier"], arrays["shift"], params.output_offset,
                     params.input_offset)
        assert (py is None) == (n == 0), f"codegen and C disagree on whether the layer packs ({field})"
        if py is None:
            continue
        c = np.zeros(n, dtype=np.uint32)
        c_pack(ctypes.byref(params), ptr(c, ctypes.c_uint32))
        assert np.array_equal(py.view(np.uint32), c), f"{field} conv layouts differ"
        layouts[field] = c
    assert len(layouts) in (0, 2), "both layouts qualify for the same layers"
    return layouts


def test_conv_packed_extreme_requantization(lib):
    """Packed layout with zero multipliers and right shifts past 21 (VWW's dead channels): the
    constant-channel encoding and the overflow bound must keep the kernel exact."""
    rng = np.random.default_rng(2024)
    packed_cases = 0
    for case in range(600):
        g = _conv_case(rng)
        in_c, out_c = int(rng.choice([1, 3, 4, 8, 16])), int(rng.choice([2, 4, 6, 8]))
        params, arrays = _fill_conv(rng, g, in_c, out_c, (out_c, g["k_h"], g["k_w"], in_c), rng.random() < 0.9)
        dead = rng.random(out_c) < 0.3
        arrays["multiplier"][dead] = 0
        arrays["shift"][dead] = rng.integers(-31, 1, size=int(dead.sum()))
        deep = ~dead & (rng.random(out_c) < 0.4)
        arrays["shift"][deep] = rng.integers(-31, -21, size=int(deep.sum()))
        if arrays["bias"] is not None:  # huge biases on deep-shift channels: constant or not
            huge = deep & (rng.random(out_c) < 0.5)
            arrays["bias"][huge] = rng.integers(-(1 << 30) - 200, (1 << 30) + 200, size=int(huge.sum()))
        ref, _ = _run_both(lib, "conv2d", params, params, (g["out_h"], g["out_w"], out_c), 0)
        for field, packed in _check_conv_packed(lib, params, arrays).items():
            packed_cases += 1
            opt = _run_packed(lib, params, packed, (g["out_h"], g["out_w"], out_c), field)
            assert np.array_equal(ref, opt), f"case {case}: {field}, {g} in_c={in_c} out_c={out_c}"
    assert packed_cases > 400


def test_conv_without_scratch_matches_reference(lib):
    rng = np.random.default_rng(99)
    for case in range(300):
        g = _conv_case(rng)
        in_c, out_c = int(rng.integers(1, 9)), int(rng.integers(1, 6))
        params, _arrays = _fill_conv(rng, g, in_c, out_c, (out_c, g["k_h"], g["k_w"], in_c), True)
        ref, opt = _run_both(lib, "conv2d", params, params, (g["out_h"], g["out_w"], out_c), 0)
        assert np.array_equal(ref, opt), f"case {case}: {g}"


def test_depthwise_matches_reference(lib):
    rng = np.random.default_rng(4321)
    for case in range(2500):
        g = _conv_case(rng)
        in_c = int(rng.choice([1, 2, 3, 4, 5, 8, 9, 12, 16]))
        multiplier = int(rng.choice([1, 1, 1, 2, 3]))
        out_c = in_c * multiplier
        params, _arrays = _fill_conv(rng, g, in_c, out_c, (1, g["k_h"], g["k_w"], out_c),
                                     with_bias=rng.random() < 0.9, depthwise=True)
        dw = DwParams(conv=params, depth_multiplier=multiplier)
        for scratch_bytes in {dwconv_scratch_contract(dw), lib.th_dwconv_s8_scratch_bytes(ctypes.byref(dw))}:
            ref, opt = _run_both(lib, "dwconv", dw, dw.conv, (g["out_h"], g["out_w"], out_c), scratch_bytes)
            assert np.array_equal(ref, opt), f"case {case}: {g} in_c={in_c} dm={multiplier} scratch={scratch_bytes}"


def _dw3_geometry(rng, in_h: int, in_w: int, stride_h: int, stride_w: int) -> dict | None:
    """A 3x3 depthwise layer's geometry, SAME or VALID each way at random; None when it has no output."""
    g = dict(in_h=in_h, in_w=in_w, k_h=3, k_w=3, stride_h=stride_h, stride_w=stride_w, dilation_h=1, dilation_w=1)
    g["out_h"], g["pad_top"] = _out_size(in_h, 3, stride_h, 1, rng)
    g["out_w"], g["pad_left"] = _out_size(in_w, 3, stride_w, 1, rng)
    return g if g["out_h"] >= 1 and g["out_w"] >= 1 else None


def test_depthwise_3x3_planes_match_reference(lib):
    """dwconv3x3.c (3x3, rows of 8+ outputs, stride_w 1; stride 2 takes the ring): SAME/VALID, odd and even widths,
    stride_h 1-2, up to 19 rows (several calls, rows kept between them), narrow activation ranges, large biases
    (its exact-requantization fallback)."""
    rng = np.random.default_rng(33)
    taken = 0
    for case in range(400):
        in_w, in_h = int(rng.integers(8, 62)), int(rng.integers(1, 20))
        g = _dw3_geometry(rng, in_h, in_w, int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        if g is not None:
            taken += _check_dw3_case(lib, rng, g, case)
    assert taken > 150


def _check_dw3_case(lib, rng, g: dict, case: int) -> bool:
    """One 3x3 depthwise layer of geometry g: C, the code generator and the scratch contract agree on
    its scratch, and the optimized kernel equals the reference. Returns whether dwconv3x3.c took it."""
    out_c = 4 * int(rng.integers(1, 4))
    params, _arrays = _fill_conv(rng, g, out_c, out_c, (1, 3, 3, out_c), with_bias=rng.random() < 0.9,
                                 depthwise=True)
    dw = DwParams(conv=params, depth_multiplier=1)
    applies = bool(lib.th_dw3_applies(ctypes.byref(dw)))
    assert applies == dw3_applies(3, 3, out_c, g["out_w"], g["stride_w"], 1, 1, 1, g["out_h"], g["stride_h"]), g
    scratch_bytes = lib.th_dwconv_s8_scratch_bytes(ctypes.byref(dw))
    assert scratch_bytes == dwconv_scratch_contract(dw) == dwconv_scratch_bytes(
        3, 3, out_c, g["out_w"], g["stride_w"], 1, 1, dilation_h=1, out_h=g["out_h"], stride_h=g["stride_h"]), \
        "C, the code generator and the contract disagree"
    ref, opt = _run_both(lib, "dwconv", dw, dw.conv, (g["out_h"], g["out_w"], out_c), scratch_bytes)
    assert np.array_equal(ref, opt), f"case {case}: {g} out_c={out_c}"
    return applies


def test_depthwise_3x3_planes_take_small_images(lib):
    """Images short both ways (VWW: 6x6, 3x3): dwconv3x3.c takes every stride_w 1 layer whose rows fit its
    planes, one call a group; strides 1-3 down, 1-2 across, SAME/VALID, narrow ranges, large biases."""
    rng = np.random.default_rng(35)
    taken = 0
    for case in range(300):
        in_h, in_w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        g = _dw3_geometry(rng, in_h, in_w, int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        if g is not None:
            taken += _check_dw3_case(lib, rng, g, case) and g["stride_w"] == 1
    assert taken > 80


def test_depthwise_3x3_output_over_input(lib):
    """dwconv3x3.c with its output laid over its own input, in one buffer: at the offset the code generator
    allows (overlap.channel_aligned_delta) and, for same-shaped layers, exactly over it. Transposed walks write
    in place only then (else through their group buffer), plain walks always."""
    from harness.codegen.overlap import channel_aligned_delta

    rng = np.random.default_rng(36)
    checked = 0
    for case in range(200):
        narrow = rng.random() < 0.6  # KWS-like: walked transposed
        in_h, in_w = (int(rng.integers(8, 40)), int(rng.integers(1, 8))) if narrow else \
            (int(rng.integers(1, 12)), int(rng.integers(1, 30)))
        g = _dw3_geometry(rng, in_h, in_w, 1, 1)
        if g is None:
            continue
        out_c = 4 * int(rng.integers(1, 4))
        params, arrays = _fill_conv(rng, g, out_c, out_c, (1, 3, 3, out_c), with_bias=True, depthwise=True)
        dw = DwParams(conv=params, depth_multiplier=1)
        if not lib.th_dw3_applies(ctypes.byref(dw)):
            continue
        out_shape = (g["out_h"], g["out_w"], out_c)
        scratch_bytes = lib.th_dwconv_s8_scratch_bytes(ctypes.byref(dw))
        ref, _ = _run_both(lib, "dwconv", dw, dw.conv, out_shape, scratch_bytes)
        deltas = {channel_aligned_delta((1, in_h, in_w, out_c), (1, *out_shape), 1, 1, g["pad_top"], g["pad_left"],
                                        out_c)}
        if (g["out_h"], g["out_w"]) == (in_h, in_w):
            deltas.add(0)
        for delta in deltas:
            in_bytes, out_bytes = arrays["input"].size, int(np.prod(out_shape))
            lead = max(0, -delta)
            arena = np.zeros(lead + max(in_bytes, delta + out_bytes) + 16, dtype=np.int8)
            arena[lead:lead + in_bytes] = arrays["input"].ravel()
            scratch = np.zeros(scratch_bytes // 2 + 1, dtype=np.int16)
            dw.conv.input = ptr(arena[lead:], ctypes.c_int8)
            dw.conv.output = ptr(arena[lead + delta:], ctypes.c_int8)
            dw.conv.scratch = ptr(scratch, ctypes.c_int16)
            lib.th_opt_dwconv_s8(ctypes.byref(dw))
            got = arena[lead + delta:lead + delta + out_bytes].reshape(out_shape)
            assert np.array_equal(ref, got), f"case {case}: {g} out_c={out_c} delta={delta}"
            checked += 1
    assert checked > 100


def test_depthwise_3x3_planes_walk_narrow_layers_transposed(lib):
    """Rows of under 8 outputs with columns of 8+ (KWS: 25x5): dwconv3x3.c takes input columns as its rows.
    SAME/VALID, stride_w 1-2 (the direction it steps rows in), odd heights, narrow ranges, large biases."""
    from harness.codegen.scratch import dw3_transposed

    rng = np.random.default_rng(34)
    taken = 0
    for case in range(300):
        in_h, in_w = int(rng.integers(8, 62)), int(rng.integers(1, 9))
        g = _dw3_geometry(rng, in_h, in_w, 1, int(rng.integers(1, 3)))
        if g is None:
            continue
        _check_dw3_case(lib, rng, g, case)
        taken += dw3_transposed(g["out_w"], g["stride_w"], g["out_h"], 1)
    assert taken > 150


def test_fully_connected_matches_reference(lib):
    rng = np.random.default_rng(777)
    for case in range(2000):
        batches, in_n, out_n = int(rng.integers(1, 4)), int(rng.integers(1, 70)), int(rng.integers(1, 12))
        per_channel = int(rng.random() < 0.5)
        n_q = out_n if per_channel else 1
        inp = rng.integers(-128, 128, size=(batches, in_n), dtype=np.int8)
        weights = rng.integers(-127, 128, size=(out_n, in_n), dtype=np.int8)
        bias = rng.integers(-(1 << 16), 1 << 16, size=out_n, dtype=np.int32) if rng.random() < 0.9 else None
        multiplier, shift = _requant_params(rng, n_q, in_n)
        params = FcParams(
            input=ptr(inp, ctypes.c_int8), batches=batches, in_n=in_n, out_n=out_n,
            input_offset=int(rng.integers(-127, 129)), weights=ptr(weights, ctypes.c_int8),
            weights_offset=int(rng.integers(-127, 129)) if rng.random() < 0.3 else 0,
            bias=ptr(bias, ctypes.c_int32), output_offset=int(rng.integers(-128, 128)),
            out_multiplier=ptr(multiplier, ctypes.c_int32), out_shift=ptr(shift, ctypes.c_int32),
            per_channel=per_channel,
        )
        params.act_min, params.act_max = _activation(rng)
        outputs = []
        # The code generator's packed int16 layout (harness/codegen/pack.py) must be the C one.
        packed = fc_packed_s16(weights, params.weights_offset)
        c_packed = np.zeros(lib.th_fc_packed_count(out_n, in_n), dtype=np.int16)
        lib.th_fc_pack_s16(ptr(weights, ctypes.c_int8), out_n, in_n, params.weights_offset,
                           ptr(c_packed, ctypes.c_int16))
        assert np.array_equal(packed, c_packed), f"case {case}: packed layouts differ"
        packed8 = fc_packed_s8(weights)
        c_packed8 = np.zeros(lib.th_fc_packed_count(out_n, in_n), dtype=np.int8)
        lib.th_fc_pack_s8(ptr(weights, ctypes.c_int8), out_n, in_n, ptr(c_packed8, ctypes.c_int8))
        assert np.array_equal(packed8, c_packed8), f"case {case}: int8 packed layouts differ"
        w_int8 = params.weights
        for kind, layout, layout8 in (("ref", None, None), ("opt", None, None), ("opt", packed, None),
                                      ("opt", None, packed8)):
            out = np.full((batches, out_n), 0x55, dtype=np.int8)
            params.output = ptr(out, ctypes.c_int8)
            params.packed, params.packed8 = ptr(layout, ctypes.c_int16), ptr(layout8, ctypes.c_int8)
            # the packed paths read no int8 weights
            params.weights = w_int8 if layout is None and layout8 is None else ctypes.POINTER(ctypes.c_int8)()
            getattr(lib, f"th_{kind}_fc_s8")(ctypes.byref(params))
            outputs.append(out)
        params.weights = w_int8
        for got in outputs[1:]:
            assert np.array_equal(outputs[0], got), f"case {case}: in_n={in_n} out_n={out_n} pc={per_channel}"


def test_short_requantization_forms_match_reference(tmp_path):
    """th_dsp.h's SMMULR and saturating-add forms against MultiplyByQuantizedMultiplier."""
    exe = tmp_path / "requant_check"
    subprocess.run(["gcc", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined",
                    "-fno-sanitize-recover=all", "-I", str(ENGINE), str(HERE / "requant_check.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("OK"), result.stdout + result.stderr


def _winograd_layers(lib, rng, n: int, lo: int, in_cs, out_cs):
    """n random 3x3 stride-1 layers (SAME or VALID, sides lo..12) with the reference kernel's output:
    (case, geometry, params, arrays, ref); VALID geometries with no output are skipped."""
    for case in range(n):
        g = {"k_h": 3, "k_w": 3, "stride_h": 1, "stride_w": 1, "dilation_h": 1, "dilation_w": 1}
        g["in_h"], g["in_w"] = int(rng.integers(lo, 13)), int(rng.integers(lo, 13))
        g["out_h"], g["pad_top"] = _out_size(g["in_h"], 3, 1, 1, rng)
        g["out_w"], g["pad_left"] = _out_size(g["in_w"], 3, 1, 1, rng)
        if g["out_h"] < 1 or g["out_w"] < 1:
            continue
        in_c, out_c = int(rng.choice(in_cs)), int(rng.choice(out_cs))
        params, arrays = _fill_conv(rng, g, in_c, out_c, (out_c, 3, 3, in_c), rng.random() < 0.9)
        if rng.random() < 0.2:  # dead channels (multiplier 0): the constant-channel encoding
            arrays["multiplier"][rng.random(out_c) < 0.5] = 0
        ref, _ = _run_both(lib, "conv2d", params, params, (g["out_h"], g["out_w"], out_c), 0)
        yield case, g, params, arrays, ref


def test_conv_winograd_matches_reference(lib):
    """conv_winograd.c on 3x3 stride-1 layers: SAME and VALID, odd and even sizes (tiles past the
    output), activation ranges, huge biases and dead channels; the Python and C layouts agree."""
    rng = np.random.default_rng(77)
    taken = 0
    for case, g, params, arrays, ref in _winograd_layers(lib, rng, 400, 1, [4, 8, 12, 16, 32, 64], [2, 4, 6, 8]):
        in_c, out_c = params.in_c, params.out_c
        assert winograd_applies(3, 3, 1, 1, 1, 1, in_c, out_c)
        n = lib.th_conv_wino_words(ctypes.byref(params))
        py = conv_winograd(arrays["filter"], arrays["bias"], arrays["multiplier"], arrays["shift"],
                           params.output_offset, params.input_offset)
        assert (py is None) == (n == 0), f"case {case}: codegen and C disagree on whether the layer takes Winograd"
        if py is None:
            continue
        c = np.zeros(n, dtype=np.uint32)
        lib.th_conv_wino_pack(ctypes.byref(params), ptr(c, ctypes.c_uint32))
        assert np.array_equal(py.view(np.uint32), c), f"case {case}: Winograd layouts differ"
        assert winograd_scratch_bytes(in_c) == 96 * in_c + 384
        opt = _run_packed(lib, params, c, (g["out_h"], g["out_w"], out_c), "wino")
        assert np.array_equal(ref, opt), f"case {case}: {g} in_c={in_c} out_c={out_c}"
        taken += 1
    assert taken > 250


def test_conv_winograd_output_over_input(lib):
    """The offset the code generator lets a Winograd layer's output take over its own input
    (overlap.winograd_delta) is safe for the kernel: run with the output laid there, in one buffer."""
    from harness.codegen.overlap import winograd_delta

    rng = np.random.default_rng(5)
    checked = 0
    for case, g, params, arrays, ref in _winograd_layers(lib, rng, 120, 2, [4, 8, 16], [4, 8, 16]):
        in_c, out_c = params.in_c, params.out_c
        out_shape = (g["out_h"], g["out_w"], out_c)
        n = lib.th_conv_wino_words(ctypes.byref(params))
        if n == 0:
            continue
        wino = np.zeros(n, dtype=np.uint32)
        lib.th_conv_wino_pack(ctypes.byref(params), ptr(wino, ctypes.c_uint32))
        delta = winograd_delta((1, g["in_h"], g["in_w"], in_c), (1, *out_shape), g["pad_top"], g["pad_left"],
                               in_c, out_c)
        in_bytes, out_bytes = arrays["input"].size, int(np.prod(out_shape))
        lead = max(0, -delta)
        arena = np.zeros(lead + max(in_bytes, delta + out_bytes) + 16, dtype=np.int8)
        arena[lead:lead + in_bytes] = arrays["input"].ravel()
        scratch = np.zeros((96 * in_c + 384) // 2, dtype=np.int16)
        params.input = ptr(arena[lead:], ctypes.c_int8)
        params.output = ptr(arena[lead + delta:], ctypes.c_int8)
        params.scratch, params.wino = ptr(scratch, ctypes.c_int16), ptr(wino, ctypes.c_uint32)
        lib.th_opt_conv2d_s8_winograd(ctypes.byref(params))
        params.wino = ctypes.POINTER(ctypes.c_uint32)()
        got = arena[lead + delta:lead + delta + out_bytes].reshape(out_shape)
        assert np.array_equal(ref, got), f"case {case}: {g} in_c={in_c} out_c={out_c} delta={delta}"
        checked += 1
    assert checked > 60
