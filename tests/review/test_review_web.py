"""The review page's JSON API, through a real `registry serve` process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from registry.review import item_id_for

from .server import serving

CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, json.loads(r.read())


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_api_filters_shows_and_decides(published_home):
    with serving(published_home.root) as url:
        status, data = _get(url + "/api/items?kind=orphan")
        assert status == 200 and {i["kind"] for i in data["items"]} == {"orphan"} and len(data["items"]) == 2
        assert data["facets"]["kinds"]["uncertain_link"] == 2
        assert sorted(data["facets"]["streets"]["沙头街道"]) == ["上沙社区", "新洲社区"]
        _, data = _get(url + "/api/items?street=%E7%A6%8F%E7%94%B0%E8%A1%97%E9%81%93&community=%E7%A6%8F%E5%B1%B1%E7%A4%BE%E5%8C%BA")
        assert [i["resident_id"] for i in data["items"]] == ["R5"]

        _, item = _get(f"{url}/api/items/{CONFLICT_ITEM}")
        assert item["evidence"]["candidates"] == ["1980-01-02", "1980-02-01"]

        status, err = _post(f"{url}/api/items/{CONFLICT_ITEM}/decision", {"decision": "value", "value": "1980-01-02", "by": "王"})
        # the page's own field names, never a command-line flag
        assert status == 400 and err["error"].startswith("reason is required") and err["field"] == "reason"
        assert "--" not in err["error"]
        status, err = _post(f"{url}/api/items/cf-0000000000000000/decision", {"decision": "dismiss", "by": "王", "reason": "x"})
        assert status == 404 and "unknown review item" in err["error"]

        status, res = _post(f"{url}/api/items/{CONFLICT_ITEM}/decision",
                            {"decision": "value", "value": "1980-01-02", "by": "王科长", "reason": "户口簿"})
        assert status == 200 and res["item"]["status"] == "decided" and res["item"]["decision"] == "value"
        assert json.loads(published_home.decisions.read_text(encoding="utf-8"))["value"] == "1980-01-02"
        _, data = _get(url + "/api/items?kind=conflict")
        assert data["items"] == []


def test_the_page_says_which_lines_of_the_decisions_file_are_skipped(published_home):
    published_home.decisions.parent.mkdir(parents=True, exist_ok=True)
    published_home.decisions.write_text('{"decision": "same", "decided_by": "torn\n', encoding="utf-8")
    with serving(published_home.root) as url:
        status, data = _get(url + "/api/items")
        assert status == 200 and len(data["items"]) == 8
        assert len(data["warnings"]) == 1 and "line 1 skipped: not JSON" in data["warnings"][0]
