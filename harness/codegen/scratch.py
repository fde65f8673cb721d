"""Scratch bytes of the heavy kernels: the same formulas as firmware/engine/scratch.c.

The plan is static, so the harness must know these sizes without running C; the host test
bench checks that both sides agree for every layer it builds.
"""


def conv_scratch_bytes(k_h: int, k_w: int, in_c: int, pad_top: int, pad_left: int) -> int:
    # 1x1 convs could read the input in place, but two widened columns let them use the faster
    # 2x2 SMLAD loop (KWS pointwise: 1.37 instead of 1.88 instructions/MAC) for a few hundred bytes.
    k4 = -(-k_h * k_w * in_c // 4) * 4  # K rounded up to a group of four (the packed path's im2col)
    return 2 * k4 * 2  # two int16 im2col columns


def dwconv_scratch_bytes(k_h: int, k_w: int, out_c: int, out_w: int, stride_w: int, dilation_w: int,
                         depth_multiplier: int) -> int:
    if depth_multiplier != 1 or out_c % 4 or k_h > 16:
        return 0
    padded_width = (out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1
    return 8 * k_h * (k_w + padded_width)  # widened filter group + k_h widened input rows
