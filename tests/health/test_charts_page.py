"""The officers' chart page of `registry serve` on a generated night with an audit sample decided: behind the
officers' sign-in, charting scripts from the installed Splink package, and every chart drawn in Debian's
Chromium under the service's content security policy (no eval, no inline styles)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from registry.charts import vendor
from registry.cli import main
from registry.home import Home
from tests.accuracy.truth_officer import decide_audit_items, truth_of
from tests.review.browser import browser, sign_in  # noqa: F401 (browser: a fixture)
from tests.review.server import Client, add_officer, serving

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def audited_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("charts")
    home = root / "home"
    assert main(["generate", "--people", "2500", "--date", "2026-11-20", "--home", str(home), "--seed", "8",
                 "--truth", str(root / "truth.csv")]) == 0
    assert main(["run", "--home", str(home)]) == 0
    assert main(["review", "sample", "--home", str(home), "--size", "60", "--seed", "1"]) == 0
    decide_audit_items(home, truth_of(root / "truth.csv"))
    add_officer(Home.at(home))
    return home


def _raw(client: Client, path: str) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(client.url + path, headers={"Origin": client.url})
    try:
        with client.opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_charts_need_a_signed_in_officer_and_come_with_their_scripts(audited_home):
    with serving(audited_home) as url:
        client = Client(url)
        assert client.get("/api/charts")[0] == 401
        client.sign_in()
        status, body = client.get("/api/charts")
        assert status == 200
        assert body["extract_date"] == "2026-11-20" and body["accuracy"]["sample_decided"] == 60
        assert {"history_link_rate", "match_weights_tonight", "model_match_weights", "calibration",
                "accuracy_history"} <= set(body["charts"])
        for name in vendor.SCRIPTS:
            status, headers, script = _raw(client, f"/charts/vendor/{name}")
            assert status == 200 and "javascript" in headers["content-type"]
            assert script == vendor.script_path(name).read_bytes()   # Splink's own copy, no CDN
        assert _raw(client, "/charts/vendor/..%2F..%2Fhome.py")[0] == 404
        status, headers, page = _raw(client, "/charts")
        assert status == 200 and b"/charts/vendor/vega-embed.js" in page
        assert "script-src 'self'" in headers["content-security-policy"]


@pytest.mark.browser
def test_every_chart_is_drawn_in_chromium(audited_home, browser):
    with serving(audited_home) as url:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        try:
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
            sign_in(page, url, "/charts", ready="#items")   # the charts too are behind the sign-in
            page.click("#charts-link")      # the review page leads to the charts
            page.wait_for_selector("body[data-drawn]", timeout=30_000)
            drawn = int(page.get_attribute("body", "data-drawn"))
            assert drawn >= 10 and page.locator("#charts canvas").count() == drawn
            assert page.locator("#charts .error").count() == 0
            assert "precision" in page.inner_text("#summary") and "60 of 60" in page.inner_text("#summary")
            assert errors == []
        finally:
            page.close()
