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
    """Run `work` on a fresh loop, after collecting what earlier runs left behind (so a
    collection of their garbage does not land in this run's measurement)."""
    gc.collect()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)
