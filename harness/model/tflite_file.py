"""Read a .tflite flatbuffer into plain Python data (the `tflite` schema package does the parsing).

Everything downstream (analysis, code generation, fit checks) works on `TfliteModel`, never on
flatbuffer accessors, so the schema details stay in this one module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from harness.errors import ModelFormatError

_DTYPES = {
    tflite.TensorType.FLOAT32: np.dtype(np.float32),
    tflite.TensorType.FLOAT16: np.dtype(np.float16),
    tflite.TensorType.INT32: np.dtype(np.int32),
    tflite.TensorType.UINT8: np.dtype(np.uint8),
    tflite.TensorType.INT64: np.dtype(np.int64),
    tflite.TensorType.BOOL: np.dtype(np.bool_),
    tflite.TensorType.INT16: np.dtype(np.int16),
    tflite.TensorType.INT8: np.dtype(np.int8),
    tflite.TensorType.FLOAT64: np.dtype(np.float64),
    tflite.TensorType.UINT32: np.dtype(np.uint32),
    tflite.TensorType.UINT16: np.dtype(np.uint16),
}

# Option fields stored as enums in the schema, shown by name.
_ENUM_FIELDS = {
    "padding": tflite.Padding,
    "fused_activation_function": tflite.ActivationFunctionType,
    "weights_format": tflite.FullyConnectedOptionsWeightsFormat,
}


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


_OPTION_TYPE_NAMES = _enum_names(tflite.BuiltinOptions)
_ENUM_NAME_MAPS = {key: _enum_names(cls) for key, cls in _ENUM_FIELDS.items()}


@dataclass(frozen=True)
class QuantParams:
    scale: np.ndarray  # float64, one per channel (or one)
    zero_point: np.ndarray  # int64, same length as scale
    axis: int  # quantized dimension for per-channel tensors

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass(frozen=True, eq=False)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    quant: QuantParams | None
    data: np.ndarray | None  # constant contents, shaped; None for activations

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass(frozen=True)
class Operator:
    index: int
    op: str  # builtin op name, e.g. "CONV_2D"; "CUSTOM:<code>" for custom ops
    inputs: tuple[int, ...]  # -1 marks an absent optional input
    outputs: tuple[int, ...]
    options: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class TfliteModel:
    path: Path
    size_bytes: int
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""

    @property
    def name(self) -> str:
        return self.path.stem

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    @property
    def op_names(self) -> list[str]:
        """Distinct op names in execution order of first use."""
        return list(dict.fromkeys(o.op for o in self.operators))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _read_options(op: tflite.Operator) -> dict:
    type_name = _OPTION_TYPE_NAMES.get(op.BuiltinOptionsType())
    table = op.BuiltinOptions()
    if not type_name or type_name == "NONE" or table is None:
        return {}
    cls = getattr(tflite, type_name, None)
    if cls is None:
        return {}
    options = cls()
    options.Init(table.Bytes, table.Pos)
    values = {}
    for attr in dir(cls):
        if attr.startswith(("_", "GetRootAs", "Init")) or attr.endswith(("IsNone", "Length", "BufferHasIdentifier")):
            continue
        method = getattr(options, attr)
        if not callable(method):
            continue
        key = _snake(attr.removesuffix("AsNumpy"))
        try:
            value = method()
        except TypeError:  # accessor that needs an index; the AsNumpy twin covers it
            continue
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif key in _ENUM_NAME_MAPS:
            value = _ENUM_NAME_MAPS[key].get(value, value)
        values[key] = value
    return values


def _read_quant(t: tflite.Tensor) -> QuantParams | None:
    q = t.Quantization()
    if q is None or q.ScaleLength() == 0:
        return None
    scale = np.asarray(q.ScaleAsNumpy(), dtype=np.float64)
    zp = q.ZeroPointAsNumpy()
    zero_point = np.zeros_like(scale, dtype=np.int64) if isinstance(zp, int) else np.asarray(zp, np.int64)
    return QuantParams(scale=scale, zero_point=zero_point, axis=int(q.QuantizedDimension()))


def _read_buffer(raw: bytes, model: tflite.Model, t: tflite.Tensor, dtype, shape) -> np.ndarray | None:
    buf = model.Buffers(t.Buffer())
    if buf is None:
        return None
    if buf.Offset() > 1:  # large models keep buffers after the flatbuffer
        data = np.frombuffer(raw, np.uint8, count=buf.Size(), offset=buf.Offset())
    elif buf.DataLength() > 0:
        data = buf.DataAsNumpy()
    else:
        return None
    values = np.frombuffer(data.tobytes(), dtype=dtype)
    return values.reshape(shape) if values.size == int(np.prod(shape, dtype=np.int64)) else values


def load_tflite(path: str | Path) -> TfliteModel:
    """Parse a .tflite file; raise ModelFormatError, naming the file and the problem, if it is not one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ModelFormatError(f"cannot read model {path}: {e.strerror}") from e
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise ModelFormatError(f"{path} is not a .tflite model (no TFL3 identifier in its header)")
    try:
        return _parse(path, raw)
    except ModelFormatError:
        raise
    except Exception as e:  # flatbuffer accessors fail in many ways on truncated/corrupt data
        raise ModelFormatError(f"{path} is a corrupt .tflite model ({type(e).__name__}: {e})") from e


def _parse(path: Path, raw: bytes) -> TfliteModel:
    model = tflite.Model.GetRootAs(raw, 0)
    if model.SubgraphsLength() < 1:
        raise ModelFormatError(f"{path} has no subgraph")
    graph = model.Subgraphs(0)
    tensors = []
    for i in range(graph.TensorsLength()):
        t = graph.Tensors(i)
        if t.Type() not in _DTYPES:
            raise ModelFormatError(f"{path}: tensor {i} has an unsupported type code {t.Type()}")
        dtype = _DTYPES[t.Type()]
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        tensors.append(
            Tensor(
                index=i,
                name=t.Name().decode(errors="replace") if t.Name() else f"t{i}",
                shape=shape,
                dtype=dtype,
                quant=_read_quant(t),
                data=_read_buffer(raw, model, t, dtype, shape),
            )
        )
    operators = []
    for i in range(graph.OperatorsLength()):
        o = graph.Operators(i)
        code = model.OperatorCodes(o.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = BUILTIN_OPCODE2NAME.get(builtin, f"UNKNOWN_{builtin}")
        if name == "CUSTOM":
            name = f"CUSTOM:{(code.CustomCode() or b'?').decode(errors='replace')}"
        inputs = tuple(int(x) for x in o.InputsAsNumpy()) if o.InputsLength() else ()
        outputs = tuple(int(x) for x in o.OutputsAsNumpy()) if o.OutputsLength() else ()
        for idx in inputs + outputs:
            if idx >= len(tensors):
                raise ModelFormatError(f"{path}: operator {i} ({name}) refers to missing tensor {idx}")
        operators.append(Operator(i, name, inputs, outputs, _read_options(o)))
    return TfliteModel(
        path=path,
        size_bytes=len(raw),
        tensors=tensors,
        operators=operators,
        inputs=tuple(int(x) for x in graph.InputsAsNumpy()),
        outputs=tuple(int(x) for x in graph.OutputsAsNumpy()),
        description=(model.Description() or b"").decode(errors="replace"),
    )
