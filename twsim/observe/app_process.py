"""The app under test, run by twsim in its own process: started, waited for, stopped.

Three ways in: `start` for an app that says `listening on URL` (the shipped demo app),
`start_on_port` for an argument vector already told its port, and `run_command` for a
shell command line (`--app-cmd`). The last two read the app's output as it runs (its last
lines kept for error messages, so a chatty app never blocks on a full pipe), wait until
its port accepts connections, and stop its whole process group at the end.
"""

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
_POLL_S = 0.05  # how often the app's port is tried while it starts (it says nothing else)


@dataclass(slots=True)
class AppProcess:
    """An app under test running in its own process."""

    process: asyncio.subprocess.Process
    url: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_LINES))
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    group: bool = False  # started as its own process group: stop signals the whole group

    @property
    def pid(self) -> int:
        return self.process.pid

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
        """Start `argv`, already told its port; ready once `host:port` accepts connections."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # `npm start`, reloaders: their children stop with them
        )
        return await cls._until_listening(process, argv[0], host, port, timeout)

    @classmethod
    async def run_command(
        cls,
        command: str,
        *,
        port: int,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> AppProcess:
        """Run the shell command line `command` (with `env` added to this process's
        environment); ready once `host:port` accepts connections."""
        process = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        return await cls._until_listening(process, repr(command), host, port, timeout)

    @classmethod
    async def _until_listening(
        cls, process: asyncio.subprocess.Process, name: str, host: str, port: int, timeout: float
    ) -> AppProcess:
        app = cls(process, f"http://{host}:{port}", group=True)
        app.readers.append(asyncio.get_running_loop().create_task(app._keep_output()))
        try:
            async with asyncio.timeout(timeout):
                while not await _accepts(host, port):
                    if process.returncode is not None:
                        with contextlib.suppress(TimeoutError):  # its last words, if it can
                            await asyncio.wait_for(asyncio.gather(*app.readers), 2.0)
                        raise RuntimeError(
                            f"{name} exited with status {process.returncode} before "
                            f"{host}:{port} answered:\n{app.tail()}"
                        )
                    await asyncio.sleep(_POLL_S)
        except TimeoutError:
            await app.stop()
            raise RuntimeError(
                f"{name} did not answer on {host}:{port} within {timeout:g} s:\n{app.tail()}"
            ) from None
        except RuntimeError:
            await app.stop()
            raise
        return app

    async def _keep_output(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.output.append(line.decode(errors="replace").rstrip("\n"))

    def tail(self, lines: int = 40) -> str:
        """The app's last lines of output."""
        return "\n".join(list(self.output)[-lines:])

    async def stop(self, grace: float = 10.0) -> None:
        """Ask the app to end (SIGTERM), and make it (SIGKILL) after `grace` seconds."""
        if self.process.returncode is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), grace)
        if self.process.returncode is None:
            self._signal(signal.SIGKILL)
            await self.process.wait()
        if self.group:  # what the app left behind in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for reader in self.readers:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, grace)

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
