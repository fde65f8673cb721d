/* The packed CONV_2D paths: the code generator lays each layer out offline (th_kernels.h;
 * harness/codegen/pack.py, conv_pack.c) as one stream per channel pair (c0, c1):
 *   [bias c0] [bias c1]  G groups of weights  [mult c0] [mult c1] [bias_e c0] [bias_e c1] [e c0] [e c1]
 * so one pointer walks the layer and no pointer or constant is stored back per pair.
 *   p->packed  (--optimize speed): weights doubled and widened to int16, lanes (w0,w2),(w1,w3):
 *              4 words per group; biases doubled too, so the sums are the 2 * acc SMMULR wants.
 *   p->packed8 (--optimize size): the int8 filter bytes as they are (w0 w1 w2 w3 of c0, then of c1):
 *              2 words per group, widened in the loop with SXTB16 / SXTB16 ROR 8 (lanes (0,2),(1,3));
 *              the sums are doubled by one LSL before the requantization.
 * Both multiply 2 channels x 2 pixels per group of four K values against the interleaved im2col
 * columns of conv_im2col.c (K zero-padded to a multiple of 4: no tail loop).
 *
 * Cycle budget per group, 16 MACs (Cortex-M4 TRM DDI 0439: LDM of N words 1 + N, SMLAD and
 * SXTB16 1, no wait states assumed; a flash wait state adds to each weight word fetched):
 *   int16: LDM 4 column words (5) + 2 x LDM 2 weight words (3 + 3) + 8 SMLAD (8) = 19 cycles,
 *          1.19 cycles/MAC; 11 instructions (0.69 instructions/MAC).
 *   int8:  LDM 4 column words (5) + LDM 2 weight words (3) + 4 SXTB16 (4) + 8 SMLAD (8) = 20 cycles,
 *          1.25 cycles/MAC; 14 instructions; half the weight bytes fetched from flash.
 * Per channel pair and two pixels: LDM 2 biases (3) + 2 MOV + LDM 6 constants (7) + 4 x 5
 * requantization (SMMULR, SUB, ADD, ASR, SSAT; + 4 LSL for int8) + 2 BFI + 2 STRH + loop ~8, about
 * 45 cycles: on IC's 16->16 3x3 layer (36 groups) 684 + 45 cycles for 576 MACs, 1.27 cycles/MAC.
 * A narrower activation range adds SSUB8 + SEL per bound and pixel (both channels at once). */
#include "th_conv_internal.h"

/* Field offsets are used by the assembly: keep the order. */
typedef struct {
  const int16_t *col;    /* 0: interleaved im2col of the two pixels, G groups */
  int32_t n_groups;      /* 4: G >= 1 */
  int8_t *out_a, *out_b; /* 8, 12: outputs of the current channel pair */
  const uint32_t *end;   /* 16: one past the packed layer */
  int32_t clamp;         /* 20: 0 when [act_min, act_max] is the whole int8 range */
  uint32_t min4, max4;   /* 24, 28: act_min / act_max in every byte */
  const uint32_t *w;     /* 32: the packed layer */
} packed_args;

#ifdef TH_HAVE_DSP
/* r0: columns, r1: weights, r4-r7: the group's column words, r8-r11: accumulators
 * (c0 A, c0 B, c1 A, c1 B), r2/r3/r12: weight words. */
#define PK16_GROUP                \
  "ldm r0!, {r4-r7}\n\t"          \
  "ldm r1!, {r2, r3}\n\t"         \
  "smlad r8, r2, r4, r8\n\t"      \
  "smlad r8, r3, r5, r8\n\t"      \
  "smlad r9, r2, r6, r9\n\t"      \
  "smlad r9, r3, r7, r9\n\t"      \
  "ldm r1!, {r2, r3}\n\t"         \
  "smlad r10, r2, r4, r10\n\t"    \
  "smlad r10, r3, r5, r10\n\t"    \
  "smlad r11, r2, r6, r11\n\t"    \
  "smlad r11, r3, r7, r11\n\t"
#define PK8_GROUP                 \
  "ldm r0!, {r4-r7}\n\t"          \
  "ldm r1!, {r2, r3}\n\t"         \
  "sxtb16 r12, r2\n\t"            \
  "sxtb16 r2, r2, ror #8\n\t"     \
  "smlad r8, r12, r4, r8\n\t"     \
  "smlad r8, r2, r5, r8\n\t"      \
  "smlad r9, r12, r6, r9\n\t"     \
  "smlad r9, r2, r7, r9\n\t"      \
  "sxtb16 r12, r3\n\t"            \
  "sxtb16 r3, r3, ror #8\n\t"     \
  "smlad r10, r12, r4, r10\n\t"   \
  "smlad r10, r3, r5, r10\n\t"    \
  "smlad r11, r12, r6, r11\n\t"   \
  "smlad r11, r3, r7, r11\n\t"
/* th_dsp_requantize_small on an accumulator that holds 2 * acc, then SSAT. */
#define PK_REQ(acc, m, be, e)                  \
  "smmulr " acc ", " acc ", " m "\n\t"        \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "add " acc ", " acc ", " be "\n\t"           \
  "asr " acc ", " acc ", " e "\n\t"            \
  "ssat " acc ", #8, " acc "\n\t"
#define PK_DOUBLE(acc) "lsl " acc ", " acc ", #1\n\t"

/* The channel-pair loop around GROUP; DOUBLE doubles the sums (int8 layout) or is empty.
 * The argument block's address stays on the stack (r12 is a weight temporary in the int8 loop). */
#define PK_ROUTINE(GROUP, DOUBLE)                                                      \
  "push {r0, r4-r11, lr}\n\t"                                                          \
  "ldr r1, [r0, #32]\n\t"                                                              \
  "0:\n\t"                                                                             \
  "ldm r1!, {r8, r10}\n\t"                                                             \
  "mov r9, r8\n\t"                                                                     \
  "mov r11, r10\n\t"                                                                   \
  "ldr r12, [sp]\n\t"                                                                  \
  "ldr r0, [r12, #0]\n\t"                                                              \
  "ldr lr, [r12, #4]\n\t"                                                              \
  "tst lr, #1\n\t"                                                                     \
  "beq 1f\n\t"                                                                         \
  "add lr, lr, #1\n\t" /* odd group count: enter the unrolled loop at its second half */ \
  "b 2f\n\t"                                                                           \
  "1:\n\t" GROUP                                                                       \
  "2:\n\t" GROUP                                                                       \
  "subs lr, lr, #2\n\t"                                                                \
  "bne 1b\n\t"                                                                         \
  "ldm r1!, {r0, r2, r3, r4, r5, r6}\n\t" /* mult0 mult1 bias_e0 bias_e1 e0 e1 */      \
  DOUBLE("r8") DOUBLE("r9") DOUBLE("r10") DOUBLE("r11")                                \
  PK_REQ("r8", "r0", "r3", "r5") PK_REQ("r9", "r0", "r3", "r5")                        \
  PK_REQ("r10", "r2", "r4", "r6") PK_REQ("r11", "r2", "r4", "r6")                      \
  "bfi r8, r10, #8, #8\n\t" /* pixel A: channel 0 | channel 1 << 8 */                  \
  "bfi r9, r11, #8, #8\n\t" /* pixel B */                                              \
  "ldr r12, [sp]\n\t"                                                                  \
  "ldr r0, [r12, #20]\n\t"                                                             \
  "cbz r0, 3f\n\t"                                                                     \
  "ldrd r2, r3, [r12, #24]\n\t"                                                        \
  "ssub8 r0, r8, r2\n\t"                                                               \
  "sel r8, r8, r2\n\t"                                                                 \
  "ssub8 r0, r9, r2\n\t"                                                               \
  "sel r9, r9, r2\n\t"                                                                 \
  "ssub8 r0, r3, r8\n\t"                                                               \
  "sel r8, r8, r3\n\t"                                                                 \
  "ssub8 r0, r3, r9\n\t"                                                               \
  "sel r9, r9, r3\n\t"                                                                 \
  "3:\n\t"                                                                             \
  "ldrd r2, r3, [r12, #8]\n\t"                                                         \
  "strh r8, [r2], #2\n\t"                                                              \
  "strh r9, [r3], #2\n\t"                                                              \
  "strd r2, r3, [r12, #8]\n\t"                                                         \
  "ldr r0, [r12, #16]\n\t"                                                             \
  "cmp r1, r0\n\t"                                                                     \
  "bne 0b\n\t"                                                                         \
  "pop {r0, r4-r11, pc}\n\t"
#define PK_NOTHING(acc) ""

__attribute__((naked, noinline)) static void gemm_packed16(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(PK_ROUTINE(PK16_GROUP, PK_NOTHING));
}

__attribute__((naked, noinline)) static void gemm_packed8(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(PK_ROUTINE(PK8_GROUP, PK_DOUBLE));
}
#else
/* Plain C of the same arithmetic (host tests): `wide` 1 for the int16 layout, 0 for int8. */
static void gemm_packed_c(const packed_args *a, int wide) {
  const int32_t lo = (int8_t)(a->min4 & 0xFF), hi = (int8_t)(a->max4 & 0xFF);
  int8_t *out_a = a->out_a, *out_b = a->out_b;
  for (const uint32_t *w = a->w; w != a->end; out_a += 2, out_b += 2) {
    int32_t acc[4] = {(int32_t)w[0], (int32_t)w[0], (int32_t)w[1], (int32_t)w[1]};
    w += 2;
    const uint32_t *col = (const uint32_t *)(const void *)a->col;
    for (int32_t g = 0; g < a->n_groups; ++g, col += 4, w += wide ? 4 : 2) {
      /* channel c's (0,2) and (1,3) lane words */
      const uint32_t c0_02 = wide ? w[0] : th_sxtb16(w[0]), c0_13 = wide ? w[1] : th_sxtb16_ror8(w[0]);
      const uint32_t c1_02 = wide ? w[2] : th_sxtb16(w[1]), c1_13 = wide ? w[3] : th_sxtb16_ror8(w[1]);
      acc[0] = th_smlad(c0_13, col[1], th_smlad(c0_02, col[0], acc[0]));
      acc[1] = th_smlad(c0_13, col[3], th_smlad(c0_02, col[2], acc[1]));
      acc[2] = th_smlad(c1_13, col[1], th_smlad(c1_02, col[0], acc[2]));
      acc[3] = th_smlad(c1_13, col[3], th_smlad(c1_02, col[2], acc[3]));
    }
    for (int32_t i = 0; i < 4; ++i) {
      const int32_t c = i >> 1, acc2 = wide ? acc[i] : (int32_t)((uint32_t)acc[i] << 1);
      int32_t v = th_ssat8(th_dsp_requantize_small(acc2, (int32_t)w[c], (int32_t)w[2 + c], (int32_t)w[4 + c]));
      if (a->clamp) v = th_dsp_clamp(v, lo, hi);
      ((i & 1) ? out_b : out_a)[c] = (int8_t)v;
    }
    w += 6;
  }
}

static void gemm_packed16(const packed_args *a) { gemm_packed_c(a, 1); }
static void gemm_packed8(const packed_args *a) { gemm_packed_c(a, 0); }
#endif

void th_conv_run_packed(const th_conv_params *p) {
  const int32_t n_pix = p->out_h * p->out_w, groups = (p->k_h * p->k_w * p->in_c + 3) / 4;
  const int wide = p->packed != NULL;
  const uint32_t *w = wide ? p->packed : p->packed8;
  const uint32_t lo = (uint8_t)p->act_min, hi = (uint8_t)p->act_max;
  packed_args a = {p->scratch, groups, NULL, NULL, w + (size_t)(p->out_c / 2) * (8 + (wide ? 4 : 2) * groups),
                   !(p->act_min == -128 && p->act_max == 127), lo * 0x01010101u, hi * 0x01010101u, w};
  for (int32_t pix = 0; pix < n_pix; pix += 2) {
    const int32_t pix_b = pix + 1 < n_pix ? pix + 1 : pix; /* odd last pixel: paired with itself */
    th_conv_im2col_packed(p, pix / p->out_w, pix % p->out_w, 0, p->scratch);
    th_conv_im2col_packed(p, pix_b / p->out_w, pix_b % p->out_w, 1, p->scratch);
    a.out_a = p->output + (size_t)pix * p->out_c;
    a.out_b = p->output + (size_t)pix_b * p->out_c;
    (wide ? gemm_packed16 : gemm_packed8)(&a);
  }
}
