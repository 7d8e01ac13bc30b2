"""The shim variables and how each joins the value an app already has."""

from __future__ import annotations

import os

from twsim.config.models import AccountConfig
from twsim.observe.shim import node_require, shim_environment


def test_the_environment_puts_the_shims_first_and_keeps_the_apps_values() -> None:
    base = {
        "PYTHONPATH": "/app",
        "NODE_OPTIONS": "--inspect",
        "TWILIO_AUTH_TOKEN": "mine",
        "HOME": "/root",
    }
    env = shim_environment("http://127.0.0.1:9000/", AccountConfig(), base)
    assert env["TWSIM_GATEWAY_URL"] == "http://127.0.0.1:9000"
    assert env["PYTHONPATH"].endswith(os.pathsep + "/app")
    assert env["PYTHONPATH"].split(os.pathsep)[0].endswith("shims/python")
    assert env["NODE_OPTIONS"].startswith("--inspect --require ")
    assert env["TWILIO_AUTH_TOKEN"] == "mine"
    assert env["TWILIO_ACCOUNT_SID"] == AccountConfig().sid
    assert env["HOME"] == "/root"
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost,::1,.twilio.com,.twil.io"


def test_node_options_quote_the_path() -> None:
    assert node_require('/a b/"x"\\y.js') == '--require "/a b/\\"x\\"\\\\y.js"'
