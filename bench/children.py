"""Starting and stopping the server processes a benchmark measures against."""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from bench.affinity import cores_of

ROOT = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Child:
    """A server process that announced `listening on URL`."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    stderr: IO[bytes]
    cores: list[int] | None = None
    _ps: psutil.Process | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls, module: str, *args: str, core: int | None = None, timeout: float = 60.0
    ) -> Child:
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - open for the child's life; closed in stop()
        command = [sys.executable, "-m", module, *args]
        if core is not None:
            command += ["--cpu", str(core)]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=ROOT,  # `-m bench...` finds the package from here
        )
        assert process.stdout is not None
        line = _readline(process.stdout, timeout)
        if not line.startswith("listening on "):
            process.kill()
            process.wait(10)
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip()[-2000:]
            raise RuntimeError(f"{module} did not start within {timeout:g} s: {line!r} {tail}")
        return cls(
            module,
            process,
            line.removeprefix("listening on "),
            stderr,
            cores_of(process.pid),
            psutil.Process(process.pid),
        )

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process has used so far."""
        assert self._ps is not None
        times = self._ps.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _readline(stream: IO[bytes], timeout: float) -> str:
    """The first line a child prints, or what it printed before `timeout` ran out."""
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
    return buffer.decode(errors="replace").split("\n", 1)[0].strip()
