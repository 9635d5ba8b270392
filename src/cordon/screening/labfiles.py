"""Reading a lab's result file (CSV in UTF-8 or GB18030, or XLSX) and writing one.

Headers may be Chinese or English. Every row keeps its spreadsheet number (header = row 1) so
errors name the row the lab sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from cordon import spreadsheets
from cordon.errors import Problem, ValidationFailed

TZ = ZoneInfo("Asia/Shanghai")
HEADERS = {
    "tube": ("tube", "barcode", "tube_barcode", "管码", "条码", "试管条码", "样本编号"),
    "result": ("result", "结果", "检测结果"),
    "resulted_at": ("resulted_at", "tested_at", "报告时间", "检测时间", "结果时间"),
    "lab": ("lab", "检测机构", "实验室"),
}
REQUIRED = ("tube", "result")
LABELS = {"tube": "管码", "result": "检测结果"}
MAX_ROWS = 500_000


@dataclass(frozen=True)
class LabRow:
    row: int
    tube: str
    result: str
    resulted_at: str
    lab: str


def _field(header: object) -> str | None:
    text = str(header or "").strip().lower()
    for field, names in HEADERS.items():
        if text in names:
            return field
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=TZ)
        return aware.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(header: list[Any], body: Iterable[tuple[int, list[Any]]]) -> list[LabRow]:
    fields = [_field(h) for h in header]
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        raise ValidationFailed(
            "missing columns: %(columns)s",
            params=dict(columns=", ".join(f"{f} ({LABELS[f]})" for f in missing)),
            problems=[Problem(f, "column missing", row=1) for f in missing],
        )
    out: list[LabRow] = []
    for number, values in body:
        record = {f: _text(v) for f, v in zip(fields, values, strict=False) if f}
        if not any(record.values()):
            continue
        out.append(
            LabRow(
                row=number,
                tube=record.get("tube", ""),
                result=record.get("result", ""),
                resulted_at=record.get("resulted_at", ""),
                lab=record.get("lab", ""),
            )
        )
        if len(out) > MAX_ROWS:
            raise ValidationFailed(
                "more than %(max_rows)s rows; split the file", params=dict(max_rows=MAX_ROWS)
            )
    if not out:
        raise ValidationFailed("the file has no result rows", problems=[Problem("file", "empty")])
    return out


def read(filename: str, data: bytes) -> list[LabRow]:
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return _rows(*spreadsheets.xlsx_rows(data))
    if lower.endswith(".csv"):
        return _rows(*spreadsheets.csv_rows(data))
    raise ValidationFailed(
        "unsupported file type: %(filename)s",
        params=dict(filename=repr(filename)),
        problems=[Problem("file", "use .xlsx or .csv")],
    )


def parse_time(text: str) -> datetime | None:
    """An instant from ISO text; times without a zone are China Standard Time."""
    value = text.strip().replace("/", "-")
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)).astimezone(UTC)


def write_csv(rows: Iterable[tuple[str, str, datetime, str]]) -> bytes:
    """A lab file as labs send it: tube, result (阴性/阳性), report time (CST), lab."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["管码", "检测结果", "报告时间", "检测机构"])
    for tube, result, at, lab in rows:
        word = "阳性" if result == "positive" else "阴性"
        writer.writerow([tube, word, at.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S"), lab])
    return out.getvalue().encode("utf-8")


def write_xlsx(header: list[str], rows: Iterable[list[Any]], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
