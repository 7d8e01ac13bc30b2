"""Cookies per conversation: Twilio keeps the app's cookies for each (phone, number) pair and
forgets them after four hours without a message.

At most `MAX_CONVERSATIONS` jars are kept; past that the least recently used is forgotten,
as if its four hours had passed.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from twsim.model.clock import Clock

MAX_CONVERSATIONS = 100_000


class ConversationCookies:
    def __init__(self, clock: Clock, ttl_s: float = 4 * 3600.0) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._jars: dict[tuple[str, str], tuple[SimpleCookie, float]] = {}

    def get(self, phone: str, number: str) -> SimpleCookie | None:
        """The pair's cookies, or None when it has none (or they expired)."""
        entry = self._jars.get((phone, number))
        if entry is None:
            return None
        jar, last_used = entry
        now = self._clock.monotonic()
        del self._jars[(phone, number)]  # re-inserted last: the dict runs least recent first
        if now - last_used > self.ttl_s:
            return None
        self._jars[(phone, number)] = (jar, now)
        return jar

    def update(self, phone: str, number: str, set_cookie_headers: list[str]) -> None:
        """Take the cookies an answer set (a Max-Age of 0 or less deletes one)."""
        if not set_cookie_headers:
            return
        jar = self.get(phone, number) or SimpleCookie()
        for header in set_cookie_headers:
            incoming: SimpleCookie = SimpleCookie()
            try:
                incoming.load(header)
            except CookieError:
                continue
            for name, morsel in incoming.items():
                max_age = morsel["max-age"]
                if max_age and max_age.lstrip("-").isdigit() and int(max_age) <= 0:
                    jar.pop(name, None)
                else:
                    jar[name] = morsel  # keeps the value exactly as the app encoded it
        self._jars.pop((phone, number), None)
        if jar:
            self._jars[(phone, number)] = (jar, self._clock.monotonic())
            while len(self._jars) > MAX_CONVERSATIONS:
                del self._jars[next(iter(self._jars))]

    def clear(self) -> None:
        self._jars.clear()
