"""IncomingPhoneNumbers: list, buy (by number or area code), fetch, configure and release."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiMapping

from twsim.config.models import HttpMethod, NumberConfig
from twsim.core import phone
from twsim.core.errors import ApiError, twilio_error
from twsim.core.pricing import NumberType
from twsim.model.records import Account, PhoneNumber
from twsim.server import forms, render
from twsim.server.auth import authenticated
from twsim.server.keys import GATEWAY
from twsim.server.paging import page


def add_routes(router: web.UrlDispatcher, account_path: str) -> None:
    numbers = account_path + "/IncomingPhoneNumbers"
    router.add_get(numbers + ".json", list_numbers)
    router.add_post(numbers + ".json", create_number)
    for kind in ("Local", "TollFree", "Mobile"):
        router.add_get(numbers + f"/{kind}.json", list_numbers)
        router.add_post(numbers + f"/{kind}.json", create_number)
    router.add_get(numbers + "/{sid}.json", fetch_number)
    router.add_post(numbers + "/{sid}.json", update_number)
    router.add_delete(numbers + "/{sid}.json", delete_number)


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
    raise twilio_error(20404, path=request.path)


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
    return web.json_response(
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
    form = await forms.read(request)
    state = request.app[GATEWAY].state
    raw = forms.text(form, "PhoneNumber")
    area = forms.text(form, "AreaCode")
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
    return web.json_response(render.phone_number(number), status=201)


def _free_number(taken: dict[str, PhoneNumber], prefix: str) -> str:
    for suffix in range(5550100, 10_000_000):
        candidate = f"{prefix}{suffix:07d}"
        if candidate not in taken:
            return candidate
    raise ApiError(21422, f"No phone number is available in {prefix}", status=400)


async def fetch_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    return web.json_response(render.phone_number(_number(request, account)))


async def update_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    number = _number(request, account)
    fields = _number_fields(await forms.read(request))
    _apply_number_fields(number, fields)
    number.date_updated = request.app[GATEWAY].clock.now()
    return web.json_response(render.phone_number(number))


async def delete_number(request: web.Request) -> web.Response:
    account = await authenticated(request)
    request.app[GATEWAY].state.remove_number(_number(request, account))
    return web.Response(status=204)
