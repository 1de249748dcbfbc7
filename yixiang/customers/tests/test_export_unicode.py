"""Exports write any stored text (issue 12, defect 3 and its guard): control characters, NUL where the
database stores it, emoji, RTL marks, in every text field, in CSV and .xlsx, on SQLite and PostgreSQL.

Decisions: .xlsx cannot hold C0 controls (other than tab, LF, CR) or U+FFFE/U+FFFF: they become U+FFFD
there; XML also reads a CR back as LF. CSV keeps the exact text. Lone surrogates cannot be stored by
either database (UTF-8 cannot encode them), so they only reach the writers directly: both write U+FFFD.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection, models
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yixiang import spreadsheet
from yixiang.customers import exporting
from yixiang.customers.models import Customer, Tag

_MASKED = {"bank_card", "id_number", "archive_no"}
TEXT_FIELDS = [
    f.name
    for f in Customer._meta.fields
    if f.name in exporting.EXPORT_FIELDS
    and f.name not in _MASKED
    and isinstance(f, models.CharField | models.TextField)
    and not f.choices
]


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    header, *body = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    return [dict(zip(header, r, strict=True)) for r in body]


def _xlsx_rows(content: bytes) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    header, *body = [[c.value for c in row] for row in wb.active.iter_rows()]
    return [dict(zip(header, r, strict=True)) for r in body]


def _export(user, fmt: str) -> bytes:
    export = exporting.export_customers(user=user, fmt=fmt)
    with export.file as fh:
        return fh.read()


def _header(name: str) -> str:
    return exporting._HEADERS[name][0]  # the Chinese header (the default language under test)


def test_there_are_text_fields_to_fuzz():
    assert {"name", "notes", "company_name", "address"} <= set(TEXT_FIELDS)


# -- defect 3


def test_a_control_character_in_a_name_no_longer_breaks_the_xlsx_export(client, org):
    org.customer(org.rep, "a\u0001\u001b[31mred", phone="13800138000")
    client.force_login(org.rep)
    response = client.get(reverse("customer_export"), {"format": "xlsx"})
    assert response.status_code == 200
    [row] = _xlsx_rows(b"".join(response.streaming_content))
    assert row[_header("name")] == "a\ufffd\ufffd[31mred"  # recognisable: only the illegal characters differ
    response = client.get(reverse("customer_export"), {"format": "csv"})
    [row] = _csv_rows(b"".join(response.streaming_content))
    assert row[_header("name")] == "a\u0001\u001b[31mred"  # CSV keeps the exact text


def test_api_xlsx_export_with_a_control_character(api_as, org):
    org.customer(org.rep, "b\u0007c", phone="13800138000")
    response = api_as(org.rep).get("/api/v1/exports/customers", format="xlsx")
    assert response.status_code == 200
    [row] = _xlsx_rows(b"".join(response.streaming_content))
    assert row[_header("name")] == "b\ufffdc"


def test_reports_workbook_writes_control_characters_in_titles_data_and_filters():
    from yixiang.reports.exports import workbook

    content = workbook([("团队\u0002", ["名字"], [["x\u0001y", 3]])], filters={"q": "z\u000b"})
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sheet = wb.worksheets[0]
    assert sheet.title == "团队\ufffd" and sheet["A2"].value == "x\ufffdy"
    assert wb.worksheets[1]["B1"].value == "z\ufffd"


def test_writers_replace_lone_surrogates():
    assert spreadsheet.xlsx_value("a\ud800b") == "a\ufffdb" and spreadsheet.csv_text("a\udfffb") == "a\ufffdb"
    out = io.BytesIO()
    exporting._write_csv(out, ["h"], iter([["x\ud83dy"]]))
    assert out.getvalue().decode("utf-8-sig").splitlines()[1] == "x\ufffdy"
    out = io.BytesIO()
    exporting._write_xlsx(out, ["h"], iter([["x\ud83dy\u0000"]]), title="t")
    assert openpyxl.load_workbook(io.BytesIO(out.getvalue())).active["A2"].value == "x\ufffdy\ufffd"


# -- the guard: any text the database accepts exports in both formats


def _stored_text() -> st.SearchStrategy[str]:
    """Text each database can store: no lone surrogates anywhere, no NUL on PostgreSQL."""
    excluded = ["\x00"] if connection.vendor == "postgresql" else []
    special = st.sampled_from(
        ["\x00", "\x01", "\x07", "\x1b", "\x0b", "\x0c", "\x1f", "\x7f", "\t", "\n", "\r", "\r\n", "\ufffe", "\uffff"]
        + ["\u202e", "\u200f", "\u061c", "עברית", "مرحبا", "👨‍👩‍👧", "🇨🇳", "𠀀", "张三", " ", "=1+1", "@x", "-2"]
    ).filter(lambda s: s not in excluded)
    chars = st.characters(blacklist_categories=("Cs",), blacklist_characters=excluded)
    return st.lists(st.one_of(special, st.text(chars, max_size=4)), max_size=8).map("".join)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_exports_write_any_stored_text(org, data):
    customer = Customer.objects.filter(owner=org.rep).first() or org.customer(org.rep, "x", phone="13800138000")
    values = {}
    for name in TEXT_FIELDS:
        field = Customer._meta.get_field(name)
        values[name] = data.draw(_stored_text(), label=name)[: field.max_length or 2000]
    values["name"] = values["name"] or "n"  # a name is required
    Customer.objects.filter(pk=customer.pk).update(**values)
    tag_name = data.draw(_stored_text(), label="tag")[:50] or "t"
    customer.tags.set([Tag.objects.get_or_create(name=tag_name)[0]])

    [row] = _csv_rows(_export(org.rep, "csv"))
    for name, text in values.items():
        assert row[_header(name)] == exporting._safe(text), name  # exact, a formula start defused by '
    assert row[_header("tags")] == exporting._safe(tag_name)

    [row] = _xlsx_rows(_export(org.rep, "xlsx"))
    for name, text in [*values.items(), ("tags", tag_name)]:
        expected = spreadsheet.xlsx_value(text).replace("\r\n", "\n").replace("\r", "\n")
        assert (row[_header(name)] or "") == expected, name
