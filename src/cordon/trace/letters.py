"""Assist letters (协查函): contacts living in another region, listed for that region's
health authority with what it must do, as a DOCX document (python-docx)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Pt

TZ = ZoneInfo("Asia/Shanghai")
KIND_LABELS = {"close": "密切接触者", "secondary": "密接的密接", "companion": "时空伴随者"}


@dataclass(frozen=True)
class LetterRow:
    name: str
    id_number: str
    phone: str
    address: str
    kind: str
    first_exposure: datetime
    place: str


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
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading("新冠肺炎疫情协查函", level=1)
    doc.add_paragraph(f"{to_name}疫情防控指挥部：")
    doc.add_paragraph(
        f"我市在{case_ref}的流行病学调查中，发现以下{len(rows)}名人员现居住在贵辖区，"
        "与病例（或其密切接触者）存在时空交集。请贵方于接函后2小时内落实人员，"
        "8小时内按下列要求落实管控措施，并将结果反馈我方。"
    )
    table = doc.add_table(rows=1, cols=8)
    table.style = "Table Grid"
    headers = [
        "序号",
        "姓名",
        "身份证号",
        "联系电话",
        "现住址",
        "人员类别",
        "首次暴露时间",
        "暴露地点",
    ]
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for number, row in enumerate(rows, start=1):
        cells = table.add_row().cells
        values = [
            str(number),
            row.name,
            row.id_number,
            row.phone,
            row.address,
            KIND_LABELS.get(row.kind, row.kind),
            row.first_exposure.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
            row.place,
        ]
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    doc.add_heading("管控要求", level=2)
    for kind in sorted({r.kind for r in rows}, key=list(KIND_LABELS).index):
        doc.add_paragraph(f"{KIND_LABELS[kind]}：{actions[kind]}。", style="List Bullet")
    doc.add_paragraph(f"{from_name}疫情防控指挥部")
    doc.add_paragraph(issued.isoformat())
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
