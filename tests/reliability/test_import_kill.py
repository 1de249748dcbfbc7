"""A Huey worker killed (SIGKILL) in the middle of a big import: the restarted worker resumes the
job after its last committed batch and every row of the file ends up created exactly once, with
its history row. The parsing process the killed worker had forked goes away on its own."""

from __future__ import annotations

import csv

from yixiang.customers import importing
from yixiang.customers.models import Customer, CustomerChange, ImportJob
from yixiang.testing import make_org

from .servers import stop, subprocess_env
from .test_crash import kill, manage, start_worker, wait_until

ROWS = 6_000


def test_worker_killed_mid_import_resumes_and_creates_every_row_once(transactional_db, tmp_path):
    org = make_org()
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "手机号", "城市"])
        for i in range(ROWS):
            w.writerow([f"客户{i}", f"139{i:08d}", "上海"])
    job = importing.create_import_job(actor=org.rep, owner=org.rep, file_path=path, file_name="big.csv", dry_run=False)
    # Small batches, and the parsing process even for this file: the kill lands between commits.
    env = subprocess_env(tmp_path / "data", overrides={"IMPORT_BATCH_SIZE": 25, "IMPORT_PARALLEL_MIN_ROWS": 1})
    processed = lambda: ImportJob.objects.get(pk=job.pk).processed_rows  # noqa: E731
    manage(env, f"from yixiang.customers.tasks import run_import; run_import({job.pk})")
    worker = start_worker(env)
    try:
        wait_until(lambda: processed() >= 300, timeout=120, what="the import's first batches", proc=worker)
    finally:
        kill(worker)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert 0 < job.processed_rows < ROWS and job.processed_rows % 25 == 0
    # Batches are all-or-nothing: what is committed is exactly what the job counted.
    assert Customer.objects.filter(owner=org.rep).count() == job.created_count == job.processed_rows

    worker = start_worker(env)  # resumes running imports on start-up
    try:
        wait_until(
            lambda: ImportJob.objects.get(pk=job.pk).status != ImportJob.Status.RUNNING,
            timeout=300,
            what="the resumed import to finish",
            proc=worker,
        )
    finally:
        stop(worker)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.processed_rows, job.created_count, job.skipped_count, job.error_count) == (ROWS, ROWS, 0, 0)
    created = Customer.objects.filter(owner=org.rep)
    assert created.count() == ROWS
    assert created.values("phone_normalized").distinct().count() == ROWS
    assert CustomerChange.objects.filter(customer__in=created, action=CustomerChange.Action.IMPORT).count() == ROWS
