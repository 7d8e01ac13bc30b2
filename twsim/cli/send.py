"""`twsim send`: one inbound text into a running gateway, as a phone would send it."""

from __future__ import annotations

import argparse
import json
from typing import Any

import aiohttp

from twsim.cli import options
from twsim.cli.errors import CliError
from twsim.cli.running import run as run_async


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="text one of the gateway's numbers as a phone would",
        description="Inject one inbound SMS into a running gateway.",
    )
    parser.set_defaults(handler=run)
    parser.add_argument("--to", required=True, metavar="NUMBER", help="the gateway number to text")
    parser.add_argument(
        "--from", dest="from_", required=True, metavar="PHONE", help="the sending phone, E.164"
    )
    parser.add_argument("--body", default="", help="the text")
    parser.add_argument(
        "--media", action="append", metavar="URL", help="a media URL (repeat for more, up to 10)"
    )
    parser.add_argument(
        "--sim",
        default=options.DEFAULT_SIM,
        metavar="URL",
        help=f"the gateway (default {options.DEFAULT_SIM})",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for the webhook and show the replies"
    )
    parser.add_argument("--json", action="store_true", help="print the gateway's JSON answer")


def run(args: argparse.Namespace) -> int:
    async def send() -> tuple[int, dict[str, Any]]:
        data = {"From": args.from_, "To": args.to, "Body": args.body, "MediaUrl": args.media or []}
        url = f"{args.sim.rstrip('/')}/_twsim/inbound"
        params = {"wait": "1"} if args.wait else {}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, json=data, params=params) as response,
            ):
                return response.status, await response.json()
        except aiohttp.ClientError as exc:
            raise CliError(f"cannot reach twsim at {args.sim}: {exc}", code=1) from None

    status, body = run_async(send())
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(describe(status, body))
    return 0 if status < 400 else 1


def describe(status: int, body: dict[str, Any]) -> str:
    """The gateway's answer to an inbound text, as lines for a terminal."""
    if status >= 400:
        return f"rejected: {body.get('code')} {body.get('message')}"
    inbound = body["inbound"]
    lines = [
        f"{inbound['sid']}  {inbound['from']} -> {inbound['to']}  {inbound['num_segments']} segment(s)  received"
    ]
    for attempt in body.get("webhook", []):
        outcome = f"HTTP {attempt['http_status']}" if attempt["http_status"] else "no response"
        error = f"  error {attempt['error_code']}" if attempt["error_code"] else ""
        lines.append(
            f"  webhook {attempt['kind']:8} {attempt['method']} {attempt['url']}  {outcome}  {attempt['latency_ms']:.1f} ms  answer: {attempt['answer']}{error}"
        )
    for reply in body.get("replies", []):
        lines.append(f"  reply   {reply['sid']}  -> {reply['to']}: {reply['body']!r}")
    for sent in body.get("rest_sends", []):
        lines.append(f"  REST    {sent['sid']}  -> {sent['to']}: {sent['body']!r}")
    for problem in body.get("problems", []):
        kind = "error  " if problem.get("fatal", True) else "warning"
        lines.append(f"  {kind} {problem['code']} {problem['message']}  ({problem['more_info']})")
    if not body.get("problems"):
        for code in body.get("warnings", []):
            lines.append(f"  warning {code}")
    if "webhook" not in body:
        lines.append("  queued for delivery (use --wait to see the app's answer)")
    return "\n".join(lines)
