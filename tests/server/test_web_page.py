"""The web page in headless Chromium: text the app from the compose box, watch the reply
arrive live, open its webhook attempt; a narrow window; the page's files and headers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from browsing import console_errors, emulate_width, screenshot, wait
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from twsim.config.models import DEFAULT_AUTH_TOKEN, Config, NumberConfig
from twsim.server.simulator import Simulator

PHONE = "+15551230042"


class EchoApp:
    """A Twilio app on loopback: checks each webhook's signature, answers with a reply."""

    def __init__(self) -> None:
        self.validator = RequestValidator(DEFAULT_AUTH_TOKEN)
        self.signatures: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/sms", self.sms)

    async def sms(self, request: web.Request) -> web.Response:
        form = await request.post()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.validator.validate(str(request.url), dict(form), signature):
            return web.Response(status=403)
        self.signatures.append(signature)
        answer = MessagingResponse()
        answer.message(f"app got {form['Body']}")
        return web.Response(text=str(answer), content_type="text/xml")


@pytest.fixture
async def gateway(serve_app: Any, make_sim: Any) -> tuple[Simulator, EchoApp]:
    echo = EchoApp()
    server = await serve_app(echo.app)
    config = Config()
    config.numbers = [NumberConfig(sms_url=str(server.make_url("/sms")))]
    return await make_sim(config), echo


async def run(work: Callable[[], Any]) -> Any:
    """Drive the browser in a thread, so the gateway in this loop keeps serving it."""
    return await asyncio.to_thread(work)


def live(browser: Any) -> bool:
    return "live" in browser.find_element(By.ID, "status").get_attribute("class")


async def test_text_the_app_from_the_page_and_follow_the_reply_to_its_webhook(
    make_browser: Any, gateway: tuple[Simulator, EchoApp]
):
    sim, echo = gateway
    browser = make_browser(1280, 800)

    def compose() -> None:
        browser.get(sim.url + "/_twsim/ui/")
        wait(browser, live, "the event stream")
        browser.execute_script("window.notReloaded = true")
        sender = browser.find_element(By.ID, "compose-from")
        sender.clear()
        sender.send_keys(PHONE)
        body = browser.find_element(By.ID, "compose-body")
        body.send_keys("CS1O1 ✅")
        body.send_keys(Keys.CONTROL, Keys.ENTER)  # the keyboard way to send

    await run(compose)

    def reply_bubble() -> Any:
        return wait(
            browser,
            lambda b: next(
                (
                    e
                    for e in b.find_elements(By.CSS_SELECTOR, ".bubble.out")
                    if "app got CS1O1" in e.text and e.get_attribute("data-status") == "delivered"
                ),
                None,
            ),
            "the delivered reply bubble",
        )

    bubble = await run(reply_bubble)
    assert await run(lambda: browser.execute_script("return window.notReloaded === true"))
    inbound = await run(lambda: browser.find_element(By.CSS_SELECTOR, ".bubble.in"))
    culprit = await run(lambda: inbound.find_element(By.CSS_SELECTOR, "mark.ucs2").text)
    assert culprit == "✅"
    assert PHONE in await run(lambda: browser.find_element(By.ID, "phone-list").text)

    def open_attempt() -> str:
        bubble.click()
        attempt = wait(
            browser,
            lambda b: next(
                iter(
                    b.find_elements(
                        By.CSS_SELECTOR, "#detail-body .chain button[aria-label^='webhook attempt']"
                    )
                ),
                None,
            ),
            "the cause chain",
        )
        detail = browser.find_element(By.ID, "detail-body").text
        assert "Segments: 1 × UCS-2" in detail
        assert "Forced to UCS-2 by ✅ U+2705" in detail
        assert "carrier fee" in detail
        attempt.click()
        wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "pre.twiml"), "the answer")
        return str(browser.find_element(By.ID, "detail-body").text)

    attempt = await run(open_attempt)
    assert "<Response>" in attempt and "<Message>app got CS1O1 ✅</Message>" in attempt
    assert "HTTP status\n200" in attempt
    assert echo.signatures[0] in attempt  # the signature the app validated
    assert f"From {PHONE}" in attempt
    await run(lambda: screenshot(browser, "ui-1280x800.png"))
    assert await run(lambda: console_errors(browser)) == []


async def test_events_view_filters_through_the_stream(
    make_browser: Any, gateway: tuple[Simulator, EchoApp]
):
    sim, _ = gateway
    await sim.send("first", from_=PHONE)
    browser = make_browser(1280, 800)

    await run(lambda: browser.get(sim.url + "/_twsim/ui/"))
    await run(lambda: wait(browser, live, "the stream"))
    await run(lambda: browser.find_element(By.ID, "tab-conversations").send_keys(Keys.ARROW_RIGHT))
    assert await run(lambda: browser.find_element(By.ID, "view-events").is_displayed())
    await run(
        lambda: browser.find_element(
            By.CSS_SELECTOR, "#event-types input[value='message.created']"
        ).click()
    )
    await run(
        lambda: browser.find_element(By.CSS_SELECTOR, "#event-filter button[type=submit]").click()
    )
    await run(
        lambda: wait(
            browser,
            lambda b: len(b.find_elements(By.CSS_SELECTOR, "#event-rows tr")) == 1,
            "one row",
        )
    )
    await sim.send("second", from_=PHONE)
    rows = await run(
        lambda: wait(
            browser,
            lambda b: (
                (r := b.find_elements(By.CSS_SELECTOR, "#event-rows tr")) and len(r) == 2 and r
            ),
            "the live row",
        )
    )
    texts = [await run(lambda r=r: r.text) for r in rows]
    assert all("message.created" in t for t in texts)
    assert "app got second" in texts[0]
    assert await run(lambda: console_errors(browser)) == []


async def test_a_narrow_window_shows_phones_then_the_conversation(
    make_browser: Any, gateway: tuple[Simulator, EchoApp]
):
    sim, _ = gateway
    for i in range(3):
        await sim.send(f"hello {i}", from_=f"+1555123{i:04d}")
    browser = make_browser()

    def narrow() -> int:
        emulate_width(browser, 390, 844)
        browser.get(sim.url + "/_twsim/ui/")
        wait(browser, live, "the event stream")
        wait(
            browser,
            lambda b: len(b.find_elements(By.CSS_SELECTOR, "#phone-list button")) == 3,
            "phones",
        )
        assert not browser.find_element(By.ID, "bubbles").is_displayed()
        screenshot(browser, "ui-narrow-phones.png")
        browser.find_element(By.CSS_SELECTOR, "#phone-list button").click()
        wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".bubble.out"), "the thread")
        screenshot(browser, "ui-narrow-thread.png")
        return int(
            browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        )

    assert await run(narrow) <= 0
    assert await run(lambda: console_errors(browser)) == []


async def test_the_page_is_served_with_a_strict_policy(sim: Simulator):
    async with aiohttp.ClientSession() as http:
        async with http.get(sim.url + "/_twsim/ui", allow_redirects=False) as moved:
            assert (moved.status, moved.headers["Location"]) == (302, "/_twsim/ui/")
        async with http.get(sim.url + "/_twsim/ui/") as page:
            assert page.content_type == "text/html"
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            html = await page.text()
        for asset in ("app.js", "charts.js", "app.css", "report.css", "vendor/uPlot.iife.min.js"):
            assert asset in html
            async with http.get(sim.url + "/_twsim/ui/" + asset) as response:
                assert response.status == 200
        async with http.get(sim.url + "/_twsim/ui/vendor/uPlot.LICENSE") as licence:
            assert "MIT" in await licence.text()
        async with http.get(sim.url + "/_twsim/ui/../control.py") as outside:
            assert outside.status == 404
