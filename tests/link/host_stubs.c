/* Host stand-ins for what the firmware's parsers need from a board, its timer and the memory
 * probe, shared by the host fuzz builds (fuzz_fw.c, fuzz_mlperf.c); each brings its own UART. */
#include <string.h>

#include "board.h"
#include "memory_probe.h"
#include "timer.h"
#include "tinyhil_model.h"

void th_board_init(void) {}
uint32_t th_board_cpu_hz(void) { return 25000000u; }
const char *th_board_name(void) { return "host-fuzz"; }

static uint64_t fake_time;
void th_timer_init(uint32_t cpu_hz) { (void)cpu_hz; }
uint64_t th_timer_now(void) { return fake_time += 7; }
void th_timer_sync(void) {}
const char *th_timer_name(void) { return "host"; }
uint32_t th_timer_hz(void) { return 25000000u; }
uint32_t th_timer_overhead(void) { return 0; }

void th_measure_memory(const void *input, void *output, th_memory_report *report) {
  th_model_invoke(input, output, 0, 0);
  memset(report, 0, sizeof(*report));
}
