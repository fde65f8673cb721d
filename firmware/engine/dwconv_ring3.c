/* The four-channel ring's 3x3 output row in assembly (opt_dwconv.c's dw_fast calls it for 3x3
 * layers with the short requantization that dwconv3x3.c does not take: rows under 8 outputs, where
 * that kernel's per-row cost outweighs its cheaper taps, e.g. KWS's 25x5 layers).
 *
 * Cycle budget per output pixel of four channels (TRM DDI 0439: LDR 2, LDRD 3, LDM 1 + N,
 * SMLAxy / SMMULR / SSAT 1, STRB 1): 9 taps x (2 LDRD + 4 SMLAxy) = 90, 3 row-pointer loads and
 * adds (9), requantization with constants by LDM (3 LDM of 4: 15, 20 ALU), 4 STRB, loop (~8):
 * about 146 cycles for 36 MACs, 4 cycles/MAC (emulator: 2.7 instructions/MAC in the loop). */
#include "th_dwconv_internal.h"

#ifdef TH_HAVE_DSP
/* In assembly because GCC spills in the C version. */
#define DW3_TAP(xo, wo)                  \
  "ldrd r4, r5, [r12, #" #xo "]\n\t"    \
  "ldrd r6, r7, [r1, #" #wo "]\n\t"     \
  "smlabb r8, r4, r6, r8\n\t"           \
  "smlatt r10, r4, r6, r10\n\t"         \
  "smlabb r9, r5, r7, r9\n\t"           \
  "smlatt r11, r5, r7, r11\n\t"
#define DW3_ROW(ro, wo)                                                   \
  "ldr r12, [r0, #" #ro "]\n\t"                                           \
  "add r12, r12, r3\n\t" DW3_TAP(0, wo) DW3_TAP(8, wo + 8) DW3_TAP(16, wo + 16)
/* Short requantization of the four accumulators, constants fetched four at a time (LDM) from the
 * mult, bias_e and e arrays (consecutive: r12 walks them): 3 LDM + 20 instead of 12 LDR + 20. */
#define DW3_REQ4                                   \
  "add r12, r0, #48\n\t"                          \
  "ldm r12!, {r4-r7}\n\t"                         \
  "smmulr r8, r8, r4\n\t"                         \
  "smmulr r9, r9, r5\n\t"                         \
  "smmulr r10, r10, r6\n\t"                       \
  "smmulr r11, r11, r7\n\t"                       \
  "ldm r12!, {r4-r7}\n\t"                         \
  "sub r8, r8, r8, lsr #31\n\t"                   \
  "sub r9, r9, r9, lsr #31\n\t"                   \
  "sub r10, r10, r10, lsr #31\n\t"                \
  "sub r11, r11, r11, lsr #31\n\t"                \
  "add r8, r8, r4\n\t"                            \
  "add r9, r9, r5\n\t"                            \
  "add r10, r10, r6\n\t"                          \
  "add r11, r11, r7\n\t"                          \
  "ldm r12, {r4-r7}\n\t"                          \
  "asr r8, r8, r4\n\t"                            \
  "asr r9, r9, r5\n\t"                            \
  "asr r10, r10, r6\n\t"                          \
  "asr r11, r11, r7\n\t"                          \
  "ssat r8, #8, r8\n\t"                           \
  "ssat r9, #8, r9\n\t"                           \
  "ssat r10, #8, r10\n\t"                         \
  "ssat r11, #8, r11\n\t"
#define DW3_CLAMP(acc)                   \
  "cmp " acc ", r4\n\t"                 \
  "it lt\n\t"                           \
  "movlt " acc ", r4\n\t"               \
  "cmp " acc ", r5\n\t"                 \
  "it gt\n\t"                           \
  "movgt " acc ", r5\n\t"

__attribute__((naked, noinline)) void th_dw_ring3_row_asm(const dw3_row_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "ldr r1, [r0, #12]\n\t"
      "ldr r2, [r0, #16]\n\t"
      "movs r3, #0\n\t"
      "ldr lr, [r0, #28]\n\t"
      TH_ASM_ALIGN "1:\n\t"
      "add r12, r0, #32\n\t"
      "ldm r12, {r8-r11}\n\t"
      DW3_ROW(0, 0) DW3_ROW(4, 24) DW3_ROW(8, 48)
      DW3_REQ4
      "ldr r4, [r0, #104]\n\t"
      "cbz r4, 2f\n\t"
      "ldr r4, [r0, #96]\n\t"
      "ldr r5, [r0, #100]\n\t"
      DW3_CLAMP("r8") DW3_CLAMP("r9") DW3_CLAMP("r10") DW3_CLAMP("r11")
      "2:\n\t"
      "strb r8, [r2, #0]\n\t"
      "strb r9, [r2, #1]\n\t"
      "strb r10, [r2, #2]\n\t"
      "strb r11, [r2, #3]\n\t"
      "ldr r12, [r0, #20]\n\t"
      "add r2, r2, r12\n\t"
      "ldr r12, [r0, #24]\n\t"
      "add r3, r3, r12\n\t"
      "subs lr, lr, #1\n\t"
      "bne 1b\n\t"
      "pop {r4-r11, pc}\n\t");
}

void th_dw_ring3_args(const th_conv_params *c, const uint32_t *w, const group_quant *q, dw3_row_args *a) {
  a->w = w;
  a->out_stride = c->out_c;
  a->step_bytes = 8 * c->stride_w;
  a->n = c->out_w;
  a->act_min = c->act_min;
  a->act_max = c->act_max;
  a->clamp = !(c->act_min == -128 && c->act_max == 127);
  for (int32_t i = 0; i < 4; ++i) {
    a->acc0[i] = q->acc0[i];
    a->mult[i] = q->mult[i];
    a->bias_e[i] = q->bias_e[i];
    a->e[i] = q->e[i];
  }
}
#endif
