"""Settings of the incentive engine (the scheme's own numbers are data: see SchemeVersion).

Override in ``settings.YIXIANG`` (e.g. ``YIXIANG["INCENTIVES_CORRECTION_MONTHS"] = 12``)."""

from __future__ import annotations

from typing import Any

from yixiang.conf import reader

DEFAULTS: dict[str, Any] = {
    # How many closed months back a month's data may still change and be corrected by
    # adjustment lines in the first open month.
    "INCENTIVES_CORRECTION_MONTHS": 6,
    # Largest size of an ``IN (…)`` list when loading by customer id.
    "INCENTIVES_ID_CHUNK": 2000,
}


conf = reader(DEFAULTS)  # settings.YIXIANG wins over the default
