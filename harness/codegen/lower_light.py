"""Lowering of the light ops (pooling, elementwise, reductions, activations, data movement)."""

from __future__ import annotations

import numpy as np

from harness.codegen.context import LayerCode, LowerContext, c_init, int_list, quant_of
from harness.codegen.lower_heavy import same_padding
from harness.codegen.overlap import elementwise_delta, windowed_delta
from harness.codegen.quant import (
    INT8_MAX,
    INT8_MIN,
    activation_range,
    add_params,
    float32_hex,
    logistic_params,
    mean_multiplier,
    quantize_f32,
    quantize_multiplier,
    softmax_params,
)
from harness.model import Operator


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _pad4(shape) -> list[int]:
    shape = list(shape)
    return [1] * (4 - len(shape)) + shape


def _require_int8(ctx: LowerContext, op: Operator, tensors) -> None:
    for t in tensors:
        tensor = ctx.tensor(t)
        if tensor.dtype != np.int8 or tensor.quant is None:
            raise ctx.refuse(op, f"{tensor.dtype} tensor {tensor.name!r}; only int8 is supported")


def _in(ctx, op, k=0) -> str:
    return f"(const int8_t *){ctx.ptr(op.inputs[k])}"


def _out(ctx, op) -> str:
    return f"(int8_t *){ctx.ptr(op.outputs[0])}"


def _in_place(ctx: LowerContext, op: Operator) -> dict[int, int]:
    delta = elementwise_delta(ctx.tensor(op.inputs[0]).dtype.itemsize, ctx.tensor(op.outputs[0]).dtype.itemsize)
    return {} if delta is None else {op.inputs[0]: delta}


def lower_pool(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    o = op.options
    b, in_h, in_w, ch = ti.shape
    _, out_h, out_w, _ = to.shape
    fh, fw, sh, sw = o["filter_height"], o["filter_width"], o["stride_h"], o["stride_w"]
    out_scale, out_zp = quant_of(to)
    act_min, act_max = activation_range(o.get("fused_activation_function", "NONE"), out_scale, out_zp)
    f = {"input": _in(ctx, op), "batches": b, "in_h": in_h, "in_w": in_w, "channels": ch,
         "output": _out(ctx, op), "out_h": out_h, "out_w": out_w, "filter_h": fh, "filter_w": fw,
         "stride_h": sh, "stride_w": sw, "pad_top": same_padding(sh, 1, in_h, fh, out_h),
         "pad_left": same_padding(sw, 1, in_w, fw, out_w), "act_min": act_min, "act_max": act_max}
    fn = "th_maxpool_s8" if op.op == "MAX_POOL_2D" else "th_avgpool_s8"
    overlap = {} if b != 1 else {op.inputs[0]: windowed_delta(ti.shape, to.shape, sh, sw, f["pad_top"],
                                                              f["pad_left"], ch, ch)}
    return LayerCode(op, f"const th_pool_params p = {{{c_init(f)}}};\n{fn}(&p);", overlap=overlap)


def broadcast_strides(out_shape, *in_shapes) -> tuple[list[int], list[list[int]]]:
    """Output dims and per-input element strides (0 where broadcast), merged down to 4 dims."""
    rank = max(len(out_shape), 1)
    dims = [1] * (rank - len(out_shape)) + list(out_shape)
    strides = []
    for shape in in_shapes:
        shape = [1] * (rank - len(shape)) + list(shape)
        s, acc = [0] * rank, 1
        for d in reversed(range(rank)):
            s[d] = 0 if shape[d] == 1 and dims[d] != 1 else acc
            acc *= shape[d]
        strides.append(s)
    keep = [d for d in range(rank) if dims[d] != 1]  # unit dims move nothing
    dims = [dims[d] for d in keep]
    strides = [[s[d] for d in keep] for s in strides]
    # Merge neighbours that every input walks contiguously (or broadcasts over entirely).
    d = len(dims) - 1
    while d > 0:
        if all(s[d - 1] == s[d] * dims[d] for s in strides):
            dims[d - 1] *= dims[d]
            del dims[d]
            for s in strides:
                s[d - 1] = s[d]
                del s[d]
        d -= 1
    if len(dims) > 4:
        raise ValueError("broadcast over more than 4 independent dims")
    pad = 4 - len(dims)
    return [1] * pad + dims, [[0] * pad + s for s in strides]


def lower_binary(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.inputs[1], op.outputs[0]])
    t1, t2, to = (ctx.tensor(t) for t in (op.inputs[0], op.inputs[1], op.outputs[0]))
    try:
        dims, (s1, s2) = broadcast_strides(to.shape, t1.shape, t2.shape)
    except ValueError as e:
        raise ctx.refuse(op, str(e)) from e
    (sc1, zp1), (sc2, zp2), (sco, zpo) = quant_of(t1), quant_of(t2), quant_of(to)
    act_min, act_max = activation_range(op.options.get("fused_activation_function", "NONE"), sco, zpo)
    f = {"input1": _in(ctx, op, 0), "input2": _in(ctx, op, 1), "output": _out(ctx, op),
         "dims": int_list(dims), "stride1": int_list(s1), "stride2": int_list(s2),
         "input1_offset": -zp1, "input2_offset": -zp2, "output_offset": zpo}
    if op.op == "ADD":
        params = add_params(sc1, sc2, sco, zp1, zp2)
        f.update(input1_lut=ctx.const(np.array(params["luts"][0]), np.int32, "lut1"),
                 input2_lut=ctx.const(np.array(params["luts"][1]), np.int32, "lut2"),
                 output_multiplier=params["output_multiplier"], output_shift=params["output_shift"])
        fn = "th_add_s8"
    else:
        m, s = quantize_multiplier(sc1 * sc2 / sco)
        f.update(output_multiplier=m, output_shift=s)
        fn = "th_mul_s8"
    f.update(act_min=act_min, act_max=act_max)
    overlap = {t: 0 for t in op.inputs[:2] if ctx.tensor(t).shape == to.shape}
    return LayerCode(op, f"const th_binary_params p = {{{c_init(f)}}};\n{fn}(&p);", overlap=overlap)


def lower_mean(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if len(ti.shape) > 4:
        raise ctx.refuse(op, "more than 4 dims")
    rank = len(ti.shape)
    axes = {int(a) % rank for a in np.atleast_1d(ctx.value(op.inputs[1]))}
    reduce = [0] * (4 - rank) + [int(d in axes) for d in range(rank)]
    (in_s, in_zp), (out_s, out_zp) = quant_of(ti), quant_of(to)
    count = _numel([ti.shape[d] for d in axes])
    multiplier, shift = mean_multiplier(in_s / out_s, count)
    f = {"input": _in(ctx, op), "output": _out(ctx, op), "dims": int_list(_pad4(ti.shape)),
         "reduce": int_list(reduce), "input_zero_point": in_zp, "output_zero_point": out_zp,
         "multiplier": multiplier, "shift": shift}
    return LayerCode(op, f"const th_mean_params p = {{{c_init(f)}}};\nth_mean_s8(&p);")


def lower_pad(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if len(ti.shape) > 4:
        raise ctx.refuse(op, "more than 4 dims")
    paddings = np.asarray(ctx.value(op.inputs[1])).reshape(-1, 2)
    before = [0] * (4 - len(ti.shape)) + [int(p) for p in paddings[:, 0]]
    pad_value = quant_of(to)[1]
    if op.op == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        pad_value = int(np.asarray(ctx.value(op.inputs[2])).ravel()[0])
    f = {"input": _in(ctx, op), "output": _out(ctx, op), "in_dims": int_list(_pad4(ti.shape)),
         "out_dims": int_list(_pad4(to.shape)), "before": int_list(before), "pad_value": pad_value}
    return LayerCode(op, f"const th_pad_params p = {{{c_init(f)}}};\nth_pad_s8(&p);")


def lower_concat(ctx: LowerContext, op: Operator) -> LayerCode:
    to = ctx.tensor(op.outputs[0])
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ctx.refuse(op, "fused activation")
    if to.quant is not None and any(quant_of(ctx.tensor(t)) != quant_of(to) for t in op.inputs):
        raise ctx.refuse(op, "inputs quantized differently from the output")
    axis = op.options.get("axis", 0) % len(to.shape)
    outer = _numel(to.shape[:axis])
    chunks = [_numel(ctx.tensor(t).shape[axis:]) * to.dtype.itemsize for t in op.inputs]
    ptrs = ", ".join(ctx.ptr(t) for t in op.inputs)
    code = (f"const void *const in[] = {{{ptrs}}};\nstatic const int32_t chunk[] = {int_list(chunks)};\n"
            f"th_concat(in, chunk, {len(chunks)}, {outer}, {ctx.ptr(op.outputs[0])});")
    return LayerCode(op, code)


def _check_prob_output(ctx: LowerContext, op: Operator) -> None:
    scale, zp = quant_of(ctx.tensor(op.outputs[0]))
    if zp != -128 or abs(scale * 256 - 1) > 1e-3:
        raise ctx.refuse(op, "int8 output must have scale 1/256 and zero point -128")


def lower_softmax(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    _check_prob_output(ctx, op)
    ti = ctx.tensor(op.inputs[0])
    mult, shift, diff_min = softmax_params(op.options.get("beta", 1.0), quant_of(ti)[0])
    depth = ti.shape[-1]
    f = {"input": _in(ctx, op), "output": _out(ctx, op), "outer": _numel(ti.shape) // depth, "depth": depth,
         "input_multiplier": mult, "input_left_shift": shift, "diff_min": diff_min}
    return LayerCode(op, f"const th_softmax_params p = {{{c_init(f)}}};\nth_softmax_s8(&p);")


def lower_logistic(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    _check_prob_output(ctx, op)
    ti = ctx.tensor(op.inputs[0])
    scale, zp = quant_of(ti)
    mult, shift, radius = logistic_params(scale)
    f = {"input": _in(ctx, op), "output": _out(ctx, op), "size": _numel(ti.shape), "input_zero_point": zp,
         "input_range_radius": radius, "input_multiplier": mult, "input_left_shift": shift}
    return LayerCode(op, f"const th_logistic_params p = {{{c_init(f)}}};\nth_logistic_s8(&p);",
                     overlap=_in_place(ctx, op))


def _requant(ctx: LowerContext, op: Operator, act_min: int, act_max: int, fn: str = "th_requantize_s8") -> LayerCode:
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    (in_s, in_zp), (out_s, out_zp) = quant_of(ti), quant_of(to)
    m, s = quantize_multiplier(in_s / out_s)
    f = {"input": _in(ctx, op), "output": _out(ctx, op), "size": _numel(ti.shape), "input_zero_point": in_zp,
         "output_zero_point": out_zp, "multiplier": m, "shift": s, "act_min": act_min, "act_max": act_max}
    return LayerCode(op, f"const th_requant_params p = {{{c_init(f)}}};\n{fn}(&p);", overlap=_in_place(ctx, op))


def lower_relu(ctx: LowerContext, op: Operator) -> LayerCode:
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    out_s, out_zp = quant_of(ctx.tensor(op.outputs[0]))
    return _requant(ctx, op, max(INT8_MIN, quantize_f32(0.0, out_s, out_zp)), INT8_MAX)


def lower_relu6(ctx: LowerContext, op: Operator) -> LayerCode:
    """TFLM clamps RELU6 in the input's quantization and does not rescale."""
    _require_int8(ctx, op, [op.inputs[0], op.outputs[0]])
    ti = ctx.tensor(op.inputs[0])
    scale, zp = quant_of(ti)
    six = min(INT8_MAX, max(INT8_MIN, quantize_f32(6.0, scale, zp)))
    return LayerCode(op, f"th_clamp_s8({_in(ctx, op)}, {_out(ctx, op)}, {_numel(ti.shape)}, {zp}, {six});",
                     overlap=_in_place(ctx, op))


def lower_quantize(ctx: LowerContext, op: Operator) -> LayerCode:
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    if ti.dtype == np.uint8 and to.dtype == np.int8 and ti.quant is not None:
        return _requant(ctx, op, INT8_MIN, INT8_MAX, "th_requantize_u8_s8")
    if ti.dtype == np.int8 and to.dtype == np.uint8 and to.quant is not None:
        _require_int8(ctx, op, [op.inputs[0]])
        return _requant(ctx, op, 0, 255, "th_requantize_s8_u8")
    _require_int8(ctx, op, [op.outputs[0]])
    if ti.dtype == np.float32:
        scale, zp = quant_of(to)
        return LayerCode(op, f"th_quantize_f32_s8((const float *){ctx.ptr(op.inputs[0])}, {_out(ctx, op)}, "
                             f"{_numel(ti.shape)}, {float32_hex(scale)}, {zp});", overlap=_in_place(ctx, op))
    _require_int8(ctx, op, [op.inputs[0]])
    return _requant(ctx, op, INT8_MIN, INT8_MAX)


def lower_dequantize(ctx: LowerContext, op: Operator) -> LayerCode:
    ti, to = ctx.tensor(op.inputs[0]), ctx.tensor(op.outputs[0])
    _require_int8(ctx, op, [op.inputs[0]])
    if to.dtype != np.float32:
        raise ctx.refuse(op, f"output {to.dtype}; only float32")
    scale, zp = quant_of(ti)
    return LayerCode(op, f"th_dequantize_s8_f32({_in(ctx, op)}, (float *){ctx.ptr(op.outputs[0])}, "
                         f"{_numel(ti.shape)}, {float32_hex(scale)}, {zp});")


def lower_copy(ctx: LowerContext, op: Operator) -> LayerCode:
    """A RESHAPE that cannot be an alias (its output is a graph output): copy the bytes."""
    nbytes = ctx.tensor(op.outputs[0]).nbytes
    return LayerCode(op, f"memcpy({ctx.ptr(op.outputs[0])}, {ctx.ptr(op.inputs[0])}, {nbytes});")
