"""Pure rules of the after-sale method (DOMAIN.md §3): dates, tiers, Pareto, lifecycle, messages.

No ORM and no HTTP here: plain values in, plain values out, each rule tested beside it.

Lunar dates (农历) are converted with ``lunar_python`` every year, because a lunar birthday moves
in the solar calendar. Two cases have no exact counterpart in some years; we follow the common
custom and say so in one place:

* born in a leap month (闰月): celebrated in that leap month in the years that have it, and in the
  ordinary month of the same number in all other years;
* born on day 30 of a "big" month: in a year where that month has 29 days, day 29 (the month's
  last day) is used.

A solar birthday on 29 February is greeted on 28 February in common years.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from lunar_python import LunarYear, Solar

# --------------------------------------------------------------------------- lunar calendar


@dataclass(frozen=True)
class LunarDate:
    """A lunar month and day (year-less): what a lunar birthday or festival repeats."""

    month: int  # 1..12
    day: int  # 1..30
    leap: bool = False


@dataclass(frozen=True)
class _LunarMonthRow:
    month: int  # negative for a leap month, as lunar_python numbers them
    first_day: dt.date
    days: int


@lru_cache(maxsize=1024)
def _lunar_year(lunar_year: int) -> tuple[_LunarMonthRow, ...]:
    """The months of one lunar year, from lunar_python, computed once per process: its own cache
    holds a single year, and recomputing a year costs milliseconds."""
    rows = []
    for m in LunarYear.fromYear(lunar_year).getMonths():
        if m.getYear() != lunar_year:
            continue
        first = Solar.fromJulianDay(m.getFirstJulianDay())
        rows.append(
            _LunarMonthRow(m.getMonth(), dt.date(first.getYear(), first.getMonth(), first.getDay()), m.getDayCount())
        )
    return tuple(rows)


def solar_to_lunar(day: dt.date) -> LunarDate:
    for lunar_year in (day.year, day.year - 1):
        for row in _lunar_year(lunar_year):
            offset = (day - row.first_day).days
            if 0 <= offset < row.days:
                return LunarDate(month=abs(row.month), day=offset + 1, leap=row.month < 0)
    raise ValueError(f"no lunar date for {day}")  # outside lunar_python's range


def _month_row(lunar_year: int, month: int, leap: bool) -> _LunarMonthRow:
    rows = {row.month: row for row in _lunar_year(lunar_year)}
    if leap and -month in rows:
        return rows[-month]
    return rows[month]  # not a leap birthday, or this year has no such leap month


def lunar_to_solar(lunar_year: int, month: int, day: int, leap: bool = False) -> dt.date:
    """The solar date of (month, day) in ``lunar_year``, with the leap-month and day-30 customs above."""
    row = _month_row(lunar_year, month, leap)
    return row.first_day + dt.timedelta(days=min(day, row.days) - 1)


def lunar_last_day(lunar_year: int, month: int) -> int:
    return _month_row(lunar_year, month, False).days


def _years_around(start: dt.date, end: dt.date) -> range:
    # A lunar year starts in late January or February, so lunar year Y-1 reaches into solar year Y.
    return range(start.year - 1, end.year + 1)


def lunar_occurrences(lunar: LunarDate, start: dt.date, end: dt.date) -> list[dt.date]:
    """Solar dates in [start, end] on which the lunar (month, day) falls."""
    found = {lunar_to_solar(y, lunar.month, lunar.day, lunar.leap) for y in _years_around(start, end)}
    return sorted(d for d in found if start <= d <= end)


def solar_anniversary(month: int, day: int, year: int) -> dt.date:
    """(month, day) in ``year``; 29 February becomes 28 February in common years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def solar_occurrences(month: int, day: int, start: dt.date, end: dt.date) -> list[dt.date]:
    found = (solar_anniversary(month, day, y) for y in range(start.year, end.year + 1))
    return [d for d in found if start <= d <= end]


def birthday_occurrences(birth: dt.date, calendar_kind: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """Birthdays in [start, end] of someone born (solar date) on ``birth``.

    ``calendar_kind`` is "lunar" when the person celebrates by the lunar calendar: the lunar date of
    birth is found once and converted back to a solar date every year."""
    if calendar_kind == "lunar":
        days = lunar_occurrences(solar_to_lunar(birth), start, end)
    else:
        days = solar_occurrences(birth.month, birth.day, start, end)
    return [d for d in days if d > birth]


# --------------------------------------------------------------------------- festivals


@dataclass(frozen=True)
class Festival:
    code: str
    name: str
    kind: str  # "solar", "lunar", "nth_weekday", "lunar_eve"
    month: int = 0
    day: int = 0
    weekday: int = 0  # Monday = 0 … Sunday = 6 (for nth_weekday)
    nth: int = 0
    greeting: str = ""
    card: bool = False  # a card day of seed 003 (生日卡、母亲卡、圣诞卡): send a card, not only a message


FESTIVALS: dict[str, Festival] = {
    f.code: f
    for f in (
        Festival("new_year", _("New Year's Day"), "solar", 1, 1, greeting=_("Happy New Year")),
        Festival("spring_eve", _("Spring Festival Eve"), "lunar_eve", 12, greeting=_("Happy Spring Festival Eve")),
        Festival("spring_festival", _("Spring Festival"), "lunar", 1, 1, greeting=_("Happy Spring Festival")),
        Festival("lantern", _("Lantern Festival"), "lunar", 1, 15, greeting=_("Happy Lantern Festival")),
        Festival("womens_day", _("Women's Day"), "solar", 3, 8, greeting=_("Happy Women's Day")),
        Festival("mothers_day", _("Mother's Day"), "nth_weekday", 5, weekday=6, nth=2, greeting=_("Happy Mother's Day"), card=True),
        Festival("dragon_boat", _("Dragon Boat Festival"), "lunar", 5, 5, greeting=_("Happy Dragon Boat Festival")),
        Festival("fathers_day", _("Father's Day"), "nth_weekday", 6, weekday=6, nth=3, greeting=_("Happy Father's Day")),
        Festival("qixi", _("Qixi Festival"), "lunar", 7, 7, greeting=_("Happy Qixi Festival")),
        Festival("teachers_day", _("Teachers' Day"), "solar", 9, 10, greeting=_("Happy Teachers' Day")),
        Festival("mid_autumn", _("Mid-Autumn Festival"), "lunar", 8, 15, greeting=_("Happy Mid-Autumn Festival")),
        Festival("national_day", _("National Day"), "solar", 10, 1, greeting=_("Happy National Day")),
        Festival("double_ninth", _("Double Ninth Festival"), "lunar", 9, 9, greeting=_("Wishing your family good health")),
        Festival("christmas", _("Christmas"), "solar", 12, 25, greeting=_("Merry Christmas"), card=True),
    )
}  # fmt: skip


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    """The nth given weekday of a month (Mother's Day = 2nd Sunday of May)."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (nth - 1))


def festival_date(festival: Festival, year: int) -> dt.date:
    """The festival's date in solar year ``year`` (lunar festivals: in lunar year ``year``)."""
    if festival.kind == "solar":
        return dt.date(year, festival.month, festival.day)
    if festival.kind == "nth_weekday":
        return nth_weekday(year, festival.month, festival.weekday, festival.nth)
    if festival.kind == "lunar_eve":  # the last day of the 12th month, 29 or 30
        return lunar_to_solar(year, 12, lunar_last_day(year, 12))
    return lunar_to_solar(year, festival.month, festival.day)


def festival_occurrences(codes: Iterable[str], start: dt.date, end: dt.date) -> list[tuple[dt.date, Festival]]:
    """(date, festival) pairs in [start, end], by date."""
    out: set[tuple[dt.date, str]] = set()
    for code in codes:
        festival = FESTIVALS.get(code)
        if festival is None:
            continue
        for year in _years_around(start, end):
            day = festival_date(festival, year)
            if start <= day <= end:
                out.add((day, code))
    return [(day, FESTIVALS[code]) for day, code in sorted(out)]


def statutory_days(
    start: dt.date, end: dt.date, *, days_off: Collection[dt.date], workdays: Collection[dt.date]
) -> list[tuple[dt.date, str]]:
    """Statutory days off ("holiday") and make-up working days on a weekend ("workday") in the
    range, from the statutory calendar the pipeline keeps (``HolidayDay``, which an administrator
    edits); a year with no entries has none — nothing is invented."""
    out = []
    for day in sorted(set(days_off) | set(workdays)):
        if not start <= day <= end:
            continue
        if day in days_off:
            out.append((day, "holiday"))
        elif day.weekday() >= 5:
            out.append((day, "workday"))
    return out


# --------------------------------------------------------------------------- special days on the archive

_SPECIAL_RE = re.compile(
    r"(?P<lunar>农历|阴历|lunar)?\s*"
    r"(?:(?P<year>\d{4})\s*[-/.年]\s*)?(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SpecialDay:
    label: str
    month: int
    day: int
    lunar: bool = False
    year: int | None = None


def parse_special_days(text: str) -> list[SpecialDay]:
    """Dated lines of the archive's "special days" text: "结婚纪念日 2010-05-20", "农历 8-3 母亲生日".

    A line without a valid date is kept as free text and ignored here."""
    out: list[SpecialDay] = []
    for line in (text or "").splitlines():
        match = _SPECIAL_RE.search(line)
        if not match:
            continue
        month, day = int(match["month"]), int(match["day"])
        lunar = bool(match["lunar"])
        if not (1 <= month <= 12 and 1 <= day <= (30 if lunar else 31)):
            continue
        if not lunar:
            try:
                dt.date(2000, month, day)  # a leap year, so 02-29 passes
            except ValueError:
                continue
        label = (line[: match.start()] + " " + line[match.end() :]).strip(" \t:：,，;；-") or line.strip()
        out.append(SpecialDay(label=label, month=month, day=day, lunar=lunar, year=int(match["year"] or 0) or None))
    return out


def special_day_occurrences(sd: SpecialDay, start: dt.date, end: dt.date) -> list[dt.date]:
    if sd.lunar:
        days = lunar_occurrences(LunarDate(sd.month, sd.day), start, end)
    else:
        days = solar_occurrences(sd.month, sd.day, start, end)
    if sd.year:
        days = [d for d in days if d.year > sd.year]
    return days


def yearly_occurrences(origin: dt.date, start: dt.date, end: dt.date, *, recurring: bool) -> list[dt.date]:
    """A life event: once on its date, or every year on its anniversary when ``recurring``."""
    if not recurring:
        return [origin] if start <= origin <= end else []
    return [d for d in solar_occurrences(origin.month, origin.day, start, end) if d >= origin]


# --------------------------------------------------------------------------- payouts and renewals


def payout_notice_on(due: dt.date, notice_days: int) -> dt.date:
    """The day to tell the customer about a payout: N days before it."""
    return due - dt.timedelta(days=notice_days)


def payout_notice_window(today: dt.date, notice_days: int) -> tuple[dt.date, dt.date]:
    """The due dates whose payout needs a notice today (first, last inclusive): from N days before
    the payout until the payout day itself. payout_reminders_run selects by it."""
    return today, today + dt.timedelta(days=notice_days)


def payout_needs_notice(due: dt.date, today: dt.date, notice_days: int) -> bool:
    first, last = payout_notice_window(today, notice_days)
    return first <= due <= last


def payout_is_late(due: dt.date, today: dt.date, *, paid: bool, grace_days: int = 0) -> bool:
    return not paid and today > due + dt.timedelta(days=grace_days)


def renewal_notice_on(end: dt.date, notice_days: int) -> dt.date:
    return end - dt.timedelta(days=notice_days)


def renewal_window(today: dt.date, notice_days: int) -> tuple[dt.date, dt.date]:
    """The contract ends that call for a renewal talk today (first, last inclusive): from N days
    before the end until it ends. renewal_reminders_run selects by it."""
    return today, today + dt.timedelta(days=notice_days)


def renewal_due(end: dt.date | None, today: dt.date, notice_days: int) -> bool:
    first, last = renewal_window(today, notice_days)
    return end is not None and first <= end <= last


# --------------------------------------------------------------------------- value tiers and Pareto


@dataclass(frozen=True)
class TierThresholds:
    a_contribution: Decimal
    a_funds: Decimal
    b_contribution: Decimal
    b_funds: Decimal
    b_opportunities: int
    c_contribution: Decimal
    c_funds: Decimal
    c_opportunities: int


def value_tier(contribution: Decimal, funds: Decimal | None, opportunities: int, t: TierThresholds) -> str:
    """A key, B secondary, C ordinary, D no potential now (DOMAIN.md §3).

    Contribution is revenue over the window; potential is funds available plus open opportunities.
    A customer reaches a tier by either measure."""
    funds = funds or Decimal(0)
    if contribution >= t.a_contribution or funds >= t.a_funds:
        return "A"
    if contribution >= t.b_contribution or funds >= t.b_funds or opportunities >= t.b_opportunities:
        return "B"
    if contribution >= t.c_contribution or funds >= t.c_funds or opportunities >= t.c_opportunities:
        return "C"
    return "D"


@dataclass(frozen=True)
class ParetoSplit:
    customers: int
    top_count: int
    total: Decimal
    top_revenue: Decimal

    @property
    def share(self) -> Decimal:
        """The top customers' share of revenue, 0..1 (0 when there is no revenue)."""
        if not self.total:
            return Decimal(0)
        return (self.top_revenue / self.total).quantize(Decimal("0.0001"))

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def pareto_split(amounts: Iterable[Decimal], top_share: Decimal = Decimal("0.2")) -> ParetoSplit:
    """What share of revenue the top ``top_share`` of customers bring (rounded up to whole customers).

    Every customer of the group counts, those with no revenue too."""
    values = sorted((Decimal(a or 0) for a in amounts), reverse=True)
    n = len(values)
    top = math.ceil(n * top_share) if n else 0
    return ParetoSplit(
        customers=n, top_count=top, total=sum(values, Decimal(0)), top_revenue=sum(values[:top], Decimal(0))
    )


# --------------------------------------------------------------------------- loyalty and lifecycle

LOYALTY_LEVELS: list[tuple[str, str, str]] = [
    # code, name, what the customer does (seed 003)
    ("loyal", _("Loyal"), _("Tells everyone, refers everyone, always buys again")),
    ("very_satisfied", _("Very satisfied"), _("Tells a few, refers some, sometimes buys again")),
    ("satisfied", _("Satisfied"), _("If asked, may tell or refer")),
    ("indifferent", _("Indifferent"), _("Tells no one")),
    ("unhappy", _("Unhappy"), _("Tells 10 or more people, will not refer")),
    ("wronged", _("Wronged"), _("Tells 25 or more people")),
    ("angry", _("Angry"), _("Tells anyone who listens")),
    ("complaining", _("Complaining"), _("Tells the whole city: negative referrals")),
]
NEGATIVE_LOYALTY = frozenset({"unhappy", "wronged", "angry", "complaining"})

# Life events that call for a closing visit (促成拜访), seed 003 拜访时机: promotion, raise, childbirth,
# contract maturity, year-end bonus, a prize win (LifeEvent.Kind codes).
CLOSING_VISIT_EVENTS = frozenset({"promotion", "raise", "childbirth", "contract_maturity", "year_end_bonus", "prize"})


LIFECYCLE_STEPS: list[tuple[str, str]] = [
    ("suspect", _("Suspect")),
    ("prospect", _("Qualified prospect")),
    ("first_time_buyer", _("First-time buyer")),
    ("repeat_buyer", _("Repeat buyer")),
    ("loyal_client", _("Loyal client")),
    ("advocate", _("Advocate")),
]


def lifecycle_step(
    *,
    stage: int,
    qualification_percent: int,
    purchases: int,
    signed_referrals: int,
    loyalty: str,
    loyal_min_purchases: int = 3,
    prospect_min_stage: int = 1,
    prospect_min_qualification: int = 50,
) -> str:
    """Where the customer stands on the seven steps to loyalty, from data alone.

    advocate: bought and brought at least one customer who signed; loyal client: bought at least
    ``loyal_min_purchases`` times and is not unhappy; repeat buyer: 2+ purchases; first-time buyer:
    one purchase or signed; prospect: intent stage or qualification checklist high enough."""
    bought = purchases >= 1 or stage == 5
    if bought and signed_referrals >= 1:
        return "advocate"
    if purchases >= loyal_min_purchases and loyalty not in NEGATIVE_LOYALTY:
        return "loyal_client"
    if purchases >= 2:
        return "repeat_buyer"
    if bought:
        return "first_time_buyer"
    if stage >= prospect_min_stage or qualification_percent >= prospect_min_qualification:
        return "prospect"
    return "suspect"


def last_activity(dates: Iterable[dt.date | None]) -> dt.date | None:
    present = [d for d in dates if d is not None]
    return max(present) if present else None


def is_lapsing(last: dt.date | None, today: dt.date, lapse_days: int) -> bool:
    """No purchase and no contact for ``lapse_days``: the customer is drifting away."""
    return last is not None and (today - last).days >= lapse_days


# --------------------------------------------------------------------------- referrals

REFERRAL_PREREQUISITES: list[tuple[str, str]] = [
    ("trusts_product", _("Trusts our product")),
    ("satisfied", _("Is satisfied with our service")),
    ("got_results", _("Has seen results")),
    ("trusts_rep", _("Trusts you as a friend")),
    ("has_influence", _("Has influence on others")),
]
REFERRER_TYPES: list[tuple[str, str, str]] = [
    ("honour", _("Likes honour"), _("Refers freely and wants nothing: thank them in public")),
    ("practical", _("Practical"), _("Wants a reward or commission: a reward is recorded")),
    ("friendship", _("Friendship"), _("Refers when it comes up: keep the friendship warm")),
]


def conversion_rate(referred: int, signed: int) -> int:
    return round(100 * signed / referred) if referred else 0


# --------------------------------------------------------------------------- campaigns and messages

PLACEHOLDERS: dict[str, str] = {
    "name": _("customer's name"),
    "rep": _("rep's name"),
    "rep_phone": _("rep's phone"),
    "company": _("customer's company"),
    "tier": _("value tier"),
    "city": _("customer's city"),
}
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")


def unknown_placeholders(template: str) -> list[str]:
    return sorted({p for p in _PLACEHOLDER_RE.findall(template) if p not in PLACEHOLDERS})


def render_message(template: str, values: Mapping[str, str]) -> str:
    """Fill {name}, {rep}… ; a placeholder without a value becomes empty, other braces stay."""

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key not in PLACEHOLDERS:
            return match.group(0)
        return str(values.get(key) or "")

    return _PLACEHOLDER_RE.sub(fill, template)


def resolve_channel(
    preferred: str, *, phone: bool, email: bool, wechat: bool, robot_ready: bool, fallback: Sequence[str]
) -> str | None:
    """The channel that carries a campaign text to this customer: the preferred one when it can,
    else the first workable one in ``fallback``; None when no channel reaches the customer.

    WeChat goes through the group robot (to the rep, who forwards it), so it needs the robot set up."""
    usable = {"sms": phone, "email": email, "wechat": wechat and robot_ready}
    if usable.get(preferred):
        return preferred
    for channel in fallback:
        if usable.get(channel):
            return channel
    return None


def sms_segments(text: str) -> int:
    """Billed SMS parts: 70 characters for one, 67 per part beyond (the carriers' rule)."""
    n = len(text)
    if n <= 70:
        return 1
    return math.ceil(n / 67)


def message_cost(channel: str, body: str, costs: Mapping[str, Decimal]) -> Decimal:
    if channel == "sms":
        return costs["sms"] * sms_segments(body)
    return costs.get(channel, Decimal(0))


def yunpian_sign(payload: Mapping[str, object], api_key: str) -> str:
    """Signature of a Yunpian reply push: values in key order (without _sign), commas, then the key, MD5."""
    parts = ["" if payload[k] is None else str(payload[k]) for k in sorted(payload) if k != "_sign"]
    text = ",".join([*parts, api_key])
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def reply_cutoff(now: dt.datetime, window_hours: int) -> dt.datetime:
    """Messages sent at or before this moment have had their reply window; non_replier_tasks_run
    selects by it."""
    return now - dt.timedelta(hours=window_hours)


def reply_window_over(sent_at: dt.datetime, now: dt.datetime, window_hours: int) -> bool:
    return sent_at <= reply_cutoff(now, window_hours)


# --- Plausible contracts (issue 12) -------------------------------------------------------------
# Contract start 9999-12-31 and payouts above the contract amount were accepted. A contract
# starts between 2000 and five years ahead, runs at most 30 years, its payouts fall within that
# span, and together they never exceed the contract amount.
CONTRACT_EARLIEST_START = dt.date(2000, 1, 1)
CONTRACT_START_MAX_YEARS_AHEAD = 5
CONTRACT_MAX_YEARS = 30
CONTRACT_MAX_PAYOUTS = 360


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def contract_problems(
    *,
    start: dt.date,
    end: dt.date | None,
    amount: Decimal,
    payouts: Sequence[tuple[dt.date, Decimal]],
    today: dt.date,
) -> dict[str, str]:
    """Field → problem code for a contract that cannot be right, empty when it is plausible.
    Codes: start_too_early, start_too_late, end_before_start, end_too_late, too_many_payouts,
    payout_out_of_span, payouts_above_amount."""
    problems: dict[str, str] = {}
    latest_start = _years_later(today, CONTRACT_START_MAX_YEARS_AHEAD)
    if start < CONTRACT_EARLIEST_START:
        problems["start_date"] = "start_too_early"
    elif start > latest_start:
        problems["start_date"] = "start_too_late"
    latest = _years_later(min(max(start, CONTRACT_EARLIEST_START), latest_start), CONTRACT_MAX_YEARS)
    if end is not None and end < start:
        problems["end_date"] = "end_before_start"
    elif end is not None and end > latest:
        problems["end_date"] = "end_too_late"
    if len(payouts) > CONTRACT_MAX_PAYOUTS:
        problems["payouts"] = "too_many_payouts"
    elif any(not CONTRACT_EARLIEST_START <= due <= latest for due, _amount in payouts):
        problems["payouts"] = "payout_out_of_span"
    elif sum((a for _due, a in payouts), Decimal(0)) > amount:
        problems["payouts"] = "payouts_above_amount"
    return problems
