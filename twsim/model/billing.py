"""Billing: pricing a message against the price table, charging its account, the ledger.

An inbound message is billed when it is received; an outbound one when it is sent (or the
failed-message fee when it fails). Each bill sets the message's price, takes the charge
off the account's balance, adds a ledger entry and appends a `charge` event naming its
cause. A message the price table cannot price gets a `charge` event saying so, and no bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from twsim.core.pricing import Channel, Charge, Direction, PriceKey, PriceTable, PricingError
from twsim.model.attribution import Cause
from twsim.model.clock import Clock
from twsim.model.events import Charged, EventLog
from twsim.model.records import Account, Message


@dataclass(slots=True)
class LedgerEntry:
    """One charge, or (`count` > 1) the charges of one day, account and price folded together."""

    date: datetime
    account_sid: str
    message_sid: str
    charge: Charge
    count: int = 1


_Fold = tuple[date, str, PriceKey, str, object]


class Billing:
    """Bills messages; `entries()` lists every charge made, oldest first.

    `accounts` is the table whose balances are charged; it is read at billing time, so it
    may be filled and emptied after this object is made.

    With `retention`, at most that many charges are kept one by one (`ledger`); older ones
    are folded into one entry per day, account and price, which is all Usage Records read,
    so usage stays exact however long the run.
    """

    def __init__(
        self,
        *,
        prices: PriceTable,
        clock: Clock,
        events: EventLog,
        accounts: Mapping[str, Account],
        retention: int | None = None,
    ) -> None:
        self.prices = prices
        self.clock = clock
        self.events = events
        self.accounts = accounts
        self.retention = retention
        self.ledger: list[LedgerEntry] = []
        self._folded: dict[_Fold, LedgerEntry] = {}

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
        if self.retention is not None and len(self.ledger) > self.retention:
            self._fold(len(self.ledger) - self.retention // 2)
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

    def entries(self) -> list[LedgerEntry]:
        """Every charge: the folded older ones, then the latest one by one."""
        return [*self._folded.values(), *self.ledger]

    def _fold(self, count: int) -> None:
        """Fold the oldest `count` charges into their day's entries."""
        for entry in self.ledger[:count]:
            c = entry.charge
            key: _Fold = (entry.date.date(), entry.account_sid, c.key, str(c.kind), c.unit_price)
            folded = self._folded.get(key)
            if folded is None:
                self._folded[key] = replace(entry, message_sid="")
            else:
                folded.count += entry.count
                folded.charge = replace(
                    folded.charge,
                    units=folded.charge.units + c.units,
                    carrier_fee=folded.charge.carrier_fee + c.carrier_fee,
                )
        del self.ledger[:count]

    def clear(self) -> None:
        self.ledger.clear()
        self._folded.clear()
