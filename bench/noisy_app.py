"""The trivial app with side effects, for the observers' benchmark (in its own process).

    python -m bench.noisy_app --log PATH --db PATH [--cpu N]
      POST /sms    appends one log line naming the MessageSid, inserts one SQLite row,
                   answers one <Message>

It does the same work whether twsim observes it or not, so the observers' figure compares
like with like.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

from aiohttp import web

from bench import serving
from bench.app import TWIML


def make_app(log_path: str, db_path: str) -> tuple[web.Application, Callable[[], None]]:
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - the app's log, line-buffered
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE IF NOT EXISTS visits (sid TEXT, phone TEXT)")

    async def sms(request: web.Request) -> web.Response:
        form = await request.post()
        sid, phone = str(form.get("MessageSid", "")), str(form.get("From", ""))
        log.write(f"INFO handled {sid} from {phone}\n")
        db.execute("INSERT INTO visits VALUES (?, ?)", (sid, phone))
        return web.Response(body=TWIML, content_type="text/xml")

    def close() -> None:
        log.close()
        db.close()

    app = web.Application()
    app.router.add_post("/sms", sms)
    return app, close


def starter(log_path: str, db_path: str) -> serving.Start:
    async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
        app, close = make_app(log_path, db_path)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]

        async def cleanup() -> None:
            await runner.cleanup()
            close()

        return f"http://127.0.0.1:{port}", cleanup

    return start


if __name__ == "__main__":
    parser = serving.arguments("A trivial loopback app that logs and writes a row per text.")
    parser.add_argument("--log", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    serving.main(starter(args.log, args.db), args)
