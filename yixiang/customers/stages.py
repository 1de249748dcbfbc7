"""The intent stage: the one definition the models, the rules of every app and the reports use.

Plain values (no database): rules modules take their constants from here, so a stage is named once.
"""

from __future__ import annotations

from django.db.models import IntegerChoices
from django.utils.translation import gettext_lazy as _


class Stage(IntegerChoices):
    """Intent stage (意向阶段), DOMAIN.md §1. SIGNED is the E class (E类客户)."""

    REJECTING = -1, _("Rejecting")
    S0 = 0, _("Stage 0")
    S1 = 1, _("Stage 1")
    S2 = 2, _("Stage 2")
    S3 = 3, _("Stage 3")
    S4 = 4, _("Stage 4")
    SIGNED = 5, _("Signed (E)")


UNJUDGED_LABEL = _("Unjudged")


def is_unjudged(stage: int, last_contact_at: object | None) -> bool:
    """A new lead has no stage until its first effective contact (DOMAIN.md §1): the row holds
    stage 0, but the lead is *unjudged*, shown so and left out of the stage-0 balance."""
    return stage == Stage.S0 and last_contact_at is None
