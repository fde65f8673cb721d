/* Framed serial protocol (mirrors harness/protocol/messages.py; docs/ARCHITECTURE.md).
 * Frame: 0xA5 0x5A | type u8 | len u16 LE | payload | crc16-CCITT(type..payload) u16 LE.
 * CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection. */
#ifndef TH_PROTOCOL_H
#define TH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define TH_PROTOCOL_VERSION 2u
#define TH_SYNC0 0xA5u
#define TH_SYNC1 0x5Au

/* Host -> device */
enum {
  TH_CMD_IDENTIFY = 0x01,
  TH_CMD_MODEL_INFO = 0x02,
  TH_CMD_MEASURE_MEMORY = 0x03,
  TH_CMD_RUN_FLASH = 0x04, /* u32 start, u32 count, u8 flags */
  TH_CMD_RUN_INPUT = 0x05, /* u8 flags, input bytes */
};

/* Device -> host */
enum {
  TH_MSG_IDENTITY = 0x81,
  TH_MSG_MODEL_INFO = 0x82,
  TH_MSG_LAYER = 0x83,
  TH_MSG_MEMORY = 0x84,
  TH_MSG_SAMPLE = 0x85,
  TH_MSG_RUN_DONE = 0x86,
  TH_MSG_ERROR = 0xEE,
};

#define TH_FLAG_PER_LAYER 0x01u
#define TH_INDEX_HOST_INPUT 0xFFFFFFFFu

enum {
  TH_ERR_BAD_CRC = 1,
  TH_ERR_UNKNOWN_COMMAND = 2,
  TH_ERR_BAD_LENGTH = 3,
  TH_ERR_OUT_OF_RANGE = 4,
  TH_ERR_TOO_LARGE = 5,
};

uint16_t th_crc16_update(uint16_t crc, const void *data, size_t n);

/* Sending: begin, put the payload in pieces, end (writes the CRC). */
void th_frame_begin(uint8_t type, uint16_t len);
void th_frame_put(const void *data, size_t n);
void th_frame_put_u8(uint8_t v);
void th_frame_put_u16(uint16_t v);
void th_frame_put_u32(uint32_t v);
void th_frame_put_u64(uint64_t v);
void th_frame_put_str(const char *s); /* u8 length + bytes, truncated at 255 */
size_t th_str_wire_len(const char *s);
void th_frame_end(void);

void th_send_error(uint8_t code, const char *message);

/* Receiving: feed bytes; returns 1 when a complete, CRC-checked frame is in *type/payload/len. */
typedef struct {
  uint8_t state;
  uint8_t type;
  uint16_t len;
  uint32_t got;
  uint16_t crc, rx_crc;
  uint8_t *buf;
  uint16_t cap;
} th_frame_parser;

void th_parser_init(th_frame_parser *p, uint8_t *buf, uint16_t cap);
int th_parser_feed(th_frame_parser *p, uint8_t byte);

/* The application: handle one received command frame. */
void th_handle_command(uint8_t type, uint8_t *payload, uint16_t len);

#endif
