"""Background work of the accounts app (Huey): the administrator's webhooks. Each job calls the
services in ``accounts.webhooks``, whose claim makes a job that runs twice or late harmless."""

from __future__ import annotations

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yixiang.accounts import webhooks


@db_task()
def webhook_deliver_task(delivery_ids: list[int]) -> dict:
    """First attempt at freshly queued deliveries (enqueued on commit of the event's write)."""
    return webhooks.deliver(delivery_ids)


@receiver(webhooks.deliveries_queued)
def _queue_deliveries(sender: object, delivery_ids: list[int], **kwargs: object) -> None:
    webhook_deliver_task(list(delivery_ids))


@db_periodic_task(crontab(minute="*"))
def webhooks_retry() -> dict:
    """Due retries (1 min, 5 min, 30 min, 2 h, 12 h after each failure) and rows lost mid-send."""
    return webhooks.retry_run()
