"""Calling the app for an account: requests signed with its token, the gateway's
connection settings, a fresh idempotency token per request."""

from __future__ import annotations

from http.cookies import SimpleCookie

from twsim.core.connection import ConnectionSettings
from twsim.core.ids import SidFactory
from twsim.core.signature import Signer
from twsim.gateway.urls import Params
from twsim.gateway.webhook_client import WebhookClient, WebhookRequest, WebhookResult
from twsim.model.records import Account


class AppCaller:
    def __init__(
        self,
        client: WebhookClient,
        *,
        settings: ConnectionSettings,
        public_base_url: str | None,
        tokens: SidFactory,
    ) -> None:
        self.client = client
        self.settings = settings
        self.public_base_url = public_base_url
        self._tokens = tokens
        self._signers: dict[str, Signer] = {}

    def signer(self, account: Account) -> Signer:
        signer = self._signers.get(account.auth_token)
        if signer is None:
            signer = self._signers[account.auth_token] = Signer(account.auth_token)
        return signer

    def request(
        self,
        account: Account,
        url: str,
        method: str,
        params: Params,
        cookies: SimpleCookie | None = None,
    ) -> WebhookRequest:
        return WebhookRequest(
            url=url,
            method=method,
            params=params,
            signer=self.signer(account),
            idempotency_token=self._tokens.token(),
            settings=self.settings,
            public_base_url=self.public_base_url,
            cookies=cookies,
        )

    async def call(
        self,
        account: Account,
        url: str,
        method: str,
        params: Params,
        cookies: SimpleCookie | None = None,
    ) -> WebhookResult:
        return await self.client.send(self.request(account, url, method, params, cookies))
