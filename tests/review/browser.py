"""Debian's Chromium for the officers' pages, driven by Playwright: the browser fixture and the sign-in."""

from __future__ import annotations

import os

import pytest

from .server import OFFICER, PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    """A headless Chromium (skipped, saying why, where Debian's chromium or playwright is missing)."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the page tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sign_in(page, url: str, path: str = "/", ready: str = "#items tbody tr") -> None:
    """Open `path` signed out, land on the sign-in page, sign in as the test officer, wait for `ready`."""
    page.goto(url + path)
    page.wait_for_url("**/login")        # signed out: the sign-in page first
    page.fill("#name", OFFICER)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector(ready)
