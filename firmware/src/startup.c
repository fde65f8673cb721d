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
void th_soc_early_init(void);
void th_systick_handler(void);
void th_fault_report(const uint32_t *frame, uint32_t ipsr);

static void th_default_handler(void) {
  /* An unexpected interrupt: stop here (a debugger or the harness timeout will notice). */
  for (;;) {
    __asm volatile("nop");
  }
}

static void put_hex(uint32_t value) {
  char text[10] = {'0', 'x'};
  for (int i = 0; i < 8; i++) text[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xFu];
  th_uart_write(text, sizeof(text));
}

/* Faults: say so on the UART (the harness stops waiting as soon as it reads the line), then stop. */
void th_fault_report(const uint32_t *frame, uint32_t ipsr) {
  static const char *const names[] = {"?", "?", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault"};
  const char *name = ipsr < 7 ? names[ipsr] : "exception";
  static const char head[] = "\nTINYHIL FAULT ";
  th_uart_write(head, sizeof(head) - 1);
  th_uart_write(name, strlen(name));
  th_uart_write(" pc=", 4);
  put_hex(frame[6]);
  th_uart_write(" lr=", 4);
  put_hex(frame[5]);
  th_uart_write("\n", 1);
  for (;;) {
    __asm volatile("nop");
  }
}

/* Naked: find the stacked exception frame (MSP or PSP, from EXC_RETURN in lr) before any prologue. */
__attribute__((naked)) static void th_fault_handler(void) {
  __asm volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "mrs r1, ipsr\n"
      "b th_fault_report\n");
}

/* What a SoC must do before anything else (the Kinetis watchdog); may not touch .data or .bss. */
__attribute__((weak)) void th_soc_early_init(void) {}

void th_reset_handler(void) {
  th_soc_early_init();
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

/* Enough for every SoC in boards/: STM32F446 (97), STM32L4R5 (95), Kinetis K64 (86), nRF52840 (48),
 * CMSDK (32). 128 entries in all, 512 bytes: below the Kinetis flash configuration at 0x400. */
#define TH_N_EXTERNAL_IRQS 112

__attribute__((section(".isr_vector"), used)) void (*const th_vectors[16 + TH_N_EXTERNAL_IRQS])(void) = {
    (void (*)(void))_stack_top,
    th_reset_handler,
    th_fault_handler, /* NMI */
    th_fault_handler, /* HardFault */
    th_fault_handler, /* MemManage */
    th_fault_handler, /* BusFault */
    th_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    th_default_handler, /* SVCall */
    th_default_handler, /* DebugMonitor */
    0,
    th_default_handler, /* PendSV */
    th_systick_handler,
    [16 ... 16 + TH_N_EXTERNAL_IRQS - 1] = th_default_handler,
};
