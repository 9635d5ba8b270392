"""Reading the spreadsheets users exchange: CSV in UTF-8 or GB18030, and XLSX (first sheet).

Rows come with their spreadsheet numbers (header = row 1), so every error can name the row a
user sees. Each slice maps the columns it needs.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from openpyxl import load_workbook

from cordon.errors import Problem, ValidationFailed

Numbered = list[tuple[int, list[Any]]]


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    # gb18030 decodes any byte string; kept for the type checker
    raise ValidationFailed("unreadable text encoding", problems=[Problem("file", "encoding")])


def csv_rows(data: bytes) -> tuple[list[Any], Numbered]:
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    header = next(reader, None)
    if header is None:
        raise ValidationFailed("the file is empty", problems=[Problem("file", "no header row")])
    return list(header), [(reader.line_num, list(values)) for values in reader]


def xlsx_rows(data: bytes) -> tuple[list[Any], Numbered]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(
            "not a readable XLSX file", problems=[Problem("file", str(exc) or "bad file")]
        ) from exc
    lines = book.worksheets[0].iter_rows(values_only=True)
    header = next(lines, None)
    if header is None:
        raise ValidationFailed("the sheet is empty", problems=[Problem("file", "no header row")])
    body = [(i, list(values)) for i, values in enumerate(lines, start=2)]
    book.close()
    return list(header), body
