/* Frame encoding, decoding and CRC for the serial protocol (see protocol.h). */
#include "protocol.h"

#include <string.h>

#include "board.h"

/* CRC-32 (IEEE, reflected), four bits at a time. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t th_crc32_update(uint32_t crc, const void *data, size_t n) {
  const uint8_t *bytes = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= bytes[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
  }
  return ~crc;
}

/* ---- sending ---------------------------------------------------------------------------- */
static uint32_t tx_crc;
static uint8_t last_frame[TH_LAST_FRAME_MAX];
static size_t last_len;
static int last_fits;

static void emit(const void *data, size_t n) {
  th_uart_write(data, n);
  if (last_fits && last_len + n <= sizeof(last_frame)) {
    memcpy(last_frame + last_len, data, n);
    last_len += n;
  } else {
    last_fits = 0;
  }
}

const uint8_t *th_last_frame(size_t *len) {
  *len = last_fits ? last_len : 0;
  return last_frame;
}

void th_frame_put(const void *data, size_t n) {
  tx_crc = th_crc32_update(tx_crc, data, n);
  emit(data, n);
}

void th_frame_begin(uint8_t type, uint8_t seq, uint16_t len) {
  const uint8_t sync[2] = {TH_SYNC0, TH_SYNC1};
  last_len = 0;
  last_fits = 1;
  emit(sync, 2);
  tx_crc = 0;
  th_frame_put_u8(type);
  th_frame_put_u8(seq);
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
  const uint32_t crc = tx_crc;
  const uint8_t b[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
  emit(b, 4);
}

void th_send_ack(uint8_t seq, uint8_t command) {
  /* Written straight out: the ACK must not replace the kept last frame (the reply to replay). */
  uint8_t b[TH_FRAME_OVERHEAD + 1] = {TH_SYNC0, TH_SYNC1, TH_MSG_ACK, seq, 1, 0, command};
  const uint32_t crc = th_crc32_update(0, b + 2, 5);
  for (int i = 0; i < 4; i++) b[7 + i] = (uint8_t)(crc >> (8 * i));
  th_uart_write(b, sizeof(b));
}

void th_send_error(uint8_t seq, uint8_t code, const char *message) {
  th_frame_begin(TH_MSG_ERROR, seq, (uint16_t)(1 + th_str_wire_len(message)));
  th_frame_put_u8(code);
  th_frame_put_str(message);
  th_frame_end();
}

/* ---- receiving -------------------------------------------------------------------------- */
void th_parser_init(th_frame_parser *p, uint8_t *buf, uint32_t cap, th_payload_limit limit) {
  memset(p, 0, sizeof(*p));
  p->buf = buf;
  p->cap = cap;
  p->limit = limit;
}

static void drop(th_frame_parser *p, uint32_t k) {
  if (k > p->n) k = p->n;
  memmove(p->buf, p->buf + k, p->n - k);
  p->n -= k;
  p->dropped += k;
}

/* Forget the frame handed out last (it was used, not discarded). */
static void release(th_frame_parser *p) {
  if (!p->consumed) return;
  memmove(p->buf, p->buf + p->consumed, p->n - p->consumed);
  p->n -= p->consumed;
  p->consumed = 0;
}

static uint32_t get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* Counting through a frame larger than the buffer: CRC over type..payload, then its 4 CRC bytes. */
static void skip_byte(th_frame_parser *p, uint8_t byte) {
  const uint32_t body = (uint32_t)p->len + 4u; /* type, seq, len, payload */
  if (p->skip_pos < body) {
    p->skip_crc = th_crc32_update(p->skip_crc, &byte, 1);
  } else {
    p->skip_crc_rx |= (uint32_t)byte << (8u * (p->skip_pos - body));
  }
  p->skip_pos++;
  p->skip_left--;
}

void th_parser_push(th_frame_parser *p, uint8_t byte) {
  if (p->skip_left) {
    skip_byte(p, byte);
    return;
  }
  release(p);
  if (p->n == p->cap) drop(p, 1); /* cannot happen with a frame start at buf[0]; stay safe */
  p->buf[p->n++] = byte;
}

int th_parser_next(th_frame_parser *p) {
  if (p->skip_left == 0 && p->skip_pos) {
    const int ok = p->skip_crc == p->skip_crc_rx;
    p->skip_pos = 0;
    if (ok) return TH_PARSE_TOO_LARGE;
  }
  if (p->skip_left) return TH_PARSE_NONE;
  release(p);
  for (;;) {
    uint32_t i = 0;
    while (i < p->n && !(p->buf[i] == TH_SYNC0 && (i + 1 == p->n || p->buf[i + 1] == TH_SYNC1))) i++;
    drop(p, i);
    if (p->n < TH_HEADER_BYTES) return TH_PARSE_NONE;
    const uint8_t type = p->buf[2];
    const uint32_t len = (uint32_t)p->buf[4] | ((uint32_t)p->buf[5] << 8);
    const int32_t limit = p->limit ? p->limit(type) : (int32_t)TH_MAX_PAYLOAD;
    if ((type & 0x80u) || limit < 0 || len > (uint32_t)limit || len > TH_MAX_PAYLOAD) {
      drop(p, 1);
      continue;
    }
    const uint32_t total = TH_FRAME_OVERHEAD + len;
    if (total > p->cap) {
      /* Too large to hold: count it through, CRC included, then say so if it was a real frame. */
      p->type = type;
      p->seq = p->buf[3];
      p->len = (uint16_t)len;
      p->skip_crc = 0;
      p->skip_crc_rx = 0;
      p->skip_pos = 0;
      p->skip_left = total - 2u;
      for (uint32_t k = 2; k < p->n; k++) skip_byte(p, p->buf[k]);
      p->n = 0;
      return TH_PARSE_NONE;
    }
    if (p->n < total) return TH_PARSE_NONE;
    if (th_crc32_update(0, p->buf + 2, total - 6) != get_u32(p->buf + total - 4)) {
      drop(p, 1);
      continue;
    }
    p->type = type;
    p->seq = p->buf[3];
    p->len = (uint16_t)len;
    p->payload = p->buf + TH_HEADER_BYTES;
    p->consumed = total;
    return TH_PARSE_FRAME;
  }
}

void th_parser_expire(th_frame_parser *p) {
  if (p->skip_left) {
    p->skip_left = 0;
    p->skip_pos = 0;
    return;
  }
  release(p);
  if (p->n) drop(p, 1);
}

int th_parser_pending(const th_frame_parser *p) {
  return p->skip_left != 0 || p->n > p->consumed;
}
