/* The packed CONV_2D paths: the code generator lays each layer out offline (th_kernels.h;
 * harness/codegen/pack.py, conv_pack.c) as one stream per channel pair (c0, c1):
 *   [bias c0] [bias c1]  G groups of weights  [mult c0] [mult c1] [bias_e c0] [bias_e c1] [e c0] [e c1]
 * so one pointer walks the layer and no pointer or constant is stored back per pair.
 *   p->packed  (--optimize speed): weights doubled and widened to int16, 4 words per group: lanes
 *              (w0,w2) of c0 and c1, then (w1,w3) of c0 and c1; biases doubled too, so the sums are
 *              the 2 * acc SMMULR wants. Multiplies 2 channels x 3 pixels against th_col_triples'
 *              columns ([A02 B02 C02 A13 B13 C13] per group).
 *   p->packed8 (--optimize size): the int8 filter bytes as they are (w0 w1 w2 w3 of c0, then of c1):
 *              2 words per group, widened in the loop with SXTB16 / SXTB16 ROR 8 (lanes (0,2),(1,3));
 *              the sums are doubled by one LSL before the requantization. Multiplies 2 channels x
 *              2 pixels against th_col_pairs' columns ([A02 A13 B02 B13]): the widened weights take
 *              the registers a third pixel would need.
 * Both pad K with zeros to a multiple of 4 (no tail loop). The int16 loop takes four groups a pass
 * (a count not a multiple of four enters the pass part-way), the int8 loop two.
 *
 * Cycle budget per group (Cortex-M4 TRM DDI 0439: LDM of N words 1 + N, SMLAD and SXTB16 1, no
 * wait states assumed; a flash wait state adds to each weight word fetched):
 *   int16, 24 MACs: 2 x (LDM 3 column words (4) + LDM 2 weight words (3) + 6 SMLAD (6)) = 26 cycles,
 *          1.08 cycles/MAC; 16 instructions (0.67 instructions/MAC). The 2x2 loop it replaces: 19
 *          cycles per 16 MACs, 1.19. With SUBS + BNE (1 + 2) a four-group pass is 107 cycles for
 *          96 MACs (the profiler's figure for it: 106).
 *   int8,  16 MACs: LDM 4 column words (5) + LDM 2 weight words (3) + 4 SXTB16 (4) + 8 SMLAD (8) = 20
 *          cycles, 1.25 cycles/MAC; 14 instructions; half the weight bytes fetched from flash.
 * Per channel pair and pixel triple (int16): LDM 2 biases (3) + 4 MOV + 3 loads (4) + ANDS/BEQ (3)
 * before the groups; LDM 6 constants (7) + 6 x 5 requantization (SMMULR, SUB, ADD, ASR, SSAT) + 3
 * BFI + LDR (2) + LDM/STM of the three output pointers (4 + 4) + 3 STRH + LDR/CMP/BNE (6) after
 * them: about 70 cycles (the profiler: 14 + 57). On IC's 16->16 3x3 layer (36 groups) 9 x 107 + 70
 * cycles for 864 MACs, 1.20 cycles/MAC. A narrower activation range (its own build of the routine)
 * adds LDRD + SSUB8 + SEL per bound and pixel (both channels at once). */
#include "th_conv_internal.h"

/* Field offsets are used by the assembly: keep the order. */
typedef struct {
  int8_t *out[3];        /* 0, 4, 8: outputs of the current channel pair, pixels A, B (C: int16 only) */
  const int16_t *col;    /* 12: interleaved im2col of the block's pixels, G groups */
  int32_t n_groups;      /* 16: G >= 1 */
  const uint32_t *end;   /* 20: one past the packed layer */
  int32_t clamp;         /* 24: 0 when [act_min, act_max] is the whole int8 range */
  uint32_t min4, max4;   /* 28, 32: act_min / act_max in every byte */
  const uint32_t *w;     /* 36: the packed layer */
} packed_args;

#ifdef TH_HAVE_DSP
/* int8, 2 pixels: r0: columns, r1: weights, r4-r7: the group's column words, r8-r11: accumulators
 * (c0 A, c0 B, c1 A, c1 B), r2/r3/r12: weight words. */
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

/* The channel-pair loop of the int8 layout around GROUP (two groups a pass), two pixels. The
 * argument block's address stays on the stack (r12 is a weight temporary in the loop). */
#define PK8_ROUTINE(GROUP)                                                             \
  "push {r0, r4-r11, lr}\n\t"                                                          \
  "ldr r1, [r0, #36]\n\t"                                                              \
  TH_ASM_ALIGN "0:\n\t"                                                                \
  "ldm r1!, {r8, r10}\n\t"                                                             \
  "mov r9, r8\n\t"                                                                     \
  "mov r11, r10\n\t"                                                                   \
  "ldr r12, [sp]\n\t"                                                                  \
  "ldr r0, [r12, #12]\n\t"                                                             \
  "ldr lr, [r12, #16]\n\t"                                                             \
  "tst lr, #1\n\t"                                                                     \
  "beq 1f\n\t"                                                                         \
  "add lr, lr, #1\n\t" /* odd group count: enter the unrolled loop at its second half */ \
  "b 2f\n\t"                                                                           \
  TH_ASM_ALIGN "1:\n\t" GROUP                                                          \
  "2:\n\t" GROUP                                                                       \
  "subs lr, lr, #2\n\t"                                                                \
  "bne 1b\n\t"                                                                         \
  "ldm r1!, {r0, r2, r3, r4, r5, r6}\n\t" /* mult0 mult1 bias_e0 bias_e1 e0 e1 */      \
  PK_DOUBLE("r8") PK_DOUBLE("r9") PK_DOUBLE("r10") PK_DOUBLE("r11")                    \
  PK_REQ("r8", "r0", "r3", "r5") PK_REQ("r9", "r0", "r3", "r5")                        \
  PK_REQ("r10", "r2", "r4", "r6") PK_REQ("r11", "r2", "r4", "r6")                      \
  "bfi r8, r10, #8, #8\n\t" /* pixel A: channel 0 | channel 1 << 8 */                  \
  "bfi r9, r11, #8, #8\n\t" /* pixel B */                                              \
  "ldr r12, [sp]\n\t"                                                                  \
  "ldr r0, [r12, #24]\n\t"                                                             \
  "cbz r0, 3f\n\t"                                                                     \
  "ldrd r2, r3, [r12, #28]\n\t"                                                        \
  PK_CLAMP("r8") PK_CLAMP("r9")                                                        \
  "3:\n\t"                                                                             \
  "ldrd r2, r3, [r12, #0]\n\t"                                                         \
  "strh r8, [r2], #2\n\t"                                                              \
  "strh r9, [r3], #2\n\t"                                                              \
  "strd r2, r3, [r12, #0]\n\t"                                                         \
  "ldr r0, [r12, #20]\n\t"                                                             \
  "cmp r1, r0\n\t"                                                                     \
  "bne 0b\n\t"                                                                         \
  "pop {r0, r4-r11, pc}\n\t"

/* max(px, act_min) then min(px, act_max) on both channels' bytes at once (r2: min4, r3: max4). */
#define PK_CLAMP(px)                 \
  "ssub8 r0, " px ", r2\n\t"        \
  "sel " px ", " px ", r2\n\t"      \
  "ssub8 r0, r3, " px "\n\t"        \
  "sel " px ", " px ", r3\n\t"
#define PK16_CLAMP "ldrd r2, r3, [r12, #28]\n\t" PK_CLAMP("r7") PK_CLAMP("r8") PK_CLAMP("r9")
#define PK16_NO_CLAMP ""

/* The channel-pair loop of the int16 layout, three pixels (PK16_GROUPS). CLAMP: a build of its own
 * with the activation bounds (no test per pair). */
#define PK16_ROUTINE(CLAMP)                                                            \
  "push {r0, r4-r11, lr}\n\t"                                                          \
  "ldr r1, [r0, #36]\n\t"                                                              \
  TH_ASM_ALIGN "0:\n\t"                                                                \
  "ldm r1!, {r7, r10}\n\t"                                                             \
  "mov r8, r7\n\t"                                                                     \
  "mov r9, r7\n\t"                                                                     \
  "mov r11, r10\n\t"                                                                   \
  "mov r12, r10\n\t"                                                                   \
  "ldr r2, [sp]\n\t"                                                                   \
  "ldr r0, [r2, #12]\n\t"                                                              \
  "ldr lr, [r2, #16]\n\t"                                                              \
  PK16_GROUPS                                                                          \
  "ldm r1!, {r0, r2, r3, r4, r5, r6}\n\t" /* mult0 mult1 bias_e0 bias_e1 e0 e1 */      \
  PK_REQ("r7", "r0", "r3", "r5") PK_REQ("r8", "r0", "r3", "r5") PK_REQ("r9", "r0", "r3", "r5")        \
  PK_REQ("r10", "r2", "r4", "r6") PK_REQ("r11", "r2", "r4", "r6") PK_REQ("r12", "r2", "r4", "r6")     \
  "bfi r7, r10, #8, #8\n\t" /* pixel A: channel 0 | channel 1 << 8 */                  \
  "bfi r8, r11, #8, #8\n\t" /* pixel B */                                              \
  "bfi r9, r12, #8, #8\n\t" /* pixel C */                                              \
  "ldr r12, [sp]\n\t" CLAMP                                                            \
  "ldm r12, {r2-r4}\n\t" /* the three output pointers */                               \
  "strh r7, [r2], #2\n\t"                                                              \
  "strh r8, [r3], #2\n\t"                                                              \
  "strh r9, [r4], #2\n\t"                                                              \
  "stm r12, {r2-r4}\n\t"                                                               \
  "ldr r0, [r12, #20]\n\t"                                                             \
  "cmp r1, r0\n\t"                                                                     \
  "bne 0b\n\t"                                                                         \
  "pop {r0, r4-r11, pc}\n\t"

__attribute__((naked, noinline)) static void gemm_packed16_full(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(PK16_ROUTINE(PK16_NO_CLAMP));
}

__attribute__((naked, noinline)) static void gemm_packed16_clamp(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(PK16_ROUTINE(PK16_CLAMP));
}

static void gemm_packed16(const packed_args *a) { (a->clamp ? gemm_packed16_clamp : gemm_packed16_full)(a); }

__attribute__((naked, noinline)) static void gemm_packed8(const packed_args *a __attribute__((unused))) {
  __asm__ volatile(PK8_ROUTINE(PK8_GROUP));
}
#else
/* Plain C of the same arithmetic (host tests). */
TH_INLINE int8_t pk_output(int32_t acc2, const uint32_t *w, int32_t c, const packed_args *a) {
  const int32_t v = th_ssat8(th_dsp_requantize_small(acc2, (int32_t)w[c], (int32_t)w[2 + c], (int32_t)w[4 + c]));
  return (int8_t)(a->clamp ? th_dsp_clamp(v, (int8_t)(a->min4 & 0xFF), (int8_t)(a->max4 & 0xFF)) : v);
}

static void gemm_packed16(const packed_args *a) {
  int8_t *out[3] = {a->out[0], a->out[1], a->out[2]};
  for (const uint32_t *w = a->w; w != a->end; w += 6) {
    int32_t acc[2][3];
    for (int32_t px = 0; px < 3; ++px) acc[0][px] = (int32_t)w[0], acc[1][px] = (int32_t)w[1];
    w += 2;
    const uint32_t *col = (const uint32_t *)(const void *)a->col;
    for (int32_t half = 0; half < 2 * a->n_groups; ++half, col += 3, w += 2) /* lanes (0,2), then (1,3) */
      for (int32_t px = 0; px < 3; ++px) {
        acc[0][px] = th_smlad(w[0], col[px], acc[0][px]);
        acc[1][px] = th_smlad(w[1], col[px], acc[1][px]);
      }
    for (int32_t px = 0; px < 3; ++px) {
      out[px][0] = pk_output(acc[0][px], w, 0, a);
      out[px][1] = pk_output(acc[1][px], w, 1, a);
      out[px] += 2;
    }
  }
}

static void gemm_packed8(const packed_args *a) {
  int8_t *out_a = a->out[0], *out_b = a->out[1];
  for (const uint32_t *w = a->w; w != a->end; out_a += 2, out_b += 2) {
    int32_t acc[4] = {(int32_t)w[0], (int32_t)w[0], (int32_t)w[1], (int32_t)w[1]};
    w += 2;
    const uint32_t *col = (const uint32_t *)(const void *)a->col;
    for (int32_t g = 0; g < a->n_groups; ++g, col += 4, w += 2) {
      /* channel c's (0,2) and (1,3) lane words */
      const uint32_t c0_02 = th_sxtb16(w[0]), c0_13 = th_sxtb16_ror8(w[0]);
      const uint32_t c1_02 = th_sxtb16(w[1]), c1_13 = th_sxtb16_ror8(w[1]);
      acc[0] = th_smlad(c0_13, col[1], th_smlad(c0_02, col[0], acc[0]));
      acc[1] = th_smlad(c0_13, col[3], th_smlad(c0_02, col[2], acc[1]));
      acc[2] = th_smlad(c1_13, col[1], th_smlad(c1_02, col[0], acc[2]));
      acc[3] = th_smlad(c1_13, col[3], th_smlad(c1_02, col[2], acc[3]));
    }
    for (int32_t i = 0; i < 4; ++i) ((i & 1) ? out_b : out_a)[i >> 1] = pk_output((int32_t)((uint32_t)acc[i] << 1), w, i >> 1, a);
    w += 6;
  }
}
#endif

void th_conv_run_packed(const th_conv_params *p) {
  const int32_t n_pix = p->out_h * p->out_w, groups = (p->k_h * p->k_w * p->in_c + 3) / 4;
  const int wide = p->packed != NULL;
  const uint32_t *w = wide ? p->packed : p->packed8;
  const uint32_t lo = (uint8_t)p->act_min, hi = (uint8_t)p->act_max;
  packed_args a = {.col = p->scratch,
                   .n_groups = groups,
                   .end = w + (size_t)(p->out_c / 2) * (8 + (wide ? 4 : 2) * groups),
                   .clamp = !(p->act_min == -128 && p->act_max == 127),
                   .min4 = lo * 0x01010101u,
                   .max4 = hi * 0x01010101u,
                   .w = w};
  const int32_t block = wide ? 3 : 2; /* pixels per pass; a short last block repeats the last pixel */
  const int pointwise = th_conv_pointwise_contiguous(p);
  void (*const gemm)(const packed_args *) = wide ? gemm_packed16 : gemm_packed8;
  if (pointwise) { /* one call fills the block's columns; output pixel q is input pixel q */
    const int32_t step = p->out_c;
    int8_t *out = p->output;
    for (int32_t pix = 0; pix < n_pix; pix += block, out += block * step) {
      th_conv_im2col_pointwise_block(p, pix, n_pix, wide, p->scratch);
      if (pix + block <= n_pix) {
        a.out[0] = out, a.out[1] = out + step;
        if (wide) a.out[2] = out + 2 * step;
      } else { /* the short last block: its missing pixels repeat the last one */
        for (int32_t i = 0; i < block; ++i)
          a.out[i] = p->output + (size_t)(pix + i < n_pix ? pix + i : n_pix - 1) * step;
      }
      gemm(&a);
    }
    return;
  }
  int32_t oy = 0, ox = 0; /* of pixel `pix`, stepped along instead of divided out per pixel */
  for (int32_t pix = 0; pix < n_pix; pix += block) {
    for (int32_t i = 0; i < block; ++i) {
      const int last = pix + i >= n_pix - 1; /* this pixel and any past the end: the last one */
      th_conv_im2col_packed(p, oy, ox, wide ? th_col_triples(i) : th_col_pairs(i), p->scratch);
      a.out[i] = p->output + (size_t)(last ? n_pix - 1 : pix + i) * p->out_c;
      if (!last && ++ox == p->out_w) ox = 0, ++oy;
    }
    gemm(&a);
  }
}
