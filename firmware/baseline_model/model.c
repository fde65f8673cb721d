/* The harness-baseline model: no layers, one byte in, one byte out. Built once per board (see
 * harness/build/baseline.py), it measures what the harness alone occupies — protocol, commands,
 * timer, startup, buffers, stack — so fit checks before a build add a measured figure, not a guess. */
#include "tinyhil_model.h"

uint8_t th_arena[16 + TH_ARENA_GUARD_BYTES] __attribute__((aligned(16)));

static const th_layer_info th_layers[] = {{"", "", 0}};

const th_model_desc th_model = {
    .name = "harness_baseline",
    .input_bytes = 1,
    .output_bytes = 1,
    .input_dtype = TH_INT8,
    .output_dtype = TH_INT8,
    .arena_bytes = 16,
    .n_layers = 0,
    .layers = th_layers,
    .macs = 0,
};

void th_model_invoke(const void *input, void *output, th_layer_hook hook, void *ctx) {
  *(int8_t *)output = *(const int8_t *)input;
  if (hook) hook(0, ctx);
}
