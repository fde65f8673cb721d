/* The TFLM engine: firmware/include/tinyhil_model.h implemented with TensorFlow Lite Micro.
 *
 * The generated model directory (harness/codegen/tflm_model.py) holds the .tflite bytes
 * (th_tflm_model_data, model.c), the th_model descriptor, and tflm_ops.h: the resolver
 * registrations and the two buffer sizes used here.
 *
 * Memory: TFLM gets two buffers through MicroAllocator::Create(persistent, non_persistent).
 * th_arena is the non-persistent one — activations and kernel scratch, the same meaning as the
 * builtin engine's arena — so firmware/src/memory_probe.c may paint it between inferences and
 * measure its high-water mark. The interpreter's persistent state (eval tensors, node data, op data,
 * the memory planner) lives in persistent_arena, which the probe never touches. The interpreter is
 * built on the first th_model_invoke (AllocateTensors then runs under the first memory probe, so
 * its temporary allocations count in the measured high-water mark, as they must fit the arena too).
 *
 * Per-layer timing: TFLM opens one profiler event per operator it invokes (ScopedMicroProfiler in
 * its graph's invoke loop, present unless TF_LITE_STRIP_ERROR_STRINGS is defined). LayerHook calls
 * hook(0) just before Invoke(), hook(i) when top-level event i (operator i) begins, and
 * hook(n_layers) after Invoke() returns.
 * Nested events (ops inside control-flow subgraphs, decompression) are not layers and are skipped.
 *
 * Errors (a registration, the allocator or AllocateTensors failing) print a line
 * "TINYHIL FAULT tflm: <reason>" and stop, like a CPU fault: the harness raises on that line.
 *
 * Build: TFLM itself is a static library built once per (tree, CPU flags) with TFLM's release
 * flags (harness/build/tflm_lib.py); this file is compiled with the same defines. Release builds
 * define TF_LITE_STRIP_ERROR_STRINGS, which removes TFLM's per-operator profiler events: with
 * --per-layer the whole inference then falls in layer 0 (see LayerHook).
 *
 * Memory reported to the harness (firmware/src/memory_probe.c): the painted high-water mark of
 * th_arena (non-persistent), the painted high-water mark of persistent_arena (persistent: painted
 * before the allocator is created, read after AllocateTensors; TFLM fills it from its high end),
 * and TFLM's own arena_used_bytes() (persistent + non-persistent by its accounting), as a check.
 *
 * Run bit-exact against host TFLM with tflite-micro 90b983c: its reference-kernel tree linked as
 * the release library (IC, KWS in QEMU mps2-an386, 8.60 / 16.25 instructions/MAC, as TFLM's own make
 * build); both trees compiled from source in one build before (issue 9). The API used: MicroMutableOpResolver<N>, MicroAllocator::Create with
 * separate persistent and non-persistent arenas, MicroInterpreter(model, resolver, allocator,
 * resource_variables, profiler) taking a MicroProfilerInterface*, input(0)/output(0), Invoke(),
 * arena_used_bytes(), tflite::GetModel. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <new>

#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tflm_ops.h"
#include "tinyhil_model.h"

extern "C" {
#include "board.h" /* th_uart_write, for the failure line */

/* From the generated model.c: the .tflite, read in place. */
extern const uint8_t th_tflm_model_data[];

/* Bytes TFLM reports using in both buffers after AllocateTensors (for a debugger; 0 before). */
uint32_t th_tflm_arena_used_bytes;
}

/* th_arena is declared extern "C" in tinyhil_model.h, so this definition has C linkage. */
uint8_t th_arena[TH_TFLM_ARENA_BYTES + TH_ARENA_GUARD_BYTES] __attribute__((aligned(16)));

namespace {

alignas(16) uint8_t persistent_arena[TH_TFLM_PERSISTENT_BYTES];
constexpr uint8_t kPersistentPaint = 0xA5;
uint32_t persistent_used_bytes = 0;  /* painted high-water mark, from the top of persistent_arena */

using Resolver = tflite::MicroMutableOpResolver<TH_TFLM_OP_COUNT>;

/* Calls the firmware's layer hook when TFLM starts a top-level operator. */
class LayerHook : public tflite::MicroProfilerInterface {
 public:
  /* Layer 0 is stamped here, just before Invoke, so that without profiler events the whole
   * inference still falls in a layer (layer 0). */
  void Start(th_layer_hook hook, void *ctx) {
    hook_ = hook;
    ctx_ = ctx;
    seen_ = 0;
    depth_ = 0;
    if (th_model.n_layers > 0) Call(0);
  }

  /* After Invoke: layers no event was seen for are stamped now (they read as taking no time),
   * then the closing hook(n_layers). */
  void Finish() {
    for (uint32_t layer = seen_ > 1 ? seen_ : 1; layer < th_model.n_layers; layer++) Call(layer);
    Call(th_model.n_layers);
    hook_ = nullptr;
  }

  /* Top-level event k is operator k starting; operator 0 was stamped by Start. */
  uint32_t BeginEvent(const char *tag) override {
    (void)tag;
    if (depth_++ == 0) {
      if (seen_ > 0 && seen_ < th_model.n_layers) Call(seen_);
      seen_++;
    }
    return 0;
  }

  void EndEvent(uint32_t event_handle) override {
    (void)event_handle;
    if (depth_ > 0) depth_--;
  }

  /* The virtual destructor's deleting variant needs an operator delete; nothing is ever deleted. */
  void operator delete(void *) {}

 private:
  void Call(uint32_t layer) {
    if (hook_ != nullptr) hook_(layer, ctx_);
  }

  th_layer_hook hook_ = nullptr;
  void *ctx_ = nullptr;
  uint32_t seen_ = 0;  /* top-level operator events so far in this Invoke */
  uint32_t depth_ = 0; /* open events: > 1 inside an operator (nested subgraph, decompression) */
};

/* Objects are built in place on first use: no global constructors, no heap. */
alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
alignas(LayerHook) uint8_t hook_storage[sizeof(LayerHook)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];

tflite::MicroInterpreter *interpreter = nullptr;
LayerHook *layer_hook = nullptr;
TfLiteTensor *input_tensor = nullptr;
TfLiteTensor *output_tensor = nullptr;

[[noreturn]] void fail(const char *reason) {
  static const char head[] = "\nTINYHIL FAULT tflm: ";
  th_uart_write(head, sizeof(head) - 1);
  th_uart_write(reason, strlen(reason));
  th_uart_write("\n", 1);
  for (;;) {
    __asm volatile("nop");
  }
}

void start_interpreter() {
  const tflite::Model *model = tflite::GetModel(th_tflm_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) fail("the model's schema version is not this TFLM's");

  Resolver *resolver = new (resolver_storage) Resolver();
#define TH_TFLM_ADD_OP(method) \
  if (resolver->method() != kTfLiteOk) fail("op resolver refused " #method);
  TH_TFLM_OPS(TH_TFLM_ADD_OP)
#undef TH_TFLM_ADD_OP

  memset(persistent_arena, kPersistentPaint, sizeof(persistent_arena));
  tflite::MicroAllocator *allocator = tflite::MicroAllocator::Create(
      persistent_arena, sizeof(persistent_arena), th_arena, TH_TFLM_ARENA_BYTES);
  if (allocator == nullptr) fail("MicroAllocator::Create failed (persistent buffer too small)");

  layer_hook = new (hook_storage) LayerHook();
  interpreter = new (interpreter_storage) tflite::MicroInterpreter(model, *resolver, allocator, nullptr, layer_hook);
  if (interpreter->AllocateTensors() != kTfLiteOk) {
    fail("AllocateTensors failed: th_arena or the persistent buffer is too small, or a kernel refused the model");
  }
  input_tensor = interpreter->input(0);
  output_tensor = interpreter->output(0);
  if (input_tensor == nullptr || input_tensor->bytes != th_model.input_bytes) {
    fail("TFLM's input tensor size differs from th_model.input_bytes");
  }
  if (output_tensor == nullptr || output_tensor->bytes != th_model.output_bytes) {
    fail("TFLM's output tensor size differs from th_model.output_bytes");
  }
  th_tflm_arena_used_bytes = (uint32_t)interpreter->arena_used_bytes();
  uint32_t lowest = 0;
  while (lowest < sizeof(persistent_arena) && persistent_arena[lowest] == kPersistentPaint) lowest++;
  persistent_used_bytes = (uint32_t)sizeof(persistent_arena) - lowest;
}

}  // namespace

extern "C" void th_model_invoke(const void *input, void *output, th_layer_hook hook, void *ctx) {
  if (interpreter == nullptr) start_interpreter();
  /* The tensors' data pointers are fixed by the static memory plan; the bytes live in th_arena,
   * which the memory probe may have painted, so the input is copied in every time. */
  memcpy(input_tensor->data.raw, input, th_model.input_bytes);
  layer_hook->Start(hook, ctx);
  if (interpreter->Invoke() != kTfLiteOk) fail("Invoke failed");
  layer_hook->Finish();
  memcpy(output, output_tensor->data.raw, th_model.output_bytes);
}

/* For the memory report (defaults in firmware/src/memory_probe.c, 0 for an engine without them). */
extern "C" uint32_t th_model_persistent_used_bytes(void) { return persistent_used_bytes; }
extern "C" uint32_t th_model_engine_arena_used_bytes(void) { return th_tflm_arena_used_bytes; }

/* TFLM's interfaces are abstract classes: their vtables name this. Linked only if no C++ runtime
 * library provides it (weak). */
extern "C" __attribute__((weak)) void __cxa_pure_virtual(void) { fail("pure virtual call"); }
