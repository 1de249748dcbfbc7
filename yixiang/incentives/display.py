"""Statement lines in words, in the reader's language (rules.py only gives codes and numbers)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yixiang.accounts.models import Role
from yixiang.incentives import rules

KIND_LABELS = {
    rules.COUNTED: gettext_lazy("Counted toward threshold"),
    rules.NOT_VALID: gettext_lazy("Not counted"),
    rules.PENALTY: gettext_lazy("Penalty"),
    rules.REWARD: gettext_lazy("Reward"),
    rules.DIRECTOR_PENALTY: gettext_lazy("Region short"),
    rules.DIRECTOR_REWARD: gettext_lazy("Region over"),
    rules.DIRECTOR_MET: gettext_lazy("Region on threshold"),
    rules.FRAUD: gettext_lazy("Faked customer"),
    rules.ACTIVITY: gettext_lazy("Activity re-assessment"),
    rules.CORRECTION: gettext_lazy("Correction"),
}

FUNDING_LABELS = {
    rules.FROM_PENALTIES: gettext_lazy("the month's penalties"),
    rules.FROM_FUND: gettext_lazy("the accumulated penalty fund"),
    rules.FROM_MANAGEMENT: gettext_lazy("the management-assessment fund"),
    rules.FROM_WAGES: gettext_lazy("the team efficiency wages"),
    rules.NOT_COVERED: gettext_lazy("beyond the month's funds"),
    rules.HELD_BACK: gettext_lazy("held back: the month's cost cap is reached"),
}

ROLE_LABELS = {
    rules.MANAGER: gettext_lazy("Regional manager"),
    rules.DIRECTOR: gettext_lazy("Regional director"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def funding_label(code: str | None) -> str:
    return str(FUNDING_LABELS.get(code, code)) if code else ""


def role_label(role: str, person_role: str = "") -> str:
    """The scheme role, after the person's own role when they differ: a rep is assessed on the
    regional managers' scale but is not one ("销售（按区域经理标准考核）", issue 14)."""
    scheme = str(ROLE_LABELS.get(role, role))
    if not person_role:
        return scheme
    own = str(Role(person_role).label) if person_role in Role.values else person_role
    if own == scheme:
        return scheme
    return _("%(role)s (assessed as %(scheme)s)") % {"role": own, "scheme": scheme}


def _month(value) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m") if hasattr(value, "strftime") else str(value)[:7]


def yuan(value) -> str:
    """1234567.50 → "1,234,567.50"; whole amounts without decimals."""
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def reason_text(line: rules.Line) -> str:
    """Why the line says what it says, in words."""
    p = dict(line.params)
    for key in ("paid", "floor", "step", "base", "performance_pay", "was", "now"):
        if key in p and p[key] is not None:
            p[key] = yuan(p[key])
    probation = _("; × %(factor)s on probation") % p if p.get("probation") else ""
    r = line.reason
    if r == "counted":
        text = (
            _(
                "Counts %(units)s toward the threshold of %(threshold)s (first-month payments %(paid)s yuan); "
                "used to reach the threshold, so it earns no reward"
            )
            % p
        )
        if p.get("overshoot"):
            text += _(" (never split: the overshoot of %(overshoot)s earns nothing)") % p
        return text
    if r == "below_floor":
        return _("First-month payments of %(paid)s yuan are below %(floor)s yuan: not a valid new customer") % p
    if r == "faked":
        return _("Marked as faked: does not count")
    if r == "reward":
        text = (
            _(
                "Beyond the threshold: first-month payments of %(paid)s yuan reach the %(step)s-yuan step, "
                "reward %(base)s yuan"
            )
            % p
        )
        return text + probation + _funding_note(line)
    if r == "penalty":
        text = _("%(reached)s of %(threshold)s new customers reached: penalty %(base)s yuan") % p + probation
        if p.get("capped"):
            text += _("; limited to the performance pay of %(performance_pay)s yuan") % p
        return text
    if r == "director_penalty":
        return _("The region reached %(count)s of its threshold %(threshold)s: %(short)s short") % p + probation
    if r == "director_reward":
        text = _("The region reached %(count)s of its threshold %(threshold)s: %(over)s over") % p + probation
        return text + _funding_note(line)
    if r == "director_met":
        return _("The region reached exactly its threshold of %(threshold)s: no reward, no penalty") % p
    if r == "fraud_person":
        return (
            _("Faked new customer (developed %(month)s), found this month")
            % {"month": _month(p.get("developed_month"))}
            + probation
        )
    if r == "fraud_director":
        return (
            _("A faked new customer in the region (developed %(month)s), found this month")
            % {"month": _month(p.get("developed_month"))}
            + probation
        )
    if r == "activity":
        return _(
            "Active in %(active)s of its first %(window)s months (%(min_active)s needed): "
            "re-assessed as not developed in %(month)s"
        ) % {**p, "month": _month(line.refers_to)}
    if r == "correction":
        return _("Correction of %(month)s: its result changed from %(was)s to %(now)s yuan after it was closed") % {
            **p,
            "month": _month(line.refers_to),
        }
    return r


def _funding_note(line: rules.Line) -> str:
    if line.funding == rules.HELD_BACK:
        return _("; held back: the month's cost cap is reached (%(held)s yuan not paid)") % {
            "held": yuan(line.held_back)
        }
    if line.funding == rules.NOT_COVERED:
        return _("; %(amount)s yuan paid beyond the month's funds") % {"amount": yuan(line.amount)}
    if line.funding:
        return _("; %(amount)s yuan paid from %(source)s") % {
            "amount": yuan(line.amount),
            "source": funding_label(line.funding),
        }
    return ""
