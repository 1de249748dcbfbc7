"""Corrections of closed months: what was settled, and the lines that settle the difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from yixiang.incentives.rules.base import CORRECTION, Line, Statement

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
