/* Measures what one inference really touches: arena bytes and stack depth. */
#ifndef TH_MEMORY_PROBE_H
#define TH_MEMORY_PROBE_H

#include <stdint.h>

typedef struct {
  uint32_t arena_plan_bytes;    /* th_model.arena_bytes */
  uint32_t arena_used_bytes;    /* high-water mark: last byte written + 1; > plan is an overflow */
  uint32_t stack_used_bytes;    /* deepest stack use below the caller's frame during invoke */
  uint32_t stack_size_bytes;    /* usable stack: what the linker reserves, less the guard */
  uint32_t static_ram_bytes;    /* .data + .bss */
  uint32_t arena_guard_bytes;   /* painted past the plan */
  uint32_t stack_guard_bytes;   /* painted at the stack's low end, below the usable stack */
  uint32_t persistent_used_bytes;   /* the engine's persistent buffer in use (0: it has none) */
  uint32_t engine_arena_used_bytes; /* the engine's own arena figure (TFLM arena_used_bytes(); 0: none) */
} th_memory_report;

/* The lowest bytes of the stack region are a guard band: an inference reaching them overflowed. */
#define TH_STACK_GUARD_BYTES 256u

void th_measure_memory(const void *input, void *output, th_memory_report *report);

#endif
