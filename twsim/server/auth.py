"""HTTP Basic authentication as Twilio does it: Account SID + Auth Token, or API Key + secret."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from twsim.core.errors import ApiError, twilio_error
from twsim.model.records import Account
from twsim.server.keys import GATEWAY

# Where a request keeps the SID of the account it authenticated as (read by the errors
# middleware for the `api.request` event). aiohttp >= 3.13 wants typed request keys.
ACCOUNT_KEY: Any = (
    web.RequestKey("twsim_account", str) if hasattr(web, "RequestKey") else "twsim.account"
)


def _basic(header: str) -> tuple[str, str]:
    """The username and password of an HTTP Basic `Authorization` header (RFC 7617)."""
    scheme, _, encoded = header.strip().partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        username, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, binascii.Error):
        raise ApiError(20003, "Authentication Error - invalid username", status=401) from None
    if not colon:
        raise ApiError(20003, "Authentication Error - invalid username", status=401)
    return username, password


async def authenticated(request: web.Request) -> Account:
    """The account in the path, if the request's credentials open it: the credentials' own
    account, or one of its subaccounts (a parent's credentials work on its subaccounts)."""
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(20003, "Authentication Error - No credentials provided", status=401)
    username, password = _basic(header)
    state = request.app[GATEWAY].state
    account = state.authenticate(username, password)
    path_sid = request.match_info.get("account_sid")
    if path_sid is not None and path_sid != account.sid:
        opened = state.directory.opens(account, path_sid)
        if opened is None:
            if path_sid in state.accounts:
                raise ApiError(20003, "Authenticate", status=401)
            raise twilio_error(20404, path=request.path)
        account = opened
    request[ACCOUNT_KEY] = account.sid
    return account
