"""Scratch bytes of the heavy kernels: the same formulas as firmware/engine/scratch.c.

The plan is static, so the harness must know these sizes without running C; the host test
bench checks that both sides agree for every layer it builds.
"""


def conv_scratch_bytes(k_h: int, k_w: int, in_c: int, pad_top: int, pad_left: int, *,
                       int16_packed: bool = False) -> int:
    # 1x1 convs could read the input in place, but widened columns let them use the faster SMLAD
    # loops (KWS pointwise: 1.37 instead of 1.88 instructions/MAC with two) for a few hundred bytes.
    k4 = -(-k_h * k_w * in_c // 4) * 4  # K rounded up to a group of four (the packed path's im2col)
    return (3 if int16_packed else 2) * k4 * 2  # int16 im2col columns: three pixels for the 3x2 loop


def winograd_scratch_bytes(in_c: int) -> int:
    """conv_winograd.c: V (16 positions x in_c / 4 groups x 6 words) and the 16 x 6 sums."""
    return 96 * in_c + 384


def dw3_window_rows(out_w: int, stride_w: int, out_h: int, stride_h: int) -> int:
    """The input rows (padding ones too) dwconv3x3.c's layer reads: image rows, or columns when walked
    transposed. At most 8: its planes hold them all (one call a group); else 6 (calls of four rows)."""
    if dw3_transposed(out_w, stride_w, out_h, stride_h):
        return (out_w - 1) * stride_w + 3
    return (out_h - 1) * stride_h + 3


def _dw3_row_fits(n_out: int) -> bool:
    return 8 <= n_out < 62


def dw3_transposed(out_w: int, stride_w: int, out_h: int, stride_h: int) -> bool:
    """Whether dwconv3x3.c walks the layer transposed (rows too short, columns long enough)."""
    return not (stride_w == 1 and _dw3_row_fits(out_w)) and stride_h == 1 and _dw3_row_fits(out_h)


def dw3_applies(k_h: int, k_w: int, out_c: int, out_w: int, stride_w: int, dilation_h: int, dilation_w: int,
                depth_multiplier: int, out_h: int = 0, stride_h: int = 0) -> bool:
    """Whether firmware/engine/dwconv3x3.c takes the layer (th_dw3_applies)."""
    return (depth_multiplier == 1 and (k_h, k_w, dilation_h, dilation_w) == (3, 3, 1, 1) and out_c % 4 == 0
            and (dw3_transposed(out_w, stride_w, out_h, stride_h) or (stride_w == 1 and out_w + 2 < 64)))


def dwconv_scratch_bytes(k_h: int, k_w: int, out_c: int, out_w: int, stride_w: int, dilation_w: int,
                         depth_multiplier: int, dilation_h: int = 1, out_h: int = 0, stride_h: int = 0) -> int:
    if dw3_applies(k_h, k_w, out_c, out_w, stride_w, dilation_h, dilation_w, depth_multiplier, out_h, stride_h):
        # four int16 planes of that many 128-byte rows; a transposed walk of several calls also keeps
        # one group's output (4 channels) until the group's input is read
        window = dw3_window_rows(out_w, stride_w, out_h, stride_h)
        group_output = dw3_transposed(out_w, stride_w, out_h, stride_h) and window > 8
        return 4 * (window if window <= 8 else 6) * 128 + (4 * out_h * out_w if group_output else 0)
    if depth_multiplier != 1 or out_c % 4 or k_h > 16:
        return 0
    padded_width = (out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1
    return 8 * k_h * (k_w + padded_width)  # widened filter group + k_h widened input rows
