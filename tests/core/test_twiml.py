from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from twilio.twiml.messaging_response import Body, Media, Message, MessagingResponse

from twsim.core.errors import TwimlError
from twsim.core.twiml import (
    MAX_MEDIA,
    MAX_TWIML_BYTES,
    MessageVerb,
    Plan,
    RedirectVerb,
    TwimlDocument,
    Verb,
    parse_twiml,
)


def response(inner: str) -> str:
    return f"<Response>{inner}</Response>"


def codes(document: TwimlDocument) -> list[int]:
    return [warning.code for warning in document.warnings]


def fatal(document: bytes | str, **kwargs: int) -> TwimlError:
    with pytest.raises(TwimlError) as caught:
        parse_twiml(document, **kwargs)
    return caught.value


# ---------------------------------------------------------------------------------------
# Fatal errors: (document, code, words the message must contain)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Response><Message>&lol9;</Message></Response>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><Message>&xxe;</Message></Response>"""

EXTERNAL_DTD = '<!DOCTYPE Response SYSTEM "http://127.0.0.1:1/evil.dtd"><Response><Message>x</Message></Response>'

PARAMETER_ENTITY = (
    '<!DOCTYPE Response [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]>'
    "<Response><Message>x</Message></Response>"
)

FATAL = [
    pytest.param(b"", 12100, "empty", id="empty-bytes"),
    pytest.param("", 12100, "empty", id="empty-str"),
    pytest.param(" \n\t ", 12100, "empty", id="whitespace-only"),
    pytest.param('<?xml version="1.0"?>', 12100, "no element", id="declaration-only"),
    pytest.param("<!-- nothing -->", 12100, "no element", id="comment-only"),
    pytest.param("<Response><Message>hi</Response>", 12100, "mismatched tag", id="mismatched"),
    pytest.param("<Response><Message>hi</Message>", 12100, "no element", id="unclosed-root"),
    pytest.param(response("<Message>a & b</Message>"), 12100, "not well-formed", id="bare-amp"),
    pytest.param(response("<Message>a < b</Message>"), 12100, "not well-formed", id="bare-lt"),
    pytest.param("<Response><Message to=+1555>x</Message></Response>", 12100, "", id="unquoted"),
    pytest.param(response("<Message>&nbsp;</Message>"), 12100, "undefined entity", id="entity"),
    pytest.param(response("<Message>&#0;</Message>"), 12100, "reference", id="char-ref-nul"),
    pytest.param("<Response/><Response/>", 12100, "junk after document", id="two-roots"),
    pytest.param("<Response/>trailing", 12100, "junk after document", id="trailing-text"),
    pytest.param("hello", 12100, "syntax error", id="plain-text"),
    pytest.param('{"body": "hi"}', 12100, "not well-formed", id="json"),
    pytest.param(BILLION_LAUGHS, 12100, "DOCTYPE", id="billion-laughs"),
    pytest.param(BILLION_LAUGHS.decode(), 12100, "DOCTYPE", id="billion-laughs-str"),
    pytest.param(EXTERNAL_ENTITY, 12100, "DOCTYPE", id="external-entity"),
    pytest.param(EXTERNAL_DTD, 12100, "DOCTYPE", id="external-dtd"),
    pytest.param(PARAMETER_ENTITY, 12100, "DOCTYPE", id="parameter-entity"),
    pytest.param("<!DOCTYPE Response><Response/>", 12100, "DOCTYPE", id="bare-doctype"),
    # Refused even where it would be harmless: the check runs before parsing.
    pytest.param(response("<!-- <!DOCTYPE x> -->"), 12100, "DOCTYPE", id="doctype-in-comment"),
    pytest.param(b"\xff\xfe\x00\xd8" + "<Response/>".encode("utf-16-le"), 12100, "utf-16", id="bad-utf16"),
    pytest.param(response("<Message>caf\xe9</Message>").encode("latin-1"), 12100, "utf-8", id="latin1-undeclared"),
    pytest.param(b'<?xml version="1.0" encoding="klingon"?><Response/>', 12100, "unknown encoding", id="unknown-encoding"),
    pytest.param(b'<?xml version="1.0" encoding="hex"?><Response/>', 12100, "hex", id="binary-codec"),
    pytest.param(b'<?xml version="1.0" encoding="unicode_escape"?><Response/>', 12100, "unsupported", id="escape-codec"),
    pytest.param(b'<?xml version="1.0" encoding="UTF-16"?><Response/>', 12100, "byte order mark", id="utf16-without-bom"),
    pytest.param(response("<Message>\ud800</Message>"), 12100, "Unicode", id="lone-surrogate"),
    pytest.param("<response><Message>x</Message></response>", 12102, "<response>", id="lowercase-root"),
    pytest.param("<Foo/>", 12102, "<Foo>", id="other-root"),
    pytest.param("<Message>hi</Message>", 12102, "<Message>", id="verb-as-root"),
    pytest.param('<tw:Response xmlns:tw="urn:x"/>', 12102, "<tw:Response>", id="prefixed-root"),
    pytest.param(
        '<?xml version="1.0"?><!-- hi --><Say>hi</Say>', 12102, "<Say>", id="voice-verb-root"
    ),
    # Not well formed wins over a wrong root: the whole document is read before judging it.
    pytest.param("<Foo><Bar></Foo>", 12100, "mismatched tag", id="bad-root-and-malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "code", "words"), FATAL)
def test_fatal_errors(document: bytes | str, code: int, words: str) -> None:
    error = fatal(document)
    assert (error.code, error.fatal) == (code, True)
    assert words in error.message
    assert error.message.startswith(("Document parse failure: ", "Root element must be Response: "))


SIZE = [
    pytest.param(100, 100, False, id="at-limit"),
    pytest.param(101, 100, True, id="over-limit"),
    pytest.param(MAX_TWIML_BYTES, MAX_TWIML_BYTES, False, id="default-at-limit"),
    pytest.param(MAX_TWIML_BYTES + 1, MAX_TWIML_BYTES, True, id="default-over-limit"),
]


def padded(size: int, filler: str = " ") -> str:
    base = response("<Message>hi</Message>")
    return base + filler * (size - len(base.encode()))


@pytest.mark.parametrize(("size", "limit", "refused"), SIZE)
@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_size_limit(size: int, limit: int, refused: bool, as_bytes: bool) -> None:
    text = padded(size)
    document: bytes | str = text.encode() if as_bytes else text
    kwargs = {} if limit == MAX_TWIML_BYTES else {"max_bytes": limit}
    if refused:
        error = fatal(document, **kwargs)
        assert error.code == 12100
        assert f"{size} bytes" in error.message
    else:
        assert parse_twiml(document, **kwargs).verbs == (MessageVerb("hi"),)


def test_str_size_is_measured_in_utf8_bytes() -> None:
    base = response("<Message>hi</Message>")
    text = base + "\N{EM DASH}" * 30  # 3 bytes each in UTF-8
    limit = len(base) + 60  # more characters than the text has, fewer bytes
    assert len(text) <= limit < len(text.encode())
    assert fatal(text, max_bytes=limit).code == 12100
    assert fatal(text.encode(), max_bytes=limit).code == 12100


def test_oversized_document_is_refused_before_parsing() -> None:
    document = response("<Message>" + "a" * (10 * MAX_TWIML_BYTES) + "</Message>")
    assert fatal(document).code == 12100


# ---------------------------------------------------------------------------------------
# Well-formed documents: (inner TwiML, verbs)

VALID: list[object] = [
    pytest.param("", (), id="empty-response"),
    pytest.param("<Message>hi</Message>", (MessageVerb("hi"),), id="plain"),
    pytest.param("<Message>\n   Store Location: 123 Easy St.\n</Message>", (MessageVerb("Store Location: 123 Easy St."),), id="strip-text"),
    pytest.param("<Message>  two  inner  spaces  </Message>", (MessageVerb("two  inner  spaces"),), id="inner-space-kept"),
    pytest.param("<Message>line 1\nline 2</Message>", (MessageVerb("line 1\nline 2"),), id="newline-kept"),
    pytest.param("<Message>Hi &amp; &lt;bye&gt; &quot;&apos;&#233;&#x1F600;</Message>", (MessageVerb("Hi & <bye> \"'é\U0001f600"),), id="entities"),
    pytest.param("<Message><![CDATA[a < b & c]]></Message>", (MessageVerb("a < b & c"),), id="cdata"),
    pytest.param("<Message>a<!-- note -->b</Message>", (MessageVerb("ab"),), id="comment-in-body"),
    pytest.param("<!-- first --><Message>hi</Message><!-- last -->", (MessageVerb("hi"),), id="comments"),
    pytest.param("<?app hint?><Message>hi</Message>", (MessageVerb("hi"),), id="processing-instruction"),
    pytest.param("<Message><Body> Hello </Body></Message>", (MessageVerb("Hello"),), id="body-noun"),
    pytest.param("<Message><Body>Hello, </Body><Body> world</Body></Message>", (MessageVerb("Hello,world"),), id="bodies-concatenated-stripped"),
    pytest.param("<Message>\n  <Body>A</Body>\n  <Body>B</Body>\n</Message>", (MessageVerb("AB"),), id="bodies-indented"),
    pytest.param("<Message>Intro <Body>Body</Body></Message>", (MessageVerb("IntroBody"),), id="text-then-body"),
    pytest.param("<Message><Media> https://x.test/a.png </Media></Message>", (MessageVerb("", ("https://x.test/a.png",)),), id="media-only"),
    pytest.param(
        "<Message>Look <Media>https://x.test/1.png</Media> here <Media>/2.png</Media></Message>",
        (MessageVerb("Look  here", ("https://x.test/1.png", "/2.png")),),
        id="text-around-media",
    ),
    pytest.param(
        "<Message><Body>Pics</Body>" + "<Media>u</Media>" * MAX_MEDIA + "</Message>",
        (MessageVerb("Pics", ("u",) * MAX_MEDIA),),
        id="ten-media",
    ),
    pytest.param("<Message>" + "x" * 1600 + "</Message>", (MessageVerb("x" * 1600),), id="body-1600"),
    pytest.param("<Message>" + "\N{GRINNING FACE}" * 1600 + "</Message>", (MessageVerb("\N{GRINNING FACE}" * 1600),), id="body-1600-astral"),
    pytest.param(
        '<Message to="+15551230000" from="+15559870000">hi</Message>',
        (MessageVerb("hi", to="+15551230000", from_="+15559870000"),),
        id="to-from",
    ),
    pytest.param('<Message to=" 5551230000 ">hi</Message>', (MessageVerb("hi", to=" 5551230000 "),), id="to-kept-raw"),
    pytest.param('<Message from="MyBrand">hi</Message>', (MessageVerb("hi", from_="MyBrand"),), id="alphanumeric-from"),
    pytest.param(
        '<Message action="https://app.test/status" method="get">hi</Message>',
        (MessageVerb("hi", action="https://app.test/status", method="GET"),),
        id="action-method-lower",
    ),
    pytest.param('<Message method="Post">hi</Message>', (MessageVerb("hi", method="POST"),), id="method-mixed-case"),
    pytest.param(
        '<Message statusCallback="/cb?x=1&amp;y=2">hi</Message>',
        (MessageVerb("hi", status_callback="/cb?x=1&y=2"),),
        id="status-callback-relative",
    ),
    pytest.param("<Redirect>/next</Redirect>", (RedirectVerb("/next"),), id="redirect"),
    pytest.param('<Redirect method="GET">\n  https://app.test/next?a=1\n</Redirect>', (RedirectVerb("https://app.test/next?a=1", "GET"),), id="redirect-absolute-stripped"),
    pytest.param('<Redirect method="get">next.xml</Redirect>', (RedirectVerb("next.xml", "GET"),), id="redirect-relative-lower-method"),
    pytest.param(
        "<Message>one</Message><Message>two</Message><Redirect>/r</Redirect><Message>three</Message>",
        (MessageVerb("one"), MessageVerb("two"), RedirectVerb("/r"), MessageVerb("three")),
        id="multiple-verbs-in-order",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("inner", "verbs"), VALID)
def test_valid_documents(inner: str, verbs: tuple[Verb, ...]) -> None:
    document = parse_twiml(response(inner))
    assert document.verbs == verbs
    assert document.warnings == ()


@pytest.mark.parametrize(
    "w",
    ["  ", "\n", "\r\n", "\t", " \n\t\r\n "],
    ids=["spaces", "lf", "crlf", "tab", "mixed"],
)
def test_whitespace_around_and_between_verbs(w: str) -> None:
    inner = f"{w}<Message>{w}hi{w}</Message>{w}<Redirect>{w}/r{w}</Redirect>{w}"
    for text in (
        f"{w}<Response>{inner}</Response>{w}",
        f'<?xml version="1.0"?>{w}<Response>{inner}</Response>',
    ):
        document = parse_twiml(text)
        assert document.verbs == (MessageVerb("hi"), RedirectVerb("/r"))
        assert document.warnings == ()


# ---------------------------------------------------------------------------------------
# Warnings: (inner TwiML, verbs kept, warning codes in order, words in the first warning)

WARNINGS = [
    # 14110: voice verbs are not messaging verbs; <Sms> is <Message>'s old name
    pytest.param("<Say>hello</Say><Message>hi</Message>", (MessageVerb("hi"),), [14110], "<Say>", id="voice-verb"),
    pytest.param("<Dial><Number>+1555</Number></Dial>", (), [14110], "Message, Sms and Redirect", id="voice-verb-with-nouns"),
    # 12200: unknown verbs and names are case-sensitive
    pytest.param("<Foo><Message>inner</Message></Foo>", (), [12200], "<Foo>", id="unknown-verb-subtree-dropped"),
    pytest.param("<message>hi</message>", (), [12200], "<message>", id="lowercase-verb"),
    pytest.param("<Response><Message>x</Message></Response>", (), [12200], "<Response>", id="nested-response"),
    pytest.param("<Body>hi</Body>", (), [12200], "<Body>", id="noun-as-verb"),
    pytest.param("Hello<Message>hi</Message>", (MessageVerb("hi"),), [12200], "Hello", id="text-in-response"),
    # 12200: nesting
    pytest.param("<Message>hi<Foo>x</Foo></Message>", (MessageVerb("hi"),), [12200], "<Foo>", id="unknown-noun"),
    pytest.param("<Message>hi<Message>x</Message></Message>", (MessageVerb("hi"),), [12200], "<Message>", id="message-in-message"),
    pytest.param("<Message>hi<Redirect>/r</Redirect></Message>", (MessageVerb("hi"),), [12200], "<Redirect>", id="redirect-in-message"),
    pytest.param("<Message><body>x</body></Message>", (), [12200, 14103], "<body>", id="lowercase-noun"),
    pytest.param("<Redirect>/r<Message>x</Message></Redirect>", (RedirectVerb("/r"),), [12200], "inside <Redirect>", id="nested-in-redirect"),
    pytest.param("<Redirect><Body>/r</Body></Redirect>", (), [12200, 12200], "inside <Redirect>", id="noun-in-redirect"),
    pytest.param("<Message><Body>a<b>x</b>c</Body></Message>", (MessageVerb("ac"),), [12200], "inside <Body>", id="element-in-body"),
    pytest.param("<Message><Media>u<i/></Media></Message>", (MessageVerb("", ("u",)),), [12200], "inside <Media>", id="element-in-media"),
    # 12200: unknown attributes are ignored, the element kept
    pytest.param('<Message foo="1">hi</Message>', (MessageVerb("hi"),), [12200], "'foo' on <Message>", id="message-attr"),
    pytest.param('<Message To="+1555">hi</Message>', (MessageVerb("hi"),), [12200], "'To'", id="attr-case-sensitive"),
    pytest.param('<Message status_callback="/s">hi</Message>', (MessageVerb("hi"),), [12200], "'status_callback'", id="snake-case-attr"),
    pytest.param('<Message><Body lang="en">hi</Body></Message>', (MessageVerb("hi"),), [12200], "'lang' on <Body>", id="body-attr"),
    pytest.param('<Message><Media type="png">u</Media></Message>', (MessageVerb("", ("u",)),), [12200], "'type' on <Media>", id="media-attr"),
    pytest.param('<Redirect timeout="5">/r</Redirect>', (RedirectVerb("/r"),), [12200], "'timeout' on <Redirect>", id="redirect-attr"),
    # 12200: media
    pytest.param("<Message>hi<Media>  </Media></Message>", (MessageVerb("hi"),), [12200], "empty <Media>", id="empty-media"),
    pytest.param(
        "<Message>" + "".join(f"<Media>/{n}</Media>" for n in range(12)) + "</Message>",
        (MessageVerb("", tuple(f"/{n}" for n in range(MAX_MEDIA))),),
        [12200],
        "12 <Media>",
        id="eleven-plus-media",
    ),
    # 12200: redirect
    pytest.param("<Redirect>  </Redirect><Message>hi</Message>", (MessageVerb("hi"),), [12200], "no URL", id="empty-redirect"),
    pytest.param("<Redirect/>", (), [12200], "no URL", id="self-closed-redirect"),
    pytest.param("<Redirect>ftp://x.test/next</Redirect>", (), [12200], "ftp://", id="redirect-bad-scheme"),
    pytest.param("<Redirect>/a b</Redirect>", (), [12200], "'/a b'", id="redirect-space"),
    pytest.param('<Redirect method="PUT">/r</Redirect>', (RedirectVerb("/r"),), [12200], "method='PUT'", id="redirect-bad-method"),
    # 14101 / 14102: blank to/from drop the message
    pytest.param('<Message to="">hi</Message><Message>ok</Message>', (MessageVerb("ok"),), [14101], "'to'", id="empty-to"),
    pytest.param('<Message to="  ">hi</Message>', (), [14101], "'to'", id="blank-to"),
    pytest.param('<Message from="">hi</Message>', (), [14102], "'from'", id="empty-from"),
    pytest.param('<Message to="" from="">hi</Message>', (), [14101, 14102], "'to'", id="empty-to-and-from"),
    # 14103: no content or too long drops the message
    pytest.param("<Message/>", (), [14103], "no body and no media", id="self-closed"),
    pytest.param("<Message>   \n  </Message>", (), [14103], "no body and no media", id="blank"),
    pytest.param("<Message><Body/></Message>", (), [14103], "no body", id="empty-body-noun"),
    pytest.param("<Message><Body> </Body><Body/></Message>", (), [14103], "no body", id="blank-bodies"),
    pytest.param("<Message><!-- only a comment --></Message>", (), [14103], "no body", id="comment-only"),
    pytest.param("<Message>" + "x" * 1601 + "</Message>", (), [14103], "1601 characters", id="body-1601"),
    pytest.param("<Message>" + "x" * 1000 + "<Body>" + "y" * 601 + "</Body></Message>", (), [14103], "1601 characters", id="concatenated-1601"),
    pytest.param("<Message>" + "y" * 20000 + "</Message>", (), [14103], "20000 characters", id="long-text-buffered"),
    pytest.param("<Message>" + "x" * 1601 + "<Media>u</Media></Message>", (), [14103], "1601", id="long-body-with-media"),
    pytest.param("<Message/><Message>ok</Message>", (MessageVerb("ok"),), [14103], "no body", id="later-message-kept"),
    # 14104: bad method ignored, message kept
    pytest.param('<Message method="PUT">hi</Message>', (MessageVerb("hi"),), [14104], "method='PUT'", id="method-put"),
    pytest.param('<Message method="">hi</Message>', (MessageVerb("hi"),), [14104], "method=''", id="method-empty"),
    pytest.param('<Message method=" GET">hi</Message>', (MessageVerb("hi"),), [14104], "method=' GET'", id="method-padded"),
    # 14105: bad callback URLs ignored, message kept
    pytest.param('<Message action="ftp://x.test/s">hi</Message>', (MessageVerb("hi"),), [14105], "action='ftp://x.test/s'", id="action-ftp"),
    pytest.param('<Message statusCallback="http://">hi</Message>', (MessageVerb("hi"),), [14105], "statusCallback='http://'", id="callback-no-host"),
    pytest.param('<Message action="" statusCallback="/ok">hi</Message>', (MessageVerb("hi", status_callback="/ok"),), [14105], "action=''", id="action-empty"),
    # Several problems in one message: every one reported, in document order
    pytest.param(
        '<Message to="" method="put" action="ftp://x" statusCallback="/ok" x="1"><Body a="1"/><Foo/></Message>',
        (),
        [14101, 14104, 14105, 12200, 12200, 12200, 14103],
        "'to'",
        id="everything-wrong",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("inner", "verbs", "expected", "words"), WARNINGS)
def test_warnings(inner: str, verbs: tuple[Verb, ...], expected: list[int], words: str) -> None:
    document = parse_twiml(response(inner))
    assert document.verbs == verbs
    assert codes(document) == expected
    assert all(isinstance(w, TwimlError) and not w.fatal for w in document.warnings)
    assert words in document.warnings[0].message


def test_sms_is_the_old_name_of_message() -> None:
    document = parse_twiml(response('<Sms to="+15551230002">hi</Sms><Message>there</Message>'))
    assert document.verbs == (MessageVerb("hi", to="+15551230002"), MessageVerb("there"))
    assert document.warnings == ()


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        (12200, "Schema validation warning: "),
        (14110, "Invalid Verb for SMS Reply: "),
        (14101, 'Invalid "To" attribute: '),
        (14102, 'Invalid "From" attribute: '),
        (14103, "Invalid Body: "),
        (14104, "Invalid Method attribute: "),
        (14105, "Invalid statusCallback attribute: "),
    ],
)
def test_warning_messages_start_with_twilio_wording(code: int, prefix: str) -> None:
    inner = {
        12200: "<Foo>x</Foo>",
        14110: "<Say>x</Say>",
        14101: '<Message to="">x</Message>',
        14102: '<Message from="">x</Message>',
        14103: "<Message/>",
        14104: '<Message method="PATCH">x</Message>',
        14105: '<Message statusCallback="mailto:a@b.test">x</Message>',
    }[code]
    (warning,) = parse_twiml(response(inner)).warnings
    assert warning.code == code
    assert warning.status == 502
    assert warning.message.startswith(prefix)


# ---------------------------------------------------------------------------------------
# URL rule for action / statusCallback (and <Redirect>)

URLS = [
    pytest.param("https://app.test/status", True, id="https"),
    pytest.param("http://127.0.0.1:8000/cb?x=1#frag", True, id="http-port-query"),
    pytest.param("HTTPS://APP.TEST/S", True, id="upper-scheme"),
    pytest.param("http://user:pw@app.test/s", True, id="userinfo"),
    pytest.param("http://[::1]:8080/s", True, id="ipv6"),
    pytest.param("/status", True, id="absolute-path"),
    pytest.param("status", True, id="relative-path"),
    pytest.param("../up?x=1", True, id="dot-dot"),
    pytest.param("?only=query", True, id="query-only"),
    pytest.param("//cdn.app.test/s", True, id="network-path"),
    pytest.param("", False, id="empty"),
    pytest.param("ftp://app.test/s", False, id="ftp"),
    pytest.param("mailto:someone@app.test", False, id="mailto"),
    pytest.param("javascript:alert(1)", False, id="javascript"),
    pytest.param("c:/windows", False, id="drive-letter-as-scheme"),
    pytest.param("http://", False, id="no-host"),
    pytest.param("http:///path", False, id="empty-host"),
    pytest.param("http:app.test", False, id="no-slashes"),
    pytest.param("http://app.test:99999/", False, id="port-out-of-range"),
    pytest.param("http://app.test:abc/", False, id="port-not-number"),
    pytest.param("http://[::1/", False, id="broken-ipv6"),
    pytest.param("/with space", False, id="space"),
    pytest.param(" /leading", False, id="leading-space"),
    pytest.param("/tab\there", False, id="tab"),
    pytest.param("/nbsp\u00a0here", False, id="unicode-space"),
]


@pytest.mark.parametrize(("url", "valid"), URLS)
@pytest.mark.parametrize("attribute", ["action", "statusCallback"])
def test_callback_url_rule(attribute: str, url: str, valid: bool) -> None:
    escaped = url.replace("&", "&amp;").replace("\t", "&#9;")
    document = parse_twiml(response(f'<Message {attribute}="{escaped}">hi</Message>'))
    (message,) = document.verbs
    assert isinstance(message, MessageVerb)
    assert message.callback_url == (url if valid else None)
    assert codes(document) == ([] if valid else [14105])


@pytest.mark.parametrize(("url", "valid"), [u for u in URLS if u.id not in ("leading-space",)])
def test_redirect_url_rule(url: str, valid: bool) -> None:
    escaped = url.replace("&", "&amp;")
    document = parse_twiml(response(f"<Redirect>{escaped}</Redirect>"))
    assert document.verbs == ((RedirectVerb(url),) if valid else ())
    assert codes(document) == ([] if valid else [12200])


# ---------------------------------------------------------------------------------------
# Documents written by the official twilio-python generator


def generated_message_with_everything() -> MessagingResponse:
    reply = MessagingResponse()
    reply.message(
        "Hi & <bye>",
        to="+15551230000",
        from_="+15559870000",
        action="https://app.test/status",
        method="GET",
        status_callback="/legacy-status",
    )
    return reply


def generated_nouns() -> MessagingResponse:
    reply = MessagingResponse()
    message = Message()
    message.append(Body("Part one. "))
    message.append(Body("Part two."))
    message.append(Media("https://demo.twilio.com/owl.png"))
    message.append(Media("https://demo.twilio.com/logo.png"))
    reply.append(message)
    return reply


def generated_media_helpers() -> MessagingResponse:
    reply = MessagingResponse()
    message = Message()
    message.body("Look")
    message.media("https://demo.twilio.com/owl.png")
    reply.append(message)
    return reply


def generated_multiple_and_redirect() -> MessagingResponse:
    reply = MessagingResponse()
    reply.message("first")
    reply.message("second", status_callback="https://app.test/cb")
    reply.redirect("https://app.test/next", method="POST")
    reply.message("never sent")
    return reply


def generated_relative_redirect() -> MessagingResponse:
    reply = MessagingResponse()
    reply.redirect("/sms/step-2")
    return reply


def generated_empty() -> MessagingResponse:
    return MessagingResponse()


def generated_unicode() -> MessagingResponse:
    reply = MessagingResponse()
    reply.message("Ça marche \N{THUMBS UP SIGN} — 你好")
    return reply


GENERATED = [
    pytest.param(
        generated_message_with_everything,
        (
            MessageVerb(
                "Hi & <bye>",
                to="+15551230000",
                from_="+15559870000",
                action="https://app.test/status",
                method="GET",
                status_callback="/legacy-status",
            ),
        ),
        Plan((MessageVerb("Hi & <bye>", to="+15551230000", from_="+15559870000", action="https://app.test/status", method="GET", status_callback="/legacy-status"),), None),
        id="message-attributes",
    ),
    pytest.param(
        generated_nouns,
        (MessageVerb("Part one.Part two.", ("https://demo.twilio.com/owl.png", "https://demo.twilio.com/logo.png")),),
        None,
        id="body-and-media-nouns",
    ),
    pytest.param(
        generated_media_helpers,
        (MessageVerb("Look", ("https://demo.twilio.com/owl.png",)),),
        None,
        id="noun-helpers",
    ),
    pytest.param(
        generated_multiple_and_redirect,
        (
            MessageVerb("first"),
            MessageVerb("second", status_callback="https://app.test/cb"),
            RedirectVerb("https://app.test/next", "POST"),
            MessageVerb("never sent"),
        ),
        Plan((MessageVerb("first"), MessageVerb("second", status_callback="https://app.test/cb")), RedirectVerb("https://app.test/next")),
        id="multiple-then-redirect",
    ),
    pytest.param(generated_relative_redirect, (RedirectVerb("/sms/step-2"),), Plan((), RedirectVerb("/sms/step-2")), id="relative-redirect"),
    pytest.param(generated_empty, (), Plan((), None), id="empty"),
    pytest.param(generated_unicode, (MessageVerb("Ça marche \N{THUMBS UP SIGN} — 你好"),), None, id="unicode"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "verbs", "plan"), GENERATED)
@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_generated_documents(
    build: Callable[[], MessagingResponse],
    verbs: tuple[Verb, ...],
    plan: Plan | None,
    as_bytes: bool,
) -> None:
    text = str(build())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
    document = parse_twiml(text.encode() if as_bytes else text)
    assert document.verbs == verbs
    assert document.warnings == ()
    if plan is not None:
        assert document.plan() == plan


def test_generator_reference_output_from_facts_sheet() -> None:
    document = parse_twiml(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message action="/s" method="GET" '
        'statusCallback="/s" to="+1555">Hi &amp; &lt;bye&gt;</Message>'
        '<Redirect method="POST">/next</Redirect></Response>'
    )
    message = MessageVerb("Hi & <bye>", to="+1555", action="/s", method="GET", status_callback="/s")
    assert document.verbs == (message, RedirectVerb("/next"))
    # The action makes the redirect unreachable.
    assert document.plan() == Plan((message,), None)


# ---------------------------------------------------------------------------------------
# plan(): Twilio's execution rule

HI = MessageVerb("hi")
BYE = MessageVerb("bye")
WITH_ACTION = MessageVerb("done", action="/after")
WITH_CALLBACK = MessageVerb("cb", status_callback="/cb")
NEXT = RedirectVerb("/next")
OTHER = RedirectVerb("/other", "GET")

PLANS = [
    pytest.param((), Plan((), None), id="nothing"),
    pytest.param((HI,), Plan((HI,), None), id="one-message"),
    pytest.param((HI, BYE), Plan((HI, BYE), None), id="all-messages"),
    pytest.param((HI, NEXT), Plan((HI,), NEXT), id="message-then-redirect"),
    pytest.param((NEXT, HI), Plan((), NEXT), id="redirect-first"),
    pytest.param((HI, NEXT, BYE, OTHER), Plan((HI,), NEXT), id="after-redirect-unreachable"),
    pytest.param((HI, WITH_ACTION, BYE), Plan((HI, WITH_ACTION), None), id="after-action-unreachable"),
    pytest.param((WITH_ACTION, NEXT), Plan((WITH_ACTION,), None), id="action-hides-redirect"),
    pytest.param((WITH_CALLBACK, BYE, NEXT), Plan((WITH_CALLBACK, BYE), NEXT), id="status-callback-does-not-cut"),
]  # fmt: skip


@pytest.mark.parametrize(("verbs", "plan"), PLANS)
def test_plan(verbs: tuple[Verb, ...], plan: Plan) -> None:
    assert TwimlDocument(verbs, ()).plan() == plan


@pytest.mark.parametrize(("verbs", "plan"), PLANS)
def test_plan_from_parsed_document(verbs: tuple[Verb, ...], plan: Plan) -> None:
    parts = []
    for verb in verbs:
        if isinstance(verb, RedirectVerb):
            parts.append(f'<Redirect method="{verb.method}">{verb.url}</Redirect>')
        else:
            action = f' action="{verb.action}"' if verb.action else ""
            callback = f' statusCallback="{verb.status_callback}"' if verb.status_callback else ""
            parts.append(f"<Message{action}{callback}>{verb.body}</Message>")
    assert parse_twiml(response("".join(parts))).plan() == plan


def test_dropped_verbs_do_not_cut_the_plan() -> None:
    # A message whose action is invalid keeps running the rest; a dropped redirect too.
    document = parse_twiml(
        response(
            '<Message action="ftp://x">a</Message><Redirect/><Message action="/ok" to="">b</Message>'
            "<Message>c</Message>"
        )
    )
    assert document.plan() == Plan((MessageVerb("a"), MessageVerb("c")), None)
    assert codes(document) == [14105, 12200, 14101]


# ---------------------------------------------------------------------------------------
# Encodings: bytes in the declared encoding, str as given

BODY = "Café ñandú €5, ¿ok?"
ENCODINGS = [
    pytest.param(f'<?xml version="1.0" encoding="UTF-8"?>{response(f"<Message>{BODY}</Message>")}'.encode(), id="utf8-declared"),
    pytest.param(response(f"<Message>{BODY}</Message>").encode(), id="utf8-undeclared"),
    pytest.param(b"\xef\xbb\xbf" + response(f"<Message>{BODY}</Message>").encode(), id="utf8-bom"),
    pytest.param(f"<?xml version='1.0' encoding='utf-8'?>{response(f'<Message>{BODY}</Message>')}".encode(), id="utf8-single-quotes"),
    pytest.param(f'<?xml version="1.0" encoding = "utf8" standalone="yes"?>{response(f"<Message>{BODY}</Message>")}'.encode(), id="utf8-alias-spaced"),
    pytest.param(f'<?xml version="1.0" encoding="windows-1252"?>{response(f"<Message>{BODY}</Message>")}'.encode("cp1252"), id="cp1252"),
    pytest.param(f'<?xml version="1.0" encoding="ISO-8859-15"?>{response(f"<Message>{BODY}</Message>")}'.encode("iso-8859-15"), id="latin9"),
    pytest.param(f'<?xml version="1.0" encoding="UTF-16"?>{response(f"<Message>{BODY}</Message>")}'.encode("utf-16"), id="utf16-bom"),
    pytest.param(f'<?xml version="1.0" encoding="UTF-16"?>{response(f"<Message>{BODY}</Message>")}'.encode("utf-16-le"), id="utf16le-no-bom"),
    pytest.param(f'<?xml version="1.0" encoding="UTF-16"?>{response(f"<Message>{BODY}</Message>")}'.encode("utf-16-be"), id="utf16be-no-bom"),
    pytest.param(response(f"<Message>{BODY}</Message>").encode("utf-32"), id="utf32-bom"),
    pytest.param(response(f"<Message>{BODY}</Message>"), id="str"),
    pytest.param("\ufeff" + response(f"<Message>{BODY}</Message>"), id="str-bom"),
    pytest.param(f'<?xml-stylesheet href="a.xsl"?>{response(f"<Message>{BODY}</Message>")}'.encode(), id="utf8-leading-pi"),
    pytest.param(f'<?xml version="1.0" encoding="ISO-8859-1"?>{response(f"<Message>{BODY}</Message>")}', id="str-declaration-ignored"),
    pytest.param(f'<?xml version="1.0" encoding="UTF-16"?>{response(f"<Message>{BODY}</Message>")}', id="str-utf16-declaration-ignored"),
]  # fmt: skip


@pytest.mark.parametrize("document", ENCODINGS)
def test_encodings(document: bytes | str) -> None:
    parsed = parse_twiml(document)
    assert parsed.verbs == (MessageVerb(BODY),)
    assert parsed.warnings == ()


def test_shift_jis_declared() -> None:
    text = '<?xml version="1.0" encoding="Shift_JIS"?><Response><Message>こんにちは</Message></Response>'
    assert parse_twiml(text.encode("shift_jis")).verbs == (MessageVerb("こんにちは"),)


@pytest.mark.parametrize(
    "document",
    [
        "<Response/>",
        b'<?xml version="1.0" encoding="UTF-8"?><Response />',
        '<Response xmlns="http://www.twilio.com/" version="2010-04-01"></Response>',
    ],
    ids=["self-closed", "generator-empty", "response-attributes-ignored"],
)
def test_empty_response_means_no_reply(document: bytes | str) -> None:
    assert parse_twiml(document) == TwimlDocument((), ())


def test_bytes_and_str_parse_alike() -> None:
    text = response(
        '<Message to="+1555" action="/a">x &amp; y<Media>/m</Media></Message><Foo/>'
        "<Redirect>/r</Redirect>"
    )
    assert parse_twiml(text) == parse_twiml(text.encode())


# ---------------------------------------------------------------------------------------
# Records


def test_message_defaults_and_callback_url() -> None:
    message = MessageVerb("hi")
    assert (message.media, message.to, message.from_, message.method) == ((), None, None, "POST")
    assert message.callback_url is None
    assert MessageVerb("x", status_callback="/s").callback_url == "/s"
    assert MessageVerb("x", action="/a", status_callback="/s").callback_url == "/a"
    assert RedirectVerb("/r").method == "POST"


@pytest.mark.parametrize(
    "record",
    [MessageVerb("hi"), RedirectVerb("/r"), Plan((), None), TwimlDocument((), ())],
    ids=["message", "redirect", "plan", "document"],
)
def test_records_are_frozen_and_slotted(record: object) -> None:
    assert dataclasses.is_dataclass(record)
    assert not hasattr(record, "__dict__")
    field = dataclasses.fields(record)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, field, None)


def test_parsed_documents_compare_and_hash_by_value() -> None:
    first = parse_twiml(response("<Say/><Message>hi</Message>"))
    second = parse_twiml(response("<Say/><Message>hi</Message>").encode())
    assert first == second
    assert hash(first) == hash(second)
