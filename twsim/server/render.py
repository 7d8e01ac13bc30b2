"""Twilio's JSON shapes for the gateway's records (API 2010-04-01)."""

from __future__ import annotations

import functools
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from twsim.core.pricing import format_price
from twsim.model.records import Account, Media, Message, PhoneNumber

API_VERSION = "2010-04-01"
ROOT = f"/{API_VERSION}"


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: 'Fri, 24 May 2019 17:44:46 +0000'."""
    return _to_the_second(moment.replace(microsecond=0)) if moment is not None else None


# every message of one second shares its dates: formatting them is ~10% of a create's
# handler, so the strings of the latest seconds are kept
_to_the_second = functools.lru_cache(maxsize=64)(format_datetime)


def account_uri(account_sid: str) -> str:
    return f"{ROOT}/Accounts/{account_sid}"


def message_uri(message: Message) -> str:
    return f"{account_uri(message.account_sid)}/Messages/{message.sid}"


def message(m: Message) -> dict[str, Any]:
    base = message_uri(m)
    return {
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": rfc2822(m.date_created),
        "date_sent": rfc2822(m.date_sent),
        "date_updated": rfc2822(m.date_updated),
        "direction": str(m.direction),
        "error_code": m.error_code,
        "error_message": m.error_message,
        "from": m.from_,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": str(len(m.media)),
        "num_segments": str(m.num_segments),
        "price": format_price(m.price) if m.price is not None else None,
        "price_unit": m.price_unit,
        "sid": m.sid,
        "status": str(m.status),
        "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
        "to": m.to,
        "uri": f"{base}.json",
    }


def media(parent: Message, item: Media) -> dict[str, Any]:
    return {
        "account_sid": item.account_sid,
        "content_type": item.content_type,
        "date_created": rfc2822(item.date_created),
        "date_updated": rfc2822(item.date_created),
        "parent_sid": parent.sid,
        "sid": item.sid,
        "uri": f"{message_uri(parent)}/Media/{item.sid}.json",
    }


def phone_number(n: PhoneNumber) -> dict[str, Any]:
    return {
        "account_sid": n.account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": False, "sms": True, "mms": True, "fax": False},
        "date_created": rfc2822(n.date_created),
        "date_updated": rfc2822(n.date_updated),
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "friendly_name": n.friendly_name,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": n.phone_number,
        "sid": n.sid,
        # Twilio's examples show "" here, but its schema only allows an AP sid or null.
        "sms_application_sid": None,
        "sms_fallback_method": n.sms_fallback_method,
        "sms_fallback_url": n.sms_fallback_url or "",
        "sms_method": n.sms_method,
        "sms_url": n.sms_url or "",
        "status_callback": n.status_callback or "",
        "status_callback_method": n.status_callback_method,
        "trunk_sid": None,
        "uri": f"{account_uri(n.account_sid)}/IncomingPhoneNumbers/{n.sid}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_url": None,
        "voice_receive_mode": "voice",
        "status": "in-use",
        "bundle_sid": None,
        "type": {"toll-free": "tollfree", "short-code": "shortcode"}.get(str(n.type), str(n.type)),
    }


_ACCOUNT_SUBRESOURCES = {
    "incoming_phone_numbers": "IncomingPhoneNumbers.json",
    "messages": "Messages.json",
    "balance": "Balance.json",
    "usage": "Usage.json",
}


def account(a: Account) -> dict[str, Any]:
    base = account_uri(a.sid)
    return {
        "auth_token": a.auth_token,
        "date_created": rfc2822(a.date_created),
        "date_updated": rfc2822(a.date_updated or a.date_created),
        "friendly_name": a.friendly_name,
        "owner_account_sid": a.owner_account_sid,
        "sid": a.sid,
        "status": a.status,
        "subresource_uris": {k: f"{base}/{v}" for k, v in _ACCOUNT_SUBRESOURCES.items()},
        "type": "Full",
        "uri": f"{base}.json",
    }


def balance(a: Account, currency: str) -> dict[str, Any]:
    return {"account_sid": a.sid, "balance": f"{a.balance:.2f}", "currency": currency}
