/* The firmware's frame parser and command decoder (firmware/src/protocol.c, commands.c) built for
 * the host with the fake model, fed malformed command frames from a seeded generator. Built with
 * -fsanitize=address,undefined by tests/link/test_fuzz_firmware.py (bounded count) and
 * benchmarks/fuzz.py (100k): any sanitizer report aborts the run.
 * Besides not crashing, it checks one property after every malformed frame: once the line has
 * been quiet (th_parser_expire until nothing is pending), the next intact IDENTIFY is answered.
 * Usage: fuzz_fw COUNT SEED  -> prints "frames=N commands=C replies=R resyncs=K" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "memory_probe.h"
#include "protocol.h"
#include "timer.h"
#include "tinyhil_model.h"

/* ---- the UART (board, timer and memory probe: host_stubs.c) --------------------------------- */
static size_t tx_bytes;
static unsigned identities; /* IDENTITY frames seen in the output (type byte after a sync) */
static uint8_t tx_prev1, tx_prev2;

void th_uart_write(const void *data, size_t n) {
  const uint8_t *b = data;
  for (size_t i = 0; i < n; i++) {
    /* a crude scan: sync, sync, type */
    if (tx_prev2 == TH_SYNC0 && tx_prev1 == TH_SYNC1 && b[i] == TH_MSG_IDENTITY) identities++;
    tx_prev2 = tx_prev1;
    tx_prev1 = b[i];
  }
  tx_bytes += n;
}
int th_uart_read_byte(void) { return -1; }

/* ---- generator ------------------------------------------------------------------------------ */
#include "fuzz_rng.h"

#define RX_CAP 512u /* small, so oversized frames and skip mode are exercised */
static uint8_t rx_buf[RX_CAP] __attribute__((aligned(16)));
static th_frame_parser parser;
static unsigned long commands;

static void feed(const uint8_t *bytes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    th_parser_push(&parser, bytes[i]);
    int got;
    while ((got = th_parser_next(&parser)) != TH_PARSE_NONE) {
      if (parser.n > parser.cap) abort();
      if (got == TH_PARSE_FRAME) {
        commands++;
        th_handle_command(parser.type, parser.seq, parser.payload, parser.len, rx_buf);
      } else {
        th_handle_oversized(parser.seq);
      }
    }
    if (below(200) == 0) th_parser_expire(&parser); /* a gap on the line, anywhere */
  }
}

static size_t make_frame(uint8_t *out, uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t len) {
  out[0] = TH_SYNC0;
  out[1] = TH_SYNC1;
  out[2] = type;
  out[3] = seq;
  out[4] = (uint8_t)len;
  out[5] = (uint8_t)(len >> 8);
  memcpy(out + 6, payload, len);
  const uint32_t crc = th_crc32_update(0, out + 2, 4u + len);
  for (int i = 0; i < 4; i++) out[6 + len + i] = (uint8_t)(crc >> (8 * i));
  return 10u + len;
}

static uint16_t payload_len(uint8_t type) {
  static const uint16_t usual[] = {0, 0, 0, 0, 9, 17, 4}; /* by command type (RUN_INPUT: 1 + 16) */
  if (below(4) == 0) return (uint16_t)below(below(8) == 0 ? 2000 : 40); /* a wrong length */
  return type < 7 ? usual[type] : (uint16_t)below(16);
}

/* Let the line go quiet (expire what is pending), then send an intact IDENTIFY: answered? */
static int identify_after_quiet(uint8_t seq) {
  static uint8_t frame[16];
  static const uint8_t none[1] = {0};
  while (th_parser_pending(&parser)) th_parser_expire(&parser), (void)th_parser_next(&parser);
  const unsigned before = identities;
  const size_t m = make_frame(frame, TH_CMD_IDENTIFY, seq, none, 0);
  for (size_t i = 0; i < m; i++) {
    th_parser_push(&parser, frame[i]);
    int got;
    while ((got = th_parser_next(&parser)) != TH_PARSE_NONE)
      if (got == TH_PARSE_FRAME) th_handle_command(parser.type, parser.seq, parser.payload, parser.len, rx_buf);
  }
  return identities == before + 1;
}

#ifdef TH_LIBFUZZER
/* libFuzzer (clang -fsanitize=fuzzer): its inputs are raw byte streams into the parser. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int started;
  if (!started) th_parser_init(&parser, rx_buf, RX_CAP, th_command_max_payload), started = 1;
  feed(data, size);
  if (!identify_after_quiet(size ? data[0] : 0)) abort();
  return 0;
}
#else
int main(int argc, char **argv) {
  const unsigned long count = argc > 1 ? strtoul(argv[1], 0, 10) : 1000;
  seed_rng(argc > 2 ? strtoull(argv[2], 0, 10) : 1);
  th_parser_init(&parser, rx_buf, RX_CAP, th_command_max_payload);
  static uint8_t frame[4096], payload[2048];
  unsigned long resyncs = 0;
  for (unsigned long f = 0; f < count; f++) {
    const uint8_t type = below(10) == 0 ? (uint8_t)rnd() : (uint8_t)(1 + below(6));
    const uint16_t len = payload_len(type);
    for (uint16_t i = 0; i < len; i++) payload[i] = (uint8_t)rnd();
    if (type == TH_CMD_RUN_FLASH && len == 9 && below(2)) { /* mostly in range, so samples run */
      payload[0] = (uint8_t)below(5), payload[1] = payload[2] = payload[3] = 0;
      payload[4] = (uint8_t)below(5), payload[5] = payload[6] = payload[7] = 0;
    }
    size_t n = make_frame(frame, type, (uint8_t)rnd(), payload, len);
    for (uint32_t k = below(4); k > 0 && n > 0; k--) { /* break it the ways a link does */
      const size_t at = below((uint32_t)n);
      switch (below(5)) {
        case 0: frame[at] ^= (uint8_t)(1u << below(8)); break;
        case 1: memmove(frame + at, frame + at + 1, n - at - 1), n--; break;
        case 2: if (n < sizeof(frame)) memmove(frame + at + 1, frame + at, n - at), n++; break;
        case 3: n = at; break;
        default: frame[at] = (uint8_t)rnd(); break;
      }
    }
    feed(frame, n);
    if (below(8) == 0) { /* random noise between frames */
      uint8_t noise[32];
      const uint32_t m = below(sizeof(noise));
      for (uint32_t i = 0; i < m; i++) noise[i] = below(3) ? (uint8_t)rnd() : TH_SYNC0;
      feed(noise, m);
    }
    if (below(16) == 0) { /* the property: after silence, an intact IDENTIFY is answered */
      if (!identify_after_quiet((uint8_t)rnd())) {
        fprintf(stderr, "frame %lu: an intact IDENTIFY after a quiet line was not answered\n", f);
        return 1;
      }
      resyncs++;
    }
  }
  printf("frames=%lu commands=%lu reply_bytes=%zu resyncs=%lu\n", count, commands, tx_bytes, resyncs);
  return 0;
}
#endif
