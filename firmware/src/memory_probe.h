/* Measures what one inference really touches: arena bytes and stack depth. */
#ifndef TH_MEMORY_PROBE_H
#define TH_MEMORY_PROBE_H

#include <stdint.h>

typedef struct {
  uint32_t arena_plan_bytes;    /* th_model.arena_bytes */
  uint32_t arena_used_bytes;    /* high-water mark: last arena byte written + 1 */
  uint32_t stack_used_bytes;    /* deepest stack use below the caller's frame during invoke */
  uint32_t stack_size_bytes;    /* the stack the linker script reserves */
  uint32_t static_ram_bytes;    /* .data + .bss */
} th_memory_report;

void th_measure_memory(const void *input, void *output, th_memory_report *report);

#endif
