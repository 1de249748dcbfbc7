"""Daily jobs of the pipeline (Huey). Both call idempotent services: a job that runs twice, late,
or after a crash does no harm."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from yixiang.pipeline import pool

log = logging.getLogger(__name__)


def local_crontab(hour: int, minute: int):
    """A crontab firing at hour:minute of the site's time zone (Asia/Shanghai by default).

    Huey matches crontabs against UTC when ``utc`` is on (its default), so the local time is
    converted here; a zone with daylight saving drifts by an hour half of the year."""
    if HUEY.utc:
        local = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour, minute)))
        moment = local.astimezone(dt.UTC)
        hour, minute = moment.hour, moment.minute
    return crontab(hour=str(hour), minute=str(minute))


@db_periodic_task(local_crontab(1, 30))
def recycle_daily() -> dict:
    """Return overdue / held-too-long customers to the public pool at night, before work starts."""
    result = pool.recycle_run()
    log.info("recycling: %s overdue, %s held too long", result.overdue, result.held_too_long)
    return {"overdue": result.overdue, "held_too_long": result.held_too_long}


@db_periodic_task(local_crontab(2, 0))
def release_proposals_daily() -> dict:
    """Refresh the proposals to release shown on each rep's agenda (after recycling has run)."""
    return pool.release_proposals_refresh()
