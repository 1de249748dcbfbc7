"""Import and export in a real browser, on a phone-sized screen: upload, dry run, import, download."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_upload_dry_run_import_and_export_on_a_phone(org, page, login, tmp_path):
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.rep)
    path = tmp_path / "客户名单.csv"
    path.write_bytes(
        csv_bytes([["姓名", "手机", "标签"], ["张三", "13800138000", "VIP"], ["李四", "无号码", ""]], encoding="gbk")
    )

    page.goto("/customers/import/")
    page.set_input_files("input[name=file]", str(path))
    page.click("#import-submit")
    expect(page.locator("#import-job")).to_have_attribute("data-status", "done")
    expect(page.locator("#import-preview")).to_contain_text("138 0013 8000")
    expect(page.locator("#import-errors")).to_contain_text("无号码")
    assert not Customer.objects.exists()  # the dry run saved nothing

    page.click("#run-import")
    expect(page.locator("#created-count")).to_have_text("1")
    expect(page.locator("#error-count")).to_have_text("1")
    assert Customer.objects.get().name == "张三"
    assert ImportJob.objects.filter(dry_run=False, created_by=org.rep).count() == 1

    page.goto("/customers/")
    with page.expect_download() as download:
        page.click("#export-csv")
    content = download.value.path().read_bytes()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [(r["姓名"], r["电话"], r["标签"]) for r in rows] == [("张三", "138 0013 8000", "VIP")]
