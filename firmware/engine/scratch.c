/* Scratch sizes of the heavy kernels. The harness plans this many bytes in the arena for each
 * call (harness/codegen/scratch.py mirrors these formulas; tests/codegen checks they agree).
 * The budget is that of an im2col scheme: two int16 columns of one receptive field for conv
 * (1x1 convolutions without padding, any stride, read the input directly and need none); the
 * depthwise kernels read the input directly and need none. The reference kernels use none of it. */
#include "th_kernels.h"

int32_t th_conv2d_s8_scratch_bytes(const th_conv_params *p) {
  const int pointwise = p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0;
  if (pointwise) return 0;
  return 2 * p->k_h * p->k_w * p->in_c * (int32_t)sizeof(int16_t);
}

int32_t th_dwconv_s8_scratch_bytes(const th_dwconv_params *p) {
  (void)p;
  return 0;
}
