"""Managers' thresholds (items 2, 3, 4, 7, 8, 9): valid customers fill the threshold in reported
order, later ones earn their payment step's reward; short of it, the capped penalty."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from yixiang.incentives.rules.base import (
    COUNTED,
    NOT_VALID,
    PENALTY,
    REWARD,
    Line,
    NewCustomer,
    Scheme,
    SchemeError,
    _probation,
    _probation_params,
    customer_units,
    in_reported_order,
    money_text,
    reward_step,
)


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
