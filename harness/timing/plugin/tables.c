/* The flash caches' lookup and the plugin's tables of blocks and memory instructions. */
#include <stdlib.h>

#include "timing_state.h"

int cache_access(cache *c, uint64_t line, int *slot_hint) {
  c->tick++;
  if (c->n == 0) return 0;
  if (slot_hint && *slot_hint >= 0 && c->tags[*slot_hint] == line) {
    c->stamp[*slot_hint] = c->tick;
    return 1;
  }
  int victim = 0;
  for (int i = 0; i < c->n; i++) {
    if (c->tags[i] == line) {
      c->stamp[i] = c->tick;
      if (slot_hint) *slot_hint = i;
      return 1;
    }
    if (c->stamp[i] < c->stamp[victim]) victim = i;
  }
  c->tags[victim] = line;
  c->stamp[victim] = c->tick;
  if (slot_hint) *slot_hint = victim;
  return 0;
}

/* Open addressing; far more slots than any firmware tinyhil builds has blocks or memory instructions. */
#define TABLE_BITS 16
#define TABLE_MASK ((1u << TABLE_BITS) - 1)
static block *blocks[1u << TABLE_BITS];
static uint32_t blocks_n[1u << TABLE_BITS];
static mem_insn *mems[1u << TABLE_BITS];

static uint32_t slot(uint64_t vaddr, uint32_t salt) { return (uint32_t)((vaddr >> 1) * 2654435761u + salt) & TABLE_MASK; }

block *find_or_add_block(uint64_t start, uint32_t n_insns, int *fresh) {
  uint32_t h = slot(start, n_insns);
  for (uint32_t probe = 0; probe <= TABLE_MASK; probe++, h = (h + 1) & TABLE_MASK) {
    if (!blocks[h]) {
      block *b = calloc(1, sizeof *b);
      b->start = start;
      for (int i = 0; i < MAX_LINES; i++) b->hint[i] = -1;
      blocks[h] = b;
      blocks_n[h] = n_insns;
      *fresh = 1;
      return b;
    }
    if (blocks[h]->start == start && blocks_n[h] == n_insns) {
      *fresh = 0;
      return blocks[h];
    }
  }
  abort();
}

mem_insn *mem_info(uint64_t vaddr) {
  uint32_t h = slot(vaddr, 0);
  for (uint32_t probe = 0; probe <= TABLE_MASK; probe++, h = (h + 1) & TABLE_MASK) {
    if (!mems[h]) {
      mems[h] = calloc(1, sizeof(mem_insn));
      mems[h]->vaddr = vaddr;
      return mems[h];
    }
    if (mems[h]->vaddr == vaddr) return mems[h];
  }
  abort();
}

void each_block(void (*fn)(const block *, void *), void *ctx) {
  for (uint32_t i = 0; i <= TABLE_MASK; i++)
    if (blocks[i]) fn(blocks[i], ctx);
}
