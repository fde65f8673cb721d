/* Nordic nRF52840 (nRF52840-DK, Arduino Nano 33 BLE): the core always runs at 64 MHz; the HFXO
 * crystal is started (bounded wait) so the UART's baud rate is accurate. UARTE0 (EasyDMA) at
 * TH_UART_BASE on the board's TX/RX pins: EasyDMA reads and writes RAM only, so transmitted bytes
 * go through a RAM buffer, and reception runs one byte per transfer (the UARTE's RX FIFO holds
 * what arrives between a transfer's end and the next start). */
#ifdef TH_SOC_NRF52
#include "board.h"
#include "cortex_m.h"

#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART TH_REG(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED TH_REG(CLOCK_BASE + 0x100u)

#define UARTE_TASKS_STARTRX TH_REG(TH_UART_BASE + 0x000u)
#define UARTE_TASKS_STARTTX TH_REG(TH_UART_BASE + 0x008u)
#define UARTE_EVENTS_ENDRX TH_REG(TH_UART_BASE + 0x110u)
#define UARTE_EVENTS_ENDTX TH_REG(TH_UART_BASE + 0x120u)
#define UARTE_ENABLE TH_REG(TH_UART_BASE + 0x500u)
#define UARTE_PSEL_TXD TH_REG(TH_UART_BASE + 0x50Cu)
#define UARTE_PSEL_RXD TH_REG(TH_UART_BASE + 0x514u)
#define UARTE_BAUDRATE TH_REG(TH_UART_BASE + 0x524u)
#define UARTE_RXD_PTR TH_REG(TH_UART_BASE + 0x534u)
#define UARTE_RXD_MAXCNT TH_REG(TH_UART_BASE + 0x538u)
#define UARTE_TXD_PTR TH_REG(TH_UART_BASE + 0x544u)
#define UARTE_TXD_MAXCNT TH_REG(TH_UART_BASE + 0x548u)
#define UARTE_CONFIG TH_REG(TH_UART_BASE + 0x56Cu)
#define UARTE_ENABLE_ON 8u

#define GPIO_BASE(port) (0x50000000u + 0x300u * (port))
#define GPIO_OUTSET(port) TH_REG(GPIO_BASE(port) + 0x508u)
#define GPIO_DIRSET(port) TH_REG(GPIO_BASE(port) + 0x518u)
#define GPIO_PIN_CNF(port, pin) TH_REG(GPIO_BASE(port) + 0x700u + 4u * (pin))
#define PIN_CNF_PULLUP (3u << 2) /* input, buffer connected, pull-up */
#define PSEL(port, pin) (((uint32_t)(port) << 5) | (uint32_t)(pin))

#define CPU_HZ 64000000u
#define READY_SPINS 400000u
#define TX_CHUNK 64u

#if TH_UART_BAUD == 115200u
#define BAUD_VALUE 0x01D60000u /* the product specification's value for 115200 baud */
#else
#define BAUD_VALUE ((uint32_t)(((uint64_t)TH_UART_BAUD << 32) / 16000000u) & 0xFFFFF000u)
#endif

static uint8_t rx_byte;
static uint8_t tx_buf[TX_CHUNK];

void th_board_init(void) {
  CLOCK_EVENTS_HFCLKSTARTED = 0;
  CLOCK_TASKS_HFCLKSTART = 1;
  for (uint32_t i = 0; i < READY_SPINS && !CLOCK_EVENTS_HFCLKSTARTED; i++) {
  }
  GPIO_OUTSET(TH_UART_TX_PORT) = 1u << TH_UART_TX_PIN; /* TX idles high */
  GPIO_DIRSET(TH_UART_TX_PORT) = 1u << TH_UART_TX_PIN;
  GPIO_PIN_CNF(TH_UART_RX_PORT, TH_UART_RX_PIN) = PIN_CNF_PULLUP;
  UARTE_PSEL_TXD = PSEL(TH_UART_TX_PORT, TH_UART_TX_PIN);
  UARTE_PSEL_RXD = PSEL(TH_UART_RX_PORT, TH_UART_RX_PIN);
  UARTE_BAUDRATE = BAUD_VALUE;
  UARTE_CONFIG = 0; /* 8N1, no flow control */
  UARTE_ENABLE = UARTE_ENABLE_ON;
  UARTE_EVENTS_ENDRX = 0;
  UARTE_RXD_PTR = (uint32_t)&rx_byte;
  UARTE_RXD_MAXCNT = 1;
  UARTE_TASKS_STARTRX = 1;
}

uint32_t th_board_cpu_hz(void) { return CPU_HZ; }

const char *th_board_name(void) { return TH_STR(TH_BOARD_NAME); }

void th_uart_write(const void *data, size_t n) {
  const uint8_t *bytes = data;
  while (n) {
    size_t chunk = n < TX_CHUNK ? n : TX_CHUNK;
    for (size_t i = 0; i < chunk; i++) tx_buf[i] = bytes[i];
    UARTE_EVENTS_ENDTX = 0;
    UARTE_TXD_PTR = (uint32_t)tx_buf;
    UARTE_TXD_MAXCNT = chunk;
    UARTE_TASKS_STARTTX = 1;
    while (!UARTE_EVENTS_ENDTX) {
    }
    bytes += chunk;
    n -= chunk;
  }
}

int th_uart_read_byte(void) {
  if (!UARTE_EVENTS_ENDRX) return -1;
  int byte = rx_byte;
  UARTE_EVENTS_ENDRX = 0; /* before the next start: the next byte's end must not be lost */
  UARTE_TASKS_STARTRX = 1;
  return byte;
}
#endif
