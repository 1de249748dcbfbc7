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

# ruff: noqa: I001 - the names below stay wrapped, one import per section
# The package is the rules' one name (callers write rules.compute_month, rules.SEED…): each section's names.
from yixiang.incentives.rules.activity import (  # noqa: F401
    Inactive, active_months, paid_rewards, reassess_for_activity,
)  # fmt: skip
from yixiang.incentives.rules.base import (  # noqa: F401
    ACTIVITY, COLLECTED_KINDS, CORRECTION, COUNTED, DIRECTOR, DIRECTOR_MET, DIRECTOR_PENALTY, DIRECTOR_REWARD,
    EARLIEST_MONTH, FRAUD, FROM_FUND, FROM_MANAGEMENT, FROM_PENALTIES, FROM_WAGES, FUNDING_FIELDS, HELD_BACK,
    LINE_FIELDS, MANAGER, MONTHS_AHEAD, NOT_COVERED, NOT_VALID, PENALTY, REWARD, REWARD_KINDS, SEED,
    STATEMENT_FIELDS, FakedFind, Funding, Line, MonthInput, MonthResult, NewCustomer, Person, Scheme,
    SchemeError, Statement, add_months, apply_factor, check_scheme, counts_toward_director, customer_units,
    days_on_staff, filed_late, format_penalties, format_reward_steps, in_reported_order, money_text,
    month_bounds, month_end, month_in_bounds, month_start, on_probation_in, parse_categories, parse_month, parse_penalties,
    parse_reward_steps, payment_counts, reward_step, target_due,
)  # fmt: skip
from yixiang.incentives.rules.corrections import (  # noqa: F401
    correction_lines, settled_total,
)  # fmt: skip
from yixiang.incentives.rules.directors import (  # noqa: F401
    approved_target, assess_director, director_threshold, next_backlog,
)  # fmt: skip
from yixiang.incentives.rules.funding import (  # noqa: F401
    fund_rewards,
)  # fmt: skip
from yixiang.incentives.rules.month import (  # noqa: F401
    compute_month,
)  # fmt: skip
from yixiang.incentives.rules.thresholds import (  # noqa: F401
    assess_manager,
)  # fmt: skip
