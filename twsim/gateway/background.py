"""The gateway's background work (webhooks, lifecycles, callbacks), so callers can wait
until it is quiet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Background:
    """Tasks and plain calls started for later; `quiet()` waits until none is left."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._soon = 0
        self._quiet: asyncio.Event | None = None

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        if self._quiet is not None:
            self._quiet.clear()
        task.add_done_callback(self._finished)
        return task

    def soon(self, work: Callable[..., None], *args: Any) -> None:
        """Run plain `work(*args)` on the next loop turn: a Task's cost without a Task."""
        self._soon += 1
        asyncio.get_running_loop().call_soon(self._run_soon, work, args)

    def _run_soon(self, work: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            work(*args)
        except Exception as exc:
            self._report(exc)
        finally:
            self._soon -= 1
            self._check_quiet()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._report(task.exception())
        self._check_quiet()

    @staticmethod
    def _report(exc: BaseException | None) -> None:
        asyncio.get_running_loop().call_exception_handler(
            {"message": "twsim background work failed", "exception": exc}
        )

    def _check_quiet(self) -> None:
        if not self._tasks and not self._soon and self._quiet is not None:
            self._quiet.set()

    @property
    def busy(self) -> int:
        """Work still running."""
        return len(self._tasks) + self._soon

    async def quiet(self, timeout: float | None = None) -> None:
        """Wait until nothing is running (TimeoutError after `timeout` seconds)."""
        while self.busy:
            if self._quiet is None:
                self._quiet = asyncio.Event()
            self._quiet.clear()
            await asyncio.wait_for(self._quiet.wait(), timeout)
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Cancel every task and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
