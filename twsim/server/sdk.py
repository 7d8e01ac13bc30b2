"""Pointing the official twilio-python SDK at twsim: only the base URL changes."""

from __future__ import annotations

from twilio.rest import Client

from twsim.config.models import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_HOST, DEFAULT_PORT


def client(
    url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
    account_sid: str = DEFAULT_ACCOUNT_SID,
    auth_token: str = DEFAULT_AUTH_TOKEN,
) -> Client:
    """An official `twilio.rest.Client` whose 2010-04-01 API calls go to twsim at `url`.

    Never set an edge or region on it: the SDK would rewrite the host name.
    """
    twilio = Client(account_sid, auth_token)
    twilio.api.base_url = url.rstrip("/")
    return twilio
