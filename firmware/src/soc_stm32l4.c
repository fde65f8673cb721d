/* STM32L4+ (NUCLEO-L4R5ZI: STM32L4R5ZI at 120 MHz). Clocks: PLL from the 16 MHz HSI (M /1,
 * VCO = 16 MHz x N, R /2 = TH_CPU_HZ) in voltage range 1 boost mode (above 80 MHz), AHB passing
 * through /2 for the switch; flash wait states for range 1 boost (one per 20 MHz). LPUART1 runs from
 * the HSI16 kernel clock, so its baud rate does not depend on the PLL; its pins (PG7 TX, PG8 RX on
 * the NUCLEO, to the ST-LINK's virtual COM port) are on the VDDIO2 supply, which is switched on.
 * Bounded waits: if the PLL never locks the core stays on the 4 MHz MSI, and the firmware says so. */
#ifdef TH_SOC_STM32L4
#include "board.h"
#include "cortex_m.h"
#include "stm32_gpio.h"

#define MSI_HZ 4000000u
#define HSI_HZ 16000000u

#define RCC_BASE 0x40021000u
#define RCC_CR TH_REG(RCC_BASE + 0x00u)
#define RCC_CFGR TH_REG(RCC_BASE + 0x08u)
#define RCC_PLLCFGR TH_REG(RCC_BASE + 0x0Cu)
#define RCC_AHB2ENR TH_REG(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 TH_REG(RCC_BASE + 0x58u)
#define RCC_APB1ENR2 TH_REG(RCC_BASE + 0x5Cu)
#define RCC_CCIPR TH_REG(RCC_BASE + 0x88u)
#define FLASH_ACR TH_REG(0x40022000u)
#define PWR_CR1 TH_REG(0x40007000u)
#define PWR_CR2 TH_REG(0x40007004u)
#define PWR_SR2 TH_REG(0x40007014u)
#define PWR_CR5 TH_REG(0x40007080u)
#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))

#define LPUART_CR1 TH_REG(TH_UART_BASE + 0x00u)
#define LPUART_BRR TH_REG(TH_UART_BASE + 0x0Cu)
#define LPUART_ISR TH_REG(TH_UART_BASE + 0x1Cu)
#define LPUART_ICR TH_REG(TH_UART_BASE + 0x20u)
#define LPUART_RDR TH_REG(TH_UART_BASE + 0x24u)
#define LPUART_TDR TH_REG(TH_UART_BASE + 0x28u)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)

#ifndef TH_UART_LPUART1
#error "stm32l4: only LPUART1 is wired up"
#endif
#define PLLN (TH_CPU_HZ * 2u / HSI_HZ)
#if (TH_CPU_HZ * 2u) % HSI_HZ || PLLN < 8u || PLLN > 127u || TH_CPU_HZ > 120000000u
#error "stm32l4: the clock must be a multiple of 8 MHz, at most 120 MHz"
#endif
#define FLASH_WS ((TH_CPU_HZ - 1u) / 20000000u)

#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define READY_SPINS 200000u

static uint32_t cpu_hz = MSI_HZ;

static int wait_set(volatile uint32_t *reg, uint32_t mask) {
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if ((*reg & mask) == mask) return 1;
  }
  return 0;
}

static void clocks_init(void) {
  RCC_CR |= RCC_CR_HSION;
  if (!wait_set(&RCC_CR, RCC_CR_HSIRDY)) return;
  RCC_APB1ENR1 |= 1u << 28; /* PWR */
  (void)RCC_APB1ENR1;
  PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
  for (uint32_t i = 0; i < READY_SPINS && (PWR_SR2 & (1u << 10)); i++) {
  }
  if (TH_CPU_HZ > 80000000u) {
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (8u << 4); /* AHB /2 during the switch */
    PWR_CR5 &= ~(1u << 8);                               /* R1MODE = 0: boost */
  }
  FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_WS | (1u << 8) | (1u << 9) | (1u << 10);
  /* source HSI16, M /1, N, R /2 enabled */
  RCC_PLLCFGR = 2u | (0u << 4) | (PLLN << 8) | (1u << 24) | (0u << 25);
  RCC_CR |= RCC_CR_PLLON;
  if (!wait_set(&RCC_CR, RCC_CR_PLLRDY)) return;
  RCC_CFGR = (RCC_CFGR & ~3u) | 3u; /* SYSCLK = PLL */
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if (((RCC_CFGR >> 2) & 3u) == 3u) {
      for (volatile uint32_t d = 0; d < 200u; d++) { /* > 1 us at AHB /2 */
      }
      RCC_CFGR &= ~(0xFu << 4); /* AHB /1 */
      cpu_hz = TH_CPU_HZ;
      return;
    }
  }
}

void th_board_init(void) {
  clocks_init();
  RCC_CR |= RCC_CR_HSION; /* LPUART1's kernel clock, whatever became of the PLL */
  (void)wait_set(&RCC_CR, RCC_CR_HSIRDY);
  RCC_APB1ENR1 |= 1u << 28; /* PWR, for VDDIO2 */
  (void)RCC_APB1ENR1;
  PWR_CR2 |= 1u << 9; /* IOSV: port G's supply is valid */
  RCC_AHB2ENR |= (1u << TH_UART_TX_PORT) | (1u << TH_UART_RX_PORT);
  RCC_APB1ENR2 |= 1u << 0; /* LPUART1 */
  RCC_CCIPR = (RCC_CCIPR & ~(3u << 10)) | (2u << 10); /* LPUART1 clock = HSI16 */
  (void)RCC_APB1ENR2;
  th_stm32_pin_af(GPIO_BASE(TH_UART_TX_PORT), TH_UART_TX_PIN, TH_UART_AF, 0u);
  th_stm32_pin_af(GPIO_BASE(TH_UART_RX_PORT), TH_UART_RX_PIN, TH_UART_AF, 1u);
  LPUART_BRR = (uint32_t)(((uint64_t)HSI_HZ * 256u + TH_UART_BAUD / 2u) / TH_UART_BAUD);
  LPUART_CR1 = (1u << 3) | (1u << 2); /* TE, RE */
  LPUART_CR1 |= 1u;                   /* UE */
}

uint32_t th_board_cpu_hz(void) { return cpu_hz; }

const char *th_board_name(void) { return TH_STR(TH_BOARD_NAME); }

void th_uart_write(const void *data, size_t n) {
  const uint8_t *bytes = data;
  for (size_t i = 0; i < n; i++) {
    while (!(LPUART_ISR & ISR_TXE)) {
    }
    LPUART_TDR = bytes[i];
  }
}

int th_uart_read_byte(void) {
  uint32_t isr = LPUART_ISR;
  if (isr & ISR_ORE) LPUART_ICR = ISR_ORE; /* an overrun would otherwise stop reception */
  if (!(isr & ISR_RXNE)) return -1;
  return (int)(LPUART_RDR & 0xFFu);
}
#endif
