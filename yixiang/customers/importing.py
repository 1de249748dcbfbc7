"""Customer import (客户导入): a CSV or .xlsx file in, customers out, every row accounted for.

What views, the API, the command and the worker call. The work is done by stage, each in its module:
``columns`` (the header and choice vocabulary, shared with the export), ``import_files`` (reading and
decoding a file), ``import_rows`` (checking and normalising a row), ``import_writer`` (batches into
the archive, progress, summary).

What the user can rely on:
- A file that cannot be read (empty, wrong encoding, damaged .xlsx, no name column) fails as a whole
  before anything is written, with a message that says why.
- Each bad row is reported with its line (the CSV line, or the sheet row) and the reason; good rows
  go in. A row is all-or-nothing: the customer, its tags and its history row commit together.
- Duplicates are skipped and listed apart from errors. A row WITH a phone is a duplicate when an
  existing customer (the trash included) or an earlier row of the file has the same normalised
  phone. A row WITHOUT a phone is a duplicate when an existing customer or an earlier phoneless row
  has the same name, company and city (exact text after trimming). Re-importing a file therefore
  creates nothing new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.accounts.scoping import can_assign_to
from yixiang.customers import uploads
from yixiang.customers.columns import COLUMNS
from yixiang.customers.import_files import ImportFileError, conf, open_sheet
from yixiang.customers.import_rows import RowError, RowParser
from yixiang.customers.import_writer import (
    ImportRun,
    Preview,
    Superseded,
    audit_job,
    job_summary,
    preview,
    remove_upload,
)
from yixiang.customers.models import ImportJob
from yixiang.errors import DomainError

# Names callers (views, API, tests) reach through this module.
__all__ = [
    "COLUMNS",
    "ImportFileError",
    "Preview",
    "RowError",
    "RowParser",
    "check_import_owner",
    "conf",
    "create_import_job",
    "import_file",
    "job_entries",
    "job_entries_left_out",
    "job_for_real_import",
    "job_summary",
    "open_sheet",
    "preview",
    "purge_stale_uploads",
    "real_import_of",
    "run_import_job",
    "store_upload",
    "stored_preview",
]


# Importers of the other kinds of file (ImportJob.Kind), registered by the apps that own what they
# write (the after-sale app's history import): customers sits below those apps and never imports them.
_RUNNERS: dict[str, Callable[[ImportJob, Callable[[ImportJob], None] | None], None]] = {}


def register_kind(kind: str, runner: Callable[[ImportJob, Callable[[ImportJob], None] | None], None]) -> None:
    """Let ``run_import_job`` run jobs of ``kind`` with ``runner(job, progress)``."""
    _RUNNERS[kind] = runner


def check_import_owner(actor: User, owner: User | None) -> None:
    """Only an admin imports into the public pool; others import for themselves or staff in scope."""
    if owner is None:
        if not actor.is_admin_role:
            raise DomainError(_("Only an administrator can import customers into the public pool."), code="forbidden")
        return
    if owner.pk != actor.pk and not can_assign_to(actor, owner):
        raise DomainError(
            _("You cannot import customers for %(user)s.") % {"user": owner.label},
            code="forbidden",
        )


def store_upload(chunks: Iterable[bytes], file_name: str) -> str:
    """Pass an upload through the gate and keep it in the imports storage; returns its storage name."""
    name, _checked = uploads.receive(chunks, file_name)
    return name


def create_import_job(
    *,
    actor: User,
    owner: User | None,
    file_path: str | Path,
    file_name: str,
    dry_run: bool,
    kind: str = ImportJob.Kind.CUSTOMERS,
) -> ImportJob:
    if kind == ImportJob.Kind.CUSTOMERS:
        check_import_owner(actor, owner)
    elif kind not in _RUNNERS:
        raise DomainError(_("Unknown kind of import."))
    elif not actor.is_admin_role:  # a migration of history rewrites the past
        raise DomainError(_("Only an administrator can import history."), code="forbidden")
    return ImportJob.objects.create(
        created_by=actor,
        owner=owner,
        kind=kind,
        file_path=str(file_path),
        file_name=file_name[:255],
        dry_run=dry_run,
    )


def job_for_real_import(*, actor: User, dry_run_job: ImportJob) -> ImportJob:
    """The real import of a file that went through a dry run; asking twice gives the same job."""
    if not dry_run_job.dry_run or dry_run_job.status != ImportJob.Status.DONE:
        raise DomainError(_("Only a finished dry run can be imported."))
    started = real_import_of(dry_run_job)
    if started is not None:
        return started
    return create_import_job(
        actor=actor,
        owner=dry_run_job.owner,
        file_path=dry_run_job.file_path,
        file_name=dry_run_job.file_name,
        dry_run=False,
        kind=dry_run_job.kind,
    )


def real_import_of(dry_run_job: ImportJob) -> ImportJob | None:
    return (
        ImportJob.objects.filter(file_path=dry_run_job.file_path, dry_run=False, created_by=dry_run_job.created_by_id)
        .order_by("pk")
        .first()
    )


def run_import_job(
    job: ImportJob, *, progress: Callable[[ImportJob], None] | None = None, language: str | None = None
) -> ImportJob:
    """Run (or resume) a job. Row problems land in the job; a refused file marks it failed."""
    with translation.override(language) if language else contextlib.nullcontext():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
        ).update(status=ImportJob.Status.RUNNING)
        job.refresh_from_db()
        if not claimed:
            return job
        try:
            if job.kind == ImportJob.Kind.CUSTOMERS:
                ImportRun(job, progress).execute()
            else:
                _RUNNERS[job.kind](job, progress)
        except Superseded:
            pass
        except uploads.UploadError as exc:
            _fail(job, exc.message)
        except Exception:
            _fail(
                job,
                _("The import stopped because of an unexpected error after %(rows)s rows; those rows were handled.")
                % {"rows": job.processed_rows},
            )
            raise
        job.refresh_from_db()
        return job


def import_file(
    path: str | Path,
    *,
    actor: User,
    owner: User | None,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Callable[[ImportJob], None] | None = None,
    kind: str = ImportJob.Kind.CUSTOMERS,
) -> ImportJob:
    """Import a file from disk in this process (the command line, the benchmark)."""
    job = create_import_job(
        actor=actor,
        owner=owner,
        file_path=Path(path).resolve(),  # a worker resuming the job runs elsewhere
        file_name=file_name or Path(path).name,
        dry_run=dry_run,
        kind=kind,
    )
    return run_import_job(job, progress=progress)


def _fail(job: ImportJob, message: str) -> None:
    job.refresh_from_db()
    job.status = ImportJob.Status.FAILED
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    audit_job(job)
    if not job.dry_run:
        remove_upload(job)


def purge_stale_uploads(*, now: dt.datetime | None = None) -> int:
    """Remove uploads no job still needs (dry runs nobody imported), past the retention time."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=conf("IMPORT_FILE_RETENTION_HOURS"))
    busy = set(
        ImportJob.objects.filter(status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).values_list(
            "file_path", flat=True
        )
    )
    removed = 0
    for name in uploads.stale(cutoff):
        if name not in busy:
            uploads.delete(name)
            removed += 1
    return removed


def entry_label(kind: str, reason: str) -> str:
    """What happened to a line, in words (the user's language): skipped as a duplicate of …, error: …"""
    if kind == "duplicate":
        return _("Skipped as a duplicate: %(reason)s") % {"reason": reason}
    if kind == "warning":
        return _("Note: %(reason)s") % {"reason": reason}
    return _("Error: %(reason)s") % {"reason": reason}


def job_entries(job: ImportJob, kind: str) -> list[dict[str, Any]]:
    """Stored entries of one kind: "error", "duplicate" or "warning", each with its ``label``."""
    return [
        {**e, "label": entry_label(kind, e.get("reason", ""))}
        for e in (job.errors or [])
        if e.get("kind", "error") == kind
    ]


def job_entries_left_out(job: ImportJob, kind: str) -> int:
    """How many entries of a kind were counted but not stored (the list is capped)."""
    total = {"error": job.error_count, "duplicate": job.skipped_count}.get(kind, 0)
    return max(total - len(job_entries(job, kind)), 0)


def stored_preview(job: ImportJob) -> Preview | None:
    """The preview the dry run stored: what the job page shows, without opening the file."""
    if not job.preview:
        return None
    return Preview(
        columns=[tuple(c) for c in job.preview["columns"]],
        rows=[(line, [tuple(v) for v in values], error) for line, values, error in job.preview["rows"]],
    )
