"""The upload page: dry run, preview, the real import, progress polling, and who may see a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from yixiang.customers import uploads
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes
from yixiang.testing import PASSWORD

ROWS = [["姓名", "电话", "标签"], ["张三", "13800138000", "VIP"], ["李四", "bad", ""], ["王五", "13900139000", ""]]


@pytest.fixture
def client_for(client):
    def _login(user):
        client.force_login(user)
        client.cookies["django_language"] = "en"
        return client

    return _login


def _upload(client, rows=ROWS, name="客户.csv", encoding="gbk", **data):
    upload = SimpleUploadedFile(name, csv_bytes(rows, encoding=encoding), content_type="text/csv")
    return client.post(reverse("customer_import"), {"file": upload, **data})


def test_dry_run_then_import(org, client_for):
    client = client_for(org.rep)
    page = client.get(reverse("customer_import"))
    assert page.status_code == 200 and b'name="file"' in page.content
    assert b'value="pool"' not in page.content  # a rep imports for themself only

    response = _upload(client, dry_run="on")
    dry = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("customer_import_job", args=[dry.pk])
    assert dry.dry_run and dry.status == ImportJob.Status.DONE and not Customer.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Import 2 customers now" in page
    assert "“bad” in column 电话 is not a valid phone number." in page  # the error list, with its line
    assert 'id="import-preview"' in page and "138 0013 8000" in page  # rows as they will be imported
    assert "hx-trigger" not in page  # finished: no polling

    response = client.post(reverse("customer_import_run", args=[dry.pk]))
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == reverse("customer_import_job", args=[real.pk])
    assert not real.dry_run and real.file_path == dry.file_path
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "王五"]
    assert Customer.objects.get(name="张三").owner == org.rep
    page = client.get(response["Location"]).content.decode()
    assert 'id="created-count">2<' in page and 'id="error-count">1<' in page
    assert not uploads.storage().exists(real.file_path)  # the uploaded copy is removed once imported

    # A second click (or a reload of the dry run) never imports the file twice.
    again = client.post(reverse("customer_import_run", args=[dry.pk]))
    assert again["Location"] == reverse("customer_import_job", args=[real.pk])
    assert ImportJob.objects.count() == 2 and Customer.objects.count() == 2
    page = client.get(reverse("customer_import_job", args=[dry.pk])).content.decode()
    assert 'id="real-import"' in page and 'id="run-import"' not in page


def test_a_big_file_runs_in_the_worker_and_the_page_polls(org, client_for):
    client = client_for(org.lead1)
    pending = ImportJob.objects.create(created_by=org.lead1, owner=org.rep, file_name="x.csv", file_path="/nowhere")
    partial = client.get(reverse("customer_import_job", args=[pending.pk]), headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body and 'hx-trigger="every 1s"' in body and 'data-status="pending"' in body

    yixiang = {**settings.YIXIANG, "IMPORT_INLINE_MAX_BYTES": 0}  # every upload goes to Huey (inline in tests)
    with override_settings(YIXIANG=yixiang):
        response = _upload(client, owner=str(org.rep.pk))
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("customer_import_job", args=[job.pk])
    assert job.status == ImportJob.Status.DONE and job.created_count == 2 and not job.dry_run
    assert set(Customer.objects.values_list("owner", flat=True)) == {org.rep.pk}


def test_owner_choices_follow_scope(org, client_for):
    client = client_for(org.lead1)
    page = client.get(reverse("customer_import")).content.decode()
    assert f'value="{org.rep.pk}"' in page and f'value="{org.outsider.pk}"' not in page
    _upload(client, owner=str(org.outsider.pk))  # not a valid choice: refused, nothing imported
    assert not ImportJob.objects.exists() and not Customer.objects.exists()

    admin = client_for(org.admin)
    assert b'value="pool"' in admin.get(reverse("customer_import")).content
    _upload(admin, owner="pool")
    assert Customer.objects.count() == 2 and not Customer.objects.filter(owner__isnull=False).exists()


def test_rep_cannot_import_into_another_reps_name(org, client_for):
    client = client_for(org.rep)
    response = _upload(client, owner=str(org.teammate.pk))
    assert response.status_code == 200 and not ImportJob.objects.exists()
    assert not Customer.objects.exists()


def test_someone_elses_job_is_not_found(org, client_for):
    job = ImportJob.objects.create(created_by=org.rep, owner=org.rep, file_name="x.csv", file_path="/nowhere")
    for user in (org.teammate, org.lead1, org.outsider, org.admin):
        client = client_for(user)
        assert client.get(reverse("customer_import_job", args=[job.pk])).status_code == 404
        assert client.post(reverse("customer_import_run", args=[job.pk])).status_code == 404
    assert ImportJob.objects.count() == 1


def test_unreadable_upload_shows_the_reason(org, client_for):
    client = client_for(org.rep)
    response = _upload(client, rows=[["电话"], ["13800138000"]])
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert job.status == ImportJob.Status.FAILED and "no name column" in page
    assert "Import 0" not in page and "run-import" not in page


def test_pages_need_a_login(client, org):
    for url in (reverse("customer_import"), reverse("customer_export")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.login(username="rep", password=PASSWORD)
    assert client.get(reverse("customer_import_job", args=[999])).status_code == 404


def test_stale_uploads_are_purged_but_not_those_a_job_still_needs(org):
    import os
    import time

    from yixiang.customers import tasks

    folder = Path(uploads.storage().path(""))
    folder.mkdir(parents=True, exist_ok=True)
    old, needed, fresh = (folder / "old.csv", folder / "needed.csv", folder / "fresh.csv")
    for path in (old, needed, fresh):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (old, needed):
        os.utime(path, (two_days_ago, two_days_ago))
    ImportJob.objects.create(created_by=org.rep, owner=org.rep, file_name="n.csv", file_path="needed.csv")
    tasks.purge_import_uploads.call_local()
    assert (old.exists(), needed.exists(), fresh.exists()) == (False, True, True)
    for path in (needed, fresh):
        path.unlink()
