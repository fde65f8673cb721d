"""The TFLM engine's generated model: the .tflite itself in flash, plus what the adapter needs.

    check_tflm_supported(model)                        -> None, or raises TflmUnsupportedOpsError
    resolver_methods(model)                            -> ("AddConv2D", ...) in order of first use
    generate_tflm(model, out_dir, inputs, name=...)    -> TflmGeneratedModel

out_dir gets three files, read by firmware/engine_tflm/tflm_adapter.cc:
* model.c: the flatbuffer as a 16-byte aligned const array (TFLM reads it in place), and the
  `th_model` descriptor of firmware/include/tinyhil_model.h (one layer per operator of subgraph 0);
* tflm_ops.h: the MicroMutableOpResolver registrations the model needs (an X-macro) and the two
  arena sizes the adapter reserves statically;
* data.c: the bundled test inputs, written by the builtin engine's writer.

Arena: the adapter gives TFLM two buffers. `th_arena` (th_model.arena_bytes) is the non-persistent
part only — activations and kernel scratch, the same meaning as the builtin engine's arena, so the
firmware's paint-and-measure probe may overwrite it between inferences. The persistent part
(interpreter structs, op data) is a separate static buffer the probe never touches.
Both are sized from host TFLM's RecordingMicroAllocator figures with margins (below): the host is
64-bit (bigger persistent structs) and runs reference kernels, while the device build uses CMSIS-NN
kernels, whose scratch buffers the host never requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.codegen import GeneratedModel, LayerInfo, _check_inputs
from harness.codegen.emit import DTYPE_CODES, c_string, output_quant_fields, render_data_c
from harness.errors import UnsupportedOpsError
from harness.model import Operator, TfliteModel, layer_macs

# tflite BuiltinOperator name -> tflite::MicroMutableOpResolver method (TFLM's micro_mutable_op_resolver.h).
# Custom ops TFLM ships are keyed "CUSTOM:<name>", as harness.model names them.
TFLM_RESOLVER_METHODS = {
    "ABS": "AddAbs", "ADD": "AddAdd", "ADD_N": "AddAddN", "ARG_MAX": "AddArgMax", "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable", "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul", "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs", "BROADCAST_TO": "AddBroadcastTo", "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast", "CEIL": "AddCeil", "CONCATENATION": "AddConcatenation", "CONV_2D": "AddConv2D",
    "COS": "AddCos", "CUMSUM": "AddCumSum", "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "DEQUANTIZE": "AddDequantize", "DIV": "AddDiv",
    "DYNAMIC_UPDATE_SLICE": "AddDynamicUpdateSlice", "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup", "EQUAL": "AddEqual", "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims", "FILL": "AddFill", "FLOOR": "AddFloor", "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod", "FULLY_CONNECTED": "AddFullyConnected", "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd", "GREATER": "AddGreater", "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish", "IF": "AddIf", "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D", "LEAKY_RELU": "AddLeakyRelu", "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual", "LOG": "AddLog", "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot", "LOGICAL_OR": "AddLogicalOr", "LOGISTIC": "AddLogistic",
    "LOG_SOFTMAX": "AddLogSoftmax", "MAXIMUM": "AddMaximum", "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean", "MINIMUM": "AddMinimum", "MIRROR_PAD": "AddMirrorPad", "MUL": "AddMul",
    "NEG": "AddNeg", "NOT_EQUAL": "AddNotEqual", "PACK": "AddPack", "PAD": "AddPad", "PADV2": "AddPadV2",
    "PRELU": "AddPrelu", "QUANTIZE": "AddQuantize", "READ_VARIABLE": "AddReadVariable",
    "REDUCE_MAX": "AddReduceMax", "REDUCE_MIN": "AddReduceMin", "RELU": "AddRelu", "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape", "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor", "REVERSE_V2": "AddReverseV2",
    "ROUND": "AddRound", "RSQRT": "AddRsqrt", "SELECT_V2": "AddSelectV2", "SHAPE": "AddShape",
    "SIN": "AddSin", "SLICE": "AddSlice", "SOFTMAX": "AddSoftmax", "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth", "SPLIT": "AddSplit", "SPLIT_V": "AddSplitV", "SQRT": "AddSqrt",
    "SQUARE": "AddSquare", "SQUARED_DIFFERENCE": "AddSquaredDifference", "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice", "SUB": "AddSub", "SUM": "AddSum", "SVDF": "AddSvdf",
    "TANH": "AddTanh", "TRANSPOSE": "AddTranspose", "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM", "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle", "WHILE": "AddWhile", "ZEROS_LIKE": "AddZerosLike",
    "CUSTOM:TFLite_Detection_PostProcess": "AddDetectionPostprocess",
    "CUSTOM:CIRCULAR_BUFFER": "AddCircularBuffer",
}  # fmt: skip

ALIGN = 16
HEAD_SLACK_BYTES = 1024  # alignment of each planned buffer and Prepare's temporary allocations
PERSISTENT_SLACK_BYTES = 1024


class TflmUnsupportedOpsError(UnsupportedOpsError):
    """The model holds ops TensorFlow Lite Micro has no kernel (resolver registration) for."""

    def __init__(self, ops: list[str]):
        super().__init__(ops)
        self.args = (f"TFLM has no kernel for: {', '.join(self.ops)}",)


@dataclass(frozen=True)
class TflmGeneratedModel(GeneratedModel):
    persistent_bytes: int  # the adapter's second buffer: TFLM's persistent ("tail") allocations
    resolver_methods: tuple[str, ...]  # MicroMutableOpResolver calls, in tflm_ops.h

    @property
    def ops_h(self) -> Path:
        return self.dir / "tflm_ops.h"


def check_tflm_supported(model: TfliteModel) -> None:
    """Raise TflmUnsupportedOpsError naming every op of the model TFLM cannot resolve."""
    missing = [name for name in model.op_names if name not in TFLM_RESOLVER_METHODS]
    if missing:
        raise TflmUnsupportedOpsError(missing)


def resolver_methods(model: TfliteModel) -> tuple[str, ...]:
    """One MicroMutableOpResolver method per distinct op, in order of first use."""
    check_tflm_supported(model)
    return tuple(TFLM_RESOLVER_METHODS[name] for name in model.op_names)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def cmsis_nn_scratch_bytes(model: TfliteModel, op: Operator) -> int:
    """Scratch an int8 op requests from the arena under CMSIS-NN on a Cortex-M4 (DSP extension).

    The *_get_buffer_size figures of CMSIS-NN for cores with DSP and without MVE: an int16 im2col of two
    output pixels for CONV_2D (none for the 1x1 stride-1 unpadded fast path), one int16 window of all
    channels for DEPTHWISE_CONV_2D, one int32 row of channels for AVERAGE_POOL_2D. Other ops: none.
    """
    if op.op not in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D"):
        return 0
    x = model.tensor(op.inputs[0])
    if x.dtype != np.int8 or len(x.shape) != 4:
        return 0
    channels = x.shape[3]
    if op.op == "AVERAGE_POOL_2D":
        return channels * 4
    w = model.tensor(op.inputs[1])
    kh, kw = w.shape[1], w.shape[2]
    if op.op == "DEPTHWISE_CONV_2D":
        return channels * kh * kw * 2
    one_by_one = (kh, kw) == (1, 1) and op.options.get("stride_h", 1) == 1 and op.options.get("stride_w", 1) == 1
    return 0 if one_by_one else 2 * channels * kh * kw * 2


def arena_sizes(model: TfliteModel, head_bytes: int, tail_bytes: int) -> tuple[int, int]:
    """(non-persistent, persistent) bytes to reserve, from host TFLM's head and tail figures.

    Non-persistent: the host's plan plus the largest CMSIS-NN scratch buffer (at most one op's
    scratch is live at a time, next to that op's live activations) plus alignment slack.
    Persistent: the 64-bit host's tail is an upper bound for the 32-bit structs; a quarter more and a
    KiB cover CMSIS-NN's larger per-op data. Margins, not measurements.
    """
    scratch = max((cmsis_nn_scratch_bytes(model, op) for op in model.operators), default=0)
    head = _align(head_bytes + scratch + HEAD_SLACK_BYTES)
    tail = _align(tail_bytes + tail_bytes // 4 + PERSISTENT_SLACK_BYTES)
    return head, tail


def _byte_array(raw: bytes, per_line: int = 20) -> str:
    lines = (", ".join(f"0x{b:02x}" for b in raw[i:i + per_line]) for i in range(0, len(raw), per_line))
    return "  " + ",\n  ".join(lines)


def render_ops_h(methods: tuple[str, ...], head: int, tail: int, model_name: str) -> str:
    entries = " \\\n".join(f"  X({m})" for m in methods)
    return (
        f"/* Generated by harness.codegen.tflm_model from {model_name}: do not edit. */\n"
        "#ifndef TH_TFLM_OPS_H\n#define TH_TFLM_OPS_H\n\n"
        "/* th_arena: TFLM's non-persistent allocations (activations, scratch); what the probe paints. */\n"
        f"#define TH_TFLM_ARENA_BYTES {head}u\n"
        "/* The interpreter's persistent allocations, in a buffer of their own. */\n"
        f"#define TH_TFLM_PERSISTENT_BYTES {tail}u\n\n"
        "/* tflite::MicroMutableOpResolver registrations the model needs, one per distinct op. */\n"
        f"#define TH_TFLM_OP_COUNT {len(methods)}u\n"
        f"#define TH_TFLM_OPS(X) \\\n{entries}\n\n"
        "#endif\n"
    )


def render_model_c(model: TfliteModel, name: str, raw: bytes) -> str:
    tin, tout = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    layers = [f"  {{{c_string(model.tensor(op.outputs[0]).name)}, {c_string(op.op)}, {layer_macs(model, op)}u}},"
              for op in model.operators] or ['  {"", "", 0u},']
    macs = sum(layer_macs(model, op) for op in model.operators)
    return "\n".join([
        f"/* Generated by harness.codegen.tflm_model from {model.path.name}: do not edit.",
        "   The flatbuffer is read in place by TFLM (tflite::GetModel); th_model_invoke is in",
        "   firmware/engine_tflm/tflm_adapter.cc. */",
        "#include <stdint.h>", "",
        '#include "tflm_ops.h"', '#include "tinyhil_model.h"', "",
        f"const uint32_t th_tflm_model_bytes = {len(raw)}u;",
        f"const uint8_t th_tflm_model_data[{len(raw)}] __attribute__((aligned(16))) = {{",
        _byte_array(raw), "};", "",
        "static const th_layer_info th_layers[] = {", *layers, "};", "",
        "const th_model_desc th_model = {",
        f"  .name = {c_string(name)},",
        f"  .input_bytes = {tin.nbytes}u, .output_bytes = {tout.nbytes}u,",
        f"  .input_dtype = {DTYPE_CODES[tin.dtype.name]}, .output_dtype = {DTYPE_CODES[tout.dtype.name]},",
        "  .arena_bytes = TH_TFLM_ARENA_BYTES,",
        f"  .n_layers = {len(model.operators)}u, .layers = th_layers,",
        f"  .macs = {macs}u,",
        output_quant_fields(tout),
        "};", "",
    ])  # fmt: skip


def _check_io(model: TfliteModel) -> None:
    for index in (*model.inputs, *model.outputs):
        dtype = model.tensor(index).dtype.name
        if dtype not in DTYPE_CODES:
            raise TflmUnsupportedOpsError([f"{dtype} graph input/output (the firmware contract has no such dtype)"])
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise TflmUnsupportedOpsError([f"{len(model.inputs)} inputs / {len(model.outputs)} outputs "
                                       "(the adapter copies one of each)"])


def generate_tflm(model: TfliteModel, out_dir: Path, inputs: np.ndarray | None, *, name: str,
                  arena=None) -> TflmGeneratedModel:
    """Write out_dir/model.c, tflm_ops.h and data.c for running `model` under TFLM.

    `arena`: host TFLM's figures (harness.reference.TflmArena); measured here when None.
    """
    methods = resolver_methods(model)
    _check_io(model)
    _check_inputs(model, inputs)
    if arena is None:
        from harness.reference import tflm_arena

        arena = tflm_arena(model.path)
    head, tail = arena_sizes(model, arena.head_bytes, arena.tail_bytes)
    raw = model.path.read_bytes()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tflm_ops.h").write_text(render_ops_h(methods, head, tail, model.path.name))
    (out_dir / "model.c").write_text(render_model_c(model, name, raw))
    (out_dir / "data.c").write_text(render_data_c(inputs))
    tin, tout = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    layers = tuple(LayerInfo(op.index, op.op, model.tensor(op.outputs[0]).name, layer_macs(model, op),
                             cmsis_nn_scratch_bytes(model, op)) for op in model.operators)
    return TflmGeneratedModel(
        dir=out_dir, name=name, arena_bytes=head, n_layers=len(layers), layers=layers,
        macs=sum(layer.macs for layer in layers),
        input_shape=tuple(tin.shape), input_dtype=tin.dtype.name,
        output_shape=tuple(tout.shape), output_dtype=tout.dtype.name,
        input_bytes=tin.nbytes, output_bytes=tout.nbytes,
        weight_bytes=len(raw),
        data_bytes=0 if inputs is None else int(inputs.nbytes),
        n_inputs=0 if inputs is None else int(inputs.shape[0]),
        folded_ops=(), optimize=None, weights_in=None, weight_layout=None,
        persistent_bytes=tail, resolver_methods=methods,
    )  # fmt: skip
