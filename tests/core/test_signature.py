"""Signatures are checked against the official `twilio` RequestValidator, always."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from twsim.core.signature import (
    Params,
    SignatureTemplate,
    Signer,
    body_sha256,
    compute_signature,
    signed_pieces,
    url_with_body_hash,
)


class FormData(dict[str, list[str]]):
    """Multi-valued form data, read by RequestValidator through `getall` (as Flask's)."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def form(params: Params | None) -> FormData:
    data = FormData()
    if params is None:
        return data
    pairs: Sequence[tuple[str, str]]
    if isinstance(params, Mapping):
        pairs = [
            (name, item)
            for name, value in params.items()
            for item in ([value] if isinstance(value, str) else value)
        ]
        for name in params:
            data.setdefault(name, [])
    else:
        pairs = params
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def accepted(token: str, url: str, params: Params | None, signature: str) -> bool:
    return bool(RequestValidator(token).validate(url, form(params), signature))


# --- reference vectors (facts §5 item 8) -------------------------------------------------

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
CALL = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
JSON_BODY = b'{"property": "value", "boolean": true}'
JSON_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        (URL, CALL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", CALL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        (
            URL,
            {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]},
            "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
        ),
        (
            URL,
            [
                ("Sid", "CA123"),
                ("Digits", "5678"),
                ("SidAccount", "AC123"),
                ("Digits", "1234"),
                ("Digits", "1234"),
            ],
            "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
        ),
    ],
    ids=["form", "port-443", "multi-valued-mapping", "multi-valued-pairs"],
)
def test_reference_vectors(url: str, params: Params, expected: str) -> None:
    signature = Signer(TOKEN).sign(url, params)
    assert signature == expected
    assert compute_signature(TOKEN, url, params) == expected
    assert accepted(TOKEN, url, params, signature)


def test_reference_vector_json_body() -> None:
    assert body_sha256(JSON_BODY) == JSON_HASH
    signed_url = url_with_body_hash(URL, JSON_BODY)
    assert signed_url == f"{URL}&bodySHA256={JSON_HASH}"
    signature = compute_signature(TOKEN, signed_url)
    assert signature == "a9nBmqA0ju/hNViExpshrM61xv4="
    validator = RequestValidator(TOKEN)
    assert validator.validate(signed_url, JSON_BODY.decode(), signature)
    assert not validator.validate(signed_url, JSON_BODY.decode() + " ", signature)


# --- tables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "url", "params"),
    [
        ("secret", "https://app.example/sms", {"Body": "hi", "From": "+15551234567"}),
        # names sort by code point: upper case before lower case, shorter prefixes first
        ("secret", "https://app.example/sms", {"b": "1", "B": "2", "a": "3", "A": "", "ab": "x"}),
        # repeated values are signed once each, sorted
        ("secret", "https://app.example/sms", {"MediaUrl": ["z", "a", "z", "m"], "To": "+1"}),
        ("secret", "https://app.example/sms", [("k", "2"), ("k", "1"), ("j", "3"), ("k", "2")]),
        ("secret", "https://app.example/sms", {"Empty": [], "Body": ""}),
        # unicode in token, URL and params
        ("tökén✓", "https://app.example/sms", {"Body": "héllo wörld 🎉", "From": "+4915112345678"}),
        (
            "秘密",
            "https://例え.jp/受信?言語=日本",
            {"Body": "こんにちは", "名前": ["太郎", "花子"]},
        ),
        # query strings, explicit ports, plain http
        ("secret", "https://app.example/sms?tenant=7&debug=", {"Body": "x"}),
        ("secret", "http://127.0.0.1:8080/hooks/sms?x=1", {"Body": "x"}),
        ("secret", "http://localhost:80/sms", {"Body": "x"}),
        ("secret", "https://app.example:8443/", {"Body": "x"}),
        # no params at all
        ("secret", "https://app.example/sms", None),
        ("secret", "https://app.example/sms", {}),
        ("secret", "https://app.example/sms", []),
    ],
)
def test_validator_accepts(token: str, url: str, params: Params | None) -> None:
    signature = Signer(token).sign(url, params)
    assert accepted(token, url, params, signature)
    assert not accepted(token + "x", url, params, signature)


def test_realistic_inbound_payload() -> None:
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": "SM" + "0" * 32,
        "NumMedia": "0",
        "ToCity": "SAN BRUNO",
        "FromZip": "",
        "SmsSid": "SM" + "0" * 32,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": "you got it! 3",
        "FromCountry": "US",
        "To": "+16505552222",
        "ToZip": "94030",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": "AC" + "a" * 32,
        "From": "+16505551111",
        "ApiVersion": "2010-04-01",
    }
    token = "f" * 32
    signature = Signer(token).sign("https://app.example/sms", params)
    assert accepted(token, "https://app.example/sms", params, signature)
    changed = {**params, "Body": "you got it! 4"}
    assert not accepted(token, "https://app.example/sms", changed, signature)


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example/sms?From=%2B15551234567&Body=hello+there&To=%2B15557654321",
        "http://127.0.0.1:9000/sms?Body=caf%C3%A9&NumMedia=0",
        "https://app.example/sms",
    ],
)
def test_get_webhook_signs_the_url_alone(url: str) -> None:
    signature = Signer("secret").sign(url)
    assert signature == Signer("secret").sign(url, {})
    validator = RequestValidator("secret")
    assert validator.validate(url, {}, signature)
    assert validator.validate(url, None, signature)
    assert not validator.validate(url + "&x=1", {}, signature)


@pytest.mark.parametrize(
    ("with_fragment", "without"),
    [
        ("https://app.example/sms#rc=3&ct=2000", "https://app.example/sms"),
        ("https://app.example/sms?a=1#rp=all", "https://app.example/sms?a=1"),
        ("https://app.example/sms#", "https://app.example/sms"),
        ("http://127.0.0.1:8080/s?q=1#ct=100&rt=200&tt=300&rc=0", "http://127.0.0.1:8080/s?q=1"),
    ],
)
def test_fragment_is_not_signed(with_fragment: str, without: str) -> None:
    signer = Signer("secret")
    params = {"Body": "hi"}
    signature = signer.sign(with_fragment, params)
    assert signature == signer.sign(without, params)
    # the app receives the request without the fragment
    assert accepted("secret", without, params, signature)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/h", "https://a.example/h?bodySHA256={h}"),
        ("https://a.example/h?x=1", "https://a.example/h?x=1&bodySHA256={h}"),
        ("https://a.example/h?", "https://a.example/h?bodySHA256={h}"),
        ("https://a.example/h?x=1&", "https://a.example/h?x=1&bodySHA256={h}"),
        ("https://a.example/h#rc=2", "https://a.example/h?bodySHA256={h}#rc=2"),
        ("https://a.example/h?x=1#rc=2", "https://a.example/h?x=1&bodySHA256={h}#rc=2"),
    ],
)
def test_url_with_body_hash(url: str, expected: str) -> None:
    body = b'{"MessageSid": "SM1", "MessageStatus": "delivered"}'
    signed_url = url_with_body_hash(url, body)
    assert signed_url == expected.format(h=body_sha256(body))
    signature = Signer("secret").sign(signed_url)
    received_url = signed_url.partition("#")[0]
    validator = RequestValidator("secret")
    assert validator.validate(received_url, body.decode(), signature)
    assert not validator.validate(received_url, body.decode().replace("SM1", "SM2"), signature)


def test_body_sha256() -> None:
    assert body_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_signer_is_reusable_and_hides_its_token() -> None:
    signer = Signer("top-secret-token")
    first = signer.sign(URL, CALL)
    signer.sign("https://other.example/", {"a": "b"})
    assert signer.sign(URL, CALL) == first
    assert "top-secret-token" not in repr(signer)


def test_mapping_and_pairs_agree() -> None:
    mapping = {"To": "+1", "MediaUrl": ["b", "a", "b"], "Body": "x"}
    pairs = [("MediaUrl", "b"), ("Body", "x"), ("MediaUrl", "a"), ("To", "+1"), ("MediaUrl", "b")]
    signer = Signer("secret")
    assert signer.sign(URL, mapping) == signer.sign(URL, pairs)


# --- properties --------------------------------------------------------------------------

_URL_CHARS = string.ascii_letters + string.digits + "-._~%!$'*+,=:@"
_host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)
# anything but a fragment mark and the tab/CR/LF that urllib silently drops
_query_text = st.text(st.characters(codec="utf-8", exclude_characters="#\t\r\n"), max_size=6)
_path = st.lists(st.text(_URL_CHARS, max_size=8), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)
_query = st.lists(
    st.tuples(st.text(_URL_CHARS, min_size=1, max_size=6), _query_text), max_size=4
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(st.none() | st.integers(1, 65535))
    netloc = draw(_host) + ("" if port is None else f":{port}")
    query = draw(_query)
    # always a path, so adding or removing a port changes the URL part of the string
    return f"{scheme}://{netloc}{draw(_path)}" + (f"?{query}" if query else "")


_params = st.dictionaries(
    st.text(max_size=8),
    st.text(max_size=12) | st.lists(st.text(max_size=6), min_size=1, max_size=4),
    max_size=12,
)


@given(token=st.text(min_size=1, max_size=40), url=urls(), params=_params)
def test_property_validator_accepts(
    token: str, url: str, params: dict[str, str | list[str]]
) -> None:
    signature = Signer(token).sign(url, params)
    assert signature == compute_signature(token, url, params)
    assert accepted(token, url, params, signature)


@given(
    token=st.text(min_size=1, max_size=40),
    url=urls(),
    params=_params.filter(bool),
    data=st.data(),
)
def test_property_changed_param_is_rejected(
    token: str, url: str, params: dict[str, str | list[str]], data: st.DataObject
) -> None:
    signature = Signer(token).sign(url, params)
    name = data.draw(st.sampled_from(sorted(params)))
    value = params[name]
    values = [value] if isinstance(value, str) else list(value)
    index = data.draw(st.integers(0, len(values) - 1))
    changed_value = values[index] + data.draw(st.characters(codec="utf-8"))
    # a value that merges into an existing one could leave the signed string unchanged
    assume(changed_value not in values)
    values[index] = changed_value
    changed = {**params, name: values}
    assert not accepted(token, url, changed, signature)


@given(token=st.text(min_size=1, max_size=40), url=urls(), frag=st.text(max_size=20))
def test_property_fragment_ignored(token: str, url: str, frag: str) -> None:
    signer = Signer(token)
    assert signer.sign(f"{url}#{frag}", {"Body": frag}) == signer.sign(url, {"Body": frag})


@given(token=st.text(min_size=1, max_size=40), url=urls(), body=st.text(max_size=200))
def test_property_body_hash(token: str, url: str, body: str) -> None:
    signed_url = url_with_body_hash(url, body.encode())
    signature = Signer(token).sign(signed_url)
    validator = RequestValidator(token)
    assert validator.validate(signed_url, body, signature)
    assert not validator.validate(signed_url, body + "x", signature)


# -- templates: many signatures that differ in a few values -------------------------------------
TEMPLATE_TOKEN = "fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize(
    ("params", "values"),
    [
        # the SID in three parameters and inside a media URL, the sender in one
        (
            [
                ("SmsSid", (0,)),
                ("Body", "CS1O1 & more"),
                ("MediaUrl0", ("https://api.twilio.com/Messages/", 0, "/Media/ME1")),
                ("From", (1,)),
                ("MessageSid", (0,)),
                ("FromCity", ""),
            ],
            [("SM" + "ab" * 16, "+15551230001"), ("MM" + "0" * 32, "+447700900123")],
        ),
        # repeated literal names keep the sorted order of their values
        (
            [("Tag", "b"), ("Tag", "a"), ("Z", (0,)), ("A", (1,)), ("Tag", "a")],
            [("x", "y"), ("é", "")],
        ),
    ],
)
@given(st.data())
def test_a_template_signs_as_the_official_validator_checks(
    params: list[tuple[str, str | tuple[str | int, ...]]],
    values: list[tuple[str, str]],
    data: st.DataObject,
) -> None:
    url = "https://example.com/sms?class=1#rc=2"
    template = SignatureTemplate(Signer(TEMPLATE_TOKEN), signed_pieces(url, params))
    validator = RequestValidator(TEMPLATE_TOKEN)
    extra = data.draw(st.tuples(st.text(max_size=8), st.text(max_size=8)))
    for pair in [*values, extra]:
        filled = [
            (
                n,
                v
                if isinstance(v, str)
                else "".join(p if isinstance(p, str) else pair[p] for p in v),
            )
            for n, v in params
        ]
        signature = template.sign([pair[0].encode(), pair[1].encode()])
        assert signature == Signer(TEMPLATE_TOKEN).sign(url, filled)
        assert validator.validate(url.split("#")[0], form(filled), signature)


def test_a_slotted_parameter_must_be_the_only_one_of_its_name() -> None:
    with pytest.raises(ValueError, match="only one of its name"):
        signed_pieces("https://example.com/", [("From", (1,)), ("From", "+15550001111")])
