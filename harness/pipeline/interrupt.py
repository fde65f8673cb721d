"""Stopping runs that other threads are running: a sweep's Ctrl-C, locally (`--jobs N`) and on a Dask
worker. The run's thread gets `Interrupted` asynchronously — its Python code, which polls its emulator
or board every few tens of ms, sees it at once; a blocking call (a build in its own process group)
when it returns — and run_bench stores the run as `interrupted` with what it measured."""

from __future__ import annotations

import ctypes
from collections.abc import Iterable

from harness.errors import Interrupted


def interruption(reason: str) -> type[Interrupted]:
    """An `Interrupted` that carries `reason` however Python instantiates it (an asynchronous
    exception is raised by type): the row reads as a local interrupted run's."""
    return type("Interrupted", (Interrupted,), {"__init__": lambda self, *_: Interrupted.__init__(self, reason)})


def raise_in_threads(threads: Iterable[int], exc: type[BaseException]) -> list[int]:
    """Raise `exc` in each thread (by `threading.get_ident()`); the ones it was raised in."""
    return [t for t in threads
            if ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t), ctypes.py_object(exc)) == 1]
