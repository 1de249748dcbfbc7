"""Pure rules of the customer archive: phone keys, pinyin keys, archive numbers, qualification."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from pypinyin import Style, lazy_pinyin
from pypinyin.seg.simpleseg import seg as _pinyin_segments


class PhoneError(ValueError):
    pass


# A CN mobile written the usual ways. Bulk imports spend most of their time in phonenumbers' full
# parse; this common case takes a shortcut with the same result (tests compare both paths).
_CN_MOBILE = re.compile(r"(\+86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})")


def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a phone number, the dedupe key. Raises PhoneError when it is not a number.

    '138 0013 8000', '+86 138-0013-8000' and '008613800138000' all give '+8613800138000'."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    m = _CN_MOBILE.fullmatch(text)
    if m and (m[1] or region == "CN"):
        return f"+86{m[2]}{m[3]}{m[4]}"
    return _normalize_general(text, region)


def _normalize_general(text: str, region: str) -> str:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(str(exc)) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneError("not a possible number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """A readable national form for CN numbers (138 0013 8000), international otherwise."""
    # CN mobile, the common case: no full parse needed.
    if len(e164) == 14 and e164.startswith("+861") and e164.isascii() and e164[1:].isdigit():
        return f"{e164[3:6]} {e164[6:10]} {e164[10:]}"
    return _display_general(e164)


def _display_general(e164: str) -> str:
    parsed = phonenumbers.parse(e164, None)
    if parsed.country_code == 86:
        digits = phonenumbers.national_significant_number(parsed)
        if len(digits) == 11 and digits.startswith("1"):
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_NON_ALNUM = re.compile(r"[^0-9a-z]")


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) for search: 张三 -> ('zhangsan', 'zs'). Latin letters pass through."""
    return _pinyin_keys(name or "")


# Names repeat (a 1M-row list holds far fewer distinct names), and the words pypinyin cuts a name
# into (surnames, given-name characters, the odd phrase) repeat far more: both are cached. Measured
# (issue 13, 20k-row CSV import, load 11-14 on 2 cores): 750/592 rows/s cached vs 484/357 plain. The
# result is lazy_pinyin's own, since a word's reading does not depend on its neighbours once cut
# (tests compare with the uncached path).
@lru_cache(maxsize=20_000)
def _pinyin_keys(name: str) -> tuple[str, str]:
    syllables = [s for word in _pinyin_segments(name) for s in _word_syllables(word)]
    full = _NON_ALNUM.sub("", "".join(syllables))
    initials = "".join(s[0] for s in (_NON_ALNUM.sub("", s) for s in syllables) if s)
    return full, initials


@lru_cache(maxsize=50_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    # Cutting a word pypinyin cut out already gives the word itself, so this is its reading in the name.
    return tuple(s.lower() for s in lazy_pinyin(word, style=Style.NORMAL, errors="default"))


def format_archive_no(fmt: str, *, year: int, seq: int) -> str:
    return fmt.format(year=year, seq=seq)


# Qualification checklist (seed 002, sample 5): one point per ticked item, shown as a share.
QUALIFICATION_ITEMS: dict[str, list[tuple[str, str]]] = {
    "company": [
        ("cash_flow", "现金流良好"),
        ("industry_position", "行业地位"),
        ("credit_record", "信用记录良好"),
        ("debt_ratio", "负债率合理"),
        ("track_record", "多年业绩"),
        ("management", "管理规范"),
        ("demand", "有产品需求"),
    ],
    "individual": [
        ("income", "收入稳定"),
        ("position", "职位/社会地位"),
        ("credit", "信用良好"),
        ("no_bad_record", "无不良记录"),
        ("financial_awareness", "理财意识"),
        ("demand", "有需求"),
        ("ability_to_buy", "有购买能力"),
    ],
}


@dataclass(frozen=True)
class QualificationScore:
    ticked: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.ticked / self.total) if self.total else 0


def qualification_score(kind: str, ticked: list[str]) -> QualificationScore:
    items = QUALIFICATION_ITEMS.get(kind, QUALIFICATION_ITEMS["individual"])
    codes = {code for code, _ in items}
    return QualificationScore(ticked=len(codes.intersection(ticked or [])), total=len(codes))


def classify_query(q: str) -> str:
    """How to search for q: 'phone' (digits), 'pinyin' (latin letters) or 'text'."""
    stripped = re.sub(r"[\s\-+]", "", q)
    if stripped.isdigit():
        return "phone"
    if re.fullmatch(r"[A-Za-z]+", stripped):
        return "pinyin"
    return "text"


# --- Bounds a person would expect of one customer record (issue 12) ----------------------------
# A record with 10,000 tags made every list page of four people carry a 424 KB filter: no real
# customer has more than a few dozen tags, contacts or ticked qualification items.
MAX_TAGS = 50
MAX_CONTACTS = 50
MAX_QUALIFICATION_ITEMS = 20


def too_many(items: object, limit: int) -> bool:
    """True when a list given for a customer holds more than ``limit`` entries."""
    return isinstance(items, list | tuple | set | frozenset) and len(items) > limit
