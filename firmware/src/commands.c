/* The command set: identify, model info, memory, and running inferences with timing. */
#include <string.h>

#include "board.h"
#include "build_info.h"
#include "memory_probe.h"
#include "protocol.h"
#include "timer.h"
#include "tinyhil_model.h"

#ifndef TH_OUTPUT_MAX
#define TH_OUTPUT_MAX 4096u
#endif
#ifndef TH_MAX_LAYERS
#define TH_MAX_LAYERS 256u
#endif


static uint8_t output_buf[TH_OUTPUT_MAX] __attribute__((aligned(16)));

typedef struct {
  uint64_t stamps[TH_MAX_LAYERS + 1];
} layer_clock;

static layer_clock layer_times;

static void stamp_layer(uint32_t layer, void *ctx) {
  layer_clock *clock = ctx;
  if (layer <= TH_MAX_LAYERS) clock->stamps[layer] = th_timer_now();
}

#ifndef TH_RX_MAX
#define TH_RX_MAX 16384u
#endif

/* The request being served (its seq goes on every frame sent for it) and the last one served. */
static uint8_t cur_seq;
static struct {
  int valid;
  uint8_t type, seq;
  uint32_t crc;
} last_request;

/* The result of the last inference, for re-sending a RUN_INPUT reply without re-running it. */
static struct {
  uint32_t index;
  uint64_t count, profiled;
  int per_layer;
} last_sample;

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void send_identity(void) {
  const char *strings[] = {TH_FIRMWARE_VERSION, th_board_name(), TH_ENGINE_NAME, TH_KERNELS_NAME,
                           th_timer_name(), "gcc " __VERSION__};
  size_t len = 2 + 4 + 4 + 4 + 4;
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) len += th_str_wire_len(strings[i]);
  th_frame_begin(TH_MSG_IDENTITY, cur_seq, (uint16_t)len);
  th_frame_put_u16(TH_PROTOCOL_VERSION);
  th_frame_put_u32(th_board_cpu_hz());
  th_frame_put_u32(th_timer_hz());
  th_frame_put_u32(th_timer_overhead());
  th_frame_put_u32(TH_RX_MAX - TH_FRAME_OVERHEAD); /* the largest request payload it takes */
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) th_frame_put_str(strings[i]);
  th_frame_end();
}

static void send_model_info(void) {
  th_frame_begin(TH_MSG_MODEL_INFO, cur_seq, (uint16_t)(4 * 8 + 2 + th_str_wire_len(th_model.name)));
  th_frame_put_u32(th_model.input_bytes);
  th_frame_put_u32(th_model.output_bytes);
  th_frame_put_u8(th_model.input_dtype);
  th_frame_put_u8(th_model.output_dtype);
  th_frame_put_u32(th_model.arena_bytes);
  th_frame_put_u32(th_model.n_layers);
  th_frame_put_u32(th_model.macs);
  th_frame_put_u32(th_data_count);
  th_frame_put_u32(TH_OUTPUT_MAX);
  th_frame_put_u32(TH_MAX_LAYERS);
  th_frame_put_str(th_model.name);
  th_frame_end();
}

static void send_layer(const uint8_t *payload, uint16_t len) {
  if (len != 4) {
    th_send_error(cur_seq, TH_ERR_BAD_LENGTH, "LAYER_INFO takes u32 layer index");
    return;
  }
  const uint32_t i = get_u32(payload);
  if (i >= th_model.n_layers) {
    th_send_error(cur_seq, TH_ERR_OUT_OF_RANGE, "layer index beyond n_layers");
    return;
  }
  const th_layer_info *layer = &th_model.layers[i];
  th_frame_begin(TH_MSG_LAYER, cur_seq, (uint16_t)(8 + th_str_wire_len(layer->op) + th_str_wire_len(layer->name)));
  th_frame_put_u32(i);
  th_frame_put_u32(layer->macs);
  th_frame_put_str(layer->op);
  th_frame_put_str(layer->name);
  th_frame_end();
}

static int check_buffers(void) {
  if (th_model.output_bytes > TH_OUTPUT_MAX) {
    th_send_error(cur_seq, TH_ERR_TOO_LARGE, "model output larger than the firmware's output buffer");
    return 0;
  }
  if (th_model.n_layers > TH_MAX_LAYERS) {
    th_send_error(cur_seq, TH_ERR_TOO_LARGE, "model has more layers than TH_MAX_LAYERS");
    return 0;
  }
  return 1;
}

static void send_memory(void) {
  static const uint8_t zeros[64];
  if (!check_buffers()) return;
  const void *input = th_data_count ? (const void *)th_data_inputs : (const void *)zeros;
  if (!th_data_count && th_model.input_bytes > sizeof(zeros)) {
    th_send_error(cur_seq, TH_ERR_OUT_OF_RANGE, "no sample in flash to measure memory with");
    return;
  }
  th_memory_report report;
  th_measure_memory(input, output_buf, &report);
  th_frame_begin(TH_MSG_MEMORY, cur_seq, 4 * 9);
  th_frame_put_u32(report.arena_plan_bytes);
  th_frame_put_u32(report.arena_used_bytes);
  th_frame_put_u32(report.stack_used_bytes);
  th_frame_put_u32(report.stack_size_bytes);
  th_frame_put_u32(report.static_ram_bytes);
  th_frame_put_u32(report.arena_guard_bytes);
  th_frame_put_u32(report.stack_guard_bytes);
  th_frame_put_u32(report.persistent_used_bytes);
  th_frame_put_u32(report.engine_arena_used_bytes);
  th_frame_end();
}

/* The SAMPLE frame of the last inference (output_buf and the layer stamps still hold it). */
static void send_sample(void) {
  const uint16_t n_counts = last_sample.per_layer ? (uint16_t)th_model.n_layers : 0;
  th_frame_begin(TH_MSG_SAMPLE, cur_seq, (uint16_t)(4 + 8 + 8 + 2 + 8u * n_counts + th_model.output_bytes));
  th_frame_put_u32(last_sample.index);
  th_frame_put_u64(last_sample.count);
  th_frame_put_u64(last_sample.profiled);
  th_frame_put_u16(n_counts);
  for (uint16_t i = 0; i < n_counts; i++) th_frame_put_u64(layer_times.stamps[i + 1] - layer_times.stamps[i]);
  th_frame_put(output_buf, th_model.output_bytes);
  th_frame_end();
}

/* One inference, streamed back as a SAMPLE frame. The whole-model count always comes from an
 * unhooked pass, so the profiler never sits inside the figure a paper quotes; per-layer counts come
 * from a second, hooked pass over the same input (its own total is sent too, to show the hooks' cost). */
static void run_one(uint32_t index, const void *input, int per_layer) {
  th_timer_sync();
  const uint64_t start = th_timer_now();
  th_model_invoke(input, output_buf, 0, 0);
  const uint64_t end = th_timer_now();
  uint64_t profiled = 0;
  if (per_layer) {
    th_timer_sync();
    const uint64_t hooked_start = th_timer_now();
    th_model_invoke(input, output_buf, stamp_layer, &layer_times);
    profiled = th_timer_now() - hooked_start;
  }
  last_sample.index = index;
  last_sample.count = end - start;
  last_sample.profiled = profiled;
  last_sample.per_layer = per_layer;
  send_sample();
}

static void run_flash(const uint8_t *payload, uint16_t len) {
  if (len != 9) {
    th_send_error(cur_seq, TH_ERR_BAD_LENGTH, "RUN_FLASH takes u32 start, u32 count, u8 flags");
    return;
  }
  const uint32_t start = get_u32(payload), count = get_u32(payload + 4);
  const int per_layer = payload[8] & TH_FLAG_PER_LAYER;
  if (start > th_data_count || count > th_data_count - start) {
    th_send_error(cur_seq, TH_ERR_OUT_OF_RANGE, "sample range beyond th_data_count");
    return;
  }
  if (!check_buffers()) return;
  for (uint32_t i = start; i < start + count; i++) {
    run_one(i, th_data_inputs + (size_t)i * th_model.input_bytes, per_layer);
  }
  th_frame_begin(TH_MSG_RUN_DONE, cur_seq, 8);
  th_frame_put_u32(start);
  th_frame_put_u32(count);
  th_frame_end();
}

static void run_input(uint8_t *payload, uint16_t len, uint8_t *aligned) {
  if (len != 1u + th_model.input_bytes) {
    th_send_error(cur_seq, TH_ERR_BAD_LENGTH, "RUN_INPUT takes u8 flags and exactly input_bytes of input");
    return;
  }
  if (!check_buffers()) return;
  /* Move the input to the (16-byte aligned) start of the receive buffer, as kernels may expect. */
  const int per_layer = payload[0] & TH_FLAG_PER_LAYER;
  memmove(aligned, payload + 1, th_model.input_bytes);
  run_one(TH_INDEX_HOST_INPUT, aligned, per_layer);
}

static void execute(uint8_t type, uint8_t *payload, uint16_t len, uint8_t *aligned) {
  switch (type) {
    case TH_CMD_IDENTIFY:
      send_identity();
      break;
    case TH_CMD_MODEL_INFO:
      send_model_info();
      break;
    case TH_CMD_LAYER_INFO:
      send_layer(payload, len);
      break;
    case TH_CMD_MEASURE_MEMORY:
      send_memory();
      break;
    case TH_CMD_RUN_FLASH:
      run_flash(payload, len);
      break;
    case TH_CMD_RUN_INPUT:
      run_input(payload, len, aligned);
      break;
    default:
      th_send_error(cur_seq, TH_ERR_UNKNOWN_COMMAND, "unknown command type");
  }
}

/* Answer a repeat of the last request: the frame already sent when it was kept, else the same
 * reply rebuilt from state (RUN_INPUT: the stored result) or, for the pure queries whose reply
 * may be too long to keep (IDENTIFY, MODEL_INFO, LAYER_INFO), by asking again. Nothing is re-run. */
static void replay(uint8_t type, uint8_t *payload, uint16_t len, uint8_t *aligned) {
  size_t n;
  const uint8_t *frame = th_last_frame(&n);
  if (n) {
    th_uart_write(frame, n);
  } else if (type == TH_CMD_RUN_INPUT) {
    send_sample();
  } else {
    execute(type, payload, len, aligned);
  }
}

void th_handle_command(uint8_t type, uint8_t seq, uint8_t *payload, uint16_t len, uint8_t *aligned_scratch) {
  const uint32_t crc = th_crc32_update(0, payload, len);
  cur_seq = seq;
  th_send_ack(seq, type);
  /* IDENTIFY starts a session: always answered afresh, and it forgets the last request. */
  if (type != TH_CMD_IDENTIFY && last_request.valid && last_request.type == type && last_request.seq == seq &&
      last_request.crc == crc) {
    replay(type, payload, len, aligned_scratch);
    return;
  }
  last_request.valid = 0;
  execute(type, payload, len, aligned_scratch);
  last_request.valid = type != TH_CMD_IDENTIFY;
  last_request.type = type;
  last_request.seq = seq;
  last_request.crc = crc;
}

int32_t th_command_max_payload(uint8_t type) {
  switch (type) {
    case TH_CMD_IDENTIFY:
    case TH_CMD_MODEL_INFO:
    case TH_CMD_MEASURE_MEMORY:
      return 0;
    case TH_CMD_LAYER_INFO:
      return 4;
    case TH_CMD_RUN_FLASH:
      return 9;
    case TH_CMD_RUN_INPUT:
      return (int32_t)TH_MAX_PAYLOAD; /* a wrong length is answered (BAD_LENGTH / TOO_LARGE) */
    default:
      return (type & 0x80u) ? -1 : 64; /* an unknown command is answered UNKNOWN_COMMAND */
  }
}

void th_handle_oversized(uint8_t seq) {
  cur_seq = seq;
  last_request.valid = 0;
  th_send_error(seq, TH_ERR_TOO_LARGE, "frame larger than the receive buffer");
}
