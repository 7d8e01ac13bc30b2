"""Stopping a run early: no new sends, a short grace for those in flight, then cancel.

A burst, a replay and a load all stop the same way when asked to (an interrupt, or a
gateway that went away): what is planned but not sent is dropped, what is in flight gets
`grace_s` to finish (so its answer and its replies are in the report and the recording),
and whatever is still running after that is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

DEFAULT_GRACE_S = 3.0


async def run_until_stopped(
    work: Coroutine[Any, Any, None],
    stop: asyncio.Event | None,
    halt: Callable[[], None],
    grace_s: float = DEFAULT_GRACE_S,
) -> bool:
    """Run `work` to its end, or until `stop` is set; True when it was stopped early.

    On `stop`, `halt()` is called (it must keep `work` from starting anything new), then
    `work` gets `grace_s` seconds to wind down before it is cancelled.
    """
    task = asyncio.ensure_future(work)
    if stop is None:
        await task
        return False
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task.done():
        task.result()
        return False
    halt()
    done, _ = await asyncio.wait({task}, timeout=grace_s)
    if not done:
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # this run itself is being cancelled (a second interrupt)
    except TimeoutError:
        pass  # the work's own wait for quiet ran out: what finished is what counts
    return True
