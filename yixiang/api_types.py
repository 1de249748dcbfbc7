"""Shared API parameter types, so the OpenAPI schema says exactly what the handlers accept
(issue 12): a month is `YYYY-MM` (pattern), a date is an ISO `YYYY-MM-DD` string and never a
number read as a Unix timestamp (`?date=-2.2e-313` was 1970-01-01)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator, Field

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: object) -> object:
    # Pydantic's lax mode turns numbers (and numeric strings) into dates from the epoch.
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="A month, YYYY-MM.", examples=["2026-12"])]
