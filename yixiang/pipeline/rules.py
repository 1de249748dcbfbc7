"""The intent-lifting method (DOMAIN.md §1) as plain functions over plain values.

No ORM and no HTTP here: every number arrives as an argument; callers read them from
``yixiang.pipeline.conf``. Stages are integers: -1 rejecting, 0–4, and 5 for signed (E class).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from yixiang.customers.stages import Stage

REJECTING = Stage.REJECTING.value
SIGNED = Stage.SIGNED.value

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def next_stage(stage: int) -> int | None:
    """The stage a rep works towards: -1→0 … 4→E; none after signing."""
    return None if stage >= SIGNED else stage + 1


# --- Cadence and due dates -------------------------------------------------------------------


def interval_days(stage: int, cadence: Mapping[int, int]) -> int:
    """Contact at least every N days: 0 → 15, 1–2 → 7, 3–4 → 3, E → 15 (twice a month)."""
    return int(cadence[stage])


@dataclass(frozen=True)
class WorkCalendar:
    """The statutory calendar for some years: days off, make-up working days (调休上班) and the
    years it knows. Outside those, Saturday and Sunday are assumed to be the days off."""

    days_off: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    known_years: frozenset[int] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5

    def knows(self, day: dt.date) -> bool:
        """Whether ``day``'s year has its statutory calendar (else weekends were assumed)."""
        return day.year in self.known_years


# A calendar that knows no year: only weekends are days off.
WEEKENDS_ONLY = WorkCalendar()

# "3天以内": the hot stages' due date may only move earlier, never later (DOMAIN.md §1).
HOT_STAGES = (3, 4)
# How slower cadences (0, 1–2, E, rejecting) leave a day off: the HOLIDAY_SHIFT_SLOWER setting.
SHIFT_NEXT, SHIFT_PREVIOUS, SHIFT_NONE = "next", "previous", "none"


def is_working_day(day: dt.date, calendar: WorkCalendar) -> bool:
    """Statutory days off are not working days, make-up Saturdays and Sundays are."""
    return calendar.is_working_day(day)


def next_working_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """The day itself if it is a working day, else the first working day after it."""
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def previous_working_day(day: dt.date, calendar: WorkCalendar, *, not_before: dt.date) -> dt.date:
    """The day itself if it is a working day, else the last working day before it — but never
    before ``not_before``: when every day down to it is a day off, the day itself is kept."""
    candidate = day
    while candidate >= not_before:
        if calendar.is_working_day(candidate):
            return candidate
        candidate -= dt.timedelta(days=1)
    return day


def shift_off_day_off(
    day: dt.date, *, stage: int, calendar: WorkCalendar, not_before: dt.date, slower: str = SHIFT_NEXT
) -> dt.date:
    """Move a cadence due date off a statutory day off.

    Stages 3–4 move earlier, to the last working day before it and never later; slower cadences
    move as ``slower`` says (next working day by default). ``not_before`` is the day after the
    last contact: a due date never lands on or before the contact it follows."""
    if calendar.is_working_day(day):
        return day
    if stage in HOT_STAGES or slower == SHIFT_PREVIOUS:
        return previous_working_day(day, calendar, not_before=not_before)
    if slower == SHIFT_NONE:
        return day
    return next_working_day(day, calendar)


def next_due_on(
    *,
    stage: int,
    last_effective_contact: dt.date | None,
    planned_next: dt.date | None,
    today: dt.date,
    cadence: Mapping[int, int],
    calendar: WorkCalendar,
    shift_holidays: bool = True,
    slower_shift: str = SHIFT_NEXT,
) -> dt.date:
    """When the customer must be contacted next.

    Last effective contact + the stage's interval (moved off a day off: earlier at stages 3–4,
    by ``slower_shift`` otherwise), or the planned next contact if that is sooner. A customer
    never reached effectively is due today. A planned date is the rep's own choice (a Saturday
    visit is allowed), so it is not moved."""
    if last_effective_contact is None:
        cadence_day = today
    else:
        cadence_day = last_effective_contact + dt.timedelta(days=interval_days(stage, cadence))
        if shift_holidays:
            cadence_day = shift_off_day_off(
                cadence_day,
                stage=stage,
                calendar=calendar,
                not_before=last_effective_contact + dt.timedelta(days=1),
                slower=slower_shift,
            )
    if planned_next is not None and planned_next < cadence_day:
        return planned_next
    return cadence_day


def calendar_missing_year(today: dt.date, known_years: Iterable[int], *, warn_from_month: int = 12) -> int | None:
    """The year whose statutory calendar an administrator should enter now, if any: this year
    when it is unknown, else next year from ``warn_from_month`` (December) on."""
    known = set(known_years)
    if today.year not in known:
        return today.year
    if today.month >= warn_from_month and today.year + 1 not in known:
        return today.year + 1
    return None


def overdue_days(due_on: dt.date | None, today: dt.date) -> int:
    """Days past the due date (0 when due today or later)."""
    if due_on is None:
        return 0
    return max(0, (today - due_on).days)


# --- The agenda ---------------------------------------------------------------------------------

# Stage 3–4 first, then 1–2, 0, rejecting, and E class last (they are called after 16:00).
_AGENDA_BAND_ORDER = {3: 0, 4: 0, 1: 1, 2: 1, 0: 2, REJECTING: 3, SIGNED: 4}


def band(stage: int) -> str:
    """The tracked-list band of a stage: '3-4', '1-2', '0', 'rejecting' or 'E'."""
    if stage in (3, 4):
        return "3-4"
    if stage in (1, 2):
        return "1-2"
    if stage == 0:
        return "0"
    if stage == SIGNED:
        return "E"
    return "rejecting"


def agenda_sort_key(*, stage: int, overdue: int, name: str, referred: bool = False) -> tuple[int, bool, int, str]:
    """Order of the agenda: by band (3–4, 1–2, 0, E); inside a band referred leads first (every
    referred lead is worked to a close), then the most overdue first, then by name."""
    return (_AGENDA_BAND_ORDER.get(stage, 3), not referred, -overdue, name)


def suggest_after(stage: int, signed_after: str) -> str | None:
    """E-class contacts are suggested late in the day (default 16:00); others any time."""
    return signed_after if stage == SIGNED else None


@dataclass(frozen=True)
class BandBalance:
    band: str
    count: int
    target: int
    status: str  # "low", "ok" or "high"


def tracked_balance(
    counts_by_stage: Mapping[int, int], targets: Mapping[str, int], tolerance: float
) -> list[BandBalance]:
    """Each band's count against its target (≈20 / ≈40 / ≈10); out of balance beyond ±tolerance."""
    per_band: dict[str, int] = defaultdict(int)
    for stage, count in counts_by_stage.items():
        per_band[band(stage)] += count
    out = []
    for name, target in targets.items():
        count = per_band.get(name, 0)
        if count < target * (1 - tolerance):
            status = "low"
        elif count > target * (1 + tolerance):
            status = "high"
        else:
            status = "ok"
        out.append(BandBalance(band=name, count=count, target=int(target), status=status))
    return out


# --- Stage proposals ----------------------------------------------------------------------------


def propose_from_signals(ticked: Iterable[str], signal_stage: Mapping[str, int]) -> int | None:
    """The highest stage among the ticked signals (the customer showed at least that much intent)."""
    stages = [signal_stage[code] for code in ticked if code in signal_stage]
    return max(stages) if stages else None


@dataclass(frozen=True)
class KeywordRule:
    stage: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class TextProposal:
    stage: int | None
    matched: tuple[str, ...]  # the keywords that decided it


def _mentions(text: str, word: str, negations: Sequence[str]) -> bool:
    start = text.find(word)
    while start != -1:
        before = text[start - 1] if start > 0 else ""
        if before not in negations:
            return True
        start = text.find(word, start + 1)
    return False


def propose_from_text(text: str, keyword_rules: Sequence[KeywordRule], negations: Sequence[str] = ()) -> TextProposal:
    """The highest stage whose keyword the note mentions (价格 → 3, 合同 → 4 …); 不签 is no 签."""
    text = text or ""
    best: int | None = None
    matched: list[str] = []
    for rule in keyword_rules:
        hits = [w for w in rule.words if w and _mentions(text, w, negations)]
        if not hits:
            continue
        if best is None or rule.stage > best:
            best, matched = rule.stage, hits
        elif rule.stage == best:
            matched.extend(hits)
    return TextProposal(stage=best, matched=tuple(matched))


def grade_for_month(expected_month: dt.date | None, today: dt.date) -> str:
    """A: expected to sign this month, B: next month, C: within three months, D: no date / later."""
    if expected_month is None:
        return "D"
    months = (expected_month.year - today.year) * 12 + expected_month.month - today.month
    if months <= 0:
        return "A"
    if months == 1:
        return "B"
    if months <= 3:
        return "C"
    return "D"


# --- Follow-up records --------------------------------------------------------------------------


def followup_time_problem(
    at: dt.datetime, now: dt.datetime, *, backdate_days: int, future_tolerance_seconds: int
) -> str | None:
    """'future' or 'too_old' when a follow-up time cannot be accepted, else None."""
    if at > now + dt.timedelta(seconds=future_tolerance_seconds):
        return "future"
    if at < now - dt.timedelta(days=backdate_days):
        return "too_old"
    return None


# --- Leaving the tracked list -------------------------------------------------------------------

RELEASE_NO_RISE = "no_rise"
RELEASE_NO_DECISION_MAKER = "no_decision_maker"


def release_proposal(
    *,
    contacts_since_rise: int,
    days_since_rise: int,
    dm_missed: int,
    dm_reached: bool,
    min_contacts: int,
    no_rise_days: int,
    dm_attempts: int,
) -> str | None:
    """Why a customer should be proposed for release, or None.

    'no_rise': ≥ 6 contacts and no stage rise for 60 days (counted from the last rise, or from
    when the rep took the customer). 'no_decision_maker': ≥ 4 attempts and never reached."""
    if contacts_since_rise >= min_contacts and days_since_rise >= no_rise_days:
        return RELEASE_NO_RISE
    if dm_missed >= dm_attempts and not dm_reached:
        return RELEASE_NO_DECISION_MAKER
    return None


# --- Automatic recycling to the pool ------------------------------------------------------------

RECYCLE_OVERDUE = "overdue"
RECYCLE_HELD_TOO_LONG = "held_too_long"


@dataclass(frozen=True)
class RecyclePolicy:
    """The company's recycling rules (each a setting; None switches that rule off).

    ``overdue_limit``: days overdue before recycling; ``hold_limit``: days held without signing,
    counted from when the rep took the customer or from its last stage rise, whichever is later;
    ``recent_rise_days``: a customer whose stage rose within this many days is never recycled;
    ``hot_needs_lead``: stage 3–4 customers are proposed to the lead instead of recycled."""

    overdue_limit: int | None = 30
    hold_limit: int | None = 180
    recent_rise_days: int | None = 30
    hot_needs_lead: bool = True


def hold_clock_start(held_since: dt.date | None, rose_on: dt.date | None) -> dt.date | None:
    """The "held N days without signing" clock restarts on each stage rise."""
    if held_since is None:
        return None
    return max(held_since, rose_on) if rose_on is not None else held_since


def recycle_reason(
    *,
    today: dt.date,
    next_due_on: dt.date | None,
    held_since: dt.date | None,
    stage: int,
    locked: bool,
    policy: RecyclePolicy,
    rose_on: dt.date | None = None,
) -> str | None:
    """Why a tracked customer returns to the pool today, or None.

    Overdue by more than 30 days, or held more than 180 days without signing (since the last
    rise). Signed (E-class) and locked customers never recycle, nor one whose stage rose within
    the last 30 days. Whether a stage 3–4 customer goes at once or to the lead is ``needs_lead``."""
    if stage == SIGNED or locked:
        return None
    if (
        policy.recent_rise_days is not None
        and rose_on is not None
        and (today - rose_on).days <= policy.recent_rise_days
    ):
        return None
    if (
        policy.overdue_limit is not None
        and next_due_on is not None
        and (today - next_due_on).days > policy.overdue_limit
    ):
        return RECYCLE_OVERDUE
    start = hold_clock_start(held_since, rose_on)
    if policy.hold_limit is not None and start is not None and (today - start).days > policy.hold_limit:
        return RECYCLE_HELD_TOO_LONG
    return None


def recycle_needs_lead(stage: int, policy: RecyclePolicy) -> bool:
    """Stage 3–4 customers are never recycled without the lead's confirmation."""
    return policy.hot_needs_lead and stage in HOT_STAGES


def recycle_on(
    *,
    next_due_on: dt.date | None,
    held_since: dt.date | None,
    stage: int,
    locked: bool,
    policy: RecyclePolicy,
    rose_on: dt.date | None = None,
) -> dt.date | None:
    """The first day the customer will be recycled (or proposed to the lead) if nothing changes."""
    if stage == SIGNED or locked:
        return None
    days = []
    if policy.overdue_limit is not None and next_due_on is not None:
        days.append(next_due_on + dt.timedelta(days=policy.overdue_limit + 1))
    start = hold_clock_start(held_since, rose_on)
    if policy.hold_limit is not None and start is not None:
        days.append(start + dt.timedelta(days=policy.hold_limit + 1))
    if not days:
        return None
    day = min(days)
    if policy.recent_rise_days is not None and rose_on is not None:
        day = max(day, rose_on + dt.timedelta(days=policy.recent_rise_days + 1))
    return day


def lock_refusal(*, stage: int, locked_count: int, max_locks: int) -> str | None:
    """'signed' (E class never recycles, no lock needed) or 'max_locks', else None."""
    if stage == SIGNED:
        return "signed"
    if locked_count >= max_locks:
        return "max_locks"
    return None


# --- Claiming from the pool ---------------------------------------------------------------------

CLAIM_RECLAIM_BLOCKED = "reclaim_blocked"
CLAIM_MAX_TRACKED = "max_tracked"
CLAIM_MAX_PER_DAY = "max_claims_per_day"


def claim_refusal(
    *,
    tracked_count: int,
    claims_today: int,
    left_claimant_on: dt.date | None,
    today: dt.date,
    max_tracked: int,
    max_claims_per_day: int,
    reclaim_block_days: int,
) -> str | None:
    """Which limit stops a claim, or None.

    The former owner waits 30 days; a rep holds at most 80 tracked customers and claims at most
    10 a day."""
    if left_claimant_on is not None and (today - left_claimant_on).days < reclaim_block_days:
        return CLAIM_RECLAIM_BLOCKED
    if tracked_count >= max_tracked:
        return CLAIM_MAX_TRACKED
    if claims_today >= max_claims_per_day:
        return CLAIM_MAX_PER_DAY
    return None


# --- Distribution of a list of leads ------------------------------------------------------------


def round_robin(items: Sequence[T], reps: Sequence[K], start: int = 0) -> list[tuple[T, K]]:
    """Deal items to reps in turn, beginning with ``reps[start]``."""
    if not reps:
        return []
    return [(item, reps[(start + i) % len(reps)]) for i, item in enumerate(items)]


def by_region(
    items: Sequence[tuple[T, Hashable]], reps: Sequence[tuple[K, Hashable]]
) -> tuple[list[tuple[T, K]], list[T]]:
    """Each item goes round-robin to the reps of its own region; items of a region without reps
    are returned unassigned."""
    reps_of: dict[Hashable, list[K]] = defaultdict(list)
    for rep, region in reps:
        reps_of[region].append(rep)
    turn: dict[Hashable, int] = defaultdict(int)
    assigned: list[tuple[T, K]] = []
    unassigned: list[T] = []
    for item, region in items:
        pool = reps_of.get(region)
        if not pool:
            unassigned.append(item)
            continue
        assigned.append((item, pool[turn[region] % len(pool)]))
        turn[region] += 1
    return assigned, unassigned


# --- A judgment needs evidence -------------------------------------------------------------------

MISMATCH_NO_EVIDENCE = "no_evidence"
MISMATCH_ABOVE_EVIDENCE = "above_evidence"


def judgment_mismatch(
    *, from_stage: int | None, to_stage: int, from_signals: int | None, from_answer: int | None
) -> str:
    """Whether a judged stage is carried by its evidence ("" when it is, or when it is no rise).

    The evidence is the ticked signals (the highest stage among them) and the judging answer the
    note records (the stage the customer's words point to). A rise with neither is 'no_evidence';
    a rise above what they support is 'above_evidence'. Signing is its own evidence."""
    if to_stage == SIGNED or not is_rise(from_stage, to_stage):
        return ""
    supported = supported_stage(from_signals, from_answer)
    if supported is None:
        return MISMATCH_NO_EVIDENCE
    return MISMATCH_ABOVE_EVIDENCE if to_stage > supported else ""


def supported_stage(from_signals: int | None, from_answer: int | None) -> int | None:
    """The highest stage the evidence carries (ticked signals, judging answer); None without any."""
    supported = [s for s in (from_signals, from_answer) if s is not None]
    return max(supported) if supported else None


def needs_evidence_confirmation(
    *, from_stage: int | None, to_stage: int, signals: Sequence[str], answer: int | None
) -> bool:
    """Raising a stage with no signal ticked and no judging answer asks the rep to confirm."""
    return to_stage != SIGNED and is_rise(from_stage, to_stage) and not signals and answer is None


# --- Judgment accuracy for the team review ------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    right: int
    decided: int
    pending: int

    @property
    def share(self) -> float | None:
        return round(self.right / self.decided, 4) if self.decided else None


def hot_judgment_accuracy(
    judgments: Iterable[tuple[dt.datetime, dt.datetime | None]], *, now: dt.datetime, within_days: int
) -> Accuracy:
    """Stage-3/4 judgments (judged at, customer signed at): right when the customer signed within
    ``within_days``; wrong once that window has passed without a signing; else still pending."""
    right = decided = pending = 0
    window = dt.timedelta(days=within_days)
    for judged_at, signed_at in judgments:
        if signed_at is not None and judged_at <= signed_at <= judged_at + window:
            right += 1
            decided += 1
        elif now >= judged_at + window or (signed_at is not None and signed_at > judged_at + window):
            decided += 1
        else:
            pending += 1
    return Accuracy(right=right, decided=decided, pending=pending)


def reversed_rises(changes: Sequence[tuple[dt.datetime, int | None, int]]) -> list[bool]:
    """For one customer's stage changes in time order (at, from, to): whether each change was a
    rise that a later change took back below the stage it judged. Non-rises are False."""
    flags = []
    for i, (_at, frm, to) in enumerate(changes):
        is_rise = frm is not None and to > frm and to < SIGNED
        flags.append(is_rise and any(later_to < to for _a, _f, later_to in changes[i + 1 :]))
    return flags


def is_rise(from_stage: int | None, to_stage: int) -> bool:
    return from_stage is not None and to_stage > from_stage


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- Plausible dates (issue 12) -----------------------------------------------------------------
# No deal of this company predates 2000 (0001-01-01 was accepted), and a next contact planned
# more than two years ahead is a typo, not a plan.
EARLIEST_BUSINESS_DATE = dt.date(2000, 1, 1)
NEXT_CONTACT_MAX_DAYS_AHEAD = 731


def signing_date_problem(signed_on: dt.date, today: dt.date) -> str | None:
    """'future' or 'too_old' when a signing date cannot be accepted, else None."""
    if signed_on > today:
        return "future"
    if signed_on < EARLIEST_BUSINESS_DATE:
        return "too_old"
    return None


def next_contact_too_far(next_contact_on: dt.date, today: dt.date) -> bool:
    return next_contact_on > today + dt.timedelta(days=NEXT_CONTACT_MAX_DAYS_AHEAD)
