/* CONV_2D by Winograd F(2x2, 3x3) in integers (p->wino, --optimize speed): 3x3 stride-1 layers with
 * in_c % 4 == 0. Each 2 x 2 block of outputs ("tile") of one channel is
 *   4 * Y = A^T [U (.) V] A,  U = (2G) g (2G)^T (offline, harness/codegen/winograd.py),
 *                             V = B^T d B (d: the tile's 4 x 4 input patch plus the input offset),
 * exactly, so the outputs are bit-exact with TFLM: 16 multiplies per 2 x 2 outputs instead of 36.
 * |U| <= 9 * 128 and |V| <= 4 * 255 fit int16 lanes; the code generator checks that every sum fits
 * 32 bits. The 16 products are 16 small GEMMs over the input channels, run by conv_packed.c's
 * 2-channel x 3-column loop (PK16_GROUPS) with the three tiles of a pass as the columns.
 *
 * Per pass of three tiles:
 *   input transform  per tile and group of four channels: 16 words loaded, widened by SXTAB16 /
 *                    SXTAB16 ROR 8 into lanes (0,2) and (1,3), 2 x 32 SADD16 / SSUB16, 32 stores into
 *                    the scratch V = [16 positions][G groups][A02 B02 C02 A13 B13 C13];
 *   per channel pair 16 x (6 MOV, G groups at 26 cycles per group (TRM DDI 0439: LDM 1 + N, SMLAD 1),
 *                    STM of the 6 sums (7) and about 10 of pointers and loop) into M = [16][6],
 *                    then per channel and tile the output transform (16 loads, 24 ADD / SUB) and four
 *                    requantizations (ASR + ADD of the bias, then conv_packed.c's five instructions).
 * IC's 16 -> 16 layer (G = 4): 16 x (104 + 23) = 2032 cycles of multiplies for 3456 MACs (0.59
 * cycles per MAC, against 1.19 in conv_packed.c), plus about 6 x 80 for the output transforms and
 * 3 x 4 x 250 for the input transforms shared by the 8 channel pairs. The profiler (timing model
 * cm4-trm 1, nucleo_l4r5zi) puts IC's layers at 1.06 (16 -> 16), 0.81 (32 -> 32) and 0.74 (64 -> 64)
 * estimated cycles per MAC, against 1.50, 1.27 and 1.21 on conv_packed.c.
 * Scratch: 96 * in_c + 384 bytes (V and M). The tiles of a pass are written after their inputs are
 * read, two output rows at a time: a layer's output may lie over its input only as far as
 * harness/codegen/overlap.py's winograd_delta allows. Entry: th_opt_conv2d_s8_winograd (the
 * generated code calls it for these layers only, so other builds link none of this file). */
#include "th_conv_internal.h"

#define WINO_TILES 3 /* tiles per pass: the columns of the 2 x 3 multiply loop */

/* Field offsets are used by the assembly: keep the order. */
typedef struct {
  const uint32_t *w;    /* 0: the channel pair's U, advanced past it */
  const uint32_t *col;  /* 4: V */
  int32_t n_groups;     /* 8: G = in_c / 4 */
  int32_t *m;           /* 12: the 16 x 6 sums, advanced */
  const int32_t *m_end; /* 16 */
} wino_args;

#ifdef TH_HAVE_DSP
/* M[position] = the six sums (c0 A, B, C, c1 A, B, C) of U . V over the input channels. */
__attribute__((naked, noinline)) static void wino_gemm(wino_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r0, r4-r11, lr}\n\t"
      "ldr r1, [r0, #0]\n\t"
      "ldr r0, [r0, #4]\n\t"
      TH_ASM_ALIGN "0:\n\t"
      "movs r7, #0\n\t"
      "movs r8, #0\n\t"
      "movs r9, #0\n\t"
      "movs r10, #0\n\t"
      "movs r11, #0\n\t"
      "movs r12, #0\n\t"
      "ldr r2, [sp]\n\t"
      "ldr lr, [r2, #8]\n\t"
      PK16_GROUPS
      "ldr r2, [sp]\n\t"
      "ldr r3, [r2, #12]\n\t"
      "stm r3!, {r7-r12}\n\t"
      "str r3, [r2, #12]\n\t"
      "ldr r4, [r2, #16]\n\t"
      "cmp r3, r4\n\t"
      "bne 0b\n\t"
      "str r1, [r2, #0]\n\t"
      "pop {r0, r4-r11, pc}\n\t");
}
#else
static void wino_gemm(wino_args *a) {
  const uint32_t *w = a->w, *col = a->col;
  for (; a->m != a->m_end; a->m += 6) {
    int32_t acc[6] = {0};
    for (int32_t half = 0; half < 2 * a->n_groups; ++half, col += 3, w += 2) /* lanes (0,2), then (1,3) */
      for (int32_t t = 0; t < 3; ++t) {
        acc[t] = th_smlad(w[0], col[t], acc[t]);
        acc[3 + t] = th_smlad(w[1], col[t], acc[3 + t]);
      }
    for (int32_t i = 0; i < 6; ++i) a->m[i] = acc[i];
  }
  a->w = w;
}
#endif

/* Row r of one lane word kind of the patch: its four words widened, input offset added. */
#define PATCH_ROW(r, w0, w1, w2, w3)                                                          \
  const uint32_t w0 = WIDEN(th_read_u32(base + (r) * row_step));                              \
  const uint32_t w1 = WIDEN(th_read_u32(base + (r) * row_step + col_step));                   \
  const uint32_t w2 = WIDEN(th_read_u32(base + (r) * row_step + 2 * col_step));               \
  const uint32_t w3 = WIDEN(th_read_u32(base + (r) * row_step + 3 * col_step))
/* Row r of V from row r of t = B^T d: (t0 - t2, t1 + t2, t2 - t1, t1 - t3), `stride` words apart. */
#define V_ROW(r, t0, t1, t2, t3)                                  \
  do {                                                            \
    v[(4 * (r) + 0) * stride] = th_ssub16(t0, t2);                \
    v[(4 * (r) + 1) * stride] = th_sadd16(t1, t2);                \
    v[(4 * (r) + 2) * stride] = th_ssub16(t2, t1);                \
    v[(4 * (r) + 3) * stride] = th_ssub16(t1, t3);                \
  } while (0)

/* V = B^T d B of one group of four channels, one lane word kind (lanes13: (1,3), else (0,2)), both
 * lanes at once. B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: t's rows are d0 - d2, d1 + d2,
 * d2 - d1, d1 - d3, taken in an order that keeps two patch rows live. The patch's word (r, c) is at
 * base + r * row_step + c * col_step. */
TH_INLINE void transform_lanes(const int8_t *base, int32_t row_step, int32_t col_step, uint32_t off2, int lanes13,
                               uint32_t *v, int32_t stride) {
#define WIDEN(x) (lanes13 ? th_sxtab16_ror8(off2, x) : th_sxtab16(off2, x))
  PATCH_ROW(2, a0, a1, a2, a3);
  {
    PATCH_ROW(0, b0, b1, b2, b3);
    V_ROW(0, th_ssub16(b0, a0), th_ssub16(b1, a1), th_ssub16(b2, a2), th_ssub16(b3, a3));
  }
  PATCH_ROW(1, c0, c1, c2, c3);
  V_ROW(1, th_sadd16(c0, a0), th_sadd16(c1, a1), th_sadd16(c2, a2), th_sadd16(c3, a3));
  V_ROW(2, th_ssub16(a0, c0), th_ssub16(a1, c1), th_ssub16(a2, c2), th_ssub16(a3, c3));
  PATCH_ROW(3, e0, e1, e2, e3);
  V_ROW(3, th_ssub16(c0, e0), th_ssub16(c1, e1), th_ssub16(c2, e2), th_ssub16(c3, e3));
#undef WIDEN
}

/* V of a patch that lies in the input, group by group (in_c = 4 * groups). */
TH_INLINE void interior_groups(const int8_t *base, int32_t row_bytes, uint32_t off2, uint32_t *v, int32_t groups) {
  for (int32_t g = 0; g < groups; ++g, base += 4, v += 6) {
    transform_lanes(base, row_bytes, 4 * groups, off2, 0, v, 6 * groups);
    transform_lanes(base, row_bytes, 4 * groups, off2, 1, v + 3, 6 * groups);
  }
}

/* The tile whose patch starts at input (iy, ix) as column `tile` of V. A patch that reaches past
 * the input is first copied group by group into a 4 x 4 word buffer, with the byte -input_offset
 * (zero after the offset is added) where it lies outside. */
static void input_transform(const th_conv_params *p, int32_t iy, int32_t ix, int32_t tile, uint32_t *v) {
  const int32_t groups = p->in_c / 4, stride = 6 * groups;
  const uint32_t off2 = th_pack16(p->input_offset, p->input_offset);
  /* locals, not p's fields: the stores into V could alias them as far as the compiler knows */
  const int32_t in_c = p->in_c, row_bytes = p->in_w * in_c;
  v += tile;
  if (iy >= 0 && ix >= 0 && iy + 4 <= p->in_h && ix + 4 <= p->in_w) {
    const int8_t *base = p->input + (size_t)iy * (size_t)row_bytes + (size_t)ix * (size_t)in_c;
    /* common channel counts as constants: V's stores and the patch's loads take immediate offsets */
    switch (groups) {
      case 4: interior_groups(base, row_bytes, off2, v, 4); break;
      case 8: interior_groups(base, row_bytes, off2, v, 8); break;
      case 16: interior_groups(base, row_bytes, off2, v, 16); break;
      default: interior_groups(base, row_bytes, off2, v, groups); break;
    }
    return;
  }
  const uint32_t pad = (uint8_t)(-p->input_offset) * 0x01010101u;
  for (int32_t g = 0; g < groups; ++g, v += 6) {
    uint32_t patch[16];
    for (int32_t i = 0; i < 16; ++i) {
      const int32_t y = iy + i / 4, x = ix + i % 4;
      patch[i] = (y >= 0 && y < p->in_h && x >= 0 && x < p->in_w)
                     ? th_read_u32(p->input + (size_t)y * (size_t)row_bytes + (size_t)x * (size_t)p->in_c + 4 * g)
                     : pad;
    }
    transform_lanes((const int8_t *)patch, 16, 4, off2, 0, v, stride);
    transform_lanes((const int8_t *)patch, 16, 4, off2, 1, v + 3, stride);
  }
}

/* Where a tile's four outputs go, relative to channel 0 of its top-left one. An output past the
 * tensor's edge goes to an output of the same tile that is written after it (stores run 11, 10,
 * 01, 00), so no store is conditional. */
typedef struct {
  int8_t *o;                 /* top-left output, channel 0 */
  int32_t d01, d10, d11;     /* byte offsets of (0, 1), (1, 0), (1, 1) */
} tile_out;

static tile_out tile_out_of(const th_conv_params *p, int32_t oy, int32_t ox) {
  const int32_t right = ox + 1 < p->out_w ? p->out_c : 0, down = oy + 1 < p->out_h ? p->out_w * p->out_c : 0;
  return (tile_out){p->output + ((size_t)oy * (size_t)p->out_w + (size_t)ox) * (size_t)p->out_c, right, down,
                    right + down};
}

/* One channel's requantization, held in registers: every output store is a char store, which
 * the compiler must assume aliases anything it would otherwise read again from memory. */
typedef struct {
  int32_t bias2, mult, bias_e, e, act_min, act_max;
} channel_quant;

/* One output from 4 * its sum: (y >> 1) + 2 * bias is the packed layout's acc2 (conv_packed.c). */
TH_INLINE int8_t wino_out(int32_t y4, channel_quant k, int full_range) {
  const int32_t v = th_dsp_requantize_small((y4 >> 1) + k.bias2, k.mult, k.bias_e, k.e);
  return (int8_t)(full_range ? th_ssat8(v) : th_dsp_clamp(v, k.act_min, k.act_max));
}

/* 4 * Y = A^T M A for one channel and tile, A^T = [1 1 1 0; 0 1 -1 -1] (m: its sum at position 0,
 * 6 words per position), requantized and stored at o. */
TH_INLINE void output_tile(const int32_t *m, channel_quant k, int8_t *o, tile_out at, int full_range) {
#define COLUMN(j, s0, s1)                                       \
  const int32_t s0 = m[6 * (j)] + m[6 * (4 + (j))] + m[6 * (8 + (j))]; \
  const int32_t s1 = m[6 * (4 + (j))] - m[6 * (8 + (j))] - m[6 * (12 + (j))]
  COLUMN(0, a0, b0);
  COLUMN(1, a1, b1);
  COLUMN(2, a2, b2);
  COLUMN(3, a3, b3);
#undef COLUMN
  o[at.d11] = wino_out(b1 - b2 - b3, k, full_range);
  o[at.d10] = wino_out(b0 + b1 + b2, k, full_range);
  o[at.d01] = wino_out(a1 - a2 - a3, k, full_range);
  o[0] = wino_out(a0 + a1 + a2, k, full_range);
}

TH_INLINE void run_passes(const th_conv_params *p, int full_range) {
  const int32_t groups = p->in_c / 4, tiles_w = (p->out_w + 1) / 2, n_tiles = tiles_w * ((p->out_h + 1) / 2);
  uint32_t *v = (uint32_t *)(void *)p->scratch;
  int32_t *m = (int32_t *)(void *)(v + 16 * 6 * groups);
  wino_args a = {.col = v, .n_groups = groups, .m_end = m + 16 * 6};
  const int32_t out_c = p->out_c, act_min = p->act_min, act_max = p->act_max;
  for (int32_t first = 0; first < n_tiles; first += WINO_TILES) {
    tile_out at[WINO_TILES];
    for (int32_t t = 0; t < WINO_TILES; ++t) {
      const int32_t q = first + t < n_tiles ? first + t : n_tiles - 1; /* a short last pass repeats a tile */
      const int32_t oy = 2 * (q / tiles_w), ox = 2 * (q % tiles_w);
      at[t] = tile_out_of(p, oy, ox);
      input_transform(p, oy - p->pad_top, ox - p->pad_left, t, v);
    }
    const uint32_t *w = p->wino;
    for (int32_t ch = 0; ch < out_c; ch += 2) {
      a.w = w + 2;
      a.m = m;
      wino_gemm(&a);
      const uint32_t *q = a.w; /* mult, bias_e, e of c0 and c1 */
      const channel_quant k0 = {(int32_t)w[0], (int32_t)q[0], (int32_t)q[2], (int32_t)q[4], act_min, act_max};
      const channel_quant k1 = {(int32_t)w[1], (int32_t)q[1], (int32_t)q[3], (int32_t)q[5], act_min, act_max};
      for (int32_t t = 0; t < WINO_TILES; ++t) {
        output_tile(m + t, k0, at[t].o + ch, at[t], full_range);
        output_tile(m + 3 + t, k1, at[t].o + ch + 1, at[t], full_range);
      }
      w = q + 6;
    }
  }
}

TH_ALIGN_LOOPS void th_opt_conv2d_s8_winograd(const th_conv_params *p) {
  if (p->act_min == -128 && p->act_max == 127)
    run_passes(p, 1);
  else
    run_passes(p, 0);
}
