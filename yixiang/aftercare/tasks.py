"""Background work of the after-sale part (Huey). Every job calls an idempotent service, so a job
that runs twice, late, or after a crash does no harm."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone, translation
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yixiang.aftercare import services, services_campaigns, services_contracts, services_loyalty


@db_task(retries=3, retry_delay=60)
def send_campaign_task(campaign_id: int) -> dict:
    """Send a launched campaign's pending messages (enqueued on commit of the launch)."""
    with translation.override(settings.LANGUAGE_CODE):
        return services_campaigns.campaign_send(campaign_id)


@receiver(services_campaigns.campaign_launched)
def _queue_campaign(sender: object, campaign_id: int, **kwargs: object) -> None:
    send_campaign_task(campaign_id)


def daily_run(*, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the after-sale part does once a day, each step idempotent. The referral step
    catches up a signing whose on-commit event was lost (a crash between commit and listener)."""
    today = today or timezone.localdate()
    return {
        "owners": services.care_tasks_follow_owner(),
        "payouts": services_contracts.payout_reminders_run(today=today),
        "renewals": services_contracts.renewal_reminders_run(today=today),
        "calendar": services.care_calendar_generate(today=today),
        "tiers": services_loyalty.tiers_recompute(today=today),
        "lapsing": services_loyalty.lapsing_scan(today=today),
        "referrals": services_loyalty.referral_scan(),
        "referrals_given": services_loyalty.referral_given_thanks(today=today),
    }


@db_periodic_task(crontab(hour="6", minute="5"))
def aftercare_daily() -> dict:
    """Reminders, care calendar, tiers, lapsing and referral thanks, once a day before work."""
    with translation.override(settings.LANGUAGE_CODE):
        return daily_run()


@db_periodic_task(crontab(minute="*/5"))
def campaigns_sweep() -> dict:
    """Finish campaigns still sending and recover messages whose worker died."""
    with translation.override(settings.LANGUAGE_CODE):
        return services_campaigns.campaigns_sweep()


@db_periodic_task(crontab(minute="*/15"))
def replies_and_referrals() -> dict:
    """Non-repliers become call tasks once the reply window is over. (A signed referred customer's
    referrer is thanked by the pipeline's signing event, not by this poll.)"""
    with translation.override(settings.LANGUAGE_CODE):
        return {"calls": services_campaigns.non_replier_tasks_run()}
