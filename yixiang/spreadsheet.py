"""Text for exported files: any stored text must reach the file, and no text may break it.

.xlsx is XML 1.0: control characters other than tab, line feed and carriage return, and U+FFFE/U+FFFF,
cannot be written at all (openpyxl raises IllegalCharacterError, which answered 500 for a whole
scope because of one customer's name). They become U+FFFD (�) in .xlsx, so the rest of the text
stays as stored and the spot is visible. CSV keeps the exact text; only a lone surrogate, which no
UTF-8 file can hold (and neither database can store), becomes U+FFFD there too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "\ufffd"
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def xlsx_value(value: Any) -> Any:
    """A cell value openpyxl can write: text cleaned, anything else unchanged."""
    if isinstance(value, str):
        return _XLSX_ILLEGAL.sub(REPLACEMENT, value)
    return value


def xlsx_row(values: Iterable[Any]) -> list[Any]:
    return [xlsx_value(v) for v in values]


def csv_text(text: str) -> str:
    return _SURROGATE.sub(REPLACEMENT, text)
