"""Background work of the reports app (Huey): the morning digest."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yixiang.reports import services
from yixiang.reports.conf import conf


@db_task()
def digest_send_task(delivery_id: int) -> str:
    return services.digest_send(delivery_id)


# Every few minutes: users' digest times differ (default 08:30), and a worker that was down
# catches up with today's digests when it comes back.
@db_periodic_task(crontab(minute=f"*/{conf('DIGEST_POLL_MINUTES')}"))
def digest_tick() -> int:
    return services.digest_run()
