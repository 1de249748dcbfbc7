"""Customer export (客户导出): the customers a user may see, as .xlsx or CSV.

Same scope and filters as the list page (selectors.customer_list). Rows are read in chunks with
their tags prefetched per chunk and written straight to a temporary file (openpyxl's write-only
mode for .xlsx), so memory stays flat however many customers there are. Bank card and ID numbers
are masked. Headers are Chinese unless the user reads the English UI; they are the importer's
headers, so an exported file imports again (its rows then come back as duplicates).
Every export leaves an audit event: who, which filters, how many rows.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang import spreadsheet
from yixiang.accounts.models import AuditAction, User
from yixiang.accounts.services import audit
from yixiang.conf import reader
from yixiang.customers import selectors
from yixiang.customers.columns import CHOICE_MAPS, COLUMNS, EXPORT_ONLY_COLUMNS, bool_label, choice_label
from yixiang.customers.models import Customer, Grade, Kind, Stage, ValueTier
from yixiang.errors import DomainError
from yixiang.replica import replica_reads

DEFAULTS: dict[str, Any] = {"EXPORT_CHUNK_SIZE": 2000}
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
_HEADERS = {c.field: (c.zh, c.en) for c in (*COLUMNS, *EXPORT_ONLY_COLUMNS)}
# Column order of the file: what a sales team reads first comes first.
EXPORT_FIELDS: tuple[str, ...] = (
    "archive_no", "name", "kind", "phone", "email", "wechat", "qq", "preferred_channel", "stage", "grade",
    "expected_sign_month", "value_tier", "owner", "tags", "source", "gender", "birth_date", "birthday_calendar",
    "occupation", "income", "family_situation", "family_supports", "personality", "hobbies", "special_days",
    "financial_situation", "funds_available", "bank_card", "id_number", "region", "province", "city", "address",
    "company_name", "industry", "company_size", "decision_maker", "key_people", "notes", "created_at",
)  # fmt: skip
_STAGE_ZH = {
    Stage.REJECTING: "拒绝",
    Stage.S0: "0阶段",
    Stage.S1: "1阶段",
    Stage.S2: "2阶段",
    Stage.S3: "3阶段",
    Stage.S4: "4阶段",
    Stage.SIGNED: "E类（已签约）",
}
# Spreadsheets run a cell that starts with one of these; a leading ' keeps it text (the importer drops it).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


conf = reader(DEFAULTS)  # settings.YIXIANG wins over the default


def filters_from_query(params: Mapping[str, Any]) -> selectors.CustomerFilters:
    """The list page's filters from a query string. A bad value drops its own filter only."""

    def text(name: str, allowed: set[str] | None = None) -> str:
        value = str(params.get(name) or "").strip()[:100]
        return value if allowed is None or value in allowed else ""

    def number(name: str, allowed: set[int] | None = None) -> int | None:
        try:
            value = int(str(params.get(name, "")).strip())
        except ValueError:
            return None
        return value if allowed is None or value in allowed else None

    owner = text("owner")
    return selectors.CustomerFilters(
        q=text("q"),
        stage=number("stage", set(Stage.values)),
        grade=text("grade", set(Grade.values)),
        tag=text("tag"),
        owner=owner if owner in ("mine", "pool") or owner.isdigit() else "",
        kind=text("kind", set(Kind.values)),
        source=text("source", set(CHOICE_MAPS["source"].values())),
        region=number("region"),
        value_tier=text("value_tier", set(ValueTier.values)),
    )


def _safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell_getters(chinese: bool) -> list[Callable[[Customer], Any]]:
    def choice(name: str) -> Callable[[Customer], Any]:
        return lambda c: choice_label(name, getattr(c, name), chinese=chinese)

    def plain(name: str) -> Callable[[Customer], Any]:
        return lambda c: getattr(c, name)

    tag_sep = "、" if chinese else ", "
    special: dict[str, Callable[[Customer], Any]] = {
        "stage": lambda c: _STAGE_ZH.get(c.stage, c.stage) if chinese else str(Stage(c.stage).label),
        "owner": lambda c: c.owner.label if c.owner_id else (_("Public pool")),
        "tags": lambda c: tag_sep.join(t.name for t in c.tags.all()),
        "region": lambda c: c.region.name if c.region_id else "",
        "family_supports": lambda c: bool_label(c.family_supports, chinese=chinese),
        "bank_card": lambda c: c.bank_card_masked,
        "id_number": lambda c: c.id_number_masked,
        "expected_sign_month": lambda c: c.expected_sign_month.strftime("%Y-%m") if c.expected_sign_month else "",
        "created_at": lambda c: timezone.localtime(c.created_at).replace(tzinfo=None, microsecond=0),
    }
    getters = []
    for name in EXPORT_FIELDS:
        if name in special:
            getters.append(special[name])
        elif name in CHOICE_MAPS:
            getters.append(choice(name))
        else:
            getters.append(plain(name))
    return getters


def _rows(customers: Iterator[Customer], chinese: bool) -> Iterator[list[Any]]:
    getters = _cell_getters(chinese)
    for c in customers:
        yield [get(c) for get in getters]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return spreadsheet.csv_text(_safe(str(value)))


def _write_csv(out: IO[bytes], header: list[str], rows: Iterator[list[Any]]) -> int:
    # UTF-8 with a BOM: Excel in China opens it with the right characters.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_as_text(v) for v in row])
        count += 1
    text.flush()
    text.detach()  # leave the binary file open for the response
    return count


def _write_xlsx(out: IO[bytes], header: list[str], rows: Iterator[list[Any]], title: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.freeze_panes = "C2"
    for letter, width in (("A", 16), ("B", 14), ("D", 16)):
        ws.column_dimensions[letter].width = width
    bold = Font(bold=True)
    head_cells = []
    for text in header:
        cell = WriteOnlyCell(ws, value=spreadsheet.xlsx_value(text))
        cell.font = bold
        head_cells.append(cell)
    ws.append(head_cells)
    count = 0
    for row in rows:
        values: list[Any] = []
        for v in spreadsheet.xlsx_row(row):  # a control character in a name broke the whole export
            if isinstance(v, str) and v.startswith("="):
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"  # text, never a formula
                values.append(cell)
            else:
                values.append(v)
        ws.append(values)
        count += 1
    wb.save(out)
    return count


@dataclass
class ExportFile:
    file: IO[bytes]
    filename: str
    content_type: str
    rows: int


def export_customers(*, user: User, filters: selectors.CustomerFilters | None = None, fmt: str = "xlsx") -> ExportFile:
    """Write the user's visible customers (with the list's filters) to a temporary file."""
    if fmt not in FORMATS:
        raise DomainError(_("Unknown export format “%(format)s”: use xlsx or csv.") % {"format": fmt[:20]})
    filters = filters or selectors.CustomerFilters()
    chinese = (translation.get_language() or settings.LANGUAGE_CODE).startswith("zh")
    header = [_HEADERS[name][0 if chinese else 1] for name in EXPORT_FIELDS]
    queryset = selectors.customer_list(fetched_by=user, filters=filters)
    rows = _rows(queryset.iterator(chunk_size=conf("EXPORT_CHUNK_SIZE")), chinese)
    out = tempfile.TemporaryFile()  # gone when the response closes it
    try:
        with replica_reads():  # a big read that may lag the primary by a moment: the replica's job
            if fmt == "csv":
                count = _write_csv(out, header, rows)
            else:
                count = _write_xlsx(out, header, rows, title="客户" if chinese else "Customers")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    audit(
        user, AuditAction.CUSTOMER_EXPORT, target_type="customer", format=fmt, rows=count,
        filters={k: v for k, v in dataclasses.asdict(filters).items() if v not in ("", None, False)},
    )  # fmt: skip
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(file=out, filename=f"customers-{stamp}.{fmt}", content_type=FORMATS[fmt], rows=count)


def file_response(export: ExportFile) -> FileResponse:
    response = FileResponse(export.file, as_attachment=True, filename=export.filename)
    response["Content-Type"] = export.content_type
    response["X-Export-Rows"] = str(export.rows)
    response["Cache-Control"] = "no-store"
    return response
