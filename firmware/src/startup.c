/* Reset and vector table for Cortex-M4: copy .data, clear .bss, enable the FPU, run main. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cortex_m.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _stack_top[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

int main(void);
void th_reset_handler(void);
void th_systick_handler(void);

static void th_default_handler(void) {
  /* An unexpected exception: stop here (a debugger or the harness timeout will notice). */
  for (;;) {
    __asm volatile("nop");
  }
}

void th_reset_handler(void) {
  /* FPU first: the compiler may use VFP registers anywhere, even in memcpy. CP10/CP11 full. */
  SCB_CPACR |= (0xFu << 20);
  __asm volatile("dsb\n isb" ::: "memory");

  uint32_t *src = _sidata;
  for (uint32_t *dst = _sdata; dst < _edata;) *dst++ = *src++;
  for (uint32_t *dst = _sbss; dst < _ebss;) *dst++ = 0;
  for (void (**fn)(void) = __init_array_start; fn < __init_array_end; fn++) (*fn)();

  main();
  th_default_handler();
}

#define TH_N_EXTERNAL_IRQS 96 /* enough for the STM32F405 (82) and CMSDK (32) */

__attribute__((section(".isr_vector"), used)) void (*const th_vectors[16 + TH_N_EXTERNAL_IRQS])(void) = {
    (void (*)(void))_stack_top,
    th_reset_handler,
    th_default_handler, /* NMI */
    th_default_handler, /* HardFault */
    th_default_handler, /* MemManage */
    th_default_handler, /* BusFault */
    th_default_handler, /* UsageFault */
    0, 0, 0, 0,
    th_default_handler, /* SVCall */
    th_default_handler, /* DebugMonitor */
    0,
    th_default_handler, /* PendSV */
    th_systick_handler,
    [16 ... 16 + TH_N_EXTERNAL_IRQS - 1] = th_default_handler,
};
