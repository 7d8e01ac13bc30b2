"""Twilio's REST API (2010-04-01) for messaging: thin handlers over the gateway state.

Accounts, Messages, their Media and Feedback live here; `add_routes` also registers the
IncomingPhoneNumbers (`numbers_api`) and Usage Records (`usage_api`) resources.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping

from twsim.core.errors import ApiError, twilio_error
from twsim.model.records import Account, Message
from twsim.model.state import OutboundRequest
from twsim.server import forms, numbers_api, render, usage_api
from twsim.server.auth import authenticated
from twsim.server.keys import GATEWAY
from twsim.server.paging import page

ROOT = render.ROOT
ACCOUNT = ROOT + "/Accounts/{account_sid}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(ROOT + "/Accounts.json", list_accounts)
    router.add_post(ROOT + "/Accounts.json", create_account)
    router.add_get(ROOT + "/Accounts/{account_sid}.json", fetch_account)
    router.add_post(ROOT + "/Accounts/{account_sid}.json", update_account)
    router.add_get(ACCOUNT + "/Balance.json", fetch_balance)
    router.add_post(ACCOUNT + "/Messages.json", create_message)
    router.add_get(ACCOUNT + "/Messages.json", list_messages)
    router.add_get(ACCOUNT + "/Messages/{sid}.json", fetch_message)
    router.add_post(ACCOUNT + "/Messages/{sid}.json", update_message)
    router.add_delete(ACCOUNT + "/Messages/{sid}.json", delete_message)
    router.add_get(ACCOUNT + "/Messages/{sid}/Media.json", list_media)
    router.add_get(ACCOUNT + "/Messages/{sid}/Media/{media_sid}.json", fetch_media)
    router.add_delete(ACCOUNT + "/Messages/{sid}/Media/{media_sid}.json", delete_media)
    router.add_get(ACCOUNT + "/Messages/{sid}/Media/{media_sid}", media_content)
    router.add_post(ACCOUNT + "/Messages/{sid}/Feedback.json", create_feedback)
    numbers_api.add_routes(router, ACCOUNT)
    usage_api.add_routes(router, ACCOUNT)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    # orjson: the standard encoder was ~8% of a message create's handling
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", charset="utf-8"
    )


def _not_found(request: web.Request) -> ApiError:
    return twilio_error(20404, path=request.path)  # type: ignore[return-value]


# -- accounts ----------------------------------------------------------------------------------
async def fetch_account(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.account(account))


async def list_accounts(request: web.Request) -> web.Response:
    """The accounts the credentials open: their own and its subaccounts."""
    account = await authenticated(request)
    query = request.query
    wanted_name = query.get("FriendlyName")
    wanted_status = query.get("Status")
    items = [
        a
        for a in request.app[GATEWAY].state.directory.family_of(account)
        if (not wanted_name or a.friendly_name == wanted_name)
        and (not wanted_status or a.status == wanted_status)
    ]
    return _json(page(items, query, request.path, "accounts", render.account, lambda a: a.sid))


async def create_account(request: web.Request) -> web.Response:
    """A subaccount of the credentials' account (multi-tenant apps make one per tenant)."""
    owner = await authenticated(request)
    if owner.owner_sid is not None:
        raise ApiError(20003, "A subaccount cannot create subaccounts", status=401)
    form = await forms.read(request)
    directory = request.app[GATEWAY].state.directory
    account = directory.create_subaccount(owner, forms.text(form, "FriendlyName"))
    return _json(render.account(account), 201)


_STATUSES = {"active": "active", "suspended": "suspended", "closed": "closed"}
_STATUS_NUMBERS = {"1": "active", "2": "suspended", "3": "closed"}


async def update_account(request: web.Request) -> web.Response:
    """Rename an account, or suspend, reactivate or close a subaccount (closing is final)."""
    account = await authenticated(request)
    form = await forms.read(request)
    name, raw_status = forms.text(form, "FriendlyName"), forms.text(form, "Status")
    status = None
    if raw_status is not None:
        status = _STATUSES.get(raw_status.lower()) or _STATUS_NUMBERS.get(raw_status)
        if status is None:
            raise ApiError(20001, f"Invalid Status: {raw_status!r}", status=400)
        if account.owner_sid is None and status != account.status:
            raise ApiError(20001, "Only a subaccount's status can be changed", status=400)
        if account.status == "closed" and status != "closed":
            raise ApiError(20001, "A closed account cannot be reopened", status=400)
    if name is not None:
        account.friendly_name = name
    if status is not None:
        account.status = status
    account.date_updated = request.app[GATEWAY].clock.now()
    return _json(render.account(account))


async def fetch_balance(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.balance(account, request.app[GATEWAY].prices.currency))


# -- messages ----------------------------------------------------------------------------------
def _send_at(form: MultiMapping[str], now: datetime) -> datetime | None:
    schedule = form.get("ScheduleType")
    raw = form.get("SendAt")
    if not schedule and not raw:
        return None
    if schedule != "fixed":
        raise ApiError(35126, "The ScheduleType value provided is not supported for this channel")
    if not raw:
        raise twilio_error(35111)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise twilio_error(35115) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not timedelta(seconds=300) < moment - now <= timedelta(days=35):
        raise twilio_error(35115)
    if not form.get("MessagingServiceSid"):
        raise twilio_error(35118)
    return moment


async def create_message(request: web.Request) -> web.Response:
    account = await authenticated(request)
    form = await forms.read(request)
    gateway = request.app[GATEWAY]
    outbound = OutboundRequest(
        to=forms.text(form, "To"),
        from_=forms.text(form, "From"),
        body=forms.text(form, "Body"),
        media_urls=tuple(str(u) for u in form.getall("MediaUrl", [])),
        messaging_service_sid=forms.text(form, "MessagingServiceSid"),
        status_callback=forms.text(form, "StatusCallback"),
        status_callback_method=(forms.text(form, "StatusCallbackMethod") or "POST").upper(),
        send_at=_send_at(form, gateway.clock.now()),
        smart_encoded=forms.flag(form, "SmartEncoded"),
    )
    message = gateway.state.create_message(account, outbound)
    return _json(render.message(message), 201)


def _date_filter(query: MultiMapping[str]) -> list[tuple[str, datetime | date]]:
    """The DateSent filters of a list query as (operator, bound) pairs.

    `DateSent>=2024-01-02` arrives as key `DateSent>` and value `=2024-01-02`; both
    inequalities are inclusive. A plain `DateSent` means "sent on that day", so a full
    datetime there (what the client libraries send) only contributes its date. The
    inequalities keep a datetime's time of day.
    """
    out: list[tuple[str, datetime | date]] = []
    for key, op in (("DateSent", "="), ("DateSent<", "<="), ("DateSent>", ">=")):
        raw = query.get(key)
        if not raw:
            continue
        text = raw.strip()
        if key == "DateSent" and text[:1] in ("<", ">"):
            op = "<=" if text[0] == "<" else ">="  # the whole `<=2024-01-02` in the value
        moment = _parse_moment(text.lstrip("<>="), key)
        if op == "=" and isinstance(moment, datetime):
            moment = moment.date()
        out.append((op, moment))
    return out


def _parse_moment(raw: str, key: str) -> datetime | date:
    text = raw.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        moment = _other_date_forms(raw.strip())
    if moment is None:
        raise ApiError(20001, f"Invalid {key}: {raw!r}", status=400)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _other_date_forms(text: str) -> datetime | None:
    """RFC 2822 (Twilio's own date format) or `06/11/2019 22:05:25 GMT`."""
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S %Z").replace(tzinfo=UTC)
    except ValueError:
        return None


def _matches_dates(message: Message, filters: list[tuple[str, datetime | date]]) -> bool:
    sent = message.date_sent or message.date_created
    for op, bound in filters:
        value: datetime | date = sent.date() if not isinstance(bound, datetime) else sent
        if (
            (op == "=" and value != bound)
            or (op == "<=" and value > bound)
            or (op == ">=" and value < bound)
        ):
            return False
    return True


async def list_messages(request: web.Request) -> web.Response:
    account = await authenticated(request)
    query = request.query
    to = query.get("To")
    sender = query.get("From")
    dates = _date_filter(query)
    items = [
        m
        for m in request.app[GATEWAY].state.messages_of(account)
        if (not to or m.to == to)
        and (not sender or m.from_ == sender)
        and (not dates or _matches_dates(m, dates))
    ]
    return _json(page(items, query, request.path, "messages", render.message, lambda m: m.sid))


def _message(request: web.Request, account: Account, key: str = "sid") -> Message:
    message = request.app[GATEWAY].state.message(account, request.match_info[key])
    if message is None:
        raise _not_found(request)
    return message


async def fetch_message(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.message(_message(request, account)))


async def update_message(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    form = await forms.read(request)
    state = request.app[GATEWAY].state
    status = forms.text(form, "Status")
    if status is not None:
        if status != "canceled":
            raise ApiError(
                20001,
                f"Invalid Status: {status!r}; the only allowed value is 'canceled'",
                status=400,
            )
        state.cancel(message)
    if "Body" in form:
        if form["Body"] != "":
            raise ApiError(
                20001, "Body can only be updated to an empty string (redaction)", status=400
            )
        state.redact(message)
    return _json(render.message(message))


async def delete_message(request: web.Request) -> web.Response:
    account = await authenticated(request)
    request.app[GATEWAY].state.delete(_message(request, account))
    return web.Response(status=204)


# -- media -------------------------------------------------------------------------------------
async def list_media(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    return _json(
        page(
            list(message.media),
            request.query,
            request.path,
            "media_list",
            lambda m: render.media(message, m),
        )
    )


def _media_item(request: web.Request, message: Message) -> Any:
    for item in message.media:
        if item.sid == request.match_info["media_sid"]:
            return item
    raise _not_found(request)


async def fetch_media(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    return _json(render.media(message, _media_item(request, message)))


async def delete_media(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    item = _media_item(request, message)
    message.media = tuple(m for m in message.media if m is not item)
    return web.Response(status=204)


async def media_content(request: web.Request) -> web.Response:
    """Media content: Twilio answers with a redirect to where the file is kept.

    twsim points a client only where it would dial itself (its egress policy): a media URL
    outside it is answered 403, with the reason, instead of a redirect.
    """
    gateway = request.app[GATEWAY]
    message = gateway.state.messages.get(request.match_info["sid"])
    if message is None or message.account_sid != request.match_info["account_sid"]:
        raise _not_found(request)
    url = _media_item(request, message).url
    refusal = await gateway.egress.check(url)
    if refusal is not None:
        raise ApiError(20403, f"Media not served: {refusal.reason}", status=403)
    raise web.HTTPFound(url)


async def create_feedback(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    form = await forms.read(request)
    now = render.rfc2822(request.app[GATEWAY].clock.now())
    outcome = forms.text(form, "Outcome") or "unconfirmed"
    if outcome not in ("confirmed", "unconfirmed"):
        raise ApiError(20001, f"Invalid Outcome: {outcome!r}", status=400)
    return _json(
        {
            "account_sid": account.sid,
            "message_sid": message.sid,
            "outcome": outcome,
            "date_created": now,
            "date_updated": now,
            "uri": f"{render.message_uri(message)}/Feedback.json",
        },
        201,
    )
