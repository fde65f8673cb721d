/* Randomized bit-exactness sweep on the Cortex-M4 build: the optimized kernels' assembly and DSP
 * paths only run on the target, so random shapes (odd channel and group counts, strides,
 * padding, dilation, depth multipliers) and quantization parameters (short, fast and exact
 * requantization paths; full and clamped activation ranges) are checked against the reference
 * kernels here, and QUANTIZE against TFLM's formula as the target computes it. Prints
 * "RANDOM <kind> <cases> <mismatches>". */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "th_kernels.h"
#include "th_ops.h"

void bench_puts(const char *s);
void bench_put_u(uint64_t v);

static uint32_t state = 0xC0FFEEu;
static uint32_t rnd(uint32_t n) { /* uniform-ish in [0, n) */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state % n;
}
static int32_t rnd_range(int32_t lo, int32_t hi) { return lo + (int32_t)rnd((uint32_t)(hi - lo + 1)); }

#define MAX_IN (12 * 40 * 20)
#define MAX_W (9 * 4 * 4 * 20)
#define MAX_OUT (12 * 40 * 20 * 3)
#define MAX_CH 64
static int8_t in_buf[MAX_IN], w_buf[MAX_W], out_ref[MAX_OUT], out_opt[MAX_OUT];
static int32_t bias[MAX_CH], mult[MAX_CH], shift[MAX_CH];
static int16_t scratch[4096] __attribute__((aligned(8)));
#define PACKED_MAX 4096
static uint32_t packed[PACKED_MAX]; /* conv: th_conv_pack's layout */

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dil, int same, int32_t *pad) {
  const int32_t eff = (k - 1) * dil + 1;
  int32_t out = same ? (in + stride - 1) / stride : (in - eff) / stride + 1;
  int32_t total = (out - 1) * stride + eff - in;
  *pad = same && total > 0 ? total / 2 : 0;
  return out;
}

static void fill_quant(int32_t n, int32_t depth) {
  int32_t log2_depth = 0;
  while ((1 << (log2_depth + 1)) <= depth) ++log2_depth;
  const uint32_t mode = rnd(10); /* 0: huge biases (exact path), 1: shifts outside the short range,
                                  * 2: zero multipliers and deep right shifts */
  for (int32_t i = 0; i < n; ++i) {
    bias[i] = mode == 0 ? rnd_range(-(1 << 30), 1 << 30) : rnd_range(-40000, 40000);
    mult[i] = (int32_t)(0x40000000u + rnd(0x3FFFFFFFu));
    shift[i] = mode == 1 ? rnd_range(-2, 1) : -6 - log2_depth / 2 + rnd_range(-2, 2);
    if (mode == 2 && rnd(3) == 0) { /* dead channel (VWW): multiplier 0, any shift */
      mult[i] = 0;
      shift[i] = rnd_range(-31, 0);
    } else if (mode == 2 && rnd(2) == 0) { /* right shifts past the short form's 21 */
      shift[i] = rnd_range(-31, -22);
      if (rnd(2)) bias[i] = rnd_range(-(1 << 30), 1 << 30); /* VWW's dead channels: constant output */
    }
  }
}

/* `wide`: rows of 16 to 40 (up to 12 rows: several calls of dwconv3x3.c): its long-row layers. `unit_stride`: stride and
 * dilation 1 (conv_winograd.c's layers). */
static void fill_common_shape(th_conv_params *c, int32_t in_c, int32_t out_c, int32_t k_h, int32_t k_w, int wide,
                              int unit_stride) {
  memset(c, 0, sizeof *c);
  int32_t in_h = wide ? rnd_range(1, 12) : rnd_range(1, 12), in_w = wide ? rnd_range(16, 40) : rnd_range(1, 12);
  c->k_h = k_h;
  c->k_w = k_w;
  c->stride_h = unit_stride ? 1 : rnd_range(1, 3);
  c->stride_w = unit_stride ? 1 : rnd_range(1, 3);
  c->dilation_h = wide || unit_stride ? 1 : rnd_range(1, 2);
  c->dilation_w = wide || unit_stride ? 1 : rnd_range(1, 2);
  int same = (int)rnd(2);
  for (;;) {
    c->out_h = out_size(in_h, k_h, c->stride_h, c->dilation_h, same, &c->pad_top);
    c->out_w = out_size(in_w, k_w, c->stride_w, c->dilation_w, same, &c->pad_left);
    if (c->out_h > 0 && c->out_w > 0) break;
    same = 1;
  }
  c->in_h = in_h;
  c->in_w = in_w;
  c->in_c = in_c;
  c->out_c = out_c;
  c->input = in_buf;
  c->filter = w_buf;
  c->bias = rnd(10) ? bias : NULL;
  c->out_multiplier = mult;
  c->out_shift = shift;
  c->input_offset = rnd_range(-127, 128);
  c->output_offset = rnd_range(-128, 127);
  c->act_min = -128;
  c->act_max = 127;
  if (rnd(3) == 0) {
    c->act_min = rnd_range(-128, 0);
    c->act_max = rnd_range(1, 127);
  }
  for (int32_t i = 0; i < in_h * in_w * in_c; ++i) in_buf[i] = (int8_t)rnd_range(-128, 127);
}

static void fill_common(th_conv_params *c, int32_t in_c, int32_t out_c, int32_t k_h, int32_t k_w) {
  fill_common_shape(c, in_c, out_c, k_h, k_w, 0, 0);
}

static void report(const char *kind, int32_t cases, int32_t bad) {
  bench_puts("RANDOM ");
  bench_puts(kind);
  bench_puts(" ");
  bench_put_u((uint64_t)cases);
  bench_puts(" ");
  bench_put_u((uint64_t)bad);
  bench_puts("\n");
}

static int32_t conv_cases(int32_t n) {
  int32_t bad = 0;
  for (int32_t i = 0; i < n; ++i) {
    th_conv_params c;
    const int32_t in_c = rnd_range(1, 20), out_c = rnd_range(1, 9);
    const int pointwise = rnd(3) == 0;
    fill_common(&c, in_c, out_c, pointwise ? 1 : rnd_range(1, 3), pointwise ? 1 : rnd_range(1, 4));
    const int32_t k = c.k_h * c.k_w * in_c;
    for (int32_t j = 0; j < out_c * k; ++j) w_buf[j] = (int8_t)rnd_range(-127, 127);
    fill_quant(out_c, k);
    const int32_t n_out = c.out_h * c.out_w * out_c;
    c.output = out_ref;
    th_ref_conv2d_s8(&c);
    c.output = out_opt;
    c.scratch = rnd(pointwise ? 2 : 8) ? scratch : NULL; /* contract: 2 * K int16, 3 * K for the int16 layout */
    const int32_t words = th_conv_packed_words(&c);
    const uint32_t layout = rnd(3); /* 0: int8 filter, 1: packed int16, 2: packed int8 */
    if (c.scratch != NULL && words > 0 && words <= PACKED_MAX && layout == 1) {
      /* the code generator's layouts (conv_pack.c), with no int8 filter */
      th_conv_pack(&c, packed);
      c.packed = packed;
      c.filter = NULL;
    } else if (c.scratch != NULL && words > 0 && words <= PACKED_MAX && layout == 2) {
      th_conv_pack8(&c, packed);
      c.packed8 = packed;
      c.filter = NULL;
    }
    th_opt_conv2d_s8(&c);
    bad += memcmp(out_ref, out_opt, (size_t)n_out) != 0;
  }
  return bad;
}

/* 3x3 stride-1 layers on the Winograd layout (conv_winograd.c: its assembly and DSP transforms),
 * in_c % 4 == 0 (group counts 1 to 5: every entry point of the four-group loop), even out_c. */
static int32_t winograd_cases(int32_t n, int32_t *taken) {
  int32_t bad = 0;
  for (int32_t i = 0; i < n; ++i) {
    th_conv_params c;
    const int32_t in_c = 4 * rnd_range(1, 5), out_c = 2 * rnd_range(1, 4);
    fill_common_shape(&c, in_c, out_c, 3, 3, 0, 1);
    for (int32_t j = 0; j < out_c * 9 * in_c; ++j) w_buf[j] = (int8_t)rnd_range(-127, 127);
    fill_quant(out_c, 9 * in_c);
    const int32_t words = th_conv_wino_words(&c);
    if (words == 0 || words > PACKED_MAX) continue; /* outside the short requantization */
    c.output = out_ref;
    th_ref_conv2d_s8(&c);
    th_conv_wino_pack(&c, packed);
    c.wino = packed;
    c.filter = NULL;
    c.scratch = scratch; /* contract: 96 * in_c + 384 bytes */
    c.output = out_opt;
    th_opt_conv2d_s8_winograd(&c);
    bad += memcmp(out_ref, out_opt, (size_t)(c.out_h * c.out_w * out_c)) != 0;
    ++*taken;
  }
  return bad;
}

static int32_t dwconv_cases(int32_t n) {
  int32_t bad = 0;
  for (int32_t i = 0; i < n; ++i) {
    th_dwconv_params d;
    int32_t in_c = rnd_range(1, 20), dm = rnd(4) ? 1 : rnd_range(2, 3);
    int32_t k_h = rnd_range(1, 4), k_w = rnd_range(1, 4);
    if (rnd(2)) k_h = k_w = 3; /* the assembly 3x3 paths */
    const int wide = k_h == 3 && k_w == 3 && rnd(2); /* dwconv3x3.c's channel planes */
    if (wide) {
      in_c = 4 * rnd_range(1, 5);
      dm = 1;
    }
    fill_common_shape(&d.conv, in_c, in_c * dm, k_h, k_w, wide, 0);
    d.depth_multiplier = dm;
    const int32_t taps = d.conv.k_h * d.conv.k_w;
    for (int32_t j = 0; j < taps * in_c * dm; ++j) w_buf[j] = (int8_t)rnd_range(-127, 127);
    fill_quant(in_c * dm, taps);
    const int32_t n_out = d.conv.out_h * d.conv.out_w * in_c * dm;
    d.conv.output = out_ref;
    th_ref_dwconv_s8(&d);
    d.conv.output = out_opt;
    d.conv.scratch = rnd(8) ? scratch : NULL; /* contract: 8 * k_h * (k_w + W) bytes */
    th_opt_dwconv_s8(&d);
    bad += memcmp(out_ref, out_opt, (size_t)n_out) != 0;
  }
  return bad;
}

static int32_t fc_cases(int32_t n) {
  int32_t bad = 0;
  for (int32_t i = 0; i < n; ++i) {
    th_fc_params f;
    memset(&f, 0, sizeof f);
    f.batches = rnd_range(1, 3);
    f.in_n = rnd_range(1, 70);
    f.out_n = rnd_range(1, 12);
    f.per_channel = (int32_t)rnd(2);
    for (int32_t j = 0; j < f.batches * f.in_n; ++j) in_buf[j] = (int8_t)rnd_range(-128, 127);
    for (int32_t j = 0; j < f.out_n * f.in_n; ++j) w_buf[j] = (int8_t)rnd_range(-127, 127);
    fill_quant(f.out_n, f.in_n);
    f.input = in_buf;
    f.weights = w_buf;
    f.bias = rnd(10) ? bias : NULL;
    f.out_multiplier = mult;
    f.out_shift = shift;
    f.input_offset = rnd_range(-127, 128);
    f.weights_offset = rnd(4) ? 0 : rnd_range(-127, 128);
    f.output_offset = rnd_range(-128, 127);
    f.act_min = rnd(3) ? -128 : rnd_range(-128, 0);
    f.act_max = rnd(3) ? 127 : rnd_range(f.act_min, 127);
    f.output = out_ref;
    th_ref_fc_s8(&f);
    f.output = out_opt;
    th_opt_fc_s8(&f);
    bad += memcmp(out_ref, out_opt, (size_t)(f.batches * f.out_n)) != 0;
    /* The packed layout (what the code generator emits), with no int8 weights to fall back on. */
    static int16_t packed[12 * 70] __attribute__((aligned(4)));
    th_fc_pack_s16(w_buf, f.out_n, f.in_n, f.weights_offset, packed);
    f.packed = packed;
    f.weights = NULL;
    memset(out_opt, 0x5A, (size_t)(f.batches * f.out_n));
    th_opt_fc_s8(&f);
    bad += memcmp(out_ref, out_opt, (size_t)(f.batches * f.out_n)) != 0;
    /* The int8 layout (--optimize size). */
    static int8_t packed8[12 * 70] __attribute__((aligned(4)));
    th_fc_pack_s8(w_buf, f.out_n, f.in_n, packed8);
    f.packed = NULL;
    f.packed8 = packed8;
    memset(out_opt, 0x5A, (size_t)(f.batches * f.out_n));
    th_opt_fc_s8(&f);
    bad += memcmp(out_ref, out_opt, (size_t)(f.batches * f.out_n)) != 0;
  }
  return bad;
}

/* th_quantize_f32_s8 against TFLM's round(x / scale) + zero point, clamped (libm's roundf; the
 * conversion is the target's saturating VCVT, and the zero point added after it wraps as TFLM's
 * int32 sum does): random values, quotients at k + 0.5 and their float neighbours, both zeros and
 * +-1e12. A QUANTIZE without the range test (saturated values rounded in the fast path) differed in
 * 299 of 300 rounds, on those wrapped sums. Returns the rounds that differ. */
static int32_t quantize_cases(int32_t rounds) {
  enum { N = 256 };
  static float in[N];
  static int8_t got[N];
  int32_t bad = 0;
  for (int32_t round = 0; round < rounds; ++round) {
    const float scale = ldexpf(1.0f + (float)rnd(1000000u) / 1e6f, -(int)rnd(20u));
    const int32_t zp = rnd_range(-128, 127);
    for (int32_t i = 0; i < N; ++i) {
      const float half = (float)rnd_range(-300, 300) + 0.5f;
      const int32_t kind = i % 4;
      in[i] = kind == 0 ? ((float)rnd_range(-1000000, 1000000) / 1e6f) * 300.0f * scale
              : kind == 1 ? half * scale : kind == 2 ? nextafterf(half * scale, 0.0f) : nextafterf(half * scale, 1e30f);
    }
    in[0] = 0.0f, in[1] = -0.0f, in[2] = 1e12f, in[3] = -1e12f;
    th_quantize_f32_s8(in, got, N, scale, zp);
    int32_t differ = 0;
    for (int32_t i = 0; i < N; ++i) {
      const int32_t q = (int32_t)roundf(in[i] / scale) + zp;
      differ |= got[i] != (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
    bad += differ;
  }
  return bad;
}

int random_check(int32_t cases) {
  const int32_t conv_bad = conv_cases(cases), dw_bad = dwconv_cases(cases), fc_bad = fc_cases(cases);
  int32_t wino_taken = 0;
  const int32_t wino_bad = winograd_cases(cases / 3, &wino_taken);
  report("conv", cases, conv_bad);
  report("dwconv", cases, dw_bad);
  report("fc", cases, fc_bad);
  report("winograd", wino_taken, wino_bad);
  const int32_t quant_bad = quantize_cases(cases / 10);
  report("quantize", cases / 10, quant_bad);
  return conv_bad + dw_bad + fc_bad + wino_bad + quant_bad;
}
