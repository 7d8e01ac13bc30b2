"""Helpers for the CLI tests: the CLI as a user runs it, `twsim ...` in its own process, against real loopback apps.

`Command` starts `python -m twsim ARGS` and reads its stderr line by line as it comes, so a
test waits for what the command says (or for what the app saw) before it acts: never for
a length of time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import web

LIMIT_S = 60.0  # a bound for what must happen, generous for a busy 2-core machine


class Command:
    """`twsim ARGS` in a subprocess; its stderr lines collected as they arrive."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []  # stderr
        self.out_lines: list[str] = []  # stdout
        self._changed = asyncio.Condition()
        loop = asyncio.get_running_loop()
        assert process.stderr is not None and process.stdout is not None
        self._reader = loop.create_task(self._read(process.stderr, self.lines))
        self._out_reader = loop.create_task(self._read(process.stdout, self.out_lines))

    @classmethod
    async def start(cls, *args: str | Path, env: dict[str, str] | None = None) -> Command:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "twsim",
            *map(str, args),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader, lines: list[str]) -> None:
        async for raw in stream:
            async with self._changed:
                lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def said(self, text: str, *, stdout: bool = False) -> str:
        """Wait until a line of stderr (or stdout) contains `text`; that line."""
        lines, reader = (self.out_lines, self._out_reader) if stdout else (self.lines, self._reader)

        def found() -> str | None:
            return next((line for line in lines if text in line), None)

        async def wait() -> str:
            async with self._changed:
                while (line := found()) is None:
                    if reader.done():
                        pytest.fail(f"twsim ended without saying {text!r}: {self.stderr()}")
                    await self._changed.wait()
                return line

        return await asyncio.wait_for(wait(), LIMIT_S)

    def send_signal(self, sig: int = signal.SIGINT) -> None:
        self.process.send_signal(sig)

    async def finish(self) -> tuple[int, str, str]:
        """Wait for the end: (exit status, stdout, stderr)."""
        try:
            code = await asyncio.wait_for(self.process.wait(), LIMIT_S)
            await asyncio.wait_for(asyncio.gather(self._reader, self._out_reader), LIMIT_S)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        return code, "\n".join(self.out_lines), self.stderr()

    def stderr(self) -> str:
        return "\n".join(self.lines)


class CountingApp:
    """An SMS webhook that answers "Invalid code, try again" and counts what it was sent.

    `held` makes it keep every answer until `release()`, so webhooks stay in flight.
    """

    def __init__(self) -> None:
        self.webhooks = 0
        self.held = False
        self._changed = asyncio.Condition()
        self._release = asyncio.Event()
        self.url = ""

    async def sms(self, request: web.Request) -> web.Response:
        await request.post()
        async with self._changed:
            self.webhooks += 1
            self._changed.notify_all()
        if self.held:
            await self._release.wait()
        return web.Response(
            text="<Response><Message>Invalid code, try again</Message></Response>",
            content_type="text/xml",
        )

    def release(self) -> None:
        self._release.set()

    async def seen(self, count: int) -> None:
        """Wait until the app has been sent `count` webhooks."""

        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.webhooks >= count)

        await asyncio.wait_for(wait(), LIMIT_S)


def slow_scenario(path: Path, students: int = 200, rate: float = 5.0) -> Path:
    """A scenario whose first texts alone take students/rate seconds: time to interrupt it."""
    data = {
        "name": "slow-class",
        "seed": 3,
        "population": {"size": students},
        "texts": {"bodies": [{"body": "CS1O1", "weight": 1}]},
        "arrival": {"kind": "constant", "rate": rate},
        "students": {
            "retry_when": "invalid|try again",
            "retry_probability": 0.0,
            "max_retries": 0,
            "delay_s": [0.1, 0.2],
        },
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
