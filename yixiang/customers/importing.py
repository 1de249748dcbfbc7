"""Customer import (客户导入): a CSV or .xlsx file in, customers out, every row accounted for.

Files: CSV in UTF-8 (with or without BOM), GBK/GB18030 as Excel in China saves it, or UTF-16
(Excel's "Unicode text"); .xlsx streamed with openpyxl's read-only reader. Headers in Chinese or
English (``COLUMNS``); unknown columns are reported once and ignored.

What the user can rely on:
- A file that cannot be read (empty, wrong encoding, damaged .xlsx, no name column) fails as a whole
  before anything is written, with a message that says why.
- Each bad row is reported with its line (the CSV line, or the sheet row) and the reason; good rows
  go in. A row is all-or-nothing: the customer, its tags and its history row commit together.
- Duplicates are skipped and listed apart from errors. A row WITH a phone is a duplicate when an
  existing customer (the trash included) or an earlier row of the file has the same normalised
  phone. A row WITHOUT a phone is a duplicate when an existing customer or an earlier phoneless row
  has the same name, company and city (exact text after trimming). Re-importing a file therefore
  creates nothing new.

Speed and memory: rows are streamed and handled in batches of ``IMPORT_BATCH_SIZE``: one query finds
a batch's existing customers, archive numbers are reserved per batch, and each table gets one bulk
write per batch (executemany on SQLite, COPY on PostgreSQL) inside one transaction, which also
advances the job's progress, so an interrupted job resumes after its last committed batch. If a
batch fails unexpectedly it is retried row by row, so one bad row never takes good rows with it.
Keys already seen in the file live in a temporary on-disk SQLite table, so memory does not grow
with the file. Files of ``IMPORT_PARALLEL_MIN_ROWS`` rows or more are read and checked in a forked
second process while this one writes (the machine's second core), a few batches ahead at most.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import multiprocessing
import os
import queue
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditEvent, Region, User
from yixiang.accounts.scoping import can_assign_to
from yixiang.customers import encoding as encoding_guess
from yixiang.customers import rules, services, uploads
from yixiang.customers.models import (
    BirthdayCalendar,
    Channel,
    Customer,
    CustomerChange,
    Gender,
    Grade,
    ImportJob,
    Kind,
    Source,
    Tag,
    ValueTier,
)
from yixiang.customers.scoping import visible_customers
from yixiang.errors import DomainError

DEFAULTS: dict[str, Any] = {
    "IMPORT_BATCH_SIZE": 2000,
    # Files with at least this many rows are parsed in a second process while this one writes.
    "IMPORT_PARALLEL_MIN_ROWS": 20_000,
    # Entries kept per kind (errors, duplicates) on the job row; the counts stay exact.
    "IMPORT_MAX_STORED_ERRORS": 1000,
    # Uploads up to this size are checked inside the request; bigger ones go to the worker.
    "IMPORT_INLINE_MAX_BYTES": 256 * 1024,
    "IMPORT_PREVIEW_ROWS": 10,
    # Uploaded files nobody imported are removed after this many hours.
    "IMPORT_FILE_RETENTION_HOURS": 24,
}


def conf(name: str) -> Any:
    return settings.YIXIANG.get(name, DEFAULTS[name])


class ImportFileError(uploads.UploadError):
    """The whole file is refused; nothing was written."""


class RowError(Exception):
    """One row is refused; ``message`` is translated and names the column."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# Columns: one table serves the importer's header matching and the exporter's headers, so an
# exported file imports again.


@dataclass(frozen=True)
class Column:
    field: str  # a name in services.EDITABLE_FIELDS, or "tags"
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", ("名称", "客户名称", "客户姓名", "客户", "customer", "customer name", "full name")),
    Column("kind", "类型", "Type", ("客户类型", "kind", "customer type")),
    Column(
        "phone",
        "电话",
        "Phone",
        (
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "移动电话",
            "mobile",
            "tel",
            "telephone",
            "phone number",
            "cell",
        ),
    ),  # fmt: skip
    Column("email", "邮箱", "Email", ("电子邮箱", "电子邮件", "邮件", "mail")),
    Column("wechat", "微信", "WeChat", ("微信号",)),
    Column("qq", "QQ", "QQ", ("qq号", "qq号码")),
    Column("preferred_channel", "首选联系方式", "Preferred channel", ("偏好渠道", "联系方式偏好")),
    Column("gender", "性别", "Gender", ("sex",)),
    Column("birth_date", "出生日期", "Date of birth", ("生日", "出生年月日", "birthday", "dob")),
    Column("birthday_calendar", "生日历法", "Birthday calendar", ("历法", "公历/农历")),
    Column("occupation", "职业", "Occupation", ("工作", "job")),
    Column("income", "收入", "Income", ("年收入", "月收入")),
    Column("family_situation", "家庭情况", "Family situation", ("家庭",)),
    Column("family_supports", "家庭是否支持", "Family supports", ("家庭支持",)),
    Column("personality", "性格", "Personality", ()),
    Column("hobbies", "爱好", "Hobbies", ("兴趣爱好", "兴趣", "喜好")),
    Column("special_days", "纪念日", "Special days", ("特殊日子", "重要日子")),
    Column("financial_situation", "财务状况", "Financial situation", ("经济状况",)),
    Column("funds_available", "可用资金", "Funds available", ("可投资金",)),
    Column("region", "大区", "Region", ("区域",)),
    Column("province", "省份", "Province", ("省",)),
    Column("city", "城市", "City", ("市",)),
    Column("address", "地址", "Address", ("详细地址", "联系地址")),
    Column("source", "来源", "Source", ("客户来源",)),
    Column("company_name", "公司", "Company", ("公司名称", "单位", "单位名称", "企业名称", "employer")),
    Column("industry", "行业", "Industry", ("所属行业",)),
    Column("company_size", "公司规模", "Company size", ("规模", "企业规模")),
    Column("decision_maker", "决策人", "Decision-maker", ("决策者",)),
    Column("key_people", "关键人", "Key people", ("关键人物",)),
    Column("bank_card", "银行卡号", "Bank card", ("银行卡", "收款卡号")),
    Column("id_number", "身份证号", "ID number", ("身份证", "身份证号码")),
    Column("grade", "客户等级", "Grade", ("等级",)),
    Column("expected_sign_month", "预计签约月份", "Expected signing month", ("预计签约",)),
    Column("value_tier", "价值分级", "Value tier", ("价值等级",)),
    Column("tags", "标签", "Tags", ("tag",)),
    Column("notes", "备注", "Notes", ("说明", "remark", "remarks", "note", "comments")),
)

# Columns the export writes that an import ignores on purpose (they are not the importer's to set).
EXPORT_ONLY_COLUMNS: tuple[Column, ...] = (
    Column("archive_no", "档案编号", "Archive number"),
    Column("owner", "负责人", "Owner"),
    Column("stage", "意向阶段", "Intent stage"),
    Column("created_at", "创建时间", "Created"),
)

_HEADER_JUNK = re.compile(r"[\s_\-*:：·./]+")
_TRAILING_NOTE = re.compile(r"[(（][^)）]*[)）]$")


def header_key(text: Any) -> str:
    """'*手机号码（必填）' -> '手机号码', 'E-mail' -> 'email', 'birth_date' -> 'birthdate'."""
    s = str(text or "").replace("\ufeff", "").strip()
    s = _TRAILING_NOTE.sub("", s)
    return _HEADER_JUNK.sub("", s).casefold()


def _build_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for col in COLUMNS + EXPORT_ONLY_COLUMNS:
        for text in (col.field, col.zh, col.en, *col.aliases):
            out.setdefault(header_key(text), col.field)
    return out


HEADER_ALIASES = _build_aliases()

# Choice values, first Chinese label first (the export writes it); model values and English labels
# are added below, so "male", "Male" and "男" all import.
CHOICE_LABELS_ZH: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        Kind.INDIVIDUAL: ("个人", "个人客户", "自然人", "person", "personal"),
        Kind.COMPANY: ("企业", "公司", "企业客户", "公司客户", "单位", "机构", "business", "enterprise"),
    },
    "gender": {
        Gender.MALE: ("男", "男性", "先生", "m"),
        Gender.FEMALE: ("女", "女性", "女士", "f"),
        Gender.UNKNOWN: ("未知", "不详"),
    },
    "preferred_channel": {
        Channel.PHONE: ("电话", "手机"),
        Channel.SMS: ("短信",),
        Channel.WECHAT: ("微信",),
        Channel.EMAIL: ("邮件", "邮箱", "电子邮件"),
        Channel.QQ: ("QQ",),
        Channel.VISIT: ("拜访", "上门", "面谈"),
    },
    "birthday_calendar": {
        BirthdayCalendar.SOLAR: ("公历", "阳历", "新历"),
        BirthdayCalendar.LUNAR: ("农历", "阴历", "旧历"),
    },
    "source": {
        Source.REFERRAL: ("转介绍", "介绍", "推荐", "老客户介绍"),
        Source.EVENT: ("活动", "会销", "展会", "会议"),
        Source.DATABASE: ("数据库", "资料库"),
        Source.FRONT_DESK: ("前台到访", "前台", "到访", "来访"),
        Source.PHONE_DUTY: ("电话值班", "来电", "热线"),
        Source.PURCHASED_LIST: ("购买名单", "购买"),
        Source.COMPETITOR_LIST: ("竞品名单", "同行名单", "竞争对手名单"),
        Source.PARTNER: ("合作渠道", "渠道", "合作伙伴"),
        Source.OTHER: ("其他", "其它"),
    },
    "grade": {g: (g.value, f"{g.value}类", f"{g.value}级") for g in Grade},
    "value_tier": {t: (t.value, f"{t.value}类", f"{t.value}级") for t in ValueTier},
}
_CHOICE_ENUMS = {
    "kind": Kind,
    "gender": Gender,
    "preferred_channel": Channel,
    "birthday_calendar": BirthdayCalendar,
    "source": Source,
    "grade": Grade,
    "value_tier": ValueTier,
}
_YES = ("是", "有", "支持", "yes", "y", "true", "1", "√")
_NO = ("否", "无", "不支持", "no", "n", "false", "0", "×")


def _build_choice_maps() -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    with translation.override("en"):
        for fname, enum in _CHOICE_ENUMS.items():
            m: dict[str, str] = {}
            for value, label in enum.choices:
                for text in (value, str(label), *CHOICE_LABELS_ZH[fname].get(value, ())):
                    if text:
                        m.setdefault(str(text).strip().casefold(), value)
            maps[fname] = m
    return maps


CHOICE_MAPS = _build_choice_maps()


def choice_label(fname: str, value: str, *, chinese: bool) -> str:
    """The label an export writes for a choice value (it imports back to the same value)."""
    if not value:
        return ""
    if chinese:
        labels = CHOICE_LABELS_ZH[fname].get(value)
        if labels:
            return labels[0]
    with translation.override("en"):
        return str(dict(_CHOICE_ENUMS[fname].choices).get(value, value))


def bool_label(value: bool | None, *, chinese: bool) -> str:
    if value is None:
        return ""
    if chinese:
        return "是" if value else "否"
    return "Yes" if value else "No"


# --------------------------------------------------------------------------------------------
# Reading files


@dataclass
class RawRow:
    line: int
    cells: list[Any]
    # (column index, cell reference) of cells holding a formula (.xlsx only); a shared empty tuple
    # otherwise, so a CSV row allocates nothing for it
    formulas: Sequence[tuple[int, str]] = ()
    undecodable: bool = False
    broken: str = ""  # the CSV reader's complaint about this record


@dataclass
class Sheet:
    """An opened file: header, its line, an estimate of data rows, and the data rows (non-blank)."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    header_line: int
    estimated_rows: int
    rows: Iterator[RawRow]
    notes: list[str] = field(default_factory=list)
    encoding: str = ""
    # A CSV whose last line has no line break may have been cut off (Excel always ends with one).
    unterminated: bool = False


_SAMPLE_BYTES = 1 << 20
_READ_CHUNK = 1 << 20
_HEADER_SEARCH_ROWS = 10


def _file_error(message: str) -> ImportFileError:
    return ImportFileError(message, code="import_file")


def detect_encoding(sample: bytes, *, whole_file: bool = False) -> tuple[str, bool]:
    """(encoding, judged on non-ASCII text?): utf-8-sig, utf-16, utf-8, or the legacy encoding
    charset-normalizer finds (gb18030, a superset of GBK, on a tie; Shift-JIS, Big5...), judged on
    the first megabyte.

    Judged line by line: a UTF-8 file with one stray GBK line stays UTF-8 (that line becomes that
    row's error), while in a real GBK file hardly any line with Chinese is valid UTF-8."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    if b"\x00" in sample:
        raise _file_error(_("This is not a text file. Upload a CSV file or an Excel .xlsx workbook."))
    lines = sample.split(b"\n")
    if not whole_file and len(lines) > 1:
        lines.pop()  # the sample may end inside a line, even inside a character
    utf8 = not_utf8 = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            not_utf8 += 1
    if utf8 >= not_utf8:
        return "utf-8", utf8 > 0
    guessed = encoding_guess.guess(b"\n".join(lines))  # whole lines only: no character cut in two
    if guessed is not None:
        return guessed, True
    raise _file_error(
        _("The file is neither UTF-8 nor GBK text. In Excel, save it as “CSV UTF-8” or as an .xlsx workbook.")
    )


class _LineDecoder:
    """Decodes a binary file line by line, so one undecodable line is that row's error, not the file's.

    A file judged UTF-8 only because its first megabyte was plain ASCII switches to GB18030 at the
    first line that is GB18030 but not UTF-8."""

    def __init__(self, fh: io.BufferedReader, encoding: str, ascii_only: bool):
        self.fh = fh
        self.encoding = encoding
        self.may_switch = encoding == "utf-8" and ascii_only
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for n, raw in enumerate(self.fh, 1):
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                text = self._fallback(n, raw)
            else:
                if self.may_switch and not raw.isascii():
                    self.may_switch = False
            yield text

    def _fallback(self, n: int, raw: bytes) -> str:
        if self.may_switch:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                pass
            else:
                self.encoding, self.may_switch = "gb18030", False
                return text
        self.bad_lines.add(n)
        return raw.decode(self.encoding, errors="replace")

    def take_bad(self, first: int, last: int) -> bool:
        """Whether a line of first..last was undecodable; forgets lines up to last (memory stays flat)."""
        if not self.bad_lines:
            return False
        hit = any(first <= n <= last for n in self.bad_lines)
        self.bad_lines = {n for n in self.bad_lines if n > last}
        return hit


def _estimate_lines(fh: io.BufferedReader) -> int:
    count = 0
    last = b""
    while chunk := fh.read(_READ_CHUNK):
        count += chunk.count(b"\n")
        last = chunk
    fh.seek(0)
    return count + (1 if last and not last.endswith(b"\n") else 0)


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _find_header(rows: Iterator[RawRow]) -> RawRow:
    """The header is the first of the first rows that names a name column; title rows above it
    (a merged "客户名单" banner, say) are skipped."""
    seen: list[RawRow] = []
    for row in itertools.islice(rows, _HEADER_SEARCH_ROWS):
        if any(HEADER_ALIASES.get(header_key(c)) == "name" for c in row.cells):
            return row
        seen.append(row)
    if not seen:
        raise _file_error(_("The file is empty."))
    found = "、".join(str(c).strip() for c in seen[0].cells if c is not None and str(c).strip())
    raise _file_error(
        _("The file has no name column (姓名 / name), which is required. Columns found: %(columns)s.")
        % {"columns": found or "-"}
    )


def _csv_rows(reader: Any, decoder: _LineDecoder | None) -> Iterator[RawRow]:
    last_line = 0
    while True:
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield RawRow(line=start, cells=[], broken=str(exc))
            continue
        last_line = reader.line_num
        if not cells or (not cells[0].strip() and _is_blank(cells)):
            continue
        yield RawRow(line=start, cells=cells, undecodable=decoder is not None and decoder.take_bad(start, last_line))


@contextlib.contextmanager
def _open_csv(path: Path) -> Iterator[Sheet]:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        fh.seek(0)
        if not sample.replace(codecs.BOM_UTF8, b"").strip():
            raise _file_error(_("The file is empty."))
        encoding, judged = detect_encoding(sample, whole_file=len(sample) < _SAMPLE_BYTES)
        estimate = _estimate_lines(fh)
        fh.seek(-min(2, len(sample)), io.SEEK_END)
        unterminated = b"\n" not in fh.read(2)
        fh.seek(0)
        decoder: _LineDecoder | None = None
        if encoding == "utf-16":
            lines: Iterator[str] = iter(io.TextIOWrapper(fh, encoding="utf-16", newline=""))
        else:
            decoder = _LineDecoder(fh, encoding, ascii_only=not judged)
            lines = iter(decoder)
        try:
            # Peek at the first non-blank line for the delimiter; all lines go back to the reader so
            # its line numbers stay true.
            head: list[str] = []
            for line in lines:
                head.append(line)
                if line.strip():
                    break
            first = head[-1] if head else ""
            # Excel writes ',' (or ';' in some locales); its "Unicode text" is tab-separated.
            delimiter = max((",", "\t", ";"), key=first.count) if any(d in first for d in ",\t;") else ","
            reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
            rows = _decode_guard(_csv_rows(reader, decoder))
            header = _find_header(rows)
        except UnicodeDecodeError:
            raise _file_error(_("The file is not valid UTF-16 text.")) from None
        yield Sheet(
            kind="csv",
            header=[str(c) for c in header.cells],
            header_line=header.line,
            estimated_rows=max(estimate - header.line, 0),
            rows=rows,
            encoding=encoding,
            unterminated=unterminated,
        )


def _decode_guard(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    # Only UTF-16 files decode as a stream (line by line is impossible there); a bad byte ends them.
    try:
        yield from rows
    except UnicodeDecodeError:
        raise _file_error(_("The file is not valid UTF-16 text.")) from None


_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_XLSX_READ_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ParseError, TypeError)


def _merged_ranges(path: Path, sheet_path: str) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of merged cells. The read-only reader does not report
    them and they sit after the rows in the sheet's XML, so the XML is scanned once as a stream."""
    from openpyxl.utils.cell import column_index_from_string

    found: set[tuple[int, int, int, int]] = set()
    tail = b""
    with zipfile.ZipFile(path) as zf, zf.open(sheet_path) as xml:
        while chunk := xml.read(_READ_CHUNK):
            buf = tail + chunk
            for m in _MERGE_RE.finditer(buf):
                c1, r1, c2, r2 = m.groups()
                found.add(
                    (column_index_from_string(c1.decode()), int(r1), column_index_from_string(c2.decode()), int(r2))
                )
            tail = buf[-200:]
    return sorted(found, key=lambda r: (r[1], r[0]))


def _xlsx_rows(ws: Any, merges: list[tuple[int, int, int, int]]) -> Iterator[RawRow]:
    from openpyxl.utils.cell import get_column_letter

    pending = list(merges)  # sorted by first row
    active: list[tuple[tuple[int, int, int, int], Any]] = []
    for n, row in enumerate(ws.iter_rows(min_row=1), 1):
        cells = [c.value for c in row]
        formulas = [(i, f"{get_column_letter(i + 1)}{n}") for i, c in enumerate(row) if c.data_type == "f"]
        while pending and pending[0][1] == n:
            rng = pending.pop(0)
            active.append((rng, cells[rng[0] - 1] if len(cells) >= rng[0] else None))
        if active:
            # A merged cell means "this value for the whole block": fill it into every cell.
            for (c1, r1, c2, _r2), value in active:
                if len(cells) < c2:
                    cells.extend([None] * (c2 - len(cells)))
                for c in range(c1, c2 + 1):
                    if (n, c) != (r1, c1):
                        cells[c - 1] = value
            active = [(rng, v) for rng, v in active if rng[3] > n]
        if _is_blank(cells):
            continue
        yield RawRow(line=n, cells=cells, formulas=formulas)


def _xlsx_guard(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    last = 0
    try:
        for row in rows:
            last = row.line
            yield row
    except _XLSX_READ_ERRORS:
        raise _file_error(
            _("The .xlsx file is damaged after row %(row)s; the rows before it were handled.") % {"row": last}
        ) from None


@contextlib.contextmanager
def _open_xlsx(path: Path) -> Iterator[Sheet]:
    import openpyxl
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.utils.exceptions import InvalidFileException

    fh = open(path, "rb")  # a file object, so openpyxl does not insist on an .xlsx name; closed below
    try:
        # data_only=False so formula cells are seen as formulas and reported, not silently cached values.
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    except (*_XLSX_READ_ERRORS, InvalidFileException):
        fh.close()
        raise _file_error(
            _("The .xlsx file is damaged or incomplete. Save it again in Excel and upload it once more.")
        ) from None
    try:
        sheets = [wb.active, *[s for s in wb.worksheets if s is not wb.active]]
        last_error: ImportFileError | None = None
        for ws in sheets:
            if not hasattr(ws, "iter_rows"):  # a chart sheet
                continue
            try:
                merges = _merged_ranges(path, ws._worksheet_path)  # the reader keeps no public path
                rows = _xlsx_guard(_xlsx_rows(ws, merges))
                header = _find_header(rows)
            except ImportFileError as exc:
                last_error = exc
                continue
            except _XLSX_READ_ERRORS:
                raise _file_error(
                    _("The .xlsx file is damaged or incomplete. Save it again in Excel and upload it once more.")
                ) from None
            try:
                max_row = range_boundaries(ws.calculate_dimension())[3] or 0
            except ValueError:  # the writer left out the sheet's size
                max_row = 0
            notes = []
            if merges:
                refs = "、".join(f"{_ref(r)}" for r in merges[:10])
                notes.append(
                    _("Merged cells (%(cells)s) were read as if the value were repeated in every merged cell.")
                    % {"cells": refs + ("…" if len(merges) > 10 else "")}
                )
            yield Sheet(
                kind="xlsx",
                header=["" if c is None else str(c) for c in header.cells],
                header_line=header.line,
                estimated_rows=max(max_row - header.line, 0),
                rows=rows,
                notes=notes,
            )
            return
        raise last_error or _file_error(_("The workbook has no worksheet."))
    finally:
        wb.close()
        fh.close()


def _ref(rng: tuple[int, int, int, int]) -> str:
    from openpyxl.utils.cell import get_column_letter

    c1, r1, c2, r2 = rng
    return f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"


@contextlib.contextmanager
def open_sheet(file_path: str | Path) -> Iterator[Sheet]:
    """Open an import file (a storage name, or a local path from the command line), whatever its
    name says, by what its first bytes are — after the upload gate has checked it."""
    with uploads.local_file(str(file_path)) as path:
        try:
            with open(path, "rb") as fh:
                checked = uploads.check(fh)  # size, type, inflated size, rows: before any parser runs
        except FileNotFoundError:
            raise _file_error(_("The uploaded file is no longer available; upload it again.")) from None
        opener = _open_xlsx if checked.kind == "xlsx" else _open_csv
        with opener(path) as sheet:
            uploads.check_columns(len(sheet.header))
            sheet.rows = _row_cap(sheet.rows, sheet.header_line)
            yield sheet


def _row_cap(rows: Iterator[RawRow], header_line: int) -> Iterator[RawRow]:
    # The gate counted lines or read the sheet's declared size; a sheet may leave it out or lie.
    last = header_line + uploads.limit("UPLOAD_MAX_ROWS")
    for row in rows:
        if row.line > last:
            raise uploads.too_many_rows()
        yield row


# --------------------------------------------------------------------------------------------
# Checking rows


@dataclass(slots=True)
class Prepared:
    """A row that passed every check: Customer attribute values, tags and the dedupe key."""

    line: int
    data: dict[str, Any]
    tags: list[str]
    key: str
    has_phone: bool


def _cell_text(value: Any) -> str:
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
)
_TEXT_LIMITS: dict[str, int | None] = {
    f.name: getattr(f, "max_length", None) for f in Customer._meta.concrete_fields if not f.primary_key
}


def _excel_date(value: Any) -> dt.date | None:
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

    def __init__(self, header: list[str], *, kind: str = "csv", encoding: str = ""):
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
            raise _file_error(_("The file has no name column (姓名 / name), which is required."))
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
        self.regions = {r.name.casefold(): (r.pk, r.name) for r in Region.objects.all()}
        self.region_names = {pk: name for pk, name in self.regions.values()}
        self._region_phone = settings.YIXIANG["DEFAULT_PHONE_REGION"]
        self.chinese = (translation.get_language() or "").startswith("zh")

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
        data["name_pinyin"], data["name_initials"] = rules.pinyin_keys(name)
        phone_key = data.get("phone_normalized")
        if phone_key:
            key = phone_key
        else:
            key = "\x1f".join(("n", name, data.get("company_name", ""), data.get("city", "")))
        return Prepared(line=raw.line, data=data, tags=tags, key=key, has_phone=bool(phone_key))

    def _check_width(self, cells: list[Any]) -> None:
        if len(cells) < self.width:
            raise RowError(
                _(
                    "The line has %(found)s of %(expected)s columns; the file may be cut off, "
                    "or a value holds an unquoted line break."
                )
                % {"found": len(cells), "expected": self.width}
            )
        if len(cells) > self.width and not _is_blank(cells[self.width :]):
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
        names = {t.strip() for t in _TAG_SPLIT.split(_cell_text(value)) if t.strip()}
        for t in names:
            if len(t) > 50:
                raise RowError(_("The tag “%(value)s” is longer than 50 characters.") % {"value": t[:60]})
        return sorted(names)

    def _convert(self, fname: str, value: Any, label: str, data: dict[str, Any]) -> None:
        text = _cell_text(value)
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
                key = rules.normalize_phone(text, self._region_phone)
            except rules.PhoneError:
                raise RowError(_("“%(value)s” in column %(column)s is not a valid phone number.") % params) from None
            data["phone_normalized"] = key
            data["phone"] = rules.display_phone(key)
        elif fname in CHOICE_MAPS:
            choice = CHOICE_MAPS[fname].get(text.casefold())
            if choice is None:
                labels = [choice_label(fname, v, chinese=self.chinese) for v, _l in _CHOICE_ENUMS[fname].choices if v]
                raise RowError(
                    _("“%(value)s” in column %(column)s is not one of: %(choices)s.")
                    % {**params, "choices": "、".join(labels)}
                )
            data[fname] = choice
        elif fname == "birth_date":
            day = self._date(value, text, params)
            if day > self.today or day.year < 1900:
                raise RowError(_("“%(value)s” in column %(column)s is not a possible date of birth.") % params)
            data[fname] = day
        elif fname == "expected_sign_month":
            data[fname] = self._month(value, text, params)
        elif fname == "family_supports":
            folded = text.casefold()
            if folded in _YES:
                data[fname] = True
            elif folded in _NO:
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
            data["region_id"] = found[0]
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
            text = _cell_text(value)
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
        day = _excel_date(value)
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
        t = _MONEY_JUNK.sub("", text)
        factor = Decimal(1)
        if t.endswith("万"):
            t, factor = t[:-1], Decimal(10000)
        try:
            amount = (Decimal(t) * factor).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
            raise RowError(_("“%(value)s” in column %(column)s is not an amount in yuan.") % params)
        return amount


# --------------------------------------------------------------------------------------------
# Writing


class _SeenKeys:
    """Dedupe keys of the rows already taken from this file, with their line. Kept in a private
    temporary on-disk SQLite database, so a file of millions of rows does not fill the memory."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = temporary database on disk, removed on close
        self.db.execute("CREATE TABLE seen (k TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def find(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT k, line FROM seen WHERE k IN ({marks})", chunk))  # noqa: S608 (placeholders only)
        return found

    def add(self, pairs: Iterable[tuple[str, int]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)

    def close(self) -> None:
        self.db.close()


_PLAIN_FIELD_TYPES = {
    models.CharField,
    models.TextField,
    models.EmailField,
    models.BooleanField,
    models.IntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.BigIntegerField,
    models.ForeignKey,
}


class _TableWriter:
    """One INSERT per table and batch, every concrete column listed.

    Django's bulk_create prepares every field of every object through the model machinery, several
    times the cost per row of this: here the batch's shared values are converted once, and a row
    converts only the values it sets, only for the field types that need it (dates, decimals, JSON,
    encrypted text). SQLite runs one prepared statement over the rows (``executemany``); PostgreSQL
    takes them through COPY."""

    def __init__(self, model: type[models.Model]):
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        self.head = f"INSERT INTO {qn(model._meta.db_table)} ({columns})"  # noqa: S608 (model metadata only)
        self.copy_sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
        self.marks = ", ".join(["%s"] * len(self.fields))
        self.prep = [None if type(f) in _PLAIN_FIELD_TYPES else f for f in self.fields]

    def defaults(self) -> dict[str, Any]:
        return {f.attname: f.get_default() for f in self.fields}

    def insert(self, base: dict[str, Any], rows: list[dict[str, Any]], *, raw: frozenset[str] = frozenset()) -> None:
        """Insert one row per dict in ``rows``; columns a row does not name take ``base``'s value.
        Columns in ``raw`` hold values ready for the database (JSON already serialised)."""
        if not rows:
            return
        conn = connections[DEFAULT_DB_ALIAS]
        template = [
            base.get(f.attname) if prep is None else prep.get_db_prep_save(base.get(f.attname), conn)
            for f, prep in zip(self.fields, self.prep, strict=True)
        ]
        index, preps = self.index, self.prep
        # Rows of one file mostly name the same columns in the same order: the (position, converter)
        # list is worked out once per such shape, not once per value.
        shapes: dict[tuple[str, ...], tuple[list[int], list[tuple[int, Any]]]] = {}
        params = []
        for row in rows:
            shape = tuple(row)
            plan = shapes.get(shape)
            if plan is None:
                plan = shapes[shape] = (
                    [index[a] for a in shape],
                    [(n, preps[index[a]]) for n, a in enumerate(shape) if preps[index[a]] is not None and a not in raw],
                )
            values = template.copy()
            row_values = list(row.values())
            for n, prep in plan[1]:
                if row_values[n] is not None:
                    row_values[n] = prep.get_db_prep_save(row_values[n], conn)
            for i, value in zip(plan[0], row_values, strict=True):
                values[i] = value
            params.append(values)
        with conn.cursor() as cursor:
            if conn.vendor == "postgresql":
                # COPY: several times cheaper than INSERT there, and the same transaction rules.
                with conn.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(f"{self.head} VALUES ({self.marks})", params)


# History rows (one per created customer): compact, and Chinese kept as is rather than \u-escaped,
# so a million of them take less room; every value there is already text, a list or None.
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Superseded(Exception):
    """Another runner committed this job's next batch first (a duplicate resume): stop quietly."""


@dataclass
class _Outcome:
    rows: int
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HISTORY_SKIP = {"phone_normalized", "name_pinyin", "name_initials"}
_PROGRESS_FIELDS = ["processed_rows", "created_count", "skipped_count", "error_count", "errors", "total_rows"]


@dataclass
class _Parsed:
    """A batch of rows, parsed: the good ones and the line-numbered errors."""

    rows: int  # rows read, good or not
    prepared: list[Prepared]
    errors: list[tuple[int, str]]
    last_line: int  # the file's last line read so far


def _parse_batches(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int) -> Iterator[_Parsed]:
    """Parsed batches of ``size`` rows after the first ``skip``; the last one may be empty (it
    carries the file's last line)."""
    batch: list[RawRow] = []
    last_line = 0
    for raw in rows:
        last_line = raw.line
        if skip:
            skip -= 1
            continue
        batch.append(raw)
        if len(batch) >= size:
            yield _parse_batch(parser, batch, last_line)
            batch = []
    yield _parse_batch(parser, batch, last_line)


def _parse_batch(parser: RowParser, raws: list[RawRow], last_line: int) -> _Parsed:
    parser.today = timezone.localdate()
    out = _Parsed(rows=len(raws), prepared=[], errors=[], last_line=last_line)
    parse, good, errors = parser.parse, out.prepared.append, out.errors.append
    for raw in raws:
        try:
            good(parse(raw))
        except RowError as exc:
            errors((raw.line, exc.message))
    return out


# Reading and checking rows is about a third of an import's work, and independent of the
# database: big files are parsed in a forked child (it inherits the open file, the parser and the
# active language, and never touches the database) while this process writes. A bounded queue
# keeps at most a few batches in flight, so memory stays flat.
_QUEUE_BATCHES = 3


def _parse_in_child(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int) -> Iterator[_Parsed]:
    ctx = multiprocessing.get_context("fork")
    channel = ctx.Queue(maxsize=_QUEUE_BATCHES)
    child = ctx.Process(target=_child_parse, args=(rows, parser, skip, size, channel, os.getpid()), daemon=False)
    child.start()
    try:
        while True:
            try:
                msg = channel.get(timeout=2)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the import's parsing process ended unexpectedly ({child.exitcode})") from None
                continue
            if msg[0] == "file_error":
                raise _file_error(msg[1])
            if msg[0] == "crash":
                raise RuntimeError(f"the import's parsing process failed: {msg[1]}")
            _kind, n, packed, errors, last_line = msg
            yield _Parsed(rows=n, prepared=[Prepared(*p) for p in packed], errors=errors, last_line=last_line)
            if msg[0] == "last":
                return
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        channel.close()
        channel.cancel_join_thread()


def _child_parse(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int, channel: Any, parent: int) -> None:
    def send(msg: tuple[Any, ...]) -> None:
        while True:
            try:
                channel.put(msg, timeout=1)
                return
            except queue.Full:
                if os.getppid() != parent:  # the writer was killed: nobody will read this
                    os._exit(1)

    try:
        chunks = _parse_batches(rows, parser, skip, size)
        chunk = next(chunks)
        for following in chunks:
            send(("batch", *_pack(chunk)))
            chunk = following
        send(("last", *_pack(chunk)))
    except ImportFileError as exc:
        send(("file_error", exc.message))
    except Exception as exc:  # reported by the writer, which fails the job as for any error
        send(("crash", f"{type(exc).__name__}: {exc}"))
    channel.close()
    channel.join_thread()


def _pack(chunk: _Parsed) -> tuple[Any, ...]:
    # Plain tuples pickle faster than dataclasses.
    packed = [(p.line, p.data, p.tags, p.key, p.has_phone) for p in chunk.prepared]
    return chunk.rows, packed, chunk.errors, chunk.last_line


class _ImportRun:
    def __init__(self, job: ImportJob, progress: Callable[[ImportJob], None] | None):
        self.job = job
        self.actor = job.created_by
        self.owner = job.owner
        self.progress = progress
        self.batch_size = max(int(conf("IMPORT_BATCH_SIZE")), 1)
        self.max_entries = int(conf("IMPORT_MAX_STORED_ERRORS"))
        self.pending_warnings: list[tuple[int, str]] = []
        self.seen = _SeenKeys()
        self.customers = _TableWriter(Customer)
        self.changes = _TableWriter(CustomerChange)
        self.links = _TableWriter(Customer.tags.through)
        self.parser: RowParser | None = None

    def execute(self) -> None:
        try:
            with open_sheet(self.job.file_path) as sheet:
                self.parser = RowParser(sheet.header, kind=sheet.kind, encoding=sheet.encoding)
                if self.job.processed_rows == 0:
                    notes = [*sheet.notes, *self.parser.warnings()]
                    self.pending_warnings = [(sheet.header_line, n) for n in notes]
                    self.job.total_rows = sheet.estimated_rows
                    ImportJob.objects.filter(pk=self.job.pk).update(total_rows=sheet.estimated_rows)
                if self.progress:
                    self.progress(self.job)
                skip = self.job.processed_rows  # a resumed job continues after its last committed batch
                if self._parallel(sheet):
                    chunks = _parse_in_child(sheet.rows, self.parser, skip, self.batch_size)
                else:
                    chunks = _parse_batches(sheet.rows, self.parser, skip, self.batch_size)
                last_line = 0
                try:
                    for chunk in chunks:
                        last_line = chunk.last_line
                        if chunk.rows:
                            self._batch(chunk)
                finally:
                    chunks.close()  # stops the parsing process if this one stops early
                if sheet.unterminated and last_line:
                    self.pending_warnings.append(
                        (
                            last_line,
                            _(
                                "The file does not end with a line break, so it may have been cut off: check line %(line)s."
                            )
                            % {"line": last_line},
                        )
                    )
                if self.pending_warnings:  # a file without data rows
                    self._commit(_Outcome(rows=0), [])
            self._finish()
        finally:
            self.seen.close()

    # -- one batch

    def _parallel(self, sheet: Sheet) -> bool:
        return (
            sheet.estimated_rows - self.job.processed_rows >= int(conf("IMPORT_PARALLEL_MIN_ROWS"))
            and (os.cpu_count() or 1) > 1
            and "fork" in multiprocessing.get_all_start_methods()
        )

    def _batch(self, chunk: _Parsed) -> None:
        outcome = _Outcome(rows=chunk.rows, errors=chunk.errors)
        in_batch: dict[str, int] = {}
        prepared: list[Prepared] = []
        for row in chunk.prepared:
            first = in_batch.get(row.key)
            if first is not None:
                outcome.skipped.append((row.line, self._same_as_line(row, first)))
                continue
            in_batch[row.key] = row.line
            prepared.append(row)
        earlier = self.seen.find(list(in_batch))
        if earlier:
            kept = []
            for row in prepared:
                if row.key in earlier:
                    outcome.skipped.append((row.line, self._same_as_line(row, earlier[row.key])))
                else:
                    kept.append(row)
            prepared = kept
        self.seen.add((row.key, row.line) for row in prepared)
        prepared = self._drop_existing(prepared, outcome)
        if self.job.dry_run:
            outcome.created = len(prepared)
            prepared = []
        self._commit(outcome, prepared)
        if self.progress:
            self.progress(self.job)

    @staticmethod
    def _same_as_line(row: Prepared, line: int) -> str:
        if row.has_phone:
            return _("Same phone number as line %(line)s of this file.") % {"line": line}
        return _("Same name, company and city as line %(line)s of this file.") % {"line": line}

    def _drop_existing(self, prepared: list[Prepared], outcome: _Outcome) -> list[Prepared]:
        """Skips rows whose customer is already in the archive: one query per kind of key."""
        existing: dict[str, tuple[int, str, str, bool]] = {}
        phones = [r.key for r in prepared if r.has_phone]
        if phones:
            for pk, key, no, name, deleted in Customer.objects.filter(
                phone_normalized__isnull=False, phone_normalized__in=phones
            ).values_list("pk", "phone_normalized", "archive_no", "name", "deleted_at"):
                existing[key] = (pk, no, name, deleted is not None)
        phoneless = [r for r in prepared if not r.has_phone]
        if phoneless:
            names = {r.data["name"] for r in phoneless}
            # Names are indexed for live rows only (customer_live_name); the trash, small, is read
            # through its deleted_at index (a range, which "IS NOT NULL" is not to SQLite's planner).
            for part in (
                Customer.objects.filter(deleted_at__isnull=True),
                Customer.objects.filter(deleted_at__gt=_EPOCH),
            ):
                for pk, name, company, city, no, deleted in part.filter(name__in=names).values_list(
                    "pk", "name", "company_name", "city", "archive_no", "deleted_at"
                ):
                    key = "\x1f".join(("n", name.strip(), company.strip(), city.strip()))
                    existing.setdefault(key, (pk, no, name, deleted is not None))
        if not existing:
            return prepared
        hits = {r.key: existing[r.key] for r in prepared if r.key in existing}
        visible = set(
            visible_customers(self.actor, include_deleted=True)
            .filter(pk__in=[h[0] for h in hits.values()])
            .values_list("pk", flat=True)
        )
        kept = []
        hidden = 0
        for row in prepared:
            hit = hits.get(row.key)
            if hit is None:
                kept.append(row)
                continue
            pk, no, name, deleted = hit
            if pk not in visible:
                # Named by nothing (no archive number): the import is no oracle over other reps' customers.
                msg = _("Already in the archive as another rep's customer, which you cannot see.")
                hidden += 1
            elif deleted:
                msg = _("Already in the archive, in the trash: %(name)s (%(no)s).") % {"name": name, "no": no}
            else:
                msg = _("Already in the archive: %(name)s (%(no)s).") % {"name": name, "no": no}
            outcome.skipped.append((row.line, msg))
        if hidden:
            AuditEvent.objects.create(
                actor=self.actor,
                action="customer.import_hidden_duplicates",
                target_type="import_job",
                target_id=str(self.job.pk),
                detail={"count": hidden},
            )
        return kept

    # -- committing

    def _claim_batch(self) -> None:
        state = (
            ImportJob.objects.select_for_update().filter(pk=self.job.pk).values_list("status", "processed_rows").first()
        )
        if state != (ImportJob.Status.RUNNING, self.job.processed_rows):
            raise _Superseded

    def _commit(self, outcome: _Outcome, rows: list[Prepared]) -> None:
        try:
            with transaction.atomic():
                self._claim_batch()
                if rows:
                    outcome.created = self._insert(rows)
                self._save_progress(outcome)
            return
        except DatabaseError:
            if not rows:
                raise
        # Something in the batch was refused: forget the in-memory counts of the failed attempt
        # and go row by row, each row in its own savepoint.
        self.job.refresh_from_db()
        with transaction.atomic():
            self._claim_batch()
            outcome.created = 0
            for row in rows:
                try:
                    with transaction.atomic():
                        outcome.created += self._insert([row])
                except IntegrityError as exc:
                    taken = self._taken_meanwhile(row)
                    if taken:
                        outcome.skipped.append((row.line, taken))
                    else:
                        outcome.errors.append((row.line, self._db_refused(exc)))
                except DatabaseError as exc:
                    outcome.errors.append((row.line, self._db_refused(exc)))
            self._save_progress(outcome)

    def _taken_meanwhile(self, row: Prepared) -> str | None:
        if not row.has_phone:
            return None
        existing = Customer.objects.filter(phone_normalized=row.key).values_list("archive_no", flat=True).first()
        if existing is None:
            return None
        return _("Another user added this phone number meanwhile (record %(no)s).") % {"no": existing}

    @staticmethod
    def _db_refused(exc: Exception) -> str:
        return _("This row could not be saved (the database refused it: %(error)s).") % {
            "error": str(exc).splitlines()[0][:200]
        }

    def _save_progress(self, outcome: _Outcome) -> None:
        job = self.job
        job.processed_rows += outcome.rows
        job.created_count += outcome.created
        job.skipped_count += len(outcome.skipped)
        job.error_count += len(outcome.errors)
        entries = list(job.errors or [])
        stored = {"error": 0, "duplicate": 0, "warning": 0}
        for e in entries:
            stored[e.get("kind", "error")] = stored.get(e.get("kind", "error"), 0) + 1
        before = len(entries)
        for kind, items in (
            ("warning", self.pending_warnings),
            ("error", outcome.errors),
            ("duplicate", outcome.skipped),
        ):
            room = self.max_entries - stored[kind]
            entries.extend({"line": line, "reason": reason, "kind": kind} for line, reason in items[: max(room, 0)])
        self.pending_warnings = []
        fields = [f for f in _PROGRESS_FIELDS if f != "errors"]
        if len(entries) != before:
            job.errors = entries
            fields.append("errors")
        job.total_rows = max(job.total_rows, job.processed_rows)
        job.save(update_fields=fields)

    def _insert(self, rows: list[Prepared]) -> int:
        now = timezone.now()
        numbers = services.allocate_archive_numbers(len(rows))
        base = self.customers.defaults()
        owner_id = self.owner.pk if self.owner else None
        base.update(owner_id=owner_id, created_by_id=self.actor.pk, created_at=now, updated_at=now)
        customer_rows = []
        for row, number in zip(rows, numbers, strict=True):
            values = dict(row.data)
            values["archive_no"] = number
            customer_rows.append(values)
        self.customers.insert(base, customer_rows)
        ids = self._ids_of(numbers)
        tag_ids = self._tag_ids({t for row in rows for t in row.tags})
        if tag_ids:
            self.links.insert(
                {},
                [
                    {"customer_id": ids[number], "tag_id": tag_ids[t]}
                    for row, number in zip(rows, numbers, strict=True)
                    for t in row.tags
                ],
            )
        owner_label = self.owner.label if self.owner else None
        dumps = _compact_json
        self.changes.insert(
            {"actor_id": self.actor.pk, "action": CustomerChange.Action.IMPORT, "at": now},
            [
                {"customer_id": ids[number], "changes": dumps(self._history(row, base, owner_label))}
                for row, number in zip(rows, numbers, strict=True)
            ],
            raw=frozenset({"changes"}),
        )
        return len(rows)

    def _history(self, row: Prepared, base: dict[str, Any], owner_label: str | None) -> dict[str, list[Any]]:
        """The history row's changes, shaped like services.customer_create's: {field: [old, new]}."""
        assert self.parser is not None
        history_value = services.history_value
        sensitive = services.SENSITIVE_FIELDS
        diff: dict[str, list[Any]] = {}
        for attname, value in row.data.items():
            if attname in _HISTORY_SKIP:
                continue
            if attname == "region_id":
                diff["region"] = [None, self.parser.region_names.get(value)]
                continue
            old = base.get(attname)
            if type(value) is not str or attname in sensitive:
                old, value = history_value(attname, old), history_value(attname, value)
            diff[attname] = [old, value]
        if row.tags:
            diff["tags"] = [[], row.tags]
        diff["owner"] = [None, owner_label]
        diff["import"] = [None, f"{self.job.file_name}:{row.line}"]
        return diff

    @staticmethod
    def _ids_of(numbers: list[str]) -> dict[str, int]:
        # Raw SQL: the ORM prepares each of a big IN list's values one by one.
        q = connection.ops.quote_name
        sql = f"SELECT {q('archive_no')}, {q('id')} FROM {q(Customer._meta.db_table)} WHERE {q('archive_no')} IN "  # noqa: S608 (model metadata only)
        ids: dict[str, int] = {}
        with connection.cursor() as cursor:
            for i in range(0, len(numbers), 900):  # within SQLite's limit of variables
                chunk = numbers[i : i + 900]
                cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
                ids.update(cursor.fetchall())
        return ids

    @staticmethod
    def _tag_ids(names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        missing = names - ids.keys()
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in sorted(missing)], ignore_conflicts=True)
            ids.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
        return ids

    def _finish(self) -> None:
        job = self.job
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
        job.total_rows = job.processed_rows
        job.message = job_summary(job)
        done = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.RUNNING, processed_rows=job.processed_rows
        ).update(status=job.status, finished_at=job.finished_at, total_rows=job.total_rows, message=job.message)
        if not done:
            raise _Superseded
        if job.dry_run and job.created_count > 0:
            # Kept on the job so the job page never opens the file again (a heavy file cost each
            # view seconds and a gigabyte before, in the web process).
            shown = preview(job.file_path)
            job.preview = {"columns": shown.columns, "rows": shown.rows}
            ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
        _audit(job)
        if not job.dry_run:
            _remove_upload(job)


# --------------------------------------------------------------------------------------------
# Jobs: what views, the command and the worker call


def check_import_owner(actor: User, owner: User | None) -> None:
    """Only an admin imports into the public pool; others import for themselves or staff in scope."""
    if owner is None:
        if not actor.is_admin_role:
            raise DomainError(_("Only an administrator can import customers into the public pool."), code="forbidden")
        return
    if owner.pk != actor.pk and not can_assign_to(actor, owner):
        raise DomainError(
            _("You cannot import customers for %(user)s.") % {"user": owner.label},
            code="forbidden",
        )


def store_upload(chunks: Iterable[bytes], file_name: str) -> str:
    """Pass an upload through the gate and keep it in the imports storage; returns its storage name."""
    name, _checked = uploads.receive(chunks, file_name)
    return name


def create_import_job(
    *, actor: User, owner: User | None, file_path: str | Path, file_name: str, dry_run: bool
) -> ImportJob:
    check_import_owner(actor, owner)
    return ImportJob.objects.create(
        created_by=actor, owner=owner, file_path=str(file_path), file_name=file_name[:255], dry_run=dry_run
    )


def job_for_real_import(*, actor: User, dry_run_job: ImportJob) -> ImportJob:
    """The real import of a file that went through a dry run; asking twice gives the same job."""
    if not dry_run_job.dry_run or dry_run_job.status != ImportJob.Status.DONE:
        raise DomainError(_("Only a finished dry run can be imported."))
    started = real_import_of(dry_run_job)
    if started is not None:
        return started
    return create_import_job(
        actor=actor,
        owner=dry_run_job.owner,
        file_path=dry_run_job.file_path,
        file_name=dry_run_job.file_name,
        dry_run=False,
    )


def real_import_of(dry_run_job: ImportJob) -> ImportJob | None:
    return (
        ImportJob.objects.filter(file_path=dry_run_job.file_path, dry_run=False, created_by=dry_run_job.created_by_id)
        .order_by("pk")
        .first()
    )


def run_import_job(
    job: ImportJob, *, progress: Callable[[ImportJob], None] | None = None, language: str | None = None
) -> ImportJob:
    """Run (or resume) a job. Row problems land in the job; a refused file marks it failed."""
    with translation.override(language) if language else contextlib.nullcontext():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
        ).update(status=ImportJob.Status.RUNNING)
        job.refresh_from_db()
        if not claimed:
            return job
        try:
            _ImportRun(job, progress).execute()
        except _Superseded:
            pass
        except uploads.UploadError as exc:
            _fail(job, exc.message)
        except Exception:
            _fail(
                job,
                _("The import stopped because of an unexpected error after %(rows)s rows; those rows were handled.")
                % {"rows": job.processed_rows},
            )
            raise
        job.refresh_from_db()
        return job


def import_file(
    path: str | Path,
    *,
    actor: User,
    owner: User | None,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Import a file from disk in this process (the command line, the benchmark)."""
    job = create_import_job(
        actor=actor,
        owner=owner,
        file_path=Path(path).resolve(),  # a worker resuming the job runs elsewhere
        file_name=file_name or Path(path).name,
        dry_run=dry_run,
    )
    return run_import_job(job, progress=progress)


def _fail(job: ImportJob, message: str) -> None:
    job.refresh_from_db()
    job.status = ImportJob.Status.FAILED
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    _audit(job)
    if not job.dry_run:
        _remove_upload(job)


def _audit(job: ImportJob) -> None:
    AuditEvent.objects.create(
        actor=job.created_by,
        action="customer.import",
        target_type="import_job",
        target_id=str(job.pk),
        detail={
            "file": job.file_name,
            "owner": job.owner.username if job.owner else None,
            "dry_run": job.dry_run,
            "status": job.status,
            "rows": job.processed_rows,
            "created": job.created_count,
            "skipped": job.skipped_count,
            "errors": job.error_count,
        },
    )


def _remove_upload(job: ImportJob) -> None:
    """Uploaded copies go once imported (they hold personal data); files given on the command line stay."""
    uploads.delete(job.file_path)


def purge_stale_uploads(*, now: dt.datetime | None = None) -> int:
    """Remove uploads no job still needs (dry runs nobody imported), past the retention time."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=conf("IMPORT_FILE_RETENTION_HOURS"))
    busy = set(
        ImportJob.objects.filter(status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).values_list(
            "file_path", flat=True
        )
    )
    removed = 0
    for name in uploads.stale(cutoff):
        if name not in busy:
            uploads.delete(name)
            removed += 1
    return removed


def job_summary(job: ImportJob) -> str:
    params = {"rows": job.processed_rows, "created": job.created_count, "skipped": job.skipped_count}
    params["errors"] = job.error_count
    if job.dry_run:
        text = _(
            "Dry run: %(rows)s rows read; %(created)s would be created, %(skipped)s duplicates skipped, "
            "%(errors)s rows with errors. Nothing was saved."
        )
    else:
        text = _(
            "%(rows)s rows read; %(created)s customers created, %(skipped)s duplicates skipped, "
            "%(errors)s rows with errors."
        )
    out = text % params
    if job.processed_rows == 0:
        out += " " + _("The file has a header but no data rows.")
    return out


def job_entries(job: ImportJob, kind: str) -> list[dict[str, Any]]:
    """Stored entries of one kind: "error", "duplicate" or "warning"."""
    return [e for e in (job.errors or []) if e.get("kind", "error") == kind]


def job_entries_left_out(job: ImportJob, kind: str) -> int:
    """How many entries of a kind were counted but not stored (the list is capped)."""
    total = {"error": job.error_count, "duplicate": job.skipped_count}.get(kind, 0)
    return max(total - len(job_entries(job, kind)), 0)


@dataclass
class Preview:
    columns: list[tuple[str, str]]  # (field, header in the file)
    rows: list[tuple[int, list[tuple[str, str]], str]]  # (line, [(header, value)] per column, error)


def preview(path: str | Path, *, limit: int | None = None) -> Preview:
    """The first rows as the import will read them, for the page before the real import."""
    limit = limit or conf("IMPORT_PREVIEW_ROWS")
    with open_sheet(path) as sheet:
        parser = RowParser(sheet.header, kind=sheet.kind, encoding=sheet.encoding)
        columns = parser.mapped_columns()
        rows: list[tuple[int, list[tuple[str, str]], str]] = []
        for raw in itertools.islice(sheet.rows, limit):
            try:
                row = parser.parse(raw)
            except RowError as exc:
                rows.append((raw.line, [], exc.message))
                continue
            rows.append((row.line, [(h, _preview_value(parser, row, f)) for f, h in columns], ""))
    return Preview(columns=columns, rows=rows)


def stored_preview(job: ImportJob) -> Preview | None:
    """The preview the dry run stored: what the job page shows, without opening the file."""
    if not job.preview:
        return None
    return Preview(
        columns=[tuple(c) for c in job.preview["columns"]],
        rows=[(line, [tuple(v) for v in values], error) for line, values, error in job.preview["rows"]],
    )


def _preview_value(parser: RowParser, row: Prepared, fname: str) -> str:
    if fname == "tags":
        return "、".join(row.tags)
    if fname == "region":
        return parser.region_names.get(row.data.get("region_id"), "")
    value = row.data.get(fname)
    if value is None:
        return ""
    if fname in services.SENSITIVE_FIELDS:
        return services.history_value(fname, value)
    if fname in CHOICE_MAPS:
        return choice_label(fname, value, chinese=parser.chinese)
    if isinstance(value, bool):
        return bool_label(value, chinese=parser.chinese)
    return str(value)
