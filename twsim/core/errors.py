"""Twilio errors as data: one hierarchy, one catalog, one rendering.

Every error twsim reports carries Twilio's numeric code, the HTTP status the REST API
answers with, and a message in Twilio's wording. The catalog below is the single place
where codes meet their wording; `TwilioError.to_json` is the single place where an error
becomes Twilio's JSON body ``{code, message, more_info, status}``.

The subclasses say where an error arises, so callers can catch by family:

- `ApiError`       synchronous REST API errors (2xxxx): answered to the caller.
- `WebhookError`   the app's webhook misbehaved (11xxx, 12300): recorded, fallback tried.
- `TwimlError`     the app's TwiML is invalid (12xxx, 14xxx): recorded, fallback tried
                   for fatal ones.
- `DeliveryError`  asynchronous carrier outcomes (30xxx): set on the message.
"""

from __future__ import annotations

import re
from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# code -> (HTTP status, message template). Templates use str.format with named fields;
# a missing field renders as an empty string rather than failing.
CATALOG: dict[int, tuple[int, str]] = {
    # REST API: authentication, resources, throttling
    20001: (400, "{detail}"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20005: (403, "Account not active"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    # REST API: message validation
    21211: (400, "The 'To' number {number} is not a valid phone number."),
    21212: (
        400,
        "The 'From' number {number} is not a valid phone number, shortcode, "
        "or alphanumeric sender ID.",
    ),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by "
        "the 'To' number: {number}.",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The From phone number {number} is not a valid, SMS-capable inbound phone "
        "number or short code for your account.",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21611: (400, "This 'From' number has exceeded the maximum number of queued messages"),
    21612: (
        400,
        "The 'To' phone number: {number}, is not currently reachable using the 'From' phone number: {sender} via SMS.",
    ),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21619: (400, "A text message body or media urls must be specified."),
    21620: (400, "Invalid media URL(s)."),
    21623: (400, "Number of media files exceeds allowed limit."),
    21422: (400, "Phone number is not available: {number}"),
    21402: (400, "Invalid Url: {url}"),
    21609: (400, "Invalid StatusCallback url: {url}"),
    21701: (400, "The Messaging Service Sid {sid} is invalid."),
    20009: (409, "Cannot delete message because it is not in a final state"),
    10001: (401, "Account is not active"),
    30409: (400, "This message cannot be canceled"),
    35111: (400, "SendAt timestamp is missing"),
    35115: (400, "SendAt time must be more than 300 seconds and at most 35 days in the future"),
    35118: (400, "MessagingServiceSid is required to schedule a message"),
    # Webhook (app-side) failures
    11200: (502, "HTTP retrieval failure"),
    11205: (502, "HTTP connection failure"),
    11206: (502, "HTTP protocol violation"),
    11210: (502, "HTTP bad host name"),
    11215: (502, "HTTP too many redirects"),
    11217: (502, "HTTP error response code"),
    11243: (400, "HTTP retry policy is invalid"),
    12300: (502, "Invalid Content-Type"),
    # TwiML
    12100: (502, "Document parse failure"),
    12101: (502, "Invalid Twiml version"),
    12102: (502, "Root element must be Response"),
    12200: (502, "Schema validation warning"),
    14101: (502, 'Invalid "To" attribute'),
    14102: (502, 'Invalid "From" attribute'),
    14103: (502, "Invalid Body"),
    14104: (502, "Invalid Method attribute"),
    14105: (502, "Invalid statusCallback attribute"),
    14107: (429, "SMS send rate limit exceeded"),
    14109: (502, "Reply message limit exceeded"),
    14110: (502, "Invalid Verb for SMS Reply"),
    # Asynchronous delivery outcomes
    30001: (400, "Queue overflow"),
    30002: (400, "Account suspended"),
    30003: (400, "Unreachable destination handset"),
    30004: (400, "Message blocked"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
    30007: (400, "Carrier violation"),
    30008: (400, "Unknown error"),
    30019: (400, "Content size exceeds carrier limit"),
    63019: (400, "Media failed to download"),
    63045: (400, "Media download returned an unexpected HTTP status"),
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


class TwilioError(Exception):
    """An error with Twilio's code, HTTP status and message."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        detail: str | None = None,
        **fields: Any,
    ) -> None:
        default_status, template = CATALOG.get(code, (400, "Error {code}"))
        self.code = code
        self.status = status if status is not None else default_status
        self.message = (
            message
            if message is not None
            else template.format_map(_Blank(fields, code=code, detail=detail or ""))
        )
        self.detail = detail
        super().__init__(f"{code}: {self.message}")

    @property
    def more_info(self) -> str:
        return MORE_INFO.format(code=self.code)

    def to_json(self) -> dict[str, Any]:
        """Twilio's REST error body. The one place an error becomes JSON."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "more_info": self.more_info,
            "status": self.status,
        }
        if self.detail is not None:
            body["detail"] = self.detail
        return body

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TwilioError)
            and type(self) is type(other)
            and (self.code, self.status, self.message) == (other.code, other.status, other.message)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.message))


class ApiError(TwilioError):
    """A synchronous REST API error, answered to the caller."""


class WebhookError(TwilioError):
    """The app's webhook could not be fetched or answered wrongly."""


class TwimlError(TwilioError):
    """The app's TwiML is invalid; `fatal` errors stop execution of the document."""

    def __init__(
        self, code: int, message: str | None = None, *, fatal: bool = True, **fields: Any
    ) -> None:
        super().__init__(code, message, **fields)
        self.fatal = fatal


class DeliveryError(TwilioError):
    """An asynchronous carrier outcome recorded on a message."""


def family(code: int) -> type[TwilioError]:
    """The error class a code belongs to."""
    if 30000 <= code < 31000:
        return DeliveryError
    if code in (12100, 12101, 12102, 12200) or 14100 <= code < 14200:
        return TwimlError
    if 11000 <= code < 13000:
        return WebhookError
    return ApiError


def twilio_error(code: int, message: str | None = None, **fields: Any) -> TwilioError:
    """Build the error for `code` in its family, with Twilio's wording."""
    return family(code)(code, message, **fields)


def message_for(code: int, **fields: Any) -> str:
    """Twilio's wording for a code (e.g. for a message's `error_message`)."""
    return twilio_error(code, **fields).message


_FIELD = re.compile(r":?\s*\{[a-z_]+\},?")


def meaning(code: int) -> str:
    """What a code means, in Twilio's wording without the particulars of one case."""
    template = CATALOG.get(code, (0, ""))[1]
    text = _FIELD.sub("", template).strip()
    return text or f"Error {code}"


def describe(code: int) -> dict[str, Any]:
    """A code, its meaning and Twilio's page about it, for people reading a page."""
    return {"code": code, "meaning": meaning(code), "more_info": MORE_INFO.format(code=code)}
