"""Background work of the reports app (Huey): the morning digest, the win-rate and funnel snapshots."""

from __future__ import annotations

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yixiang.pipeline.tasks import local_crontab
from yixiang.reports import funnel_snapshots, services, win_rates
from yixiang.reports.conf import conf


@db_task()
def digest_send_task(delivery_id: int) -> str:
    return services.digest_send(delivery_id)


@receiver(services.digest_due)
def _queue_digest(sender: object, delivery_id: int, **kwargs: object) -> None:
    digest_send_task(delivery_id)


# Every few minutes: users' digest times differ (default 08:30), and a worker that was down
# catches up with today's digests when it comes back.
@db_periodic_task(crontab(minute=f"*/{conf('DIGEST_POLL_MINUTES')}"))
def digest_tick() -> int:
    return services.digest_run()


# The pool's (and the owned customers') win-rate counts behind every customer page's win chance;
# pages recount a snapshot themselves only when it is older than WIN_RATE_SNAPSHOT_MAX_AGE_MINUTES.
@db_periodic_task(crontab(minute=f"*/{conf('WIN_RATE_SNAPSHOT_MINUTES')}"))
def win_rate_snapshot_tick() -> dict[str, str]:
    return win_rates.win_rate_snapshots_refresh()


# The funnel's counts at the end of yesterday (a past date's funnel reads them instead of replaying
# the history). Enqueued once per night across the consumers (yixiang.jobs); changes made between
# midnight and the run are after the day's end and so not counted in it.
@db_periodic_task(local_crontab(0, 20))
def funnel_snapshot_daily() -> dict:
    return funnel_snapshots.funnel_snapshots_refresh()
