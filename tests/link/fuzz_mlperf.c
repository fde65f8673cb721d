/* The firmware's MLPerf Tiny runner protocol parser (firmware/src/mlperf.c) built for the host with
 * the fake model, fed mangled runner commands from a seeded generator. Built with
 * -fsanitize=address,undefined by tests/link/test_fuzz_firmware.py (bounded count) and
 * benchmarks/fuzz.py (100k): any sanitizer report aborts the run.
 * The property checked besides not crashing: every '%' received is answered by exactly one
 * m-ready, and an intact `name%` after any garbage is answered with its m-name line, last.
 * Usage: fuzz_mlperf COUNT SEED  -> prints "commands=N readies=R names=K errors=E" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

void th_mlperf_start(void);
void th_mlperf_push(int c);

/* ---- the UART: count m-ready and m-name-dut- in what the firmware writes ---------------------- */
static const char READY[] = "m-ready\r\n", NAME[] = "m-name-dut-", ERR[] = "e-[";
static char last[160]; /* the latest bytes written, newest last (also shown on a failure) */
static unsigned long readies, names, errors;

static int ends_with(const char *pattern) {
  const size_t n = strlen(pattern);
  return memcmp(last + sizeof(last) - n, pattern, n) == 0;
}

void th_uart_write(const void *data, size_t n) {
  const char *b = data;
  for (size_t i = 0; i < n; i++) {
    memmove(last, last + 1, sizeof(last) - 1);
    last[sizeof(last) - 1] = b[i];
    readies += ends_with(READY);
    names += ends_with(NAME);
    errors += ends_with(ERR);
  }
}
int th_uart_read_byte(void) { return -1; }

/* ---- generator ------------------------------------------------------------------------------ */
#include "fuzz_rng.h"

static void show(const char *what, const char *s, size_t n) {
  fprintf(stderr, "%s: \"", what);
  for (size_t i = 0; i < n; i++) fprintf(stderr, (s[i] >= 32 && s[i] < 127) ? "%c" : "\\x%02x", (unsigned char)s[i]);
  fprintf(stderr, "\"\n");
}

static unsigned long percents;
static void push(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') percents++;
    th_mlperf_push((unsigned char)s[i]);
  }
}

static size_t command(char *out, size_t cap) {
  static const char *const fixed[] = {"name", "profile", "timestamp", "help", "results", "db print",
                                      "tinyhil-info", "infer", "db", "db load"};
  size_t n = 0;
  switch (below(6)) {
    case 0:
      n = (size_t)snprintf(out, cap, "%s", fixed[below(sizeof(fixed) / sizeof(fixed[0]))]);
      break;
    case 1:
      n = (size_t)snprintf(out, cap, "db load %u", below(4) ? 16u : rnd() % 70000u);
      break;
    case 2: {
      n = (size_t)snprintf(out, cap, "db ");
      for (uint32_t k = below(40); k > 0 && n + 2 < cap; k--) n += (size_t)snprintf(out + n, cap - n, "%02x", below(256));
      break;
    }
    case 3:
      n = (size_t)snprintf(out, cap, "infer %u %u", below(20), below(4));
      break;
    case 4: /* overlong */
      for (n = 0; n < 250 + below(100) && n + 1 < cap; n++) out[n] = (char)('a' + below(26));
      break;
    default: /* bytes */
      for (n = below(40); n > 0 && n + 1 < cap; n--) out[n - 1] = (char)rnd();
      n = strlen(out);
  }
  for (uint32_t k = below(4); k > 0 && n > 0; k--) { /* break it the ways a link does */
    const size_t at = below((uint32_t)n);
    switch (below(4)) {
      case 0: out[at] = (char)(out[at] ^ (1 << below(8))); break;
      case 1: memmove(out + at, out + at + 1, n - at - 1), n--; break;
      case 2: if (n + 1 < cap) memmove(out + at + 1, out + at, n - at), out[at] = (char)rnd(), n++; break;
      default: n = at; break;
    }
  }
  if (below(10)) out[n++] = '%'; /* mostly terminated; else it runs into the next one */
  return n;
}

/* After a '%' ends whatever came before, an intact name% is answered, last. (The first '%' may end
 * an unterminated `name` too, so the end of the output is what counts.) */
static int name_answered(void) {
  push("%name%", 6);
  return ends_with("m-name-dut-[tinyhil host-fuzz]\r\nm-ready\r\n");
}

#ifdef TH_LIBFUZZER
/* libFuzzer (clang -fsanitize=fuzzer): its inputs are raw bytes received by the parser. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int started;
  if (!started) th_mlperf_start(), started = 1;
  push((const char *)data, size);
  if (readies != percents + 1 || !name_answered() || readies != percents + 1) abort();
  return 0;
}
#else
int main(int argc, char **argv) {
  const unsigned long count = argc > 1 ? strtoul(argv[1], 0, 10) : 1000;
  seed_rng(argc > 2 ? strtoull(argv[2], 0, 10) : 1);
  th_mlperf_start();
  if (readies != 1) return fprintf(stderr, "no m-ready at start\n"), 1;
  static char buf[512];
  unsigned long probes = 0;
  for (unsigned long f = 0; f < count; f++) {
    memset(buf, 0, sizeof(buf));
    const size_t n = command(buf, sizeof(buf) - 1);
    push(buf, n);
    if (readies != percents + 1) {
      fprintf(stderr, "command %lu: %lu '%%' sent, %lu m-ready answered\n", f, percents, readies - 1);
      return 1;
    }
    if (below(16) == 0) { /* the property: after a '%' ends whatever came before, name% is answered */
      if (!name_answered()) {
        fprintf(stderr, "command %lu: an intact name%% was not answered\n", f);
        show("the command before it", buf, n);
        show("the firmware's last output", last, sizeof(last));
        return 1;
      }
      probes++;
    }
  }
  printf("commands=%lu readies=%lu names=%lu errors=%lu probes=%lu\n", count, readies, names, errors, probes);
  return 0;
}
#endif
