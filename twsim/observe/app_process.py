"""The app under test, run by twsim in its own process: started, waited for, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KEPT_LINES = 400  # of an app's output, for the message when something goes wrong


@dataclass(slots=True)
class AppProcess:
    """An app under test running in its own process."""

    process: asyncio.subprocess.Process
    url: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_LINES))
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    group: bool = False  # started as its own process group: stop signals the whole group

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

    @classmethod
    async def start_on_port(
        cls,
        argv: Sequence[str],
        *,
        port: int,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        timeout: float = 60.0,
    ) -> AppProcess:
        """Start `argv`, already told its port; ready once `host:port` accepts connections.

        Its stdout and stderr are read as it runs (the last lines kept in `output`), so a
        chatty app never blocks on a full pipe.
        """
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # `npm start`, reloaders: their children stop with them
        )
        app = cls(process, f"http://{host}:{port}", group=True)
        app.readers.append(asyncio.create_task(app._keep_output()))
        try:
            async with asyncio.timeout(timeout):
                while not await _accepts(host, port):
                    if process.returncode is not None:
                        await asyncio.gather(*app.readers)
                        raise RuntimeError(
                            f"{argv[0]} exited with status {process.returncode} before "
                            f"listening on port {port}:\n{app.tail()}"
                        )
                    await asyncio.sleep(0.05)  # polling the port: the app says nothing else
        except TimeoutError:
            await app.stop()
            raise RuntimeError(
                f"{argv[0]} did not listen on port {port} within {timeout:g} s:\n{app.tail()}"
            ) from None
        return app

    async def _keep_output(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace").rstrip("\n"))

    def tail(self, lines: int = 40) -> str:
        """The app's last lines of output."""
        return "\n".join(list(self.output)[-lines:])

    async def stop(self) -> None:
        if self.process.returncode is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 10)
        if self.process.returncode is None:
            self._signal(signal.SIGKILL)
            await self.process.wait()
        if self.group:  # what the app left behind in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for reader in self.readers:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, 10)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
