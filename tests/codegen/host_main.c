/* Host test bench for generated models: `bench IN OUT` reads rows of th_model.input_bytes from IN,
 * runs th_model_invoke on each and writes rows of th_model.output_bytes to OUT.
 * The heavy kernels are intercepted (ld --wrap) to check the arena plan: each call's scratch
 * pointer is set exactly when th_*_scratch_bytes asks for scratch, lies inside th_arena, and does
 * not overlap the layer's input or output, and its size is what the harness planned
 * (th_plan_scratch_bytes, emitted under TH_PLAN_CHECK). Also checks the layer hook order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_kernels.h"
#include "tinyhil_model.h"

static int failures;
static uint32_t next_layer; /* the layer running now is next_layer - 1 (set by the hook) */
extern const uint32_t th_plan_scratch_bytes[];

static void fail(const char *what) {
  fprintf(stderr, "bench: %s\n", what);
  failures++;
}

static int overlaps(const void *a, size_t na, const void *b, size_t nb) {
  const char *pa = a, *pb = b;
  return na && nb && pa < pb + nb && pb < pa + na;
}

static void check_scratch(const th_conv_params *p, int32_t bytes) {
  if ((bytes > 0) != (p->scratch != NULL)) fail("scratch pointer disagrees with the scratch size");
  if (next_layer == 0 || (uint32_t)bytes != th_plan_scratch_bytes[next_layer - 1])
    fail("the kernel needs a different scratch size than the harness planned");
  if (!p->scratch) return;
  const char *s = (const char *)p->scratch;
  if (s < (const char *)th_arena || s + bytes > (const char *)th_arena + th_model.arena_bytes)
    fail("scratch outside the arena");
  if (overlaps(s, (size_t)bytes, p->input, (size_t)(p->in_h * p->in_w * p->in_c)) ||
      overlaps(s, (size_t)bytes, p->output, (size_t)(p->out_h * p->out_w * p->out_c)))
    fail("scratch overlaps the layer's input or output");
}

#define WRAP(kind, T, CONV)                                      \
  void __real_th_##kind(const T *p);                             \
  void __wrap_th_##kind(const T *p) {                            \
    check_scratch(CONV, th_##kind##_scratch_bytes_of(p));        \
    __real_th_##kind(p);                                         \
  }

/* The plan is the optimized build's: a layer the int16 packed or the Winograd layout takes gets
 * that path's scratch, and the reference build (which has neither layout, and reads no scratch) is
 * handed the same. It must be a size scratch.c gives the layer with one of the layouts. */
static int32_t th_ref_conv2d_s8_scratch_bytes_of(const th_conv_params *p) {
  static const uint32_t some_layout[1];
  const th_conv_params packed = {.k_h = p->k_h, .k_w = p->k_w, .in_c = p->in_c, .packed = some_layout};
  const th_conv_params wino = {.in_c = p->in_c, .wino = some_layout};
  const int32_t candidates[2] = {th_conv2d_s8_scratch_bytes(&packed), th_conv2d_s8_scratch_bytes(&wino)};
  for (int32_t i = 0; i < 2 && next_layer > 0; ++i)
    if (th_plan_scratch_bytes[next_layer - 1] == (uint32_t)candidates[i]) return candidates[i];
  return th_conv2d_s8_scratch_bytes(p);
}
#define th_opt_conv2d_s8_scratch_bytes_of th_conv2d_s8_scratch_bytes
#define th_opt_conv2d_s8_winograd_scratch_bytes_of th_conv2d_s8_scratch_bytes
#define th_ref_dwconv_s8_scratch_bytes_of th_dwconv_s8_scratch_bytes
#define th_opt_dwconv_s8_scratch_bytes_of th_dwconv_s8_scratch_bytes

#ifdef TH_KERNELS_REFERENCE
WRAP(ref_conv2d_s8, th_conv_params, p)
WRAP(ref_dwconv_s8, th_dwconv_params, &p->conv)
#else
WRAP(opt_conv2d_s8, th_conv_params, p)
WRAP(opt_conv2d_s8_winograd, th_conv_params, p)
WRAP(opt_dwconv_s8, th_dwconv_params, &p->conv)
#endif

static void hook(uint32_t layer, void *ctx) {
  (void)ctx;
  if (layer != next_layer) fail("layer hook out of order");
  next_layer = layer + 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  if (!in || !out) return 2;
  void *x = malloc(th_model.input_bytes + 1), *y = malloc(th_model.output_bytes + 1);
  while (fread(x, 1, th_model.input_bytes, in) == th_model.input_bytes) {
    memset(y, 0x5a, th_model.output_bytes);
    next_layer = 0;
    th_model_invoke(x, y, hook, NULL);
    if (next_layer != th_model.n_layers + 1) fail("layer hook not called for every layer");
    fwrite(y, 1, th_model.output_bytes, out);
  }
  fclose(in);
  fclose(out);
  return failures ? 1 : 0;
}
