"""From a TfliteModel to a program: the run-time layers in order, their storage, the arena plan.

Steps: fold shape/constant ops; turn RESHAPE-like ops into aliases (no copy) unless their output
is a graph output; lower each remaining op to a kernel call; give each activation a storage
place: graph inputs are read where the caller keeps them (flash, for the bundled test data),
graph outputs are written straight into the caller's buffer, everything else lives in the arena
at an offset planned from the layers' lifetimes, scratch included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.codegen import lower_heavy as heavy
from harness.codegen import lower_light as light
from harness.codegen.arena import ArenaPlan, Block, Request, plan_arena
from harness.codegen.context import LayerCode, LowerContext
from harness.codegen.fold import fold, runtime_inputs
from harness.errors import UnsupportedOpsError
from harness.model import TfliteModel

LOWERINGS = {
    "CONV_2D": heavy.lower_conv2d,
    "DEPTHWISE_CONV_2D": heavy.lower_depthwise,
    "FULLY_CONNECTED": heavy.lower_fully_connected,
    "AVERAGE_POOL_2D": light.lower_pool,
    "MAX_POOL_2D": light.lower_pool,
    "ADD": light.lower_binary,
    "MUL": light.lower_binary,
    "MEAN": light.lower_mean,
    "PAD": light.lower_pad,
    "PADV2": light.lower_pad,
    "CONCATENATION": light.lower_concat,
    "SOFTMAX": light.lower_softmax,
    "LOGISTIC": light.lower_logistic,
    "RELU": light.lower_relu,
    "RELU6": light.lower_relu6,
    "QUANTIZE": light.lower_quantize,
    "DEQUANTIZE": light.lower_dequantize,
    "RESHAPE": light.lower_copy,
    "SQUEEZE": light.lower_copy,
    "EXPAND_DIMS": light.lower_copy,
}
ALIAS_OPS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}
SUPPORTED_OPS = frozenset(LOWERINGS)


@dataclass(frozen=True)
class Program:
    model: TfliteModel
    layers: tuple[LayerCode, ...]
    consts: tuple
    arena: ArenaPlan
    storage: dict  # root tensor index -> C expression of its bytes
    aliases: dict  # tensor index -> tensor index it shares bytes with
    folded_ops: tuple[str, ...]
    optimize: str = "speed"  # the weight layouts' trade (context.OPTIMIZE_MODES)
    weights_in: str = "flash"  # where the constants live (placement.WEIGHT_PLACES)

    def root(self, t: int) -> int:
        while t in self.aliases:
            t = self.aliases[t]
        return t

    def resolve(self, code: str, layer: int) -> str:
        """Swap tensor and scratch placeholders for addresses."""
        code = code.replace("__S__", f"(th_arena + {self.arena.offsets.get(('scratch', layer), 0)})")
        return re.sub(r"__T(\d+)__", lambda m: self.storage[self.root(int(m.group(1)))], code)


def _lower_all(model: TfliteModel, optimize: str = "speed", winograd: bool = True):
    graph = fold(model)
    ctx = LowerContext(model, graph.values, optimize, winograd)
    aliases, layers, refused = {}, [], []
    for op in graph.ops:
        if op.op in ALIAS_OPS and op.outputs[0] not in model.outputs:
            aliases[op.outputs[0]] = op.inputs[0]
            continue
        lower = LOWERINGS.get(op.op)
        if lower is None:
            refused.append(op.op)
            continue
        ctx.layer = len(layers)
        try:
            layers.append(lower(ctx, op))
        except UnsupportedOpsError as e:
            refused.extend(e.ops)
    if refused:
        raise UnsupportedOpsError(refused)
    return graph, ctx, aliases, layers


def _overlap_groups(layers, root, first, last, sizes, extend_down: bool, min_saving: float) -> list[dict[int, int]]:
    """Chains of tensors sharing space: a layer's output laid over the input that dies there.

    Each group maps tensor -> offset within the group; the planner moves a group as one block
    while each member keeps its own lifetime. When an output joins, its predecessors are dead, so it may start
    anywhere from the group's bottom up to the highest start the overlap rule allows; it takes the
    bottom. With extend_down False an existing group never grows below its bottom; a merge must
    save at least min_saving of the output's size (small savings can block better ones later).
    """
    groups: list[dict[int, int]] = []
    group_of: dict[int, int] = {}
    for i, layer in enumerate(layers):
        out = root(layer.op.outputs[0])
        if first.get(out) != i:
            continue
        for t, delta in layer.overlap.items():
            src = root(t)
            if src == out or src not in first or last[src] != i:
                continue
            members = groups[group_of[src]] if src in group_of else {src: 0}
            if any(m != src and last[m] >= i for m in members):
                continue  # another member still lives: keep it simple, no sharing
            lo = min(members.values())
            hi = max(rel + sizes[m] for m, rel in members.items())
            highest = members[src] + delta
            if highest >= lo:
                rel_out = lo
            elif extend_down or src not in group_of:
                rel_out = highest
            else:
                continue
            new_lo, new_hi = min(lo, rel_out), max(hi, rel_out + sizes[out])
            if (hi - lo + sizes[out]) - (new_hi - new_lo) <= min_saving * sizes[out]:
                continue  # no saving, or too small a one
            members[out] = rel_out
            for m in members:
                members[m] -= new_lo
            if src not in group_of:
                group_of[src] = len(groups)
                groups.append(members)
            group_of[out] = group_of[src]
            break
    return groups


def _plan(layers, root, first, last, sizes, strategy) -> tuple[ArenaPlan, list[dict[int, int]]]:
    groups = [] if strategy is None else _overlap_groups(layers, root, first, last, sizes, *strategy)
    grouped = {t for members in groups for t in members}
    blocks = [Block((Request(t, sizes[t], first[t], last[t]),)) for t in first if t not in grouped]
    blocks += [Block(tuple(Request(t, sizes[t], first[t], last[t], rel) for t, rel in members.items()))
               for members in groups]
    blocks += [Block((Request(("scratch", i), layer.scratch_bytes, i, i),))
               for i, layer in enumerate(layers) if layer.scratch_bytes]
    return plan_arena(blocks), groups


def check_ops(model: TfliteModel) -> None:
    """Raise UnsupportedOpsError naming every op (and op variant) the engine cannot run."""
    _lower_all(model)


def build_program(model: TfliteModel, optimize: str = "speed", winograd: bool = True) -> Program:
    """The model lowered to kernel calls. `winograd` False: speed mode without the Winograd layouts
    (16/9 the weight bytes of the 3x3 layers they take), for boards whose RAM holds only the rest."""
    graph, ctx, aliases, layers = _lower_all(model, optimize, winograd)

    def root(t: int) -> int:
        while t in aliases:
            t = aliases[t]
        return t

    storage = {}
    offset = 0
    for t in model.inputs:
        storage[t] = f"(in_bytes + {offset})"
        offset += model.tensor(t).nbytes
    offset = 0
    for t in model.outputs:
        if root(t) in storage or root(t) in graph.values:
            raise UnsupportedOpsError([f"graph output {model.tensor(t).name!r} computed by no op"])
        storage[root(t)] = f"(out_bytes + {offset})"
        offset += model.tensor(t).nbytes

    first, last = {}, {}
    for i, layer in enumerate(layers):
        for t in runtime_inputs(layer.op) + list(layer.op.outputs):
            r = root(t)
            if r in graph.values or r in storage:
                continue
            first.setdefault(r, i)
            last[r] = i
    sizes = {t: model.tensor(t).nbytes for t in first}
    # Overlapping is greedy; keep whichever of these layouts needs the least arena.
    strategies = [None] + [(down, saving) for down in (True, False) for saving in (0.0, 0.25, 0.5)]
    plans = [_plan(layers, root, first, last, sizes, strategy) for strategy in strategies]
    arena, groups = min(plans, key=lambda plan: plan[0].size)
    for t in first:
        storage[t] = f"(th_arena + {arena.offsets[t]})"
    return Program(model, tuple(layers), tuple(ctx.consts), arena, storage, aliases,
                   tuple(op.op for op in graph.folded), optimize)
