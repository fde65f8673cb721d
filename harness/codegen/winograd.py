"""CONV_2D's Winograd layout (--optimize speed): the same layers' packed layout (pack.py) with the
filters transformed for firmware/engine/conv_winograd.c.

Winograd F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016)
in integers: with twice G the filter transform has integer entries (|U| <= 9 * 128), the input
transform B^T d B adds four inputs (|V| <= 4 * 255) and the outputs come out four times the
convolution's, exactly, so the kernel stays bit-exact. 16 multiplies per 2 x 2 outputs, not 36.
"""

from __future__ import annotations

import numpy as np

from harness.codegen.pack import channel_pair_stream, conv_quant, int16_group_words

WINO_G2 = np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]], dtype=np.int64)
WINO_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.int64)
WINO_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.int64)
WINO_V_BOUND = 4 * 255  # |B^T d B| with d = x + input_offset in [-255, 255]


def winograd_applies(k_h: int, k_w: int, stride_h: int, stride_w: int, dilation_h: int, dilation_w: int,
                     in_c: int, out_c: int) -> bool:
    """Layers conv_winograd.c takes (with a layout from conv_winograd): 3x3, stride 1, no dilation,
    whole groups of four input channels, channel pairs."""
    return ((k_h, k_w, stride_h, stride_w, dilation_h, dilation_w) == (3, 3, 1, 1, 1, 1)
            and in_c % 4 == 0 and out_c % 2 == 0)


def winograd_filters(filt: np.ndarray) -> np.ndarray:
    """[out_c, 3, 3, in_c] -> U = (2G) g (2G)^T as [out_c, 16, in_c] (position 4 * row + column)."""
    u = np.einsum("ik,oklc,jl->oijc", WINO_G2, filt.astype(np.int64), WINO_G2)
    return u.reshape(filt.shape[0], 16, filt.shape[3])


def _winograd_fits(u: np.ndarray, bias2: np.ndarray) -> bool:
    """Every partial sum of the kernel (SMLAD accumulators, output transform) fits 32 bits: each
    output of the 4x sum adds the 9 positions its A^T row and column select."""
    m_bound = WINO_V_BOUND * np.abs(u).sum(axis=2)  # [out_c, 16]
    select = np.einsum("ai,bj->abij", WINO_AT != 0, WINO_AT != 0).reshape(4, 16)
    y_bound = (m_bound @ select.T.astype(np.int64)).max(axis=1)
    return bool(np.all(y_bound < (1 << 31)) and np.all(y_bound // 2 + np.abs(bias2) < (1 << 31)))


def conv_winograd(filt: np.ndarray, bias: np.ndarray | None, multiplier, shift, output_offset: int,
                  input_offset: int) -> np.ndarray | None:
    """CONV_2D's Winograd layout (--optimize speed, conv_winograd.c) as int32 words, or None when the
    layer does not qualify (the packed layout's requantization, and 32-bit partial sums). Per pair
    of output channels: [2*bias c0, 2*bias c1], then per transform position (16) the in_c / 4
    groups of U as conv_packed lays out weights (not doubled: the kernel halves its 4x sums),
    then [mult, bias_e, e] of c0 and c1 as in conv_packed."""
    quant = conv_quant(filt, bias, multiplier, shift, output_offset, input_offset)
    if quant is None:
        return None
    bias2, mult, bias_e, e = quant
    u = winograd_filters(filt)
    if not _winograd_fits(u, bias2):
        return None
    words_w = np.concatenate([int16_group_words(u[:, xi, :]) for xi in range(16)], axis=1)
    return channel_pair_stream(bias2, words_w, mult, bias_e, e)
