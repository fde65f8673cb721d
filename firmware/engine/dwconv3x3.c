/* Optimized int8 DEPTHWISE_CONV_2D, 3x3 kernel (depth multiplier 1, dilation 1, stride_w 1),
 * bit-exact with TFLM's reference DepthwiseConvPerChannel. opt_dwconv.c sends these layers here.
 *
 * Scheme: channel-blocked SMLAD over pairs of taps. Per group of four channels, each input row the
 * window needs is widened once (input offset added, padding 0) into four int16 channel planes, so
 * a word of a plane holds two horizontally adjacent values of one channel, (x[2m], x[2m+1]). The
 * 3x3 weights of each channel are rearranged per kernel row into two words, W01 = (w0, w1) and
 * W12 = (w1, w2) (doubled: the short SMMULR requantization wants 2 * acc). With P0 = (x[2m], x[2m+1])
 * and P1 = (x[2m+2], x[2m+3]), one kernel row gives, for the outputs at 2m and 2m + 1:
 *   even += SMLAD(P0, W01) + SMLABT(P1, W12)     x0*w0 + x1*w1 + x2*w2
 *   odd  += SMLATB(P0, W01) + SMLAD(P1, W12)     x1*w0 + x2*w1 + x3*w2
 * so 12 multiply instructions and 3 LDRD give 18 MACs, with the channel's six weight words held in
 * registers across the whole output row; an odd last output takes the even formula alone. Stride 2
 * was tried with the even formula (its next P0 is this P1): 4.97 instructions/MAC on VWW's
 * 24x24 -> 12x12 layer against 4.45 on opt_dwconv.c's ring (half the outputs per widened value),
 * so stride 2 stays there. The planes are a ring of three rows stored twice (slots s and s + 3, 128 bytes each), so the
 * window's rows are always at p, p + 128, p + 256 (LDRD immediates) whatever the ring's phase.
 *
 * Cycle budget, stride 1, per pair of outputs of one channel (Cortex-M4 TRM DDI 0439: LDRD 3, LDR
 * 2, SMLAxy / SMLAD / SMMULR / SSAT 1, STRB 1, taken branch 1 + 1-3 refill; scratch in SRAM, no
 * wait states): 4 LDRD (12; bias pair + 3 rows) + 12 SMLAxy (12) + requantization of two outputs:
 * LDRD mult/bias_e (3) + 2 SMMULR + 2 SUB + 2 ADD (6) + LDR e (2) + 2 ASR + 2 SSAT (4) + 2 STRB +
 * ADD (3) + loop LDR/CMP/BNE (5) = 47 cycles for 18 MACs, 2.6 cycles/MAC (the four-channel ring it
 * replaces: ~3.6). Widening (widen_row): per input row and group, per pair of columns 2 LDR + 4
 * SXTAB16 + 4 PKHBT/PKHTB + 8 STR, about 22 cycles for 8 values used 9 times each (0.3 cycles/MAC).
 * Emulator instructions/MAC: VWW 24x24x32 3.19 -> 2.73, 12x12x64 3.44 -> 3.31. What remains above
 * the 1.5 cycles/MAC: requantization is ~8 cycles of every 9-MAC output, and the row's loads
 * (the profiler: 47 cycles per pair of outputs, as budgeted).
 *
 * Scratch: TH_DW3_SCRATCH_BYTES (4 planes x 6 slots x 128 bytes), 4-byte aligned. The layer
 * qualifies when 8 <= out_w < 62 (a plane row of out_w + 2 columns plus a spare one).
 * Overlap (scratch.c's layout contract): per group, the input rows of an output row are widened
 * before the row is written, in row order. */
#include "th_dsp.h"
#include "th_kernels.h"

#define SLOT 128     /* bytes per plane row: 64 int16 columns */
#define SLOTS 6      /* three ring rows, each stored twice */
#define PLANE (SLOTS * SLOT)
#define MAX_COLS (SLOT / 2)
/* Rows of fewer outputs whose columns are long enough are walked transposed (KWS 25x5: 2.9
 * instructions/MAC and 4.2 estimated cycles/MAC on nucleo_l4r5zi, timing model cm4-trm 1, against
 * 3.88 and 6.42 on opt_dwconv.c's four-channel ring); layers short both ways (VWW 6x6, 3x3) stay on
 * the ring, where this kernel's per-row costs (widening into planes, per-channel setup) outweigh its
 * cheaper taps (VWW 6x6x128 with MIN_OUT_W 6, after the widening got cheaper: 7.2 against the
 * ring's 6.9 estimated cycles/MAC, the planes' code also missing the flash accelerator more). */
#define MIN_OUT_W 8

static int row_fits(int32_t n_out) { return n_out >= MIN_OUT_W && n_out + 2 < MAX_COLS; }

/* Rows too short for the planes but columns long enough (KWS: 25x5): the kernel walks the layer
 * transposed, taking input columns as its rows (see dw3_view), so each pass covers 25 outputs
 * instead of 5. Column by column is not raster order, so a group's outputs go to the scratch first
 * and are copied out once all of the group's input has been read: the output may then lie over its
 * input as for any depthwise kernel (scratch.c's layout contract: each channel overwrites only its
 * own input, after reading it). */
static int transposed(const th_conv_params *c) {
  return !(c->stride_w == 1 && row_fits(c->out_w)) && c->stride_h == 1 && row_fits(c->out_h);
}

int32_t th_dw3_scratch_bytes(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  return TH_DW3_SCRATCH_BYTES + (transposed(c) ? 4 * c->out_h * c->out_w : 0);
}

int th_dw3_applies(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  return p->depth_multiplier == 1 && c->k_h == 3 && c->k_w == 3 && c->dilation_h == 1 && c->dilation_w == 1 &&
         (c->out_c & 3) == 0 && ((c->stride_w == 1 && row_fits(c->out_w)) || transposed(c));
}

/* The layer as the kernel walks it: `rows` advance by stride_row, `cols` (the planes' direction,
 * stride 1) are consecutive. Plain: rows are image rows. Transposed: rows are image columns, the
 * 3x3 filter is read transposed to match, and outputs go to the group buffer (4 channels per
 * pixel). Steps are in bytes of the NHWC tensors (or the buffer) and the OHWI filter. */
typedef struct {
  int32_t in_rows, in_cols, out_rows, out_cols, pad_row, pad_col, stride_row;
  int32_t in_row_step, in_col_step, out_row_step, out_col_step, w_row_step, w_col_step;
} dw3_view;

static dw3_view view_of(const th_conv_params *c) {
  const int32_t in_px = c->in_c, out_px = c->out_c;
  if (transposed(c)) /* the output goes to the group buffer: [out_h][out_w][4] */
    return (dw3_view){c->in_w, c->in_h, c->out_w, c->out_h, c->pad_left, c->pad_top, c->stride_w,
                      in_px, c->in_w * in_px, 4, c->out_w * 4, out_px, 3 * out_px};
  return (dw3_view){c->in_h, c->in_w, c->out_h, c->out_w, c->pad_top, c->pad_left, c->stride_h,
                    c->in_w * in_px, in_px, c->out_w * out_px, out_px, 3 * out_px, out_px};
}

/* One channel's output row. Field offsets are used by the assembly: keep the order. */
typedef struct {
  uint32_t w[6];            /* 0: W01, W12 of kernel rows 0, 1, 2 */
  const uint8_t *p;         /* 24: plane, window row 0, column 0 */
  int8_t *out;              /* 28: output pixel 0 of this channel in this row */
  const uint8_t *end;       /* 32: p after the pairs */
  int32_t single;           /* 36: 1 when a lone last output follows the pairs (odd out_w) */
  int32_t acc0, acc0_again; /* 40, 44: accumulator start, 2 * bias (twice: one LDRD for two) */
  int32_t mult, bias_e, e;  /* 48, 52, 56: th_dsp_requantize_small's constants */
  int32_t act_min, act_max; /* 60, 64 */
  int32_t out_step;         /* 68: out_c */
  int32_t last;             /* 72: 1 for the group's fourth channel */
} dw3_chan;

#ifdef TH_HAVE_DSP
/* r0: plane pointer, r1: output, r2/r3: plane words / constants, r4-r9: weights, r10/r11:
 * accumulators, r12: the channel's dw3_chan, lr: output step. */
#define DW3_ROWS_PAIR(rw01, rw12, ldrd_row)  \
  ldrd_row                                    \
  "smlad r10, r2, " rw01 ", r10\n\t"          \
  "smlatb r11, r2, " rw01 ", r11\n\t"         \
  "smlabt r10, r3, " rw12 ", r10\n\t"         \
  "smlad r11, r3, " rw12 ", r11\n\t"
#define DW3_ROWS_ONE(rw01, rw12, ldrd_row) \
  ldrd_row                                  \
  "smlad r10, r2, " rw01 ", r10\n\t"        \
  "smlabt r10, r3, " rw12 ", r10\n\t"
#define DW3_ROW1 "ldrd r2, r3, [r0, #128]\n\t"
#define DW3_ROW2 "ldrd r2, r3, [r0, #256]\n\t"
#define DW3_ROW0 "ldrd r2, r3, [r0], #4\n\t" /* last: moves to the next two columns */
#define DW3_REQ(acc)                         \
  "smmulr " acc ", " acc ", r2\n\t"          \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "add " acc ", " acc ", r3\n\t"
#define DW3_CLAMP(acc)                       \
  "cmp " acc ", r2\n\t"                      \
  "it lt\n\t"                                \
  "movlt " acc ", r2\n\t"                    \
  "cmp " acc ", r3\n\t"                      \
  "it gt\n\t"                                \
  "movgt " acc ", r3\n\t"
#define DW3_CLAMP_PAIR "ldrd r2, r3, [r12, #60]\n\t" DW3_CLAMP("r10") DW3_CLAMP("r11")
#define DW3_CLAMP_ONE "ldrd r2, r3, [r12, #60]\n\t" DW3_CLAMP("r10")
#define DW3_NO_CLAMP ""

#define DW3_PAIR(CLAMP)                                                                          \
  "ldrd r10, r11, [r12, #40]\n\t"                                                              \
  DW3_ROWS_PAIR("r6", "r7", DW3_ROW1) DW3_ROWS_PAIR("r8", "r9", DW3_ROW2)                      \
  DW3_ROWS_PAIR("r4", "r5", DW3_ROW0)                                                          \
  "ldrd r2, r3, [r12, #48]\n\t" DW3_REQ("r10") DW3_REQ("r11")                                  \
  "ldr r2, [r12, #56]\n\t"                                                                     \
  "asr r10, r10, r2\n\t"                                                                       \
  "asr r11, r11, r2\n\t"                                                                       \
  "ssat r10, #8, r10\n\t"                                                                      \
  "ssat r11, #8, r11\n\t" CLAMP                                                                \
  "strb r10, [r1]\n\t"                                                                         \
  "strb r11, [r1, lr]\n\t"                                                                     \
  "add r1, r1, lr, lsl #1\n\t"
#define DW3_ONE(CLAMP)                                                                           \
  "ldr r10, [r12, #40]\n\t"                                                                    \
  DW3_ROWS_ONE("r6", "r7", DW3_ROW1) DW3_ROWS_ONE("r8", "r9", DW3_ROW2)                        \
  DW3_ROWS_ONE("r4", "r5", DW3_ROW0)                                                           \
  "ldrd r2, r3, [r12, #48]\n\t" DW3_REQ("r10")                                                 \
  "ldr r2, [r12, #56]\n\t"                                                                     \
  "asr r10, r10, r2\n\t"                                                                       \
  "ssat r10, #8, r10\n\t" CLAMP                                                                \
  "strb r10, [r1]\n\t"                                                                         \
  "add r1, r1, lr\n\t"

/* The four channels of a group for one output row: per channel, its weights into r4-r9, then the
 * pairs and a lone last output. */
#define DW3_CHANNEL_START                \
  "ldm r12, {r4-r9}\n\t"                \
  "ldr r0, [r12, #24]\n\t"              \
  "ldr r1, [r12, #28]\n\t"              \
  "ldr lr, [r12, #68]\n\t"
#define DW3_CHANNEL_NEXT                 \
  "ldr r2, [r12, #72]\n\t"              \
  "add r12, r12, #76\n\t"               \
  "cmp r2, #0\n\t"                      \
  "beq 0b\n\t"                          \
  "pop {r4-r11, pc}\n\t"
#define DW3_STRIDE1(PAIR_CLAMP, ONE_CLAMP)                    \
  "push {r4-r11, lr}\n\t"                                     \
  "mov r12, r0\n\t"                                           \
  TH_ASM_ALIGN "0:\n\t" DW3_CHANNEL_START                     \
  "ldr r2, [r12, #32]\n\t"                                    \
  "cmp r0, r2\n\t"                                            \
  "beq 2f\n\t"                                                \
  TH_ASM_ALIGN "1:\n\t" DW3_PAIR(PAIR_CLAMP)                  \
  "ldr r2, [r12, #32]\n\t"                                    \
  "cmp r0, r2\n\t"                                            \
  "bne 1b\n\t"                                                \
  "2:\n\t"                                                    \
  "ldr r2, [r12, #36]\n\t"                                    \
  "cmp r2, #0\n\t"                                            \
  "beq 3f\n\t" DW3_ONE(ONE_CLAMP)                             \
  "3:\n\t" DW3_CHANNEL_NEXT
__attribute__((naked, noinline)) static void dw3_s1(const dw3_chan *c __attribute__((unused))) {
  __asm__ volatile(DW3_STRIDE1(DW3_NO_CLAMP, DW3_NO_CLAMP));
}
__attribute__((naked, noinline)) static void dw3_s1_clamp(const dw3_chan *c __attribute__((unused))) {
  __asm__ volatile(DW3_STRIDE1(DW3_CLAMP_PAIR, DW3_CLAMP_ONE));
}
#endif

/* The same arithmetic in C, for the host and for groups outside the short requantization
 * (`small` 0: weights and bias not doubled, TFLite's exact requantization). */
static void dw3_row_c(const dw3_chan *ch, int32_t n_out, int small, const th_conv_params *c, const int32_t *mult,
                      const int32_t *shift) {
  int8_t *out = ch->out;
  for (int32_t ox = 0; ox < n_out; ++ox, out += ch->out_step) {
    int32_t acc = ch->acc0;
    for (int32_t r = 0; r < 3; ++r) {
      const int16_t *x = (const int16_t *)(const void *)(ch->p + r * SLOT) + ox;
      const uint32_t w01 = ch->w[2 * r], w12 = ch->w[2 * r + 1];
      acc += x[0] * (int16_t)(w01 & 0xFFFF) + x[1] * (int16_t)(w01 >> 16) + x[2] * (int16_t)(w12 >> 16);
    }
    int32_t v = small ? th_dsp_requantize_small(acc, ch->mult, ch->bias_e, ch->e)
                      : th_dsp_requantize(acc, *mult, *shift) + c->output_offset;
    *out = (int8_t)th_dsp_clamp(v, ch->act_min, ch->act_max);
  }
}

/* Input row iy of channels ch..ch+3 into plane slots s and s + 3, columns [lo, hi). Two columns at
 * a time become one word per plane: SXTAB16 gives (c0, c2) and (c1, c3) of a column, PKHBT / PKHTB
 * pair two columns' lanes, (c0 x0, c0 x1) ... (c3 x0, c3 x1): 2 LDR + 4 SXTAB16 + 4 PKH + 8 STR,
 * about 20 cycles for 8 values. A row outside the input is zeros, written only when the slot does
 * not hold zeros already (`zero`: the ring's padding rows recur in every group). */
static void widen_row(const th_conv_params *c, const dw3_view *v, uint8_t *planes, int32_t iy, int32_t ch,
                      int32_t s, int32_t lo, int32_t hi, uint8_t *zero) {
  int16_t *p0 = (int16_t *)(void *)(planes + s * SLOT), *p1 = p0 + PLANE / 2, *p2 = p1 + PLANE / 2;
  int16_t *p3 = p2 + PLANE / 2;
  const int32_t dup = 3 * SLOT / 2; /* slot s + 3, in int16 */
  if (iy < 0 || iy >= v->in_rows) {
    if (zero[s]) return;
    zero[s] = 1;
    int32_t j = lo;
    if (j & 1) p0[j] = p0[j + dup] = p1[j] = p1[j + dup] = p2[j] = p2[j + dup] = p3[j] = p3[j + dup] = 0, ++j;
    for (; j + 1 < hi; j += 2) {
      uint32_t *d0 = (uint32_t *)(void *)(p0 + j), *d1 = (uint32_t *)(void *)(p1 + j);
      uint32_t *d2 = (uint32_t *)(void *)(p2 + j), *d3 = (uint32_t *)(void *)(p3 + j);
      d0[0] = d0[dup / 2] = d1[0] = d1[dup / 2] = d2[0] = d2[dup / 2] = d3[0] = d3[dup / 2] = 0;
    }
    if (j < hi) p0[j] = p0[j + dup] = p1[j] = p1[j + dup] = p2[j] = p2[j + dup] = p3[j] = p3[j + dup] = 0;
    return;
  }
  zero[s] = 0;
  const uint32_t off2 = th_pack16(c->input_offset, c->input_offset);
  const int8_t *src = c->input + (size_t)iy * v->in_row_step + (lo - v->pad_col) * v->in_col_step + ch;
  const int32_t step = v->in_col_step;
  int32_t j = lo;
  for (; j < hi && (j & 1); ++j, src += step) { /* an odd first column alone */
    const uint32_t x = th_read_u32(src), v02 = th_sxtab16(off2, x), v13 = th_sxtab16_ror8(off2, x);
    p0[j] = p0[j + dup] = (int16_t)v02;
    p2[j] = p2[j + dup] = (int16_t)(v02 >> 16);
    p1[j] = p1[j + dup] = (int16_t)v13;
    p3[j] = p3[j + dup] = (int16_t)(v13 >> 16);
  }
  for (; j + 1 < hi; j += 2, src += 2 * step) {
    const uint32_t x = th_read_u32(src), y = th_read_u32(src + step);
    const uint32_t a02 = th_sxtab16(off2, x), a13 = th_sxtab16_ror8(off2, x);
    const uint32_t b02 = th_sxtab16(off2, y), b13 = th_sxtab16_ror8(off2, y);
    const uint32_t w0 = th_pkhbt(a02, b02), w2 = th_pkhtb(b02, a02);
    const uint32_t w1 = th_pkhbt(a13, b13), w3 = th_pkhtb(b13, a13);
    uint32_t *d0 = (uint32_t *)(void *)(p0 + j), *d1 = (uint32_t *)(void *)(p1 + j);
    uint32_t *d2 = (uint32_t *)(void *)(p2 + j), *d3 = (uint32_t *)(void *)(p3 + j);
    d0[0] = d0[dup / 2] = w0;
    d1[0] = d1[dup / 2] = w1;
    d2[0] = d2[dup / 2] = w2;
    d3[0] = d3[dup / 2] = w3;
  }
  if (j < hi) { /* an odd last column */
    const uint32_t x = th_read_u32(src), v02 = th_sxtab16(off2, x), v13 = th_sxtab16_ror8(off2, x);
    p0[j] = p0[j + dup] = (int16_t)v02;
    p2[j] = p2[j + dup] = (int16_t)(v02 >> 16);
    p1[j] = p1[j + dup] = (int16_t)v13;
    p3[j] = p3[j + dup] = (int16_t)(v13 >> 16);
  }
}

/* Weights and requantization of channel ch in the short form when `allow_small` and the channel
 * fits it (returned), else in the exact form (weights and bias not doubled). */
static int chan_setup(const th_conv_params *c, const dw3_view *v, int32_t ch, dw3_chan *k, int allow_small) {
  const int32_t bias = c->bias ? c->bias[ch] : 0, shift = c->out_shift[ch];
  const int small = allow_small && th_dsp_small_shift(shift) && bias < TH_DSP_SMALL_ACC_LIMIT &&
                    bias > -TH_DSP_SMALL_ACC_LIMIT;
  const int32_t scale = small ? 2 : 1;
  for (int32_t r = 0; r < 3; ++r) {
    const int8_t *w = c->filter + (size_t)r * v->w_row_step + ch;
    const int32_t w0 = w[0] * scale, w1 = w[v->w_col_step] * scale, w2 = w[2 * v->w_col_step] * scale;
    k->w[2 * r] = th_pack16(w0, w1);
    k->w[2 * r + 1] = th_pack16(w1, w2);
  }
  k->acc0 = k->acc0_again = bias * scale;
  k->mult = c->out_multiplier[ch];
  k->e = small ? -shift : 1;
  k->bias_e = small ? (1 << (k->e - 1)) + (int32_t)((uint32_t)c->output_offset << k->e) : 0;
  k->act_min = c->act_min;
  k->act_max = c->act_max;
  k->out_step = v->out_col_step;
  return small;
}

TH_ALIGN_LOOPS TH_NO_LIBCALLS void th_dw3_run(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  const dw3_view v = view_of(c);
  uint8_t *planes = (uint8_t *)(void *)c->scratch;
  uint8_t *group_out = transposed(c) ? planes + TH_DW3_SCRATCH_BYTES : NULL;
  const int32_t cols = v.out_cols + 2;
  const int32_t lo = v.pad_col < cols ? v.pad_col : cols;
  int32_t hi = v.pad_col + v.in_cols < cols + 1 ? v.pad_col + v.in_cols : cols + 1;
  if (hi < lo) hi = lo;
  for (int32_t i = 0; i < 4 * PLANE / 4; ++i) ((uint32_t *)(void *)planes)[i] = 0; /* padding columns */
  uint8_t zero[3] = {1, 1, 1}; /* ring slots that hold a zero row (kept across groups) */
  for (int32_t ch = 0; ch < c->out_c; ch += 4) {
    dw3_chan k[4];
    int small = 1;
    for (int32_t i = 0; i < 4; ++i) {
      small &= chan_setup(c, &v, ch + i, &k[i], 1);
      k[i].last = i == 3;
    }
    if (!small) /* the whole group in the exact form */
      for (int32_t i = 0; i < 4; ++i) chan_setup(c, &v, ch + i, &k[i], 0);
    int32_t slot_row[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
    for (int32_t oy = 0; oy < v.out_rows; ++oy) {
      const int32_t y0 = oy * v.stride_row - v.pad_row, s0 = ((y0 % 3) + 3) % 3;
      for (int32_t r = 0; r < 3; ++r) {
        const int32_t s = (s0 + r) % 3;
        if (slot_row[s] != y0 + r) widen_row(c, &v, planes, y0 + r, ch, s, lo, hi, zero);
        slot_row[s] = y0 + r;
      }
      const int32_t pairs = v.out_cols / 2;
      for (int32_t i = 0; i < 4; ++i) {
        k[i].p = planes + i * PLANE + s0 * SLOT;
        k[i].out = group_out ? (int8_t *)(void *)group_out + (size_t)oy * v.out_row_step + i
                             : c->output + (size_t)oy * v.out_row_step + ch + i;
        k[i].end = k[i].p + 4 * pairs;
        k[i].single = v.out_cols & 1;
      }
#ifdef TH_HAVE_DSP
      if (small) {
        const int clamp = !(c->act_min == -128 && c->act_max == 127);
        (clamp ? dw3_s1_clamp : dw3_s1)(k);
        continue;
      }
#endif
      for (int32_t i = 0; i < 4; ++i)
        dw3_row_c(&k[i], v.out_cols, small, c, c->out_multiplier + ch + i, c->out_shift + ch + i);
    }
    if (group_out) { /* the group's input is all read: its four channels of every pixel, a word each */
      const uint32_t *src = (const uint32_t *)(const void *)group_out, *end = src + c->out_h * c->out_w;
      const int32_t step = c->out_c; /* in locals: the stores may alias *c, which GCC would reload */
      for (int8_t *dst = c->output + ch; src != end; dst += step) th_write_u32(dst, *src++);
    }
  }
}
