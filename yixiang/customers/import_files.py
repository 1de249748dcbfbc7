"""Reading an import file (CSV or .xlsx) into raw rows: encoding, delimiter, header, merged cells.

CSV in UTF-8 (with or without BOM), GBK/GB18030 as Excel in China saves it, or UTF-16 (Excel's
"Unicode text"), decoded line by line so one bad line is that row's error; .xlsx streamed with
openpyxl's read-only reader. A file that cannot be read fails as a whole (``ImportFileError``)
before anything is written."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _

from yixiang.customers import encoding as encoding_guess
from yixiang.customers import uploads
from yixiang.customers.columns import HEADER_ALIASES, header_key

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
    """An import setting from ``settings.YIXIANG``, or its default."""
    return settings.YIXIANG.get(name, DEFAULTS[name])


class ImportFileError(uploads.UploadError):
    """The whole file is refused; nothing was written."""


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
_SNIFF_LINES = 5
_DELIMITERS = ",\t;"


def file_error(message: str) -> ImportFileError:
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
        raise file_error(_("This is not a text file. Upload a CSV file or an Excel .xlsx workbook."))
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
    raise file_error(
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


def is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


@dataclass(frozen=True)
class HeaderRule:
    """How a kind of file's header row is recognised, and what to say when none is."""

    is_header: Callable[[list[Any]], bool]
    missing: Callable[[], str]  # the message, translated when raised


def _names_a_name_column(cells: list[Any]) -> bool:
    return any(HEADER_ALIASES.get(header_key(c)) == "name" for c in cells)


CUSTOMER_HEADER = HeaderRule(
    is_header=_names_a_name_column,
    missing=lambda: _("The file has no name column (姓名 / name), which is required."),
)


def _find_header(rows: Iterator[RawRow], rule: HeaderRule) -> RawRow:
    """The header is the first of the first rows that names the required column; title rows above
    it (a merged "客户名单" banner, say) are skipped."""
    seen: list[RawRow] = []
    for row in itertools.islice(rows, _HEADER_SEARCH_ROWS):
        if rule.is_header(row.cells):
            return row
        seen.append(row)
    if not seen:
        raise file_error(_("The file is empty."))
    found = "、".join(str(c).strip() for c in seen[0].cells if c is not None and str(c).strip())
    raise file_error(rule.missing() + " " + _("Columns found: %(columns)s.") % {"columns": found or "-"})


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
        if not cells or (not cells[0].strip() and is_blank(cells)):
            continue
        yield RawRow(line=start, cells=cells, undecodable=decoder is not None and decoder.take_bad(start, last_line))


@contextlib.contextmanager
def _open_csv(path: Path, rule: HeaderRule) -> Iterator[Sheet]:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        fh.seek(0)
        if not sample.replace(codecs.BOM_UTF8, b"").strip():
            raise file_error(_("The file is empty."))
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
            # Peek at the first lines for the delimiter; they all go back to the reader so its line
            # numbers stay true.
            head = list(itertools.islice(lines, _SNIFF_LINES))
            delimiter = _sniff_delimiter(head)
            reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
            rows = _decode_guard(_csv_rows(reader, decoder))
            header = _find_header(rows, rule)
        except UnicodeDecodeError:
            raise file_error(_("The file is not valid UTF-16 text.")) from None
        yield Sheet(
            kind="csv",
            header=[str(c) for c in header.cells],
            header_line=header.line,
            estimated_rows=max(estimate - header.line, 0),
            rows=rows,
            encoding=encoding,
            unterminated=unterminated,
        )


def _sniff_delimiter(head: list[str]) -> str:
    """Excel writes ',' (or ';' in some locales); its "Unicode text" is tab-separated. A file with
    one column has none of them: ','."""
    sample = "".join(line for line in head if line.strip())
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _decode_guard(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    # Only UTF-16 files decode as a stream (line by line is impossible there); a bad byte ends them.
    try:
        yield from rows
    except UnicodeDecodeError:
        raise file_error(_("The file is not valid UTF-16 text.")) from None


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
        if is_blank(cells):
            continue
        yield RawRow(line=n, cells=cells, formulas=formulas)


def _xlsx_guard(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    last = 0
    try:
        for row in rows:
            last = row.line
            yield row
    except _XLSX_READ_ERRORS:
        raise file_error(
            _("The .xlsx file is damaged after row %(row)s; the rows before it were handled.") % {"row": last}
        ) from None


@contextlib.contextmanager
def _open_xlsx(path: Path, rule: HeaderRule) -> Iterator[Sheet]:
    import openpyxl
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.utils.exceptions import InvalidFileException

    fh = open(path, "rb")  # a file object, so openpyxl does not insist on an .xlsx name; closed below
    try:
        # data_only=False so formula cells are seen as formulas and reported, not silently cached values.
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    except (*_XLSX_READ_ERRORS, InvalidFileException):
        fh.close()
        raise file_error(
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
                header = _find_header(rows, rule)
            except ImportFileError as exc:
                last_error = exc
                continue
            except _XLSX_READ_ERRORS:
                raise file_error(
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
        raise last_error or file_error(_("The workbook has no worksheet."))
    finally:
        wb.close()
        fh.close()


def _ref(rng: tuple[int, int, int, int]) -> str:
    from openpyxl.utils.cell import get_column_letter

    c1, r1, c2, r2 = rng
    return f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"


@contextlib.contextmanager
def open_sheet(file_path: str | Path, *, header: HeaderRule = CUSTOMER_HEADER) -> Iterator[Sheet]:
    """Open an import file (a storage name, or a local path from the command line), whatever its
    name says, by what its first bytes are — after the upload gate has checked it."""
    with uploads.local_file(str(file_path)) as path:
        try:
            with open(path, "rb") as fh:
                checked = uploads.check(fh)  # size, type, inflated size, rows: before any parser runs
        except FileNotFoundError:
            raise file_error(_("The uploaded file is no longer available; upload it again.")) from None
        opener = _open_xlsx if checked.kind == "xlsx" else _open_csv
        with opener(path, header) as sheet:
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
