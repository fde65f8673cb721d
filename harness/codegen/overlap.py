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


def windowed_delta(in_shape, out_shape, k_h: int, k_w: int, stride_h: int, stride_w: int, pad_top: int,
                   pad_left: int, in_bytes_per_pixel: int, out_bytes_per_pixel: int) -> int:
    """Conv / depthwise / pooling over NHWC batch 1."""
    _, in_h, in_w, _ = in_shape
    _, out_h, out_w, _ = out_shape
    del k_h, k_w, in_h  # a window's first byte depends on its top-left corner only
    oy, ox = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
    iy = np.clip(oy * stride_h - pad_top, 0, None).ravel()
    ix = np.clip(ox * stride_w - pad_left, 0, None).ravel()
    first_byte = (iy * in_w + np.minimum(ix, in_w - 1)) * in_bytes_per_pixel
    # Lowest input byte any pixel >= q still reads (suffix minimum).
    still_needed = np.minimum.accumulate(first_byte[::-1])[::-1]
    p = np.arange(first_byte.size)
    needed_at_write = still_needed[np.clip(p - MARGIN, 0, None)]
    write_end = (p + 1) * out_bytes_per_pixel
    return _align_down(int(np.min(needed_at_write - write_end)))


def elementwise_delta(in_itemsize: int, out_itemsize: int) -> int:
    """Elementwise kernels read element i before writing element i: in place is safe."""
    return 0 if out_itemsize <= in_itemsize else None
