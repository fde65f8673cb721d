/* Arena and stack high-water marks by painting, with guard bands that make an overflow visible.
 * The arena and the guard band past it are painted with one pattern, an inference runs, and the
 * highest byte that no longer holds the pattern is found; this is repeated with a second pattern,
 * so a byte the model happens to write with the first pattern's value is still seen as used. A
 * high-water mark past the plan is an arena overflow (the host fails the run with the numbers).
 * The free stack below the current frame is painted the same way; its lowest TH_STACK_GUARD_BYTES
 * are a guard that the inference must not reach. */
#include "memory_probe.h"

#include <string.h>

#include "cortex_m.h"
#include "tinyhil_model.h"

extern uint32_t _stack_bottom[], _stack_top[], _sdata[], _ebss[];

#define STACK_PAINT 0xC5C5C5C5u

static uint32_t painted_bytes(void) { return th_model.arena_bytes + TH_ARENA_GUARD_BYTES; }

static void paint_arena(uint8_t pattern) { memset(th_arena, pattern, painted_bytes()); }

static uint32_t arena_high_water(uint8_t pattern) {
  uint32_t i = painted_bytes();
  while (i > 0 && th_arena[i - 1] == pattern) i--;
  return i;
}

/* noinline: the stack below this frame is dead memory, painted up to SP itself (ARM has no red
 * zone). The figure includes any exception frames (SysTick) stacked during the inference. */
__attribute__((noinline)) static uint32_t invoke_measuring_stack(const void *input, void *output) {
  uint32_t sp = th_get_sp();
  uint32_t *bottom = _stack_bottom;
  uint32_t *limit = (uint32_t *)(sp & ~3u);
  /* volatile: a memset call here would paint over its own frame */
  for (volatile uint32_t *w = bottom; w < limit; w++) *w = STACK_PAINT;
  th_model_invoke(input, output, 0, 0);
  uint32_t *w = bottom;
  while (w < limit && *w == STACK_PAINT) w++;
  return sp - (uint32_t)w;
}

__attribute__((weak)) uint32_t th_model_persistent_used_bytes(void) { return 0; }
__attribute__((weak)) uint32_t th_model_engine_arena_used_bytes(void) { return 0; }

void th_measure_memory(const void *input, void *output, th_memory_report *report) {
  paint_arena(0xAA);
  uint32_t stack_a = invoke_measuring_stack(input, output);
  uint32_t used_a = arena_high_water(0xAA);
  paint_arena(0x55);
  uint32_t stack_b = invoke_measuring_stack(input, output);
  uint32_t used_b = arena_high_water(0x55);
  const uint32_t stack_reserved = (uint32_t)((uintptr_t)_stack_top - (uintptr_t)_stack_bottom);

  report->arena_plan_bytes = th_model.arena_bytes;
  report->arena_used_bytes = used_a > used_b ? used_a : used_b;
  report->stack_used_bytes = stack_a > stack_b ? stack_a : stack_b;
  /* usable stack: what lies above the guard */
  report->stack_size_bytes = stack_reserved > TH_STACK_GUARD_BYTES ? stack_reserved - TH_STACK_GUARD_BYTES : 0;
  report->static_ram_bytes = (uint32_t)((uintptr_t)_ebss - (uintptr_t)_sdata);
  report->arena_guard_bytes = TH_ARENA_GUARD_BYTES;
  report->stack_guard_bytes = TH_STACK_GUARD_BYTES;
  report->persistent_used_bytes = th_model_persistent_used_bytes();
  report->engine_arena_used_bytes = th_model_engine_arena_used_bytes();
}
