/* tinyhil's Cortex-M4 timing plugin for QEMU (TCG plugin API version 1, QEMU 7.2).
 *
 * At translation every block gets its static core cost (thumb_cost.c plus the TRM's pairing rules
 * between neighbouring instructions), precomputed once. While learning (until the first timed window
 * closes), one callback per executed block adds that cost, resolves the previous block's branch
 * (taken: + the pipeline refill P) and looks the block's code lines up in the flash accelerator's
 * instruction cache; one callback per memory access attributes it by address (flash: the data cache;
 * SRAM: zero wait) and counts unaligned accesses; each block and memory instruction learns what it
 * added. Then the code is retranslated and replayed: one inline counter per block and per flash or
 * unaligned access, times what it added per execution while learning.
 * The plugin counts events; data-side wait states are applied in Python (harness/timing/model.py) so
 * the counts stay checkable. Snapshots of all counters are written at marker addresses:
 *   start=ADDR  opens a window (the engine's invoke entry), written as a line "S ..."
 *   mark=ADDR   a timer read inside an open window (the firmware's th_timer_now), "M ..."
 *   close=ADDR  closes the window (up to 8 addresses: sending a frame, resyncing the timer)
 * Other arguments: out=PATH, flash=LO:HI (the emulated machine's flash), line=BYTES (flash read
 * width / cache line), icache=LINES, dcache=LINES, unified=0|1 (one cache for both), ws=N (flash
 * wait states), prefetch=0|1, mem=2 (never stop learning: every callback kept, to check the replay),
 * profile=PATH (at each window's close and at exit, one line per block: start, instructions, core
 * cycles, executions; for benchmarks/kernel_profile.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"
#include "thumb_cost.h"
#include "timing_state.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

uint64_t counters[C_N];

static cache icache, dcache_own;
static cache *dcache = &dcache_own;
static uint64_t flash_lo = 1, flash_hi = 0; /* empty: no flash, all zero wait */
static unsigned line_shift = 4;
static uint64_t last_fetch_line = ~0ull, last_fetch_time;
static unsigned wait_states, prefetch, mem_cbs = 1;
static FILE *out;
static const char *profile_path;

typedef struct {
  char kind;     /* 'S', 'M', 'C' */
  uint32_t rest_cost, rest_insns; /* of the marker instruction and those after it in its block */
  const block *blk; /* a marker on a block's first instruction: the whole block comes after it */
  int replay;       /* that block is counted inline (its learnt averages) rather than by on_block */
} marker;

static uint64_t last_delta[C_N], last_entry[C_N]; /* what the latest on_block call added; of it, at entry */

static mem_insn *replay_list;
static int learning = 1, reset_requested, keep_all;
static struct block *block_replay_list;
static qemu_plugin_id_t plugin_id;

/* The replayed share of a counter: inline counts times the learnt rate per access or execution. */
static uint64_t replayed(int counter) {
  double total = 0;
  for (const struct block *b = block_replay_list; b; b = b->next_replayed)
    total += (double)b->replayed * (double)b->learnt[counter] / (double)b->execs;
  if (counter != C_DF_READ && counter != C_DF_MISS && counter != C_UNALIGNED) return (uint64_t)(total + 0.5);
  for (const mem_insn *m = replay_list; m; m = m->next_replayed) {
    const double n = (double)m->replayed / (double)m->accesses;
    total += n * (double)(counter == C_DF_READ ? m->flash : counter == C_DF_MISS ? m->miss : m->unaligned);
  }
  return (uint64_t)(total + 0.5);
}

static uint64_t starts[8], marks[8], closes[8];
static int n_starts, n_marks, n_closes;
static int window_open;
static const block *prev_block;

static int in_flash(uint64_t a) { return a >= flash_lo && a < flash_hi; }

static void write_snapshot(char kind, const marker *m) {
  fprintf(out, "%c", kind);
  for (int i = 0; i < C_N; i++) {
    uint64_t v = counters[i] + replayed(i);
    /* a marker on a block's first instruction: the block's own costs come after it, the refill of
     * the branch that jumped to it (charged on entry) before it */
    if (m->blk && m->replay) {
      const double own = (double)(m->blk->learnt[i] - m->blk->learnt_entry[i]) / (double)m->blk->execs;
      v -= (uint64_t)(own + 0.5);
    } else if (m->blk) {
      v -= last_delta[i] - last_entry[i];
    } else {
      if (i == C_CORE) v -= m->rest_cost;
      if (i == C_INSNS) v -= m->rest_insns;
    }
    fprintf(out, " %llu", (unsigned long long)v);
  }
  fputc('\n', out);
  fflush(out); /* QEMU is killed, not asked to exit: every line must be on disk when written */
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
static void on_exit_cb(qemu_plugin_id_t id, void *udata);

static void on_relearned(qemu_plugin_id_t id) {
  learning = 0;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
}

static void write_profile(void);

static void on_marker(unsigned int vcpu, void *udata) {
  (void)vcpu;
  const marker *m = udata;
  if (m->kind == 'S') {
    window_open = 1;
    write_snapshot('S', m);
  } else if (window_open && m->kind == 'M') {
    write_snapshot('M', m);
  } else if (window_open && m->kind == 'C') {
    window_open = 0;
    write_snapshot('C', m);
    write_profile();
    if (learning && !reset_requested && !keep_all) {
      reset_requested = 1;
      qemu_plugin_reset(plugin_id, on_relearned);
    }
  }
}

static void on_block_counts(block *b);

/* Exact: the block's own costs now, and what they added is learnt for replaying it later. */
static void on_block(unsigned int vcpu, void *udata) {
  (void)vcpu;
  block *b = udata;
  uint64_t before[C_N];
  memcpy(before, counters, sizeof before);
  memset(last_entry, 0, sizeof last_entry);
  const block *p = prev_block;
  /* a block starting inside the last one, which ended on no branch: QEMU re-running the rest of it
   * from an I/O access (icount), not a jump or an exception entry */
  const int restart = p && p->branch == TH_BR_NONE && b->start > p->start && b->start < p->end;
  if (p && b->start != p->end && !restart) { /* control did not fall through */
    if (p->branch == TH_BR_DIRECT) last_entry[C_CORE] = b->first_p, last_entry[C_TAKEN] = 1;
    else if (p->branch == TH_BR_INDIRECT) last_entry[C_CORE] = TH_P_INDIRECT, last_entry[C_TAKEN] = 1;
    /* no branch: an exception entered. Once blocks are replayed the previous block seen here may not be
     * the one that ran last, so a jump is then taken to be a branch to this block */
    else if (learning) last_entry[C_CORE] = TH_EXCEPTION_ENTRY, last_entry[C_EXC] = 1;
    else last_entry[C_CORE] = b->first_p, last_entry[C_TAKEN] = 1;
    for (int i = 0; i < C_N; i++) counters[i] += last_entry[i], b->learnt_entry[i] += last_entry[i];
  }
  on_block_counts(b);
  b->execs++;
  for (int i = 0; i < C_N; i++) b->learnt[i] += last_delta[i] = counters[i] - before[i];
}

static void on_block_counts(block *b) {
  prev_block = b;
  counters[C_CORE] += b->cost;
  counters[C_INSNS] += b->n_insns;
  if (!b->in_flash) {
    last_fetch_line = ~0ull;
    return;
  }
  /* The block's cycles are spread evenly over its lines to time each fetch. A miss after a jump
   * waits the full wait states; a sequential miss with the prefetch buffer on waits only for what
   * is left of the line read the buffer started when the previous line was fetched. */
  const uint64_t core_start = counters[C_CORE] - b->cost; /* time = core cycles + fetch stalls so far */
  for (unsigned i = 0; i < b->n_lines; i++) {
    const uint64_t line = b->first_line + i, offset = (uint64_t)b->cost * i / b->n_lines;
    counters[C_IF_LOOKUP]++;
    if (!cache_access(&icache, line, &b->hint[i])) {
      if (line == last_fetch_line + 1) {
        counters[C_IF_MISS_SEQ]++;
        /* the prefetch read began when the previous line arrived and takes the wait states on top of
         * the one cycle every fetch has (RM0090 §3.5.2 "instruction prefetch") */
        const uint64_t now = core_start + offset + counters[C_IF_STALL];
        const uint64_t elapsed = now > last_fetch_time ? now - last_fetch_time : 0;
        counters[C_IF_STALL] += prefetch ? (elapsed >= wait_states ? 0 : wait_states - elapsed) : wait_states;
      } else {
        counters[C_IF_MISS]++;
        counters[C_IF_STALL] += wait_states;
      }
    }
    last_fetch_line = line;
    last_fetch_time = core_start + offset + counters[C_IF_STALL];
  }
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata) {
  (void)vcpu;
  mem_insn *m = udata;
  const unsigned size = 1u << qemu_plugin_mem_size_shift(info);
  m->accesses++;
  if (vaddr & (size - 1)) counters[C_UNALIGNED]++, m->unaligned++;
  if (in_flash(vaddr)) {
    if (qemu_plugin_mem_is_store(info)) return;
    counters[C_DF_READ]++, m->flash++;
    if (!cache_access(dcache, vaddr >> line_shift, NULL)) counters[C_DF_MISS]++, m->miss++;
  }
}

static int uses(const th_insn *d, int reg) { return reg >= 0 && (d->rn == reg || d->rm == reg); }

/* Pairing rules of TRM §3.3.2 between an instruction and the one before it in the block. */
static unsigned paired_cost(const th_insn *d, const th_insn *prev) {
  unsigned c = d->cycles;
  if (!prev) return c;
  if (d->cls == TH_LS_SINGLE || d->cls == TH_LS_OTHER || (d->cls == TH_BRANCH && d->rn >= 0)) {
    /* "Any load or store that generates an address dependent on the result of a preceding data
     * processing operation stalls the pipeline for an additional cycle" */
    if (prev->cls == TH_ALU && uses(d, prev->rd)) c += 1;
  }
  if (d->cls == TH_LS_SINGLE && !d->imm_store && prev->cls == TH_LS_SINGLE && prev->load && !prev->writeback) {
    /* "LDR [any] are pipelined when possible ... if the next instruction is an LDR or STR, and the
     * destination of the first LDR is not used to compute the address ... one cycle is removed" */
    if (!uses(d, prev->rt) && c > 1) c -= 1;
  }
  return c;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  const uint64_t start = qemu_plugin_tb_vaddr(tb);
  int fresh;
  block *b = find_or_add_block(start, (uint32_t)n, &fresh);
  th_insn prev = {0}, cur;
  unsigned costs[512];
  int have_prev = 0;
  uint64_t end = start;
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
    const uint16_t hw1 = (uint16_t)(bytes[0] | bytes[1] << 8);
    /* The size the encoding gives (hw1[15:11] 0b11101-0b11111: 32 bits). QEMU 7.2 reports 2 bytes
     * more for the last instruction of a block it ends before a 32-bit instruction that crosses a
     * page (the halfword it peeked at): taken as reported, that instruction was decoded from the
     * wrong bits (as a branch, in one loop) and the next block looked jumped to, or entered by an
     * exception (12 cycles), on every pass of a loop so split. */
    const size_t encoded = (hw1 >> 11) >= 0x1d ? 4 : 2, reported = qemu_plugin_insn_size(insn);
    const size_t size = reported < encoded ? reported : encoded;
    const uint16_t hw2 = size >= 4 ? (uint16_t)(bytes[2] | bytes[3] << 8) : 0;
    cur = th_decode(hw1, hw2, size >= 4);
    costs[i < 512 ? i : 511] = paired_cost(&cur, have_prev ? &prev : NULL);
    if (i == 0) b->first_p = (uint8_t)(TH_P_DIRECT + (size >= 4 && (start & 2)));
    end = qemu_plugin_insn_vaddr(insn) + size;
    prev = cur;
    have_prev = 1;
    const int accesses = cur.cls == TH_LS_SINGLE || cur.cls == TH_LS_OTHER || (cur.cls == TH_BRANCH && cur.rn >= 0);
    if (mem_cbs && accesses) {
      mem_insn *m = mem_info(qemu_plugin_insn_vaddr(insn));
      if (learning || !m->accesses) {
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, m);
      } else if (m->flash || m->unaligned) {
        qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW, QEMU_PLUGIN_INLINE_ADD_U64, &m->replayed, 1);
        if (!m->next_replayed && replay_list != m) m->next_replayed = replay_list, replay_list = m;
      }
    }
  }
  if (fresh) {
    uint32_t cost = 0;
    for (size_t i = 0; i < n && i < 512; i++) cost += costs[i];
    b->cost = cost;
    b->n_insns = (uint32_t)n;
    b->end = end;
    b->branch = have_prev ? prev.branch : TH_BR_NONE;
    b->in_flash = in_flash(start);
    b->first_line = start >> line_shift;
    const uint64_t last = end > start ? (end - 1) >> line_shift : b->first_line;
    b->n_lines = (uint8_t)(last - b->first_line + 1 > MAX_LINES ? MAX_LINES : last - b->first_line + 1);
  }
  const int replaying = !learning && b->execs;
  if (replaying) { /* replay: one inline counter; the learnt figures do the rest */
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->replayed, 1);
    if (!b->next_replayed && block_replay_list != b) b->next_replayed = block_replay_list, block_replay_list = b;
  } else {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, b);
  }
  /* markers: the suffix cost says how much of this block lies at or after the marker */
  uint32_t suffix = 0;
  for (size_t j = n; j-- > 0;) {
    suffix += costs[j < 512 ? j : 511];
    const uint64_t pc = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, j));
    char kind = 0;
    for (int k = 0; k < n_starts; k++) kind = pc == starts[k] ? 'S' : kind;
    for (int k = 0; k < n_marks; k++) kind = pc == marks[k] ? 'M' : kind;
    for (int k = 0; k < n_closes; k++) kind = pc == closes[k] ? 'C' : kind;
    if (!kind) continue;
    marker *m = malloc(sizeof *m); /* lives as long as the translated code may */
    m->kind = kind;
    m->rest_cost = suffix;
    m->rest_insns = (uint32_t)(n - j);
    m->blk = j == 0 ? b : NULL;
    m->replay = replaying;
    qemu_plugin_register_vcpu_insn_exec_cb(qemu_plugin_tb_get_insn(tb, j), on_marker, QEMU_PLUGIN_CB_NO_REGS, m);
  }
}

static void write_block(const block *b, void *ctx) {
  fprintf((FILE *)ctx, "%llx %u %u %llu\n", (unsigned long long)b->start, b->n_insns, b->cost,
          (unsigned long long)(b->execs + b->replayed));
}

/* Rewritten whenever a window closes: the harness ends QEMU without letting it exit. */
static void write_profile(void) {
  FILE *profile = profile_path ? fopen(profile_path, "w") : NULL;
  if (!profile) return;
  fprintf(profile, "# tinyhil-timing profile: start n_insns core_cycles executions\n");
  each_block(write_block, profile);
  fclose(profile);
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  marker end = {'E', 0, 0, NULL, 0};
  write_snapshot('E', &end);
  fclose(out);
  write_profile();
}

static int parse_list(const char *v, uint64_t *dst, int *n) {
  char *copy = strdup(v), *save = NULL;
  for (char *tok = strtok_r(copy, ":", &save); tok && *n < 8; tok = strtok_r(NULL, ":", &save))
    dst[(*n)++] = strtoull(tok, NULL, 0) & ~1ull; /* a Thumb function symbol has bit 0 set */
  free(copy);
  return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  const char *path = NULL;
  int line_bytes = 16, unified = 0;
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) return -1;
    const char *v = eq + 1;
    const size_t k = (size_t)(eq - argv[i]);
#define KEY(name) (k == strlen(name) && !strncmp(argv[i], name, k))
    if (KEY("out")) path = v;
    else if (KEY("start")) parse_list(v, starts, &n_starts);
    else if (KEY("mark")) parse_list(v, marks, &n_marks);
    else if (KEY("close")) parse_list(v, closes, &n_closes);
    else if (KEY("flash")) flash_lo = strtoull(v, NULL, 0), flash_hi = strtoull(strchr(v, ':') + 1, NULL, 0);
    else if (KEY("line")) line_bytes = atoi(v);
    else if (KEY("icache")) icache.n = atoi(v);
    else if (KEY("dcache")) dcache_own.n = atoi(v);
    else if (KEY("unified")) unified = atoi(v);
    else if (KEY("ws")) wait_states = (unsigned)atoi(v);
    else if (KEY("prefetch")) prefetch = (unsigned)atoi(v);
    else if (KEY("mem")) mem_cbs = (unsigned)atoi(v);
    else if (KEY("profile")) profile_path = v;
    else return -1;
#undef KEY
  }
  if (!path || icache.n < 0 || icache.n > 256 || dcache_own.n < 0 || dcache_own.n > 256 || line_bytes < 4 ||
      (line_bytes & (line_bytes - 1)))
    return -1;
  line_shift = (unsigned)__builtin_ctz((unsigned)line_bytes);
  if (unified) dcache = &icache;
  out = fopen(path, "w");
  if (!out) return -1;
  fprintf(out, "# tinyhil-timing 1 counters");
  static const char *names[C_N] = COUNTER_NAMES;
  for (int i = 0; i < C_N; i++) fprintf(out, " %s", names[i]);
  fputc('\n', out);
  fflush(out);
  plugin_id = id;
  keep_all = mem_cbs == 2; /* mem=2: every memory instruction keeps its callback (to check the learning) */
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}
