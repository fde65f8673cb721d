/* STM32F4 (F405/F407 at 168 MHz, F446 at 180 MHz): PLL from the HSE crystal (TH_CLOCK_HSE_HZ) or
 * the 16 MHz HSI to TH_CPU_HZ, over-drive where TH_CLOCK_OVERDRIVE (F446 above 168 MHz), AHB /1,
 * APB1 /4, APB2 /2; the USART named by the board file (USART1/2/3/6) on its TX/RX pins and AF.
 * Every wait for the clock tree is bounded: if the HSE or PLL never becomes ready (no crystal, or
 * QEMU, which does not model the RCC) the core stays on the HSI and the UART divisor is computed
 * for that clock, and the firmware reports the clock it really has. */
#ifdef TH_SOC_STM32F4
#include "board.h"
#include "cortex_m.h"
#include "stm32_gpio.h"

#define HSI_HZ 16000000u

#define RCC_BASE 0x40023800u
#define RCC_CR TH_REG(RCC_BASE + 0x00u)
#define RCC_PLLCFGR TH_REG(RCC_BASE + 0x04u)
#define RCC_CFGR TH_REG(RCC_BASE + 0x08u)
#define RCC_AHB1ENR TH_REG(RCC_BASE + 0x30u)
#define RCC_APB1ENR TH_REG(RCC_BASE + 0x40u)
#define RCC_APB2ENR TH_REG(RCC_BASE + 0x44u)
#define FLASH_ACR TH_REG(0x40023C00u)
#define PWR_CR TH_REG(0x40007000u)
#define PWR_CSR TH_REG(0x40007004u)
#define GPIO_BASE(port) (0x40020000u + 0x400u * (port))

#define USART_SR TH_REG(TH_UART_BASE + 0x00u)
#define USART_DR TH_REG(TH_UART_BASE + 0x04u)
#define USART_BRR TH_REG(TH_UART_BASE + 0x08u)
#define USART_CR1 TH_REG(TH_UART_BASE + 0x0Cu)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

#if defined(TH_UART_USART1)
#define UART_ENR RCC_APB2ENR
#define UART_ENR_BIT (1u << 4)
#define UART_ON_APB2 1
#elif defined(TH_UART_USART6)
#define UART_ENR RCC_APB2ENR
#define UART_ENR_BIT (1u << 5)
#define UART_ON_APB2 1
#elif defined(TH_UART_USART2)
#define UART_ENR RCC_APB1ENR
#define UART_ENR_BIT (1u << 17)
#define UART_ON_APB2 0
#elif defined(TH_UART_USART3)
#define UART_ENR RCC_APB1ENR
#define UART_ENR_BIT (1u << 18)
#define UART_ON_APB2 0
#else
#error "stm32f4: the board's uart.name must be USART1, USART2, USART3 or USART6"
#endif

#if defined(TH_CLOCK_SOURCE_HSE)
#define PLL_IN_HZ TH_CLOCK_HSE_HZ
#elif defined(TH_CLOCK_SOURCE_HSI)
#define PLL_IN_HZ HSI_HZ
#else
#error "stm32f4: the board's clock.source must be hse (with clock.hse_hz) or hsi"
#endif

/* VCO input 1 MHz, VCO = 2 x SYSCLK (PLLP = /2), 48 MHz domain at most 48 MHz. */
#define PLLM (PLL_IN_HZ / 1000000u)
#define PLLN (2u * (TH_CPU_HZ / 1000000u))
#define PLLQ ((PLLN + 47u) / 48u)
#define FLASH_WS ((TH_CPU_HZ - 1u) / 30000000u) /* 2.7-3.6 V: one wait state per 30 MHz */
#if PLL_IN_HZ % 1000000u || TH_CPU_HZ % 1000000u || PLLN < 100u || PLLN > 432u
#error "stm32f4: the clock must be whole MHz with a VCO of 100-432 MHz"
#endif

#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)
#define READY_SPINS 200000u

static uint32_t cpu_hz = HSI_HZ;
static uint32_t uart_clock_hz = HSI_HZ;

static int wait_set(volatile uint32_t *reg, uint32_t mask) {
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if ((*reg & mask) == mask) return 1;
  }
  return 0;
}

static void clocks_init(void) {
#ifdef TH_CLOCK_SOURCE_HSE
  RCC_CR |= RCC_CR_HSEON;
  if (!wait_set(&RCC_CR, RCC_CR_HSERDY)) return;
  const uint32_t source = 1u << 22;
#else
  const uint32_t source = 0u;
#endif
  RCC_PLLCFGR = PLLM | (PLLN << 6) | (0u << 16) /* P = /2 */ | source | (PLLQ << 24);
  RCC_CR |= RCC_CR_PLLON;
  if (!wait_set(&RCC_CR, RCC_CR_PLLRDY)) return;
#ifdef TH_CLOCK_OVERDRIVE
  RCC_APB1ENR |= 1u << 28; /* PWR */
  (void)RCC_APB1ENR;
  PWR_CR |= PWR_CR_ODEN;
  if (!wait_set(&PWR_CSR, PWR_CSR_ODRDY)) return;
  PWR_CR |= PWR_CR_ODSWEN;
  if (!wait_set(&PWR_CSR, PWR_CSR_ODSWRDY)) return;
#endif
  FLASH_ACR = FLASH_WS | (1u << 8) | (1u << 9) | (1u << 10); /* wait states, prefetch, I/D cache */
  /* AHB /1, APB1 /4, APB2 /2, then switch SYSCLK to the PLL. */
  RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | (5u << 10) | (4u << 13) | 2u;
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if (((RCC_CFGR >> 2) & 3u) == 2u) {
      cpu_hz = PLL_IN_HZ / PLLM * PLLN / 2u;
      uart_clock_hz = UART_ON_APB2 ? cpu_hz / 2u : cpu_hz / 4u;
      return;
    }
  }
}

void th_board_init(void) {
  clocks_init();
  RCC_AHB1ENR |= (1u << TH_UART_TX_PORT) | (1u << TH_UART_RX_PORT);
  UART_ENR |= UART_ENR_BIT;
  (void)UART_ENR; /* read back: the clock must be running before the peripheral is touched */
  th_stm32_pin_af(GPIO_BASE(TH_UART_TX_PORT), TH_UART_TX_PIN, TH_UART_AF, 0u);
  th_stm32_pin_af(GPIO_BASE(TH_UART_RX_PORT), TH_UART_RX_PIN, TH_UART_AF, 1u);
  USART_BRR = (uart_clock_hz + TH_UART_BAUD / 2u) / TH_UART_BAUD; /* oversampling by 16 */
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
