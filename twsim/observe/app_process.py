"""The app under test, run by twsim in its own process: started, waited for, stopped.

Two ways to start one:

    app = await AppProcess.start([python, "app.py", ...])      # ready at "listening on URL"
    app = await AppProcess.run_command("npm start", port=5000)  # ready once the port answers

`run_command` runs a shell command line (`/bin/sh -c`) in a process group of its own,
with `env` added to twsim's environment, and is ready once `host:port` accepts a TCP
connection; if the app exits first, or is not ready within `timeout` seconds, it raises
`RuntimeError` with the end of the app's output. Either way `app.pid` is the process to
observe (its whole tree), `app.url` where it answers, `app.output` the last lines it
printed, and `await app.stop()` ends it (SIGTERM to its group, SIGKILL after `grace`
seconds).
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

OUTPUT_LINES = 50
_POLL_S = 0.05  # how often the app's port is tried while it starts


@dataclass(slots=True)
class AppProcess:
    """An app under test running in its own process."""

    process: asyncio.subprocess.Process
    url: str
    group: bool = False  # whether it leads a process group of its own (stopped as a whole)
    output: deque[str] = field(default_factory=lambda: deque(maxlen=OUTPUT_LINES))
    _drain: asyncio.Task[None] | None = None

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
    async def run_command(
        cls,
        command: str,
        *,
        port: int,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> AppProcess:
        """Run the shell command line `command`; ready once `host:port` accepts connections."""
        process = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        app = cls(process, f"http://{host}:{port}", group=True)
        app._drain = asyncio.get_running_loop().create_task(app._keep_output())
        try:
            await asyncio.wait_for(app._until_ready(host, port), timeout)
        except TimeoutError:
            await app.stop()
            raise RuntimeError(
                f"{command!r} did not answer on {host}:{port} within {timeout:g} s{app._tail()}"
            ) from None
        except RuntimeError:
            await app.stop()
            raise
        return app

    async def _until_ready(self, host: str, port: int) -> None:
        while True:
            if self.process.returncode is not None:
                if self._drain is not None:  # its last words, unless something holds the pipe
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self._drain), 2.0)
                raise RuntimeError(
                    f"the app exited with status {self.process.returncode} before "
                    f"{host}:{port} answered{self._tail()}"
                )
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(_POLL_S)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def _keep_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while line := await stream.readline():
            self.output.append(line.decode("utf-8", "replace").rstrip())

    def _tail(self) -> str:
        lines = list(self.output)[-10:]
        return (":\n  " + "\n  ".join(lines)) if lines else ""

    async def stop(self, grace: float = 10.0) -> None:
        """Ask the app to end (SIGTERM), and make it (SIGKILL) after `grace` seconds."""
        if self.process.returncode is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), grace)
        if self.process.returncode is None:
            self._signal(signal.SIGKILL)
            await self.process.wait()
        if self.group:  # whatever the shell left behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self._drain is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._drain, grace)
            self._drain = None

    def _signal(self, which: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.group:
                os.killpg(self.process.pid, which)
            else:
                self.process.send_signal(which)
