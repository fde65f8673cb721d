/* The int8-filter CONV_2D multiply loops in assembly (opt_conv.c calls them for layers without a
 * packed layout): every output channel pair of two pixels, requantization and store included.
 *
 * Cycle budget per group of four K values, 2 channels x 2 pixels = 16 MACs (TRM DDI 0439: LDM of
 * N words 1 + N, LDR 2 or 1 after another load, SXTB16 / SMLAD 1): LDM 4 column words (5) + 2 LDR
 * of weight words (3) + 4 SXTB16 + 8 SMLAD (12) = 20 cycles, 1.25 cycles/MAC before the per-pair
 * epilogue (about 60 cycles: 10 LDR/STR of pointers and constants kept in the argument block, 4 x 7
 * for requantization). The packed layouts (conv_packed.c) cut that epilogue to about 35.
 * The scratch-free 1x1 variant widens the inputs inside the loop: 24 instructions per 16 MACs. */
#include "th_conv_internal.h"

#ifdef TH_HAVE_DSP
/* Clamp acc to [r0, r1] (the activation range, narrower than int8). */
#define GEMM_CLAMP(acc)                \
  "cmp " acc ", r0\n\t"               \
  "it lt\n\t"                         \
  "movlt " acc ", r0\n\t"             \
  "cmp " acc ", r1\n\t"               \
  "it gt\n\t"                         \
  "movgt " acc ", r1\n\t"

/* Short requantization of one accumulator (see th_dsp_requantize_small), with
 * RoundingDivideByPOT(s, e) + off == (((s - (s < 0)) >> (e - 1)) + 1 + 2 * off) >> 1. */
#define GEMM_REQ(acc, m, em1)                  \
  "lsl " acc ", " acc ", #1\n\t"              \
  "smmulr " acc ", " acc ", " m "\n\t"        \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "asr " acc ", " acc ", " em1 "\n\t"          \
  "add " acc ", " acc ", r3\n\t"               \
  "asr " acc ", " acc ", #1\n\t"               \
  "ssat " acc ", #8, " acc "\n\t"
#define GEMM_GROUP                    \
  "ldm r0!, {r4-r7}\n\t"              \
  "ldr r3, [r1], #4\n\t"              \
  "sxtb16 r12, r3\n\t"                \
  "sxtb16 r3, r3, ror #8\n\t"         \
  "smlad r8, r12, r4, r8\n\t"         \
  "smlad r8, r3, r5, r8\n\t"          \
  "smlad r9, r12, r6, r9\n\t"         \
  "smlad r9, r3, r7, r9\n\t"          \
  "ldr r3, [r1, r2]\n\t"              \
  "sxtb16 r12, r3\n\t"                \
  "sxtb16 r3, r3, ror #8\n\t"         \
  "smlad r10, r12, r4, r10\n\t"       \
  "smlad r10, r3, r5, r10\n\t"        \
  "smlad r11, r12, r6, r11\n\t"       \
  "smlad r11, r3, r7, r11\n\t"

/* After a channel pair's dot products (r12 = args): requantize, clamp, store, next pair. */
#define GEMM_PAIR_END \
  "ldr r0, [r12, #32]\n\t" \
  "ldr r4, [r0], #4\n\t" \
  "ldr r5, [r0], #4\n\t" \
  "str r0, [r12, #32]\n\t" \
  "ldr r0, [r12, #36]\n\t" \
  "ldr r6, [r0], #4\n\t" \
  "ldr r7, [r0], #4\n\t" \
  "str r0, [r12, #36]\n\t" \
  "mvn r6, r6\n\t" /* e - 1 = -shift - 1 = ~shift */ \
  "mvn r7, r7\n\t" \
  "ldr r3, [r12, #40]\n\t" \
  GEMM_REQ("r8", "r4", "r6") GEMM_REQ("r9", "r4", "r6") \
  GEMM_REQ("r10", "r5", "r7") GEMM_REQ("r11", "r5", "r7") \
  "ldr r0, [r12, #52]\n\t" \
  "cbz r0, 3f\n\t" \
  "ldr r0, [r12, #44]\n\t" \
  "ldr r1, [r12, #48]\n\t" \
  GEMM_CLAMP("r8") GEMM_CLAMP("r9") GEMM_CLAMP("r10") GEMM_CLAMP("r11") \
  "3:\n\t" \
  "ldr r0, [r12, #16]\n\t" \
  "strb r8, [r0]\n\t" \
  "strb r10, [r0, #1]\n\t" \
  "add r0, r0, #2\n\t" \
  "str r0, [r12, #16]\n\t" \
  "ldr r0, [r12, #20]\n\t" \
  "strb r9, [r0]\n\t" \
  "strb r11, [r0, #1]\n\t" \
  "add r0, r0, #2\n\t" \
  "str r0, [r12, #20]\n\t" \
  "ldr r3, [r12, #24]\n\t" \
  "subs r3, r3, #1\n\t" \
  "str r3, [r12, #24]\n\t" \
  "bne 0b\n\t"

__attribute__((naked, noinline)) void th_conv_gemm_2x2_asm(gemm_asm_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r0, r4-r11, lr}\n\t"
      TH_ASM_ALIGN "0:\n\t" /* channel pair: r12 = args */
      "ldr r12, [sp]\n\t"
      "ldr r3, [r12, #28]\n\t"
      "ldr r8, [r3], #4\n\t"
      "ldr r10, [r3], #4\n\t"
      "str r3, [r12, #28]\n\t"
      "mov r9, r8\n\t"
      "mov r11, r10\n\t"
      "ldr r0, [r12, #0]\n\t"
      "ldr r1, [r12, #4]\n\t"
      "ldr r2, [r12, #8]\n\t"
      "ldr lr, [r12, #12]\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t" /* odd group count: enter the unrolled loop at its second half */
      "b 2f\n\t"
      TH_ASM_ALIGN "1:\n\t" GEMM_GROUP
      "2:\n\t" GEMM_GROUP
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      /* K % 4 leftovers: r0 = pixel A's, pixel B's 2*tail bytes later; rows at r1 and r1 + K */
      "ldr r12, [sp]\n\t"
      "ldr lr, [r12, #64]\n\t"
      "cmp lr, #0\n\t"
      "beq 4f\n\t"
      "ldr r12, [r12, #68]\n\t"
      "add r3, r1, r2\n\t"
      "add r3, r3, #4\n\t"
      "3:\n\t"
      "ldrsh r4, [r0, r12]\n\t"
      "ldrsh r5, [r0], #2\n\t"
      "ldrsb r6, [r1], #1\n\t"
      "ldrsb r7, [r3], #1\n\t"
      "mla r8, r6, r5, r8\n\t"
      "mla r9, r6, r4, r9\n\t"
      "mla r10, r7, r5, r10\n\t"
      "mla r11, r7, r4, r11\n\t"
      "subs lr, lr, #1\n\t"
      "bne 3b\n\t"
      "ldr r12, [sp]\n\t"
      "4:\n\t"
      /* next pair's first row: this pair's second row + K, i.e. r1 + (K - 4) + 4 */
      "add r1, r1, r2\n\t"
      "add r1, r1, #4\n\t"
      "str r1, [r12, #4]\n\t"
      GEMM_PAIR_END
      "pop {r0, r4-r11, pc}\n\t");
}

/* Scratch-free 1x1 variant: the two columns are the int8 input pixels (col = pixel A, pixel B at
 * col + in_delta), widened with the input offset inside the loop. Registers allow only four
 * temporaries next to the offset and both strides, so pixel A's word is read twice per group:
 * 5 LDR + 10 SXT(A)B16 + 8 SMLAD + 1 ADD = 24 instructions per 16 MACs (the im2col path: 15). */
#define PW_GROUP                        \
  "ldr r4, [r1]\n\t"                    \
  "sxtb16 r5, r4\n\t"                   \
  "sxtb16 r4, r4, ror #8\n\t"           \
  "ldr r6, [r0]\n\t"                    \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r8, r5, r7, r8\n\t"            \
  "smlad r8, r4, r6, r8\n\t"            \
  "ldr r6, [r0, r3]\n\t"                \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r9, r5, r7, r9\n\t"            \
  "smlad r9, r4, r6, r9\n\t"            \
  "ldr r4, [r1, r2]\n\t"                \
  "sxtb16 r5, r4\n\t"                   \
  "sxtb16 r4, r4, ror #8\n\t"           \
  "smlad r11, r5, r7, r11\n\t"          \
  "smlad r11, r4, r6, r11\n\t"          \
  "ldr r6, [r0], #4\n\t"                \
  "sxtab16 r7, r12, r6\n\t"             \
  "sxtab16 r6, r12, r6, ror #8\n\t"     \
  "smlad r10, r5, r7, r10\n\t"          \
  "smlad r10, r4, r6, r10\n\t"          \
  "add r1, r1, #4\n\t"

__attribute__((naked, noinline)) void th_conv_pointwise_2x2_asm(gemm_asm_args *a __attribute__((unused))) {
  __asm__ volatile(
      "push {r0, r4-r11, lr}\n\t"
      "0:\n\t"
      "ldr r12, [sp]\n\t"
      "ldr r3, [r12, #28]\n\t"
      "ldr r8, [r3], #4\n\t"
      "ldr r10, [r3], #4\n\t"
      "str r3, [r12, #28]\n\t"
      "mov r9, r8\n\t"
      "mov r11, r10\n\t"
      "ldr r0, [r12, #0]\n\t"
      "ldr r1, [r12, #4]\n\t"
      "ldr r2, [r12, #8]\n\t" /* K: row stride (no -4 here, the weight pointer moves last) */
      "ldr r3, [r12, #56]\n\t"
      "ldr lr, [r12, #12]\n\t"
      "ldr r12, [r12, #60]\n\t"
      "tst lr, #1\n\t"
      "beq 1f\n\t"
      "add lr, lr, #1\n\t"
      "b 2f\n\t"
      TH_ASM_ALIGN "1:\n\t" PW_GROUP
      "2:\n\t" PW_GROUP
      "subs lr, lr, #2\n\t"
      "bne 1b\n\t"
      "add r1, r1, r2\n\t" /* next pair's first row: this pair's second row + K */
      "ldr r12, [sp]\n\t"
      "str r1, [r12, #4]\n\t"
      GEMM_PAIR_END
      "pop {r0, r4-r11, pc}\n\t");
}
#endif
