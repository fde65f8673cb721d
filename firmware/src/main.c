/* tinyhil firmware: announce readiness, then serve framed commands over the UART forever. */
#include "board.h"
#include "protocol.h"
#include "timer.h"

#ifndef TH_RX_MAX
#define TH_RX_MAX 16384u
#endif

static uint8_t rx_buf[TH_RX_MAX] __attribute__((aligned(16)));

int main(void) {
  th_board_init();
  th_timer_init(th_board_cpu_hz());
  /* A plain line first: the host waits for it before sending, since some emulated UARTs drop
   * bytes that arrive before the receiver is enabled. */
  static const char ready[] = "TINYHIL READY\n";
  th_uart_write(ready, sizeof(ready) - 1);

  th_frame_parser parser;
  th_parser_init(&parser, rx_buf, sizeof(rx_buf));
  for (;;) {
    int byte = th_uart_read_byte();
    if (byte >= 0 && th_parser_feed(&parser, (uint8_t)byte)) {
      th_handle_command(parser.type, parser.buf, parser.len);
    }
  }
}
