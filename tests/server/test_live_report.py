"""The gateway's report covers the whole run however little it keeps in memory.

A gateway that keeps only its latest 40 events and 15 messages answers 120 texts with a
reply each; its `/_twsim/report` must equal the report of the recording (which keeps
everything), total for total, histogram for histogram.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from twsim.analysis import report
from twsim.recording.journal import read_recording


async def test_the_live_report_is_exact_with_a_small_retention(
    make_sim: Any, serve_app: Any, tmp_path: Path
) -> None:
    async def answer(request: web.Request) -> web.Response:
        form = await request.post()
        body = "invalid code" if "bad" in str(form["Body"]) else "welcome"
        return web.Response(
            text=f"<Response><Message>{body}</Message></Response>", content_type="text/xml"
        )

    app = web.Application()
    app.router.add_post("/sms", answer)
    server = await serve_app(app)
    sms_url = f"http://127.0.0.1:{server.port}/sms"
    recording = tmp_path / "run.jsonl"
    sim = await make_sim(
        {
            "retention": {"events": 40, "messages": 15},
            "numbers": [{"phone_number": "+15005550006", "sms_url": sms_url}],
        },
        record=recording,
    )
    for n in range(120):
        await sim.send("bad code" if n % 3 else "CS101", from_=f"+1555000{n % 7:04d}")
    await sim.quiet()
    async with aiohttp.ClientSession() as http, http.get(f"{sim.url}/_twsim/report") as r:
        live = await r.json()
    assert len(sim.events) == 40 and len(sim.gateway.state.messages) == 15
    await sim.stop()

    recorded = report.build(
        [e for e in read_recording(recording).events], prices=sim.gateway.prices
    ).to_json()
    expected = json.loads(json.dumps(recorded))
    live.pop("duration_s")
    expected.pop("duration_s")
    assert live == expected
    assert live["inbound"]["count"] == 120 and live["outbound"]["count"] == 120
    assert live["senders"] == 7


async def test_reset_starts_the_report_over(sim: Any) -> None:
    await sim.send("one", from_="+15551230001")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sim.url}/_twsim/reset"):
            pass
        await sim.send("two", from_="+15551230001")
        async with http.get(f"{sim.url}/_twsim/report") as r:
            after = await r.json()
    assert after["inbound"]["count"] == 1
