"""Which legacy encoding a CSV that is not UTF-8 is in: charset-normalizer's guess first, GBK on a tie.

Why: GB18030 decodes most Shift-JIS bytes without an error, so "not UTF-8, decodes as GBK" read
Japanese files as mojibake (the 2026-12 probe). charset-normalizer weighs how plausible the decoded
text is; on a short Chinese sample it often cannot tell GBK from Korean or Big5, and GBK is what
Excel in China writes, so GBK wins every tie. Only multi-byte East Asian encodings are accepted:
a single-byte code page decodes any bytes, so "it decoded" would prove nothing.
"""

from __future__ import annotations

from charset_normalizer import from_bytes

GB = "gb18030"  # a superset of GBK and GB2312
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "hz"})
# charset-normalizer's names of the encodings an import accepts, with the name a user knows.
ACCEPTED: dict[str, str] = {
    "big5": "Big5",
    "big5hkscs": "Big5",
    "cp950": "Big5",
    "cp932": "Shift-JIS",
    "shift_jis": "Shift-JIS",
    "shift_jis_2004": "Shift-JIS",
    "shift_jisx0213": "Shift-JIS",
    "euc_jp": "EUC-JP",
    "euc_jis_2004": "EUC-JP",
    "euc_jisx0213": "EUC-JP",
    "cp949": "EUC-KR",
    "euc_kr": "EUC-KR",
}
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", GB: "GBK", **ACCEPTED}


def guess(sample: bytes) -> str | None:
    """The Python codec to read a non-UTF-8 sample with, or None when no accepted encoding fits."""
    matches = list(from_bytes(sample))
    if not matches:
        return None
    best = matches[0]
    gb = next((m for m in matches if m.encoding in _GB_FAMILY), None)
    if gb is not None and gb.chaos <= best.chaos:
        return GB
    if best.encoding in ACCEPTED:
        return best.encoding
    return None


def label(encoding: str) -> str:
    return LABELS.get(encoding, encoding)
