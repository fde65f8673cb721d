/* Optimized int8 FULLY_CONNECTED for Cortex-M4 (DSP extension), bit-exact with TFLM's reference
 * FullyConnected (per-tensor or per-channel requantization; weights offset supported).
 *
 * Scheme: two weight rows at a time; four inputs per step are read as one word and widened with
 * SXTAB16 (input offset added) into lanes (0,2) and (1,3), the weights likewise (weights offset
 * added, 0 for symmetric weights), then SMLAD. Scratch: none. No alignment needs.
 *
 * Packed path (p->packed, laid out offline by the code generator, see th_kernels.h): four rows at
 * a time with weights already widened to int16 (offset included). Per four inputs: one LDR and two
 * SXTAB16 widen the inputs once for all four rows, two LDM fetch the four rows' 8 weight words,
 * 8 SMLAD: 13 instructions for 16 MACs (the int8 path below: 13 for 8).
 * Chosen over int8 weights (2 SXTB16 per weight word, 4 LDR) because it saves both loads and
 * instructions: an LDM of 4 words costs 5 cycles on a Cortex-M4, 4 separate LDR up to 8. The price
 * is twice the flash for FC weights (int16).
 * Packed int8 path (p->packed8, --optimize size): the same blocks with the int8 bytes as they are;
 * the weights are widened in the loop (2 SXTB16 per word): 21 instructions for 16 MACs.
 *
 * Cycle budget per four inputs x four rows = 16 MACs (TRM DDI 0439: LDR 2, LDM 1 + N, SXTAB16,
 * SXTB16 and SMLAD 1; no flash wait states assumed):
 *   int16: LDR (2) + 2 SXTAB16 (2) + 2 x LDM 4 (10) + 8 SMLAD (8) = 22 cycles, 1.38 cycles/MAC;
 *   int8:  LDR (2) + 2 SXTAB16 (2) + 2 x LDM 2 (6) + 8 SXTB16 (8) + 8 SMLAD (8) = 26, 1.63 cycles/MAC.
 * Per block of four rows: about 50 cycles (bias LDM, 4 x 12 requantization with per-row constants).
 * With 5 flash wait states behind a prefetch buffer the int16 stream's 8 words per group cost
 * more than the int8 stream's 4, which is why the size mode can be the faster one on silicon. */
#include "th_dsp.h"
#include "th_kernels.h"

TH_INLINE int8_t requant_out(int32_t acc, const th_fc_params *p, int32_t row) {
  const int32_t q = p->per_channel ? row : 0;
  int32_t v = th_dsp_requantize(acc, p->out_multiplier[q], p->out_shift[q]) + p->output_offset;
  return (int8_t)th_dsp_clamp(v, p->act_min, p->act_max);
}

static void fc_two_rows(const th_fc_params *p, const int8_t *in, int32_t row, int8_t *out) {
  const int32_t n = p->in_n, n4 = n & ~3;
  const uint32_t in_off2 = th_pack16(p->input_offset, p->input_offset);
  const uint32_t w_off2 = th_pack16(p->weights_offset, p->weights_offset);
  const int8_t *w0 = p->weights + (size_t)row * n;
  const int8_t *w1 = w0 + n;
  int32_t acc0 = p->bias ? p->bias[row] : 0;
  int32_t acc1 = p->bias ? p->bias[row + 1] : 0;
  int32_t i = 0;
  for (; i < n4; i += 4) {
    uint32_t x = th_read_u32(in + i);
    uint32_t x02 = th_sxtab16(in_off2, x), x13 = th_sxtab16_ror8(in_off2, x);
    uint32_t wa = th_read_u32(w0 + i);
    uint32_t wb = th_read_u32(w1 + i);
    acc0 = th_smlad(th_sxtab16(w_off2, wa), x02, acc0);
    acc0 = th_smlad(th_sxtab16_ror8(w_off2, wa), x13, acc0);
    acc1 = th_smlad(th_sxtab16(w_off2, wb), x02, acc1);
    acc1 = th_smlad(th_sxtab16_ror8(w_off2, wb), x13, acc1);
  }
  for (; i < n; ++i) {
    const int32_t x = in[i] + p->input_offset;
    acc0 += x * (w0[i] + p->weights_offset);
    acc1 += x * (w1[i] + p->weights_offset);
  }
  out[row] = requant_out(acc0, p, row);
  out[row + 1] = requant_out(acc1, p, row + 1);
}

static void fc_one_row(const th_fc_params *p, const int8_t *in, int32_t row, int8_t *out) {
  const int32_t n = p->in_n, n4 = n & ~3;
  const uint32_t in_off2 = th_pack16(p->input_offset, p->input_offset);
  const uint32_t w_off2 = th_pack16(p->weights_offset, p->weights_offset);
  const int8_t *w = p->weights + (size_t)row * n;
  int32_t acc = p->bias ? p->bias[row] : 0;
  int32_t i = 0;
  for (; i < n4; i += 4) {
    uint32_t x = th_read_u32(in + i);
    uint32_t wv = th_read_u32(w + i);
    acc = th_smlad(th_sxtab16(w_off2, wv), th_sxtab16(in_off2, x), acc);
    acc = th_smlad(th_sxtab16_ror8(w_off2, wv), th_sxtab16_ror8(in_off2, x), acc);
  }
  for (; i < n; ++i) acc += (in[i] + p->input_offset) * (w[i] + p->weights_offset);
  out[row] = requant_out(acc, p, row);
}

#ifdef TH_HAVE_DSP
/* Every whole block of four rows in assembly, requantization included: the common case (packed
 * weights, in_n % 4 == 0, bias present, every row in the short requantization of th_dsp.h).
 * Field offsets are used by the assembly: keep the order. */
typedef struct {
  const int8_t *x;       /* 0: the batch's input */
  const void *w;         /* 4: packed weights (int16 or int8) of the current block */
  int32_t groups;        /* 8: in_n / 4, >= 1 */
  uint32_t off2;         /* 12: input offset in both int16 lanes */
  int8_t *out;           /* 16: output of the current block */
  int32_t blocks;        /* 20: out_n / 4, >= 1 */
  const int32_t *bias;   /* 24 */
  const int32_t *mult;   /* 28 */
  const int32_t *shift;  /* 32 */
  int32_t q_step;        /* 36: 4 per channel, 0 per tensor (bytes between rows' mult/shift) */
  int32_t round_offset;  /* 40: 1 + 2 * output_offset */
  int32_t act_min;       /* 44 */
  int32_t act_max;       /* 48 */
  int32_t clamp;         /* 52: 0 when [act_min, act_max] is the whole int8 range */
} fc_asm_args;

/* Per four inputs: one LDR, two SXTAB16 (input offset), two LDM of the four rows' weight words,
 * eight SMLAD. r4-r7: accumulators, r8/r9: inputs (0,2)/(1,3), r10-r12, lr: weights. */
#define FC4_GROUP                         \
  "ldr r9, [r0], #4\n\t"                 \
  "sxtab16 r8, r3, r9\n\t"               \
  "sxtab16 r9, r3, r9, ror #8\n\t"       \
  "ldm r1!, {r10, r11, r12, lr}\n\t"     \
  "smlad r4, r10, r8, r4\n\t"            \
  "smlad r4, r11, r9, r4\n\t"            \
  "smlad r5, r12, r8, r5\n\t"            \
  "smlad r5, lr, r9, r5\n\t"             \
  "ldm r1!, {r10, r11, r12, lr}\n\t"     \
  "smlad r6, r10, r8, r6\n\t"            \
  "smlad r6, r11, r9, r6\n\t"            \
  "smlad r7, r12, r8, r7\n\t"            \
  "smlad r7, lr, r9, r7\n\t"

/* The int8 layout: two rows' words at a time, each widened into (0,2) and (1,3) lanes. */
#define FC4_GROUP8_ROWS(acc_a, acc_b)   \
  "ldm r1!, {r10, r11}\n\t"             \
  "sxtb16 r12, r10\n\t"                \
  "sxtb16 r10, r10, ror #8\n\t"        \
  "smlad " acc_a ", r12, r8, " acc_a "\n\t" \
  "smlad " acc_a ", r10, r9, " acc_a "\n\t" \
  "sxtb16 r12, r11\n\t"                \
  "sxtb16 r11, r11, ror #8\n\t"        \
  "smlad " acc_b ", r12, r8, " acc_b "\n\t" \
  "smlad " acc_b ", r11, r9, " acc_b "\n\t"
#define FC4_GROUP8                      \
  "ldr r9, [r0], #4\n\t"               \
  "sxtab16 r8, r3, r9\n\t"             \
  "sxtab16 r9, r3, r9, ror #8\n\t"     \
  FC4_GROUP8_ROWS("r4", "r5") FC4_GROUP8_ROWS("r6", "r7")

/* Short requantization (th_dsp_requantize_small, as in conv_gemm_asm.c's GEMM_REQ): r0/r2 walk the
 * multipliers/shifts by r3 bytes, r10 = 1 + 2 * output_offset. */
#define FC_REQ(acc)                              \
  "ldr r8, [r0]\n\t"                             \
  "ldr r9, [r2]\n\t"                             \
  "add r0, r0, r3\n\t"                           \
  "add r2, r2, r3\n\t"                           \
  "mvn r9, r9\n\t" /* e - 1 = ~shift */          \
  "lsl " acc ", " acc ", #1\n\t"                 \
  "smmulr " acc ", " acc ", r8\n\t"              \
  "sub " acc ", " acc ", " acc ", lsr #31\n\t"   \
  "asr " acc ", " acc ", r9\n\t"                 \
  "add " acc ", " acc ", r10\n\t"                \
  "asr " acc ", " acc ", #1\n\t"                 \
  "ssat " acc ", #8, " acc "\n\t"
#define FC_CLAMP(acc)                  \
  "cmp " acc ", r0\n\t"               \
  "it lt\n\t"                         \
  "movlt " acc ", r0\n\t"             \
  "cmp " acc ", r1\n\t"               \
  "it gt\n\t"                         \
  "movgt " acc ", r1\n\t"

/* Every block of four rows; GROUP is one group of four inputs of the block's weights. */
#define FC_ROUTINE(GROUP) \
      "push {r0, r4-r11, lr}\n\t" \
      TH_ASM_ALIGN "0:\n\t" /* block of four rows: r12 = args */ \
      "ldr r12, [sp]\n\t" \
      "ldr r3, [r12, #24]\n\t" \
      "ldm r3!, {r4-r7}\n\t" \
      "str r3, [r12, #24]\n\t" \
      "ldr r0, [r12, #0]\n\t" \
      "ldr r1, [r12, #4]\n\t" \
      "ldr r2, [r12, #8]\n\t" \
      "ldr r3, [r12, #12]\n\t" \
      "tst r2, #1\n\t" \
      "beq 1f\n\t" \
      "add r2, r2, #1\n\t" /* odd count: enter the unrolled loop at its second half */ \
      "b 2f\n\t" \
      TH_ASM_ALIGN "1:\n\t" GROUP \
      "2:\n\t" GROUP \
      "subs r2, r2, #2\n\t" \
      "bne 1b\n\t" \
      "ldr r12, [sp]\n\t" \
      "str r1, [r12, #4]\n\t" /* the next block's weights follow */ \
      "ldr r0, [r12, #28]\n\t" \
      "ldr r2, [r12, #32]\n\t" \
      "ldr r3, [r12, #36]\n\t" \
      "ldr r10, [r12, #40]\n\t" \
      FC_REQ("r4") FC_REQ("r5") FC_REQ("r6") FC_REQ("r7") \
      "str r0, [r12, #28]\n\t" \
      "str r2, [r12, #32]\n\t" \
      "ldr r0, [r12, #52]\n\t" \
      "cbz r0, 3f\n\t" \
      "ldr r0, [r12, #44]\n\t" \
      "ldr r1, [r12, #48]\n\t" \
      FC_CLAMP("r4") FC_CLAMP("r5") FC_CLAMP("r6") FC_CLAMP("r7") \
      "3:\n\t" \
      "ldr r0, [r12, #16]\n\t" \
      "strb r4, [r0], #1\n\t" \
      "strb r5, [r0], #1\n\t" \
      "strb r6, [r0], #1\n\t" \
      "strb r7, [r0], #1\n\t" \
      "str r0, [r12, #16]\n\t" \
      "ldr r0, [r12, #20]\n\t" \
      "subs r0, r0, #1\n\t" \
      "str r0, [r12, #20]\n\t" \
      "bne 0b\n\t" \
      "pop {r0, r4-r11, pc}\n\t"

__attribute__((naked, noinline)) static void fc_rows_asm(fc_asm_args *a __attribute__((unused))) {
  __asm__ volatile(FC_ROUTINE(FC4_GROUP));
}

__attribute__((naked, noinline)) static void fc_rows8_asm(fc_asm_args *a __attribute__((unused))) {
  __asm__ volatile(FC_ROUTINE(FC4_GROUP8));
}

/* The assembly's preconditions; the accumulator bound covers |w + w_off| <= 255, |x + off| <= 255. */
static int fc_asm_ok(const th_fc_params *p) {
  if (p->bias == NULL || (p->in_n & 3) != 0 || p->in_n < 4 || p->out_n < 4 ||
      (int64_t)p->in_n * 255 * 255 >= TH_DSP_SMALL_ACC_LIMIT)
    return 0;
  for (int32_t q = 0; q < (p->per_channel ? p->out_n : 1); ++q)
    if (!th_dsp_small_shift(p->out_shift[q])) return 0;
  for (int32_t r = 0; r < p->out_n; ++r)
    if (p->bias[r] >= TH_DSP_SMALL_ACC_LIMIT || p->bias[r] <= -TH_DSP_SMALL_ACC_LIMIT) return 0;
  return 1;
}

static void fc_packed_asm(const th_fc_params *p) {
  const void *w = p->packed != NULL ? (const void *)p->packed : (const void *)p->packed8;
  const int full_range = p->act_min == -128 && p->act_max == 127;
  for (int32_t b = 0; b < p->batches; ++b) {
    fc_asm_args a = {p->input + (size_t)b * p->in_n, w, p->in_n / 4,
                     th_pack16(p->input_offset, p->input_offset), p->output + (size_t)b * p->out_n,
                     p->out_n / 4, p->bias, p->out_multiplier, p->out_shift, p->per_channel ? 4 : 0,
                     1 + 2 * p->output_offset, p->act_min, p->act_max, !full_range};
    (p->packed != NULL ? fc_rows_asm : fc_rows8_asm)(&a);
  }
}
#endif

/* Output of one row, the fast rounding form where the shift allows it (same bits). */
TH_INLINE int8_t requant_row(int32_t acc, const th_fc_params *p, int32_t row) {
  const int32_t q = p->per_channel ? row : 0;
  const int32_t mult = p->out_multiplier[q], shift = p->out_shift[q];
  int32_t v;
  if (th_dsp_fast_shift(shift)) {
    v = th_dsp_requantize_fast(acc, mult, 1 << (-shift - 1), -shift);
  } else {
    v = th_dsp_requantize(acc, mult, shift);
  }
  return (int8_t)th_dsp_clamp(v + p->output_offset, p->act_min, p->act_max);
}

/* Rows from row_begin (a multiple of 4) on, in C, from either packed layout. */
static void fc_packed(const th_fc_params *p, int32_t row_begin) {
  const int32_t n = p->in_n, n4 = n & ~3, tail = n - n4, wide = p->packed != NULL;
  const uint32_t off2 = th_pack16(p->input_offset, p->input_offset);
  const int32_t w_off = wide ? 0 : p->weights_offset; /* the int16 layout has it folded in */
  const uint32_t w_off2 = th_pack16(w_off, w_off);
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + (size_t)b * n;
    int8_t *out = p->output + (size_t)b * p->out_n;
    size_t at = (size_t)row_begin * n; /* element index into the layout */
    for (int32_t row = row_begin; row < p->out_n; row += 4) {
      int32_t acc[4];
      for (int32_t r = 0; r < 4; ++r) acc[r] = p->bias && row + r < p->out_n ? p->bias[row + r] : 0;
      for (int32_t i = 0; i < n4; i += 4, at += 16) {
        const uint32_t x = th_read_u32(in + i);
        const uint32_t x02 = th_sxtab16(off2, x), x13 = th_sxtab16_ror8(off2, x);
        for (int32_t r = 0; r < 4; ++r) {
          uint32_t w02, w13; /* row r's weights in lanes (0,2) and (1,3) */
          if (wide) {
            w02 = th_read_u32(p->packed + at + 4 * r);
            w13 = th_read_u32(p->packed + at + 4 * r + 2);
          } else {
            const uint32_t w = th_read_u32(p->packed8 + at + 4 * r);
            w02 = th_sxtab16(w_off2, w);
            w13 = th_sxtab16_ror8(w_off2, w);
          }
          acc[r] = th_smlad(w13, x13, th_smlad(w02, x02, acc[r]));
        }
      }
      for (int32_t r = 0; r < 4; ++r, at += tail)
        for (int32_t i = 0; i < tail; ++i)
          acc[r] += ((wide ? p->packed[at + i] : p->packed8[at + i]) + w_off) * (in[n4 + i] + p->input_offset);
      for (int32_t r = 0; r < 4 && row + r < p->out_n; ++r) out[row + r] = requant_row(acc[r], p, row + r);
    }
  }
}

void th_opt_fc_s8(const th_fc_params *p) {
  if (p->packed != NULL || p->packed8 != NULL) {
#ifdef TH_HAVE_DSP
    if (fc_asm_ok(p) && (p->packed != NULL || p->weights_offset == 0)) {
      fc_packed_asm(p); /* whole blocks of four rows; a last partial block in C */
      if (p->out_n & 3) fc_packed(p, p->out_n & ~3);
      return;
    }
#endif
    fc_packed(p, 0);
    return;
  }
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = p->input + (size_t)b * p->in_n;
    int8_t *out = p->output + (size_t)b * p->out_n;
    int32_t row = 0;
    for (; row + 2 <= p->out_n; row += 2) fc_two_rows(p, in, row, out);
    if (row < p->out_n) fc_one_row(p, in, row, out);
  }
}
