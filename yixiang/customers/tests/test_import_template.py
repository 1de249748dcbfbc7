"""The import template (issue 14): downloaded over real HTTP, it names the importable columns in
Chinese, explains them on a second sheet, and imports as it is."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import openpyxl
import pytest
from django.utils import translation

from yixiang.customers import importing
from yixiang.customers.columns import COLUMNS
from yixiang.customers.models import Customer, ImportJob
from yixiang.pipeline.models import StageChange
from yixiang.testing import ApiClient


def _fetch(url: str, token: str | None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 (the test's own live server)
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.django_db(transaction=True)
def test_template_over_http_has_headers_example_and_guide_and_imports_as_is(live_server, org, tmp_path):
    token = ApiClient(org.rep).token
    status, _h, _b = _fetch(f"{live_server.url}/api/v1/imports/template", None)
    assert status == 401  # not without a login
    status, headers, body = _fetch(f"{live_server.url}/api/v1/imports/template?format=xlsx", token)
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in headers["Content-Disposition"] and ".xlsx" in headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["客户", "填写说明"]
    sheet = [list(r) for r in wb["客户"].iter_rows(values_only=True)]
    assert sheet[0] == [c.zh for c in COLUMNS]
    assert len(sheet) == 2
    example = dict(zip(sheet[0], sheet[1], strict=True))
    assert example["姓名"] and example["负责人"] == "rep" and example["意向阶段"] == "1阶段"
    guide = {r[0]: r[2] for r in wb["填写说明"].iter_rows(min_row=2, values_only=True) if r and r[0] and r[2]}
    assert set(guide) >= {c.zh for c in COLUMNS}
    assert "拒绝" in guide["意向阶段"] and "E类" in guide["意向阶段"]
    assert "A" in guide["客户等级"] and "D" in guide["客户等级"]

    path = tmp_path / "template.xlsx"
    path.write_bytes(body)
    with translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert (job.status, job.created_count, job.error_count) == (ImportJob.Status.DONE, 1, 0), job.errors
    customer = Customer.objects.get()
    assert (customer.owner, customer.stage, customer.grade) == (org.rep, 1, "B")
    assert customer.next_due_on is not None
    assert StageChange.objects.get(customer=customer).note == "import"

    status, headers, body = _fetch(f"{live_server.url}/api/v1/imports/template?format=csv", token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    text = body.decode("utf-8-sig").splitlines()
    assert text[0].split(",")[:3] == ["姓名", "类型", "电话"] and len(text) == 2
    status, _h, _b = _fetch(f"{live_server.url}/api/v1/imports/template?format=pdf", token)
    assert status == 422


def test_import_page_links_the_templates(client, org):
    assert client.get("/customers/import/template.xlsx").status_code == 302  # to the login page
    client.force_login(org.rep)
    with translation.override("zh-hans"):
        page = client.get("/customers/import/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'href="/customers/import/template.xlsx"' in page and 'href="/customers/import/template.csv"' in page
    reply = client.get("/customers/import/template.csv")
    assert reply.status_code == 200 and reply.content.startswith(b"\xef\xbb\xbf")
    assert client.get("/customers/import/template.pdf").status_code == 404
