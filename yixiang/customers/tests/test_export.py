"""Export: the visible customers only, the list's filters, masked numbers, files re-read and checked."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yixiang.accounts.models import AuditEvent
from yixiang.customers import importing, services
from yixiang.customers.models import Customer, ImportJob


@pytest.fixture
def archive(org):
    """Customers all over the organisation; the rep may see only their own and the pool's."""
    mine = org.customer(
        org.rep,
        "张三",
        phone="13800138000",
        gender="male",
        birth_date=dt.date(1980, 2, 3),
        company_name="甲公司",
        source="referral",
        bank_card="6222021234561234",
        id_number="11010519491231002X",
        grade="A",
        value_tier="B",
        region=org.north,
        kind="company",
    )
    services.customer_set_tags(actor=org.rep, customer=mine, tags=["VIP", "老客户"])
    formula = org.customer(org.rep, '=HYPERLINK("http://evil")', phone="13900139000", notes="+1 call me")
    pool = org.customer(None, "公海客户", phone="13700137000")
    teammate = org.customer(org.teammate, "队友客户", phone="13600136000")
    outsider = org.customer(org.outsider, "外区客户", phone="13500135000")
    return {"mine": mine, "formula": formula, "pool": pool, "teammate": teammate, "outsider": outsider}


def _get(client, user, language="zh-hans", **params):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(reverse("customer_export"), params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


def _xlsx_rows(content: bytes) -> list[list]:
    wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [[c.value for c in row] for row in wb.active.iter_rows()]


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read Chinese
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _as_dicts(rows):
    header, *body = rows
    return [dict(zip(header, r, strict=True)) for r in body]


def test_xlsx_holds_only_visible_customers_with_masked_numbers(client, org, archive):
    response, content = _get(client, org.rep, format="xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'attachment; filename="customers-' in response["Content-Disposition"]
    rows = _xlsx_rows(content)
    assert rows[0][:4] == ["档案编号", "姓名", "类型", "电话"]
    by_name = {r["姓名"]: r for r in _as_dicts(rows)}
    assert set(by_name) == {"张三", '=HYPERLINK("http://evil")', "公海客户"}  # never a teammate's or outsider's
    zhang = by_name["张三"]
    assert zhang["档案编号"] == archive["mine"].archive_no
    assert (zhang["电话"], zhang["性别"], zhang["来源"], zhang["类型"]) == ("138 0013 8000", "男", "转介绍", "企业")
    assert zhang["出生日期"] == dt.datetime(1980, 2, 3)  # a real date cell  # noqa: DTZ001
    assert zhang["银行卡号"] == "6222 **** **** 1234" and zhang["身份证号"] == "1101 **** **** 002X"
    assert zhang["标签"] == "VIP、老客户" and zhang["负责人"] == org.rep.label
    assert zhang["大区"] == "华北大区" and zhang["客户等级"] == "A" and zhang["价值分级"] == "B"
    assert zhang["意向阶段"] == "0阶段"
    assert by_name["公海客户"]["负责人"] not in ("", None, org.rep.label)


def test_xlsx_never_turns_text_into_a_formula(client, org, archive):
    _response, content = _get(client, org.rep, format="xlsx", q="HYPERLINK")
    wb = openpyxl.load_workbook(io.BytesIO(content))
    cell = wb.active["B2"]
    assert cell.value == '=HYPERLINK("http://evil")' and cell.data_type == "s"


def test_csv_has_bom_chinese_headers_and_defused_formulas(client, org, archive):
    response, content = _get(client, org.rep, format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(content)
    assert rows[0][:3] == ["档案编号", "姓名", "类型"]
    by_archive = {r["档案编号"]: r for r in _as_dicts(rows)}
    assert set(by_archive) == {archive[k].archive_no for k in ("mine", "formula", "pool")}
    evil = by_archive[archive["formula"].archive_no]
    assert evil["姓名"] == '\'=HYPERLINK("http://evil")' and evil["备注"] == "'+1 call me"
    assert by_archive[archive["mine"].archive_no]["出生日期"] == "1980-02-03"


def test_english_headers_when_the_ui_is_english(client, org, archive):
    _response, content = _get(client, org.rep, language="en", format="csv", q="张三")
    [row] = _as_dicts(_csv_rows(content))
    assert (row["Name"], row["Gender"], row["Source"], row["Type"]) == ("张三", "Male", "Referral", "Company")
    assert row["Tags"] == "VIP, 老客户" and row["Bank card"] == "6222 **** **** 1234"


EVIL_IN_CSV = '\'=HYPERLINK("http://evil")'  # a leading ' keeps spreadsheets from running it


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "zs"}, {"张三"}),
        ({"tag": "VIP"}, {"张三"}),
        ({"owner": "pool"}, {"公海客户"}),
        ({"owner": "mine", "kind": "company"}, {"张三"}),
        ({"source": "referral"}, {"张三"}),
        ({"grade": "A", "value_tier": "B"}, {"张三"}),
        ({"stage": "0"}, {"张三", EVIL_IN_CSV, "公海客户"}),
        ({"stage": "4"}, set()),
        ({"stage": "nonsense", "grade": "Z"}, {"张三", EVIL_IN_CSV, "公海客户"}),  # bad values ignored
    ],
)
def test_filters_of_the_list_page(client, org, archive, params, expected):
    _response, content = _get(client, org.rep, format="csv", **params)
    assert {r["姓名"] for r in _as_dicts(_csv_rows(content))} == expected


def test_region_filter_and_a_lead_sees_the_team(client, org, archive):
    _response, content = _get(client, org.lead1, format="csv", region=str(org.north.pk))
    assert {r["姓名"] for r in _as_dicts(_csv_rows(content))} == {"张三"}
    _response, content = _get(client, org.lead1, format="csv")
    assert "队友客户" in {r["姓名"] for r in _as_dicts(_csv_rows(content))}
    assert "外区客户" not in content.decode("utf-8-sig")


def test_an_outsiders_customers_never_appear_even_when_asked_for_by_owner(client, org, archive):
    for user in (org.rep, org.lead1, org.director):
        _response, content = _get(client, user, format="csv", owner=str(org.outsider.pk))
        assert _as_dicts(_csv_rows(content)) == []
        _response, content = _get(client, user, format="xlsx", q="外区")
        assert len(_xlsx_rows(content)) == 1  # the header only
    _response, content = _get(client, org.south_director, format="csv")
    assert {r["姓名"] for r in _as_dicts(_csv_rows(content))} == {"外区客户", "公海客户"}


def test_each_export_is_audited(client, org, archive):
    _get(client, org.rep, format="xlsx", tag="VIP")
    event = AuditEvent.objects.get(action="customer.export")
    assert event.actor == org.rep
    assert event.detail == {"format": "xlsx", "rows": 1, "filters": {"tag": "VIP"}}


def test_query_count_does_not_grow_with_rows(client, org, archive):
    def count_queries():
        client.force_login(org.admin)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("customer_export"), {"format": "csv"})
            b"".join(response.streaming_content)
        return len(ctx)

    before = count_queries()
    for i in range(15):
        c = org.customer(org.rep, f"客户{i}", phone=f"1380013{i:04d}")
        services.customer_set_tags(actor=org.rep, customer=c, tags=[f"t{i}", "共同"])
    assert count_queries() == before


def test_unknown_format_is_a_clear_400(client, org):
    client.force_login(org.rep)
    response = client.get(reverse("customer_export"), {"format": "pdf"})
    text = response.content.decode()  # in the UI language (Chinese by default)
    assert response.status_code == 400 and "“pdf”" in text and "xlsx" in text and "csv" in text


def test_an_exported_file_imports_back_as_duplicates(client, org, archive, tmp_path):
    for fmt in ("csv", "xlsx"):
        _response, content = _get(client, org.rep, format=fmt)
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(content)
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
        assert job.status == ImportJob.Status.DONE, job.message
        assert (job.created_count, job.error_count, job.skipped_count) == (0, 0, 3), job.errors
    assert Customer.objects.count() == 5


def test_export_command(org, archive, tmp_path):
    out = io.StringIO()
    path = tmp_path / "mine.xlsx"
    call_command("export_customers", str(path), "--as", "rep", "--owner", "mine", "--language", "en", stdout=out)
    assert "2 customers written" in out.getvalue()
    assert {r["Name"] for r in _as_dicts(_xlsx_rows(path.read_bytes()))} == {"张三", '=HYPERLINK("http://evil")'}
    assert AuditEvent.objects.filter(action="customer.export", actor=org.rep).count() == 1
