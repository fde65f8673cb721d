/* Minimal bare-metal start-up for QEMU mps2-an386 (Cortex-M4F): vector table, .data/.bss
 * initialisation, FPU enable, SysTick wrap counter, semihosting output and exit. */
#include <stdint.h>
#include <string.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);

static volatile uint32_t systick_wraps;

void th_bench_systick_handler(void) { ++systick_wraps; }

static void semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void bench_puts(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */

void bench_exit(int code) {
  /* SYS_EXIT with ADP_Stopped_ApplicationExit; QEMU takes the status from the subcode. */
  static uint32_t block[2];
  block[0] = 0x20026;
  block[1] = (uint32_t)code;
  semihost(0x18, block);
  for (;;) {
  }
}

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)

void bench_timer_start(void) {
  SYST_RVR = 0xFFFFFF;
  SYST_CVR = 0;
  SYST_CSR = 7; /* processor clock, interrupt on wrap, enable */
}

/* SysTick ticks since bench_timer_start (wraps folded in). */
uint64_t bench_ticks(void) {
  uint32_t wraps, value;
  do {
    wraps = systick_wraps;
    value = SYST_CVR;
  } while (wraps != systick_wraps);
  return (uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value);
}

void th_bench_reset_handler(void) {
  memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
  memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: full access to CP10/CP11 (FPU) */
  __asm__ volatile("dsb\n\tisb");
  bench_exit(main());
}

static void fault_handler(void) {
  bench_puts("FAULT\n");
  bench_exit(3);
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_stack_top), th_bench_reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, th_bench_systick_handler,
};
