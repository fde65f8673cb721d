/* im2col for the optimized CONV_2D (opt_conv.c, conv_packed.c): two or three output pixels' receptive
 * fields widened to int16 with the input offset added, interleaved group by group of four values
 * (th_col_layout: [A0 A2 A1 A3 B0 B2 B1 B3] for pairs, [A0 A2 B0 B2 C0 C2 A1 A3 B1 B3 C1 C3] for
 * triples; the lanes SXTB16 / SXTB16 ROR 8 give the weights), padding taps 0.
 *
 * Cycle budget (Cortex-M4 TRM, DDI 0439: LDR 2, or 1 when it follows another load; STR 1; SXTAB16
 * 1): with in_c % 4 == 0 a group of four values costs LDR + 2 SXTAB16 + 2 STR, about 5 cycles, and is
 * read back by the multiply loop once per output channel pair; for IC's 16->16 3x3 layer that is 36
 * groups x 5 = 180 cycles per pixel against 2304 MACs, under 0.1 cycle/MAC. First layers (in_c 1 or
 * 3) gather the field as bytes first (word copies of each kernel row), then widen four at a time. */
#include "th_conv_internal.h"

/* Interleaved-buffer writer for one pixel when groups of four straddle taps: a cursor walks each
 * group's lanes (0 and 2 in the first word, 1 and 3 in the word `gap` later), then the K % 4 tail. */
typedef struct {
  int16_t *group, *tail;
  int32_t lane, left_in_groups, gap, step; /* gap, step: th_col_layout's, in words */
} col_cursor;

TH_INLINE void cursor_put(col_cursor *cur, int16_t v) {
  if (cur->left_in_groups > 0) {
    cur->group[((cur->lane & 1) ? 2 * cur->gap : 0) + (cur->lane >> 1)] = v;
    --cur->left_in_groups;
    if (++cur->lane == 4) {
      cur->lane = 0;
      cur->group += 2 * cur->step;
    }
  } else {
    *cur->tail++ = v;
  }
}

/* Four consecutive values at a group boundary: straight into the group as two words. */
TH_INLINE void cursor_put_word(col_cursor *cur, uint32_t offset2, uint32_t w) {
  uint32_t *dst = (uint32_t *)(void *)cur->group;
  dst[0] = th_sxtab16(offset2, w);
  dst[cur->gap] = th_sxtab16_ror8(offset2, w);
  cur->group += 2 * cur->step;
  cur->left_in_groups -= 4;
}

/* n consecutive input bytes (or zeros when src is NULL) through the cursor: single values up to
 * a group boundary, then whole groups as words, then the rest. */
static void cursor_put_run(col_cursor *cur, const int8_t *src, int32_t n, int32_t offset, uint32_t offset2) {
  for (; n > 0 && cur->lane != 0; --n) cursor_put(cur, src ? (int16_t)(*src++ + offset) : 0);
  for (; n >= 4 && cur->left_in_groups >= 4; n -= 4) {
    if (src) {
      cursor_put_word(cur, offset2, th_read_u32(src));
      src += 4;
    } else {
      uint32_t *dst = (uint32_t *)(void *)cur->group;
      dst[0] = dst[cur->gap] = 0;
      cur->group += 2 * cur->step;
      cur->left_in_groups -= 4;
    }
  }
  for (; n > 0; --n) cursor_put(cur, src ? (int16_t)(*src++ + offset) : 0);
}

/* `padded`: the packed layout's im2col, where the K % 4 leftovers fill a last group (its unused
 * lanes 0) instead of the tail after the groups. */
static void im2col_straddling(const th_conv_params *p, int32_t y0, int32_t x0, int32_t pix, th_col_layout lay,
                              int16_t *col, int padded) {
  const int32_t in_c = p->in_c, k = p->k_h * p->k_w * in_c, k4 = k & ~3;
  const int32_t offset = p->input_offset;
  const uint32_t offset2 = th_pack16(offset, offset);
  col_cursor cur = {col + 2 * lay.first, col + 2 * k4 + pix * (k - k4), 0, padded ? (k + 3) & ~3 : k4,
                    lay.gap, lay.group};
  /* With dilation_w 1 a kernel row's in-range taps [kx_lo, kx_hi) are one contiguous run. */
  int32_t kx_lo = 0, kx_hi = p->k_w;
  if (p->dilation_w == 1) {
    kx_lo = x0 < 0 ? -x0 : 0;
    kx_hi = p->in_w - x0 < p->k_w ? p->in_w - x0 : p->k_w;
    if (kx_lo > p->k_w) kx_lo = p->k_w;
    if (kx_hi < kx_lo) kx_hi = kx_lo;
  }
  for (int32_t ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = y0 + ky * p->dilation_h;
    if (iy < 0 || iy >= p->in_h) {
      cursor_put_run(&cur, NULL, p->k_w * in_c, offset, offset2);
      continue;
    }
    const int8_t *row = p->input + (size_t)iy * p->in_w * in_c;
    if (p->dilation_w == 1) {
      cursor_put_run(&cur, NULL, kx_lo * in_c, offset, offset2);
      cursor_put_run(&cur, row + (size_t)(x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c, offset, offset2);
      cursor_put_run(&cur, NULL, (p->k_w - kx_hi) * in_c, offset, offset2);
      continue;
    }
    for (int32_t kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = x0 + kx * p->dilation_w;
      const int inside = ix >= 0 && ix < p->in_w;
      cursor_put_run(&cur, inside ? row + (size_t)ix * in_c : NULL, in_c, offset, offset2);
    }
  }
  while (padded && cur.lane != 0) cursor_put(&cur, 0);
}

/* `pix` places the K % 4 tail (padded 0, pairs only). */
static void im2col_at(const th_conv_params *p, int32_t oy, int32_t ox, int32_t pix, th_col_layout lay, int16_t *col,
                      int padded) {
  const int32_t in_c = p->in_c;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t y0 = oy * p->stride_h - p->pad_top;
  const int32_t x0 = ox * p->stride_w - p->pad_left;
  if ((in_c & 3) == 0) {
    /* Groups of four stay inside one tap: widen straight into the reordered layout. */
    uint32_t *dst = (uint32_t *)(void *)col + lay.first;
    /* Whole kernel rows inside the input are one contiguous run of bytes (dilation_w 1). */
    const int rows_contiguous = p->dilation_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const int32_t row_groups = p->k_w * in_c / 4;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = y0 + ky * p->dilation_h;
      if (rows_contiguous && iy >= 0 && iy < p->in_h) {
        const int8_t *src = p->input + ((size_t)iy * p->in_w + x0) * in_c;
        for (int32_t g = 0; g < row_groups; ++g, src += 4, dst += lay.group) {
          const uint32_t w = th_read_u32(src);
          dst[0] = th_sxtab16(offset2, w);
          dst[lay.gap] = th_sxtab16_ror8(offset2, w);
        }
        continue;
      }
      for (int32_t kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = x0 + kx * p->dilation_w;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
          for (int32_t c = 0; c < in_c; c += 4, dst += lay.group) dst[0] = dst[lay.gap] = 0;
          continue;
        }
        const int8_t *src = p->input + ((size_t)iy * p->in_w + ix) * in_c;
        for (int32_t c = 0; c < in_c; c += 4, dst += lay.group) {
          const uint32_t w = th_read_u32(src + c);
          dst[0] = th_sxtab16(offset2, w);
          dst[lay.gap] = th_sxtab16_ror8(offset2, w);
        }
      }
    }
    return;
  }
  im2col_straddling(p, y0, x0, pix, lay, col, padded);
}

void th_conv_im2col_pixel(const th_conv_params *p, int32_t oy, int32_t ox, int32_t pix, int16_t *col,
                          int padded) {
  im2col_at(p, oy, ox, pix, th_col_pairs(pix), col, padded);
}

#define GATHER_MAX 256 /* receptive fields up to this many values take the byte gather below */
/* The runs are a few bytes long: TH_NO_LIBCALLS keeps GCC from turning the loops into memcpy /
 * memset calls. */

/* Bytes [src, src + n) to dst, words first (unaligned LDR/STR). */
TH_INLINE int8_t *copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, src += 4, dst += 4) th_write_u32(dst, th_read_u32(src));
  for (; n > 0; --n) *dst++ = *src++;
  return dst;
}

TH_INLINE int8_t *fill_bytes(int8_t *dst, int8_t v, int32_t n) {
  for (; n > 0; --n) *dst++ = v;
  return dst;
}

/* im2col of a pixel whose groups of four straddle taps (in_c % 4 != 0, e.g. first layers with 1 or 3
 * channels): the receptive field is first gathered as bytes, padding taps and the lanes past K as
 * the byte -input_offset (which widens to 0), then widened four at a time like the in_c % 4 == 0
 * path. Row runs are plain byte copies instead of the cursor's per-value placement. */
TH_NO_LIBCALLS static void im2col_gather(const th_conv_params *p, int32_t y0, int32_t x0, th_col_layout lay,
                                         int16_t *col) {
  uint32_t words[GATHER_MAX / 4];
  int8_t *buf = (int8_t *)(void *)words, *d = buf;
  const int32_t in_c = p->in_c, k = p->k_h * p->k_w * in_c, row_bytes = p->k_w * in_c;
  const int8_t pad = (int8_t)-p->input_offset;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  int32_t kx_lo = 0, kx_hi = p->k_w;
  if (p->dilation_w == 1) {
    kx_lo = x0 < 0 ? -x0 : 0;
    kx_hi = p->in_w - x0 < p->k_w ? p->in_w - x0 : p->k_w;
    if (kx_lo > p->k_w) kx_lo = p->k_w;
    if (kx_hi < kx_lo) kx_hi = kx_lo;
  }
  for (int32_t ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = y0 + ky * p->dilation_h;
    if (iy < 0 || iy >= p->in_h) {
      d = fill_bytes(d, pad, row_bytes);
      continue;
    }
    const int8_t *row = p->input + (size_t)iy * p->in_w * in_c;
    if (p->dilation_w == 1) {
      d = fill_bytes(d, pad, kx_lo * in_c);
      d = copy_bytes(d, row + (size_t)(x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
      d = fill_bytes(d, pad, (p->k_w - kx_hi) * in_c);
      continue;
    }
    for (int32_t kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = x0 + kx * p->dilation_w;
      d = ix >= 0 && ix < p->in_w ? copy_bytes(d, row + (size_t)ix * in_c, in_c) : fill_bytes(d, pad, in_c);
    }
  }
  fill_bytes(d, pad, ((k + 3) & ~3) - k);
  uint32_t *dst = (uint32_t *)(void *)col + lay.first;
  for (int32_t g = 0; g < (k + 3) / 4; ++g, dst += lay.group) {
    const uint32_t w = words[g];
    dst[0] = th_sxtab16(offset2, w);
    dst[lay.gap] = th_sxtab16_ror8(offset2, w);
  }
}

/* The same for a pixel whose window lies inside the input (dilation_w 1): k_h runs of row_bytes
 * at a fixed stride. Kept apart from im2col_gather, whose edge handling costs GCC a long prologue:
 * most pixels of a first layer are interior (IC: 900 of 1024). */
TH_NO_LIBCALLS __attribute__((noinline)) static void gather_interior(const int8_t *src, int32_t row_bytes,
                                                                      int32_t stride, int32_t k_h, int32_t k,
                                                                      int32_t input_offset, th_col_layout lay,
                                                                      int16_t *col) {
  uint32_t words[GATHER_MAX / 4];
  int8_t *d = (int8_t *)(void *)words;
  for (int32_t ky = 0; ky < k_h; ++ky, src += stride) d = copy_bytes(d, src, row_bytes);
  fill_bytes(d, (int8_t)-input_offset, ((k + 3) & ~3) - k);
  const uint32_t offset2 = th_pack16(input_offset, input_offset);
  uint32_t *dst = (uint32_t *)(void *)col + lay.first;
  for (int32_t g = 0; g < (k + 3) / 4; ++g, dst += lay.group) {
    const uint32_t w = words[g];
    dst[0] = th_sxtab16(offset2, w);
    dst[lay.gap] = th_sxtab16_ror8(offset2, w);
  }
}

/* n groups of zeros (padding taps) into the layout at dst; returns dst past them. */
TH_INLINE uint32_t *zero_groups(uint32_t *dst, int32_t n, int32_t gap, int32_t group) {
  for (; n > 0; --n, dst += group) dst[0] = dst[gap] = 0;
  return dst;
}

/* n groups of four input bytes at src (4-aligned: in_c % 4 == 0), widened into the layout, two
 * groups a pass: LDRD + 4 SXTAB16 + 4 STR at immediate offsets (gap and group are constants in
 * each instantiation below). */
TH_INLINE uint32_t *widen_groups(uint32_t *dst, const int8_t *src, int32_t n, uint32_t offset2, int32_t gap,
                                 int32_t group) {
  const uint32_t *s = (const uint32_t *)(const void *)src;
  for (; n >= 2; n -= 2, s += 2, dst += 2 * group) {
    const uint32_t a = s[0], b = s[1];
    dst[0] = th_sxtab16(offset2, a);
    dst[gap] = th_sxtab16_ror8(offset2, a);
    dst[group] = th_sxtab16(offset2, b);
    dst[group + gap] = th_sxtab16_ror8(offset2, b);
  }
  if (n) {
    dst[0] = th_sxtab16(offset2, s[0]);
    dst[gap] = th_sxtab16_ror8(offset2, s[0]);
    dst += group;
  }
  return dst;
}

/* The packed layouts' im2col when in_c % 4 == 0 and dilation_w == 1 (every layer of IC, KWS and
 * VWW but the first): per kernel row, the taps left of the input as zeros, the inside ones as one
 * run of groups, the rest as zeros. im2col_at does the same for every case, at about 200 more
 * instructions a pixel (its prologue and per-tap bookkeeping): IC calls it 3,000 times an inference.
 * Instantiated per layout (gap, group constant) so the stores take immediate offsets. */
TH_INLINE void im2col_dense(const th_conv_params *p, int32_t y0, int32_t x0, uint32_t *dst, int32_t gap,
                            int32_t group) {
  const int32_t taps = p->in_c >> 2, k_w = p->k_w;
  const int32_t kx_lo = x0 < 0 ? (-x0 < k_w ? -x0 : k_w) : 0;
  const int32_t right = p->in_w - x0, kx_hi = right < k_w ? (right > kx_lo ? right : kx_lo) : k_w;
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t row_step = p->dilation_h * p->in_w * p->in_c;
  const int8_t *row = p->input + ((size_t)y0 * p->in_w + x0 + kx_lo) * p->in_c; /* read only when inside */
  for (int32_t ky = 0, iy = y0; ky < p->k_h; ++ky, iy += p->dilation_h, row += row_step) {
    if (iy < 0 || iy >= p->in_h) {
      dst = zero_groups(dst, k_w * taps, gap, group);
      continue;
    }
    dst = zero_groups(dst, kx_lo * taps, gap, group);
    dst = widen_groups(dst, row, (kx_hi - kx_lo) * taps, offset2, gap, group);
    dst = zero_groups(dst, (k_w - kx_hi) * taps, gap, group);
  }
}

/* A 1x1 convolution's pixel (no padding: always inside): one run of in_c / 4 groups. */
TH_INLINE void im2col_pointwise(const th_conv_params *p, int32_t y0, int32_t x0, uint32_t *dst, int32_t gap,
                                int32_t group) {
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  widen_groups(dst, p->input + ((size_t)y0 * p->in_w + x0) * p->in_c, p->in_c >> 2, offset2, gap, group);
}

TH_ALIGN_LOOPS static void im2col_dense_pairs(const th_conv_params *p, int32_t y0, int32_t x0, uint32_t *dst) {
  if (p->k_h == 1 && p->k_w == 1)
    im2col_pointwise(p, y0, x0, dst, 1, 4);
  else
    im2col_dense(p, y0, x0, dst, 1, 4);
}

TH_ALIGN_LOOPS static void im2col_dense_triples(const th_conv_params *p, int32_t y0, int32_t x0, uint32_t *dst) {
  if (p->k_h == 1 && p->k_w == 1)
    im2col_pointwise(p, y0, x0, dst, 3, 6);
  else
    im2col_dense(p, y0, x0, dst, 3, 6);
}

int th_conv_pointwise_contiguous(const th_conv_params *p) {
  return p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
         p->pad_left == 0 && p->in_h == p->out_h && p->in_w == p->out_w && (p->in_c & 3) == 0;
}

/* n pixels' columns from `first` (past n_pix: the last pixel again), pixel q reading input pixel q. */
TH_INLINE void pointwise_block(const th_conv_params *p, int32_t first, int32_t n_pix, uint32_t *col, int32_t n,
                               int32_t gap, int32_t group) {
  const uint32_t offset2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t in_c = p->in_c;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t q = first + i < n_pix ? first + i : n_pix - 1;
    widen_groups(col + (gap == 3 ? i : 2 * i), p->input + (size_t)q * (size_t)in_c, in_c >> 2, offset2, gap, group);
  }
}

TH_ALIGN_LOOPS void th_conv_im2col_pointwise_block(const th_conv_params *p, int32_t first, int32_t n_pix, int triples,
                                                   int16_t *col) {
  uint32_t *dst = (uint32_t *)(void *)col;
  if (triples)
    pointwise_block(p, first, n_pix, dst, 3, 3, 6); /* th_col_triples */
  else
    pointwise_block(p, first, n_pix, dst, 2, 1, 4); /* th_col_pairs */
}

TH_INLINE uint32_t read_u16(const int8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* The commonest first layer, RGB 3x3 (IC, VWW), interior pixel: the 27 values are three rows of 9
 * bytes at `stride`; the 7 group words are assembled straight from them with unaligned loads and
 * shifts (the last padded with the byte that widens to 0), then widened: about 60 cycles against
 * gather_interior's ~250 (its byte buffer and loops). Reads no byte outside the window. */
TH_INLINE void gather_rgb3x3(const int8_t *r0, int32_t stride, int32_t input_offset, int32_t first, int32_t gap,
                             int32_t group, int16_t *col) {
  const int8_t *r1 = r0 + stride, *r2 = r1 + stride;
  const uint32_t pad = (uint8_t)(int8_t)-input_offset;
  const uint32_t g[7] = {
      th_read_u32(r0),
      th_read_u32(r0 + 4),
      (uint8_t)r0[8] | th_read_u32(r1) << 8,
      th_read_u32(r1 + 3),
      read_u16(r1 + 7) | read_u16(r2) << 16,
      th_read_u32(r2 + 2),
      read_u16(r2 + 6) | (uint32_t)(uint8_t)r2[8] << 16 | pad << 24,
  };
  const uint32_t offset2 = th_pack16(input_offset, input_offset);
  uint32_t *dst = (uint32_t *)(void *)col + first;
#pragma GCC unroll 7
  for (int32_t i = 0; i < 7; ++i, dst += group) {
    dst[0] = th_sxtab16(offset2, g[i]);
    dst[gap] = th_sxtab16_ror8(offset2, g[i]);
  }
}

void th_conv_im2col_packed(const th_conv_params *p, int32_t oy, int32_t ox, th_col_layout layout, int16_t *col) {
  if ((p->in_c & 3) == 0 && p->dilation_w == 1 && (layout.gap == 1 || layout.gap == 3)) {
    uint32_t *dst = (uint32_t *)(void *)col + layout.first;
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    (layout.gap == 3 ? im2col_dense_triples : im2col_dense_pairs)(p, y0, x0, dst);
    return;
  }
  const int32_t k = p->k_h * p->k_w * p->in_c;
  if ((p->in_c & 3) != 0 && ((k + 3) & ~3) <= GATHER_MAX) {
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    if (p->dilation_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w && y0 >= 0 &&
        y0 + (p->k_h - 1) * p->dilation_h < p->in_h) {
      if (p->in_c == 3 && p->k_h == 3 && p->k_w == 3) {
        const int8_t *r0 = p->input + ((size_t)y0 * p->in_w + x0) * 3;
        const int32_t stride = p->dilation_h * p->in_w * 3;
        if (layout.gap == 3) /* the layouts' constants, so the stores take immediate offsets */
          gather_rgb3x3(r0, stride, p->input_offset, layout.first, 3, 6, col);
        else
          gather_rgb3x3(r0, stride, p->input_offset, layout.first, layout.gap, layout.group, col);
        return;
      }
      gather_interior(p->input + ((size_t)y0 * p->in_w + x0) * p->in_c, p->k_w * p->in_c,
                      p->dilation_h * p->in_w * p->in_c, p->k_h, k, p->input_offset, layout, col);
    } else {
      im2col_gather(p, y0, x0, layout, col);
    }
  } else {
    im2col_at(p, oy, ox, 0, layout, col, 1);
  }
}
