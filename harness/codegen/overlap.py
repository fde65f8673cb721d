"""How far a layer's output may overlap its own input (when that input dies at the layer).

Kernels walk output pixels in raster order. Writing output pixel p must not clobber input that
pixel p or any later pixel still reads; windowed kernels also get a margin of MARGIN pixels, so
an implementation may compute a few pixels together (read all, then write all). The result is
the lowest allowed offset of the output's start relative to the input's start, in bytes
(negative: the output may begin before the input), rounded down to 16 bytes for alignment.
"""

from __future__ import annotations

import numpy as np

MARGIN = 4  # output pixels a kernel may compute together


def _align_down(n: int) -> int:
    return n // 16 * 16


def _still_needed(in_shape, out_shape, stride_h: int, stride_w: int, pad_top: int, pad_left: int) -> np.ndarray:
    """For each output pixel p (raster order): the lowest input pixel index read by pixels >= p - MARGIN."""
    _, _, in_w, _ = in_shape
    _, out_h, out_w, _ = out_shape
    oy, ox = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
    iy = np.clip(oy * stride_h - pad_top, 0, None).ravel()
    ix = np.clip(ox * stride_w - pad_left, 0, in_w - 1).ravel()
    first_pixel = iy * in_w + ix  # a window's first input pixel: its clipped top-left corner
    suffix_min = np.minimum.accumulate(first_pixel[::-1])[::-1]
    return suffix_min[np.clip(np.arange(first_pixel.size) - MARGIN, 0, None)]


def windowed_delta(in_shape, out_shape, stride_h: int, stride_w: int, pad_top: int, pad_left: int,
                   in_bytes_per_pixel: int, out_bytes_per_pixel: int) -> int:
    """Conv / pooling over NHWC batch 1: whole output pixels must not reach input still to be read."""
    needed = _still_needed(in_shape, out_shape, stride_h, stride_w, pad_top, pad_left) * in_bytes_per_pixel
    write_end = (np.arange(needed.size) + 1) * out_bytes_per_pixel
    return _align_down(int(np.min(needed - write_end)))


def winograd_delta(in_shape, out_shape, pad_top: int, pad_left: int, in_bytes_per_pixel: int,
                   out_bytes_per_pixel: int, tiles_per_pass: int = 3) -> int:
    """conv_winograd.c: passes of `tiles_per_pass` 2 x 2 output tiles in raster tile order; a pass
    reads its tiles' 4 x 4 patches, then writes their outputs (two rows at once). What a pass writes
    must not reach input that a later pass reads."""
    _, _, in_w, _ = in_shape
    _, out_h, out_w, _ = out_shape
    tiles_w = (out_w + 1) // 2
    ty, tx = np.divmod(np.arange(tiles_w * ((out_h + 1) // 2)), tiles_w)
    iy = np.clip(2 * ty - pad_top, 0, None)
    ix = np.clip(2 * tx - pad_left, 0, in_w - 1)
    first_read = iy * in_w + ix  # a patch's first input pixel: its clipped top-left corner
    last_written = np.minimum(2 * ty + 1, out_h - 1) * out_w + np.minimum(2 * tx + 1, out_w - 1)
    starts = np.arange(0, first_read.size, tiles_per_pass)  # each pass's first tile
    written = np.maximum.accumulate(np.maximum.reduceat(last_written, starts))  # up to and with pass k
    first_of_pass = np.minimum.reduceat(first_read, starts)
    # what passes after pass k read first (nothing after the last: the input's end)
    read_later = np.append(np.minimum.accumulate(first_of_pass[::-1])[::-1][1:], in_shape[1] * in_w)
    return _align_down(int(np.min(read_later * in_bytes_per_pixel - (written + 1) * out_bytes_per_pixel)))


def channel_aligned_delta(in_shape, out_shape, stride_h: int, stride_w: int, pad_top: int, pad_left: int,
                          channels: int) -> int:
    """Depthwise (multiplier 1): output pixel p lies exactly over input pixel p + k (k <= 0), so each
    channel only ever overwrites its own input; the condition is per channel, in pixels."""
    needed = _still_needed(in_shape, out_shape, stride_h, stride_w, pad_top, pad_left)
    k = int(np.min(needed - np.arange(needed.size) - 1))
    while (k * channels) % 16:
        k -= 1
    return k * channels


def elementwise_delta(in_itemsize: int, out_itemsize: int) -> int:
    """Elementwise kernels read element i before writing element i: in place is safe."""
    return 0 if out_itemsize <= in_itemsize else None
