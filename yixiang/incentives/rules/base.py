"""The scheme's vocabulary: line kinds, funding sources, the ``Scheme`` and its text form, months,
the plain inputs and results, and the single rules the sections share (customer units, reward steps,
probation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from yixiang.months import add_months, month_end, month_start  # noqa: F401 - part of rules' vocabulary

# --- Line kinds -------------------------------------------------------------------------------
COUNTED = "counted"  # a valid customer used to reach the threshold (0 yuan)
NOT_VALID = "not_valid"  # a developed customer that does not count (0 yuan)
PENALTY = "penalty"  # a manager short of the threshold
REWARD = "reward"  # a manager's customer beyond the threshold
DIRECTOR_PENALTY = "director_penalty"
DIRECTOR_REWARD = "director_reward"
DIRECTOR_MET = "director_met"  # the region reached exactly its threshold (0 yuan)
FRAUD = "fraud_penalty"
ACTIVITY = "activity_adjustment"
CORRECTION = "correction"

REWARD_KINDS = frozenset({REWARD, DIRECTOR_REWARD})
COLLECTED_KINDS = frozenset({PENALTY, DIRECTOR_PENALTY, FRAUD})

# --- Funding sources --------------------------------------------------------------------------
FROM_PENALTIES = "month_penalties"
FROM_FUND = "penalty_fund"
FROM_MANAGEMENT = "management_fund"
FROM_WAGES = "efficiency_wages"
NOT_COVERED = "not_covered"  # paid all the same; the month's funds fall short by this much
HELD_BACK = "held_back"  # only in months closed before rewards were always paid

MANAGER = "manager"
DIRECTOR = "director"


@dataclass(frozen=True)
class Scheme:
    """Every number of one scheme version."""

    valid_floor: int = 7950
    double_floor: int = 50000
    default_threshold: int = 2
    # threshold → penalty by count reached (index 0 … threshold − 1)
    penalties: Mapping[int, tuple[int, ...]] = field(default_factory=lambda: {2: (800, 300), 1: (500,)})
    # threshold → ascending (payment floor, reward) steps
    reward_steps: Mapping[int, tuple[tuple[int, int], ...]] = field(
        default_factory=lambda: {
            2: ((7950, 300), (20000, 500), (50000, 1000)),
            1: ((7950, 200), (20000, 400), (50000, 700)),
        }
    )
    director_short: int = 300
    director_over: int = 300
    probation_factor: Decimal = Decimal("0.5")
    min_days_on_staff: int = 21
    activity_window: int = 3
    activity_min_active: int = 2
    fraud_person: int = 3000
    fraud_director: int = 1000
    opening_fund: int = 0  # the accumulated penalty fund when the version starts
    # Product categories whose payments count (item 7: 煎烤旺 and low-temperature products in the
    # source). Empty: every payment counts — product default, the source's list is its own.
    counted_categories: tuple[str, ...] = ()

    @property
    def thresholds(self) -> tuple[int, ...]:
        return tuple(sorted(self.penalties))


SEED = Scheme()


class SchemeError(ValueError):
    """A scheme table that cannot be used (the message names the problem)."""


def check_scheme(scheme: Scheme) -> None:
    """Raise SchemeError unless the tables are usable: one penalty per count short, ascending steps."""
    if not scheme.penalties:
        raise SchemeError("at least one threshold is needed")
    for threshold, table in scheme.penalties.items():
        if threshold < 1:
            raise SchemeError(f"threshold {threshold} must be at least 1")
        if len(table) != threshold:
            raise SchemeError(f"threshold {threshold} needs {threshold} penalties (for 0 … {threshold - 1} reached)")
        if any(p < 0 for p in table):
            raise SchemeError("penalties are positive amounts")
        steps = scheme.reward_steps.get(threshold)
        if not steps:
            raise SchemeError(f"threshold {threshold} has no reward steps")
        floors = [f for f, _ in steps]
        if floors != sorted(set(floors)):
            raise SchemeError(f"reward steps of threshold {threshold} must have ascending floors")
        if any(r < 0 for _, r in steps):
            raise SchemeError("rewards are positive amounts")
    if set(scheme.reward_steps) - set(scheme.penalties):
        raise SchemeError("reward steps given for a threshold without penalties")
    if not 0 < scheme.valid_floor <= scheme.double_floor:
        raise SchemeError("the double-count floor must not be below the valid-customer floor")
    if not 0 <= scheme.probation_factor <= 1:
        raise SchemeError("the probation factor lies between 0 and 1")
    if not 1 <= scheme.activity_min_active <= scheme.activity_window:
        raise SchemeError("active months needed must lie between 1 and the window")
    if scheme.default_threshold not in scheme.penalties:
        raise SchemeError("the default threshold must be one of the thresholds")


# --- Text form of the tables (the admin form) -------------------------------------------------


def _table_rows(text: str, shape: str) -> Iterable[tuple[int, str, str]]:
    """Rows ``threshold: rest`` of a table typed in a form (Chinese punctuation accepted)."""
    for raw in text.replace("；", "\n").replace(";", "\n").splitlines():
        line = raw.strip().replace("：", ":").replace("，", ",")
        if not line:
            continue
        head, sep, rest = line.partition(":")
        if not sep:
            raise SchemeError(f"“{raw.strip()}”: write {shape}")
        try:
            yield int(head), rest, raw.strip()
        except ValueError:
            raise SchemeError(f"“{raw.strip()}”: the threshold is a whole number") from None


def parse_penalties(text: str) -> dict[int, tuple[int, ...]]:
    """``"2: 800, 300\\n1: 500"`` → {2: (800, 300), 1: (500,)}."""
    out: dict[int, tuple[int, ...]] = {}
    for threshold, rest, raw in _table_rows(text, "threshold: penalties"):
        try:
            out[threshold] = tuple(int(v) for v in rest.split(",") if v.strip())
        except ValueError:
            raise SchemeError(f"“{raw}”: whole yuan only") from None
    return out


def parse_reward_steps(text: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """``"2: 7950=300, 20000=500, 50000=1000"`` → {2: ((7950, 300), (20000, 500), (50000, 1000))}."""
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for threshold, rest, raw in _table_rows(text, "threshold: floor=reward, …"):
        steps = []
        for item in (i for i in rest.split(",") if i.strip()):
            floor, eq, reward = item.partition("=")
            try:
                if not eq:
                    raise ValueError(item)
                steps.append((int(floor), int(reward)))
            except ValueError:
                raise SchemeError(f"“{raw}”: write floor=reward in whole yuan") from None
        out[threshold] = tuple(steps)
    return out


def parse_categories(text: str) -> list[str]:
    """``"煎烤旺, 低温产品"`` → ["煎烤旺", "低温产品"] (Chinese commas accepted, blanks and repeats dropped)."""
    out: list[str] = []
    for raw in text.replace("，", ",").replace("、", ",").replace("\n", ",").split(","):
        name = raw.strip()
        if name and name not in out:
            out.append(name)
    return out


def format_penalties(table: Mapping[int, Sequence[int]]) -> str:
    return "\n".join(f"{t}: {', '.join(str(p) for p in table[t])}" for t in sorted(table, reverse=True))


def format_reward_steps(table: Mapping[int, Sequence[Sequence[int]]]) -> str:
    return "\n".join(f"{t}: {', '.join(f'{f}={r}' for f, r in table[t])}" for t in sorted(table, reverse=True))


# --- Months and dates ----------------------------------------------------------------------------


# month_start, month_end and add_months are yixiang.months' (imported above; callers use rules.*).


# Months the engine will compute. A month's state chains back month by month to its version's
# first data, so a far month would cost a computation per month in between (9999-12: minutes).
MONTHS_AHEAD = 12  # statements are planned at most a year ahead
EARLIEST_MONTH = dt.date(1900, 1, 1)  # and nothing before: add_months cannot go below year 1


def month_bounds(first_version: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last month that can hold incentive data: from the first scheme version's month
    (or EARLIEST_MONTH without one) to a year after today's month."""
    first = max(month_start(first_version), EARLIEST_MONTH) if first_version else EARLIEST_MONTH
    return first, add_months(month_start(today), MONTHS_AHEAD)


def month_in_bounds(month: dt.date, first_version: dt.date | None, today: dt.date) -> bool:
    first, last = month_bounds(first_version, today)
    return first <= month_start(month) <= last


def parse_month(text: str) -> dt.date:
    """``"2011-04"`` → 2011-04-01; ValueError otherwise."""
    year, sep, mon = text.strip().partition("-")
    if not sep or len(year) != 4 or not (1 <= len(mon) <= 2):
        raise ValueError(text)
    return dt.date(int(year), int(mon), 1)


def days_on_staff(month: dt.date, hire_date: dt.date | None) -> int:
    """Days of the month the person was on staff (all of them when the hire date is unknown)."""
    last = month_end(month)
    if hire_date is None or hire_date <= month:
        return last.day
    if hire_date > last:
        return 0
    return (last - hire_date).days + 1


def on_probation_in(month: dt.date, *, flag: bool, until: dt.date | None) -> bool:
    """Whether the staff record puts a person on probation for a month. An explicit last day of
    probation decides when set: the month counts as a probation month when probation still runs on
    its first day (confirmed on the 10th: that month is still scaled, the next is not). Without a
    date the record's on/off flag decides, as before."""
    if until is None:
        return flag
    return until >= month_start(month)


def target_due(month: dt.date, due_day: int, due_time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """When the month's target must be filed (the 6th at 08:00 in the source)."""
    day = min(due_day, month_end(month).day)
    return dt.datetime.combine(month.replace(day=day), due_time, tzinfo=tz)


def filed_late(filed_at: dt.datetime | None, due: dt.datetime) -> bool:
    """Not filed at all counts as late."""
    return filed_at is None or filed_at > due


# --- Inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCustomer:
    """A customer developed in the month, with its first-month payments."""

    customer_id: int
    name: str
    developer_id: int
    region_id: int | None
    paid: Decimal
    position: int  # the region's reported order (item 8)
    faked: bool = False


@dataclass(frozen=True)
class Person:
    """Someone who may get a statement this month.

    ``has_row``: an assignment row exists for the month (a manager unless the role is director).
    """

    user_id: int
    username: str
    role: str  # the staff role: rep / lead / director / admin
    region_id: int | None
    days_on_staff: int
    on_probation: bool = False
    has_row: bool = False
    threshold: int | None = None
    performance_pay: int | None = None
    target: int | None = None  # the filed monthly target (a director's: the approved region target)
    target_late: bool = True

    @property
    def scheme_role(self) -> str:
        return DIRECTOR if self.role == "director" else MANAGER


@dataclass(frozen=True)
class FakedFind:
    """A customer found faked in the month."""

    customer_id: int
    name: str
    developer_id: int
    region_id: int | None
    developed_month: dt.date


@dataclass(frozen=True)
class Line:
    kind: str
    amount: int
    reason: str  # a reason code; display.py puts it in words
    params: Mapping[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    customer_name: str = ""
    funding: str | None = None
    held_back: int = 0
    refers_to: dt.date | None = None


@dataclass
class Statement:
    user_id: int
    username: str
    role: str  # manager / director
    threshold: int | None
    valid_customers: int
    lines: list[Line]
    on_probation: bool = False
    performance_pay: int | None = None
    target: int | None = None
    target_late: bool = False
    approved_target: int | None = None
    backlog_in: int = 0
    backlog_out: int = 0
    # A snapshot of what the lines were computed from, so month M+3 can re-assess month M.
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class Funding:
    fund_before: int = 0
    penalties: int = 0
    from_penalties: int = 0
    from_fund: int = 0
    from_management: int = 0
    held_back: int = 0  # months closed before rewards were always paid
    fund_after: int = 0
    management_fund: int = 0  # entered for the month
    efficiency_wages: int = 0  # entered for the month
    from_wages: int = 0
    shortfall: int = 0  # rewards paid that the month's funds did not cover


# The scalar fields of a statement, a line and a funding summary (stored rows use the same names).
STATEMENT_FIELDS = (
    "user_id", "username", "role", "threshold", "valid_customers", "on_probation", "performance_pay", "target",
    "target_late", "approved_target", "backlog_in", "backlog_out", "detail",
)  # fmt: skip
LINE_FIELDS = (
    "kind", "amount", "reason", "params", "customer_id", "customer_name", "funding", "held_back", "refers_to",
)  # fmt: skip
FUNDING_FIELDS = (
    "fund_before", "penalties", "from_penalties", "from_fund", "from_management", "held_back", "fund_after",
    "management_fund", "efficiency_wages", "from_wages", "shortfall",
)  # fmt: skip


@dataclass(frozen=True)
class MonthInput:
    month: dt.date
    scheme: Scheme
    people: Mapping[int, Person]
    customers: Sequence[NewCustomer] = ()
    faked_found: Sequence[FakedFind] = ()
    fund_before: int = 0
    management_fund: int = 0  # the management-assessment fund available this month
    efficiency_wages: int = 0  # the team efficiency wages available this month
    backlog_in: Mapping[int, int] = field(default_factory=dict)
    # Adjustments and corrections settling earlier months, per user id.
    settlements: Mapping[int, Sequence[Line]] = field(default_factory=dict)


@dataclass
class MonthResult:
    month: dt.date
    statements: list[Statement]
    funding: Funding
    backlog_out: dict[int, int] = field(default_factory=dict)  # per director

    def by_user(self) -> dict[int, Statement]:
        return {s.user_id: s for s in self.statements}


# --- Single rules -------------------------------------------------------------------------------


def money_text(amount: Decimal) -> str:
    """A payment sum as text with two decimals, the same on every database backend."""
    return str(Decimal(amount).quantize(Decimal("0.01")))


def customer_units(paid: Decimal, scheme: Scheme) -> int:
    """How many valid customers a new customer counts as: 0, 1 or 2."""
    if paid >= scheme.double_floor:
        return 2
    if paid >= scheme.valid_floor:
        return 1
    return 0


def reward_step(paid: Decimal, threshold: int, scheme: Scheme) -> tuple[int, int] | None:
    """The highest (floor, reward) step the payment reaches, for a manager with this threshold."""
    best = None
    for floor, reward in scheme.reward_steps[threshold]:
        if paid >= floor:
            best = (floor, reward)
    return best


def apply_factor(amount: int, factor: Decimal) -> int:
    """amount × factor in whole yuan, rounded half up on the absolute value."""
    scaled = (Decimal(abs(amount)) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled) if amount >= 0 else -int(scaled)


def _probation(amount: int, on_probation: bool, scheme: Scheme) -> int:
    return apply_factor(amount, scheme.probation_factor) if on_probation else amount


def _probation_params(on_probation: bool, scheme: Scheme) -> dict[str, Any]:
    return {"probation": True, "factor": str(scheme.probation_factor)} if on_probation else {"probation": False}


def payment_counts(category: str, scheme: Scheme) -> bool:
    """Whether a payment of this product category counts toward a new customer (item 7)."""
    return not scheme.counted_categories or category in scheme.counted_categories


def in_reported_order(customers: Iterable[NewCustomer]) -> list[NewCustomer]:
    """The region's report decides the order; dates inside the month do not (item 8)."""
    return sorted(customers, key=lambda c: (c.position, c.customer_id))


def counts_toward_director(person: Person) -> bool:
    """A manager on duty whose threshold adds to the director's (item 5: 不含大区/省经理)."""
    return person.role not in ("director", "admin")
