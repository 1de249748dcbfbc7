"""The incentive scheme for developing new customers (DOMAIN.md §4; seed 002, sample 3) — the arithmetic.

Pure functions over plain dataclasses: no ORM, no HTTP, no translation. Money is whole yuan (int,
signed: a penalty is negative); payment sums are Decimal. Every number comes from a ``Scheme``
(one dated version of the scheme; ``SEED`` holds the source's numbers).

The rules, item by item of the source (关于2011年度客户开发的激励措施):

* Valid new customer (items 4, 7): first-month payments ≥ 7,950 → counts 1; ≥ 50,000 → counts 2.
* Manager (区域经理), threshold 2 or 1 (items 2, 3): valid customers fill the threshold in
  reported order (item 8: the region's report decides the order — an explicit position the region
  enters and can change; dates inside the month never rank customers). Once the threshold is reached,
  each later customer earns the reward of its payment step. A customer used to reach the threshold
  earns nothing more, even when its count of 2 overshoots — it is never split (item 4).
  Short of the threshold: the penalty for the count reached, never more than the performance pay.
* Probation (item 9): rewards and penalties × 0.5, rounded half up to whole yuan, applied before
  the performance-pay cap (the cap is what can physically be deducted). Fewer than 21 days on
  staff in the month: not assessed.
* Director (大区经理, item 5): threshold = the sum of the thresholds of the managers on duty in the
  region (assessed managers; a director's or an administrator's own row — 大区/省经理 — never adds to
  it), or the approved monthly target when that is lower; count = the
  region's valid customers (in counts, so a 50,000 customer counts 2); −300 per customer short,
  +300 per customer over. The director's penalty is a 负激励, not a deduction from performance
  pay, so it is not capped by it.
* Carry-over (item 6), per director: a month's approved target is the filed target; when the
  filed target is 0, the backlog of earlier unmet targets becomes the month's target. The backlog
  grows by max(0, threshold − count) in every assessed month whose own target was not 0 (or was
  not filed); in a zero-target month the backlog shrinks by the month's count. It starts at 0 with
  each scheme version (the source's yearly target book). A threshold of 0 means "not incentivised"
  (no ±300 lines). Managers' thresholds are set per month on their assignment rows (that is how
  the region distributes carried targets), so nothing carries over for a manager.
* Activity (item 10): a customer developed in month M must be active (an order shipped) in at
  least 2 of the months M, M+1, M+2; otherwise month M+3 carries, per customer, an adjustment
  that re-assesses month M without it: what it earned is undone, the penalty is recomputed.
* Faked (item 8): −3,000 to the developer and −1,000 to each director of the developer's region,
  per faked customer, in the month it is found. A faked customer never counts as valid. On
  probation these fines are halved too (item 9: "奖励与处罚,均按照50%"); they are not capped by pay.
* Funding (item 11): an earned reward is always paid in full. It is funded from the month's
  penalties (threshold penalties, director penalties, fraud fines), then from the accumulated
  penalty fund, then from the management-assessment fund and then the team efficiency wages (both
  amounts entered for the month). What these do not cover is still paid and reported to the
  director as the month's shortfall; nothing is held back.
  Rewards are funded in reported order of their customers, directors' rewards last.
  Adjustment and correction lines settle earlier months and are outside the month's funding.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + (month.month - 1) + n
    return dt.date(index // 12, index % 12 + 1, 1)


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


def assess_manager(
    *,
    threshold: int,
    performance_pay: int,
    on_probation: bool,
    customers: Iterable[NewCustomer],
    scheme: Scheme,
    reward_caps: Mapping[int, int] | None = None,
) -> tuple[list[Line], int]:
    """A manager's lines for the month and the valid count reached.

    ``customers`` are all the manager's new customers of the month (faked ones are listed, not
    counted). ``reward_caps`` limits each reward to what was paid before (re-assessments).
    """
    if threshold not in scheme.penalties:
        raise SchemeError(f"threshold {threshold} is not in the scheme")
    lines: list[Line] = []
    reached = 0
    for c in in_reported_order(customers):
        paid = money_text(c.paid)
        units = 0 if c.faked else customer_units(c.paid, scheme)
        if units == 0:
            reason = "faked" if c.faked else "below_floor"
            lines.append(Line(NOT_VALID, 0, reason, {"paid": paid, "floor": scheme.valid_floor}, c.customer_id, c.name))
            continue
        if reached < threshold:
            reached += units
            params = {"paid": paid, "units": units, "threshold": threshold, "reached": min(reached, threshold)}
            if reached > threshold:
                params["overshoot"] = reached - threshold  # not split: the overshoot earns nothing
            lines.append(Line(COUNTED, 0, "counted", params, c.customer_id, c.name))
            continue
        reached += units
        step = reward_step(c.paid, threshold, scheme)
        assert step is not None  # a valid customer always reaches the lowest step
        amount = _probation(step[1], on_probation, scheme)
        params = {
            "paid": paid,
            "units": units,
            "step": step[0],
            "base": step[1],
            **_probation_params(on_probation, scheme),
        }
        if reward_caps is not None:
            amount = min(amount, reward_caps.get(c.customer_id, 0))
        lines.append(Line(REWARD, amount, "reward", params, c.customer_id, c.name))
    if reached < threshold:
        base = scheme.penalties[threshold][reached]
        amount = _probation(base, on_probation, scheme)
        capped = min(amount, max(performance_pay, 0))
        params = {
            "reached": reached,
            "threshold": threshold,
            "base": base,
            **_probation_params(on_probation, scheme),
            "performance_pay": performance_pay,
            "capped": capped < amount,
        }
        lines.append(Line(PENALTY, -capped, "penalty", params))
    return lines, reached


def director_threshold(*, managers_sum: int, approved_target: int | None) -> int:
    """The sum of the managers' thresholds, or the approved target when that is lower."""
    if approved_target is None:
        return managers_sum
    return min(managers_sum, approved_target)


def approved_target(*, filed: int | None, backlog_in: int) -> int | None:
    """A zero target picks up the backlog of earlier unmet targets (item 6)."""
    if filed is None:
        return None
    return filed if filed > 0 else backlog_in


def next_backlog(*, filed: int | None, backlog_in: int, threshold: int, count: int) -> int:
    if filed == 0:
        return max(0, backlog_in - count)
    return backlog_in + max(0, threshold - count)


def assess_director(
    *, threshold: int, count: int, on_probation: bool, scheme: Scheme, reward_cap: int | None = None
) -> list[Line]:
    """±300 per customer over or short of the region's threshold; nothing at threshold 0."""
    if threshold <= 0:
        return []
    params: dict[str, Any] = {"threshold": threshold, "count": count, **_probation_params(on_probation, scheme)}
    if count < threshold:
        short = threshold - count
        amount = _probation(short * scheme.director_short, on_probation, scheme)
        return [Line(DIRECTOR_PENALTY, -amount, "director_penalty", {**params, "short": short})]
    if count > threshold:
        over = count - threshold
        amount = _probation(over * scheme.director_over, on_probation, scheme)
        if reward_cap is not None:
            amount = min(amount, reward_cap)
        return [Line(DIRECTOR_REWARD, amount, "director_reward", {**params, "over": over})]
    return [Line(DIRECTOR_MET, 0, "director_met", params)]


def active_months(developed: dt.date, shipped_months: Iterable[dt.date], window: int) -> int:
    """How many of the first ``window`` months (the month developed included) had a shipment."""
    last = add_months(developed, window - 1)
    return len({m for m in shipped_months if developed <= m <= last})


# --- Funding --------------------------------------------------------------------------------------


def fund_rewards(
    claims: Sequence[Line], *, penalties: int, fund_before: int, management: int = 0, wages: int = 0
) -> tuple[list[list[Line]], Funding]:
    """Pay every reward line in full, funded in order from the month's penalties, the penalty fund,
    the management-assessment fund and the team efficiency wages (item 11).

    Returns the funded pieces of each claim: a line funded from two sources becomes two lines
    (each names its source). What no source covers is a piece funded ``NOT_COVERED``: still paid,
    and counted in the month's shortfall so the director sees it.
    """
    pools: list[list[Any]] = [
        [FROM_PENALTIES, max(penalties, 0)],
        [FROM_FUND, max(fund_before, 0)],
        [FROM_MANAGEMENT, max(management, 0)],
        [FROM_WAGES, max(wages, 0)],
    ]
    used = dict.fromkeys((FROM_PENALTIES, FROM_FUND, FROM_MANAGEMENT, FROM_WAGES, NOT_COVERED), 0)
    out: list[list[Line]] = []
    for line in claims:
        pieces: list[Line] = []
        left = line.amount
        for pool in pools:
            take = min(left, pool[1])
            if take <= 0:
                continue
            pool[1] -= take
            used[pool[0]] += take
            pieces.append(replace(line, amount=take, funding=pool[0]))
            left -= take
        if left > 0:
            used[NOT_COVERED] += left
            pieces.append(replace(line, amount=left, funding=NOT_COVERED))
        out.append(pieces or [line])  # a 0-yuan reward still shows
    funding = Funding(
        fund_before=fund_before,
        penalties=penalties,
        from_penalties=used[FROM_PENALTIES],
        from_fund=used[FROM_FUND],
        from_management=used[FROM_MANAGEMENT],
        fund_after=fund_before - used[FROM_FUND] + (penalties - used[FROM_PENALTIES]),
        management_fund=management,
        efficiency_wages=wages,
        from_wages=used[FROM_WAGES],
        shortfall=used[NOT_COVERED],
    )
    return out, funding


# --- The month --------------------------------------------------------------------------------------


def _customer_snapshot(c: NewCustomer) -> dict[str, Any]:
    return {"id": c.customer_id, "name": c.name, "paid": money_text(c.paid), "position": c.position}


def compute_month(inp: MonthInput) -> MonthResult:
    """Every statement of the month, funded."""
    scheme = inp.scheme
    check_scheme(scheme)
    people = inp.people
    by_developer: dict[int, list[NewCustomer]] = defaultdict(list)
    region_units: dict[int | None, int] = defaultdict(int)
    region_customers: dict[int | None, list[list[int]]] = defaultdict(list)
    for c in in_reported_order(inp.customers):
        by_developer[c.developer_id].append(c)
        units = 0 if c.faked else customer_units(c.paid, scheme)
        if units:
            region_units[c.region_id] += units
            region_customers[c.region_id].append([c.customer_id, units])

    statements: dict[int, Statement] = {}

    def statement_for(person: Person) -> Statement:
        st = statements.get(person.user_id)
        if st is None:
            st = Statement(
                user_id=person.user_id,
                username=person.username,
                role=person.scheme_role,
                threshold=None,
                valid_customers=0,
                lines=[],
                on_probation=person.on_probation,
                performance_pay=person.performance_pay,
                target=person.target if person.has_row else None,
                target_late=person.target_late,
            )
            statements[person.user_id] = st
        return st

    # Managers: an assignment row, not a director, on staff long enough.
    managers_sum: dict[int | None, int] = defaultdict(int)
    for person in sorted(people.values(), key=lambda p: p.username):
        if not person.has_row or person.scheme_role != MANAGER or person.threshold is None:
            continue
        if person.days_on_staff < scheme.min_days_on_staff:
            continue
        own = by_developer.get(person.user_id, [])
        lines, reached = assess_manager(
            threshold=person.threshold,
            performance_pay=person.performance_pay or 0,
            on_probation=person.on_probation,
            customers=own,
            scheme=scheme,
        )
        st = statement_for(person)
        st.threshold = person.threshold
        st.valid_customers = reached
        st.lines.extend(lines)
        st.detail = {
            "customers": [
                {**_customer_snapshot(c), "units": customer_units(c.paid, scheme)}
                for c in own
                if not c.faked and customer_units(c.paid, scheme)
            ]
        }
        if counts_toward_director(person):
            managers_sum[person.region_id] += person.threshold

    # Directors: over the region.
    backlog_out: dict[int, int] = {}
    for person in sorted(people.values(), key=lambda p: p.username):
        if person.scheme_role != DIRECTOR or person.region_id is None:
            continue
        backlog = inp.backlog_in.get(person.user_id, 0)
        if person.days_on_staff < scheme.min_days_on_staff:
            backlog_out[person.user_id] = backlog
            continue
        filed = person.target if person.has_row else None
        approved = approved_target(filed=filed, backlog_in=backlog)
        threshold = director_threshold(managers_sum=managers_sum[person.region_id], approved_target=approved)
        count = region_units[person.region_id]
        backlog_out[person.user_id] = next_backlog(filed=filed, backlog_in=backlog, threshold=threshold, count=count)
        if threshold <= 0:
            continue  # not incentivised this month (item 6)
        st = statement_for(person)
        st.threshold = threshold
        st.valid_customers = count
        st.approved_target = approved
        st.backlog_in = backlog
        st.backlog_out = backlog_out[person.user_id]
        st.lines.extend(
            assess_director(threshold=threshold, count=count, on_probation=person.on_probation, scheme=scheme)
        )
        st.detail = {
            "managers_sum": managers_sum[person.region_id],
            "region_customers": region_customers[person.region_id],
        }

    # Faked customers found this month.
    for find in sorted(inp.faked_found, key=lambda f: f.customer_id):
        developer = people.get(find.developer_id)
        params = {"developed_month": find.developed_month.isoformat()}
        if developer is not None:
            fine = _probation(scheme.fraud_person, developer.on_probation, scheme)
            statement_for(developer).lines.append(
                Line(
                    FRAUD,
                    -fine,
                    "fraud_person",
                    {**params, **_probation_params(developer.on_probation, scheme)},
                    find.customer_id,
                    find.name,
                )
            )
        for person in sorted(people.values(), key=lambda p: p.username):
            if (
                person.scheme_role == DIRECTOR
                and person.region_id is not None
                and person.region_id == find.region_id
                and person.user_id != find.developer_id
                and person.days_on_staff >= scheme.min_days_on_staff
            ):
                fine = _probation(scheme.fraud_director, person.on_probation, scheme)
                statement_for(person).lines.append(
                    Line(
                        FRAUD,
                        -fine,
                        "fraud_director",
                        {**params, **_probation_params(person.on_probation, scheme)},
                        find.customer_id,
                        find.name,
                    )
                )

    # Settlements of earlier months (activity re-assessments, corrections).
    for user_id in sorted(inp.settlements):
        person = people.get(user_id)
        if person is None or not inp.settlements[user_id]:
            continue
        statement_for(person).lines.extend(inp.settlements[user_id])

    # Funding: customers' rewards in reported order, then the directors'.
    customer_order = {c.customer_id: (c.position, c.customer_id) for c in inp.customers}
    claims: list[tuple[tuple, Statement, int]] = []
    penalties = 0
    for st in statements.values():
        for i, line in enumerate(st.lines):
            if line.kind in COLLECTED_KINDS:
                penalties -= line.amount
            elif line.kind == REWARD:
                when = customer_order.get(line.customer_id or 0, (0, 0))
                claims.append(((0, *when, st.username, i), st, i))
            elif line.kind == DIRECTOR_REWARD:
                claims.append(((1, 0, 0, st.username, i), st, i))
    claims.sort(key=lambda claim: claim[0])
    pieces, funding = fund_rewards(
        [st.lines[i] for _, st, i in claims],
        penalties=penalties,
        fund_before=inp.fund_before,
        management=inp.management_fund,
        wages=inp.efficiency_wages,
    )
    replaced: dict[int, dict[int, list[Line]]] = defaultdict(dict)
    for (_, st, i), paid in zip(claims, pieces, strict=True):
        replaced[st.user_id][i] = paid
    for st in statements.values():
        if st.user_id in replaced:
            swap = replaced[st.user_id]
            st.lines = [piece for i, line in enumerate(st.lines) for piece in swap.get(i, [line])]

    return MonthResult(
        month=inp.month,
        statements=sorted(statements.values(), key=lambda s: (s.role != DIRECTOR, s.username)),
        funding=funding,
        backlog_out=backlog_out,
    )


# --- Activity re-assessment ------------------------------------------------------------------------


def paid_rewards(st: Statement) -> dict[int | None, int]:
    """What each customer's reward actually paid in a statement (held-back parts of months closed
    before rewards were always paid count as not paid)."""
    paid: dict[int | None, int] = defaultdict(int)
    for line in st.lines:
        if line.kind in REWARD_KINDS:
            paid[line.customer_id] += line.amount
    return paid


def _manager_part(lines: Iterable[Line]) -> int:
    return sum(line.amount for line in lines if line.kind in (PENALTY, REWARD))


def _director_part(lines: Iterable[Line]) -> int:
    return sum(line.amount for line in lines if line.kind in (DIRECTOR_PENALTY, DIRECTOR_REWARD))


@dataclass(frozen=True)
class Inactive:
    """A customer of month M re-assessed as not developed."""

    customer_id: int
    name: str
    active: int  # active months found


def reassess_for_activity(
    stated: Statement, inactive: Mapping[int, Inactive], *, month: dt.date, scheme: Scheme
) -> list[Line]:
    """Adjustment lines (one per inactive customer) re-assessing month ``month`` without them.

    ``stated`` is the statement of month M as issued; each step removes one more customer (in
    reported order) and the line carries the change it makes, so the lines add up to the whole
    re-assessment. Rewards are never restored above what was paid.
    """
    out: list[Line] = []
    base_params = {"window": scheme.activity_window, "min_active": scheme.activity_min_active}
    if stated.role == MANAGER and stated.threshold is not None and "customers" in stated.detail:
        customers = [
            NewCustomer(
                customer_id=c["id"],
                name=c["name"],
                developer_id=stated.user_id,
                region_id=None,
                paid=Decimal(c["paid"]),
                # Snapshots from before explicit positions are already in reported order.
                position=c.get("position", index),
            )
            for index, c in enumerate(stated.detail["customers"])
        ]
        targets = [c for c in customers if c.customer_id in inactive]
        if not targets:
            return []
        caps = {k: v for k, v in paid_rewards(stated).items() if k is not None}
        before = _manager_part(stated.lines)
        removed: set[int] = set()
        for c in targets:
            removed.add(c.customer_id)
            lines, _ = assess_manager(
                threshold=stated.threshold,
                performance_pay=stated.performance_pay or 0,
                on_probation=stated.on_probation,
                customers=[x for x in customers if x.customer_id not in removed],
                scheme=scheme,
                reward_caps=caps,
            )
            after = _manager_part(lines)
            info = inactive[c.customer_id]
            params = {**base_params, "active": info.active}
            out.append(Line(ACTIVITY, after - before, "activity", params, c.customer_id, c.name, refers_to=month))
            before = after
        return out
    if stated.role == DIRECTOR and stated.threshold is not None and "region_customers" in stated.detail:
        units = {cid: u for cid, u in stated.detail["region_customers"]}
        targets = [cid for cid, _ in stated.detail["region_customers"] if cid in inactive]
        if not targets:
            return []
        cap = sum(paid_rewards(stated).values())
        before = _director_part(stated.lines)
        count = stated.valid_customers
        for cid in targets:
            count -= units[cid]
            lines = assess_director(
                threshold=stated.threshold,
                count=count,
                on_probation=stated.on_probation,
                scheme=scheme,
                reward_cap=cap,
            )
            after = _director_part(lines)
            info = inactive[cid]
            params = {**base_params, "active": info.active}
            out.append(Line(ACTIVITY, after - before, "activity", params, cid, info.name, refers_to=month))
            before = after
    return out


# --- Corrections of closed months ---------------------------------------------------------------------


def settled_total(st: Statement) -> int:
    """What a statement settles for its own month (corrections of earlier months left out)."""
    return sum(line.amount for line in st.lines if line.kind != CORRECTION)


def correction_lines(
    *,
    month: dt.date,
    recomputed: Mapping[int, Statement],
    frozen: Mapping[int, Statement],
    already: Mapping[int, int],
) -> dict[int, Line]:
    """Per user: what a closed month owes now, beyond what it paid and what was corrected since."""
    out: dict[int, Line] = {}
    for user_id in sorted(set(recomputed) | set(frozen) | set(already)):
        now = settled_total(recomputed[user_id]) if user_id in recomputed else 0
        then = settled_total(frozen[user_id]) if user_id in frozen else 0
        diff = now - then - already.get(user_id, 0)
        if diff:
            out[user_id] = Line(
                CORRECTION, diff, "correction", {"was": then + already.get(user_id, 0), "now": now}, refers_to=month
            )
    return out
