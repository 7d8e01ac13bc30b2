"""Redirects: TwiML `<Redirect>` and HTTP 3xx, each request signed for the URL it goes to."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from apps import PHONE, Hit, TwilioApp, config_for, reply, twiml
from twilio.twiml.messaging_response import MessagingResponse

from twsim.config.models import HttpMethod
from twsim.model.events import TwimlWarning, WebhookAttempt


def redirect_to(target: str, method: str = "POST") -> str:
    response = MessagingResponse()
    response.redirect(target, method=method)
    return str(response)


async def test_relative_redirects_carry_the_original_params_by_post_and_get(
    app: TwilioApp, make_sim: Any
):
    response = MessagingResponse()
    response.message("before")
    response.redirect("step2")  # relative to /flow/start, POST by default
    response.message("unreachable")
    url = app.answer("/flow/start", str(response))
    app.answer("/flow/step2", redirect_to("../final?via=redirect", method="GET"))
    app.answer("/final", reply("after"))
    sim = await make_sim(config_for(url))

    outcome = await sim.send("code 123", from_=PHONE)

    assert outcome.error_code is None
    assert [h.path for h in app.hits] == ["/flow/start", "/flow/step2", "/final"]
    assert [h.method for h in app.hits] == ["POST", "POST", "GET"]
    assert all(h.valid for h in app.hits)
    first = app.hits[0]
    for hit in app.hits[1:]:
        for name in ("MessageSid", "Body", "From", "To", "AccountSid", "NumSegments"):
            assert hit.get(name) == first.get(name), name
    assert app.hits[2].get("via") == "redirect"
    assert [m.body for m in outcome.replies] == ["before", "after"]
    assert [a.kind for a in outcome.attempts] == ["primary", "redirect", "redirect"]
    assert outcome.replies[1].attempt_sid == outcome.attempts[2].sid


async def test_ten_redirects_are_followed_and_the_eleventh_is_error_11215(
    app: TwilioApp, make_sim: Any
):
    async def loop(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(redirect_to("/loop"))

    url = app.route("/loop", loop)
    fallback = app.answer("/fallback", reply("sorry"))
    sim = await make_sim(config_for(url, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert len(app.hits_to("/loop")) == 11  # the first request and 10 redirects
    assert all(h.valid for h in app.hits)
    assert outcome.error_code == 11215
    assert 11215 in outcome.warnings
    [fallback_hit] = app.hits_to("/fallback")
    assert fallback_hit.get("ErrorCode") == "11215"
    assert fallback_hit.get("ErrorUrl") == url
    assert [m.body for m in outcome.replies] == ["sorry"]
    warnings = sim.events.of_type(TwimlWarning)
    assert [e.code for e in warnings] == [11215]


async def test_http_redirects_are_followed_and_signed_for_their_target(
    app: TwilioApp, make_sim: Any
):
    async def moved(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect("/v2/sms?moved=1")

    async def permanent(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/v3/sms")

    async def new_home(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(reply(f"new home got {hit.get('Body')}"))

    url = app.route("/sms", moved)
    app.route("/v2/sms", permanent)
    app.route("/v3/sms", new_home)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hello", from_=PHONE)

    assert [(h.path, h.method, h.valid) for h in app.hits] == [
        ("/sms", "POST", True),
        ("/v2/sms", "POST", True),
        ("/v3/sms", "POST", True),
    ]
    assert app.hits[1].url == app.url("/v2/sms?moved=1")
    assert app.hits[2].get("Body") == "hello"
    tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in app.hits}
    assert len(tokens) == 1  # one webhook request, followed through its redirects
    assert [m.body for m in outcome.replies] == ["new home got hello"]
    assert outcome.error_code is None


async def test_see_other_turns_into_a_signed_get(app: TwilioApp, make_sim: Any):
    async def see_other(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPSeeOther(app.url("/result"))

    url = app.route("/sms", see_other)
    app.answer("/result", reply("done"))
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hello", from_=PHONE)

    assert [(h.path, h.method, h.valid) for h in app.hits] == [
        ("/sms", "POST", True),
        ("/result", "GET", True),
    ]
    assert app.hits[1].get("Body") == "hello"
    assert [m.body for m in outcome.replies] == ["done"]


async def test_more_than_ten_http_redirects_is_error_11215(app: TwilioApp, make_sim: Any):
    async def bounce(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPFound("/sms")

    url = app.route("/sms", bounce)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hello", from_=PHONE)

    assert len(app.hits) == 11
    assert all(h.valid for h in app.hits)
    assert outcome.error_code == 11215
    assert outcome.replies == []
    [attempt] = sim.events.of_type(WebhookAttempt)
    assert attempt.error_code == 11215


async def test_error_url_names_the_redirect_that_failed(app: TwilioApp, make_sim: Any):
    url = app.answer("/sms", redirect_to("/broken"))
    app.answer("/broken", "<Response>", content_type="text/xml")
    fallback = app.answer("/fallback", reply("fallback"))
    sim = await make_sim(config_for(url, sms_fallback_url=fallback))

    outcome = await sim.send("hi", from_=PHONE)

    assert outcome.error_code == 12100
    [fallback_hit] = app.hits_to("/fallback")
    assert fallback_hit.get("ErrorCode") == "12100"
    assert fallback_hit.get("ErrorUrl") == app.url("/broken")


async def test_relative_urls_resolve_against_the_document_after_http_redirects(
    app: TwilioApp, make_sim: Any
):
    async def moved(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect("/v2/sms")

    response = MessagingResponse()
    message = response.message("with media", action="status")
    message.media("img/logo.png")
    url = app.route("/sms", moved)
    app.answer("/v2/sms", str(response))
    app.answer("/v2/status", "", status=204)
    app.file("/v2/img/logo.png", b"\x89PNG not really", "image/png")
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(60)

    [sent] = outcome.replies
    assert [m.url for m in sent.media] == [app.url("/v2/img/logo.png")]
    assert app.file_hits == ["/v2/img/logo.png"]  # fetched before sending, as Twilio does
    assert sent.status_callback == app.url("/v2/status")
    assert [h.get("MessageStatus") for h in app.hits_to("/v2/status")] == ["sent", "delivered"]
    assert all(h.valid for h in app.hits)


async def test_absolute_public_urls_in_twiml_are_dialled_locally(serve_app: Any, make_sim: Any):
    public = "https://sms.example.org/school"
    proxied = await TwilioApp(public_base_url=public).start(serve_app)
    response = MessagingResponse()
    response.redirect(f"{public}/next?step=2", method="GET")
    url = proxied.answer("/sms", str(response))
    proxied.answer("/next", reply("tracked", action=f"{public}/status"))
    proxied.answer("/status", "", status=204)
    config = config_for(url)
    config.webhook.public_base_url = public
    sim = await make_sim(config)

    outcome = await sim.send("hi", from_=PHONE)
    await sim.quiet(60)

    assert [(h.path, h.valid) for h in proxied.hits] == [
        ("/sms", True),
        ("/next", True),
        ("/status", True),
        ("/status", True),
    ]
    assert proxied.hits[1].url.startswith(f"{public}/next?step=2&")
    [sent] = outcome.replies
    assert sent.status_callback == proxied.url("/status")


async def test_get_webhook_redirect_keeps_the_query_the_app_wrote(app: TwilioApp, make_sim: Any):
    async def add_slash(request: web.Request, hit: Hit) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(f"{request.path}/?{request.query_string}")

    async def sms(request: web.Request, hit: Hit) -> web.StreamResponse:
        return twiml(reply(f"got {hit.get('Body')}"))

    url = app.route("/sms", add_slash)
    app.route("/sms/", sms)
    sim = await make_sim(config_for(url, sms_method=HttpMethod.GET))

    outcome = await sim.send("hello", from_=PHONE)

    assert [(h.path, h.method, h.valid) for h in app.hits] == [
        ("/sms", "GET", True),
        ("/sms/", "GET", True),
    ]
    assert app.hits[1].params.getall("Body") == ["hello"]
    assert app.hits[1].params.getall("MessageSid") == [outcome.inbound.sid]
    assert [m.body for m in outcome.replies] == ["got hello"]
