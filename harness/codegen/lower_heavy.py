"""Lowering of the heavy ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) to th_kernels.h calls."""

from __future__ import annotations

import numpy as np

from harness.codegen.context import LayerCode, LowerContext, by_kernels, c_init, quant_of
from harness.codegen.overlap import channel_aligned_delta, windowed_delta, winograd_delta
from harness.codegen.pack import conv_packed, conv_packed8, fc_packed_s8, fc_packed_s16
from harness.codegen.quant import activation_range, per_channel_multipliers, per_tensor_conv_multiplier
from harness.codegen.scratch import conv_scratch_bytes, dwconv_scratch_bytes, winograd_scratch_bytes
from harness.codegen.winograd import conv_winograd, winograd_applies
from harness.model import Operator


def same_padding(stride: int, dilation: int, in_size: int, k: int, out_size: int) -> int:
    """TFLM's ComputePaddingWithOffset: the leading pad (0 for VALID, whose outputs reach no pad)."""
    effective = (k - 1) * dilation + 1
    return max(0, (out_size - 1) * stride + effective - in_size) // 2


def _int8_io(ctx: LowerContext, op: Operator) -> None:
    for t in (op.inputs[0], op.outputs[0]):
        tensor = ctx.tensor(t)
        if tensor.dtype != np.int8 or tensor.quant is None:
            raise ctx.refuse(op, f"{tensor.dtype} activations; only int8 is supported")
    weights = ctx.tensor(op.inputs[1])
    if weights.dtype != np.int8 or ctx.value(op.inputs[1]) is None:
        raise ctx.refuse(op, "weights must be constant int8")
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and ctx.tensor(op.inputs[2]).dtype != np.int32:
        raise ctx.refuse(op, "bias must be int32")


def _bias(ctx: LowerContext, op: Operator) -> str:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        return ctx.const(ctx.value(op.inputs[2]), np.int32, "bias")
    return "NULL"


def _conv_fields(ctx: LowerContext, op: Operator, out_c: int, k_h: int, k_w: int) -> dict:
    ti, tf, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    if len(ti.shape) != 4 or ti.shape[0] != 1:
        raise ctx.refuse(op, "batch must be 1")
    o = op.options
    _, in_h, in_w, in_c = ti.shape
    _, out_h, out_w, _ = to.shape
    stride_h, stride_w = o.get("stride_h", 1), o.get("stride_w", 1)
    dil_h, dil_w = o.get("dilation_h_factor", 1) or 1, o.get("dilation_w_factor", 1) or 1
    in_scale, in_zp = quant_of(ti)
    out_scale, out_zp = quant_of(to)
    mult, shift = per_channel_multipliers(in_scale, tf.quant.scale, out_scale, out_c)
    act_min, act_max = activation_range(o.get("fused_activation_function", "NONE"), out_scale, out_zp)
    return {
        "input": f"(const int8_t *){ctx.ptr(op.inputs[0])}",
        "in_h": in_h, "in_w": in_w, "in_c": in_c, "input_offset": -in_zp,
        "filter": ctx.const(ctx.value(op.inputs[1]), np.int8, "filter"),
        "k_h": k_h, "k_w": k_w, "bias": _bias(ctx, op),
        "output": f"(int8_t *){ctx.ptr(op.outputs[0])}",
        "out_h": out_h, "out_w": out_w, "out_c": out_c, "output_offset": out_zp,
        "stride_h": stride_h, "stride_w": stride_w, "dilation_h": dil_h, "dilation_w": dil_w,
        "pad_top": same_padding(stride_h, dil_h, in_h, k_h, out_h),
        "pad_left": same_padding(stride_w, dil_w, in_w, k_w, out_w),
        "out_multiplier": ctx.const(np.array(mult), np.int32, "mult"),
        "out_shift": ctx.const(np.array(shift), np.int32, "shift"),
        "act_min": act_min, "act_max": act_max,
    }


def _window_overlap(ctx: LowerContext, op: Operator, f: dict, *, per_channel: bool | None = None) -> dict:
    """Conv: pixel-level overlap. Depthwise: only channel-aligned (multiplier 1), else none."""
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if f["dilation_h"] != 1 or f["dilation_w"] != 1 or per_channel is False:
        return {}
    geometry = (ti.shape, to.shape, f["stride_h"], f["stride_w"], f["pad_top"], f["pad_left"])
    if per_channel:
        return {op.inputs[0]: channel_aligned_delta(*geometry, f["in_c"])}
    return {op.inputs[0]: windowed_delta(*geometry, f["in_c"], f["out_c"])}


def lower_conv2d(ctx: LowerContext, op: Operator) -> LayerCode:
    _int8_io(ctx, op)
    out_c, k_h, k_w, f_in_c = ctx.tensor(op.inputs[1]).shape
    if f_in_c != ctx.tensor(op.inputs[0]).shape[-1]:
        raise ctx.refuse(op, "grouped convolution")
    f = _conv_fields(ctx, op, out_c, k_h, k_w)
    # The optimized kernel reads only the packed layout (harness/codegen/pack.py: int16 weights for
    # speed, int8 for size) when the layer qualifies, the reference kernel only the int8 filter:
    # each build holds one copy.
    consts = {c.name: c for c in ctx.consts}
    field = "packed" if ctx.optimize == "speed" else "packed8"
    bias = ctx.value(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    pack = conv_packed if ctx.optimize == "speed" else conv_packed8
    packed = pack(ctx.value(op.inputs[1]), bias, consts[f["out_multiplier"]].values,
                  consts[f["out_shift"]].values, f["output_offset"], f["input_offset"])
    scratch = conv_scratch_bytes(k_h, k_w, f["in_c"], f["pad_top"], f["pad_left"],
                                 int16_packed=packed is not None and field == "packed")
    overlap = _window_overlap(ctx, op, f)
    if packed is not None and field == "packed" and ctx.winograd and winograd_applies(
            k_h, k_w, f["stride_h"], f["stride_w"], f["dilation_h"], f["dilation_w"], f["in_c"], out_c):
        wino = conv_winograd(ctx.value(op.inputs[1]), bias, consts[f["out_multiplier"]].values,
                             consts[f["out_shift"]].values, f["output_offset"], f["input_offset"])
        if wino is not None:
            field, packed, scratch = "wino", wino, winograd_scratch_bytes(f["in_c"])
            ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
            # the reference build (raster order) shares the plan: the lower offset suits both
            tiled = winograd_delta(ti.shape, to.shape, f["pad_top"], f["pad_left"], f["in_c"], out_c)
            overlap = {t: min(delta, tiled) for t, delta in overlap.items()}
    f["scratch"] = "(int16_t *)__S__" if scratch else "NULL"
    if packed is None:
        code = f"const th_conv_params p = {{{c_init(f)}}};\nth_conv2d_s8(&p);"
        return LayerCode(op, code, scratch, overlap)
    consts[f["filter"]].kernels = "reference"
    words = ctx.const(packed, np.int32, "packed", kernels="optimized")
    ref = c_init(f)
    opt = c_init({**f, "filter": "NULL"})
    # a Winograd layer calls its own entry, so builds without one link no Winograd code
    call = "th_opt_conv2d_s8_winograd(&p);" if field == "wino" else "th_conv2d_s8(&p);"
    code = by_kernels(f"const th_conv_params p = {{{ref}, .packed = NULL}};\nth_conv2d_s8(&p);",
                      f"const th_conv_params p = {{{opt}, .{field} = (const uint32_t *){words}}};\n{call}")
    return LayerCode(op, code, scratch, overlap, weights=field)


def lower_depthwise(ctx: LowerContext, op: Operator) -> LayerCode:
    _int8_io(ctx, op)
    _, k_h, k_w, out_c = ctx.tensor(op.inputs[1]).shape
    in_c = ctx.tensor(op.inputs[0]).shape[-1]
    if out_c % in_c:
        raise ctx.refuse(op, "output channels not a multiple of input channels")
    f = _conv_fields(ctx, op, out_c, k_h, k_w)
    scratch = dwconv_scratch_bytes(k_h, k_w, out_c, f["out_w"], f["stride_w"], f["dilation_w"], out_c // in_c,
                                   dilation_h=f["dilation_h"], out_h=f["out_h"], stride_h=f["stride_h"])
    f["scratch"] = "(int16_t *)__S__" if scratch else "NULL"
    code = (f"const th_dwconv_params p = {{.conv = {{{c_init(f)}}}, .depth_multiplier = {out_c // in_c}}};\n"
            "th_dwconv_s8(&p);")
    return LayerCode(op, code, scratch, _window_overlap(ctx, op, f, per_channel=out_c == in_c))


def lower_fully_connected(ctx: LowerContext, op: Operator) -> LayerCode:
    _int8_io(ctx, op)
    ti, tw, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.inputs[1]), ctx.tensor(op.outputs[0])
    out_n, in_n = tw.shape
    batches = int(np.prod(ti.shape)) // in_n
    in_scale, in_zp = quant_of(ti)
    out_scale, out_zp = quant_of(to)
    per_channel = tw.quant.scale.size > 1
    if per_channel:
        mult, shift = per_channel_multipliers(in_scale, tw.quant.scale, out_scale, out_n)
    else:
        m, s = per_tensor_conv_multiplier(in_scale, float(tw.quant.scale[0]), out_scale)
        mult, shift = [m], [s]
    act_min, act_max = activation_range(op.options.get("fused_activation_function", "NONE"), out_scale, out_zp)
    weights, w_off = ctx.value(op.inputs[1]), -int(tw.quant.zero_point[0])
    f = {
        "input": f"(const int8_t *){ctx.ptr(op.inputs[0])}",
        "batches": batches, "in_n": in_n, "out_n": out_n, "input_offset": -in_zp,
        "weights": "__W__",
        "weights_offset": w_off,
        "bias": _bias(ctx, op),
        "output": f"(int8_t *){ctx.ptr(op.outputs[0])}",
        "output_offset": out_zp,
        "out_multiplier": ctx.const(np.array(mult), np.int32, "mult"),
        "out_shift": ctx.const(np.array(shift), np.int32, "shift"),
        "per_channel": int(per_channel), "act_min": act_min, "act_max": act_max,
    }
    # The reference kernel reads the int8 weights; the optimized one only its packed layout
    # (harness/codegen/pack.py: int16 for speed, int8 for size), so each build holds one copy.
    # Asymmetric weights in size mode: the int8 weights as they are, shared by both kernel sets.
    init = c_init(f)
    if ctx.optimize == "size" and w_off != 0:
        code = f"const th_fc_params p = {{{init.replace('__W__', ctx.const(weights, np.int8, 'weights'))}}};"
        return LayerCode(op, f"{code}\nth_fc_s8(&p);")
    ref_w = ctx.const(weights, np.int8, "weights", kernels="reference")
    if ctx.optimize == "speed":
        packed = ctx.const(fc_packed_s16(weights, w_off), np.int16, "packed", kernels="optimized")
        opt = f".packed = {packed}"
    else:
        opt = f".packed8 = {ctx.const(fc_packed_s8(weights), np.int8, 'packed8', kernels='optimized')}"
    code = by_kernels(f"const th_fc_params p = {{{init.replace('__W__', ref_w)}, .packed = NULL}};",
                      f"const th_fc_params p = {{{init.replace('__W__', 'NULL')}, {opt}}};")
    return LayerCode(op, f"{code}\nth_fc_s8(&p);")
