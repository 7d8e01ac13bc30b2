"""Cookies: kept per (phone, number) pair like a browser session, forgotten after 4 h idle."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from aiohttp import web
from apps import OTHER_PHONE, PHONE, Hit, TwilioApp, config_for, reply, twiml
from twilio.twiml.messaging_response import MessagingResponse

from twsim.model.clock import ManualClock
from twsim.server.simulator import Simulator

HOUR = 3600.0


def counting_app(app: TwilioApp) -> str:
    """Counts each conversation's texts in a cookie and replies with the count."""

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        visits = int(request.cookies.get("visits", "0")) + 1
        response = twiml(reply(f"visit {visits}"))
        response.set_cookie("visits", str(visits), httponly=True)
        return response

    return app.route("/sms", sms)


def app_cookies(hit: Hit) -> dict[str, str]:
    """The cookies as the app's framework reads them from the Cookie header."""
    jar: SimpleCookie = SimpleCookie()
    jar.load(hit.headers.get("Cookie", ""))
    return {name: morsel.value for name, morsel in jar.items()}


async def visit(sim: Simulator, phone: str) -> str:
    outcome = await sim.send("hi", from_=phone)
    assert outcome.error_code is None
    [message] = outcome.replies
    return message.body


async def test_cookies_are_kept_per_pair_and_forgotten_after_four_idle_hours(
    app: TwilioApp, make_sim: Any
):
    clock = ManualClock()
    sim = await make_sim(config_for(counting_app(app)), clock=clock)

    assert await visit(sim, PHONE) == "visit 1"
    assert "Cookie" not in app.hits[0].headers
    assert await visit(sim, PHONE) == "visit 2"
    assert app.hits[1].headers["Cookie"] == "visits=1"
    assert await visit(sim, OTHER_PHONE) == "visit 1"  # another phone, another session
    assert "Cookie" not in app.hits[2].headers

    await clock.advance(4 * HOUR - 60)  # still within the idle limit
    assert await visit(sim, PHONE) == "visit 3"
    await clock.advance(4 * HOUR - 60)  # the last text restarted the idle timer
    assert await visit(sim, PHONE) == "visit 4"

    await clock.advance(4 * HOUR + 1)
    assert await visit(sim, PHONE) == "visit 1"
    assert "Cookie" not in app.hits[-1].headers
    assert await visit(sim, OTHER_PHONE) == "visit 1"
    assert all(h.valid for h in app.hits)


async def test_cookies_are_kept_per_gateway_number(app: TwilioApp, make_sim: Any):
    url = counting_app(app)
    config = config_for(url)
    config.numbers.append(type(config.numbers[0])(phone_number="+12025550100", sms_url=url))
    sim = await make_sim(config)

    first = await sim.send("hi", from_=PHONE)
    other_number = await sim.send("hi", from_=PHONE, to="+12025550100")
    second = await sim.send("hi", from_=PHONE)

    assert [r.replies[0].body for r in (first, other_number, second)] == [
        "visit 1",
        "visit 1",
        "visit 2",
    ]


async def test_a_cookie_with_max_age_zero_is_dropped(app: TwilioApp, make_sim: Any):
    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        response = twiml(MessagingResponse())
        if hit.get("Body") == "login":
            response.set_cookie("session", "abc")
            response.set_cookie("theme", "dark")
            response.set_cookie("name", "Ann Lee; 3rd")
        elif hit.get("Body") == "logout":
            response.del_cookie("session")
        return response

    url = app.route("/sms", sms)
    sim = await make_sim(config_for(url))

    for body in ("login", "check", "logout", "check"):
        await sim.send(body, from_=PHONE)

    seen = [app_cookies(h) for h in app.hits]
    assert seen[0] == {}
    assert seen[1] == seen[2] == {"session": "abc", "theme": "dark", "name": "Ann Lee; 3rd"}
    assert seen[3] == {"theme": "dark", "name": "Ann Lee; 3rd"}


async def test_cookies_follow_twiml_and_http_redirects_within_one_text(
    app: TwilioApp, make_sim: Any
):
    async def start(request: web.Request, hit: Hit) -> web.StreamResponse:
        response = MessagingResponse()
        response.redirect("/step")
        answer = twiml(response)
        answer.set_cookie("step", "start")
        return answer

    async def step(request: web.Request, hit: Hit) -> web.StreamResponse:
        answer = web.HTTPTemporaryRedirect("/end")
        answer.set_cookie("hop", "step")
        raise answer

    async def end(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(reply(f"{request.cookies.get('step')}/{request.cookies.get('hop')}"))

    url = app.route("/start", start)
    app.route("/step", step)
    app.route("/end", end)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    again = await sim.send("hi", from_=PHONE)

    assert [m.body for m in outcome.replies] == ["start/step"]
    assert [m.body for m in again.replies] == ["start/step"]
    assert app.hits[3].headers["Cookie"] in ("step=start; hop=step", "hop=step; step=start")
    assert all(h.valid for h in app.hits)
