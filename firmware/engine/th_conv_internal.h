/* Shared by the CONV_2D files (opt_conv.c: dispatch and the int8-filter path; conv_im2col.c: the
 * interleaved columns; conv_gemm_asm.c: the int8-filter assembly; conv_packed.c: the packed
 * layouts). Not part of the engine's API (th_kernels.h). */
#ifndef TH_CONV_INTERNAL_H
#define TH_CONV_INTERNAL_H

#include "th_dsp.h"
#include "th_kernels.h"

/* Where one pixel's widened groups go in an interleaved int16 im2col buffer, in 32-bit words:
 * group g's lane-(0,2) word at first + g * group, its lane-(1,3) word `gap` words after it. */
typedef struct {
  int32_t first, gap, group;
} th_col_layout;
/* Two pixels, each group's lanes together: [A02 A13 B02 B13] (opt_conv.c, the int8 packed layout). */
TH_INLINE th_col_layout th_col_pairs(int32_t pix) { return (th_col_layout){2 * pix, 1, 4}; }
/* Three pixels, lane words of one kind together: [A02 B02 C02 A13 B13 C13], so one LDM of three
 * words feeds a weight word's three SMLADs (the int16 packed layout's 3x2 loop). */
TH_INLINE th_col_layout th_col_triples(int32_t pix) { return (th_col_layout){pix, 3, 6}; }

/* im2col of output pixel (oy, ox) as pixel `pix` (0 = A, 1 = B) of th_col_pairs' buffer `col`: per
 * group of four values [A0 A2 A1 A3 B0 B2 B1 B3] (the lanes SXTB16 / SXTB16 ROR 8 give), input
 * offset added, padding taps 0. `padded` 0: the K % 4 leftovers follow the groups (A's, then B's);
 * 1: they fill a last group whose spare lanes are 0. */
void th_conv_im2col_pixel(const th_conv_params *p, int32_t oy, int32_t ox, int32_t pix, int16_t *col, int padded);
/* The packed layouts' im2col (padded) in `layout`, with a byte gather first when in_c % 4 != 0. */
void th_conv_im2col_packed(const th_conv_params *p, int32_t oy, int32_t ox, th_col_layout layout, int16_t *col);

/* A 1x1 convolution whose output pixel q reads input pixel q (stride 1, no padding) and in_c % 4 == 0:
 * th_conv_im2col_pointwise_block fills a whole block's columns (pixels first.., three in
 * th_col_triples when `triples`, else two in th_col_pairs; past n_pix the last pixel again) with
 * no per-pixel dispatch or division. */
int th_conv_pointwise_contiguous(const th_conv_params *p);
void th_conv_im2col_pointwise_block(const th_conv_params *p, int32_t first, int32_t n_pix, int triples, int16_t *col);

/* The packed paths (conv_packed.c): p->packed (int16 weights) or p->packed8 (int8 weights). */
void th_conv_run_packed(const th_conv_params *p);

#ifdef TH_HAVE_DSP
/* The int16 multiply loop of conv_packed.c and conv_winograd.c: 2 channels x 3 columns per group of
 * four K values. r0: columns (th_col_triples), r1: weights (c0 (0,2), c1 (0,2), c0 (1,3), c1 (1,3)),
 * r2/r3: weight words, r4-r6: column words, r7-r9: c0's accumulators (A, B, C), r10-r12: c1's. */
#define PK16_HALF                 \
  "ldm r0!, {r4-r6}\n\t"          \
  "ldm r1!, {r2, r3}\n\t"         \
  "smlad r7, r2, r4, r7\n\t"      \
  "smlad r8, r2, r5, r8\n\t"      \
  "smlad r9, r2, r6, r9\n\t"      \
  "smlad r10, r3, r4, r10\n\t"    \
  "smlad r11, r3, r5, r11\n\t"    \
  "smlad r12, r3, r6, r12\n\t"
#define PK16_GROUP PK16_HALF PK16_HALF /* lanes (0,2), then (1,3) */
/* lr (>= 1) groups, four a pass: a count that is not a multiple of four enters the pass at the group
 * that leaves a multiple of four. Uses r3 and the local labels 1-4. */
#define PK16_GROUPS                                                \
  "ands r3, lr, #3\n\t"                                            \
  "beq 1f\n\t"                                                     \
  "add lr, lr, #3\n\t" /* G rounded up to a multiple of 4 */       \
  "bic lr, lr, #3\n\t"                                             \
  "cmp r3, #2\n\t"                                                 \
  "blo 4f\n\t" /* G % 4 == 1: the last group only */               \
  "beq 3f\n\t"                                                     \
  "b 2f\n\t"                                                       \
  TH_ASM_ALIGN "1:\n\t" PK16_GROUP                                 \
  "2:\n\t" PK16_GROUP                                              \
  "3:\n\t" PK16_GROUP                                              \
  "4:\n\t" PK16_GROUP                                              \
  "subs lr, lr, #4\n\t"                                            \
  "bne 1b\n\t"

/* Arguments of the int8-filter assembly (conv_gemm_asm.c). Field offsets are used by the
 * assembly: keep the order. */
typedef struct {
  const int16_t *col;     /* 0: interleaved im2col of the two pixels */
  const int8_t *w;        /* 4: filter row of the current channel pair's first channel */
  int32_t k_minus_4;      /* 8 */
  int32_t n_groups;       /* 12: K / 4, >= 1 */
  int8_t *out_a, *out_b;  /* 16, 20: outputs of the current channel pair */
  int32_t n_pairs;        /* 24: >= 1 */
  const int32_t *bias;    /* 28 */
  const int32_t *mult;    /* 32 */
  const int32_t *shift;   /* 36 */
  int32_t round_offset;   /* 40: 1 + 2 * output_offset */
  int32_t act_min;        /* 44 */
  int32_t act_max;        /* 48 */
  int32_t clamp;          /* 52: 0 when [act_min, act_max] is the whole int8 range */
  int32_t in_delta;       /* 56: pointwise only: pixel B's input minus pixel A's, in bytes */
  uint32_t offset2;       /* 60: pointwise only: the input offset in both int16 lanes */
  int32_t tail;           /* 64: im2col only: K % 4 leftover values per pixel (after the groups) */
  int32_t tail_bytes;     /* 68: 2 * tail, pixel B's leftovers follow pixel A's */
} gemm_asm_args;

/* Every channel pair of the two pixels in `col`, requantization included. */
void th_conv_gemm_2x2_asm(gemm_asm_args *a);
/* The same for a 1x1 convolution reading the two int8 input pixels directly (no scratch). */
void th_conv_pointwise_2x2_asm(gemm_asm_args *a);
#endif

#endif
