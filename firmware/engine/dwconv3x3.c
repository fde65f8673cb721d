/* Optimized int8 DEPTHWISE_CONV_2D, 3x3 kernel (depth multiplier 1, dilation 1, stride_w 1, or stride_h 1
 * walked transposed), bit-exact with TFLM's reference DepthwiseConvPerChannel. opt_dwconv.c sends these
 * layers here.
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
 * registers; an odd last output takes the even formula alone. Two output rows are taken at once
 * (rows R and R + 1 read window rows 0-2 and 1-3): each of the four rows' P0/P1 loads serves both
 * output rows it falls in, 24 multiplies and 4 LDRD for 36 MACs. A call covers up to six output
 * rows (chunk_rows): the C driver widens their input rows (eight at most) into slots of 128 bytes,
 * so the window's rows are always at p, p + 128, p + 256, p + 384 (LDRD immediates), and the
 * assembly walks the rows itself, in pairs and then one alone. The next call's first two rows are
 * this call's last two, moved down by LDM / STM (keep_rows): each input row is read once.
 * Stride 2 stays on opt_dwconv.c's ring: the even formula alone with planes (its next P0 is this
 * P1) was slower in the timing model on every VWW stride-2 layer but the 48x48 one (VWW 15.34 ->
 * 15.41 M est. cycles): each widened value serves a quarter of the outputs.
 *
 * Cycle budget per 2 x 2 outputs of one channel (Cortex-M4 TRM DDI 0439: LDRD 3, LDM 1 + N, LDR 2,
 * SMLAxy / SMLAD / SMMULR / SSAT 1, STRB 1, taken branch 1 + 1-3 refill; scratch in SRAM, no wait
 * states): LDM of the four biases (5) + 4 LDRD (12) + 24 SMLAxy (24) + requantization of four
 * outputs: LDRD mult/bias_e (3) + 4 x (SMMULR, SUB, ADD) (12) + LDR e (2) + 4 ASR + 4 SSAT (8) +
 * LDRD of the output steps, ADD, 4 STRB, ADD (9) + loop LDR/CMP/BNE (5) = 80 cycles for 36 MACs,
 * 2.2 cycles/MAC (one row at a time: 47 per 18, 2.6; the four-channel ring: ~3.6). The profiler
 * (timing model cm4-trm 2): 81 cycles per block. Widening (widen_rows): per input row and group,
 * per pair of columns 2 LDR + 4 SXTAB16 + 4 PKHBT/PKHTB + 4 STR, about 19 cycles for 8 values used
 * 9 times each (0.26 cycles/MAC). What remains above the 1.5 cycles/MAC: requantization is
 * ~8 cycles of every 9-MAC output, and each row's and channel's setup, which small images (VWW
 * 6x6: 4.95 est. cycles/MAC) pay on few outputs.
 *
 * Scratch: 4 planes x plane_slots rows x 128 bytes (th_kernels.h), 4-byte aligned. The layer
 * qualifies when stride_w is 1 and out_w < 62 (a plane row of out_w + 2 columns plus a spare one),
 * or when it is walked transposed (below).
 * Overlap (scratch.c's layout contract): per group, the input rows of a call's output rows are
 * widened before they are written, in row order; rows kept for the next call are not read again. */
#include "th_dwconv_internal.h"

#define SLOT 128     /* bytes per plane row: 64 int16 columns */
#define MAX_SLOTS 8  /* input rows of one call when they are all the layer's (KWS 25x5: 7) */
#define RUN_SLOTS 6  /* else: calls of four rows, the last two kept for the next */
#define MAX_COLS (SLOT / 2)
/* Rows of fewer outputs whose columns are long enough are walked transposed (KWS 25x5: 2.9
 * instructions/MAC and 4.2 estimated cycles/MAC on nucleo_l4r5zi, timing model cm4-trm 1, against
 * 3.88 and 6.42 on opt_dwconv.c's four-channel ring): a lone odd output per row costs nearly a
 * pair's cycles. Layers short both ways (VWW 6x6, 3x3) are walked as they are, one call a group:
 * VWW 6x6x128 4.95 estimated cycles/MAC (cm4-trm 2) against the ring's 6.55; 3x3x256 10.09 against
 * 9.86, a difference of 5,000 cycles left for one rule. */
#define MIN_OUT_W 8

static int row_fits(int32_t n_out) { return n_out >= MIN_OUT_W && n_out + 2 < MAX_COLS; }

/* Output rows one call covers: their (n - 1) * stride + 3 input rows fill at most the slots. */
static int32_t chunk_rows(int32_t stride, int32_t slots) { return (slots - 3) / stride + 1; }

/* Rows too short for the planes but columns long enough (KWS: 25x5): the kernel walks the layer
 * transposed, taking input columns as its rows (see dw3_view), so each pass covers 25 outputs
 * instead of 5. Column by column is not raster order, so when the output lies over its input at an
 * offset (scratch.c's layout contract allows any that raster order would), a group's outputs go to
 * the scratch first and are copied out once all of the group's input has been read. */
static int transposed(const th_conv_params *c) {
  return !(c->stride_w == 1 && row_fits(c->out_w)) && c->stride_h == 1 && row_fits(c->out_h);
}

/* The input rows (padding ones too) the layer reads: image rows, or columns when transposed. */
static int32_t window_rows(const th_conv_params *c) {
  const int32_t out_rows = transposed(c) ? c->out_w : c->out_h, stride = transposed(c) ? c->stride_w : c->stride_h;
  return (out_rows - 1) * stride + 3;
}

/* Rows per plane: all the input rows the layer reads when at most MAX_SLOTS (one call a group, and
 * the planes no larger than that needs), else RUN_SLOTS (calls of four rows; more slots would cut
 * calls but grow the arena where big layers set its peak). */
static int32_t plane_slots(const th_conv_params *c) {
  const int32_t rows = window_rows(c);
  return rows <= MAX_SLOTS ? rows : RUN_SLOTS;
}

/* Whether one call a group covers the whole layer: then every input row is widened before the
 * group's first output is written. */
static int one_call(const th_conv_params *c) { return window_rows(c) <= MAX_SLOTS; }

int32_t th_dw3_scratch_bytes(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  /* a transposed walk that cannot write the output as it goes keeps a group's output (writes_direct) */
  return 4 * plane_slots(c) * SLOT + (transposed(c) && !one_call(c) ? 4 * c->out_h * c->out_w : 0);
}

int th_dw3_applies(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  return p->depth_multiplier == 1 && c->k_h == 3 && c->k_w == 3 && c->dilation_h == 1 && c->dilation_w == 1 &&
         (c->out_c & 3) == 0 && (transposed(c) || (c->stride_w == 1 && c->out_w + 2 < MAX_COLS));
}

/* The layer as the kernel walks it: `rows` advance by stride_row, `cols` (the planes' direction,
 * stride 1) are consecutive. Plain: rows are image rows. Transposed: rows are image columns, the
 * 3x3 filter is read transposed to match, and outputs go to the tensor or, unless writes_direct,
 * to the group buffer (4 channels per pixel). Steps are in bytes of the NHWC tensors (or the
 * buffer) and the OHWI filter. */
typedef struct {
  int32_t in_rows, in_cols, out_rows, out_cols, pad_row, pad_col, stride_row;
  int32_t in_row_step, in_col_step, out_row_step, out_col_step, w_row_step, w_col_step;
} dw3_view;

/* Whether a transposed walk may write the output tensor as it goes: the output lies apart from the
 * input; or one call a group covers the layer (KWS: 5 columns and two padding ones), so nothing of
 * the group's input is read from the tensor after its first output is written; or the output lies
 * exactly over an input of its shape (each output pixel over its own input pixel, whose column was
 * widened before). */
static int writes_direct(const th_conv_params *c) {
  const uintptr_t in = (uintptr_t)c->input, out = (uintptr_t)c->output;
  const uintptr_t in_end = in + (size_t)c->in_h * c->in_w * c->in_c;
  const uintptr_t out_end = out + (size_t)c->out_h * c->out_w * c->out_c;
  return out_end <= in || in_end <= out || one_call(c) || (out == in && c->out_h == c->in_h && c->out_w == c->in_w);
}

static dw3_view view_of(const th_conv_params *c, int group_buffer) {
  const int32_t in_px = c->in_c, out_px = c->out_c;
  if (transposed(c)) { /* the output goes to the tensor or to the group buffer, [out_h][out_w][4] */
    const int32_t out_col = group_buffer ? 4 : out_px; /* bytes per output pixel */
    return (dw3_view){c->in_w, c->in_h, c->out_w, c->out_h, c->pad_left, c->pad_top, c->stride_w,
                      in_px, c->in_w * in_px, out_col, c->out_w * out_col, out_px, 3 * out_px};
  }
  return (dw3_view){c->in_h, c->in_w, c->out_h, c->out_w, c->pad_top, c->pad_left, c->stride_h,
                    c->in_w * in_px, in_px, c->out_w * out_px, out_px, 3 * out_px, out_px};
}



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

/* Column j of channels ch..ch+3 alone (an odd first or last column): the word at src widened into
 * one int16 of each plane. */
TH_INLINE void widen_column(int16_t *p0, int16_t *p1, int16_t *p2, int16_t *p3, int32_t j, const int8_t *src,
                            uint32_t off2) {
  const uint32_t x = th_read_u32(src), v02 = th_sxtab16(off2, x), v13 = th_sxtab16_ror8(off2, x);
  p0[j] = (int16_t)v02;
  p2[j] = (int16_t)(v02 >> 16);
  p1[j] = (int16_t)v13;
  p3[j] = (int16_t)(v13 >> 16);
}

/* Input rows y..y + n - 1 of channels ch..ch+3 into plane slots s..s + n - 1, columns [lo, hi).
 * Two columns at a time become one word per plane: SXTAB16 gives (c0, c2) and (c1, c3) of a column,
 * PKHBT / PKHTB pair two columns' lanes, (c0 x0, c0 x1) ... (c3 x0, c3 x1): 2 LDR + 4 SXTAB16 + 4 PKH
 * + 4 STR, about 19 cycles for 8 values. Rows outside the input are zeros. One call per kernel call's
 * rows: the setup is paid once. */
static void widen_rows(const th_conv_params *c, const dw3_view *v, uint8_t *planes, int32_t plane, int32_t y,
                       int32_t ch, int32_t s, int32_t n, int32_t lo, int32_t hi) {
  const uint32_t off2 = th_pack16(c->input_offset, c->input_offset);
  const int32_t step = v->in_col_step;
  const int32_t first_col = (lo - v->pad_col) * step + ch;
  for (int32_t r = 0; r < n; ++r, ++y) {
    int16_t *p0 = (int16_t *)(void *)(planes + (s + r) * SLOT), *p1 = p0 + plane / 2, *p2 = p1 + plane / 2;
    int16_t *p3 = p2 + plane / 2;
    int32_t j = lo;
    if (y < 0 || y >= v->in_rows) {
      for (; j < hi; ++j) p0[j] = p1[j] = p2[j] = p3[j] = 0;
      continue;
    }
    const int8_t *src = c->input + (size_t)y * v->in_row_step + first_col;
    if ((j & 1) && j < hi) { /* an odd first column alone */
      widen_column(p0, p1, p2, p3, j++, src, off2);
      src += step;
    }
    for (; j + 1 < hi; j += 2, src += 2 * step) {
      const uint32_t x = th_read_u32(src), y2 = th_read_u32(src + step);
      const uint32_t a02 = th_sxtab16(off2, x), a13 = th_sxtab16_ror8(off2, x);
      const uint32_t b02 = th_sxtab16(off2, y2), b13 = th_sxtab16_ror8(off2, y2);
      *(uint32_t *)(void *)(p0 + j) = th_pkhbt(a02, b02);
      *(uint32_t *)(void *)(p1 + j) = th_pkhbt(a13, b13);
      *(uint32_t *)(void *)(p2 + j) = th_pkhtb(b02, a02);
      *(uint32_t *)(void *)(p3 + j) = th_pkhtb(b13, a13);
    }
    if (j < hi) widen_column(p0, p1, p2, p3, j, src, off2); /* an odd last column */
  }
}

/* The last `n` widened rows of the previous call (slots from..from + n - 1) to slots 0..n - 1 of
 * each plane, four words at a time (LDM / STM): `quads` per row cover every column the kernel reads. */
typedef struct {
  uint32_t w[4];
} dw3_quad;
static void keep_rows(uint8_t *planes, int32_t plane, int32_t from, int32_t n, int32_t quads) {
  for (int32_t i = 0; i < 4; ++i)
    for (int32_t r = 0; r < n; ++r) {
      dw3_quad *dst = (dw3_quad *)(void *)(planes + i * plane + r * SLOT);
      const dw3_quad *src = (const dw3_quad *)(const void *)(planes + i * plane + (from + r) * SLOT);
      for (int32_t q = 0; q < quads; ++q) dst[q] = src[q];
    }
}

/* Whether channel ch fits the short requantization (th_dsp.h). */
static int chan_small(const th_conv_params *c, int32_t ch) {
  const int32_t bias = c->bias ? c->bias[ch] : 0;
  return th_dsp_small_shift(c->out_shift[ch]) && bias < TH_DSP_SMALL_ACC_LIMIT && bias > -TH_DSP_SMALL_ACC_LIMIT;
}

/* Weights and requantization of channels ch..ch+3, in the short form when `small` (weights and
 * bias doubled), else in the exact form. A tap's four channel bytes are one word of the filter
 * (channels innermost): SXTB16 splits it into lanes (c0, c2) and (c1, c3), SADD16 doubles both
 * lanes, and PKHBT / PKHTB pair two taps of one channel, so a kernel row of the four channels
 * takes 3 loads and about 20 ALU operations. */
static void group_setup(const th_conv_params *c, const dw3_view *v, int32_t ch, dw3_chan *k, int small) {
  for (int32_t r = 0; r < 3; ++r) {
    const int8_t *w = c->filter + (size_t)r * v->w_row_step + ch;
    uint32_t t02[3], t13[3];
    for (int32_t x = 0; x < 3; ++x) {
      const uint32_t word = th_read_u32(w + x * v->w_col_step);
      t02[x] = th_sxtb16(word);
      t13[x] = th_sxtb16_ror8(word);
      if (small) t02[x] = th_sadd16(t02[x], t02[x]), t13[x] = th_sadd16(t13[x], t13[x]);
    }
    for (int32_t h = 0; h < 2; ++h) { /* W01, then W12 */
      k[0].w[2 * r + h] = th_pkhbt(t02[h], t02[h + 1]);
      k[1].w[2 * r + h] = th_pkhbt(t13[h], t13[h + 1]);
      k[2].w[2 * r + h] = th_pkhtb(t02[h + 1], t02[h]);
      k[3].w[2 * r + h] = th_pkhtb(t13[h + 1], t13[h]);
    }
  }
  for (int32_t i = 0; i < 4; ++i) {
    const int32_t bias = c->bias ? c->bias[ch + i] : 0, shift = c->out_shift[ch + i];
    k[i].acc0 = k[i].acc0_again = small ? 2 * bias : bias;
    k[i].mult = c->out_multiplier[ch + i];
    k[i].e = small ? -shift : 1;
    k[i].bias_e = small ? (1 << (k[i].e - 1)) + (int32_t)((uint32_t)c->output_offset << k[i].e) : 0;
    k[i].act_min = c->act_min;
    k[i].act_max = c->act_max;
    k[i].out_step = v->out_col_step;
    k[i].last = i == 3;
  }
}

TH_ALIGN_LOOPS TH_NO_LIBCALLS void th_dw3_run(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  uint8_t *planes = (uint8_t *)(void *)c->scratch;
  const int32_t slots = plane_slots(c), plane = slots * SLOT; /* bytes per channel plane */
  uint8_t *group_out = transposed(c) && !writes_direct(c) ? planes + 4 * plane : NULL;
  const dw3_view v = view_of(c, group_out != NULL);
  const int32_t cols = v.out_cols + 2;
  const int32_t lo = v.pad_col < cols ? v.pad_col : cols;
  int32_t hi = v.pad_col + v.in_cols < cols + 1 ? v.pad_col + v.in_cols : cols + 1;
  if (hi < lo) hi = lo;
  for (int32_t i = 0; i < plane; ++i) ((uint32_t *)(void *)planes)[i] = 0; /* padding columns (4 planes) */
  const int32_t stride = v.stride_row, per_call = chunk_rows(stride, slots);
  const int32_t pairs = v.out_cols / 2, single = v.out_cols & 1;
  for (int32_t ch = 0; ch < c->out_c; ch += 4) {
    dw3_chan k[4];
    /* the whole group in the short form, or else in the exact one */
    const int small = chan_small(c, ch) && chan_small(c, ch + 1) && chan_small(c, ch + 2) && chan_small(c, ch + 3);
    group_setup(c, &v, ch, k, small);
    int32_t first = 0, held = 0; /* slots 0..held - 1 hold input rows first.. */
    for (int32_t oy = 0; oy < v.out_rows; oy += per_call) {
      const int32_t n = v.out_rows - oy < per_call ? v.out_rows - oy : per_call;
      const int32_t y0 = oy * stride - v.pad_row, rows = (n - 1) * stride + 3;
      int32_t kept = held ? first + held - y0 : 0; /* rows the last call widened that this one reads */
      if (kept < 0) kept = 0;
      keep_rows(planes, plane, held - kept, kept, (cols + 8) / 8); /* columns [0, cols], 8 a quad */
      widen_rows(c, &v, planes, plane, y0 + kept, ch, kept, rows - kept, lo, hi);
      first = y0, held = rows;
      for (int32_t i = 0; i < 4; ++i) {
        k[i].p = planes + i * plane;
        k[i].out = group_out ? (int8_t *)(void *)group_out + (size_t)oy * v.out_row_step + i
                             : c->output + (size_t)oy * v.out_row_step + ch + i;
        k[i].single = single;
        k[i].row_pairs = stride == 1 ? n / 2 : 0;
        k[i].rows_left = n - 2 * k[i].row_pairs - 1;
        k[i].p_skip = stride * SLOT - 4 * (pairs + single);
        k[i].out_skip = v.out_row_step - v.out_cols * v.out_col_step;
        k[i].out_row_step = v.out_row_step;
        k[i].pair_bytes = 4 * pairs;
      }
#ifdef TH_HAVE_DSP
      if (small) {
        const int clamp = !(c->act_min == -128 && c->act_max == 127);
        (clamp ? th_dw3_rows_clamp_asm : th_dw3_rows_asm)(k);
        continue;
      }
#endif
      for (int32_t i = 0; i < 4; ++i)
        for (int32_t r = 0; r < n; ++r) {
          dw3_chan row = k[i];
          row.p += r * stride * SLOT;
          row.out += r * v.out_row_step;
          dw3_row_c(&row, v.out_cols, small, c, c->out_multiplier + ch + i, c->out_shift + ch + i);
        }
    }
    if (group_out) { /* the group's input is all read: its four channels of every pixel, a word each */
      const uint32_t *src = (const uint32_t *)(const void *)group_out, *end = src + c->out_h * c->out_w;
      const int32_t step = c->out_c; /* in locals: the stores may alias *c, which GCC would reload */
      for (int8_t *dst = c->output + ch; src != end; dst += step) th_write_u32(dst, *src++);
    }
  }
}
