"""What aftercare does when the pipeline announces something (see ``yixiang.pipeline.events``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from yixiang.aftercare import selectors
from yixiang.aftercare.services_contracts import customer_sign
from yixiang.aftercare.services_issues import agenda_open_issues
from yixiang.aftercare.services_loyalty import on_customer_signed, referral_ask_from_follow_up
from yixiang.customers.models import Customer
from yixiang.pipeline import events


@receiver(events.customer_signed)
def _thank_the_referrer(sender: Any, event: events.CustomerSigned, **kwargs: Any) -> None:
    # Referral thanks and the practical referrer's reward, right after the signing commits.
    on_customer_signed(Customer(pk=event.customer_id))


@receiver(events.referral_asked)
def _record_the_referral_ask(sender: Any, event: events.ReferralAsked, **kwargs: Any) -> None:
    # Inside the follow-up's transaction: the ask and the follow-up are written together.
    referral_ask_from_follow_up(follow_up_id=event.follow_up_id, customer_id=event.customer_id, rep_id=event.rep_id)


def _care_items(*, user: Any, day: Any) -> list[dict[str, Any]]:
    # Looked up at call time so the agenda always asks the selector the module holds now.
    return list(selectors.agenda_care_items(user=user, day=day))


def _open_issues(*, user: Any, day: Any) -> list[dict[str, Any]]:
    # Complaints, disputes and suggestions stay on the handler's agenda until resolved.
    return agenda_open_issues(user=user, day=day)


events.add_agenda_source(_care_items)
events.add_agenda_source(_open_issues)
events.set_sign_handler(customer_sign)
