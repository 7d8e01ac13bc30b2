"""twsim: a local Twilio Messaging simulator plus a burst and replay harness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from twilio.rest import Client


def client(*args: Any, **kwargs: Any) -> Client:
    """An official `twilio.rest.Client` aimed at a twsim gateway (see `twsim.sdk.client`)."""
    from twsim.sdk import client as make_client

    return make_client(*args, **kwargs)
