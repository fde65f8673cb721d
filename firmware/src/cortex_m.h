/* The few Cortex-M4 system registers the firmware touches (ARMv7-M architecture manual). */
#ifndef TH_CORTEX_M_H
#define TH_CORTEX_M_H

#include <stdint.h>

#define TH_REG(addr) (*(volatile uint32_t *)(addr))

#define SCB_ICSR TH_REG(0xE000ED04u)
#define SCB_VTOR TH_REG(0xE000ED08u)
#define SCB_CPACR TH_REG(0xE000ED88u)
#define SCB_ICSR_PENDSTSET (1u << 26)

#define SYST_CSR TH_REG(0xE000E010u)
#define SYST_RVR TH_REG(0xE000E014u)
#define SYST_CVR TH_REG(0xE000E018u)

#define DEMCR TH_REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL TH_REG(0xE0001000u)
#define DWT_CYCCNT TH_REG(0xE0001004u)
#define DWT_CTRL_NOCYCCNT (1u << 25)

static inline uint32_t th_irq_save(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  return primask;
}

static inline void th_irq_restore(uint32_t primask) {
  __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static inline uint32_t th_get_sp(void) {
  uint32_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

#endif
