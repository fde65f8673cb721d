/* Timing. DWT CYCCNT counts core cycles on real Cortex-M4 silicon but reads 0 in QEMU, so the
 * firmware probes it at boot. Without it, SysTick runs from the core clock with a wrap interrupt
 * extending it to 64 bits; under `qemu -icount` its ticks measure instructions, not cycles, and
 * the harness converts them with the board's emulated SysTick clock. With DWT, SysTick still
 * interrupts every 2^24 cycles to catch CYCCNT wraps (every ~25 s at 168 MHz). */
#include "timer.h"

#include "cortex_m.h"

#define SYSTICK_RELOAD 0xFFFFFFu
#define SYSTICK_PERIOD (SYSTICK_RELOAD + 1u)

static volatile uint32_t systick_wraps;
static uint32_t dwt_last, dwt_high;
static int use_dwt;
static uint32_t timer_hz;
static uint32_t overhead;

static int dwt_counts(void) {
#ifdef TH_NO_DWT /* the board file says cycle_counter: systick */
  return 0;
#endif
  DEMCR |= DEMCR_TRCENA;
  if (DWT_CTRL & DWT_CTRL_NOCYCCNT) return 0;
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
  for (volatile int i = 0; i < 64; i++) {
  }
  return DWT_CYCCNT != 0;
}

static uint64_t dwt_now(void) {
  uint32_t primask = th_irq_save();
  uint32_t now = DWT_CYCCNT;
  if (now < dwt_last) dwt_high++;
  dwt_last = now;
  uint64_t result = ((uint64_t)dwt_high << 32) | now;
  th_irq_restore(primask);
  return result;
}

static uint64_t systick_now(void) {
  uint32_t primask = th_irq_save();
  uint32_t wraps = systick_wraps;
  uint32_t value = SYST_CVR;
  /* A wrap that happened while interrupts were masked is pending but not yet counted. */
  if (SCB_ICSR & SCB_ICSR_PENDSTSET) {
    value = SYST_CVR;
    wraps++;
  }
  th_irq_restore(primask);
  return (uint64_t)wraps * SYSTICK_PERIOD + (SYSTICK_RELOAD - value);
}

void th_systick_handler(void) {
  systick_wraps++;
  if (use_dwt) (void)dwt_now();
}

void th_timer_init(uint32_t cpu_hz) {
  timer_hz = cpu_hz;
  use_dwt = dwt_counts();
  SYST_RVR = SYSTICK_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = (1u << 2) | (1u << 1) | 1u; /* core clock, interrupt on wrap, enable */
  uint64_t a = th_timer_now();
  uint64_t b = th_timer_now();
  overhead = (uint32_t)(b - a);
}

uint64_t th_timer_now(void) { return use_dwt ? dwt_now() : systick_now(); }

/* SysTick's tick edges fall wherever they fell while the firmware waited for the host, so a
 * measurement's first and last reads could straddle one edge more or fewer from run to run.
 * Restarting the counter here (writing CVR reloads it on the next tick) pins the edges to this
 * point in the instruction stream: under `qemu -icount` the counts become exactly repeatable.
 * DWT counts every cycle and needs no such alignment. */
void th_timer_sync(void) {
  if (use_dwt) return;
  uint32_t primask = th_irq_save();
  SYST_CVR = 0;
  while (SYST_CVR == 0) {
  }
  th_irq_restore(primask);
}

const char *th_timer_name(void) { return use_dwt ? "dwt_cyccnt" : "systick"; }

uint32_t th_timer_hz(void) { return timer_hz; }

uint32_t th_timer_overhead(void) { return overhead; }
