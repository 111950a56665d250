"""End to end: the review page in Debian's Chromium, filter, open, decide by key, see it decided and recorded."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from registry.review import item_id_for

from .server import REPO, serving

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
UL_ITEM = item_id_for("uncertain_link", "family_planning:JS0000000001|public_security:GA0000000001")


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the review page test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_officer_filters_opens_and_decides_an_item(published_home, browser):
    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with serving(published_home.root) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        page.wait_for_selector("#items tbody tr")
        assert page.locator("#items tbody tr").count() == 8

        page.select_option("#f-kind", "uncertain_link")
        page.wait_for_function("document.querySelectorAll('#items tbody tr').length === 2")
        page.click(f"#items tr[data-item-id='{UL_ITEM}']")
        page.wait_for_selector("#detail table.side")
        assert "张玮" in page.inner_text("#detail table.side") and "张伟" in page.inner_text("#detail table.side")
        assert "same pinyin" in page.inner_text("#detail table.waterfall")

        page.fill("#reviewer", "王科长")
        page.fill("#reason", "不同父亲，非同一人")
        page.click("#detail")  # leave the text field, then decide by key
        page.keyboard.press("d")
        page.wait_for_selector("#decided-banner")
        assert "Decided: different by 王科长" in page.inner_text("#decided-banner")
        assert page.inner_text(f"#items tr[data-item-id='{UL_ITEM}'] td.status") == "decided"
        assert page.evaluate("localStorage.getItem('registry.reviewer')") == "王科长"
        page.screenshot(path=str(artifacts / "review_page.png"), full_page=True)

        # A reload remembers the reviewer and lists only what is still open.
        page.reload()
        page.wait_for_selector("#items tbody tr")
        assert page.input_value("#reviewer") == "王科长"
        assert page.locator(f"#items tr[data-item-id='{UL_ITEM}']").count() == 0
        assert errors == []

    [line] = published_home.decisions.read_text(encoding="utf-8").splitlines()
    decision = json.loads(line)
    assert (decision["item_id"], decision["decision"], decision["decided_by"], decision["reason"]) == (
        UL_ITEM, "different", "王科长", "不同父亲，非同一人")
    assert (decision["record_l"], decision["record_r"]) == ("family_planning:JS0000000001", "public_security:GA0000000001")
