/* Thumb-2 decoding to Cortex-M4 cycle classes. Encodings from the ARMv7-M Architecture Reference
 * Manual (Arm DDI 0403E), §A5.2 (16-bit) and §A5.3 (32-bit); cycles from the Cortex-M4 TRM (Arm
 * DDI 0439B) Table 3-1 and, for floating point, Table 7-1. Only what changes the cycle count is
 * decoded: the class, the registers the pairing rules look at, and whether the PC is written. */
#include "thumb_cost.h"

static int popcount16(uint32_t v) { return __builtin_popcount(v & 0xFFFFu); }

static th_insn make(uint8_t cycles, uint8_t cls) {
  th_insn d = {cycles, cls, TH_BR_NONE, 0, 0, 0, 0, -1, -1, -1, -1};
  return d;
}

static th_insn alu(int rd) {
  th_insn d = make(1, TH_ALU); /* TRM Table 3-1: data operations, MUL/MLA/SMLAxy/SMLAD/SMULL/SMLAL, SSAT... 1 */
  d.rd = (int8_t)rd;
  if (rd == 15) { /* ADD/MOV PC: 1+P (Table 3-1, "MOV PC,Rm" / "ADD PC,PC,Rm") */
    d.cls = TH_BRANCH;
    d.branch = TH_BR_INDIRECT;
    d.rd = -1;
  }
  return d;
}

static th_insn branch(uint8_t kind) {
  th_insn d = make(1, TH_BRANCH); /* B, BL, BX, CBZ: 1+P, P added when taken */
  d.branch = kind;
  return d;
}

static th_insn ls_single(int load, int rt, int rn, int rm, int writeback) {
  /* Table 3-1: LDR 2; STR 2, of which §3.3.2: "STR Rx,[Ry,#imm] is always one cycle" */
  th_insn d = make(2, TH_LS_SINGLE);
  d.load = (uint8_t)load;
  d.rt = (int8_t)(load ? rt : -1);
  d.rn = (int8_t)rn;
  d.rm = (int8_t)rm;
  d.writeback = (uint8_t)writeback;
  d.reg_offset = rm >= 0;
  d.imm_store = !load && rm < 0;
  if (d.imm_store) d.cycles = 1;
  if (load && rt == 15) { /* LDR PC: "at least two cycles for the load, and three for the reload" */
    d.cls = TH_BRANCH;
    d.branch = TH_BR_INDIRECT;
    d.cycles = 2;
  }
  return d;
}

static th_insn ls_multiple(int n, int rn, int load_pc) {
  th_insn d = make((uint8_t)(1 + n), TH_LS_OTHER); /* LDM/STM/PUSH/POP: 1+N (Table 3-1) */
  d.rn = (int8_t)rn;
  if (load_pc) d.branch = TH_BR_INDIRECT; /* POP {..,PC} / LDM {..,PC}: 1+N+P */
  return d;
}

static th_insn decode16(uint16_t h) {
  const unsigned op = h >> 10;
  if ((op & 0x30) == 0x00) { /* 00xxxx: shift (imm), add, subtract, move, compare */
    if ((h >> 13) == 1) return alu((h >> 11 & 3) == 1 ? -1 : (h >> 8) & 7); /* MOV/CMP/ADD/SUB imm8 */
    return alu(h & 7);
  }
  if (op == 0x10) { /* 010000: data processing; TST (8), CMP (10), CMN (11) write no register */
    const unsigned opc = (h >> 6) & 0xF;
    return alu(opc == 8 || opc == 10 || opc == 11 ? -1 : h & 7); /* MUL (13) is 1 too */
  }
  if (op == 0x11) { /* 010001: special data processing, branch and exchange */
    const unsigned opc = (h >> 6) & 0xF;
    const int rdn = ((h >> 4) & 8) | (h & 7);
    if ((opc & 0xC) == 0x4) return alu(-1);                   /* CMP high */
    if ((opc & 0xC) == 0xC) return branch(TH_BR_INDIRECT);    /* BX, BLX Rm */
    return alu(rdn);                                          /* ADD/MOV high (PC: a branch) */
  }
  if ((op & 0x3E) == 0x12) return ls_single(1, (h >> 8) & 7, 15, -1, 0); /* 01001x: LDR literal */
  if ((op & 0x3C) == 0x14) { /* 0101xx: load/store, register offset: opB 0-2 stores, 3-7 loads */
    const unsigned opb = (h >> 9) & 7;
    return ls_single(opb >= 3, h & 7, (h >> 3) & 7, (h >> 6) & 7, 0);
  }
  if ((op & 0x38) == 0x18 || (op & 0x3C) == 0x20) /* 011xxx word/byte, 1000xx halfword, imm5 */
    return ls_single((h >> 11) & 1, h & 7, (h >> 3) & 7, -1, 0);
  if ((op & 0x3C) == 0x24) return ls_single((h >> 11) & 1, (h >> 8) & 7, 13, -1, 0); /* SP-relative */
  if ((op & 0x3C) == 0x28) return alu((h >> 8) & 7); /* ADR, ADD Rd,SP,#imm */
  if ((op & 0x3C) == 0x2C) { /* 1011xx: miscellaneous */
    const unsigned m = (h >> 5) & 0x7F;
    if ((m & 0x7C) == 0x00 || (m & 0x7C) == 0x04) return alu(13);          /* ADD/SUB SP,#imm */
    if ((h & 0x0500) == 0x0100) return branch(TH_BR_DIRECT);               /* CBZ/CBNZ */
    if ((m & 0x78) == 0x10) return alu(h & 7);                             /* SXTH/SXTB/UXTH/UXTB */
    if ((m & 0x70) == 0x20) return ls_multiple(popcount16(h & 0x1FF), 13, 0); /* PUSH */
    if ((m & 0x78) == 0x50) return alu(h & 7);                             /* REV, REV16, REVSH */
    if ((m & 0x70) == 0x60) return ls_multiple(popcount16(h & 0x1FF), 13, (h >> 8) & 1); /* POP */
    return make(1, TH_OTHER); /* IT (Table 3-1: 1), NOP and hints, BKPT, CPS */
  }
  if ((op & 0x3C) == 0x30) /* 11000x STM, 11001x LDM */
    return ls_multiple(popcount16(h & 0xFF), (h >> 8) & 7, 0);
  if ((op & 0x3C) == 0x34) { /* 1101xx: B<c>, UDF (1110), SVC (1111) */
    const unsigned cond = (h >> 8) & 0xF;
    return cond >= 0xE ? make(1, TH_OTHER) : branch(TH_BR_DIRECT);
  }
  if ((op & 0x3E) == 0x38) return branch(TH_BR_DIRECT); /* 11100x: B */
  return make(1, TH_OTHER);
}

/* Floating point (coprocessors 10 and 11): FPU timings, TRM Table 7-1. */
static th_insn decode_vfp(uint16_t h1, uint16_t h2) {
  if ((h1 & 0x0E00) == 0x0C00) { /* extension register load/store (and 64-bit core moves) */
    const unsigned op = (h1 >> 4) & 0x1F;
    if ((op & 0x1E) == 0x04) return make(2, TH_OTHER);                    /* VMOV two core regs: 2 */
    const int rn = h1 & 0xF;
    if ((op & 0x13) == 0x11 || (op & 0x13) == 0x10) {                     /* VLDR / VSTR: 2 */
      th_insn d = ls_single((op & 1), -1, rn, -1, 0);
      d.cycles = 2;
      d.imm_store = 0;
      return d;
    }
    const int words = h2 & 0xFF;                                          /* VLDM/VSTM/VPUSH/VPOP: 1+N */
    return ls_multiple(words, rn, 0);
  }
  if ((h1 & 0x0F00) == 0x0E00 && !(h2 & 0x10)) { /* data processing */
    const unsigned opc1 = ((h1 >> 4) & 0x8) | ((h1 >> 4) & 0x3);
    if ((opc1 & 0xB) == 0x0 || (opc1 & 0xB) == 0x1) return make(3, TH_OTHER); /* VMLA/VMLS/VNMLA/VNMLS: 3 */
    if ((opc1 & 0xB) == 0x9 || (opc1 & 0xB) == 0xA) return make(3, TH_OTHER); /* VFMA/VFMS/VFNMA/VFNMS: 3 */
    if ((opc1 & 0xB) == 0x8) return make(14, TH_OTHER);                       /* VDIV: 14 */
    if ((opc1 & 0xB) == 0xB && (h1 & 0xF) == 0x1 && (h2 & 0xC0) == 0xC0) return make(14, TH_OTHER); /* VSQRT */
    return make(1, TH_OTHER); /* VADD, VSUB, VMUL, VNMUL, VABS, VNEG, VCVT, VCMP, VMOV: 1 */
  }
  return make(1, TH_OTHER); /* VMOV core<->single, VMRS, VMSR: 1 */
}

static th_insn decode32(uint16_t h1, uint16_t h2) {
  const unsigned op1 = (h1 >> 11) & 3, op2 = (h1 >> 4) & 0x7F;
  const int rn = h1 & 0xF, rd = (h2 >> 8) & 0xF;
  if (op1 == 1) {
    if ((op2 & 0x64) == 0x00) { /* load/store multiple */
      const int load = (h1 >> 4) & 1;
      return ls_multiple(popcount16(h2), rn, load && (h2 & 0x8000));
    }
    if ((op2 & 0x64) == 0x04) { /* dual, exclusive, table branch */
      const unsigned a = (h1 >> 7) & 3, b = (h1 >> 4) & 3;
      if (a == 1 && b == 1 && (h2 & 0xE0) == 0) { /* TBB/TBH: 2+P (Table 3-1) */
        th_insn d = branch(TH_BR_INDIRECT);
        d.cycles = 2;
        return d;
      }
      if ((a & 2) || (b & 2)) { /* LDRD/STRD: 1+N with N=2 = 3, not pipelined (§3.3.2) */
        th_insn d = make(3, TH_LS_OTHER);
        d.rn = (int8_t)rn;
        return d;
      }
      return ls_single(b & 1, (h2 >> 12) & 0xF, rn, -1, 0); /* LDREX/STREX: "exactly as LDR" */
    }
    if ((op2 & 0x60) == 0x20) { /* data processing (shifted register) */
      const unsigned opc = (h1 >> 5) & 0xF;
      const int s = (h1 >> 4) & 1;
      if (s && rd == 15 && (opc == 0 || opc == 4 || opc == 8 || opc == 13)) return alu(-1); /* TST TEQ CMN CMP */
      return alu(rd);
    }
    if ((h2 & 0x0E00) == 0x0A00) return decode_vfp(h1, h2);
    return make(1, TH_OTHER);
  }
  if (op1 == 2) {
    if (!(h2 & 0x8000)) { /* data processing, modified or plain immediate (incl. SSAT/USAT, BFI, MOVW) */
      const unsigned opc = (h1 >> 5) & 0xF;
      const int s = (h1 >> 4) & 1;
      if (!(h1 & 0x0200) && s && rd == 15 && (opc == 0 || opc == 4 || opc == 8 || opc == 13)) return alu(-1);
      return alu(rd);
    }
    const unsigned k = (h2 >> 12) & 5;
    if (k == 0 && ((h1 >> 7) & 7) == 7) return make(1, TH_OTHER); /* MSR, MRS, hints, barriers */
    return branch(TH_BR_DIRECT);                                  /* B<c>.W, B.W, BL: 1+P */
  }
  /* op1 == 3 */
  if ((op2 & 0x71) == 0x00) { /* store single */
    const int wb = !(h1 & 0x80) && (h2 & 0x800) && (h2 & 0x100);
    const int rm = (!(h1 & 0x80) && !(h2 & 0x800)) ? (h2 & 0xF) : -1;
    return ls_single(0, (h2 >> 12) & 0xF, rn, rm, wb);
  }
  if ((op2 & 0x67) == 0x01 || (op2 & 0x67) == 0x03 || (op2 & 0x67) == 0x05) { /* loads (byte, half, word) */
    const int rt = (h2 >> 12) & 0xF;
    if (rn == 15) return ls_single(1, rt, 15, -1, 0); /* literal */
    const int wb = !(h1 & 0x80) && (h2 & 0x800) && (h2 & 0x100);
    const int rm = (!(h1 & 0x80) && !(h2 & 0x800)) ? (h2 & 0xF) : -1;
    if (rt == 15 && (op2 & 0x67) != 0x05) return make(2, TH_OTHER); /* PLD/PLI: as a load, no result */
    return ls_single(1, rt, rn, rm, wb);
  }
  if ((op2 & 0x70) == 0x20) return alu(rd); /* data processing (register): shifts, extend, SIMD add, CLZ */
  if ((op2 & 0x78) == 0x30) return alu(rd); /* multiply, MAC (MUL, MLA, MLS, SMLAxy, SMLAD, SMMUL...): 1 */
  if ((op2 & 0x78) == 0x38) {                /* long multiply, long MAC, divide */
    const unsigned lop = (h1 >> 4) & 7;
    if ((lop == 1 || lop == 3) && (h2 & 0xF0) == 0xF0) { /* SDIV/UDIV: 2-12 by operand; the bound */
      th_insn d = alu(rd);
      d.cycles = TH_DIV_CYCLES;
      return d;
    }
    return alu(rd); /* SMULL/UMULL/SMLAL/UMLAL/SMLALxy/SMLALD/UMAAL: 1 (RdHi as the written register) */
  }
  if ((h2 & 0x0E00) == 0x0A00 && (op2 & 0x40)) return decode_vfp(h1, h2);
  return make(1, TH_OTHER);
}

th_insn th_decode(uint16_t hw1, uint16_t hw2, int wide) { return wide ? decode32(hw1, hw2) : decode16(hw1); }
