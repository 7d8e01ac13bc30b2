"""Running a command's async work: the fastest event loop available, a tuned collector."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from twsim.server.processes import run_loop

T = TypeVar("T")


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end on a new event loop (uvloop where installed)."""
    return run_loop(work)
