/* The plugin's shared records: its counters, the flash caches, and what it keeps per translated
 * block and per memory instruction (tables.c holds the lookup tables). */
#ifndef TINYHIL_TIMING_STATE_H
#define TINYHIL_TIMING_STATE_H

#include <stdint.h>

enum { C_INSNS, C_CORE, C_TAKEN, C_EXC, C_IF_LOOKUP, C_IF_MISS, C_IF_MISS_SEQ, C_DF_READ, C_DF_MISS, C_UNALIGNED,
       C_IF_STALL, C_N };
#define COUNTER_NAMES                                                                                          \
  {"insns", "core", "taken", "exceptions", "ifetch_lines", "ifetch_miss", "ifetch_miss_seq", "dflash_reads",    \
   "dflash_miss", "unaligned", "ifetch_stall"}
extern uint64_t counters[C_N];

/* A fully associative LRU cache of `n` lines (the manuals give sizes, not organisations). */
typedef struct {
  int n;
  uint64_t tags[256];
  uint64_t stamp[256];
  uint64_t tick;
} cache;

/* 1 on a hit. `slot_hint` (may be NULL) remembers where the line was, to skip the search next time. */
int cache_access(cache *c, uint64_t line, int *slot_hint);

#define MAX_LINES 16
typedef struct block {
  uint64_t start, end; /* code bytes [start, end) */
  uint32_t cost, n_insns;
  uint8_t branch;  /* the last instruction may write the PC: enum th_branch */
  uint8_t first_p; /* refill when a taken branch lands here: 1, or 2 for an unaligned 32-bit target */
  uint8_t in_flash, n_lines;
  uint64_t first_line;
  int hint[MAX_LINES];
  /* learnt while every block calls on_block: executions and the dynamic counters they added */
  uint64_t execs, learnt[C_N], learnt_entry[C_N]; /* entry: the refill of the branch that jumped here */
  uint64_t replayed;                              /* executions counted inline since */
  struct block *next_replayed;
} block;

/* The record of the block at `start` with `n_insns` instructions (a retranslation finds it again). */
block *find_or_add_block(uint64_t start, uint32_t n_insns, int *fresh);

/* What one memory instruction did while the plugin was learning: until the first timed window
 * closes (the firmware's memory probe runs one whole inference first) every memory instruction
 * calls on_mem. Then the code is retranslated: an instruction that only touched SRAM, aligned, needs
 * nothing more (zero wait: its core timing is all); one that touched flash or was unaligned gets an
 * inline access counter, and its flash reads, data-cache misses and unaligned accesses are that count
 * times the rates it showed while learning. The engine's inference is the same access pattern every
 * time (data-independent loops), so the rates carry over; instructions that had not run keep the
 * exact callback. This keeps the plugin near the cost of its block callbacks (benchmarks/timing_overhead.py). */
typedef struct mem_insn {
  uint64_t vaddr;
  uint64_t accesses, flash, miss, unaligned; /* while learning */
  uint64_t replayed;                         /* accesses counted inline since */
  struct mem_insn *next_replayed;
} mem_insn;

mem_insn *mem_info(uint64_t vaddr);

/* Every block recorded so far (the profile written at exit). */
void each_block(void (*fn)(const block *, void *), void *ctx);

#endif
