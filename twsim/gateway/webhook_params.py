"""The form parameters of Twilio's requests to the app: inbound webhooks and status callbacks."""

from __future__ import annotations

from functools import lru_cache

from twsim.core import phone
from twsim.core.lifecycle import MessageStatus
from twsim.model.records import Message

API_VERSION = "2010-04-01"

Params = list[tuple[str, str]]


@lru_cache(maxsize=65536)
def _geo(number: str) -> tuple[str, str, str, str]:
    geo = phone.geo_of(number)
    return geo.city, geo.state, geo.zip, geo.country


def media_url(base_url: str, message: Message, media_sid: str) -> str:
    return f"{base_url}/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}/Media/{media_sid}"


def inbound_params(message: Message, media_base_url: str) -> Params:
    """What Twilio posts to the number's sms_url for an inbound message, in its usual order."""
    to_city, to_state, to_zip, to_country = _geo(message.to)
    from_city, from_state, from_zip, from_country = _geo(message.from_ or "")
    sid = message.sid
    params: Params = [
        ("ToCountry", to_country),
        ("ToState", to_state),
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(message.media))),
        ("ToCity", to_city),
        ("FromZip", from_zip),
        ("SmsSid", sid),
        ("FromState", from_state),
        ("SmsStatus", "received"),
        ("FromCity", from_city),
        ("Body", message.body),
        ("FromCountry", from_country),
        ("To", message.to),
    ]
    if message.messaging_service_sid:
        params.append(("MessagingServiceSid", message.messaging_service_sid))
    params += [
        ("ToZip", to_zip),
        ("NumSegments", str(message.num_segments)),
        ("ReferralNumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", message.account_sid),
        ("From", message.from_ or ""),
        ("ApiVersion", API_VERSION),
    ]
    for index, media in enumerate(message.media):
        params.append((f"MediaContentType{index}", media.content_type))
        params.append((f"MediaUrl{index}", media_url(media_base_url, message, media.sid)))
    return params


def status_params(message: Message, status: MessageStatus, dlr_done: str | None = None) -> Params:
    """What Twilio posts to a status callback URL when an outbound message changes status."""
    params: Params = [
        ("SmsSid", message.sid),
        ("SmsStatus", str(status)),
        ("MessageStatus", str(status)),
        ("To", message.to),
    ]
    if message.messaging_service_sid:
        params.append(("MessagingServiceSid", message.messaging_service_sid))
    params += [
        ("MessageSid", message.sid),
        ("AccountSid", message.account_sid),
        ("From", message.from_ or ""),
        ("ApiVersion", API_VERSION),
    ]
    if (
        status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
        and message.error_code is not None
    ):
        params.append(("ErrorCode", str(message.error_code)))
    if dlr_done is not None and status in (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED):
        params.append(("RawDlrDoneDate", dlr_done))
    return params
