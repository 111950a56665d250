"""`registry review list | show | decide | link` through registry.cli.main against a tmp HOME."""

from __future__ import annotations

import json

from registry.review import item_id_for

UL_ITEM = item_id_for("uncertain_link", "family_planning:JS0000000001|public_security:GA0000000001")
CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")


def _list_json(cli, home, capsys, *extra) -> list[dict]:
    capsys.readouterr()
    assert cli(["review", "list", "--home", str(home.root), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_show_decide_link(review_cli, published_home, capsys):
    home = str(published_home.root)
    items = _list_json(review_cli, published_home, capsys)
    assert len(items) == 8 and items[0]["kind"] == "identity_conflict"
    assert [i["item_id"] for i in _list_json(review_cli, published_home, capsys, "--kind", "conflict")] == [CONFLICT_ITEM]
    assert {i["community"] for i in _list_json(review_cli, published_home, capsys, "--street", "沙头街道")} == {"新洲社区", "上沙社区"}

    assert review_cli(["review", "list", "--home", home, "--limit", "3"]) == 0
    assert "3 item(s)" in capsys.readouterr().out

    assert review_cli(["review", "show", UL_ITEM, "--home", home]) == 0
    out = capsys.readouterr().out
    assert "  name        same pinyin  +4.20" in out  # the waterfall, in words and numbers
    name_line = next(l for l in out.splitlines() if l.strip().startswith("≠ name ") )
    assert "张玮" in name_line and "张伟" in name_line  # the two records side by side, the difference marked

    assert review_cli(["review", "decide", UL_ITEM, "--different", "--by", "王科长", "--reason", "两人父亲不同",
                       "--home", home]) == 0
    assert "decided" in capsys.readouterr().out
    assert UL_ITEM not in {i["item_id"] for i in _list_json(review_cli, published_home, capsys)}
    decided = {i["item_id"]: i for i in _list_json(review_cli, published_home, capsys, "--all")}[UL_ITEM]
    assert (decided["status"], decided["decision"], decided["decided_by"]) == ("decided", "different", "王科长")

    assert review_cli(["review", "decide", CONFLICT_ITEM, "--value", "1980-01-02", "--by", "王科长",
                       "--reason", "出生证明", "--home", home]) == 0
    assert review_cli(["review", "link", "public_security:GA0000000007", "civil_affairs:MZ0000000007", "--same",
                       "--by", "李干事", "--reason", "同一残疾人证", "--home", home]) == 0
    lines = [json.loads(l) for l in published_home.decisions.read_text(encoding="utf-8").splitlines()]
    assert [(l["decision"], l["attribute"], l["value"]) for l in lines] == [
        ("different", None, None), ("value", "birth_date", "1980-01-02"), ("same", None, None)]
    assert (lines[2]["record_l"], lines[2]["record_r"]) == ("civil_affairs:MZ0000000007", "public_security:GA0000000007")


def test_errors_are_clear(review_cli, published_home, capsys, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOME", str(published_home.root))  # --home defaults to $REGISTRY_HOME
    capsys.readouterr()
    assert review_cli(["review", "show", "ul-ffffffffffffffff"]) == 2
    assert "unknown review item 'ul-ffffffffffffffff'" in capsys.readouterr().err
    assert review_cli(["review", "decide", UL_ITEM, "--same", "--reason", "x"]) == 2
    assert "--by NAME is required" in capsys.readouterr().err
    assert review_cli(["review", "decide", UL_ITEM, "--same", "--by", "王科长"]) == 2
    assert "--reason TEXT is required" in capsys.readouterr().err
    assert review_cli(["review", "link", "labour:LD0000000001", "labour:LD0000000404", "--different",
                       "--by", "王", "--reason", "x"]) == 2
    assert "not in the published crosswalk: labour:LD0000000404" in capsys.readouterr().err
    assert review_cli(["review", "list", "--kind", "nonsense"]) == 2
    assert "unknown kind 'nonsense'" in capsys.readouterr().err
    assert not published_home.decisions.exists()


def test_no_published_registry(review_cli, tmp_path, capsys):
    assert review_cli(["review", "list", "--home", str(tmp_path / "empty")]) == 2
    assert "no published registry" in capsys.readouterr().err


def test_a_line_of_the_decisions_file_that_is_no_decision_is_reported_not_fatal(review_cli, published_home, capsys):
    home = str(published_home.root)
    assert review_cli(["review", "decide", UL_ITEM, "--different", "--by", "王", "--reason", "x", "--home", home]) == 0
    with open(published_home.decisions, "a", encoding="utf-8") as f:
        f.write('{"decision": "same", "decided_by": "torn\n')
    assert review_cli(["review", "decide", CONFLICT_ITEM, "--value", "1980-01-02", "--by", "王", "--reason", "y",
                       "--home", home]) == 0
    capsys.readouterr()
    items = _list_json(review_cli, published_home, capsys, "--all")
    decided = {i["item_id"]: i["decision"] for i in items if i["status"] == "decided"}
    assert decided == {UL_ITEM: "different", CONFLICT_ITEM: "value"}  # both good decisions count
    assert review_cli(["review", "list", "--home", home]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "decisions.jsonl: line 2 skipped: not JSON" in err


def test_control_characters_in_the_data_never_reach_the_terminal_raw():
    from registry.commands.common import terminal_safe

    assert terminal_safe("张\x07伟 \x1b[2J\x9b1m\n\tnext") == "张\\x07伟 \\x1b[2J\\x9b1m\n\tnext"
