/* The contract between the harness's generated model code and the firmware application.
 * harness/codegen writes model.c and data.c that implement it; firmware/src uses it. */
#ifndef TINYHIL_MODEL_H
#define TINYHIL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum th_dtype { TH_INT8 = 1, TH_UINT8 = 2, TH_INT16 = 3, TH_INT32 = 4, TH_FLOAT32 = 5 };

typedef struct {
  const char *name; /* tensor name of the layer's first output */
  const char *op;   /* builtin op name, e.g. "CONV_2D" */
  uint32_t macs;
} th_layer_info;

/* Called before layer `layer` runs and once more with layer == n_layers after the last one. */
typedef void (*th_layer_hook)(uint32_t layer, void *ctx);

typedef struct {
  const char *name;
  uint32_t input_bytes, output_bytes;
  uint8_t input_dtype, output_dtype;
  uint32_t arena_bytes; /* size of th_arena: the static plan (activations + scratch) */
  uint32_t n_layers;
  const th_layer_info *layers;
  uint32_t macs; /* total over layers */
  /* The output's quantization, real = (q - zero_point) * scale; scale 0: not quantized (or not
   * known). The MLPerf Tiny protocol reports dequantized outputs, so the firmware needs it. */
  float output_scale;
  int32_t output_zero_point;
} th_model_desc;

extern const th_model_desc th_model;
/* A guard band past the planned arena: th_arena is th_model.arena_bytes + TH_ARENA_GUARD_BYTES
 * long, so the memory probe sees a write past the plan (an arena overflow) instead of it landing
 * silently in whatever the linker put next. The guard is harness memory, not the model's. */
#define TH_ARENA_GUARD_BYTES 256u
extern uint8_t th_arena[]; /* 16-byte aligned */

void th_model_invoke(const void *input, void *output, th_layer_hook hook, void *ctx);

/* Engine memory outside th_arena, for the memory report; an engine without it leaves them out (weak
 * defaults return 0). Valid after the first th_model_invoke. The bytes of the engine's persistent
 * buffer in use, and the engine's own figure for all arena bytes it uses (TFLM's arena_used_bytes()). */
uint32_t th_model_persistent_used_bytes(void);
uint32_t th_model_engine_arena_used_bytes(void);

/* Test inputs compiled into flash (data.c): th_data_count rows of th_model.input_bytes. */
extern const uint32_t th_data_count;
extern const uint8_t th_data_inputs[];

#ifdef __cplusplus
}
#endif
#endif
