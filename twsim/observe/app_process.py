"""The app under test, run by twsim in its own process: started, waited for, stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class AppProcess:
    """An app under test running in its own process."""

    process: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, argv: Sequence[str], *, timeout: float = 30.0) -> AppProcess:
        """Start `argv`; ready once it prints `listening on URL` as its first line."""
        name = Path(argv[0]).name if len(argv) == 1 else Path(argv[1]).name
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError:
            process.kill()
            raise RuntimeError(f"{name} did not start within {timeout:g} s") from None
        text = line.decode().strip()
        if not text.startswith("listening on "):
            _, err = await process.communicate()
            raise RuntimeError(f"{name} failed to start: {err.decode().strip()[-500:]}")
        return cls(process, text.removeprefix("listening on "))

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 10)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
