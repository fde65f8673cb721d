"""Static arena plan: place buffers with known lifetimes at fixed offsets.

Greedy by size, largest first; each buffer goes at the lowest 16-byte aligned offset where it
overlaps no already-placed buffer that is alive at the same time (the scheme of TFLM's greedy
planner, so the comparison with its arena is like for like). Lifetimes are inclusive layer
ranges: a layer's inputs, outputs and scratch are all alive during it.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGN = 16


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class Request:
    key: object  # tensor index or ("scratch", layer)
    size: int
    first: int  # first layer it is alive in
    last: int  # last layer it is alive in


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict  # key -> byte offset
    size: int  # bytes, 16-byte aligned


def plan_arena(requests: list[Request]) -> ArenaPlan:
    placed: list[tuple[int, int, Request]] = []  # (offset, end, request)
    offsets = {}
    order = sorted(requests, key=lambda r: (-r.size, r.first, str(r.key)))
    for req in order:
        if req.size == 0:
            offsets[req.key] = 0
            continue
        busy = sorted((o, e) for o, e, r in placed if r.first <= req.last and req.first <= r.last)
        offset = 0
        for start, end in busy:
            if offset + req.size <= start:
                break
            offset = max(offset, _align(end))
        offsets[req.key] = offset
        placed.append((offset, offset + req.size, req))
    size = _align(max((e for _, e, _ in placed), default=0))
    return ArenaPlan(offsets=offsets, size=size)
