"""End to end in Debian's Chromium: an officer signs in, filters, opens, decides by key, sees it decided and
recorded in their name, and signs out; pages from another origin cannot decide in the officer's name."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading

import pytest

from registry.review import item_id_for

from .browser import browser, sign_in  # noqa: F401 (browser: a fixture)
from .server import OFFICER, REPO, add_officer, free_port, serving

pytestmark = pytest.mark.browser

UL_ITEM = item_id_for("uncertain_link", "family_planning:JS0000000001|public_security:GA0000000001")
CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")


def expect(locator):
    from playwright.sync_api import expect as playwright_expect  # the page's CSP forbids evaluating strings

    return playwright_expect(locator)


def test_officer_signs_in_decides_and_signs_out(published_home, browser):
    artifacts = REPO / "artifacts"
    artifacts.mkdir(exist_ok=True)
    add_officer(published_home)
    with serving(published_home.root) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/login")
        page.fill("#name", OFFICER)
        page.fill("#password", "not the password")
        page.click("#submit")
        expect(page.locator("#message")).to_contain_text("wrong name or password")

        sign_in(page, url)
        assert page.inner_text("#officer") == OFFICER
        assert page.locator("#items tbody tr").count() == 8

        page.select_option("#f-kind", "uncertain_link")
        expect(page.locator("#items tbody tr")).to_have_count(2)
        page.click(f"#items tr[data-item-id='{UL_ITEM}']")
        page.wait_for_selector("#detail table.side")
        assert "张玮" in page.inner_text("#detail table.side") and "张伟" in page.inner_text("#detail table.side")
        assert "same pinyin" in page.inner_text("#detail table.waterfall")
        assert page.locator("#reviewer").count() == 0   # nobody types who they are

        page.fill("#reason", "不同父亲，非同一人")
        page.click("#detail")  # leave the text field, then decide by key
        page.keyboard.press("d")
        page.wait_for_selector("#decided-banner")
        assert f"Decided: different by {OFFICER}" in page.inner_text("#decided-banner")
        assert page.inner_text(f"#items tr[data-item-id='{UL_ITEM}'] td.status") == "decided"
        page.screenshot(path=str(artifacts / "review_page.png"), full_page=True)

        # A reload keeps the session and lists only what is still open.
        page.reload()
        page.wait_for_selector("#items tbody tr")
        assert page.inner_text("#officer") == OFFICER
        assert page.locator(f"#items tr[data-item-id='{UL_ITEM}']").count() == 0

        page.click("#sign-out")
        page.wait_for_url("**/login")
        assert page.evaluate("fetch('/api/items').then(r => r.status)") == 401
        page.goto(url + "/")
        page.wait_for_url("**/login")
        assert errors == []

    [line] = published_home.decisions.read_text(encoding="utf-8").splitlines()
    decision = json.loads(line)
    assert (decision["item_id"], decision["decision"], decision["decided_by"], decision["reason"]) == (
        UL_ITEM, "different", OFFICER, "不同父亲，非同一人")
    assert (decision["record_l"], decision["record_r"]) == ("family_planning:JS0000000001", "public_security:GA0000000001")


ATTACK = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{target}/api/items/{ul}/decision">
  <input name='{{"decision":"same","reason":"forged","x":"' value='"}}'>
</form>
<script>
  fetch("{target}/api/items/{cf}/decision", {{method: "POST", mode: "no-cors", credentials: "include",
        headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{decision: "dismiss", reason: "forged"}})}})
    .finally(() => {{ document.title = "fetched"; document.getElementById("f").submit(); }});
</script></body></html>"""


@contextlib.contextmanager
def attacker_site(page_html: str):
    """Another origin (another port of 127.0.0.1) serving one page."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def test_pages_of_another_origin_cannot_decide(published_home, browser):
    """A signed-in officer's browser opens a page from another origin: its text/plain form POST and its
    no-cors fetch both reach the service with the officer's cookie, and both are refused."""
    add_officer(published_home)
    with serving(published_home.root) as url:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, url)
        refused = []
        page.on("response", lambda r: refused.append(r.status) if "/decision" in r.url else None)
        with attacker_site(ATTACK.format(target=url, ul=UL_ITEM, cf=CONFLICT_ITEM)) as evil:
            page.goto(evil)
            page.wait_for_url(f"{url}/api/items/{UL_ITEM}/decision")   # the form was posted (and answered)
        assert "cross-site request refused" in page.inner_text("body")
        assert refused == [403, 403]   # the fetch and the form each reached the service, and were refused
        # The officer is still signed in; nothing was decided.
        page.goto(url + "/")
        page.wait_for_selector("#items tbody tr")
        assert page.locator("#items tbody tr").count() == 8
        context.close()
    assert not published_home.decisions.exists() or published_home.decisions.read_text() == ""
