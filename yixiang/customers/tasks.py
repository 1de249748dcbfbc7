"""Background work of the customer archive (Huey): imports of big files, and their upkeep."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from yixiang.customers import importing
from yixiang.customers.models import ImportJob

log = logging.getLogger(__name__)


@db_task()
def run_import(job_id: int, language: str | None = None) -> None:
    """Run or resume an import job. Safe to run twice: each batch commits with the job's progress,
    and a runner that finds another one ahead of it stops."""
    job = ImportJob.objects.select_related("created_by", "owner").filter(pk=job_id).first()
    if job is None:
        return
    job = importing.run_import_job(job, language=language)
    log.info("import job %s: %s", job.pk, job.message)


@on_startup()
def resume_interrupted_imports() -> None:
    """A worker killed in the middle of an import left its job running: continue it after the last
    committed batch, so a restart loses no row and writes none twice."""
    for job_id in ImportJob.objects.filter(status=ImportJob.Status.RUNNING).values_list("pk", flat=True):
        log.info("resuming import job %s", job_id)
        run_import(job_id)


@db_periodic_task(crontab(minute="17"))
def purge_import_uploads() -> int:
    """Uploaded files hold personal data: remove the ones nobody went on to import."""
    return importing.purge_stale_uploads()
