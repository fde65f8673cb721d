/* Kernel benchmark on QEMU mps2-an386: the conv / depthwise / FC layer shapes of the MLPerf Tiny
 * IC (ResNet-8) and KWS (DS-CNN) models, each run with the reference and the optimized kernel on
 * the same pseudo-random data. Prints one line per layer:
 *   LAYER <model> <name> <macs> <ref_ticks> <opt_ticks> <size_ticks> <match 0/1>
 * opt: the optimized kernel on the code generator's --optimize speed layouts (int16 weights);
 * size: on its --optimize size layouts (int8 weights; depthwise: the same kernel as opt).
 * Ticks are SysTick counts at 25 MHz; under `qemu -icount shift=0` one tick is 40 instructions. */
#include <stdint.h>
#include <string.h>

#include "th_kernels.h"

void bench_puts(const char *s);
void bench_put_u(uint64_t v);
int random_check(int32_t cases);
void bench_timer_start(void);
uint64_t bench_ticks(void);

#ifndef RANDOM_CASES
#define RANDOM_CASES 3000 /* per kernel, in random_check.c */
#endif

enum kind { CONV, DWCONV, FC };

typedef struct {
  const char *model, *name;
  enum kind kind;
  int32_t in_h, in_w, in_c, out_c, k_h, k_w, stride_h, stride_w, same_padding;
  int32_t no_scratch; /* 1: run the optimized kernel with scratch == NULL (its scratch-free path);
                       * 2 (conv): with scratch but the int8 filter instead of the packed layout */
} layer;

/* Model order, duplicates included, so per-model sums weigh shapes as the models do. */
static const layer LAYERS[] = {
    {"ic", "conv3x3_3to16_32x32", CONV, 32, 32, 3, 16, 3, 3, 1, 1, 1, 0},
    {"ic", "conv3x3_16to16_32x32", CONV, 32, 32, 16, 16, 3, 3, 1, 1, 1, 0},
    {"ic", "conv3x3_16to16_32x32", CONV, 32, 32, 16, 16, 3, 3, 1, 1, 1, 0},
    {"ic", "conv3x3s2_16to32_32x32", CONV, 32, 32, 16, 32, 3, 3, 2, 2, 1, 0},
    {"ic", "conv3x3_32to32_16x16", CONV, 16, 16, 32, 32, 3, 3, 1, 1, 1, 0},
    {"ic", "conv1x1s2_16to32_32x32", CONV, 32, 32, 16, 32, 1, 1, 2, 2, 1, 0},
    {"ic", "conv3x3s2_32to64_16x16", CONV, 16, 16, 32, 64, 3, 3, 2, 2, 1, 0},
    {"ic", "conv3x3_64to64_8x8", CONV, 8, 8, 64, 64, 3, 3, 1, 1, 1, 0},
    {"ic", "conv1x1s2_32to64_16x16", CONV, 16, 16, 32, 64, 1, 1, 2, 2, 1, 0},
    {"ic", "fc_64to10", FC, 1, 1, 64, 10, 1, 1, 1, 1, 0, 0},
    {"kws", "conv10x4s2_1to64_50x10", CONV, 50, 10, 1, 64, 10, 4, 2, 2, 1, 0},
    {"kws", "dw3x3_64_25x5", DWCONV, 25, 5, 64, 64, 3, 3, 1, 1, 1, 0},
    {"kws", "pw_64to64_25x5", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 0},
    {"kws", "dw3x3_64_25x5", DWCONV, 25, 5, 64, 64, 3, 3, 1, 1, 1, 0},
    {"kws", "pw_64to64_25x5", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 0},
    {"kws", "dw3x3_64_25x5", DWCONV, 25, 5, 64, 64, 3, 3, 1, 1, 1, 0},
    {"kws", "pw_64to64_25x5", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 0},
    {"kws", "dw3x3_64_25x5", DWCONV, 25, 5, 64, 64, 3, 3, 1, 1, 1, 0},
    {"kws", "pw_64to64_25x5", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 0},
    {"kws_alt", "pw_64to64_25x5_no_scratch", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 1},
    {"kws_alt", "dw3x3_64_25x5_no_scratch", DWCONV, 25, 5, 64, 64, 3, 3, 1, 1, 1, 1},
    {"ic_alt", "conv1x1s2_16to32_32x32_no_scratch", CONV, 32, 32, 16, 32, 1, 1, 2, 2, 1, 1},
    {"ic_alt", "conv3x3_3to16_32x32_int8_filter", CONV, 32, 32, 3, 16, 3, 3, 1, 1, 1, 2},
    {"ic_alt", "conv3x3_16to16_32x32_int8_filter", CONV, 32, 32, 16, 16, 3, 3, 1, 1, 1, 2},
    {"kws_alt", "pw_64to64_25x5_int8_filter", CONV, 25, 5, 64, 64, 1, 1, 1, 1, 1, 2},
    {"demo_alt", "conv3x3_1to8_8x8", CONV, 8, 8, 1, 8, 3, 3, 1, 1, 1, 0},
    {"vww_alt", "dw3x3_32_24x24", DWCONV, 24, 24, 32, 32, 3, 3, 1, 1, 1, 0},
    {"vww_alt", "dw3x3_64_12x12", DWCONV, 12, 12, 64, 64, 3, 3, 1, 1, 1, 0},
    {"vww_alt", "dw3x3s2_32_24x24", DWCONV, 24, 24, 32, 32, 3, 3, 2, 2, 1, 0},
    {"vww_alt", "dw3x3_128_6x6", DWCONV, 6, 6, 128, 128, 3, 3, 1, 1, 1, 0},
    {"kws", "fc_64to12", FC, 1, 1, 64, 12, 1, 1, 1, 1, 0, 0},
    {"fc_alt", "fc_256to128", FC, 1, 1, 256, 128, 1, 1, 1, 1, 0, 0},
    /* AD (FC autoencoder), model order */
    {"ad", "fc_640to128", FC, 1, 1, 640, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to8", FC, 1, 1, 128, 8, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_8to128", FC, 1, 1, 8, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to128", FC, 1, 1, 128, 128, 1, 1, 1, 1, 0, 0},
    {"ad", "fc_128to640", FC, 1, 1, 128, 640, 1, 1, 1, 1, 0, 0},
};

static int8_t input[24 * 24 * 32]; /* the largest: VWW 24x24x32 */
static int8_t filter[640 * 128];
/* FC weights as the code generator lays them out for the optimized kernel (th_fc_pack_s16 /
 * th_fc_pack_s8 for --optimize size, in the same buffer). */
static int16_t fc_packed[640 * 128] __attribute__((aligned(4)));
static int8_t out_ref[24 * 24 * 32], out_opt[24 * 24 * 32];
static int32_t bias[640], mult[640], shift[640]; /* per channel, up to AD's 640 outputs */
/* Big enough for the optimized kernels' scratch contract on every shape above (see the top of
 * opt_conv.c / opt_dwconv.c / dwconv3x3.c): conv 3*k_h*k_w*in_c int16 (the int16 packed layout's
 * three columns), depthwise 3x3 its planes. */
static int16_t scratch[TH_DW3_SCRATCH_MAX_BYTES / 2 > 3 * 3 * 3 * 64 ? TH_DW3_SCRATCH_MAX_BYTES / 2 : 3 * 3 * 3 * 64]
    __attribute__((aligned(8)));
/* Conv filters as the code generator lays them out for the optimized kernel (th_conv_pack). */
static uint32_t conv_packed[32 * (8 + 4 * 144)];

static uint32_t rng_state = 12345u;
static uint32_t rng(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}
static void fill_s8(int8_t *dst, int32_t n, int32_t lo) {
  for (int32_t i = 0; i < n; ++i) dst[i] = (int8_t)(lo + (int32_t)(rng() % (uint32_t)(128 - lo)));
}

/* Multipliers and shifts that keep most outputs inside int8 for `depth`-term dot products. */
static void fill_quant(int32_t n, int32_t depth) {
  int32_t log2_depth = 0;
  while ((1 << (log2_depth + 1)) <= depth) ++log2_depth;
  for (int32_t i = 0; i < n; ++i) {
    bias[i] = (int32_t)(rng() % 20001u) - 10000;
    mult[i] = (int32_t)(0x40000000u + (rng() % 0x3FFFFFFFu));
    shift[i] = -6 - log2_depth / 2 - (int32_t)(rng() % 2u);
  }
}

void bench_put_u(uint64_t v) {
  char buf[24];
  int i = 23;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  bench_puts(buf + i);
}

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t same, int32_t *pad) {
  int32_t out = same ? (in + stride - 1) / stride : (in - k) / stride + 1;
  int32_t total = (out - 1) * stride + k - in;
  *pad = same && total > 0 ? total / 2 : 0;
  return out;
}

enum mode { REF, SPEED, SIZE };

static uint64_t run(const layer *l, enum mode mode, int8_t *out) {
  const int opt = mode != REF;
  th_conv_params c;
  memset(&c, 0, sizeof c);
  c.input = input;
  c.in_h = l->in_h;
  c.in_w = l->in_w;
  c.in_c = l->in_c;
  c.input_offset = 3;
  c.filter = filter;
  c.k_h = l->k_h;
  c.k_w = l->k_w;
  c.bias = bias;
  c.output = out;
  c.out_h = out_size(l->in_h, l->k_h, l->stride_h, l->same_padding, &c.pad_top);
  c.out_w = out_size(l->in_w, l->k_w, l->stride_w, l->same_padding, &c.pad_left);
  c.out_c = l->out_c;
  c.output_offset = -5;
  c.stride_h = l->stride_h;
  c.stride_w = l->stride_w;
  c.dilation_h = c.dilation_w = 1;
  c.out_multiplier = mult;
  c.out_shift = shift;
  c.act_min = -128;
  c.act_max = 127;
  uint64_t t0 = 0, t1 = 0;
  if (l->kind == FC) {
    th_fc_params f = {input, 1, l->in_c, l->out_c, 3, filter, 0, bias, out, -5, mult, shift, 1, -128, 127, NULL};
    if (mode == SPEED) {
      th_fc_pack_s16(filter, l->out_c, l->in_c, 0, fc_packed);
      f.packed = fc_packed;
      f.weights = NULL;
    } else if (mode == SIZE) {
      th_fc_pack_s8(filter, l->out_c, l->in_c, (int8_t *)fc_packed);
      f.packed8 = (const int8_t *)fc_packed;
      f.weights = NULL;
    }
    t0 = bench_ticks();
    (opt ? th_opt_fc_s8 : th_ref_fc_s8)(&f);
    t1 = bench_ticks();
  } else if (l->kind == DWCONV) {
    th_dwconv_params d = {c, 1};
    d.conv.scratch = opt && !l->no_scratch ? scratch : NULL;
    t0 = bench_ticks();
    (opt ? th_opt_dwconv_s8 : th_ref_dwconv_s8)(&d);
    t1 = bench_ticks();
  } else {
    c.scratch = opt && l->no_scratch != 1 ? scratch : NULL;
    if (opt && l->no_scratch == 0 && th_conv_packed_words(&c) > 0) {
      if (mode == SPEED) {
        th_conv_pack(&c, conv_packed);
        c.packed = conv_packed;
      } else {
        th_conv_pack8(&c, conv_packed);
        c.packed8 = conv_packed;
      }
      c.filter = NULL;
    }
    t0 = bench_ticks();
    (opt ? th_opt_conv2d_s8 : th_ref_conv2d_s8)(&c);
    t1 = bench_ticks();
  }
  return t1 - t0;
}

static int32_t layer_macs(const layer *l, int32_t *out_bytes) {
  int32_t pad;
  int32_t oh = out_size(l->in_h, l->k_h, l->stride_h, l->same_padding, &pad);
  int32_t ow = out_size(l->in_w, l->k_w, l->stride_w, l->same_padding, &pad);
  *out_bytes = oh * ow * l->out_c;
  int32_t depth = l->kind == DWCONV ? l->k_h * l->k_w : l->k_h * l->k_w * l->in_c;
  return *out_bytes * depth;
}

int main(void) {
  bench_timer_start();
  int failures = 0;
  for (uint32_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0]; ++i) {
#ifdef BENCH_ONLY_LAYER /* profiling builds: one layer */
    if (i != BENCH_ONLY_LAYER) continue;
#endif
    const layer *l = &LAYERS[i];
    int32_t out_bytes;
    int32_t macs = layer_macs(l, &out_bytes);
    int32_t depth = l->kind == DWCONV ? l->k_h * l->k_w : l->k_h * l->k_w * l->in_c;
    fill_s8(input, l->in_h * l->in_w * l->in_c, -128);
    fill_s8(filter, l->out_c * l->k_h * l->k_w * (l->kind == DWCONV ? 1 : l->in_c), -127);
    fill_quant(l->out_c, depth);
    memset(out_ref, 0x11, sizeof out_ref);
    memset(out_opt, 0x22, sizeof out_opt);
    uint64_t ref_ticks = run(l, REF, out_ref);
    uint64_t opt_ticks = run(l, SPEED, out_opt);
    int match = memcmp(out_ref, out_opt, (size_t)out_bytes) == 0;
    memset(out_opt, 0x33, sizeof out_opt);
    uint64_t size_ticks = run(l, SIZE, out_opt);
    match = match && memcmp(out_ref, out_opt, (size_t)out_bytes) == 0;
    failures += !match;
    bench_puts("LAYER ");
    bench_puts(l->model);
    bench_puts(" ");
    bench_puts(l->name);
    bench_puts(" ");
    bench_put_u((uint64_t)macs);
    bench_puts(" ");
    bench_put_u(ref_ticks);
    bench_puts(" ");
    bench_put_u(opt_ticks);
    bench_puts(" ");
    bench_put_u(size_ticks);
    bench_puts(match ? " 1\n" : " 0\n");
  }
  failures += random_check(RANDOM_CASES);
  bench_puts("DONE\n");
  return failures ? 1 : 0;
}
