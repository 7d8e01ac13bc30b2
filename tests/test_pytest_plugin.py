"""The pytest fixtures twsim ships for apps' own tests, used the way an app would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

from twsim.config.models import Config, NumberConfig

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
