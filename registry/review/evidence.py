"""An item's evidence as text for `registry review show`: records side by side, the waterfall, lineage."""

from __future__ import annotations

import unicodedata

_DIFF_MARK = "≠"
_KEY_FIELDS = ("record_uid", "department", "source_record_id", "component")  # differ by nature: not marked
_LONG = 60  # display columns of a waterfall level that is a sentence


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _show(value) -> str:
    return "—" if value is None or value == "" else str(value)


def records_side_by_side(records: list[dict]) -> list[str]:
    """One line per field, one column per record; fields that differ between records are marked ≠."""
    if not records:
        return []
    fields: list[str] = []
    for rec in records:
        fields += [f for f in rec if f not in fields]
    cells = [[_show(rec.get(f)) for rec in records] for f in fields]
    label_w = max(_width(f) for f in fields)
    col_w = [max(_width(row[i]) for row in cells) for i in range(len(records))]
    lines = []
    for f, row in zip(fields, cells):
        differs = len(records) > 1 and f not in _KEY_FIELDS and len(set(row)) > 1
        mark = _DIFF_MARK if differs else " "
        lines.append(f"  {mark} {_pad(f, label_w)}  " + "  │  ".join(_pad(c, w) for c, w in zip(row, col_w)).rstrip())
    return lines


def waterfall_lines(waterfall: list[dict]) -> list[str]:
    """"name  same pinyin  +4.20": each comparison, the level it reached, and its weight."""
    if not waterfall:
        return []
    comp_w = max(_width(str(w.get("comparison", ""))) for w in waterfall)
    # a level in a sentence (household evidence) goes under its line, so the weights stay in one column
    level_w = max([_width(str(w.get("level", ""))) for w in waterfall if _width(str(w.get("level", ""))) <= _LONG]
                  or [0])
    lines = []
    for w in waterfall:
        weight = w.get("match_weight")
        weight_text = f"{weight:+.2f}" if isinstance(weight, (int, float)) else "   ?"
        level = str(w.get("level", ""))
        if _width(level) > _LONG:
            lines.append(f"  {_pad(str(w.get('comparison', '')), comp_w)}  {_pad('', level_w)}  {weight_text}")
            lines.append(f"  {_pad('', comp_w)}    {level}")
        else:
            lines.append(f"  {_pad(str(w.get('comparison', '')), comp_w)}  {_pad(level, level_w)}  {weight_text}")
    total = sum(w["match_weight"] for w in waterfall if isinstance(w.get("match_weight"), (int, float)))
    lines.append(f"  {_pad('total', comp_w)}  {_pad('', level_w)}  {total:+.2f}")
    return lines


def render_item(item: dict) -> str:
    """The whole item, as `registry review show` prints it."""
    ev = item.get("evidence") or {}
    out = [f"{item['item_id']}  {item['kind']}  priority {item['priority']}  {item['status']}",
           f"  {item.get('summary') or ''}",
           f"  resident {_show(item.get('resident_id'))}   street {_show(item.get('street'))}   "
           f"community {_show(item.get('community'))}   first raised {_show(item.get('first_raised_date'))}"]
    if item.get("status") == "decided":
        by = f" by {item['decided_by']}" if item.get("decided_by") else ""
        out.append(f"  decided: {item.get('decision')}{by} at {_show(item.get('decided_at'))}")
    subject = item.get("subject") or {}
    if subject.get("record_l") and subject.get("record_r"):
        out.append(f"  pair: {subject['record_l']}  ↔  {subject['record_r']}")

    if ev.get("records"):
        out += ["", "Records:"] + records_side_by_side(ev["records"])
    if ev.get("members"):
        out += ["", "Records of the resident (component = group held by strong links):"]
        out += records_side_by_side([{"component": m.get("component"), **(m.get("record") or {})} for m in ev["members"]])
    if ev.get("match_probability") is not None:
        out += ["", f"Match probability {ev['match_probability']:.3f}"
                    + (f", match weight {ev['match_weight']:+.2f}" if ev.get("match_weight") is not None else "")]
    if ev.get("model_match_probability") is not None and ev["model_match_probability"] != ev.get("match_probability"):
        out.append(f"  (the model's {ev['model_match_probability']:.3f})")
    if ev.get("overruled_link"):
        o = ev["overruled_link"]
        out.append(f"  Overruled link: {o.get('record_l')}  ↔  {o.get('record_r')}  p={o.get('match_probability'):.3f}"
                   f" (the model's {o.get('model_match_probability'):.4f})")
    if ev.get("kept_apart_because"):
        out += ["", "Kept apart because:"] + [f"  {why}" for why in ev["kept_apart_because"]]
    if ev.get("waterfall"):
        out += ["", "Waterfall (comparison, level, weight):"] + waterfall_lines(ev["waterfall"])
    if ev.get("links"):
        out += ["", f"Links inside the resident (strong from {ev.get('strong_threshold')}):"]
        out += [f"  {l['record_l']}  ↔  {l['record_r']}  p={l['match_probability']:.3f}" for l in ev["links"]]
    if ev.get("values"):
        out += ["", f"Values of {ev.get('attribute')}:"]
        out += [f"  {value}  ← {', '.join(records)}" for value, records in ev["values"].items()]
    if ev.get("lineage"):
        out += ["", "Lineage:"]
        out += [f"  {l.get('value')}  {l.get('department')}:{l.get('source_record_id')}  ({l.get('rule')})"
                for l in ev["lineage"]]
    if "nearest_household_records" in ev:
        out += ["", "Nearest household-register records:"]
        out += [f"  {c['record']}  p={c['match_probability']:.3f}" for c in ev["nearest_household_records"]] or ["  none"]
    if ev.get("records_l") or ev.get("records_r"):
        out += ["", f"Records of {subject.get('resident_l')}: {', '.join(ev.get('records_l') or [])}",
                f"Records of {subject.get('resident_r')}: {', '.join(ev.get('records_r') or [])}"]
    return "\n".join(out) + "\n"
