/* STM32F405 (Netduino Plus 2 and other F405 boards; QEMU netduinoplus2).
 * Clocks: HSE (TH_HSE_HZ) -> PLL -> 168 MHz SYSCLK, APB2 = 84 MHz, APB1 = 42 MHz, 5 flash wait
 * states. USART1 on PA9 (TX) / PA10 (RX), alternate function 7. Every wait for the clock tree is
 * bounded: if the HSE or PLL never becomes ready (no crystal, or QEMU, which does not model the
 * RCC) the core stays on the 16 MHz HSI and the UART divisor is computed for that clock. */
#ifdef TH_BOARD_NETDUINOPLUS2
#include "board.h"
#include "cortex_m.h"

#ifndef TH_HSE_HZ
#define TH_HSE_HZ 25000000u
#endif
#define HSI_HZ 16000000u

#define RCC_BASE 0x40023800u
#define RCC_CR TH_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR TH_REG(RCC_BASE + 0x04u)
#define RCC_CFGR TH_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR TH_REG(RCC_BASE + 0x30u)
#define RCC_APB2ENR TH_REG(RCC_BASE + 0x44u)
#define FLASH_ACR TH_REG(0x40023C00u)

#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER TH_REG(GPIOA_BASE + 0x00u)
#define GPIOA_OSPEEDR TH_REG(GPIOA_BASE + 0x08u)
#define GPIOA_PUPDR TH_REG(GPIOA_BASE + 0x0Cu)
#define GPIOA_AFRH TH_REG(GPIOA_BASE + 0x24u)

#define USART1_BASE 0x40011000u
#define USART_SR TH_REG(USART1_BASE + 0x00u)
#define USART_DR TH_REG(USART1_BASE + 0x04u)
#define USART_BRR TH_REG(USART1_BASE + 0x08u)
#define USART_CR1 TH_REG(USART1_BASE + 0x0Cu)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define READY_SPINS 200000u

static uint32_t cpu_hz = HSI_HZ;
static uint32_t apb2_hz = HSI_HZ;

static int wait_set(volatile uint32_t *reg, uint32_t mask) {
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if (*reg & mask) return 1;
  }
  return 0;
}

static void clocks_init(void) {
  RCC_CR |= RCC_CR_HSEON;
  if (!wait_set(&RCC_CR, RCC_CR_HSERDY)) return;
  /* VCO input 1 MHz (M = HSE/1 MHz), VCO 336 MHz (N), SYSCLK = VCO/2, 48 MHz domain = VCO/7. */
  const uint32_t pllm = TH_HSE_HZ / 1000000u, plln = 336u, pllp_bits = 0u, pllq = 7u;
  RCC_PLLCFGR = pllm | (plln << 6) | (pllp_bits << 16) | (1u << 22) /* HSE source */ | (pllq << 24);
  RCC_CR |= RCC_CR_PLLON;
  if (!wait_set(&RCC_CR, RCC_CR_PLLRDY)) return;
  FLASH_ACR = 5u | (1u << 8) | (1u << 9) | (1u << 10); /* 5 WS, prefetch, I- and D-cache */
  /* AHB /1, APB1 /4, APB2 /2, then switch SYSCLK to the PLL. */
  RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | (5u << 10) | (4u << 13) | 2u;
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if (((RCC_CFGR >> 2) & 3u) == 2u) {
      cpu_hz = (TH_HSE_HZ / pllm) * plln / 2u;
      apb2_hz = cpu_hz / 2u;
      return;
    }
  }
}

void th_board_init(void) {
  clocks_init();
  RCC_AHB1ENR |= 1u << 0; /* GPIOA */
  RCC_APB2ENR |= 1u << 4; /* USART1 */
  (void)RCC_APB2ENR;      /* read back: the clock must be running before the peripheral is touched */
  GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18); /* PA9, PA10 alternate function */
  GPIOA_OSPEEDR |= 0xFu << 18;
  GPIOA_PUPDR = (GPIOA_PUPDR & ~(0xFu << 18)) | (1u << 20); /* pull-up on RX */
  GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 4)) | (0x77u << 4);   /* AF7 = USART1 */
  USART_BRR = (apb2_hz + TH_UART_BAUD / 2u) / TH_UART_BAUD; /* oversampling by 16 */
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
}

uint32_t th_board_cpu_hz(void) { return cpu_hz; }

const char *th_board_name(void) { return TH_STR(TH_BOARD_NAME); }

void th_uart_write(const void *data, size_t n) {
  const uint8_t *bytes = data;
  for (size_t i = 0; i < n; i++) {
    while (!(USART_SR & SR_TXE)) {
    }
    USART_DR = bytes[i];
  }
}

int th_uart_read_byte(void) {
  if (!(USART_SR & SR_RXNE)) return -1;
  return (int)(USART_DR & 0xFFu);
}
#endif
