/* tinyhil firmware: announce readiness, then serve framed commands over the UART forever.
 * Built with TH_PROTOCOL_MLPERF, main() is the MLPerf Tiny runner protocol's instead (mlperf.c). */
#ifndef TH_PROTOCOL_MLPERF
#include "board.h"
#include "protocol.h"
#include "timer.h"

#ifndef TH_RX_MAX
#define TH_RX_MAX 16384u
#endif
/* A frame whose next byte is this late is broken (a byte was lost): rescan after it. */
#ifndef TH_INTERBYTE_MS
#define TH_INTERBYTE_MS 10u
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
  th_parser_init(&parser, rx_buf, sizeof(rx_buf), th_command_max_payload);
  const uint64_t gap_ticks = (uint64_t)th_timer_hz() / 1000u * TH_INTERBYTE_MS;
  uint64_t last_byte = th_timer_now();
  for (;;) {
    int byte = th_uart_read_byte();
    if (byte < 0) {
      uint64_t now = th_timer_now();
      if (now < last_byte) last_byte = now; /* the timer was re-aligned by a measurement */
      if (th_parser_pending(&parser) && now - last_byte > gap_ticks) {
        th_parser_expire(&parser);
        last_byte = now;
      } else {
        continue;
      }
    } else {
      th_parser_push(&parser, (uint8_t)byte);
      last_byte = th_timer_now();
    }
    int got;
    while ((got = th_parser_next(&parser)) != TH_PARSE_NONE) {
      if (got == TH_PARSE_FRAME) {
        th_handle_command(parser.type, parser.seq, parser.payload, parser.len, rx_buf);
      } else {
        th_handle_oversized(parser.seq);
      }
    }
    last_byte = th_timer_now(); /* time spent answering is not a gap on the line */
  }
}
#endif /* TH_PROTOCOL_MLPERF */
