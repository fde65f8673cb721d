/* Framed serial protocol (mirrors harness/protocol/messages.py; docs/ARCHITECTURE.md).
 * Frame: 0xA5 0x5A | type u8 | seq u8 | len u16 LE | payload | crc32(type..payload) u32 LE.
 * CRC-32 is the IEEE/zlib one (reflected polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF).
 *
 * Every request carries a sequence number; the device acknowledges it at once (ACK, same seq), then
 * answers with frames of the same seq. A request repeated with the seq, type and CRC of the last
 * one executed is not run again: the device acknowledges it and re-sends the final reply it sent
 * (for RUN_FLASH that is RUN_DONE; the host asks for missing samples by index). */
#ifndef TH_PROTOCOL_H
#define TH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifndef TH_PROTOCOL_VERSION
#define TH_PROTOCOL_VERSION 4u
#endif
#define TH_SYNC0 0xA5u
#define TH_SYNC1 0x5Au
#define TH_HEADER_BYTES 6u /* sync, type, seq, len */
#define TH_FRAME_OVERHEAD 10u /* header + CRC-32 */
#define TH_MAX_PAYLOAD 32768u /* no frame in either direction is longer: a longer length is noise */

/* Host -> device (bit 7 clear) */
enum {
  TH_CMD_IDENTIFY = 0x01,
  TH_CMD_MODEL_INFO = 0x02,
  TH_CMD_MEASURE_MEMORY = 0x03,
  TH_CMD_RUN_FLASH = 0x04, /* u32 start, u32 count, u8 flags */
  TH_CMD_RUN_INPUT = 0x05, /* u8 flags, input bytes */
  TH_CMD_LAYER_INFO = 0x06, /* u32 layer index */
};

/* Device -> host (bit 7 set) */
enum {
  TH_MSG_ACK = 0x80, /* u8 the acknowledged command type */
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
  TH_ERR_UNKNOWN_COMMAND = 2,
  TH_ERR_BAD_LENGTH = 3,
  TH_ERR_OUT_OF_RANGE = 4,
  TH_ERR_TOO_LARGE = 5,
};

uint32_t th_crc32_update(uint32_t crc, const void *data, size_t n); /* start with 0, chainable */

/* Sending: begin, put the payload in pieces, end (writes the CRC). The last frame sent is also
 * kept in `th_last_frame` when it fits, so a repeated request can be answered without re-running. */
void th_frame_begin(uint8_t type, uint8_t seq, uint16_t len);
void th_frame_put(const void *data, size_t n);
void th_frame_put_u8(uint8_t v);
void th_frame_put_u16(uint16_t v);
void th_frame_put_u32(uint32_t v);
void th_frame_put_u64(uint64_t v);
void th_frame_put_str(const char *s); /* u8 length + bytes, truncated at 255 */
size_t th_str_wire_len(const char *s);
void th_frame_end(void);
void th_send_ack(uint8_t seq, uint8_t command);
void th_send_error(uint8_t seq, uint8_t code, const char *message);

#ifndef TH_LAST_FRAME_MAX
#define TH_LAST_FRAME_MAX 1024u
#endif
/* The bytes of the last frame sent; len 0 when it did not fit. */
const uint8_t *th_last_frame(size_t *len);

/* Receiving. The parser buffers raw bytes from a sync pattern on; a header with a type that is no
 * command or a length above that type's limit (or TH_MAX_PAYLOAD), or a frame whose CRC fails, costs one byte: it scans on from the byte
 * after that sync for the next frame start, so frames after a broken one are never swallowed. A
 * frame too large for the buffer (but within TH_MAX_PAYLOAD) is counted through and, if its CRC
 * holds, reported as TH_PARSE_TOO_LARGE. */
/* The longest payload a command type may have, or -1 for a type that is no command: a header
 * claiming more is noise, dropped at once (so a corrupted length never holds the parser). */
typedef int32_t (*th_payload_limit)(uint8_t type);

typedef struct {
  uint8_t *buf;
  uint32_t cap;
  th_payload_limit limit;
  uint32_t n;        /* bytes buffered, from buf[0] */
  uint32_t consumed; /* bytes of the frame handed out last, dropped at the next call */
  uint32_t skip_left; /* > 0: counting through an oversized frame */
  uint32_t skip_pos, skip_crc_rx, skip_crc;
  uint8_t type, seq;
  uint16_t len;
  uint8_t *payload;
  uint32_t dropped; /* bytes discarded while resynchronising (statistics) */
} th_frame_parser;

enum { TH_PARSE_NONE = 0, TH_PARSE_FRAME = 1, TH_PARSE_TOO_LARGE = 2 };

void th_parser_init(th_frame_parser *p, uint8_t *buf, uint32_t cap, th_payload_limit limit);
void th_parser_push(th_frame_parser *p, uint8_t byte);
/* Call after every push (and until it returns TH_PARSE_NONE): TH_PARSE_FRAME leaves type, seq,
 * payload and len set until the next call. */
int th_parser_next(th_frame_parser *p);
/* The line went quiet in the middle of a frame: give up on that frame start and rescan. */
void th_parser_expire(th_frame_parser *p);
int th_parser_pending(const th_frame_parser *p); /* 1 while bytes of an unfinished frame are held */

/* The application: handle one received command frame / one oversized frame. */
void th_handle_command(uint8_t type, uint8_t seq, uint8_t *payload, uint16_t len, uint8_t *aligned_scratch);
void th_handle_oversized(uint8_t seq);
int32_t th_command_max_payload(uint8_t type); /* the application's th_payload_limit */

#endif
