"""Import as a job through the API: multipart upload in every accepted encoding and .xlsx, dry run,
progress, row errors, the real import once; the page's gate and owner rules; jobs are their importer's."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes

ROWS = [["姓名", "电话", "标签"], ["张三", "13800138000", "VIP"], ["李四", "bad", ""], ["王五", "13900139000", ""]]


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(api, content: bytes, name: str = "客户.csv", **form):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return api.client.post("/api/v1/imports", {"file": upload, **form}, headers=api.headers)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("utf8.csv", csv_bytes(ROWS, "utf-8")),
        ("bom.csv", csv_bytes(ROWS, "utf-8-sig")),
        ("gbk.csv", csv_bytes(ROWS, "gbk")),
        ("utf16.csv", csv_bytes(ROWS, "utf-16")),
        ("book.xlsx", _xlsx(ROWS)),
    ],
)
def test_dry_run_then_real_import(org, api_as, name, content):
    api = api_as(org.rep)
    r = _upload(api, content, name)
    assert r.status_code == 201, r.content
    dry = r.json()
    assert dry["dry_run"] is True and dry["status"] == "done" and dry["percent"] == 100
    assert dry["created_count"] == 2 and dry["error_count"] == 1 and dry["owner_id"] == org.rep.pk
    assert not Customer.objects.exists()
    errors = api.get(f"/api/v1/imports/{dry['id']}/errors").json()
    assert [e["line"] for e in errors["items"]] == [3] and "bad" in errors["items"][0]["reason"]
    assert errors["left_out"] == 0
    r = api.post(f"/api/v1/imports/{dry['id']}/run")
    assert r.status_code == 201, r.content
    real = r.json()
    assert real["dry_run"] is False and real["status"] == "done" and real["created_count"] == 2
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "王五"]
    # Asking twice gives the same job and imports nothing more.
    again = api.post(f"/api/v1/imports/{dry['id']}/run")
    assert again.status_code == 200 and again.json()["id"] == real["id"]
    assert Customer.objects.count() == 2
    assert api.get(f"/api/v1/imports/{dry['id']}").json()["real_import_id"] == real["id"]
    assert [j["id"] for j in api.get("/api/v1/imports").json()] == [real["id"], dry["id"]]


def test_big_file_goes_to_the_worker_and_is_polled(org, api_as):
    api = api_as(org.lead1)
    yixiang = {**settings.YIXIANG, "IMPORT_INLINE_MAX_BYTES": 0}  # every upload goes to Huey (inline in tests)
    with override_settings(YIXIANG=yixiang):
        r = _upload(api, csv_bytes(ROWS, "gbk"), dry_run="false", owner_id=str(org.rep.pk))
    assert r.status_code == 201, r.content
    job = api.get(f"/api/v1/imports/{r.json()['id']}").json()
    assert job["status"] == "done" and job["dry_run"] is False and job["processed_rows"] == 3
    assert set(Customer.objects.values_list("owner", flat=True)) == {org.rep.pk}


def test_owner_rules_and_the_gate(org, api_as):
    rep = api_as(org.rep)
    r = _upload(rep, csv_bytes(ROWS), pool="true")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = _upload(rep, csv_bytes(ROWS), owner_id=str(org.teammate.pk))
    assert r.status_code == 400 and r.json()["field"] == "owner_id"
    with override_settings(IMPORT_MAX_UPLOAD_BYTES=50):  # the upload gate refuses the file whole
        r = _upload(rep, csv_bytes(ROWS))
    assert r.status_code == 400 and r.json()["code"] == "too_large"
    assert not ImportJob.objects.exists()
    # A file the gate passes but the importer cannot read: a failed job with the reason, as on the page.
    r = _upload(rep, csv_bytes([["电话"], ["13800138000"]]))
    assert r.status_code == 201 and r.json()["status"] == "failed" and r.json()["message"]
    ImportJob.objects.all().delete()
    r = _upload(api_as(org.admin), csv_bytes(ROWS), pool="true", dry_run="false")
    assert r.status_code == 201 and r.json()["owner_id"] is None
    assert set(Customer.objects.values_list("owner", flat=True)) == {None}


def test_a_job_is_its_importers(org, api_as):
    job = _upload(api_as(org.rep), csv_bytes(ROWS)).json()
    for user in (org.lead1, org.teammate, org.admin):
        api = api_as(user)
        assert api.get(f"/api/v1/imports/{job['id']}").status_code == 404
        assert api.get(f"/api/v1/imports/{job['id']}/errors").status_code == 404
        assert api.post(f"/api/v1/imports/{job['id']}/run").status_code == 404
    assert not Customer.objects.exists()
    assert api_as(org.rep).get(f"/api/v1/imports/{job['id']}/errors", kind="nonsense").status_code == 422
