"""Reports as .xlsx workbooks (openpyxl), written from the same dicts the API returns."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from yixiang.spreadsheet import xlsx_row, xlsx_value

Sheet = tuple[str, list[str], list[list[Any]]]


def _funnel(d: dict[str, Any]) -> list[Sheet]:
    stages = [s["label"] for s in d["total"]["stages"]]
    bands = [b["label"] for b in d["total"]["bands"]]
    header = [_("Kind"), _("Name"), *stages, _("Total"), *[_("Band %(band)s / target") % {"band": b} for b in bands]]
    kinds = {"total": _("All"), "rep": _("Rep"), "team": _("Team"), "region": _("Region")}
    rows = []
    for row in [d["total"], *d["regions"], *d["teams"], *d["reps"]]:
        rows.append(
            [
                kinds[row["kind"]],
                row["name"],
                *[s["count"] for s in row["stages"]],
                row["total"],
                *[f"{b['count']} / {b['target']}" for b in row["bands"]],
            ]
        )
    title = _("Funnel on %(date)s") % {"date": d["as_of"]} if d["as_of"] else _("Funnel now")
    return [(title, header, rows)]


def _movement(d: dict[str, Any]) -> list[Sheet]:
    conv = [[c["label"], c["next_label"], c["entered"], c["advanced"], c["rate"]] for c in d["conversions"]]
    dur = [[x["label"], x["median_days"], x["stays"]] for x in d["durations"]]
    win = [[w["label"], w["reached"], w["signed"], w["probability"]] for w in d["win_rates"]["stages"]]
    return [
        (_("Conversion"), [_("Stage"), _("Next stage"), _("In the stage"), _("Moved on"), _("Rate")], conv),
        (_("Days in stage"), [_("Stage"), _("Median days"), _("Stays")], dur),
        (_("Win rate"), [_("Stage"), _("Customers in the stage"), _("Signed later"), _("Win rate")], win),
    ]


def _activity(d: dict[str, Any]) -> list[Sheet]:
    header = [
        _("Rep"),
        _("Team"),
        _("From"),
        _("To"),
        _("Follow-ups"),
        _("Effective"),
        _("Stage 3–4 judgments"),
        _("Right"),
        _("Pending"),
        _("Accuracy"),
        _("Rises"),
        _("Reversed"),
    ]
    rows = [
        [
            r["name"],
            r["team"],
            p["start"],
            p["end"],
            p["follow_ups"],
            p["effective"],
            p["hot_judgments"],
            p["hot_right"],
            p["hot_pending"],
            p["hot_accuracy"],
            p["judgments"],
            p["reversed"],
        ]
        for r in d["reps"]
        for p in r["points"]
    ]
    return [(_("Activity"), header, rows)]


def _aftercare(d: dict[str, Any]) -> list[Sheet]:
    return [
        (_("Value tiers"), [_("Tier"), _("Customers")], [[t["label"], t["count"]] for t in d["tiers"]]),
        (
            _("Pareto"),
            [_("Share of customers %"), _("Share of revenue %")],
            [list(p) for p in d["pareto"]["curve"]],
        ),
        (_("Loyalty ladder"), [_("Level"), _("Customers")], [[x["label"], x["count"]] for x in d["loyalty"]]),
        (
            _("Referrals"),
            [_("Referrer"), _("Referred"), _("Signed"), _("Conversion %")],
            [[x["name"], x["referred"], x["signed"], x["conversion_percent"]] for x in d["referrers"]],
        ),
        (
            _("Payouts due"),
            [_("Customer"), _("Contract"), _("Due"), _("Amount"), _("Late")],
            [[p["customer"], p["contract"], p["due_date"], p["amount"], p["late"]] for p in d["payouts_due"]],
        ),
        (
            _("Renewals due"),
            [_("Customer"), _("Contract"), _("Ends"), _("Amount"), _("Days left")],
            [[c["customer"], c["contract"], c["end_date"], c["amount"], c["days_left"]] for c in d["renewals_due"]],
        ),
        (
            _("Lapsing"),
            [_("Customer"), _("Since"), _("Tier")],
            [[x["customer"], x["since"], x["tier"]] for x in d["lapsing"]],
        ),
        (
            _("Maintenance cost"),
            [_("Tier"), _("Messages"), _("Calls"), _("Gifts"), _("Total")],
            [[c["tier"], c["messages"], c["calls"], c["gifts"], c["total"]] for c in d["costs"]],
        ),
    ]


def _incentives(d: dict[str, Any]) -> list[Sheet]:
    months = d["months"]
    people = [[p["name"], p["region"], *p["totals"], p["total"]] for p in d["people"]]
    regions = [[r["region"], *r["totals"], r["total"]] for r in d["regions"]]
    sheets: list[Sheet] = [
        (_("Per person"), [_("Name"), _("Region"), *months, _("Total")], people),
        (_("Per region"), [_("Region"), *months, _("Total")], regions),
    ]
    if d["fund"] is not None:
        keys = [
            "month",
            "fund_before",
            "penalties",
            "from_penalties",
            "from_fund",
            "from_management",
            "from_wages",
            "shortfall",
            "held_back",
            "fund_after",
        ]
        sheets.append((_("Penalty fund"), keys, [[f[k] for k in keys] for f in d["fund"]]))
    return sheets


SECTIONS: dict[str, Callable[[dict[str, Any]], list[Sheet]]] = {
    "funnel": _funnel,
    "movement": _movement,
    "activity": _activity,
    "aftercare": _aftercare,
    "incentives": _incentives,
}


def _safe_title(title: str, taken: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique in the workbook.
    clean = "".join("-" if ch in "[]:*?/\\" else ch for ch in xlsx_value(title))[:31] or "Sheet"
    name, n = clean, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def workbook(sheets: Sequence[Sheet], *, filters: dict[str, str] | None = None) -> bytes:
    """An .xlsx file with one sheet per table, and the filters used on a last sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(_safe_title(title, taken))
        ws.append(xlsx_row(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(xlsx_row(row))  # stored text may hold characters .xlsx cannot
        for i, name in enumerate(header, start=1):
            width = max([len(str(name)), *(len(str(r[i - 1])) for r in rows if i - 1 < len(r))] or [8])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(width + 2, 8), 40)
        ws.freeze_panes = "A2"
    if filters:
        ws = wb.create_sheet(_safe_title(_("Filters"), taken))
        for key, value in filters.items():
            ws.append(xlsx_row([key, value]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def section_workbook(section: str, data: dict[str, Any], *, filters: dict[str, str] | None = None) -> bytes:
    return workbook(SECTIONS[section](data), filters=filters)
