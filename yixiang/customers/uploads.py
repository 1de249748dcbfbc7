"""The one gate every uploaded file passes (web import page, command line, worker): size, type,
decompressed size, rows and columns — all checked before any parser sees the file.

Why before parsing: openpyxl's read-only reader loads a workbook's whole shared-strings table into
memory, and a 2 MB .xlsx can inflate to 1 GB (the 2026-12 probe). A zip's central directory gives
each member's declared sizes cheaply, and zipfile never inflates a member past its declared size
(a lying entry fails its CRC), so checking the declared sizes bounds what parsing can cost.

Limits are settings (``settings.YIXIANG``), documented in SECURITY.md.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.utils.translation import gettext as _

from yixiang.errors import DomainError

MB = 1024 * 1024

DEFAULTS: dict[str, int] = {
    # Total declared size of an .xlsx's members once inflated.
    "UPLOAD_MAX_UNCOMPRESSED_BYTES": 1024 * MB,
    # Inflated / compressed, for the whole file and for every member above UPLOAD_RATIO_MIN_BYTES.
    # Real workbooks stay below 30; bombs are in the hundreds or thousands.
    "UPLOAD_MAX_RATIO": 100,
    "UPLOAD_RATIO_MIN_BYTES": 1 * MB,
    "UPLOAD_MAX_MEMBERS": 10_000,
    # The shared-strings table is held in memory whole by openpyxl: its size and entry count are capped.
    "UPLOAD_MAX_SHARED_STRINGS_BYTES": 128 * MB,
    "UPLOAD_MAX_SHARED_STRINGS": 2_000_000,
    # Data rows and columns; Excel's own sheet holds 1,048,576 rows.
    "UPLOAD_MAX_ROWS": 1_048_576,
    "UPLOAD_MAX_COLUMNS": 1_000,
}

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_CHUNK = 1 << 20
_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?([A-Z]+)(\d+)"')
_SI_RE = re.compile(rb"<(?:\w+:)?si[\s>/]")
_ROW_RE = re.compile(rb"<(?:\w+:)?row[\s>/]")


def limit(name: str) -> int:
    return int(settings.YIXIANG.get(name, DEFAULTS[name]))


def max_upload_bytes() -> int:
    return int(settings.IMPORT_MAX_UPLOAD_BYTES)


class UploadError(DomainError):
    """The file is refused as a whole, before anything reads its rows; nothing was written."""


def _refuse(message: str, code: str = "import_file") -> UploadError:
    return UploadError(message, code=code)


@dataclass(frozen=True)
class Checked:
    kind: str  # "csv" or "xlsx"
    size: int
    rows: int  # an upper bound of the lines (CSV) or the sheet's declared last row (xlsx, 0 if undeclared)


def too_many_rows() -> UploadError:
    return _refuse(
        _("The file has more than %(rows)s rows. Split it into smaller files.")
        % {"rows": f"{limit('UPLOAD_MAX_ROWS'):,}"},
        code="too_large",
    )


def too_many_columns(count: int) -> UploadError:
    return _refuse(
        _("The file has %(count)s columns; at most %(max)s are read. Remove the columns you do not need.")
        % {"count": f"{count:,}", "max": f"{limit('UPLOAD_MAX_COLUMNS'):,}"},
        code="too_large",
    )


def too_big() -> UploadError:
    return _refuse(
        _("The file is larger than %(mb)s MB. Split it into smaller files.") % {"mb": max_upload_bytes() // MB},
        code="too_large",
    )


def check_columns(count: int) -> None:
    if count > limit("UPLOAD_MAX_COLUMNS"):
        raise too_many_columns(count)


def check(fh: IO[bytes]) -> Checked:
    """Check an open binary file (seekable) against every limit; leaves it at position 0."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    if size > max_upload_bytes():
        raise too_big()
    magic = fh.read(8)
    fh.seek(0)
    if magic.startswith(XLS_MAGIC):
        raise _refuse(_("Old Excel .xls files cannot be read. In Excel, save the file as .xlsx or CSV."))
    try:
        if magic.startswith(XLSX_MAGIC):
            return Checked(kind="xlsx", size=size, rows=_check_xlsx(fh, size))
        return Checked(kind="csv", size=size, rows=_check_text(fh))
    finally:
        fh.seek(0)


def _check_text(fh: IO[bytes]) -> int:
    """Counts lines (bounded by the byte limit, so cheap); the header line is not a data row."""
    utf16 = fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    fh.seek(0)
    newline = b"\n\x00" if utf16 else b"\n"
    lines = 0
    last = b""
    while chunk := fh.read(_CHUNK):
        lines += chunk.count(newline)
        last = chunk
    if last and not last.endswith(b"\n") and not last.endswith(b"\n\x00"):
        lines += 1
    if lines - 1 > limit("UPLOAD_MAX_ROWS"):
        raise too_many_rows()
    return lines


def _damaged() -> UploadError:
    return _refuse(_("The .xlsx file is damaged or incomplete. Save it again in Excel and upload it once more."))


def _check_xlsx(fh: IO[bytes], size: int) -> int:
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limit("UPLOAD_MAX_MEMBERS"):
            raise _refuse(_("The .xlsx file holds too many parts (%(count)s).") % {"count": f"{len(infos):,}"})
        names = {i.filename.lower(): i for i in infos}
        if "xl/workbook.xml" not in names:
            raise _refuse(
                _("The file is a zip archive but not an Excel workbook. Upload a CSV file or an .xlsx workbook.")
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
        ratio_max = limit("UPLOAD_MAX_RATIO")
        big = limit("UPLOAD_RATIO_MIN_BYTES")
        bomb = total > limit("UPLOAD_MAX_UNCOMPRESSED_BYTES") or (total > big and total > ratio_max * max(packed, 1))
        bomb = bomb or any(i.file_size > big and i.file_size > ratio_max * max(i.compress_size, 1) for i in infos)
        if bomb:
            raise _refuse(
                _(
                    "The .xlsx file inflates to %(mb)s MB (%(ratio)s× its size), more than an import may take. "
                    "Save the data as CSV, or split the workbook."
                )
                % {"mb": f"{total / MB:,.0f}", "ratio": f"{total / max(packed, 1):,.0f}"},
                code="too_large",
            )
        try:
            shared = [i for n, i in names.items() if n.endswith("sharedstrings.xml")]
            for info in shared:
                _check_shared_strings(zf, info)
            return _check_dimensions(zf, [i for n, i in names.items() if n.startswith("xl/worksheets/")])
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
            raise _damaged() from None


def _too_many_strings() -> UploadError:
    return _refuse(
        _("The workbook holds too much distinct text (more than %(count)s different cells). Save it as CSV instead.")
        % {"count": f"{limit('UPLOAD_MAX_SHARED_STRINGS'):,}"},
        code="too_large",
    )


def _check_shared_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    if info.file_size > limit("UPLOAD_MAX_SHARED_STRINGS_BYTES"):
        raise _too_many_strings()
    cap = limit("UPLOAD_MAX_SHARED_STRINGS")
    count = 0
    tail = b""
    with zf.open(info) as xml:  # bounded by the size checked above
        while chunk := xml.read(_CHUNK):
            buf = tail + chunk
            count += len(_SI_RE.findall(buf))
            tail = buf[-8:]
            # A match ending in the kept tail would be counted twice: drop matches starting there.
            count -= len(_SI_RE.findall(tail))
            if count > cap:
                raise _too_many_strings()


def _count_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    cap = limit("UPLOAD_MAX_ROWS") + 1  # + the header
    count = 0
    tail = b""
    with zf.open(info) as xml:
        while chunk := xml.read(_CHUNK):
            buf = tail + chunk
            count += len(_ROW_RE.findall(buf))
            tail = buf[-8:]
            count -= len(_ROW_RE.findall(tail))  # counted again with the next chunk
            if count > cap:
                raise too_many_rows()
    return count


def _check_dimensions(zf: zipfile.ZipFile, sheets: list[zipfile.ZipInfo]) -> int:
    """The sheets' declared sizes (``<dimension ref="A1:K2000">``, near the top); undeclared is 0.
    The row count is enforced again while reading, since a writer may leave it out or lie."""
    from openpyxl.utils.cell import column_index_from_string

    most = 0
    for info in sheets:
        with zf.open(info) as xml:
            head = xml.read(4096)
        m = _DIMENSION_RE.search(head)
        if not m:  # rare (hand-made files): count the rows, a stream bounded by the inflated-size limit
            most = max(most, _count_rows(zf, info))
            continue
        col, row = column_index_from_string(m.group(1).decode()), int(m.group(2))
        check_columns(col)
        if row - 1 > limit("UPLOAD_MAX_ROWS"):
            raise too_many_rows()
        most = max(most, row)
    return most


# --------------------------------------------------------------------------------------------
# Storage: uploads live in the "imports" storage (a local folder by default, S3-compatible when
# configured), so the node that runs the job need not be the node that received the file.
# A job's file_path is a storage name; an absolute path is a file given on the command line.


def storage() -> Storage:
    return storages["imports"]


def receive(chunks: Iterable[bytes], file_name: str) -> tuple[str, Checked]:
    """Check an upload and keep it in storage under a random name; a refused file is never stored."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in {".csv", ".xlsx", ".txt", ".tsv"}:
        suffix = ".dat"
    cap = max_upload_bytes()
    with tempfile.TemporaryFile() as tmp:  # spooled on local disk only while it is checked
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > cap:
                raise too_big()
            tmp.write(chunk)
        checked = check(tmp)
        name = storage().save(f"{secrets.token_hex(16)}{suffix}", File(tmp))
    return name, checked


def is_stored(file_path: str) -> bool:
    return not os.path.isabs(file_path)


def size_of(file_path: str) -> int:
    try:
        return storage().size(file_path) if is_stored(file_path) else Path(file_path).stat().st_size
    except (OSError, NotImplementedError):
        return 0


@contextlib.contextmanager
def local_file(file_path: str) -> Iterator[Path]:
    """A local path to read the job's file from: the storage's own file when it has one, else a
    temporary copy (removed afterwards). The parsers need a seekable local file."""
    missing = _refuse(_("The uploaded file is no longer available; upload it again."))
    if not is_stored(file_path):
        yield Path(file_path)
        return
    store = storage()
    try:
        own: Path | None = Path(store.path(file_path))
    except NotImplementedError:  # a remote store (S3): no local path
        own = None
    if own is not None:
        yield own
        return
    try:
        src = store.open(file_path, "rb")
    except (FileNotFoundError, OSError):
        raise missing from None
    with src, tempfile.NamedTemporaryFile(suffix=Path(file_path).suffix) as tmp:
        shutil.copyfileobj(src, tmp, _CHUNK)
        tmp.flush()
        yield Path(tmp.name)


def exists(file_path: str) -> bool:
    return storage().exists(file_path) if is_stored(file_path) else Path(file_path).is_file()


def delete(file_path: str) -> None:
    """Uploaded copies go once imported (they hold personal data); command-line files stay."""
    if is_stored(file_path):
        storage().delete(file_path)


def stale(cutoff: dt.datetime) -> Iterator[str]:
    """Names of stored uploads last written before ``cutoff``."""
    store = storage()
    try:
        _dirs, files = store.listdir("")
    except FileNotFoundError:
        return
    for name in files:
        if store.get_modified_time(name) < cutoff:
            yield name
