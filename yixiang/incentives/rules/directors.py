"""Directors (item 5) and the carry-over of unmet targets (item 6)."""

from __future__ import annotations

from typing import Any

from yixiang.incentives.rules.base import (
    DIRECTOR_MET,
    DIRECTOR_PENALTY,
    DIRECTOR_REWARD,
    Line,
    Scheme,
    _probation,
    _probation_params,
)


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
