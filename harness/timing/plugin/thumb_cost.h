/* Thumb-2 (ARMv7E-M) instruction classes and their Cortex-M4 cycle counts.
 * Every figure is from the Cortex-M4 Technical Reference Manual (Arm DDI 0439B), Table 3-1
 * "Cortex-M4 instruction set summary" and §3.3.2 "Load/store timings", and for the FPU its
 * Table 7-1 "FPU instruction set"; where the manual gives a range the choice is stated beside it. */
#ifndef TINYHIL_THUMB_COST_H
#define TINYHIL_THUMB_COST_H

#include <stdint.h>

enum th_class {
  TH_ALU,       /* data processing, extend, saturate, pack, bitfield, multiply/MAC: 1 */
  TH_LS_SINGLE, /* LDR/STR (B, H, SB, SH), LDREX/STREX, VLDR/VSTR: pairing rules apply */
  TH_LS_OTHER,  /* LDM/STM/PUSH/POP, LDRD/STRD, VLDM/VSTM: never pipelined */
  TH_BRANCH,    /* B, BL, BX, CBZ, TBB...: 1 (+P when taken, resolved at run time) */
  TH_OTHER,     /* everything else (hints, MSR, IT, VFP moves): cycles as given */
};

enum th_branch { TH_BR_NONE, TH_BR_DIRECT, TH_BR_INDIRECT };

typedef struct {
  uint8_t cycles;     /* issue cycles before pairing rules and branch refill */
  uint8_t cls;        /* enum th_class */
  uint8_t branch;     /* enum th_branch: the instruction can write the PC */
  uint8_t load;       /* TH_LS_SINGLE: 1 load, 0 store */
  uint8_t writeback;  /* base register updated */
  uint8_t reg_offset; /* TH_LS_SINGLE addressed by base + register */
  uint8_t imm_store;  /* STR Rx,[Ry,#imm]: "always one cycle" (§3.3.2) */
  int8_t rd;          /* register written by a data-processing instruction, -1 if none */
  int8_t rt;          /* register a single load writes, -1 if none */
  int8_t rn, rm;      /* address registers of a load/store, -1 if none */
} th_insn;

/* Decode one instruction: `hw1` its first halfword, `hw2` the second (32-bit encodings only). */
th_insn th_decode(uint16_t hw1, uint16_t hw2, int wide);

/* Which TRM figures the model uses for the choices the manual leaves open (see thumb_cost.c). */
#define TH_DIV_CYCLES 12      /* SDIV/UDIV "2-12": operands are not visible to an API v1 plugin: the bound */
#define TH_P_DIRECT 1         /* refill after a taken branch to an immediate target, target aligned */
#define TH_P_INDIRECT 3       /* "three cycles for the pipeline reload" (LDR PC, TBB/TBH; §3.3.2) */
#define TH_EXCEPTION_ENTRY 12 /* "12 cycle interrupt latency" (TRM §1.2 / §3.? interrupt handling) */

#endif
