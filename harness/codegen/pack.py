"""Offline weight layouts of the optimized kernels (the same layouts as firmware/engine/fc_pack.c).

FULLY_CONNECTED: the weights plus their offset, widened to int16, rows in blocks of four (rows past
out_n are zero); per block, the in_n & ~3 inputs in groups of four as 16 values
[r0 w0 w2 w1 w3] [r1 ...] [r2 ...] [r3 ...], then the in_n % 4 leftovers of r0..r3.
"""

from __future__ import annotations

import numpy as np

LANE_ORDER = (0, 2, 1, 3)  # SXTAB16 / SXTAB16 ROR 8 give the input lanes (0,2) and (1,3)


def fc_packed_s16(weights: np.ndarray, weights_offset: int) -> np.ndarray:
    """[out_n, in_n] int8 weights -> the flat int16 packed layout."""
    out_n, in_n = weights.shape
    rows = -(-out_n // 4) * 4
    w = np.zeros((rows, in_n), dtype=np.int16)
    w[:out_n] = weights.astype(np.int16) + np.int16(weights_offset)
    n4 = in_n & ~3
    blocks = w.reshape(rows // 4, 4, in_n)
    groups = blocks[:, :, :n4].reshape(rows // 4, 4, n4 // 4, 4)[..., list(LANE_ORDER)]
    groups = groups.transpose(0, 2, 1, 3).reshape(rows // 4, -1)  # block, group, row, lane
    tails = blocks[:, :, n4:].reshape(rows // 4, -1)
    return np.concatenate([groups, tails], axis=1).ravel()
