"""HTTP Basic authentication as Twilio does it: Account SID + Auth Token, or API Key + secret."""

from __future__ import annotations

import binascii
from typing import Any

from aiohttp import BasicAuth, web

from twsim.core.errors import ApiError, twilio_error
from twsim.model.records import Account
from twsim.server.keys import GATEWAY

# Where a request keeps the SID of the account it authenticated as (read by the errors
# middleware for the `api.request` event). aiohttp >= 3.13 wants typed request keys.
ACCOUNT_KEY: Any = (
    web.RequestKey("twsim_account", str) if hasattr(web, "RequestKey") else "twsim.account"
)


async def authenticated(request: web.Request) -> Account:
    """The account in the path, if the request's credentials open it: the credentials' own
    account, or one of its subaccounts (a parent's credentials work on its subaccounts)."""
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(20003, "Authentication Error - No credentials provided", status=401)
    try:
        credentials = BasicAuth.decode(header)
    except (ValueError, binascii.Error):
        raise ApiError(20003, "Authentication Error - invalid username", status=401) from None
    state = request.app[GATEWAY].state
    account = state.authenticate(credentials.login, credentials.password)
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
