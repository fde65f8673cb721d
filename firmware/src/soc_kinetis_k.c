/* NXP Kinetis K64 (FRDM-K64F: MK64FN1M0VLL12). The watchdog is disabled first thing after reset.
 * Clocks: MCG from FEI to PEE on the external reference clock at EXTAL0 (TH_CLOCK_EXT_HZ, 50 MHz
 * on FRDM-K64F, from the Ethernet PHY's oscillator): PLL reference 2.5 MHz, VCO x48 = TH_CPU_HZ;
 * bus /2, FlexBus /3, flash /5. Waits are bounded: without the external clock the core stays on
 * the FLL's 20.97 MHz and the UART divisor follows. UART0 (clocked from the core) on the board's
 * pins, pin mux TH_UART_AF. The flash configuration field at 0x400 keeps the chip unsecured. */
#ifdef TH_SOC_KINETIS_K
#include "board.h"
#include "cortex_m.h"

#define REG8(addr) (*(volatile uint8_t *)(addr))
#define REG16(addr) (*(volatile uint16_t *)(addr))

#define WDOG_STCTRLH REG16(0x40052000u)
#define WDOG_UNLOCK REG16(0x4005200Eu)

#define SIM_SCGC4 TH_REG(0x40048034u)
#define SIM_SCGC5 TH_REG(0x40048038u)
#define SIM_CLKDIV1 TH_REG(0x40048044u)
#define PORT_PCR(port, pin) TH_REG(0x40049000u + 0x1000u * (port) + 4u * (pin))

#define MCG_BASE 0x40064000u
#define MCG_C1 REG8(MCG_BASE + 0x0u)
#define MCG_C2 REG8(MCG_BASE + 0x1u)
#define MCG_C5 REG8(MCG_BASE + 0x4u)
#define MCG_C6 REG8(MCG_BASE + 0x5u)
#define MCG_S REG8(MCG_BASE + 0x6u)
#define MCG_S_CLKST(s) (((s) >> 2) & 3u)
#define MCG_S_IREFST (1u << 4)
#define MCG_S_PLLST (1u << 5)
#define MCG_S_LOCK0 (1u << 6)

#define UART_BDH REG8(TH_UART_BASE + 0x0u)
#define UART_BDL REG8(TH_UART_BASE + 0x1u)
#define UART_C2 REG8(TH_UART_BASE + 0x3u)
#define UART_S1 REG8(TH_UART_BASE + 0x4u)
#define UART_D REG8(TH_UART_BASE + 0x7u)
#define UART_C4 REG8(TH_UART_BASE + 0xAu)
#define UART_RWFIFO REG8(TH_UART_BASE + 0x15u)
#define S1_TDRE (1u << 7)
#define S1_RDRF (1u << 5)
#define C2_TE (1u << 3)
#define C2_RE (1u << 2)

#ifndef TH_UART_UART0
#error "kinetis_k: only UART0 (clocked from the core) is wired up"
#endif
#ifndef TH_CLOCK_EXT_HZ
#error "kinetis_k: the board's clock.ext_hz (the EXTAL0 reference) is missing"
#endif
#define PLL_REF_HZ 2500000u
#define PRDIV (TH_CLOCK_EXT_HZ / PLL_REF_HZ)
#define VDIV (TH_CPU_HZ / PLL_REF_HZ)
#if TH_CLOCK_EXT_HZ % PLL_REF_HZ || TH_CPU_HZ % PLL_REF_HZ || PRDIV < 1 || PRDIV > 25 || VDIV < 24 || VDIV > 55
#error "kinetis_k: ext_hz / 2.5 MHz must be 1-25 and the clock / 2.5 MHz 24-55"
#endif
#define FEI_HZ 20971520u
#define READY_SPINS 200000u

__attribute__((section(".flash_config"), used))
const uint32_t th_flash_config[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFEu}; /* FSEC=0xFE */

static uint32_t cpu_hz = FEI_HZ;

void th_soc_early_init(void) {
  WDOG_UNLOCK = 0xC520u;
  WDOG_UNLOCK = 0xD928u;
  WDOG_STCTRLH = 0x01D2u; /* WDOGEN = 0, the rest as after reset */
}

static int wait_status(uint8_t mask, uint8_t want) {
  for (uint32_t i = 0; i < READY_SPINS; i++) {
    if ((MCG_S & mask) == want) return 1;
  }
  return 0;
}

static void clocks_init(void) {
  /* core /1, bus /2, FlexBus /3, flash /5 (at most 25 MHz) */
  SIM_CLKDIV1 = (0u << 28) | (1u << 24) | (2u << 20) | (4u << 16);
  MCG_C2 = 2u << 4; /* very high frequency range, external clock (no crystal) */
  MCG_C1 = (2u << 6) | (7u << 3); /* FBE: external reference, FRDIV /1536, IREFS = 0 */
  if (!wait_status(MCG_S_IREFST | (3u << 2), 2u << 2)) return;
  /* PLLCLKEN0 keeps the PLL running (and LOCK0 meaningful) before PLLS selects it */
  MCG_C5 = (1u << 6) | (uint8_t)(PRDIV - 1u);
  MCG_C6 = (1u << 6) | (uint8_t)(VDIV - 24u); /* PBE: PLLS */
  if (!wait_status(MCG_S_PLLST | MCG_S_LOCK0, MCG_S_PLLST | MCG_S_LOCK0)) return;
  MCG_C1 = 7u << 3; /* PEE: the PLL output */
  if (!wait_status(3u << 2, 3u << 2)) return;
  cpu_hz = TH_CPU_HZ;
}

void th_board_init(void) {
  clocks_init();
  SIM_SCGC5 |= (1u << (9 + TH_UART_TX_PORT)) | (1u << (9 + TH_UART_RX_PORT)); /* PORTA is bit 9 */
  SIM_SCGC4 |= 1u << 10;                                                   /* UART0 */
  PORT_PCR(TH_UART_TX_PORT, TH_UART_TX_PIN) = (uint32_t)TH_UART_AF << 8;
  PORT_PCR(TH_UART_RX_PORT, TH_UART_RX_PIN) = ((uint32_t)TH_UART_AF << 8) | 3u; /* pull-up */
  /* baud = clock / (16 x (SBR + BRFA/32)) */
  const uint32_t x32 = (2u * cpu_hz + TH_UART_BAUD / 2u) / TH_UART_BAUD;
  const uint32_t sbr = x32 / 32u;
  UART_C2 = 0;
  UART_BDH = (uint8_t)((sbr >> 8) & 0x1Fu);
  UART_BDL = (uint8_t)(sbr & 0xFFu);
  UART_C4 = (uint8_t)(x32 % 32u);
  /* RDRF means "at least RWFIFO bytes received": 1 is the silicon's reset value, but Renode's
   * K6xF_UART starts at 0, where RDRF is always set and reads of the empty FIFO return 0s that
   * corrupt the host's frames. */
  UART_RWFIFO = 1u;
  UART_C2 = C2_TE | C2_RE;
}

uint32_t th_board_cpu_hz(void) { return cpu_hz; }

const char *th_board_name(void) { return TH_STR(TH_BOARD_NAME); }

void th_uart_write(const void *data, size_t n) {
  const uint8_t *bytes = data;
  for (size_t i = 0; i < n; i++) {
    while (!(UART_S1 & S1_TDRE)) {
    }
    UART_D = bytes[i];
  }
}

int th_uart_read_byte(void) {
  if (!(UART_S1 & S1_RDRF)) return -1; /* reading S1 then D also clears an overrun */
  return (int)UART_D;
}
#endif
