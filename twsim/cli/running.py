"""Running a command's async work: the fastest event loop available, a tuned collector."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from twsim.server.simulator import tune_gc

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # optional (the `fast` extra); the standard loop does the same work
    uvloop = None


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end on a new event loop (uvloop where installed)."""
    tune_gc()
    if uvloop is not None:
        return uvloop.run(work)  # type: ignore[no-any-return]
    return asyncio.run(work)
