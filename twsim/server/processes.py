"""How commands run their async work: the fastest event loop available, a tuned collector,
and how many worker processes a machine can give a run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from twsim.server.simulator import tune_gc

try:
    import uvloop
except ImportError:  # optional (the `fast` extra): the standard loop does the same work
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")


def run_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end on a new event loop (uvloop where installed)."""
    tune_gc()
    if uvloop is not None:
        result: T = uvloop.run(work)
        return result
    return asyncio.run(work)


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_workers(app_cores: int) -> int:
    """This machine's cores less the ones kept for the app under test (at least one)."""
    return max(1, usable_cores() - app_cores)
