/* dwconv3x3.c's assembly: one group's call of up to six output rows per channel, two rows at a
 * time and then one (the scheme and its cycle budget are in dwconv3x3.c's header). */
#include "th_dwconv_internal.h"

#ifdef TH_HAVE_DSP
_Static_assert(sizeof(dw3_chan) == 100, "the assembly steps through dw3_chan by 100 bytes");
/* One output row at a time. r0: plane pointer, r1: output, r2/r3: plane words / constants, r4-r9:
 * weights, r10/r11: accumulators, r12: the channel's dw3_chan, lr: output step. */
#define DW3_ACC(ev, od, rw01, rw12)                   \
  "smlad " ev ", r2, " rw01 ", " ev "\n\t"            \
  "smlatb " od ", r2, " rw01 ", " od "\n\t"           \
  "smlabt " ev ", r3, " rw12 ", " ev "\n\t"           \
  "smlad " od ", r3, " rw12 ", " od "\n\t"
#define DW3_ACC_EVEN(ev, rw01, rw12)                  \
  "smlad " ev ", r2, " rw01 ", " ev "\n\t"            \
  "smlabt " ev ", r3, " rw12 ", " ev "\n\t"
#define DW3_ROW1 "ldrd r2, r3, [r0, #128]\n\t"
#define DW3_ROW2 "ldrd r2, r3, [r0, #256]\n\t"
#define DW3_ROW3 "ldrd r2, r3, [r0, #384]\n\t"
#define DW3_ROW0 "ldrd r2, r3, [r0], #4\n\t" /* last: moves to the next two columns */
#define DW3_REQ(acc)                         \
  "smmulr " acc ", " acc ", r2\n\t"          \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t" \
  "add " acc ", " acc ", r3\n\t"
#define DW3_SHIFT(acc) "asr " acc ", " acc ", r2\n\t" "ssat " acc ", #8, " acc "\n\t"
#define DW3_CLAMP(acc)                       \
  "cmp " acc ", r2\n\t"                      \
  "it lt\n\t"                                \
  "movlt " acc ", r2\n\t"                    \
  "cmp " acc ", r3\n\t"                      \
  "it gt\n\t"                                \
  "movgt " acc ", r3\n\t"
#define DW3_CLAMP_PAIR "ldrd r2, r3, [r12, #60]\n\t" DW3_CLAMP("r10") DW3_CLAMP("r11")
#define DW3_CLAMP_ONE "ldrd r2, r3, [r12, #60]\n\t" DW3_CLAMP("r10")
#define DW3_NO_CLAMP ""

#define DW3_PAIR(CLAMP)                                                                          \
  "ldrd r10, r11, [r12, #40]\n\t"                                                              \
  DW3_ROW1 DW3_ACC("r10", "r11", "r6", "r7") DW3_ROW2 DW3_ACC("r10", "r11", "r8", "r9")        \
  DW3_ROW0 DW3_ACC("r10", "r11", "r4", "r5")                                                   \
  "ldrd r2, r3, [r12, #48]\n\t" DW3_REQ("r10") DW3_REQ("r11")                                  \
  "ldr r2, [r12, #56]\n\t" DW3_SHIFT("r10") DW3_SHIFT("r11") CLAMP                             \
  "strb r10, [r1]\n\t"                                                                         \
  "strb r11, [r1, lr]\n\t"                                                                     \
  "add r1, r1, lr, lsl #1\n\t"
#define DW3_ONE(CLAMP)                                                                           \
  "ldr r10, [r12, #40]\n\t"                                                                    \
  DW3_ROW1 DW3_ACC_EVEN("r10", "r6", "r7") DW3_ROW2 DW3_ACC_EVEN("r10", "r8", "r9")            \
  DW3_ROW0 DW3_ACC_EVEN("r10", "r4", "r5")                                                     \
  "ldrd r2, r3, [r12, #48]\n\t" DW3_REQ("r10")                                                 \
  "ldr r2, [r12, #56]\n\t" DW3_SHIFT("r10") CLAMP                                              \
  "strb r10, [r1]\n\t"                                                                         \
  "add r1, r1, lr\n\t"

/* Two output rows at a time (rows R and R + 1 read window rows 0-2 and 1-3): each plane word
 * loaded serves both rows, and the channel's constants sit in a stack frame, so r12 and lr are
 * free for the second row's accumulators. r10/r11: row R (even, odd output), r12/lr: row R + 1.
 * Frame: [sp]: 4 x 2 * bias, 16: mult, bias_e, 24: e, out_step, 32: out_row_step, 36: end,
 * 40: act_min, act_max, 48: the channel's dw3_chan. */
#define DW3_BLOCK_REQ                                                                             \
  "ldrd r2, r3, [sp, #16]\n\t" DW3_REQ("r10") DW3_REQ("r11") DW3_REQ("r12") DW3_REQ("lr")      \
  "ldr r2, [sp, #24]\n\t" DW3_SHIFT("r10") DW3_SHIFT("r11") DW3_SHIFT("r12") DW3_SHIFT("lr")
#define DW3_CLAMP_BLOCK                                                                           \
  "ldrd r2, r3, [sp, #40]\n\t" DW3_CLAMP("r10") DW3_CLAMP("r11") DW3_CLAMP("r12") DW3_CLAMP("lr")
#define DW3_CLAMP_BLOCK_ONE "ldrd r2, r3, [sp, #40]\n\t" DW3_CLAMP("r10") DW3_CLAMP("r12")
#define DW3_BLOCK(CLAMP)                                                                          \
  "ldm sp, {r10, r11, r12, lr}\n\t"                                                             \
  DW3_ROW1 DW3_ACC("r10", "r11", "r6", "r7") DW3_ACC("r12", "lr", "r4", "r5")                   \
  DW3_ROW2 DW3_ACC("r10", "r11", "r8", "r9") DW3_ACC("r12", "lr", "r6", "r7")                   \
  DW3_ROW3 DW3_ACC("r12", "lr", "r8", "r9")                                                     \
  DW3_ROW0 DW3_ACC("r10", "r11", "r4", "r5")                                                    \
  DW3_BLOCK_REQ CLAMP                                                                           \
  "ldrd r2, r3, [sp, #28]\n\t"                                                                  \
  "add r3, r3, r1\n\t"                                                                          \
  "strb r10, [r1]\n\t"                                                                          \
  "strb r11, [r1, r2]\n\t"                                                                      \
  "strb r12, [r3]\n\t"                                                                          \
  "strb lr, [r3, r2]\n\t"                                                                       \
  "add r1, r1, r2, lsl #1\n\t"
#define DW3_BLOCK_ONE(CLAMP)                                                                      \
  "ldr r10, [sp]\n\t"                                                                           \
  "ldr r12, [sp]\n\t"                                                                           \
  DW3_ROW1 DW3_ACC_EVEN("r10", "r6", "r7") DW3_ACC_EVEN("r12", "r4", "r5")                      \
  DW3_ROW2 DW3_ACC_EVEN("r10", "r8", "r9") DW3_ACC_EVEN("r12", "r6", "r7")                      \
  DW3_ROW3 DW3_ACC_EVEN("r12", "r8", "r9")                                                      \
  DW3_ROW0 DW3_ACC_EVEN("r10", "r4", "r5")                                                      \
  "ldrd r2, r3, [sp, #16]\n\t" DW3_REQ("r10") DW3_REQ("r12")                                   \
  "ldr r2, [sp, #24]\n\t" DW3_SHIFT("r10") DW3_SHIFT("r12") CLAMP                              \
  "ldrd r2, r3, [sp, #28]\n\t"                                                                  \
  "strb r10, [r1]\n\t"                                                                          \
  "strb r12, [r1, r3]\n\t"                                                                      \
  "add r1, r1, r2\n\t"

/* Per channel of the group: its weights into r4-r9 and its constants into the frame, then its
 * pairs of rows (10-13), then its rows one at a time (20-23); the next channel's dw3_chan follows
 * (`last` ends the group). */
#define DW3_ROUTINE(BLOCK_CLAMP, BLOCK_ONE_CLAMP, PAIR_CLAMP, ONE_CLAMP)                          \
  "push {r4-r11, lr}\n\t"                                                                       \
  "sub sp, sp, #56\n\t"                                                                         \
  "str r0, [sp, #48]\n\t"                                                                       \
  "0:\n\t"                                                                                      \
  "ldr r12, [sp, #48]\n\t"                                                                      \
  "ldrd r2, r3, [r12, #40]\n\t"                                                                 \
  "strd r2, r3, [sp, #0]\n\t"                                                                   \
  "strd r2, r3, [sp, #8]\n\t"                                                                   \
  "ldrd r2, r3, [r12, #48]\n\t"                                                                 \
  "strd r2, r3, [sp, #16]\n\t"                                                                  \
  "ldr r2, [r12, #56]\n\t"                                                                      \
  "ldr r3, [r12, #68]\n\t"                                                                      \
  "strd r2, r3, [sp, #24]\n\t"                                                                  \
  "ldr r2, [r12, #96]\n\t"                                                                      \
  "str r2, [sp, #32]\n\t"                                                                       \
  "ldrd r2, r3, [r12, #60]\n\t"                                                                 \
  "strd r2, r3, [sp, #40]\n\t"                                                                  \
  "ldm r12, {r4-r9}\n\t"                                                                        \
  "ldr r0, [r12, #24]\n\t"                                                                      \
  "ldr r1, [r12, #28]\n\t"                                                                      \
  "ldr r2, [r12, #92]\n\t"                                                                      \
  "cmp r2, #0\n\t"                                                                              \
  "beq 20f\n\t"                                                                                 \
  "10:\n\t"                                                                                     \
  "ldr r3, [r12, #88]\n\t"                                                                      \
  "add r3, r3, r0\n\t"                                                                          \
  "str r3, [sp, #36]\n\t"                                                                       \
  "cmp r0, r3\n\t"                                                                              \
  "beq 12f\n\t"                                                                                 \
  TH_ASM_ALIGN "11:\n\t" DW3_BLOCK(BLOCK_CLAMP)                                                 \
  "ldr r2, [sp, #36]\n\t"                                                                       \
  "cmp r0, r2\n\t"                                                                              \
  "bne 11b\n\t"                                                                                 \
  "12:\n\t"                                                                                     \
  "ldr r12, [sp, #48]\n\t"                                                                      \
  "ldr r2, [r12, #36]\n\t"                                                                      \
  "cmp r2, #0\n\t"                                                                              \
  "beq 13f\n\t" DW3_BLOCK_ONE(BLOCK_ONE_CLAMP)                                                  \
  "13:\n\t"                                                                                     \
  "ldr r12, [sp, #48]\n\t"                                                                      \
  "ldrd r2, r3, [r12, #80]\n\t"                                                                 \
  "add r0, r0, r2\n\t"                                                                          \
  "add r0, r0, #128\n\t"                                                                        \
  "add r1, r1, r3\n\t"                                                                          \
  "ldr r3, [sp, #32]\n\t"                                                                       \
  "add r1, r1, r3\n\t"                                                                          \
  "ldr r2, [r12, #92]\n\t"                                                                      \
  "subs r2, r2, #1\n\t"                                                                         \
  "str r2, [r12, #92]\n\t"                                                                      \
  "bne 10b\n\t"                                                                                 \
  "20:\n\t"                                                                                     \
  "ldr r2, [r12, #76]\n\t"                                                                      \
  "cmp r2, #0\n\t"                                                                              \
  "blt 24f\n\t"                                                                                 \
  "ldr lr, [r12, #68]\n\t"                                                                      \
  "21:\n\t"                                                                                     \
  "ldr r2, [r12, #88]\n\t"                                                                      \
  "add r2, r2, r0\n\t"                                                                          \
  "str r2, [r12, #32]\n\t"                                                                      \
  "cmp r0, r2\n\t"                                                                              \
  "beq 23f\n\t"                                                                                 \
  TH_ASM_ALIGN "22:\n\t" DW3_PAIR(PAIR_CLAMP)                                                   \
  "ldr r2, [r12, #32]\n\t"                                                                      \
  "cmp r0, r2\n\t"                                                                              \
  "bne 22b\n\t"                                                                                 \
  "23:\n\t"                                                                                     \
  "ldr r2, [r12, #36]\n\t"                                                                      \
  "cmp r2, #0\n\t"                                                                              \
  "beq 25f\n\t" DW3_ONE(ONE_CLAMP)                                                              \
  "25:\n\t"                                                                                     \
  "ldr r2, [r12, #76]\n\t"                                                                      \
  "subs r2, r2, #1\n\t"                                                                         \
  "str r2, [r12, #76]\n\t"                                                                      \
  "blt 24f\n\t"                                                                                 \
  "ldrd r2, r3, [r12, #80]\n\t"                                                                 \
  "add r0, r0, r2\n\t"                                                                          \
  "add r1, r1, r3\n\t"                                                                          \
  "b 21b\n\t"                                                                                   \
  "24:\n\t"                                                                                     \
  "ldr r2, [r12, #72]\n\t"                                                                      \
  "add r12, r12, #100\n\t"                                                                      \
  "str r12, [sp, #48]\n\t"                                                                      \
  "cmp r2, #0\n\t"                                                                              \
  "beq 0b\n\t"                                                                                  \
  "add sp, sp, #56\n\t"                                                                         \
  "pop {r4-r11, pc}\n\t"
__attribute__((naked, noinline)) void th_dw3_rows_asm(const dw3_chan *c __attribute__((unused))) {
  __asm__ volatile(DW3_ROUTINE(DW3_NO_CLAMP, DW3_NO_CLAMP, DW3_NO_CLAMP, DW3_NO_CLAMP));
}
__attribute__((naked, noinline)) void th_dw3_rows_clamp_asm(const dw3_chan *c __attribute__((unused))) {
  __asm__ volatile(DW3_ROUTINE(DW3_CLAMP_BLOCK, DW3_CLAMP_BLOCK_ONE, DW3_CLAMP_PAIR, DW3_CLAMP_ONE));
}
#endif
