"""Twilio's REST API (2010-04-01) for messaging: thin handlers over the gateway state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiMapping

from twsim.config import HttpMethod, NumberConfig
from twsim.core import phone
from twsim.core.errors import ApiError, twilio_error
from twsim.core.pricing import NumberType
from twsim.model import Account, Message, PhoneNumber
from twsim.server import render, usage_api
from twsim.server.auth import authenticated
from twsim.server.keys import GATEWAY
from twsim.server.paging import page
from twsim.state import OutboundRequest

ROOT = render.ROOT
ACCOUNT = ROOT + "/Accounts/{account_sid}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(ROOT + "/Accounts.json", list_accounts)
    router.add_get(ROOT + "/Accounts/{account_sid}.json", fetch_account)
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
    router.add_get(ACCOUNT + "/IncomingPhoneNumbers.json", list_numbers)
    router.add_post(ACCOUNT + "/IncomingPhoneNumbers.json", create_number)
    for kind in ("Local", "TollFree", "Mobile"):
        router.add_get(ACCOUNT + f"/IncomingPhoneNumbers/{kind}.json", list_numbers)
        router.add_post(ACCOUNT + f"/IncomingPhoneNumbers/{kind}.json", create_number)
    router.add_get(ACCOUNT + "/IncomingPhoneNumbers/{sid}.json", fetch_number)
    router.add_post(ACCOUNT + "/IncomingPhoneNumbers/{sid}.json", update_number)
    router.add_delete(ACCOUNT + "/IncomingPhoneNumbers/{sid}.json", delete_number)
    usage_api.add_routes(router, ACCOUNT)


async def _form(request: web.Request) -> MultiMapping[Any]:
    """The request's form parameters; a body that cannot be read as a form is a 400."""
    try:
        return await request.post()
    except web.HTTPException:
        raise  # e.g. 413, a body over the size limit
    except Exception:
        raise ApiError(
            20001, "The request body could not be read as form parameters", status=400
        ) from None


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _not_found(request: web.Request) -> ApiError:
    return twilio_error(20404, path=request.path)  # type: ignore[return-value]


# -- accounts ----------------------------------------------------------------------------------
async def fetch_account(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.account(account))


async def list_accounts(request: web.Request) -> web.Response:
    """The accounts the credentials open: just their own (the gateway has no subaccounts)."""
    account = await authenticated(request)
    query = request.query
    wanted_name = query.get("FriendlyName")
    wanted_status = query.get("Status")
    items = [
        a
        for a in (account,)
        if (not wanted_name or a.friendly_name == wanted_name)
        and (not wanted_status or a.status == wanted_status)
    ]
    return _json(page(items, query, request.path, "accounts", render.account, lambda a: a.sid))


async def fetch_balance(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.balance(account, request.app[GATEWAY].prices.currency))


# -- messages ----------------------------------------------------------------------------------
def _flag(form: MultiMapping[str], key: str) -> bool:
    return form.get(key, "").strip().lower() == "true"


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
    form = await _form(request)
    gateway = request.app[GATEWAY]
    outbound = OutboundRequest(
        to=_text(form, "To"),
        from_=_text(form, "From"),
        body=_text(form, "Body"),
        media_urls=tuple(str(u) for u in form.getall("MediaUrl", [])),
        messaging_service_sid=_text(form, "MessagingServiceSid"),
        status_callback=_text(form, "StatusCallback"),
        status_callback_method=(_text(form, "StatusCallbackMethod") or "POST").upper(),
        send_at=_send_at(form, gateway.clock.now()),  # type: ignore[arg-type]
        smart_encoded=_flag(form, "SmartEncoded"),  # type: ignore[arg-type]
    )
    message = gateway.state.create_message(account, outbound)
    return _json(render.message(message), 201)


def _text(form: MultiMapping[Any], key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) else None


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
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _other_date_forms(raw.strip())
        if moment is None:
            raise ApiError(20001, f"Invalid {key}: {raw!r}", status=400) from None
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
        ):  # type: ignore[operator]
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
    form = await _form(request)
    state = request.app[GATEWAY].state
    status = _text(form, "Status")
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
    """Media content: Twilio answers with a redirect to where the file is kept."""
    state = request.app[GATEWAY].state
    message = state.messages.get(request.match_info["sid"])
    if message is None or message.account_sid != request.match_info["account_sid"]:
        raise _not_found(request)
    raise web.HTTPFound(_media_item(request, message).url)


async def create_feedback(request: web.Request) -> web.Response:
    account = await authenticated(request)
    message = _message(request, account)
    form = await _form(request)
    now = render.rfc2822(request.app[GATEWAY].clock.now())
    outcome = _text(form, "Outcome") or "unconfirmed"
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


# -- incoming phone numbers ----------------------------------------------------------------------
_NUMBER_FIELDS = {
    "FriendlyName": "friendly_name",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
}
_KIND_TYPES = {
    "TollFree": NumberType.TOLL_FREE,
    "Local": NumberType.LOCAL,
    "Mobile": NumberType.LOCAL,
}


def _number(request: web.Request, account: Account) -> PhoneNumber:
    sid = request.match_info["sid"]
    for number in request.app[GATEWAY].state.numbers_of(account):
        if number.sid == sid:
            return number
    raise _not_found(request)


def _number_fields(form: MultiMapping[Any]) -> dict[str, str | None]:
    """The number settings a create or update asks for, all checked before any is applied."""
    fields: dict[str, str | None] = {}
    for key, attribute in _NUMBER_FIELDS.items():
        if key not in form:
            continue
        value = str(form[key]).strip()
        if attribute.endswith("method"):
            if value.upper() not in ("GET", "POST"):
                raise ApiError(20001, f"Invalid {key}: {value!r} (GET or POST)", status=400)
            fields[attribute] = value.upper()
        elif attribute == "friendly_name":
            fields[attribute] = value or None
        else:
            if value and not _is_web_url(value):
                raise ApiError(21402, f"Invalid Url: {key} {value!r}", status=400)
            fields[attribute] = value or None
    return fields


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _apply_number_fields(number: PhoneNumber, fields: dict[str, str | None]) -> None:
    for attribute, value in fields.items():
        if attribute == "friendly_name" and value is None:
            value = number.phone_number
        setattr(number, attribute, value)


async def list_numbers(request: web.Request) -> web.Response:
    account = await authenticated(request)
    query = request.query
    wanted = query.get("PhoneNumber")
    name = query.get("FriendlyName")
    kind = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    items = [
        n
        for n in request.app[GATEWAY].state.numbers_of(account)
        if (not wanted or wanted in n.phone_number)
        and (not name or n.friendly_name == name)
        and (kind not in _KIND_TYPES or n.type is _KIND_TYPES[kind])
    ]
    return _json(
        page(
            items,
            query,
            request.path,
            "incoming_phone_numbers",
            render.phone_number,
            lambda n: n.sid,
        )
    )


async def create_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    form = await _form(request)
    state = request.app[GATEWAY].state
    raw = _text(form, "PhoneNumber")
    area = _text(form, "AreaCode")
    kind = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    if raw:
        number_text = phone.normalize(raw)
        if number_text is None:
            raise ApiError(21421, f"PhoneNumber is invalid: {raw}", status=400)
        if number_text in state.numbers:
            raise ApiError(21422, f"PhoneNumber is not available: {number_text}", status=400)
    elif area:
        if not (area.isdigit() and len(area) == 3):
            raise ApiError(21451, f"Invalid area code: {area}", status=400)
        number_text = _free_number(state.numbers, f"+1{area}")
    else:
        raise ApiError(21451, "A 'PhoneNumber' or 'AreaCode' is required.", status=400)
    fields = _number_fields(form)
    number_type = _KIND_TYPES.get(kind, NumberType.LOCAL)
    if kind not in _KIND_TYPES and number_text.startswith(
        ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")
    ):
        number_type = NumberType.TOLL_FREE
    number = state.add_number(
        NumberConfig(phone_number=number_text, account=account.sid, type=number_type)
    )
    number.sms_method = str(HttpMethod.POST)
    _apply_number_fields(number, fields)
    return _json(render.phone_number(number), 201)


def _free_number(taken: dict[str, PhoneNumber], prefix: str) -> str:
    for suffix in range(5550100, 10_000_000):
        candidate = f"{prefix}{suffix:07d}"
        if candidate not in taken:
            return candidate
    raise ApiError(21422, f"No phone number is available in {prefix}", status=400)


async def fetch_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return _json(render.phone_number(_number(request, account)))


async def update_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    number = _number(request, account)
    fields = _number_fields(await _form(request))
    _apply_number_fields(number, fields)
    number.date_updated = request.app[GATEWAY].clock.now()
    return _json(render.phone_number(number))


async def delete_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    request.app[GATEWAY].state.remove_number(_number(request, account))
    return web.Response(status=204)
