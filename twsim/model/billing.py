"""Billing: pricing a message against the price table, charging its account, the ledger.

An inbound message is billed when it is received; an outbound one when it is sent (or the
failed-message fee when it fails). Each bill sets the message's price, takes the charge
off the account's balance, adds a ledger entry and appends a `charge` event naming its
cause. A message the price table cannot price gets a `charge` event saying so, and no bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from twsim.core.pricing import Channel, Charge, Direction, PriceKey, PriceTable, PricingError
from twsim.model.attribution import Cause
from twsim.model.clock import Clock
from twsim.model.events import Charged, EventLog
from twsim.model.records import Account, Message


@dataclass(slots=True)
class LedgerEntry:
    date: datetime
    account_sid: str
    message_sid: str
    charge: Charge


class Billing:
    """Bills messages; `ledger` lists every charge made, oldest first.

    `accounts` is the table whose balances are charged; it is read at billing time, so it
    may be filled and emptied after this object is made.
    """

    def __init__(
        self,
        *,
        prices: PriceTable,
        clock: Clock,
        events: EventLog,
        accounts: Mapping[str, Account],
    ) -> None:
        self.prices = prices
        self.clock = clock
        self.events = events
        self.accounts = accounts
        self.ledger: list[LedgerEntry] = []

    def bill(
        self, message: Message, direction: Direction, *, cause: Cause, failed: bool = False
    ) -> None:
        channel = Channel.MMS if message.media else Channel.SMS
        key = PriceKey(message.country, message.number_type, direction, channel)
        try:
            charge = (
                self.prices.failed_fee(key)
                if failed
                else self.prices.charge(key, message.num_segments)
            )
        except PricingError as error:
            self.events.emit(
                Charged(inbound=cause.inbound, message=message.sid, unpriced=str(error))
            )
            return
        message.charge = charge
        message.price = charge.base  # Twilio bills carrier fees separately from the price
        message.price_unit = self.prices.currency
        account = self.accounts.get(message.account_sid)
        if account is not None:
            account.balance -= charge.total
        self.ledger.append(LedgerEntry(self.clock.now(), message.account_sid, message.sid, charge))
        self.events.emit(
            Charged(
                inbound=cause.inbound,
                attempt=cause.attempt,
                message=message.sid,
                account=message.account_sid,
                total=f"{charge.total:f}",
                charge=charge.to_dict(),
            )
        )

    def clear(self) -> None:
        self.ledger.clear()
