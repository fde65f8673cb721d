/* A 64-bit tick counter: DWT CYCCNT where it counts, else SysTick at the core clock. */
#ifndef TH_TIMER_H
#define TH_TIMER_H

#include <stdint.h>

void th_timer_init(uint32_t cpu_hz);
uint64_t th_timer_now(void);
void th_timer_sync(void); /* align SysTick's tick edges to now, before a measurement */
const char *th_timer_name(void); /* "dwt_cyccnt" or "systick" */
uint32_t th_timer_hz(void);
uint32_t th_timer_overhead(void); /* ticks between two back-to-back reads */

#endif
