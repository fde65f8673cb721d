/* Frame encoding, decoding and CRC for the serial protocol. */
#include "protocol.h"

#include <string.h>

#include "board.h"

static uint16_t tx_crc;

uint16_t th_crc16_update(uint16_t crc, const void *data, size_t n) {
  const uint8_t *bytes = data;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)bytes[i] << 8;
    for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
  }
  return crc;
}

void th_frame_put(const void *data, size_t n) {
  tx_crc = th_crc16_update(tx_crc, data, n);
  th_uart_write(data, n);
}

void th_frame_begin(uint8_t type, uint16_t len) {
  const uint8_t sync[2] = {TH_SYNC0, TH_SYNC1};
  th_uart_write(sync, 2);
  tx_crc = 0xFFFFu;
  th_frame_put_u8(type);
  th_frame_put_u16(len);
}

void th_frame_put_u8(uint8_t v) { th_frame_put(&v, 1); }

void th_frame_put_u16(uint16_t v) {
  const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  th_frame_put(b, 2);
}

void th_frame_put_u32(uint32_t v) {
  const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  th_frame_put(b, 4);
}

void th_frame_put_u64(uint64_t v) {
  th_frame_put_u32((uint32_t)v);
  th_frame_put_u32((uint32_t)(v >> 32));
}

size_t th_str_wire_len(const char *s) {
  size_t n = s ? strlen(s) : 0;
  return 1 + (n > 255 ? 255 : n);
}

void th_frame_put_str(const char *s) {
  size_t n = th_str_wire_len(s) - 1;
  th_frame_put_u8((uint8_t)n);
  if (n) th_frame_put(s, n);
}

void th_frame_end(void) {
  const uint16_t crc = tx_crc;
  const uint8_t b[2] = {(uint8_t)crc, (uint8_t)(crc >> 8)};
  th_uart_write(b, 2);
}

void th_send_error(uint8_t code, const char *message) {
  th_frame_begin(TH_MSG_ERROR, (uint16_t)(1 + th_str_wire_len(message)));
  th_frame_put_u8(code);
  th_frame_put_str(message);
  th_frame_end();
}

enum { ST_SYNC0, ST_SYNC1, ST_TYPE, ST_LEN0, ST_LEN1, ST_PAYLOAD, ST_CRC0, ST_CRC1, ST_SKIP };

void th_parser_init(th_frame_parser *p, uint8_t *buf, uint16_t cap) {
  memset(p, 0, sizeof(*p));
  p->buf = buf;
  p->cap = cap;
}

int th_parser_feed(th_frame_parser *p, uint8_t byte) {
  switch (p->state) {
    case ST_SYNC0:
      if (byte == TH_SYNC0) p->state = ST_SYNC1;
      return 0;
    case ST_SYNC1:
      p->state = byte == TH_SYNC1 ? ST_TYPE : (byte == TH_SYNC0 ? ST_SYNC1 : ST_SYNC0);
      return 0;
    case ST_TYPE:
      p->type = byte;
      p->crc = th_crc16_update(0xFFFFu, &byte, 1);
      p->state = ST_LEN0;
      return 0;
    case ST_LEN0:
      p->len = byte;
      p->crc = th_crc16_update(p->crc, &byte, 1);
      p->state = ST_LEN1;
      return 0;
    case ST_LEN1:
      p->len |= (uint16_t)byte << 8;
      p->crc = th_crc16_update(p->crc, &byte, 1);
      p->got = 0;
      p->state = p->len ? ST_PAYLOAD : ST_CRC0;
      if (p->len > p->cap) {
        /* Too large for the receive buffer: swallow it (payload + CRC), then report. */
        p->state = ST_SKIP;
      }
      return 0;
    case ST_PAYLOAD:
      p->buf[p->got++] = byte;
      p->crc = th_crc16_update(p->crc, &byte, 1);
      if (p->got == p->len) p->state = ST_CRC0;
      return 0;
    case ST_CRC0:
      p->rx_crc = byte;
      p->state = ST_CRC1;
      return 0;
    case ST_CRC1:
      p->rx_crc |= (uint16_t)byte << 8;
      p->state = ST_SYNC0;
      if (p->rx_crc != p->crc) {
        th_send_error(TH_ERR_BAD_CRC, "frame CRC mismatch");
        return 0;
      }
      return 1;
    case ST_SKIP:
      if (++p->got == (uint32_t)p->len + 2u) {
        p->state = ST_SYNC0;
        th_send_error(TH_ERR_TOO_LARGE, "frame larger than the receive buffer");
      }
      return 0;
    default:
      p->state = ST_SYNC0;
      return 0;
  }
}
