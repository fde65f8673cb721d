/* The EEMBC / MLPerf Tiny runner's ASCII protocol, in performance mode (built with
 * TH_PROTOCOL_MLPERF instead of the framed protocol of main.c).
 *
 * Commands end with '%', words are separated by spaces, and every command is answered by its lines
 * and then "m-ready". The runner's commands: name, profile, timestamp, help, db load N, db <hex>,
 * db print, infer N [W], results. One of tinyhil's own, which a runner never sends: tinyhil-info
 * (identity, timer and the memory probe's figures, so the harness loses nothing by speaking this).
 *
 * Timing differs from a port of the reference code in one way: both m-lap-us stamps are read around
 * the N inferences alone and printed after the second, so no UART output falls inside the window
 * (the lines still come in the runner's order). Stamps are microseconds of the firmware's 64-bit
 * tick counter (timer.c); under an emulator those are virtual microseconds, i.e. instructions. */
#ifdef TH_PROTOCOL_MLPERF
#include <string.h>

#include "board.h"
#include "build_info.h"
#include "memory_probe.h"
#include "timer.h"
#include "tinyhil_model.h"

#ifndef TH_MLPERF_CMD_MAX
#define TH_MLPERF_CMD_MAX 256u /* the reference's EE_CMD_SIZE is 80; longer is refused, not cut */
#endif
#ifndef TH_MLPERF_DB_MAX
#define TH_MLPERF_DB_MAX 32768u
#endif
#ifndef TH_OUTPUT_MAX
#define TH_OUTPUT_MAX 4096u
#endif
#ifndef TH_MLPERF_MAX_ITERATIONS
#define TH_MLPERF_MAX_ITERATIONS 10000000u /* a 10 s window of a 1 us model; more is a typo */
#endif

#define TH_MLPERF_VERSION TH_FIRMWARE_VERSION " (mlperf)"

static uint8_t db_buf[TH_MLPERF_DB_MAX] __attribute__((aligned(16)));
static uint32_t db_size, db_pos;
static uint8_t output_buf[TH_OUTPUT_MAX] __attribute__((aligned(16)));
static int have_output;

/* ---- output ---------------------------------------------------------------------------------- */

static void put(const char *s) { th_uart_write(s, strlen(s)); }

static void put_u64(uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v);
  char out[21];
  for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  th_uart_write(out, (size_t)n);
}

static void put_i64(int64_t v) {
  if (v < 0) {
    put("-");
    put_u64((uint64_t)(-(v + 1)) + 1u);
  } else {
    put_u64((uint64_t)v);
  }
}

/* A float in nine significant digits, d.dddddddde[-]X: enough to give back the very same float32
 * when parsed (the harness compares outputs bit for bit), without printf (newlib's float formatting
 * is large). Scaling by ten in double keeps the error far below a float32's half-ulp. */
static void put_float9(float value) {
  double v = value;
  if (v != v) {
    put("nan");
    return;
  }
  if (v < 0) {
    put("-");
    v = -v;
  }
  if (v == 0) {
    put("0");
    return;
  }
  if (v > 3.5e38) {
    put("inf");
    return;
  }
  int exp10 = 0; /* value = v * 10^exp10 */
  while (v >= 1e9) {
    v /= 10;
    exp10++;
  }
  while (v < 1e8) {
    v *= 10;
    exp10--;
  }
  uint64_t m = (uint64_t)(v + 0.5);
  if (m >= 1000000000u) {
    m = (m + 5u) / 10u;
    exp10++;
  }
  char digits[9];
  for (int i = 8; i >= 0; i--) {
    digits[i] = (char)('0' + (int)(m % 10u));
    m /= 10u;
  }
  th_uart_write(digits, 1);
  put(".");
  th_uart_write(digits + 1, 8);
  put("e");
  put_i64(exp10 + 8);
}

static void put_key(const char *key, uint64_t value, int last) {
  put(key);
  put("=");
  put_u64(value);
  if (!last) put(",");
}

static void error_line(const char *a, const char *b) {
  put("e-[");
  put(a);
  if (b) put(b);
  put("]\r\n");
}

/* ---- commands -------------------------------------------------------------------------------- */

static uint64_t now_us(void) { return th_timer_now() * 1000000u / th_timer_hz(); }

static void timestamp(uint64_t us) {
  put("m-lap-us-");
  put_u64(us);
  put("\r\n");
}

static int parse_uint(const char *s, uint32_t *out) {
  if (!s || !*s) return 0;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    v = v * 10u + (uint64_t)(*s - '0');
    if (v > 0x7FFFFFFFu) return 0;
  }
  *out = (uint32_t)v;
  return 1;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void db_command(char *sub, char *arg) {
  if (!sub) {
    error_line("Command 'db' requires a subcommand", 0);
  } else if (strcmp(sub, "load") == 0) {
    uint32_t n;
    if (!parse_uint(arg, &n) || n == 0) {
      error_line("Command 'db load' requires a number of bytes > 0", 0);
    } else if (n > TH_MLPERF_DB_MAX) {
      error_line("db load: more bytes than the firmware's buffer (TH_MLPERF_DB_MAX)", 0);
    } else {
      db_size = n;
      db_pos = 0;
      put("m-[Expecting ");
      put_u64(n);
      put(" bytes]\r\n");
    }
  } else if (strcmp(sub, "print") == 0) {
    static const char hexdigit[] = "0123456789abcdef";
    for (uint32_t i = 0; i < db_pos; i++) {
      if (i % 8u == 0) put("m-buffer-");
      char pair[2] = {hexdigit[db_buf[i] >> 4], hexdigit[db_buf[i] & 15]};
      th_uart_write(pair, 2);
      put((i + 1) % 8u == 0 || i + 1 == db_pos ? "\r\n" : "-");
    }
  } else if (db_size == 0) {
    error_line("Buffer not allocated", 0);
  } else {
    const size_t n = strlen(sub);
    if (n % 2u) {
      error_line("Insufficent number of hex digits", 0);
      return;
    }
    for (size_t i = 0; i < n; i += 2) {
      const int hi = hex_value(sub[i]), lo = hex_value(sub[i + 1]);
      if (hi < 0 || lo < 0) {
        error_line("Invalid hex digit in ", sub);
        return;
      }
      if (db_pos < db_size) db_buf[db_pos++] = (uint8_t)(hi * 16 + lo);
      if (db_pos == db_size) { /* the rest of the digits are disregarded, as the reference does */
        put("m-load-done\r\n");
        return;
      }
    }
  }
}

static void results(void) {
  if (!have_output) {
    error_line("No inference has run", 0);
    return;
  }
  put("m-results-[");
  const float scale = th_model.output_scale;
  const int32_t zp = th_model.output_zero_point;
  uint32_t count = th_model.output_bytes;
  if (th_model.output_dtype == TH_INT16) count /= 2u;
  if (th_model.output_dtype == TH_INT32 || th_model.output_dtype == TH_FLOAT32) count /= 4u;
  for (uint32_t i = 0; i < count; i++) {
    int64_t q = 0;
    float real = 0.0f;
    switch (th_model.output_dtype) {
      case TH_INT8:
        q = ((const int8_t *)output_buf)[i];
        break;
      case TH_UINT8:
        q = output_buf[i];
        break;
      case TH_INT16:
        q = ((const int16_t *)output_buf)[i];
        break;
      case TH_INT32:
        q = ((const int32_t *)output_buf)[i];
        break;
      default:
        real = ((const float *)output_buf)[i];
    }
    if (th_model.output_dtype == TH_FLOAT32) {
      put_float9(real);
    } else if (scale != 0.0f) {
      put_float9((float)(q - zp) * scale);
    } else {
      put_i64(q); /* a quantized output of unknown scale: the integers themselves */
    }
    if (i + 1 < count) put(",");
  }
  put("]\r\n");
}

static void infer(const char *n_arg, const char *w_arg) {
  uint32_t n = 1, warmup = 10; /* the reference's defaults: `infer%` is one inference after ten warmups */
  if (n_arg && (!parse_uint(n_arg, &n) || n == 0)) {
    error_line("Inference iterations must be >0", 0);
    return;
  }
  if (w_arg && !parse_uint(w_arg, &warmup)) {
    error_line("Inference warmup must be >=0", 0);
    return;
  }
  if (n > TH_MLPERF_MAX_ITERATIONS || warmup > TH_MLPERF_MAX_ITERATIONS) {
    error_line("infer: more iterations than TH_MLPERF_MAX_ITERATIONS", 0);
    return;
  }
  if (db_pos != th_model.input_bytes) {
    error_line("db holds a different number of bytes than the model input takes", 0);
    return;
  }
  if (th_model.output_bytes > TH_OUTPUT_MAX) {
    error_line("model output larger than the firmware's output buffer", 0);
    return;
  }
  put("m-warmup-start-");
  put_u64(warmup);
  put("\r\n");
  for (uint32_t i = 0; i < warmup; i++) th_model_invoke(db_buf, output_buf, 0, 0);
  put("m-warmup-done\r\nm-infer-start-");
  put_u64(n);
  put("\r\n");
  th_timer_sync();
  const uint64_t start = th_timer_now();
  for (uint32_t i = 0; i < n; i++) th_model_invoke(db_buf, output_buf, 0, 0);
  const uint64_t end = th_timer_now();
  have_output = 1;
  timestamp(start * 1000000u / th_timer_hz());
  timestamp(end * 1000000u / th_timer_hz());
  put("m-infer-done\r\n");
  results();
}

static void tinyhil_info(void) {
  put("m-tinyhil-identity-[firmware=" TH_MLPERF_VERSION ",board=");
  put(th_board_name());
  put(",engine=" TH_ENGINE_NAME ",kernels=" TH_KERNELS_NAME ",timer=");
  put(th_timer_name());
  put(",model=");
  put(th_model.name);
  put(",");
  put_key("cpu_hz", th_board_cpu_hz(), 0);
  put_key("timer_hz", th_timer_hz(), 0);
  put_key("timer_overhead", th_timer_overhead(), 0);
  put_key("input_bytes", th_model.input_bytes, 0);
  put_key("output_bytes", th_model.output_bytes, 0);
  put_key("n_layers", th_model.n_layers, 0);
  put_key("macs", th_model.macs, 1);
  put("]\r\n");
  /* The probe runs one inference on the loaded input, else on the first sample in flash. */
  const void *input = db_pos == th_model.input_bytes ? (const void *)db_buf : (const void *)th_data_inputs;
  if (db_pos != th_model.input_bytes && th_data_count == 0) {
    error_line("tinyhil-info: no input loaded and no sample in flash to measure memory with", 0);
    return;
  }
  if (th_model.output_bytes > TH_OUTPUT_MAX) {
    error_line("model output larger than the firmware's output buffer", 0);
    return;
  }
  th_memory_report r;
  th_measure_memory(input, output_buf, &r);
  put("m-tinyhil-memory-[");
  put_key("arena_plan", r.arena_plan_bytes, 0);
  put_key("arena_used", r.arena_used_bytes, 0);
  put_key("stack_used", r.stack_used_bytes, 0);
  put_key("stack_size", r.stack_size_bytes, 0);
  put_key("static_ram", r.static_ram_bytes, 0);
  put_key("arena_guard", r.arena_guard_bytes, 0);
  put_key("stack_guard", r.stack_guard_bytes, 0);
  put_key("persistent_used", r.persistent_used_bytes, 0);
  put_key("engine_arena_used", r.engine_arena_used_bytes, 1);
  put("]\r\n");
}

static void execute(char *line) {
  char *words[4] = {0, 0, 0, 0};
  int n = 0;
  for (char *p = strtok(line, " "); p && n < 4; p = strtok(0, " ")) words[n++] = p;
  if (n == 0) {
    /* an empty command: the reference answers it as unknown, with just m-ready after */
  } else if (strcmp(words[0], "name") == 0) {
    put("m-name-dut-[tinyhil ");
    put(th_board_name());
    put("]\r\n");
  } else if (strcmp(words[0], "profile") == 0) {
    put("m-profile-[" TH_MLPERF_VERSION "]\r\nm-model-[");
    put(th_model.name);
    put("]\r\n");
  } else if (strcmp(words[0], "timestamp") == 0) {
    timestamp(now_us());
  } else if (strcmp(words[0], "help") == 0) {
    put(TH_MLPERF_VERSION "\r\nname, profile, timestamp, help, db load N, db HH.., db print, "
                            "infer N [W=10], results, tinyhil-info\r\n");
  } else if (strcmp(words[0], "db") == 0) {
    db_command(words[1], words[2]);
  } else if (strcmp(words[0], "infer") == 0) {
    infer(words[1], words[1] ? words[2] : 0);
  } else if (strcmp(words[0], "results") == 0) {
    results();
  } else if (strcmp(words[0], "tinyhil-info") == 0) {
    tinyhil_info();
  } else {
    error_line("Unknown command: ", words[0]);
  }
  put("m-ready\r\n");
}

/* The command line being received: bytes up to '%'. */
static char line[TH_MLPERF_CMD_MAX + 1];
static uint32_t line_len;
static int line_overlong;

void th_mlperf_start(void) {
  put("m-timestamp-mode-performance\r\n");
  timestamp(now_us());
  put("m-init-done\r\nm-ready\r\n");
}

/* One received byte; a '%' executes the command. Every '%' is answered by exactly one m-ready. */
void th_mlperf_push(int c) {
  if (c == '%') {
    if (line_overlong) {
      error_line("Command longer than TH_MLPERF_CMD_MAX", 0);
      put("m-ready\r\n");
    } else {
      line[line_len] = 0;
      execute(line);
    }
    line_len = 0;
    line_overlong = 0;
  } else if (c == '\r' || c == '\n') {
    /* line ends around commands are not part of them */
  } else if (line_len < TH_MLPERF_CMD_MAX) {
    line[line_len++] = (char)c;
  } else {
    line_overlong = 1;
  }
}

#ifndef TH_MLPERF_HOST /* the host fuzz build (tests/link/fuzz_mlperf.c) brings its own main */
int main(void) {
  th_board_init();
  th_timer_init(th_board_cpu_hz());
  th_mlperf_start();
  for (;;) {
    const int c = th_uart_read_byte();
    if (c >= 0) th_mlperf_push(c);
  }
}
#endif
#endif /* TH_PROTOCOL_MLPERF */
