"""The pytest fixtures twsim ships for apps' own tests, used the way an app would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

from twsim.config.models import Config, NumberConfig
from twsim.config.shipped import demo_app

TOKEN = Config().accounts[0].auth_token


class _Echo(BaseHTTPRequestHandler):
    """A plain, synchronous webhook app: validates the signature and echoes the body."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        url = f"http://{self.headers['Host']}{self.path}"
        if not RequestValidator(TOKEN).validate(url, form, self.headers["X-Twilio-Signature"]):
            self.send_response(403)
            self.end_headers()
            return
        body = f"<Response><Message>echo: {form['Body']}</Message></Response>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_app() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()


@pytest.fixture
def twsim_config(echo_app: str) -> Config:
    return Config(numbers=[NumberConfig(sms_url=echo_app)])


def test_a_synchronous_app_is_tested_with_the_shipped_fixtures(
    twsim_gateway, twsim_gateway_send
) -> None:  # type: ignore[no-untyped-def]
    outcome = twsim_gateway_send("hello", from_="+12025550123")
    assert outcome.attempts[0].http_status == 200
    assert [m.body for m in outcome.replies] == ["echo: hello"]
    client = twsim_gateway.client()
    sent = client.messages.create(
        to="+12025550123", from_=twsim_gateway.number, body="from the app"
    )
    assert client.messages(sent.sid).fetch().body == "from the app"


# -- the harness, as an app's own test suite uses it (run by pytester in a fresh pytest) ---------
ATTENDANCE_TESTS = """\
import sys
import pytest

APP = [sys.executable, {app!r}, "--port", "{{port}}",
       "--db", {folder!r} + "/attendance-{{port}}.sqlite",
       "--log", {folder!r} + "/attendance-{{port}}.log"]
naive = pytest.mark.twsim_app(command=APP)
fixed = pytest.mark.twsim_app(command=[*APP, "--fixed"])
STUDENT = "+12025550123"


@naive
def test_naive_answers_and_reports_every_wrong_code(twsim_app):
    first = twsim_app.text(STUDENT, "CS1O1")
    twsim_app.assert_replied("Invalid code")
    assert first.sent == ["+12025550123 sent an invalid code 'CS1O1' for CS101."]
    assert first.errors == {{}}
    twsim_app.text(STUDENT, "CS1O1")
    twsim_app.assert_replied("Invalid code")
    twsim_app.assert_no_errors()
    twsim_app.assert_amplification(max=2)


@fixed
def test_fixed_answers_a_wrong_code_once(twsim_app):
    first = twsim_app.text(STUDENT, "CS1O1")
    twsim_app.assert_replied("not today's code")
    assert len(first.sends) == 1  # the professor hears about the wrong code once
    again = twsim_app.text(STUDENT, "CS1O1")
    twsim_app.assert_no_reply()
    assert again.sends == []
    twsim_app.text(STUDENT, "CS101")
    twsim_app.assert_replied("Checked in to CS101")
    twsim_app.assert_cost(max="0.10")
    twsim_app.assert_no_errors()


@naive
def test_naive_classroom_burst(twsim_app):
    report = twsim_app.burst("classroom", students={students}, speed={speed})
    assert report.inbound.count >= {students}
    twsim_app.assert_no_errors()
    twsim_app.assert_amplification(max=1.2)


@fixed
def test_fixed_classroom_burst(twsim_app):
    report = twsim_app.burst("classroom", students={students}, speed={speed})
    assert report.inbound.count >= {students}
    twsim_app.assert_no_errors()
    twsim_app.assert_amplification(max=1.2)
"""


def attendance_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_attendance=ATTENDANCE_TESTS.format(
            app=str(demo_app()), folder=str(pytester.path), students=12, speed=2
        )
    )


def test_the_harness_fails_the_naive_app_and_passes_the_fixed_one(
    pytester: pytest.Pytester,
) -> None:
    attendance_tests(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_naive_classroom_burst FAILED*",
            "*AssertionError: amplification * outbound messages per inbound text > 1.2 (*",
        ]
    )


def test_the_harness_runs_in_pytest_xdist_workers(pytester: pytest.Pytester) -> None:
    attendance_tests(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-k", "not burst")
    result.assert_outcomes(passed=2)


def test_the_app_is_configured_by_an_overridden_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
import sys
import pytest
from twsim.pytest_plugin import AppOptions

@pytest.fixture
def twsim_app_options(tmp_path):
    return AppOptions(command=[sys.executable, {str(demo_app())!r}, "--port", "{{port}}",
                               "--db", str(tmp_path / "a.sqlite"), "--log", str(tmp_path / "a.log")])
"""
    )
    pytester.makepyfile(
        test_configured="""
def test_checks_in(twsim_app):
    exchange = twsim_app.text("+12025550123", "CS101")
    assert exchange.replies == ["Checked in to CS101. See you in class! \\u2705"]
    assert exchange.sends == []
    twsim_app.assert_amplification(max=1)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_missing_app_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unconfigured="def test_it(twsim_app):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*twsim_app needs the app under test*"])
