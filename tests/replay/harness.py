"""Helpers for the recording and replay tests: apps under test, the CLI, small scenarios.

The apps are real web apps on loopback ports: the shipped attendance app in its own
process, or a small aiohttp app on its own thread (so the synchronous `twsim` CLI, which
runs its own event loop, can call it from a plain test).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from twsim.cli.main import main
from twsim.config.models import DEFAULT_AUTH_TOKEN
from twsim.config.shipped import demo_app

ATTENDANCE = Path(str(demo_app()))
CLASS_CODE = "CS101"
WRONG_CODE = "CS1O1"
INVALID_REPLY = "Invalid code. Please try again."  # what the naive attendance app answers


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Run `twsim ARGS...` in this thread: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def cli_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    """Run `twsim ARGS... --json` and parse what it printed."""
    code, out, err = cli(*args, "--json")
    assert out.strip(), f"twsim {args[0]} printed nothing (exit {code}): {err}"
    return code, json.loads(out)


def write_scenario(path: Path, **sections: Any) -> Path:
    """A small classroom-like scenario YAML: a few students, a wrong code, quick retries."""
    data: dict[str, Any] = {
        "name": "small-class",
        "seed": 11,
        "population": {"size": 10},
        "texts": {
            "bodies": [
                {"body": WRONG_CODE, "weight": 80},
                {"body": CLASS_CODE, "weight": 20},
            ]
        },
        "arrival": {"kind": "flash", "within_s": 0.3},
        "students": {
            "retry_when": "invalid|try again",
            "no_reply_after_s": 1.0,
            "retry_probability": 0.9,
            "max_retries": 2,
            "delay_s": [0.1, 0.25],
        },
    }
    data.update(sections)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class AttendanceProcess:
    """The shipped attendance app (naive or `--fixed`) in its own process."""

    def __init__(
        self, twilio_url: str, workdir: Path, *, fixed: bool = False, timeout: float = 30.0
    ) -> None:
        name = "fixed" if fixed else "naive"
        self.stderr = (workdir / f"{name}.stderr").open("w")
        args = [
            sys.executable,
            str(ATTENDANCE),
            "--twilio-url",
            twilio_url,
            "--db",
            str(workdir / f"{name}.sqlite"),
            "--log",
            str(workdir / f"{name}.log"),
            *(["--fixed"] if fixed else []),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the attendance app did not start: {line!r}")
        self.url = line.removeprefix("listening on ").strip()

    @property
    def sms_url(self) -> str:
        return f"{self.url}/sms"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()


Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


class ThreadedApp:
    """An aiohttp app on its own event loop and thread; checks every Twilio signature.

    `handler(request, form)` answers requests whose `X-Twilio-Signature` the official
    `RequestValidator` accepts; others get 403 and are counted in `invalid`.
    """

    def __init__(self, handler: Handler, auth_token: str = DEFAULT_AUTH_TOKEN) -> None:
        self.handler = handler
        self.validator = RequestValidator(auth_token)
        self.requests = 0
        self.invalid = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests += 1
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.validator.validate(str(request.url), form, signature):
            self.invalid += 1
            return web.Response(status=403, text="bad signature")
        return await self.handler(request, form)

    def __enter__(self) -> ThreadedApp:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._dispatch)

        async def boot() -> web.AppRunner:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            return runner

        self._thread.start()
        self._runner = asyncio.run_coroutine_threadsafe(boot(), self._loop).result(10)
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def twiml(*bodies: str) -> web.Response:
    """A TwiML answer with one `<Message>` per body, made by the official generator."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return web.Response(text=str(response), content_type="text/xml")


def lines_of(path: Path) -> list[dict[str, Any]]:
    """Every line of a recording, parsed as JSON (the header first)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@dataclass(slots=True)
class ClassroomApp:
    """Answers the class code with a check-in and anything else with "invalid".

    It keeps every `X-Twilio-Signature` and `Authorization` header it was sent, so tests
    can look for them where they must not be. Status callbacks (`/status`) get a 204.
    """

    url: str = ""
    signatures: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.signatures.append(request.headers.get("X-Twilio-Signature", ""))
        self.authorizations.append(request.headers.get("Authorization", ""))
        if request.path == "/status":
            return web.Response(status=204)
        body = str(form.get("Body", ""))
        self.bodies.append(body)
        if body.strip().upper() == CLASS_CODE:
            return twiml("Checked in. \u2705")
        return twiml(INVALID_REPLY)
