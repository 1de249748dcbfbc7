"""The upload gate (issue 12, defects 2 and 11) and upload storage (issue 18): every path that takes a
file refuses bombs and oversize files before a parser runs; files live in the imports storage."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from yixiang.customers import importing, uploads
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes, write_xlsx

ROWS = [["姓名", "电话"], ["张三", "13800138000"], ["王五", "13900139000"]]


def _limits(**kw: int):
    return override_settings(YIXIANG={**settings.YIXIANG, **kw})


def _rezip(src: Path, dst: Path, change) -> Path:
    """Copy a workbook, letting ``change(name, data)`` rewrite or add members (None drops one)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        names = zin.namelist()
        for name in names:
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
        extra = change("+", b"")
        for name, data in (extra or {}).items() if isinstance(extra, dict) else ():
            zout.writestr(name, data)
    return dst


_INLINE = re.compile(rb'<c r="([A-Z]+\d+)"([^>]*) t="inlineStr"><is><t>(.*?)</t></is></c>')
_SST_REL = (
    b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    b'Target="sharedStrings.xml" Id="rId99" /></Relationships>'
)
_SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def xlsx_with_shared_strings(tmp_path: Path, rows: list[list], name: str, filler: bytes = b"") -> Path:
    """A workbook as Excel writes it: text cells point into xl/sharedStrings.xml (openpyxl writes
    inline text instead). ``filler`` is appended to the table, to make it inflate."""
    plain = write_xlsx(tmp_path / f"plain-{name}", rows)
    strings: list[bytes] = []

    def shared(m: re.Match) -> bytes:
        strings.append(m.group(3))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), len(strings) - 1)

    def change(member: str, data: bytes):
        if member == "+":
            sst = b"".join(b"<si><t>%s</t></si>" % t for t in strings)
            head = (
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
            )
            return {"xl/sharedStrings.xml": head % (len(strings), len(strings)) + sst + filler + b"</sst>"}
        if member.startswith("xl/worksheets/"):
            return _INLINE.sub(shared, data)
        if member == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", _SST_REL)
        if member == "[Content_Types].xml":
            return data.replace(b"</Types>", _SST_TYPE)
        return data

    return _rezip(plain, tmp_path / name, change)


def bomb(tmp_path: Path, inflated: int = 8 * 1024 * 1024) -> Path:
    """A real workbook whose shared-strings table inflates ~1000× (the probe's was 2.2 MB → 1 GB)."""
    filler = b"<si><t>" + b"A" * inflated + b"</t></si>"
    path = xlsx_with_shared_strings(tmp_path, ROWS, "bomb.xlsx", filler)
    assert path.stat().st_size < 100_000  # small on disk, big once inflated
    return path


def test_the_shared_strings_builder_makes_a_workbook_that_imports(org, tmp_path):
    path = xlsx_with_shared_strings(tmp_path, ROWS, "ok.xlsx")
    with zipfile.ZipFile(path) as z:
        assert b'count="6"' in z.read("xl/sharedStrings.xml") and b't="s"' in z.read("xl/worksheets/sheet1.xml")
    job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.created_count == 2 and set(Customer.objects.values_list("name", flat=True)) == {"张三", "王五"}


@pytest.fixture
def no_parsing(monkeypatch):
    """Fails the test if openpyxl is asked to parse: the gate must refuse first."""
    import openpyxl

    def refuse(*a, **k):
        raise AssertionError("openpyxl parsed a file the gate should have refused")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.fixture
def en_client(client):
    def login(user):
        client.force_login(user)
        client.cookies["django_language"] = "en"
        return client

    return login


def _post(client, data: bytes, name: str, dry_run: str = "on"):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("customer_import"), {"file": upload, "dry_run": dry_run})


@pytest.fixture(autouse=True)
def own_imports_storage(settings, tmp_path):
    """This test's own imports folder: the data folder is shared by the xdist workers, so another
    worker's upload appearing or going would otherwise change what ``_stored_files`` lists."""
    imports = settings.STORAGES["imports"]
    if imports["BACKEND"].endswith("FileSystemStorage"):
        settings.STORAGES = {
            **settings.STORAGES,
            "imports": {**imports, "OPTIONS": {"location": str(tmp_path / "imports")}},
        }


def _stored_files() -> list[str]:
    store = uploads.storage()
    try:
        return store.listdir("")[1]
    except FileNotFoundError:
        return []


# -- defect 2: compressed-file bomb


def test_xlsx_bomb_is_refused_on_the_upload_page_before_parsing(org, en_client, tmp_path, no_parsing):
    before = _stored_files()
    response = _post(en_client(org.rep), bomb(tmp_path).read_bytes(), "bomb.xlsx")
    assert response.status_code == 200
    page = response.content.decode()
    assert "inflates to" in page and "more than an import may take" in page
    assert not ImportJob.objects.exists()  # no job, so no worker and no job page ever opens it
    assert _stored_files() == before  # and nothing kept


def test_xlsx_bomb_is_refused_by_the_command_line(org, tmp_path, no_parsing):
    with translation.override("en"), pytest.raises(CommandError, match="inflates to"):
        call_command("import_customers", str(bomb(tmp_path)), owner=org.rep.username, language="en")
    assert not Customer.objects.exists()


def test_refused_in_chinese_too(org, tmp_path, no_parsing):
    with translation.override("zh-hans"):
        job = importing.import_file(bomb(tmp_path), actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "解压" in job.message


def test_uncompressed_total_is_capped(org, tmp_path, no_parsing):
    path = write_xlsx(tmp_path / "a.xlsx", ROWS)
    with _limits(UPLOAD_MAX_UNCOMPRESSED_BYTES=2_000), translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "inflates to" in job.message


def test_shared_strings_count_is_capped(org, tmp_path, no_parsing):
    rows = [["姓名", "公司"], *[[f"客户{i}", f"公司{i}"] for i in range(10)]]
    path = xlsx_with_shared_strings(tmp_path, rows, "s.xlsx")
    with _limits(UPLOAD_MAX_SHARED_STRINGS=15), translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "distinct text" in job.message


def test_a_workbook_within_limits_still_imports(org, tmp_path):
    rows = [["姓名", "公司"], *[[f"客户{i}", f"公司{i}"] for i in range(10)]]
    with _limits(UPLOAD_MAX_SHARED_STRINGS=22):
        job = importing.import_file(xlsx_with_shared_strings(tmp_path, rows, "s.xlsx"), actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.DONE and job.created_count == 10


def test_zip_that_is_not_a_workbook_is_refused(org, en_client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    page = _post(en_client(org.rep), buf.getvalue(), "x.xlsx").content.decode()
    assert "not an Excel workbook" in page and not ImportJob.objects.exists()


# -- rows and columns


def test_csv_rows_are_capped_at_the_upload(org, en_client):
    rows = [["姓名"], *[[f"客户{i}"] for i in range(6)]]
    client = en_client(org.rep)
    with _limits(UPLOAD_MAX_ROWS=5):
        page = _post(client, csv_bytes(rows), "c.csv").content.decode()
        assert "more than 5 rows" in page and not ImportJob.objects.exists()
        assert _post(client, csv_bytes(rows[:6]), "c.csv").status_code == 302  # 5 rows: fine


def test_xlsx_rows_are_capped_even_when_the_sheet_hides_its_size(org, tmp_path):
    rows = [["姓名"], *[[f"客户{i}"] for i in range(6)]]
    good = write_xlsx(tmp_path / "r.xlsx", rows)
    declared = _rezip(good, tmp_path / "d.xlsx", lambda n, d: None if n == "+" else d)
    hidden = _rezip(
        good, tmp_path / "h.xlsx", lambda n, d: None if n == "+" else re.sub(rb"<dimension [^>]*/>", b"", d)
    )
    with _limits(UPLOAD_MAX_ROWS=5), translation.override("en"):
        for path in (declared, hidden):  # the declared size, or the counted rows: before parsing
            with open(path, "rb") as fh, pytest.raises(uploads.UploadError, match="more than 5 rows"):
                uploads.check(fh)
        job = importing.import_file(hidden, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "more than 5 rows" in job.message
    assert not Customer.objects.exists()  # refused whole, not after the first rows


def test_reading_stops_at_the_row_cap_whatever_the_gate_said(org, tmp_path, monkeypatch):
    rows = [["姓名"], *[[f"客户{i}"] for i in range(6)]]
    monkeypatch.setattr(uploads, "check", lambda fh: uploads.Checked(kind="xlsx", size=1, rows=0))
    with _limits(UPLOAD_MAX_ROWS=5), translation.override("en"):
        job = importing.import_file(write_xlsx(tmp_path / "r.xlsx", rows), actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "more than 5 rows" in job.message


def test_columns_are_capped(org, tmp_path):
    header = ["姓名", *[f"列{i}" for i in range(11)]]
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes([header, ["张三", *[""] * 11]]))
    with _limits(UPLOAD_MAX_COLUMNS=10), translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "12 columns" in job.message


def test_oversize_upload_is_refused_and_not_kept(org, en_client):
    before = _stored_files()
    with override_settings(IMPORT_MAX_UPLOAD_BYTES=100):
        page = _post(en_client(org.rep), csv_bytes(ROWS * 10), "big.csv").content.decode()
    assert "larger than" in page and not ImportJob.objects.exists() and _stored_files() == before


# -- the job page reads stored results, never the file


def test_finished_dry_run_page_never_reads_the_file(org, en_client, monkeypatch):
    client = en_client(org.rep)
    response = _post(client, csv_bytes(ROWS), "c.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.preview

    def no_reading(*a, **k):
        raise AssertionError("the job page opened the uploaded file")

    monkeypatch.setattr(importing, "open_sheet", no_reading)
    monkeypatch.setattr(uploads, "local_file", no_reading)
    for _ in range(2):
        page = client.get(response["Location"]).content.decode()
        assert 'id="import-preview"' in page and "138 0013 8000" in page and "Import 2 customers now" in page


# -- defect 11: encodings


def test_shift_jis_csv_is_read_as_shift_jis_not_gbk(org, tmp_path):
    rows = [["姓名", "phone"], ["山田太郎", "13800138000"], ["さとう はなこ", "13900139000"]]
    path = tmp_path / "sjis.csv"
    path.write_bytes(csv_bytes(rows, encoding="shift_jis"))
    job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.DONE and job.created_count == 2, job.message
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["さとう はなこ", "山田太郎"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_short_chinese_files_keep_their_encoding(org, tmp_path, encoding):
    path = tmp_path / "c.csv"  # a two-line GBK file is where a detector most often guesses Korean
    path.write_bytes(csv_bytes([["姓名"], ["张"]], encoding=encoding))
    job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.created_count == 1 and Customer.objects.get().name == "张"


def test_a_western_code_page_file_is_refused_clearly(org, tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(csv_bytes([["name", "phone"], ["José Müller", "13800138000"]], encoding="latin-1"))
    with translation.override("zh-hans"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED and "UTF-8" in job.message and not Customer.objects.exists()


# -- issue 18: uploads go through the storage API


class NoPathStorage(Storage):
    """Like a remote store (S3): open/save/delete/listdir by name, and no local path at all."""

    def __init__(self, location: str):
        self.inner = FileSystemStorage(location=location)

    def _open(self, name, mode="rb"):
        return self.inner._open(name, mode)

    def _save(self, name, content):
        return self.inner._save(name, content)

    def delete(self, name):
        self.inner.delete(name)

    def exists(self, name):
        return self.inner.exists(name)

    def listdir(self, path):
        return self.inner.listdir(path)

    def size(self, name):
        return self.inner.size(name)

    def get_modified_time(self, name):
        return self.inner.get_modified_time(name)


def _imports_storage(backend: str, location: Path):
    return override_settings(
        STORAGES={**settings.STORAGES, "imports": {"BACKEND": backend, "OPTIONS": {"location": str(location)}}}
    )


@pytest.mark.parametrize("backend", ["django.core.files.storage.FileSystemStorage", f"{__name__}.NoPathStorage"])
def test_a_file_received_by_one_node_is_processed_through_storage(org, en_client, tmp_path, backend, monkeypatch):
    """Node A's request stores the file; the job (another node's worker) opens it by storage name."""
    from yixiang.customers import views_io

    queued: list[int] = []
    monkeypatch.setattr(views_io.tasks, "run_import", lambda pk, language: queued.append(pk))
    shared = tmp_path / "shared-bucket"
    with _imports_storage(backend, shared):
        client = en_client(org.rep)
        with override_settings(YIXIANG={**settings.YIXIANG, "IMPORT_INLINE_MAX_BYTES": 0}):
            response = _post(client, csv_bytes(ROWS), "c.csv", dry_run="")  # queued for the worker
        job = ImportJob.objects.get()
        assert response.status_code == 302 and queued == [job.pk] and job.status == ImportJob.Status.PENDING
        assert not Path(job.file_path).is_absolute()  # a storage name, not this node's path
        assert [p.name for p in shared.iterdir()] == [job.file_path]
        importing.run_import_job(job)  # what the worker on node B does
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE and job.created_count == 2
        assert list(shared.iterdir()) == []  # the imported copy is removed from the storage


def test_dry_run_then_import_through_a_storage_without_paths(org, en_client, tmp_path):
    with _imports_storage(f"{__name__}.NoPathStorage", tmp_path / "s3-like"):
        client = en_client(org.rep)
        response = _post(client, csv_bytes(ROWS), "c.csv")
        dry = ImportJob.objects.get()
        assert "Import 2 customers now" in client.get(response["Location"]).content.decode()
        client.post(reverse("customer_import_run", args=[dry.pk]))
        assert Customer.objects.count() == 2


def test_imports_storage_is_a_data_folder_by_default_and_a_bucket_when_configured(tmp_path):
    import json
    import os
    import subprocess
    import sys

    code = "import json, yixiang.settings as s; print(json.dumps(s.STORAGES['imports']))"
    env = {**os.environ, "YIXIANG_DATA_DIR": str(tmp_path)}
    env.pop("YIXIANG_UPLOADS_BUCKET", None)
    root = Path(settings.BASE_DIR)
    local = json.loads(subprocess.check_output([sys.executable, "-c", code], env=env, cwd=root))
    assert local["OPTIONS"]["location"] == str(tmp_path / "media" / "imports")
    env.update(YIXIANG_UPLOADS_BUCKET="yx-files", YIXIANG_UPLOADS_ENDPOINT="http://127.0.0.1:9000")
    bucket = json.loads(subprocess.check_output([sys.executable, "-c", code], env=env, cwd=root))
    assert bucket["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (
        bucket["OPTIONS"]["bucket_name"] == "yx-files" and bucket["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    )
