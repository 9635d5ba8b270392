"""Reading people from the spreadsheets users exchange (XLSX, CSV in UTF-8 or GB18030).

Headers may be Chinese or English. Returns raw rows keyed by PersonIn field names with their
spreadsheet row numbers (header = row 1), so every error can name the row a user sees.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

from cordon import spreadsheets
from cordon.errors import Problem, ValidationFailed
from cordon.people.schemas import PersonOut

HEADERS = {
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "sex": ("sex", "性别"),
    "birth_date": ("birth_date", "出生日期"),
    "phone": ("phone", "手机号", "联系电话", "电话"),
    "address": ("address", "住址", "现住址"),
    "household": ("household", "户号"),
    "division_code": ("division_code", "区划代码", "行政区划代码"),
    "grid_code": ("grid_code", "网格编码", "网格"),
}
REQUIRED = ("name", "id_number")
SEX_WORDS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
MAX_ROWS = 200_000

Row = tuple[int, dict[str, Any]]


def _field_for(header: str) -> str | None:
    text = header.strip().lower()
    for field, names in HEADERS.items():
        if text in names:
            return field
    return None


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _rows(header: list[Any], body: list[tuple[int, list[Any]]]) -> list[Row]:
    fields = [_field_for(str(h)) if h is not None else None for h in header]
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        names = ", ".join(f"{f} ({HEADERS[f][1]})" for f in missing)
        raise ValidationFailed(
            "missing columns: %(names)s",
            params=dict(names=names),
            problems=[Problem(f, "column missing", row=1) for f in missing],
        )
    out: list[Row] = []
    for number, values in body:
        record: dict[str, Any] = {}
        for field, value in zip(fields, values, strict=False):
            if field is not None:
                record[field] = _cell(value)
        if not any(record.values()):
            continue  # blank line
        if isinstance(record.get("sex"), str):
            record["sex"] = SEX_WORDS.get(record["sex"].lower(), record["sex"])
        out.append((number, record))
        if len(out) > MAX_ROWS:
            raise ValidationFailed(
                "more than %(max_rows)s rows; split the file", params=dict(max_rows=MAX_ROWS)
            )
    return out


def read_xlsx(data: bytes) -> list[Row]:
    return _rows(*spreadsheets.xlsx_rows(data))


def read_csv(data: bytes) -> list[Row]:
    return _rows(*spreadsheets.csv_rows(data))


def read_table(filename: str, data: bytes) -> list[Row]:
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(data)
    if lower.endswith(".csv"):
        return read_csv(data)
    raise ValidationFailed(
        "unsupported file type: %(filename)s",
        params=dict(filename=repr(filename)),
        problems=[Problem("file", "use .xlsx or .csv")],
    )


EXPORT_COLUMNS = (
    ("姓名", "name"),
    ("身份证号", "id_number"),
    ("性别", "sex"),
    ("出生日期", "birth_date"),
    ("手机号", "phone"),
    ("住址", "address"),
    ("户号", "household"),
    ("区划代码", "division_code"),
    ("所在村（社区）", "division_name"),
    ("网格编码", "grid_code"),
)
SEX_LABELS = {"M": "男", "F": "女"}


def write_xlsx(people: list[PersonOut]) -> bytes:
    """People as an XLSX sheet with the same headers the import reads, so a grid worker can
    correct a list in Excel and import it again. Values come already masked for the role."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("人员")
    sheet.append([header for header, _field in EXPORT_COLUMNS])
    for person in people:
        values = person.model_dump()
        values["sex"] = SEX_LABELS[person.sex]
        values["birth_date"] = person.birth_date.isoformat()
        sheet.append([values[field] for _header, field in EXPORT_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
