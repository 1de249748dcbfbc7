"""What the seeds teach for a signed (E-class) customer's follow-up: seed 001's after-sale checklist
("成交之后我们应该做什么?") and the referral coaching of seeds 000, 001 and 002.

The texts are gettext messages: English msgids, the seed's Chinese words as the zh_Hans
translation. The follow-up form (web and the agenda's inline log), the API (GET /api/v1/method) and
the customer page's referral panel all read them from here, so they say the same thing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REFERRAL_ASKED = "referral_asked"

# Seed 001, in its order. The codes are stored on FollowUp.aftersale_checks.
AFTERSALE_CHECKLIST: tuple[tuple[str, Promise], ...] = (
    ("results_asked", _("Cared about the customer and asked how the results are")),
    ("suggestion_noted", _("Wrote the customer's suggestions down at once and acted on them")),
    ("business_observed", _("Observed how the customer's business is doing")),
    ("news_shared", _("Shared the latest product news, without always talking business")),
    ("names_asked", _("Asked for names with guiding questions, kindly, politely and sincerely")),
    (REFERRAL_ASKED, _("Boldly asked for a referral")),
)
AFTERSALE_CODES = tuple(code for code, _label in AFTERSALE_CHECKLIST)

# Seed 000 误区四 and seed 001: asking is already half the chance.
REFERRAL_COURAGE = _("As long as you dare to open your mouth, the chance is 50%.")
# Seed 002: ask at every contact.
REFERRAL_EVERY_CONTACT = _("Ask for a referral at every contact with the customer.")


@dataclass(frozen=True)
class Pitfall:
    code: str
    title: Promise  # as DOMAIN.md names it
    remedy: Promise  # what seed 000 says to do instead


# Seed 000, "老客户转介绍的误区" one to four.
REFERRAL_PITFALLS: tuple[Pitfall, ...] = (
    Pitfall(
        "too_shy",
        _("Too shy to trouble a signed customer"),
        _(
            "If you are too shy, others will not be shy to trouble them. See what our product brings the "
            "customer, and satisfy them with service and sincerity."
        ),
    ),
    Pitfall(
        "forced_selling",
        _("Forced selling"),
        _("A forced melon is not sweet: don't look set on winning; take the pressure off the customer."),
    ),
    Pitfall(
        "one_deal",
        _("One deal instead of service"),
        _("Serve instead of selling, build your own brand and win the customer's approval."),
    ),
    Pitfall(
        "not_daring",
        _("Not daring to ask"),
        _(
            "Work on yourself and your confidence so the customer approves of your character and "
            "expertise; don't be timid."
        ),
    ),
)


def unknown_checks(codes: Iterable[str]) -> list[str]:
    """Codes that are not on the after-sale checklist."""
    return [c for c in codes if c not in AFTERSALE_CODES]


def ordered_checks(codes: Iterable[str]) -> list[str]:
    """The ticked codes once each, in the checklist's order (how they are stored)."""
    ticked = set(codes)
    return [c for c in AFTERSALE_CODES if c in ticked]


def referral_coaching() -> dict:
    """The coaching shown where the rep asks for a referral (template context and API)."""
    return {
        "courage": REFERRAL_COURAGE,
        "every_contact": REFERRAL_EVERY_CONTACT,
        "pitfalls": REFERRAL_PITFALLS,
    }


def both(text: Promise) -> dict[str, str]:
    """A text in Chinese (the seed's words) and in English, whatever the request's language."""
    with translation.override("zh-hans"):
        zh = str(text)
    with translation.override("en"):
        en = str(text)
    return {"zh": zh, "en": en}


def aftersale_outline() -> dict:
    """The E-class checklist and the referral coaching for GET /api/v1/method."""
    return {
        "checklist": [{"code": code, **both(label)} for code, label in AFTERSALE_CHECKLIST],
        "referral_courage": both(REFERRAL_COURAGE),
        "referral_every_contact": both(REFERRAL_EVERY_CONTACT),
        "referral_pitfalls": [
            {"code": p.code, "title": both(p.title), "remedy": both(p.remedy)} for p in REFERRAL_PITFALLS
        ],
    }
