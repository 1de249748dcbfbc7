"""Background work of the after-sale part (Huey). Every job calls an idempotent service, so a job
that runs twice, late, or after a crash does no harm."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yixiang.aftercare import services


@db_task(retries=3, retry_delay=60)
def send_campaign_task(campaign_id: int) -> dict:
    """Send a launched campaign's pending messages (enqueued on commit of the launch)."""
    with translation.override(settings.LANGUAGE_CODE):
        return services.campaign_send(campaign_id)


@db_periodic_task(crontab(hour="6", minute="5"))
def aftercare_daily() -> dict:
    """Reminders, care calendar, tiers, lapsing and referral thanks, once a day before work."""
    with translation.override(settings.LANGUAGE_CODE):
        return services.daily_run()


@db_periodic_task(crontab(minute="*/5"))
def campaigns_sweep() -> dict:
    """Finish campaigns still sending and recover messages whose worker died."""
    with translation.override(settings.LANGUAGE_CODE):
        return services.campaigns_sweep()


@db_periodic_task(crontab(minute="*/15"))
def replies_and_referrals() -> dict:
    """Non-repliers become call tasks once the reply window is over; newly signed referred customers
    get their referrer thanked without waiting for the daily run."""
    with translation.override(settings.LANGUAGE_CODE):
        return {"calls": services.non_replier_tasks_run(), "referrals": services.referral_scan()}
