"""`twsim replay`: re-send a recording's inbound texts to the current app."""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiohttp

from twsim.analysis.html import report_document
from twsim.analysis.report import build
from twsim.cli import html_output, options, progress
from twsim.cli.errors import EXIT_RUNTIME, CliError
from twsim.cli.interrupts import Interrupts
from twsim.cli.running import run as run_async
from twsim.cli.verdict import finish_run, read
from twsim.config.models import DEFAULT_PORT, Config, NumberConfig
from twsim.observe.observers import ObserveError
from twsim.recording.importer import guess_number_type
from twsim.recording.journal import RecordingError
from twsim.scenario.replay import inbound_texts
from twsim.scenario.runner import Connection, NoWebhook, ReplayResult, run_replay

UNKNOWN = ("refuse", "add", "send")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-send a recording's inbound texts to the current app",
        description="Replay the inbound texts of a recording with their original relative timing (scaled by --speed); the app produces fresh replies.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("recording", help="a recording (JSONL), e.g. from burst --record or import")
    options.add_config(parser)
    parser.add_argument(
        "--app",
        dest="sms_url",
        metavar="URL",
        help="the app's SMS webhook URL for the in-process gateway",
    )
    options.add_gateway_choice(parser, f"port of the in-process gateway (default {DEFAULT_PORT})")
    options.add_speed(parser, "2 = twice as fast; max = back to back (default 1)")
    parser.add_argument(
        "--to", metavar="NUMBER", help="send every text to this number instead of the recorded one"
    )
    parser.add_argument(
        "--unknown-numbers",
        choices=UNKNOWN,
        default="refuse",
        help="texts recorded to numbers the gateway lacks: refuse to start (default), add "
        "those numbers to it (webhooks to the app), or send them anyway (rejected, 21606)",
    )
    options.add_observe(parser)
    options.add_store_only(parser)
    options.add_record(parser, "record the new run")
    options.add_json(parser, "the report")
    options.add_html(parser)
    options.add_quiet(parser)
    options.add_grace(parser)
    options.add_thresholds(parser)


def _listing(numbers: Iterable[str], limit: int = 3) -> str:
    numbers = sorted(numbers)
    more = len(numbers) - limit
    return ", ".join(numbers[:limit]) + (f" and {more} more" if more > 0 else "")


def _refusal(missing: set[str], where: str) -> CliError:
    return CliError(
        f"the recorded texts go to {_listing(missing)}, which {where} does not have "
        "(every one would be rejected with 21606)",
        hint="--to NUMBER sends them to one it has; --unknown-numbers add adds the recorded "
        "numbers; --unknown-numbers send replays the rejections",
    )


def run(args: argparse.Namespace) -> int:
    recording = read(args.recording, "replay")
    config = options.config(args)
    texts = inbound_texts(recording.events, to=args.to)
    if not texts:
        raise CliError(f"{args.recording} has no inbound texts to replay")
    options.refuse_record_with_sim(args)
    if args.record and Path(args.record).exists() and not args.force:
        raise CliError(f"{args.record} already exists; use --force to overwrite it")
    wanted = {t.to for t in texts}
    if not args.sim:
        missing = wanted - {n.phone_number for n in config.numbers}
        if missing and args.unknown_numbers == "refuse":
            raise _refusal(missing, "this gateway")
        if missing and args.unknown_numbers == "add":
            add_numbers(config, missing)
    speed_text = "max" if args.speed is None else f"{args.speed:g}"
    meta = {
        "replay_of": str(args.recording),
        "speed": speed_text,
        "scenario": recording.header.scenario,
    }
    interrupts = Interrupts("replay", args.grace)

    async def prepare(c: Connection) -> None:
        if c.remote is not None:
            await check_remote_numbers(c.remote.url, config, wanted, args.unknown_numbers)

    async def work() -> ReplayResult:
        async with interrupts.handling() as stop:
            return await run_replay(
                texts,
                speed=args.speed,
                config=config,
                sim_url=args.sim,
                port=args.port,
                record=args.record,
                force=args.force,
                meta=meta,
                watch=progress.watcher(f"replay {Path(args.recording).name}", quiet=args.quiet),
                stop=stop,
                grace_s=args.grace,
                prepare=prepare,
                store_only=args.store_only,
                series=bool(args.html),  # the charts of every event, not only those kept
            )

    try:
        result = run_async(work(), interrupts)
    except NoWebhook as exc:
        raise CliError(str(exc)) from None
    except (RecordingError, ConnectionError, ObserveError) as exc:
        raise CliError(str(exc), code=EXIT_RUNTIME) from None
    title = f"twsim replay: {args.recording} at speed {speed_text}"
    if args.html:
        assert result.figures is not None  # asked for above, with --html
        html_output.save(args.html, report_document(result.figures, title=title))
    report = result.report or build(result.events)  # the gateway's own: exact however long
    return finish_run(report, args, title, result.ending, "replay")


def add_numbers(config: Config, numbers: Iterable[str]) -> None:
    """Give the in-process gateway the recorded numbers, with the first number's webhook."""
    first = config.numbers[0]
    for number in sorted(numbers):
        config.numbers.append(
            NumberConfig(
                phone_number=number,
                account=first.account,
                type=guess_number_type(number),
                sms_url=first.sms_url,
                sms_method=first.sms_method,
            )
        )
    print(f"twsim replay: added {_listing(numbers)} to the gateway", file=sys.stderr)


async def check_remote_numbers(url: str, config: Config, wanted: set[str], unknown: str) -> None:
    """Refuse, add or accept the recorded numbers a running gateway lacks (through its API)."""
    account = config.accounts[0]
    base = f"{url}/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers.json"
    credentials = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(base, params={"PageSize": "1000"}) as r:
            if r.status != 200:
                print(
                    f"twsim replay: note: cannot list the numbers of {url} with account "
                    f"{account.sid} (HTTP {r.status}); texts go to the recorded numbers",
                    file=sys.stderr,
                )
                return
            numbers = (await r.json())["incoming_phone_numbers"]
        missing = wanted - {n["phone_number"] for n in numbers}
        if not missing or unknown == "send":
            return
        if unknown == "refuse":
            raise _refusal(missing, f"the gateway at {url}")
        sms_url = numbers[0]["sms_url"] if numbers else None
        for number in sorted(missing):
            form = {"PhoneNumber": number, **({"SmsUrl": sms_url} if sms_url else {})}
            async with session.post(base, data=form) as r:
                if r.status != 201:
                    raise CliError(
                        f"the gateway at {url} did not add {number}: {await r.text()}",
                        EXIT_RUNTIME,
                    )
    print(f"twsim replay: added {_listing(missing)} to the gateway at {url}", file=sys.stderr)
