"""Running a command's async work: the fastest event loop available, a tuned collector."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from twsim.server.simulator import tune_gc

T = TypeVar("T")

_run: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.run
try:
    import uvloop

    _run = uvloop.run
except ImportError:  # optional (the `fast` extra): the standard loop does the same work
    pass


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end on a new event loop (uvloop where installed)."""
    tune_gc()
    result: T = _run(work)
    return result
