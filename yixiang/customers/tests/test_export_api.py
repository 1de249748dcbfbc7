"""GET /api/v1/exports/customers: Bearer auth, scope, filters, both formats, documented in OpenAPI."""

from __future__ import annotations

import csv
import io

import openpyxl

from yixiang.accounts.models import AuditEvent
from yixiang.customers import services

URL = "/api/v1/exports/customers"


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _setup(org):
    mine = org.customer(org.rep, "张三", phone="13800138000")
    services.customer_set_tags(actor=org.rep, customer=mine, tags=["VIP"])
    org.customer(org.rep, "李四", phone="13900139000")
    org.customer(org.outsider, "外区客户", phone="13500135000")
    org.customer(org.teammate, "队友客户", phone="13600136000")


def test_csv_export_with_bearer_token_is_scoped_and_filtered(org, api_as):
    _setup(org)
    api = api_as(org.rep)
    response = api.get(URL, format="csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(_content(response).decode("utf-8-sig"))))
    assert {r["姓名"] for r in rows} == {"张三", "李四"}
    response = api.get(URL, format="csv", tag="VIP")
    assert [r["姓名"] for r in csv.DictReader(io.StringIO(_content(response).decode("utf-8-sig")))] == ["张三"]
    assert AuditEvent.objects.filter(action="customer.export", actor=org.rep).count() == 2


def test_xlsx_export_for_a_director_never_holds_another_regions_customers(org, api_as):
    _setup(org)
    response = api_as(org.director).get(URL, format="xlsx", owner=str(org.outsider.pk))
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(_content(response)), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][1] == "姓名"
    response = api_as(org.director).get(URL)  # xlsx by default
    wb = openpyxl.load_workbook(io.BytesIO(_content(response)), read_only=True)
    names = {r[1] for r in list(wb.active.iter_rows(values_only=True))[1:]}
    assert names == {"张三", "李四", "队友客户"}


def test_refusals(org, api_as, client):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer nope"}).status_code == 401
    response = api_as(org.rep).get(URL, format="pdf")
    assert response.status_code == 422
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_openapi_documents_the_file_response(org, api_as):
    spec = api_as(org.rep).get("/api/v1/openapi.json").json()
    operation = spec["paths"][URL]["get"]
    assert set(operation["responses"]["200"]["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert {p["name"] for p in operation["parameters"]} >= {"format", "q", "stage", "tag", "owner", "region"}
