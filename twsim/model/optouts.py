"""Who has opted out of whom: the block list that STOP builds and START undoes."""

from __future__ import annotations


class OptOuts:
    """Pairs of (recipient phone, sender) where the sender is a number or a Messaging Service."""

    def __init__(self) -> None:
        self._pairs: set[tuple[str, str]] = set()

    def stop(self, phone: str, senders: tuple[str, ...]) -> None:
        self._pairs.update((phone, s) for s in senders)

    def start(self, phone: str, senders: tuple[str, ...]) -> None:
        self._pairs.difference_update((phone, s) for s in senders)

    def blocked(self, phone: str, senders: tuple[str, ...]) -> bool:
        return any((phone, s) in self._pairs for s in senders)

    def clear(self) -> None:
        self._pairs.clear()

    def __len__(self) -> int:
        return len(self._pairs)
