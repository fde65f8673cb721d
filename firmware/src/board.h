/* What the application needs from a board: clocks, a UART, and the core clock it ended up with. */
#ifndef TH_BOARD_H
#define TH_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define TH_STR2(x) #x
#define TH_STR(x) TH_STR2(x)

#ifndef TH_UART_BAUD
#define TH_UART_BAUD 115200u
#endif

void th_board_init(void);          /* clocks, pins, UART at TH_UART_BAUD */
uint32_t th_board_cpu_hz(void);    /* core clock after th_board_init */
const char *th_board_name(void);

void th_uart_write(const void *data, size_t n); /* blocking */
int th_uart_read_byte(void);                    /* -1 when nothing has arrived */

#endif
