"""Running a command's async work: the fastest event loop available, a tuned collector."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from twsim.cli.errors import Interrupted
from twsim.cli.interrupts import Interrupts
from twsim.server.processes import run_loop

T = TypeVar("T")


def run(work: Coroutine[Any, Any, T], interrupts: Interrupts | None = None) -> T:
    """Run `work` to its end on a new event loop (uvloop where installed).

    With `interrupts`, a run they cancelled (a second Ctrl-C) ends as `Interrupted`.
    """
    try:
        return run_loop(work)
    except asyncio.CancelledError:
        if interrupts is not None and interrupts.forced:
            raise Interrupted("quit at once, before the report") from None
        raise
