"""Checking and normalising import rows: a raw row in, a ``Prepared`` row (customer values, tags,
dedupe key) or a ``RowError`` naming the column out. No database writes; reads only the regions."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import Region, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers import encoding as encoding_guess
from yixiang.customers import rules, services
from yixiang.customers.columns import (
    CHOICE_ENUMS,
    CHOICE_MAPS,
    EXPORT_ONLY_COLUMNS,
    HEADER_ALIASES,
    STAGE_MAP,
    choice_label,
    header_key,
    stage_key,
    stage_label,
)
from yixiang.customers.import_files import RawRow, file_error, is_blank
from yixiang.customers.models import Customer

YES_WORDS = ("是", "有", "支持", "yes", "y", "true", "1", "√")
NO_WORDS = ("否", "无", "不支持", "no", "n", "false", "0", "×")


class RowError(Exception):
    """One row is refused; ``message`` is translated and names the column."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Prepared:
    """A row that passed every check: Customer attribute values, tags and the dedupe key."""

    line: int
    data: dict[str, Any]  # services.customer_prepare's values
    tags: list[str]
    key: str
    has_phone: bool
    history: dict[str, list[Any]]  # and its history of them
    # An owner the importer may not name: reported as the row's error only if the row is no
    # duplicate, so an exported file (its pool rows say 公海) still imports back as duplicates.
    refused: str = ""


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        s = value.strip()
        # Our export (and careful users) put ' before = + - @ so spreadsheets do not run it.
        if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":
            s = s[1:]
        return s
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_TAG_SPLIT = re.compile(r"[,，、;；|\n]+")
_MONEY_JUNK = re.compile(r"[\s,，¥￥元]")
_EXCEL_EPOCH_MAX = 2958465  # 9999-12-31
_EXCEL_NUMBER = re.compile(r"\d(\.\d+)?[eE]\+?\d+")
# Fields _convert has a rule for; the other text fields only have a length limit.
_SPECIAL_FIELDS = frozenset(
    {"phone", "birth_date", "expected_sign_month", "family_supports", "funds_available", "email", "region"}
    | {"stage", "owner", "next_due_on"}
)
# Not the archive's editable fields (customer_prepare drops them): set after it, recorded in the history.
_PIPELINE_FIELDS = ("stage", "owner", "next_due_on")
_POOL_WORDS = frozenset({"公海", "公海客户", "public pool", "pool"})
_TEXT_LIMITS: dict[str, int | None] = {
    f.name: getattr(f, "max_length", None) for f in Customer._meta.concrete_fields if not f.primary_key
}


def excel_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= _EXCEL_EPOCH_MAX:
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    return None


class RowParser:
    """Maps a file's header to customer fields and turns each raw row into a ``Prepared`` row."""

    def __init__(self, header: list[str], *, kind: str = "csv", encoding: str = "", actor: User | None = None):
        self.kind = kind
        self.encoding_label = encoding_guess.label(encoding or "utf-8")
        self.header = header
        self.width = len(header)
        targets: dict[str, list[int]] = {}
        self.unknown: list[str] = []
        self.ignored: list[str] = []
        for i, text in enumerate(header):
            label = str(text or "").strip()
            if not label:
                continue
            fname = HEADER_ALIASES.get(header_key(label))
            if fname is None:
                self.unknown.append(label)
            elif fname in {c.field for c in EXPORT_ONLY_COLUMNS}:
                self.ignored.append(label)
            else:
                targets.setdefault(fname, []).append(i)
        if "name" not in targets:
            raise file_error(_("The file has no name column (姓名 / name), which is required."))
        self.targets = targets
        self.shared = {f: [header[i] for i in idx] for f, idx in targets.items() if len(idx) > 1}
        # Per column, worked out once: (field, its columns, the converter). Plain text fields go
        # through _plain_text (no dispatch); the file's column order is kept for the messages.
        self._plan: list[tuple[str, list[int], Callable[[str, Any, str, dict[str, Any]], None] | None]] = []
        for fname, cols in targets.items():
            if fname == "tags":
                convert = None
            elif fname in _SPECIAL_FIELDS or fname in CHOICE_MAPS or fname in services.SENSITIVE_FIELDS:
                convert = self._convert
            else:
                convert = self._plain_text
            self._plan.append((fname, cols, convert))
        self.today = timezone.localdate()  # refreshed per batch by the importer
        self.regions = {r.name.casefold(): r for r in Region.objects.all()}
        self.region_names = {r.pk: r.name for r in self.regions.values()}
        self._region_phone = settings.YIXIANG["DEFAULT_PHONE_REGION"]
        self.chinese = (translation.get_language() or "").startswith("zh")
        self._pipeline_fields = [f for f in _PIPELINE_FIELDS if f in targets]
        self.owners = _owners_by_name(actor) if "owner" in targets else {}
        self.may_pool = bool(actor and actor.is_admin_role)

    def warnings(self) -> list[str]:
        out = []
        if self.unknown:
            out.append(_("Columns not recognised, ignored: %(columns)s.") % {"columns": "、".join(self.unknown)})
        if self.ignored:
            out.append(
                _("Columns that an import does not set, ignored: %(columns)s.") % {"columns": "、".join(self.ignored)}
            )
        for labels in self.shared.values():
            out.append(
                _("Columns %(columns)s all fill the same field; the first non-empty value of a row is used.")
                % {"columns": "、".join(labels)}
            )
        return out

    def mapped_columns(self) -> list[tuple[str, str]]:
        """(field, header as in the file) of the columns that are read, in file order."""
        return [(f, self.header[idx[0]]) for f, idx in sorted(self.targets.items(), key=lambda t: t[1][0])]

    # -- one row

    def parse(self, raw: RawRow) -> Prepared:
        if raw.broken:
            if "end of data" in raw.broken:
                raise RowError(_("The file ends inside a quoted value: it looks cut off."))
            raise RowError(_("This line is not valid CSV (%(error)s).") % {"error": raw.broken})
        if raw.undecodable:
            raise RowError(
                _("This line is not valid %(encoding)s text; were parts of the file saved with another encoding?")
                % {"encoding": self.encoding_label}
            )
        cells = raw.cells
        ncells = len(cells)
        if self.kind == "csv" and ncells != self.width:
            self._check_width(cells)
        for idx, ref in raw.formulas:
            if any(idx in cols for cols in self.targets.values()):
                raise RowError(
                    _(
                        "Cell %(cell)s holds a formula; formulas are not imported. Copy the column and paste it as values."
                    )
                    % {"cell": ref}
                )
        data: dict[str, Any] = {}
        tags: list[str] = []
        problems: list[str] = []
        header = self.header
        for fname, cols, convert in self._plan:
            if len(cols) == 1:  # the usual case: one column per field
                col = cols[0]
                value = cells[col] if col < ncells else None
                if value is None or (type(value) is str and not value.strip()):
                    continue
            else:
                value, col = self._first_value(cells, cols)
                if value is None:
                    continue
            try:
                if convert is None:
                    tags = self._tags(value)
                else:
                    convert(fname, value, header[col], data)
            except RowError as exc:
                problems.append(exc.message)
                if fname == "name":
                    data["name"] = "-"  # reported already; not "missing" as well
        name = data.get("name", "")
        if not name:
            problems.insert(0, _("The name is missing."))
        if problems:
            raise RowError(" ".join(problems))
        extra = {f: data.pop(f) for f in self._pipeline_fields if f in data} if self._pipeline_fields else None
        refused = ""
        if extra and isinstance(extra.get("owner"), RowError):
            refused = extra.pop("owner").message
        # The same rule as a customer created by hand: phone key and display, pinyin keys, history.
        draft = services.customer_prepare(
            data, phone_region=self._region_phone, phone_key=data.pop("\x00phone_key", None)
        )
        values = draft.values
        if extra:
            _apply_pipeline_values(extra, values, draft.history)
        phone_key = values.get("phone_normalized")
        if phone_key:
            key = phone_key
        else:
            key = "\x1f".join(("n", values["name"], values.get("company_name", ""), values.get("city", "")))
        return Prepared(
            line=raw.line,
            data=values,
            tags=tags,
            key=key,
            has_phone=bool(phone_key),
            history=draft.history,
            refused=refused,
        )

    def _owner(self, text: str, params: dict[str, str]) -> tuple[int | None, str | None]:
        """(user id, label) of the owner a row names, by username or display name; the pool is (None,
        None). Unknown and out-of-scope names get the same message: the import is no user directory."""
        folded = text.casefold()
        if folded in _POOL_WORDS:
            if not self.may_pool:
                raise RowError(_("Only an administrator can import customers into the public pool."))
            return None, None
        found = self.owners.get(folded)
        if found is None:
            raise RowError(_("“%(value)s” in column %(column)s is not someone you may import customers for.") % params)
        if found == _AMBIGUOUS:
            raise RowError(
                _("“%(value)s” in column %(column)s names more than one person: write the username.") % params
            )
        return found

    def _check_width(self, cells: list[Any]) -> None:
        if len(cells) < self.width:
            raise RowError(
                _(
                    "The line has %(found)s of %(expected)s columns; the file may be cut off, "
                    "or a value holds an unquoted line break."
                )
                % {"found": len(cells), "expected": self.width}
            )
        if len(cells) > self.width and not is_blank(cells[self.width :]):
            raise RowError(
                _("The line has %(found)s values but the header has %(expected)s columns; is a comma unquoted?")
                % {"found": len(cells), "expected": self.width}
            )

    @staticmethod
    def _first_value(cells: list[Any], cols: list[int]) -> tuple[Any, int]:
        for col in cols:
            if col < len(cells):
                v = cells[col]
                if v is not None and (not isinstance(v, str) or v.strip()):
                    return v, col
        return None, cols[0]

    def _tags(self, value: Any) -> list[str]:
        names = {t.strip() for t in _TAG_SPLIT.split(cell_text(value)) if t.strip()}
        for t in names:
            if len(t) > 50:
                raise RowError(_("The tag “%(value)s” is longer than 50 characters.") % {"value": t[:60]})
        return sorted(names)

    def _convert(self, fname: str, value: Any, label: str, data: dict[str, Any]) -> None:
        text = cell_text(value)
        params = {"value": text[:80], "column": label}
        if fname == "phone":
            if "e" in text.lower() and _EXCEL_NUMBER.fullmatch(text):
                raise RowError(
                    _(
                        "“%(value)s” in column %(column)s is not a phone number: Excel turned it into a number. "
                        "Format the column as text."
                    )
                    % params
                )
            try:
                data["\x00phone_key"] = rules.normalize_phone(text, self._region_phone)  # for customer_prepare
            except rules.PhoneError:
                raise RowError(_("“%(value)s” in column %(column)s is not a valid phone number.") % params) from None
            data["phone"] = text
        elif fname in CHOICE_MAPS:
            choice = CHOICE_MAPS[fname].get(text.casefold())
            if choice is None:
                labels = [choice_label(fname, v, chinese=self.chinese) for v, _l in CHOICE_ENUMS[fname].choices if v]
                raise RowError(
                    _("“%(value)s” in column %(column)s is not one of: %(choices)s.")
                    % {**params, "choices": "、".join(labels)}
                )
            data[fname] = choice
        elif fname == "stage":
            stage = STAGE_MAP.get(stage_key(text))
            if stage is None:
                labels = [stage_label(v, chinese=self.chinese) for v in STAGE_VALUES]
                raise RowError(
                    _("“%(value)s” in column %(column)s is not one of: %(choices)s.")
                    % {**params, "choices": "、".join(labels)}
                )
            data["stage"] = stage
        elif fname == "owner":
            try:
                data["owner"] = self._owner(text, params)
            except RowError as exc:
                data["owner"] = exc  # see Prepared.refused
        elif fname == "next_due_on":
            day = self._date(value, text, params)
            if abs((day - self.today).days) > 3 * 366:
                raise RowError(_("“%(value)s” in column %(column)s is not a possible next contact date.") % params)
            data["next_due_on"] = day
        elif fname == "birth_date":
            day = self._date(value, text, params)
            if day > self.today or day.year < 1900:
                raise RowError(_("“%(value)s” in column %(column)s is not a possible date of birth.") % params)
            data[fname] = day
        elif fname == "expected_sign_month":
            data[fname] = self._month(value, text, params)
        elif fname == "family_supports":
            folded = text.casefold()
            if folded in YES_WORDS:
                data[fname] = True
            elif folded in NO_WORDS:
                data[fname] = False
            else:
                raise RowError(_("“%(value)s” in column %(column)s is not yes or no (是/否).") % params)
        elif fname == "funds_available":
            data[fname] = self._money(text, params)
        elif fname == "email":
            try:
                validate_email(text)
            except ValidationError:
                raise RowError(_("“%(value)s” in column %(column)s is not a valid email address.") % params) from None
            self._text(fname, text, params, data)
        elif fname == "region":
            found = self.regions.get(text.casefold())
            if found is None:
                raise RowError(_("“%(value)s” in column %(column)s is not a known region.") % params)
            data["region"] = found
        elif fname in services.SENSITIVE_FIELDS:
            digits = "".join(text.split())
            if "*" in digits:  # a masked value from an export: there is nothing to import
                return
            if len(digits) > 40:
                raise RowError(_("“%(value)s” in column %(column)s is too long.") % params)
            data[fname] = digits
        else:
            self._text(fname, text, params, data)

    @staticmethod
    def _plain_text(fname: str, value: Any, label: str, data: dict[str, Any]) -> None:
        """A text field without rules of its own (most columns of a customer list)."""
        if type(value) is str:
            text = value.strip()
            if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
                text = text[1:]
        else:
            text = cell_text(value)
        limit = _TEXT_LIMITS[fname]
        if limit and len(text) > limit:
            raise RowError(
                _("The value in column %(column)s is longer than %(max)s characters.") % {"column": label, "max": limit}
            )
        data[fname] = text

    @staticmethod
    def _text(fname: str, text: str, params: dict[str, str], data: dict[str, Any]) -> None:
        limit = _TEXT_LIMITS[fname]
        if limit and len(text) > limit:
            raise RowError(
                _("The value in column %(column)s is longer than %(max)s characters.")
                % {"column": params["column"], "max": limit}
            )
        data[fname] = text

    @staticmethod
    def _date(value: Any, text: str, params: dict[str, str]) -> dt.date:
        day = excel_date(value)
        if day is not None:
            return day
        m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
        if m:
            with contextlib.suppress(ValueError):
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
        raise RowError(_("“%(value)s” in column %(column)s is not a date (write it like 2024-03-15).") % params)

    @classmethod
    def _month(cls, value: Any, text: str, params: dict[str, str]) -> dt.date:
        m = _MONTH_RE.match(text)
        if m and 1 <= int(m[2]) <= 12:
            return dt.date(int(m[1]), int(m[2]), 1)
        try:
            return cls._date(value, text, params).replace(day=1)
        except RowError:
            raise RowError(
                _("“%(value)s” in column %(column)s is not a month (write it like 2024-03).") % params
            ) from None

    @staticmethod
    def _money(text: str, params: dict[str, str]) -> Decimal:
        amount = parse_yuan(text)
        if amount is None:
            raise RowError(_("“%(value)s” in column %(column)s is not an amount in yuan.") % params)
        return amount


STAGE_VALUES = sorted(set(STAGE_MAP.values()))
_AMBIGUOUS = (None, "")


def _owners_by_name(actor: User | None) -> dict[str, tuple[int | None, str | None]]:
    """Staff the actor may import for (accounts.scoping), by username and by display name."""
    if actor is None:
        return {}
    users = list(staff_in_scope(actor).only("pk", "username", "display_name"))
    out: dict[str, tuple[int | None, str | None]] = {}
    for user in users:
        key = (user.display_name or "").strip().casefold()
        if key:
            out[key] = _AMBIGUOUS if key in out and out[key][0] != user.pk else (user.pk, user.label)
    out.update({user.username.casefold(): (user.pk, user.label) for user in users})  # usernames win
    return out


def _apply_pipeline_values(extra: dict[str, Any], values: dict[str, Any], history: dict[str, list[Any]]) -> None:
    """Owner, stage and next contact of a row, into the customer's values and its history row."""
    if "owner" in extra:
        pk, label = extra["owner"]
        values["owner_id"] = pk
        history["owner"] = [None, label]
    if "stage" in extra:
        values["stage"] = extra["stage"]
        history["stage"] = [None, extra["stage"]]
    if "next_due_on" in extra:
        values["next_due_on"] = extra["next_due_on"]
        history["next_due_on"] = [None, extra["next_due_on"].isoformat()]


def parse_yuan(text: str) -> Decimal | None:
    """An amount in yuan as spreadsheets write it ("¥12,000", "1.5万"), or None if it is none."""
    t = _MONEY_JUNK.sub("", text)
    factor = Decimal(1)
    if t.endswith("万"):
        t, factor = t[:-1], Decimal(10000)
    try:
        amount = (Decimal(t) * factor).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        return None
    return amount
