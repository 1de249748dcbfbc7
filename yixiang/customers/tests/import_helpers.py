"""Builders of import files for the import/export tests (written at test time, any encoding)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.write_bytes(csv_bytes(rows, encoding, delimiter))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], merges: list[str] = (), start_row: int = 1) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is not None:
                ws.cell(row=start_row + i, column=j + 1, value=value)
    for ref in merges:
        ws.merge_cells(ref)
    wb.save(path)
    return path
