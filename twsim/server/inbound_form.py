"""What `POST /_twsim/inbound` asks for, read from a form or a JSON body that may be hostile.

The body has been read whole by the guard. Whatever it holds, reading it ends in fields
of bounded size or a Twilio-shaped 400; nothing over the limits reaches the state or the
recording:

- `From` and `To` are kept to `MAX_ADDRESS_CHARS` characters (a longer one is no phone
  number, and the state refuses it with its usual code, naming the clipped text);
- `Body` to one character over Twilio's 1,600 (so an over-long body is still refused with
  21617, without carrying megabytes along);
- each `MediaUrl` must be an http(s) URL of at most `MAX_URL_CHARS` characters (21620);
  more than ten is refused by the state (21623);
- JSON `meta` must be an object of at most `MAX_META_BYTES` bytes once encoded;
- the `source` query parameter is kept to `MAX_ADDRESS_CHARS` characters.

JSON is parsed with orjson, which refuses invalid UTF-8, nesting over 1,024 levels and
numbers that do not fit a double, each as a 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from twsim.core.errors import ApiError, TwilioError, twilio_error
from twsim.core.limits import MAX_BODY_CHARS, MAX_MEDIA
from twsim.server import forms

MAX_ADDRESS_CHARS = 64
MAX_URL_CHARS = 2048
MAX_META_BYTES = 4096
MAX_BATCH = 1000  # texts in one `POST /_twsim/inbound/batch`


@dataclass(slots=True)
class InboundFields:
    """An inbound text as the control plane was asked to receive it."""

    from_: str | None
    to: str | None
    body: str = ""
    media_urls: list[str] = field(default_factory=list)
    meta: dict[str, Any] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "from_": self.from_,
            "to": self.to,
            "body": self.body,
            "media_urls": self.media_urls,
            "meta": self.meta,
        }


def clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def source(request: web.Request) -> str:
    return clip(request.query.get("source", "control"), MAX_ADDRESS_CHARS) or "control"


def _bad(detail: str) -> ApiError:
    return ApiError(20001, detail, status=400)


def _json_text(data: dict[str, Any], key: str) -> str | None:
    """A JSON field as text: strings as they are, numbers written out (phone numbers often
    arrive as JSON numbers); anything else is a 400."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _bad(f"{key} must be a string")


def _media(urls: list[str]) -> list[str]:
    for url in urls[: MAX_MEDIA + 1]:
        if len(url) > MAX_URL_CHARS or not url.startswith(("http://", "https://")):
            raise twilio_error(21620)
    return urls[: MAX_MEDIA + 1]  # one more than allowed still gets the state's 21623


def _meta(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    if len(orjson.dumps(value)) > MAX_META_BYTES:
        raise _bad(f"meta must be at most {MAX_META_BYTES} bytes of JSON")
    return value


def _fields(from_: str | None, to: str | None, body: str, media: list[str]) -> InboundFields:
    return InboundFields(
        from_=clip(from_, MAX_ADDRESS_CHARS),
        to=clip(to, MAX_ADDRESS_CHARS),
        body=clip(body, MAX_BODY_CHARS + 1) or "",
        media_urls=_media(media),
    )


def from_json(data: Any) -> InboundFields:
    """One text's fields from a JSON object; a Twilio error for what is wrong with it."""
    if not isinstance(data, dict):
        raise _bad("A text must be a JSON object")
    media = data.get("MediaUrl") or []
    if isinstance(media, str):
        media = [media]
    if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
        raise _bad("MediaUrl must be a URL or a list of URLs")
    fields = _fields(
        _json_text(data, "From"), _json_text(data, "To"), _json_text(data, "Body") or "", media
    )
    fields.meta = _meta(data.get("meta"))
    return fields


async def _json_body(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise _bad(f"Invalid JSON body: {str(exc)[:200]}") from None


async def read_batch(request: web.Request) -> list[InboundFields | TwilioError]:
    """The texts of a batch (`{"texts": [...]}`, at most `MAX_BATCH`): each one's fields,
    or the error that refuses it alone; a 400 when the body itself is wrong."""
    if request.content_type != "application/json":
        raise _bad('A batch is a JSON body: {"texts": [...]}')
    data = await _json_body(request)
    texts = data.get("texts") if isinstance(data, dict) else None
    if not isinstance(texts, list):
        raise _bad('The JSON body must be an object with a "texts" list')
    if len(texts) > MAX_BATCH:
        raise _bad(f"At most {MAX_BATCH} texts in one batch, not {len(texts)}")
    out: list[InboundFields | TwilioError] = []
    for item in texts:
        try:
            out.append(from_json(item))
        except TwilioError as error:
            out.append(error)
    return out


async def read(request: web.Request) -> InboundFields:
    """The fields of an inbound request; a 400 for a body that cannot be read as asked."""
    if request.content_type == "application/json":
        data = await _json_body(request)
        if not isinstance(data, dict):
            raise _bad("The JSON body must be an object")
        return from_json(data)
    form = await forms.read(request)
    media = [m for m in form.getall("MediaUrl", []) if isinstance(m, str)]
    return _fields(
        forms.text(form, "From"), forms.text(form, "To"), forms.text(form, "Body") or "", media
    )
