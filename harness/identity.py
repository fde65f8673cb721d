"""Identity by content: a run and a build are named by hashes of what they are made of, never by
file names, so two different models called `m.tflite` stay apart and the same model run twice is
recognised as the same run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ID_HEX_DIGITS = 16


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def samples_sha256(x: np.ndarray) -> str:
    """Hash of the samples as sent: dtype, shape and bytes (the same values in another dtype differ)."""
    x = np.ascontiguousarray(x)
    digest = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
    digest.update(x.tobytes())
    return digest.hexdigest()


def short_hash(facts: dict) -> str:
    """A stable id for a dict of facts (sorted JSON, sha256, 16 hex digits)."""
    text = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:ID_HEX_DIGITS]


def run_id(*, model_sha256: str, board: str, target: str, engine: str, kernels: str, input_sha256: str,
           samples: int, per_layer: bool, board_sha256: str | None = None, protocol: str = "tinyhil",
           mlperf_window: tuple[int, int] = (1, 0), optimize: str | None = "speed") -> str:
    facts = dict(model=model_sha256, board=board, target=target, engine=engine, kernels=kernels,
                 inputs=input_sha256, samples=samples, per_layer=bool(per_layer))
    if board_sha256 is not None:
        facts["board_file"] = board_sha256
    if protocol != "tinyhil":  # only then, so the run ids of framed-protocol runs stay what they were
        facts.update(protocol=protocol, window=list(mlperf_window))
    if optimize not in (None, "speed"):  # likewise: the builtin engine's default weight layouts
        facts["optimize"] = optimize
    return short_hash(facts)


def tree_sha256(paths: Iterable[Path], root: Path) -> str:
    """Hash of files' relative names and contents (directories expand to every file in them)."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif path.is_file():
            files.append(path)
    for path in sorted(set(files)):
        name = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(str(name).encode() + b"\0")
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()
