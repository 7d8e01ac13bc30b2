"""Subaccounts through the official client, as multi-tenant apps use them."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from twsim.server.simulator import Simulator

PHONE = "+12025550123"


async def test_create_list_fetch_and_close_a_subaccount_with_the_parents_credentials(
    sim: Simulator,
) -> None:
    parent = sim.client()

    def work() -> dict[str, Any]:
        tenant = parent.api.accounts.create(friendly_name="tenant 1")
        listed = [a.sid for a in parent.api.accounts.list()]
        fetched = parent.api.accounts(tenant.sid).fetch()
        # the parent's credentials act on the subaccount's resources
        number = parent.api.accounts(tenant.sid).incoming_phone_numbers.create(
            phone_number="+15005550011"
        )
        sent = parent.api.accounts(tenant.sid).messages.create(
            to=PHONE, from_=number.phone_number, body="from the tenant"
        )
        # and the subaccount's own credentials work too
        own = Client(tenant.sid, tenant.auth_token)
        own.api.base_url = sim.url
        mine = [m.sid for m in own.messages.list()]
        closed = parent.api.accounts(tenant.sid).update(status="closed")
        return {
            "tenant": tenant,
            "listed": listed,
            "fetched": fetched,
            "sent": sent,
            "mine": mine,
            "closed": closed,
            "own": own,
        }

    got = await asyncio.to_thread(work)
    tenant = got["tenant"]
    assert tenant.sid.startswith("AC") and tenant.sid != sim.account_sid
    assert tenant.owner_account_sid == sim.account_sid
    assert tenant.friendly_name == "tenant 1" and tenant.status == "active"
    assert len(tenant.auth_token) == 32
    assert got["listed"] == [sim.account_sid, tenant.sid]
    assert got["fetched"].owner_account_sid == sim.account_sid
    assert got["sent"].account_sid == tenant.sid
    assert got["mine"] == [got["sent"].sid]
    assert got["closed"].status == "closed"

    with pytest.raises(TwilioException) as refused:  # what the client raises for a list
        await asyncio.to_thread(got["own"].messages.list)
    assert "HTTP 401" in str(refused.value) and '"code": 20003' in str(refused.value)


async def test_a_suspended_subaccount_cannot_send_and_a_sibling_cannot_see_it(
    sim: Simulator,
) -> None:
    parent = sim.client()

    def work() -> tuple[Any, Any]:
        first = parent.api.accounts.create(friendly_name="a")
        second = parent.api.accounts.create(friendly_name="b")
        parent.api.accounts(first.sid).incoming_phone_numbers.create(phone_number="+15005550012")
        parent.api.accounts(first.sid).update(status="suspended")
        with pytest.raises(TwilioRestException) as suspended:
            parent.api.accounts(first.sid).messages.create(to=PHONE, from_="+15005550012", body="x")
        sibling = Client(second.sid, second.auth_token)
        sibling.api.base_url = sim.url
        with pytest.raises(TwilioRestException) as other:
            sibling.api.accounts(first.sid).fetch()
        return suspended.value, other.value

    suspended, other = await asyncio.to_thread(work)
    assert suspended.code == 10001
    assert (other.status, other.code) == (401, 20003)


async def test_every_rest_answer_carries_a_twilio_request_id(sim: Simulator) -> None:
    credentials = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
    seen = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {credentials}"}) as http:
        for path in (f"/Accounts/{sim.account_sid}.json", "/Accounts/ACnope.json"):
            async with http.get(f"{sim.url}/2010-04-01{path}") as response:
                seen.append((response.status, response.headers.get("Twilio-Request-Id", "")))
    assert [status for status, _ in seen] == [200, 404]
    assert all(rid.startswith("RQ") and len(rid) == 34 for _, rid in seen)
    assert seen[0][1] != seen[1][1]
