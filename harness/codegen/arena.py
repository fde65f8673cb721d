"""Static arena plan: place buffers with known lifetimes at fixed offsets.

A block is one buffer, or several buffers that must keep fixed offsets from each other (a layer's
output laid over its dying input, see overlap.py); each buffer in it is alive only over its own
layer range, so a block is a shape in (time, address), not a rectangle. First fit: each block goes
at the lowest 16-byte aligned base where none of its buffers meets an already-placed buffer alive
at the same time. Largest-first is TFLM's greedy planner's order; a few other orders are tried too
and the smallest plan is kept.
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
    rel: int = 0  # offset within its block


@dataclass(frozen=True)
class Block:
    members: tuple[Request, ...]

    @property
    def extent(self) -> int:
        return max(m.rel + m.size for m in self.members)

    @property
    def first(self) -> int:
        return min(m.first for m in self.members)

    @property
    def lifetime(self) -> int:
        return max(m.last for m in self.members) - self.first + 1

    @property
    def tag(self) -> str:
        return str(self.members[0].key)


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict  # key -> byte offset
    size: int  # bytes, 16-byte aligned


_ORDERS = (
    lambda b: (-b.extent, b.first, b.tag),  # largest first
    lambda b: (b.first, -b.extent, b.tag),  # in execution order
    lambda b: (-b.lifetime, -b.extent, b.tag),  # longest-lived first
    lambda b: (-b.extent * b.lifetime, b.tag),  # largest area first
)


def plan_arena(blocks: list[Block]) -> ArenaPlan:
    """First-fit placement under a few orders; the smallest plan wins."""
    blocks = [b for b in blocks if b.members]
    return min((_place(sorted(blocks, key=order)) for order in _ORDERS), key=lambda plan: plan.size)


def _fits(base: int, block: Block, placed: list[tuple[int, int, Request]]) -> bool:
    for m in block.members:
        lo, hi = base + m.rel, base + m.rel + m.size
        for start, end, other in placed:
            if other.first <= m.last and m.first <= other.last and start < hi and lo < end:
                return False
    return True


def _place(order: list[Block]) -> ArenaPlan:
    placed: list[tuple[int, int, Request]] = []  # (start, end, buffer)
    offsets = {}
    for block in order:
        live = [m for m in block.members if m.size > 0]
        candidates = {0} | {_align(end - m.rel) for _, end, _ in placed for m in live if end >= m.rel}
        base = next(c for c in sorted(candidates) if _fits(c, Block(tuple(live)), placed))
        for m in block.members:
            offsets[m.key] = base + m.rel
            if m.size > 0:
                placed.append((base + m.rel, base + m.rel + m.size, m))
    size = _align(max((end for _, end, _ in placed), default=0))
    return ArenaPlan(offsets=offsets, size=size)
