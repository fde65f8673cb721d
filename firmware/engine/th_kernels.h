/* Builtin int8 engine: kernel entry points called by the generated model code.
 * Semantics follow the TFLite int8 quantization spec and TFLM's reference kernels bit for bit.
 * Layouts are TFLite's: activations NHWC (batch 1), conv filters OHWI, depthwise filters 1HWC,
 * fully-connected weights [out][in]. Offsets are the negated zero points, as in TFLM.
 * Each kernel has a plain C reference version (th_ref_*) and an optimized one (th_opt_*);
 * th_* dispatches to one of them at compile time (TH_KERNELS_REFERENCE selects the reference).
 * Output may overlap input (the arena plan lays a layer's output over its dying input): every
 * kernel writes output pixels in raster order within the lag stated in scratch.c. */
#ifndef TH_KERNELS_H
#define TH_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const int8_t *input;
  int32_t in_h, in_w, in_c;
  int32_t input_offset; /* -input_zero_point */
  const int8_t *filter; /* [out_c][k_h][k_w][in_c] */
  int32_t k_h, k_w;
  const int32_t *bias; /* [out_c] or NULL */
  int8_t *output;
  int32_t out_h, out_w, out_c;
  int32_t output_offset; /* +output_zero_point */
  int32_t stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  const int32_t *out_multiplier; /* [out_c] */
  const int32_t *out_shift;      /* [out_c], TFLite convention: >0 left shift */
  int32_t act_min, act_max;
  int16_t *scratch; /* planned in the arena; th_conv2d_s8_scratch_bytes() long; may be NULL if 0 */
  /* Optional, CONV_2D's optimized kernel only (depthwise ignores it): filter, bias and
   * requantization laid out by th_conv_pack (th_conv_packed_words() words, 4-byte aligned). When
   * given with scratch, th_opt_conv2d_s8 reads no `filter` (which may then be NULL). */
  const uint32_t *packed;
  /* Optional, the same with int8 weights (th_conv_pack8, th_conv_packed8_words() words; the
   * code generator's --optimize size): read when `packed` is NULL. */
  const uint32_t *packed8;
  /* Optional, 3x3 stride-1 layers (--optimize speed), read by th_opt_conv2d_s8_winograd only: the
   * Winograd F(2x2, 3x3) layout (th_conv_wino_words() words; harness/codegen/winograd.py). */
  const uint32_t *wino;
} th_conv_params;

/* Depthwise: filter [1][k_h][k_w][out_c], out_c = in_c * depth_multiplier. */
typedef struct {
  th_conv_params conv;
  int32_t depth_multiplier;
} th_dwconv_params;

typedef struct {
  const int8_t *input; /* [batches][in_n] */
  int32_t batches, in_n, out_n;
  int32_t input_offset;
  const int8_t *weights; /* [out_n][in_n] */
  int32_t weights_offset; /* -weights_zero_point, 0 for symmetric */
  const int32_t *bias;    /* [out_n] or NULL */
  int8_t *output;         /* [batches][out_n] */
  int32_t output_offset;
  const int32_t *out_multiplier; /* [out_n] when per_channel, else [1] */
  const int32_t *out_shift;
  int32_t per_channel;
  int32_t act_min, act_max;
  /* Optional, optimized kernel only: the weights (weights offset added) widened to int16 and laid
   * out by th_fc_pack_s16 (th_fc_packed_count elements, 4-byte aligned). When given, th_opt_fc_s8
   * reads no `weights` (which may then be NULL); the reference kernel always reads `weights`. */
  const int16_t *packed;
  /* Optional, optimized kernel only, read when `packed` is NULL: the int8 weights in blocks of four
   * rows (th_fc_pack_s8, th_fc_packed_count bytes, 4-byte aligned; --optimize size). Needs
   * weights_offset 0 (TFLite's symmetric int8 weights); `weights` is then not read. */
  const int8_t *packed8;
} th_fc_params;

/* Scratch bytes the chosen conv implementation needs (planned into the arena by the harness). */
int32_t th_conv2d_s8_scratch_bytes(const th_conv_params *p);
int32_t th_dwconv_s8_scratch_bytes(const th_dwconv_params *p);

/* The 3x3 depthwise kernel (dwconv3x3.c, called by th_opt_dwconv_s8): whether a layer takes it
 * (depth multiplier 1, 3x3, dilation 1, out_c % 4 == 0, and stride_h 1 with 8 <= out_h < 62 when
 * stride_w is not 1 or out_w < 8: walked transposed; else stride_w 1 with out_w < 62), and its
 * scratch: four int16 channel planes of R 128-byte rows, R the input rows the layer reads (padding
 * ones included; image rows, or columns when transposed) when at most 8, else 6; plus, for a
 * transposed walk with R over 8, one group's output (4 * out_h * out_w bytes). With stride 1, at
 * most TH_DW3_SCRATCH_MAX_BYTES. */
#define TH_DW3_SCRATCH_MAX_BYTES (4 * 6 * 128 + 4 * 61 * 7)
int th_dw3_applies(const th_dwconv_params *p);
int32_t th_dw3_scratch_bytes(const th_dwconv_params *p);
void th_dw3_run(const th_dwconv_params *p);

/* FC weight layout of the optimized kernel (fc_pack.c; harness/codegen/pack.py mirrors it):
 * rows in blocks of four (rows past out_n are zero), each block the in_n & ~3 inputs in groups of
 * four as 8 words [r0 (w0,w2)] [r0 (w1,w3)] [r1 ...] [r2 ...] [r3 ...], then the in_n % 4 leftover
 * values of r0, r1, r2, r3. Every value is the int16 w + weights_offset. */
int32_t th_fc_packed_count(int32_t out_n, int32_t in_n);
void th_fc_pack_s16(const int8_t *weights, int32_t out_n, int32_t in_n, int32_t weights_offset, int16_t *dst);
/* The int8 layout: the same blocks of four rows, each group of four inputs as 4 words, one per row
 * [r0 w0 w1 w2 w3] [r1 ...] [r2 ...] [r3 ...] (bytes as in the filter), then the leftovers of r0..r3. */
void th_fc_pack_s8(const int8_t *weights, int32_t out_n, int32_t in_n, int8_t *dst);

/* CONV_2D layout of the optimized kernel (conv_pack.c; harness/codegen/pack.py mirrors it), for
 * layers where out_c is even, |bias| < 2^29, K * 255 * 128 < 2^29 (K = k_h * k_w * in_c) and every
 * channel's requantization fits 32 bits (conv_pack.c's channel_quant: right shifts up to 31, with
 * always-constant channels such as multiplier 0 encoded as multiplier 0, e = 1);
 * th_conv_packed_words() is 0 otherwise. Per pair of output channels (c0, c1), G = ceil(K / 4):
 *   [2*bias c0] [2*bias c1]
 *   G x { [c0 (w0,w2)] [c0 (w1,w3)] [c1 (w0,w2)] [c1 (w1,w3)] }   int16 lanes, 2 * weight, 0 past K
 *   [mult c0] [mult c1] [bias_e c0] [bias_e c1] [e c0] [e c1]
 * with e = -shift and bias_e = (1 << (e - 1)) + (output_offset << e): out = SSAT8((SMMULR(acc2, mult)
 * - (negative) + bias_e) >> e) as th_dsp_requantize_small, acc2 = 2 * (bias + dot product). */
int32_t th_conv_packed_words(const th_conv_params *p);
void th_conv_pack(const th_conv_params *p, uint32_t *dst);
/* The int8 layout (--optimize size), for the same layers: per channel pair
 *   [bias c0] [bias c1]  G x { [c0 w0 w1 w2 w3] [c1 w0 w1 w2 w3] } (int8 bytes, 0 past K)
 *   [mult c0] [mult c1] [bias_e c0] [bias_e c1] [e c0] [e c1]
 * (biases and weights not doubled: the kernel doubles the sum); 0 words when the layer does not
 * qualify, exactly when th_conv_packed_words() is 0. */
int32_t th_conv_packed8_words(const th_conv_params *p);
/* The Winograd F(2x2, 3x3) layout, for 3x3 stride-1 undilated layers with in_c % 4 == 0 that take
 * the packed layout and whose sums fit 32 bits; per channel pair (c0, c1), G = in_c / 4:
 *   [2*bias c0] [2*bias c1]
 *   16 x G x { [c0 (u0,u2)] [c1 (u0,u2)] [c0 (u1,u3)] [c1 (u1,u3)] }   U = (2G) g (2G)^T, int16
 *   [mult c0] [mult c1] [bias_e c0] [bias_e c1] [e c0] [e c1]          as the packed layout
 * Transform position 4 * row + column; 0 words when the layer does not qualify. */
int32_t th_conv_wino_words(const th_conv_params *p);
void th_conv_wino_pack(const th_conv_params *p, uint32_t *dst);
void th_conv_pack8(const th_conv_params *p, uint32_t *dst);

void th_ref_conv2d_s8(const th_conv_params *p);
void th_ref_dwconv_s8(const th_dwconv_params *p);
void th_ref_fc_s8(const th_fc_params *p);
void th_opt_conv2d_s8(const th_conv_params *p);
void th_opt_dwconv_s8(const th_dwconv_params *p);
void th_opt_fc_s8(const th_fc_params *p);
/* The optimized build's entry for a layer with a Winograd layout (p->wino, conv_winograd.c; needs
 * th_conv2d_s8_scratch_bytes() of word-aligned scratch). th_opt_conv2d_s8 does not read p->wino, so
 * a build whose model has no such layer links no Winograd code. */
void th_opt_conv2d_s8_winograd(const th_conv_params *p);

#ifdef TH_KERNELS_REFERENCE
#define th_conv2d_s8 th_ref_conv2d_s8
#define th_dwconv_s8 th_ref_dwconv_s8
#define th_fc_s8 th_ref_fc_s8
#else
#define th_conv2d_s8 th_opt_conv2d_s8
#define th_dwconv_s8 th_opt_dwconv_s8
#define th_fc_s8 th_opt_fc_s8
#endif

/* The remaining ops (pooling, elementwise, softmax, quantize, ...) are declared in
 * th_ops.h by the codegen/engine work; they are light and have one implementation each. */

#ifdef __cplusplus
}
#endif
#endif
