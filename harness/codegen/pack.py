"""Offline weight layouts of the optimized kernels (the same layouts as firmware/engine/fc_pack.c
and conv_pack.c; tests/kernels checks that both sides agree).

FULLY_CONNECTED: rows in blocks of four (rows past out_n are zero); per block, the in_n & ~3 inputs
in groups of four, then the in_n % 4 leftovers of r0..r3. `--optimize speed`: the weights plus
their offset widened to int16, each group as 16 values [r0 w0 w2 w1 w3] [r1 ...] [r2 ...] [r3 ...];
`--optimize size`: the int8 bytes, each group as [r0 w0 w1 w2 w3] [r1 ...] [r2 ...] [r3 ...].
"""

from __future__ import annotations

import numpy as np

from harness.codegen.quant import mul_by_quantized_multiplier

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


def fc_packed_s8(weights: np.ndarray) -> np.ndarray:
    """[out_n, in_n] int8 weights -> the flat int8 packed layout (symmetric weights: no offset)."""
    out_n, in_n = weights.shape
    rows = -(-out_n // 4) * 4
    w = np.zeros((rows, in_n), dtype=np.int8)
    w[:out_n] = weights
    n4 = in_n & ~3
    blocks = w.reshape(rows // 4, 4, in_n)
    groups = blocks[:, :, :n4].reshape(rows // 4, 4, n4 // 4, 4).transpose(0, 2, 1, 3).reshape(rows // 4, -1)
    tails = blocks[:, :, n4:].reshape(rows // 4, -1)
    return np.concatenate([groups, tails], axis=1).ravel()


SMALL_LIMIT = 1 << 29  # th_dsp.h TH_DSP_SMALL_ACC_LIMIT


def _channel_quant(bias: int, k: int, mult: int, shift: int, off: int,
                   dot: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(2 * bias, multiplier, bias_e, e) of one channel, as conv_pack.c's channel_quant: None when the
    packed kernel's arithmetic could overflow. A channel whose output is the same for every
    accumulator in [bias + dot[0], bias + dot[1]] (the range its own weights give, within +-D,
    D = K * 255 * 128; multiplier 0, or a huge bias with a
    29-31 bit right shift: VWW's dead channels) becomes bias 0, multiplier 0, e = 1,
    bias_e = 1 + 2 * that output."""
    d = k * 255 * 128
    lo, hi, e = bias + dot[0], bias + dot[1], -shift
    if lo >= -(1 << 31) and hi < 1 << 31 and (mult == 0 or shift <= 0):
        r_lo = mul_by_quantized_multiplier(lo, mult, shift)
        if mult == 0 or r_lo == mul_by_quantized_multiplier(hi, mult, shift):
            out = r_lo + off
            return None if abs(out) >= SMALL_LIMIT else (0, 0, 1 + 2 * out, 1)
    if not 1 <= e <= 31 or abs(bias) >= SMALL_LIMIT:
        return None
    if abs(bias) + d + 1 + (1 << (e - 1)) + abs(off) * (1 << e) >= 1 << 31:
        return None
    return 2 * bias, mult, (1 << (e - 1)) + off * (1 << e), e


def _dot_ranges(filt: np.ndarray, input_offset: int) -> np.ndarray:
    """[out_c, 2]: the least and greatest dot product of each channel, each term w * (x + offset)
    with x in [-128, 127] (a padded tap gives 0, inside that range); conv_pack.c's dot_range."""
    w = filt.reshape(filt.shape[0], -1).astype(np.int64)
    a, b = w * (-128 + input_offset), w * (127 + input_offset)
    return np.stack([np.minimum(a, b).sum(axis=1), np.maximum(a, b).sum(axis=1)], axis=1)


def conv_quant(filt, bias, multiplier, shift, output_offset: int, input_offset: int):
    """Per channel (2 * bias, mult, bias_e, e) arrays, or None when the layer does not pack."""
    out_c = filt.shape[0]
    k = int(np.prod(filt.shape[1:]))
    dots = _dot_ranges(filt, input_offset)
    mult = np.asarray(multiplier, dtype=np.int64).reshape(-1)
    sh = np.asarray(shift, dtype=np.int64).reshape(-1)
    b = np.zeros(out_c, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    if out_c < 2 or out_c % 2 or k < 1 or k * 255 * 128 >= SMALL_LIMIT:
        return None
    quant = [_channel_quant(int(b[c]), k, int(mult[c]), int(sh[c]), int(output_offset),
                            (int(dots[c, 0]), int(dots[c, 1]))) for c in range(out_c)]
    if any(q is None for q in quant):
        return None
    return tuple(np.array(v, dtype=np.int64) for v in zip(*quant, strict=True))


def pair_words(v: np.ndarray) -> np.ndarray:
    """Per-channel int64 values -> [out_c / 2, 2] uint32 words (two's complement)."""
    return (np.asarray(v, dtype=np.int64) & 0xFFFFFFFF).reshape(-1, 2).astype(np.uint32)


def conv_packed8(filt: np.ndarray, bias: np.ndarray | None, multiplier, shift, output_offset: int,
                 input_offset: int) -> np.ndarray | None:
    """CONV_2D's int8 packed layout (--optimize size; th_conv_pack8) as int32 words, or None when the
    layer does not qualify (the same layers as conv_packed). Per pair of output channels: [bias c0,
    bias c1], ceil(K/4) groups of [c0 w0 w1 w2 w3] [c1 w0 w1 w2 w3] (int8 bytes, 0 past K), then the
    six requantization words as in conv_packed."""
    quant = conv_quant(filt, bias, multiplier, shift, output_offset, input_offset)
    if quant is None:
        return None
    bias2, mult, bias_e, e = quant
    out_c = filt.shape[0]
    k = int(np.prod(filt.shape[1:]))
    groups = -(-k // 4)
    w = np.zeros((out_c, groups * 4), dtype=np.int8)
    w[:, :k] = filt.reshape(out_c, k)
    words_w = w.view("<u4").reshape(out_c // 2, 2, groups).transpose(0, 2, 1).reshape(out_c // 2, 2 * groups)
    return channel_pair_stream(bias2 // 2, words_w, mult, bias_e, e)


def conv_packed(filt: np.ndarray, bias: np.ndarray | None, multiplier, shift, output_offset: int,
                input_offset: int) -> np.ndarray | None:
    """CONV_2D's packed layout (th_kernels.h, firmware/engine/conv_pack.c) as int32 words, or None
    when the layer does not qualify (odd out_c, or a channel outside the short requantization).

    Per pair of output channels: [2*bias c0, 2*bias c1], ceil(K/4) groups of four words (the doubled
    weights as int16 lanes: c0 (w0,w2), c1 (w0,w2), c0 (w1,w3), c1 (w1,w3); 0 past K), then [mult c0, mult c1,
    bias_e c0, bias_e c1, e c0, e c1] with e = -shift, bias_e = (1 << (e-1)) + (output_offset << e).
    """
    quant = conv_quant(filt, bias, multiplier, shift, output_offset, input_offset)
    if quant is None:
        return None
    bias2, mult, bias_e, e = quant
    out_c = filt.shape[0]
    k = int(np.prod(filt.shape[1:]))
    return channel_pair_stream(bias2, int16_group_words(2 * filt.reshape(out_c, k).astype(np.int64)), mult, bias_e, e)


def channel_pair_stream(bias, weight_words: np.ndarray, mult, bias_e, e) -> np.ndarray:
    """The conv layouts' stream as int32 words: per pair of output channels [bias c0, bias c1], the
    pair's weight words (a row of `weight_words`), then [mult, bias_e, e] of c0 and c1."""
    words = np.concatenate([pair_words(bias), weight_words, pair_words(mult), pair_words(bias_e), pair_words(e)],
                           axis=1)
    return words.ravel().view(np.int32)


def int16_group_words(w: np.ndarray) -> np.ndarray:
    """[out_c, K] int16-range values -> [out_c / 2, 4 * ceil(K / 4)] words, per group of four:
    c0 (w0,w2), c1 (w0,w2), c0 (w1,w3), c1 (w1,w3) as (lo, hi) int16 pairs; 0 past K."""
    out_c, k = w.shape
    groups = -(-k // 4)
    padded = np.zeros((out_c, groups * 4), dtype=np.int64)
    padded[:, :k] = w
    lanes = padded.reshape(out_c, groups, 4)[..., list(LANE_ORDER)]  # lanes w0 w2 w1 w3
    # [pair, channel, group, lane word, 2] -> [pair, group, lane word, channel, 2]
    lanes = lanes.reshape(out_c // 2, 2, groups, 2, 2).transpose(0, 2, 3, 1, 4).reshape(out_c // 2, groups * 8)
    lanes16 = (lanes & 0xFFFF).astype(np.uint32)
    return lanes16[:, 0::2] | (lanes16[:, 1::2] << np.uint32(16))
