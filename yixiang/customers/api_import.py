"""Customer import as a job through the API: upload a file (multipart), dry run or real, poll the
job, read its row errors, then import a checked file for real.

The same upload gate (customers/uploads.py through importing.store_upload: size, row cap, encodings
UTF-8/BOM/GBK/UTF-16, .xlsx) and the same importer as the import page and the command. A job is its
importer's: anyone else gets the same 404 as for a missing one."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers import import_template, importing, tasks, uploads
from yixiang.customers.models import ImportJob
from yixiang.errors import DomainError, ValidationFailed

router = Router(tags=["imports"])
routers = [("/imports", router)]


class ErrorOut(Schema):
    detail: str
    code: str


# The kinds of file (ImportJob.Kind): customers, or a migrated history (aftercare/history_import.py).
KindT = Literal[tuple(ImportJob.Kind.values)]  # type: ignore[valid-type]

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut}


class ImportJobOut(Schema):
    id: int
    file_name: str
    dry_run: bool
    status: Literal["pending", "running", "done", "failed"]
    owner_id: int | None = Field(description="The imported customers' owner; null: the public pool.")
    total_rows: int
    processed_rows: int
    percent: int = Field(description="Progress, 0 to 100 (100 once done or failed).")
    created_count: int = Field(description="Customers created (a dry run: would be created).")
    skipped_count: int = Field(description="Rows skipped as duplicates.")
    error_count: int
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    real_import_id: int | None = Field(None, description="A dry run: the job that imported its file, if any.")


def _job_out(job: ImportJob) -> dict[str, Any]:
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    total = max(job.total_rows, job.processed_rows, 1)
    real = importing.real_import_of(job) if job.dry_run else None
    return {
        **{f: getattr(job, f) for f in ImportJobOut.model_fields if hasattr(job, f)},
        "percent": 100 if finished else min(int(100 * job.processed_rows / total), 99),
        "real_import_id": real.pk if real else None,
    }


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id, created_by=request.user).first()
    if job is None:
        raise Http404("import job not found")
    return job


def _start(job: ImportJob, size: int) -> None:
    """As the page: small files are imported inside the request, big ones by the worker (poll the job)."""
    language = translation.get_language()
    if size <= importing.conf("IMPORT_INLINE_MAX_BYTES"):
        importing.run_import_job(job, language=language)
    else:
        tasks.run_import(job.pk, language)


def _owner(request: HttpRequest, owner_id: int | None, pool: bool) -> User | None:
    if pool:
        return None  # check_import_owner refuses the pool to anyone but an administrator
    if owner_id is None:
        return request.user
    owner = staff_in_scope(request.user).filter(pk=owner_id).first()
    if owner is None:
        raise ValidationFailed({"owner_id": [_("You cannot import customers for this person.")]})
    return owner


@router.post(
    "",
    response={201: ImportJobOut, **ERRORS},
    summary="Upload a customer file (CSV or .xlsx) and start an import job",
    description="Multipart form: `file`; `dry_run` (default true: check only, nothing saved); `owner_id` "
    "(default yourself; staff in your scope) or `pool=true` (administrators). Small files are finished "
    "when the reply comes; big ones run in the worker: poll GET /imports/{id}. `kind` other than "
    "`customers` is the migration import of a history (followups, contracts, payouts, payments, owners; "
    "administrators only; `owner_id` and `pool` do not apply).",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    dry_run: Form[bool] = True,
    owner_id: Form[int | None] = None,
    pool: Form[bool] = False,
    kind: Form[KindT] = ImportJob.Kind.CUSTOMERS,
):
    owner = None
    if kind == ImportJob.Kind.CUSTOMERS:
        owner = _owner(request, owner_id, pool)
        importing.check_import_owner(request.user, owner)
    elif not request.user.is_admin_role:  # before the upload is stored; create_import_job checks it too
        raise DomainError(_("Only an administrator can import history."), code="forbidden")
    name = importing.store_upload(file.chunks(), file.name or "upload")
    job = importing.create_import_job(
        actor=request.user, owner=owner, file_path=name, file_name=file.name or "upload", dry_run=dry_run, kind=kind
    )
    _start(job, file.size or 0)
    job.refresh_from_db()
    return Status(201, _job_out(job))


class TemplateParams(Schema):
    format: Literal["xlsx", "csv"] = "xlsx"


@router.get(
    "/template",
    response={200: None},
    summary="The import template: the importable columns with Chinese headers and an example row",
    description="`format=xlsx` (default; a second sheet explains each column and its allowed values) or `csv` "
    "(UTF-8 with BOM).",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The template file",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in import_template.FORMATS.values()
                },
            }
        }
    },
)
def import_template_file(request: HttpRequest, params: Query[TemplateParams]):
    response = HttpResponse(
        import_template.build_template(params.format, user=request.user),
        content_type=import_template.FORMATS[params.format],
    )
    response["Content-Disposition"] = import_template.content_disposition(params.format)
    return response


@router.get("", response=list[ImportJobOut], summary="Your latest import jobs")
def list_imports(request: HttpRequest):
    return [_job_out(j) for j in ImportJob.objects.filter(created_by=request.user).order_by("-pk")[:50]]


@router.get("/{job_id}", response={200: ImportJobOut, 404: ErrorOut}, summary="An import job's progress and counts")
def get_import(request: HttpRequest, job_id: int):
    return _job_out(_job(request, job_id))


class EntryOut(Schema):
    line: int | None = Field(None, description="The file's line (row) number.")
    reason: str
    kind: str
    label: str = Field(
        description="What happened to the line, in the request's language: 'Error: …', 'Skipped as a duplicate: …'."
    )


class EntriesOut(Schema):
    kind: str
    items: list[EntryOut]
    left_out: int = Field(description="Further entries counted but not stored (the list is capped).")


class EntriesParams(Schema):
    kind: Literal["error", "duplicate", "warning"] = "error"


@router.get(
    "/{job_id}/errors",
    response={200: EntriesOut, 404: ErrorOut, 422: ErrorOut},
    summary="An import job's row errors (or duplicates, warnings), with line numbers",
)
def import_errors(request: HttpRequest, job_id: int, params: Query[EntriesParams]):
    job = _job(request, job_id)
    return {
        "kind": params.kind,
        "items": importing.job_entries(job, params.kind),
        "left_out": importing.job_entries_left_out(job, params.kind),
    }


@router.post(
    "/{job_id}/run",
    response={201: ImportJobOut, 200: ImportJobOut, 400: ErrorOut, 404: ErrorOut, 410: ErrorOut},
    summary="Import for real a file that went through a finished dry run (asking twice gives the same job)",
)
def run_import(request: HttpRequest, job_id: int):
    dry = _job(request, job_id)
    started = importing.real_import_of(dry)
    if started is not None:
        return Status(200, _job_out(started))
    if dry.dry_run and not uploads.exists(dry.file_path):
        return Status(410, {"detail": _("The uploaded file was removed after a day: upload it again."), "code": "gone"})
    job = importing.job_for_real_import(actor=request.user, dry_run_job=dry)
    _start(job, uploads.size_of(job.file_path))
    job.refresh_from_db()
    return Status(201, _job_out(job))
