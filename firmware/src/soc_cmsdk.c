/* Arm CMSDK (MPS2+ AN386, QEMU mps2-an386): the core and the APB UART run from one fixed clock
 * (TH_CPU_HZ); the APB UART at TH_UART_BASE (UART0 at 0x40004000 on AN386). */
#ifdef TH_SOC_CMSDK
#include "board.h"
#include "cortex_m.h"

#define UART_DATA TH_REG(TH_UART_BASE + 0x00u)
#define UART_STATE TH_REG(TH_UART_BASE + 0x04u)
#define UART_CTRL TH_REG(TH_UART_BASE + 0x08u)
#define UART_BAUDDIV TH_REG(TH_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

void th_board_init(void) {
  UART_BAUDDIV = TH_CPU_HZ / TH_UART_BAUD; /* the UART runs from the APB clock, the core's */
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

uint32_t th_board_cpu_hz(void) { return TH_CPU_HZ; }

const char *th_board_name(void) { return TH_STR(TH_BOARD_NAME); }

void th_uart_write(const void *data, size_t n) {
  const uint8_t *bytes = data;
  for (size_t i = 0; i < n; i++) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = bytes[i];
  }
}

int th_uart_read_byte(void) {
  if (!(UART_STATE & STATE_RX_FULL)) return -1;
  return (int)(UART_DATA & 0xFFu);
}
#endif
