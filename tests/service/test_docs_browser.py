"""The API documentation page renders in Debian's Chromium from the service alone (no CDN)."""

from __future__ import annotations

import pytest

from tests.review.test_review_page_browser import browser, expect  # noqa: F401 - the fixture
from tests.review.server import serving

pytestmark = pytest.mark.browser


def test_the_documentation_lists_every_department_route(published_home, browser):  # noqa: F811
    with serving(published_home.root) as url:
        page = browser.new_page()
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else None)
        page.goto(url + "/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        text = page.inner_text("body")
        for route in ("/api/v1/records/{department}/{source_record_id}", "/api/v1/residents/{resident_id}",
                      "/api/v1/residents", "/api/v1/export.parquet", "/api/v1/changes", "/api/v1/discrepancies"):
            assert route in text, route
        assert outside == []
