from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from twsim.gateway.webhook_client import form_encode


@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=60)), max_size=25))
def test_form_encode_writes_exactly_what_urlencode_writes(params: list[tuple[str, str]]) -> None:
    assert form_encode(params) == urlencode(params)
