"""A Twilio app with side effects, for the side-effect tests: run as its own process.

Per inbound text it writes `--lines` log lines (naming the MessageSid), inserts `--rows`
rows into a SQLite file and `--rows` into PostgreSQL, sends one email through the SMTP
host twsim gives it (TWSIM_SMTP_HOST / TWSIM_SMTP_PORT), and answers with one reply.
It logs, writes and mails nothing else (not even at start), so every figure is exact.
"""

from __future__ import annotations

import argparse
import logging
import os
import smtplib
import sqlite3
from email.message import EmailMessage

import psycopg
from aiohttp import web

log = logging.getLogger("noisy")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--sqlite", required=True)
    parser.add_argument("--pg", required=True)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--rows", type=int, default=2)
    args = parser.parse_args()
    handler = logging.FileHandler(args.log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    lite = sqlite3.connect(args.sqlite)
    lite.execute("CREATE TABLE IF NOT EXISTS visits (sid TEXT, phone TEXT)")
    lite.commit()
    pg = psycopg.connect(args.pg, autocommit=True)
    pg.execute("CREATE TABLE IF NOT EXISTS deliveries (sid text, phone text)")
    smtp = (os.environ["TWSIM_SMTP_HOST"], int(os.environ["TWSIM_SMTP_PORT"]))

    async def sms(request: web.Request) -> web.Response:
        form = await request.post()
        sid, phone = str(form["MessageSid"]), str(form["From"])
        for n in range(args.lines):
            level = logging.ERROR if n == 0 else logging.INFO
            log.log(level, "text %s step %d", sid, n + 1)
        lite.executemany("INSERT INTO visits VALUES (?, ?)", [(sid, phone)] * args.rows)
        lite.commit()
        with pg.cursor() as cursor:
            cursor.executemany("INSERT INTO deliveries VALUES (%s, %s)", [(sid, phone)] * args.rows)
        note = EmailMessage()
        note["From"], note["To"] = "app@school.test", "professor@school.test"
        note["Subject"] = f"Text {sid}"
        note.set_content(f"{phone} texted {form.get('Body', '')!r}.")
        with smtplib.SMTP(*smtp, timeout=30) as client:
            client.send_message(note)
        twiml = "<Response><Message>got it</Message></Response>"
        return web.Response(text=twiml, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/sms", sms)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
