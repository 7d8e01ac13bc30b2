"""The inbound webhook as the app sees it: every parameter and header Twilio sends, signed."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from apps import OTHER_PHONE, PHONE, Hit, TwilioApp, config_for, reply, twiml

from twsim.config.models import Config, HttpMethod, NumberConfig, ServiceConfig
from twsim.model.events import WebhookAttempt

SMS_PARAMS = {
    "MessageSid",
    "SmsSid",
    "SmsMessageSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "SmsStatus",
    "ApiVersion",
    "ReferralNumMedia",
    "FromCity",
    "FromState",
    "FromZip",
    "FromCountry",
    "ToCity",
    "ToState",
    "ToZip",
    "ToCountry",
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SERVICE_SID = "MG" + "1" * 32


async def echo(request: web.Request, hit: Hit) -> web.StreamResponse:
    return twiml(reply(f"got: {hit.get('Body')}"))


async def test_sms_webhook_carries_every_twilio_param_and_header(app: TwilioApp, make_sim: Any):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url))
    body = "Hi & welcome = 100% + more"
    outcome = await sim.send(body, from_=PHONE)

    assert outcome.error_code is None
    [hit] = app.hits
    assert hit.valid
    assert hit.method == "POST"
    assert set(hit.params) == SMS_PARAMS
    sid = outcome.inbound.sid
    assert sid.startswith("SM")
    assert hit.get("MessageSid") == hit.get("SmsSid") == hit.get("SmsMessageSid") == sid
    assert hit.get("AccountSid") == sim.account_sid
    assert hit.get("From") == PHONE
    assert hit.get("To") == sim.number
    assert hit.get("Body") == body
    assert hit.get("NumMedia") == "0"
    assert hit.get("NumSegments") == "1"
    assert hit.get("SmsStatus") == "received"
    assert hit.get("ApiVersion") == "2010-04-01"
    assert hit.get("ReferralNumMedia") == "0"
    assert hit.get("FromCountry") == "US"
    assert hit.get("ToCountry") == "US"
    assert "MessagingServiceSid" not in hit.params
    assert hit.headers["User-Agent"] == "TwilioProxy/1.1"
    assert hit.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert hit.headers["X-Twilio-Signature"]
    assert UUID.match(hit.headers["I-Twilio-Idempotency-Token"])
    [message] = outcome.replies
    assert message.body == f"got: {body}"


async def test_long_unicode_body_keeps_its_text_and_segment_count(app: TwilioApp, make_sim: Any):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url))
    body = "Ça va? 😀 " * 10  # UCS-2: 100 code units over 70 -> 2 segments

    outcome = await sim.send(body, from_=PHONE)

    [hit] = app.hits
    assert hit.valid
    assert hit.get("Body") == body
    assert hit.get("NumSegments") == str(outcome.inbound.num_segments) == "2"


async def test_mms_webhook_lists_each_media_url_and_type(app: TwilioApp, make_sim: Any):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url))
    media = ["https://example.com/cat.jpg", "https://example.com/chart.png"]

    outcome = await sim.gateway.receive(
        from_=PHONE, to=sim.number, body="", media_urls=media, wait=True
    )

    _, result = outcome
    [hit] = app.hits
    assert hit.valid
    assert hit.sid is not None and hit.sid.startswith("MM")
    assert hit.get("NumMedia") == "2"
    assert hit.get("MediaContentType0") == "image/jpeg"
    assert hit.get("MediaContentType1") == "image/png"
    prefix = f"{sim.url}/2010-04-01/Accounts/{sim.account_sid}/Messages/{hit.sid}/Media/ME"
    assert str(hit.get("MediaUrl0")).startswith(prefix)
    assert str(hit.get("MediaUrl1")).startswith(prefix)
    assert hit.get("MediaUrl0") != hit.get("MediaUrl1")
    assert set(hit.params) == SMS_PARAMS | {
        "MediaContentType0",
        "MediaUrl0",
        "MediaContentType1",
        "MediaUrl1",
    }
    assert result is not None and len(result.replies) == 1


async def test_messaging_service_sid_only_for_numbers_in_a_service(app: TwilioApp, make_sim: Any):
    service_url = app.route("/service", echo)
    number_url = app.route("/number", echo)
    config = Config()
    config.numbers = [
        NumberConfig(phone_number="+15005550006"),
        NumberConfig(phone_number="+12025550100", sms_url=number_url),
    ]
    config.services = [
        ServiceConfig(sid=SERVICE_SID, numbers=["+15005550006"], inbound_request_url=service_url)
    ]
    sim = await make_sim(config)

    in_service = await sim.send("a", from_=PHONE, to="+15005550006")
    alone = await sim.send("b", from_=PHONE, to="+12025550100")

    [service_hit] = app.hits_to("/service")
    [number_hit] = app.hits_to("/number")
    assert service_hit.valid and number_hit.valid
    assert service_hit.get("MessagingServiceSid") == SERVICE_SID
    assert set(service_hit.params) == SMS_PARAMS | {"MessagingServiceSid"}
    assert "MessagingServiceSid" not in number_hit.params
    assert in_service.replies[0].messaging_service_sid == SERVICE_SID
    assert in_service.replies[0].from_ == "+15005550006"
    assert alone.replies[0].messaging_service_sid is None


async def test_get_webhook_sends_params_in_query_and_signs_the_full_url(
    app: TwilioApp, make_sim: Any
):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url + "?tenant=a%20b&x=1", sms_method=HttpMethod.GET))

    outcome = await sim.send("hello there & more", from_=PHONE)

    [hit] = app.hits
    assert hit.method == "GET"
    assert hit.valid  # validated with no POST params, over the URL with its query
    assert hit.get("tenant") == "a b"
    assert hit.get("Body") == "hello there & more"
    assert set(hit.params) == SMS_PARAMS | {"tenant", "x"}
    assert "Content-Type" not in hit.headers
    assert outcome.replies[0].body == "got: hello there & more"


async def test_query_in_a_post_url_is_signed_and_the_fragment_is_never_sent(
    app: TwilioApp, make_sim: Any
):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url + "?tenant=7#rc=0&ct=2000"))

    outcome = await sim.send("hi", from_=PHONE)

    [hit] = app.hits
    assert hit.valid
    assert hit.url == url + "?tenant=7"
    assert hit.get("Body") == "hi"
    assert outcome.error_code is None
    assert outcome.attempts[0].url == url + "?tenant=7"


async def test_public_base_url_is_signed_while_the_configured_url_is_dialled(
    serve_app: Any, make_sim: Any
):
    public = "https://sms.example.org/prefix"
    behind_proxy = await TwilioApp(public_base_url=public).start(serve_app)
    url = behind_proxy.route("/sms", echo)
    config = config_for(url + "?k=v")
    config.webhook.public_base_url = public
    sim = await make_sim(config)

    outcome = await sim.send("hello", from_=PHONE)

    [hit] = behind_proxy.hits
    assert hit.valid
    assert hit.url == "https://sms.example.org/prefix/sms?k=v"
    assert outcome.error_code is None and len(outcome.replies) == 1


async def test_public_base_url_signature_does_not_match_the_dialled_url(
    app: TwilioApp, make_sim: Any
):
    url = app.route("/sms", echo)  # this app rebuilds the URL from its Host header
    config = config_for(url)
    config.webhook.public_base_url = "https://sms.example.org"
    sim = await make_sim(config)

    outcome = await sim.send("hello", from_=PHONE)

    assert [h.valid for h in app.hits] == [False]
    assert outcome.attempts[0].http_status == 403
    assert outcome.error_code == 11200
    assert outcome.replies == []


async def test_app_with_another_auth_token_rejects_and_the_gateway_records_11200(
    serve_app: Any, make_sim: Any
):
    strict = await TwilioApp("f" * 32).start(serve_app)
    url = strict.route("/sms", echo)
    sim = await make_sim(config_for(url))

    outcome = await sim.send("hello", from_=PHONE)

    assert [h.valid for h in strict.hits] == [False]
    assert outcome.error_code == 11200
    attempts = sim.events.of_type(WebhookAttempt)
    assert [(e.inbound, e.http_status) for e in attempts] == [(outcome.inbound.sid, 403)]


async def test_each_sender_and_each_text_gets_its_own_sid_and_token(app: TwilioApp, make_sim: Any):
    url = app.route("/sms", echo)
    sim = await make_sim(config_for(url))

    first = await sim.send("one", from_=PHONE)
    second = await sim.send("two", from_=OTHER_PHONE)

    assert [h.get("From") for h in app.hits] == [PHONE, OTHER_PHONE]
    assert [h.sid for h in app.hits] == [first.inbound.sid, second.inbound.sid]
    tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in app.hits}
    assert len(tokens) == 2
    assert all(h.valid for h in app.hits)
