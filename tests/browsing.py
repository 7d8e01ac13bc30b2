"""Headless Chromium for the browser tests: Debian's `chromium` and `chromium-driver`.

Every browser gets a fresh profile and the flags that keep it quiet and on this machine
(no background networking, no component updates, no sync, no QUIC). Waits are bounded
waits on conditions in the page, never sleeps.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_S = 30.0
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium(profile: Path, width: int = 1280, height: int = 800) -> webdriver.Chrome:
    binary = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    assert binary and driver, "Debian's chromium and chromium-driver are needed (make system)"
    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(WAIT_S)
    browser.set_script_timeout(WAIT_S)
    return browser


def wait(browser: webdriver.Chrome, condition: Callable[[Any], Any], what: str) -> Any:
    """Wait until `condition(browser)` is truthy (bounded, generous); its value."""
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.05).until(condition, what)


def console_errors(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(browser: webdriver.Chrome) -> list[str]:
    """Every URL the page asked for since the last call (from the DevTools network log)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot(browser: webdriver.Chrome, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG under tests/artifacts/ (git-ignored); the whole page if asked."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if full_page:
        size = browser.get_window_size()
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(size["width"], min(int(height) + 100, 8000))
        browser.save_screenshot(str(path))
        browser.set_window_size(size["width"], size["height"])
    else:
        browser.save_screenshot(str(path))
    return path


def emulate_width(browser: webdriver.Chrome, width: int, height: int) -> None:
    """Lay pages out as a phone of `width` CSS pixels would (windows have a minimum width)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )
