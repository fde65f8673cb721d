/* Scratch sizes of the heavy kernels. The harness plans this many bytes in the arena for each
 * call (harness/codegen/scratch.py mirrors these formulas; tests/codegen checks they agree).
 * The budget is that of an im2col scheme: two int16 columns of one receptive field for conv, three
 * with the int16 packed layout (1x1 convolutions included: widened columns let them use the SMLAD
 * loops); for
 * depthwise with multiplier 1 and channels in fours, a widened filter group and k_h widened input
 * rows (the optimized kernel's ring), or, for the 3x3 layers dwconv3x3.c takes, its four channel
 * planes (th_dw3_scratch_bytes). The reference kernels use none of it.
 *
 * Layout contract the harness relies on (harness/codegen/overlap.py): the arena plan may lay a
 * layer's output over its input when the input dies at that layer. Kernels therefore write output
 * pixels in raster order, never before reading the input of any pixel more than 4 pixels earlier
 * (conv: reading pixel p's receptive field may happen up to 4 pixels after writing pixel p-4);
 * depthwise (multiplier 1) keeps this order per channel and may visit channel groups in any
 * order, as the output is laid channel-aligned over its input. */
#include "th_kernels.h"

int32_t th_conv2d_s8_scratch_bytes(const th_conv_params *p) {
  /* conv_winograd.c: V (16 positions x in_c / 4 groups x 6 words) and the 16 x 6 sums */
  if (p->wino) return 96 * p->in_c + 384;
  /* K rounded up to a group of four: the packed path's im2col fills a last partial group. The
   * int16 packed layout multiplies three pixels at a time (conv_packed.c), the others two. */
  return (p->packed ? 3 : 2) * ((p->k_h * p->k_w * p->in_c + 3) & ~3) * (int32_t)sizeof(int16_t);
}

int32_t th_dwconv_s8_scratch_bytes(const th_dwconv_params *p) {
  const th_conv_params *c = &p->conv;
  if (th_dw3_applies(p)) return th_dw3_scratch_bytes(p);
  if (p->depth_multiplier != 1 || (c->out_c & 3) != 0 || c->k_h > 16) return 0;
  const int32_t padded_width = (c->out_w - 1) * c->stride_w + (c->k_w - 1) * c->dilation_w + 1;
  return 8 * c->k_h * (c->k_w + padded_width);
}
