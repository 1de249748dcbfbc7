"""Shared API parameter types, so the OpenAPI schema says exactly what the handlers accept
(issue 12): a month is `YYYY-MM` (pattern), a date is an ISO `YYYY-MM-DD` string and never a
number read as a Unix timestamp (`?date=-2.2e-313` was 1970-01-01)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

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


def _amount_schema(*, exclusive_zero: bool) -> dict:
    # Pydantic documents a bounded Decimal as "any number or any string"; say what is accepted:
    # yuan with at most 12 digits before the point and 2 after, as a string or a number.
    low = {"exclusiveMinimum": 0} if exclusive_zero else {"minimum": 0}
    return {
        "anyOf": [
            {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
            {"type": "number", **low, "maximum": 999999999999.99, "multipleOf": 0.01},
        ],
        "description": "Yuan, at most 2 decimal places.",
    }


# An amount of money in yuan: more than zero (Amount) or zero and more (AmountOrZero).
Amount = Annotated[
    Decimal, Field(gt=0, max_digits=14, decimal_places=2), WithJsonSchema(_amount_schema(exclusive_zero=True))
]
AmountOrZero = Annotated[
    Decimal, Field(ge=0, max_digits=14, decimal_places=2), WithJsonSchema(_amount_schema(exclusive_zero=False))
]
