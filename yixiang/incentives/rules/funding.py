"""Funding (item 11): every earned reward is paid, funded from the month's penalties, the penalty
fund, the management fund and the efficiency wages, in that order; the rest is the shortfall."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from yixiang.incentives.rules.base import (
    FROM_FUND,
    FROM_MANAGEMENT,
    FROM_PENALTIES,
    FROM_WAGES,
    NOT_COVERED,
    Funding,
    Line,
)

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
