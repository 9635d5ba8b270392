"""Assist letters (协查函): contacts who are in another region — they live there, or a journey
has taken them there — listed for that region's epidemic prevention and control command with
what it must do, as a DOCX document (python-docx).

Where a contact is: the destination of the journey they are on at the letter's time (the
lake's ``journeys``: residents who travelled away, visitors who went home), else where they
live (the registry's division). One letter per region, addressed by the region's Chinese name.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from cordon.lake.reader import read_table

TZ = ZoneInfo("Asia/Shanghai")
KIND_LABELS = {"close": "密切接触者", "secondary": "密接的密接", "companion": "时空伴随者"}
# The list's columns and their widths (cm), on landscape A4 with 1.5 cm margins (26.7 cm).
COLUMNS = (
    ("序号", 0.9),
    ("姓名", 1.6),
    ("身份证号", 4.6),
    ("联系电话", 2.9),
    ("现住址", 4.6),
    ("去向", 3.2),
    ("人员类别", 1.9),
    ("首次暴露时间", 2.9),
    ("暴露地点", 3.4),
)
TEXT_FONT = Pt(10)


@dataclass(frozen=True)
class LetterRow:
    name: str
    id_number: str
    phone: str
    address: str
    kind: str
    first_exposure: datetime
    place: str
    whereabouts: str = ""  # where a journey has taken the person, e.g. 12月19日前往南宁市青秀区


@dataclass(frozen=True)
class Away:
    """A journey a person is on at the letter's time."""

    destination_code: str
    departed: datetime


def whereabouts(*, lake: Path, person_ids: Iterable[int], at: datetime) -> dict[int, Away]:
    """Registry person id → the journey out of the city they are on at ``at`` (the latest one
    if the lake has several), from the lake's journeys (lake id = registry id - 1)."""
    wanted = pa.array(sorted({pid - 1 for pid in person_ids}), pa.int32())
    if len(wanted) == 0:
        return {}
    journeys = read_table(lake, "journeys")
    moment = pa.scalar(at.astimezone(UTC), pa.timestamp("s", tz="UTC"))
    on_way = journeys.filter(
        pc.and_(
            pc.is_in(journeys.column("person_id"), value_set=wanted),
            pc.and_(
                pc.less_equal(journeys.column("depart"), moment),
                pc.greater(journeys.column("return"), moment),
            ),
        )
    ).sort_by([("person_id", "ascending"), ("depart", "ascending")])
    found: dict[int, Away] = {}
    for row in on_way.to_pylist():  # later journeys overwrite earlier ones
        found[int(row["person_id"]) + 1] = Away(row["destination_code"], row["depart"])
    return found


def region_of(home: str, away: Away | None) -> str:
    """The division a letter about this person goes to: where they have gone, else home."""
    return away.destination_code if away is not None else home


Divisions = Callable[[str], tuple[str, str | None] | None]  # code → (name, parent code)


def region_name(code: str, divisions: Divisions, *, own_province: str) -> str:
    """The region's Chinese name as a letter addresses it: from the prefecture down
    (南宁市青秀区, 防城港市东兴市江平镇), with the province when it is another one
    (广东省湛江市霞山区); the code itself when the division is unknown."""
    chain: list[tuple[str, str]] = []
    current: str | None = code
    while current:
        found = divisions(current)
        if found is None:
            break
        chain.append((current, found[0]))
        current = found[1]
    if not chain:
        return code
    below = [name for c, name in reversed(chain) if len(c) >= 4]  # prefecture and below
    province = [name for c, name in chain if len(c) == 2 and c != own_province]
    return "".join(province + (below or [chain[0][1]]))


def travel_note(away: Away | None, name: str, *, home: str = "") -> str:
    """What the letter says of a journey: 12月19日前往南宁市青秀区, or 12月19日返回… when it
    takes the person home (a visitor leaving the city)."""
    if away is None:
        return ""
    day = away.departed.astimezone(TZ)
    verb = "返回" if home and away.destination_code == home else "前往"
    return f"{day.month}月{day.day}日{verb}{name}"


def required_action(kind: str, quarantine_days: dict[str, tuple[int, int]], companion: str) -> str:
    if kind == "companion":
        return companion
    central, home = quarantine_days.get(kind, (0, 0))
    parts = []
    if central:
        parts.append(f"集中隔离{central}天")
    if home:
        parts.append(f"居家健康监测{home}天")
    return "，".join(parts) + "，按方案开展核酸检测" if parts else "按方案管理"


def _fill(cells: Any, values: list[str]) -> None:
    for cell, text in zip(cells, values, strict=True):
        cell.text = text


def build_letter(
    *,
    to_name: str,
    from_name: str,
    case_ref: str,
    rows: list[LetterRow],
    actions: dict[str, str],
    issued: date,
) -> bytes:
    """One letter as DOCX bytes."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.styles["Normal"].font.size = TEXT_FONT
    doc.add_heading("新冠肺炎疫情协查函", level=1)
    doc.add_paragraph(f"{to_name}疫情防控指挥部：")
    doc.add_paragraph(
        f"我市在{case_ref}的流行病学调查中，发现以下{len(rows)}名人员现居住在或已前往贵辖区，"
        "与病例（或其密切接触者）存在时空交集。请贵方于接函后2小时内落实人员，"
        "8小时内按下列要求落实管控措施，并将结果反馈我方。"
    )
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.autofit = False
    # Fixed layout: Word takes the widths from the grid and the first row, LibreOffice and WPS
    # from the grid; setting every cell's width would cost more than the rest of the letter.
    for column, cell, (name, width) in zip(
        table.columns, table.rows[0].cells, COLUMNS, strict=True
    ):
        column.width = cell.width = Cm(width)
        cell.paragraphs[0].add_run(name).bold = True
    for number, row in enumerate(rows, start=1):
        _fill(
            table.add_row().cells,
            [
                str(number),
                row.name,
                row.id_number,
                row.phone,
                row.address,
                row.whereabouts,
                KIND_LABELS.get(row.kind, row.kind),
                row.first_exposure.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
                row.place,
            ],
        )
    doc.add_heading("管控要求", level=2)
    for kind in sorted({r.kind for r in rows}, key=list(KIND_LABELS).index):
        doc.add_paragraph(f"{KIND_LABELS[kind]}：{actions[kind]}。", style="List Bullet")
    signed = doc.add_paragraph(f"{from_name}疫情防控指挥部")
    signed.paragraph_format.keep_with_next = True  # the date stays on the signature's page
    dated = doc.add_paragraph(f"{issued.year}年{issued.month}月{issued.day}日")
    for paragraph in (signed, dated):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
