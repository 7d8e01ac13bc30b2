"""The event loop every benchmark side runs on: uvloop where installed (as `twsim` uses)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on a fresh loop, with the collector tuned as the `twsim` command tunes it
    (which also collects what earlier runs left behind, so their garbage does not land in
    this run's measurement)."""
    from twsim.server.simulator import tune_gc

    gc.unfreeze()
    tune_gc()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)
