"""The review page's JSON API, through a real `registry serve` process, as a signed-in officer."""

from __future__ import annotations

import json

from registry.review import item_id_for

from .server import OFFICER, Client, add_officer, serving

CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")


def test_api_filters_shows_and_decides(published_home):
    add_officer(published_home)
    with serving(published_home.root) as url:
        web = Client(url)
        assert web.get("/api/items")[0] == 401          # signed out: nothing
        web.sign_in()
        status, data = web.get("/api/items?kind=orphan")
        assert status == 200 and {i["kind"] for i in data["items"]} == {"orphan"} and len(data["items"]) == 2
        assert data["facets"]["kinds"]["uncertain_link"] == 2
        assert sorted(data["facets"]["streets"]["沙头街道"]) == ["上沙社区", "新洲社区"]
        _, data = web.get("/api/items?street=%E7%A6%8F%E7%94%B0%E8%A1%97%E9%81%93&community=%E7%A6%8F%E5%B1%B1%E7%A4%BE%E5%8C%BA")
        assert [i["resident_id"] for i in data["items"]] == ["R5"]

        _, item = web.get(f"/api/items/{CONFLICT_ITEM}")
        assert item["evidence"]["candidates"] == ["1980-01-02", "1980-02-01"]

        status, err = web.post(f"/api/items/{CONFLICT_ITEM}/decision", {"decision": "value", "value": "1980-01-02"})
        # the page's own field names, never a command-line flag
        assert status == 400 and err["error"].startswith("reason is required") and err["field"] == "reason"
        assert "--" not in err["error"]
        status, err = web.post("/api/items/cf-0000000000000000/decision", {"decision": "dismiss", "reason": "x"})
        assert status == 404 and "unknown review item" in err["error"]
        # Who decides is the signed-in officer: a typed name is refused, not recorded.
        status, err = web.post(f"/api/items/{CONFLICT_ITEM}/decision",
                               {"decision": "dismiss", "by": "someone else", "reason": "x"})
        assert status == 422 and "by" in err["error"]

        status, res = web.post(f"/api/items/{CONFLICT_ITEM}/decision",
                               {"decision": "value", "value": "1980-01-02", "reason": "户口簿"})
        assert status == 200 and res["item"]["status"] == "decided" and res["item"]["decision"] == "value"
        [line] = published_home.decisions.read_text(encoding="utf-8").splitlines()
        assert (json.loads(line)["value"], json.loads(line)["decided_by"]) == ("1980-01-02", OFFICER)
        _, data = web.get("/api/items?kind=conflict")
        assert data["items"] == []


def test_the_page_says_which_lines_of_the_decisions_file_are_skipped(published_home):
    published_home.decisions.parent.mkdir(parents=True, exist_ok=True)
    published_home.decisions.write_text('{"decision": "same", "decided_by": "torn\n', encoding="utf-8")
    add_officer(published_home)
    with serving(published_home.root) as url:
        web = Client(url)
        web.sign_in()
        status, data = web.get("/api/items")
        assert status == 200 and len(data["items"]) == 8
        assert len(data["warnings"]) == 1 and "line 1 skipped: not JSON" in data["warnings"][0]
