/* Shared by the DEPTHWISE_CONV_2D files (opt_dwconv.c: dispatch and the four-channel ring;
 * dwconv_ring3.c: that ring's 3x3 row in assembly; dwconv3x3.c: the channel-plane 3x3 kernel, and
 * dwconv3x3_asm.c: its rows in assembly).
 * Not part of the engine's API (th_kernels.h). */
#ifndef TH_DWCONV_INTERNAL_H
#define TH_DWCONV_INTERNAL_H

#include "th_dsp.h"
#include "th_kernels.h"

/* Requantization constants of four channels, hoisted out of the pixel loop. */
typedef struct {
  int32_t acc0[4];  /* accumulator start: bias, or 2 * bias in the short form */
  int32_t mult[4], shift[4];
  int32_t bias_e[4], e[4]; /* short form (see th_dsp_requantize_small) */
  int small;               /* all four channels qualify for the short form */
} group_quant;

/* dwconv3x3.c: one channel's part of a call. Field offsets are used by the assembly: keep the order. */
typedef struct {
  uint32_t w[6];            /* 0: W01, W12 of kernel rows 0, 1, 2 */
  const uint8_t *p;         /* 24: plane, window row 0, column 0 of the call's first row */
  int8_t *out;              /* 28: output pixel 0 of this channel in that row */
  const uint8_t *end;       /* 32: p after the pairs of the row at hand (the assembly sets it) */
  int32_t single;           /* 36: 1 when a lone last output follows the pairs (odd out_w) */
  int32_t acc0, acc0_again; /* 40, 44: accumulator start, 2 * bias (twice: one LDRD for two) */
  int32_t mult, bias_e, e;  /* 48, 52, 56: th_dsp_requantize_small's constants */
  int32_t act_min, act_max; /* 60, 64 */
  int32_t out_step;         /* 68: bytes from one output to the next in a row */
  int32_t last;             /* 72: 1 for the group's fourth channel */
  int32_t rows_left;        /* 76: rows taken one at a time, minus 1 (-1: none), counting down */
  int32_t p_skip, out_skip; /* 80, 84: from a row's end to the next row's start, plane and output */
  int32_t pair_bytes;       /* 88: end - p of every row */
  int32_t row_pairs;        /* 92: pairs of rows taken two at a time first (stride 1), counting down */
  int32_t out_row_step;     /* 96: bytes from an output row to the next */
} dw3_chan;

#ifdef TH_HAVE_DSP
/* The four channels' (dw3_chan[4], `last` on the fourth) rows of one call; the second applies
 * [act_min, act_max] too (dwconv3x3_asm.c). */
void th_dw3_rows_asm(const dw3_chan *k);
void th_dw3_rows_clamp_asm(const dw3_chan *k);

/* One output row of one group of four channels, 3x3, from three widened ring rows (dwconv_ring3.c).
 * Field offsets are used by the assembly: keep the order. */
typedef struct {
  const uint32_t *row[3]; /* 0, 4, 8: widened rows at the first output pixel */
  const uint32_t *w;      /* 12: 9 taps x 2 words, doubled weights */
  int8_t *out;            /* 16 */
  int32_t out_stride;     /* 20: out_c */
  int32_t step_bytes;     /* 24: 8 * stride_w */
  int32_t n;              /* 28: out_w, >= 1 */
  int32_t acc0[4];        /* 32 */
  int32_t mult[4];        /* 48 */
  int32_t bias_e[4];      /* 64 */
  int32_t e[4];           /* 80 */
  int32_t act_min;        /* 96 */
  int32_t act_max;        /* 100 */
  int32_t clamp;          /* 104: 0 when [act_min, act_max] is the whole int8 range */
} dw3_row_args;

void th_dw_ring3_row_asm(const dw3_row_args *a);
/* The per-group part of the arguments; the caller sets row[] and out for each output row. */
void th_dw_ring3_args(const th_conv_params *c, const uint32_t *w, const group_quant *q, dw3_row_args *a);
#endif

#endif
