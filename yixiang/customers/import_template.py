"""The import template (导入模板) a new team downloads: the importable columns with their Chinese
headers and one example row; the .xlsx adds a sheet that explains every column and its allowed
values. Built from ``columns`` (the importer's own vocabulary), so the template always imports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers.columns import (
    CHOICE_ENUMS,
    CHOICE_LABELS_ZH,
    COLUMNS,
    STAGE_LABELS_ZH,
    bool_label,
    choice_label,
    stage_label,
)
from yixiang.customers.import_rows import _TEXT_LIMITS

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _example(user: User) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "name": "张三",
        "kind": choice_label("kind", "individual", chinese=True),
        "phone": "13800138000",
        "email": "zhangsan@example.com",
        "wechat": "zhangsan_wx",
        "preferred_channel": choice_label("preferred_channel", "phone", chinese=True),
        "gender": choice_label("gender", "male", chinese=True),
        "birth_date": "1985-06-18",
        "birthday_calendar": choice_label("birthday_calendar", "solar", chinese=True),
        "occupation": "经理",
        "city": "北京",
        "address": "北京市海淀区中关村大街1号",
        "source": choice_label("source", "referral", chinese=True),
        "company_name": "北京某某科技有限公司",
        "industry": "教育培训",
        "family_supports": bool_label(True, chinese=True),
        "funds_available": "50000",
        "grade": "B",
        "expected_sign_month": (today.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m"),
        "value_tier": "B",
        "tags": "老客户介绍、重点",
        "notes": "上午方便接电话",
        "owner": user.username,
        "stage": stage_label(1, chinese=True),
        "next_due_on": (today + dt.timedelta(days=7)).isoformat(),
    }


def _allowed(field: str) -> str:
    """What a column accepts, in the user's language (values themselves in Chinese, as imported)."""
    if field == "name":
        return _("Required. Text.")
    if field == "phone":
        return _("Mobile or landline; rows with the same phone are skipped as duplicates.")
    if field in CHOICE_ENUMS:
        labels = [
            CHOICE_LABELS_ZH[field].get(v, (v,))[0] if field not in ("grade", "value_tier") else v
            for v, _l in CHOICE_ENUMS[field].choices
            if v
        ]
        text = _("One of: %(values)s.") % {"values": "、".join(labels)}
        if field == "grade":
            text += " " + _("A: signs this month; B: next month; C: within three months; D: no date.")
        return text
    if field == "stage":
        return (
            _("One of: %(values)s.") % {"values": "、".join(STAGE_LABELS_ZH[s][0] for s in STAGE_LABELS_ZH)}
            + " "
            + _("0–4 may be written as a digit, signed as E. Recorded as a stage judgment by the importer.")
        )
    if field == "owner":
        return _(
            "Username or name of the customer's owner: a rep imports for themself, a team lead for the "
            "team, a director for the region, an administrator for anyone (公海: the public pool, "
            "administrators only). Empty: the owner chosen on the import page."
        )
    if field in ("birth_date", "next_due_on"):
        return _("A date, like 2024-03-15.")
    if field == "expected_sign_month":
        return _("A month, like 2024-03.")
    if field == "family_supports":
        return _("Yes or no: %(values)s.") % {"values": "是/否"}
    if field == "funds_available":
        return _("An amount in yuan, like 50000 or 5万.")
    if field == "tags":
        return _("Several tags separated by 、 or commas; each at most 50 characters.")
    if field == "region":
        return _("The name of a region of your company.")
    if field in ("bank_card", "id_number"):
        return _("Digits; stored encrypted, shown masked.")
    limit = _TEXT_LIMITS.get(field)
    return _("Text, at most %(max)s characters.") % {"max": limit} if limit else _("Text.")


def content_disposition(fmt: str) -> str:
    """An attachment named 客户导入模板.<fmt> (RFC 5987, with an ASCII fallback)."""
    return f"attachment; filename=\"customer-import-template.{fmt}\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.{fmt}"


def template_rows(user: User) -> tuple[list[str], list[Any]]:
    example = _example(user)
    return [c.zh for c in COLUMNS], [example.get(c.field, "") for c in COLUMNS]


def build_template(fmt: str, *, user: User) -> bytes:
    """The template file's bytes; ``fmt`` is "xlsx" or "csv" (UTF-8 with a BOM, so Excel reads it)."""
    header, example = template_rows(user)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([header, example])
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt != "xlsx":
        raise ValueError(fmt)
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    sheet = wb.active
    sheet.title = "客户"
    sheet.append(header)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, len(text) * 2 + 4)
        sheet.cell(row=2, column=i).number_format = "@"  # phones and dates stay text
    sheet.freeze_panes = "A2"
    guide = wb.create_sheet("填写说明")
    guide.append([_("Column"), _("Column (English)"), _("Allowed values")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    with translation.override("en"):
        english = [c.en for c in COLUMNS]
    for col, en in zip(COLUMNS, english, strict=True):
        guide.append([col.zh, en, _allowed(col.field)])
    guide.append([])
    guide.append([_("Only the first sheet is imported. The example row may be deleted or overwritten.")])
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 22
    guide.column_dimensions["C"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["FORMATS", "build_template", "content_disposition", "template_rows"]
